"""The effect of a design factor on a target, with the mixture as the unit of analysis (seeds nested in it).

Input: per mixture m its factor value x_m and recorded confounds z_m, and per training run r of m and
target group h (e.g. each source the mixture lacks) the run's target value b_{r,h} (bits per byte on h).

1. **Outcome per mixture.** Groups differ in difficulty, and mixtures are scored on different groups
   (the ones each lacks), so every value is taken relative to its group: c_h = the mean over mixtures of
   their seed-mean value on h; y_r = mean over the run's groups of (b_{r,h} - c_h); y_m = the seed mean.
   Under a design that uses every group about equally often at every factor level (which the mixture
   designs aim for) c_h does not depend on the factor, so the slope is preserved.
2. **Estimate.** OLS over mixtures, y_m = a + β x_m + γ'z_m (each mixture one unit, whatever its seeds).
3. **CI.** Cluster bootstrap: resample mixtures with replacement (each with all its seeds and groups),
   recompute c_h, y_m and β (Field & Welsh 2007 for clustered data). With a dozen or two mixtures the
   percentile interval under-covers (88% measured for a nominal 95% on simulated designs), so the interval
   is β ± t_{0.975, n-k} · SE, SE = the bootstrap sd times sqrt(n / (n - k)) (the CR1 small-sample
   factor): 93-96% coverage in `tests/reports/test_effects.py`'s simulations.
4. **p.** Freedman–Lane permutation test of β given the confounds (Freedman & Lane 1983; Winkler et al.
   2014, "Permutation inference for the general linear model"): residuals of the reduced model y ~ 1 + z
   are permuted across mixtures, added back to its fit, the full model refitted; the statistic is β's t
   with an HC3 (heteroscedasticity-robust) standard error, p = (1 + #{|t*| ≥ |t|}) / (1 + n_perm).
5. **Mixed model.** A second opinion at the run level: y_r = a + β x + γ'z + u_mixture + ε (statsmodels
   MixedLM, random intercept per mixture, REML), Wald 95% interval; needs some mixture with two seeds.
6. **What the design can identify.** Confounds constant across mixtures are *held fixed* and dropped; the
   factor's R² on the remaining confounds gives the VIF, and a VIF above 10 (or fewer than 3 residual
   degrees of freedom) makes the adjusted estimate *not identifiable*: refused, not returned as noise.
   The minimum detectable effect at 80% power is (z_0.975 + z_0.8) · SE(β), SE from the bootstrap.

Everything is seeded and vectorized over resamples and permutations.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

VIF_MAX = 10.0
MIN_RESIDUAL_DF = 3
MDE_Z = 1.959964 + 0.841621  # two-sided 5% test with 80% power


@dataclass(frozen=True)
class StudyData:
    """Long rows (one per run x target group) and the design values of each mixture.

    ``values[m, r, h]`` layout is avoided: runs per mixture and groups per run vary, so rows are flat.
    """

    mixture: np.ndarray  # (rows,) mixture index 0..M-1
    run: np.ndarray  # (rows,) run index 0..R-1 (each run belongs to one mixture)
    group: np.ndarray  # (rows,) target group index 0..G-1
    value: np.ndarray  # (rows,) the run's target on that group
    x: np.ndarray  # (M,) factor value
    z: np.ndarray  # (M, p) confounds (p may be 0)
    confounds: tuple[str, ...] = ()

    @property
    def n_mixtures(self) -> int:
        return len(self.x)

    def cell_means(self) -> np.ndarray:
        """(M, G): each mixture's seed-mean value on each target group; NaN where h is not a target of m."""
        n_groups = int(self.group.max()) + 1 if self.group.size else 0
        total = np.zeros((self.n_mixtures, n_groups))
        count = np.zeros((self.n_mixtures, n_groups))
        np.add.at(total, (self.mixture, self.group), self.value)
        np.add.at(count, (self.mixture, self.group), 1.0)
        with np.errstate(invalid="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def run_outcomes(self) -> tuple[np.ndarray, np.ndarray]:
        """(mixture of each run, y_r): each run's mean over its groups of (value - c_h)."""
        centre = np.nanmean(self.cell_means(), axis=0)
        n_runs = int(self.run.max()) + 1 if self.run.size else 0
        total, count = np.zeros(n_runs), np.zeros(n_runs)
        np.add.at(total, self.run, self.value - centre[self.group])
        np.add.at(count, self.run, 1.0)
        owner = np.full(n_runs, -1)
        owner[self.run] = self.mixture
        keep = count > 0
        return owner[keep], total[keep] / count[keep]


def mixture_outcomes(cells: np.ndarray) -> np.ndarray:
    """y_m from cell means (..., M, G): rows centred by their group's mean over mixtures, then averaged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: a group no resampled mixture lacks
        centre = np.nanmean(cells, axis=-2, keepdims=True)
        return np.nanmean(cells - centre, axis=-1)


def _design(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(..., M, 2 + p): intercept, factor, confounds."""
    ones = np.ones(x.shape + (1,))
    return np.concatenate([ones, x[..., None], z], axis=-1)


def ols_beta(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients for stacked designs (..., n, k) and outcomes (..., n) (pinv: rank-safe)."""
    return np.einsum("...kn,...n->...k", np.linalg.pinv(design), y)


def ols_t(design: np.ndarray, y: np.ndarray, column: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(coefficient, its heteroscedasticity-robust t) of one column, for stacked outcomes y (..., n) on one
    design (n, k). The standard error is HC3 (MacKinnon & White 1985): mixtures scored on fewer groups (the
    many-group ones, on the groups they lack) have noisier outcomes, and a permutation test of a t that
    assumes equal variances is anti-conservative then (Winkler et al. 2014 studentize for this reason)."""
    pinv = np.linalg.pinv(design)
    beta = y @ pinv.T
    resid = y - beta @ design.T
    leverage = np.einsum("ij,ji->i", design, pinv)
    weights = pinv[column] ** 2 / np.maximum(1.0 - leverage, 1e-8) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return beta[..., column], beta[..., column] / np.sqrt((resid**2) @ weights)


def freedman_lane_p(x: np.ndarray, z: np.ndarray, y: np.ndarray, seed: int = 0, n_perm: int = 9999) -> float:
    """Two-sided Freedman–Lane permutation p of the factor's t given the confounds (mixtures exchangeable)."""
    n = len(y)
    if n < z.shape[1] + 3 or np.ptp(x) == 0:
        return math.nan
    reduced = np.column_stack([np.ones(n), z])
    fitted = reduced @ ols_beta(reduced, y)
    resid = y - fitted
    full = _design(x, z)
    _, observed = ols_t(full, y)
    orders = np.random.default_rng(seed).permuted(np.tile(np.arange(n), (n_perm, 1)), axis=1)
    _, null = ols_t(full, fitted + resid[orders])
    hits = int((np.abs(null) >= abs(observed) - 1e-12).sum())
    return (hits + 1) / (n_perm + 1)


def vif_of_factor(x: np.ndarray, z: np.ndarray) -> float:
    """1 / (1 - R²) of the factor regressed on the confounds (1 when there are none); inf when collinear."""
    if z.shape[1] == 0:
        return 1.0
    design = np.column_stack([np.ones(len(x)), z])
    resid = x - design @ ols_beta(design, x)
    total = ((x - x.mean()) ** 2).sum()
    r2 = 1.0 - (resid**2).sum() / total if total > 0 else 1.0
    return math.inf if r2 >= 1 - 1e-12 else 1.0 / (1.0 - r2)


def drop_constant(z: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """(z without columns constant across mixtures, kept names, names held fixed by the design)."""
    varies = np.array([np.ptp(c) > 1e-12 for c in z.T], dtype=bool) if z.shape[1] else np.zeros(0, dtype=bool)
    return z[:, varies], tuple(n for n, v in zip(names, varies, strict=True) if v), tuple(n for n, v in zip(names, varies, strict=True) if not v)


def mixed_model(owner: np.ndarray, y_run: np.ndarray, x: np.ndarray, z: np.ndarray) -> tuple[float, float, float]:
    """(β, 95% low, 95% high) of a random-intercept-per-mixture model at the run level; NaNs when no mixture
    has two runs (the random intercept is then not separable from the residual)."""
    if np.bincount(owner).max(initial=0) < 2:
        return math.nan, math.nan, math.nan
    import statsmodels.api as sm

    exog = _design(x[owner], z[owner])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # boundary (zero mixture variance) and convergence notes: the CI says it
        try:
            fit = sm.MixedLM(y_run, exog, groups=owner).fit(reml=True)
        except (np.linalg.LinAlgError, ValueError):
            return math.nan, math.nan, math.nan
    low, high = fit.conf_int()[1]
    return float(fit.params[1]), float(low), float(high)


@dataclass
class Effect:
    """The estimate of the factor's effect (per unit of the factor) on the target, with what qualifies it."""

    n_mixtures: int
    n_runs: int
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    se: float
    mixed_estimate: float
    mixed_ci_low: float
    mixed_ci_high: float
    seed_sd: float
    effect_range: float  # |β| x (max x - min x): the predicted difference across the design
    vif: float
    adjusted_for: tuple[str, ...]
    held_fixed: tuple[str, ...]
    mixture_y: np.ndarray = field(repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def mde(self) -> float:
        """Minimum detectable |β| at 80% power, α = 0.05 two-sided."""
        return MDE_Z * self.se

    def covers_zero(self) -> bool:
        return not (self.ci_low > 0 or self.ci_high < 0)


def pooled_seed_sd(owner: np.ndarray, y_run: np.ndarray) -> float:
    """sqrt of the pooled within-mixture variance of y_r (mixtures with two or more runs); NaN when none."""
    sums, counts = np.bincount(owner, y_run), np.bincount(owner)
    means = sums / np.maximum(counts, 1)
    dev2 = np.bincount(owner, (y_run - means[owner]) ** 2)
    df = (counts - 1).clip(min=0).sum()
    return float(np.sqrt(dev2.sum() / df)) if df > 0 else math.nan


def bootstrap(data: StudyData, z: np.ndarray, seed: int, n_boot: int) -> np.ndarray:
    """β of each cluster-bootstrap resample of mixtures (NaN where the resampled factor is constant)."""
    cells = data.cell_means()
    idx = np.random.default_rng(seed).integers(0, data.n_mixtures, (n_boot, data.n_mixtures))
    y = mixture_outcomes(cells[idx])
    x = data.x[idx]
    design = _design(x, z[idx])
    beta = ols_beta(design, y)[:, 1]
    beta[np.ptp(x, axis=1) == 0] = np.nan
    return beta


def estimate_effect(data: StudyData, seed: int = 0, n_boot: int = 2000, n_perm: int = 9999) -> Effect:
    """All the statistics of one (factor, target) on one arm; see the module docstring."""
    z, kept, fixed = drop_constant(np.asarray(data.z, float).reshape(data.n_mixtures, -1), data.confounds)
    cells = data.cell_means()
    y = mixture_outcomes(cells)
    owner, y_run = data.run_outcomes()
    notes = []
    usable = ~np.isnan(y)
    if not usable.all():
        notes.append(f"{int((~usable).sum())} mixture(s) have no target rows and are left out")
        data = _subset(data, np.flatnonzero(usable))
        return estimate_effect(data, seed, n_boot, n_perm) if usable.sum() >= 3 else _empty(data, notes)
    n, k = data.n_mixtures, 2 + z.shape[1]
    vif = vif_of_factor(data.x, z)
    design = _design(data.x, z)
    beta, _ = ols_t(design, y)
    boot = bootstrap(data, z, seed, n_boot) if n >= 3 else np.array([math.nan])
    finite = boot[np.isfinite(boot)]
    se = float(finite.std(ddof=1) * math.sqrt(n / max(n - k, 1))) if finite.size >= 20 else math.nan
    half = stats.t.ppf(0.975, max(n - k, 1)) * se
    mixed = mixed_model(owner, y_run, data.x, z)
    seed_sd = pooled_seed_sd(owner, y_run)
    if n - k < MIN_RESIDUAL_DF:
        notes.append(f"{n} mixtures leave {n - k} residual degrees of freedom for the factor and {z.shape[1]} confound(s)")
    return Effect(n, len(y_run), float(beta), float(beta - half), float(beta + half), freedman_lane_p(data.x, z, y, seed, n_perm), se, *mixed,
                  seed_sd, float(abs(beta) * np.ptp(data.x)), vif, kept, fixed, y, notes)


def _subset(data: StudyData, keep: np.ndarray) -> StudyData:
    rows = np.isin(data.mixture, keep)
    remap = np.full(data.n_mixtures, -1)
    remap[keep] = np.arange(len(keep))
    runs = np.unique(data.run[rows])
    run_map = np.full(int(data.run.max()) + 1, -1)
    run_map[runs] = np.arange(len(runs))
    return StudyData(remap[data.mixture[rows]], run_map[data.run[rows]], data.group[rows], data.value[rows], data.x[keep],
                     np.asarray(data.z, float).reshape(len(data.x), -1)[keep], data.confounds)


def _empty(data: StudyData, notes: list[str]) -> Effect:
    nan = math.nan
    return Effect(data.n_mixtures, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, data.confounds, (),
                  np.full(data.n_mixtures, nan), notes + ["too few mixtures with target rows"])
