"""The training loop: AdamW, warmup + cosine (or WSD), clipping, accumulation, atomic checkpoints, resume.

``train(...)`` runs from the last checkpoint in ``out_dir`` if there is one: the model, optimizer, RNG
and step are restored and the data order is a pure function of (data seed, step), so a killed run
resumed ends where an uninterrupted run would. bf16 autocast on CUDA; fp32 on CPU, where the LM head
and the cross-entropy run fused in row chunks (``train.loss``) so the full logits are never built, and
the matrix products run through oneDNN where that beats aten's BLAS (``train.gemm``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from train.config import TrainConfig
from train.data import Batches
from train.gemm import use_cpu_matmul
from train.learned import tail_step
from train.loss import linear_cross_entropy


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Learning rate at a step: linear warmup, then cosine to min_lr (or WSD: flat, then linear decay)."""
    peak = cfg.peak_lr()
    warmup = max(1, int(cfg.warmup_frac * total))
    floor = peak * cfg.min_lr_ratio
    if step < warmup:
        return peak * (step + 1) / warmup
    if cfg.schedule == "wsd":
        decay_start = int(0.8 * total)
        return peak if step < decay_start else floor + (peak - floor) * (total - step) / max(1, total - decay_start)
    progress = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * min(progress, 1.0)))


def optimizer_for(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with decoupled weight decay on matrices only (norm weights and biases are not decayed)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.peak_lr(), betas=cfg.betas, fused=True)


