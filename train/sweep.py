"""Sweeps: every mixture of a mixture sweep x seeds (x a size ladder), following published data ablations.

Protocol (DCLM, Li et al. 2024; FineWeb, Penedo et al. 2024; DataDecide, Magnusson et al. 2025): within a
preset only the data varies (same tokenizer, model, schedule and token budget for every mixture);
initialization and data order come from separate seeds; several seeds per mixture show the noise floor;
an optional ladder of presets checks that the mixture ranking holds across model sizes. Finished runs are
skipped, so a sweep can be stopped and started again.

Runs are independent, so ``workers`` processes train them side by side, each with its share of the
cores (small models use one core far better than they use two); the driver alone reads and writes the
catalog (plans before, records after), so workers never contend for DuckDB's single-writer lock.
"""

from __future__ import annotations

import os
from concurrent.futures import as_completed
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from scipy.stats import kendalltau

from curate.core.catalog import Catalog
from curate.core.errors import NotInRun
from curate.core.threads import apply_thread_limits, thread_budget, threads_per_worker
from curate.core.workers import process_pool
from train.config import PRESETS, TrainConfig
from train.evaluate import eval_sets
from train.runs import RunOutcome, RunPlan, describe, execute, is_done, plan_run, record

DATA_SEED_OFFSET = 1000  # data-order seeds 1000, 1001, ... stay distinct from init seeds 0, 1, ...
PRESET_COST = {name: p["n_layer"] * p["d_model"] ** 2 for name, p in PRESETS.items()}  # relative cost per token


def sweep_mixtures(cat: Catalog, sweep_id: str) -> list[str]:
    """Every mixture of a sweep, by name: those emitted with its ``sweep_id`` and every arm of its design
    (``mixture_design``: the study arm and the negative control are trained alike)."""
    return cat.ask("train/sweep_mixtures", sweep_id=sweep_id)["mixture_id"].to_list()


def parse_preset(entry: str, seeds: int) -> tuple[str, int]:
    """'micro' -> ('micro', seeds); 'micro:1' -> ('micro', 1): a size ladder may use fewer seeds at larger sizes."""
    name, _, count = entry.partition(":")
    if name not in PRESETS or (count and not (count.isdigit() and int(count) > 0)):
        raise ValueError(f"preset {entry!r}: write NAME or NAME:SEEDS with NAME one of {', '.join(PRESETS)} and SEEDS >= 1")
    return name, int(count) if count else seeds


