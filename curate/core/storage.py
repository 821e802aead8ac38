"""Where data lives: local paths or fsspec URLs (``file://``, ``s3://`` with s3fs, ``gs://``, ...).

Inputs are read through these functions, and so is a run's *data root* (docs shards, stage parts and
stage artifacts): a local folder by default, or a URL (``curate run --data s3://bucket/run``) so that
every node of a cluster reads and writes the same shards. A local data root is a :class:`pathlib.Path`;
a remote one is a :class:`upath.UPath` with the same ``/``, ``exists``, ``glob``, ``open`` API, so stage
code is written once. Writes are atomic either way: a local file is written under a temporary name and
renamed; an object store publishes an object only when its upload completes. The catalog stays a local
DuckDB file on the driver; it reads remote Parquet through the same fsspec filesystem
(:func:`register_with`).
"""

from __future__ import annotations

import glob as globlib
import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import IO, Any, Union

import fsspec
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

Location = Union[Path, UPath]  # noqa: UP007 - a runtime alias
REWRITE_DIR = "text"  # a rewrite stage's text versions: stages/<name>/text/<shard>.parquet (doc_id, text)


def is_url(location: str | Location) -> bool:
    return "://" in str(location)


def is_remote(location: str | Location) -> bool:
    """True for URLs other than ``file://`` (which are plain local paths)."""
    return is_url(location) and not str(location).startswith("file://")


def location(where: str | Location) -> Location:
    """A data root or file: a resolved local Path (``file://`` URLs included) or a UPath for a URL."""
    text = str(where)
    if text.startswith("file://"):
        return Path(text[len("file://") :]).resolve()
    if is_url(text):
        return UPath(text)
    return Path(text).resolve()


def _fs(url: str) -> tuple[Any, str]:
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def _unstrip(url: str, path: str) -> str:
    """Put the protocol back on a path returned by an fsspec filesystem."""
    return f"{url.split('://', 1)[0]}://{path.lstrip('/') if url.startswith('s3') else path}"


# -- inputs -----------------------------------------------------------------------------------------


def expand(pattern: str) -> list[str]:
    """Sorted paths or URLs matching a glob (``**`` recursive)."""
    if not is_url(pattern):
        return sorted(globlib.glob(pattern, recursive=True))
    fs, path = _fs(pattern)
    return sorted(_unstrip(pattern, p) for p in fs.glob(path))


def is_dir(where: str) -> bool:
    if not is_url(where):
        return os.path.isdir(where)
    fs, path = _fs(where)
    return bool(fs.isdir(path))


def find_files(root: str) -> list[str]:
    """Every file under a directory, sorted."""
    if not is_url(root):
        return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)
    fs, path = _fs(root)
    return sorted(_unstrip(root, p) for p in fs.find(path))


def real_path(where: str) -> str:
    """The file a local path names after following every symlink (one file matched under many names, e.g.
    through a directory loop, has one real path); a URL as it is."""
    return where if is_url(where) else os.path.realpath(where)


def open_binary(where: str) -> IO[bytes]:
    """A seekable binary stream of the file's raw (not decompressed) bytes."""
    if not is_url(where):
        return open(where, "rb")
    return fsspec.open(where, "rb").open()


def stamp(where: str) -> tuple[str, int, str]:
    """(location, size, modification stamp): changes when the file does (used in ingest's fingerprint)."""
    if not is_url(where):
        try:
            st = os.stat(where)
        except OSError:  # a broken or looping link, or a file gone since: ingest counts it as a reject
            try:
                st = os.lstat(where)
            except OSError:
                return where, 0, "missing"
        return where, st.st_size, str(st.st_mtime_ns)
    fs, path = _fs(where)
    info = fs.info(path)
    return where, int(info.get("size") or 0), str(info.get("mtime") or info.get("LastModified") or info.get("ETag") or "")


def relative(where: str, root: str) -> str:
    """``where`` relative to ``root`` (both paths or both URLs)."""
    if not is_url(where):
        return os.path.relpath(where, root)
    return where[len(root.rstrip("/")) + 1 :] if where.startswith(root) else where


# -- a run's data root: atomic writes and reads of Parquet, numpy arrays and small files -----------


