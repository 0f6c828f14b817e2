"""The intel commands through the real CLI: classify, train-pages, domains classify, clusters, blocklist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from chainbreaker.faces.cli.main import app

PAGES = Path(__file__).parent / "pages"


def run(ws_path: Path, *args: str):
    result = CliRunner().invoke(app, ["--workspace", str(ws_path), *args])
    return result


def test_classify_prints_verdicts_and_reasons(tmp_path):
    r = run(tmp_path / "ws", "tech", "classify", str(PAGES / "gambling_casino.html"), str(PAGES / "honest_police.html"))
    assert r.exit_code == 0, r.output
    assert "赌博" in r.output and "非赌博" in r.output and "降低得分的语境" in r.output
    r = run(tmp_path / "ws", "--lang", "en", "tech", "classify", "--json", str(PAGES / "honest_welfare_lottery.html"))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["is_gambling"] is False


def test_train_pages_then_classify_blends_the_model(tmp_path):
    data = tmp_path / "labelled"
    data.mkdir()
    rows = ["file,label"]
    for page in sorted(PAGES.glob("*.html")):
        shutil.copy(page, data / page.name)
        rows.append(f"{page.name},{'gambling' if page.name.startswith('gambling') else 'benign'}")
    # A few more labelled texts, as an analyst would add from captures.
    labels = data / "labels.csv"
    labels.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = run(tmp_path / "ws", "tech", "train-pages", "--labels", str(labels))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "ws" / "config" / "models" / "page_model.joblib").exists()
    r = run(tmp_path / "ws", "tech", "classify", "--json", str(PAGES / "gambling_sports.html"))
    out = json.loads(r.output)
    assert out["model_score"] is not None and out["model_score"] > 0.5 and out["is_gambling"]
    assert any(x["feature"].startswith("model:") for x in out["reasons"])
    from chainbreaker.chains.tech import page_model

    page_model.use_page_model(None)  # do not leak the model into other tests


def test_train_pages_bad_labels_is_a_clear_error(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("text,label\n百家乐,maybe\n", encoding="utf-8")
    r = run(tmp_path / "ws", "tech", "train-pages", "--labels", str(labels))
    assert r.exit_code != 0
    assert "maybe" in str(r.exception) or "maybe" in r.output


def test_domains_classify_clusters_blocklist(tmp_path, domain_model):
    feed = tmp_path / "feed.txt"
    feed.write_text("xpj8888.com\namjs66.vip\nlibrary.example.org\n", encoding="utf-8")
    r = run(tmp_path / "ws", "tech", "domains", "classify", str(feed))
    assert r.exit_code == 0, r.output
    assert "tech_domains" in r.output
    out = tmp_path / "bl.rpz"
    r = run(tmp_path / "ws", "tech", "blocklist", "--format", "rpz", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "xpj8888.com CNAME ." in out.read_text() and "library.example.org" not in out.read_text()
    r = run(tmp_path / "ws", "tech", "clusters")
    assert r.exit_code != 0  # no scan results yet: a clear error, not a traceback


def test_train_pages_from_scanned_urls(ws):
    """After a scan the analyst labels URLs only; the captures come from the evidence store."""
    import pyarrow as pa

    from chainbreaker.chains.tech.page_model import read_labels

    rows = []
    for page in sorted(PAGES.glob("*.html")):
        sha = ws.store_evidence_bytes(page.read_bytes())
        rows.append({"host": "127.0.0.1", "url": f"http://127.0.0.1/{page.name}", "persona": "desktop",
                     "capture_sha256": sha, "run_id": "r1"})
    with ws.transaction("test.scan") as tx:
        tx.write("tech_pages", pa.Table.from_pylist(rows))
    labels = ws.root / "labels.csv"
    labels.write_text("url,label\nhttp://127.0.0.1/gambling_sports.html,1\nhttp://127.0.0.1/honest_news.html,0\n",
                      encoding="utf-8")
    pages = read_labels(labels, ws)
    assert [p.label for p in pages] == [1, 0] and "皇冠体育" in pages[0].html
    missing = ws.root / "missing.csv"
    missing.write_text("url,label\nhttp://127.0.0.1/never-scanned.html,1\n", encoding="utf-8")
    import pytest

    from chainbreaker.core.errors import InputError

    with pytest.raises(InputError):
        read_labels(missing, ws)
