"""``funds learn``: features on a planted graph, ranking of planted typologies, label-file errors."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from chainbreaker.chains.funds.features_graph import account_features, cycle_features
from chainbreaker.chains.funds.learn import learn, read_labels
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.schemas import TRANSACTIONS

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def planted_graph(seed: int = 3, n_people: int = 300, n_groups: int = 12) -> tuple[pa.Table, dict[str, str]]:
    """A year of ordinary life with planted fan-in, fan-out and cycle groups.

    Ordinary life repeats (40% of people open their account during the year): monthly salaries from a few employers, rent to landlords, regular shops
    (many repeated small payments: a fan-in look-alike), family transfers back and forth, and a few
    one-off payments to friends. Planted groups use fresh relationships within days: a fan-in
    collector fed once by many payers and emptied to a settlement account, a fan-out distributor,
    and rings of 4-7 accounts passing a similar amount around. Returns transfers and the role of
    every planted account (fan_in, fan_out, cycle, spoke).
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, float, dt.datetime]] = []
    people = [f"P{i:04d}" for i in range(n_people)]
    employers = [f"E{i:02d}" for i in range(8)]
    shops = [f"S{i:02d}" for i in range(25)]
    landlords = [f"L{i:02d}" for i in range(15)]

    def at(day: float) -> dt.datetime:
        return START + dt.timedelta(days=float(day), seconds=int(rng.integers(8 * 3600, 20 * 3600)))

    for person in people:
        employer = employers[rng.integers(len(employers))]
        landlord = landlords[rng.integers(len(landlords))]
        favourite = rng.choice(shops, size=4, replace=False)
        family = people[rng.integers(n_people)]
        salary = float(rng.integers(40, 120)) * 100
        first_month = 0 if rng.random() < 0.6 else int(rng.integers(1, 11))  # new customers join all year
        for month in range(first_month, 12):
            rows.append((employer, person, salary, at(month * 30 + 1)))
            rows.append((person, landlord, round(salary * 0.3, 2), at(month * 30 + 3)))
            for _ in range(rng.integers(3, 7)):
                rows.append((person, str(rng.choice(favourite)), round(float(rng.gamma(2, 60)), 2),
                             at(month * 30 + rng.uniform(0, 29))))
            if rng.random() < 0.5 and family != person:
                rows.append((person, family, float(rng.integers(5, 30)) * 100, at(month * 30 + rng.uniform(0, 29))))
        for _ in range(rng.integers(0, 3)):  # occasional one-off payments to a friend
            friend = people[rng.integers(n_people)]
            if friend != person:
                rows.append((person, friend, round(float(rng.uniform(50, 800)), 2),
                             at(rng.uniform(first_month * 30, 360))))
    for shop in shops:  # shops settle to their owner monthly
        for month in range(12):
            rows.append((shop, f"O{shop}", float(rng.integers(50, 200)) * 100, at(month * 30 + 28)))

    roles: dict[str, str] = {}
    kinds = ["fan_in", "fan_out", "cycle"]
    for g in range(n_groups * len(kinds)):
        kind = kinds[g % len(kinds)]
        day = float(rng.uniform(10, 340))
        if kind == "fan_in":
            hub = f"FI{g:03d}"
            roles[hub] = kind
            payers = rng.choice(people, size=int(rng.integers(8, 16)), replace=False)
            total = 0.0
            for payer in payers:
                amount = round(float(rng.uniform(2000, 9000)), 2)
                total += amount
                rows.append((str(payer), hub, amount, at(day + rng.uniform(0, 3))))
                roles.setdefault(str(payer), "spoke")
            rows.append((hub, f"SETTLE{g:03d}", round(total * 0.98, 2), at(day + 4)))
        elif kind == "fan_out":
            hub = f"FO{g:03d}"
            roles[hub] = kind
            rows.append((f"SRC{g:03d}", hub, float(rng.integers(50, 150)) * 1000, at(day)))
            for payee in rng.choice(people, size=int(rng.integers(8, 16)), replace=False):
                rows.append((hub, str(payee), round(float(rng.uniform(2000, 9000)), 2), at(day + rng.uniform(0, 3))))
                roles.setdefault(str(payee), "spoke")
        else:
            ring = [f"CY{g:03d}{k}" for k in range(int(rng.integers(4, 8)))]
            amount = round(float(rng.uniform(5000, 20000)), 2)
            for k, member in enumerate(ring):
                roles[member] = kind
                rows.append((member, ring[(k + 1) % len(ring)], round(amount * (1 - 0.01 * k), 2),
                             at(day + k * 0.5)))
                # ring members also live a little: a few ordinary payments to shops
                for _ in range(int(rng.integers(1, 4))):
                    rows.append((member, str(rng.choice(shops)), round(float(rng.gamma(2, 60)), 2),
                                 at(rng.uniform(0, 360))))
    rows.sort(key=lambda r: (r[3], r[0], r[1]))
    n = len(rows)
    table = pa.table({
        "txn_id": [f"t{i}" for i in range(n)],
        "from_account": [r[0] for r in rows],
        "to_account": [r[1] for r in rows],
        "amount": pa.array([Decimal(f"{r[2]:.2f}") for r in rows], pa.decimal128(18, 2)),
        "currency": ["CNY"] * n,
        "ts": pa.array([r[3] for r in rows], pa.timestamp("us", tz="UTC")),
        "src_sha256": ["0" * 64] * n,
        "src_file": ["planted.csv"] * n,
        "src_row": pa.array(range(2, n + 2), pa.int64()),
    })
    full = pa.table({f.name: table.column(f.name) if f.name in table.column_names else pa.nulls(n, f.type)
                     for f in TRANSACTIONS}, schema=TRANSACTIONS)
    return full, roles


