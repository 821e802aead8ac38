"""Kill -9 in the middle of a run, run again: the final catalog equals an uninterrupted run's.

The fast test kills inside a per-shard stage; the slow ones kill at each kind of step of a fuller recipe:
ingest, minhash signatures, topic assignment, diversity, and the final catalog write; inside the two
rewrite stages (line_dedup's text pass, pii); and between the ingest jobs of WARC files (HTML extraction)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from curate.core.catalog import Catalog
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records
from tests.rewrite_planted import BOILERPLATE, boilerplate_pages, pii_pages

TABLES = {
    "documents": "SELECT * EXCLUDE (input_file) FROM documents ORDER BY doc_id",
    "decisions": "SELECT * FROM decisions ORDER BY doc_id",
    "rejects": "SELECT * EXCLUDE (input_file) FROM rejects ORDER BY line",
    "stages": "SELECT stage, kind, position, fingerprint, n_in, n_kept, n_dropped FROM stages ORDER BY position",
    "shards": "SELECT stage, shard, n_in, n_kept, n_dropped, n_bytes FROM shards ORDER BY stage, shard",
    "signals": "SELECT * EXCLUDE (input_file) FROM doc_signals ORDER BY doc_id",
}


FULL_STAGES = [
    {"stage": "length_filter", "min_chars": 200},
    {"stage": "minhash_dedup"},
    {"stage": "topics", "k": 5, "sample_size": 500},
    {"stage": "diversity", "sample_size": 100, "n_boot": 2},
]
FULL_TABLES = {
    **TABLES,
    "dup_clusters": "SELECT * FROM dup_clusters ORDER BY ALL",
    "topic_labels": "SELECT * FROM topic_labels ORDER BY topic_id",
}


def _write_recipe(folder: Path, full: bool = False) -> Path:
    docs = to_records(make_corpus(1500, seed=3))
    lines = [r for i, r in enumerate(docs) if i % 50]  # most docs
    write_jsonl(folder / "data" / "in.jsonl", lines + [{"bad": "record"}])
    recipe = {
        "name": "resume",
        "inputs": [{"path": "data/in.jsonl", "id_field": "id"}],
        "ingest": {"shard_docs": 25, "split_bytes": 32_768, "pack_min_bytes": 1} if full else {"shard_docs": 3},  # several ingest jobs to kill between
        "stages": FULL_STAGES if full else [{"stage": "length_filter", "min_chars": 900}],
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _run(recipe: Path, out: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "curate", "run", str(recipe), "--out", str(out), "--workers", "2", "--no-progress"]
    env = {**os.environ, "MIXLAB_FANOUT": "always"}  # killed while shards are in flight in the workers
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env)


def _snapshot(run_dir: Path, tables: dict[str, str] = TABLES) -> dict[str, pl.DataFrame]:
    with Catalog(run_dir, read_only=True) as cat:
        return {name: cat.query(q) for name, q in tables.items()}


def _statuses(run_dir: Path) -> list[str]:
    with Catalog(run_dir, read_only=True) as cat:
        return cat.query("SELECT status FROM runs ORDER BY started_at")["status"].to_list()


def _kill_when(victim: subprocess.Popen[bytes], folder: Path, pattern: str, count: int) -> int:
    """SIGKILL the run (and its workers) as soon as ``count`` files match; returns how many there were."""
    deadline = time.time() + 240
    while time.time() < deadline and len(list(folder.glob(pattern))) < count and victim.poll() is None:
        time.sleep(0.005)
    assert victim.poll() is None, "the run ended before the kill point"
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    return len(list(folder.glob(pattern)))


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
    assert _statuses(tmp_path / "killed") == ["interrupted", "done"]


@pytest.fixture(scope="module")
def full_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, pl.DataFrame]]:
    folder = tmp_path_factory.mktemp("resume_full")
    recipe = _write_recipe(folder, full=True)
    reference = _run(recipe, folder / "ref")
    assert reference.wait(timeout=600) == 0, reference.stderr.read().decode()
    return recipe, folder / "ref", _snapshot(folder / "ref", FULL_TABLES)


KILL_POINTS = {  # where: (folder under the run, files to wait for, fraction of those the reference run wrote)
    "ingest": ("docs/_tasks", "*.json", 1 / 3),
    "minhash": ("stages/minhash_dedup/signatures", "part-*.parquet", 1 / 3),
    "topics": ("stages/topics", "part-*.parquet", 1 / 3),
    "diversity": ("stages/diversity", "part-*.parquet", 1 / 3),
    "final_catalog_write": ("stages/diversity", "part-*.parquet", 1.0),
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_at_each_step_and_resume(tmp_path, full_reference, point):
    recipe, ref_dir, ref = full_reference
    folder, pattern, fraction = KILL_POINTS[point]
    total = len(list((ref_dir / folder).glob(pattern)))
    out = tmp_path / "killed"
    victim = _run(recipe, out)
    done = _kill_when(victim, out / folder, pattern, max(1, round(total * fraction)))
    if fraction < 1:
        assert 0 < done < total, f"the kill should land in the middle of {point}"
    _resume_and_compare(recipe, out, ref, FULL_TABLES)
    assert _statuses(out) == ["interrupted", "done"]


def _resume_and_compare(recipe: Path, out: Path, ref: dict[str, pl.DataFrame], tables: dict[str, str]) -> None:
    """Run the killed recipe again: every table is non-empty and equals the uninterrupted run's."""
    resumed = _run(recipe, out)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read().decode()
    got = _snapshot(out, tables)
    for name in tables:
        assert ref[name].height > 0, name
        assert got[name].equals(ref[name]), name


