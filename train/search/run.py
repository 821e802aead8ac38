"""``train search``: the whole mixture search on a run, resumable (finished mixtures and runs are skipped).

1. Emit ``n_proxies`` Dirichlet mixtures (:mod:`train.search.proxies`) and train one ``preset`` run on each
   through :func:`train.sweep.run_sweep` (parallel workers, finished runs skipped).
2. Hold out a seeded share of the proxies; k-fold CV of every regressor on the rest chooses one
   (:mod:`train.search.regress`); refitted on all of them, it predicts the held-out proxies (heldout_spearman).
3. Optimize under the caps and minimum shares (:mod:`train.search.optimize`).
4. Emit the chosen mixture and the baselines (uniform over groups within the caps, natural token shares, the
   best proxy seen) as sweep ``<name>-val``, train each with ``validation_seeds`` seeds, compare
   (:mod:`train.search.validate`).
5. Record ``search_runs``, ``search_predictions``, ``search_folds`` and ``search_comparisons`` (replaced).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from curate.core.catalog import Catalog
from curate.mix.select import max_entropy_shares
from train.config import TrainConfig
from train.runs import train_id_of
from train.search.config import SearchConfig
from train.search.optimize import Constraints, optimize
from train.search.proxies import Planned, base_spec, emit_planned, group_tokens, plan_proxies, realized_shares, search_pool
from train.search.regress import CrossValidation, Regressor, cross_validate, make, spearman
from train.search.targets import run_values, scored_sets, target_sets
from train.search.validate import compare
from train.sweep import run_sweep, sweep_configs


@dataclass
class Fitted:
    """The regression over the proxies: which were held out, the CV, the chosen model refitted on the rest."""

    x: np.ndarray
    y: np.ndarray
    heldout: np.ndarray  # bool per proxy
    cv: CrossValidation
    model: Regressor

    @property
    def predicted_heldout(self) -> np.ndarray:
        return self.model.predict(self.x[self.heldout])

    @property
    def heldout_spearman(self) -> float:
        return spearman(self.predicted_heldout, self.y[self.heldout])

    @property
    def heldout_mae(self) -> float:
        return float(np.mean(np.abs(self.predicted_heldout - self.y[self.heldout])))


def fit(x: np.ndarray, y: np.ndarray, cfg: SearchConfig) -> Fitted:
    """Hold out a seeded share of the proxies, cross-validate every model on the rest, refit the chosen one on all of it."""
    heldout = np.zeros(len(y), dtype=bool)
    heldout[np.random.default_rng([cfg.seed, 11]).permutation(len(y))[: cfg.n_heldout]] = True
    cv = cross_validate(x[~heldout], y[~heldout], list(cfg.models), cfg.folds, cfg.seed)
    return Fitted(x, y, heldout, cv, make(cv.chosen, cfg.seed).fit(x[~heldout], y[~heldout]))


def choose(fitted: Fitted, cfg: SearchConfig, cons: Constraints, prior: np.ndarray) -> np.ndarray:
    """The chosen mixture's shares under the constraints (seeded)."""
    return optimize(fitted.cv.chosen, fitted.model, cons, prior, cfg.alpha, cfg.candidates, cfg.top_k,
                    np.random.default_rng([cfg.seed, 13]))


@dataclass
class SearchResult:
    """What the search found and how the validation went (the search_runs row and the comparisons)."""

    row: dict
    comparisons: list[dict] = field(default_factory=list)
    arms: dict[str, dict[str, float]] = field(default_factory=dict)  # arm -> group -> share


def _train(run_dir: Path, sweep_id: str, ids: list[str], preset: str, seeds: int, base: TrainConfig, workers: int,
           progress: bool) -> dict[str, list[str]]:
    """Train every mixture of the sweep (skipping finished runs); mixture -> its train ids."""
    run_sweep(run_dir, sweep_id, [preset], seeds, base, progress=progress, workers=workers)
    out: dict[str, list[str]] = {m: [] for m in ids}
    for cfg in sweep_configs(ids, [preset], seeds, base):
        out[cfg.mixture_id].append(train_id_of(cfg, cfg.tokens or 0))
    return out


def _values(run_dir: Path, runs: dict[str, list[str]], sets: list[str]) -> pl.DataFrame:
    with Catalog(run_dir, read_only=True) as cat:
        return run_values(cat, [t for ts in runs.values() for t in ts], sets)


def proxy_targets(ids: list[str], x: np.ndarray, values: pl.DataFrame, cfg: SearchConfig) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """(ids, shares, targets, runs that failed the learned check) of the proxies whose run finished."""
    y_of = dict(values.select("mixture_id", "value").iter_rows())
    have = np.array([m in y_of for m in ids])
    if have.sum() < cfg.n_proxies - cfg.n_heldout:
        raise ValueError(f"only {int(have.sum())} of {len(ids)} proxies have the target: train them first")
    kept = [m for m, h in zip(ids, have, strict=True) if h]
    return kept, x[have], np.array([y_of[m] for m in kept]), int((~values["learned"].fill_null(False)).sum())


