"""``train``: tokenizer, run, eval, sweep (thin: parse -> TrainConfig -> one library call)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate.core.command import Mirror, UserErrorsAsMessages, existing_run
from train.config import TrainConfig
from train.search.config import MODELS, SearchConfig

app = typer.Typer(cls=UserErrorsAsMessages, help="Train compact Transformers on mixtures and evaluate them.", no_args_is_help=True,
                  pretty_exceptions_enable=False)

Run = Annotated[Path, typer.Argument(help="Run folder (holds catalog.duckdb) or name under ./runs.", callback=existing_run)]
TRAIN = Mirror(TrainConfig)  # options that set a TrainConfig field take its help and default from it
SEARCH = Mirror(SearchConfig)
Tokens = Annotated[int | None, TRAIN.option("tokens")]
Device = Annotated[str, TRAIN.option("device")]
BatchSize = Annotated[int, TRAIN.option("batch_size")]
Compile = Annotated[bool, TRAIN.option("compile")]
Threads = Annotated[int | None, TRAIN.option("num_threads", "--threads")]
CpuMatmul = Annotated[str, TRAIN.option("cpu_matmul")]
EvalDocs = Annotated[int, TRAIN.option("eval_docs")]
EvalOnly = Annotated[list[str] | None, TRAIN.option("eval_only", "--eval-set", also="Repeat --eval-set for several.")]
ProbeDocs = Annotated[int | None, TRAIN.option("probe_docs", min=1)]
EvalAt = Annotated[str, TRAIN.option("eval_at", also="Comma-separated; 'none': only at the end.")]
EVAL_AT = ",".join(str(f) for f in TRAIN.default("eval_at"))
CheckpointEvalDocs = Annotated[int, TRAIN.option("checkpoint_eval_docs")]


def _fractions(text: str) -> list[float]:
    """'0.25,0.5' -> [0.25, 0.5]; 'none' or '' -> []."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        fractions = [float(part) for part in text.split(",")]
    except ValueError:
        fractions = []
    if not fractions or not all(0 < f < 1 for f in fractions):
        raise typer.BadParameter(f"takes fractions strictly between 0 and 1 like 0.25,0.5,0.75, or 'none'; got {text!r}",
                                 param_hint="--eval-at")
    return fractions


