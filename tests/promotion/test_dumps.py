"""Seized dumps as they really are: English tables, generic or pinyin columns, Chinese COMMENTs,
SQL Server / PostgreSQL dialects, GBK / Big5 / UTF-16 files. Fixtures: ``tests/promotion/dumps/``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainbreaker.chains.promotion.analyze import analyze
from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.core.workspace import Workspace

DUMPS = Path(__file__).parent / "dumps"


def dump(tmp_path: Path, name: str, encoding: str = "utf-8") -> Path:
    """A fixture written in the encoding its platform used (the files here are UTF-8 to be readable)."""
    out = tmp_path / "in" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes((DUMPS / name).read_text("utf-8").encode(encoding))
    return out


def rows(ws: Workspace, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    return ws.duck().sql(sql).fetchall()


def test_english_tables_with_chinese_comments(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, dump(tmp_path, "fh_game_mysql.sql"), "凤凰", mariadb="never")
    f = "fh_game_mysql.sql#"
    assert s.tables == {f + "t_user": "members", f + "game_record": "bets", f + "pay_order": "deposits",
                        f + "withdraw_apply": "withdrawals", f + "agent_commission": "rebates"}
    assert "unrecognised:" + f + "login_log" in s.notes
    # game_record has uid + money like a deposit table, but also 中奖金额: a bet table, said so.
    why_zh, why_en = s.roles[f + "game_record"]
    assert "派彩←win_money（注释“中奖金额”）" in why_zh and "判为注单而非充值" in why_zh
    assert "投注金额←money（注释“下注金额”）" in why_zh and "has a payout/win column (win_money)" in why_en
    assert "缺投注金额" in s.roles[f + "login_log"][0]
    bets = rows(ws, "SELECT order_id, member_id, game, period, stake, payout, valid_bet FROM platform_bets ORDER BY 1")
    assert bets[0] == ("G20200301001", "10003", "cqssc", "20200301-023", Decimal("100.00"), Decimal("195.00"),
                       Decimal("100.00"))
    assert rows(ws, "SELECT count(*) FROM platform_deposits WHERE order_id LIKE 'G%'") == [(0,)]
    # 充值金额（单位：分）→ yuan; 状态 0待支付 1成功 2失败 → only 成功 counts as money that moved.
    deposits = rows(ws, "SELECT order_id, amount, status, ok, channel, payee_account FROM platform_deposits ORDER BY 1")
    assert deposits == [("P001", Decimal("500.00"), "成功", True, "银行卡", "6222020000001111"),
                        ("P002", Decimal("200.00"), "失败", False, "支付宝", "6222020000001111"),
                        ("P003", Decimal("300.00"), "待支付", False, "微信", "6222020000001111"),
                        ("P004", Decimal("1000.00"), "成功", True, "银行卡", "6222020000001111")]
    assert rows(ws, "SELECT order_id, ok FROM platform_withdrawals ORDER BY 1") == [("W001", True), ("W002", False)]
    assert rows(ws, "SELECT member_id, kind, kind_class FROM platform_rebates ORDER BY 1") == [
        ("10001", "分红", "dividend"), ("10002", "佣金", "commission"), ("10003", "返水", "rebate")]
    members = dict(rows(ws, "SELECT member_id, upline_id FROM platform_members"))
    assert members == {"10001": None, "10002": "10001", "10003": "10002", "10004": "10002", "10005": "10004"}
    assert rows(ws, "SELECT id_number, phone, device FROM platform_members WHERE member_id = '10004'") == [
        ("11010120100101002X", "13800000004", None)]
    assert rows(ws, "SELECT src_row FROM platform_members WHERE member_id = '10005'") == [(47,)]
    r = analyze(ws)  # pid = 0 means "no upline": a root, not an orphan
    assert r.issues["orphans"] == 0 and r.issues["roots"] == 1
    assert rows(ws, "SELECT member_id, downline_accounts, downline_stake FROM agent_metrics ORDER BY 1") == [
        ("10001", 4, Decimal("650.00")), ("10002", 3, Decimal("650.00")), ("10004", 1, Decimal("200.00"))]


def test_sql_server_script_in_utf16(tmp_path: Path) -> None:
    """网狐 AccountsInfo/SpreaderID saved by SSMS as UTF-16; descriptions as extended properties."""
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, dump(tmp_path, "wh_qp_tsql.sql", "utf-16"), "网狐", mariadb="never")
    f = "wh_qp_tsql.sql#"
    assert s.tables == {f + "AccountsInfo": "members", f + "RecordGameBet": "bets", f + "OnLineOrder": "deposits"}
    assert "上级ID←SpreaderID（注释“推广员标识”）" in s.roles[f + "AccountsInfo"][0]
    assert rows(ws, "SELECT member_id, upline_id, username, real_name FROM platform_members ORDER BY 1") == [
        ("1", None, "dl_总代", "赵敏"), ("2", "1", "wanjia\\2", "钱\\多多"), ("3", "1", "wanjia3", None)]
    last = rows(ws, "SELECT last_login_time FROM platform_members WHERE member_id = '1'")[0][0]
    assert last.isoformat() == "2023-01-16T04:00:00+00:00"  # binary datetime 12:00 Beijing time
    assert rows(ws, "SELECT member_id, stake, payout, period, game FROM platform_bets ORDER BY 1") == [
        ("2", Decimal("1000.00"), Decimal("1950.00"), "880001", "104"), ("3", Decimal("500.00"), Decimal("0.00"), "880002", "104")]
    assert rows(ws, "SELECT order_id, amount, status, ok FROM platform_deposits ORDER BY 1") == [
        ("WX20230201001", Decimal("2000.00"), "已处理", True), ("WX20230201002", Decimal("0.00"), "未付款", False)]


@pytest.mark.parametrize(("name", "encoding"), [("hy_pinyin_gbk.sql", "gbk"), ("hy_pinyin_gbk.sql", "gb18030"),
                                                ("tw_big5_mysql.sql", "cp950"), ("tw_big5_mysql.sql", "big5")])
def test_pinyin_columns_and_traditional_comments(tmp_path: Path, name: str, encoding: str) -> None:
    """Columns named by pinyin initials (hybh, tzje) and Big5 comments in traditional characters
    (會員編號, 儲值金額) are understood through their comments only."""
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, dump(tmp_path, name, encoding), "样本", mariadb="never")
    assert sorted(s.tables.values()) == ["bets", "deposits", "members"] and not s.quarantined_by_reason
    ups = rows(ws, "SELECT member_id, upline_id FROM platform_members ORDER BY 1")
    bets = rows(ws, "SELECT order_id, stake, payout FROM platform_bets ORDER BY 1")
    deposits = rows(ws, "SELECT order_id, amount, ok FROM platform_deposits")
    if name.startswith("hy"):
        assert ups == [("HY001", None), ("HY002", "HY001"), ("HY003", "HY002")]
        # the bet table's amount column is only called 金额; its 派彩金额 column makes it the stake
        assert bets == [("Z0001", Decimal("1000.00"), Decimal("1950.00")), ("Z0002", Decimal("2000.00"), Decimal("0.00"))]
        assert "投注金额←je（通用金额列）" in s.roles["hy_pinyin_gbk.sql#tb_tzjl"][0]
        assert deposits == [("D0001", Decimal("3000.00"), True)]
        assert rows(ws, "SELECT real_name FROM platform_members WHERE member_id = 'HY003'") == [("郑爽",)]
    else:
        assert ups == [("501", None), ("502", "501"), ("503", "502")]
        assert bets == [("T1", Decimal("600.00"), Decimal("0.00")), ("T2", Decimal("400.00"), Decimal("780.00"))]
        assert deposits == [("S1", Decimal("1000.00"), True)]
        assert rows(ws, "SELECT username FROM platform_members WHERE member_id = '501'") == [("總代理",)]
        assert "上级ID←up_mid（注释“上線會員編號”）" in s.roles["tw_big5_mysql.sql#member"][0]


def test_postgres_dump_with_copy(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, dump(tmp_path, "pg_platform_copy.sql"), "pg", mariadb="never")
    assert s.rows_kept == {"members": 3, "bets": 3}
    times = rows(ws, "SELECT order_id, ts FROM platform_bets ORDER BY 1")
    assert [t.isoformat() if t else None for _, t in times] == [
        "2024-04-01T04:00:00+00:00", "2024-04-01T04:30:00+00:00", "2024-04-02T01:00:00+00:00"]


@pytest.mark.parametrize("layout", ["dump", "csv"])
def test_a_table_with_a_payout_column_is_a_bet_table_never_deposits(tmp_path: Path, layout: str) -> None:
    """``uid`` + ``money`` reads as a deposit table; a payout column decides: bets, the money is the stake."""
    folder = tmp_path / "in"
    folder.mkdir()
    if layout == "dump":
        (folder / "x.sql").write_text(
            "CREATE TABLE `t_user` (`id` int, `parent_id` int);\nINSERT INTO `t_user` VALUES (1,NULL),(2,1);\n"
            "CREATE TABLE `order_list` (`order_no` varchar(9), `uid` int, `money` decimal(9,2), `win_money` decimal(9,2),"
            " `status` int);\nINSERT INTO `order_list` VALUES ('A',2,10.00,19.50,1),('B',2,5.00,0.00,1);\n", "utf-8")
    else:
        (folder / "会员.csv").write_text("会员ID,上级ID\n1,\n2,1\n", "utf-8")
        (folder / "订单记录.csv").write_text("订单号,会员ID,金额,派彩,状态\nA,2,10.00,19.50,成功\nB,2,5.00,0,成功\n", "utf-8")
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, folder, "甲", mariadb="never")
    assert sorted(s.tables.values()) == ["bets", "members"]
    assert rows(ws, "SELECT order_id, stake, payout FROM platform_bets ORDER BY 1") == [
        ("A", Decimal("10.00"), Decimal("19.50")), ("B", Decimal("5.00"), Decimal("0.00"))]
    assert not ws.has_table("platform_deposits")


def test_profile_overrides_the_role_and_columns(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("tables:\n  game_record: {kind: bets, columns: {stake: valid_money, ts: 下注时间}}\n"
                       "  login_log: {kind: members, columns: {member_id: uid, upline_id: ip}}\n"
                       "  pay_order: {kind: deposits, scale: {amount: '1'}, values: {status: {'1': 已到账}}}\n", "utf-8")
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, dump(tmp_path, "fh_game_mysql.sql"), "凤凰", profile, mariadb="never")
    assert s.tables["fh_game_mysql.sql#login_log"] == "members"
    assert s.roles["fh_game_mysql.sql#game_record"][0].startswith("由映射配置（--profile）指定")
    # the profile's column (named by its comment 下注时间) and its stake column win over the detected ones
    assert rows(ws, "SELECT sum(stake) FROM platform_bets") == [(Decimal("650.00"),)]
    assert rows(ws, "SELECT amount, status FROM platform_deposits WHERE order_id = 'P001'") == [(Decimal("50000.00"), "已到账")]


def test_cli_summary_says_which_role_and_why_in_both_languages(tmp_path: Path) -> None:
    from chainbreaker.faces.cli.main import app

    path = dump(tmp_path, "fh_game_mysql.sql")
    runner = CliRunner()
    zh = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "ingest", "platform", str(path), "--platform", "凤凰",
                             "--via-mariadb", "never"])
    assert zh.exit_code == 0, zh.output
    flat = zh.output.replace("\n", "")
    assert "game_record → 注单" in flat and "判为注单而非充值" in flat and "login_log → 未识别" in flat
    en = runner.invoke(app, ["--workspace", str(tmp_path / "ws2"), "--lang", "en", "ingest", "platform", str(path),
                             "--platform", "凤凰", "--via-mariadb", "never"])
    assert en.exit_code == 0, en.output
    flat = en.output.replace("\n", "")
    assert "game_record → bets" in flat and "has a payout/win column (win_money)" in flat
    run = Workspace(tmp_path / "ws").runs()[-1]
    assert run["counts"]["tables"]["fh_game_mysql.sql#game_record"] == "bets"
    json.dumps(run)  # the run record stays JSON


def test_gzipped_dump_reads_like_the_plain_one(tmp_path: Path) -> None:
    import gzip

    plain = dump(tmp_path, "fh_game_mysql.sql")
    packed = tmp_path / "in" / "fh_game.sql.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    sa = ingest_platform(a, plain, "凤凰", mariadb="never")
    sb = ingest_platform(b, packed, "凤凰", mariadb="never")
    assert sorted(sa.tables.values()) == sorted(sb.tables.values()) and sa.rows_kept == sb.rows_kept
    query = "SELECT * EXCLUDE (src_sha256, src_file) FROM platform_bets ORDER BY ALL"
    assert a.duck().sql(query).fetchall() == b.duck().sql(query).fetchall()
