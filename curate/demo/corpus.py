"""Build the demo corpus from real English text found on this machine (read at run time, never committed).

Domains (the ``source`` of each document), all English, each a different kind of technical writing:

- ``python_docs``: the topics of Python's own documentation (``pydoc_data.topics``), split into sections;
- ``package_docs``: READMEs and package descriptions (METADATA) of installed Python packages;
- ``licenses``: licence files of installed Python packages and Debian ``copyright`` files (natural
  near-duplicates: many MIT/BSD/Apache texts differ only in names and years);
- ``changelogs``: Debian package changelogs (``/usr/share/doc/*/changelog*.gz``);
- ``man_commands``, ``man_syscalls``, ``man_library``, ``man_formats``, ``man_overview``, ``man_admin``:
  English man pages of sections 1, 2, 3, 5, 7 and 8, troff markup stripped.

Each domain is written as ``<out>/<domain>.jsonl.gz`` with fields ``id``, ``text``, ``domain``. Its
documents are drawn in a seeded order until ``max_bytes`` of text, each cut to ``max_doc_chars`` at a
paragraph boundary: the corpus has a bounded, seeded size whatever is installed, so the demo's time does
not grow with the packages on the machine. Translated man pages (``man_pages()`` lists every language)
are not part of it: the demo's study varies topics within one language.
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


def package_files(kind: str, roots: list[Path] | None = None) -> Iterator[tuple[str, str]]:
    """README/METADATA (kind='docs') or LICENSE/COPYING (kind='licenses') files of installed packages, by id.

    The id is the file's path below its site-packages folder (``site:<pkg>-<version>.dist-info/METADATA``), not
    where that folder lives: the same packages give the same ids, so the same seeded sample, wherever the
    virtual environment was made. A path found in two site-packages folders is taken once (the smaller text
    when they differ, so the choice does not depend on the folders' names). ``roots``: the site-packages
    folders to read (default: this interpreter's and its siblings').
    """
    names = ("LICENSE", "LICENCE", "COPYING", "NOTICE") if kind == "licenses" else ("README", "METADATA", "DESCRIPTION")
    found: dict[str, str] = {}
    for root in _site_dirs() if roots is None else roots:
        for path in sorted(root.glob("*/*")):
            if path.is_file() and path.name.upper().startswith(names) and path.suffix in ("", ".txt", ".md", ".rst"):
                text, doc_id = _read(path), f"site:{path.relative_to(root)}"
                if text and (doc_id not in found or text < found[doc_id]):
                    found[doc_id] = text
    yield from sorted(found.items())


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


MAN_SECTIONS = {"1": "man_commands", "2": "man_syscalls", "3": "man_library", "5": "man_formats", "7": "man_overview", "8": "man_admin"}
MIN_DOCS = 20  # a domain with fewer documents cannot hold a panel set and a training share


def cut_at_paragraph(text: str, max_chars: int) -> str:
    """The text up to ``max_chars``, ending at the last paragraph break before the cut when there is one."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    cut = head.rfind("\n\n")
    return head[:cut] if cut > max_chars // 2 else head


def _seeded(items: list, seed: int, domain: str) -> list:
    items = sorted(items)
    random.Random(f"{seed}:{domain}").shuffle(items)
    return items


def english_domains(seed: int) -> dict[str, Iterator[tuple[str, str]]]:
    """Every domain as a lazy stream of (id, text) in a seeded order (files are read only when taken)."""
    domains: dict[str, Iterator[tuple[str, str]]] = {
        "python_docs": iter(_seeded(list(python_docs()), seed, "python_docs")),
        "package_docs": iter(_seeded(list(package_files("docs")), seed, "package_docs")),
        "licenses": iter(_seeded([*package_files("licenses"), *debian_docs("licenses")], seed, "licenses")),
        "changelogs": iter(_seeded(list(debian_docs("changelogs")), seed, "changelogs")),
    }
    english = man_pages().get("en", [])
    for section, name in MAN_SECTIONS.items():
        files = [f for f in english if f.parent.name == f"man{section}"]
        domains[name] = _man_docs(_seeded(files, seed, name))
    return domains


def build_demo_corpus(out_dir: Path, max_bytes: int, max_doc_chars: int = 8000, seed: int = 0) -> dict[str, tuple[int, int]]:
    """Write one JSONL.gz per domain under ``out_dir`` (domains with fewer than MIN_DOCS documents are left out);
    returns (documents, UTF-8 bytes) written per domain."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for domain, docs in english_domains(seed).items():
        rows, size = [], 0
        for doc_id, text in docs:
            if len(text.strip()) < _MIN_CHARS:
                continue
            text = cut_at_paragraph(text, max_doc_chars)
            rows.append((doc_id, text))
            size += len(text.encode("utf-8"))
            if size >= max_bytes:
                break
        if len(rows) < MIN_DOCS:
            continue
        path = out_dir / f"{domain}.jsonl.gz"
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as f:
            for doc_id, text in sorted(rows):
                f.write(orjson.dumps({"id": doc_id, "text": text, "domain": domain}) + b"\n")
        counts[domain] = (len(rows), size)
    return counts
