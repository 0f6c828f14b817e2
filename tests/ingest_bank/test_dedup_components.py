"""De-duplication components (``dedup.components``): legs sharing a key are one transfer, however
long the chain, and a stored transfer's id wins (docs/ingest-bank.md, De-duplication)."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from chainbreaker.chains.funds.bank.dedup import _transfers, components, connected


def _reference(k_time: list[str], k_serial: list[str | None],
               stored: list[tuple[int, str | None, str | None]]) -> tuple[list[str], list[int], dict[str, str], set[str]]:
    """Union-find over legs, keys and stored ids, written the plain way."""
    parent: dict[object, object] = {}

    def find(x: object) -> object:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: object, b: object) -> None:
        parent[find(a)] = find(b)

    for i, (t, s) in enumerate(zip(k_time, k_serial, strict=True)):
        union(("leg", i), ("t", t))
        if s is not None:
            union(("leg", i), ("s", s))
    for pos, ex_s, ex_t in stored:
        for ex in (ex_s, ex_t):
            if ex is not None:
                union(("leg", pos), ("ex", ex))
    groups: dict[object, list[int]] = {}
    for i in range(len(k_time)):
        groups.setdefault(find(("leg", i)), []).append(i)
    ex_of: dict[object, set[str]] = {}
    for pos, ex_s, ex_t in stored:
        for ex in (ex_s, ex_t):
            if ex is not None:
                ex_of.setdefault(find(("leg", pos)), set()).add(ex)
    txn = [""] * len(k_time)
    n_legs = [0] * len(k_time)
    absorbed: dict[str, str] = {}
    touched: set[str] = set()
    for root, legs in groups.items():
        exs = ex_of.get(root)
        name = min(exs) if exs else min(k_time[i] for i in legs)
        if exs:
            touched.add(name)
            absorbed.update({e: name for e in exs if e != name})
        for i in legs:
            txn[i], n_legs[i] = name, len(legs)
    return txn, n_legs, absorbed, touched


def _run(k_time: list[str], k_serial: list[str | None], stored: list[tuple[int, str | None, str | None]] | None = None):
    table = None
    if stored:
        table = pa.table({"pos": pa.array([p for p, _, _ in stored], pa.int64()),
                          "ex_serial": pa.array([s for _, s, _ in stored], pa.string()),
                          "ex_time": pa.array([t for _, _, t in stored], pa.string())})
    txn, n_legs, absorbed, touched = components(pa.array(k_time, pa.string()), pa.array(k_serial, pa.string()), table)
    return txn.to_pylist(), n_legs.tolist(), absorbed, touched


def test_the_two_sides_of_a_transfer_are_one_and_identical_payments_stay_apart() -> None:
    txn, n_legs, absorbed, touched = _run(["t2", "t2", "t1", "t3"], ["s1", None, None, "s9"])
    assert txn == ["t2", "t2", "t1", "t3"]
    assert n_legs == [2, 2, 1, 1]
    assert absorbed == {} and touched == set()


def test_a_chain_longer_than_any_iteration_limit_is_one_transfer() -> None:
    # leg i shares k_time with leg i+1 when i is even and k_serial when i is odd: a path of 301 legs
    n = 301
    k_time = [f"t{(i + 1) // 2:05d}" for i in range(n)]
    k_serial = [f"s{i // 2:05d}" for i in range(n)]
    txn, n_legs, _, _ = _run(k_time, k_serial)
    assert set(txn) == {"t00000"}
    assert set(n_legs) == {n}


def test_a_stored_transfer_keeps_its_id_and_absorbs_the_other_it_is_bridged_to() -> None:
    # leg 0 matches stored "x9" by serial, leg 1 matches stored "x1" by time, and they share a k_time
    txn, n_legs, absorbed, touched = _run(["t5", "t5", "t7"], [None, None, None], [(0, "x9", None), (1, None, "x1")])
    assert txn == ["x1", "x1", "t7"]
    assert n_legs == [2, 2, 1]
    assert absorbed == {"x9": "x1"} and touched == {"x1"}


def test_random_key_graphs_match_a_plain_union_find() -> None:
    rng = random.Random(15)
    for _ in range(200):
        n = rng.randint(1, 60)
        k_time = [f"t{rng.randint(0, n)}" for _ in range(n)]
        k_serial = [None if rng.random() < 0.4 else f"s{rng.randint(0, n)}" for _ in range(n)]
        stored = [(rng.randrange(n), None if rng.random() < 0.5 else f"x{rng.randint(0, 5)}",
                   None if rng.random() < 0.5 else f"x{rng.randint(0, 5)}") for _ in range(rng.randint(0, 4))]
        stored = [s for s in stored if s[1] is not None or s[2] is not None]
        assert _run(k_time, k_serial, stored) == _reference(k_time, k_serial, stored)


def test_transfers_counted_from_component_sizes_equal_distinct_ids() -> None:
    """``assign_transfers`` counts new transfers from the component sizes when nothing is stored."""
    rng = random.Random(16)
    for _ in range(200):
        n = rng.randint(1, 80)
        k_time = pa.array([f"t{rng.randint(0, n)}" for _ in range(n)], pa.string())
        k_serial = pa.array([None if rng.random() < 0.4 else f"s{rng.randint(0, n)}" for _ in range(n)], pa.string())
        txn, n_legs, _, _ = components(k_time, k_serial)
        assert _transfers(txn, n_legs, stored=False) == pc.count_distinct(txn).as_py() == _transfers(txn, n_legs, True)


def test_vectorised_union_find_on_long_shuffled_chains_and_random_graphs() -> None:
    """``connected`` (no scipy) gives the partition of a plain union-find, also for a chain of 5,000
    nodes numbered at random (the worst order for hooking by smaller root)."""
    rng = random.Random(7)
    for n, n_edges, path in [(5000, 0, True), (300, 200, False), (300, 400, False), (50, 10, False)]:
        nodes = list(range(n))
        rng.shuffle(nodes)
        edges = list(zip(nodes, nodes[1:], strict=False)) if path else \
            [(rng.randrange(n), rng.randrange(n)) for _ in range(n_edges)]
        parent = list(range(n))

        def find(x: int, parent: list[int] = parent) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in edges:
            parent[find(a)] = find(b)
        expected = {frozenset(i for i in range(n) if find(i) == r) for r in {find(i) for i in range(n)}}
        u = np.array([a for a, _ in edges], np.int64)
        v = np.array([b for _, b in edges], np.int64)
        n_comp, label = connected(n, u, v)
        got = {frozenset(np.nonzero(label == c)[0].tolist()) for c in range(n_comp)}
        assert got == expected


@pytest.mark.parametrize("one_number", [True, False], ids=["codes as one number", "five sort keys"])
def test_keys_of_one_file_equal_the_keys_computed_over_all_legs(one_number: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """``leg_keys`` (occurrences by one numpy sort, per file) gives the keys of the window query
    over all legs: repeated payments in one second, null counterparties and serials, rows out of order;
    with the four columns' codes as one number, and without (when it would not fit in 63 bits)."""
    import datetime as dt
    from decimal import Decimal

    from chainbreaker.chains.funds.bank import dedup
    from chainbreaker.chains.funds.bank.dedup import keys_sql, leg_keys, occurrences
    from chainbreaker.chains.funds.bank.sqlparse import connect

    if not one_number:
        monkeypatch.setattr(dedup, "_one_code", lambda parts: None)

    rng = random.Random(3)
    n = 2000
    base = dt.datetime(2023, 3, 1, tzinfo=dt.UTC)
    rows = list(range(2, n + 2))
    rng.shuffle(rows)
    legs = pa.table({
        "serial_no": [None if rng.random() < 0.3 else f"SN{rng.randint(0, 50)}" for _ in range(n)],
        "from_account": [None if rng.random() < 0.1 else f"62{rng.randint(0, 3)}" for _ in range(n)],
        "to_account": [None if rng.random() < 0.1 else f"62{rng.randint(0, 3)}" for _ in range(n)],
        "amount": pa.array([Decimal(rng.choice(["100.00", "0.50", "100.50"])) for _ in range(n)], pa.decimal128(18, 2)),
        "ts": pa.array([base + dt.timedelta(seconds=rng.randint(0, 3), hours=rng.choice([0, 16]))
                        for _ in range(n)], pa.timestamp("us", tz="UTC")),
        "src_sha256": ["f" * 64] * n,
        "src_row": pa.array(rows, pa.int64()),
    })
    con = connect()
    got = leg_keys(con, legs)
    con.register("legs", legs.append_column("__pos", pa.array(np.arange(n, dtype=np.int64))))
    expected = con.sql(f"SELECT k_serial, k_time FROM ({keys_sql('legs')}) ORDER BY lid").to_arrow_table()
    assert got.column("k_time").to_pylist() == expected.column("k_time").to_pylist()
    assert got.column("k_serial").to_pylist() == expected.column("k_serial").to_pylist()
    assert occurrences(legs).max() > 3  # the same payment repeated in one second: occurrences were needed


