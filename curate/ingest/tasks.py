"""Ingest: raw inputs -> ``docs/part-*.parquet`` with a stable ``doc_id``, plus rejects with reasons.

Every input record becomes exactly one document or one reject (file, line, offset, reason, field,
escaped excerpt), so the funnel always closes. Inputs are planned into *tasks* (a file, a byte range of
a large plain JSONL file, or a batch of text files), and consecutive small tasks are packed into *jobs*
(:func:`pack_tasks`); each job writes its shards under temporary names, renames them, then writes its
marker ``docs/_tasks/<job>.json`` — the marker is the completion mark, so a killed ingest resumes by
redoing only unmarked jobs.

``doc_id`` is the xxh3-64 hex digest of ``source`` plus the record's identity: the user's id field when
configured, else its relative file path and byte offset (stable across re-runs and worker counts).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from curate.core import storage
from curate.core.storage import Location
from curate.ingest.arc import ARC_SUFFIXES, is_arc, iter_arc
from curate.ingest.html import WebParams
from curate.ingest.readers import (
    RawRecord,
    ReadFailure,
    UnusableFile,
    iter_jsonl,
    iter_parquet,
    iter_text_files,
    line_aligned_ranges,
)
from curate.ingest.records import Reject, excerpt, extract, is_blank, normalize, raw_text
from curate.ingest.warc import WARC_SUFFIXES, iter_warc
from curate.ingest.web import REASONS as WEB_REASONS
from curate.ingest.web import SKIPPED, is_html_file, web_fields

DOC_SCHEMA: dict[str, Any] = {
    "doc_id": pl.String,
    "text": pl.String,
    "source": pl.String,
    "source_id": pl.String,
    "input_file": pl.String,
    "line": pl.Int64,
    "byte_offset": pl.Int64,
    "n_bytes": pl.Int64,
    "meta": pl.String,
}
REJECT_SCHEMA: dict[str, Any] = {
    "input_file": pl.String,
    "line": pl.Int64,
    "byte_offset": pl.Int64,
    "reason": pl.String,
    "field": pl.String,
    "excerpt": pl.String,
}
REJECT_REASONS = (
    "ingest.blank_line",
    "ingest.invalid_utf8",
    "ingest.malformed_json",
    "ingest.not_an_object",
    "ingest.missing_text",
    "ingest.text_not_string",
    "ingest.empty_text",
    "ingest.too_large",
    "ingest.too_deep",
    "ingest.missing_id",
    "ingest.truncated_stream",
    "ingest.unreadable_parquet",
    "ingest.unreadable_file",
    "ingest.vanished_file",
    "ingest.broken_link",
    "ingest.not_a_regular_file",
    *WEB_REASONS,
)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.zstd", ".ndjson", ".ndjson.gz", ".ndjson.zst")


class InputSpec(BaseModel):
    """One input of a recipe: a file, a glob, or a directory."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="File, glob (** allowed) or directory; relative paths are relative to the recipe file.")
    format: Literal["auto", "jsonl", "parquet", "text", "warc"] = Field(
        "auto", description="auto: by suffix (.jsonl[.gz|.zst], .parquet, .txt/.md/.html/.htm, .warc[.gz], .warc.wet.gz, .arc[.gz]); warc also reads ARC files (.arc, .arc.gz)."
    )
    text_field: str = Field("text", description="Dotted path of the text in each record, e.g. 'content' or 'doc.body'.")
    id_field: str | None = Field(None, description="Dotted path of a unique id (makes doc_id independent of file layout).")
    source: str | None = Field(
        None, description="Source name of this input's documents; '{file}' stands for each file's name without extensions (default: the path's first part)."
    )
    text_suffixes: tuple[str, ...] = Field((".txt", ".md"), description="File suffixes read from directories as text documents.")
    html_suffixes: tuple[str, ...] = Field((".html", ".htm"), description="File suffixes read from directories as HTML pages (text extracted, see ingest.web).")
    html_field: str | None = Field(None, description="Dotted path of an HTML field in JSONL/Parquet records: its extracted text is the document (instead of text_field).")


