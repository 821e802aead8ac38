"""The catalog: the single writer of a run's ``catalog.duckdb``.

Workers write Parquet only; the driver process records what they wrote here (DuckDB has one writer).
The catalog holds small tables (runs, stages, shards, rejects, decisions, mixtures, train results) and
VIEWs over the Parquet files of the run folder (documents, one per stage, doc_signals, extra tables).

View paths are absolute, because DuckDB resolves relative paths against the process's working
directory, not the database file: an analyst can open the file from anywhere. Every writer open
re-points the views at the run folder's current location, so a moved run folder heals with any
writing command (e.g. ``curate status RUN``); a reader (``curate sql``, ``reports``, ``train``) that finds
the views pointing elsewhere re-points them for its own session, as TEMP views (which shadow the stored
ones; a read-only connection cannot change the file). All values are bound (``$name``); the only text spliced
into SQL is a path or an identifier, through :func:`sql.quote.sql_string` and :func:`sql.quote.sql_ident`.

The catalog is part of the infrastructure layer at the bottom of curate: it imports no stage, pipeline,
mixture, trainer or report. What it must know of them (the stage and table views to show as placeholders,
the rows a stage hands to a table) it is given (:mod:`curate.core.catalog.declared`); :mod:`curate.core.catalog.access`
decides who may open the file.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

import sql
from curate.core import storage
from curate.core.catalog import access, declared
from curate.core.catalog.declared import DeclaredViews, StageRows, StageTable
from curate.core.catalog.versions import code_version, schema_version
from curate.core.storage import REWRITE_DIR, Location
from sql.quote import sql_ident, sql_string

CATALOG_FILE = "catalog.duckdb"
WRITER_WAIT_S = 10.0
__all__ = ["CATALOG_FILE", "Catalog", "code_version", "parquet_glob", "schema_version"]


def parquet_glob(folder: Location) -> str | None:
    """The absolute ``part-*.parquet`` glob (path or URL) of a folder, or None when it holds no part file."""
    if folder.is_dir() and any(folder.glob("part-*.parquet")):
        return str(folder / "part-*.parquet")
    return None


class Catalog:
    """Read-write handle on one run's catalog. Use as a context manager; only the driver opens one."""

    def __init__(self, run_dir: Path | str, read_only: bool = False, data: str | None = None,
                 views: DeclaredViews | None = None) -> None:
        """``data``: where the run's shards live when not in the run folder (a URL, see
        :mod:`curate.core.storage`); recorded on first use, so later commands need not repeat it.
        ``views``: the stage and table views to create as empty placeholders until produced (the runner's;
        see :mod:`curate.core.catalog.declared`); stored by a writer, TEMP views for a reader's session (a run made
        before a stage existed still answers its reports); other writers need none, the placeholders are stored."""
        self.run_dir = Path(run_dir).resolve()
        self.declared_views = views or DeclaredViews()
        self.path = self.run_dir / CATALOG_FILE
        self.read_only = read_only
        if read_only:
            self.con = access.connect_reader(self.path)
            self.data_root = self._data_root(None)
            access.sandbox(self.con, str(self.run_dir), str(self.data_root))
            if self._views_moved():
                self.refresh_views()
            else:  # a run made before a declared stage existed: its placeholder, for this session only
                self._create_placeholders()
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        access.acquire(self.run_dir)
        try:
            self.con = self._connect_writer()
            self._apply_schema()
            self.data_root = self._data_root(data)
            self.refresh_views()
            self.publish_snapshot()
        except BaseException:
            self.close()
            raise

    def _connect_writer(self) -> duckdb.DuckDBPyConnection:
        """Open read-write; a reader holding the file (e.g. a notebook) gets a few seconds to let go."""
        deadline = time.monotonic() + WRITER_WAIT_S
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.Error as err:
                if "lock" not in str(err).lower():
                    raise access.CatalogUnreadable(f"cannot open {self.path}: {err}") from None
                if time.monotonic() > deadline:
                    raise access.RunBusy(f"cannot write {self.path}: {err}") from None
                time.sleep(0.2)

    def publish_snapshot(self) -> None:
        """Give readers a consistent copy of the catalog as it is now (they cannot open it while we write)."""
        access.publish_snapshot(self.con, self.path)

    def _data_root(self, given: str | None) -> Location:
        """The run's data root: the recorded one, else ``given`` (then recorded), else the run folder.

        Remote roots are registered with this connection so views over their Parquet read through fsspec."""
        rows = self.execute("SELECT location FROM data_root") if "data_root" in self.base_tables() else []
        recorded = rows[0][0] if rows else None
        wanted = str(storage.location(given)) if given is not None else None
        if recorded is not None and wanted is not None and wanted != recorded:
            raise ValueError(f"run folder {self.run_dir} keeps its data at {recorded}, not {wanted}: use a new run folder")
        if recorded is None and wanted is not None and wanted != str(self.run_dir):
            self.execute("INSERT INTO data_root VALUES ($l)", {"l": wanted})
            recorded = wanted
        root = storage.location(recorded) if recorded is not None else self.run_dir
        storage.register_with(self.con, root)
        return root

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if hasattr(self, "con"):
            self.con.close()
        if not self.read_only:
            access.release(self.run_dir)

    # -- schema and views -------------------------------------------------------------------------

    def _apply_schema(self) -> None:
        self.execute(sql.read("schema").text)
        current = self.execute("SELECT max(version) FROM schema_version")[0][0]
        wanted = schema_version()
        if current is None or current < wanted:
            self.execute("INSERT INTO schema_version (version) VALUES ($v)", {"v": wanted})

    def base_tables(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        )
        return {r[0] for r in rows}

    def stage_view_name(self, stage: str) -> str:
        """A stage's per-document view is named after it, unless that name is a catalog table."""
        return f"stage_{stage}" if stage in self.base_tables() else stage

    def _views_moved(self) -> bool:
        """Whether the stored ``original_documents`` view reads Parquet somewhere other than this run's data root
        (the run folder was moved or copied since a writer last opened it). Remote data does not move with it."""
        if storage.is_remote(self.data_root):
            return False
        docs = parquet_glob(self.data_root / "docs")
        rows = self.con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'original_documents' AND NOT temporary"
                                " AND database_name = current_database()").fetchall()
        return docs is not None and bool(rows) and sql_string(docs) not in rows[0][0]

    def _view(self, name: str, body: str) -> None:
        """Create or replace one view; on a read-only catalog a TEMP view for this session (see module doc)."""
        temp = "TEMP " if self.read_only else ""
        self.con.execute(f"CREATE OR REPLACE {temp}VIEW {sql_ident(name)} AS {body}")

    def refresh_views(self) -> None:
        """(Re)create every view over the run folder's Parquet, at its current absolute location."""
        docs = parquet_glob(self.data_root / "docs")
        if docs is None:
            self._view("original_documents", "SELECT NULL::VARCHAR AS doc_id, NULL::VARCHAR AS text,"
                       " NULL::VARCHAR AS source, NULL::BIGINT AS n_bytes WHERE false")
        else:
            self._view("original_documents", f"SELECT * FROM read_parquet({sql_string(docs)})")
        stage_views, rewrites = [], []
        for stage, kind in self.execute(
            "SELECT stage, kind FROM stages WHERE kind != 'ingest' ORDER BY position"
        ):
            text_glob = parquet_glob(self.data_root / "stages" / stage / REWRITE_DIR)
            if text_glob is not None:
                rewrites.append((stage, text_glob))
            glob = parquet_glob(self.data_root / "stages" / stage)
            if glob is None:
                continue
            view = self.stage_view_name(stage)
            self._view(view, f"SELECT * FROM read_parquet({sql_string(glob)})")
            stage_views.append((stage, view))
        unions: dict[str, list[str]] = {}
        for table, rel_path in self.execute("SELECT table_name, path FROM artifacts ORDER BY 1"):
            path = self.data_root / rel_path
            if path.exists():
                self._view(table, f"SELECT * FROM read_parquet({sql_string(path)})")
                if "__" in table:
                    unions.setdefault(table.split("__", 1)[0], []).append(table)
        for base, parts in unions.items():
            self._view(base, " UNION ALL BY NAME ".join(f"SELECT * FROM {sql_ident(p)}" for p in parts))
        self._create_text_views(rewrites)
        self._create_derived_views(stage_views)
        self._create_placeholders()

    def _create_text_views(self, rewrites: list[tuple[str, str]]) -> None:
        """``documents``: the ingested documents with each text (and n_bytes) at its newest version, the last
        rewrite stage's where one changed it; ``rewrites`` (doc_id, stage, text): every rewritten version."""
        joins = [f"LEFT JOIN read_parquet({sql_string(glob)}) r{i} ON r{i}.doc_id = d.doc_id" for i, (_, glob) in enumerate(rewrites)]
        newest = [f"r{i}.text" for i in reversed(range(len(rewrites)))]
        replace = (f" REPLACE (coalesce({', '.join(newest)}, d.text) AS text,"
                   f" coalesce({', '.join(f'strlen({t})' for t in newest)}, d.n_bytes) AS n_bytes)") if rewrites else ""
        self._view("documents", f"SELECT d.*{replace} FROM original_documents d {' '.join(joins)}")
        versions = [f"SELECT doc_id, {sql_string(stage)} AS stage, text FROM read_parquet({sql_string(glob)}) WHERE text IS NOT NULL"
                    for stage, glob in rewrites] or ["SELECT NULL::VARCHAR AS doc_id, NULL::VARCHAR AS stage, NULL::VARCHAR AS text WHERE false"]
        self._view("rewrites", " UNION ALL ".join(versions))

    def _create_placeholders(self) -> None:
        """Empty, typed views for every declared stage or table view not produced yet, so reports run on any run."""
        existing = {r[0] for r in self.execute("SELECT table_name FROM information_schema.tables")}
        wanted = {self.stage_view_name(stage): columns for stage, columns in self.declared_views.stages.items()}
        declared.create_placeholders(self._view, existing, {**wanted, **self.declared_views.tables})

    def _create_derived_views(self, stage_views: list[tuple[str, str]]) -> None:
        """``kept_documents`` (documents no stage dropped) and ``doc_signals`` (every per-doc column)."""
        self._view("kept_documents", "SELECT d.* FROM documents d ANTI JOIN decisions x ON d.doc_id = x.doc_id")
        select = ["d.* EXCLUDE (text)", "x.stage AS dropped_by", "x.reason AS drop_reason"]
        joins = ["LEFT JOIN decisions x ON x.doc_id = d.doc_id"]
        for i, (_stage, view) in enumerate(stage_views):
            alias = f"s{i}"
            select.append(f"{alias}.* EXCLUDE (doc_id, drop_reason)")
            joins.append(f"LEFT JOIN {sql_ident(view)} {alias} ON {alias}.doc_id = d.doc_id")
        self._view("doc_signals", f"SELECT {', '.join(select)} FROM documents d {' '.join(joins)}")

    # -- runs -------------------------------------------------------------------------------------

    def begin_run(self, command: str, config: dict[str, Any]) -> str:
        """Record the start of a command with its resolved config and code version; returns run_id."""
        run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        # we hold the run lock, so a command still 'running' was killed before it could say so
        self.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        self.execute(
            "INSERT INTO runs VALUES ($id, $cmd, $start, NULL, 'running', $cfg, $code)",
            {
                "id": run_id,
                "cmd": command,
                "start": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "cfg": json.dumps(config, sort_keys=True, default=str),
                "code": code_version(),
            },
        )
        self.publish_snapshot()
        return run_id

    def finish_run(self, run_id: str, status: str) -> None:
        self.execute(
            "UPDATE runs SET status = $s, finished_at = $t WHERE run_id = $id",
            {"s": status, "t": dt.datetime.now(dt.UTC).replace(tzinfo=None), "id": run_id},
        )

    # -- stage bookkeeping ------------------------------------------------------------------------

    def stage_fingerprint(self, stage: str) -> str | None:
        rows = self.execute("SELECT fingerprint FROM stages WHERE stage = $s", {"s": stage})
        return rows[0][0] if rows else None

    def forget_stage(self, stage: str) -> None:
        """Remove every record of a stage (its outputs are being recomputed or removed)."""
        for (table,) in self.execute("SELECT table_name FROM artifacts WHERE stage = $s", {"s": stage}):
            self.execute(f"DROP VIEW IF EXISTS {sql_ident(table)}")
            if "__" in table:  # the union view is rebuilt from the remaining parts (or a placeholder) by refresh_views
                self.execute(f"DROP VIEW IF EXISTS {sql_ident(table.split('__', 1)[0])}")
        self.execute(f"DROP VIEW IF EXISTS {sql_ident(self.stage_view_name(stage))}")
        with self.transaction():
            for table in ("stages", "shards", "decisions"):
                self.execute(f"DELETE FROM {table} WHERE stage = $s", {"s": stage})
            self.execute("DELETE FROM artifacts WHERE stage = $s", {"s": stage})

    def record_stage(self, row: dict[str, Any], shard_rows: list[dict[str, Any]], detail_column: str | None = None,
                     rows: list[StageRows] | None = None, tables: list[StageTable] | None = None) -> None:
        """Record a completed stage, its shards, its decisions, the table rows it handed over and the extra tables
        it wrote (all read from its Parquet outputs), in one transaction; then refresh the views.

        ``detail_column`` names the stage column copied into ``decisions.detail`` (e.g. the kept doc_id).
        """
        stage = row["stage"]
        with self.transaction():
            self.execute("DELETE FROM stages WHERE stage = $s", {"s": stage})
            self.execute("DELETE FROM shards WHERE stage = $s", {"s": stage})
            self.execute("DELETE FROM decisions WHERE stage = $s", {"s": stage})
            self.execute(
                "INSERT INTO stages VALUES ($stage, $kind, $position, $version, $fingerprint, $params,"
                " $n_in, $n_kept, $n_dropped, $wall_s, current_timestamp)",
                {**row, "params": json.dumps(row["params"], sort_keys=True)},
            )
            if shard_rows:
                self.append("shards", pl.DataFrame(shard_rows))
            glob = parquet_glob(self.data_root / "stages" / stage)
            if row["kind"] != "ingest" and glob is not None:
                detail = sql_ident(detail_column) if detail_column else "NULL"
                self.execute(
                    f"INSERT INTO decisions SELECT doc_id, $s, drop_reason, {detail}::VARCHAR"
                    f" FROM read_parquet({sql_string(glob)}) WHERE drop_reason IS NOT NULL ORDER BY doc_id",
                    {"s": stage},
                )
            self.execute("DELETE FROM artifacts WHERE stage = $s", {"s": stage})
            for written in tables or []:
                self._insert_artifact(written.table, stage, written.path)
            for handed in rows or []:
                self.execute(f"DELETE FROM {sql_ident(handed.table)} WHERE {sql_ident(handed.column)} IN (SELECT unnest($v))",
                             {"v": list(handed.values)})
                self.append(handed.table, storage.read_parquet(handed.path))
        self.refresh_views()
        self.publish_snapshot()

    def register_artifact(self, table: str, stage: str, path: Location) -> None:
        """Expose an extra Parquet table (a file on the data root) written outside a curate stage (e.g. by ``train
        tokenizer``) as a view named ``table``; a stage's tables are recorded with the stage."""
        self._insert_artifact(table, stage, path)
        self.refresh_views()

    def _insert_artifact(self, table: str, stage: str, path: Location) -> None:
        sql_ident(table)
        if table in self.base_tables():
            raise ValueError(f"artifact name {table!r} collides with a catalog table")
        rel = storage.relative(str(path), str(self.data_root))
        self.execute("DELETE FROM artifacts WHERE table_name = $t", {"t": table})
        self.execute("INSERT INTO artifacts VALUES ($t, $s, $p)", {"t": table, "s": stage, "p": rel})

    # -- generic reads and writes -----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def append(self, table: str, frame: pl.DataFrame) -> None:
        """Insert a polars frame into a catalog table, matching columns by name."""
        if frame.height == 0:
            return
        cols = ", ".join(sql_ident(c) for c in frame.columns)
        self.con.register("_mixlab_append", frame.to_arrow())
        try:
            self.execute(f"INSERT INTO {sql_ident(table)} ({cols}) SELECT {cols} FROM _mixlab_append")
        finally:
            self.con.unregister("_mixlab_append")

    def delete_where(self, table: str, **equals: Any) -> None:
        """Delete the rows of ``table`` whose columns equal the given values (all bound)."""
        where = " AND ".join(f"{sql_ident(k)} = ${k}" for k in equals) or "true"
        self.execute(f"DELETE FROM {sql_ident(table)} WHERE {where}", equals)

    def execute(self, text: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a statement and fetch its rows, leaving the connection free for the next one."""
        if self.read_only:
            access.check_read_only(self.con, text)
        return self.con.execute(text, params or {}).fetchall()

    def query(self, text: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run SQL with bound parameters and return a polars frame (on a read-only catalog: queries only)."""
        if self.read_only:
            access.check_read_only(self.con, text)
        relation = self.con.sql(text, params=params or {})
        if relation is None:
            return pl.DataFrame()
        return pl.from_arrow(relation.to_arrow_table())  # type: ignore[return-value]

    def report(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named report ``sql/reports/<name>.sql`` with its declared params bound."""
        file = sql.read_report(name)
        return self.query(file.text, file.bind(params))

    def ask(self, name: str, /, splices: dict[str, str] | None = None, **params: Any) -> pl.DataFrame:
        """Run the internal query ``sql/queries/<name>.sql`` with its declared params bound (and splices filled)."""
        file = sql.read_query(name)
        return self.query(file.render(splices), file.bind(params))
