"""Shared fixtures: generated corpora written as input files, and a helper that runs a recipe."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner, RunSummary
from tests.corpus import make_corpus, to_records


def write_jsonl(path: Path, records: list[dict[str, Any]] | list[bytes]) -> Path:
    """Write records (dicts, or raw lines as bytes) as JSONL, gzipped when the name ends in .gz."""
    lines = [r if isinstance(r, bytes) else orjson.dumps(r) for r in records]
    data = b"".join(line + b"\n" for line in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one test worker per CPU this process may use, at most 4 (the end-to-end tests start pools of their
    own; more workers only contend for memory and cores)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    """200 generated documents over five domains, with planted duplicates, as data/corpus.jsonl."""
    return write_jsonl(tmp_path / "data" / "corpus.jsonl", to_records(make_corpus(200, seed=1)))


@pytest.fixture
def run_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., RunSummary]:
    """Run a recipe given as a dict (paths relative to tmp_path) into tmp_path/<run_name>.

    With ``workers > 1`` every task goes to a worker process (``MIXLAB_FANOUT=always``): these small
    corpora would otherwise run in the driver, and the tests compare the two paths."""

    def run(recipe: dict[str, Any], workers: int = 1, run_name: str = "run") -> RunSummary:
        parsed = parse_recipe({"name": "test", **recipe})
        monkeypatch.setenv("MIXLAB_FANOUT", "always" if workers > 1 else "auto")
        return RecipeRunner(parsed, tmp_path, tmp_path / run_name, workers=workers, progress=False).run()

    return run
