"""Streaming readers for ingest inputs: each yields raw records with their location, never the whole file.

A reader yields :class:`RawRecord` (the payload bytes or an already-parsed row, its 1-based line/row
number and byte offset in the decompressed stream) or a :class:`ReadFailure` when the stream itself
breaks (a truncated gzip/zstd file): records read before the break are kept, the break is one reject.
A file that cannot be read at all (unreadable, gone since planning, a broken or looping link, a FIFO,
socket or device) is one :class:`ReadFailure` too (:func:`open_input`), and never blocks the run.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from curate.core import storage
from curate.core.storage import relative

READ_CHUNK_BYTES = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"  # dropped from the start of a file, so its first record parses


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One input record: JSON line bytes, a Parquet row (as a dict) or a whole text file's bytes."""

    line: int
    byte_offset: int
    payload: bytes | dict[str, Any]
    name: str | None = None  # file name inside a text directory
    invalid_utf8: str | None = None  # the Parquet column of this row holding a value that is not UTF-8


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """The stream broke at this point (e.g. truncated gzip); nothing after it could be read."""

    line: int
    byte_offset: int
    reason: str
    message: str
    name: str | None = None  # file name inside a text directory


class UnusableFile(Exception):
    """An input that cannot be read as a file: ``reason`` (``ingest.*``) and a message naming its path."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


FILE_KINDS = ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
              (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


def _not_regular(path: str, mode: int) -> UnusableFile:
    kind = next((name for test, name in FILE_KINDS if test(mode)), "special file")
    return UnusableFile("ingest.not_a_regular_file", f"{path} is a {kind}, not a regular file")


def _open_failure(path: str, err: OSError) -> UnusableFile:
    """Why a local file did not open: a link leading nowhere, gone, not a file, or unreadable."""
    if err.errno == errno.ELOOP or (err.errno == errno.ENOENT and os.path.lexists(path)):
        return UnusableFile("ingest.broken_link", f"{path}: a symbolic link that leads to no file ({err.strerror})")
    if err.errno == errno.ENOENT:
        return UnusableFile("ingest.vanished_file", f"{path}: no longer exists (removed after the inputs were listed)")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):  # e.g. a socket, which does not open at all
        return _not_regular(path, mode)
    return UnusableFile("ingest.unreadable_file", f"{path}: cannot be read ({err.strerror})")


def open_input(location: str) -> IO[bytes]:
    """An input file's raw bytes; anything but a regular file is refused, without blocking.

    Opening a FIFO for reading waits for a writer (forever), so local files are opened non-blocking and
    checked with ``fstat`` before a byte is read; the check and the read see the same file."""
    if storage.is_remote(location):
        try:
            return storage.open_binary(location)
        except FileNotFoundError:
            raise UnusableFile("ingest.vanished_file", f"{location}: no longer exists") from None
        except OSError as err:
            raise UnusableFile("ingest.unreadable_file", f"{location}: cannot be read ({err})") from None
    path = location.removeprefix("file://")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise _open_failure(path, err) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(path, mode)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def open_stream(location: str) -> io.BufferedIOBase:
    """Open a (possibly compressed) file or URL as a binary stream of its decompressed bytes."""
    name = location.lower()
    raw = open_input(location)
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
        opened = open_stream(path)
    except UnusableFile as bad:
        yield ReadFailure(line_no, offset, bad.reason, bad.message)
        return
    try:
        with opened as stream:
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
    """Rows of a Parquet file as dicts, streamed batch by batch (byte_offset is the 0-based row index).

    A string value that is not UTF-8 spoils only its row (:func:`_batch_rows`), not the file."""
    row = 0
    try:
        with open_input(path) as raw:
            parquet = pq.ParquetFile(raw)
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
                for record, invalid in _batch_rows(batch):
                    yield RawRecord(row + 1, row, record, invalid_utf8=invalid)
                    row += 1
    except UnusableFile as bad:
        yield ReadFailure(row + 1, row, bad.reason, bad.message)
    except (OSError, ValueError) as exc:
        yield ReadFailure(row + 1, row, "ingest.unreadable_parquet", f"{type(exc).__name__}: {exc}")


def _batch_rows(batch: pa.RecordBatch) -> list[tuple[dict[str, Any], str | None]]:
    """A batch's rows as dicts, each with the first column whose value in that row is not valid UTF-8.

    Arrow does not check string columns when it reads Parquet; the check happens when a value becomes a
    Python ``str``. Only a column that fails is converted value by value, its bad values kept as bytes."""
    try:
        return [(record, None) for record in batch.to_pylist()]
    except UnicodeDecodeError:
        pass
    columns: dict[str, list[Any]] = {}
    invalid: list[str | None] = [None] * batch.num_rows
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            columns[name] = column.to_pylist()
            continue
        except UnicodeDecodeError:
            columns[name] = []
        for i in range(len(column)):
            try:
                columns[name].append(column[i].as_py())
            except UnicodeDecodeError:
                columns[name].append(_as_bytes(column[i]))
                invalid[i] = invalid[i] or name
    return [({name: values[i] for name, values in columns.items()}, invalid[i]) for i in range(batch.num_rows)]


def _as_bytes(value: pa.Scalar) -> bytes | str:
    """A string value that is not UTF-8, as its bytes (for the reject's excerpt); nested ones as a mark."""
    if pa.types.is_string(value.type) or pa.types.is_large_string(value.type):
        return value.cast(pa.binary() if pa.types.is_string(value.type) else pa.large_binary()).as_py()
    return f"<{value.type} holding invalid UTF-8>"


def iter_text_files(root: str, files: list[str]) -> Iterator[RawRecord | ReadFailure]:
    """Whole text files as records, named by their path relative to ``root``; a file that cannot be read
    is a :class:`ReadFailure` naming it."""
    for i, file in enumerate(files):
        name = relative(file, root)
        try:
            with open_input(file) as f:
                data = f.read()
        except UnusableFile as bad:
            yield ReadFailure(i + 1, 0, bad.reason, bad.message, name=name)
            continue
        except OSError as err:  # an I/O error while reading
            yield ReadFailure(i + 1, 0, "ingest.unreadable_file", f"{file}: {err}", name=name)
            continue
        yield RawRecord(i + 1, 0, data, name=name)


def line_aligned_ranges(path: str, size: int, split_bytes: int) -> list[tuple[int, int, int]]:
    """Split a plain file of ``size`` bytes into ranges of about ``split_bytes``, each starting a line.

    Returns (start, end, first_line) triples; one pass counting newlines gives exact line numbers.
    """
    if size <= split_bytes:
        return [(0, size, 1)]
    bounds, lines_before = [(0, 1)], 0
    target = split_bytes
    with open_input(path) as f:
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
