"""HTML -> text: charset detection and main-content extraction, one path for every HTML input.

WARC response records, ``.html``/``.htm`` files in text folders and an ``html_field`` of JSONL/Parquet
records all go through :func:`html_to_text`. Two extractors, chosen by the recipe's
``ingest.web.extractor``:

- ``resiliparse`` (default): Resiliparse's ``extract_plain_text`` with ``main_content=True`` (its
  heuristics drop navigation, headers, footers and sidebars) and block structure kept as line breaks,
  so line-based rules (Gopher, C4, FineWeb) see lines. Fast (C++).
- ``trafilatura``: Trafilatura's ``extract`` with the settings datatrove uses (``favor_precision``,
  no comments, its own line dedup): slower, often cleaner on news and blog pages; a page it spends more
  than ``trafilatura_timeout_s`` on is ``ingest.html_timeout`` (datatrove gives it 1 s).

Bytes are decoded with the HTTP charset when it names a known codec, else as UTF-8 when they are valid
UTF-8, else with the encoding Resiliparse detects (the page's ``<meta charset>`` first, then uchardet),
falling back to UTF-8 and Windows-1252.
"""

from __future__ import annotations

import codecs
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from curate.ingest.records import Reject

Extractor = Literal["resiliparse", "trafilatura"]


class WebParams(BaseModel):
    """How web inputs (WARC records, HTML files, HTML fields) become text: the recipe's ``ingest.web``."""

    model_config = ConfigDict(extra="forbid")

    extractor: Extractor = Field("resiliparse", description="HTML -> text extractor: resiliparse (fast) or trafilatura (slower, the quality option).")
    main_content: bool = Field(True, description="resiliparse only: keep the main content, drop navigation, headers, footers (its heuristics).")
    trafilatura_timeout_s: float | None = Field(
        30.0, gt=0, description="A page trafilatura takes longer on is rejected as ingest.html_timeout (the one reject that depends on machine speed); null: no limit."
    )
    warc_record_types: tuple[str, ...] = Field(
        ("response", "conversion", "resource"),
        description="WARC record types read as documents (conversion = WET text); other types are counted as ingest.warc_skipped_type.",
    )
    html_content_types: tuple[str, ...] = Field(
        ("text/html", "application/xhtml+xml"),
        description="HTTP content types of response/resource records read as HTML; others are counted as ingest.warc_skipped_content_type.",
    )
    text_content_types: tuple[str, ...] = Field(
        ("text/plain",), description="Content types read as plain text (WET conversion records), without extraction."
    )


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Bytes of an HTML page as text: the declared charset if Python knows it, else the detected one."""
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    if charset and _known_codec(charset):
        return bytes_to_str(data, charset, errors="replace", fallback_encodings=("utf-8", "cp1252"))
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # valid UTF-8 is UTF-8 (detectors guess wrong on short pages)
    except UnicodeDecodeError:
        return bytes_to_str(data, detect_encoding(data, from_html_meta=True), errors="replace", fallback_encodings=("utf-8", "cp1252"))


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def html_to_text(html: str, params: WebParams) -> str:
    """The page's text by the configured extractor; '' when it finds none."""
    if params.extractor == "trafilatura":
        return _trafilatura(html, params.trafilatura_timeout_s)
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    return extract_plain_text(
        tree, preserve_formatting=True, main_content=params.main_content, list_bullets=False, alt_texts=False,
        links=False, form_fields=False, noscript=False,
    ).strip()


def _trafilatura(html: str, timeout_s: float | None) -> str:
    import trafilatura

    try:  # around the whole block: the alarm may also go off while the limit is set or lifted
        with _time_limit(timeout_s):
            text: Any = trafilatura.extract(html, favor_precision=True, include_comments=False, deduplicate=True)
    except _Timeout:
        raise Reject("ingest.html_timeout") from None
    return (text or "").strip()


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`_Timeout` when the block runs longer than ``seconds``.

    A SIGALRM timer: only in a process's main thread (where ingest tasks run, in the driver or a worker);
    elsewhere, and with ``None``, no limit."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
