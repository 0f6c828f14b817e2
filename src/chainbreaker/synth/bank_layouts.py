"""The real 调单 file layouts each synthetic bank returns (documented in docs/synth.md).

Each layout turns one *statement line* (a transfer seen from one requested account) into the
values of one row. Direction codes per bank (借贷标志): 借 = debit = money out of the account,
贷 = credit = money in; D/C likewise; CMB writes 0 (借, out) / 1 (贷, in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STD34 = (
    "交易卡号", "交易账号", "账户开户名称", "开户人证件号码", "交易时间", "交易金额", "交易余额", "收付标志",
    "交易对手账卡号", "现金标志", "对手户名", "对手身份证号", "对手开户银行", "摘要说明", "交易币种", "交易网点名称",
    "交易网点代码", "交易发生地", "交易是否成功", "传票号", "终端号", "IP地址", "MAC地址", "对手交易余额",
    "交易流水号", "日志号", "凭证种类", "凭证号", "交易柜员号", "商户名称", "商户号", "备注", "交易类型",
    "查询反馈结果原因",
)
DC = (
    "本方账号", "本方卡号", "本方户名", "本方证件号码", "交易时间", "交易金额", "账户余额", "借贷标志",
    "交易对方账号", "交易对方户名", "交易对方证件号码", "交易对方行名", "摘要", "币种", "交易渠道", "交易网点",
    "IP地址", "MAC地址", "交易流水号", "备注",
)
SPLIT = (
    "账号", "卡号", "户名", "证件号码", "交易时间", "支出", "存入", "余额", "对方账号", "对方户名", "对方行名",
    "摘要", "交易渠道", "交易流水号", "IP地址", "MAC地址", "币种", "备注",
)
ACCOUNT_COLUMNS = (
    "账户开户名称", "开户人证件号码", "交易卡号", "交易账号", "开户网点", "开户日期", "销户日期", "账户状态",
    "账户余额", "币种", "最后登录IP", "联系电话", "查询反馈结果原因",
)
PERSON_COLUMNS = ("客户名称", "证照类型", "证照号码", "联系手机", "住宅地址", "工作单位", "查询反馈结果原因")


@dataclass(frozen=True)
class Layout:
    """How one bank writes its files."""

    kind: str  # std34 | dc | split
    encoding: str  # gb18030 | gbk | utf-8 | utf-8-sig | xlsx
    null: str  # the bank's null token: "\\N", "-" or ""
    tabs: bool = False  # headers and values end in a literal tab (Excel long-number guard)
    signed: bool = False  # 交易金额 negative for money out
    codes: tuple[str, str] = ("出", "进")  # (out, in) as written in 收付标志 / 借贷标志
    suffix: str = ""  # sub-account suffix appended to the own account in 交易账号/本方账号
    time_format: str = "%Y-%m-%d %H:%M:%S"
    empty_card_share: float = 0.0  # share of rows where 交易卡号 (or 交易账号) is left empty
    title_rows: tuple[str, ...] = ()  # XLSX title lines above the header
    currency: str = "人民币"
    description: str = ""

    @property
    def header(self) -> tuple[str, ...]:
        return {"std34": STD34, "dc": DC, "split": SPLIT}[self.kind]

    @property
    def extension(self) -> str:
        return ".xlsx" if self.encoding == "xlsx" else ".csv"


LAYOUTS: dict[str, Layout] = {
    "中国工商银行": Layout("std34", "gb18030", "\\N", tabs=True,
                      description="34 列标准格式，GB18030，表头和值后带制表符，空值 \\N，收付标志 进/出"),
    "中国建设银行": Layout("std34", "gb18030", "-", tabs=True, suffix="_1", time_format="%Y/%m/%d %H:%M:%S",
                      empty_card_share=0.2,
                      description="34 列，GB18030，制表符，空值 -，交易账号带 _1 后缀，部分行交易卡号或交易账号为空"),
    "中国农业银行": Layout("dc", "gbk", "", codes=("借", "贷"),
                      description="本方账号/交易对方账号格式，借贷标志 借=出 贷=进，GBK，空值为空串"),
    "中国银行": Layout("dc", "utf-8-sig", "\\N", codes=("D", "C"), currency="CNY",
                    description="本方账号格式，借贷标志 D=出 C=进，UTF-8 带 BOM"),
    "招商银行": Layout("dc", "utf-8", "", codes=("0", "1"), signed=True, currency="156",
                    description="本方账号格式，借贷标志 0=借(出) 1=贷(进)，金额带符号（出为负），UTF-8 无 BOM"),
    "交通银行": Layout("split", "xlsx", "", title_rows=("交通银行账户交易明细查询结果", "查询机关：某某省公安厅 反馈日期：2026-09-05"),
                    description="支出/存入分列，XLSX，表头上方有两行标题"),
    "中国邮政储蓄银行": Layout("std34", "gb18030", "\\N", tabs=True, signed=True, suffix="-001",
                        time_format="%Y%m%d%H%M%S",
                        description="34 列，GB18030，制表符，金额带符号，交易账号带 -001 后缀，时间 YYYYMMDDhhmmss"),
    "昆明农村商业银行": Layout("split", "utf-8", "\\N",
                        description="支出/存入分列，UTF-8 无 BOM，空值 \\N"),
}


def _n(v: Any, null: str) -> str:
    return null if v is None or v == "" else str(v)


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


def format_row(lay: Layout, r: dict[str, Any], empty_card: int = 0) -> list[str]:
    """Values of one statement line in ``lay``. ``empty_card``: 1 blanks 交易卡号, 2 blanks 交易账号."""
    null = lay.null
    out = r["direction"] == "out"
    cents = int(r["cents"])
    amount = _money(-cents if (lay.signed and out) else cents)
    own = r["own_acct"]
    own_acct = own + lay.suffix
    own_card = "" if r["own_is_corp"] else own
    bal = _money(r["balance"]) if r["balance"] is not None else None
    code = lay.codes[0] if out else lay.codes[1]
    if lay.kind == "std34":
        card, acct = own_card, own_acct
        if empty_card == 1:
            card = ""
        elif empty_card == 2 and card:
            acct = ""
        values: list[Any] = [
            card, acct, r["own_name"], r["own_id"], r["time"], amount, bal, code,
            r["cp_acct"], "现金" if r["is_cash"] else "转账", r["cp_name"], r["cp_id"], r["cp_bank"], r["summary"],
            lay.currency, r["branch"], r["branch_code"], r["place"], "成功", None, r["terminal"], r["ip"], r["mac"],
            None, r["serial"], r["log_no"], None, None, r["teller"], r["shop_name"], r["shop_no"], None, r["channel"],
            "成功",
        ]
    elif lay.kind == "dc":
        values = [
            own_acct, own_card, r["own_name"], r["own_id"], r["time"], amount, bal, code, r["cp_acct"], r["cp_name"],
            r["cp_id"], r["cp_bank"], r["summary"], lay.currency, r["channel"], r["branch"], r["ip"], r["mac"],
            r["serial"], r["shop_name"],
        ]
    else:
        values = [
            own_acct, own_card, r["own_name"], r["own_id"], r["time"], amount if out else None,
            None if out else amount, bal, r["cp_acct"], r["cp_name"], r["cp_bank"], r["summary"], r["channel"],
            r["serial"], r["ip"], r["mac"], lay.currency, r["shop_name"],
        ]
    cells = [_n(v, null) for v in values]
    if lay.tabs:
        cells = [c + "\t" for c in cells]
    return cells


def header_cells(lay: Layout, header: tuple[str, ...]) -> list[str]:
    return [h + "\t" for h in header] if lay.tabs else list(header)