@app.command()
def tokenizer(
    run: Run,
    vocab_size: Annotated[int, typer.Option(min=257, help="BPE vocabulary size, EOS and the 256 bytes included.")] = 8192,
    sample_docs: Annotated[int, typer.Option(min=1, help="Kept documents sampled to train it.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    no_eval_split: Annotated[bool, typer.Option("--no-eval-split", help="Train although no eval split is reserved (not for studies:"
                                                " a split reserved later would hold documents the tokenizer was fitted on).")] = False,
) -> None:
    """Train the byte-level BPE shared by every mixture of the run, leaving the eval split's documents out."""
    import sys

    from train.tokenizer import NoEvalSplit, load_tokenizer, train_tokenizer

    try:
        path = train_tokenizer(run, vocab_size, sample_docs, seed, require_split=not no_eval_split)
    except NoEvalSplit as err:
        print(f"error: {err}", file=sys.stderr)
        raise typer.Exit(2) from None
    print(f"tokenizer: {path} (sha256 {load_tokenizer(run)[1][:12]})")


@app.command("run")
def run_command(
    run: Run,
    mixture: Annotated[str, TRAIN.option("mixture_id", "--mixture")],
    preset: Annotated[str, TRAIN.option("preset")] = TRAIN.default("preset"),
    tokens: Tokens = TRAIN.default("tokens"),
    seed: Annotated[int, TRAIN.option("seed")] = TRAIN.default("seed"),
    data_seed: Annotated[int | None, TRAIN.option("data_seed")] = TRAIN.default("data_seed"),
    batch_size: BatchSize = TRAIN.default("batch_size"),
    device: Device = TRAIN.default("device"),
    compile: Compile = TRAIN.default("compile"),
    threads: Threads = TRAIN.default("num_threads"),
    cpu_matmul: CpuMatmul = TRAIN.default("cpu_matmul"),
    checkpoint_every: Annotated[int, TRAIN.option("checkpoint_every")] = TRAIN.default("checkpoint_every"),
    eval_docs: EvalDocs = TRAIN.default("eval_docs"),
    eval_at: EvalAt = EVAL_AT,
    checkpoint_eval_docs: CheckpointEvalDocs = TRAIN.default("checkpoint_eval_docs"),
    probe_docs: ProbeDocs = TRAIN.default("probe_docs"),
    eval_only: EvalOnly = None,
) -> None:
    """Train one model on one mixture (resumes from its checkpoint; skips if finished), then evaluate it."""
    from train.runs import run_training

    cfg = TrainConfig(mixture_id=mixture, preset=preset, tokens=tokens, seed=seed, data_seed=data_seed,
                      batch_size=batch_size, device=device, compile=compile, num_threads=threads, cpu_matmul=cpu_matmul,
                      checkpoint_every=checkpoint_every, eval_docs=eval_docs, eval_at=_fractions(eval_at),
                      checkpoint_eval_docs=checkpoint_eval_docs, probe_docs=probe_docs, eval_only=eval_only or None)
    print(run_training(run, cfg))


@app.command("eval")
def eval_command(run: Run, train_id: Annotated[str, typer.Argument(help="A train_runs.train_id.")], device: Device = TRAIN.default("device"),
                 threads: Threads = TRAIN.default("num_threads")) -> None:
    """Evaluate a finished run from its checkpoint and replace its evals rows."""
    from train.runs import reevaluate

    for row in reevaluate(run, train_id, device, threads):
        print(f"{row['eval_set']:>24} {row['metric']:>18} {row['value']:.4f} (n={row['n']})")


@app.command()
def sweep(
    run: Run,
    sweep_id: Annotated[str, typer.Option("--sweep", help="Mixture sweep id (mixtures.sweep_id).")],
    presets: Annotated[list[str], typer.Option("--preset", help="Preset, or PRESET:SEEDS; repeat for a size ladder (e.g. --preset nano --preset micro:1).")] = ["nano"],  # noqa: B006
    seeds: Annotated[int, typer.Option(help="Seeds per mixture (init seed s, data seed 1000+s).")] = 3,
    tokens: Tokens = TRAIN.default("tokens"),
    batch_size: BatchSize = TRAIN.default("batch_size"),
    device: Device = TRAIN.default("device"),
    compile: Compile = TRAIN.default("compile"),
    threads: Threads = TRAIN.default("num_threads"),
    cpu_matmul: CpuMatmul = TRAIN.default("cpu_matmul"),
    eval_docs: EvalDocs = TRAIN.default("eval_docs"),
    eval_at: EvalAt = EVAL_AT,
    checkpoint_eval_docs: CheckpointEvalDocs = TRAIN.default("checkpoint_eval_docs"),
    probe_docs: ProbeDocs = TRAIN.default("probe_docs"),
    eval_only: EvalOnly = None,
    workers: Annotated[int, typer.Option(min=1, help="Runs trained at once, each in its own process with cores/workers threads.")] = 1,
    replicate: Annotated[int, typer.Option(min=0, help="Mixtures (spread along the sweep) that get one seed more: measures seed noise cheaply.")] = 0,
) -> None:
    """Train every mixture of a sweep x seeds (x presets), skipping finished runs; write a summary table."""
    from curate.core.display import print_frame
    from train.sweep import parse_preset, ranking_agreement, run_sweep

    try:
        for entry in presets:
            parse_preset(entry, seeds)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--preset") from None
    base = TrainConfig(mixture_id="-", tokens=tokens, batch_size=batch_size, device=device, compile=compile, num_threads=threads,
                       cpu_matmul=cpu_matmul, eval_docs=eval_docs, eval_at=_fractions(eval_at), checkpoint_eval_docs=checkpoint_eval_docs,
                       probe_docs=probe_docs, eval_only=eval_only or None)
    summary = run_sweep(run, sweep_id, presets, seeds, base, workers=workers, replicate=replicate)
    print_frame(summary, title=f"sweep {sweep_id} (also in {run}/train/sweep-{sweep_id}.csv)")
    if len(presets) > 1:
        print_frame(ranking_agreement(summary), title="ranking agreement across sizes")


@app.command()
def export(
    run: Run,
    train_id: Annotated[str, typer.Argument(help="A finished train_runs.train_id.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write (config.json, model.safetensors, tokenizer).")],
    lm_eval_tasks: Annotated[Path | None, typer.Option(help="Also write lm-evaluation-harness tasks from the eval sets here.")] = None,
) -> None:
    """Export a run as a Hugging Face model folder (AutoModelForCausalLM.from_pretrained loads it offline)."""
    from train.export import export_run, write_lm_eval_tasks

    print(f"model: {export_run(run, train_id, out)}")
    if lm_eval_tasks is not None:
        names = write_lm_eval_tasks(run, lm_eval_tasks)
        print(f"lm-eval tasks ({', '.join(names)}): lm_eval run --model hf --model_args pretrained={out} "
              f"--include_path {lm_eval_tasks} --tasks mixlab --device cpu")


@app.command()
def search(
    run: Run,
    tokens: Annotated[int, SEARCH.option("tokens")],
    name: Annotated[str, SEARCH.option("name")] = SEARCH.default("name"),
    group_by: Annotated[str, SEARCH.option("group_by")] = SEARCH.default("group_by"),
    where: Annotated[str, SEARCH.option("where")] = SEARCH.default("where"),
    target: Annotated[str, SEARCH.option("target")] = SEARCH.default("target"),
    preset: Annotated[str, SEARCH.option("preset")] = SEARCH.default("preset"),
    proxies: Annotated[int, SEARCH.option("n_proxies", "--proxies")] = SEARCH.default("n_proxies"),
    heldout: Annotated[float, SEARCH.option("heldout")] = SEARCH.default("heldout"),
    folds: Annotated[int, SEARCH.option("folds")] = SEARCH.default("folds"),
    model: Annotated[list[str] | None, SEARCH.option("models", "--model", also=f"Repeatable: {', '.join(MODELS)}; default all.")] = None,
    max_repeats: Annotated[int, SEARCH.option("max_repeats")] = SEARCH.default("max_repeats"),
    min_share: Annotated[float, SEARCH.option("min_share")] = SEARCH.default("min_share"),
    candidates: Annotated[int, SEARCH.option("candidates")] = SEARCH.default("candidates"),
    top_k: Annotated[int, SEARCH.option("top_k")] = SEARCH.default("top_k"),
    validation_seeds: Annotated[int, SEARCH.option("validation_seeds")] = SEARCH.default("validation_seeds"),
    validation_preset: Annotated[str | None, SEARCH.option("validation_preset")] = SEARCH.default("validation_preset"),
    validation_tokens: Annotated[int | None, SEARCH.option("validation_tokens")] = SEARCH.default("validation_tokens"),
    eval_docs: Annotated[int, SEARCH.option("eval_docs")] = SEARCH.default("eval_docs"),
    seed: Annotated[int, SEARCH.option("seed")] = SEARCH.default("seed"),
    workers: Annotated[int, typer.Option(min=1, help="Runs trained at once, each in its own process with cores/workers threads.")] = 1,
) -> None:
    """Search the mixture (RegMix): train proxies on Dirichlet mixtures, regress the target on the weights, optimize, validate."""
    import sys

    import duckdb
    from pydantic import ValidationError

    try:
        cfg = SearchConfig(name=name, group_by=group_by, where=where, target=target, preset=preset, tokens=tokens, n_proxies=proxies,  # type: ignore[arg-type]
                           heldout=heldout, folds=folds, models=model or list(MODELS), max_repeats=max_repeats, min_share=min_share,  # type: ignore[arg-type]
                           candidates=candidates, top_k=top_k, validation_seeds=validation_seeds, validation_preset=validation_preset,  # type: ignore[arg-type]
                           validation_tokens=validation_tokens, eval_docs=eval_docs, seed=seed)
        from train.search.run import run_search

        result = run_search(run, cfg, workers=workers)
    except (ValidationError, ValueError, FileNotFoundError, duckdb.Error) as err:
        print(f"error: {err}", file=sys.stderr)
        raise typer.Exit(2) from None
    from train.search.report import print_search

    print_search(run, result)
