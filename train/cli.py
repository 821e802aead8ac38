"""``train``: tokenizer, run, eval, sweep (thin wrappers over train.*)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Train compact Transformers on mixtures and evaluate them.", no_args_is_help=True, pretty_exceptions_enable=False)


@app.command()
def tokenizer(run: Annotated[Path, typer.Argument(help="Run folder.")], vocab_size: int = 8192, sample_docs: int = 20_000, seed: int = 0) -> None:
    """Train the byte-level BPE shared by every mixture of the run."""
    from train.tokenizer import load_tokenizer, train_tokenizer

    path = train_tokenizer(run, vocab_size, sample_docs, seed)
    print(f"tokenizer: {path} (sha256 {load_tokenizer(run)[1][:12]})")


@app.command("run")
def run_command(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    mixture: Annotated[str, typer.Option(help="Mixture id.")],
    preset: Annotated[str, typer.Option(help="nano | micro | small | base")] = "nano",
    tokens: Annotated[int | None, typer.Option(help="Training tokens (default 20 per parameter).")] = None,
    seed: Annotated[int, typer.Option(help="Initialization seed.")] = 0,
    data_seed: Annotated[int | None, typer.Option(help="Data order seed (default: seed).")] = None,
    batch_size: int = 16,
    device: str = "auto",
    compile: bool = False,
) -> None:
    """Train one model on one mixture (resumes from its checkpoint; skips if finished)."""
    from train.config import TrainConfig
    from train.runs import run_training

    cfg = TrainConfig(mixture_id=mixture, preset=preset, tokens=tokens, seed=seed, data_seed=data_seed,
                      batch_size=batch_size, device=device, compile=compile)
    print(run_training(run, cfg))


@app.command("eval")
def eval_command(run: Annotated[Path, typer.Argument(help="Run folder.")], train_id: Annotated[str, typer.Argument()]) -> None:
    """Re-evaluate a finished run from its checkpoint and rewrite its evals rows."""
    from train.sweep import reevaluate

    for row in reevaluate(run, train_id):
        print(f"{row['eval_set']:>24} {row['metric']:>18} {row['value']:.4f} (n={row['n']})")


@app.command()
def sweep(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    sweep_id: Annotated[str, typer.Option("--sweep", help="Mixture sweep id.")],
    presets: Annotated[list[str], typer.Option("--preset", help="Presets (repeat for a size ladder).")] = ["nano"],  # noqa: B006
    seeds: Annotated[int, typer.Option(help="Seeds per mixture.")] = 3,
    tokens: Annotated[int | None, typer.Option(help="Tokens per run (default 20 per parameter).")] = None,
    device: str = "auto",
) -> None:
    """Train every mixture of a sweep x seeds (x presets), skipping finished runs; print a summary."""
    from curate.display import print_frame
    from train.sweep import run_sweep

    print_frame(run_sweep(run, sweep_id, presets, seeds, tokens, device), title=f"sweep {sweep_id}")
