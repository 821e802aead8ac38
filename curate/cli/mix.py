"""``curate mix``: emit a mixture, a sweep, or reserve eval sets (thin wrappers over :mod:`curate.mix`).

    curate mix RUN spec.yaml [--eval-split N --ood GROUP]   # one mixture (same as `curate mix emit ...`)
    curate mix sweep RUN sweep.yaml [--plan]                # a family for an ablation or a designed study
    curate mix eval-split RUN --per-group N --ood GROUP     # only reserve eval sets

``mix`` is a command group whose default command is ``emit``: when the first argument is not a
sub-command name, ``emit`` is implied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import duckdb
import polars as pl
import typer
import yaml
from pydantic import BaseModel, ValidationError
from typer.core import TyperGroup

from curate.core.catalog import Catalog
from curate.core.command import FormatOption, Mirror, TableFormat, console, resolve_run
from curate.core.display import print_frame
from curate.mix.balance import realized_balance
from curate.mix.emit import emit
from curate.mix.eval_split import EvalSplitParams, fit_problems
from curate.mix.select import InfeasibleMixture
from curate.mix.spec import MixtureSpec
from curate.mix.sweep import Plan, StudySpec, SweepSpec, plan_sweep, run_sweep
from curate.pipeline.recipe import format_validation_error


class DefaultEmit(TyperGroup):
    """A group that runs ``emit`` when the first argument is not one of its commands (or an option)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["emit", *args]
        return super().parse_args(ctx, args)


mix_app = typer.Typer(cls=DefaultEmit, help="Token-budgeted training mixtures, sweeps and eval sets. "
                      "`curate mix RUN spec.yaml` emits one mixture.", no_args_is_help=True)

Run = Annotated[str, typer.Argument(help="Run folder or name under ./runs.")]
Workers = Annotated[int | None, typer.Option(min=1, help="DuckDB threads for emitting (output is identical for any value).")]
SPLIT = Mirror(EvalSplitParams)  # the recipe's eval_split section: each option's default and help written once, there
Threshold = Annotated[float, SPLIT.option("threshold")]
Ood = Annotated[list[str], SPLIT.option("ood_groups", "--ood", also="Repeat --ood for several.")]


def _load(path: Path, model: type[BaseModel], what: str) -> BaseModel:
    try:
        return model.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as err:
        console.print(f"[red]error:[/] {format_validation_error(str(path), err, what)}")
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        console.print(f"[red]error:[/] {path}: {err}")
        raise typer.Exit(2) from None


def _warn_fits(cat: Catalog) -> None:
    """Print every fitted model that saw eval documents or was fitted against another split (fit_problems)."""
    for problem in fit_problems(cat):
        console.print(f"[bold red]warning:[/] {problem}", highlight=False)


def _reserve(cat: Catalog, split: EvalSplitParams) -> None:
    found = split.reserve(cat)
    sets = cat.ask("cli/eval_set_kinds")
    print_frame(sets, title="eval sets", console=console)
    if found.height:
        print_frame(found.group_by("method").agg(docs=pl.len()).sort("method"), title="dropped: duplicates of eval documents", console=console)
    console.print(f"{found.height} documents duplicate an eval document; they are listed in `contamination` and never mixed")


@mix_app.command("emit")
def emit_command(
    run: Run,
    spec: Annotated[Path, typer.Argument(help="Mixture spec YAML (see curate/recipes/mix_*.yaml).")],
    eval_split: Annotated[int | None, typer.Option(help="First reserve this many eval documents per group (of --eval-group-by).")] = None,
    ood: Ood = [],  # noqa: B006
    eval_group_by: Annotated[str, SPLIT.option("group_by", "--eval-group-by")] = SPLIT.default("group_by"),
    eval_seed: Annotated[int, SPLIT.option("seed", "--eval-seed")] = SPLIT.default("seed"),
    threshold: Threshold = SPLIT.default("threshold"),
    workers: Workers = None,
    diversity_sample: Annotated[int, typer.Option(min=0, help="Distinct documents sampled to score the mixture's diversity (0: skip).")] = 500,
) -> None:
    """Emit one mixture from a spec, register it and score its diversity."""
    parsed = _load(spec, MixtureSpec, "mixture spec")
    split = EvalSplitParams(group_by=eval_group_by, per_group=eval_split or 0, ood_groups=ood, seed=eval_seed,
                            threshold=threshold) if eval_split is not None or ood else None  # out of range: an error naming it
    with Catalog(resolve_run(run)) as cat:
        try:
            if split is not None:
                _reserve(cat, split)
            manifest = emit(cat, parsed, workers=workers, diversity_sample=diversity_sample or None)  # type: ignore[arg-type]
        except (InfeasibleMixture, ValueError, FileNotFoundError, duckdb.Error) as err:
            console.print(f"[red]cannot mix:[/] {err}")
            raise typer.Exit(2) from None
        _warn_fits(cat)
        print_frame(cat.report("mixtures", sweep_id=None).filter(pl.col("mixture_id") == manifest["mixture_id"]),
                    title="mixture", console=console)
    unit = "BPE tokens" if manifest["tokenizer"] == "run" else "tokens (bytes4: UTF-8 bytes / 4)"  # the manifest's token_counter
    console.print(f"mixture {manifest['mixture_id']}: {manifest['n_docs']:,} docs, {manifest['n_tokens']:,} {unit} "
                  f"({manifest['budget_error_pct']:+.3f}% of budget) in {cat.run_dir / 'mixtures' / manifest['mixture_id']}")


