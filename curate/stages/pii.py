"""pii: e-mail addresses and public IP addresses (optionally phone numbers) replaced by placeholders.

A rewrite stage (:mod:`curate.stage`): ``original_documents`` keeps the ingested text, later stages,
``documents`` and mixtures read the redacted one. What is replaced, as in datatrove's ``PIIFormatter``:

- e-mail addresses: ``local@domain.tld`` (the local part in letters, digits and ``._%+-!#$&'*/=?^`{|}~``);
- IPv4 and IPv6 addresses that Python's :mod:`ipaddress` parses and calls global (``is_global``): private,
  loopback, link-local, shared, documentation and other reserved ranges are left as they are, and so are
  strings that only look like addresses (``999.1.1.1``, ``12:30:45``);
- with ``phones: true``, phone-like numbers: an optional ``+`` country code, then groups of 2-4 digits
  joined by spaces, dots or dashes (or an area code in parentheses), 9 to 15 digits in all. A heuristic,
  so off by default: it also matches some product codes and dates written that way.

Signals: ``pii_emails``, ``pii_ips``, ``pii_phones``, the number of replacements per document. Nothing is
dropped.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from curate.stage import DROP_REASON, MapStage, StageParams

EMAIL = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
                   r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?!\w)")
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])(?:\d{2,4}[ .-]){0,2}\d{3,4}(?![\w-])")

CANDIDATE = {EMAIL.pattern: "@", IPV4.pattern: r"\d\.\d{1,3}\.\d{1,3}\.\d", IPV6.pattern: r":[0-9A-Fa-f]{0,4}:",
             PHONE.pattern: r"\d{3}"}  # what every match contains: polars finds the documents worth the Python regex


class PiiParams(StageParams):
    stage: Literal["pii"] = "pii"
    emails: bool = Field(True, description="Replace e-mail addresses.")
    ips: bool = Field(True, description="Replace public (global) IPv4 and IPv6 addresses.")
    phones: bool = Field(False, description="Replace phone-like numbers (a heuristic with false positives).")
    email_placeholder: str = Field("<EMAIL>", description="What an e-mail address becomes.")
    ip_placeholder: str = Field("<IP>", description="What a public IP address becomes.")
    phone_placeholder: str = Field("<PHONE>", description="What a phone number becomes.")


def is_public_ip(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address in a globally routed range."""
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return False


def is_phone(text: str) -> bool:
    """Whether a phone-like match has a phone number's count of digits (9 to 15, E.164's maximum)."""
    return 9 <= sum(c.isdigit() for c in text) <= 15


def redact(text: str, pattern: re.Pattern[str], placeholder: str, valid: Callable[[str], bool] | None = None) -> tuple[str, int]:
    """``text`` with the matches of ``pattern`` that ``valid`` accepts (all when None) replaced; and how many."""
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        if valid is not None and not valid(match.group(0)):
            return match.group(0)
        count += 1
        return placeholder

    return pattern.sub(swap, text), count


class Pii(MapStage):
    name = "pii"
    version = "1"
    Params = PiiParams
    schema = {"pii_emails": pl.Int64, "pii_ips": pl.Int64, "pii_phones": pl.Int64}
    rewrites = True

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: PiiParams = self.params  # type: ignore[assignment]
        steps = [("pii_emails", p.emails, EMAIL, p.email_placeholder, None),
                 ("pii_ips", p.ips, IPV4, p.ip_placeholder, is_public_ip), ("pii_ips", p.ips, IPV6, p.ip_placeholder, is_public_ip),
                 ("pii_phones", p.phones, PHONE, p.phone_placeholder, is_phone)]
        texts = batch["text"]
        counts = {c: np.zeros(batch.height, dtype=np.int64) for c in self.schema}
        for column, on, pattern, placeholder, valid in steps:
            if not on:
                continue
            candidates = np.flatnonzero(texts.str.contains(CANDIDATE[pattern.pattern]).fill_null(False).to_numpy())
            current = texts.to_list()
            for i in candidates:  # Python's re only where a cheap vectorized test says a match may be
                current[i], n = redact(current[i], pattern, placeholder, valid)
                counts[column][i] += n
            texts = pl.Series("text", current, dtype=pl.String)
        changed = texts.ne_missing(batch["text"])
        return batch.select("doc_id").with_columns(
            pl.when(changed).then(texts).otherwise(None).alias("text"),
            *(pl.Series(c, v, dtype=pl.Int64) for c, v in counts.items()),
            pl.lit(None, dtype=pl.String).alias(DROP_REASON),
        )
