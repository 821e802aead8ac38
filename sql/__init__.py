"""Named SQL for mixlab, loaded by name from this package (the one home of SQL that answers questions).

What lives here, and what may stay inline (``tests/test_sql_home.py`` checks it):

- ``sql/reports/<name>.sql``: the user-facing reports (``reports show NAME``), read by :func:`read_report`.
- ``sql/queries/<area>/<name>.sql``: every other statement that answers a question about a run, i.e. reads
  catalog tables or views for what a report, the headline, the HTML pages, the study and analysis, train's
  run and sweep lookups, the search, the demo or a command's status table show. Read by :func:`read_query`
  (``Catalog.ask`` runs one). The modules of ``reports/``, ``train/``, ``curate/cli/`` and ``curate/demo/``
  hold no SQL statement text at all.
- ``schema.sql``: the catalog's tables.
- Inline, and only in ``curate/core/`` (the catalog's own DDL and bookkeeping writes: views over Parquet
  paths, run/stage/shard/decision/artifact rows, the read-only lock) and in the curation stages and algorithms
  (``curate/stages``, ``curate/dedup``, ``curate/diversity``, ``curate/mix``, ``curate/models``,
  ``curate/pipeline``), where DuckDB computes over Parquet files, frames and scratch tables the module itself
  names; moving those would scatter one-off plumbing away from the algorithm it implements.

A file starts with a header::

    -- funnel: per stage, how many documents went in, were kept, dropped (by reason) or rejected
    -- params: run_id, limit
    -- defaults: run_id=NULL, limit=20
    -- types: limit=integer>=0

`read("reports/funnel")` returns its name, text, declared params (with defaults and types) and doc line;
`read_report(name)` accepts only the name of a file under ``sql/reports/`` (no path), `read_query(name)` one
under ``sql/queries/``. Values are always bound by DuckDB (`$name`), never formatted into the text;
:meth:`SqlFile.bind` checks the typed ones first (``integer`` or ``number``, with optional ``>=``/``<=``
bounds; untyped params are text), so a bad value is an error naming the parameter, not a DuckDB error from
deep inside the query. A ``{name}`` slot declared in a ``-- splices: name`` line is the one place text goes in: an
identifier quoted by :func:`sql.quote.sql_ident` or a group expression from ``curate.mix.groups.group_sql``
(never a value); :meth:`SqlFile.render` fills exactly the declared slots.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_SPLICE_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TYPE_RE = re.compile(r"^(integer|number)((?:\s*(?:>=|<=)\s*-?[0-9.]+)*)$")
_BOUND_RE = re.compile(r"(>=|<=)\s*(-?[0-9.]+)")
_INT64 = 2**63 - 1


class ParamError(ValueError):
    """A report parameter whose value does not fit its declared type or range."""


@dataclass(frozen=True)
class ParamType:
    """A declared parameter type: ``integer`` or ``number``, with optional inclusive bounds."""

    kind: str
    low: float = -_INT64
    high: float = _INT64

    @classmethod
    def parse(cls, text: str) -> ParamType:
        """``integer>=0`` -> ParamType("integer", 0); raises ValueError on anything else."""
        match = _TYPE_RE.match(text.strip())
        if match is None:
            raise ValueError(f"bad parameter type {text!r}: write integer or number, optionally with >=N and <=N")
        bounds = {op: float(value) for op, value in _BOUND_RE.findall(match.group(2))}
        return cls(match.group(1), bounds.get(">=", -_INT64), bounds.get("<=", _INT64))

    def describe(self) -> str:
        """``an integer >= 0``, ``a number >= 0 and <= 1``: what a value must be."""
        limits = [f">= {self.low:g}"] if self.low > -_INT64 else []
        limits += [f"<= {self.high:g}"] if self.high < _INT64 else []
        return " ".join(["an integer" if self.kind == "integer" else "a number", " and ".join(limits)]).strip()

    def convert(self, name: str, value: Any) -> int | float | None:
        """``value`` (a string from the command line, or a Python number) as this type, or ParamError."""
        if value is None:
            return None
        try:
            number: int | float = int(str(value).strip()) if self.kind == "integer" else float(str(value).strip())
        except ValueError:
            number = math.nan
        if not self.low <= number <= self.high:  # NaN (not a number at all) fails too
            raise ParamError(f"parameter {name!r} takes {self.describe()}; got {value!r}")
        return number


@dataclass(frozen=True)
class SqlFile:
    """One SQL file: its name, full text, declared `$params` (with defaults) and one-line doc."""

    name: str
    text: str
    params: tuple[str, ...]
    doc: str
    defaults: dict[str, str | None] = field(default_factory=dict)
    types: dict[str, ParamType] = field(default_factory=dict)
    splices: tuple[str, ...] = ()

    def _body(self) -> str:
        return "\n".join(line.split("--", 1)[0] for line in self.text.splitlines())

    def used_params(self) -> set[str]:
        """The `$name` placeholders the SQL body actually uses (comments excluded)."""
        return set(_PARAM_RE.findall(self._body()))

    def used_splices(self) -> set[str]:
        """The `{name}` slots the SQL body actually uses (comments excluded)."""
        return set(_SPLICE_RE.findall(self._body()))

    def render(self, splices: dict[str, str] | None = None) -> str:
        """The text with each declared ``{slot}`` filled; the given slots must be exactly the declared ones."""
        given = splices or {}
        if set(given) != set(self.splices):
            raise ValueError(f"SQL {self.name!r} declares splices {list(self.splices)}; got {sorted(given)}")
        return _SPLICE_RE.sub(lambda m: given[m.group(1)] if m.group(1) in given else m.group(0), self.text)

    def kind(self) -> str:
        """``report`` for a file under sql/reports/, else ``query``: how errors name it."""
        return "report" if self.name.startswith("reports/") else "query"

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        """The values to bind: given ones over defaults, typed ones converted and range-checked."""
        unknown = set(given) - set(self.params)
        if unknown:
            raise ParamError(f"{self.kind()} {self.name.split('/', 1)[-1]!r} has no params {sorted(unknown)}; it declares {list(self.params)}")
        values = {p: given.get(p, self.defaults.get(p)) for p in self.used_params()}
        for name, kind in self.types.items():
            if name in values:
                values[name] = kind.convert(name, values[name])
        return values


def _names(body: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in body.split(":", 1)[1].split(",") if p.strip())


def _parse(name: str, text: str) -> SqlFile:
    """The file ``name`` with what its ``--`` header lines declare (doc line, params, splices, defaults, types)."""
    doc, lists, defaults, types = "", {"params": (), "splices": ()}, {}, {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        if body.startswith(f"{name.rsplit('/', 1)[-1]}:"):
            doc = body.split(":", 1)[1].strip()
        elif body.startswith(("params:", "splices:")):
            lists[body.split(":", 1)[0]] = _names(body)
        elif body.startswith("defaults:"):
            for pair in body.split(":", 1)[1].split(","):
                if "=" in pair:
                    key, value = (s.strip() for s in pair.split("=", 1))
                    defaults[key] = None if value.upper() == "NULL" else value.strip("'")
        elif body.startswith("types:"):
            for pair in body.split(":", 1)[1].split(","):
                key, _, kind = pair.partition("=")
                types[key.strip()] = ParamType.parse(kind)
    return SqlFile(name=name, text=text, params=lists["params"], doc=doc, defaults=defaults, types=types, splices=lists["splices"])


def read(name: str) -> SqlFile:
    """Load `sql/<name>.sql`, e.g. ``read("reports/funnel")`` or ``read("schema")``."""
    path = resources.files(__name__).joinpath(f"{name}.sql")
    if not path.is_file():
        raise KeyError(f"no SQL named {name!r} (looked for sql/{name}.sql; known reports: {', '.join(list_reports())})")
    return _parse(name, path.read_text(encoding="utf-8"))


def read_report(name: str) -> SqlFile:
    """The report ``name``: one of :func:`list_reports`, nothing else (a name is never a path)."""
    if name not in list_reports():
        raise KeyError(f"no report named {name!r}; known reports: {', '.join(list_reports())}")
    return read(f"reports/{name}")


def read_query(name: str) -> SqlFile:
    """The internal query ``sql/queries/<name>.sql`` (``area/name``): one of :func:`list_queries`."""
    if name not in list_queries():
        raise KeyError(f"no query named {name!r} under sql/queries/")
    return read(f"queries/{name}")


def list_queries() -> list[str]:
    """Names (``area/name``) of all internal queries (files under sql/queries/<area>/), sorted."""
    root = resources.files(__name__).joinpath("queries")
    return sorted(f"{d.name}/{p.name[:-4]}" for d in root.iterdir() if d.is_dir()
                  for p in d.iterdir() if p.name.endswith(".sql"))


def list_reports() -> list[str]:
    """Names of all reports (files under sql/reports/), sorted."""
    folder = resources.files(__name__).joinpath("reports")
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql"))
