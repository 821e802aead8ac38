"""``curate demo``: a controlled data-ablation study on real English text found on this machine.

The question, pre-registered before anything is trained: *does a mixture that spans more domains
generalize better to domains it has not seen?* Steps (each re-used when run again):

1. build a corpus of English technical writing, one source per domain (man pages by section,
   changelogs, licences, package docs, Python's doc topics), size-capped and seeded;
2. curate it with ``recipes/demo.yaml``; its ``eval_split`` reserves a panel of held-out documents per
   domain *before* anything is fitted (the quality classifier and topic model never see eval text);
3. train the shared BPE tokenizer (eval documents excluded);
4. size the study to the text found (:mod:`curate.demo.plan`) and emit it (``recipes/mix_study_subsets.yaml``):
   k-of-K subsets of domains at equal shares and one budget, every document exactly E times, the draws
   rerandomized for covariate balance, and a negative control arm with the same design over random hash
   buckets of doc_id, whose "effect" must come out null;
5. train ``nano`` once per mixture (a spread few twice, for the seed noise), bits per byte on the panel
   at checkpoints and per document;
6. ``reports study``: the effect of log2 k on bits per byte of the domains each mixture lacks, with the
   confounds adjusted for, cluster-bootstrap CI, Freedman–Lane p, the control and an n-gram baseline
   beside it, and a verdict that may be "inconclusive"; then the HTML report and the answer.

``train`` and ``reports`` run as subprocesses: curate never imports them (they meet in the catalog).
"""

from __future__ import annotations

import shutil
import sys
import time
from importlib import resources
from pathlib import Path

import yaml
from rich.console import Console

import sql
from curate.core.catalog import Catalog
from curate.core.display import print_frame
from curate.core.workers import run_bound
from curate.demo.corpus import build_demo_corpus
from curate.demo.plan import plan_study, sized_sweep
from curate.demo.settings import DemoSettings, DemoSize
from curate.mix.balance import realized_balance
from curate.mix.sweep import SweepSpec, run_sweep
from curate.pipeline.kernels import start_for
from curate.pipeline.recipe import Recipe, RecipeError, load_recipe
from curate.pipeline.runner import RecipeRunner

# Seconds per step measured on 2 cores, with headroom for a first run's JIT.
ETA_S = {"quick": [5, 60, 10, 40, 200, 30], "full": [5, 150, 30, 120, 1400, 60], "tiny": [1, 30, 3, 20, 20, 15]}
TRY_QUERIES = ("demo/try_effects", "demo/try_design", "demo/try_fit_docs")  # printed for the user to run in the duckdb CLI


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
    return run_bound([sys.executable, "-m", *args], check=check)  # a killed demo takes train and reports with it


def _recipe(out: Path, size: DemoSize, seed: int) -> Recipe:
    """The demo recipe next to the corpus, with this size's panel and the pipeline seed written in: the file
    says what runs (its seed and eval_split per_group and seed are the demo's, replaced on every run)."""
    path = _copy_recipe("demo.yaml", out / "demo.yaml")
    recipe = load_recipe(path)
    if recipe.eval_split is None:
        raise RecipeError(f"{path}: the demo needs an eval_split section (its panel)")
    split = recipe.eval_split.model_copy(update={"per_group": size.per_group, "seed": seed})
    recipe = Recipe.model_validate(recipe.model_copy(update={"seed": seed, "eval_split": split}).model_dump(exclude_unset=True))
    path.write_text(yaml.safe_dump(recipe.model_dump(mode="json", exclude_unset=True), sort_keys=False, allow_unicode=True))
    return recipe


STUDY_HEADER = """# The study `curate demo` ran, from curate/recipes/mix_study_subsets.yaml: each run of the demo sets
# base.where, token_budget, epochs, seed, design.k, draws, seed and control from its size and corpus
# (curate/demo/plan.py), replacing what is here; edits to the other fields are used.
"""


def _study_spec(cat: Catalog, out: Path, size: DemoSize, seed: int, console: Console) -> SweepSpec:
    """The study sweep sized to this corpus (domains, epochs, k levels), written next to the corpus as run."""
    plan = plan_study(cat, size.budget, size.max_domains)
    console.print(f"  {len(plan.domains)} domains hold {plan.unique_tokens:,} BPE tokens each: {', '.join(plan.domains)}; "
                  f"{plan.epochs} epochs of {plan.unique_tokens:,} unique tokens per mixture; k in {list(plan.k_levels)}")
    left_out = [f"{d} ({n:,})" for d, n in sorted(plan.tokens.items()) if d not in plan.domains]
    if left_out:
        console.print(f"  left out (too few tokens, or beyond {size.max_domains} domains): {', '.join(left_out)}")
    path = _copy_recipe("mix_study_subsets.yaml", out / "demo_study.yaml")
    study = SweepSpec.model_validate(yaml.safe_load(path.read_text()))
    sweep = sized_sweep(study, plan, size.budget, size.draws, size.control_draws, seed)
    path.write_text(STUDY_HEADER + yaml.safe_dump(sweep.model_dump(mode="json", exclude_unset=True), sort_keys=False, allow_unicode=True))
    return sweep


