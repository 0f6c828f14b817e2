"""Layout variants, encodings and English/AML files, each recognised with no per-file flags."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from decimal import Decimal
from pathlib import Path

import pytest

from chainbreaker.chains.funds.bank.service import ingest_bank

from .builders import LI, WANG, ZHANG, write_csv, write_xlsx

DC_HEADER = ["本方账号", "本方卡号", "本方户名", "本方证件号码", "交易时间", "交易金额", "账户余额", "借贷标志",
             "交易对方账号", "交易对方户名", "交易对方行名", "摘要", "币种", "交易渠道", "IP地址", "MAC地址", "交易流水号"]
SPLIT_HEADER = ["账号", "卡号", "户名", "交易时间", "支出", "存入", "余额", "对方账号", "对方户名", "对方行名", "摘要",
                "交易流水号"]


def _txns(ws) -> list[dict]:
    return sorted(ws.read_arrow("transactions").to_pylist(), key=lambda r: (r["ts"], r["amount"]))


def _dc_rows(codes: tuple[str, str], signed: bool = False) -> list[list[str]]:
    out_amount = "-3000.00" if signed else "3000.00"
    return [
        [LI["acct"], LI["card"], LI["name"], LI["id"], "2023-04-01 09:00:00", out_amount, "1200.00", codes[0],
         WANG["card"], WANG["name"], "中国建设银行", "转账", "CNY", "网银", "36.110.2.9", "00:1A:2B:3C:4D:5E", "SN1"],
        [LI["acct"], LI["card"], LI["name"], LI["id"], "2023-04-01 21:30:00", "450.50", "1650.50", codes[1],
         ZHANG["card"], ZHANG["name"], "中国工商银行", "还款", "CNY", "手机银行", "-", "-", "SN2"],
    ]


@pytest.mark.parametrize(("bank", "codes", "encoding"), [
    ("中国农业银行", ("借", "贷"), "gbk"),
    ("中国银行", ("D", "C"), "utf-8-sig"),
    ("招商银行", ("0", "1"), "utf-8"),  # numeric codes: mapped only through the per-bank table
])
def test_debit_credit_variant(ws, tmp_path: Path, bank: str, codes: tuple[str, str], encoding: str) -> None:
    path = write_csv(tmp_path / f"{bank}交易明细信息.csv", DC_HEADER, _dc_rows(codes), encoding=encoding,
                     tab_header=False)
    s = ingest_bank(ws, [path], progress=None)
    assert s.rows_kept == 2 and s.rows_quarantined == 0
    out, inn = _txns(ws)
    assert (out["from_account"], out["to_account"], out["amount"]) == (LI["card"], WANG["card"], Decimal("3000.00"))
    assert (inn["from_account"], inn["to_account"], inn["amount"]) == (ZHANG["card"], LI["card"], Decimal("450.50"))
    assert out["direction_raw"] == codes[0] and inn["direction_raw"] == codes[1]
    assert out["ip"] == "36.110.2.9" and inn["ip"] is None and out["from_balance"] == Decimal("1200.00")


def test_numeric_code_of_an_unlisted_bank_is_quarantined_and_reported(ws, tmp_path: Path) -> None:
    rows = _dc_rows(("0", "1"))
    rows.append(list(rows[0]))
    rows[2][7], rows[2][16] = "借", "SN3"
    path = write_csv(tmp_path / "某某村镇银行交易明细信息.csv", DC_HEADER, rows, encoding="gb18030")
    s = ingest_bank(ws, [path], progress=None)
    assert s.rows_kept == 1 and s.quarantined_by_reason == {"direction_unknown": 2}
    assert s.unknown_direction_codes == {"某某村镇银行：0": 1, "某某村镇银行：1": 1}
    q = ws.read_arrow("quarantine").to_pylist()
    assert {r["row"] for r in q} == {2, 3} and all("某某村镇银行" in r["reason"] for r in q)


def test_workspace_code_table_and_profile_values_map_codes(ws, tmp_path: Path) -> None:
    (ws.config_dir / "bank_direction_codes.yaml").write_text(
        "banks:\n  某某村镇银行: {out: ['0'], in: ['1']}\n", "utf-8")
    path = write_csv(tmp_path / "某某村镇银行交易明细信息.csv", DC_HEADER, _dc_rows(("0", "1")))
    assert ingest_bank(ws, [path], progress=None).rows_kept == 2
    other = write_csv(tmp_path / "x" / "另一家银行交易明细信息.csv", DC_HEADER, _dc_rows(("1", "2")))
    profile = tmp_path / "codes.yaml"
    profile.write_text("values:\n  direction: {'1': out, '2': in}\n", "utf-8")
    s = ingest_bank(ws, [other], profile=profile, progress=None)
    assert s.rows_kept == 2 and s.rows_quarantined == 0


@pytest.mark.parametrize("negative", ["-3000.00", "(3000.00)", "3000.00-", "－3000.00"])
def test_signed_amounts_without_direction_column(ws, tmp_path: Path, negative: str) -> None:
    """Every spelling of a negative amount makes the statement signed (the positive row is money in)."""
    header = [h for h in DC_HEADER if h != "借贷标志"]
    rows = [[v for i, v in enumerate(r) if i != 7] for r in _dc_rows(("x", "x"), signed=True)]
    rows[0][5] = negative
    path = write_csv(tmp_path / "中国邮政储蓄银行交易明细信息.csv", header, rows)
    s = ingest_bank(ws, [path], progress=None)
    assert s.rows_kept == 2
    out, inn = _txns(ws)
    assert out["from_account"] == LI["card"] and out["amount"] == Decimal("3000.00") and out["direction_raw"] == "-"
    assert inn["to_account"] == LI["card"]


def test_split_debit_credit_columns_in_xlsx_with_title_rows(ws, tmp_path: Path) -> None:
    rows: list[list[object]] = [
        [LI["acct"], LI["card"], LI["name"], "2023-04-02 10:00:00", "1,000.00", None, 500.0, WANG["card"], WANG["name"],
         "中国建设银行", "转账", "JT1"],
        [LI["acct"], LI["card"], LI["name"], dt.datetime(2023, 4, 2, 11, 0), None, 88.8, 588.8, ZHANG["card"],
         ZHANG["name"], "中国工商银行", "红包", "JT2"],
    ]
    path = write_xlsx(tmp_path / "交通银行交易明细信息.xlsx", SPLIT_HEADER, rows, title="交通银行账户交易明细查询结果")
    s = ingest_bank(ws, [path], progress=None)
    assert s.rows_kept == 2
    out, inn = _txns(ws)
    assert out["direction_raw"] == "支出" and out["amount"] == Decimal("1000.00") and out["to_account"] == WANG["card"]
    assert inn["direction_raw"] == "存入" and inn["amount"] == Decimal("88.80") and inn["from_account"] == ZHANG["card"]
    assert inn["ts"] == dt.datetime(2023, 4, 2, 3, 0, tzinfo=dt.UTC)
    assert ws.read_arrow("ingested_files").column("encoding").to_pylist() == ["xlsx"]


def test_english_statement(ws, tmp_path: Path) -> None:
    header = ["account", "counterparty", "direction", "amount", "time", "currency", "description"]
    rows = [["GB29NWBK60161331926819", "DE89370400440532013000", "debit", "1200.00", "2023-06-01T12:00:00+01:00",
             "EUR", "invoice 42"],
            ["GB29NWBK60161331926819", "FR1420041010050500013M02606", "credit", "99.99", "2023-06-02 08:00:00",
             "eur", "refund"]]
    path = write_csv(tmp_path / "statement.csv", header, rows, encoding="utf-8", tab_header=False)
    s = ingest_bank(ws, [path], progress=None)
    assert s.layouts == {"statement": 1} and s.rows_kept == 2
    out, inn = _txns(ws)
    assert out["ts"] == dt.datetime(2023, 6, 1, 11, 0, tzinfo=dt.UTC) and out["currency"] == "EUR"
    assert out["to_account"] == "DE89370400440532013000" and inn["from_account"] == "FR1420041010050500013M02606"


def test_aml_edge_list(ws, tmp_path: Path) -> None:
    edges = write_csv(tmp_path / "edges.csv", ["txn_id", "from_account", "to_account", "amount", "time", "currency"],
                      [["t1", "A-1001", "B-2002", "150.25", "2022-09-01 10:00:00", "USD"],
                       ["t2", "B-2002", "C-3003", "150.00", "2022-09-01 10:05:00", "USD"]],
                      encoding="utf-8", tab_header=False)
    s = ingest_bank(ws, [edges], progress=None)
    assert s.layouts == {"edges": 1} and s.rows_kept == 2 and s.rows_quarantined == 0
    txns = {r["serial_no"]: r for r in ws.read_arrow("transactions").to_pylist()}
    assert txns["t1"]["currency"] == "USD" and txns["t1"]["requested_side"] == "both"
    assert txns["t1"]["amount"] == Decimal("150.25") and txns["t2"]["from_account"] == "B-2002"
    accounts = {r["account"]: r for r in ws.read_arrow("accounts").to_pylist()}
    assert set(accounts) == {"A-1001", "B-2002", "C-3003"} and all(a["requested"] for a in accounts.values())


def test_amlsim_gzip_as_published(ws, tmp_path: Path, shared_data: Path) -> None:
    """The head of IBM AMLSim's own transactions.csv.gz (read from ../shared/data at run time, never copied
    into the repo) ingests as an edge list; the expected values come from the same lines."""
    source = shared_data / "aml" / "amlsim_10k_stock" / "transactions.csv.gz"
    if not source.exists():
        pytest.skip(f"{source} is not available")
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fh:
        head = [line for _, line in zip(range(201), fh, strict=False)]
    sample = tmp_path / "transactions.csv.gz"
    sample.write_bytes(gzip.compress("".join(head).encode()))
    rows = list(csv.DictReader(io.StringIO("".join(head))))
    s = ingest_bank(ws, [sample], progress=None)
    assert s.layouts == {"edges": 1} and s.rows_quarantined == 0 and s.rows_kept == len(rows) == 200
    txns = {r["serial_no"]: r for r in ws.read_arrow("transactions").to_pylist()}
    for row in rows[:20]:
        t = txns[row["tran_id"]]
        assert (t["from_account"], t["to_account"]) == (row["orig_acct"], row["bene_acct"])
        assert t["amount"] == Decimal(row["base_amt"]).quantize(Decimal("0.01")) and t["channel"] == row["tx_type"]
        assert t["ts"] == dt.datetime.fromisoformat(row["tran_timestamp"].replace("Z", "+00:00"))


def test_third_party_payment_feedback(ws, tmp_path: Path) -> None:
    header = ["查询账号", "付款方支付帐号", "收款方支付帐号", "支付机构内部订单号", "交易时间", "借贷标志", "交易金额",
              "交易余额", "付款方银行卡号", "收款方银行卡号", "交易类型", "收款方的商户名称", "备注"]
    rows = [["2088102146225135", "2088102146225135", "2088602211337788", "2023070122001425130512345678",
             "2023-07-01 23:12:05", "借", "4,980.00", "20.00", "6222021001112223334", "-", "即时到账", "某某网络科技", "-"],
            ["2088102146225135", "2088777766665555", "2088102146225135", "2023070222001425130598765432",
             "2023-07-02 01:02:03", "贷", "5000", "5020.00", "-", "-", "转账", "-", "充值"]]
    path = write_csv(tmp_path / "支付宝（中国）网络技术有限公司第三方支付交易明细.csv", header, rows)
    s = ingest_bank(ws, [path], progress=None)
    assert s.layouts == {"edges": 1} and s.rows_kept == 2
    by_serial = {r["serial_no"]: r for r in ws.read_arrow("transactions").to_pylist()}
    pay = by_serial["2023070122001425130512345678"]
    assert pay["requested_side"] == "from" and pay["from_balance"] == Decimal("20.00") and pay["to_name"] == "某某网络科技"
    assert by_serial["2023070222001425130598765432"]["requested_side"] == "to"
    accounts = {r["account"]: r["requested"] for r in ws.read_arrow("accounts").to_pylist()}
    assert accounts == {"2088102146225135": True, "2088602211337788": False, "2088777766665555": False}


def test_mapping_profile_for_unusual_headers(ws, tmp_path: Path) -> None:
    header = ["户口号", "对方户口", "发生额", "记账日期时间", "方向", "附言"]
    rows = [["6214830012345678", "6222600260001072444", "2,500.00", "2023/08/09 14:03:00", "1", "借款"],
            ["6214830012345678", "6222600260001072444", "100.00", "2023/08/10 14:03:00", "2", "利息"]]
    path = write_csv(tmp_path / "某银行导出.csv", header, rows, encoding="gbk")
    from chainbreaker.core.errors import MappingError

    with pytest.raises(MappingError):
        ingest_bank(ws, [path], progress=None)
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        "layout: statement\ncolumns:\n  own_acct: 户口号\n  cp_account: 对方户口\n  amount: 发生额\n"
        "  ts: 记账日期时间\n  direction: 方向\n  summary: 附言\nvalues:\n  direction: {'1': out, '2': in}\n", "utf-8")
    s = ingest_bank(ws, [path], profile=profile, progress=None)
    assert s.rows_kept == 2
    out, inn = _txns(ws)
    assert out["from_account"] == "6214830012345678" and inn["to_account"] == "6214830012345678"
