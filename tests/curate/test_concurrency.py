"""Two processes on one run folder: a second `curate run` is refused naming the first; readers read a snapshot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate.core.catalog import Catalog, access
from tests.curate.test_resume import _run, _write_recipe


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120)


def test_a_second_run_is_refused_and_readers_read_a_snapshot_during_a_run(tmp_path):
    recipe, out = _write_recipe(tmp_path), tmp_path / "run"
    first = _run(recipe, out)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "docs" / "_tasks").exists():  # the run has begun ingesting
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGSTOP)  # hold it mid-run, locks and all, while the others try
    try:
        second = _cli("curate", "run", str(recipe), "--out", str(out), "--no-progress")
        report = _cli("reports", "show", "funnel", str(out), "--format", "csv")
        running = _cli("curate", "sql", str(out), "SELECT status FROM runs", "--format", "csv")
        status = _cli("curate", "status", str(out))
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()

    assert second.returncode == 2
    refusal = " ".join(second.stderr.split())
    assert "is in use by `curate run" in refusal and f"(pid {first.pid}, started " in refusal
    assert "Traceback" not in second.stderr
    assert report.returncode == 0 and report.stdout.startswith("position,stage,"), report.stderr
    assert "reading its snapshot" in report.stderr and f"pid {first.pid}" in report.stderr
    assert running.returncode == 0 and running.stdout.split() == ["status", "running"], running.stderr
    assert status.returncode == 0 and "running" in status.stdout, status.stderr
    with Catalog(out, read_only=True) as cat:
        assert cat.query("SELECT status FROM runs")["status"].to_list() == ["done"]


def test_readers_early_in_a_run_are_told_a_run_is_starting(tmp_path: Path):
    tmp_path.mkdir(exist_ok=True)
    access.acquire(tmp_path)
    try:
        with pytest.raises(access.RunBusy, match=r"is starting run .*pid \d+|pid \d+.* is starting run"):
            Catalog(tmp_path, read_only=True)
    finally:
        access.release(tmp_path)
    with pytest.raises(FileNotFoundError, match="run `curate run` first"):
        Catalog(tmp_path, read_only=True)
