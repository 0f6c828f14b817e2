"""What each table of a seized platform database is, and why (表类型识别).

Seized dumps often name tables in English (``t_user``, ``game_record``, ``pay_order``) with generic
English or pinyin columns (``money``, ``uid``, ``tzje``) and say what they are only in Chinese
``COMMENT``s. A table is classified as members, bets, deposits, withdrawals or rebates from its
column names *and* comments, its name and its table comment:

* each canonical field is looked for first among columns whose comment names it (``'下注金额'``,
  ``'推荐人ID（0=无）'``: the words before any bracket, space or colon), then by column name, then
  among comments that contain one of its Chinese names (``'上线会员编号'`` holds ``上线``);
* a kind is possible when its required fields are found; the score is the number of fields found,
  plus 5 when the table name or comment holds a word of that kind (``user``, ``充值``, ``注单`` ...);
* a table with a payout/win column (派彩, 中奖金额, ``win_money``) is a bet table, never deposits or
  withdrawals: its generic amount column (``money``, ``金额``) is then the stake;
* comments also say how to read values: ``'状态 0待支付 1成功 2失败'`` decodes status codes and
  ``'充值金额（单位：分）'`` turns fen into yuan.

Traditional characters (會員編號, 儲值金額) are matched through their simplified forms. A YAML
profile (``--profile``) overrides the kind and any column. :class:`TableRole` carries the decision
with its reasons in Chinese and English, for the ingest summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chainbreaker.chains.promotion.rawstore import RawTable
from chainbreaker.chains.promotion.spec import (
    FIELD_ZH,
    FIELDS,
    KIND_ZH,
    MONEY_FIELDS,
    NAME_HINTS,
    REQUIRED,
    TRAD_TO_SIMP,
)
from chainbreaker.core.errors import MappingError
from chainbreaker.core.ingest.mapping import normalise_header

KINDS = tuple(FIELDS)
NAME_BONUS = 5
_HEAD = re.compile(r"[\s,，;；:：(（\[【/|、]")
_CODES = re.compile(r"(-?\d+)\s*[:：=\-—.．]?\s*([\u4e00-\u9fff]{1,8}|[A-Za-z]{2,12})")
_FEN = re.compile(r"单位\s*[:：为是]?\s*分(?![红成润])|[（(]\s*分\s*[)）]|以分为单位|[（(]单位[:：]?\s*分")
_LI = re.compile(r"单位\s*[:：为是]?\s*厘|[（(]\s*厘\s*[)）]")
DECODED_FIELDS = ("status", "kind", "channel")


def _norm(text: str) -> str:
    return normalise_header(text.translate(TRAD_TO_SIMP))


def _chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


@dataclass
class TableRole:
    """The kind given to a source table, the columns feeding each field, and why."""

    kind: str | None
    columns: dict[str, str] = field(default_factory=dict)  # canonical field -> column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> code -> label
    scale: dict[str, str] = field(default_factory=dict)  # money field -> multiplier ("0.01")
    reasons_zh: list[str] = field(default_factory=list)
    reasons_en: list[str] = field(default_factory=list)

    def why(self, lang: str = "zh") -> str:
        return ("；" if lang == "zh" else "; ").join(self.reasons_zh if lang == "zh" else self.reasons_en)


@dataclass
class _Candidate:
    kind: str
    columns: dict[str, str]
    how: dict[str, str]  # field -> "comment" | "name" | "contains" | "profile" | "amount"
    score: float = 0.0
    hint_zh: str = ""
    hint_en: str = ""


def table_profile(raw: RawTable, profile: dict[str, Any]) -> dict[str, Any]:
    tables = profile.get("tables") or {}
    for key in (raw.name, raw.file_name, raw.path.name, raw.path.stem):
        if key in tables:
            return dict(tables[key] or {})
    return {}


def classify(raw: RawTable, profile: dict[str, Any]) -> TableRole:
    """Classify ``raw`` (see the module docstring); the profile's ``kind``/``columns`` win."""
    tprof = table_profile(raw, profile)
    forced = tprof.get("kind")
    if forced:
        if forced not in KINDS:
            raise MappingError(f"映射配置中的表类型“{forced}”无效，可选：{'、'.join(KINDS)}",
                               f"Table kind '{forced}' in the profile is invalid; use one of {KINDS}")
        cand = _match(raw, str(forced), tprof)
        role = TableRole(str(forced), cand.columns, reasons_zh=["由映射配置（--profile）指定"],
                         reasons_en=["set by the profile (--profile)"])
        _read_comments(raw, role, tprof)
        return role
    cands = [c for c in (_match(raw, k, tprof) for k in KINDS) if all(f in c.columns for f in REQUIRED[c.kind])]
    payout = _match(raw, "bets", tprof)
    has_payout = "member_id" in payout.columns and payout.how.get("payout") in ("comment", "name", "profile")
    if has_payout:
        cands = [c for c in cands if c.kind in ("bets", "members")]
        if not any(c.kind == "bets" for c in cands):
            stake = _generic_amount(raw, payout)
            if stake:
                payout.columns["stake"], payout.how["stake"] = stake, "amount"
                payout.score = len(payout.columns) + _hint_score(raw, payout)
                cands.append(payout)
    if not cands:
        return _unrecognised(raw, tprof, has_payout)
    best = max(cands, key=lambda c: (c.score, -KINDS.index(c.kind)))
    role = TableRole(best.kind, best.columns)
    _explain(raw, best, role, has_payout, [c for c in cands if c is not best])
    _read_comments(raw, role, tprof)
    return role