def run_demo(settings: DemoSettings) -> Path:
    """Run the demo into ``settings.out``; returns the run folder (``out/run``).

    A corpus already in ``out/raw`` (one ``<source>.jsonl.gz`` per source) is used as is. ``seed`` is the
    pipeline seed: corpus sample, curation, eval split, design draws and mixture selection (training
    seeds stay 0, 1, ...).
    """
    out, workers, seed, mode, size = settings.out, settings.workers, settings.seed, settings.size_name, settings.size
    console = Console(stderr=True)
    steps = DemoSteps(mode, console)
    out.mkdir(parents=True, exist_ok=True)
    run_dir = out / "run"
    recipe = _recipe(out, size, seed)
    warmup = start_for(recipe)  # numba compiles (first run) while the corpus is built

    steps.start("build an English corpus from text on this machine")
    if not any((out / "raw").glob("*.jsonl.gz")):
        counts = build_demo_corpus(out / "raw", size.max_bytes, seed=seed)
        console.print("  " + ", ".join(f"{k}: {n} docs, {b / 1e6:.1f} MB" for k, (n, b) in counts.items()))
    steps.done(f"corpus in {out / 'raw'}")

    steps.start("curate: ingest, dedup, langid, quality, eval split, quality model, topics, diversity")
    summary = RecipeRunner(recipe, out, run_dir, workers=workers, progress=settings.progress, warmup=warmup).run()
    steps.done(f"{summary.n_docs:,} documents, {summary.n_kept:,} kept")

    steps.start("train the shared byte-level BPE tokenizer (eval documents excluded)")
    if not (run_dir / "train" / "tokenizer" / "tokenizer.json").exists():
        _module("train", "tokenizer", str(run_dir), "--vocab-size", str(size.vocab), "--seed", str(seed))
    steps.done("tokenizer ready")

    steps.start("design the study: k-of-K domain subsets + a negative control over hash buckets")
    with Catalog(run_dir) as cat:
        sweep = _study_spec(cat, out, size, seed, console)
        mixtures = run_sweep(cat, sweep)
        sweep_groups = sorted(cat.ask("demo/study_groups", sweep_id=sweep.name)["g"])
        for arm in ("study", "control"):
            balance = realized_balance(cat, sweep.name, arm)
            if balance["max_abs_rho"] is not None:
                console.print(f"  balance ({arm}): max |ρ(log2 k, covariate)| = {balance['max_abs_rho']:.2f} ({balance['worst_covariate']})")
    print_frame(mixtures, title="mixtures", keys=["mixture_id", "arm", "log2_k", "groups", "n_tokens"], csv=out / "mixtures.csv")
    steps.done(f"{mixtures.height} mixtures ({(mixtures['arm'] == 'study').sum()} study, {(mixtures['arm'] == 'control').sum()} control)")

    steps.start(f"train {size.preset} on every mixture ({size.budget:,} BPE tokens each; {size.replicate} mixtures twice)")
    panel = [arg for group in sweep_groups for arg in ("--eval-set", f"id/{group}")]  # the study's domains: no cost for the rest
    _module("train", "sweep", str(run_dir), "--sweep", sweep.name, "--preset", size.preset, "--seeds", "1", "--replicate",
            str(size.replicate), "--tokens", str(size.budget), "--workers", str(workers), "--probe-docs", str(size.probe_docs), *panel)
    steps.done("training done")

    steps.start("answer the pre-registered question; write the HTML report")
    _module("reports", "study", str(run_dir), "--sweep", sweep.name, "--numbers-anyway")
    _module("reports", "html", str(run_dir), "-o", str(out / "report.html"))
    steps.done(f"report: {(out / 'report.html').resolve()}")
    catalog = (run_dir / "catalog.duckdb").resolve()
    console.print(f"\ncatalog: {catalog}\nTry:")
    for name in TRY_QUERIES:
        q = " ".join(line for line in sql.read_query(name).text.splitlines() if not line.startswith("--"))
        console.print(f'  duckdb {catalog} -c "{q}"', soft_wrap=True)
    if mode == "quick":
        console.print("[yellow]--quick is a smoke run of the whole loop (few mixtures, short training): not an answer[/]")
    console.rule("[bold]the answer")
    _module("reports", "headline", str(run_dir))
    return run_dir
