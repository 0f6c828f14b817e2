"""The tech demo section scans the loopback test sites and reports every technique found."""

from __future__ import annotations

from pathlib import Path


def test_demo_section(ws, tmp_path: Path) -> None:
    from chainbreaker.faces.reports.demo.tech import run_demo

    out = run_demo(ws, tmp_path, lang="zh")
    assert out["title_zh"] and out["title_en"]
    assert "手法检出：13/13" in out["html"] and "正常网站未误报：5/5" in out["html"]
    assert "<script" not in out["html"] and "src=" not in out["html"] and "href=" not in out["html"]
    assert "inject.hidden_links" in out["html"] and "✘" not in out["html"]
