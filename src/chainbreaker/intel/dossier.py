"""Everything known about one entity and its close neighbours (人员/账户档案): ``intel dossier``.

The subject is the entity named by the identifier plus what it holds (a person's cards and platform
accounts; an account's holder is a neighbour). The dossier lists the identifiers and source rows,
every finding of every chain on the subject and its neighbours (each with ``chain`` and
``rule_id``), money in and out of its accounts, its role and downline on seized platforms, its
travel status, the sites showing its cards, and the links with their evidence. Rendered as JSON,
HTML or Word (docx), masked by role and audited (:mod:`chainbreaker.intel.present`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from chainbreaker.core.errors import InputError
from chainbreaker.core.exports import output_file
from chainbreaker.core.model.finding import query
from chainbreaker.core.timefmt import show_time
from chainbreaker.intel.path import match_entities, resolved_connection
from chainbreaker.intel.present import mask_doc, write_json

FORMATS = ("json", "html", "docx")
MAX_SOURCES = 50
MAX_COUNTERPARTS = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FINDING_COLS = ["id", "chain", "rule_id", "subject_type", "subject_key", "score", "severity", "period_start",
                 "period_end", "explanation_zh", "explanation_en", "evidence"]


def _rows(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    return con.sql(sql, params=params or []).to_arrow_table().to_pylist()


def _has(con: Any, table: str) -> bool:
    return bool(con.sql("SELECT 1 FROM information_schema.tables WHERE table_name = ?", params=[table]).fetchall())


def build_dossier(ws: Any, ident: str) -> dict[str, Any]:
    """The dossier of the entity ``ident`` names, as a JSON-ready dict (not yet masked)."""
    con = resolved_connection(ws)
    found = match_entities(con, ident)
    if not found:
        raise InputError(f"工作区中没有与“{ident}”对应的实体。", f"No entity in the workspace matches '{ident}'.")
    main = found[0]
    # the subject: the entity and what it holds (a person's cards and platform accounts)
    held = [r["dst_id"] for r in _rows(con, "SELECT dst_id FROM entity_links WHERE kind = 'holds' AND src_id = ?",
                                       [main])]
    subject = [main, *[h for h in held if h != main]]
    links = _rows(con, """SELECT kind, chain, src_id, dst_id, count, amount, first_ts, last_ts, evidence
                          FROM entity_links WHERE list_contains(?, src_id) OR list_contains(?, dst_id)
                          ORDER BY kind, src_id, dst_id""", [subject, subject])
    neighbours = sorted({x for r in links for x in (r["src_id"], r["dst_id"])} - set(subject))
    ents = {r["entity_id"]: r for r in _rows(con, "SELECT * FROM entities WHERE list_contains(?, entity_id)",
                                              [subject + neighbours])}

    def subjects_of(ids: list[str]) -> list[str]:
        return sorted({k for i in ids if i in ents for k in json.loads(ents[i]["subject_keys"])})

    def findings_of(ids: list[str]) -> list[dict[str, Any]]:
        keys = subjects_of(ids)
        rows = query(con, subject=keys, columns=_FINDING_COLS).to_pylist() if keys else []
        for r in rows:
            r["evidence"] = json.loads(r["evidence"] or "[]")
        return rows

    sources = _rows(con, """SELECT entity_id, chain, source_table, src_file, src_sha256, src_row FROM entity_sources
                            WHERE list_contains(?, entity_id) ORDER BY entity_id, source_table, src_sha256, src_row
                            LIMIT ?""", [subject, MAX_SOURCES])
    own = findings_of(subject)
    near = [f for f in findings_of(neighbours) if f["id"] not in {x["id"] for x in own}]
    return {
        "ident": ident,
        "entity": _entity(ents.get(main), main),
        "holds": [_entity(ents.get(h), h) for h in subject[1:]],
        "sources": sources,
        "findings": own,
        "chains": sorted({f["chain"] for f in own}),
        "neighbour_findings": near,
        "money": _money(con, [s for s in subject if s.startswith("account:")]),
        "platform": _platform(con, [s for s in subject if s.startswith("member:")]),
        "travel": _travel(con, subjects_of([s for s in subject if s.startswith("person:")])),
        "sites": _sites(con, [s for s in subject if s.startswith("account:")]),
        "links": [{**r, "evidence": json.loads(r["evidence"] or "[]")} for r in links],
        "neighbours": [_entity(ents.get(n), n) for n in neighbours],
    }


def _entity(row: dict[str, Any] | None, entity_id: str) -> dict[str, Any]:
    if row is None:
        return {"id": entity_id, "type": entity_id.split(":", 1)[0], "label": None, "identifiers": [], "chains": []}
    return {"id": entity_id, "type": row["entity_type"], "label": row["name"] or row["label"],
            "identifiers": json.loads(row["identifiers"]), "chains": json.loads(row["chains"]),
            "n_sources": row["n_sources"]}


def _money(con: Any, accounts: list[str]) -> dict[str, Any]:
    """Money in and out of the subject's accounts (transfers, platform deposits and withdrawals)."""
    if not accounts:
        return {}
    rows = _rows(con, """
        SELECT CASE WHEN list_contains(?, dst_id) THEN 'in' ELSE 'out' END AS side, kind,
               CASE WHEN list_contains(?, dst_id) THEN src_id ELSE dst_id END AS counterpart,
               count, amount, first_ts, last_ts
        FROM entity_links WHERE kind IN ('transferred_to', 'deposit_to', 'withdrawal_to')
          AND (list_contains(?, src_id) OR list_contains(?, dst_id))
        ORDER BY amount DESC NULLS LAST, counterpart""", [accounts] * 4)
    out: dict[str, Any] = {}
    for side in ("in", "out"):
        part = [r for r in rows if r["side"] == side]
        out[side] = {"amount": str(sum((Decimal(r["amount"] or 0) for r in part), Decimal(0))),
                     "count": sum(r["count"] or 0 for r in part), "counterparts": len({r["counterpart"] for r in part}),
                     "first_ts": min((r["first_ts"] for r in part if r["first_ts"]), default=None),
                     "last_ts": max((r["last_ts"] for r in part if r["last_ts"]), default=None),
                     "top": part[:MAX_COUNTERPARTS]}
    return out


