"""Bad input: clear messages, quarantine with reasons, nothing lost, workspace unchanged on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainbreaker.chains.promotion.analyze import analyze
from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.core.errors import InputError, MappingError
from chainbreaker.core.workspace import Workspace

DUMP = """-- MySQL dump 10.13
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `users`;
CREATE TABLE `users` (
  `id` int(11) NOT NULL,
  `username` varchar(32) DEFAULT NULL,
  `parent_id` int(11) DEFAULT NULL,
  `mobile` varchar(16) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `users` VALUES (1,'boss',NULL,'13900000001'),(2,'a\\'gent',1,'13900000002'),
(3,'m3',2,NULL),(4,'self',4,NULL);
INSERT INTO `users` VALUES (5,'m5',2,NULL),(6,'m6',2,'oops),(7,'m7',2,NULL);
INSERT INTO `users` (`id`,`username`,`parent_id`) VALUES (8,'m8',2),(9,'m9',8);
CREATE TABLE `bet_record` (
  `order_no` varchar(20) NOT NULL,
  `uid` int(11) DEFAULT NULL,
  `bet_amount` decimal(18,2) DEFAULT NULL,
  `bet_time` datetime DEFAULT NULL
);
INSERT INTO `bet_record` VALUES ('A1',3,'1,000.50元','2025-03-01 12:00:00'),('A2',3,'一百','2025-03-01 12:00:00'),
('A3',5,'abc','2025/03/02 08:00:00'),('A4',9,20,'20250303120000'),('A5',9,30,'not a time');
"""


def test_dump_with_syntax_error_keeps_the_good_part(tmp_path: Path) -> None:
    path = tmp_path / "seized.sql"
    path.write_text(DUMP, "utf-8")
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, path, "样本")
    members = dict(ws.duck().sql("SELECT member_id, username FROM platform_members").fetchall())
    # Statement 1 fully, statement 2 up to the broken tuple, statement 3 fully.
    assert members == {"1": "boss", "2": "a'gent", "3": "m3", "4": "self", "5": "m5", "8": "m8", "9": "m9"}
    q = ws.duck().sql("SELECT reason_code, reason, row, raw, file_name FROM quarantine ORDER BY row").to_arrow_table().to_pylist()
    syntax = [r for r in q if r["reason_code"] == "dump_syntax"]
    assert len(syntax) == 1 and syntax[0]["row"] == 13 and "SQL" in syntax[0]["reason"]
    assert "(6,'m6',2,'oops),(7,'m7',2,NULL);" in json.loads(syntax[0]["raw"])["sql"]  # nothing lost
    # Stakes given as text: parsed when they are numbers with decoration, quarantined otherwise.
    bets = dict(ws.duck().sql("SELECT order_id, stake FROM platform_bets").fetchall())
    assert {k: str(v) for k, v in bets.items()} == {"A1": "1000.50", "A4": "20.00"}
    by_code = {}
    for r in q:
        by_code.setdefault(r["reason_code"], []).append(r)
    assert sorted(json.loads(r["raw"])["order_no"] for r in by_code["amount_invalid"]) == ["A2", "A3"]
    assert "金额无法识别" in by_code["amount_invalid"][0]["reason"] and "bet_amount" in by_code["amount_invalid"][0]["reason"]
    assert [json.loads(r["raw"])["order_no"] for r in by_code["time_invalid"]] == ["A5"]
    assert s.quarantined_by_reason == {"amount_invalid": 2, "dump_syntax": 1, "time_invalid": 1}
    # Self-reference reported, member kept as a root of its own.
    r = analyze(ws)
    assert r.issues["self_references"] == 1
    assert ws.duck().sql("SELECT count(*) FROM findings WHERE rule_id='TREE-SELF' AND subject_key='样本:4'").fetchall()[0][0] == 1


def test_duplicate_member_ids_are_quarantined_not_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "会员表.csv").write_text(
        "会员ID,用户名,上级ID,手机号\n100,总代,,13800000000\n101,甲,100,13800000001\n101,甲重复,100,13800000009\n"
        "102,乙,101,\n,无号,100,\n", "utf-8")
    (folder / "注单表.csv").write_text(
        "注单号,会员ID,投注金额,投注时间\nX1,101,100,2025-01-01 10:00:00\nX1,101,100,2025-01-01 10:00:00\n"
        "X2,102,\t50\t,2025-01-02 10:00:00\n", "utf-8-sig")
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, folder, "乙平台")
    assert s.rows_kept == {"members": 3, "bets": 2}
    assert s.quarantined_by_reason == {"duplicate_key": 2, "member_missing": 1}
    assert s.rows_read == 8 == sum(s.rows_kept.values()) + sum(s.quarantined_by_reason.values())
    kept = dict(ws.duck().sql("SELECT member_id, username FROM platform_members").fetchall())
    assert kept["101"] == "甲"  # the first occurrence wins
    dup = ws.duck().sql("SELECT raw, row, reason FROM quarantine WHERE reason_code='duplicate_key' AND "
                        "file_name='会员表.csv'").fetchall()
    assert json.loads(dup[0][0])["用户名"] == "甲重复" and dup[0][1] == 4 and "主键重复" in dup[0][2]
    files = ws.duck().sql("SELECT file_name, rows_read, rows_kept, rows_quarantined FROM ingested_files ORDER BY 1").fetchall()
    assert files == [("会员表.csv", 5, 3, 2), ("注单表.csv", 3, 2, 1)]


def test_mapping_error_leaves_workspace_unchanged(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "members.csv").write_text("uid,pid\n1,\n2,1\n", "utf-8")
    profile = tmp_path / "profile.yaml"
    profile.write_text("tables:\n  members:\n    kind: members\n    columns: {member_id: uid, upline_id: 推荐人编号}\n", "utf-8")
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(MappingError) as exc:
        ingest_platform(ws, folder, "丙", profile)
    assert "推荐人编号" in exc.value.zh and "uid" in exc.value.zh
    assert ws.tables() == {}
    with pytest.raises(InputError, match="--platform"):
        ingest_platform(ws, folder, " ")
    with pytest.raises(InputError, match="No platform member table"):
        analyze(ws)


def test_profile_maps_unusual_names_and_table_kinds(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "t_a.csv").write_text("编号,介绍人,证件\n1,,110101199001011234\n2,1,\n3,2,\n", "utf-8")
    (folder / "t_b.csv").write_text("单号,玩家,下注\nB1,3,12.5\nB2,3,7.5\n", "utf-8")
    profile = tmp_path / "p.yaml"
    profile.write_text("tables:\n  t_a: {kind: members, columns: {member_id: 编号, upline_id: 介绍人, id_number: 证件}}\n"
                       "  t_b: {kind: bets, columns: {order_id: 单号, member_id: 玩家, stake: 下注}}\n", "utf-8")
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, folder, "丁", profile)
    assert s.tables == {"t_a.csv": "members", "t_b.csv": "bets"}
    analyze(ws)
    rows = ws.duck().sql("SELECT member_id, downline_accounts, downline_stake FROM agent_metrics ORDER BY 1").fetchall()
    assert [(m, n, str(v)) for m, n, v in rows] == [("1", 2, "20.00"), ("2", 1, "20.00")]


def test_unknown_table_is_quarantined_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "会员.csv").write_text("会员ID,上级ID\n1,\n2,1\n", "utf-8")
    (folder / "系统日志.csv").write_text("时间,内容\n2025-01-01,登录\n", "utf-8")
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, folder, "戊")
    assert "unrecognised:系统日志.csv" in s.notes
    assert s.quarantined_by_reason == {"table_unrecognised": 1}


def test_gbk_export_with_padding_and_decorated_amounts(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "会员信息.csv").write_bytes(
        "会员ID\t,推荐人ID\t,手机号\t\n8001\t,\\N,+86 139-0000-0001\t\n8002\t,8001\t,13900000002\t\n".encode("gb18030"))
    (folder / "投注记录.csv").write_bytes(
        "注单号,会员ID,投注金额,派彩,投注时间\nZ1,8002,\"1,200.00元\",０,2025年3月1日 12:00:00\n".encode("gb18030"))
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, folder, "庚")
    assert s.rows_kept == {"members": 2, "bets": 1} and not s.quarantined_by_reason
    con = ws.duck()
    assert con.sql("SELECT phone FROM platform_members WHERE member_id = '8001'").fetchall()[0][0] == "13900000001"
    stake, ts = con.sql("SELECT stake, ts FROM platform_bets").fetchall()[0]
    assert str(stake) == "1200.00" and ts.astimezone(__import__("datetime").UTC).hour == 4  # 12:00 Shanghai


def test_tree_deeper_than_the_cap_is_refused_and_unknown_engine_too(tmp_path: Path, monkeypatch) -> None:
    """A chain of uplines deeper than MAX_LEVELS is a clear error (one join per level would never end
    on a mis-mapped upline column), and the workspace keeps no partial result."""
    from chainbreaker.chains.promotion import tree

    folder = tmp_path / "export"
    folder.mkdir()
    rows = "".join(f"{100 + i},m{i},{99 + i if i else ''}\n" for i in range(12))  # 100 <- 101 <- ... <- 111
    (folder / "会员表.csv").write_text("会员ID,用户名,上级ID\n" + rows, "utf-8")
    ws = Workspace(tmp_path / "ws")
    ingest_platform(ws, folder, "深链")
    assert analyze(ws).levels == 12
    monkeypatch.setattr(tree, "MAX_LEVELS", 5)
    with pytest.raises(InputError) as deep:
        analyze(ws)
    assert "代理层级超过 5 层" in deep.value.zh
    with pytest.raises(InputError) as unknown:
        analyze(ws, engine="flink")
    assert "未知引擎 flink" in unknown.value.zh
    assert ws.read_arrow("promotion_member_totals").num_rows == 12
    assert max(ws.read_arrow("promotion_member_totals")["level"].to_pylist()) == 12