def _print_balance(sweep: SweepSpec, plan: Plan, cat: Catalog | None) -> None:
    """One line per arm: the predicted balance of the design and, once emitted, the measured one."""
    for arm, report in plan.balance.items():
        line = (f"balance ({arm}): max |ρ({sweep.factor}, covariate)| = {report['max_abs_rho']:.2f} predicted"
                f" ({report['worst_covariate']}; best of {report['candidates']} candidate designs, one draw: {report['single_draw_max_abs_rho']:.2f})")
        if cat is not None:
            measured = realized_balance(cat, sweep.name, arm)
            if measured["max_abs_rho"] is not None:
                line += f", {measured['max_abs_rho']:.2f} measured ({measured['worst_covariate']})"
        console.print(line)


@mix_app.command("sweep")
def sweep_command(run: Run, sweep: Annotated[Path, typer.Argument(help="Sweep YAML (see curate/recipes/mix_sweep_*.yaml, mix_study_*.yaml).")],
                  workers: Workers = None,
                  fmt: FormatOption = TableFormat.table,
                  plan_only: Annotated[bool, typer.Option("--plan", help="Only draw the design and print it with its predicted balance.")] = False) -> None:
    """Emit a family of mixtures (an ablation or a designed study) and print their designs and profiles side by side."""
    parsed: SweepSpec = _load(sweep, SweepSpec, "sweep")  # type: ignore[assignment]
    with Catalog(resolve_run(run), read_only=plan_only) as cat:
        try:
            plan = plan_sweep(cat, parsed)
            if plan_only:
                table = pl.DataFrame([{"name": p.spec.name, **{k: v for k, v in p.design.items() if k != "sweep_id"}, **p.label,
                                       "groups": ",".join(sorted(p.spec.weights)) if p.spec.weights else None} for p in plan.mixtures])
            else:
                table = run_sweep(cat, parsed, workers, plan)
        except (InfeasibleMixture, ValueError, FileNotFoundError, duckdb.Error) as err:
            console.print(f"[red]cannot mix:[/] {err}")
            raise typer.Exit(2) from None
        _warn_fits(cat)
        print_frame(table, fmt.value, title=f"sweep {parsed.name}" + (" (plan)" if plan_only else ""))  # type: ignore[arg-type]
        if parsed.is_study:
            confounds = (parsed.study or StudySpec()).confounds
            console.print(f"pre-registered: factor {parsed.factor}, target {parsed.target}, confounds {', '.join(confounds)}")
        _print_balance(parsed, plan, None if plan_only else cat)
    if not plan_only and "target_entropy" in table.columns and table.height > 2 and table["group_entropy_tokens"].n_unique() > 1:
        from scipy.stats import spearmanr  # here: scipy.stats costs every CLI start (and worker) 0.6 s

        rho = spearmanr(table["target_entropy"], table["group_entropy_tokens"]).statistic
        console.print(f"Spearman(target entropy, measured token entropy) = {rho:.3f}")


@mix_app.command("eval-split")
def eval_split_command(
    run: Run,
    per_group: Annotated[int, SPLIT.option("per_group")] = SPLIT.default("per_group"),
    ood: Ood = [],  # noqa: B006
    group_by: Annotated[str, SPLIT.option("group_by")] = SPLIT.default("group_by"),
    seed: Annotated[int, SPLIT.option("seed")] = SPLIT.default("seed"),
    threshold: Threshold = SPLIT.default("threshold"),
    containment: Annotated[float, SPLIT.option("containment", min=0.0, max=1.0)] = SPLIT.default("containment"),
) -> None:
    """Reserve eval sets (replacing earlier ones) and exclude their duplicates from every future mixture and fit."""
    split = EvalSplitParams(group_by=group_by, per_group=per_group, ood_groups=ood, seed=seed, threshold=threshold,
                            containment=containment or None)  # the recipe's bounds: --per-group -3 is an error naming it
    with Catalog(resolve_run(run)) as cat:
        try:
            _reserve(cat, split)
        except (ValueError, duckdb.Error) as err:
            console.print(f"[red]cannot split:[/] {err}")
            raise typer.Exit(2) from None
        _warn_fits(cat)
