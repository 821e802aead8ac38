"""Two checks with two messages: did a run *learn* (get well past the unigram regime), and did it *converge*
(has its validation curve flattened)?

A model that has only picked up token frequencies scores about the unigram entropy of its training data
(in nats per token); a comparison of mixtures made with such models measures how fast a mixture's
unigram distribution is learned, not what it teaches. A model that is still improving at the end has
learned something, but its ranking among mixtures may still change with more training. So:

- **learned**: the final validation loss (on held-out sequences of its own mixture) is at least
  ``MARGIN_NATS`` below the unigram entropy of its training tokens. Nothing else.
- **converged**: the last ``TAIL_FRAC`` of its steps improved the validation loss by less than
  ``TAIL_MAX_GAIN`` (relative): more steps would not change the picture much.

``reports correlate`` refuses runs that did not learn (unless told ``--allow-undertrained``) and prints
runs that did not converge as a caveat beside its answer.
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
    learned: bool  # loss_below_unigram >= MARGIN_NATS
    converged: bool  # tail_gain < TAIL_MAX_GAIN

    def learned_message(self) -> str:
        """What the learned check measured, in words."""
        if math.isnan(self.final_val_loss):
            return "not learned: no validation loss was measured"
        verdict = "learned" if self.learned else "NOT learned (barely past the unigram regime)"
        return (f"{verdict}: val loss {self.final_val_loss:.2f} is {self.loss_below_unigram:.2f} nats below the unigram "
                f"entropy {self.unigram_entropy:.2f} (needs {MARGIN_NATS})")

    def converged_message(self) -> str:
        """What the convergence check measured, in words."""
        if math.isnan(self.tail_gain):
            return "convergence unknown: no validation loss at the tail"
        verdict = "converged" if self.converged else "still improving at the end"
        return (f"{verdict}: {self.tail_gain:.1%} in the last {TAIL_FRAC:.0%} of steps "
                f"(converged below {TAIL_MAX_GAIN:.0%})")


def check(curve: list[dict], total_steps: int, entropy: float) -> LearnedCheck:
    """Apply both checks to a run's curve (rows with ``step`` and ``val_loss``; None where not measured)."""
    vals = [(r["step"], r["val_loss"]) for r in curve if r.get("val_loss") is not None]
    if not vals:
        return LearnedCheck(entropy, math.nan, math.nan, math.nan, False, False)
    final = vals[-1][1]
    start = tail_step(total_steps)
    at_tail = next((v for s, v in vals if s >= start), final)
    gain = (at_tail - final) / at_tail if at_tail > 0 else math.nan
    below = entropy - final
    return LearnedCheck(entropy, final, below, gain, bool(below >= MARGIN_NATS), bool(gain < TAIL_MAX_GAIN))
