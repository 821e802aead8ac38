"""Processes die with their driver: a `curate run` (or a train sweep, tests/train/test_sweep.py) killed with SIGKILL
leaves no worker behind; so does a process watching its parent without prctl, and a command run by `run_bound`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from tests.curate.test_resume import _run, _write_recipe


def _workers(driver: psutil.Process) -> list[psutil.Process]:
    found = []
    for child in driver.children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def _kill_and_expect_orphans_gone(parent: subprocess.Popen, orphans: list[psutil.Process]) -> None:
    """SIGKILL ``parent`` only (as a user's kill -9 does, not its process group); every orphan must end within 5 s."""
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    _gone, alive = psutil.wait_procs(orphans, timeout=5)
    for survivor in alive:
        survivor.kill()
    assert not alive, f"still running after their parent died: {[p.pid for p in alive]}"


def kill_driver_once_it_has_two_workers(victim: subprocess.Popen) -> None:
    """SIGKILL ``victim`` as soon as it runs two pool workers; fail unless every process it started dies within 5 s."""
    driver = psutil.Process(victim.pid)
    deadline = time.time() + 120
    while time.time() < deadline and victim.poll() is None and len(_workers(driver)) < 2:
        time.sleep(0.05)
    assert len(_workers(driver)) == 2, "the driver should have started its two workers"
    _kill_and_expect_orphans_gone(victim, driver.children(recursive=True))  # the workers and multiprocessing's resource tracker


def test_killing_a_curate_run_kills_its_workers(tmp_path):
    kill_driver_once_it_has_two_workers(_run(_write_recipe(tmp_path), tmp_path / "run"))  # --workers 2, every task in a worker


def _parent_of(child_code: str, spawn: str) -> tuple[subprocess.Popen, psutil.Process]:
    """A parent process running ``child_code`` as its child through ``spawn`` (code that uses ``cmd``); the child
    prints its pid first."""
    code = f"import subprocess, sys, time\ncmd = [sys.executable, '-c', {child_code!r}]\n{spawn}\ntime.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    return parent, psutil.Process(int(parent.stdout.readline()))


def test_the_portable_parent_watch_ends_an_orphan_without_prctl():
    child = ("import os, sys, time\nsys.platform = 'darwin'  # no prctl: the parent watch alone must end this process\n"
             "from curate.core.workers import die_with_parent\ndie_with_parent(os.getppid())\nprint(os.getpid(), flush=True)\ntime.sleep(60)")
    parent, orphan = _parent_of(child, "subprocess.Popen(cmd)")
    _kill_and_expect_orphans_gone(parent, [orphan])


def test_a_command_run_bound_dies_with_its_parent():
    child = "import os, time; print(os.getpid(), flush=True); time.sleep(60)"
    parent, orphan = _parent_of(child, "from curate.core.workers import run_bound\nrun_bound(cmd)")
    _kill_and_expect_orphans_gone(parent, [orphan])
