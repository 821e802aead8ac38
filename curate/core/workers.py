"""Worker processes that die with their driver: a pool never outlives the run that started it.

A driver killed with ``kill -9`` cannot shut its pool down, and a pool worker waits on its task queue
forever (it holds both ends of the queue's pipe, so it never reads end-of-file); it also keeps the
caller's stdout open, which hangs any script that waits for the command's output to end. So every worker
starts with :func:`start_worker`:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker when its parent dies. The
  signal fires when the *thread* that forked the worker ends, so pools are started from the thread
  that keeps using them (the driver's main thread, here), and the parent is checked again right after
  the call: a driver that died before it took effect is not seen by it;
- everywhere, a daemon thread that compares ``os.getppid()`` with the driver's pid each second (an
  orphan is adopted by another process) and exits the worker when they differ.

A command the driver runs as a child process (the demo runs ``train`` and ``reports`` so) is bound the
same way on Linux by :func:`run_bound`, which arms the signal between fork and exec.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import cache, partial
from multiprocessing import get_context

from curate.core.threads import apply_thread_limits

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_S = 1.0


@cache
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl`` on Linux (looked up before any fork: a child of a threaded process must not load libraries)."""
    return ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _arm_death_signal(parent_pid: int, prctl: Callable[..., int] | None) -> None:
    """Have the kernel send SIGKILL when the parent dies (where ``prctl`` exists); exit now if it died already."""
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit when ``parent_pid`` (its parent) dies, however it dies."""
    _arm_death_signal(parent_pid, _prctl())
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_S)
    os._exit(1)


def start_worker(parent_pid: int, threads: int) -> None:
    """A pool worker's initializer: die with the driver, and run under the driver's thread budget."""
    die_with_parent(parent_pid)
    apply_thread_limits(threads)


def run_bound(command: list[str], check: bool = True) -> int:
    """Run ``command`` to its end as a child that dies with this process (on Linux); its exit status."""
    arm = partial(_arm_death_signal, os.getpid(), _prctl())
    return subprocess.run(command, check=check, preexec_fn=arm).returncode  # noqa: PLW1509 - calls nothing but prctl and getppid


def process_pool(workers: int, threads: int) -> ProcessPoolExecutor:
    """A spawn-context pool of ``workers`` processes, each capped at ``threads`` threads and bound to this process."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=start_worker,
                               initargs=(os.getpid(), threads))
