"""Named SQL for mixlab, loaded by name from this package (the one home of SQL text).

A report file starts with a header::

    -- funnel: per stage, how many documents went in, were kept, dropped (by reason) or rejected
    -- params: run_id
    -- defaults: run_id=NULL

`read("reports/funnel")` returns its name, text, declared params (with defaults) and doc line.
Values are always bound by DuckDB (`$name`), never formatted into the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class SqlFile:
    """One SQL file: its name, full text, declared `$params` (with defaults) and one-line doc."""

    name: str
    text: str
    params: tuple[str, ...]
    doc: str
    defaults: dict[str, str | None] = field(default_factory=dict)

    def used_params(self) -> set[str]:
        """The `$name` placeholders the SQL body actually uses (comments excluded)."""
        body = "\n".join(line.split("--", 1)[0] for line in self.text.splitlines())
        return set(_PARAM_RE.findall(body))


def _parse_header(name: str, text: str) -> tuple[str, tuple[str, ...], dict[str, str | None]]:
    doc, params, defaults = "", (), {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        if body.startswith(f"{name.rsplit('/', 1)[-1]}:"):
            doc = body.split(":", 1)[1].strip()
        elif body.startswith("params:"):
            params = tuple(p.strip() for p in body.split(":", 1)[1].split(",") if p.strip())
        elif body.startswith("defaults:"):
            for pair in body.split(":", 1)[1].split(","):
                if "=" in pair:
                    key, value = (s.strip() for s in pair.split("=", 1))
                    defaults[key] = None if value.upper() == "NULL" else value.strip("'")
    return doc, params, defaults


def read(name: str) -> SqlFile:
    """Load `sql/<name>.sql`, e.g. ``read("reports/funnel")`` or ``read("schema")``."""
    path = resources.files(__name__).joinpath(f"{name}.sql")
    if not path.is_file():
        raise KeyError(f"no SQL named {name!r} (looked for sql/{name}.sql; known reports: {', '.join(list_reports())})")
    text = path.read_text(encoding="utf-8")
    doc, params, defaults = _parse_header(name, text)
    return SqlFile(name=name, text=text, params=params, doc=doc, defaults=defaults)


def list_reports() -> list[str]:
    """Names of all reports (files under sql/reports/), sorted."""
    folder = resources.files(__name__).joinpath("reports")
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql"))
