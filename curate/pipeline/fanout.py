"""When to hand a step's tasks to worker processes, and when the driver should simply run them.

A worker's first task of a step pays costs the driver has already paid or never needs: booting the
process, importing the stage's modules, loading its model, numba's typing context and cached kernels
(0.3-0.6 s per worker on 2 cores), then pickling every task and result. On small inputs these were most
of a stage's time: in ``curate demo --quick`` (1,500 documents, under a second of work per stage)
minhash_dedup took 2.6x its in-process benchmark, and 5.6x beside one CPU-burning process, where the
two workers and the driver shared the one free core.

So the pool (:class:`~curate.pipeline.executor.Pool`) runs a step's tasks in the driver, one at a time,
timing them and the CPU that *other* programs use meanwhile, and hands the rest to its workers as soon
as that saves time (:meth:`InlineProbe.fan_out`, :func:`pays_to_fan_out`)::

    typical   = mean seconds of the tasks after the first (the first also pays imports, models, kernels)
    startup   = boot the pool (0.6 s, once) + max(0.4 s, first task - typical), paid by each worker at once
    speed-up  = min(workers, tasks left, cores * workers / (workers + cores busy elsewhere))
    fan out   iff  typical * tasks left * (1 - 1 / speed-up) > startup

The speed-up is what ``workers`` processes get of the machine when other programs keep some cores
busy (2 workers beside one busy core of 2 get 4/3 of a core, not 2). Large inputs fan out after their
first or second task; a quick run starts no worker for its small steps. Outputs are keyed by shard and
task, so they never depend on this choice. ``MIXLAB_FANOUT=always`` restores "every task in a worker"
(tests of the worker path use it); ``--workers 1`` keeps everything in the driver.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import psutil

from curate.core.threads import cores

BOOT_S = 0.6  # starting the pool: spawning the workers and importing the executor (0.5-0.6 s measured on 2 cores)
FIRST_USE_S = 0.4  # at least this per worker on its first task of a step: stage imports, numba's typing context
LONG_TASK_S = 5.0  # a first task this long is mostly work: decide on it instead of running a second one
MIN_PROBE_S = 0.05  # CPU counters tick every 10 ms: shorter probes say nothing about other programs


def pays_to_fan_out(mean_task_s: float, tasks_left: int, workers: int, busy_elsewhere: float,
                    n_cores: int, startup_s: float) -> bool:
    """Whether ``workers`` processes finish ``tasks_left`` tasks sooner than the driver alone (see module doc)."""
    if workers < 2 or tasks_left < 2:
        return False
    share = n_cores * workers / (workers + max(0.0, busy_elsewhere))
    speedup = min(workers, tasks_left, share)
    if speedup <= 1:
        return False
    return mean_task_s * tasks_left * (1 - 1 / speedup) > startup_s


def _busy_cpu_s() -> float:
    """CPU seconds used so far on the cores this process may run on: every field but idle, iowait and
    guest time (already inside user time); steal (a hypervisor's other guests) counts as busy."""
    per_cpu = psutil.cpu_times(percpu=True)
    mine = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(len(per_cpu))
    idle = ("idle", "iowait", "guest", "guest_nice")
    return sum(sum(t) - sum(getattr(t, f, 0.0) for f in idle) for i, t in enumerate(per_cpu) if i in mine)


def _own_cpu_s() -> float:
    """CPU seconds used by this process (its workers idle while it runs a task itself)."""
    return sum(psutil.Process().cpu_times()[:2])


@dataclass
class InlineProbe:
    """Times the tasks the driver runs itself and the cores other programs keep busy meanwhile."""

    workers: int
    n_cores: int = field(default_factory=cores)
    busy_elsewhere: float = 0.0
    tasks: int = 0
    first_s: float = 0.0
    rest_s: float = 0.0
    _other_cpu_s: float = 0.0
    _timed_wall_s: float = 0.0
    _start: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __enter__(self) -> InlineProbe:
        self._start = (time.perf_counter(), _busy_cpu_s(), _own_cpu_s())
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, busy0, own0 = self._start
        wall = time.perf_counter() - wall0
        self.record(wall, (_busy_cpu_s() - busy0) - (_own_cpu_s() - own0))

    def record(self, wall_s: float, other_cpu_s: float) -> None:
        """One task took ``wall_s`` while other programs used ``other_cpu_s`` CPU seconds."""
        if self.tasks == 0:
            self.first_s = wall_s
        else:
            self.rest_s += wall_s
        self.tasks += 1
        self._other_cpu_s += max(0.0, other_cpu_s)
        self._timed_wall_s += wall_s
        if self._timed_wall_s >= MIN_PROBE_S:
            self.busy_elsewhere = min(self.n_cores, self._other_cpu_s / self._timed_wall_s)

    def fan_out(self, tasks_left: int, booted: bool) -> bool:
        """Whether handing the ``tasks_left`` remaining tasks to the workers now saves time.

        A step's first task carries what is paid once per process (imports, model loads, kernels), so
        the typical task is measured on the second and later ones, unless the first alone is long; each
        worker pays the one-time part again, on top of booting the pool (``booted``: already done)."""
        if self.tasks == 0 or (self.tasks == 1 and self.first_s < LONG_TASK_S):
            return False
        typical = self.first_s if self.tasks == 1 else self.rest_s / (self.tasks - 1)
        startup = (0.0 if booted else BOOT_S) + max(FIRST_USE_S, self.first_s - typical)
        return pays_to_fan_out(typical, tasks_left, self.workers, self.busy_elsewhere, self.n_cores, startup)
