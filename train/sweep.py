"""Sweeps: every mixture of a sweep x seeds (x presets); only the data varies within a preset."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import torch

from curate.catalog import Catalog
from train.config import PRESETS, TrainConfig
from train.model import build_model
from train.runs import eval_texts, evaluate_model, resolve_device, run_training
from train.tokenizer import load_tokenizer


def run_sweep(run_dir: Path, sweep_id: str, presets: list[str], seeds: int, tokens: int | None, device: str = "auto") -> pl.DataFrame:
    with Catalog(run_dir, read_only=True) as cat:
        mixtures = cat.query("SELECT mixture_id FROM mixtures WHERE sweep_id = $s ORDER BY name", {"s": sweep_id})["mixture_id"].to_list()
    if not mixtures:
        raise ValueError(f"no mixtures with sweep_id {sweep_id!r}; emit them with `curate mix sweep`")
    for preset in presets:
        for mixture_id in mixtures:
            for seed in range(seeds):
                run_training(run_dir, TrainConfig(mixture_id=mixture_id, preset=preset, tokens=tokens, seed=seed, data_seed=seed, device=device))
    with Catalog(run_dir, read_only=True) as cat:
        return cat.query(
            "SELECT r.mixture_id, r.preset, count(*) AS seeds, avg(e.value) AS ood_bpb, stddev_samp(e.value) AS ood_bpb_sd,"
            " avg(r.final_val_loss) AS val_loss FROM train_runs r LEFT JOIN evals e ON e.train_id = r.train_id"
            " AND e.eval_set = 'ood' AND e.metric = 'bpb' WHERE r.sweep_id = $s GROUP BY ALL ORDER BY 1, 2", {"s": sweep_id})


def reevaluate(run_dir: Path, train_id: str) -> list[dict]:
    """Load a run's final checkpoint, evaluate it on the eval sets, replace its evals rows."""
    with Catalog(run_dir, read_only=True) as cat:
        row = cat.query("SELECT preset, seed, device FROM train_runs WHERE train_id = $t", {"t": train_id})
        sets = eval_texts(cat)
    if row.height == 0:
        raise KeyError(f"no training run {train_id!r}")
    tokenizer, _ = load_tokenizer(run_dir)
    device = resolve_device("auto")
    model = build_model(row["preset"][0], tokenizer.get_vocab_size(), int(row["seed"][0]))
    state = torch.load(run_dir / "train" / train_id / "checkpoint.pt", map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    model.to(device)
    rows = evaluate_model(model, tokenizer, sets, PRESETS[row["preset"][0]]["seq_len"], device)
    with Catalog(run_dir) as cat, cat.transaction():
        cat.delete_where("evals", train_id=train_id)
        cat.append("evals", pl.DataFrame(rows).with_columns(pl.lit(train_id).alias("train_id")))
    return rows
