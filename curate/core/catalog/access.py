"""Who may open a run's catalog, and how: one writer at a time, sandboxed readers, a snapshot during runs.

* Writers take ``run.lock`` (an ``flock`` held while the catalog is open, released even by ``kill -9``)
  and write their pid, command and start time into it, so a second writer is told who holds the run.
* DuckDB lets no reader in while a writer has the file open, so writers publish ``catalog.snapshot.duckdb``
  (a copy) when they open it and at each commit point; a reader that finds the catalog locked reads the snapshot.
* Readers are sandboxed: they may read the run's own files only (no other file, no network, no
  extension), cannot change settings, and :func:`check_read_only` refuses any statement but a query.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

LOCK_FILE = "run.lock"
SNAPSHOT_FILE = "catalog.snapshot.duckdb"
LOCK_WAIT_S = 2.0
READER_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_held: dict[Path, list[int]] = {}  # run folder -> [lock fd, open count]: nested writers in one process


class RunUnavailable(RuntimeError):
    """A run's catalog cannot be opened now: its message says why and what to do."""


class RunBusy(RunUnavailable):
    """Another process holds the run folder (a running ``curate run``, or a reader blocking a writer)."""


class CatalogUnreadable(RunUnavailable):
    """``catalog.duckdb`` exists but DuckDB cannot open it (not a DuckDB file, damaged, or unreadable)."""


class ReadOnlyViolation(duckdb.PermissionException):
    """A statement other than a query on a read-only connection (a DuckDB error, like the others readers meet)."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def holder(run_dir: Path) -> dict[str, Any] | None:
    """The process holding the run lock (as it described itself), or None when nobody holds it."""
    path = run_dir / LOCK_FILE
    if not path.exists():
        return None
    with path.open("rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return json.loads(f.read() or b"{}")
            except ValueError:
                return {}
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


def describe(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process"
    return f"`{info.get('command', '?')}` (pid {info.get('pid', '?')}, started {info.get('started_at', '?')})"


def acquire(run_dir: Path) -> None:
    """Take the run lock for this process (re-entrant), or raise :class:`RunBusy` naming the holder."""
    if run_dir in _held:
        _held[run_dir][1] += 1
        return
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + LOCK_WAIT_S  # a reader's brief shared probe (see holder) is not a writer
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise RunBusy(f"run folder {run_dir} is in use by {describe(holder(run_dir))}:"
                              " wait for it to finish, or stop it") from None
            time.sleep(0.05)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": _command(),
          "started_at": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode(), 0)
    _held[run_dir] = [fd, 1]


def _command() -> str:
    """``curate run recipe.yaml``: this process's command, for the message another writer gets."""
    prog = Path(sys.argv[0])
    name = prog.parent.name if prog.name == "__main__.py" else prog.name  # python -m curate, or the script
    return " ".join([name, *sys.argv[1:3]])[:200]


def release(run_dir: Path) -> None:
    entry = _held.get(run_dir)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[run_dir]
        os.close(entry[0])  # closing the descriptor releases the flock


def publish_snapshot(con: duckdb.DuckDBPyConnection, db_file: Path) -> None:
    """Copy the catalog beside itself (atomically), for readers while this writer holds it.

    DuckDB makes the copy: opening the file ourselves would drop DuckDB's lock on it when we close it
    (POSIX record locks belong to the process and go with any of its descriptors of the file)."""
    tmp = db_file.with_name(SNAPSHOT_FILE + ".tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    database = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute(f"ATTACH {_literal(str(tmp))} AS _mixlab_snapshot")
    try:
        con.execute(f'COPY FROM DATABASE "{database}" TO _mixlab_snapshot')
    finally:
        con.execute("DETACH _mixlab_snapshot")
    os.replace(tmp, db_file.with_name(SNAPSHOT_FILE))


def connect_reader(db_file: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the catalog, or to its snapshot while a writer holds it."""
    run_dir = db_file.parent
    busy = holder(run_dir)
    if not db_file.exists():
        if busy:
            raise RunBusy(f"{describe(busy)} is starting run {run_dir}: its catalog appears after its first step")
        raise FileNotFoundError(f"no catalog at {db_file} (run `curate run` first)")
    try:
        return duckdb.connect(str(db_file), read_only=True, config=READER_CONFIG)
    except duckdb.Error as err:
        if "lock" not in str(err).lower():
            raise CatalogUnreadable(f"cannot open {db_file}: {err}") from None
        snapshot = run_dir / SNAPSHOT_FILE
        who = describe(holder(run_dir))
        if not snapshot.exists():
            raise RunBusy(f"{who} is writing {db_file} and has no snapshot yet: try again in a moment") from None
        taken = dt.datetime.fromtimestamp(snapshot.stat().st_mtime, dt.UTC)
        print(f"note: {who} is writing this run; reading its snapshot of {taken:%H:%M:%S} UTC", file=sys.stderr)
        return duckdb.connect(str(snapshot), read_only=True, config=READER_CONFIG)


def sandbox(con: duckdb.DuckDBPyConnection, *roots: str) -> None:
    """Let this connection read files under ``roots`` only, and lock its configuration."""
    if con.execute("SELECT current_setting('lock_configuration')").fetchall()[0][0]:
        return  # another reader in this process shares the database instance and sandboxed it already
    dirs = ", ".join(_literal(r.rstrip("/") + "/") for r in sorted(set(roots)))
    con.execute(f"SET allowed_directories = [{dirs}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def check_read_only(con: duckdb.DuckDBPyConnection, text: str) -> None:
    """Refuse SQL that is not a query (COPY, ATTACH, INSTALL, SET, DML, DDL, EXPLAIN ANALYZE of those)."""
    for statement in con.extract_statements(text):
        if statement.type != duckdb.StatementType.SELECT:
            kind = statement.type.name
            raise ReadOnlyViolation(f"read-only: only queries (SELECT, WITH, FROM, SHOW, DESCRIBE) run here, not {kind}")
