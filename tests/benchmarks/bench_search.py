"""Mixture search as a user runs it (`train search`), and what a reviewer checks: does the regression rank
mixtures it never saw, and does the chosen mixture beat the baselines by more than the seed noise?

    python tests/benchmarks/bench_search.py --quick                  # generated planted corpus, pico, under 3 minutes on 2 cores
    python tests/benchmarks/bench_search.py --smoke                  # the same at a tenth of the budget: the test suite's check
    python tests/benchmarks/bench_search.py --run runs/demo/run      # a finished `curate demo` run: nano, 40 proxies, 3 seeds

--quick builds the planted corpus of ``tests/planted.py`` (five sources, each its own vocabulary) and
searches for the mixture that minimizes bits per byte on one of them (``id/s3``): the answer is known to
be mostly s3, so the chosen mixture must beat uniform and natural. Full mode searches the demo's English
sources for the panel mean (``--target`` to change). A re-run on the same folder re-uses finished runs.
Last line: JSON with n_proxies, cv_spearman, heldout_spearman, chosen_minus_uniform_bpb (+ _ci_low /
_ci_high), chosen_minus_natural_bpb (+ CI), chosen_minus_best_proxy_bpb, seed_sd_bpb, seconds, and the
chosen model, weights and proxies that failed the learned check.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from train.search.config import SearchConfig  # noqa: E402
from train.search.report import print_search  # noqa: E402
from train.search.run import run_search  # noqa: E402

QUICK = {"target": "id/s3/bpb", "preset": "pico", "tokens": 40_000, "n_proxies": 16, "folds": 4, "validation_seeds": 3,
         "eval_docs": 6, "candidates": 20_000}
SMOKE = QUICK | {"tokens": 4_000, "n_proxies": 8, "folds": 3, "validation_seeds": 2, "candidates": 2_000}
FULL = {"target": "panel/bpb", "where": "lang = 'en'", "preset": "nano", "tokens": 500_000, "n_proxies": 40, "folds": 5,
        "validation_seeds": 3, "eval_docs": 32}


def headline(result) -> dict:
    """The JSON a reviewer reads."""
    row = result.row
    by = {c["baseline"]: c for c in result.comparisons}
    out = {"n_proxies": row["n_proxies"], "cv_spearman": row["cv_spearman"], "heldout_spearman": row["heldout_spearman"]}
    for baseline in ("uniform", "natural", "best_proxy"):
        c = by.get(baseline, {})
        out |= {f"chosen_minus_{baseline}_bpb": c.get("difference"), f"chosen_minus_{baseline}_bpb_ci_low": c.get("ci_low"),
                f"chosen_minus_{baseline}_bpb_ci_high": c.get("ci_high")}
    rounded = {k: (round(v, 4) if v == v else None) if isinstance(v, float) else v for k, v in out.items()}  # NaN (a constant fold): null
    return rounded | {"seed_sd_bpb": round(row["seed_sd"], 4) if row["seed_sd"] == row["seed_sd"] else None, "model": row["model"], "target": row["target"],
                      "chosen_weights": json.loads(row["chosen_weights"]), "n_not_learned": row["n_not_learned"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="generated planted corpus, pico, tiny budgets")
    parser.add_argument("--smoke", action="store_true", help="--quick at a tenth of the budget: the test suite's check that it still runs")
    parser.add_argument("--run", type=Path, help="full mode: a curated run with eval sets and a tokenizer (e.g. runs/demo/run)")
    parser.add_argument("--target", help="override the target (e.g. unseen/bpb)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    args.quick = args.quick or args.smoke
    if not args.quick and args.run is None:
        parser.error("full mode needs --run RUN (a finished `curate demo` run); or use --quick")
    started = time.perf_counter()
    if args.quick:
        from tests.planted import build_planted_run

        n_docs = 150 if args.smoke else 400
        run_dir = build_planted_run(Path(tempfile.mkdtemp(prefix="bench-search-")), planted=True, n_docs=n_docs, per_group=6)
    else:
        run_dir = args.run
    settings = (SMOKE if args.smoke else QUICK if args.quick else FULL) | ({"target": args.target} if args.target else {})
    result = run_search(run_dir, SearchConfig(name="bench", **settings), workers=args.workers, progress=False)
    print_search(run_dir, result)
    print(json.dumps(headline(result) | {"seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