def _match(raw: RawTable, kind: str, tprof: dict[str, Any]) -> _Candidate:
    """Columns for every field of ``kind``: profile, then comment heads, names, comment contents."""
    spec = FIELDS[kind]
    columns: dict[str, str] = {}
    how: dict[str, str] = {}
    used: set[str] = set()
    by_norm = {_norm(h): h for h in reversed(raw.header)}
    for fld, col in (tprof.get("columns") or {}).items():
        actual = col if col in raw.header else by_norm.get(_norm(str(col)))
        if actual is None:
            actual = next((h for h, c in raw.comments.items() if c == col), None)
        if actual is None:
            raise MappingError(
                f"映射配置指定的列“{col}”（字段 {fld}）不在 {raw.file_name} 中。现有列：{'、'.join(raw.header)}",
                f"Column '{col}' (field {fld}) named in the profile is not in {raw.file_name}. "
                f"Columns: {', '.join(raw.header)}")
        columns[fld], how[fld] = actual, "profile"
        used.add(actual)
    syns = {f: [_norm(s) for s in spec[f]] for f in spec}
    heads = {h: _norm(_HEAD.split(c.strip(), maxsplit=1)[0]) for h, c in raw.comments.items() if c.strip()}
    # 1. comment heads naming a field exactly (the most specific evidence a dump carries)
    for fld in spec:
        if fld in columns:
            continue
        hits = [(syns[fld].index(hd), h) for h, hd in heads.items() if hd in syns[fld] and h not in used]
        if hits:
            col = min(hits, key=lambda x: (x[0], raw.header.index(x[1])))[1]
            columns[fld], how[fld] = col, "comment"
            used.add(col)
    # 2. column names
    for fld in spec:
        if fld in columns:
            continue
        for syn in syns[fld]:
            col = by_norm.get(syn)
            if col is not None and col not in used and not _comment_says_other(col, raw, fld, spec):
                columns[fld], how[fld] = col, "name"
                used.add(col)
                break
    # 3. comments containing a Chinese name of the field (the longest name wins across fields)
    best: dict[str, tuple[int, str]] = {}
    for h, c in raw.comments.items():
        if h in used:
            continue
        text = _norm(c)
        for fld in spec:
            if fld in columns:
                continue
            for syn, orig in zip(syns[fld], spec[fld], strict=True):
                if _chinese(orig) and len(syn) >= 2 and syn in text and len(syn) > best.get(h, (0, ""))[0]:
                    best[h] = (len(syn), fld)
    for h, (_, fld) in sorted(best.items(), key=lambda x: -x[1][0]):
        if fld not in columns and h not in used:
            columns[fld], how[fld] = h, "contains"
            used.add(h)
    cand = _Candidate(kind, columns, how)
    cand.score = len(columns) + _hint_score(raw, cand)
    return cand


def _comment_says_other(col: str, raw: RawTable, fld: str, spec: dict[str, list[str]]) -> bool:
    """A column whose comment names another field of this kind is not taken for ``fld`` by its name."""
    comment = raw.comments.get(col, "").strip()
    if not comment:
        return False
    head = _norm(_HEAD.split(comment, maxsplit=1)[0])
    return any(head in [_norm(s) for s in syns] for f, syns in spec.items() if f != fld)


def _hint_score(raw: RawTable, cand: _Candidate) -> float:
    lname = raw.name.lower()
    hint = next((h for h in NAME_HINTS[cand.kind] if h in lname), None)
    if hint:
        cand.hint_zh, cand.hint_en = f"表名“{raw.name}”含“{hint}”", f"table name '{raw.name}' contains '{hint}'"
        return NAME_BONUS
    comment = raw.table_comment.translate(TRAD_TO_SIMP)
    hint = next((h for h in NAME_HINTS[cand.kind] if h in comment), None)
    if hint:
        cand.hint_zh = f"表注释“{raw.table_comment}”含“{hint}”"
        cand.hint_en = f"table comment '{raw.table_comment}' contains '{hint}'"
        return NAME_BONUS
    return 0.0


