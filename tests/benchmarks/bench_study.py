"""The study as a user runs it: `curate demo` end to end, then two studies with planted truth, and what a reviewer checks.

Runs ``curate demo`` (full; ``--quick``: the test-size demo on generated text, so the whole benchmark stays
under 3 minutes) in a fresh folder, sampling the peak RSS of its process tree, then reads the catalog:
no eval document in any fit, the covariate balance of the design (max |Spearman ρ| between the factor and
every recorded confound, over the study arm), the negative control's CI, the smallest margin
of any run below the unigram entropy of its data, and the answer. Then the planted and null studies of
``tests/planted.py`` (generated corpora, whole loop): the planted effect must be found and the null not.

    python tests/benchmarks/bench_study.py --quick
    python tests/benchmarks/bench_study.py --out runs/study      # the full demo; a re-run re-uses finished steps
    python tests/benchmarks/bench_study.py --smoke               # as --quick with tiny planted studies (a check that it runs)
Last line: JSON with n_mixtures, n_runs, demo_seconds, eval_docs_in_fits, max_abs_rho_factor_vs_confound,
negative_control_ci_covers_zero, planted_effect_found, null_effect_found, loss_below_unigram_nats, peak_rss_mb,
verdict, planted_seconds.
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

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from curate.core.catalog import Catalog  # noqa: E402
from curate.mix.balance import realized_balance  # noqa: E402
from tests.planted import PlantedSize, found_effect, run_planted_study  # noqa: E402

DEMO_TINY = """
import sys
from pathlib import Path
from tests.corpus import write_sources
from curate.demo.loop import run_demo
from curate.demo.settings import DemoSettings
out = Path(sys.argv[1])
write_sources(out / "raw")
run_demo(DemoSettings(out=out, workers=2, progress=False, mode="tiny"))
"""


def run_demo(out: Path, quick: bool) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB summed over the demo's process tree)."""
    cmd = [sys.executable, "-c", DEMO_TINY, str(out)] if quick else [sys.executable, "-m", "curate", "demo", "--out", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.5)
    if proc.returncode:
        raise SystemExit(f"the demo failed with exit code {proc.returncode}")
    return time.perf_counter() - started, peak / 1e6


def read_study(run_dir: Path) -> dict:
    """What a reviewer checks in the demo's catalog."""
    with Catalog(run_dir, read_only=True) as cat:
        sweep = cat.query("SELECT sweep_id FROM studies ORDER BY created_at DESC LIMIT 1")["sweep_id"][0]
        leaks = cat.query("SELECT count(*) AS n FROM fit_docs JOIN eval_sets USING (doc_id)")["n"][0]
        balance = realized_balance(cat, sweep, "study")  # every recorded confound, not only the adjusted ones
        effects = cat.query("SELECT * FROM study_effects WHERE sweep_id = $s AND step_frac = 1", {"s": sweep})
        runs = cat.query("SELECT count(*) AS n, min(loss_below_unigram) AS margin FROM train_runs WHERE status = 'done'"
                         " AND sweep_id = $s", {"s": sweep}).row(0, named=True)
        n_mixtures = cat.query("SELECT count(*) AS n FROM mixture_design WHERE sweep_id = $s", {"s": sweep})["n"][0]
        from reports.headline import study_headline  # the benchmark reads what a user reads

        answer = study_headline(cat, sweep)
    by = {r["analysis"]: r for r in effects.iter_rows(named=True)}
    control = by.get("control")
    covers = None if control is None or control["ci_low"] is None else int(control["ci_low"] <= 0 <= control["ci_high"])
    return {"n_mixtures": int(n_mixtures), "n_runs": int(runs["n"]), "eval_docs_in_fits": int(leaks),
            "max_abs_rho_factor_vs_confound": None if balance["max_abs_rho"] is None else round(balance["max_abs_rho"], 3),
            "negative_control_ci_covers_zero": covers, "loss_below_unigram_nats": round(float(runs["margin"]), 3),
            "verdict": by["primary"]["verdict"] if "primary" in by else None, "answer": answer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the test-size demo on generated text and smaller planted studies")
    parser.add_argument("--smoke", action="store_true", help="as --quick, with planted studies too small to find anything")
    parser.add_argument("--out", type=Path, help="demo folder (default: a fresh temporary one)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-study-"))
    out = args.out or work / "demo"
    seconds, peak_mb = run_demo(out, args.quick or args.smoke)
    study = read_study(out / "run")
    print(f"\ndemo: {seconds:.0f} s, peak RSS {peak_mb:,.0f} MB (process tree)\nanswer: {study.pop('answer')}")
    size = (PlantedSize(n_docs=300, budget=20_000, draws=2, n_boot=50, n_perm=99) if args.smoke
            else PlantedSize(budget=120_000, n_boot=500, n_perm=999) if args.quick else PlantedSize())
    started = time.perf_counter()
    planted = found_effect(run_planted_study(work / "planted", True, size))
    null = found_effect(run_planted_study(work / "null", False, size))
    planted_seconds = time.perf_counter() - started
    print(f"planted study: effect found = {planted}; null study: effect found = {null} ({planted_seconds:.0f} s)")
    print(json.dumps({**study, "demo_seconds": round(seconds, 1), "planted_effect_found": int(planted), "null_effect_found": int(null),
                      "planted_seconds": round(planted_seconds, 1), "peak_rss_mb": round(peak_mb)}))


if __name__ == "__main__":
    main()
