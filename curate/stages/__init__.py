"""The registry of curation stages: an explicit tuple, nothing discovered by magic.

Adding a stage = one module in this folder, one import and one entry in :func:`_stages`, one test file.

``STAGES`` and ``BY_NAME`` are built on first access (PEP 562), so a worker process that imports one
stage module (``curate.stages.length_filter``) does not import the others' libraries (scikit-learn,
fastText, ...): 2-3 s of start-up per worker on 2 cores. The imports are plain statements inside
:func:`_stages` (not names looked up at run time), so the import-cycle check sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name == "STAGES":
        return _stages()
    if name == "BY_NAME":
        return {s.name: s for s in _stages()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
