"""Streaming ARC reader (``.arc``, ``.arc.gz``: the Internet Archive's format before WARC), every record counted.

An ARC file is a ``filedesc://`` version block, then per record one header line, ``URL IP-address
Archive-date Content-type Archive-length`` (ARC v1) or ``URL IP-address Archive-date Content-type
Result-code Checksum Location Offset Filename Archive-length`` (ARC v2), followed by ``Archive-length``
bytes (the HTTP response as fetched) and a newline; an ``.arc.gz`` compresses each record as its own gzip
member. FastWARC reads WARC only, and warcio's ARC iterator misreads v2 header lines and, on corrupt gzip
data, stops the file or writes the error to stderr and returns the record cut short; so records are
framed here (header line, length, gzip members) and warcio parses what is inside them (HTTP status line
and headers, ARC dates).

Each record becomes one :class:`RawRecord` with the payload of :func:`curate.ingest.warc.iter_warc`
(``line`` its 1-based number in the file, ``byte_offset`` its offset, its gzip member's for ``.arc.gz``):
``warc_type`` ``response`` (``filedesc`` for the version block, counted as ``ingest.warc_skipped_type``),
``warc_date`` the archive date as ISO 8601, ``warc_record_id`` None (ARC has no record id), and
``arc_id`` = ``<URL> <archive date> <offset>``: the document's ``source_id`` and so its ``doc_id``.
A record whose body ends before its length is ``ingest.warc_truncated_record``; a header line that does
not parse or a gzip member that does not decompress is ``ingest.warc_corrupt``, and the reader goes on
from the next line (or gzip member) that starts an ARC record. One task per file (no byte ranges).
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from typing import IO, Any

from warcio.statusandheaders import StatusAndHeadersParser
from warcio.timeutils import timestamp_to_iso_date

from curate.core.storage import open_binary
from curate.ingest.html import WebParams
from curate.ingest.readers import READ_CHUNK_BYTES, RawRecord, ReadFailure
from curate.ingest.warc import GZIP_MEMBER, WARC_SUFFIXES

ARC_SUFFIXES = (".arc", ".arc.gz")
MAX_HEADER_LINE = 1 << 16  # a longer "header line" is not one: the record is corrupt
_V2 = re.compile(rb"(\S+) (\S+) (\d{8,}) (\S+) (\S+) \S+ \S+ \S+ \S+ (\d+)")
_V1 = re.compile(rb"(.+) (\S+) (\d{8,}) (\S+) (\d+)")  # v1 URLs may hold spaces: the last four fields are fixed
_LINE_START = re.compile(rb"(?<=\n)\S+ \S+ \d{8,} \S+ (?:(?:\S+ ){5})?\d+\r?\n")  # a v1 or v2 header line (URL without spaces)


class _Corrupt(Exception):
    """The bytes at this record's offset are not an ARC record."""


def is_arc(path: str) -> bool:
    name = path.lower()
    return name.endswith(ARC_SUFFIXES) and not name.endswith(WARC_SUFFIXES)


def iter_arc(path: str, params: WebParams) -> Iterator[RawRecord | ReadFailure]:
    """Every record of one ARC file, damaged ones as failures (see module docstring)."""
    gz = path.lower().endswith(".gz")
    number = 0
    with open_binary(path) as raw:
        at: int | None = 0
        while at is not None:
            number += 1
            at = at if gz else _after_blank_lines(raw, at)
            try:
                item, at = _member(raw, at, number, params) if gz else _plain(raw, at, number, params)
            except _Corrupt as exc:
                yield ReadFailure(number, at, "ingest.warc_corrupt", str(exc))
                at = _next_start(raw, at + 1, gz)
                continue
            if item is None:  # end of file
                return
            yield item
            if isinstance(item, ReadFailure):  # truncated: the file ends inside the record
                return


def _plain(raw: IO[bytes], at: int, number: int, params: WebParams) -> tuple[RawRecord | ReadFailure | None, int]:
    """The record at ``at`` of a plain ARC file and the offset of the next one."""
    raw.seek(at)
    line = raw.readline(MAX_HEADER_LINE)
    if not line:
        return None, at
    return _record(raw, line, at, number, params), raw.tell()


def _after_blank_lines(raw: IO[bytes], at: int) -> int:
    """Offset of the first line at or after ``at`` that is not blank (records are separated by newlines)."""
    raw.seek(at)
    while (line := raw.readline(MAX_HEADER_LINE)) and not line.strip():
        at += len(line)
    return at


def _member(raw: IO[bytes], at: int, number: int, params: WebParams) -> tuple[RawRecord | ReadFailure | None, int | None]:
    """The record in the gzip member at ``at`` of an ``.arc.gz`` and the offset of the next member."""
    raw.seek(at)
    head = raw.read(len(GZIP_MEMBER))
    if not head:
        return None, None
    if head != GZIP_MEMBER:
        raise _Corrupt(f"no gzip member at byte {at}")
    raw.seek(at)
    member = _Member(raw)
    stream = io.BufferedReader(member, READ_CHUNK_BYTES >> 4)
    try:
        line = stream.readline(MAX_HEADER_LINE)
        item = _record(stream, line, at, number, params) if line else None
        while stream.read(READ_CHUNK_BYTES):  # the rest of the member (a trailing newline)
            pass
    except zlib.error as exc:
        raise _Corrupt(f"gzip data error: {exc}") from None
    if item is None:
        raise _Corrupt("empty gzip member")
    if not member.done and not isinstance(item, ReadFailure):
        return ReadFailure(number, at, "ingest.warc_truncated_record", "the file ends inside the gzip member"), None
    return item, member.next_offset


