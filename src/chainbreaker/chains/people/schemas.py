"""Arrow schemas of the people chain's lake tables (canonical travel records).

The definitions live in :mod:`chainbreaker.core.model.travel` (canonical tables belong to core, so
the synthetic generator can use them without importing the chain); this module keeps the chain's
import path.
"""

from __future__ import annotations

from chainbreaker.core.model.travel import CROSSINGS, FLIGHTS, HOTELS, KIN, RECORD_SOURCES, TABLES, TRAINS

__all__ = ["CROSSINGS", "FLIGHTS", "HOTELS", "KIN", "RECORD_SOURCES", "TABLES", "TRAINS"]
