"""The streaming SQL dump parser: dialects, literals, comments, chunking, broken statements."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.promotion.sqldump import DumpParser, DumpProblem, detect_dialect
from chainbreaker.chains.promotion.sqlvalues import TableDef

DUMPS = Path(__file__).parent / "dumps"
FIXTURES = ["fh_game_mysql.sql", "wh_qp_tsql.sql", "hy_pinyin_gbk.sql", "tw_big5_mysql.sql", "pg_platform_copy.sql"]


def parse(text: str, chunks: list[int] | None = None, dialect: str | None = None, **kw: object
          ) -> tuple[dict[str, list[tuple[int, list[str | None]]]], list[DumpProblem], dict[str, TableDef]]:
    rows: dict[str, list[tuple[int, list[str | None]]]] = {}
    problems: list[DumpProblem] = []

    def on_rows(t: TableDef, cols: list[list[str | None]], lines: list[int], bad: list[bool]) -> None:
        rows.setdefault(t.name, []).extend(zip(lines, [list(r) for r in zip(*cols, strict=True)], strict=True))

    p = DumpParser(on_rows, problems.append, dialect=dialect, **kw)  # type: ignore[arg-type]
    pos = 0
    for size in chunks or [len(text)]:
        p.feed(text[pos:pos + size])
        pos += size
    p.feed(text[pos:])
    p.close()
    return rows, problems, p.tables


def test_mysqldump_with_comments_binary_literals_and_escapes() -> None:
    rows, problems, tables = parse((DUMPS / "fh_game_mysql.sql").read_text("utf-8"))
    assert problems == []  # LOCK TABLES, /*!40101 */, DELIMITER ;; trigger blocks are skipped silently
    user = tables["t_user"]
    assert user.comment == "会员表" and user.comments["pid"] == "推荐人ID（0=无）"
    assert user.comments["remark"] == "备注; 客服填写, 可含(括号)"  # ; , ( ) inside a COMMENT
    assert tables["pay_order"].comments["money"] == "充值金额（单位：分）"
    by_id = {r[0]: r for _, r in rows["t_user"]}
    assert by_id["10001"][8] == "0x9F2A11" and by_id["10002"][8] == "0x0A0B"  # _binary 0x.., X'..'
    assert by_id["10002"][1] == "agent's" and by_id["10002"][3] == "O'Neil"
    assert by_id["10002"][10] == 'a\\b "quoted" (x),y;'
    assert by_id["10003"][4] == "\\N" and by_id["10003"][5] is None  # '\\N' is text, bare \N is NULL
    assert by_id["10003"][10] == "line1\nline2" and by_id["10004"][8] == ""
    assert "login_log" in rows and [line for line, _ in rows["game_record"]] == [72, 72, 72, 73]


def test_sql_server_script_with_extended_properties_and_binary_datetimes() -> None:
    text = (DUMPS / "wh_qp_tsql.sql").read_text("utf-8")
    assert detect_dialect(text) == "tsql"
    rows, problems, tables = parse(text)
    assert problems == []
    acc = tables["AccountsInfo"]
    assert acc.comment == "用户帐号信息" and acc.comments == {"UserID": "用户标识", "SpreaderID": "推广员标识"}
    members = {r[0]: r for _, r in rows["AccountsInfo"]}
    assert members["1"][10] == "2023-01-02T08:00:00.000"  # CAST(N'...' AS DateTime)
    assert members["1"][11] == "2023-01-16 12:00:00.000"  # CAST(0x0000AF8C00C5C100 AS DateTime)
    assert members["2"][2] == "wanjia\\2" and members["2"][3] == "O'Brien"  # backslash is literal in T-SQL
    assert [r[4:7] for _, r in rows["RecordGameBet"]] == [["1000.00", "1950.00", "50.00"], ["500.00", "0.00", "0.00"]]


def test_postgres_copy_blocks_and_comment_on() -> None:
    rows, problems, tables = parse((DUMPS / "pg_platform_copy.sql").read_text("utf-8"))
    assert problems == []
    assert tables["player"].comment == "玩家" and tables["bet_slip"].comments["prize"] == "中奖金额"
    assert [r for _, r in rows["player"]] == [["1", None, "top", "13600000001"], ["2", "1", "it's", None],
                                             ["3", "2", "tab\there", "13600000003"]]
    assert [r[0] for _, r in rows["bet_slip"]] == ["B-1", "B-2", "B-3"]  # COPY rows, then an INSERT


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_chunking_gives_the_same_result(data: st.DataObject) -> None:
    """Chunk boundaries may fall anywhere (inside a string, a keyword, a CRLF): same rows, lines, problems."""
    name = data.draw(st.sampled_from([*FIXTURES, "broken"]))
    text = BROKEN if name == "broken" else (DUMPS / name).read_text("utf-8")
    dialect = detect_dialect(text)
    whole = parse(text, dialect=dialect)
    chunks = data.draw(st.lists(st.integers(1, 400), min_size=1, max_size=60))
    split = parse(text, chunks, dialect=dialect)
    assert split[0] == whole[0]
    assert [(p.line, p.table, p.text) for p in split[1]] == [(p.line, p.table, p.text) for p in whole[1]]


def mysql_literal(value: str) -> str:
    """How mysqldump writes a string (see mysql's escape_string_for_mysql)."""
    out = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return "'" + out.replace("\x00", "\\0").replace("\x1a", "\\Z").replace('"', '\\"') + "'"


TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x2FFFF, blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(st.tuples(TEXT, TEXT | st.none(), st.integers(-10**12, 10**12)), min_size=1, max_size=30),
       st.sampled_from([",", ",\n"]))