def _platform(con: Any, members: list[str]) -> list[dict[str, Any]]:
    """Role and downline on each seized platform (from the promotion chain's agent metrics)."""
    out = []
    for m in members:
        platform, member_id = m.split(":", 2)[1:]
        row: dict[str, Any] = {"member": m, "platform": platform, "member_id": member_id}
        if _has(con, "agent_metrics"):
            got = _rows(con, "SELECT * EXCLUDE (platform, member_id) FROM agent_metrics WHERE platform = ? "
                             "AND member_id = ?", [platform, member_id])
            row["agent"] = got[0] if got else None
        row["role"] = "agent" if row.get("agent") else "member"
        row["upline"] = [r["src_id"] for r in _rows(con, "SELECT src_id FROM entity_links WHERE kind = 'agent_of' "
                                                          "AND dst_id = ?", [m])]
        row["direct_downline"] = [r["dst_id"] for r in _rows(con, "SELECT dst_id FROM entity_links WHERE "
                                                                   "kind = 'agent_of' AND src_id = ? ORDER BY 1", [m])]
        out.append(row)
    return out


def _travel(con: Any, person_keys: list[str]) -> list[dict[str, Any]]:
    if not person_keys or not _has(con, "travel_person_metrics"):
        return []
    return _rows(con, """SELECT person_key, trips_total, trips_listed_12m, longest_dwell_days, last_direction, last_ts,
                                last_country, days_since_last, stranded, frequent
                         FROM travel_person_metrics WHERE list_contains(?, person_key) ORDER BY person_key""",
                 [person_keys])


def _sites(con: Any, accounts: list[str]) -> list[dict[str, Any]]:
    if not accounts:
        return []
    return _rows(con, """SELECT src_id AS site, dst_id AS account, count, evidence FROM entity_links
                         WHERE kind IN ('shows_card', 'shows_wallet') AND list_contains(?, dst_id)
                         ORDER BY site""", [accounts])


