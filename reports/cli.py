"""``reports``: list, show, html, correlate (thin wrappers over the reports package)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console

from curate.core.command import UserErrorsAsMessages, existing_run
from curate.core.display import print_frame, to_csv, to_markdown

app = typer.Typer(cls=UserErrorsAsMessages, help="Named SQL reports, the HTML report and diversity/generalization statistics.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
RunArg = Annotated[Path, typer.Argument(help="Run folder (holds catalog.duckdb) or name under ./runs.", callback=existing_run)]


class Fmt(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"
    parquet = "parquet"


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``k=v`` strings to a dict (values stay strings; DuckDB casts them where the SQL needs a type)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r}: write --param name=value", param_hint="--param")
        out[key.strip()] = value
    return out


@app.command("list")
def list_command() -> None:
    """Every report with what it answers and its parameters (with defaults)."""
    from reports.queries import available

    for name, doc, params in available():
        print(f"{name:<28} {doc}" + (f"  [params: {params}]" if params else ""))


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Report name (see `reports list`).")],
    run: RunArg,
    param: Annotated[list[str], typer.Option(help="name=value, bound as a SQL parameter (repeatable).")] = [],  # noqa: B006
    fmt: Annotated[Fmt, typer.Option("--format", help="Output format.")] = Fmt.table,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write to this file (parquet default: NAME.parquet).")] = None,
) -> None:
    """Run one report on a read-only connection, parameters bound (never formatted into the SQL)."""
    import duckdb

    from curate.core.catalog.access import RunBusy
    from reports.queries import query
    from sql import ParamError

    try:
        frame = query(run, name, **parse_params(param))
    except (ParamError, duckdb.ConversionException, duckdb.InvalidInputException) as err:  # e.g. --param limit=abc
        raise typer.BadParameter(f"a parameter of {name!r} has the wrong type or value: {err}") from None
    except (KeyError, ValueError, FileNotFoundError, RunBusy) as err:
        raise typer.BadParameter(str(err.args[0] if err.args else err)) from None
    if fmt is Fmt.parquet:
        target = out or Path(f"{name}.parquet")
        frame.write_parquet(target)
        print(target)
    elif out is not None:
        text = {Fmt.csv: lambda: to_csv(frame), Fmt.json: frame.write_json}.get(fmt, lambda: to_markdown(frame))()
        out.write_text(text, encoding="utf-8")
        print(out)
    else:
        print_frame(frame, fmt.value, title=name)  # type: ignore[arg-type]


@app.command()
def html(run: RunArg, out: Annotated[Path, typer.Option("-o", "--out", help="The page to write.")] = Path("report.html")) -> None:
    """Write the self-contained HTML report (inline SVG plots, all text escaped)."""
    from reports.html import write_report

    print(write_report(run, out))


@app.command()
def correlate(
    run: RunArg,
    metric: Annotated[list[str], typer.Option(help="Diversity metric (repeatable; 'all': every mixture metric; default: a fixed set).")] = [],  # noqa: B006
    target: Annotated[list[str], typer.Option(help="eval_set/metric, e.g. ood/bpb (repeatable; default: ood/bpb, id/bpb).")] = [],  # noqa: B006
    confound: Annotated[list[str], typer.Option(help="Controlled for in partial ρ: mean_doc_bytes, n_unique_words, mean_quality_score, quality_fail_frac, n_unique_docs or a diversity metric (repeatable).")] = [],  # noqa: B006
    seed: Annotated[int, typer.Option(help="Bootstrap and Monte Carlo seed.")] = 0,
    n_boot: Annotated[int, typer.Option(min=100, help="Bootstrap resamples.")] = 2000,
    allow_undertrained: Annotated[bool, typer.Option(help="Correlate even runs that failed the learned check (not evidence).")] = False,
) -> None:
    """Correlate mixture diversity with eval metrics over mixtures (per preset), and the mixture ranking across presets;
    results replace the `correlations` and `scale_agreement` tables. Refuses runs that failed the learned check."""
    from reports.analysis import DEFAULT_CONFOUNDS, DEFAULT_METRICS, DEFAULT_TARGETS, UndertrainedError, analyse, mixture_metrics

    metrics = mixture_metrics(run) if metric == ["all"] else tuple(metric) or DEFAULT_METRICS
    try:
        frame = analyse(run, metrics, tuple(target) or DEFAULT_TARGETS, tuple(confound) or DEFAULT_CONFOUNDS, seed, n_boot,
                        allow_undertrained)
    except UndertrainedError as err:
        print(f"refused: {err}")
        raise typer.Exit(2) from None
    if frame.height == 0:
        print("no training runs with these targets and mixture diversity rows: nothing to correlate")
        return
    for (preset,), part in frame.group_by("preset", maintain_order=True):
        per_target = part.filter(pl.col("target") == part["target"][0]).height
        print(f"{preset}: {part['n_mixtures'].max()} mixtures, at least {part['n_seeds'].min()} seeds each; "
              f"Holm across the {per_target} metrics of each target; partial ρ controls {part['confound'][0] or 'nothing'}")
        print_frame(summary(part), title=f"diversity vs generalization, {preset} (over mixtures, seeds averaged)",
                    console=Console(width=140))
    grouped = frame.drop_nulls("warning").group_by("warning").agg(pl.concat_str("preset", pl.lit(": "), "metric", pl.lit(" × "), "target")).sort("warning")
    for warning, pairs in grouped.iter_rows():
        print(f"warning: {warning} ({', '.join(pairs)})")
    _print_scale_and_headline(run)


def _print_scale_and_headline(run: Path) -> None:
    from reports.analysis import convergence_caveat
    from reports.headline import headline
    from reports.queries import open_run

    with open_run(run) as cat:
        scale = cat.ask("cli/scale_agreement")
        sentence = headline(cat)
        caveat = convergence_caveat(cat)
    if scale.height:
        print_frame(scale.with_columns(pl.col(pl.Float64).round(3)), title="does the mixture ranking transfer across model sizes?",
                    console=Console(width=140))
    if caveat:
        print(f"caveat: {caveat}")
    print(f"\nanswer: {sentence}")


@app.command()
def study(
    run: RunArg,
    sweep: Annotated[str | None, typer.Option(help="The study's sweep id (default: the latest study recorded).")] = None,
    preset: Annotated[str | None, typer.Option(help="Model size to analyse (default: the one with the most runs).")] = None,
    seed: Annotated[int, typer.Option(help="Bootstrap and permutation seed.")] = 0,
    n_boot: Annotated[int, typer.Option(min=100, help="Cluster-bootstrap resamples of mixtures.")] = 2000,
    n_perm: Annotated[int, typer.Option(min=99, help="Freedman–Lane permutations.")] = 9999,
    numbers_anyway: Annotated[bool, typer.Option(help="Exit 0 and print the estimates even when the study is refused or not identifiable (not evidence).")] = False,
    allow_undertrained: Annotated[bool, typer.Option(help="Analyse runs that failed the learned check (the verdict still says so).")] = False,
) -> None:
    """Answer a designed study's pre-registered question (effect of the design factor on the target, with the negative
    control and the n-gram baseline beside it); results replace the sweep's `study_effects` rows. Exits 2 when the
    study is refused or not identifiable, unless --numbers-anyway."""
    from reports.headline import study_headline
    from reports.queries import open_run
    from reports.study import StudyError, analyse_study

    try:
        frame = analyse_study(run, sweep, preset, seed, n_boot, n_perm, allow_undertrained)
    except StudyError as err:
        print(f"cannot analyse: {err}")
        raise typer.Exit(2) from None
    shown = frame.select("analysis", "arm", "model", pl.col("step_frac").alias("at"), "n_mixtures", "n_runs",
                         *(pl.col(c).round(4) for c in ("estimate", "ci_low", "ci_high", "p_value", "mde", "seed_sd", "vif")), "verdict")
    primary = frame.filter(pl.col("analysis") == "primary")
    verdict = primary["verdict"][0] if primary.height else "refused"
    refused = verdict in ("refused", "not identifiable")
    if not refused or numbers_anyway:
        title = f"study {frame['sweep_id'][0]}: effect of {frame['factor'][0]} on {frame['target'][0]} (per unit of the factor)"
        print_frame(shown, title=title + (" — NOT EVIDENCE" if refused else ""), console=Console(width=160))
    with open_run(run) as cat:
        print(f"\nanswer: {study_headline(cat, frame['sweep_id'][0])}")
    if refused and not numbers_anyway:
        raise typer.Exit(2)


@app.command("headline")
def headline_command(run: RunArg) -> None:
    """The stored analysis in one sentence, with its uncertainty and what was held fixed."""
    from reports.headline import headline
    from reports.queries import open_run

    with open_run(run) as cat:
        print(headline(cat))


def summary(frame: pl.DataFrame) -> pl.DataFrame:
    """The correlation table as short strings: ρ with its CI, τ, r, p, p_holm, partial ρ, LOO agreement."""
    def num(col: str, digits: int = 2) -> pl.Expr:
        return pl.col(col).round(digits).cast(pl.String).fill_null("–")

    return frame.select(
        "metric", "target", pl.col("n_mixtures").alias("n"), num("rho").alias("ρ"),
        pl.format("[{}, {}]", num("rho_ci_low"), num("rho_ci_high")).alias("ρ 95% CI"), num("tau").alias("τ"),
        num("r").alias("r"), num("p_perm", 4).alias("p"), num("p_holm", 4).alias("p_holm"),
        num("partial_rho").alias("partial ρ"), num("loo_rank_agreement").alias("loo"))