def test_mysql_values_round_trip(rows: list[tuple[str, str | None, int]], sep: str) -> None:
    """Random strings (quotes, backslashes, NUL, newlines, Chinese, ``),(``, ``;``) written the way mysqldump
    writes them come back unchanged, on the one-statement fast path and the tuple-per-line path."""
    tuples = [f"({mysql_literal(a)},{'NULL' if b is None else mysql_literal(b)},{n})" for a, b, n in rows]
    text = ("CREATE TABLE `t` (\n  `a` text COMMENT '甲',\n  `b` text,\n  `n` bigint\n);\n"
            f"INSERT INTO `t` VALUES {sep.join(tuples)};\nINSERT INTO `t` (`n`, `a`) VALUES (7, 'x');\n")
    got, problems, _ = parse(text, dialect="mysql")
    assert problems == []
    assert [r for _, r in got["t"]] == [[a, b, str(n)] for a, b, n in rows] + [["x", None, "7"]]


@given(st.lists(TEXT, min_size=1, max_size=10))
def test_tsql_unicode_strings_round_trip(values: list[str]) -> None:
    lines = [f"INSERT [dbo].[t] ([id], [s]) VALUES ({i}, N'{v.replace(chr(39), chr(39) * 2)}')"
             for i, v in enumerate(values)]
    got, problems, _ = parse("CREATE TABLE [dbo].[t]([id] [int], [s] [nvarchar](50)) ON [PRIMARY]\nGO\n"
                             + "\n".join(v for v in lines) + "\nGO\n", dialect="tsql")
    # a raw line break inside N'...' is data in T-SQL; the parser only needs it not to end the statement
    assert problems == [] and [r for _, r in got["t"]] == [[str(i), v] for i, v in enumerate(values)]


BROKEN = """CREATE TABLE `m` (`id` int, `pid` int, `name` varchar(9));
INSERT INTO `m` VALUES (1,NULL,'a'),(2,1,'b');
this is not sql at all
INSERT INTO `m` VALUES (3,1,'c'),(4,1,'unclosed),(5,1,'e');
INSERT INTO `m` VALUES (6,1,NOW()),(7,1,'g');
INSERT INTO `m` SET id=8, pid=1, name='h';
INSERT INTO `m` VALUES (9,1);
INSERT INTO `m` VALUES (10,1,'j');
"""


def test_broken_statements_keep_good_tuples_and_report_the_rest() -> None:
    rows, problems, _ = parse(BROKEN, dialect="mysql")
    assert [r[0] for _, r in rows["m"]] == ["1", "2", "3", "10"]
    assert [(p.line, p.message[:6]) for p in problems] == [
        (3, "无法识别的语句"[:6]), (4, "值无法解析（"), (5, "不支持的表达"), (6, "无法识别的 "), (7, "值的个数 2")]
    assert problems[0].text == "this is not sql at all"
    assert problems[1].text == "(4,1,'unclosed),(5,1,'e');" and "NOW()" in problems[2].text
    assert problems[3].text == "INSERT INTO `m` SET id=8, pid=1, name='h';"


def test_an_endless_statement_is_given_up_within_the_cap() -> None:
    garbage = "INSERT INTO `m` VALUES (1,'" + "x" * 50_000
    text = "CREATE TABLE `m` (`id` int, `s` text);\n" + garbage + "\nINSERT INTO `m` VALUES (2,'ok');\n"
    rows, problems, _ = parse(text, [1000] * 200, dialect="mysql", max_pending=4096, text_limit=lambda: 100)
    assert [r for _, r in rows["m"]] == [["2", "ok"]]
    assert len(problems) == 1 and problems[0].line == 2 and len(problems[0].text) <= 100
    assert problems[0].length >= 50_000  # how long the unparsed text was, though only 100 characters are kept


@pytest.mark.parametrize(("head", "dialect"), [
    ("-- MySQL dump 10.13\n/*!40101 SET NAMES utf8 */;", "mysql"), ("CREATE TABLE `a` (`b` int);", "mysql"),
    ("SET ANSI_NULLS ON\nGO\nCREATE TABLE [dbo].[a]([b] [int])", "tsql"),
    ('PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE "a"(b);', "ansi"),
    ("-- PostgreSQL database dump\nCOPY public.a (b) FROM stdin;\n1\n\\.\n", "ansi"),
])
def test_dialect_detection(head: str, dialect: str) -> None:
    assert detect_dialect(head) == dialect
