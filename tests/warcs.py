"""WARC files for tests and the web benchmark, written with FastWARC's writer, and ARC files written by hand
(no third-party pages committed).

:func:`generated_page` makes an HTML page whose main content is generated text (tests/corpus.py) wrapped
in planted boilerplate (navigation, cookie banner, footer) that every page of a site repeats;
:func:`write_warc` writes (url, html) pages as request + response record pairs, plus optional extra
records, one gzip member per record for ``.warc.gz`` (as Common Crawl does); :func:`write_arc` writes
ARC files (v1 or v2 header lines, one gzip member per record for ``.arc.gz``).
"""

from __future__ import annotations

import gzip as gzip_lib
import html as html_lib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastwarc.stream_io import GzipWriter
from fastwarc.warc import WarcRecord, WarcRecordType

from tests.corpus import make_corpus
from tests.rewrite_planted import Page, boilerplate_pages, pii_pages

NAV = ["Home", "Products", "Blog", "About us", "Contact", "Careers"]
COOKIE_BANNER = "We use cookies to improve your experience on our site. By continuing you accept our cookie policy."
FOOTER = "Copyright 2026 Example Media Group. All rights reserved. Terms of use. Privacy policy."


@dataclass(frozen=True)
class Record:
    """One WARC record to write: its type, target URL, HTTP content type (None: not an HTTP record), body."""

    record_type: str
    url: str
    body: bytes
    content_type: str | None = "text/html; charset=utf-8"
    record_id: str | None = None


def generated_page(title: str, paragraphs: list[str], site: str) -> str:
    """A page with main content (an article) inside navigation, a cookie banner, a sidebar and a footer."""
    nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}">{n}</a></li>' for n in NAV)
    body = "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html_lib.escape(title)} - {site}</title></head><body>"
        f'<header><nav class="menu"><ul>{nav}</ul></nav></header>'
        f'<div class="cookie-banner">{COOKIE_BANNER} <button>Accept</button></div>'
        f"<main><article><h1>{html_lib.escape(title)}</h1>{body}</article></main>"
        f'<aside class="sidebar"><h3>Popular posts</h3><ul><li><a href="/p1">Ten tips</a></li><li><a href="/p2">Our story</a></li></ul></aside>'
        f"<footer><p>{FOOTER}</p></footer></body></html>"
    )


def generated_pages(n: int, seed: int = 0, sites: int = 5) -> list[tuple[str, str]]:
    """``n`` (url, html) pages of generated text over ``sites`` hosts."""
    pages = []
    for i, doc in enumerate(make_corpus(n, seed=seed)):
        paras = [p for p in doc.text.split("\n") if p.strip()] or [doc.text]
        site = f"site{i % sites}.example.com"
        pages.append((f"https://{site}/{doc.domain}/{i}.html", generated_page(f"{doc.domain.title()} note {i}", paras, site)))
    return pages


def planted_pages(n_boilerplate: int, n_pii: int, seed: int = 0) -> tuple[list[tuple[str, str]], dict[str, Page]]:
    """(url, html) pages of :mod:`tests.rewrite_planted` text (each line a paragraph of the article, so
    extraction keeps the planted boilerplate lines and PII for line_dedup and pii to find), and the
    planted :class:`Page` by URL."""
    planted = {f"https://planted.example.org/{p.doc_id}.html": p
               for p in boilerplate_pages(n_boilerplate, seed=seed) + pii_pages(n_pii, seed=seed + 1)}
    html = [(url, generated_page(p.doc_id, p.text.split("\n"), "planted.example.org")) for url, p in planted.items()]
    return html, planted


def page_records(pages: list[tuple[str, str]]) -> list[Record]:
    """A request and a response record per page, as a crawler writes them."""
    out = []
    for url, page in pages:
        out.append(Record("request", url, f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), content_type=None))
        out.append(Record("response", url, page.encode("utf-8")))
    return out


def _record(rec: Record, index: int, salt: str) -> WarcRecord:
    record = WarcRecord()
    kind = getattr(WarcRecordType, rec.record_type)
    record_id = rec.record_id or str(uuid.UUID(int=uuid.uuid5(uuid.NAMESPACE_URL, f"{salt}{rec.record_type}:{rec.url}").int))
    record.init_headers(kind, record_urn=f"uuid:{record_id}".encode())
    record.headers.set("WARC-Date", "2026-01-01T00:00:00Z")
    record.headers.append("WARC-Target-URI", rec.url)
    if rec.record_type == "request":
        record.headers.append("Content-Type", "application/http; msgtype=request")
        record.set_bytes_content(rec.body)
    elif rec.content_type is not None and rec.record_type == "response":
        record.headers.append("Content-Type", "application/http; msgtype=response")
        record.headers.append("WARC-Identified-Payload-Type", rec.content_type.split(";")[0])  # as Common Crawl writes
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {rec.content_type}\r\nContent-Length: {len(rec.body)}\r\n\r\n"
        record.set_bytes_content(head.encode() + rec.body)
    else:
        record.headers.append("Content-Type", rec.content_type or "text/plain")
        record.set_bytes_content(rec.body)
    return record


def warc_bytes(records: list[Record], gzip: bool, salt: str = "") -> tuple[bytes, list[int]]:
    """The WARC file's bytes and each record's offset (its gzip member's offset when ``gzip``); record ids
    are a function of ``salt``, the record type and URL."""
    buf, offsets = io.BytesIO(), []
    for index, rec in enumerate(records):
        offsets.append(buf.tell())
        if gzip:
            writer = GzipWriter(buf)
            _record(rec, index, salt).write(writer)
            writer.finish()
        else:
            _record(rec, index, salt).write(buf)
    return buf.getvalue(), offsets


def write_warc(path: Path, records: list[Record], salt: str = "") -> list[int]:
    """Write ``records`` to ``path`` (gzip members when it ends in .gz); returns the record offsets."""
    data, offsets = warc_bytes(records, gzip=path.name.endswith(".gz"), salt=salt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return offsets


def arc_bytes(records: list[Record], name: str, gzip: bool, version: int = 1, date: str = "20260101000000") -> tuple[bytes, list[int]]:
    """An ARC file (ARC ``version`` 1 or 2 header lines) of ``records`` as HTTP responses after its
    ``filedesc://`` version block, one gzip member per record when ``gzip``; and each record's offset (the
    version block's first). Written by hand: the format is a header line, the record's bytes and a newline."""
    fields = "URL IP-address Archive-date Content-type Archive-length" if version == 1 else \
        "URL IP-address Archive-date Content-type Result-code Checksum Location Offset Filename Archive-length"
    desc = f"{version} 0 mixlab-tests\n{fields}\n".encode()
    blocks = [(f"filedesc://{name}", "text/plain", desc)]
    for rec in records:
        ctype = rec.content_type or "text/plain"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(rec.body)}\r\n\r\n"
        blocks.append((rec.url, ctype.split(";")[0], head.encode() + rec.body))
    out, offsets = b"", []
    for i, (url, ctype, block) in enumerate(blocks):
        v2 = f" 200 - - {len(out)} {name}" if version == 2 else ""
        record = f"{url} 192.0.2.{i % 250} {date} {ctype}{v2} {len(block)}\n".encode() + block + b"\n"
        offsets.append(len(out))
        out += gzip_lib.compress(record, mtime=0) if gzip else record
    return out, offsets


def write_arc(path: Path, records: list[Record], version: int = 1) -> list[int]:
    """Write ``records`` to ``path`` as an ARC file (gzip members when it ends in .gz); the record offsets."""
    data, offsets = arc_bytes(records, path.name, path.name.endswith(".gz"), version)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return offsets
