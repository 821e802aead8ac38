"""One input record -> its text, user id and metadata JSON, or a :class:`Reject` naming reason and field.

Kept apart from :mod:`curate.ingest` (planning, shards, markers) because every rule about what makes a
record bad lives here: a bad record must become a counted reject, never an exception that stops a run.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

import orjson

BOM = "\ufeff"
EXCERPT_CHARS = 120
INT64_BOUND = 2**63  # orjson reads an integer beyond 64 bits as a float at least this large


class Reject(Exception):
    """This record is not a document: ``reason`` (``ingest.*``) and the offending ``field``, if any."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


@dataclass(frozen=True, slots=True)
class Fields:
    text: str
    user_id: str | None
    meta: str  # JSON, keys sorted


def dig(record: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = record
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def without(record: dict[str, Any], dotted: str) -> dict[str, Any]:
    """A shallow copy of ``record`` with the dotted key removed (nested dicts copied on the way)."""
    head, _, rest = dotted.partition(".")
    out = dict(record)
    if not rest:
        out.pop(head, None)
    elif isinstance(out.get(head), dict):
        out[head] = without(out[head], rest)
    return out


def excerpt(raw: bytes | str) -> str:
    """A short excerpt with control characters escaped, safe to print and to store."""
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    text = text.rstrip("\r\n")[:EXCERPT_CHARS]
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def raw_text(payload: bytes | dict[str, Any]) -> bytes | str:
    """What a reject's excerpt is cut from: the line itself, or a parsed row written back as JSON."""
    if isinstance(payload, bytes):
        return payload
    try:
        return orjson.dumps(payload, default=str)
    except TypeError:  # nested too deep, or an integer beyond 64 bits
        return repr(payload)[: EXCERPT_CHARS * 2]


def normalize(text: str, form: str) -> str:
    if form == "none" or unicodedata.is_normalized(form, text):  # type: ignore[arg-type]
        return text
    return unicodedata.normalize(form, text)  # type: ignore[arg-type]


def is_blank(text: str) -> bool:
    """Only whitespace and invisible format characters (zero-width space/joiners, BOM, bidi marks)."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def meta_json(meta: dict[str, Any]) -> str:
    """The record's other fields as sorted JSON; integers beyond 64 bits are kept exactly.

    orjson stops at 254 levels of nesting: such a record is ``ingest.too_deep``, not a crashed run."""
    try:
        return orjson.dumps(meta, default=str, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError as err:
        if "Recursion" in str(err):
            raise Reject("ingest.too_deep") from None
        return json.dumps(meta, default=str, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _has_huge_float(node: Any) -> bool:
    """Whether a parsed value holds a whole float beyond 64-bit integers: an integer orjson could not keep
    (or such a float written as one, which a re-parse leaves as it is). About 1 us a record, where a regex
    for long digit runs over the line cost 20."""
    kind = type(node)
    if kind is float:
        return node.is_integer() and abs(node) >= INT64_BOUND
    if kind is dict:
        return any(_has_huge_float(value) for value in node.values())
    if kind is list:
        return any(_has_huge_float(value) for value in node)
    return False


def _parse_line(payload: bytes) -> Any:
    if not payload.strip():
        raise Reject("ingest.blank_line")
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Reject("ingest.invalid_utf8") from None
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise Reject("ingest.too_deep" if "depth limit" in str(err) else "ingest.malformed_json") from None
    try:  # orjson reads integers beyond 64 bits as floats: ids and metadata must stay exact
        if _has_huge_float(record):
            record = json.loads(payload)
    except (ValueError, RecursionError):  # nested too deep to check: meta_json rejects it as too deep
        pass
    return record


def extract(payload: bytes | dict[str, Any], kind: Literal["jsonl", "parquet", "text"], text_field: str,
            id_field: str | None, name: str | None = None, invalid_utf8: str | None = None) -> Fields:
    """Text, user id and metadata of one record, or raise :class:`Reject`.

    ``invalid_utf8``: the column of a Parquet row whose value is not UTF-8 (the reader found it)."""
    if invalid_utf8:
        raise Reject("ingest.invalid_utf8", invalid_utf8)
    if kind == "text":
        try:
            text = payload.decode("utf-8").removeprefix(BOM)  # type: ignore[union-attr]
        except UnicodeDecodeError:
            raise Reject("ingest.invalid_utf8") from None
        return Fields(text, None, meta_json({"path": name}))
    record = _parse_line(payload) if isinstance(payload, bytes) else payload
    if not isinstance(record, dict):
        raise Reject("ingest.not_an_object")
    found, text = dig(record, text_field)
    if not found or text is None:
        raise Reject("ingest.missing_text", text_field)
    if not isinstance(text, str):
        raise Reject("ingest.text_not_string", text_field)
    user_id = None
    if id_field:
        found, value = dig(record, id_field)
        if not found or value is None or isinstance(value, (dict, list)):
            raise Reject("ingest.missing_id", id_field)
        user_id = str(value)
    return Fields(text, user_id, meta_json(without(record, text_field)))
