"""What a mixture's groups are: a column, quality buckets, or hash buckets of doc_id (pseudo-groups).

``group_by`` (of a MixtureSpec, an eval split or a sweep's control arm) is one of:

- a column of ``doc_signals`` (``source``, ``lang``, ``topic_id``, ...): its values are the groups;
- ``quality_bucket``: N equal-count buckets ``q1..qN`` of the quality column;
- ``bucket:N``: N pseudo-groups ``b00..`` from a stable hash of ``doc_id`` (the first 60 bits of its MD5,
  modulo N). They carry no meaning, so a design over them is a negative control: any "effect" of their
  diversity is noise or a confound. The same doc_id falls in the same bucket in every run and process
  (:func:`bucket_key` in Python, :func:`group_sql` in DuckDB agree);
- ``sql:<expression>``: any SQL expression over ``doc_signals`` columns, its value (as text) the group, e.g.
  ``sql:CASE WHEN n_bytes > 4000 THEN 'long' ELSE 'short' END`` or ``sql:source || '/' || lang``.
"""

from __future__ import annotations

import hashlib
import re

from sql.quote import sql_ident

BUCKET = re.compile(r"^bucket:(\d+)$")
SQL_PREFIX = "sql:"


def bucket_count(group_by: str) -> int | None:
    """N of ``bucket:N`` (N >= 2), None for any other group_by."""
    match = BUCKET.match(group_by)
    if not match:
        return None
    n = int(match.group(1))
    if n < 2:
        raise ValueError(f"group_by {group_by!r}: a bucket grouping needs at least 2 buckets")
    return n


def _width(n: int) -> int:
    return max(2, len(str(n - 1)))


def bucket_key(doc_id: str, n: int) -> str:
    """The pseudo-group of a document under ``bucket:n``: 'b' + zero-padded int(md5(doc_id)[:15], 16) % n."""
    return f"b{int(hashlib.md5(doc_id.encode()).hexdigest()[:15], 16) % n:0{_width(n)}d}"


def group_sql(group_by: str, columns: set[str], quality_column: str = "quality_score", quality_buckets: int = 4,
              doc_id: str = "doc_id") -> str:
    """A DuckDB expression (VARCHAR) for each row's group; raises ValueError naming what is missing."""
    if group_by.startswith(SQL_PREFIX):
        expression = group_by[len(SQL_PREFIX):].strip()
        if not expression or ";" in expression:
            raise ValueError(f"group_by {group_by!r}: write sql:<one SQL expression over doc_signals columns>, without ';'")
        return f"coalesce(CAST(({expression}) AS VARCHAR), '<null>')"
    n = bucket_count(group_by)
    if n is not None:
        number = f"(('0x' || left(md5({doc_id}), 15))::BIGINT % {n})"
        return f"('b' || lpad(CAST({number} AS VARCHAR), {_width(n)}, '0'))"
    if group_by == "quality_bucket":
        if quality_column not in columns:
            raise ValueError(f"group_by quality_bucket needs column {quality_column!r} (run the quality stages)")
        return f"'q' || ntile({int(quality_buckets)}) OVER (ORDER BY {sql_ident(quality_column)} NULLS FIRST, {doc_id})"
    if group_by not in columns:
        raise ValueError(f"group_by {group_by!r} is not a column (nor quality_bucket, bucket:N or sql:<expression>); columns: {sorted(columns)}")
    return f"coalesce(CAST({sql_ident(group_by)} AS VARCHAR), '<null>')"
