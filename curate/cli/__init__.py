"""``curate``: thin command line over the library (parse -> pydantic -> one library call)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate.cli.diversity import diversity
from curate.cli.mix import mix_app
from curate.cli.quality import quality_app
from curate.core.catalog import Catalog
from curate.core.catalog.access import RunBusy
from curate.core.command import FormatOption, Mirror, TableFormat, UserErrorsAsMessages, console, resolve_run
from curate.core.display import print_frame
from curate.core.threads import cores
from curate.demo.settings import DemoSettings
from curate.ingest.tasks import IngestError
from curate.pipeline.recipe import RecipeError, load_recipe

app = typer.Typer(cls=UserErrorsAsMessages, help="Curate text corpora into a DuckDB catalog; emit mixtures.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


@app.command()
def run(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML file.")],
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: one per core). Steps too small to gain from them run in the driver (MIXLAB_FANOUT).")] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default: runs/<recipe name>).")] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    executor: Annotated[str, typer.Option(help="local (process pool) or ray (extra mixlab[ray]).")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster address (auto, ray://host:port); default: start a local Ray.")] = None,
    data: Annotated[str | None, typer.Option(help="Keep the run's shards at this URL (s3://bucket/run, gs://...) or folder instead of in the run folder; the catalog stays in the run folder.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad input record (file, line, field) instead of counting it as a reject.")] = False,
) -> None:
    """Run a recipe: ingest, then each stage; resumes where a killed run stopped."""
    from curate.pipeline.runner import RecipeRunner

    try:
        parsed = load_recipe(recipe)
        if strict:
            parsed = parsed.model_copy(update={"ingest": parsed.ingest.model_copy(update={"strict": True})})
        run_dir = out or Path("runs") / parsed.name
        summary = RecipeRunner(parsed, recipe.resolve().parent, run_dir, workers or cores(), progress, executor, address, data).run()
    except (RecipeError, IngestError, ValueError, RunBusy) as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from None
    console.print(f"run folder: {summary.run_dir}  documents: {summary.n_docs:,}  kept: {summary.n_kept:,}")
    with Catalog(summary.run_dir, read_only=True) as cat:
        print_frame(cat.report("funnel"), title="funnel")


@app.command()
def status(run: Annotated[str | None, typer.Argument(help="Run folder or name (default: list runs).")] = None) -> None:
    """Stages done, counts and timings of a run (also re-points its views if the folder moved; during a run, its snapshot)."""
    if run is None:
        runs = sorted(p.parent.name for p in Path("runs").glob("*/catalog.duckdb"))
        console.print("\n".join(runs) if runs else "no runs under ./runs")
        return
    try:
        try:
            cat = Catalog(resolve_run(run))
        except RunBusy:  # a run is writing it: show the snapshot it publishes for readers
            cat = Catalog(resolve_run(run), read_only=True)
    except RunBusy as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from None
    with cat:
        print_frame(cat.ask("cli/stages"), title=f"stages of {cat.run_dir}")
        print_frame(cat.ask("cli/runs"), title="runs")


@app.command("sql")
def sql_command(
    run: Annotated[str, typer.Argument(help="Run folder or name.")],
    query: Annotated[str, typer.Argument(help="SQL to run on a read-only connection.")],
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Run a query on the catalog: read-only, and it may read the run's own files only."""
    import duckdb

    try:
        from curate.stages import declared_views

        with Catalog(resolve_run(run), read_only=True, views=declared_views()) as cat:  # every stage's view, empty if absent
            frame = cat.query(query)
    except (duckdb.Error, RunBusy) as err:
        console.print(f"[red]SQL error:[/] {err}")
        raise typer.Exit(2) from None
    print_frame(frame, fmt.value)  # type: ignore[arg-type]


DEMO = Mirror(DemoSettings)  # the demo's options: help and defaults from its settings model


@app.command()
def demo(
    quick: Annotated[bool, DEMO.option("quick")] = DEMO.default("quick"),
    out: Annotated[Path, DEMO.option("out")] = DEMO.default("out"),
    workers: Annotated[int, DEMO.option("workers", min=1)] = DEMO.default("workers"),
    seed: Annotated[int, DEMO.option("seed")] = DEMO.default("seed"),
) -> None:
    """Run a controlled data-ablation study on real English text found on this machine, end to end."""
    from curate.demo.loop import run_demo
    from curate.demo.plan import StudyTooSmall

    try:
        run_demo(DemoSettings(out=out, quick=quick, workers=workers, seed=seed))
    except StudyTooSmall as err:
        console.print(f"[red]cannot run the study:[/] {err}")
        raise typer.Exit(2) from None


app.command()(diversity)
app.add_typer(mix_app, name="mix")
app.add_typer(quality_app, name="quality")
