"""Over-long lines in text tables (超长行): set aside with their line number, in bounded memory.

A damaged export (a missing line break, binary junk, a file glued to another) can hold one line of
megabytes. Parsers choke on it: Arrow's CSV reader stops the whole file ("straddling object"), the
csv module holds the line in memory and gives up past its field limit. :class:`LineGuard` sits
between the file and the parser: any line longer than ``max_bytes`` is replaced by an empty line
(which both readers skip without shifting the line numbers of the others) and recorded as a
:class:`LongLine` (line number, size, a short preview), so the caller can quarantine it.

The guard works on the file's bytes before decoding. That is safe for UTF-8 and GB18030, where
the byte 0x0A is always a line feed; UTF-16 files are not guarded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

MAX_LINE_BYTES = 1 << 20  # a bank statement row is under 2 KB; a line of a MiB is damage
PREVIEW_BYTES = 200
_CHUNK = 1 << 22


@dataclass(frozen=True)
class LongLine:
    line: int  # 1-based physical line in the file
    size: int  # bytes, line break excluded
    preview: str  # the first bytes, decoded with replacement characters


def guardable(encoding: str) -> bool:
    """Encodings whose line feed is the byte 0x0A and never part of another character."""
    return not encoding.lower().replace("_", "-").startswith("utf-16")


class LineGuard(io.RawIOBase):
    """A binary stream that serves ``raw`` with over-long lines blanked (see the module docstring).

    ``found`` receives a :class:`LongLine` as soon as the guard has read past the line, so it is
    complete for every byte a parser has been served.
    """

    def __init__(self, raw: IO[bytes] | io.BufferedIOBase, encoding: str, found: list[LongLine],
                 max_bytes: int = MAX_LINE_BYTES, chunk_size: int = _CHUNK) -> None:
        self.raw = raw
        self.chunk_size = chunk_size
        self.encoding = encoding
        self.found = found
        self.max = max_bytes
        self.line = 1  # line number of the line being read
        self.pending = bytearray()  # the current line's bytes, held until its length is known
        self.long: tuple[int, int, bytes] | None = None  # (line, size so far, preview) while dropping
        self.out = bytearray()
        self.pos = 0
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while len(self.out) - self.pos < len(b) and not self.eof:
            if self.pos:
                del self.out[: self.pos]
                self.pos = 0
            chunk = self.raw.read(self.chunk_size)
            if chunk:
                self._feed(chunk)
            else:
                self._finish()
        n = min(len(b), len(self.out) - self.pos)
        with memoryview(self.out) as view:
            b[:n] = view[self.pos : self.pos + n]
        self.pos += n
        return n

    # ----------------------------------------------------------------- internals
    def _feed(self, chunk: bytes) -> None:
        if self.long is None and not has_long_line(chunk, len(self.pending), self.max):
            # the usual case: hand over everything up to the last line break, keep the rest
            last = chunk.rfind(b"\n")
            if last >= 0:
                self.out += self.pending
                with memoryview(chunk) as view:
                    self.out += view[: last + 1]
                self.pending = bytearray(chunk[last + 1 :])
                self.line += chunk.count(b"\n")
            else:
                self.pending += chunk
            return
        self._feed_lines(chunk)

    def _feed_lines(self, chunk: bytes) -> None:
        """Line by line: only for chunks that hold (part of) a long line."""
        pos, n = 0, len(chunk)
        while pos < n:
            nl = chunk.find(b"\n", pos)
            end = n if nl < 0 else nl
            if self.long is not None:
                line, size, preview = self.long
                if len(preview) < PREVIEW_BYTES:
                    preview += chunk[pos : min(end, pos + PREVIEW_BYTES - len(preview))]
                self.long = (line, size + end - pos, preview)
            elif len(self.pending) + end - pos > self.max:
                head = bytes(self.pending[:PREVIEW_BYTES]) + chunk[pos : min(end, pos + PREVIEW_BYTES)]
                self.long = (self.line, len(self.pending) + end - pos, head[:PREVIEW_BYTES])
                self.pending.clear()
            else:
                self.pending += chunk[pos:end]
            if nl < 0:
                return
            self._end_line()
            pos = nl + 1

    def _end_line(self) -> None:
        if self.long is not None:
            self._record()
            self.out += b"\n"  # an empty line in its place keeps the other lines' numbers
        else:
            self.out += self.pending
            self.out += b"\n"
            self.pending.clear()
        self.line += 1

    def _record(self) -> None:
        assert self.long is not None
        line, size, preview = self.long
        self.found.append(LongLine(line, size, preview.decode(self.encoding, errors="replace")))
        self.long = None

    def _finish(self) -> None:
        self.eof = True
        if self.long is not None:
            self._record()
        else:
            self.out += self.pending
            self.pending.clear()


Binary = IO[bytes] | io.BufferedIOBase


def guarded(raw: Binary, encoding: str, found: list[LongLine], max_bytes: int | None) -> Binary:
    """``raw`` behind a :class:`LineGuard` (buffered), or ``raw`` itself when there is nothing to guard."""
    if not max_bytes or not guardable(encoding):
        return raw
    return io.BufferedReader(LineGuard(raw, encoding, found, max_bytes), buffer_size=1 << 16)


def has_long_line(chunk: bytes, held: int, limit: int) -> bool:
    """Whether a line that ends in ``chunk`` (``held`` bytes of it before the chunk) is over ``limit`` bytes.

    Jumps from line feed to the last line feed within the next ``limit + 1`` bytes: a few C-level
    searches per chunk instead of a Python step per line (the line guard here and the fast bank
    reader's scan, which decides whether the guard is needed at all).
    """
    last = -held - 1  # where the line feed before the current line would be
    while len(chunk) - last - 1 > limit:
        nxt = chunk.rfind(b"\n", max(last + 1, 0), last + limit + 2)
        if nxt < 0:
            return True
        last = nxt
    return False
