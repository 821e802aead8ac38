"""What a catalog records about the code that wrote it: the schema version of ``sql/schema.sql`` and mixlab's
version (plus the git commit of a checkout)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import sql


def schema_version() -> int:
    """The version declared in ``sql/schema.sql`` (its ``-- version: N`` header line)."""
    for line in sql.read("schema").text.splitlines():
        if line.startswith("-- version:"):
            return int(line.split(":", 1)[1])
    raise RuntimeError("sql/schema.sql lacks a '-- version: N' header")


def code_version() -> str:
    """mixlab's version plus the git commit of the source tree, when it is a checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("mixlab")
    except PackageNotFoundError:
        ver = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{ver}+{commit}" if commit else ver
