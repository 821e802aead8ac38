"""``curate demo``: the whole ablation loop on real text found on this machine.

Steps (each re-used when run again): build a fixed-size corpus; curate it with ``recipes/demo.yaml``;
train the shared tokenizer; reserve eval sets (one source held out entirely for out-of-distribution
eval); emit a sweep of mixtures from low to high topic entropy at one token budget
(``recipes/demo_sweep.yaml``); train ``nano`` on each mixture x 3 seeds and ``micro`` on each mixture
once (the scale check), two runs at a time; correlate diversity with generalization; print the
answer in one sentence and write report.html. ``train`` and ``reports`` run as subprocesses: curate
never imports them (they meet in the catalog).

The study design (why these numbers): with a 1,024-token BPE, 1M training tokens put nano and micro
runs 1.56-2.6 nats below the unigram entropy of their data with a flat tail (the learned check), the
most diverse mixture closest to the 1.5-nat bar; the full demo trains 1.5M tokens per run for margin
(about 50 s for nano and 150 s for micro on one core each). 8 mixtures x 3 seeds make a
Holm-corrected p < 0.05 reachable (the best exact p with 8 mixtures is 2/8! = 5e-5).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import yaml
from rich.console import Console

from curate.catalog import Catalog
from curate.demo.corpus import build_demo_corpus
from curate.display import print_frame
from curate.mix.eval_split import reserve_eval
from curate.mix.sweep import SweepSpec, run_sweep
from curate.pipeline.kernels import start_for
from curate.pipeline.recipe import load_recipe
from curate.pipeline.runner import RecipeRunner

SETTINGS = {
    "quick": {"docs_per_domain": 100, "max_docs": 1500, "mixtures": 6, "budget": 600_000, "presets": ["nano"], "seeds": 1,
              "train_tokens": 1_000_000, "vocab": 1024, "eval_per_group": 5},
    "full": {"docs_per_domain": 250, "max_docs": 6000, "mixtures": 8, "budget": 1_500_000, "presets": ["nano", "micro:1"],
             "seeds": 3, "train_tokens": 1_500_000, "vocab": 1024, "eval_per_group": 5},
    "tiny": {"docs_per_domain": 40, "max_docs": 400, "mixtures": 3, "budget": 12_000, "presets": ["pico"], "seeds": 1,
             "train_tokens": 4_096, "vocab": 600, "eval_per_group": 2},
}
# Seconds per step, measured on 2 cores (full 26 min 7 s; see README), with headroom for a first run's JIT.
ETA_S = {"quick": [5, 35, 1, 3, 5, 170, 10], "full": [5, 40, 2, 5, 8, 1530, 15], "tiny": [1, 30, 2, 3, 5, 20, 10]}
OOD_SOURCE = "python_docs"
QUERIES = (
    "SELECT source, count(*) AS docs, sum(n_bytes) AS bytes FROM kept_documents GROUP BY ALL ORDER BY docs DESC",
    "SELECT reason, count(*) FROM decisions GROUP BY ALL ORDER BY 2 DESC",
    "SELECT r.mixture_id, avg(e.value) AS ood_bpb FROM train_runs r JOIN evals e USING (train_id) WHERE e.eval_set = 'ood' AND e.metric = 'bpb' GROUP BY 1",
)


class DemoSteps:
    """Announces each step with its number, name and an ETA, and prints what it did."""

    def __init__(self, mode: str, console: Console) -> None:
        self.mode, self.console, self.i, self.started = mode, console, 0, time.perf_counter()

    def start(self, name: str) -> None:
        remaining = sum(ETA_S[self.mode][self.i :])
        self.i += 1
        self.console.rule(f"[bold]step {self.i}/{len(ETA_S[self.mode])}: {name}[/]  (about {remaining // 60}m{remaining % 60:02d}s left)")

    def done(self, what: str) -> None:
        self.console.print(f"[green]✓[/] {what}  [dim]({time.perf_counter() - self.started:.0f}s elapsed)[/]")


def _copy_recipe(name: str, target: Path) -> Path:
    if not target.exists():
        with resources.as_file(resources.files("curate") / "recipes" / name) as src:
            shutil.copy(src, target)
    return target


def _module(*args: str, check: bool = True) -> int:
    return subprocess.run([sys.executable, "-m", *args], check=check).returncode


def _correlate(run_dir: Path, console: Console) -> None:
    """``reports correlate``; when it refuses undertrained runs, say so and store the numbers anyway (the
    headline then says they are not evidence)."""
    if _module("reports", "correlate", str(run_dir), check=False) == 2:
        console.print("[yellow]the correlation was refused (see above); it is stored with --allow-undertrained so the "
                      "report can show it, and the answer below says it is not evidence[/]")
        _module("reports", "correlate", str(run_dir), "--allow-undertrained")


def run_demo(out: Path, quick: bool = False, workers: int = 2, progress: bool = True, mode: str | None = None) -> Path:
    """Run the demo into ``out``; returns the run folder (``out/run``).

    ``mode`` overrides quick/full ("tiny" is the test suite's size). A corpus already in ``out/raw``
    (one ``<source>.jsonl.gz`` per source) is used as is.
    """
    mode = mode or ("quick" if quick else "full")
    cfg = SETTINGS[mode]
    console = Console(stderr=True)
    steps = DemoSteps(mode, console)
    out.mkdir(parents=True, exist_ok=True)
    run_dir = out / "run"

    recipe = load_recipe(_copy_recipe("demo.yaml", out / "demo.yaml"))
    warmup = start_for(recipe)  # numba compiles (first run) while the corpus is built

    steps.start("build a corpus from text on this machine")
    if not any((out / "raw").glob("*.jsonl.gz")):
        counts = build_demo_corpus(out / "raw", cfg["docs_per_domain"], cfg["max_docs"])
        console.print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    steps.done(f"corpus in {out / 'raw'}")

    steps.start("curate: ingest, dedup, langid, quality, topics, diversity")
    summary = RecipeRunner(recipe, out, run_dir, workers=workers, progress=progress, warmup=warmup).run()
    steps.done(f"{summary.n_docs:,} documents, {summary.n_kept:,} kept")

    steps.start(f"reserve eval sets (hold out {OOD_SOURCE} for OOD)")
    with Catalog(run_dir) as cat:
        if cat.query("SELECT count(*) AS n FROM eval_sets")["n"][0] == 0:
            found = reserve_eval(cat, "source", cfg["eval_per_group"], (OOD_SOURCE,), seed=0)
            console.print(f"  {found.height} pool documents duplicated an eval document and are excluded")
    steps.done("eval sets reserved")

    steps.start("train the shared byte-level BPE tokenizer")
    if not (run_dir / "train" / "tokenizer" / "tokenizer.json").exists():
        _module("train", "tokenizer", str(run_dir), "--vocab-size", str(cfg["vocab"]))
    steps.done("tokenizer ready")

    steps.start("emit a sweep of mixtures from low to high topic entropy")
    spec = yaml.safe_load(_copy_recipe("demo_sweep.yaml", out / "demo_sweep.yaml").read_text())
    spec["steps"], spec["base"]["token_budget"] = cfg["mixtures"], cfg["budget"]
    with Catalog(run_dir) as cat:
        profiles = run_sweep(cat, SweepSpec(**spec))
    print_frame(profiles, title="mixtures", keys=["mixture_id", "n_docs", "n_tokens", "topic_entropy", "effective_topics", "vendi"],
                csv=out / "mixtures.csv")
    steps.done(f"{profiles.height} mixtures")

    ladder = " + ".join(p if ":" in p else f"{p}:{cfg['seeds']}" for p in cfg["presets"]).replace(":", " x ")
    steps.start(f"train {profiles.height} mixtures x ({ladder} seeds), {cfg['train_tokens']:,} tokens each")
    presets = [arg for p in cfg["presets"] for arg in ("--preset", p)]
    _module("train", "sweep", str(run_dir), "--sweep", spec["name"], *presets, "--seeds", str(cfg["seeds"]),
            "--tokens", str(cfg["train_tokens"]), "--workers", str(workers))
    steps.done("training done")

    steps.start("correlate diversity with generalization; write the HTML report")
    _correlate(run_dir, console)
    _module("reports", "html", str(run_dir), "-o", str(out / "report.html"))
    steps.done(f"report: {(out / 'report.html').resolve()}")
    catalog = (run_dir / "catalog.duckdb").resolve()
    console.print(f"\ncatalog: {catalog}\nTry:")
    for q in QUERIES:
        console.print(f'  duckdb {catalog} -c "{q}"', soft_wrap=True)
    console.rule("[bold]the answer")
    _module("reports", "headline", str(run_dir))
    return run_dir