class IngestParams(BaseModel):
    """How ingest shards, validates and normalizes documents."""

    model_config = ConfigDict(extra="forbid")

    shard_docs: int = Field(20_000, ge=1, description="Maximum documents per output shard.")
    shard_bytes: int = Field(128 << 20, ge=1024, description="Maximum text bytes per output shard.")
    max_doc_bytes: int = Field(2 << 20, ge=1, description="Documents larger than this (UTF-8 bytes) are rejected as ingest.too_large.")
    unicode_normalization: Literal["NFC", "NFKC", "NFD", "NFKD", "none"] = Field("NFC", description="Unicode normal form applied to text.")
    split_bytes: int = Field(256 << 20, ge=1024, description="Plain JSONL files (and .warc.gz files) larger than this are split into line-aligned byte ranges (ranges of whole records), one task each.")
    text_files_per_task: int = Field(2_000, ge=1, description="Text files per ingest task when reading directories.")
    pack_bytes: int = Field(64 << 20, ge=1, description="Consecutive small input files are ingested by one job, into one set of shards, about this many input bytes per job (every stage pays a fixed cost per shard).")
    pack_min_jobs: int = Field(8, ge=1, description="Pack into at least this many groups of input bytes, so that stages still have shards to spread over workers.")
    pack_min_bytes: int = Field(4 << 20, ge=1, description="No job packs fewer input bytes than this, even if that leaves fewer than pack_min_jobs: below it a stage's fixed costs per shard outweigh spreading shards over workers.")
    strict: bool = Field(False, description="Stop at the first bad record with an error naming file, line and field.")
    web: WebParams = Field(default_factory=WebParams, description="WARC records and HTML pages: record and content types read, HTML -> text extractor.")


class IngestError(ValueError):
    """A bad record in --strict mode, or an unusable input spec."""


@dataclass(frozen=True)
class IngestTask:
    """A unit of ingest work with a stable name (its position in the sorted plan)."""

    task_id: str
    kind: Literal["jsonl", "parquet", "text", "warc"]
    path: str
    source: str
    spec: InputSpec
    start: int = 0
    end: int | None = None
    first_line: int = 1
    files: tuple[str, ...] = ()
    root: str = ""
    rel_path: str = ""  # path relative to the recipe folder: part of doc_id, so ids survive moving the data


@dataclass(frozen=True)
class IngestJob:
    """Consecutive tasks ingested by one worker into one set of shards ``part-<job>-<k>``, one marker."""

    job_id: str
    tasks: tuple[IngestTask, ...]


def detect_format(location: str) -> Literal["jsonl", "parquet", "text", "warc"] | None:
    name = location.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".txt", ".md", ".html", ".htm")):
        return "text"
    if name.endswith(WARC_SUFFIXES + ARC_SUFFIXES):
        return "warc"
    return None


