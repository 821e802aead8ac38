"""One training run end to end: mixture -> packed tokens -> model -> train -> evaluate -> catalog rows.

The catalog is opened only here, in the driver process; training and evaluation never hold it open. A
run's rows (train_runs, train_curve, evals, checkpoint_evals, eval_doc_losses) are written together, in
one transaction, when it finishes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import torch
from tokenizers import Tokenizer

from curate.core.catalog import Catalog
from curate.core.errors import NotInRun
from curate.mix.eval_split import EvalSet
from train.config import PRESETS, TrainConfig
from train.data import Batches, mixture_dir, packed_tokens, packed_tokens_paths
from train.evaluate import Evaluation, eval_sets, evaluate, first_docs, windows_nll
from train.gemm import use_cpu_matmul
from train.learned import LearnedCheck, bigram_loss, check, unigram_entropy
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


def _upgraded(config: dict) -> dict:
    """A stored config of an earlier version, minus fields this version no longer has."""
    return {k: v for k, v in config.items() if k in TrainConfig.model_fields}


def _val_loss_fn(windows: list[list[int]], device: str, batch_size: int) -> Callable[[torch.nn.Module], float] | None:
    """Mean per-token NLL (nats) over the mixture's held-out windows."""
    n_targets = sum(len(w) - 1 for w in windows)
    if not n_targets:
        return None

    def val_loss(model: torch.nn.Module) -> float:
        model.eval()
        loss = float(windows_nll(model, windows, device, batch_size).sum()) / n_targets
        model.train()
        return loss

    return val_loss


@dataclass
class RunPlan:
    """Everything one run needs, read from the catalog by the driver, so that training never opens it."""

    run_dir: Path
    cfg: TrainConfig
    train_id: str
    sweep_id: str | None
    tokens_paths: tuple[Path, Path]  # the mixture's packed (training, validation) tokens (train.data.packed_tokens)
    tokenizer_hash: str
    sets: dict[str, EvalSet]
    total_tokens: int


def plan_run(run_dir: Path, cfg: TrainConfig, cat: Catalog, sets: dict[str, EvalSet] | None = None) -> RunPlan:
    """Resolve a config into a plan: train_id, tokenized mixture (packed once, cached), eval sets (``sets``
    when the caller already read them for this ``cfg.eval_docs``)."""
    tokenizer, tok_hash = load_tokenizer(run_dir)
    folder = mixture_dir(cat, cfg.mixture_id)
    sweep_id = cat.ask("train/mixture_sweep", mixture_id=cfg.mixture_id)["sweep_id"][0]
    tokens = cfg.tokens or 20 * parameter_counts(build_model(cfg.preset, tokenizer.get_vocab_size(), cfg.seed))[0]
    cache = run_dir / "train" / "cache"
    packed_tokens(folder, tokenizer, tok_hash, cache)
    return RunPlan(Path(run_dir), cfg, train_id_of(cfg, tokens), sweep_id, packed_tokens_paths(folder, tok_hash, cache), tok_hash,
                   sets if sets is not None else eval_sets(cat, cfg.eval_docs, cfg.eval_only), tokens)


def is_done(cat: Catalog, train_id: str) -> bool:
    return bool(cat.ask("train/is_done", train_id=train_id)["n"][0])


@dataclass
class RunOutcome:
    run_row: dict
    result: RunResult  # its checkpoint_evals hold each checkpoint's Evaluation fields (rows, doc_losses)
    final: Evaluation
    checks: LearnedCheck


def _checkpoint_eval_fn(plan: RunPlan, tokenizer: Tokenizer, seq_len: int, device: str) -> Callable[[torch.nn.Module], dict]:
    """Bits per byte (no probes) on the first ``cfg.checkpoint_eval_docs`` documents of every eval set."""
    sets = first_docs(plan.sets, plan.cfg.checkpoint_eval_docs)

    def checkpoint_eval(model: torch.nn.Module) -> dict:
        found = evaluate(model, tokenizer, sets, seq_len, device, plan.cfg.eval_batch_size, probes=False)
        return {"rows": found.rows, "doc_losses": found.doc_losses}

    return checkpoint_eval


