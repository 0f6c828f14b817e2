"""Analysts' judgements on person links (研判结论): accept, reject, merge, split, undo.

Judgements are an append-only lake table ``person_judgements``: who, in which role, when (UTC),
why, and on which records. They refer to ``record_id`` values, which are stable across runs (a
hash of source table, file and row), so a judgement is applied again after every re-run of
``intel match``. Nothing is deleted: ``undo`` appends a row that cancels an earlier judgement.

* ``accept A B`` / ``merge A B``: the two records (or the persons they belong to) are one person.
  ``merge`` takes person (cluster) ids too; it is stored as an accept between two of their records.
* ``reject A B``: never the same person, even through third records (cannot-link).
* ``split R``: record R leaves its person; only links an analyst accepted keep it anywhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.schemas import TS
from chainbreaker.core.workspace import Workspace

TABLE = "person_judgements"
ACTIONS = ("accept", "reject", "merge", "split", "undo")
SCHEMA = pa.schema([
    ("judgement_id", pa.string()), ("action", pa.string()), ("record_l", pa.string()), ("record_r", pa.string()),
    ("target_id", pa.string()), ("user", pa.string()), ("role", pa.string()), ("reason", pa.string()),
    ("judged_at", TS),
])


@dataclass(frozen=True)
class Effective:
    """Judgements in force (not undone)."""

    accepts: list[tuple[str, str, str]]  # record_l, record_r, judgement_id
    rejects: list[tuple[str, str, str]]
    splits: list[tuple[str, str]]  # record, judgement_id


def effective(con: Any) -> Effective:
    """Judgements in force, read from ``person_judgements`` on ``con`` (empty when none)."""
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    if TABLE not in tables:
        return Effective([], [], [])
    rows = con.sql(f"""
        SELECT action, record_l, record_r, judgement_id FROM {TABLE}
        WHERE action <> 'undo' AND judgement_id NOT IN
              (SELECT target_id FROM {TABLE} WHERE action = 'undo' AND target_id IS NOT NULL)
        ORDER BY judged_at, judgement_id
    """).fetchall()
    acc = [(a, b, j) for act, a, b, j in rows if act in ("accept", "merge")]
    rej = [(a, b, j) for act, a, b, j in rows if act == "reject"]
    spl = [(a, j) for act, a, _b, j in rows if act == "split"]
    return Effective(acc, rej, spl)


def _record_of(con: Any, ident: str, *, allow_cluster: bool) -> str:
    """A record id for ``ident`` (a record id, or with ``allow_cluster`` a person/cluster id)."""
    if con.sql("SELECT 1 FROM person_records WHERE record_id = $1", params=[ident]).fetchall():
        return ident
    if allow_cluster:
        hit = con.sql("SELECT min(record_id) FROM person_clusters WHERE cluster_id = $1", params=[ident]).fetchall()
        if hit and hit[0][0]:
            return str(hit[0][0])
    raise InputError(f"找不到记录{'或人员' if allow_cluster else ''}：{ident}（请先运行 chainbreaker intel match，"
                     "编号见 person_records / person_clusters 表）",
                     f"No record{' or person' if allow_cluster else ''} {ident} (run `chainbreaker intel match` "
                     "first; ids are in person_records / person_clusters)")


def judge(ws: Workspace, action: str, a: str, b: str | None = None, *, user: str, role: str = "analyst",
          reason: str = "") -> str:
    """Record one judgement and return its id. ``undo`` takes the judgement id as ``a``."""
    if action not in ACTIONS:
        raise InputError(f"未知操作：{action}（可选 {'、'.join(ACTIONS)}）", f"Unknown action {action} ({', '.join(ACTIONS)})")
    if not ws.has_table("person_records"):
        raise InputError("还没有人员记录：请先运行 chainbreaker intel match。",
                         "No person records yet: run `chainbreaker intel match` first.")
    if not reason.strip():
        raise InputError("请用 --reason 写明研判理由（记录在案）。", "Give the reason with --reason (it is recorded).")
    con = ws.duck()
    target = None
    left = right = None
    if action == "undo":
        rows = con.sql(f"SELECT action FROM {TABLE} WHERE judgement_id = $1", params=[a]).fetchall() \
            if ws.has_table(TABLE) else []
        if not rows:
            raise InputError(f"找不到研判记录：{a}", f"No judgement {a}")
        if rows[0][0] == "undo":
            raise InputError("撤销记录本身不能再撤销；请重新作出研判。", "An undo cannot be undone; judge again instead.")
        undone = con.sql(f"SELECT 1 FROM {TABLE} WHERE action = 'undo' AND target_id = $1", params=[a]).fetchall()
        if undone:
            raise InputError(f"研判 {a} 已被撤销。", f"Judgement {a} is already undone.")
        target = a
    elif action == "split":
        left = _record_of(con, a, allow_cluster=False)
    else:
        if b is None:
            raise InputError(f"{action} 需要两个编号。", f"{action} needs two ids.")
        left = _record_of(con, a, allow_cluster=action == "merge")
        right = _record_of(con, b, allow_cluster=action == "merge")
        if left == right:
            raise InputError("两个编号指向同一条记录。", "Both ids are the same record.")
        left, right = min(left, right), max(left, right)
    con.close()
    jid = "J" + uuid.uuid4().hex[:12]
    row = pa.table({"judgement_id": [jid], "action": [action], "record_l": [left], "record_r": [right],
                    "target_id": [target], "user": [user], "role": [str(role)], "reason": [reason],
                    "judged_at": [dt.datetime.now(dt.UTC)]}, schema=SCHEMA)
    with ws.transaction("intel.judge", settings={"action": action}) as tx:
        tx.write(TABLE, row, mode="append")
    ws.audit("intel.judge", user=user, role=role, judgement_id=jid, judgement=action, target=target)
    return jid


def judgements(ws: Workspace) -> pa.Table:
    """All judgements, oldest first, with ``undone`` telling which are no longer in force."""
    if not ws.has_table(TABLE):
        return SCHEMA.empty_table()
    con = ws.duck()
    out = con.sql(f"""SELECT j.*, j.judgement_id IN (SELECT target_id FROM {TABLE} WHERE action = 'undo'
                       AND target_id IS NOT NULL) AS undone FROM {TABLE} j ORDER BY judged_at, judgement_id""").to_arrow_table()
    con.close()
    return out
