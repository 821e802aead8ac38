"""Published heuristic quality rule sets: each computes per-document signals; a rule is a threshold on one.

A :class:`Rule` says which signal it reads, whether the document must stay at or below (``max``) or at
or above (``min``) the threshold, and its published default. Signals are always stored, so any
threshold can be re-examined in SQL afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Rule:
    name: str  # e.g. gopher_word_count_min; the drop reason is quality_rules.<name>
    signal: str
    bound: Literal["min", "max"]
    threshold: float

    def fails(self, value: float | None, threshold: float | None = None) -> bool:
        """True when the signal breaks the rule; a null signal (rule not applicable) never fails."""
        if value is None:
            return False
        t = self.threshold if threshold is None else threshold
        return value < t if self.bound == "min" else value > t