def _expand(spec: InputSpec, base: Path) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Files (jsonl/parquet) and text directories named by one input spec, sorted.

    Each real file is listed once, under the first name that matched it: a glob through a directory loop
    (``sub/back -> ..``) or a link beside its target matches one file under many names."""
    absolute = storage.is_url(spec.path) or Path(spec.path).is_absolute()
    pattern = spec.path if absolute else str(base / spec.path)
    paths = storage.expand(pattern)
    if not paths:
        raise IngestError(f"input {spec.path!r} matches no file (looked for {pattern})")
    seen: set[str] = set()

    def first_time(path: str) -> bool:
        real = storage.real_path(path)
        new = real not in seen
        seen.add(real)
        return new

    files, text_dirs = [], []
    for path in paths:
        if not first_time(path):
            continue
        if storage.is_dir(path):
            found = storage.find_files(path)
            texts = [p for p in found if p.lower().endswith(spec.text_suffixes + spec.html_suffixes) and first_time(p)]
            if texts:
                text_dirs.append((path, texts))
            files.extend(p for p in found if detect_format(p) in ("jsonl", "parquet", "warc") and first_time(p))
        elif spec.format == "text" or (spec.format == "auto" and detect_format(path) == "text"):
            text_dirs.append((path.rsplit("/", 1)[0], [path]))
        else:
            files.append(path)
    return files, text_dirs


def _source_name(spec: InputSpec, path: str) -> str:
    if spec.source:
        return spec.source.replace("{file}", path.rstrip("/").rsplit("/", 1)[-1].split(".")[0])
    return Path(spec.path).parts[0].replace("*", "") or "input"


def plan_tasks(inputs: list[InputSpec], params: IngestParams, base: Path) -> list[IngestTask]:
    """Turn input specs into an ordered list of tasks with stable ids."""
    tasks: list[IngestTask] = []

    def add(**kw: Any) -> None:
        rel = kw["path"] if storage.is_url(kw["path"]) else os.path.relpath(kw["path"], base)
        tasks.append(IngestTask(task_id=f"{len(tasks):05d}", rel_path=rel, **kw))

    for spec in inputs:
        files, text_dirs = _expand(spec, base)
        for path in files:
            source = _source_name(spec, path)
            fmt = spec.format if spec.format != "auto" else detect_format(path)
            if fmt not in ("jsonl", "parquet", "warc"):
                raise IngestError(f"input file {path} has an unknown format; set format: jsonl|parquet|text|warc")
            if fmt == "jsonl" and not path.lower().endswith((".gz", ".zst", ".zstd")):
                size = storage.stamp(path)[1]
                try:
                    ranges = line_aligned_ranges(path, size, params.split_bytes)
                except UnusableFile:  # its reader counts it as a reject
                    ranges = [(0, size, 1)]
                for start, end, first in ranges:
                    add(kind="jsonl", path=path, source=source, spec=spec, start=start, end=end, first_line=first)
            elif fmt == "warc" and path.lower().endswith(".gz") and not is_arc(path) and (size := storage.stamp(path)[1]) > params.split_bytes:
                for start in range(0, size, params.split_bytes):  # ranges of whole gzip members: see curate.ingest.warc
                    add(kind="warc", path=path, source=source, spec=spec, start=start, end=min(start + params.split_bytes, size))
            else:
                add(kind=fmt, path=path, source=source, spec=spec)
        for root, found in text_dirs:
            source = _source_name(spec, root)
            for i in range(0, len(found), params.text_files_per_task):
                chunk = tuple(found[i : i + params.text_files_per_task])
                add(kind="text", path=root, source=source, spec=spec, files=chunk, root=root)
    return tasks


def pack_tasks(tasks: list[IngestTask], params: IngestParams, file_bytes: Mapping[str, int]) -> list[IngestJob]:
    """Consecutive file tasks packed into jobs of about equal input bytes (fewer, larger shards).

    The file tasks are cut into ``max(pack_min_jobs, ceil(total bytes / pack_bytes))`` contiguous groups,
    but no more than ``total bytes // min(pack_min_bytes, pack_bytes)`` (at least one); a task joins the
    group its byte midpoint falls in. That depends only on the plan and the input sizes (``file_bytes``:
    size of each input file, which the runner has already stat'ed for the fingerprint), never on the
    number of workers, so the shards (and every result) do not either.
    Text-folder tasks are batches already and stay one job each. Document order is unchanged.
    """
    sizes = [0 if t.kind == "text" else (t.end - t.start if t.end is not None else file_bytes[t.path]) for t in tasks]
    total = sum(sizes)
    smallest = min(params.pack_min_bytes, params.pack_bytes)
    n_groups = max(1, min(max(params.pack_min_jobs, -(-total // params.pack_bytes)), total // smallest))
    groups: list[list[IngestTask]] = []
    previous: tuple[str, int] | None = None
    before = 0
    for i, (task, size) in enumerate(zip(tasks, sizes, strict=True)):
        key = ("text", i) if task.kind == "text" else ("file", min(n_groups - 1, (2 * before + size) * n_groups // (2 * max(total, 1))))
        if key == previous:
            groups[-1].append(task)
        else:
            groups.append([task])
        previous, before = key, before + size
    return [IngestJob(job_id=f"{i:05d}", tasks=tuple(group)) for i, group in enumerate(groups)]


class _ShardWriter:
    """Buffers documents and writes ``part-<job>-<k>.parquet`` files of bounded size, each atomically.

    A job's shards count only once its marker exists: the runner deletes the shards of unmarked jobs
    before it re-runs them (resume after a kill)."""

    def __init__(self, out_dir: Location, job_id: str, params: IngestParams) -> None:
        self.out_dir, self.job_id, self.params = out_dir, job_id, params
        self.rows: dict[str, list[Any]] = {c: [] for c in DOC_SCHEMA}
        self.n_bytes = 0
        self.written: list[Location] = []

    def add(self, row: dict[str, Any]) -> None:
        for key, column in self.rows.items():
            column.append(row[key])
        self.n_bytes += row["n_bytes"]
        if len(self.rows["doc_id"]) >= self.params.shard_docs or self.n_bytes >= self.params.shard_bytes:
            self.flush()

    def flush(self, force: bool = False) -> None:
        if not self.rows["doc_id"] and not (force and not self.written):
            return
        path = self.out_dir / f"part-{self.job_id}-{len(self.written):04d}.parquet"
        storage.write_parquet(pl.DataFrame(self.rows, schema=DOC_SCHEMA), path)
        self.written.append(path)
        self.rows = {c: [] for c in DOC_SCHEMA}
        self.n_bytes = 0


def _records(task: IngestTask, params: IngestParams) -> Iterator[RawRecord | ReadFailure]:
    if task.kind == "warc":  # WARC, WET or ARC (by suffix)
        return iter_arc(task.path, params.web) if is_arc(task.path) else iter_warc(task.path, params.web, task.start, task.end)
    if task.kind == "jsonl":
        return iter_jsonl(task.path, task.start, task.end, task.first_line)
    if task.kind == "parquet":
        return iter_parquet(task.path)
    return iter_text_files(task.root, list(task.files))


def run_job(job: IngestJob, params: IngestParams, data: str) -> dict[str, Any]:
    """Ingest one job's tasks (in a worker) into one set of shards, its rejects, then its marker."""
    docs_dir = storage.location(data) / "docs"
    writer = _ShardWriter(docs_dir, job.job_id, params)
    rejects: dict[str, list[Any]] = {c: [] for c in REJECT_SCHEMA}
    files = [_ingest_task(task, params, writer, rejects) for task in job.tasks]
    writer.flush(force=True)
    return _commit_job(job, writer, rejects, files, docs_dir)


def _ingest_task(task: IngestTask, params: IngestParams, writer: _ShardWriter, rejects: dict[str, list[Any]]) -> dict[str, Any]:
    """Every record of one task into the writer or the rejects; the task's row of ``ingest_files``."""
    started, rejected_before = time.perf_counter(), len(rejects["reason"])
    n_records = n_bytes = 0
    field = (task.spec.html_field or task.spec.text_field) if task.kind not in ("text", "warc") else None
    id_field = task.spec.id_field if task.kind not in ("text", "warc") else None
    for rec in _records(task, params):
        n_records += 1
        input_file = f"{task.path.rstrip('/')}/{rec.name}" if rec.name else task.path
        if isinstance(rec, ReadFailure):
            _reject(rejects, task, input_file, rec.line, rec.byte_offset, rec.reason, None, rec.message, params)
            continue
        n_bytes += len(rec.payload) if isinstance(rec.payload, bytes) else len(rec.payload["body"]) if task.kind == "warc" else 0
        try:
            if task.kind == "warc" or task.spec.html_field or is_html_file(rec.name, task.spec.html_suffixes):
                fields = web_fields(rec.payload, task.kind, task.spec.html_field, id_field, params.web, rec.name)
            else:
                fields = extract(rec.payload, task.kind, task.spec.text_field, id_field, rec.name, rec.invalid_utf8)
            if is_blank(fields.text):
                raise Reject("ingest.empty_text", field)
            text = normalize(fields.text, params.unicode_normalization)
            size = len(text.encode("utf-8"))
            if size > params.max_doc_bytes:
                raise Reject("ingest.too_large", field)
        except Reject as bad:
            _reject(rejects, task, input_file, rec.line, rec.byte_offset, bad.reason, bad.field, raw_text(rec.payload), params)
            continue
        location = rec.name if rec.name else str(rec.byte_offset)
        identity = fields.user_id if fields.user_id is not None else f"{task.rel_path}\0{location}"
        writer.add(
            {
                "doc_id": xxhash.xxh3_64_hexdigest(f"{task.source}\0{identity}".encode()),
                "text": text,
                "source": task.source,
                "source_id": fields.user_id,
                "input_file": input_file,
                "line": rec.line if task.kind != "text" else None,
                "byte_offset": rec.byte_offset if task.kind != "text" else None,
                "n_bytes": size,
                "meta": fields.meta,
            }
        )
    n_rejected = len(rejects["reason"]) - rejected_before
    return {
        "input_file": task.path,
        "task": task.task_id if task.end is None and not task.start else f"{task.task_id}@{task.start}-{task.end}",
        "source": task.source,
        "n_records": n_records,
        "n_docs": n_records - n_rejected,
        "n_rejected": n_rejected,
        "n_bytes": n_bytes,
        "wall_s": time.perf_counter() - started,
    }


def _reject(
    rejects: dict[str, list[Any]],
    task: IngestTask,
    input_name: str,
    line: int,
    offset: int,
    reason: str,
    field: str | None,
    raw: bytes | str,
    params: IngestParams,
) -> None:
    if params.strict and reason not in SKIPPED:  # a record type not read is not a bad record
        where = f"{input_name}:{line}" if task.kind != "text" else input_name
        what = f" field {field!r}" if field else ""
        raise IngestError(f"{where}: {reason}{what}: {excerpt(raw)}")
    for key, value in zip(REJECT_SCHEMA, (input_name, line, offset, reason, field, excerpt(raw)), strict=True):
        rejects[key].append(value)


def _commit_job(
    job: IngestJob, writer: _ShardWriter, rejects: dict[str, list[Any]], files: list[dict[str, Any]], docs_dir: Location
) -> dict[str, Any]:
    """Write the job's rejects, then its marker (the completion mark): its tasks' rows and its shards."""
    storage.write_parquet(pl.DataFrame(rejects, schema=REJECT_SCHEMA), docs_dir / "_rejects" / f"{job.job_id}.parquet")
    marker = {"files": files, "shards": [path.name for path in writer.written]}
    storage.write_bytes(docs_dir / "_tasks" / f"{job.job_id}.json", json.dumps(marker, sort_keys=True).encode())
    return {"n_docs": sum(f["n_docs"] for f in files), "n_bytes": sum(f["n_bytes"] for f in files)}
