"""The registry of curation stages: an explicit tuple, nothing discovered by magic.

Adding a stage = one module in this folder, one line in STAGES, one test file.
"""

from __future__ import annotations

from curate.stage import Stage
from curate.stages.diversity import Diversity
from curate.stages.exact_dedup import ExactDedup
from curate.stages.langid import Langid
from curate.stages.length_filter import LengthFilter
from curate.stages.minhash_dedup import MinhashDedup
from curate.stages.quality_model import QualityModel
from curate.stages.quality_rules import QualityRules
from curate.stages.topics import Topics

STAGES: tuple[type[Stage], ...] = (
    LengthFilter,
    ExactDedup,
    MinhashDedup,
    Langid,
    QualityRules,
    QualityModel,
    Topics,
    Diversity,
)

BY_NAME: dict[str, type[Stage]] = {s.name: s for s in STAGES}
