"""mixlab reports: named SQL reports, statistics, and the HTML report. ``reports.query(run, name, **params)``."""

from reports.queries import query

__all__ = ["query"]