REWRITE_TABLES = {**TABLES, "rewrites": "SELECT * FROM rewrites ORDER BY doc_id, stage", "original": "SELECT doc_id, text FROM original_documents ORDER BY doc_id"}


@pytest.fixture(scope="module")
def rewrite_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, pl.DataFrame]]:
    """Pages with planted boilerplate and PII through line_dedup then pii, 60 shards."""
    folder = tmp_path_factory.mktemp("resume_rewrite")
    pages = boilerplate_pages(300, seed=3) + pii_pages(300, seed=4)
    extra = [{"id": "only-boilerplate", "text": BOILERPLATE[3]}, {"bad": "record"}]  # a decision and a reject
    write_jsonl(folder / "data" / "in.jsonl", [{"id": p.doc_id, "text": p.text} for p in pages] + extra)
    recipe = {"name": "resume-rewrite", "inputs": [{"path": "data/in.jsonl", "id_field": "id"}], "ingest": {"shard_docs": 10},
              "stages": [{"stage": "line_dedup", "max_docs": 20}, {"stage": "pii"}]}
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    reference = _run(folder / "recipe.yaml", folder / "ref")
    assert reference.wait(timeout=600) == 0, reference.stderr.read().decode()
    return folder / "recipe.yaml", folder / "ref", _snapshot(folder / "ref", REWRITE_TABLES)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["line_dedup", "pii"])
def test_kill_in_a_rewrite_stage_and_resume(tmp_path, rewrite_reference, stage):
    recipe, ref_dir, ref = rewrite_reference
    total = len(list((ref_dir / "stages" / stage / "text").glob("part-*.parquet")))
    out = tmp_path / "killed"
    done = _kill_when(_run(recipe, out), out / "stages" / stage / "text", "part-*.parquet", total // 3)
    assert 0 < done < total, f"the kill should land in the middle of {stage}"
    _resume_and_compare(recipe, out, ref, REWRITE_TABLES)


@pytest.mark.slow  # three runs in subprocesses: ~25 s on 2 loaded cores
def test_kill_during_warc_extraction_and_resume_gives_an_identical_catalog(tmp_path):
    """WARC input: killed between ingest jobs (one per file, one file damaged), resumed: the same catalog."""
    from tests.warcs import generated_pages, page_records, write_warc

    pages = generated_pages(16 * 40, seed=5)
    for i in range(16):
        offsets = write_warc(tmp_path / "crawl" / f"c{i:02d}.warc.gz", page_records(pages[i * 40 : (i + 1) * 40]))
        if i == 7:  # a corrupt record: counted the same way in both runs
            damaged = bytearray((tmp_path / "crawl" / f"c{i:02d}.warc.gz").read_bytes())
            damaged[offsets[9] + 40 : offsets[9] + 80] = b"X" * 40
            (tmp_path / "crawl" / f"c{i:02d}.warc.gz").write_bytes(bytes(damaged))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "web", "inputs": [{"path": "crawl"}], "ingest": {"pack_bytes": 1},
                                      "stages": [{"stage": "url"}]}))
    reference = _run(recipe, tmp_path / "ref")
    assert reference.wait(timeout=300) == 0, reference.stderr.read().decode()

    victim = _run(recipe, tmp_path / "killed")
    done = _kill_when(victim, tmp_path / "killed" / "docs" / "_tasks", "*.json", 3)
    assert 0 < done < 16, "the kill should land in the middle of ingest"
    resumed = _run(recipe, tmp_path / "killed")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    tables = {**TABLES, "rejects": "SELECT * FROM rejects ORDER BY input_file, line"}
    ref, got = _snapshot(tmp_path / "ref", tables), _snapshot(tmp_path / "killed", tables)
    for name in tables:
        assert got[name].equals(ref[name]), name
    assert ref["documents"].height == 16 * 40 - 1 and "ingest.warc_corrupt" in ref["rejects"]["reason"].to_list()