def _generic_amount(raw: RawTable, cand: _Candidate) -> str | None:
    """A plain amount column (``money``, ``金额``) not used by another field, taken as the stake."""
    generic = {_norm(s) for s in FIELDS["deposits"]["amount"]}
    used = set(cand.columns.values())
    for h in raw.header:
        if h in used:
            continue
        comment = raw.comments.get(h, "")
        if _norm(h) in generic or (comment and _norm(_HEAD.split(comment.strip(), maxsplit=1)[0]) in generic):
            return h
    return None


def _describe(raw: RawTable, fld: str, col: str, how: str, lang: str) -> str:
    comment = raw.comments.get(col, "")
    name = FIELD_ZH.get(fld, fld) if lang == "zh" else fld
    if how in ("comment", "contains") and comment:
        return f"{name}←{col}（注释“{comment}”）" if lang == "zh" else f"{name}←{col} (comment '{comment}')"
    if how == "amount":
        return f"{name}←{col}（通用金额列）" if lang == "zh" else f"{name}←{col} (generic amount column)"
    return f"{name}←{col}"


def _explain(raw: RawTable, best: _Candidate, role: TableRole, has_payout: bool, others: list[_Candidate]) -> None:
    zh, en = role.reasons_zh, role.reasons_en
    if best.hint_zh:
        zh.append(best.hint_zh)
        en.append(best.hint_en)
    req = [f for f in REQUIRED[best.kind] if f in best.columns]
    zh.append("必需列：" + "、".join(_describe(raw, f, best.columns[f], best.how[f], "zh") for f in req))
    en.append("required: " + ", ".join(_describe(raw, f, best.columns[f], best.how[f], "en") for f in req))
    if has_payout and best.kind == "bets":
        col = best.columns["payout"]
        zh.append(f"含派彩/中奖金额列 {col}，判为注单而非充值或提现")
        en.append(f"has a payout/win column ({col}), so bets, not deposits or withdrawals")
    extra = [f for f in best.columns if f not in REQUIRED[best.kind]]
    if extra:
        zh.append(f"另识别 {len(extra)} 列：" + "、".join(_describe(raw, f, best.columns[f], best.how[f], "zh")
                                                        for f in extra))
        en.append(f"{len(extra)} more: " + ", ".join(_describe(raw, f, best.columns[f], best.how[f], "en")
                                                    for f in extra))
    if others:
        runner = max(others, key=lambda c: c.score)
        zh.append(f"次选{KIND_ZH[runner.kind]}（得分 {runner.score:g}，本表 {best.score:g}）")
        en.append(f"runner-up {runner.kind} (score {runner.score:g} vs {best.score:g})")


def _unrecognised(raw: RawTable, tprof: dict[str, Any], has_payout: bool) -> TableRole:
    missing_zh, missing_en = [], []
    for kind in KINDS:
        cand = _match(raw, kind, tprof)
        lack = [f for f in REQUIRED[kind] if f not in cand.columns]
        missing_zh.append(f"{KIND_ZH[kind]}缺{'、'.join(FIELD_ZH[f] for f in lack)}")
        missing_en.append(f"{kind} lacks {'/'.join(lack)}")
    role = TableRole(None)
    if has_payout:
        role.reasons_zh.append("含派彩列但找不到投注金额列（注单表），可用 --profile 指定")
        role.reasons_en.append("has a payout column but no stake column (a bet table); use --profile")
    role.reasons_zh.append("不符合任何表类型：" + "；".join(missing_zh))
    role.reasons_en.append("fits no table kind: " + "; ".join(missing_en))
    return role


def _read_comments(raw: RawTable, role: TableRole, tprof: dict[str, Any]) -> None:
    """Value codes and money units stated in the comments of the mapped columns (profile ``values`` win)."""
    for fld in DECODED_FIELDS:
        col = role.columns.get(fld)
        comment = raw.comments.get(col, "") if col else ""
        codes = dict(_CODES.findall(comment))
        if len(codes) >= 2:
            role.values[fld] = codes
            shown = "、".join(f"{k}={v}" for k, v in codes.items())
            role.reasons_zh.append(f"{FIELD_ZH[fld]}代码按注释解读：{shown}")
            role.reasons_en.append(f"{fld} codes read from the comment: {shown}")
    for fld, mapping in (tprof.get("values") or {}).items():
        role.values[str(fld)] = {str(k): str(v) for k, v in (mapping or {}).items()}
    for fld in sorted(MONEY_FIELDS):
        col = role.columns.get(fld)
        comment = raw.comments.get(col, "") if col else ""
        scale = "0.01" if _FEN.search(comment) else "0.001" if _LI.search(comment) else None
        if scale:
            role.scale[fld] = scale
            unit = "分" if scale == "0.01" else "厘"
            role.reasons_zh.append(f"{FIELD_ZH[fld]}单位为{unit}（注释“{comment}”），已换算为元")
            role.reasons_en.append(f"{fld} is in {'fen' if unit == '分' else 'li'} (comment '{comment}'); "
                                   f"converted to yuan")
    for fld, value in (tprof.get("scale") or {}).items():
        role.scale[str(fld)] = str(value)
