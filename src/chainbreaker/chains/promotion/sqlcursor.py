"""The reading position of the streaming dump parser, and what it does with text it cannot parse.

:class:`DumpCursor` holds the text read so far (``buf``), the position and line reached, and the
rules that keep memory bounded and nothing lost: a statement still unfinished after
``MAX_PENDING`` characters is given up; a broken statement is reported as a :class:`DumpProblem`
(cut at the caller's text limit, with its full length) and reading resumes at the next line that
starts a statement, even when that line is in text not read yet.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from chainbreaker.chains.promotion.sqlvalues import DIALECTS

MAX_PENDING = 64 << 20  # characters of one unfinished statement before it is given up as broken
LOOKAHEAD = 256  # characters (or one line) needed before a statement is classified
STATEMENT_KEYWORDS = (r"INSERT|REPLACE|CREATE|DROP|ALTER|LOCK|UNLOCK|SET|USE|GO|EXEC|EXECUTE|COMMENT|COPY|BEGIN|"
                      r"COMMIT|START|DELIMITER|PRAGMA|SELECT|GRANT|TRUNCATE|PRINT|IF|DECLARE|FLUSH|ANALYZE|OPTIMIZE|"
                      r"ROLLBACK|/\*|--|#")
_BOUNDARY = re.compile(rf"\n(?=(?:{STATEMENT_KEYWORDS})(?:\b|\s|$)|/\*|--|#)", re.I)
_DELIMITER_END = re.compile(r"(?im)^DELIMITER[ \t]+;[ \t\r]*$")
_WS = re.compile(r"\s*")


@dataclass
class DumpProblem:
    line: int
    table: str
    message: str
    text: str
    length: int = 0  # characters of the unparsed text before it was cut


def after_ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


@functools.cache
def _end_scanner(dialect: str) -> re.Pattern[str]:
    string = DIALECTS[dialect].string
    return re.compile(rf"{string}|`[^`]*`|\"[^\"]*\"|;|\n(?=(?:{STATEMENT_KEYWORDS})(?:\b|\s|$))", re.I | re.S)


class DumpCursor:
    """Text read so far and the position reached; the base of :class:`~.sqldump.DumpParser`."""

    def __init__(self, on_problem: Callable[[DumpProblem], None], dialect: str | None,
                 text_limit: Callable[[], int], max_pending: int) -> None:
        self.on_problem = on_problem
        self.dialect = dialect
        self.text_limit = text_limit
        self.max_pending = max_pending
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.final = False
        self._skipping: DumpProblem | None = None  # a broken statement whose end is not read yet
        self._delimiter_block = False

    def _short(self, pos: int) -> bool:
        """Too little text after ``pos`` to tell what comes next (not at the end, no line break)."""
        return not self.final and len(self.buf) - pos < LOOKAHEAD and self.buf.find("\n", pos) < 0

    def _advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def _statement_end(self, pos: int) -> int:
        """End of the statement at ``pos`` (after its ``;``, or at the line starting the next one);
        -1 when the text read so far does not hold it."""
        for m in _end_scanner(self.dialect or "mysql").finditer(self.buf, pos):
            t = m.group(0)
            if t == ";":
                return m.end()
            if t == "\n":
                return m.start()
        if self.final:
            return len(self.buf)
        return -1

    def _skip_past(self, marker: str, pos: int) -> bool:
        end = self.buf.find(marker, pos + 1)
        if end < 0:
            if not self.final:
                return self._need(pos)
            end = len(self.buf)
        self._advance(min(len(self.buf), end + len(marker)))
        return True

    def _need(self, pos: int, limit: int | None = None) -> bool:
        """More text is needed for the statement at ``pos``; give it up when it grows too long."""
        if len(self.buf) - pos <= (self.max_pending if limit is None else limit):
            return False
        self._problem(pos, "", "语句过长或未结束（超过上限仍未读到结尾）", self._boundary(pos))
        return True

    def _skip_statement(self, pos: int) -> bool:
        end = self._statement_end(pos)
        self._advance(len(self.buf) if end < 0 else end)
        return True

    def _boundary(self, at: int) -> int:
        """Start of the next line that begins a statement after ``at`` (end of text when final)."""
        nl = self.buf.find("\n", at)
        m = _BOUNDARY.search(self.buf, nl) if nl >= 0 else None
        if m:
            return m.start() + 1
        return len(self.buf) if self.final else -1

    def _problem(self, at: int, table: str, message: str, end: int) -> None:
        """Report the text from ``at`` to ``end`` (or, when ``end`` is -1, to the next statement, which
        may be in text not read yet) and move past it."""
        limit = self.text_limit()
        line = self.line + self.buf.count("\n", self.pos, at)
        self._advance(at)
        if end >= 0:
            text = self.buf[at:end].rstrip()
            self.on_problem(DumpProblem(line, table, message, text[:limit], len(text)))
            self._advance(end)
            return
        keep = max(at, len(self.buf) - 64)  # a boundary may straddle two chunks
        self._skipping = DumpProblem(line, table, message, self.buf[at:keep][:limit], keep - at)
        self._advance(keep)

    def _skip_broken(self) -> bool:
        p = self._skipping
        assert p is not None
        m = _BOUNDARY.search(self.buf, self.pos)
        end = m.start() + 1 if m else (len(self.buf) if self.final else max(self.pos, len(self.buf) - 64))
        piece = self.buf[self.pos:end]
        room = self.text_limit() - len(p.text)
        if room > 0:
            p.text += piece[:room]
        p.length += len(piece)
        self._advance(end)
        if m or self.final:
            self._emit_skipped()
            return True
        return False

    def _emit_skipped(self) -> None:
        p = self._skipping
        self._skipping = None
        if p is not None:
            p.text = p.text.rstrip()
            self.on_problem(p)

    def _skip_delimiter_block(self) -> bool:
        """Skip triggers and procedures written between ``DELIMITER ;;`` and ``DELIMITER ;``."""
        m = _DELIMITER_END.search(self.buf, self.pos)
        if m is None:
            self._advance(len(self.buf) if self.final else max(self.pos, len(self.buf) - 64))
            if self.final:
                self._delimiter_block = False
            return self.final
        self._advance(m.end())
        self._delimiter_block = False
        return True