def validation_steps(total: int, every: int | None) -> set[int]:
    """Steps after which the validation loss is measured: every ``every`` (default a tenth of the run),
    the start of the learned check's tail, and the last step."""
    every = every or max(1, total // 10)
    return {*range(every, total + 1, every), tail_step(total), total}


def checkpoint_eval_steps(total: int, fractions: list[float]) -> set[int]:
    """Steps after which the eval sets are scored mid-run: each fraction of ``total`` (at least step 1),
    never the last step, which the final evaluation covers."""
    return {max(1, round(f * total)) for f in fractions} - {total}


def set_cpu_threads(cfg: TrainConfig) -> int:
    """Use one intra-op thread per core this process may run on (cgroup/affinity aware), or cfg.num_threads."""
    threads = cfg.num_threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    return threads


@dataclass
class RunResult:
    steps: int
    tokens: int
    wall_s: float
    tokens_per_s: float
    final_train_loss: float
    final_val_loss: float | None
    curve: list[dict] = field(default_factory=list)
    checkpoint_evals: list[dict] = field(default_factory=list)  # {"step", "tokens", "eval_s", **what the hook returned}


def loss_function(model: torch.nn.Module, cfg: TrainConfig, device: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """(inputs, targets) -> mean next-token loss of a causal LM (``.model`` body, ``.lm_head`` head).

    On CUDA: the model's logits under bf16 autocast, cross-entropy in fp32. On CPU (fp32): the body's
    hidden states into the chunked, fused LM head + cross-entropy, 1.1-1.15x faster per step for
    ``nano`` on 2 cores and without the tokens x vocab logits in memory; the body's linear layers and
    the head's products go through ``cfg.cpu_matmul`` (the model is routed here: ``use_cpu_matmul``).
    """
    if device.startswith("cuda"):
        compiled = torch.compile(model) if cfg.compile else model

        def cuda_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = compiled(x).logits
            return torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), y.flatten())

        return cuda_loss
    onednn = use_cpu_matmul(model, cfg.cpu_matmul)
    body = torch.compile(model.model) if cfg.compile else model.model

    def cpu_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        hidden = body(x, use_cache=False).last_hidden_state
        return linear_cross_entropy(hidden.flatten(0, 1), model.lm_head.weight, y.flatten(), onednn=onednn)

    return cpu_loss


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resume(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, device: str) -> tuple[int, list[dict], float, list[dict]]:
    """(step, curve, training seconds, checkpoint evaluations) from the checkpoint at ``path``, with the model,
    optimizer and RNG restored; a fresh start when there is none."""
    if not path.exists():
        return 0, [], 0.0, []
    state = torch.load(path, map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    return state["step"], state["curve"], state["wall_s"], state.get("checkpoint_evals", [])  # none before they existed


def train(
    model: torch.nn.Module, batches: Batches, cfg: TrainConfig, total_steps: int, out_dir: Path, device: str,
    val_loss: Callable[[torch.nn.Module], float] | None = None, progress: bool = True, stop_at: int | None = None,
    checkpoint_eval: Callable[[torch.nn.Module], dict] | None = None,
) -> RunResult:
    """Train for ``total_steps`` optimizer steps, checkpointing to ``out_dir/checkpoint.pt``.

    ``checkpoint_eval`` runs after each step of :func:`checkpoint_eval_steps` (``cfg.eval_at``); its results
    live in the checkpoint beside the curve, so a killed run resumed still has the evaluations made before
    the kill. ``stop_at`` ends this call after that step (as a kill would), for time-sliced jobs and tests.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = out_dir / "checkpoint.pt"
    if device == "cpu":
        set_cpu_threads(cfg)
    model.to(device)
    opt = optimizer_for(model, cfg)
    step, curve, wall, evals = _resume(ckpt_path, model, opt, device)
    loss_of = loss_function(model, cfg, device)
    val_steps = validation_steps(total_steps, cfg.eval_every)
    eval_steps = checkpoint_eval_steps(total_steps, cfg.eval_at) if checkpoint_eval is not None else set()
    tokens_per_step = cfg.batch_size * batches.seq_len
    micro = cfg.batch_size // cfg.grad_accum
    loss_value = float("nan")
    columns = (TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
               TextColumn("loss {task.fields[loss]:.3f}"), TextColumn("{task.fields[tps]:,.0f} tok/s"), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=True) as bar:
        task = bar.add_task("train", total=total_steps, completed=step, loss=float("nan"), tps=0.0)
        while step < min(total_steps, stop_at or total_steps):
            started = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total_steps, cfg)
            x, y = batches.batch(step)
            x, y = x.to(device), y.to(device)
            loss_sum = 0.0
            for i in range(cfg.grad_accum):
                loss = loss_of(x[i * micro : (i + 1) * micro], y[i * micro : (i + 1) * micro])
                (loss / cfg.grad_accum).backward()
                loss_sum += loss.item() / cfg.grad_accum
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            elapsed = time.perf_counter() - started
            wall += elapsed
            loss_value = loss_sum
            row = {"step": step, "tokens": step * tokens_per_step, "lr": lr_at(step - 1, total_steps, cfg),
                   "train_loss": loss_value, "val_loss": None, "tokens_per_s": tokens_per_step / elapsed}
            if val_loss is not None and step in val_steps:
                row["val_loss"] = val_loss(model)
            curve.append(row)
            if step in eval_steps:
                evals.append(_timed_eval(checkpoint_eval, model, step, step * tokens_per_step))
            bar.update(task, advance=1, loss=loss_value, tps=tokens_per_step / elapsed)
            if step % cfg.checkpoint_every == 0 or step in (total_steps, stop_at) or step in eval_steps:
                _save(ckpt_path, {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "curve": curve,
                                  "wall_s": wall, "checkpoint_evals": evals, "rng": torch.get_rng_state()})
    vals = [r["val_loss"] for r in curve if r["val_loss"] is not None]
    return RunResult(step, step * tokens_per_step, wall, step * tokens_per_step / max(wall, 1e-9), loss_value,
                     vals[-1] if vals else None, curve, evals)


def _timed_eval(hook: Callable[[torch.nn.Module], dict], model: torch.nn.Module, step: int, tokens: int) -> dict:
    """One checkpoint evaluation with its step, tokens and seconds (kept apart from the training wall time)."""
    started = time.perf_counter()
    found = hook(model)
    return {"step": step, "tokens": tokens, "eval_s": time.perf_counter() - started, **found}
