"""Person de-duplication for 参赌人数: accounts sharing an ID number, phone, bank card or device are
one person, unless the analyst says otherwise.

Override file (``<workspace>/config/promotion_persons.yaml`` or ``--persons FILE``)::

    ignore_values:            # a shared value that does not prove one person (e.g. a shop phone)
      - {kind: phone, value: "13800000000"}
    separate_accounts:        # accounts the analyst has shown to be separate people
      - {platform: 平台A, member_id: "10023"}

Connected components over the account–value graph are computed with igraph (C, no Python loop
over accounts). ``person_id`` is ``platform:member_id`` of the person's smallest account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import yaml

from chainbreaker.core.errors import ConfigError

LINK_KINDS = ("id_number", "phone", "bank_card", "device")
OVERRIDE_FILE = "promotion_persons.yaml"


def load_overrides(path: Path | None) -> dict[str, Any]:
    if path is None or not Path(path).exists():
        return {"ignore_values": [], "separate_accounts": []}
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"人员合并覆盖文件无法读取：{path}（{exc}）", f"Cannot read person override file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"人员合并覆盖文件格式错误：{path}", f"Person override file {path} is malformed")
    return {"ignore_values": list(data.get("ignore_values") or []),
            "separate_accounts": list(data.get("separate_accounts") or [])}


def dedupe_persons(con: duckdb.DuckDBPyConnection, overrides: dict[str, Any]) -> dict[str, int]:
    """Create temp tables ``person_of`` (idx, person_idx, person_id) and ``person_merges``
    (person_id, platform, member_id, via_kind, via_value) over ``nodes``/``platform_members``."""
    ign = pa.table({"kind": pa.array([str(x.get("kind")) for x in overrides["ignore_values"]], pa.string()),
                    "value": pa.array([str(x.get("value")) for x in overrides["ignore_values"]], pa.string())})
    sep = pa.table({"platform": pa.array([str(x.get("platform")) for x in overrides["separate_accounts"]], pa.string()),
                    "member_id": pa.array([str(x.get("member_id")) for x in overrides["separate_accounts"]], pa.string())})
    con.register("_ign", ign)
    con.register("_sep", sep)
    unpivot = " UNION ALL ".join(
        f"SELECT n.idx, '{k}' AS kind, m.{k} AS value FROM nodes n JOIN platform_members m "
        f"ON m.platform = n.platform AND m.member_id = n.member_id WHERE m.{k} IS NOT NULL AND m.{k} <> ''"
        for k in LINK_KINDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _links AS
        WITH v AS (SELECT DISTINCT * FROM ({unpivot})),
             v2 AS (SELECT v.* FROM v ANTI JOIN _ign i ON i.kind = v.kind AND i.value = v.value
                    WHERE v.idx NOT IN (SELECT n.idx FROM nodes n JOIN _sep s USING (platform, member_id))),
             shared AS (SELECT kind, value FROM v2 GROUP BY 1, 2 HAVING count(*) > 1)
        SELECT v2.idx, v2.kind, v2.value, dense_rank() OVER (ORDER BY v2.kind, v2.value) - 1 AS vid
        FROM v2 JOIN shared USING (kind, value)
    """)
    n = int(con.sql("SELECT count(*) FROM nodes").fetchall()[0][0])
    links = con.sql("SELECT idx, vid FROM _links").fetchnumpy()
    idx = np.asarray(links["idx"], dtype=np.int64)
    vid = np.asarray(links["vid"], dtype=np.int64)
    member = np.arange(n, dtype=np.int64)
    if len(idx):
        import igraph as ig

        nv = int(vid.max()) + 1
        g = ig.Graph(n=n + nv, edges=np.column_stack([idx, n + vid]).tolist(), directed=False)
        comp = np.asarray(g.connected_components().membership, dtype=np.int64)[:n]
        # Representative: smallest account index of each component (idx follows platform, member_id).
        rep = np.full(comp.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(rep, comp, member)
        person = rep[comp]
    else:
        person = member
    con.register("_person_arr", pa.table({"idx": member, "person_idx": person}))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE person_of AS
        SELECT a.idx, a.person_idx, r.platform || ':' || r.member_id AS person_id
        FROM _person_arr a JOIN nodes r ON r.idx = a.person_idx
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE person_merges AS
        WITH multi AS (SELECT person_idx FROM person_of GROUP BY 1 HAVING count(*) > 1)
        SELECT p.person_id, n.platform, n.member_id, l.kind AS via_kind, l.value AS via_value
        FROM person_of p JOIN multi USING (person_idx) JOIN nodes n ON n.idx = p.idx
        JOIN _links l ON l.idx = p.idx
        ORDER BY p.person_id, n.platform, n.member_id, l.kind
    """)
    con.unregister("_person_arr")
    merged = int(con.sql("SELECT count(*) - count(DISTINCT person_idx) FROM person_of").fetchall()[0][0])
    return {"accounts": n, "accounts_merged_away": merged,
            "ignored_values": ign.num_rows, "separated_accounts": sep.num_rows}
