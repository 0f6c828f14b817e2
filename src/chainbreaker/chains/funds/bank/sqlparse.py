"""Vectorised (DuckDB) versions of the value parsers of ``chainbreaker.core.ingest.values``.

Ingest parses millions of amounts and times; doing it row by row in Python costs seconds per
million rows. These macros follow the same rules as ``parse_amount``/``parse_time`` (a test checks
them against each other): amounts lose thousands separators, currency words and symbols,
``(x)`` and a trailing ``-`` mean negative; naive times are wall-clock times of the configured
zone (setting ``timezone``, Asia/Shanghai by default), explicit offsets are honoured, everything
is returned in UTC; an impossible date (2023-02-30) is told apart from text that is not a date.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from chainbreaker.core.ingest.values import cast_offset_time_sql, offset_time_sql
from chainbreaker.core.sql import lit

NAIVE_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y%m%d %H%M%S", "%Y%m%d %H:%M:%S", "%Y-%m-%d %H%M%S",
    "%Y%m%d%H%M%S.%f", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日%H:%M:%S", "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日%H时%M分%S秒", "%Y年%m月%d日 %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d",
    "%Y年%m月%d日",
]
MEMORY_LIMIT = "2GB"  # per DuckDB connection of an ingest run; DuckDB spills to the run's scratch folder
AMOUNT_JUNK = r"[,，\s元¥￥圆RMBCNYrmbcny$]"
# full-width forms in amounts and the ASCII characters cb_amt_text reads them as
FULL_WIDTH_DIGITS = "０１２３４５６７８９．－＋，"
ASCII_DIGITS = "0123456789.-+,"
# the characters that can make cb_amt read an amount as negative: the minus in either form, and the
# "(" of "(12.50)" (cb_amt_clean); a text with none of them is never a negative amount
NEGATIVE_MARKS = "-" + FULL_WIDTH_DIGITS[ASCII_DIGITS.index("-")] + "("
# text that cb_amt_text and cb_amt_clean leave as it is (no junk, no full-width form, no trailing '-')
PLAIN_AMOUNT = r"[-+]?[0-9]+(\.[0-9]*)?"


def _list(items: list[str]) -> str:
    return "[" + ", ".join(lit(f) for f in items) + "]"


def macros(zone: str) -> list[str]:
    """The parsing macros; naive times are wall-clock times of ``zone``."""
    zone_sql = lit(zone)[1:-1]  # the macros hold the quotes: '__ZONE__'
    return [m.replace("__ZONE__", zone_sql) for m in _MACROS]


_MACROS = [
    # amount text with junk removed ('' when nothing is left); each argument is used once so that
    # nested macro expansion stays cheap to plan.
    f"""CREATE OR REPLACE MACRO cb_amt_text(s) AS
        regexp_replace(translate(s, '{FULL_WIDTH_DIGITS}', '{ASCII_DIGITS}'), '{AMOUNT_JUNK}', '', 'g')""",
    # '(12.50)' and '12.50-' are negative
    r"""CREATE OR REPLACE MACRO cb_amt_clean(s) AS regexp_replace(s, '^\(([^()]*)\)$|^([^-].*)-$', '-\1\2')""",
    # DECIMAL(18, 2): values beyond 16 integer digits fail the cast (NULL); fen are rounded.
    # Plain numbers (digits, a sign, a decimal point: what banks export) skip the two regular
    # expressions, which leave such text unchanged anyway: ~10× cheaper per amount.
    f"""CREATE OR REPLACE MACRO cb_amt(s) AS CASE
        WHEN regexp_full_match(s, '{PLAIN_AMOUNT}') THEN TRY_CAST(s AS DECIMAL(18, 2))
        ELSE TRY_CAST(cb_amt_clean(cb_amt_text(s)) AS DECIMAL(18, 2)) END""",
    # 'amount_missing' | 'amount_invalid' | NULL (parsed), given the text and cb_amt(text); a parsed
    # amount never has empty text, so the junk is stripped only from amounts that did not parse
    """CREATE OR REPLACE MACRO cb_amt_why(s, v) AS (
        CASE WHEN s IS NULL THEN 'amount_missing'
             WHEN v IS NOT NULL THEN NULL
             WHEN cb_amt_text(s) = '' THEN 'amount_missing'
             ELSE 'amount_invalid' END)""",
    """CREATE OR REPLACE MACRO cb_amt_reason(s) AS cb_amt_why(s, cb_amt(s))""",
    # explicit offsets (…Z, …+08:00, …+0800) keep them; everything else is wall time of the zone
    f"""CREATE OR REPLACE MACRO cb_ts(s) AS CASE
        WHEN {offset_time_sql('s')} THEN {cast_offset_time_sql('s')}
        ELSE timezone('__ZONE__', try_strptime(s, {_list(NAIVE_FORMATS)})) END""",
    # 'time_missing' | 'time_impossible' | 'time_invalid' | NULL, given the (trimmed) text and
    # cb_ts(text). Like parse_time, the years 1980–2100 are those written in the text (wall-clock
    # time of the zone, or of the text's own offset), not those of the UTC instant: every format
    # starts with the four digits of the year, compared as text (cheaper than year() on a
    # TIMESTAMPTZ, which goes through a calendar). DuckDB's %Y also reads a 3-digit year, which
    # parse_time does not read at all ('time_invalid').
    r"""CREATE OR REPLACE MACRO cb_ts_why(s, ts) AS (
        CASE WHEN s IS NULL THEN 'time_missing'
             WHEN ts IS NULL THEN
                 CASE WHEN regexp_matches(s, '^\d{4}\D{0,2}\d{1,2}\D{0,2}\d{1,2}') THEN 'time_impossible'
                      ELSE 'time_invalid' END
             WHEN left(s, 4) NOT BETWEEN '1980' AND '2100' THEN
                 CASE WHEN regexp_matches(s, '^\d{4}') THEN 'time_impossible' ELSE 'time_invalid' END END)""",
    "CREATE OR REPLACE MACRO cb_ts_reason(s) AS cb_ts_why(s, cb_ts(s))",
    f"""CREATE OR REPLACE MACRO cb_date(s) AS
        CAST(try_strptime(s, {_list(NAIVE_FORMATS)}) AS DATE)""",
]


def connect(temp_directory: Path | None = None, zone: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the parsing macros, answering in UTC.

    ``zone``: how naive source times are read (default: the configured zone, setting ``timezone``).
    """
    from chainbreaker.core.timefmt import zone_name

    con = duckdb.connect()
    if temp_directory is not None:
        con.execute("SET temp_directory = ?", [str(temp_directory)])
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # ingest draws its own (rich) progress bar
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    # Normalisation runs one query per batch of 65,536 rows: too small to gain from parallel
    # workers, which only add contention (measured: ~25% less CPU with one thread).
    con.execute("SET threads = 1")
    for macro in macros(zone or zone_name()):
        con.execute(macro)
    return con
