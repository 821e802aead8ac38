"""Streaming readers for ingest inputs: each yields raw records with their location, never the whole file.

A reader yields :class:`RawRecord` (the payload bytes or an already-parsed row, its 1-based line/row
number and byte offset in the decompressed stream) or a :class:`ReadFailure` when the stream itself
breaks (a truncated gzip/zstd file): records read before the break are kept, the break is one reject.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import pyarrow.parquet as pq
import zstandard

from curate.storage import open_binary, relative

READ_CHUNK_BYTES = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"  # dropped from the start of a file, so its first record parses


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One input record: JSON line bytes, a Parquet row (as a dict) or a whole text file's bytes."""

    line: int
    byte_offset: int
    payload: bytes | dict[str, Any]
    name: str | None = None  # file name inside a text directory


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """The stream broke at this point (e.g. truncated gzip); nothing after it could be read."""

    line: int
    byte_offset: int
    reason: str
    message: str


def open_stream(location: str) -> io.BufferedIOBase:
    """Open a (possibly compressed) file or URL as a binary stream of its decompressed bytes."""
    name = location.lower()
    raw = open_binary(location)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if name.endswith(".zst") or name.endswith(".zstd"):
        return io.BufferedReader(_ZstdFrames(raw), READ_CHUNK_BYTES)
    return raw  # type: ignore[return-value]


class _ZstdFrames(io.RawIOBase):
    """Decompressed bytes of a stream of zstd frames; raises EOFError when the input ends inside a frame.

    (zstandard's own ``stream_reader`` ends cleanly on a truncated frame: the lost records went uncounted.)"""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.frame, self.in_frame = raw, zstandard.ZstdDecompressor().decompressobj(), False
        self.pending, self.pos = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.pos >= len(self.pending):
            chunk = self.raw.read(READ_CHUNK_BYTES)
            if not chunk:
                if self.in_frame:
                    raise EOFError("zstd stream ends inside a frame (truncated file)")
                return 0
            self.pending, self.pos = self._decompress(chunk), 0
        n = min(len(buffer), len(self.pending) - self.pos)
        buffer[:n] = self.pending[self.pos : self.pos + n]
        self.pos += n
        return n

    def _decompress(self, chunk: bytes) -> bytes:
        out = []
        while chunk:
            out.append(self.frame.decompress(chunk))
            self.in_frame = not self.frame.eof
            if self.in_frame:
                break
            chunk = self.frame.unused_data
            self.frame = zstandard.ZstdDecompressor().decompressobj()
        return b"".join(out)

    def close(self) -> None:
        self.raw.close()
        super().close()


def iter_jsonl(path: str, start: int = 0, end: int | None = None, first_line: int = 1) -> Iterator[RawRecord | ReadFailure]:
    """Lines of a JSONL file (optionally the byte range [start, end) of a plain file, aligned to lines)."""
    line_no, offset = first_line, start
    try:
        with open_stream(path) as stream:
            if start:
                stream.seek(start)
            for raw in stream:
                if end is not None and offset >= end:
                    return
                yield RawRecord(line_no, offset, raw.removeprefix(UTF8_BOM) if offset == 0 else raw)
                line_no += 1
                offset += len(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error, zstandard.ZstdError, OSError) as exc:
        yield ReadFailure(line_no, offset, "ingest.truncated_stream", f"{type(exc).__name__}: {exc}")


def iter_parquet(path: str, columns: list[str] | None = None, batch_rows: int = 8192) -> Iterator[RawRecord | ReadFailure]:
    """Rows of a Parquet file as dicts, streamed batch by batch (byte_offset is the 0-based row index)."""
    row = 0
    try:
        parquet = pq.ParquetFile(open_binary(path))
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            for record in batch.to_pylist():
                yield RawRecord(row + 1, row, record)
                row += 1
    except (OSError, ValueError) as exc:
        yield ReadFailure(row + 1, row, "ingest.unreadable_parquet", f"{type(exc).__name__}: {exc}")


def iter_text_files(root: str, files: list[str]) -> Iterator[RawRecord]:
    """Whole text files as records, named by their path relative to ``root``."""
    for i, file in enumerate(files):
        with open_binary(file) as f:
            yield RawRecord(i + 1, 0, f.read(), name=relative(file, root))


def line_aligned_ranges(path: str, size: int, split_bytes: int) -> list[tuple[int, int, int]]:
    """Split a plain file of ``size`` bytes into ranges of about ``split_bytes``, each starting a line.

    Returns (start, end, first_line) triples; one pass counting newlines gives exact line numbers.
    """
    if size <= split_bytes:
        return [(0, size, 1)]
    bounds, lines_before = [(0, 1)], 0
    target = split_bytes
    with open_binary(path) as f:
        pos = 0
        while True:
            chunk = f.read(READ_CHUNK_BYTES * 16)
            if not chunk:
                break
            while target < pos + len(chunk) and target < size:
                idx = chunk.find(b"\n", max(target - pos, 0))
                if idx < 0:
                    break
                cut = pos + idx + 1
                if cut < size:
                    bounds.append((cut, lines_before + chunk.count(b"\n", 0, idx + 1) + 1))
                target = max(target + split_bytes, cut + 1)
            lines_before += chunk.count(b"\n")
            pos += len(chunk)
    starts = [b[0] for b in bounds] + [size]
    return [(starts[i], starts[i + 1], bounds[i][1]) for i in range(len(bounds))]