def validation_arms(cfg: SearchConfig, tokens: dict[str, int], groups: list[str], chosen: np.ndarray, best: Planned,
                    cons: Constraints) -> list[Planned]:
    """The chosen mixture and the baselines, at the validation budget."""
    budget, sweep = cfg.budget(validation=True), cfg.validation_sweep
    spec = lambda arm, w, seed=cfg.seed: Planned(base_spec(cfg, f"{sweep}-{arm}", sweep, budget, w, seed), arm)  # noqa: E731
    total = sum(tokens.values())
    uniform = max_entropy_shares(tokens, base_spec(cfg, "uniform", sweep, budget, {}, cfg.seed))  # 1/K, water-filled under the caps
    arms = [spec("chosen", {g: round(float(v), 6) for g, v in zip(groups, chosen, strict=True) if v >= 1e-6}),
            spec("uniform", {g: round(v, 6) for g, v in uniform.items() if v > 0}),
            spec("natural", {g: round(t / total, 6) for g, t in tokens.items()})]
    best_w = np.array([best.spec.weights.get(g, 0.0) for g in groups])
    if budget == cfg.tokens or (best_w / best_w.sum() <= cons.upper + 1e-6).all():  # the proxy's own budget: feasible by construction
        arms.append(spec("best_proxy", best.spec.weights, best.spec.seed))
    return arms


def weights_json(groups: list[str], w: np.ndarray) -> str:
    """A mixture's shares as stored (JSON, group -> share rounded to 1e-6)."""
    return json.dumps({g: round(float(v), 6) for g, v in zip(groups, w, strict=True)})


def _prediction_rows(ids: list[str], fitted: Fitted, groups: list[str]) -> list[dict]:
    """search_predictions rows of the proxies: out-of-fold per model, and the held-out ones under the chosen model."""
    weights = [weights_json(groups, w) for w in fitted.x]
    fit_index = np.flatnonzero(~fitted.heldout)
    rows = [{"mixture_id": ids[i], "role": "proxy", "model": name, "fold": int(fitted.cv.fold[j]), "weights": weights[i],
             "predicted": float(pred[j]), "actual": float(fitted.y[i]), "n_runs": 1}
            for name, pred in fitted.cv.predictions.items() for j, i in enumerate(fit_index)]
    rows += [{"mixture_id": ids[i], "role": "heldout", "model": fitted.cv.chosen, "fold": None, "weights": weights[i],
              "predicted": float(p), "actual": float(fitted.y[i]), "n_runs": 1}
             for i, p in zip(np.flatnonzero(fitted.heldout), fitted.predicted_heldout, strict=True)]
    return rows


def _validate(run_dir: Path, cfg: SearchConfig, arms: list[Planned], scored: list[str], sets: list[str], groups: list[str],
              fitted: Fitted, workers: int, progress: bool) -> tuple[list[dict], dict[str, list[float]], str]:
    """Emit and train the validation mixtures; (prediction rows, arm -> target per seed, chosen mixture id)."""
    with Catalog(run_dir) as cat:
        pool = search_pool(cat, cfg.model_copy(update={"tokens": cfg.budget(True)}))
        ids = emit_planned(cat, pool, arms, cfg.validation_sweep, refuse_stray=False)
        x = realized_shares(cat, ids, groups)
    preset = cfg.validation_preset or cfg.preset
    runs = _train(run_dir, cfg.validation_sweep, ids, preset, cfg.validation_seeds, _base(cfg, scored, True), workers, progress)
    found = dict(_values(run_dir, runs, sets).select("train_id", "value").iter_rows())
    values = {a.arm: [found[t] for t in runs[m] if t in found] for a, m in zip(arms, ids, strict=True)}
    predicted = fitted.model.predict(x)
    rows = [{"mixture_id": m, "role": a.arm, "model": fitted.cv.chosen, "fold": None, "weights": weights_json(groups, w), "predicted": float(p),
             "actual": float(np.mean(values[a.arm])) if values[a.arm] else None, "n_runs": len(values[a.arm])}
            for a, m, w, p in zip(arms, ids, x, predicted, strict=True)]
    return rows, values, ids[0]


def _base(cfg: SearchConfig, scored: list[str], validation: bool = False) -> TrainConfig:
    """Every run of the search: the budget, only the target's eval sets, no checkpoint evaluations, minimal probes."""
    return TrainConfig(mixture_id="-", tokens=cfg.budget(validation), eval_docs=cfg.eval_docs, eval_only=scored, eval_at=[], probe_docs=1)


