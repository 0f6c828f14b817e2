"""``chainbreaker tech scan|captures|findings`` through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chainbreaker.synth.websites import TestSites


@pytest.fixture(scope="module")
def sites():
    s = TestSites(["gambling", "news_crackdown"])
    yield s
    s.close()


def _cli(ws: Path, *args: str, lang: str = "zh") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "-w", str(ws), "--lang", lang, "tech", *args],
                          capture_output=True, text=True, timeout=120)


def test_scan_then_list(sites: TestSites, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text(f"# 待查网站\n{sites.url('news_crackdown')}\n", "utf-8")
    ws = tmp_path / "ws"
    out = _cli(ws, "scan", sites.url("gambling"), sites.url("gambling", "/private/x.html"), "--from-file", str(targets),
               "--delay", "0")
    assert out.returncode == 0, out.stderr
    assert "扫描完成：2 个网址" in out.stdout and "gambling.site" in out.stdout
    assert "因 robots.txt 跳过 1 个网址" in out.stdout
    listed = _cli(ws, "findings", lang="en")
    assert "gambling site" in listed.stdout and sites.host("gambling") in listed.stdout
    assert sites.host("news_crackdown") not in listed.stdout
    caps = _cli(ws, "captures", "--host", sites.host("gambling"), "--limit", "5")
    assert caps.returncode == 0
    assert "baiduspider" in caps.stdout and "news" not in caps.stdout


def test_bad_target_is_a_plain_error(tmp_path: Path) -> None:
    out = _cli(tmp_path / "ws", "scan", "ftp://nothing")
    assert out.returncode == 2
    assert "没有可扫描的网址" in out.stderr and "Traceback" not in out.stderr


def test_page_titles_with_markup_are_printed_as_text(tmp_path: Path) -> None:
    from support.kitserver import RawServer

    title = "澳门新葡京[/bold][red]百家乐 真人视讯"
    page = (f"<html><head><title>{title}</title></head><body>真人视讯 百家乐 电子游艺 老虎机 体育投注 首存送彩金 无限返水"
            "<form><input name='amount'><button>立即存款</button></form></body></html>").encode()
    server = RawServer({"/": (200, {"Content-Type": "text/html; charset=utf-8"}, page)})
    try:
        out = _cli(tmp_path / "ws", "scan", server.url("/"), "--own-sites", "--delay", "0")
    finally:
        server.close()
    assert out.returncode == 0, out.stderr
    assert "gambling.site" in out.stdout and "[/bold][red]百家乐" in out.stdout
    listed = _cli(tmp_path / "ws", "findings")
    assert listed.returncode == 0 and "[/bold][red]百家乐" in listed.stdout
    weird = tmp_path / "a[red]b[i].html"
    weird.write_bytes(page)
    classified = _cli(tmp_path / "ws", "classify", str(weird))
    assert classified.returncode == 0 and "a[red]b[i].html" in classified.stdout, classified.stderr
