"""The screen's fixed cost: compact statements, the same values.

At a million transfers the screen spent more time compiling and planning its per-account
statements (Ibis, then DuckDB) than running them; these tests keep the statements small and check
that the compact forms compute exactly what the plain ones did.
"""

from __future__ import annotations

import math

import ibis
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainbreaker.chains.funds import typologies


def _table(values: list[float | None]) -> ibis.Table:
    con = ibis.duckdb.connect()
    con.con.register("v_arrow", pa.table({"x": pa.array(values, pa.float64())}))
    con.raw_sql("CREATE TABLE v AS SELECT * FROM v_arrow")
    return con.table("v")


def _values(expr: ibis.Table) -> list[float | None]:
    return list(expr.to_pyarrow().column("y").to_pylist())


def test_unit_clip_equals_ibis_clip_on_every_kind_of_value() -> None:
    """Nulls stay null, NaN and infinities go where LEAST/GREATEST put them, the rest is clipped."""
    values = [None, math.nan, -math.inf, -1.5, -0.0, 0.0, 1e-12, 0.3, 1.0, 1.0000001, 2.5, math.inf]
    t = _table(values)
    plain = _values(t.select(y=t.x.clip(0.0, 1.0)))
    compact = _values(t.select(y=typologies.unit_clip(t.x)))
    assert len(plain) == len(compact) == len(values)
    for a, b in zip(plain, compact, strict=True):
        assert (a is None and b is None) or (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@pytest.mark.parametrize(("lo", "hi"), [(0.2, 0.7), (1, 5), (-3, 3)])
def test_ramp_keeps_its_values(lo: float, hi: float) -> None:
    t = _table([None, -10, 0, 0.2, 0.45, 0.7, 1, 3, 4.9, 7])
    plain = _values(t.select(y=((t.x.cast("float64") - lo) / (hi - lo)).clip(0.0, 1.0)))
    assert _values(t.select(y=typologies.ramp(t.x, lo, hi))) == plain


def test_signal_statements_stay_small(screened, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core signals compile to SQL about half the size Ibis's nested clip gives (12.8 kB against 23.3 kB here)."""
    from chainbreaker.chains.funds.rules import load_rules
    from chainbreaker.core.engine import Engine

    ws, _ = screened
    eng = Engine(ws)
    p = load_rules(None, ws.config_dir).params
    features = eng.table("funds_features")  # every feature column, in yuan: the same SQL shape
    for name in typologies.MONEY_FEN:
        if name.removesuffix("_fen") in features.columns:
            features = features.mutate(**{name: features[name.removesuffix("_fen")].cast("int64")})
    compact = str(eng.con.compile(typologies.core_signals(features, p)))
    monkeypatch.setattr(typologies, "unit_clip", lambda y: y.clip(0.0, 1.0))
    plain = str(eng.con.compile(typologies.core_signals(features, p)))
    assert len(compact) < 0.6 * len(plain), (len(compact), len(plain))


def test_sorted_event_keys_are_those_of_order_by() -> None:
    """numpy's sort of the event keys gives DuckDB's ORDER BY: the same keys, each with its own amount."""
    import random

    import duckdb
    import numpy as np

    r = random.Random(3)
    n = 5000
    tr = pa.table({"fa": [r.randrange(40) for _ in range(n)], "ta": [r.randrange(40) for _ in range(n)],
                   "fen": [r.randrange(1, 10**9) for _ in range(n)],
                   "ep": [1_780_000_000 + r.randrange(300) * 60 for _ in range(n)]})  # many equal keys
    con = duckdb.connect()
    con.register("tr", tr)
    unsorted = con.sql("""SELECT (ta << 34) | (ep << 1) AS k, fen FROM tr
                          UNION ALL SELECT (fa << 34) | (ep << 1) | 1, fen FROM tr""").fetchnumpy()
    k, fen = typologies._sort_keys(unsorted)
    ref = con.sql("""SELECT k, fen FROM (SELECT (ta << 34) | (ep << 1) AS k, fen FROM tr
                     UNION ALL SELECT (fa << 34) | (ep << 1) | 1, fen FROM tr) ORDER BY k, fen""").fetchnumpy()
    assert np.array_equal(k, ref["k"])
    # within equal keys the amounts may come in any order (every fact sums them): compare per key
    assert sorted(zip(k.tolist(), fen.tolist(), strict=True)) == list(zip(ref["k"].tolist(), ref["fen"].tolist(), strict=True))


def test_signals_and_scores_compile_from_few_projection_layers() -> None:
    """Each projection layer costs Ibis a rewrite of every column (~65) when compiling: the core
    signals are one layer over the features, the final score few over the signals (was 3 and 16)."""
    import ibis.expr.operations as ops

    from chainbreaker.chains.funds.rules import load_rules

    p = load_rules().params
    ints = [*typologies.FACT_COLUMNS, "n_payers", "n_payees", "top_payer_amt_fen", "top_payee_amt_fen",
            "pool_holders", "loop_partner", "loop_partners", "n_before"]
    features = ibis.table({**dict.fromkeys(ints, "int64"), "max_gap_days": "float64", "fast_gap_min": "float64",
                           "pool_device": "string"}, name="features")
    signals = typologies.core_signals(features, p)
    pairs = ibis.table(dict.fromkeys(("fa", "ta", "amt", "n", "first", "last"), "int64"), name="pairs")
    codes = ibis.table({"account": "string", "aid": "int64"}, name="codes")
    scored = typologies.score_accounts(signals, p, pairs, codes)
    assert len(signals.op().find(ops.Project)) == 1
    assert len(scored.op().find(ops.Project)) <= 10


@given(st.lists(st.tuples(st.integers(0, (1 << 29) - 1), st.integers(0, (1 << 33) - 2), st.booleans(),
                          st.integers(-(10**12), 10**12)), min_size=1, max_size=300),
       st.integers(0, 3))
def test_sorting_keys_with_their_position_packed_gives_argsorts_order(rows, narrow) -> None:
    """The packed sort (key and position in one integer) sorts as argsort does, each key with its own amount;
    keys too wide to pack with their position are argsorted."""
    import numpy as np

    if narrow:  # few accounts and a short span: the packed path
        rows = [(a % (8 << narrow), 1_780_000_000 + e % (1 << (10 * narrow)), o, f) for a, e, o, f in rows]
    k = np.array([(a << 34) | (e << 1) | int(o) for a, e, o, _ in rows], dtype=np.int64)
    fen = np.array([f for *_, f in rows], dtype=np.int64)
    packed = typologies._sort_packed(k)
    if narrow:
        assert packed is not None
    if packed is not None:
        k_sorted, order = packed
        assert np.array_equal(k_sorted, np.sort(k)) and np.array_equal(k[order], k_sorted)
        assert sorted(order.tolist()) == list(range(len(k)))
    ks, fs = typologies._sort_keys({"k": k, "fen": fen})
    ref = np.argsort(k, kind="stable")
    assert np.array_equal(ks, k[ref])
    assert sorted(zip(ks.tolist(), fs.tolist(), strict=True)) == sorted(zip(k[ref].tolist(), fen[ref].tolist(), strict=True))