def run_search(run_dir: str | Path, cfg: SearchConfig, workers: int = 1, progress: bool = True) -> SearchResult:
    """Run (or resume) the search and record it; returns its search_runs row, comparisons and arm weights."""
    run_dir = Path(run_dir)
    with Catalog(run_dir) as cat:
        pool = search_pool(cat, cfg)
        tokens = group_tokens(pool)
        groups = sorted(tokens)
        sets = target_sets(cat, cfg.target, groups, cfg.group_by)
        scored = scored_sets(cat, sets)
        proxies = plan_proxies(cfg, tokens)
        ids = emit_planned(cat, pool, proxies, cfg.name)
        x = realized_shares(cat, ids, groups)
    runs = _train(run_dir, cfg.name, ids, cfg.preset, 1, _base(cfg, scored), workers, progress)
    kept, x, y, not_learned = proxy_targets(ids, x, _values(run_dir, runs, sets), cfg)
    fitted = fit(x, y, cfg)
    cons = Constraints.of(tokens, groups, cfg.budget(validation=True), cfg.max_repeats, cfg.min_share)
    chosen = choose(fitted, cfg, cons, np.array([tokens[g] for g in groups], dtype=float) / sum(tokens.values()))
    best = proxies[ids.index(kept[int(np.argmin(y))])]
    rows, values, chosen_id = ([], {}, None)
    if cfg.validation_seeds:
        rows, values, chosen_id = _validate(run_dir, cfg, validation_arms(cfg, tokens, groups, chosen, best, cons), scored, sets, groups,
                                            fitted, workers, progress)
    seed_sd, comparisons = compare(values)
    row = {"search_id": cfg.name, "proxy_sweep": cfg.name, "validation_sweep": cfg.validation_sweep if cfg.validation_seeds else None,
           "grouping": cfg.group_by, "groups": groups, "target": cfg.target, "preset": cfg.preset, "tokens": cfg.tokens,
           "n_proxies": len(kept), "n_heldout": int(fitted.heldout.sum()), "n_not_learned": not_learned,
           "model": fitted.cv.chosen, "cv_spearman": fitted.cv.mean(fitted.cv.chosen, "spearman"), "cv_mae": fitted.cv.mean(fitted.cv.chosen, "mae"),
           "heldout_spearman": fitted.heldout_spearman, "heldout_mae": fitted.heldout_mae,
           "chosen_weights": weights_json(groups, chosen),
           "chosen_mixture_id": chosen_id, "predicted_target": float(fitted.model.predict(chosen[None, :])[0]),
           "validation_preset": (cfg.validation_preset or cfg.preset) if cfg.validation_seeds else None,
           "validation_seeds": cfg.validation_seeds, "seed_sd": seed_sd, "config": json.dumps(cfg.model_dump(mode="json"), sort_keys=True)}
    record(run_dir, row, _prediction_rows(kept, fitted, groups) + rows, fitted.cv, comparisons)
    arms = {r["role"]: json.loads(r["weights"]) for r in rows}
    return SearchResult(row, comparisons, arms)


PREDICTION_SCHEMA = {"mixture_id": pl.String, "role": pl.String, "model": pl.String, "fold": pl.Int32, "weights": pl.String,
                     "predicted": pl.Float64, "actual": pl.Float64, "n_runs": pl.Int32}


def record(run_dir: Path, row: dict, predictions: list[dict], cv: CrossValidation, comparisons: list[dict]) -> None:
    """Replace the search's rows in search_runs, search_predictions, search_folds and search_comparisons (one transaction)."""
    sid = row["search_id"]
    tag = lambda frame: frame.select(pl.lit(sid).alias("search_id"), pl.all())  # noqa: E731
    folds = pl.DataFrame(cv.metrics, schema={"model": pl.String, "fold": pl.Int32, "n": pl.Int32, "spearman": pl.Float64, "mae": pl.Float64})
    with Catalog(run_dir) as cat, cat.transaction():
        for table in ("search_runs", "search_predictions", "search_folds", "search_comparisons"):
            cat.delete_where(table, search_id=sid)
        cat.append("search_runs", pl.DataFrame([row], schema_overrides={"groups": pl.List(pl.String), "chosen_mixture_id": pl.String,
                                                                       "validation_sweep": pl.String, "validation_preset": pl.String}))
        cat.append("search_predictions", tag(pl.DataFrame(predictions, schema=PREDICTION_SCHEMA)))
        cat.append("search_folds", tag(folds.with_columns((pl.col("model") == cv.chosen).alias("chosen"))))
        if comparisons:
            cat.append("search_comparisons", tag(pl.DataFrame(comparisons)))
