"""Speed where users run it: ``curate demo`` end to end, each curate stage next to its own micro-benchmark.

1. Runs ``curate demo [--quick]`` through the CLI (a subprocess) in a fresh temporary folder and a fresh
   numba cache (a first run after cloning), sampling the peak RSS of its whole process tree every 0.1 s.
   Per-step wall times come from the demo's "step i/N" rules and "✓ ... (Ns elapsed)" lines; per-stage
   times and document counts from the run's catalog (table ``stages``).
2. In this process, after the demo, each stage's micro-benchmark on the same documents, warm, one
   process: map stages apply to all their input documents as one batch; global stages run in-process
   with one worker (``StageRunner`` with ``Pool(1)``), intermediate outputs removed first; ingest reads the
   demo's raw files inline. minhash_dedup's signatures alone are also timed with bench_dedup's
   ``ours_docs_per_s`` (the "docs/s per core" figure of the dedup benchmark).
3. Prints, per stage, demo docs/s, micro-benchmark docs/s and their ratio (micro / demo: 1 = the demo
   runs the stage as fast as its benchmark; above 2 = something outside the kernel costs more than the
   kernel itself). Training gets the same treatment: the demo's mean tokens/s per ``nano`` run next to
   bench_train's loop on one thread (the sweep runs its runs side by side, one thread each).
   ``--with-neighbour`` repeats everything with a CPU-burning process beside it.

    python tests/benchmarks/bench_demo.py --quick                    # ~1 run of curate demo --quick
    python tests/benchmarks/bench_demo.py --quick --with-neighbour   # twice: alone, then with a neighbour
    python tests/benchmarks/bench_demo.py --smoke                    # the test-size demo on generated text (a check that it runs)

Last line: JSON with demo_quick_seconds (or demo_seconds), worst_stage_ratio_vs_bench, peak_rss_mb, per-stage
figures, and the same under ``with_neighbour`` when asked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # runnable as a script from any folder
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dedup import ours_docs_per_s  # noqa: E402
from bench_study import DEMO_TINY  # noqa: E402
from bench_train import corpus_tokens, ours  # noqa: E402

from curate.core import storage  # noqa: E402
from curate.core.catalog import Catalog  # noqa: E402
from curate.ingest.tasks import pack_tasks, plan_tasks, run_job  # noqa: E402
from curate.pipeline.executor import Pool, StageRunner  # noqa: E402
from curate.pipeline.progress import StepProgress  # noqa: E402
from curate.pipeline.recipe import load_recipe  # noqa: E402
from curate.pipeline.shards import Upstream, docs_shards, read_survivors  # noqa: E402
from curate.stage import MapStage  # noqa: E402
from curate.stages import BY_NAME  # noqa: E402

STEP = re.compile(r"step (\d+)/(\d+): (.+?)(?:\s+\(about|$)")
DONE = re.compile(r"✓ .*\((\d+)s elapsed\)")


def run_tree(cmd: list[str], env: dict[str, str], log: Path) -> tuple[str, float, float]:
    """Run cmd (output to ``log``); its output, wall seconds and the peak RSS (MB) of its process tree."""
    started = time.perf_counter()
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
        parent, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            try:
                peak = max(peak, sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]))
            except psutil.Error:
                pass
            time.sleep(0.1)
    output = log.read_text()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-3000:]}")
    return output, time.perf_counter() - started, peak / 1e6


def step_times(output: str) -> list[tuple[str, float]]:
    """(step name, seconds) from the demo's step rules and the elapsed time printed when each is done."""
    names, elapsed = [], []
    for line in output.splitlines():
        if m := STEP.search(line):
            names.append(m.group(3).strip())
        elif (m := DONE.search(line)) and len(elapsed) < len(names):
            elapsed.append(float(m.group(1)))
    ends = [0.0, *elapsed]
    return [(name, ends[i + 1] - ends[i]) for i, name in enumerate(names[: len(elapsed)])]


def micro_seconds(demo: Path) -> dict[str, float]:
    """Seconds of each stage's micro-benchmark on the demo's own documents (see module docstring)."""
    recipe = load_recipe(demo / "demo.yaml")
    run_dir = demo / "run"
    data = run_dir
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tasks = plan_tasks(recipe.inputs, recipe.ingest, demo)
        jobs = pack_tasks(tasks, recipe.ingest, {t.path: storage.stamp(t.path)[1] for t in tasks})
        for sub in ("docs/_tasks", "docs/_rejects"):
            (Path(tmp) / sub).mkdir(parents=True)
        t = time.perf_counter()
        for job in jobs:
            run_job(job, recipe.ingest, tmp)
        out["ingest"] = time.perf_counter() - t
    shards, upstream = docs_shards(data), Upstream()
    with Catalog(run_dir) as cat:
        for params in recipe.stages:
            cls = BY_NAME[params.stage]
            stage = cls(params)
            if isinstance(stage, MapStage):
                cols = ("doc_id", "text", *cls.needs, *(c for c in cls.optional_needs if c in upstream.available()))
                batch = pl.concat([read_survivors(data, s, upstream, cols) for s in shards])
                stage.setup()
                stage.apply(batch.head(20))  # warm: compiled kernels and models loaded
                t = time.perf_counter()
                stage.apply(batch)
                out[cls.name] = time.perf_counter() - t
            else:  # intermediate outputs removed: nothing skipped as already done, models trained again
                if cls.name == "minhash_dedup":
                    texts = pl.concat([read_survivors(data, s, upstream, ("text",)) for s in shards])["text"].to_list()
                    out["minhash_signatures"] = len(texts) / ours_docs_per_s(texts, "words64")
                for sub in (data / "stages" / cls.name).iterdir():
                    if sub.is_dir() and sub.name != "tables":
                        shutil.rmtree(sub)
                t = time.perf_counter()
                StageRunner(data, data / "stages", Pool(1), StepProgress(enabled=False), recipe.seed).run(stage, shards, upstream, cat)
                out[cls.name] = time.perf_counter() - t
            upstream = upstream.then(cls.name, tuple(cls.schema))
    return out


