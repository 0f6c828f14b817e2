"""Domain-name model: features, thresholds, the model trained at set-up, tech_domains, held-out quality."""

from __future__ import annotations

import numpy as np
import pytest

from chainbreaker.chains.tech.domain_model import (
    MODEL_PATH,
    DomainModel,
    classify_file,
    host_features,
    metrics_at,
    read_hosts,
    split_bucket,
    threshold_at_fpr,
)

GAMBLING = ["xpj8888.com", "amjs66.vip", "tyc5577.com", "hg0088.com", "bet365-cn.com", "888casino-asia.com",
            "js9977.net", "pj3344.cc", "bjl888.vip", "hgw9988.com", "ylc6688.com", "vns9999.com"]


@pytest.fixture(scope="module")
def benign(shared_data) -> list[str]:
    """200 hosts spread evenly over the benign list's held-out split, read from ../shared/data at run time
    (never copied here)."""
    hosts, _ = read_hosts(shared_data / "domains" / "benign_train.txt")
    held_out = [h for h in hosts if split_bucket(h) >= 80]
    return held_out[::max(1, len(held_out) // 200)][:200]


def test_features_name_the_tokens_and_shape():
    feats = host_features("m.xpj8888.com")
    assert "tok:xpj" in feats and "tok:888" in feats and "sub:m" in feats and "sfx:com" in feats
    assert "shape:numeric" in host_features("13572468.com")
    assert "shape:repeated_digit" in host_features("hg0088888.com")


def test_split_keeps_an_operator_together():
    assert split_bucket("a.xpj8888.com") == split_bucket("www.xpj8888.com") == split_bucket("xpj8888.com")


def test_threshold_at_fpr_and_metrics():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.95, 0.6, 0.7, 0.8, 0.9, 0.99])
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    thr = threshold_at_fpr(scores, labels, 0.0)
    m = metrics_at(scores, labels, thr)
    assert m["fpr"] == 0.0 and m["recall"] == 0.2 and m["precision"] == 1.0
    m2 = metrics_at(scores, labels, threshold_at_fpr(scores, labels, 0.2))
    assert m2["fpr"] <= 0.2 and m2["recall"] == 1.0


def test_read_hosts_accepts_urls_hosts_lines_and_rejects_junk(tmp_path):
    f = tmp_path / "list.txt"
    f.write_bytes("# feed\nXPJ8888.com\n0.0.0.0 amjs66.vip\nhttps://www.tyc5577.com/reg?a=1\n不是域名\nco\n\n"
                  .encode() + b"\xff\xfe bad\n")
    hosts, rejected = read_hosts(f)
    assert hosts == ["xpj8888.com", "amjs66.vip", "tyc5577.com"]
    assert [line for line, _ in rejected] == [5, 6, 8]


def test_trained_model_ranks_gambling_names_above_benign_ones(domain_model, benign):
    model = DomainModel.load(domain_model)
    g = model.scores(GAMBLING)
    b = model.scores(benign)
    assert np.median(g) > 0.8 and np.median(b) < 0.3
    assert (g >= model.threshold).sum() >= 9 and (b >= model.threshold).mean() <= 0.05
    assert model.meta["trained_on"].startswith("../shared/data/domains")
    top = dict(model.explain("xpj8888.com"))
    assert any(w > 0 for w in top.values())


def test_classify_file_writes_tech_domains_and_quarantines_bad_lines(ws, tmp_path, domain_model, benign):
    f = tmp_path / "feed.txt"
    f.write_text("\n".join(GAMBLING[:5] + benign[:5] + ["not a domain!"]) + "\n", encoding="utf-8")
    result = classify_file(ws, f)
    assert result["hosts"] == 10 and result["rejected"] == 1
    rows = {r["host"]: r for r in ws.read_arrow("tech_domains").to_pylist()}
    model = DomainModel.load(domain_model)
    listed = GAMBLING[:5] + benign[:5]
    assert [rows[h]["is_gambling"] for h in listed] == [bool(x >= model.threshold) for x in model.scores(listed)]
    assert rows["xpj8888.com"]["is_gambling"]
    assert rows["xpj8888.com"]["top_features"] != "[]"
    q = ws.read_arrow("quarantine").to_pylist()
    assert q[0]["row"] == 11 and q[0]["reason_code"] == "invalid_domain"
    # Re-running the same file replaces its rows instead of duplicating them.
    classify_file(ws, f)
    assert ws.read_arrow("tech_domains").num_rows == 10


def test_missing_model_is_a_clear_error(tmp_path):
    from chainbreaker.core.errors import ConfigError

    with pytest.raises(ConfigError):
        DomainModel.load(tmp_path / "none.joblib")


def test_held_out_precision_at_low_fpr(shared_data, domain_model):
    """The committed model on a sample of the held-out split (never trained on)."""
    from chainbreaker.chains.tech.domain_model import load_dataset

    hosts, labels = load_dataset(shared_data / "domains")
    test = [(h, y) for h, y in zip(hosts, labels, strict=True) if split_bucket(h) >= 80][::4]
    model = DomainModel.load(MODEL_PATH)
    scores = model.scores([h for h, _ in test])
    m = metrics_at(scores, np.array([y for _, y in test]), model.thresholds["fpr_0.01"])
    assert m["precision"] >= 0.95 and m["recall"] >= 0.6 and m["fpr"] <= 0.02, m
