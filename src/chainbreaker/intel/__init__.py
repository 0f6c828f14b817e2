"""intel: where the chains meet (跨链关联).

The chains never read or write each other's tables; :mod:`chainbreaker.intel.link`
(``chainbreaker intel link``) reads what each chain wrote and makes the links between them.
See ``docs/intel.md``.
"""
