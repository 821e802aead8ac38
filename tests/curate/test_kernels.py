"""A run compiles its numba kernels once, in the driver's warm-up thread, and its workers only load them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from curate.pipeline.kernels import KernelWarmup, has_kernels
from curate.stages.length_filter import LengthFilter, LengthFilterParams
from curate.stages.minhash_dedup import MinhashDedup, MinhashDedupParams

RECIPE = {
    "name": "kernels",
    "inputs": [{"path": "data/corpus.jsonl"}],
    "ingest": {"split_bytes": 20_000},  # several shards, so both workers get work
    "stages": [{"stage": "minhash_dedup"}, {"stage": "langid", "min_score": 0.0}],
}


def _run_with_fresh_cache(tmp_path: Path, cache: Path) -> list[str]:
    """``curate run`` with two workers and an empty numba cache; numba's cache log lines of every process."""
    (tmp_path / "k.yaml").write_text(yaml.safe_dump(RECIPE))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "NUMBA_DEBUG_CACHE": "1", "MIXLAB_FANOUT": "always"}
    done = subprocess.run([sys.executable, "-m", "curate", "run", str(tmp_path / "k.yaml"), "--workers", "2", "--no-progress",
                           "--out", str(tmp_path / "run")], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


@pytest.mark.slow  # a whole run with 2 workers in a subprocess; the fast suite keeps one workers run (test_resume)
def test_each_kernel_is_compiled_once_per_run_not_once_per_worker(tmp_path, corpus_file):
    lines = _run_with_fresh_cache(tmp_path, tmp_path / "numba")
    saved = [m.group(1) for line in lines if (m := re.search(r"\[cache\] data saved to '(.+)'", line))]
    loaded = [m.group(1) for line in lines if (m := re.search(r"\[cache\] data loaded from '(.+)'", line))]
    in_workers = {"minhash._signatures", "lsh._band_hashes", "shingles._shingle_ids", "langid._count"}
    assert in_workers | {"shingles.jaccard_pairs", "lsh._union_all"} <= {Path(p).name.split("-")[0] for p in saved}
    assert sorted(saved) == sorted(set(saved))  # no kernel compiled (and saved) by two processes
    assert in_workers <= {Path(p).name.split("-")[0] for p in loaded}  # the workers loaded what the driver compiled


class _BrokenKernels(MinhashDedup):
    def compile_kernels(self) -> None:
        raise RuntimeError("no compiler today")


def test_a_failed_warm_up_is_a_warning_not_a_failed_run():
    assert has_kernels(MinhashDedup(MinhashDedupParams())) and not has_kernels(LengthFilter(LengthFilterParams()))
    warmup = KernelWarmup([_BrokenKernels(MinhashDedupParams())])
    with pytest.warns(UserWarning, match="no compiler today"):
        warmup.wait()
    warmup.wait()  # once only