def test_local_date_of_the_serial_key_equals_the_time_zone_conversion() -> None:
    """``dedup.LOCAL_DATE`` (UTC+8 arithmetic since 1992) gives the date of ICU's Asia/Shanghai
    conversion for any instant: around local midnight, across China's daylight saving years
    (1986–1991) and the switch to arithmetic, far past and future, and null."""
    import datetime as dt

    from chainbreaker.chains.funds.bank.dedup import LOCAL_DATE
    from chainbreaker.chains.funds.bank.sqlparse import connect

    rng = random.Random(11)
    instants: list[dt.datetime | None] = [None]
    for year in (1900, 1940, 1970, 1986, 1988, 1991, 1992, 2000, 2023, 2024, 2099):
        for _ in range(300):
            day = dt.datetime(year, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=rng.randint(0, 364))
            # near 16:00 UTC (local midnight at +8) and 15:00 (midnight at +9, daylight saving)
            instants.append(day + dt.timedelta(hours=rng.choice([15, 16]), microseconds=rng.randint(-3_600_000_000, 3_600_000_000)))
    boundary = dt.datetime(1992, 1, 1, tzinfo=dt.UTC)
    instants += [boundary + dt.timedelta(microseconds=d) for d in (-1, 0, 1)]
    con = connect()
    con.register("t", pa.table({"ts": pa.array(instants, pa.timestamp("us", tz="UTC"))}))
    rows = con.sql(f"""SELECT {LOCAL_DATE} AS got,
                              CAST(CAST(timezone('Asia/Shanghai', ts) AS DATE) AS VARCHAR) AS expected FROM t""").fetchall()
    assert rows[0] == (None, None)
    assert [g for g, _ in rows] == [e for _, e in rows]
