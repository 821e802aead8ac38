"""``reports``: list, show, html, correlate (thin wrappers over reports.*)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate.display import print_frame, to_markdown

app = typer.Typer(help="Named SQL reports, the HTML report and diversity/generalization statistics.", no_args_is_help=True, pretty_exceptions_enable=False)


@app.command("list")
def list_command() -> None:
    """Every report with what it answers and its parameters."""
    from reports.queries import available

    for name, doc, params in available():
        print(f"{name:<30} {doc}" + (f"  [params: {', '.join(params)}]" if params else ""))


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Report name (see `reports list`).")],
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    param: Annotated[list[str], typer.Option(help="k=v, bound as a SQL parameter (repeatable).")] = [],  # noqa: B006
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json | markdown | parquet")] = "table",
    out: Annotated[Path | None, typer.Option(help="Output file (parquet needs one).")] = None,
) -> None:
    """Run one report on a read-only connection."""
    from reports.queries import query

    params = dict(p.split("=", 1) for p in param)
    frame = query(run, name, **params)
    if fmt == "parquet":
        target = out or Path(f"{name}.parquet")
        frame.write_parquet(target)
        print(target)
    elif out is not None:
        out.write_text(frame.write_csv() if fmt == "csv" else frame.write_json() if fmt == "json" else to_markdown(frame))
    else:
        print_frame(frame, fmt, title=name)  # type: ignore[arg-type]


@app.command()
def html(run: Annotated[Path, typer.Argument(help="Run folder.")], out: Annotated[Path, typer.Option("-o", "--out")] = Path("report.html")) -> None:
    """Write the self-contained HTML report."""
    from reports.html import write_report

    print(write_report(run, out))


@app.command()
def correlate(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    metric: Annotated[list[str], typer.Option(help="Diversity metrics (repeatable; default: all).")] = [],  # noqa: B006
    target: Annotated[list[str], typer.Option(help="eval_set/metric targets, e.g. ood/bpb (repeatable).")] = [],  # noqa: B006
    seed: int = 0,
) -> None:
    """Correlate mixture diversity with eval metrics; results go to the `correlations` table."""
    from reports.analysis import DEFAULT_METRICS, DEFAULT_TARGETS, analyse

    frame = analyse(run, tuple(metric) or DEFAULT_METRICS, tuple(target) or DEFAULT_TARGETS, seed)
    print_frame(frame.select("metric", "target", "n_mixtures", "n_seeds", "rho", "rho_ci_low", "rho_ci_high", "p_perm", "p_holm",
                             "partial_rho", "loo_rank_agreement"), title="diversity vs generalization (Spearman over mixtures)")
    for warning in sorted(set(frame["warning"].drop_nulls().to_list())):
        print(f"warning: {warning}")
