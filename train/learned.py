"""The "learned" check: did a run get well past the unigram regime, and has its learning curve flattened?

A model that has only picked up token frequencies scores about the unigram entropy of its training data
(in nats per token); a comparison of mixtures made with such models measures how fast a mixture's
unigram distribution is learned, not what it teaches. So a run counts as *learned* when both hold:

- its final validation loss (on held-out sequences of its own mixture) is at least ``MARGIN_NATS``
  below the unigram entropy of its training tokens, and
- the last ``TAIL_FRAC`` of its steps improved the validation loss by less than ``TAIL_MAX_GAIN``
  (relative): more steps would not change the picture much.

``reports correlate`` refuses to correlate runs that fail it unless told ``--allow-undertrained``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MARGIN_NATS = 1.5
TAIL_FRAC = 0.2
TAIL_MAX_GAIN = 0.05


def unigram_entropy(tokens: np.ndarray) -> float:
    """Entropy (nats) of the token frequency distribution: the loss of the best context-free model."""
    counts = np.bincount(np.asarray(tokens, dtype=np.int64))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def tail_step(total_steps: int) -> int:
    """The step where the curve's last ``TAIL_FRAC`` begins (validation is always measured there)."""
    return max(1, math.ceil((1 - TAIL_FRAC) * total_steps))


@dataclass(frozen=True)
class LearnedCheck:
    unigram_entropy: float
    final_val_loss: float
    loss_below_unigram: float
    tail_gain: float  # relative validation-loss improvement over the last TAIL_FRAC of steps
    learned: bool

    def reason(self) -> str:
        """Why the check failed (empty when it passed)."""
        parts = []
        if not self.loss_below_unigram >= MARGIN_NATS:
            parts.append(f"val loss {self.final_val_loss:.2f} is only {self.loss_below_unigram:.2f} nats below the "
                         f"unigram entropy {self.unigram_entropy:.2f} (needs {MARGIN_NATS})")
        if not self.tail_gain < TAIL_MAX_GAIN:
            parts.append(f"the last {TAIL_FRAC:.0%} of steps still improved val loss by {self.tail_gain:.1%} (needs < {TAIL_MAX_GAIN:.0%})")
        return "; ".join(parts)


def check(curve: list[dict], total_steps: int, entropy: float) -> LearnedCheck:
    """Apply the check to a run's curve (rows with ``step`` and ``val_loss``; NaN where not measured)."""
    vals = [(r["step"], r["val_loss"]) for r in curve if r.get("val_loss") is not None]
    if not vals:
        return LearnedCheck(entropy, math.nan, math.nan, math.nan, False)
    final = vals[-1][1]
    start = tail_step(total_steps)
    at_tail = next((v for s, v in vals if s >= start), final)
    gain = (at_tail - final) / at_tail if at_tail > 0 else math.nan
    below = entropy - final
    return LearnedCheck(entropy, final, below, gain, bool(below >= MARGIN_NATS and gain < TAIL_MAX_GAIN))
