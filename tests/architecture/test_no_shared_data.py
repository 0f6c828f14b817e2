"""The data rule: nothing from ../shared/data is committed (it is read there at run time).

The gambling host list of ../shared/data/domains is third-party data: a committed test, doc or
example that names one of its hosts copies it (and a test of the domain model on such a name is no
held-out check). Every host-like token of the project's own files is compared by registrable domain
(eTLD+1 of the public suffix list) with that list, read here at run time. The benign list is not checked: it holds
household names and public infrastructure (baidu.com, CDN hosts) that the code names from general
knowledge. AMLSim rows are checked line by line.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
OWN = ("src", "tests", "bench", "docs", "README.md", "CHANGELOG.md", "Makefile", ".ci")
SKIP_PARTS = {"node_modules", "vendor", "__pycache__", "models", ".hypothesis"}
HOST = re.compile(r"(?<![a-z0-9_.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+(?![a-z0-9_-])")


def _own_texts():
    for name in OWN:
        root = PROJECT / name
        paths = [root] if root.is_file() else sorted(root.rglob("*")) if root.is_dir() else []
        for path in paths:
            if not path.is_file() or SKIP_PARTS & set(path.relative_to(PROJECT).parts):
                continue
            try:
                yield path, path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue


def test_no_gambling_host_of_the_training_list_is_committed(shared_data):
    from chainbreaker.chains.tech.blocklist import registrable  # eTLD+1 of the public suffix list

    listed = shared_data / "domains" / "gambling_train.txt"
    gambling = {registrable(h) for h in listed.read_text(encoding="utf-8", errors="replace").lower().split()} - {None}
    found = {}
    for path, text in _own_texts():
        for host in set(HOST.findall(text.lower())):
            if not host.endswith((".py", ".md", ".yaml", ".json", ".html")) and registrable(host) in gambling:
                found.setdefault(host, str(path.relative_to(PROJECT)))
    assert not found, f"hosts from {listed} in committed files (use made-up names): {found}"


def test_no_amlsim_row_is_committed(shared_data):
    folder = shared_data / "aml" / "amlsim_10k_stock"
    rows: set[str] = set()
    for f in sorted(folder.glob("*.csv*")):
        opener = gzip.open if f.suffix == ".gz" else open
        with opener(f, "rt", encoding="utf-8") as fh:
            next(fh, None)
            rows.update(line.strip() for line in fh if len(line.strip()) > 12)
    copied = [str(path.relative_to(PROJECT)) for path, text in _own_texts()
              if any(line.strip() in rows for line in text.splitlines())]
    assert not copied, f"AMLSim rows in committed files: {copied}"
