"""The 调单 writer: every layout variant, both sides of transfers, dirty rows with their truth."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainbreaker.core.errors import InputError
from chainbreaker.core.ingest.readers import open_table
from chainbreaker.core.ingest.values import parse_amount, parse_time
from chainbreaker.synth.bank import generate_province

EXPECTED = {"交易时间", "交易金额", "支出", "存入", "借贷标志", "收付标志", "交易流水号"}


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    return generate_province(tmp_path_factory.mktemp("prov"), 6_000, seed=11)


def _rows(path: Path):
    tf = open_table(path, expected=lambda h: h in EXPECTED)
    for rownum, values, had_bad in tf.rows():
        yield rownum, dict(zip(tf.header, values, strict=False)), had_bad, len(values) < len(tf.header)


def test_folders_and_files(province):
    folders = [p for p in province.statements_dir.iterdir() if p.is_dir()]
    assert len(folders) == province.requests >= 2
    names = {p.name for f in folders for p in f.iterdir()}
    assert "人员信息.csv" in names
    assert "中国工商银行交易明细信息.csv" in names and "中国工商银行账户信息.csv" in names
    assert "交通银行交易明细信息.xlsx" in names
    with open(province.truth_dir / "accounts.csv", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    assert list(truth[0])[:5] == ["account", "role", "is_gambling_op", "lookalike", "group_id"]
    assert {r["is_gambling_op"] for r in truth} == {"0", "1"}


def test_all_layout_variants_and_encodings(province):
    files = [f for f in province.files if f["kind"] == "transactions"]
    assert {f["layout"] for f in files} == {"std34", "dc", "split"}
    assert {f["encoding"] for f in files} == {"gb18030", "gbk", "utf-8", "utf-8-sig", "xlsx"}
    raw = (province.statements_dir / next(f["file"] for f in files if f["bank"] == "中国工商银行")).read_bytes()
    header = raw.split(b"\r\n", 1)[0].decode("gb18030")
    assert header.startswith("交易卡号\t,交易账号\t,") and header.count(",") == 33
    boc = next(f["file"] for f in files if f["encoding"] == "utf-8-sig")
    assert (province.statements_dir / boc).read_bytes().startswith(b"\xef\xbb\xbf")


def test_direction_codes_per_bank(province):
    seen: dict[str, set[str]] = defaultdict(set)
    signed: dict[str, bool] = defaultdict(bool)
    for f in province.files:
        if f["kind"] != "transactions":
            continue
        for _, rec, bad, short in _rows(province.statements_dir / f["file"]):
            if bad or short:
                continue
            code = rec.get("收付标志") or rec.get("借贷标志")
            if code:
                seen[f["bank"]].add(code)
            if (rec.get("交易金额") or "").startswith("-"):
                signed[f["bank"]] = True
    assert seen["中国工商银行"] == {"进", "出"}
    assert seen["中国农业银行"] == {"借", "贷"}
    assert seen["中国银行"] == {"D", "C"}
    assert seen["招商银行"] == {"0", "1"}
    assert "交通银行" not in seen  # 支出/存入 columns instead of a flag
    assert signed["招商银行"] and signed["中国邮政储蓄银行"] and not signed["中国工商银行"]


def test_dirty_rows_match_what_the_readers_see(province):
    expected = defaultdict(dict)
    for d in province.dirty_rows:
        expected[d["file"]][d["row"]] = d["reason_code"]
    formatted = {(d["file"], d["row"]) for d in province.formatted_amounts}
    assert {d["reason_code"] for d in province.dirty_rows} >= {"bad_bytes", "time_impossible", "amount_invalid",
                                                               "too_few_fields"}
    found = Counter()
    for f in province.files:
        if f["kind"] != "transactions":
            continue
        for rownum, rec, bad, short in _rows(province.statements_dir / f["file"]):
            reason = "bad_bytes" if bad else ("too_few_fields" if short else None)
            if reason is None:
                reason = parse_time(rec.get("交易时间"))[1]
            if reason is None:
                amount = rec.get("交易金额") or rec.get("支出") or rec.get("存入")
                value, reason = parse_amount(amount)
                if (f["file"], rownum) in formatted:
                    assert "元" in amount and value is not None and reason is None
                    found["formatted"] += 1
            assert reason == expected[f["file"]].get(rownum), (f["file"], rownum, rec)
            found[reason] += 1
    assert found["formatted"] == len(formatted) > 0
    assert sum(v for k, v in found.items() if k not in (None, "formatted")) == len(province.dirty_rows)


def test_both_sides_and_serials(province):
    tx = province.tables.transactions.to_pydict()
    both = [i for i, s in enumerate(tx["requested_side"]) if s == "both"]
    same = [i for i in both if tx["from_bank"][i] == tx["to_bank"][i]]
    cross = [i for i in both if tx["from_bank"][i] != tx["to_bank"][i]]
    assert same and cross
    serials = Counter()
    for f in province.files:
        if f["kind"] == "transactions":
            for _, rec, _bad, _short in _rows(province.statements_dir / f["file"]):
                if rec.get("交易流水号"):
                    serials[rec["交易流水号"]] += 1
    # Same bank: the same 交易流水号 appears in both statements (unless a dirty row hid one side).
    twice = sum(1 for i in same if serials[tx["serial_no"][i]] == 2)
    assert twice >= 0.95 * len(same)
    # Different banks: each statement has its own serial, so the payer's serial appears once.
    assert sum(1 for i in cross if serials[tx["serial_no"][i]] == 1) >= 0.95 * len(cross)


def test_counterparty_only_accounts_have_no_statement(province):
    with open(province.truth_dir / "accounts.csv", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    unrequested = {r["account"] for r in truth if r["requested"] == "0"}
    assert unrequested
    for f in province.files:
        if f["kind"] == "accounts":
            for _, rec, _, _ in _rows(province.statements_dir / f["file"]):
                acct = (rec.get("交易账号") or "").split("_")[0].split("-")[0]
                assert acct not in unrequested


def test_refuses_non_empty_output(province):
    with pytest.raises(InputError):
        generate_province(province.out_dir, 5_000, seed=1)


def test_cli_bank(tmp_path):
    from chainbreaker.faces.cli.main import app

    result = CliRunner().invoke(app, ["synth", "bank", "--out", str(tmp_path / "p"), "-n", "5000", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "调单" in result.output
    assert (tmp_path / "p" / "truth" / "dirty_rows.csv").exists()
    result = CliRunner().invoke(app, ["synth", "bank", "--out", str(tmp_path / "q"), "-n", "6000", "--parquet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "q" / "transactions" / "part-0000.parquet").exists()


def test_ingest_round_trip(province, tmp_path):
    """Ingesting the files gives back exactly the generated transfers, minus single-sided dirty rows."""
    import duckdb

    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    summary = ingest_bank(ws, [province.statements_dir], progress=None)
    assert summary.rows_quarantined == len(province.dirty_rows)
    assert summary.quarantined_by_reason == dict(Counter(d["reason_code"] for d in province.dirty_rows))
    con = duckdb.connect()
    con.register("lake", ws.read_arrow("transactions"))
    con.register("truth", province.tables.transactions)
    on = ("t.from_account = l.from_account and coalesce(t.to_account, '') = coalesce(l.to_account, '') "
          "and t.amount = l.amount and t.ts = l.ts")
    extra = con.sql(f"select count(*) from lake l anti join truth t on {on}").fetchall()[0][0]
    missing = con.sql(f"select serial_no, requested_side from truth t anti join lake l on {on}").fetchall()
    assert extra == 0
    dirty_serials = {d["serial_no"] for d in province.dirty_rows}
    assert all(side != "both" and serial in dirty_serials for serial, side in missing), missing
    assert con.sql("select count(*) from lake").fetchall()[0][0] == province.n_transactions - len(missing)