def spread(items: list[str], n: int) -> list[str]:
    """``n`` of ``items`` evenly spaced along their order (all of them when n >= len(items))."""
    if n >= len(items):
        return list(items)
    if n <= 1:
        return items[len(items) // 2 : len(items) // 2 + n]
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def sweep_configs(mixtures: list[str], presets: list[str], seeds: int, base: TrainConfig, replicate: int = 0) -> list[TrainConfig]:
    """The runs of a sweep: presets x mixtures x seeds, identical except mixture, preset and seeds.

    ``replicate``: that many mixtures, spread along the sweep's order, get one seed more at every preset.
    With the mixture as the unit, a budget buys more mixtures rather than more seeds; a few replicated
    mixtures still measure the seed noise the analysis compares effects with.
    """
    ladder = [parse_preset(p, seeds) for p in presets]
    extra = set(spread(mixtures, replicate))
    return [base.model_copy(update={"mixture_id": m, "preset": p, "seed": s, "data_seed": DATA_SEED_OFFSET + s})
            for p, n in ladder for m in mixtures for s in range(n + (m in extra))]


def ranking_agreement(summary: pl.DataFrame) -> pl.DataFrame:
    """Kendall tau between the OOD-bpb ranking of mixtures under each pair of consecutive presets."""
    rows = []
    presets = summary["preset"].unique(maintain_order=True).to_list()
    for small, large in zip(presets, presets[1:], strict=False):
        pair = summary.filter(pl.col("preset") == small).join(summary.filter(pl.col("preset") == large), on="mixture_id")
        if pair.height >= 2:
            tau = kendalltau(pair["ood_bpb"], pair["ood_bpb_right"]).statistic
            rows.append({"presets": f"{small}->{large}", "mixtures": pair.height, "kendall_tau": float(tau)})
    return pl.DataFrame(rows, schema={"presets": pl.String, "mixtures": pl.Int64, "kendall_tau": pl.Float64})


def _execute_in_worker(plan: RunPlan) -> RunOutcome | None:
    apply_thread_limits(plan.cfg.num_threads or 1)
    return execute(plan, progress=False)


def _train_all(run_dir: Path, plans: list[RunPlan], workers: int, progress: bool) -> None:
    """Execute the plans (``workers`` processes when > 1) and record each outcome as it arrives."""
    if not plans:  # every run finished already (a sweep run again)
        return
    console = Console(stderr=True)
    columns = (TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not progress, transient=True) as bar:
        task = bar.add_task("sweep", total=len(plans))
        if workers <= 1:
            for plan in plans:
                outcome = execute(plan, progress=progress)
                record(run_dir, outcome)
                console.print(describe(outcome), soft_wrap=True)
                bar.advance(task)
            return
        largest_first = sorted(plans, key=lambda p: -PRESET_COST[p.cfg.preset] * p.total_tokens)  # balances the workers
        threads = plans[0].cfg.num_threads or 1
        # workers start under the budget: their OpenMP/BLAS read it from the environment before torch loads;
        # they die with this driver, even a kill -9-ed one (curate.core.workers)
        with thread_budget(threads), process_pool(workers, threads) as pool:
            futures = [pool.submit(_execute_in_worker, p) for p in largest_first]
            for future in as_completed(futures):
                outcome = future.result()
                record(run_dir, outcome)
                console.print(describe(outcome), soft_wrap=True)
                bar.advance(task)


def run_sweep(run_dir: Path, sweep_id: str, presets: list[str], seeds: int = 3, base: TrainConfig | None = None,
              progress: bool = True, workers: int = 1, replicate: int = 0) -> pl.DataFrame:
    """Train every run of the sweep (skipping finished ones); write and return the summary table.

    ``workers`` > 1 trains that many runs at once in separate processes, dividing the cores among them
    (``curate.core.threads``). The summary (one row per mixture x preset: seeds, mean id/ood bpb, ood sd and
    range) is written to ``train/sweep-<sweep_id>.csv``; with several presets,
    ``train/sweep-<sweep_id>-ranking.csv`` holds the rank agreement across sizes.
    """
    with Catalog(run_dir, read_only=True) as cat:
        mixtures = sweep_mixtures(cat, sweep_id)
        if not mixtures:
            raise NotInRun(f"no mixtures with sweep_id {sweep_id!r} in {run_dir}; emit them with `curate mix sweep`")
        base = base or TrainConfig(mixture_id=mixtures[0])
        if workers > 1 and base.num_threads is None:
            base = base.model_copy(update={"num_threads": threads_per_worker(workers)})
        sets = eval_sets(cat, base.eval_docs, base.eval_only)  # read once: every run of a sweep is scored on the same sets
        plans = [plan_run(run_dir, cfg, cat, sets) for cfg in sweep_configs(mixtures, presets, seeds, base, replicate)]
        done = {p.train_id for p in plans if is_done(cat, p.train_id)}
    for train_id in sorted(done):
        print(f"{train_id}: done already")
    _train_all(run_dir, [p for p in plans if p.train_id not in done], min(workers, os.cpu_count() or 1), progress)
    ids = [p.train_id for p in plans]
    with Catalog(run_dir, read_only=True) as cat:
        summary = cat.ask("train/sweep_summary", ids=ids)
    out = Path(run_dir) / "train"
    summary.write_csv(out / f"sweep-{sweep_id}.csv")
    if len(presets) > 1:
        ranking_agreement(summary).write_csv(out / f"sweep-{sweep_id}-ranking.csv")
    return summary
