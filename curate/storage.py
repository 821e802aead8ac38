"""Where inputs live: local paths or fsspec URLs (``file://``, ``s3://`` with s3fs, ``gs://``, ...).

Ingest reads inputs through these functions only, so every node of a cluster can read the same shards
from shared storage. Run folders (outputs and the catalog) are local or shared-filesystem paths.
"""

from __future__ import annotations

import glob as globlib
import os
from typing import IO, Any

import fsspec


def is_url(location: str) -> bool:
    return "://" in location


def _fs(location: str) -> tuple[Any, str]:
    fs, path = fsspec.core.url_to_fs(location)
    return fs, path


def _unstrip(location: str, path: str) -> str:
    """Put the protocol back on a path returned by an fsspec filesystem."""
    return f"{location.split('://', 1)[0]}://{path.lstrip('/') if location.startswith('s3') else path}"


def expand(pattern: str) -> list[str]:
    """Sorted paths or URLs matching a glob (``**`` recursive)."""
    if not is_url(pattern):
        return sorted(globlib.glob(pattern, recursive=True))
    fs, path = _fs(pattern)
    return sorted(_unstrip(pattern, p) for p in fs.glob(path))


def is_dir(location: str) -> bool:
    if not is_url(location):
        return os.path.isdir(location)
    fs, path = _fs(location)
    return bool(fs.isdir(path))


def find_files(root: str) -> list[str]:
    """Every file under a directory, sorted."""
    if not is_url(root):
        return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)
    fs, path = _fs(root)
    return sorted(_unstrip(root, p) for p in fs.find(path))


def open_binary(location: str) -> IO[bytes]:
    """A seekable binary stream of the file's raw (not decompressed) bytes."""
    if not is_url(location):
        return open(location, "rb")
    return fsspec.open(location, "rb").open()


def stamp(location: str) -> tuple[str, int, str]:
    """(location, size, modification stamp): changes when the file does (used in ingest's fingerprint)."""
    if not is_url(location):
        st = os.stat(location)
        return location, st.st_size, str(st.st_mtime_ns)
    fs, path = _fs(location)
    info = fs.info(path)
    return location, int(info.get("size") or 0), str(info.get("mtime") or info.get("LastModified") or info.get("ETag") or "")


def relative(location: str, root: str) -> str:
    """``location`` relative to ``root`` (both paths or both URLs)."""
    if not is_url(location):
        return os.path.relpath(location, root)
    return location[len(root.rstrip("/")) + 1 :] if location.startswith(root) else location
