"""Build the demo corpus from real text found on this machine (read at run time, never committed).

Domains (the ``source`` of each document):

- ``python_docs``: the topics of Python's own documentation (``pydoc_data.topics``), split into sections;
- ``package_docs``: READMEs and package descriptions (METADATA) of installed Python packages;
- ``licenses``: licence files of installed Python packages and Debian ``copyright`` files (natural
  near-duplicates: many MIT/BSD/Apache texts differ only in names and years);
- ``changelogs``: Debian package changelogs (``/usr/share/doc/*/changelog*.gz``);
- ``man_<lang>``: man pages, English and every translated language present (``/usr/share/man/<lang>``),
  with troff markup stripped. Debian packages such as ``manpages-de manpages-fr manpages-es`` add more.

Each domain is written as ``<out>/<domain>.jsonl.gz`` with fields ``id``, ``text``, ``path``.

The corpus has a fixed, seeded size whatever is installed: at most ``docs_per_domain`` documents per
domain and ``max_docs`` in all (shared out equally among domains, a domain with fewer documents leaving
its share to the others), each document cut to ``MAX_DOC_CHARS`` at a paragraph boundary. So the
demo's time does not grow with the number of packages and languages on the machine.
"""

from __future__ import annotations

import gzip
import random
import re
import site
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson

_TROFF_ESCAPES = [
    (re.compile(r"\\f[BIRPC]|\\f\(..|\\f\[[^\]]*\]"), ""),
    (re.compile(r"\\\(em|\\\(en"), "-"),
    (re.compile(r"\\\((..)"), ""),
    (re.compile(r"\\\[[^\]]*\]"), ""),
    (re.compile(r"\\s[+-]?\d"), ""),
    (re.compile(r"\\[-e]"), "-"),
    (re.compile(r"\\&|\\\||\\\^|\\0|\\c"), ""),
    (re.compile(r"\\\*\(..|\\\*."), ""),
]
_MIN_CHARS = 200
_SECTION_CHARS = 3000
MAX_DOC_CHARS = 20_000


def troff_to_text(source: str) -> str:
    """Strip troff/man macros to readable text (good enough for language ID, topics and training)."""
    out = []
    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"", '.\\\\"')):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].split(None, 1)
            if len(parts) < 2 or parts[0] in {"de", "ds", "nr", "so", "ig", "if", "ie", "el", "tr", "ta"}:
                continue
            line = parts[1].replace('"', "")
        for pattern, repl in _TROFF_ESCAPES:
            line = pattern.sub(repl, line)
        out.append(line.replace("\\", ""))
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _read(path: Path) -> str | None:
    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None


def _sections(text: str) -> Iterator[str]:
    """Split long text at paragraph boundaries into pieces of about _SECTION_CHARS."""
    piece: list[str] = []
    size = 0
    for para in re.split(r"\n\s*\n", text):
        piece.append(para)
        size += len(para)
        if size >= _SECTION_CHARS:
            yield "\n\n".join(piece)
            piece, size = [], 0
    if piece:
        yield "\n\n".join(piece)


def python_docs() -> Iterator[tuple[str, str]]:
    from pydoc_data.topics import topics

    for name in sorted(topics):
        for i, section in enumerate(_sections(topics[name])):
            yield f"pydoc:{name}:{i}", section


def _site_dirs() -> list[Path]:
    dirs = {Path(p) for p in site.getsitepackages() + [site.getusersitepackages()]}
    dirs |= {Path(p) for p in sys.path if p.endswith("site-packages")}
    dirs |= set(Path(sys.base_prefix).parent.glob("*/lib/python3*/site-packages"))
    return sorted(d for d in dirs if d.is_dir())


def package_files(kind: str) -> Iterator[tuple[str, str]]:
    """README/METADATA (kind='docs') or LICENSE/COPYING (kind='licenses') files of installed packages."""
    names = ("LICENSE", "LICENCE", "COPYING", "NOTICE") if kind == "licenses" else ("README", "METADATA", "DESCRIPTION")
    for root in _site_dirs():
        for path in sorted(root.glob("*/*")):
            if path.is_file() and path.name.upper().startswith(names) and path.suffix in ("", ".txt", ".md", ".rst"):
                text = _read(path)
                if text:
                    yield f"site:{path}", text


