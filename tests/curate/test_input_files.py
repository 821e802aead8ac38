"""Inputs that are hostile as files or as values: each is a counted reject or read exactly, never a
traceback, a hang or a file read twice.

Covers Parquet values that are not UTF-8 (one bad row, not the whole file), integers beyond 64 bits in
metadata, symlink loops and broken links, unreadable and vanished files, FIFOs and sockets, and the
per-shard ``n_bytes`` of a stage resumed after a kill."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from curate.core.catalog import Catalog
from curate.ingest.tasks import IngestParams, InputSpec, pack_tasks, plan_tasks, run_job
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records

THREE = [{"text": f"Record {i} of a small file."} for i in range(3)]


def _query(run_dir: Path, sql: str) -> list[tuple]:
    with Catalog(run_dir, read_only=True) as cat:
        return cat.execute(sql)


def _funnel(run_dir: Path) -> tuple[int, int, int]:
    """(records the reader counted, documents, rejects): the first must be the sum of the others."""
    return _query(run_dir, "SELECT (SELECT sum(n_records) FROM ingest_files), (SELECT count(*) FROM documents),"
                           " (SELECT count(*) FROM rejects)")[0]


def _curate_run(tmp_path: Path, inputs: list[dict], prefix: list[str] = (), timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``curate run`` of a recipe over ``inputs`` in a child process (killed, with its group, on timeout)."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "hostile", "inputs": inputs}))
    cmd = [*prefix, sys.executable, "-m", "curate", "run", str(recipe), "--out", str(tmp_path / "run"), "--no-progress"]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, 9)
        child.communicate()
        pytest.fail(f"curate run did not finish within {timeout} s")
    return subprocess.CompletedProcess(cmd, child.returncode, out, err)


def _rejects(run_dir: Path) -> set[tuple[str, str]]:
    """(file name, reason) of every reject."""
    return {(Path(f).name, r) for f, r in _query(run_dir, "SELECT input_file, reason FROM rejects")}


# -- values ---------------------------------------------------------------------------------------


def test_a_parquet_value_that_is_not_utf8_rejects_its_row_only(tmp_path, run_recipe):
    texts = [f"Parquet row {i}.".encode() for i in range(300)]
    texts[150] = b"caf\xe9 au lait"
    titles = [b"fine"] * 300
    titles[7] = b"\xff title"
    table = pa.table({"text": pa.array(texts, pa.binary()).view(pa.string()),
                      "title": pa.array(titles, pa.binary()).view(pa.string()), "n": list(range(300))})
    (tmp_path / "p").mkdir()
    pq.write_table(table, tmp_path / "p" / "rows.parquet", row_group_size=100)
    summary = run_recipe({"inputs": [{"path": "p"}]})
    rejects = _query(summary.run_dir, "SELECT line, reason, field, excerpt FROM rejects ORDER BY line")
    assert [r[:3] for r in rejects] == [(8, "ingest.invalid_utf8", "title"), (151, "ingest.invalid_utf8", "text")]
    assert "\\xe9" in rejects[1][3]
    assert _query(summary.run_dir, "SELECT n_records FROM ingest_files") == [(300,)]
    assert _funnel(summary.run_dir) == (300, 298, 2)
    assert _query(summary.run_dir, "SELECT text FROM documents WHERE line = 152") == [("Parquet row 151.",)]


def test_integers_beyond_64_bits_in_metadata_stay_exact(tmp_path, run_recipe):
    big, small = 18446744073709551617, -(2**70) - 3
    write_jsonl(tmp_path / "big.jsonl", [b'{"id": 1, "text": "a", "n": %d, "deep": {"m": [%d, 2]}}' % (big, small),
                                         b'{"text": "no id, and a long number 12345678901234567890 in the text", "n": %d}' % big])
    for id_field in ("id", None):
        summary = run_recipe({"inputs": [{"path": "big.jsonl", "id_field": id_field}]}, run_name=f"run_{id_field}")
        metas = [m for (m,) in _query(summary.run_dir, "SELECT meta FROM documents ORDER BY line")]
        expected = ['{"deep":{"m":[%d,2]},"id":1,"n":%d}' % (small, big), '{"n":%d}' % big]
        assert metas == (expected[:1] if id_field else expected)  # with id_field, the record without one is a reject
        assert _query(summary.run_dir, "SELECT DISTINCT meta->>'n' FROM documents") == [(str(big),)]


# -- links ----------------------------------------------------------------------------------------


def test_looping_and_broken_links_are_counted_rejects(tmp_path, run_recipe):
    write_jsonl(tmp_path / "data" / "a.jsonl", THREE)
    (tmp_path / "data" / "loop.jsonl").symlink_to("loop.jsonl")
    (tmp_path / "data" / "gone.jsonl").symlink_to("nowhere.jsonl")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "note.txt").write_text("A note.")
    (tmp_path / "t" / "loop.txt").symlink_to("loop.txt")
    (tmp_path / "t" / "gone.md").symlink_to("nowhere.md")
    summary = run_recipe({"inputs": [{"path": "data/*.jsonl"}, {"path": "t", "source": "notes"}]})
    assert _rejects(summary.run_dir) == {(name, "ingest.broken_link") for name in ("loop.jsonl", "gone.jsonl", "loop.txt", "gone.md")}
    excerpts = [e for (e,) in _query(summary.run_dir, "SELECT excerpt FROM rejects")]
    assert any(str(tmp_path / "t" / "loop.txt") in e for e in excerpts)
    assert _funnel(summary.run_dir) == (8, 4, 4)


def test_a_directory_loop_reads_each_file_once(tmp_path, run_recipe):
    write_jsonl(tmp_path / "data" / "a.jsonl", THREE)
    write_jsonl(tmp_path / "data" / "sub" / "b.jsonl", THREE[:2])
    (tmp_path / "data" / "sub" / "back").symlink_to("..")
    (tmp_path / "t" / "sub").mkdir(parents=True)
    (tmp_path / "t" / "one.txt").write_text("One note.")
    (tmp_path / "t" / "sub" / "two.txt").write_text("Two notes.")
    (tmp_path / "t" / "sub" / "back").symlink_to("..")
    (tmp_path / "data" / "alias.jsonl").symlink_to("a.jsonl")  # one file under two names: read once
    summary = run_recipe({"inputs": [{"path": "data/**/*.jsonl"}, {"path": "t/**", "source": "notes"}]})
    files = _query(summary.run_dir, "SELECT input_file, count(*) FROM documents GROUP BY ALL ORDER BY ALL")
    base = str(tmp_path)
    assert files == [(f"{base}/data/a.jsonl", 3), (f"{base}/data/sub/b.jsonl", 2), (f"{base}/t/one.txt", 1), (f"{base}/t/sub/two.txt", 1)]
    assert _funnel(summary.run_dir) == (7, 7, 0)


# -- files that cannot be read ----------------------------------------------------------------------


def _good_and_named(tmp_path: Path, name: str) -> list[Path]:
    """A readable JSONL file and note, plus a JSONL, gzipped JSONL, Parquet and text file called ``name``."""
    write_jsonl(tmp_path / "data" / "a.jsonl", THREE)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "note.txt").write_text("A note.")
    named = [tmp_path / "data" / f"{name}.jsonl", tmp_path / "data" / f"{name}.jsonl.gz", tmp_path / "data" / f"{name}.parquet",
             tmp_path / "t" / f"{name}.txt"]
    write_jsonl(named[0], THREE)
    write_jsonl(named[1], THREE)
    pq.write_table(pa.table({"text": ["a parquet row"]}), named[2])
    named[3].write_text(f"The {name} note.")
    return named


def test_files_gone_between_planning_and_reading_are_counted_rejects(tmp_path):
    gone = _good_and_named(tmp_path, "gone")
    params = IngestParams()
    tasks = plan_tasks([InputSpec(path="data"), InputSpec(path="t")], params, tmp_path)
    for path in gone:
        path.unlink()
    (tmp_path / "out" / "docs" / "_tasks").mkdir(parents=True)
    jobs = pack_tasks(tasks, params, {t.path: 100 for t in tasks})
    results = [run_job(job, params, str(tmp_path / "out")) for job in jobs]
    assert sum(r["n_docs"] for r in results) == 4
    rejects = pa.concat_tables(pq.read_table(p) for p in sorted((tmp_path / "out" / "docs" / "_rejects").glob("*.parquet")))
    got = {(f, r) for f, r in zip(rejects["input_file"].to_pylist(), rejects["reason"].to_pylist(), strict=True)}
    assert got == {(str(path), "ingest.vanished_file") for path in gone}
    assert all("no longer exists" in e for e in rejects["excerpt"].to_pylist())


def _without_root_reads() -> list[str]:
    """A command prefix under which chmod 000 blocks reads: none for a normal user; for root, a child
    without the capabilities that let root read any file (util-linux setpriv). Skips when neither works."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"] if setpriv else []
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"mixlab_probe_{os.getpid()}"
    probe.write_text("x")
    probe.chmod(0)
    try:
        blocked = bool(prefix) and subprocess.run([*prefix, "cat", str(probe)], capture_output=True).returncode != 0
    finally:
        probe.unlink()
    if not blocked:
        pytest.skip("running as root, where chmod 000 does not block reads, and setpriv cannot drop that")
    return prefix