def train_tokens_per_s(preset: str, steps: int = 40) -> float:
    """bench_train's measurement of a ``preset`` step (the demo's vocabulary, batch and context) on one
    thread: the sweep trains its runs side by side with one thread each."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return ours(corpus_tokens(1024), preset, steps=steps, batch=16, seq=128, vocab=1024, device="cpu")
    finally:
        torch.set_num_threads(threads)


def one_pass(quick: bool, label: str, smoke: bool = False) -> dict:
    """Run the demo (``smoke``: the test suite's tiny one) and the micro-benchmarks once; print the tables; return the figures."""
    with tempfile.TemporaryDirectory(prefix="mixlab-bench-demo-") as tmp:
        demo = Path(tmp) / "demo"
        env = {**os.environ, "COLUMNS": "200", "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache"), "PYTHONPATH": str(ROOT)}
        cmd = ([sys.executable, "-c", DEMO_TINY, str(demo)] if smoke
               else [sys.executable, "-m", "curate", "demo", "--out", str(demo), *(["--quick"] if quick else [])])
        output, seconds, rss = run_tree(cmd, env, Path(tmp) / "demo.log")
        with Catalog(demo / "run", read_only=True) as cat:
            stages = cat.query("SELECT stage, n_in, wall_s FROM stages ORDER BY position")
            preset = cat.query("SELECT mode(preset) AS p FROM train_runs")["p"][0]  # nano; pico in the tiny demo
            training = cat.query("SELECT avg(tokens_per_s) AS tps, count(*) AS runs FROM train_runs WHERE preset = $p", {"p": preset})
        micro = micro_seconds(demo)
    train_bench = train_tokens_per_s(preset, 6 if smoke else 40)
    print(f"\n== {label}: curate demo{' --quick' if quick else ''}: {seconds:.1f} s, peak RSS {rss:.0f} MB (process tree)")
    for name, secs in step_times(output):
        print(f"  step {name[:60]:60s} {secs:7.0f} s")
    print(f"\n  {'stage':15s} {'docs':>7s} {'demo s':>8s} {'demo docs/s':>12s} {'bench docs/s':>13s} {'ratio':>6s}")
    rows = {}
    for stage, n_in, wall in stages.iter_rows():  # steps without a micro-benchmark (the eval split): bench figures None
        demo_rate = n_in / max(wall, 1e-9)
        bench = n_in / max(micro[stage], 1e-9) if stage in micro else None
        ratio = round(bench / demo_rate, 2) if bench is not None else None
        rows[stage] = {"docs": n_in, "demo_s": round(wall, 2), "demo_docs_per_s": round(demo_rate),
                       "bench_docs_per_s": round(bench) if bench is not None else None, "ratio": ratio}
        print(f"  {stage:15s} {n_in:7d} {wall:8.1f} {demo_rate:12.0f} {'-' if bench is None else f'{bench:.0f}':>13s} {ratio if ratio is not None else '-':>6}")
    demo_tps = float(training["tps"][0] or float("nan"))
    rows[f"training ({preset})"] = {"tokens_per_s": round(demo_tps), "bench_tokens_per_s": round(train_bench), "ratio": round(train_bench / demo_tps, 2)}
    print(f"  {'training ' + preset:15s} {int(training['runs'][0]):4d} runs {demo_tps:12.0f} {train_bench:13.0f} {train_bench / demo_tps:6.2f}"
          "   (tokens/s per run; bench: bench_train's loop, one thread)")
    sig_rate = rows.get("minhash_dedup", {}).get("docs", 0) / max(micro.get("minhash_signatures", float("nan")), 1e-9)
    print(f"  (minhash signatures alone, bench_dedup's measurement on these documents: {sig_rate:,.0f} docs/s on 1 core)")
    worst = max((r["ratio"] for r in rows.values() if r["ratio"] is not None and r["ratio"] == r["ratio"]), default=float("nan"))
    key = "demo_quick_seconds" if quick else "demo_seconds"
    return {key: round(seconds, 1), "worst_stage_ratio_vs_bench": worst, "peak_rss_mb": round(rss),
            "minhash_signature_docs_per_s": round(sig_rate),
            "steps": {n: s for n, s in step_times(output)}, "stages": rows}


def neighbour() -> subprocess.Popen:
    """A CPU-burning process (one core), as another busy program on the machine."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="curate demo --quick")
    ap.add_argument("--smoke", action="store_true", help="the test-size demo on generated text and a 6-step training bench")
    ap.add_argument("--with-neighbour", action="store_true", help="also run everything beside a CPU-burning process")
    args = ap.parse_args()
    result = one_pass(args.quick or args.smoke, "alone", args.smoke)
    if args.with_neighbour:
        burner = neighbour()
        try:
            result["with_neighbour"] = one_pass(args.quick or args.smoke, "with a CPU-burning neighbour", args.smoke)
        finally:
            burner.kill()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
