"""Every benchmark script runs in its ``--smoke`` mode (tiny inputs, no peer venvs, seconds), so a signature
change under one fails here instead of rotting unseen until someone runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "tests" / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))

# Smoke runs of over ~20 s on 2 cores: a whole (tiny) demo, Ray start-up, a curate run of topics and
# diversity in subprocesses, transformers' import plus two timed training loops, a search's proxies, a sweep
# of mixtures, or training with checkpoint evals.
SLOW = {"bench_demo.py", "bench_study.py", "bench_ray.py", "bench_topics.py", "bench_train.py", "bench_search.py",
        "bench_mix.py", "bench_checkpoint_evals.py",
        "bench_web.py"}  # bench_web's smoke run is in the fast suite as tests/curate/test_web_recipe.py, with its scores checked

# The keys each script's docstring documents for its last stdout line (scripts not listed: any JSON object).
DOCUMENTED_KEYS = {
    "bench_checkpoint_evals.py": {"train_s", "checkpoint_eval_s", "overhead", "checkpoints"},
    "bench_dedup.py": {"recall", "precision", "precision_verified", "sig_speedup_vs_datasketch", "sig_speedup_vs_rensa", "docs",
                       "peak_rss_mb"},
    "bench_demo.py": {"demo_quick_seconds", "worst_stage_ratio_vs_bench", "peak_rss_mb", "stages"},
    "bench_ingest.py": {"mb_per_s", "docs_per_s", "peak_rss_mb"},
    "bench_langid.py": {"agreement_with_fasttext", "throughput_ratio_vs_fasttext", "rules_docs_per_s", "quality_auc"},
    "bench_mix.py": {"entropy_spearman", "contamination", "budget_error_pct", "peak_rss_mb"},
    "bench_ray.py": {"identical", "ray_wall_s", "local_wall_s"},
    "bench_study.py": {"n_mixtures", "n_runs", "demo_seconds", "eval_docs_in_fits", "max_abs_rho_factor_vs_confound",
                       "negative_control_ci_covers_zero", "planted_effect_found", "null_effect_found", "loss_below_unigram_nats",
                       "peak_rss_mb", "verdict", "planted_seconds"},
    "bench_search.py": {"n_proxies", "cv_spearman", "heldout_spearman", "chosen_minus_uniform_bpb", "chosen_minus_uniform_bpb_ci_low",
                        "chosen_minus_uniform_bpb_ci_high", "chosen_minus_natural_bpb", "chosen_minus_natural_bpb_ci_low",
                        "chosen_minus_natural_bpb_ci_high", "seed_sd_bpb", "seconds"},
    "bench_line_dedup.py": {"boilerplate_lines_removed_frac", "line_dedup_ratio_vs_inmemory"},
    "bench_topics.py": {"nmi", "ari_between_seeds", "assign_docs_per_s", "scale_docs", "peers"},
    "bench_train.py": {"speedup_vs_hf_trainer", "tokens_per_s", "peak_rss_mb", "device"},
    "bench_web.py": {"warc_records", "docs_per_cpu_s", "ratio_vs_datatrove", "rejects_accounted"},
}


def has_smoke(name: str) -> bool:
    return "--smoke" in (BENCHMARKS / name).read_text()


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_has_a_smoke_mode(name: str) -> None:
    assert has_smoke(name), f"tests/benchmarks/{name} has no --smoke mode: add one (tiny inputs, seconds)"


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in SCRIPTS if has_smoke(n)])
def test_benchmark_smoke_run(name: str) -> None:
    run = subprocess.run([sys.executable, str(BENCHMARKS / name), "--smoke"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600 if name in SLOW else 180)
    assert run.returncode == 0, f"{name} --smoke exited {run.returncode}:\n{run.stderr[-3000:]}"
    last = json.loads(run.stdout.strip().splitlines()[-1])
    assert isinstance(last, dict) and last, f"{name}: the last stdout line is not a JSON object"
    missing = DOCUMENTED_KEYS.get(name, set()) - set(last)
    assert not missing, f"{name}: the last line lacks the documented keys {sorted(missing)}"

IMPORT_ALL = """
import importlib, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
for name in sys.argv[3:]:
    importlib.import_module(name)
"""


def test_slow_benchmarks_import() -> None:
    """The slow smoke runs leave the fast suite; what they import (the likeliest rot when a module moves) stays in it."""
    names = [Path(n).stem for n in sorted(SLOW) if (BENCHMARKS / n).exists()]
    run = subprocess.run([sys.executable, "-c", IMPORT_ALL, str(ROOT), str(BENCHMARKS), *names], cwd=ROOT, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0, f"importing {names} failed:\n{run.stderr[-3000:]}"
