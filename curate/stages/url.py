"""url: parse each document's URL (host, registered domain) and drop blocklisted domains or URL substrings.

The URL is read from the document's ``meta`` JSON (``url_field``; WARC input stores ``url`` there, and a
JSONL/Parquet record's ``url`` field lands there too). The registered domain is tldextract's, on the
Public Suffix List snapshot bundled with tldextract: no download, ever (``suffix_list_urls=()``).

Lists are files the user points at (one entry per line, ``#`` comments) or inline entries:

- ``block_domains``: a listed domain blocks itself and every subdomain (``example.com`` blocks
  ``ads.example.com``), as the UT1 blocklist FineWeb uses is read;
- ``block_substrings``: case-insensitive substrings of the whole URL (Aho-Corasick, one pass);
- ``allow_domains``: exceptions to both blocklists; with ``only_allowed`` every other URL is dropped.

Signals are always written (``url_blocked_by`` names the matching entry even when ``drop`` is off), so
a list can be judged in SQL before it drops anything. The lists' contents are hashed into the params
(``lists_sha256``): editing a list file re-runs the stage.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import polars as pl
from pydantic import Field, model_validator

from curate.stage import DROP_REASON, MapStage, StageParams


class UrlParams(StageParams):
    stage: Literal["url"] = "url"
    url_field: str = Field("url", description="Dotted key of the URL in the documents' meta JSON.")
    block_domains: list[str] = Field(default_factory=list, description="Blocked domains (subdomains included).")
    block_domains_files: list[str] = Field(default_factory=list, description="Files of blocked domains, one per line.")
    block_substrings: list[str] = Field(default_factory=list, description="Blocked URL substrings (case-insensitive).")
    block_substrings_files: list[str] = Field(default_factory=list, description="Files of blocked URL substrings, one per line.")
    allow_domains: list[str] = Field(default_factory=list, description="Domains never blocked (subdomains included).")
    allow_domains_files: list[str] = Field(default_factory=list, description="Files of allowed domains, one per line.")
    only_allowed: bool = Field(False, description="Drop every document whose domain is not allowed (an allowlist, not exceptions).")
    drop_missing: bool = Field(False, description="Drop documents without a parseable http(s) URL.")
    drop: bool = Field(True, description="Drop what the lists block (off: signals only).")
    lists_sha256: str = Field("", description="Set when the recipe loads: hash of every list's entries (so an edited file re-runs the stage).")

    @model_validator(mode="after")
    def _hash_lists(self) -> "UrlParams":
        self.lists_sha256 = hashlib.sha256(repr(sorted(self.lists().items())).encode()).hexdigest()[:16]
        return self

    def lists(self) -> dict[str, tuple[str, ...]]:
        """Each list, inline entries plus its files' entries, lowercased and sorted (files must exist)."""
        def load(inline: list[str], files: list[str], domains: bool) -> tuple[str, ...]:
            entries = {e.strip().lower() for e in [e for file in files for e in _read_list(file)] + inline}
            return tuple(sorted({e.lstrip("*.") if domains else e for e in entries} - {""}))  # "*.x.com" is x.com

        return {
            "block_domains": load(self.block_domains, self.block_domains_files, domains=True),
            "block_substrings": load(self.block_substrings, self.block_substrings_files, domains=False),
            "allow_domains": load(self.allow_domains, self.allow_domains_files, domains=True),
        }


def _read_list(file: str) -> list[str]:
    path = Path(file)
    if not path.is_file():
        raise ValueError(f"list file not found: {file} (relative paths are relative to the working directory)")
    return [line.split("#", 1)[0] for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]


def _matches(host: str | None, domains: frozenset[str]) -> str | None:
    """The listed domain ``host`` is or is under, if any."""
    if not host or not domains:
        return None
    parts = host.split(".")
    return next((d for d in (".".join(parts[i:]) for i in range(len(parts))) if d in domains), None)


class Url(MapStage):
    name = "url"
    version = "1"
    Params = UrlParams
    optional_needs = ("meta",)  # every run has it; absent only in a bare batch (then no URL)
    schema = {"url": pl.String, "url_host": pl.String, "url_domain": pl.String, "url_suffix": pl.String,
              "url_blocked_by": pl.String}
    reasons = ("url.missing", "url.blocked_domain", "url.blocked_substring", "url.not_allowed")

    @cached_property
    def _extract(self) -> Any:
        import tldextract

        return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())  # bundled snapshot, no network

    @cached_property
    def _lists(self) -> dict[str, Any]:
        p: UrlParams = self.params  # type: ignore[assignment]
        lists = p.lists()
        return {"block": frozenset(lists["block_domains"]), "allow": frozenset(lists["allow_domains"]),
                "substrings": list(lists["block_substrings"])}

    def setup(self) -> None:
        _ = self._extract, self._lists

    def _parse(self, url: str | None) -> tuple[str | None, str | None, str | None]:
        """(host, registered domain, public suffix) of an http(s) URL; Nones when it has no host."""
        if not url:
            return None, None, None
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            return None, None, None
        if parts.scheme.lower() not in ("http", "https") or not host:
            return None, None, None
        found = self._extract.extract_str(host)
        return host, found.top_domain_under_public_suffix or host, found.suffix or None

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: UrlParams = self.params  # type: ignore[assignment]
        lists = self._lists
        urls = (batch["meta"].str.json_path_match(f"$.{p.url_field}") if "meta" in batch.columns
                else pl.Series([None] * batch.height, dtype=pl.String))
        host, domain, suffix = zip(*(self._parse(u) for u in urls), strict=True) if batch.height else ((), (), ())
        allowed = [_matches(h, lists["allow"]) is not None for h in host]
        by_domain = [None if ok else _matches(h, lists["block"]) for h, ok in zip(host, allowed, strict=True)]
        out = pl.DataFrame({"doc_id": batch["doc_id"], "url": urls, "url_host": list(host), "url_domain": list(domain),
                            "url_suffix": list(suffix), "allowed": allowed, "by_domain": by_domain},
                           schema_overrides={**{c: pl.String for c in ("url", "url_host", "url_domain", "url_suffix", "by_domain")}, "allowed": pl.Boolean})
        first = (pl.col("url").str.to_lowercase().str.extract_many(lists["substrings"]).list.first()
                 if lists["substrings"] else pl.lit(None, dtype=pl.String))
        out = out.with_columns(by_substring=pl.when(~pl.col("allowed")).then(first))
        blocked = (pl.when(pl.col("by_domain").is_not_null()).then(pl.lit("domain:") + pl.col("by_domain"))
                   .when(pl.col("by_substring").is_not_null()).then(pl.lit("substring:") + pl.col("by_substring")))
        reason = (pl.when(pl.col("url_host").is_null() & pl.lit(p.drop_missing)).then(pl.lit("url.missing"))
                  .when(pl.col("by_domain").is_not_null() & pl.lit(p.drop)).then(pl.lit("url.blocked_domain"))
                  .when(pl.col("by_substring").is_not_null() & pl.lit(p.drop)).then(pl.lit("url.blocked_substring"))
                  .when(~pl.col("allowed") & pl.col("url_host").is_not_null() & pl.lit(p.only_allowed)).then(pl.lit("url.not_allowed"))
                  .otherwise(pl.lit(None, dtype=pl.String)))
        return out.with_columns(blocked.alias("url_blocked_by"), reason.alias(DROP_REASON))
