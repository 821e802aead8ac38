"""``curate run``: ingest, then each stage of a recipe, recording everything in the catalog.

Resume: every stage has a fingerprint (hash of its name, version, params and the upstream fingerprint;
for a stage that fits a model, also the current eval split's id). A stage whose recorded fingerprint
matches is skipped; a stage whose folder carries another fingerprint is wiped and recomputed (so are the
stages after it, whose fingerprints chain); within a stage, finished shards are skipped. Stages removed
from the recipe are forgotten and their folders deleted.

A recipe's ``eval_split:`` is a step of the chain too, placed right before the first stage that fits a
model (after the last stage when none does): reserved over the documents kept so far, recorded in
``stages`` (kind ``eval_split``, nothing dropped) with the split_id it wrote, and skipped on resume when its
fingerprint matches and the catalog still holds that split.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from curate.core import storage
from curate.core.catalog import Catalog
from curate.core.storage import Location
from curate.ingest.tasks import IngestError, IngestJob, pack_tasks, plan_tasks, run_job
from curate.mix.eval_split import EvalSplitParams
from curate.models.fits import current_split_id
from curate.pipeline.executor import Pool, StageRunner
from curate.pipeline.kernels import KernelWarmup, has_kernels, start_for
from curate.pipeline.progress import StepProgress
from curate.pipeline.recipe import Recipe
from curate.pipeline.shards import Upstream, docs_shards, read_survivors, stage_part
from curate.stages import BY_NAME, declared_views
from sql.quote import sql_string

FINGERPRINT_FILE = "_fingerprint"
EVAL_SPLIT, EVAL_SPLIT_VERSION = "eval_split", "1"


def fingerprint(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass
class RunSummary:
    run_dir: Path
    n_docs: int
    n_kept: int
    stages_run: list[str]
    stages_skipped: list[str]


def _reset_dir(folder: Location, fp: str) -> bool:
    """Make ``folder`` belong to fingerprint ``fp``: keep it if it already does, else empty it."""
    marker = folder / FINGERPRINT_FILE
    if marker.exists() and marker.read_text() == fp:
        return False
    storage.remove_tree(folder)
    storage.make_dirs(folder)
    storage.write_bytes(marker, fp.encode())
    return True


def _shard_rows(data: Location, stage: str, shards: list[str], stats: dict[str, dict[str, Any]],
                upstream: Upstream) -> list[dict[str, Any]]:
    """Per-shard counts read back from the stage's parts (so a resumed stage records every shard).

    A shard finished before a kill has no stats from this run: its ``n_bytes`` (text bytes entering the
    stage) is summed over the documents the stage read, at their newest text (:func:`read_survivors`, as
    the stage saw them after any rewrite); ``wall_s`` stays unknown."""
    rows = []
    for shard in shards:
        part = storage.read_parquet(stage_part(data, stage, shard), columns=["doc_id", "drop_reason"])
        dropped = int(part["drop_reason"].is_not_null().sum())
        timing = stats.get(shard, {})
        n_bytes = timing.get("n_bytes")
        if n_bytes is None:
            n_bytes = int(read_survivors(data, shard, upstream, ("n_bytes",))["n_bytes"].sum())
        rows.append({
            "stage": stage, "shard": shard, "n_in": part.height, "n_kept": part.height - dropped,
            "n_dropped": dropped, "n_bytes": n_bytes, "wall_s": timing.get("wall_s"),
        })
    return rows


def _check_unique_ids(catalog: Catalog, docs_dir: Location) -> None:
    """Two records with one doc_id would be one document: name the id, files and lines of a few."""
    if not any(docs_dir.glob("part-*.parquet")):
        return
    docs = f"read_parquet({sql_string(docs_dir / 'part-*.parquet')})"
    dupes = catalog.query(
        f"SELECT doc_id, any_value(source_id) AS id, list(input_file || ':' || coalesce(line::VARCHAR, '') ORDER BY"
        f" input_file, line) AS places FROM {docs} GROUP BY doc_id HAVING count(*) > 1 ORDER BY 3 LIMIT 3"
    )
    if dupes.height:
        examples = "; ".join(f"id {r['id']!r} at {', '.join(r['places'])}" for r in dupes.iter_rows(named=True))
        raise IngestError(f"doc ids are not unique: {examples}: check id_field values, and that no file is matched by two inputs")


class RecipeRunner:
    """Runs one recipe into one run folder; the only process that writes its catalog."""

    def __init__(
        self,
        recipe: Recipe,
        base_dir: Path,
        run_dir: Path,
        workers: int = 1,
        progress: bool = True,
        executor: str = "local",
        address: str | None = None,
        data: str | None = None,
        warmup: KernelWarmup | None = None,
    ) -> None:
        """``warmup``: a kernel compile the caller started earlier (the demo does, before building its
        corpus); by default the run starts its own."""
        self.recipe, self.base_dir, self.run_dir = recipe, base_dir, run_dir.resolve()
        self._warmup = warmup
        self.data_arg = data
        self.workers, self.executor, self.address = workers, executor, address
        self.progress = StepProgress(enabled=progress)

    def _pool(self) -> Any:
        if self.executor == "ray":
            from curate.pipeline.executor_ray import RayPool

            return RayPool(self.workers, self.address)
        if self.executor != "local":
            raise ValueError(f"unknown executor {self.executor!r}: use local or ray")
        return Pool(self.workers)

    def run(self) -> RunSummary:
        pool = self._pool()
        try:
            return self._run(pool)
        finally:
            pool.close()

    def _run(self, pool: Pool) -> RunSummary:
        ran, skipped = [], []
        with Catalog(self.run_dir, data=self.data_arg, views=declared_views()) as catalog:
            self.data = catalog.data_root
            config = {"recipe": self.recipe.model_dump(mode="json"), "workers": self.workers, "executor": self.executor}
            run_id = catalog.begin_run("curate run", config)
            self._warmup = self._warmup or start_for(self.recipe)
            try:
                fp = self._ingest(catalog, pool)
                (ran if fp[1] else skipped).append("ingest")
                upstream, prev_fp = Upstream(), fp[0]
                shards = docs_shards(self.data)
                for position, params in enumerate(self._plan(), start=1):
                    if isinstance(params, EvalSplitParams):
                        prev_fp, did = self._eval_split(catalog, params, position, upstream, prev_fp)
                        (ran if did else skipped).append(EVAL_SPLIT)
                        continue
                    prev_fp, did = self._stage(catalog, pool, params, position, upstream, prev_fp, shards)
                    (ran if did else skipped).append(params.stage)
                    stage_cls = BY_NAME[params.stage]
                    upstream = upstream.then(params.stage, tuple(stage_cls(params).schema), stage_cls.rewrites)
                self._forget_removed(catalog)
                catalog.finish_run(run_id, "done")
            except BaseException:
                catalog.finish_run(run_id, "failed")
                raise
            n_docs = catalog.query("SELECT count(*) AS n FROM documents")["n"][0]
            n_kept = catalog.query("SELECT count(*) AS n FROM kept_documents")["n"][0]
        return RunSummary(self.run_dir, int(n_docs), int(n_kept), ran, skipped)

    # -- ingest -----------------------------------------------------------------------------------

    def _ingest(self, catalog: Catalog, pool: Pool) -> tuple[str, bool]:
        tasks = plan_tasks(self.recipe.inputs, self.recipe.ingest, self.base_dir)
        files = sorted({t.path for t in tasks} | {f for t in tasks for f in t.files})
        stamps = [storage.stamp(f) for f in files]
        fp = fingerprint("ingest", self.recipe.ingest.model_dump(mode="json"), [i.model_dump(mode="json") for i in self.recipe.inputs], stamps)
        docs_dir = self.data / "docs"
        recorded = catalog.stage_fingerprint("ingest") == fp
        if _reset_dir(docs_dir, fp):
            self._wipe_stages(catalog)
        elif recorded:
            return fp, False
        storage.make_dirs(docs_dir / "_tasks")
        storage.make_dirs(docs_dir / "_rejects")
        jobs = pack_tasks(tasks, self.recipe.ingest, {location: size for location, size, _ in stamps})
        todo = self._pending_jobs(jobs, docs_dir)
        started = time.perf_counter()
        with self.progress.step("ingest", total=len(jobs), done=len(jobs) - len(todo)) as step:
            args = [(job, self.recipe.ingest, str(self.data)) for job in todo]
            pool.run(run_job, args, lambda r: step.advance(r["n_docs"], r["n_bytes"]))
        self._record_ingest(catalog, jobs, fp, time.perf_counter() - started)
        return fp, True

    def _pending_jobs(self, jobs: list[IngestJob], docs_dir: Location) -> list[IngestJob]:
        """Jobs without a marker; their partial shards (from a killed run) are removed first."""
        if not storage.is_remote(docs_dir):
            for tmp in docs_dir.rglob("*.tmp"):
                tmp.unlink()
        todo = []
        for job in jobs:
            if (docs_dir / "_tasks" / f"{job.job_id}.json").exists():
                continue
            for part in docs_dir.glob(f"part-{job.job_id}-*.parquet"):
                part.unlink()
            todo.append(job)
        return todo

    def _record_ingest(self, catalog: Catalog, jobs: list[IngestJob], fp: str, wall_s: float) -> None:
        docs_dir = self.data / "docs"
        markers = [json.loads((docs_dir / "_tasks" / f"{job.job_id}.json").read_text()) for job in jobs]
        files = pl.DataFrame([row for m in markers for row in m["files"]])
        rejects_glob = sql_string(docs_dir / "_rejects" / "*.parquet")
        _check_unique_ids(catalog, docs_dir)
        with catalog.transaction():
            catalog.delete_where("ingest_files")
            catalog.delete_where("rejects")
            catalog.append("ingest_files", files)
            catalog.execute(f"INSERT INTO rejects SELECT * FROM read_parquet({rejects_glob}) ORDER BY ALL")
        n_docs, n_rej = int(files["n_docs"].sum()), int(files["n_rejected"].sum())
        row = {
            "stage": "ingest", "kind": "ingest", "position": 0, "version": "1", "fingerprint": fp,
            "params": self.recipe.ingest.model_dump(mode="json"), "n_in": n_docs + n_rej, "n_kept": n_docs,
            "n_dropped": n_rej, "wall_s": wall_s,
        }
        catalog.record_stage(row, [])

    # -- stages -----------------------------------------------------------------------------------

    def _plan(self) -> list[Any]:
        """The recipe's stages, with its eval split (if any) right before the first stage that fits a model."""
        stages, split = list(self.recipe.stages), self.recipe.eval_split
        if split is None:
            return stages
        at = next((i for i, p in enumerate(stages) if BY_NAME[p.stage](p).fits_model()), len(stages))
        return [*stages[:at], split, *stages[at:]]

    def _eval_split(self, catalog: Catalog, split: EvalSplitParams, position: int, upstream: Upstream, prev_fp: str) -> tuple[str, bool]:
        """Reserve the recipe's eval split over the documents the stages so far kept (see module docstring)."""
        if split.group_by not in upstream.available():
            raise ValueError(f"eval_split.group_by: column {split.group_by!r} is not available before the first stage that fits"
                             f" a model (the split is reserved there); available: {upstream.available()}")
        fp = fingerprint(prev_fp, EVAL_SPLIT, EVAL_SPLIT_VERSION, split.model_dump(mode="json"))
        recorded = catalog.execute("SELECT fingerprint, params->>'split_id' FROM stages WHERE stage = $s", {"s": EVAL_SPLIT})
        if recorded and recorded[0] == (fp, current_split_id(catalog)):
            return fp, False
        started = time.perf_counter()
        with self.progress.step("eval split", total=1) as step:
            try:
                found = split.reserve(catalog, kept_after=upstream.stages)
            except ValueError as err:  # e.g. an ood group with no documents
                raise ValueError(f"eval_split: {err}") from None
            step.advance(catalog.execute("SELECT n_docs_checked FROM eval_splits")[0][0])
        n_kept = catalog.execute("SELECT n_kept FROM stages WHERE stage = $s", {"s": upstream.stages[-1] if upstream.stages else "ingest"})[0][0]
        n_eval = catalog.execute("SELECT count(*) FROM eval_sets")[0][0]
        row = {
            "stage": EVAL_SPLIT, "kind": EVAL_SPLIT, "position": position, "version": EVAL_SPLIT_VERSION, "fingerprint": fp,
            "params": {**split.model_dump(mode="json"), "split_id": current_split_id(catalog), "n_eval_docs": n_eval,
                       "n_contaminated": found.height},
            "n_in": n_kept, "n_kept": n_kept, "n_dropped": 0, "wall_s": time.perf_counter() - started,
        }
        catalog.record_stage(row, [])
        return fp, True

    def _stage(
        self, catalog: Catalog, pool: Pool, params: Any, position: int, upstream: Upstream, prev_fp: str, shards: list[str]
    ) -> tuple[str, bool]:
        cls = BY_NAME[params.stage]
        missing = [c for c in cls.needs if c not in upstream.available()]
        if missing:
            raise ValueError(f"stage {cls.name!r} needs columns {missing}; put a stage providing them earlier in the recipe")
        stage = cls(params)
        clash = sorted(set(stage.schema) & set(upstream.available()))
        if clash:
            raise ValueError(f"stage {cls.name!r} would add columns {clash}, which an earlier stage or the documents already have")
        split = [current_split_id(catalog)] if stage.fits_model() else []  # a new eval split refits the model
        fp = fingerprint(prev_fp, cls.name, cls.version, params.model_dump(mode="json"), self.recipe.seed, *split)
        folder = self.data / "stages" / cls.name
        recorded = catalog.stage_fingerprint(cls.name)
        reset = _reset_dir(folder, fp)
        if not reset and recorded == fp:
            return fp, False
        if recorded is not None and recorded != fp:  # its record describes outputs being replaced: views must not read them
            catalog.forget_stage(cls.name)
            catalog.refresh_views()
        if reset:
            shutil.rmtree(self.run_dir / "scratch" / cls.name, ignore_errors=True)
        started = time.perf_counter()
        if has_kernels(stage):  # counted in the stage's time: on a first run, what compiling still costs after ingest
            self._warmup.wait()
        scratch = self.data / "stages" if not storage.is_remote(self.data) else self.run_dir / "scratch"
        stats = StageRunner(self.data, scratch, pool, self.progress, self.recipe.seed).run(stage, shards, upstream, catalog)
        shard_rows = _shard_rows(self.data, cls.name, shards, {s["shard"]: s for s in stats}, upstream)
        row = {
            "stage": cls.name, "kind": cls.kind, "position": position, "version": cls.version, "fingerprint": fp,
            "params": params.model_dump(mode="json"), "n_in": sum(r["n_in"] for r in shard_rows),
            "n_kept": sum(r["n_kept"] for r in shard_rows), "n_dropped": sum(r["n_dropped"] for r in shard_rows),
            "wall_s": time.perf_counter() - started,
        }
        catalog.record_stage(row, shard_rows, cls.detail_column, stage.handed_rows(folder), stage.handed_tables(folder))
        return fp, True

    def _wipe_stages(self, catalog: Catalog) -> None:
        for (stage,) in catalog.execute("SELECT stage FROM stages WHERE kind != 'ingest'"):
            catalog.forget_stage(stage)
        storage.remove_tree(self.data / "stages")
        shutil.rmtree(self.run_dir / "scratch", ignore_errors=True)

    def _forget_removed(self, catalog: Catalog) -> None:
        keep = {p.stage for p in self.recipe.stages} | {"ingest"} | ({EVAL_SPLIT} if self.recipe.eval_split else set())
        for (stage,) in catalog.execute("SELECT stage FROM stages"):
            if stage not in keep:
                catalog.forget_stage(stage)
                storage.remove_tree(self.data / "stages" / stage)
                shutil.rmtree(self.run_dir / "scratch" / stage, ignore_errors=True)
        catalog.refresh_views()
