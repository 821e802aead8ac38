"""``curate quality ...``: train a fastText quality classifier (thin wrapper over curate.models.quality)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer
from pydantic import ValidationError

from curate.core.catalog import Catalog
from curate.core.command import console
from curate.core.display import print_frame
from curate.models.quality import TextSource, TrainSpec, train_quality_model

quality_app = typer.Typer(help="Model-based quality filtering: train a classifier, then apply it with the quality_model stage.", no_args_is_help=True)


def _source(path: Path | None, sql: str | None, limit: int | None, what: str) -> TextSource:
    try:
        return TextSource(path=str(path) if path else None, sql=sql, limit=limit)
    except ValidationError:
        console.print(f"[red]error:[/] give exactly one of --{what} FILE or --{what}-sql SQL")
        raise typer.Exit(2) from None


@quality_app.command("train")
def train_command(
    run: Annotated[Path, typer.Argument(help="Run folder whose catalog the SQL sources read.")],
    out: Annotated[Path, typer.Option(help="Folder for model.bin and manifest.json.")],
    positives: Annotated[Path | None, typer.Option(help="File of high-quality documents (.txt lines, .jsonl[.gz], .parquet).")] = None,
    positives_sql: Annotated[str | None, typer.Option(help="SQL over the catalog returning a `text` column.")] = None,
    negatives: Annotated[Path | None, typer.Option(help="File of low-quality / pool documents.")] = None,
    negatives_sql: Annotated[str | None, typer.Option(help="SQL over the catalog returning a `text` column.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many documents per class (seeded sample).")] = None,
    holdout: Annotated[float, typer.Option(help="Held-out fraction per class.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split and of fastText.")] = 0,
    epoch: Annotated[int, typer.Option(help="fastText epochs.")] = 5,
    word_ngrams: Annotated[int, typer.Option(help="fastText word n-grams.")] = 2,
    dim: Annotated[int, typer.Option(help="Embedding dimension.")] = 64,
) -> None:
    """Train on positives vs negatives, print held-out precision/recall/AUC, save the model + manifest."""
    spec = TrainSpec(
        positives=_source(positives, positives_sql, limit, "positives"),
        negatives=_source(negatives, negatives_sql, limit, "negatives"),
        holdout=holdout, seed=seed, epoch=epoch, word_ngrams=word_ngrams, dim=dim,
    )
    try:
        with Catalog(run, read_only=True) as cat:
            manifest = train_quality_model(spec, out, cat)
    except (ValueError, FileNotFoundError, duckdb.Error) as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from None
    row = {**manifest["metrics"], "n_train": sum(manifest["n_train"].values()), "n_heldout": sum(manifest["n_heldout"].values())}
    print_frame(pl.DataFrame([row]), title="held-out metrics")
    console.print(f"model: {out / 'model.bin'}  manifest: {out / 'manifest.json'}")
    console.print(f"apply it: - stage: quality_model\n            model_path: {out}\n            keep_top_fraction: 0.5")
