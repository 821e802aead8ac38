"""``curate mix ...``: emit mixtures, sweeps, and reserve eval sets (thin wrappers over curate.mix*)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console

from curate.catalog import Catalog
from curate.display import print_frame
from curate.mix import MixtureSpec, emit
from curate.mix_eval import reserve_eval
from curate.mix_select import InfeasibleMixture
from curate.mix_sweep import SweepSpec, run_sweep, score_mixture
from curate.recipe import format_validation_error

mix_app = typer.Typer(help="Token-budgeted training mixtures, sweeps and eval sets.", no_args_is_help=True)
console = Console(stderr=True)


def _load(path: Path, model):  # noqa: ANN001, ANN202
    try:
        return model.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as err:
        console.print(f"[red]error:[/] {format_validation_error(str(path), err)}")
        raise typer.Exit(2) from None


@mix_app.command("emit")
def emit_command(run: Annotated[Path, typer.Argument(help="Run folder.")], spec: Annotated[Path, typer.Argument(help="Mixture spec YAML.")]) -> None:
    """Emit one mixture from a spec and score its diversity."""
    parsed = _load(spec, MixtureSpec)
    with Catalog(run) as cat:
        try:
            manifest = emit(cat, parsed)
        except InfeasibleMixture as err:
            console.print(f"[red]infeasible:[/] {err}")
            raise typer.Exit(2) from None
        score_mixture(cat, manifest["mixture_id"], 500, parsed.seed)
        print_frame(cat.report("mixtures"), title="mixtures")
    console.print(f"mixture {manifest['mixture_id']}: {manifest['n_docs']:,} docs, {manifest['n_tokens']:,} tokens")


@mix_app.command("sweep")
def sweep_command(run: Annotated[Path, typer.Argument(help="Run folder.")], sweep: Annotated[Path, typer.Argument(help="Sweep YAML.")]) -> None:
    """Emit a family of mixtures and print their diversity profiles side by side."""
    parsed = _load(sweep, SweepSpec)
    with Catalog(run) as cat:
        try:
            table = run_sweep(cat, parsed)
        except InfeasibleMixture as err:
            console.print(f"[red]infeasible:[/] {err}")
            raise typer.Exit(2) from None
    print_frame(table, title=f"sweep {parsed.name}")


@mix_app.command("eval-split")
def eval_split(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    group_by: Annotated[str, typer.Option(help="Column defining groups.")] = "source",
    per_group: Annotated[int, typer.Option(help="In-distribution eval documents per group.")] = 5,
    ood: Annotated[list[str], typer.Option(help="Groups held out entirely (out-of-distribution).")] = [],  # noqa: B006
    seed: Annotated[int, typer.Option()] = 0,
    threshold: Annotated[float, typer.Option(help="Jaccard above which a pool document contaminates an eval one.")] = 0.8,
) -> None:
    """Reserve eval sets and exclude their duplicates from every future mixture."""
    with Catalog(run) as cat:
        found = reserve_eval(cat, group_by, per_group, tuple(ood), seed, threshold)
        sets = cat.query("SELECT kind, count(DISTINCT eval_set) AS sets, count(*) AS docs FROM eval_sets GROUP BY kind ORDER BY kind")
    print_frame(sets, title="eval sets")
    console.print(f"{found.height} pool documents duplicate an eval document and are excluded from mixtures")
