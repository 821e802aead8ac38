"""One training run end to end: mixture -> packed tokens -> model -> train -> evaluate -> catalog rows.

The catalog is opened only here, in the driver process; training and evaluation never hold it open.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl
import torch

from curate.catalog import Catalog
from train.config import PRESETS, TrainConfig
from train.data import EOS_ID, Batches, encode, mixture_dir, packed_tokens
from train.evaluate import eval_sets, evaluate, sequence_nll
from train.gemm import use_cpu_matmul
from train.loop import RunResult, set_cpu_threads, train
from train.model import build_model, parameter_counts
from train.tokenizer import load_tokenizer


def resolve_device(name: str) -> str:
    """'auto' -> cuda when available, else cpu; anything else as given."""
    return ("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name


def train_id_of(cfg: TrainConfig, tokens: int) -> str:
    """A readable id that differs whenever mixture, size, seeds or token budget differ."""
    return f"{cfg.mixture_id}.{cfg.preset}.s{cfg.seed}.d{data_seed_of(cfg)}.t{tokens}"


def data_seed_of(cfg: TrainConfig) -> int:
    return cfg.data_seed if cfg.data_seed is not None else cfg.seed


def _val_loss_fn(tokenizer, sets: dict, cfg: TrainConfig, seq_len: int, device: str):  # noqa: ANN001, ANN202
    """Mean per-token NLL on the first ``val_docs`` in-distribution eval documents (first window each)."""
    val = [t for kind, texts in sets.values() if kind == "id" for t in texts][: cfg.val_docs]
    val_ids = [[EOS_ID, *ids, EOS_ID][: seq_len + 1] for ids in encode(tokenizer, val)]
    n_val = sum(len(v) - 1 for v in val_ids)
    if not n_val:
        return None

    def val_loss(model: torch.nn.Module) -> float:
        model.eval()
        loss = sum(sequence_nll(model, ids, seq_len, device) for ids in val_ids) / n_val
        model.train()
        return loss

    return val_loss


def _is_done(run_dir: Path, train_id: str) -> bool:
    with Catalog(run_dir, read_only=True) as cat:
        return bool(cat.query("SELECT count(*) AS n FROM train_runs WHERE train_id = $t AND status = 'done'", {"t": train_id})["n"][0])


def run_training(run_dir: Path, cfg: TrainConfig, progress: bool = True, stop_at: int | None = None) -> str:
    """Train (or resume from its checkpoint, or skip if finished) one run, evaluate it, record it; returns train_id.

    ``stop_at`` ends training after that step without recording (a time slice, as a kill would).
    """
    device = resolve_device(cfg.device)
    tokenizer, tok_hash = load_tokenizer(run_dir)
    with Catalog(run_dir, read_only=True) as cat:
        folder = mixture_dir(cat, cfg.mixture_id)
        sets = eval_sets(cat, cfg.eval_docs)
        sweep_id = cat.query("SELECT sweep_id FROM mixtures WHERE mixture_id = $m", {"m": cfg.mixture_id})["sweep_id"][0]
    seq_len = PRESETS[cfg.preset]["seq_len"]
    model = build_model(cfg.preset, tokenizer.get_vocab_size(), cfg.seed)
    n_params, n_non_emb = parameter_counts(model)
    tokens = cfg.tokens or 20 * n_params
    train_id = train_id_of(cfg, tokens)
    if _is_done(run_dir, train_id):
        print(f"{train_id}: done already")
        return train_id
    batches = Batches(packed_tokens(folder, tokenizer, tok_hash, run_dir / "train" / "cache"), seq_len, cfg.batch_size, data_seed_of(cfg))
    steps = max(1, tokens // (cfg.batch_size * seq_len))
    print(f"{train_id}: {cfg.preset} {n_params:,} parameters ({n_non_emb:,} non-embedding), "
          f"{steps} steps x {cfg.batch_size} x {seq_len} tokens on {device}")
    started = time.perf_counter()
    val_loss = _val_loss_fn(tokenizer, sets, cfg, seq_len, device)
    result = train(model, batches, cfg, steps, run_dir / "train" / train_id, device, val_loss, progress, stop_at)
    if result.steps < steps:
        return train_id
    evals = evaluate(model, tokenizer, sets, seq_len, device, cfg.eval_batch_size)
    run_row = {"train_id": train_id, "mixture_id": cfg.mixture_id, "sweep_id": sweep_id, "preset": cfg.preset, "seed": cfg.seed,
               "data_seed": data_seed_of(cfg), "tokens": result.tokens, "tokenizer_hash": tok_hash, "n_params": n_params,
               "n_params_non_embedding": n_non_emb, "device": device, "wall_s": time.perf_counter() - started,
               "tokens_per_s": result.tokens_per_s, "final_train_loss": result.final_train_loss,
               "final_val_loss": result.final_val_loss, "status": "done",
               "config": json.dumps(cfg.model_dump(mode="json"), sort_keys=True)}
    record(run_dir, run_row, result, evals)
    return train_id


def record(run_dir: Path, run_row: dict, result: RunResult, evals: list[dict]) -> None:
    """Replace the run's rows in train_runs, train_curve and evals in one transaction."""
    train_id = run_row["train_id"]
    with Catalog(run_dir) as cat, cat.transaction():
        for table in ("train_runs", "train_curve", "evals"):
            cat.delete_where(table, train_id=train_id)
        cat.append("train_runs", pl.DataFrame([run_row]))
        cat.append("train_curve", pl.DataFrame(result.curve).with_columns(pl.lit(train_id).alias("train_id")))
        cat.append("evals", pl.DataFrame(evals).with_columns(pl.lit(train_id).alias("train_id")))


def reevaluate(run_dir: Path, train_id: str, device: str = "auto", num_threads: int | None = None) -> list[dict]:
    """Load a finished run's checkpoint, evaluate it on the eval sets, replace its evals rows."""
    with Catalog(run_dir, read_only=True) as cat:
        row = cat.query("SELECT preset, seed, tokenizer_hash, config FROM train_runs WHERE train_id = $t", {"t": train_id})
    if row.height == 0:
        raise KeyError(f"no training run {train_id!r} in {run_dir}; see `reports show training {run_dir}`")
    tokenizer, tok_hash = load_tokenizer(run_dir)
    if tok_hash != row["tokenizer_hash"][0]:
        raise ValueError(f"{train_id} was trained with tokenizer {row['tokenizer_hash'][0][:12]}, the run now has {tok_hash[:12]}")
    device = resolve_device(device)
    cfg = TrainConfig.model_validate_json(row["config"][0]).model_copy(update={"num_threads": num_threads})
    with Catalog(run_dir, read_only=True) as cat:
        sets = eval_sets(cat, cfg.eval_docs)
    model = build_model(row["preset"][0], tokenizer.get_vocab_size(), int(row["seed"][0]))
    if device == "cpu":
        set_cpu_threads(cfg)
        use_cpu_matmul(model, cfg.cpu_matmul)
    state = torch.load(run_dir / "train" / train_id / "checkpoint.pt", map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    model.to(device)
    rows = evaluate(model, tokenizer, sets, PRESETS[row["preset"][0]]["seq_len"], device, cfg.eval_batch_size)
    with Catalog(run_dir) as cat, cat.transaction():
        cat.delete_where("evals", train_id=train_id)
        cat.append("evals", pl.DataFrame(rows).with_columns(pl.lit(train_id).alias("train_id")))
    return rows
