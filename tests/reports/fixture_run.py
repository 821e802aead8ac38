"""A complete run for report tests, built from generated data only (no third-party text).

Real curation (ingest, exact and MinHash dedup, langid, quality rules, the recipe's eval split reserved
before topics are fitted, topics, diversity) and a real mixture sweep from low to high topic entropy; the training results are generated:
per mixture and seed a curve and eval rows whose out-of-distribution bits per byte fall with the
mixture's topic entropy plus seed noise. The planted string lets HTML tests check escaping.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path

import polars as pl

from curate.core.catalog import Catalog
from curate.mix.sweep import SweepSpec, run_sweep
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records
from train.search.regress import cross_validate
from train.search.run import record

PLANTED = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"
STAGES = [
    {"stage": "exact_dedup"},
    {"stage": "minhash_dedup"},
    {"stage": "langid"},
    {"stage": "quality_rules"},
    {"stage": "topics", "k": 5, "sample_size": 400, "n_components": 16},
    {"stage": "diversity", "scopes": ["corpus", "source"], "sample_size": 60, "n_boot": 2},
]


def write_corpus(folder: Path, n_docs: int, seed: int) -> None:
    """One JSONL file per domain (the file name is the source); the first document carries PLANTED."""
    records = to_records(make_corpus(n_docs, seed=seed, exact_dup_rate=0.08, near_dup_rate=0.1))
    records[0]["text"] = f"{PLANTED} {records[0]['text']}"
    records.append(dict(records[0], id="planted-copy"))
    for domain in sorted({r["domain"] for r in records}):
        write_jsonl(folder / f"{domain}.jsonl", [r for r in records if r["domain"] == domain])


def fake_training(mixtures: pl.DataFrame, n_seeds: int, seed: int) -> dict[str, pl.DataFrame]:
    """train_runs, train_curve and evals rows: ood bpb falls with topic entropy, plus seed noise; ``nano`` with
    ``n_seeds`` seeds and ``micro`` (the scale check) with one, every run learned and converged."""
    rng = random.Random(seed)
    runs, curve, evals = [], [], []
    for (mixture_id, entropy), (preset, seeds, shift) in itertools.product(
            mixtures.select("mixture_id", "topic_entropy").iter_rows(), (("nano", n_seeds, 0.0), ("micro", 1, -0.2))):
        for s in range(seeds):
            train_id = f"{mixture_id}-{preset}-s{s}"
            final = 1.9 - 0.25 * (entropy or 0.0) + rng.gauss(0, 0.02)
            runs.append({"train_id": train_id, "mixture_id": mixture_id, "sweep_id": "entropy", "preset": preset, "seed": s,
                         "data_seed": s, "tokens": 20_000, "n_params": 1_400_000 if preset == "nano" else 4_000_000,
                         "device": "cpu", "wall_s": 30.0 + s, "tokens_per_s": 3000.0, "final_train_loss": final,
                         "final_val_loss": final + 0.05, "status": "done", "steps": 100, "unigram_entropy": final + 1.8,
                         "loss_below_unigram": 1.75, "tail_gain": 0.02, "learned": True, "converged": True})
            for step in range(0, 110, 10):
                loss = final + 2.5 * math.exp(-step / 25)
                curve.append({"train_id": train_id, "step": step, "tokens": step * 200, "lr": 1e-3, "train_loss": loss,
                              "val_loss": loss + 0.05, "tokens_per_s": 3000.0})
            ood = 2.6 + shift - 0.3 * (entropy or 0.0) + rng.gauss(0, 0.03)
            evals += [{"train_id": train_id, "eval_set": "ood", "metric": "bpb", "value": ood, "n": 1000},
                      {"train_id": train_id, "eval_set": "id", "metric": "bpb", "value": ood - 0.4 + rng.gauss(0, 0.03), "n": 1000},
                      {"train_id": train_id, "eval_set": "id", "metric": "continuation_acc", "value": 0.3 + 0.05 * (entropy or 0), "n": 50}]
    return {"train_runs": pl.DataFrame(runs), "train_curve": pl.DataFrame(curve), "evals": pl.DataFrame(evals)}


def fake_search(run_dir: Path, mixtures: pl.DataFrame, evals: pl.DataFrame) -> None:
    """A mixture search over the sweep's mixtures (their topic shares against their seed-0 ood bpb), recorded with the
    real regression and writer; the first mixture plays the chosen one, the next two the baselines."""
    with Catalog(run_dir, read_only=True) as cat:
        shares = cat.query("SELECT mixture_id, group_key, n_tokens / sum(n_tokens) OVER (PARTITION BY mixture_id) AS share"
                           " FROM mixture_composition").pivot(on="group_key", index="mixture_id", values="share").fill_null(0.0)
    ood = evals.filter((pl.col("eval_set") == "ood") & pl.col("train_id").str.ends_with("-nano-s0"))
    data = mixtures.select("mixture_id").join(shares, on="mixture_id").with_columns(
        pl.col("mixture_id").replace_strict(dict(zip(ood["train_id"].str.replace("-nano-s0", ""), ood["value"], strict=True))).alias("y"))
    groups = sorted(c for c in shares.columns if c != "mixture_id")
    x, y = data.select(groups).to_numpy(), data["y"].to_numpy()
    cv = cross_validate(x, y, ["linear", "law"], 3, seed=0)
    weights = [json.dumps(dict(zip(groups, map(float, w), strict=True))) for w in x]
    roles = ["chosen", "uniform", "natural"]
    predictions = [{"mixture_id": m, "role": "proxy", "model": name, "fold": int(cv.fold[i]), "weights": weights[i],
                    "predicted": float(cv.predictions[name][i]), "actual": float(y[i]), "n_runs": 1}
                   for name in ("linear", "law") for i, m in enumerate(data["mixture_id"])]
    predictions += [{"mixture_id": m, "role": r, "model": cv.chosen, "fold": None, "weights": weights[i], "predicted": float(y[i]),
                     "actual": float(y[i]), "n_runs": 3} for i, (m, r) in enumerate(zip(data["mixture_id"], roles))]
    row = {"search_id": "search", "proxy_sweep": "entropy", "validation_sweep": "entropy", "grouping": "topic_id", "groups": groups,
           "target": "ood/bpb", "preset": "nano", "tokens": 20_000, "n_proxies": len(y), "n_heldout": 0, "n_not_learned": 0,
           "model": cv.chosen, "cv_spearman": cv.mean(cv.chosen, "spearman"), "cv_mae": cv.mean(cv.chosen, "mae"), "heldout_spearman": None,
           "heldout_mae": None, "chosen_weights": weights[0], "chosen_mixture_id": data["mixture_id"][0], "predicted_target": float(y[0]),
           "validation_preset": "nano", "validation_seeds": 3, "seed_sd": 0.02, "config": "{}"}
    comparisons = [{"baseline": b, "n_chosen": 3, "n_baseline": 3, "difference": float(y[0] - y[i]), "ci_low": float(y[0] - y[i]) - 0.05,
                    "ci_high": float(y[0] - y[i]) + 0.05, "df": 6} for i, b in ((1, "uniform"), (2, "natural"))]
    record(run_dir, row, predictions, cv, comparisons)


def build_run(root: Path, n_docs: int = 150, n_mixtures: int = 6, n_seeds: int = 3, seed: int = 0) -> Path:
    """Create ``root/run`` with every catalog table filled; returns the run folder."""
    write_corpus(root / "data", n_docs, seed)
    recipe = parse_recipe({"name": "reports-fixture", "seed": seed, "stages": STAGES,
                           "eval_split": {"group_by": "source", "per_group": 3, "ood_groups": ["law"], "seed": seed},
                           "inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}]})
    run_dir = RecipeRunner(recipe, root, root / "run", workers=1, progress=False).run().run_dir
    with Catalog(run_dir) as cat:
        sweep = SweepSpec(name="entropy", steps=n_mixtures, diversity_sample=40,
                          base={"group_by": "topic_id", "strategy": "target_entropy", "token_budget": 8_000, "max_repeats": 8})
        mixtures = run_sweep(cat, sweep)
        training = fake_training(mixtures, n_seeds, seed)
        for table, frame in training.items():
            cat.append(table, frame)
    fake_search(run_dir, mixtures, training["evals"])
    return run_dir
