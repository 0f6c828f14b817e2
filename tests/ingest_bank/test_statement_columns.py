"""Statement columns made outside the statement query give what the query's SQL gives, row for row."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.funds.bank.normalise import CURRENCY, FileContext, Normaliser
from chainbreaker.chains.funds.bank.sqlparse import connect

CELLS = st.one_of(st.none(), st.sampled_from(["", " ", "|", " | ", "摘要", "转账", "a", "ß", "ǆ"]),
                  st.sampled_from([*CURRENCY, *(f" {k.lower()} " for k in CURRENCY), "usd", "Rmb ", "ﬀ"]),
                  st.text(max_size=4))
FIELDS = ("summary", "remark", "merchant", "currency")


def _normaliser(con, mapped: dict[str, str | None], default: str | None) -> Normaliser:
    mapping = SimpleNamespace(get=mapped.get, values={})
    return Normaliser(con, "statement", mapping, FileContext("x.csv", "0" * 64, None, {}, default))  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS), min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=4, max_size=4), st.sampled_from(["CNY", None]))
def test_summary_and_currency_equal_the_sql(rows, used: list[bool], default: str | None) -> None:
    con = connect()
    names = [f"c{i}" for i in range(4)]
    batch = pa.RecordBatch.from_arrays([pa.array([r[i] for r in rows], pa.string()) for i in range(4)], names=names)
    mapped = {f: (n if u else None) for f, n, u in zip(FIELDS, names, used, strict=True)}
    norm = _normaliser(con, mapped, default)
    con.register("b", pa.Table.from_batches([batch]).append_column("__i", pa.array(range(len(rows)), pa.int64())))
    want = con.sql(f"""SELECT nullif(concat_ws(' | ', {norm.col('summary')}, {norm.col('remark')},
                                               {norm.col('merchant')}), '') AS summary,
                              {norm._currency_sql()} AS currency
                       FROM b ORDER BY __i""").to_arrow_table()
    assert norm._summary(batch).to_pylist() == want.column("summary").to_pylist()
    assert norm._currencies(batch).to_pylist() == want.column("currency").to_pylist()
