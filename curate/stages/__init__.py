"""The registry of curation stages: an explicit tuple, nothing discovered by magic.

Adding a stage = one module in this folder, one line in STAGES, one test file.

``STAGES`` and ``BY_NAME`` are built on first access (PEP 562), so a worker process that imports one
stage module (``curate.stages.length_filter``) does not import the others' libraries (scikit-learn,
fastText, ...): 2-3 s of start-up per worker on 2 cores.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curate.stage import Stage

    STAGES: tuple[type[Stage], ...]
    BY_NAME: dict[str, type[Stage]]

_REGISTRY = (
    ("length_filter", "LengthFilter"),
    ("exact_dedup", "ExactDedup"),
    ("minhash_dedup", "MinhashDedup"),
    ("langid", "Langid"),
    ("quality_rules", "QualityRules"),
    ("quality_model", "QualityModel"),
    ("topics", "Topics"),
    ("diversity", "Diversity"),
)


def __getattr__(name: str) -> Any:
    if name == "STAGES":
        return tuple(getattr(import_module(f"{__name__}.{module}"), cls) for module, cls in _REGISTRY)
    if name == "BY_NAME":
        return {s.name: s for s in __getattr__("STAGES")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
