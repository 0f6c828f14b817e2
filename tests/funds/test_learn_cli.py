"""``chainbreaker funds learn`` through the real CLI, and screening facts as model inputs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chainbreaker.chains.funds.features_graph import account_features
from chainbreaker.core.errors import InputError
from chainbreaker.faces.cli.main import app

from .test_learn import planted_graph


def test_learn_command(tmp_path: Path) -> None:
    from chainbreaker.core.workspace import Workspace

    table, roles = planted_graph(seed=11, n_people=150, n_groups=8)
    ws = Workspace(tmp_path / "ws")
    with ws.transaction("test.load") as tx:
        tx.write("transactions", table)
    planted = sorted(a for a, r in roles.items() if r != "spoke")
    labels = tmp_path / "labels.csv"
    labels.write_text("account,label\n" + "".join(f"{a},1\n" for a in planted[::2])
                      + "".join(f"P{i:04d},0\n" for i in range(0, 150, 2)), "utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["--workspace", str(ws.root), "funds", "learn", "--labels", str(labels),
                                 "--trees", "40", "--top", "5"])
    assert result.exit_code == 0, result.output
    assert "平均精确率" in result.output and "基线" in result.output and "account_model_scores" in result.output
    assert ws.read_arrow("account_model_scores").num_rows > 150
    result = runner.invoke(app, ["--workspace", str(ws.root), "--lang", "en", "funds", "learn",
                                 "--labels", str(tmp_path / "missing.csv")])
    # The entry point prints ChainbreakerErrors without a traceback; here the runner hands it back.
    assert result.exit_code != 0 and isinstance(result.exception, InputError)
    assert "Labels file not found" in result.exception.en and "找不到标签文件" in result.exception.zh


def test_screening_facts_become_features(screened) -> None:
    ws, _ = screened
    feats = account_features(ws)
    scr = [c for c in feats.column_names if c.startswith("scr_")]
    risk = [c for c in feats.column_names if c.startswith("risk_")]
    assert scr and "risk_score" in risk
    without = account_features(ws, use_screening=False)
    assert without.num_rows == feats.num_rows and not any(c.startswith(("scr_", "risk_")) for c in without.column_names)
