"""Regressors from mixture weights to the target, and the k-fold cross-validation that chooses one.

- ``linear``: ridge regression on the weights (RegMix's linear baseline);
- ``loglinear``: ridge on log(w + 1e-3): diminishing returns of a group's share;
- ``gbm``: LightGBM on the weights (RegMix's choice), sized for tens of proxies (small leaves, many rounds);
- ``law``: the Data Mixing Laws form (Ye et al. 2024), L(w) = c + exp(b + t·w), fitted by bounded least
  squares (scipy) with c below every observed loss; its optimum over a box-constrained simplex is exact
  (:func:`train.search.optimize.law_optimum`).

Cross-validation: seeded k folds over the fitted proxies; per fold, each model's Spearman ρ and mean absolute
error of out-of-fold predictions. The model with the best mean ρ is chosen (then the lower MAE): a mixture
search needs the ranking right more than the level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge

LOG_EPS = 1e-3
RIDGE = 1e-4


class Regressor(Protocol):
    def fit(self, x: np.ndarray, y: np.ndarray) -> Regressor: ...
    def predict(self, x: np.ndarray) -> np.ndarray: ...


class Linear:
    """y = a + c·f(w) by ridge regression, f the identity (linear) or log(w + 1e-3) (log-linear)."""

    def __init__(self, log: bool = False) -> None:
        self.log, self.model = log, Ridge(alpha=RIDGE)

    def _features(self, x: np.ndarray) -> np.ndarray:
        return np.log(x + LOG_EPS) if self.log else x

    def fit(self, x: np.ndarray, y: np.ndarray) -> Linear:
        self.model.fit(self._features(x), y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(self._features(x))


class GBM:
    """LightGBM regression, deterministic (one thread, fixed seed), with leaves small enough for tens of rows."""

    def __init__(self, seed: int) -> None:
        import lightgbm

        self.model = lightgbm.LGBMRegressor(n_estimators=400, learning_rate=0.03, num_leaves=7, min_child_samples=3, min_data_in_bin=1,
                                            subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed,
                                            deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1)

    def fit(self, x: np.ndarray, y: np.ndarray) -> GBM:
        self.model.fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x))


@dataclass
class Law:
    """L(w) = c + exp(b + t·w) (Ye et al. 2024, one target). Weights sum to one, so t is defined up to a
    constant (absorbed by b); a small ridge on t picks one. Unfitted, t is empty."""

    c: float = 0.0
    b: float = 0.0
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, x: np.ndarray, y: np.ndarray) -> Law:
        k = x.shape[1]
        span = float(y.max() - y.min()) or 1.0
        bounds = (np.r_[-np.inf, -np.inf, np.full(k, -50.0)], np.r_[y.min() - 1e-9, np.inf, np.full(k, 50.0)])
        residuals = lambda p: np.concatenate([p[0] + np.exp(p[1] + x @ p[2:]) - y, RIDGE ** 0.5 * span * p[2:]])  # noqa: E731
        fits = [least_squares(residuals, np.concatenate([[c0, np.log(float(y.mean() - c0))], np.zeros(k)]), bounds=bounds)
                for c0 in (y.min() - span, y.min() - 0.1 * span, y.min() - 3 * span)]  # c below every loss: three starts
        best = min(fits, key=lambda f: f.cost)
        self.c, self.b, self.t = float(best.x[0]), float(best.x[1]), best.x[2:]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.c + np.exp(self.b + x @ self.t)


def make(name: str, seed: int = 0) -> Regressor:
    """A fresh regressor by name."""
    if name in ("linear", "loglinear"):
        return Linear(log=name == "loglinear")
    if name == "gbm":
        return GBM(seed)
    if name == "law":
        return Law()
    raise ValueError(f"unknown regressor {name!r}")


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman ρ; NaN when either side is constant (a model that predicts one value ranks nothing)."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


@dataclass
class CrossValidation:
    """Out-of-fold predictions per model, each row's fold, and per (model, fold) Spearman and MAE."""

    predictions: dict[str, np.ndarray]
    fold: np.ndarray
    metrics: list[dict]
    chosen: str

    def mean(self, model: str, metric: str) -> float:
        values = [m[metric] for m in self.metrics if m["model"] == model and np.isfinite(m[metric])]
        return float(np.mean(values)) if values else float("nan")


def fold_of(n: int, folds: int, seed: int) -> np.ndarray:
    """A seeded assignment of n rows to folds of equal size (±1)."""
    return np.random.default_rng([seed, 7]).permutation(np.arange(n) % folds)


def cross_validate(x: np.ndarray, y: np.ndarray, models: list[str], folds: int, seed: int) -> CrossValidation:
    """k-fold CV of every model; the chosen one has the best mean Spearman over folds (then the lowest MAE)."""
    fold = fold_of(len(y), folds, seed)
    predictions = {name: np.full(len(y), np.nan) for name in models}
    metrics = []
    for name in models:
        for k in range(folds):
            test = fold == k
            predictions[name][test] = make(name, seed).fit(x[~test], y[~test]).predict(x[test])
            metrics.append({"model": name, "fold": k, "n": int(test.sum()), "spearman": spearman(predictions[name][test], y[test]),
                            "mae": float(np.mean(np.abs(predictions[name][test] - y[test])))})
    cv = CrossValidation(predictions, fold, metrics, models[0])

    def rank(name: str) -> tuple[float, float]:
        rho = cv.mean(name, "spearman")
        return (-(rho if np.isfinite(rho) else -1.0), cv.mean(name, "mae"))

    cv.chosen = min(models, key=rank)
    return cv
