"""What a designed study may claim: one verdict per (factor, target), with the reason in words.

In order, the first rule that applies decides (a reviewer's checklist for data ablations, after
DataDecide, Magnusson et al. 2025, and the negative-control logic of Lipsitch et al. 2010):

- **refused** — something upstream invalidates the comparison: eval documents reached a fitted model, or
  runs did not learn (val loss not far enough below the unigram entropy of their data).
- **not identifiable** — the design cannot separate the factor from a recorded confound (VIF > 10), or
  there are too few mixtures for the factor and the confounds adjusted for.
- **inconclusive** — the negative control (the same design over pseudo-groups) shows an effect of its own;
  or the CI of the estimate covers zero / the permutation p is not below α; or the predicted difference
  across the whole design is under twice the seed noise.
- **effect** — otherwise: the sign and size of the estimate, with its CI, stand.
"""

from __future__ import annotations

import math

from reports.effects import MIN_RESIDUAL_DF, VIF_MAX, Effect

ALPHA = 0.05
VERDICTS = ("effect", "inconclusive", "not identifiable", "refused")


def identifiability(effect: Effect) -> str | None:
    """Why the design cannot identify the factor's effect, or None."""
    k = 2 + len(effect.adjusted_for)
    if effect.n_mixtures - k < MIN_RESIDUAL_DF:
        return (f"{effect.n_mixtures} mixtures cannot estimate the factor with {len(effect.adjusted_for)} confound(s) adjusted for"
                f" (needs at least {k + MIN_RESIDUAL_DF})")
    if not math.isfinite(effect.vif) or effect.vif > VIF_MAX:
        names = ", ".join(effect.adjusted_for)
        return (f"the factor is collinear with the confounds ({names}): VIF = {effect.vif:.3g} > {VIF_MAX:g}, so their"
                " effects cannot be told apart; vary the factor independently of them (a randomized design)")
    if math.isnan(effect.estimate) or math.isnan(effect.se):
        return "the estimate is undefined (the factor does not vary across the usable mixtures)"
    return None


def judge(study: Effect, control: Effect | None, refusal: str | None = None) -> tuple[str, str]:
    """(verdict, reason) for the study arm, given its negative control (None when the design has none)."""
    if refusal:
        return "refused", refusal
    reason = identifiability(study)
    if reason:
        return "not identifiable", reason
    if control is not None and not math.isnan(control.estimate) and not control.covers_zero():
        return "inconclusive", (f"the negative control (the same design over pseudo-groups) shows an effect of its own,"
                                f" {control.estimate:+.3f} [{control.ci_low:+.3f}, {control.ci_high:+.3f}]: the comparison picks up"
                                " something other than the factor")
    if study.covers_zero() or not study.p_value < ALPHA:
        ci = f"the 95% CI [{study.ci_low:+.3f}, {study.ci_high:+.3f}]"
        why = (f"{ci} covers zero (p = {study.p_value:.3g})" if study.covers_zero() and not study.p_value < ALPHA else
               f"{ci} covers zero although p = {study.p_value:.3g}" if study.covers_zero() else
               f"p = {study.p_value:.3g} ≥ {ALPHA} although {ci} excludes zero")
        return "inconclusive", f"{why}; the smallest effect this design detects with 80% power is ±{study.mde:.3g}"
    if not math.isnan(study.seed_sd) and study.effect_range < 2 * study.seed_sd:
        return "inconclusive", (f"across the whole design the factor moves the target by {study.effect_range:.3g}, less than twice the"
                                f" seed noise (2 x {study.seed_sd:.3g})")
    direction = "lowers" if study.estimate < 0 else "raises"
    return "effect", f"each unit of the factor {direction} the target by {abs(study.estimate):.4g}"