def _record(stream: IO[bytes], line: bytes, at: int, number: int, params: WebParams) -> RawRecord | ReadFailure:
    """One record from its header line; its body is read from ``stream`` (kept only when it will be a document)."""
    if not line.endswith(b"\n") and len(line) < MAX_HEADER_LINE:
        return ReadFailure(number, at, "ingest.warc_truncated_record", f"the file ends inside the ARC header line {line[:200]!r}")
    header = line.rstrip(b"\r\n")
    fields = _V2.fullmatch(header) or _V1.fullmatch(header)
    if fields is None:
        raise _Corrupt(f"not an ARC record header line: {header[:200]!r}")
    url, date, content_type, length = (fields[1].decode("utf-8", "replace"), fields[3].decode(), fields[4].decode("latin-1").lower(), int(fields[fields.lastindex]))
    content_type = content_type.split(";", 1)[0].strip()
    skip = None
    if url.startswith("filedesc://"):
        skip = "ingest.warc_skipped_type"
    elif content_type not in params.html_content_types and content_type not in params.text_content_types:
        skip = "ingest.warc_skipped_content_type"
    block, n_read = _read(stream, length, keep=skip is None)
    if n_read < length:
        return ReadFailure(number, at, "ingest.warc_truncated_record", f"ARC record of {url}: body ends after {n_read} of {length} bytes")
    payload: dict[str, Any] = {
        "warc_type": "filedesc" if url.startswith("filedesc://") else "response",
        "url": url,
        "content_type": content_type,
        "warc_record_id": None,
        "warc_date": timestamp_to_iso_date(date),
        "arc_id": f"{url} {date} {at}",
        "skip": skip,
        **_http(block if skip is None else b"", url),
    }
    return RawRecord(number, at, payload)


def _read(stream: IO[bytes], length: int, keep: bool) -> tuple[bytes, int]:
    """Up to ``length`` bytes of ``stream`` (kept only when ``keep``) and how many there were."""
    if keep:
        data = stream.read(length)
        return data, len(data)
    n_read = 0
    while n_read < length and (chunk := stream.read(min(READ_CHUNK_BYTES, length - n_read))):
        n_read += len(chunk)
    return b"", n_read


def _http(block: bytes, url: str) -> dict[str, Any]:
    """Status, charset and body of a record's HTTP response (the whole block when it has no HTTP head)."""
    if not url.startswith(("http:", "https:")) or not block.startswith(b"HTTP/"):
        return {"http_status": None, "charset": None, "body": block}
    head = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False).parse(io.BytesIO(block))
    status = head.get_statuscode()
    charset = re.search(r"charset=[\"']?([\w.:-]+)", head.get_header("Content-Type") or "", re.IGNORECASE)
    return {"http_status": int(status) if status.isdigit() else None, "charset": charset and charset[1], "body": block[head.total_len :]}


class _Member(io.RawIOBase):
    """The decompressed bytes of one gzip member of ``raw`` (from its current position); ``next_offset``
    is where the next member starts once ``done``."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.start = raw, raw.tell()
        self.inflate = zlib.decompressobj(wbits=31)
        self.n_in = 0
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.done:
            tail = self.inflate.unconsumed_tail  # input held back by the output limit
            data = tail or self.raw.read(READ_CHUNK_BYTES >> 4)
            if not data:
                return 0  # the file ends inside the member
            if not tail:
                self.n_in += len(data)
            out = self.inflate.decompress(data, len(buffer))
            self.done = self.inflate.eof
            if out:
                buffer[: len(out)] = out
                return len(out)
        return 0

    @property
    def next_offset(self) -> int:
        return self.start + self.n_in - len(self.inflate.unused_data)


def _next_start(raw: IO[bytes], offset: int, gz: bool) -> int | None:
    """Offset of the first record start after ``offset``: a gzip member whose data begins with an ARC header
    line (``.arc.gz``), else a line that looks like an ARC header line; None when there is none."""
    pattern = re.compile(re.escape(GZIP_MEMBER)) if gz else _LINE_START
    base = offset
    while True:
        raw.seek(base)
        data = raw.read(READ_CHUNK_BYTES)
        for found in (base + m.start() for m in pattern.finditer(data)):
            if not gz or _is_arc_member(raw, found):
                return found
        if len(data) < READ_CHUNK_BYTES:
            return None
        base += len(data) - 4096  # a start across the chunk boundary is found in the next chunk


def _is_arc_member(raw: IO[bytes], offset: int) -> bool:
    """Whether a gzip member at ``offset`` decompresses to an ARC header line (not bytes that only look like
    a member header inside compressed data)."""
    raw.seek(offset)
    try:
        head = zlib.decompressobj(wbits=31).decompress(raw.read(READ_CHUNK_BYTES >> 6), 4096)
    except zlib.error:
        return False
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    return bool(_V2.fullmatch(line) or _V1.fullmatch(line))
