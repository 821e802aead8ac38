"""Kill -9 in the middle of a run, run again: the final catalog equals an uninterrupted run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import yaml

from curate.catalog import Catalog
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records

TABLES = {
    "documents": "SELECT * EXCLUDE (input_file) FROM documents ORDER BY doc_id",
    "decisions": "SELECT * FROM decisions ORDER BY doc_id",
    "rejects": "SELECT * EXCLUDE (input_file) FROM rejects ORDER BY line",
    "stages": "SELECT stage, kind, position, fingerprint, n_in, n_kept, n_dropped FROM stages ORDER BY position",
    "shards": "SELECT stage, shard, n_in, n_kept, n_dropped FROM shards ORDER BY stage, shard",
    "signals": "SELECT * EXCLUDE (input_file) FROM doc_signals ORDER BY doc_id",
}


def _write_recipe(folder: Path) -> Path:
    docs = to_records(make_corpus(1500, seed=3))
    lines = [r for i, r in enumerate(docs) if i % 50]  # most docs
    write_jsonl(folder / "data" / "in.jsonl", lines + [{"bad": "record"}])
    recipe = {
        "name": "resume",
        "inputs": [{"path": "data/in.jsonl", "id_field": "id"}],
        "ingest": {"shard_docs": 3},
        "stages": [{"stage": "length_filter", "min_chars": 900}],
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _run(recipe: Path, out: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "curate", "run", str(recipe), "--out", str(out), "--workers", "2", "--no-progress"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _snapshot(run_dir: Path) -> dict[str, pl.DataFrame]:
    with Catalog(run_dir, read_only=True) as cat:
        return {name: cat.query(q) for name, q in TABLES.items()}


def test_kill_and_resume_gives_an_identical_catalog(tmp_path):
    recipe = _write_recipe(tmp_path)
    reference = _run(recipe, tmp_path / "ref")
    assert reference.wait(timeout=300) == 0, reference.stderr.read().decode()

    victim = _run(recipe, tmp_path / "killed")
    stage_dir = tmp_path / "killed" / "stages" / "length_filter"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(stage_dir.glob("part-*.parquet"))) < 20:
        time.sleep(0.01)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    done = len(list(stage_dir.glob("part-*.parquet")))
    total = len(list((tmp_path / "killed" / "docs").glob("part-*.parquet")))
    assert 0 < done < total, "the kill should land in the middle of the stage"

    resumed = _run(recipe, tmp_path / "killed")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    ref, got = _snapshot(tmp_path / "ref"), _snapshot(tmp_path / "killed")
    for name in TABLES:
        assert ref[name].height > 0, name
        assert got[name].equals(ref[name]), name
