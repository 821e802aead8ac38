"""HTML -> text: charset detection and main-content extraction, one path for every HTML input.

WARC response records, ``.html``/``.htm`` files in text folders and an ``html_field`` of JSONL/Parquet
records all go through :func:`html_to_text`. Two extractors, chosen by the recipe's
``ingest.web.extractor``:

- ``resiliparse`` (default): Resiliparse's ``extract_plain_text`` with ``main_content=True`` (its
  heuristics drop navigation, headers, footers and sidebars) and block structure kept as line breaks,
  so line-based rules (Gopher, C4, FineWeb) see lines. Fast (C++).
- ``trafilatura``: Trafilatura's ``extract`` with the settings datatrove uses (``favor_precision``,
  no comments, its own line dedup): slower, often cleaner on news and blog pages.

Bytes are decoded with the HTTP charset when it names a known codec, else as UTF-8 when they are valid
UTF-8, else with the encoding Resiliparse detects (the page's ``<meta charset>`` first, then uchardet),
falling back to UTF-8 and Windows-1252.
"""

from __future__ import annotations

import codecs
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Extractor = Literal["resiliparse", "trafilatura"]


class WebParams(BaseModel):
    """How web inputs (WARC records, HTML files, HTML fields) become text: the recipe's ``ingest.web``."""

    model_config = ConfigDict(extra="forbid")

    extractor: Extractor = Field("resiliparse", description="HTML -> text extractor: resiliparse (fast) or trafilatura (slower, the quality option).")
    main_content: bool = Field(True, description="resiliparse only: keep the main content, drop navigation, headers, footers (its heuristics).")
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
        return _trafilatura(html)
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    return extract_plain_text(
        tree, preserve_formatting=True, main_content=params.main_content, list_bullets=False, alt_texts=False,
        links=False, form_fields=False, noscript=False,
    ).strip()


def _trafilatura(html: str) -> str:
    import trafilatura

    text: Any = trafilatura.extract(html, favor_precision=True, include_comments=False, deduplicate=True)
    return (text or "").strip()
