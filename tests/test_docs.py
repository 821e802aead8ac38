"""The docs name only things that exist: every Python name and every source path in README.md and docs/*.md.

A dotted name (``curate.dedup.minhash.to_lean_minhash``, ``reports.query``) must import: the longest
prefix that is a module, then attributes. A path into the source tree (``curate/dedup/shingles.py``,
``tests/benchmarks/bench_dedup.py``) must exist (globs must match; templated ``<name>`` parts are skipped).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = r"(?:curate|train|reports|sql)"
NAME_RE = re.compile(rf"(?<![\w./-]){TOP}(?:\.[A-Za-z_]\w*)+")
FILE_SUFFIXES = {"md", "py", "sql", "html", "yaml", "json", "png", "txt"}  # reports.md is a link, not a name
PATH_RE = re.compile(rf"(?<![\w./<>-])(?:{TOP}|tests)/[\w./*<>-]*\w")


def mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """(where, text) for each match in the docs, ``where`` as ``file:line``."""
    return [(f"{doc.relative_to(ROOT)}:{n}", m.group(0)) for doc in DOCS
            for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1) for m in pattern.finditer(line)]


def resolves(dotted: str) -> bool:
    """Whether ``dotted`` is a module, or a module followed by attributes that exist."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_docs_exist_and_link_each_other():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [doc.name for doc in DOCS[1:] if f"(docs/{doc.name})" not in readme]
    assert len(DOCS) > 10 and missing == []


NAMES = sorted({(where, name) for where, name in mentions(NAME_RE) if name.rsplit(".", 1)[1] not in FILE_SUFFIXES})


@pytest.mark.parametrize(("where", "name"), NAMES)
def test_python_names_in_docs_exist(where, name):
    assert resolves(name), f"{where}: {name} does not import"


def test_source_paths_in_docs_exist():
    missing = [f"{where}: {path}" for where, path in mentions(PATH_RE) if "<" not in path
               and not (any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists())]
    assert missing == []


def _anchors(doc: Path) -> set[str]:
    """GitHub's heading anchors: lowercased, punctuation dropped, spaces to hyphens."""
    heads = [line.lstrip("#").strip() for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in heads}


def test_links_between_docs_resolve():
    broken = []
    for where, link in mentions(re.compile(r"\]\(([^)\s]+)\)")):
        target, _, anchor = link[2:-1].partition("#")
        if target.startswith(("http://", "https://")):
            continue
        doc = ROOT / where.split(":")[0]
        path = (doc.parent / target).resolve() if target else doc
        if not path.exists() or (anchor and anchor not in _anchors(path)):
            broken.append(f"{where}: {link[2:-1]}")
    assert broken == []