def execute(plan: RunPlan, progress: bool = True, stop_at: int | None = None) -> RunOutcome | None:
    """Train (resuming from the checkpoint), check, evaluate; None when ``stop_at`` ended it early.

    Touches no catalog: runs in a sweep worker process as well as in the driver.
    """
    cfg, device = plan.cfg, resolve_device(plan.cfg.device)
    tokenizer, _ = load_tokenizer(plan.run_dir)
    seq_len = PRESETS[cfg.preset]["seq_len"]
    model = build_model(cfg.preset, tokenizer.get_vocab_size(), cfg.seed)
    n_params, n_non_emb = parameter_counts(model)
    train_path, val_path = plan.tokens_paths
    batches = Batches(np.load(train_path, mmap_mode="r"), seq_len, cfg.batch_size, data_seed_of(cfg),
                      np.load(val_path, mmap_mode="r"), cfg.val_seqs)
    steps = max(1, plan.total_tokens // (cfg.batch_size * seq_len))
    print(f"{plan.train_id}: {cfg.preset} {n_params:,} parameters ({n_non_emb:,} non-embedding), "
          f"{steps} steps x {cfg.batch_size} x {seq_len} tokens on {device}", flush=True)
    started = time.perf_counter()
    val_loss = _val_loss_fn(batches.validation(), device, cfg.eval_batch_size)
    result = train(model, batches, cfg, steps, plan.run_dir / "train" / plan.train_id, device, val_loss, progress, stop_at,
                   _checkpoint_eval_fn(plan, tokenizer, seq_len, device) if plan.sets else None)
    if result.steps < steps:
        return None
    learned = check(result.curve, steps, unigram_entropy(batches.tokens),
                    bigram_loss(batches.tokens, batches.validation(), tokenizer.get_vocab_size()))
    final = evaluate(model, tokenizer, plan.sets, seq_len, device, cfg.eval_batch_size, probe_docs=cfg.probe_docs)
    run_row = {"train_id": plan.train_id, "mixture_id": cfg.mixture_id, "sweep_id": plan.sweep_id, "preset": cfg.preset,
               "seed": cfg.seed, "data_seed": data_seed_of(cfg), "tokens": result.tokens, "steps": result.steps,
               "tokenizer_hash": plan.tokenizer_hash, "n_params": n_params, "n_params_non_embedding": n_non_emb,
               "device": device, "wall_s": time.perf_counter() - started, "tokens_per_s": result.tokens_per_s,
               "final_train_loss": result.final_train_loss, "final_val_loss": result.final_val_loss,
               "unigram_entropy": learned.unigram_entropy, "loss_below_unigram": learned.loss_below_unigram,
               "tail_gain": learned.tail_gain, "bigram_loss": learned.bigram_loss, "learned": learned.learned, "converged": learned.converged, "status": "done",
               "config": json.dumps(cfg.model_dump(mode="json"), sort_keys=True)}
    return RunOutcome(run_row, result, final, learned)


def run_training(run_dir: Path, cfg: TrainConfig, progress: bool = True, stop_at: int | None = None) -> str:
    """Train (or resume from its checkpoint, or skip if finished) one run, evaluate it, record it; returns train_id.

    ``stop_at`` ends training after that step without recording (a time slice, as a kill would).
    """
    with Catalog(run_dir, read_only=True) as cat:
        plan = plan_run(run_dir, cfg, cat)
        done = is_done(cat, plan.train_id)
    if done:
        print(f"{plan.train_id}: done already")
        return plan.train_id
    outcome = execute(plan, progress, stop_at)
    if outcome is not None:
        record(run_dir, outcome)
        print(describe(outcome), flush=True)
    return plan.train_id


def describe(outcome: RunOutcome) -> str:
    """A finished run in one line: both checks in words, its time and what the checkpoint evaluations cost."""
    row, evals = outcome.run_row, outcome.result.checkpoint_evals
    spent = f", checkpoint evals {sum(c['eval_s'] for c in evals):.1f} s at steps {', '.join(str(c['step']) for c in evals)}" if evals else ""
    return f"{row['train_id']}: {outcome.checks.learned_message()}; {outcome.checks.converged_message()}; {row['wall_s']:.0f} s{spent}"


CURVE_SCHEMA = {"step": pl.Int64, "tokens": pl.Int64, "lr": pl.Float64, "train_loss": pl.Float64, "val_loss": pl.Float64,
                "tokens_per_s": pl.Float64}


def curve_frame(curve: list[dict], train_id: str) -> pl.DataFrame:
    """A run's ``train_curve`` rows, typed up front: ``val_loss`` is null except every tenth of the run, so a
    type inferred from the first 100 rows was Null on runs over ~1,000 steps, and recording them failed."""
    return pl.DataFrame(curve, schema=CURVE_SCHEMA).with_columns(pl.lit(train_id).alias("train_id"))


DOC_LOSS_SCHEMA = {"step": pl.Int64, "eval_set": pl.String, "doc_id": pl.String, "nll_bits": pl.Float64, "n_bytes": pl.Int64}
CHECKPOINT_SCHEMA = {"step": pl.Int64, "tokens": pl.Int64, "eval_set": pl.String, "metric": pl.String, "value": pl.Float64, "n": pl.Int64}


def doc_loss_frame(doc_losses: list[dict], train_id: str, step: int) -> pl.DataFrame:
    """``eval_doc_losses`` rows of one evaluation (at ``step``)."""
    rows = [{"step": step} | r for r in doc_losses]
    return pl.DataFrame(rows, schema=DOC_LOSS_SCHEMA).with_columns(pl.lit(train_id).alias("train_id"))


def checkpoint_frames(checkpoints: list[dict], train_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(``checkpoint_evals`` rows, ``eval_doc_losses`` rows) of a run's checkpoint evaluations."""
    rows = [{"step": c["step"], "tokens": c["tokens"], "eval_set": r["eval_set"], "metric": r["metric"], "value": r["value"],
             "n": r["n"]} for c in checkpoints for r in c["rows"]]
    docs = [doc_loss_frame(c["doc_losses"], train_id, c["step"]) for c in checkpoints]
    return (pl.DataFrame(rows, schema=CHECKPOINT_SCHEMA).with_columns(pl.lit(train_id).alias("train_id")),
            pl.concat(docs) if docs else doc_loss_frame([], train_id, 0))


def record(run_dir: Path, outcome: RunOutcome) -> None:
    """Replace the run's rows in train_runs, train_curve, evals, checkpoint_evals and eval_doc_losses in one
    transaction (a run is in the catalog with all of its evaluations, or not at all)."""
    run_row, result = outcome.run_row, outcome.result
    train_id = run_row["train_id"]
    checkpoints, checkpoint_docs = checkpoint_frames(result.checkpoint_evals, train_id)
    with Catalog(run_dir) as cat, cat.transaction():
        for table in ("train_runs", "train_curve", "evals", "checkpoint_evals", "eval_doc_losses"):
            cat.delete_where(table, train_id=train_id)
        cat.append("train_runs", pl.DataFrame([run_row]))
        cat.append("train_curve", curve_frame(result.curve, train_id))
        cat.append("evals", pl.DataFrame(outcome.final.rows).with_columns(pl.lit(train_id).alias("train_id")))
        cat.append("checkpoint_evals", checkpoints)
        cat.append("eval_doc_losses", checkpoint_docs)
        cat.append("eval_doc_losses", doc_loss_frame(outcome.final.doc_losses, train_id, result.steps))


def load_finished(run_dir: Path, train_id: str, device: str = "cpu") -> tuple[torch.nn.Module, Tokenizer, TrainConfig]:
    """A finished run's model (final checkpoint, on ``device``, eval mode), the run's tokenizer and its config."""
    with Catalog(run_dir, read_only=True) as cat:
        row = cat.ask("train/run_config", train_id=train_id)
    if row.height == 0:
        raise NotInRun(f"no training run {train_id!r} in {run_dir}; see `reports show training {run_dir}`")
    tokenizer, tok_hash = load_tokenizer(run_dir)
    if tok_hash != row["tokenizer_hash"][0]:
        raise ValueError(f"{train_id} was trained with tokenizer {row['tokenizer_hash'][0][:12]}, the run now has {tok_hash[:12]}")
    cfg = TrainConfig.model_validate(_upgraded(json.loads(row["config"][0])))
    model = build_model(row["preset"][0], tokenizer.get_vocab_size(), int(row["seed"][0]))
    state = torch.load(Path(run_dir) / "train" / train_id / "checkpoint.pt", map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    return model.to(device).eval(), tokenizer, cfg


def reevaluate(run_dir: Path, train_id: str, device: str = "auto", num_threads: int | None = None) -> list[dict]:
    """Load a finished run's checkpoint, evaluate it on the eval sets, replace its evals rows and its
    final-step eval_doc_losses rows (checkpoint evaluations stay as they were)."""
    device = resolve_device(device)
    model, tokenizer, cfg = load_finished(run_dir, train_id, device)
    cfg = cfg.model_copy(update={"num_threads": num_threads})
    if device == "cpu":
        set_cpu_threads(cfg)
        use_cpu_matmul(model, cfg.cpu_matmul)
    with Catalog(run_dir, read_only=True) as cat:
        sets = eval_sets(cat, cfg.eval_docs, cfg.eval_only)
        step = cat.ask("train/final_step", train_id=train_id)["step"][0]  # steps: NULL in old catalogs
    found = evaluate(model, tokenizer, sets, PRESETS[cfg.preset]["seq_len"], device, cfg.eval_batch_size, probe_docs=cfg.probe_docs)
    with Catalog(run_dir) as cat, cat.transaction():
        cat.delete_where("evals", train_id=train_id)
        cat.delete_where("eval_doc_losses", train_id=train_id, step=step)
        cat.append("evals", pl.DataFrame(found.rows).with_columns(pl.lit(train_id).alias("train_id")))
        cat.append("eval_doc_losses", doc_loss_frame(found.doc_losses, train_id, step))
    return found.rows
