"""Streaming WARC reader (``.warc``, ``.warc.gz``, WET ``.warc.wet.gz``) on FastWARC, with every record counted.

Each WARC record becomes one :class:`RawRecord` (``line`` = its 1-based number in the file,
``byte_offset`` = its offset in the file as stored, i.e. the gzip member's offset for ``.warc.gz``, the
offset Common Crawl's index gives). Its payload is a dict of the record's headers (``warc_type``,
``url``, ``content_type``, ``warc_record_id``, ``warc_date``, ``http_status``, ``charset``), its body
bytes, and ``skip``: the reject reason when its record type or content type is not read (see
:class:`curate.ingest.html.WebParams`); skipped records' bodies are not read.

Damage is counted, never silent:

- a record whose header or body ends before its declared length (a truncated file) is a
  :class:`ReadFailure` ``ingest.warc_truncated_record`` at its offset;
- a record FastWARC cannot parse (bad header, gzip data error) is a :class:`ReadFailure`
  ``ingest.warc_corrupt`` at its offset: the reader searches for the next record start (the next gzip
  member header, or ``WARC/1.`` in a plain file) after the last good record and goes on from there, so
  a damaged record costs one reject, not the rest of the file.

A ``.warc.gz`` larger than ``ingest.split_bytes`` is read as byte ranges, one task each (records are
gzip members, so a range can start at a member boundary); a plain ``.warc`` is one task.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO, Any

from curate.core.storage import open_binary
from curate.ingest.html import WebParams
from curate.ingest.readers import READ_CHUNK_BYTES, RawRecord, ReadFailure

GZIP_MEMBER = b"\x1f\x8b\x08"
WARC_VERSION = b"WARC/1."
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".warc.wet", ".warc.wet.gz")


def iter_warc(path: str, params: WebParams, start: int = 0, end: int | None = None) -> Iterator[RawRecord | ReadFailure]:
    """Every record of one WARC file whose offset is in [start, end), damaged ones as failures.

    A range covers the gzip members from :func:`member_start` of ``start`` (0 for the first range) up to
    :func:`member_start` of ``end``, so consecutive ranges of a ``.warc.gz`` read each record, and each
    damaged one, exactly once. ``line`` counts from the range's start.
    """
    from fastwarc.warc import ArchiveIterator

    number = 0
    marker = GZIP_MEMBER if path.lower().endswith(".gz") else WARC_VERSION
    with open_binary(path) as raw:
        at = member_start(raw, start) if start else 0
        stop = member_start(raw, end) if end is not None else None  # None: to the end of the file
        while at is not None and (stop is None or at < stop):
            raw.seek(at)
            last: int | None = None
            try:
                for record in ArchiveIterator(raw, parse_http=True):
                    if stop is not None and record.stream_pos >= stop:
                        return
                    item = _record(number + 1, record, params)
                    number, last = number + 1, record.stream_pos
                    yield item
                return
            except OSError as exc:
                message = f"{type(exc).__name__}: {exc}"
                if last is None:  # the record at ``at`` itself is damaged
                    number += 1
                    yield ReadFailure(number, at, "ingest.warc_corrupt", message)
                found = _find(raw, marker, (at if last is None else last) + 1)
                if found is None and last is not None:
                    number += 1
                    yield ReadFailure(number, last + 1, "ingest.warc_corrupt", f"{message} (after the record at byte {last})")
                at = found  # retried from there: a damaged record there is reported with its own offset


def member_start(raw: IO[bytes], offset: int) -> int | None:
    """Offset of the first gzip member at or after ``offset`` whose data begins with a WARC header
    (byte patterns inside compressed data that only look like a member header are passed over)."""
    while (found := _find(raw, GZIP_MEMBER, offset)) is not None:
        raw.seek(found)
        try:
            head = zlib.decompressobj(wbits=31).decompress(raw.read(READ_CHUNK_BYTES >> 6), len(WARC_VERSION))
        except zlib.error:
            head = b""
        if head == WARC_VERSION:
            return found
        offset = found + 1
    return None


def _record(number: int, record: Any, params: WebParams) -> RawRecord | ReadFailure:
    """One parsed record as a RawRecord (body read only when it will become a document)."""
    headers = record.headers
    record_type = str(record.record_type)
    if "Content-Length" not in headers:  # the file ends inside the record's WARC header
        return ReadFailure(number, record.stream_pos, "ingest.warc_truncated_record", f"incomplete WARC header: {headers.to_dict()}")
    content_type = (record.http_content_type if record.is_http else headers.get("Content-Type")) or ""
    content_type = content_type.split(";", 1)[0].strip().lower()
    skip = None
    if record_type not in params.warc_record_types:
        skip = "ingest.warc_skipped_type"
    elif content_type not in params.html_content_types and content_type not in params.text_content_types:
        skip = "ingest.warc_skipped_content_type"
    body = record.reader.read() if skip is None else b""
    n_read = len(body) if skip is None else record.reader.consume()
    if n_read < record.content_length:
        return ReadFailure(number, record.stream_pos, "ingest.warc_truncated_record",
                           f"{record_type} record of {headers.get('WARC-Target-URI')}: body ends after {n_read} of {record.content_length} bytes")
    payload = {
        "warc_type": record_type,
        "url": headers.get("WARC-Target-URI"),
        "content_type": content_type,
        "warc_record_id": (record.record_id or "").strip("<>") or None,
        "warc_date": headers.get("WARC-Date"),
        "http_status": record.http_headers.status_code if record.is_http else None,
        "charset": record.http_charset if record.is_http else None,
        "skip": skip,
        "body": body,
    }
    return RawRecord(number, record.stream_pos, payload)


def _find(raw: IO[bytes], marker: bytes, offset: int) -> int | None:
    """Offset of the first ``marker`` at or after ``offset`` (the next record's start), or None."""
    raw.seek(offset)
    carry = b""
    while True:
        chunk = raw.read(READ_CHUNK_BYTES)
        if not chunk:
            return None
        data = carry + chunk
        at = data.find(marker)
        if at >= 0:
            return offset - len(carry) + at
        carry = data[-(len(marker) - 1):]
        offset += len(chunk)
