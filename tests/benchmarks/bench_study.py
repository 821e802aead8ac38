"""The ablation study as a user runs it: `curate demo` end to end, then did every model learn, and does the answer hold?

Runs ``curate demo`` (``--quick``: the quick demo) in a fresh folder, samples the peak RSS of the whole
process tree, then reads the catalog: per run its validation loss next to the unigram baseline of its
own training data (the trivial model every run must beat by MARGIN_NATS), the learned check, the
design (mixtures x seeds per preset), the scale check's rank agreement and the one-sentence answer.

    python tests/benchmarks/bench_study.py --quick
    python tests/benchmarks/bench_study.py --out runs/study      # the full demo; re-run re-uses finished steps
Last line: JSON with loss_below_unigram_nats (minimum over runs), n_mixtures, n_seeds, demo_seconds,
scale_rank_rho, learned_runs, runs, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from curate.catalog import Catalog

RUNS_SQL = """
SELECT r.preset, r.mixture_id, r.seed, r.tokens, r.steps, r.unigram_entropy, r.final_val_loss, r.loss_below_unigram,
       r.tail_gain, r.learned, e.value AS ood_bpb, r.wall_s
FROM train_runs r LEFT JOIN evals e ON e.train_id = r.train_id AND e.eval_set = 'ood' AND e.metric = 'bpb'
WHERE r.status = 'done' ORDER BY r.preset DESC, r.mixture_id, r.seed
"""


def run_demo(out: Path, quick: bool) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB summed over the demo's process tree)."""
    cmd = [sys.executable, "-m", "curate", "demo", "--out", str(out), *(["--quick"] if quick else [])]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.5)
    if proc.returncode:
        raise SystemExit(f"curate demo failed with exit code {proc.returncode}")
    return time.perf_counter() - started, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the quick demo (6 mixtures x 1 seed of nano)")
    parser.add_argument("--out", type=Path, help="demo folder (default: a fresh temporary one)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-study-"))
    seconds, peak_mb = run_demo(out, args.quick)
    with Catalog(out / "run", read_only=True) as cat:
        runs = cat.query(RUNS_SQL)
        design = cat.query("SELECT preset, count(DISTINCT mixture_id) AS mixtures, min(n) AS seeds FROM"
                           " (SELECT preset, mixture_id, count(*) AS n FROM train_runs WHERE status = 'done' GROUP BY ALL)"
                           " GROUP BY ALL ORDER BY seeds DESC, preset DESC")
        scale = cat.query("SELECT rho FROM scale_agreement WHERE target = 'ood/bpb'")
        from reports.headline import headline  # the benchmark reads what a user reads

        answer = headline(cat)
    print(f"\n{'preset':<7} {'mixture':<30} {'seed':>4} {'unigram':>8} {'val':>6} {'val/unigram':>11} {'below':>6} {'tail':>6} "
          f"{'learned':>7} {'ood bpb':>7} {'wall s':>6}")
    for r in runs.iter_rows(named=True):
        print(f"{r['preset']:<7} {r['mixture_id'][:30]:<30} {r['seed']:>4} {r['unigram_entropy']:>8.3f} {r['final_val_loss']:>6.3f} "
              f"{r['final_val_loss'] / r['unigram_entropy']:>11.3f} {r['loss_below_unigram']:>6.2f} {r['tail_gain']:>6.1%} "
              f"{str(r['learned']):>7} {r['ood_bpb']:>7.3f} {r['wall_s']:>6.0f}")
    print(f"\ndemo: {seconds:.0f} s, peak RSS {peak_mb:,.0f} MB (process tree); {design.rows()}\nanswer: {answer}")
    primary = design.row(0, named=True)
    print(json.dumps({"loss_below_unigram_nats": round(float(runs["loss_below_unigram"].min()), 3),
                      "n_mixtures": primary["mixtures"], "n_seeds": primary["seeds"], "demo_seconds": round(seconds, 1),
                      "scale_rank_rho": round(float(scale["rho"][0]), 3) if scale.height and scale["rho"][0] is not None else None,
                      "learned_runs": int(runs["learned"].sum()), "runs": runs.height, "peak_rss_mb": round(peak_mb)}))


if __name__ == "__main__":
    main()
