"""One training run end to end: mixture -> packed tokens -> model -> train -> evaluate -> catalog rows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import polars as pl
import torch

from curate.catalog import Catalog
from train.config import PRESETS, TrainConfig
from train.data import EOS_ID, Batches, encode, mixture_dir, packed_tokens
from train.evaluate import bits_per_byte, continuation_accuracy, sequence_nll
from train.loop import train
from train.model import build_model, parameter_counts
from train.tokenizer import load_tokenizer


def resolve_device(name: str) -> str:
    return ("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name


def train_id_of(cfg: TrainConfig, tokens: int) -> str:
    return f"{cfg.mixture_id}.{cfg.preset}.s{cfg.seed}.d{cfg.data_seed if cfg.data_seed is not None else cfg.seed}.t{tokens}"


def eval_texts(cat: Catalog) -> dict[str, list[str]]:
    rows = cat.query("SELECT e.eval_set, d.text FROM eval_sets e JOIN documents d USING (doc_id) ORDER BY e.eval_set, e.doc_id")
    return {k[0]: g["text"].to_list() for k, g in rows.group_by("eval_set", maintain_order=True)}


def evaluate_model(model: torch.nn.Module, tokenizer, sets: dict[str, list[str]], seq_len: int, device: str) -> list[dict]:  # noqa: ANN001
    """bpb and continuation accuracy per eval set, plus the mean over id/ and ood/ sets."""
    model.eval()
    rows = []
    for name, texts in sets.items():
        bpb, n = bits_per_byte(model, tokenizer, texts, seq_len, device)
        acc, n_acc = continuation_accuracy(model, tokenizer, texts, device)
        rows += [{"eval_set": name, "metric": "bpb", "value": bpb, "n": n}, {"eval_set": name, "metric": "continuation_acc", "value": acc, "n": n_acc}]
    for kind in ("id", "ood"):
        vals = [r["value"] for r in rows if r["eval_set"].startswith(kind + "/") and r["metric"] == "bpb"]
        if vals:
            rows.append({"eval_set": kind, "metric": "bpb", "value": float(np.mean(vals)), "n": len(vals)})
    model.train()
    return rows


def run_training(run_dir: Path, cfg: TrainConfig, progress: bool = True) -> str:
    """Train (or resume, or skip if finished) one run; returns its train_id."""
    device = resolve_device(cfg.device)
    tokenizer, tok_hash = load_tokenizer(run_dir)
    with Catalog(run_dir) as cat:
        folder = mixture_dir(cat, cfg.mixture_id)
        sets = eval_texts(cat)
        sweep_id = cat.query("SELECT sweep_id FROM mixtures WHERE mixture_id = $m", {"m": cfg.mixture_id})["sweep_id"][0]
    preset = PRESETS[cfg.preset]
    model = build_model(cfg.preset, tokenizer.get_vocab_size(), cfg.seed)
    n_params, n_non_emb = parameter_counts(model)
    tokens = cfg.tokens or 20 * n_params
    train_id = train_id_of(cfg, tokens)
    with Catalog(run_dir, read_only=True) as cat:
        if cat.query("SELECT count(*) AS n FROM train_runs WHERE train_id = $t AND status = 'done'", {"t": train_id})["n"][0]:
            return train_id
    data_seed = cfg.data_seed if cfg.data_seed is not None else cfg.seed
    batches = Batches(packed_tokens(folder, tokenizer, tok_hash, run_dir / "train" / "cache"), preset["seq_len"], cfg.batch_size, data_seed)
    steps = max(1, tokens // (cfg.batch_size * preset["seq_len"]))
    val = [t for name, texts in sets.items() if name.startswith("id/") for t in texts][: cfg.val_docs]
    val_ids = [[EOS_ID, *ids, EOS_ID][: preset["seq_len"] + 1] for ids in encode(tokenizer, val)]
    n_val = sum(len(v) - 1 for v in val_ids)

    def val_loss(m: torch.nn.Module) -> float:
        m.eval()
        loss = sum(sequence_nll(m, ids, preset["seq_len"], device) for ids in val_ids) / max(n_val, 1)
        m.train()
        return loss

    print(f"{train_id}: {n_params:,} parameters ({n_non_emb:,} non-embedding), {steps} steps x {cfg.batch_size} x {preset['seq_len']} tokens on {device}")
    started = time.perf_counter()
    result = train(model, batches, cfg, steps, run_dir / "train" / train_id, device, val_loss if val_ids else None, progress)
    evals = evaluate_model(model, tokenizer, sets, preset["seq_len"], device)
    record(run_dir, train_id, cfg, sweep_id, tok_hash, n_params, n_non_emb, device, time.perf_counter() - started, result, evals, data_seed)
    return train_id


def record(run_dir: Path, train_id: str, cfg: TrainConfig, sweep_id, tok_hash, n_params, n_non_emb, device, wall, result, evals, data_seed) -> None:  # noqa: ANN001, PLR0913
    with Catalog(run_dir) as cat, cat.transaction():
        for table in ("train_runs", "train_curve", "evals"):
            cat.delete_where(table, train_id=train_id)
        cat.append("train_runs", pl.DataFrame([{
            "train_id": train_id, "mixture_id": cfg.mixture_id, "sweep_id": sweep_id, "preset": cfg.preset, "seed": cfg.seed,
            "data_seed": data_seed, "tokens": result.tokens, "tokenizer_hash": tok_hash, "n_params": n_params,
            "n_params_non_embedding": n_non_emb, "device": device, "wall_s": wall, "tokens_per_s": result.tokens_per_s,
            "final_train_loss": result.final_train_loss, "final_val_loss": result.final_val_loss, "status": "done",
            "config": json.dumps(cfg.model_dump(mode="json"), sort_keys=True)}]))
        cat.append("train_curve", pl.DataFrame(result.curve).with_columns(pl.lit(train_id).alias("train_id")))
        cat.append("evals", pl.DataFrame(evals).with_columns(pl.lit(train_id).alias("train_id")))
