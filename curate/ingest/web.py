"""Web records -> text, id and metadata, or a :class:`Reject`: WARC and ARC records, HTML files, HTML fields.

The web counterpart of :func:`curate.ingest.records.extract`, on the one HTML path of
:mod:`curate.ingest.html`:

- a WARC record keeps its ``url``, ``warc_date``, ``warc_record_id``, ``content_type``, ``warc_type`` and
  ``http_status`` in the document's ``meta`` JSON (the ``url`` stage reads ``url`` from there); its
  ``WARC-Record-ID`` is the document's ``source_id``, so ``doc_id`` follows the record, not its offset
  (an ARC record has none: its ``source_id`` is URL, archive date and offset, see :mod:`curate.ingest.arc`);
- an ``.html``/``.htm`` file of a text folder keeps its ``path``, as text files do;
- a JSONL/Parquet record with ``html_field`` keeps its other fields, as with ``text_field``.

A page that yields no text is ``ingest.html_no_text``; a WARC record of a type or content type that is
not read is ``ingest.warc_skipped_type`` / ``ingest.warc_skipped_content_type`` (counted, not lost).
"""

from __future__ import annotations

from typing import Any, Literal

from curate.ingest.html import WebParams, decode_html, html_to_text
from curate.ingest.records import Fields, Reject, extract, is_blank, meta_json

WARC_META = ("url", "warc_date", "warc_record_id", "content_type", "warc_type", "http_status")
SKIPPED = ("ingest.warc_skipped_type", "ingest.warc_skipped_content_type")  # counted, but not errors under --strict
REASONS = ("ingest.html_no_text", "ingest.html_timeout", *SKIPPED, "ingest.warc_missing_record_id", "ingest.warc_truncated_record", "ingest.warc_corrupt")


def is_html_file(name: str | None, suffixes: tuple[str, ...]) -> bool:
    return name is not None and name.lower().endswith(suffixes)


def web_fields(payload: bytes | dict[str, Any], kind: Literal["jsonl", "parquet", "text", "warc"],
               html_field: str | None, id_field: str | None, params: WebParams, name: str | None) -> Fields:
    """Text, id and metadata of one web record (see module docstring), or raise :class:`Reject`."""
    if kind == "warc":
        return warc_fields(payload, params)  # type: ignore[arg-type]
    if kind == "text":
        return Fields(_page_text(payload, None, params), None, meta_json({"path": name}))  # type: ignore[arg-type]
    fields = extract(payload, kind, html_field or "html", id_field)
    return Fields(_text_of(fields.text, params, html_field), fields.user_id, fields.meta)


def warc_fields(record: dict[str, Any], params: WebParams) -> Fields:
    """A WARC or ARC record's document, read by :func:`curate.ingest.warc.iter_warc` or :func:`curate.ingest.arc.iter_arc`."""
    if record["skip"]:
        raise Reject(record["skip"])
    source_id = record["warc_record_id"] or record.get("arc_id")  # ARC has no record id: see curate.ingest.arc
    if not source_id:
        raise Reject("ingest.warc_missing_record_id", "WARC-Record-ID")
    if record["content_type"] in params.text_content_types:
        text = record["body"].decode("utf-8", "replace")
        if is_blank(text):
            raise Reject("ingest.html_no_text")
    else:
        text = _page_text(record["body"], record["charset"], params)
    return Fields(text, source_id, meta_json({key: record[key] for key in WARC_META}))


def _page_text(body: bytes, charset: str | None, params: WebParams) -> str:
    return _text_of(decode_html(body, charset), params, None)


def _text_of(html: str, params: WebParams, field: str | None) -> str:
    text = html_to_text(html, params) if html.strip() else ""
    if is_blank(text):
        raise Reject("ingest.html_no_text", field)
    return text
