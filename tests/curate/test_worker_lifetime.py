"""Pool workers die with their driver: a `curate run` killed with SIGKILL leaves no process behind."""

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


def kill_driver_once_it_has_two_workers(victim: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``victim`` as soon as it runs two pool workers; fail unless every process it started dies within 5 s."""
    driver = psutil.Process(victim.pid)
    deadline = time.time() + 120
    while time.time() < deadline and victim.poll() is None and len(_workers(driver)) < 2:
        time.sleep(0.05)
    assert len(_workers(driver)) == 2, "the driver should have started its two workers"
    descendants = driver.children(recursive=True)  # the workers and multiprocessing's resource tracker
    os.kill(victim.pid, signal.SIGKILL)  # the driver only, as a user's kill -9 does (not its process group)
    victim.wait()
    _gone, alive = psutil.wait_procs(descendants, timeout=5)
    for survivor in alive:
        survivor.kill()
    assert not alive, f"still running after the driver died: {[p.pid for p in alive]}"


def test_killing_a_curate_run_kills_its_workers(tmp_path):
    kill_driver_once_it_has_two_workers(_run(_write_recipe(tmp_path), tmp_path / "run"))  # --workers 2, every task in a worker


CHILD = """
import os, sys, time
sys.platform = "darwin"  # no prctl: the portable parent watch alone must end this process
from curate.workers import die_with_parent
die_with_parent(os.getppid())
print("armed", flush=True)
time.sleep(60)
"""
PARENT = f"""
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {CHILD!r}], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline() == "armed\\n"
print(child.pid, flush=True)
time.sleep(60)
"""


def test_the_portable_parent_watch_ends_an_orphan_without_prctl():
    parent = psutil.Popen([sys.executable, "-c", PARENT], stdout=-1, text=True, cwd=os.getcwd())
    child = psutil.Process(int(parent.stdout.readline()))
    parent.kill()
    parent.wait()
    _gone, alive = psutil.wait_procs([child], timeout=5)
    for survivor in alive:
        survivor.kill()
    assert not alive
