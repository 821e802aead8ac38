"""The registry of curation stages: an explicit tuple, nothing discovered by magic.

Adding a stage = one module in this folder, one import and one entry in :func:`_stages`, one test file.

``STAGES`` and ``BY_NAME`` are built on first access (PEP 562), so a worker process that imports one
stage module (``curate.stages.length_filter``) does not import the others' libraries (scikit-learn,
fastText, ...): 2-3 s of start-up per worker on 2 cores. The imports are plain statements inside
:func:`_stages` (not names looked up at run time), so the import-cycle check sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from curate.core.catalog.declared import Columns, DeclaredViews
from curate.stage import DROP_REASON

if TYPE_CHECKING:
    from curate.stage import Stage

    STAGES: tuple[type[Stage], ...]
    BY_NAME: dict[str, type[Stage]]


def _stages() -> tuple[type[Stage], ...]:
    """Every stage class, in a fixed order."""
    from curate.stages.classifier import Classifier
    from curate.stages.diversity import Diversity
    from curate.stages.exact_dedup import ExactDedup
    from curate.stages.langid import Langid
    from curate.stages.length_filter import LengthFilter
    from curate.stages.line_dedup import LineDedup
    from curate.stages.minhash_dedup import MinhashDedup
    from curate.stages.pii import Pii
    from curate.stages.quality_model import QualityModel
    from curate.stages.quality_rules import QualityRules
    from curate.stages.topics import Topics
    from curate.stages.url import Url

    return (LengthFilter, ExactDedup, MinhashDedup, Langid, QualityRules, QualityModel, Topics, Diversity,
            LineDedup, Pii, Classifier, Url)


def declared_views() -> DeclaredViews:
    """Every stage's output columns and every extra table a stage writes: what the runner hands the catalog, so a
    run shows an empty typed view of each until it is produced. A table two stages write (``dup_clusters``) must
    be declared alike by both."""
    tables: dict[str, Columns] = {}
    for stage in _stages():
        for table, columns in stage.tables.items():
            if tables.setdefault(table, columns) != columns:
                raise ValueError(f"table {table!r}: stage {stage.name!r} declares other columns than an earlier stage")
    outputs = {s.name: {"doc_id": pl.String, **s.schema, DROP_REASON: pl.String} for s in _stages()}
    return DeclaredViews(outputs, tables)


def __getattr__(name: str) -> Any:
    if name == "STAGES":
        return _stages()
    if name == "BY_NAME":
        return {s.name: s for s in _stages()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