def test_unreadable_files_are_counted_rejects(tmp_path):
    prefix = _without_root_reads()
    for path in _good_and_named(tmp_path, "locked"):
        path.chmod(0)
    done = _curate_run(tmp_path, [{"path": "data"}, {"path": "t", "source": "notes"}], prefix)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    run = tmp_path / "run"
    assert _rejects(run) == {(n, "ingest.unreadable_file") for n in ("locked.jsonl", "locked.jsonl.gz", "locked.parquet", "locked.txt")}
    assert _funnel(run) == (8, 4, 4)


def test_fifos_and_sockets_are_rejects_and_never_hang_a_run(tmp_path):
    write_jsonl(tmp_path / "data" / "a.jsonl", THREE)
    os.mkfifo(tmp_path / "data" / "pipe.jsonl")
    os.mkfifo(tmp_path / "data" / "pipe.parquet")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "note.txt").write_text("A note.")
    os.mkfifo(tmp_path / "t" / "pipe.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "t" / "sock.md"))
        done = _curate_run(tmp_path, [{"path": "data/*"}, {"path": "t", "source": "notes"}], timeout=90)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    run = tmp_path / "run"
    assert _rejects(run) == {(n, "ingest.not_a_regular_file") for n in ("pipe.jsonl", "pipe.parquet", "pipe.txt", "sock.md")}
    excerpts = sorted(e for (e,) in _query(run, "SELECT excerpt FROM rejects"))
    assert any("is a FIFO, not a regular file" in e for e in excerpts) and any("is a socket" in e for e in excerpts)
    assert _funnel(run) == (8, 4, 4)


# -- a stage resumed after a kill -----------------------------------------------------------------------


def test_shards_finished_before_a_kill_keep_their_n_bytes(tmp_path, run_recipe):
    write_jsonl(tmp_path / "data" / "in.jsonl", to_records(make_corpus(120, seed=5)))
    recipe = {"inputs": [{"path": "data/in.jsonl", "id_field": "id"}],
              "ingest": {"shard_docs": 20}, "stages": [{"stage": "length_filter", "min_chars": 600}]}
    run_dir = run_recipe(recipe).run_dir
    shards_sql = "SELECT shard, n_in, n_kept, n_bytes FROM shards WHERE stage = 'length_filter' ORDER BY shard"
    reference = _query(run_dir, shards_sql)
    assert len(reference) > 2 and all(row[3] for row in reference)
    # what a kill in the middle of the stage leaves: some parts written, the stage not recorded
    with Catalog(run_dir) as cat:
        cat.forget_stage("length_filter")
    (run_dir / "stages" / "length_filter" / f"{reference[-1][0]}.parquet").unlink()
    run_recipe(recipe)
    assert _query(run_dir, shards_sql) == reference