def write_parquet(frame: pl.DataFrame, path: Location) -> None:
    """Write Parquet atomically: the file's existence marks completion (resume skips it)."""
    if is_remote(path):
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="zstd", statistics=True)
        write_bytes(path, buffer.getvalue())
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.write_parquet(tmp, compression="zstd", statistics=True)
    tmp.replace(path)


def read_parquet(path: Location, columns: list[str] | None = None) -> pl.DataFrame:
    if is_remote(path):
        with path.open("rb") as src:
            return pl.read_parquet(src, columns=columns)
    return pl.read_parquet(path, columns=columns)


def read_arrow(path: Location, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file as an Arrow table (``ParquetFile``: ``pq.read_table`` imports pyarrow.dataset and
    pandas, 0.8 s in every process that reads a file this way)."""
    if is_remote(path):
        with path.open("rb") as src:
            return pq.ParquetFile(src).read(columns=columns)
    return pq.ParquetFile(path).read(columns=columns)


def parquet_rows(path: Location) -> int:
    """Row count from the Parquet footer."""
    if is_remote(path):
        with path.open("rb") as src:
            return pq.ParquetFile(src).metadata.num_rows
    return pq.ParquetFile(path).metadata.num_rows


def save_npy(array: np.ndarray, path: Location) -> None:
    """Save a numpy array atomically."""
    if is_remote(path):
        buffer = io.BytesIO()
        np.save(buffer, array)
        write_bytes(path, buffer.getvalue())
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, array)
    tmp.replace(path)


def load_npy(path: Location) -> np.ndarray:
    if is_remote(path):
        with path.open("rb") as src:
            return np.load(src)
    return np.load(path)


def npy_length(path: Location) -> int:
    """First dimension of a saved array, without reading it (local: memory map; remote: the header)."""
    if is_remote(path):
        with path.open("rb") as src:
            major, _ = np.lib.format.read_magic(src)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, _ = read_header(src)
            return int(shape[0])
    return int(np.load(path, mmap_mode="r").shape[0])


def write_bytes(path: Location, data: bytes) -> None:
    """Write a file atomically: one PUT to an object store (a failed upload publishes nothing), or a
    temporary local file renamed into place."""
    if is_remote(path):
        path.fs.pipe_file(path.path, data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def make_dirs(path: Location) -> None:
    """Create a folder (object stores have none: nothing to do there)."""
    if not is_remote(path):
        path.mkdir(parents=True, exist_ok=True)


def remove_tree(path: Location) -> None:
    """Delete a folder and everything below it, if it exists."""
    if is_remote(path):
        if path.exists():
            path.fs.rm(path.path, recursive=True)
        return
    shutil.rmtree(path, ignore_errors=True)


def upload_tree(folder: Path, target: Location, last: str | None = None) -> None:
    """Copy a local folder's files to ``target`` (a no-op when both are the same local folder); the file
    named ``last`` (a completion marker such as a manifest) is copied after all the others."""
    if not is_remote(target) and Path(target).resolve() == folder.resolve():
        return
    for file in sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: (p.name == last, str(p))):
        dest = target / file.relative_to(folder).as_posix()
        if is_remote(dest):
            dest.fs.put_file(str(file), dest.path)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, dest)


def publish_file(local: Path, target: Location) -> None:
    """Move a finished local file (e.g. one DuckDB wrote) to ``target`` atomically: a rename, or one upload."""
    if is_remote(target):
        target.fs.put_file(str(local), target.path)
        local.unlink()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.move(local, tmp)
    tmp.replace(target)


def local_copy(path: Location, cache: Path) -> Path:
    """A local file with ``path``'s bytes (itself when local): for libraries that only open local files
    (fastText, joblib memory maps). Remote files are cached under ``cache`` by URL and ETag/size."""
    if not is_remote(path):
        return Path(path)
    info = path.fs.info(path.path)
    key = hashlib.sha256(json.dumps([str(path), info.get("ETag"), info.get("size")], default=str).encode()).hexdigest()[:16]
    target = cache / "remote" / key / path.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        path.fs.get_file(path.path, str(tmp))
        tmp.replace(target)
    return target


def register_with(con: Any, *paths: str | Location) -> None:
    """Let a DuckDB connection read the remote URLs among ``paths`` through fsspec (no httpfs needed)."""
    for where in paths:
        if is_remote(where):
            fs, _ = _fs(str(where))
            names = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
            if not names & set(con.list_filesystems()):
                con.register_filesystem(fs)
