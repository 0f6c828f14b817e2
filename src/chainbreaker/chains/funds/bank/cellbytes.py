"""A file's cells as bytes (单元格字节): the streams Arrow's CSV reader is served, and decoding
per distinct value, for ``fastcsv.py``.

:class:`Latin1Reader` serves a file's bytes so that Arrow can split them without decoding them;
:func:`decode_values` decodes the values of a column as the whole stream would have decoded them
(see :func:`decoded`). :class:`Utf8Reader` is the old way, decoding the stream as a whole, for the
files where splitting bytes is not the same as splitting text.
"""

from __future__ import annotations

import codecs
import io
from typing import IO, Any

import numpy as np
import pyarrow as pa

from chainbreaker.core.ingest.readers import BAD_BYTES


class _Served(io.RawIOBase):
    """Serves bytes made from ``raw`` chunk by chunk (:meth:`_serve`) to a reader such as Arrow's.

    ``replaced`` is true once any served text may hold U+FFFD (see :class:`Utf8Reader`).
    """

    def __init__(self, raw: IO[bytes] | io.BufferedIOBase, chunk_size: int = 1 << 22) -> None:
        self.raw = raw
        self.chunk_size = chunk_size
        self.buffer = bytearray()
        self.pos = 0
        self.eof = False
        self.replaced = False

    def readable(self) -> bool:
        return True

    def _serve(self, data: bytes) -> None:
        if self.pos:
            del self.buffer[: self.pos]
            self.pos = 0
        self.buffer += data

    def _copy(self, b: Any) -> int:
        n = min(len(b), len(self.buffer) - self.pos)
        with memoryview(self.buffer) as view:
            b[:n] = view[self.pos : self.pos + n]
        self.pos += n
        return n


class Utf8Reader(_Served):
    """Decode ``raw`` with ``encoding`` (bad bytes → U+FFFD) and serve it as UTF-8 bytes.

    ``replaced`` becomes true once any decoded text holds U+FFFD (a replaced byte, or the
    character itself): until then no cell served so far can hold one.
    """

    def __init__(self, raw: IO[bytes] | io.BufferedIOBase, encoding: str, chunk_size: int = 1 << 22) -> None:
        super().__init__(raw, chunk_size)
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def readinto(self, b: Any) -> int:
        while len(self.buffer) - self.pos < len(b) and not self.eof:
            chunk = self.raw.read(self.chunk_size)
            if not chunk:
                self.eof = True
                text = self.decoder.decode(b"", final=True)
            else:
                text = self.decoder.decode(chunk)
            if not self.replaced and BAD_BYTES in text:
                self.replaced = True
            self._serve(text.encode("utf-8"))
        return self._copy(b)


class Latin1Reader(_Served):
    """Serve ``raw`` with every byte of 0x80 or above as the UTF-8 form of its Latin-1 character
    (U+0080–U+00FF): valid UTF-8 whatever the bytes, every byte below 0x80 where it was, undone
    exactly by :func:`file_bytes`. Nothing is decoded here (``replaced`` stays false: the cells
    are decoded per distinct value, :func:`decode_values`, which tells where U+FFFD is)."""

    def readinto(self, b: Any) -> int:
        while len(self.buffer) - self.pos < len(b) and not self.eof:
            chunk = self.raw.read(self.chunk_size)
            if not chunk:
                self.eof = True
            self._serve(chunk if chunk.isascii() else chunk.decode("latin-1").encode("utf-8"))
        return self._copy(b)


def file_bytes(served: str | bytes) -> bytes:
    """The file's bytes behind text served by :class:`Latin1Reader` (or its UTF-8 bytes)."""
    text = served if isinstance(served, str) else served.decode("utf-8")
    return text.encode("latin-1")


def decoded(data: bytes, codec: str) -> str:
    """``data`` decoded as in a stream where a line feed and more bytes follow it.

    The decoders replace a damaged sequence byte by byte when the bytes after it are there to
    show that it is damaged (a GB18030 four-byte sequence needs three after its lead byte): three
    more line feeds make sure they are, and come out as themselves.
    """
    return (data + b"\n\n\n\n").decode(codec, "replace")[:-4]


def one_value(arr: pa.Array) -> bool:
    """Whether every value of a binary array has the same bytes (numpy over offsets and data)."""
    _, offsets, data = arr.buffers()
    ends = np.frombuffer(offsets, np.int32)[arr.offset : arr.offset + len(arr) + 1]
    size = int(ends[1] - ends[0])
    if int(ends[-1] - ends[0]) != size * len(arr) or not bool(np.all(np.diff(ends) == size)):
        return False
    if size == 0:
        return True
    values = np.frombuffer(data, np.uint8)[ends[0] : ends[-1]].reshape(len(arr), size)
    return bool(np.all(values == values[0]))


def repeat_text(value: str | None, n: int) -> pa.Array:
    """``n`` times ``value`` as a string array, built from two buffers (``pa.repeat`` of a string
    scalar costs ~30 ns per value); None gives nulls."""
    if value is None:
        return pa.nulls(n, pa.string())
    data = value.encode("utf-8")
    if len(data) * n >= 2**31:
        return pa.repeat(pa.scalar(value, pa.string()), n)
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(len(data))
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


def is_ascii(arr: pa.Array) -> bool:
    _, offsets, data = arr.buffers()
    if data is None or len(arr) == 0:
        return True
    ends = np.frombuffer(offsets, np.int32)[[arr.offset, arr.offset + len(arr)]]
    values = np.frombuffer(data, np.uint8)[ends[0] : ends[1]]
    return values.size == 0 or int(values.max()) < 0x80


def decode_values(values: pa.Array, codec: str, latin1: bool = True) -> pa.Array:
    """Binary values served by :class:`Latin1Reader` (``latin1``; else the file's own bytes) decoded
    with ``codec`` (bad bytes → U+FFFD), each followed by a line feed as in the file by a delimiter
    or line end (both end any damaged sequence alike): all values in one decode call, split again
    at the line feeds (no character of the result encodes to 0x0A)."""
    _, offsets, data = values.buffers()
    ends = np.frombuffer(offsets, np.int32)[values.offset : values.offset + len(values) + 1]
    served = np.frombuffer(data, np.uint8)[ends[0] : ends[-1]] if data is not None else np.zeros(0, np.uint8)
    joined = np.insert(served, ends[1:] - ends[0], np.uint8(10))  # a line feed after every value
    data = joined.tobytes()
    text = decoded(file_bytes(data) if latin1 else data, codec).encode("utf-8")
    out = np.frombuffer(text, np.uint8)
    feeds = np.flatnonzero(out == 10)
    new_offsets = np.empty(len(values) + 1, np.int32)
    new_offsets[0] = 0
    new_offsets[1:] = feeds - np.arange(len(values))
    return pa.Array.from_buffers(pa.string(), len(values),
                                 [None, pa.py_buffer(new_offsets), pa.py_buffer(out[out != 10])])