@pytest.fixture(scope="module")
def planted() -> tuple[pa.Table, dict[str, str]]:
    return planted_graph()


@pytest.fixture()
def planted_ws(ws, planted):
    table, roles = planted
    with ws.transaction("test.load") as tx:
        tx.write("transactions", table)
    return ws, roles


def _write_labels(path: Path, labels: dict[str, int]) -> Path:
    path.write_text("account,label\n" + "".join(f"{a},{v}\n" for a, v in labels.items()), "utf-8")
    return path


def test_planted_typologies_rank_high(planted_ws, tmp_path):
    ws, roles = planted_ws
    planted = sorted(a for a, r in roles.items() if r != "spoke")
    rng = np.random.default_rng(0)
    tx = ws.read_arrow("transactions", ["from_account", "to_account"])
    accounts = set(tx.column("from_account").to_pylist()) | set(tx.column("to_account").to_pylist())
    ordinary = sorted(accounts - set(roles))
    # Analysts confirmed about half of the planted accounts and some ordinary accounts.
    known_pos = set(rng.choice(planted, size=len(planted) // 2, replace=False))
    known_neg = set(rng.choice(ordinary, size=len(ordinary) // 2, replace=False))
    labels = {a: 1 for a in sorted(known_pos)} | {a: 0 for a in sorted(known_neg)}
    report = learn(ws, _write_labels(tmp_path / "labels.csv", labels), seed=0, n_estimators=80)

    assert report.graph.n_test > 0 and report.graph.average_precision >= 0.9
    scores = ws.read_arrow("account_model_scores").to_pandas()
    assert len(scores) == len(accounts) and scores.account.is_unique
    assert {"account", "score", "model_version", "run_id"} <= set(scores.columns)
    # Among accounts nobody labelled (spokes aside), the unseen planted ones come first.
    unseen = scores[scores.label.isna() & ~scores.account.isin([a for a, r in roles.items() if r == "spoke"])]
    unseen = unseen.sort_values("score", ascending=False)
    hidden = set(planted) - known_pos
    top = set(unseen.account[: len(hidden)])
    assert len(top & hidden) / len(hidden) >= 0.8
    assert unseen[unseen.account.isin(hidden)].score.min() > unseen[~unseen.account.isin(hidden)].score.median()

    # Model persisted, parameters in the run log.
    assert report.model_path.exists() and report.model_path.with_suffix(".json").exists()
    run = [r for r in ws.runs() if r["run_id"] == report.run_id][0]
    assert run["settings"]["params"]["n_jobs"] == 2
    assert run["counts"]["graph_model"]["average_precision"] == report.graph.average_precision
    assert json.loads(report.model_path.with_suffix(".json").read_text())["model_version"] == report.model_version


def test_features_see_the_planted_motifs(planted_ws):
    ws, roles = planted_ws
    f = account_features(ws).to_pandas().set_index("account")
    fan_in = [a for a, r in roles.items() if r == "fan_in"]
    fan_out = [a for a, r in roles.items() if r == "fan_out"]
    ring = [a for a, r in roles.items() if r == "cycle"]
    assert (f.loc[fan_in, "in_oneoff"] >= 8).all() and (f.loc[fan_in, "pass_through"] > 0.9).all()
    assert (f.loc[fan_out, "out_oneoff"] >= 8).all()
    assert f.loc[ring, "oneoff_cycle_len"].between(4, 7).all()
    assert (f.loc[ring, "oneoff_scc_size"] == f.loc[ring, "oneoff_cycle_len"]).all()
    # A shop takes many payments from the same customers: a fan-in look-alike with few one-offs.
    assert f.loc["S00", "in_cp"] > 30 and f.loc["S00", "oneoff_in_share"] < 0.5


def test_learn_is_deterministic(planted_ws, tmp_path):
    ws, roles = planted_ws
    planted = sorted(a for a, r in roles.items() if r != "spoke")
    labels = {a: 1 for a in planted[::2]} | {f"P{i:04d}": 0 for i in range(0, 300, 3)}
    path = _write_labels(tmp_path / "l.csv", labels)
    a = learn(ws, path, seed=1, n_estimators=30, compare_baseline=False)
    first = ws.read_arrow("account_model_scores").column("score").to_pylist()
    b = learn(ws, path, seed=1, n_estimators=30, compare_baseline=False)
    assert a.model_version == b.model_version and a.graph == b.graph
    assert ws.read_arrow("account_model_scores").column("score").to_pylist() == first
    assert a.baseline is None


def test_cycle_features_on_a_small_graph():
    pairs = pa.table({"from_account": ["a", "b", "c", "c", "x", "y"], "to_account": ["b", "c", "a", "d", "y", "x"]})
    out = {r["account"]: r for r in cycle_features(pairs).to_pylist()}
    assert out["a"]["oneoff_cycle_len"] == 3 and out["a"]["oneoff_scc_size"] == 3
    assert out["x"]["oneoff_cycle_len"] == 2
    assert out["d"]["oneoff_cycle_len"] is None and out["d"]["oneoff_scc_size"] == 1


# ------------------------------------------------------------------------------ label errors
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "empty"),
        ("acct_no,flag\n1,1\n", "columns present: acct_no, flag"),
        ("account,label\nP0001,1\nP0002,maybe\nP0003,2\n", "line 3: label='maybe'; line 4: label='2'"),
        ("account,label\n,1\n", "line 2: account=''"),
        ("account,label\nP0001,1\nP0001,0\n", "labelled both 1 and 0: P0001"),
    ],
)
def test_bad_label_files(tmp_path, content, needle):
    path = tmp_path / "labels.csv"
    path.write_text(content, "utf-8")
    with pytest.raises(InputError) as err:
        read_labels(path)
    assert needle in err.value.en and err.value.zh


def test_label_file_variants(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes("账号,标签\n 6222000011112222 ,是\n6222000011113333,0\n6222000011113333,0\n".encode("gb18030"))
    frame = read_labels(path)
    assert frame.account.tolist() == ["6222000011112222", "6222000011113333"]
    assert frame.label.tolist() == [1, 0]


def test_learn_rejects_unknown_accounts_and_keeps_workspace(planted_ws, tmp_path):
    ws, _ = planted_ws
    before = ws.tables()
    labels = {f"P{i:04d}": 0 for i in range(10)} | {f"FI{g:03d}": 1 for g in range(0, 12, 3)} | {"NOPE1": 1}
    with pytest.raises(InputError) as err:
        learn(ws, _write_labels(tmp_path / "l.csv", labels))
    assert "NOPE1 (line" in err.value.en and "NOPE1" in err.value.zh
    assert ws.tables() == before and not ws.has_table("account_model_scores")
    with pytest.raises(InputError, match="Too few labels"):
        learn(ws, _write_labels(tmp_path / "l2.csv", {"P0001": 1, "P0002": 0, "P0003": 0, "P0004": 0, "P0005": 0}))
    with pytest.raises(InputError, match="not found"):
        learn(ws, tmp_path / "missing.csv")
    with pytest.raises(InputError, match="--threshold"):
        learn(ws, tmp_path / "missing.csv", threshold=1.5)
    with pytest.raises(InputError, match="--test-size"):
        learn(ws, tmp_path / "missing.csv", test_size=0.95)


def test_learn_needs_transactions(ws, tmp_path):
    with pytest.raises(InputError, match="no transactions"):
        learn(ws, _write_labels(tmp_path / "l.csv", {"a": 1}))


def test_time_split_holds_back_the_newest_accounts(planted_ws, tmp_path):
    ws, roles = planted_ws
    planted = sorted(a for a, r in roles.items() if r != "spoke")
    labels = {a: 1 for a in planted} | {f"P{i:04d}": 0 for i in range(0, 300, 2)}
    report = learn(ws, _write_labels(tmp_path / "l.csv", labels), split="time", n_estimators=40)
    scores = ws.read_arrow("account_model_scores").to_pandas()
    feats = account_features(ws).to_pandas().set_index("account")
    test = scores[scores.split == "test"].account
    train = scores[scores.split == "train"].account
    assert len(test) == report.graph.n_test
    assert feats.loc[test, "first_seen_epoch"].min() >= feats.loc[train, "first_seen_epoch"].max()


@pytest.mark.spark
def test_features_same_on_spark_and_duckdb(ws):
    table, _ = planted_graph(seed=5, n_people=60, n_groups=2)
    with ws.transaction("test.load") as tx:
        tx.write("transactions", table)
    duck = account_features(ws, "duckdb").to_pandas().set_index("account")
    spark = account_features(ws, "spark").to_pandas().set_index("account")
    assert list(spark.index) == list(duck.index) and list(spark.columns) == list(duck.columns)
    for column in duck.columns:
        assert np.allclose(duck[column].astype(float), spark[column].astype(float), rtol=1e-9, equal_nan=True), column
