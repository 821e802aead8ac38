"""Generated documents with planted boilerplate lines and planted PII, and how to score their removal.

Used by the line_dedup and pii tests, the web recipe's test (as HTML pages in a WARC, tests/warcs.py) and
the benchmarks ``bench_web.py`` and ``bench_line_dedup.py``. Everything is made here from a seed (no
third-party text): page bodies are :func:`tests.corpus.document` sentences.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from pathlib import Path

from curate.core.catalog import Catalog
from tests.corpus import DOMAINS, document

_DOMAINS = sorted(DOMAINS)

BOILERPLATE = (
    "We use cookies to give you the best experience. Accept all cookies",
    "Home | Products | About us | Contact | Careers",
    "Sign up for our newsletter and never miss an update",
    "Skip to main content",
    "Share this article: Facebook Twitter LinkedIn Email",
    "Privacy policy | Terms of use | Cookie settings",
    "Copyright {year} Example Media Group. All rights reserved.",  # digits vary: normalized away
    "Related articles you may also like",
)


@dataclass
class Page:
    doc_id: str
    text: str
    boilerplate: list[str] = field(default_factory=list)  # planted boilerplate lines, as written in the text
    pii: list[str] = field(default_factory=list)  # planted e-mails and public IPs (to be replaced)
    decoys: list[str] = field(default_factory=list)  # look-alikes that must stay (private IPs, versions, ...)


def _letters(i: int) -> str:
    """A word of letters unique to ``i`` (digits are normalized away, so they cannot make lines unique)."""
    word = ""
    while True:
        word, i = chr(97 + i % 26) + word, i // 26
        if not i:
            return word


def _sentences(rng: random.Random, i: int) -> list[str]:
    return document(rng, _DOMAINS[i % len(_DOMAINS)], rng.randint(4, 8)).replace("\n\n", " ").split(". ")


def boilerplate_pages(n: int, seed: int, share: float = 0.6) -> list[Page]:
    """Pages of 4-10 unique body lines with each boilerplate line planted in about ``share`` of them."""
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        body = _sentences(rng, i)
        head = [b.format(year=rng.randint(1995, 2025)) for b in BOILERPLATE[:4] if rng.random() < share]
        foot = [b.format(year=rng.randint(1995, 2025)) for b in BOILERPLATE[4:] if rng.random() < share]
        lines = head + [f"{line.rstrip('.')} (page {_letters(i)} line {_letters(j)})." for j, line in enumerate(body)] + foot
        pages.append(Page(f"page{i:06d}", "\n".join(lines), boilerplate=head + foot))
    return pages


def _public_ipv4(rng: random.Random) -> str:
    while True:
        ip = ipaddress.IPv4Address(rng.getrandbits(32))
        if ip.is_global:
            return str(ip)


def _public_ipv6(rng: random.Random) -> str:
    """An address in a globally routed /32, written in full (8 groups) or with a run of zeros as ``::``."""
    low = rng.getrandbits(96) if rng.random() < 0.5 else rng.getrandbits(48)
    return str(ipaddress.IPv6Address((0x2A00_1450 << 96) | low))


def _email(rng: random.Random) -> str:
    name = rng.choice(["ana", "bo", "chen", "dara", "eli", "fay"]) + rng.choice(["", ".", "_", "+news."]) + rng.choice(["smith", "li", "okafor", "x"])
    return f"{name}{rng.randint(1, 999)}@{rng.choice(['mail', 'example-corp', 'uni'])}.{rng.choice(['com', 'org', 'co.uk', 'de'])}"


PRIVATE = ("10.{a}.{b}.{c}", "192.168.{b}.{c}", "172.16.{b}.{c}", "127.0.0.1", "169.254.{b}.{c}", "::1", "fe80::{b}:{c}", "fd00::{c}", "2001:db8::{c}")
NOT_PII = ("version 1.{a}.{b}.{c}.7", "at 12:{b:02d}:{c:02d} sharp", "user at example dot com", "ratio 300.1.2.3 is no address", "std::vector<int>")


def pii_pages(n: int, seed: int) -> list[Page]:
    """Pages with 0-3 planted e-mails or public IPs and 0-2 decoys among body sentences."""
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        sentences = _sentences(rng, i)
        pii = [rng.choice([_email, _public_ipv4, _public_ipv6])(rng) for _ in range(rng.randint(0, 3))]
        decoys = [rng.choice(PRIVATE + NOT_PII).format(a=rng.randint(0, 255), b=rng.randint(0, 59), c=rng.randint(1, 59))
                  for _ in range(rng.randint(0, 2))]
        for item in pii + decoys:
            at = rng.randrange(len(sentences))
            sentences[at] = f"{sentences[at]}, see {item} for it"
        pages.append(Page(f"pii{i:06d}", ". ".join(sentences), pii=pii, decoys=decoys))
    return pages


def pii_scores(pages: list[Page], redacted: dict[str, str], replacements: int) -> dict[str, float]:
    """Recall: planted items gone from their page; precision: of all replacements made, the planted ones
    (a replaced decoy counts against it, and the decoys must all still be there)."""
    planted = sum(len(p.pii) for p in pages)
    found = sum(item not in redacted[p.doc_id] for p in pages for item in p.pii)
    decoys_kept = sum(item in redacted[p.doc_id] for p in pages for item in p.decoys)
    return {"pii_recall": found / planted if planted else 1.0, "pii_precision": found / replacements if replacements else 1.0,
            "decoys_kept_frac": decoys_kept / max(1, sum(len(p.decoys) for p in pages))}


def boilerplate_scores(pages: list[Page], rewritten: dict[str, str]) -> dict[str, float]:
    """Share of planted boilerplate lines removed, and share of unique body lines removed (should be 0)."""
    planted = sum(len(p.boilerplate) for p in pages)
    removed = sum(line not in rewritten[p.doc_id].split("\n") for p in pages for line in p.boilerplate)
    body = [(p, line) for p in pages for line in p.text.split("\n") if line not in p.boilerplate]
    lost = sum(line not in rewritten[p.doc_id].split("\n") for p, line in body)
    return {"boilerplate_lines_removed_frac": removed / planted if planted else 1.0, "body_lines_removed_frac": lost / max(1, len(body))}


def recipe_scores(run_dir: Path, planted: dict[str, Page]) -> dict[str, float]:
    """Boilerplate and PII scores of a recipe run (web input) on its planted pages, found by ``meta.url``:
    of the planted lines and items the extracted text held, on the pages that reached ``line_dedup`` or
    ``pii``, how many the rewritten text lost (and the decoys it kept), with the counts they are
    measured on."""
    with Catalog(run_dir, read_only=True) as cat:
        rows = cat.query(
            "SELECT d.meta->>'url' AS url, o.text AS extracted, d.text AS final, s.line_dedup_lines_removed IS NOT NULL AS at_line_dedup,"
            " s.pii_emails IS NOT NULL AS at_pii, coalesce(s.pii_emails + s.pii_ips + s.pii_phones, 0) AS replaced"
            " FROM documents d JOIN original_documents o USING (doc_id) JOIN doc_signals s USING (doc_id)").rows(named=True)
    at_dedup, at_pii, extracted, replaced = [], [], {}, 0
    for row in rows:
        page = planted.get(row["url"])
        if page is None:
            continue
        lines = row["extracted"].split("\n")
        kept = Page(page.doc_id, "\n".join(line for line in page.text.split("\n") if line in lines), [b for b in page.boilerplate if b in lines],
                    [x for x in page.pii if x in row["extracted"]], [x for x in page.decoys if x in row["extracted"]])
        extracted[page.doc_id] = row["final"]
        if row["at_line_dedup"] and page.boilerplate:
            at_dedup.append(kept)
        if row["at_pii"] and (page.pii or page.decoys):
            at_pii.append(kept)
            replaced += row["replaced"]
    return (boilerplate_scores(at_dedup, extracted) | pii_scores(at_pii, extracted, replaced)
            | {"boilerplate_pages_scored": len(at_dedup), "boilerplate_lines_scored": sum(len(p.boilerplate) for p in at_dedup),
               "pii_pages_scored": len(at_pii), "pii_items_scored": sum(len(p.pii) for p in at_pii)})
