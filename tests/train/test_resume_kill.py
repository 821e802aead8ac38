"""kill -9 in the middle of `train run`, run it again: the same final loss and checkpoint evaluations as an
uninterrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate.core.catalog import Catalog
from tests.train.conftest import build_run
from train.tokenizer import train_tokenizer

ARGS = ["--mixture", "all", "--preset", "pico", "--tokens", str(60 * 16 * 128), "--device", "cpu", "--threads", "1",
        "--checkpoint-every", "5"]


def _train(run_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "train", "run", str(run_dir), *ARGS], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2])


def _final_loss(run_dir: Path) -> float:
    with Catalog(run_dir, read_only=True) as cat:
        return cat.query("SELECT final_train_loss FROM train_runs")["final_train_loss"][0]


def _checkpoint_bpb(run_dir: Path) -> list[tuple[int, str, float]]:
    with Catalog(run_dir, read_only=True) as cat:
        return cat.query("SELECT step, eval_set, value FROM checkpoint_evals ORDER BY step, eval_set").rows()


@pytest.mark.slow
def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path):
    whole, killed = build_run(tmp_path / "whole"), build_run(tmp_path / "killed")
    train_tokenizer(whole, 600)
    shutil.copytree(whole / "train", killed / "train")  # one tokenizer for both, as in a sweep
    assert _train(whole).wait() == 0
    proc = _train(killed)
    deadline = time.time() + 300
    while not list((killed / "train").glob("*/checkpoint.pt")) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Catalog(killed, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM train_runs")["n"][0] == 0  # it really died before finishing
    assert _train(killed).wait() == 0
    assert _final_loss(killed) == pytest.approx(_final_loss(whole), rel=1e-5)
    whole_evals, killed_evals = _checkpoint_bpb(whole), _checkpoint_bpb(killed)  # default eval_at: steps 15, 30, 45
    assert sorted({s for s, _, _ in killed_evals}) == [15, 30, 45] and [r[:2] for r in killed_evals] == [r[:2] for r in whole_evals]
    assert [r[2] for r in killed_evals] == pytest.approx([r[2] for r in whole_evals], rel=1e-5)
