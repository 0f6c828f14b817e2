"""The legal threshold engine: the right rules fire exactly at the thresholds, never below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainbreaker.chains.promotion.analyze import analyze
from chainbreaker.chains.promotion.thresholds import load_rules
from chainbreaker.core.errors import ConfigError
from chainbreaker.core.workspace import Workspace


def fired(ws: Workspace, platform: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule, key in ws.duck().sql(
            f"SELECT rule_id, subject_key FROM findings WHERE chain='promotion' "
            f"AND json_extract_string(facts, '$.platform') = '{platform}'").fetchall():
        out.setdefault(rule, set()).add(key.split(":", 1)[1] if ":" in key else key)
    return out


def test_participants_and_funds_exactly_at_and_just_below(analysed, pyramid, quanmin) -> None:
    ws, _ = analysed
    for p in (pyramid, quanmin):
        f = fired(ws, p.name)
        e = p.edge
        assert e.persons_120 in f["N10-S3"]
        assert e.persons_119 not in f["N10-S3"]
        # 121 accounts of which two are one person: 120 participants, still at the threshold.
        assert e.accounts_121_persons_120 in f["N10-S3"]
        assert e.accounts_121_persons_120 in f["CNT"]
        assert e.stake_300k in f["N10-S2"]
        assert e.stake_300k_minus_1fen not in f["N10-S2"]
        assert e.recruits_minors in f["N10-S7"]
        assert e.persons_119 not in f.get("N10-S7", set())
        # Every agent is an agent (AGT); the edge agents take bets (N10-A).
        assert {e.persons_119, e.stake_300k_minus_1fen} <= f["AGT"] & f["N10-A"]


def test_findings_carry_facts_law_and_evidence(analysed, pyramid) -> None:
    ws, _ = analysed
    rows = ws.duck().sql(
        f"SELECT rule_id, facts, explanation_zh, explanation_en, evidence, rule_version FROM findings "
        f"WHERE chain='promotion' AND subject_key = '{pyramid.name}:{pyramid.edge.stake_300k}' AND rule_id='N10-S2'").fetchall()
    assert len(rows) == 1
    _, facts, zh, en, evidence, version = rows[0]
    facts = json.loads(facts)
    assert facts["metric"] == "downline_funds" and facts["threshold"] == 300000 and facts["value"] == "300000.00"
    assert facts["funds_basis"] == "stake" and "投注金额" in zh
    assert "公通字〔2010〕40号" in zh and "情节严重" in zh and "not a filing threshold" in en
    assert version == "2026.11-1"
    refs = json.loads(evidence)
    assert refs[0]["table"] == "platform_members" and len(refs[0]["file_sha256"]) == 64 and refs[0]["row"] > 1
    # Never call an aggravation threshold a filing standard.
    texts = ws.duck().sql("SELECT explanation_zh FROM findings WHERE chain='promotion'").fetchall()
    assert texts and not any("立案标准" in t for (t,) in texts)


def test_basis_option_is_named_and_changes_the_metric(tmp_path: Path, exports, pyramid) -> None:
    from chainbreaker.chains.promotion.ingest import ingest_platform

    ws = Workspace(tmp_path / "ws")
    ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
    analyze(ws, basis="payout")
    f = fired(ws, pyramid.name)
    # Edge agents' members never win: with winnings as the basis the 300k agent is below.
    assert pyramid.edge.stake_300k not in f.get("N10-S2", set())
    facts = json.loads(ws.duck().sql("SELECT facts FROM findings WHERE rule_id='N10-S2' LIMIT 1").fetchall()[0][0])
    assert facts["funds_basis"] == "payout" and facts["funds_basis_zh"].startswith("派彩")
    run = [r for r in ws.runs() if r["kind"] == "promotion.analyze"][-1]
    assert run["settings"]["basis"] == "payout"


def test_workspace_override_is_used_and_recorded(tmp_path: Path, exports, pyramid) -> None:
    from chainbreaker.chains.promotion.ingest import ingest_platform

    ws = Workspace(tmp_path / "ws")
    ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
    (ws.config_dir / "promotion_thresholds.yaml").write_text(
        "version: 省厅-2026\nrules:\n  N10-S3:\n    value: 119\n", "utf-8")
    analyze(ws)
    assert pyramid.edge.persons_119 in fired(ws, pyramid.name)["N10-S3"]
    run = [r for r in ws.runs() if r["kind"] == "promotion.analyze"][-1]
    used = run["settings"]["thresholds"]
    assert used["rules"]["N10-S3"]["value"] == 119
    assert used["version"] == "2026.11-1+省厅-2026" and used["overrides"]
    assert used["rules"]["OG"]["value"] is None  # 境外赌博 left unset


def test_bad_threshold_file_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "promotion_thresholds.yaml").write_text("rules:\n  N10-S9: {value: 1}\n", "utf-8")
    with pytest.raises(ConfigError, match="N10-S9"):
        load_rules(cfg)
    (cfg / "promotion_thresholds.yaml").write_text("rules:\n  N10-S3: {value: 一百二十}\n", "utf-8")
    with pytest.raises(ConfigError, match="non-negative number"):
        load_rules(cfg)


def test_default_rules_have_sources_and_dates() -> None:
    rules = load_rules()["rules"]
    for rid in ("G05", "N10-A", "N10-S1", "N10-S2", "N10-S3", "N10-S4", "N10-S5", "N10-S6", "N10-S7",
                "N10-H", "CNT", "AMT", "AGT", "OG"):
        assert rules[rid]["source"] and rules[rid]["effective"], rid
    assert all(rules[f"N10-S{i}"]["kind"] == "aggravation" for i in range(1, 8))
    assert rules["OG"]["value"] is None


def test_helper_rule_for_collection_accounts(analysed, pyramid) -> None:
    ws, _ = analysed
    con = ws.duck()
    expected = con.sql(f"SELECT payee_account FROM platform_deposits WHERE ok AND platform='{pyramid.name}' "
                       f"GROUP BY 1 HAVING sum(amount) >= 200000").fetchall()
    got = con.sql(f"SELECT subject_key FROM findings WHERE rule_id='N10-H' "
                  f"AND json_extract_string(facts, '$.platform')='{pyramid.name}'").fetchall()
    assert expected and sorted(got) == sorted(expected)