# ------------------------------------------------------------------ rendering
def write_dossier(ws: Any, ident: str, out: Path | str, fmt: str, role: str, lang: str = "zh") -> Path:
    """Build, mask for ``role`` and write the dossier; audited."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InputError(f"格式“{fmt}”无效，可选：{'、'.join(FORMATS)}。", f"Unknown format '{fmt}'; use {', '.join(FORMATS)}.")
    doc = build_dossier(ws, ident)
    detail = {"entity_type": doc["entity"]["type"], "findings": len(doc["findings"]), "format": fmt}
    if fmt == "json":
        return write_json(ws, doc, out, "intel.dossier", role, "dossier.json", **detail)
    shown = mask_doc(doc, role)
    with output_file(ws, out, "intel.dossier", default_name=f"dossier.{fmt}", role=role, **detail) as target:
        if fmt == "html":
            target.path.write_text(render_html(shown, lang), "utf-8")
        else:
            render_docx(shown, lang, target.path)
    return target.target


def _text(v: Any) -> str:
    if v is None:
        return ""
    if hasattr(v, "tzinfo"):
        return show_time(v)
    return str(v)


def _sections(doc: dict[str, Any], lang: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every section, shared by the HTML and Word renderers."""
    zh = lang != "en"

    def t(a: str, b: str) -> str:
        return a if zh else b

    e = doc["entity"]
    out = [(t("实体", "Entity"), [t("编号", "Id"), t("类型", "Type"), t("名称", "Label"), t("标识", "Identifiers"),
                                 t("来源链", "Chains")],
            [[e["id"], e["type"], _text(e["label"]), "、".join(e["identifiers"]), "、".join(e["chains"])]]
            + [[h["id"], h["type"], _text(h["label"]), "、".join(h["identifiers"]), "、".join(h["chains"])]
               for h in doc["holds"]])]
    fh = [t("链", "Chain"), t("规则", "Rule"), t("对象", "Subject"), t("得分", "Score"), t("说明", "Explanation"),
          t("证据", "Evidence")]

    def frow(f: dict[str, Any]) -> list[str]:
        return [f["chain"], f["rule_id"], f"{f['subject_type']}:{f['subject_key']}", f"{f['score']:.2f}",
                f["explanation_zh"] if zh else f["explanation_en"], json.dumps(f["evidence"][:3], ensure_ascii=False)]

    out.append((t("本人发现", "Findings"), fh, [frow(f) for f in doc["findings"]]))
    out.append((t("关联对象的发现", "Findings on neighbours"), fh, [frow(f) for f in doc["neighbour_findings"]]))
    money = doc["money"]
    if money:
        out.append((t("资金进出", "Money in and out"), [t("方向", "Side"), t("金额", "Amount"), t("笔数", "Count"),
                                                      t("对手数", "Counterparts"), t("首次", "First"), t("末次", "Last")],
                    [[side, money[side]["amount"], str(money[side]["count"]), str(money[side]["counterparts"]),
                      _text(money[side]["first_ts"]), _text(money[side]["last_ts"])] for side in ("in", "out")]))
    if doc["platform"]:
        out.append((t("平台角色与下线", "Platform role and downline"),
                    [t("会员", "Member"), t("角色", "Role"), t("上级", "Upline"), t("直属下线", "Direct downline"),
                     t("下线账户数", "Downline accounts"), t("下线充值", "Downline deposits")],
                    [[p["member"], p["role"], "、".join(p["upline"]), str(len(p["direct_downline"])),
                      _text((p.get("agent") or {}).get("downline_accounts")),
                      _text((p.get("agent") or {}).get("downline_deposit"))] for p in doc["platform"]]))
    if doc["travel"]:
        out.append((t("出入境状态", "Travel status"),
                    [t("人员", "Person"), t("出行次数", "Trips"), t("最近方向", "Last direction"), t("最近国家", "Last country"),
                     t("距今天数", "Days since"), t("滞留", "Stranded")],
                    [[r["person_key"], _text(r["trips_total"]), _text(r["last_direction"]), _text(r["last_country"]),
                      _text(r["days_since_last"]), _text(r["stranded"])] for r in doc["travel"]]))
    if doc["sites"]:
        out.append((t("展示其账户的网站", "Sites showing its accounts"), [t("网站", "Site"), t("账户", "Account"),
                                                                   t("次数", "Times")],
                    [[s["site"], s["account"], _text(s["count"])] for s in doc["sites"]]))
    out.append((t("关系与证据", "Links and evidence"), [t("关系", "Kind"), t("链", "Chain"), t("从", "From"), t("到", "To"),
                                                     t("笔数", "Count"), t("金额", "Amount"), t("证据", "Evidence")],
                [[r["kind"], r["chain"], r["src_id"], r["dst_id"], _text(r["count"]), _text(r["amount"]),
                  json.dumps(r["evidence"][:3], ensure_ascii=False)] for r in doc["links"]]))
    out.append((t("来源行", "Source rows"), [t("实体", "Entity"), t("链", "Chain"), t("表", "Table"), t("文件", "File"),
                                          t("文件哈希", "File SHA-256"), t("行号", "Row")],
                [[s["entity_id"], s["chain"], s["source_table"], _text(s["src_file"]), _text(s["src_sha256"]),
                  _text(s["src_row"])] for s in doc["sources"]]))
    return out


_HTML = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;vertical-align:top}th{background:#f3f3f3}</style></head>
<body><h1>{{ title }}</h1>
{% for name, header, rows in sections %}<h2>{{ name }}</h2>
{% if rows %}<table><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
{% else %}<p>{{ none }}</p>{% endif %}{% endfor %}</body></html>"""


def _title(doc: dict[str, Any], lang: str) -> str:
    return ("档案：" if lang != "en" else "Dossier: ") + str(doc["entity"]["id"])


def render_html(doc: dict[str, Any], lang: str = "zh") -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True)
    return env.from_string(_HTML).render(lang="en" if lang == "en" else "zh-CN", title=_title(doc, lang),
                                         sections=_sections(doc, lang), none="无" if lang != "en" else "none")


def render_docx(doc: dict[str, Any], lang: str, path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading(_title(doc, lang), level=1)
    for name, header, rows in _sections(doc, lang):
        d.add_heading(name, level=2)
        if not rows:
            d.add_paragraph("无" if lang != "en" else "none")
            continue
        table = d.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, h in zip(table.rows[0].cells, header, strict=True):
            cell.text = h
        for r in rows:
            for cell, v in zip(table.add_row().cells, r, strict=True):
                cell.text = _CONTROL.sub("", v)  # XML cannot hold control characters
    with open(path, "wb") as fh:
        d.save(fh)
