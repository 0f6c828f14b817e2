"""Writers: FollowTheMoney JSONL, GraphML, GEXF and the i2 Analyst's Notebook link table.

GraphML and GEXF are streamed (a province's graph does not fit a DOM); values are XML-escaped and
characters XML 1.0 forbids are dropped. FtM entities are built with the ``followthemoney``
library (an optional extra), so only properties the schema knows are written.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

import pyarrow as pa

from chainbreaker.core.errors import EngineError
from chainbreaker.core.exports import neutralise

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NODE_ATTRS = ("type", "label", "score", "flags", "holder_name", "bank", "name", "id_number", "birth_date", "phone",
              "account", "platform", "member_id", "sources")
EDGE_ATTRS = ("kind", "amount", "count", "first_ts", "last_ts", "evidence")
_NUMERIC = {"score": "double", "count": "long"}


def _x(v: Any) -> str:
    return _XML_BAD.sub("", str(v))


def _rows(t: pa.Table) -> Iterator[dict[str, Any]]:
    for batch in t.to_batches(65536):
        yield from batch.to_pylist()


def write_graphml(nodes: pa.Table, edges: pa.Table, fh: TextIO) -> None:
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/'
             'xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
    for i, a in enumerate(NODE_ATTRS):
        fh.write(f'  <key id="n{i}" for="node" attr.name="{a}" attr.type="{_NUMERIC.get(a, "string")}"/>\n')
    for i, a in enumerate(EDGE_ATTRS):
        fh.write(f'  <key id="e{i}" for="edge" attr.name="{a}" attr.type="{_NUMERIC.get(a, "string")}"/>\n')
    fh.write('  <graph id="chainbreaker" edgedefault="directed">\n')
    for r in _rows(nodes):
        fh.write(f"    <node id={quoteattr(_x(r['node_id']))}>")
        for i, a in enumerate(NODE_ATTRS):
            if r.get(a) is not None:
                fh.write(f'<data key="n{i}">{escape(_x(r[a]))}</data>')
        fh.write("</node>\n")
    for k, r in enumerate(_rows(edges)):
        fh.write(f"    <edge id=\"e{k}\" source={quoteattr(_x(r['source']))} target={quoteattr(_x(r['target']))}>")
        for i, a in enumerate(EDGE_ATTRS):
            if r.get(a) is not None:
                fh.write(f'<data key="e{i}">{escape(_x(r[a]))}</data>')
        fh.write("</edge>\n")
    fh.write("  </graph>\n</graphml>\n")


def write_gexf(nodes: pa.Table, edges: pa.Table, fh: TextIO) -> None:
    types = {"double": "double", "long": "long", "string": "string"}
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
             '  <meta><creator>chainbreaker</creator></meta>\n  <graph mode="static" defaultedgetype="directed">\n'
             '    <attributes class="node">\n')
    node_attrs = [a for a in NODE_ATTRS if a != "label"]
    for i, a in enumerate(node_attrs):
        fh.write(f'      <attribute id="{i}" title="{a}" type="{types[_NUMERIC.get(a, "string")]}"/>\n')
    fh.write('    </attributes>\n    <attributes class="edge">\n')
    edge_attrs = [a for a in EDGE_ATTRS if a != "kind"]
    for i, a in enumerate(edge_attrs):
        fh.write(f'      <attribute id="{i}" title="{a}" type="{types[_NUMERIC.get(a, "string")]}"/>\n')
    fh.write("    </attributes>\n    <nodes>\n")
    for r in _rows(nodes):
        fh.write(f"      <node id={quoteattr(_x(r['node_id']))} label={quoteattr(_x(r['label'] or r['node_id']))}>"
                 "<attvalues>")
        for i, a in enumerate(node_attrs):
            if r.get(a) is not None:
                fh.write(f'<attvalue for="{i}" value={quoteattr(_x(r[a]))}/>')
        fh.write("</attvalues></node>\n")
    fh.write("    </nodes>\n    <edges>\n")
    for k, r in enumerate(_rows(edges)):
        weight = f' weight="{float(r["count"])}"' if r.get("count") is not None else ""
        fh.write(f"      <edge id=\"{k}\" source={quoteattr(_x(r['source']))} target={quoteattr(_x(r['target']))} "
                 f"label={quoteattr(_x(r['kind']))}{weight}><attvalues>")
        for i, a in enumerate(edge_attrs):
            if r.get(a) is not None:
                fh.write(f'<attvalue for="{i}" value={quoteattr(_x(r[a]))}/>')
        fh.write("</attvalues></edge>\n")
    fh.write("    </edges>\n  </graph>\n</gexf>\n")


def ftm_entities(nodes: pa.Table, edges: pa.Table) -> Iterator[dict[str, Any]]:
    """FollowTheMoney entities: Person, BankAccount, UserAccount, Ownership, Payment (+ LegalEntity
    for an account holder not resolved to a person, since a Payment needs a payer and beneficiary)."""
    try:
        from followthemoney import model
    except ImportError as exc:  # pragma: no cover - optional extra
        raise EngineError("FollowTheMoney 导出需要 followthemoney 包：pip install followthemoney",
                          "The FtM export needs the followthemoney package: pip install followthemoney") from exc

    def make(schema: str, eid: str, **props: Any) -> dict[str, Any]:
        e = model.make_entity(schema)
        e.id = "cb-" + eid
        for prop, value in props.items():
            if value not in (None, ""):
                e.add(prop, value)
        return e.to_dict()

    kinds: dict[str, str] = {}
    holder_of: dict[str, str] = {}
    for r in _rows(edges):
        if r["kind"] == "holds":
            holder_of.setdefault(r["target"], r["source"])
    for r in _rows(nodes):
        kinds[r["node_id"]] = r["type"]
        if r["type"] == "person":
            yield make("Person", r["node_id"], name=r["name"] or r["node_id"], idNumber=r["id_number"],
                       birthDate=r["birth_date"], phone=r["phone"], topics=None,
                       notes=f"flags: {r['flags']}" if r.get("flags") else None, summary=r.get("sources"))
        elif r["type"] == "account":
            yield make("BankAccount", r["node_id"], accountNumber=r["account"], bankName=r["bank"],
                       notes=f"flags: {r['flags']}; score: {r['score']}" if r.get("flags") or r.get("score") else None)
            if r["node_id"] not in holder_of:
                holder_of[r["node_id"]] = "H" + r["node_id"]
                yield make("LegalEntity", "H" + r["node_id"], name=r["holder_name"] or r["account"] or r["node_id"])
        elif r["type"] == "member":
            yield make("UserAccount", r["node_id"], username=r["member_id"] or r["node_id"], service=r["platform"],
                       phone=r["phone"])
    for k, r in enumerate(_rows(edges)):
        s, t = r["source"], r["target"]
        if r["kind"] == "holds":
            yield make("Ownership", f"own-{k}", owner="cb-" + s, asset="cb-" + t, role="持有/holder",
                       recordId=r["evidence"])
        elif r["kind"] == "uses" and kinds.get(t) == "member":
            # UserAccount.owner is the link from the platform account to its person
            yield make("UserAccount", t, username=t, owner="cb-" + s)
        elif r["kind"] == "transferred_to":
            yield make("Payment", f"pay-{k}", payer="cb-" + holder_of.get(s, "H" + s),
                       beneficiary="cb-" + holder_of.get(t, "H" + t), payerAccount="cb-" + s,
                       beneficiaryAccount="cb-" + t, amount=r["amount"], currency="CNY",
                       startDate=(r["first_ts"] or "")[:19], endDate=(r["last_ts"] or "")[:19],
                       summary=f"{r['count']} 笔 transfers", recordId=r["evidence"])


def write_ftm(nodes: pa.Table, edges: pa.Table, fh: TextIO) -> int:
    n = 0
    for entity in ftm_entities(nodes, edges):
        fh.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
        n += 1
    return n


I2_COLUMNS = ("实体1类型", "实体1标识", "实体1标签", "实体1属性", "链接类型", "链接标签", "金额", "笔数", "首次时间",
              "末次时间", "证据", "实体2类型", "实体2标识", "实体2标签", "实体2属性")
I2_TYPES = {"person": "人员 Person", "account": "银行账户 Account", "member": "平台账号 Member"}


def write_i2(nodes: pa.Table, edges: pa.Table, fh: TextIO) -> int:
    """One row per link, both ends described (the layout i2 ANB's tabular import reads)."""
    info: dict[str, tuple[str, str, str]] = {}
    for r in _rows(nodes):
        attrs = "; ".join(f"{a}={r[a]}" for a in ("id_number", "holder_name", "bank", "score", "flags", "platform")
                          if r.get(a) not in (None, ""))
        info[r["node_id"]] = (I2_TYPES.get(r["type"], r["type"]), r["label"] or r["node_id"], attrs)
    w = csv.writer(fh)
    w.writerow(I2_COLUMNS)
    n = 0
    for r in _rows(edges):
        a = info.get(r["source"], ("未知 Unknown", r["source"], ""))
        b = info.get(r["target"], ("未知 Unknown", r["target"], ""))
        row = [a[0], r["source"], a[1], a[2], r["kind"], r["kind"], r["amount"], r["count"], r["first_ts"],
               r["last_ts"], r["evidence"], b[0], r["target"], b[1], b[2]]
        w.writerow([neutralise(str(v)) if isinstance(v, str) else ("" if v is None else v) for v in row])
        n += 1
    return n


I2_SPEC = """<?xml version="1.0" encoding="UTF-8"?>
<!-- chainbreaker → i2 Analyst's Notebook: import specification for {csv} (tabular import, one link per row).
     In ANB: 导入数据 Import Data → 选择 {csv} → 编码 UTF-8, 分隔符 逗号, 第一行为列名 → 按下列映射设置. -->
<ImportSpecification name="chainbreaker-links" file="{csv}" encoding="UTF-8" delimiter="," headerRow="true">
  <Entity end="1" typeColumn="实体1类型" identityColumn="实体1标识" labelColumn="实体1标签" attributesColumn="实体1属性"/>
  <Link typeColumn="链接类型" labelColumn="链接标签" directed="true">
    <Attribute column="金额" type="number" name="金额 Amount (CNY)"/>
    <Attribute column="笔数" type="number" name="笔数 Count"/>
    <Attribute column="首次时间" type="datetime" name="首次时间 First (Asia/Shanghai)"/>
    <Attribute column="末次时间" type="datetime" name="末次时间 Last (Asia/Shanghai)"/>
    <Attribute column="证据" type="text" name="证据 Evidence (table:file sha256:row)"/>
  </Link>
  <Entity end="2" typeColumn="实体2类型" identityColumn="实体2标识" labelColumn="实体2标签" attributesColumn="实体2属性"/>
  <EntityTypes>
    <Type value="人员 Person" icon="Person"/>
    <Type value="银行账户 Account" icon="Bank Account"/>
    <Type value="平台账号 Member" icon="User"/>
  </EntityTypes>
</ImportSpecification>
"""


def write_i2_spec(csv_name: str, path: Path) -> None:
    path.write_text(I2_SPEC.format(csv=escape(csv_name)), "utf-8")
