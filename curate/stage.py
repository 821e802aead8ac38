"""The Stage contract: the one thing a contributor reads before adding a curation step.

A stage is a class with these class attributes:

- ``name``: snake_case; also its folder ``stages/<name>/``, its recipe key and ``decisions.stage``.
- ``version``: bump it when outputs change for the same params (invalidates old outputs on resume).
- ``Params``: a pydantic model (subclass of :class:`StageParams`) with a ``stage: Literal[name]`` field.
- ``needs``: input columns besides ``doc_id`` and ``text`` (documents metadata or earlier stages' columns);
  ``optional_needs``: columns used when an earlier stage provides them (absent from the batch otherwise).
- ``schema``: the columns it adds, name -> polars dtype; names are unique across stages. A stage whose
  columns its params name (``classifier``) sets ``self.schema`` in ``__init__``; the runner reads the instance's.
- ``reasons``: the drop reasons it may emit, each ``<name>.<why>``.
- ``tables``: the extra tables it writes with ``ctx.write_table``, name -> columns, declared here once: the
  runner hands them to the catalog, which shows an empty typed view of each until a stage writes it.
- ``catalog_rows``: catalog tables it hands rows to with ``ctx.write_rows`` (``diversity``), name -> (column,
  values) of the rows it owns there: the catalog, the one writer, replaces those with the new rows when it
  records the stage.
- ``fits``: True when the stage may fit a model on the documents (topics; quality_model with ``train``);
  :meth:`Stage.fits_model` says whether it does with its params. A fitting stage leaves out the eval
  split's documents and records the documents it fitted on (:mod:`curate.models.fits`); a recipe's
  ``eval_split:`` is reserved right before the first stage that fits.

A **map stage** implements ``apply(batch) -> DataFrame``: pure, deterministic, vectorized. It returns
one row per input document: ``doc_id``, every column of ``schema``, and a nullable ``drop_reason``.
Signals are always written, so thresholds can be re-examined in SQL.

A **global stage** implements ``reduce(ctx) -> DataFrame`` with the same output shape, computed over all
surviving documents at once (dedup clustering, topic fit). It reads through :class:`StageContext`, may
fan work out with ``ctx.map_shards`` and may write extra tables with ``ctx.write_table``. Like a map stage
it writes Parquet only; the catalog records what it wrote.

A **rewrite stage** (``rewrites = True``: line dedup, PII redaction) changes text without touching the
documents it read: beside its part it writes ``stages/<name>/text/<shard>.parquet`` (``doc_id``, ``text``;
a null text means unchanged). Later stages read the newest version of each text, and so do the
catalog's ``documents`` view and mixtures; ``original_documents`` keeps the ingested text and ``rewrites``
every version (see docs/development.md). A map rewrite stage returns a ``text`` column from ``apply``
beside its signals; a global one writes the text parts itself with ``ctx.map_shards(fn, columns,
storage.REWRITE_DIR)``. What it removed is a signal column of its schema (bytes, lines, matches).

``setup()`` loads models once per worker process, never at import time; ``compile_kernels()`` compiles a
stage's numba kernels once per run (and machine: they are cached), before the workers need them.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.core import storage
from curate.core.catalog import Catalog
from curate.core.catalog.declared import Columns, StageRows, StageTable
from curate.core.storage import Location

DROP_REASON = "drop_reason"
ROWS_DIR = "rows"  # stages/<name>/rows/<table>.parquet: rows a stage hands to a catalog table (see catalog_rows)
TABLES_DIR = "tables"  # stages/<name>/tables/<table>.parquet: a stage's extra tables (see tables), views once recorded
Probability = Annotated[float, Field(ge=0, le=1)]  # a score or share: a recipe value outside [0, 1] is an error


def existing_local_file(path: str | None) -> str | None:
    """A params validator: a local file a stage will load must exist (URLs are checked when fetched)."""
    if path is not None and "://" not in path and not Path(path).expanduser().is_file():
        raise ValueError(f"no such file: {Path(path).expanduser().resolve()}")
    return path


class StageParams(BaseModel):
    """Base of every stage's params: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Stage(ABC):
    """Common attributes of map and global stages (see module docstring)."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    Params: ClassVar[type[StageParams]]
    needs: ClassVar[tuple[str, ...]] = ()
    optional_needs: ClassVar[tuple[str, ...]] = ()  # read when an earlier stage provides them, else absent
    schema: ClassVar[dict[str, pl.DataType | type[pl.DataType]]] = {}
    reasons: ClassVar[tuple[str, ...]] = ()
    tables: ClassVar[dict[str, Columns]] = {}  # extra tables written with ctx.write_table (see module docstring)
    catalog_rows: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {}  # table -> (column, values) of the rows it owns
    detail_column: ClassVar[str | None] = None  # copied into decisions.detail (e.g. the kept duplicate)
    fits: ClassVar[bool] = False  # may fit a model on the documents (see fits_model)
    rewrites: ClassVar[bool] = False  # writes new text versions (see module docstring)
    kind: ClassVar[str]

    def __init__(self, params: StageParams) -> None:
        self.params = params

    def fits_model(self) -> bool:
        """Whether this stage, with its params, fits a model on the documents (it must then leave the eval
        split out); the class's ``fits`` unless a stage's params decide (quality_model trains or loads)."""
        return self.fits

    def setup(self) -> None:
        """Load models or resources; called once per worker before the first batch."""

    def compile_kernels(self) -> None:
        """Compile (or load from numba's cache) this stage's kernels on a tiny input. A run calls it in a
        background thread of the driver while ingest runs (:mod:`curate.pipeline.kernels`), so that on a
        first run the workers load compiled code instead of each compiling it. Stages with numba kernels
        override it."""

    def output_schema(self) -> dict[str, Any]:
        """Full output schema: doc_id, the declared columns, drop_reason."""
        return {"doc_id": pl.String, **self.schema, DROP_REASON: pl.String}

    def handed_tables(self, stage_dir: Location) -> list[StageTable]:
        """The extra tables this stage wrote with ``ctx.write_table`` under ``stage_dir`` (each declared in ``tables``,
        itself or as ``base__part``), for the catalog to expose as views when it records the stage."""
        folder = stage_dir / TABLES_DIR
        if not folder.exists():
            return []
        names = sorted(Path(str(f)).stem for f in storage.find_files(str(folder)) if str(f).endswith(".parquet"))
        return [StageTable(name, folder / f"{name}.parquet") for name in names if name.split("__", 1)[0] in self.tables]

    def handed_rows(self, stage_dir: Location) -> list[StageRows]:
        """The catalog rows this stage wrote with ``ctx.write_rows`` under ``stage_dir``, for the catalog to record."""
        found = [(table, stage_dir / ROWS_DIR / f"{table}.parquet", key) for table, key in self.catalog_rows.items()]
        return [StageRows(table, path, column, values) for table, path, (column, values) in found if path.exists()]

    def empty_output(self) -> pl.DataFrame:
        """A zero-row frame of the output schema (for empty shards)."""
        return pl.DataFrame(schema=self.output_schema())

    def conform(self, out: pl.DataFrame) -> pl.DataFrame:
        """Select and cast the declared output columns, in order, so every shard has one schema."""
        missing = [c for c in self.output_schema() if c not in out.columns]
        if missing:
            raise ValueError(f"stage {self.name!r} output lacks declared columns {missing}")
        out = out.select([pl.col(c).cast(t) for c, t in self.output_schema().items()])
        bad = out.filter(pl.col(DROP_REASON).is_not_null() & ~pl.col(DROP_REASON).is_in(list(self.reasons)))
        if bad.height:
            raise ValueError(
                f"stage {self.name!r} emitted undeclared drop reason {bad[DROP_REASON][0]!r}; "
                f"declared: {list(self.reasons)}"
            )
        return out


class MapStage(Stage):
    """A stage computed shard by shard, in parallel, with no view of other documents."""

    kind = "map"

    @abstractmethod
    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        """Per-document columns and drop_reason for one batch (doc_id, text, *needs)."""


class GlobalStage(Stage):
    """A stage that needs all surviving documents at once (clustering, dedup, topic fit)."""

    kind = "global"

    @abstractmethod
    def reduce(self, ctx: "StageContext") -> pl.DataFrame:
        """Per-document columns and drop_reason for every surviving document."""


def warn_stderr(message: str) -> None:
    """Print a warning on standard error (what a stage's ``ctx.warn`` does outside a run's display)."""
    print(f"warning: {message}", file=sys.stderr)


def run_inline(step_name: str, fn: Callable[..., Any], tasks: list[tuple[Any, ...]]) -> list[Any]:
    """``map_tasks`` without a pool: each task in turn, in the calling process."""
    return [fn(*task) for task in tasks]


@dataclass
class StageContext:
    """What a global stage sees (in the driver process): surviving documents, the pool, the catalog.

    ``shard_reader(shard, columns)`` returns the surviving documents of one shard with the requested
    columns (documents' own columns and earlier stages' columns); ``pool_map(fn, columns, out_dir[, named])``
    runs ``fn(frame) -> DataFrame`` (``fn(frame, shard=name)`` when ``named``) over every shard in the
    worker pool, writing ``out_dir/<shard>.parquet`` atomically (finished shards are skipped on resume),
    and returns the paths.
    ``catalog`` is the driver's :class:`curate.core.catalog.Catalog` (the single writer), for reading; a stage writes
    Parquet only (``write_table``, ``write_rows``) and the catalog records it. ``tables``: the stage's declared
    extra tables (``Stage.tables``).
    ``stage_dir`` is on the run's data root (local or a URL, see :mod:`curate.core.storage`): what workers
    write or read goes there; ``scratch_dir`` is a local folder of the driver (DuckDB spill, temp files).
    ``warn(message)`` shows a warning in the run's output (e.g. a quality classifier that separates nothing).
    """

    stage_name: str
    stage_dir: Location
    shards: list[str]
    workers: int
    seed: int
    catalog: Catalog
    shard_reader: Callable[[str, tuple[str, ...]], pl.DataFrame]
    pool_map: Callable[..., list[Location]]
    scratch_dir: Path
    task_map: Callable[[str, Callable[..., Any], list[tuple[Any, ...]]], list[Any]] = field(default=run_inline)
    warn: Callable[[str], None] = field(default=warn_stderr)
    tables: dict[str, Columns] = field(default_factory=dict)

    def documents(self, columns: tuple[str, ...] = ("doc_id", "text")) -> Iterator[pl.DataFrame]:
        """Surviving documents, one frame per shard, in shard order (deterministic)."""
        for shard in self.shards:
            yield self.shard_reader(shard, columns)

    def map_shards(
        self, fn: Callable[..., pl.DataFrame], columns: tuple[str, ...], subdir: str, named: bool = False
    ) -> list[Location]:
        """Run ``fn`` on each shard's surviving documents in the pool; outputs under ``stage_dir/subdir``.

        ``fn`` must be picklable (a module-level function or a functools.partial of one). With ``named``,
        it is called as ``fn(frame, shard=name)``, to read what an earlier step wrote for that shard.
        """
        if named:
            return self.pool_map(fn, columns, self.stage_dir / subdir, True)
        return self.pool_map(fn, columns, self.stage_dir / subdir)

    def map_tasks(self, step_name: str, fn: Callable[..., Any], tasks: list[tuple[Any, ...]]) -> list[Any]:
        """Run ``fn(*task)`` for every task in the pool (local or Ray); results in task order.

        For work that is not per shard, e.g. one LSH band partition per task. ``fn`` must be picklable
        and should write its output atomically if it is to be skipped on resume.
        """
        return self.task_map(step_name, fn, tasks)

    def write_table(self, table: str, frame: pl.DataFrame) -> Location:
        """Write an extra table (e.g. ``topic_labels``) as Parquet; the catalog exposes it as a view when it records
        the stage (after ``reduce``: nothing reaches the catalog mid-stage).

        A name ``base__part`` is also unioned (by column name) into a view ``base``, so two stages can
        contribute to one table (``dup_clusters__exact`` + ``dup_clusters__minhash`` -> ``dup_clusters``).
        """
        columns = self.tables.get(table.split("__", 1)[0])
        if columns is None:
            raise ValueError(f"stage {self.stage_name!r} writes table {table!r} without declaring it in its `tables`")
        path = self.stage_dir / TABLES_DIR / f"{table}.parquet"
        storage.write_parquet(frame.select([pl.col(c).cast(t) for c, t in columns.items()]), path)
        return path

    def write_rows(self, table: str, frame: pl.DataFrame) -> Location:
        """Write rows for the catalog table ``table`` (one of the stage's ``catalog_rows``) as Parquet; the catalog
        records them with the stage, replacing the rows the stage owns there."""
        path = self.stage_dir / ROWS_DIR / f"{table}.parquet"
        storage.write_parquet(frame, path)
        return path