def debian_docs(kind: str) -> Iterator[tuple[str, str]]:
    """Debian copyright files (kind='licenses') or changelogs (kind='changelogs')."""
    pattern = "*/copyright" if kind == "licenses" else "*/changelog*.gz"
    for path in sorted(Path("/usr/share/doc").glob(pattern)):
        text = _read(path)
        if text:
            yield f"doc:{path.relative_to('/usr/share/doc')}", text[:20_000]


def man_pages() -> dict[str, list[Path]]:
    """Man page files per language ('en' for the untranslated sections)."""
    root = Path("/usr/share/man")
    langs: dict[str, list[Path]] = {"en": sorted(root.glob("man[1-8]/*.gz"))}
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("man"):
            files = sorted(folder.glob("man[1-8]/*.gz"))
            if files:
                langs[folder.name.split(".")[0]] = files
    return langs


def _man_docs(files: list[Path]) -> Iterator[tuple[str, str]]:
    for path in files:
        raw = _read(path)
        if raw:
            yield f"man:{path.relative_to('/usr/share/man')}", troff_to_text(raw)


def share_out(total: int, available: dict[str, int]) -> dict[str, int]:
    """Split ``total`` documents equally among domains, capped by what each has (water-filling)."""
    quota = dict.fromkeys(available, 0)
    left, open_ = total, sorted(available, key=lambda d: (available[d], d))
    while open_ and left > 0:
        share = left // len(open_)
        if share == 0:
            for domain in open_[:left]:
                quota[domain] += 1
            break
        for domain in list(open_):
            take = min(share, available[domain] - quota[domain])
            quota[domain] += take
            left -= take
            if quota[domain] == available[domain]:
                open_.remove(domain)
    return quota


def _cut(text: str) -> str:
    """The text up to MAX_DOC_CHARS, ending at the last paragraph break before the cut when there is one."""
    if len(text) <= MAX_DOC_CHARS:
        return text
    head = text[:MAX_DOC_CHARS]
    cut = head.rfind("\n\n")
    return head[:cut] if cut > MAX_DOC_CHARS // 2 else head


def build_demo_corpus(out_dir: Path, docs_per_domain: int, max_docs: int, seed: int = 0) -> dict[str, int]:
    """Write one JSONL.gz per domain under ``out_dir``; returns documents written per domain."""
    out_dir.mkdir(parents=True, exist_ok=True)
    domains: dict[str, Iterator[tuple[str, str]]] = {
        "python_docs": python_docs(),
        "package_docs": package_files("docs"),
        "licenses": iter([*package_files("licenses"), *debian_docs("licenses")]),
        "changelogs": debian_docs("changelogs"),
    }
    for lang, files in man_pages().items():
        rng = random.Random(f"{seed}:{lang}")
        pick = sorted(rng.sample(files, min(len(files), docs_per_domain * 2)))
        domains[f"man_{lang}"] = _man_docs(pick)
    picked = {}
    for domain, docs in domains.items():
        rows = [(i, _cut(t)) for i, t in docs if len(t.strip()) >= _MIN_CHARS]
        rng = random.Random(f"{seed}:{domain}")
        rows = rng.sample(rows, min(len(rows), docs_per_domain))
        if len(rows) >= 5:
            picked[domain] = rows
    quota = share_out(max_docs, {d: len(rows) for d, rows in picked.items()})
    counts = {}
    for domain, rows in picked.items():
        rows = sorted(rows[: quota[domain]])
        if len(rows) < 5:
            continue
        path = out_dir / f"{domain}.jsonl.gz"
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as f:
            for doc_id, text in rows:
                f.write(orjson.dumps({"id": doc_id, "text": text, "domain": domain}) + b"\n")
        counts[domain] = len(rows)
    return counts
