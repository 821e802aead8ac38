"""The pool runs small steps in the driver and fans large ones out to its workers (curate.pipeline.fanout)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from curate.pipeline import fanout
from curate.pipeline.executor import Pool
from curate.pipeline.fanout import InlineProbe, pays_to_fan_out


def pid_after(seconds: float) -> int:
    """Wait (a task of known length, no CPU) and name the process that ran it."""
    time.sleep(seconds)
    return os.getpid()


@pytest.mark.parametrize(("mean_s", "left", "workers", "busy", "expected"), [
    (0.05, 8, 2, 0.0, False),   # 0.4 s left: 0.2 s saved, less than starting the workers (0.5 s)
    (0.5, 8, 2, 0.0, True),     # 4 s left, 2 free cores: 2 s saved
    (0.2, 8, 2, 1.0, False),    # 1.6 s left beside one busy core: 2 workers get 4/3 of a core, 0.4 s saved
    (2.0, 8, 2, 1.0, True),     # 16 s left beside one busy core: 4 s saved
    (9.0, 8, 1, 0.0, False),    # one worker: nothing to gain
    (9.0, 1, 2, 0.0, False),    # one task left: nothing to split
    (0.5, 8, 4, 1.9, True),     # 4 workers, 2 cores, one nearly busy: share 2*4/5.9 = 1.36, 1.06 s saved
])
def test_fan_out_when_the_remaining_work_outweighs_starting_workers(mean_s, left, workers, busy, expected):
    assert pays_to_fan_out(mean_s, left, workers, busy, n_cores=2, startup_s=0.5) is expected


def probe_after(*walls: float, busy: float = 0.0) -> InlineProbe:
    probe = InlineProbe(workers=2, n_cores=2)
    for wall in walls:
        probe.record(wall, busy * wall)
    return probe


def test_the_first_task_pays_one_time_costs_so_the_decision_waits_for_the_second():
    assert not probe_after(0.8).fan_out(20, booted=True)  # 0.8 s might be a model load: run another
    assert not probe_after(0.8, 0.02).fan_out(20, booted=True)  # it was: 20 x 0.02 s left
    assert probe_after(0.8, 0.3).fan_out(20, booted=True)  # 6 s left: 3 s saved
    assert probe_after(6.0).fan_out(3, booted=False)  # a long first task is mostly work: 18 s left


def test_starting_the_pool_and_each_workers_one_time_costs_count_against_fanning_out():
    # 8 x 0.2 s left, 0.8 s saved on 2 free cores: pays once the pool is up, not when it must boot (0.6 s)
    assert probe_after(0.2, 0.2).fan_out(8, booted=True)
    assert not probe_after(0.2, 0.2).fan_out(8, booted=False)
    # a 1 s one-time cost (first task 1.2 s, then 0.2 s) is paid again by every worker
    assert not probe_after(1.2, 0.2).fan_out(8, booted=True)


def test_a_busy_neighbour_lowers_the_expected_speed_up():
    assert probe_after(0.2, 0.2, busy=0.0).fan_out(7, booted=True)  # 1.4 s left: 0.7 s saved on 2 free cores
    assert not probe_after(0.2, 0.2, busy=1.0).fan_out(7, booted=True)  # 0.35 s saved with 4/3 of a core


def test_small_steps_run_in_the_driver_without_starting_a_worker():
    pool = Pool(2, fanout="auto")
    seen: list[int] = []
    try:
        pool.run(pid_after, [(0.001,)] * 6, seen.append)
        assert pool._executor is None
    finally:
        pool.close()
    assert seen == [os.getpid()] * 6


@pytest.fixture
def quiet_machine(monkeypatch):
    """Other programs use no CPU: the decision under test does not depend on what else this machine runs."""
    monkeypatch.setattr(fanout, "_busy_cpu_s", fanout._own_cpu_s)


def test_large_steps_fan_out_after_two_tasks_and_keep_every_result(quiet_machine):
    pool = Pool(2, fanout="auto")
    seen: list[int] = []
    try:
        pool.run(pid_after, [(0.3,)] * 20, seen.append)
    finally:
        pool.close()
    assert len(seen) == 20
    assert seen[:2] == [os.getpid()] * 2  # timed in the driver
    assert os.getpid() not in seen[2:]  # 5.4 s left: 2.7 s saved (1.35 s even beside a busy core)


def test_always_sends_every_task_to_a_worker(monkeypatch):
    monkeypatch.setenv("MIXLAB_FANOUT", "always")
    pool = Pool(2)
    seen: list[int] = []
    try:
        pool.run(pid_after, [(0.001,)] * 3, seen.append)
    finally:
        pool.close()
    assert os.getpid() not in seen


def test_an_unknown_fanout_mode_is_refused(monkeypatch):
    monkeypatch.setenv("MIXLAB_FANOUT", "sometimes")
    with pytest.raises(ValueError, match="MIXLAB_FANOUT='sometimes'"):
        Pool(2)


def test_the_probe_counts_other_programs_cpu_and_not_its_own(monkeypatch):
    """1.5 CPU seconds used on the machine during 1 s of a task, 0.5 of them the driver's own: 1 core elsewhere."""
    readings = {"wall": [0.0, 1.0], "busy": [10.0, 11.5], "own": [3.0, 3.5]}
    monkeypatch.setattr(fanout, "time", SimpleNamespace(perf_counter=lambda: readings["wall"].pop(0)))
    monkeypatch.setattr(fanout, "_busy_cpu_s", lambda: readings["busy"].pop(0))
    monkeypatch.setattr(fanout, "_own_cpu_s", lambda: readings["own"].pop(0))
    probe = InlineProbe(workers=2, n_cores=2)
    with probe:
        pass
    assert probe.busy_elsewhere == pytest.approx(1.0)
    assert probe.fan_out(tasks_left=7, booted=True) is False  # one task timed: it may carry one-time costs


@pytest.mark.slow  # real CPU counters beside a real burner: a band that a loaded machine can break
def test_the_probe_sees_a_cpu_burning_neighbour_and_not_its_own_work():
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # the burner is running
        probe = InlineProbe(workers=2, n_cores=os.cpu_count() or 1)
        with probe:
            end = time.perf_counter() + 0.5
            while time.perf_counter() < end:  # the driver's own CPU: not counted as someone else's
                pass
    finally:
        burner.kill()
        burner.wait()
    assert 0.5 < probe.busy_elsewhere < 1.6
