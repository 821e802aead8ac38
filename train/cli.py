"""``train``: tokenizer, run, eval, sweep (thin: parse -> TrainConfig -> one library call)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate.core.command import UserErrorsAsMessages, existing_run

app = typer.Typer(cls=UserErrorsAsMessages, help="Train compact Transformers on mixtures and evaluate them.", no_args_is_help=True,
                  pretty_exceptions_enable=False)

Run = Annotated[Path, typer.Argument(help="Run folder (holds catalog.duckdb) or name under ./runs.", callback=existing_run)]
Tokens = Annotated[int | None, typer.Option(help="Training tokens per run (default: 20 per parameter).")]
Device = Annotated[str, typer.Option(help="auto (cuda if available), cpu or cuda.")]
BatchSize = Annotated[int, typer.Option(help="Sequences per optimizer step.")]
Compile = Annotated[bool, typer.Option(help="torch.compile the model (worth it on GPU).")]
Threads = Annotated[int | None, typer.Option(help="CPU threads (default: the cores this process may use).")]
CpuMatmul = Annotated[str, typer.Option(help="fp32 matrix products on CPU: auto (oneDNN on x86-64), onednn or aten.")]
EvalDocs = Annotated[int, typer.Option(help="Documents per eval set scored at the end (a fixed md5(doc_id) subset).")]
EvalOnly = Annotated[list[str] | None, typer.Option("--eval-set", help="Score only this eval set (repeatable; default: every set).")]
ProbeDocs = Annotated[int | None, typer.Option(min=1, help="Documents per eval set the probes score at the end (default: all scored).")]
EvalAt = Annotated[str, typer.Option(help="Fractions of the run where the eval sets are scored in bits per byte, comma-separated; 'none': only at the end.")]
CheckpointEvalDocs = Annotated[int, typer.Option(help="Documents per eval set scored at those checkpoints (the first of the final subset).")]


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
    mixture: Annotated[str, typer.Option(help="Mixture id (see `reports show mixtures RUN`).")],
    preset: Annotated[str, typer.Option(help="nano | micro | small | base (pico: smoke tests)")] = "nano",
    tokens: Tokens = None,
    seed: Annotated[int, typer.Option(help="Initialization seed.")] = 0,
    data_seed: Annotated[int | None, typer.Option(help="Data order seed (default: the init seed).")] = None,
    batch_size: BatchSize = 16,
    device: Device = "auto",
    compile: Compile = False,
    threads: Threads = None,
    cpu_matmul: CpuMatmul = "auto",
    checkpoint_every: Annotated[int, typer.Option(help="Steps between atomic checkpoints.")] = 100,
    eval_docs: EvalDocs = 100,
    eval_at: EvalAt = "0.25,0.5,0.75",
    checkpoint_eval_docs: CheckpointEvalDocs = 8,
    probe_docs: ProbeDocs = None,
    eval_only: EvalOnly = None,
) -> None:
    """Train one model on one mixture (resumes from its checkpoint; skips if finished), then evaluate it."""
    from train.config import TrainConfig
    from train.runs import run_training

    cfg = TrainConfig(mixture_id=mixture, preset=preset, tokens=tokens, seed=seed, data_seed=data_seed,
                      batch_size=batch_size, device=device, compile=compile, num_threads=threads, cpu_matmul=cpu_matmul,
                      checkpoint_every=checkpoint_every, eval_docs=eval_docs, eval_at=_fractions(eval_at),
                      checkpoint_eval_docs=checkpoint_eval_docs, probe_docs=probe_docs, eval_only=eval_only or None)
    print(run_training(run, cfg))


@app.command("eval")
def eval_command(run: Run, train_id: Annotated[str, typer.Argument(help="A train_runs.train_id.")], device: Device = "auto",
                 threads: Threads = None) -> None:
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
    tokens: Tokens = None,
    batch_size: BatchSize = 16,
    device: Device = "auto",
    compile: Compile = False,
    threads: Threads = None,
    cpu_matmul: CpuMatmul = "auto",
    eval_docs: EvalDocs = 100,
    eval_at: EvalAt = "0.25,0.5,0.75",
    checkpoint_eval_docs: CheckpointEvalDocs = 8,
    probe_docs: ProbeDocs = None,
    eval_only: EvalOnly = None,
    workers: Annotated[int, typer.Option(min=1, help="Runs trained at once, each in its own process with cores/workers threads.")] = 1,
    replicate: Annotated[int, typer.Option(min=0, help="Mixtures (spread along the sweep) that get one seed more: measures seed noise cheaply.")] = 0,
) -> None:
    """Train every mixture of a sweep x seeds (x presets), skipping finished runs; write a summary table."""
    from curate.core.display import print_frame
    from train.config import TrainConfig
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
    tokens: Annotated[int, typer.Option(help="Training tokens of each proxy, also its mixture's token budget.")],
    name: Annotated[str, typer.Option(help="Search id: the proxies' sweep_id (validation mixtures: NAME-val).")] = "search",
    group_by: Annotated[str, typer.Option(help="Groups whose shares are searched: source, lang, topic_id, any doc_signals column or sql:<expression>.")] = "source",
    where: Annotated[str, typer.Option(help="SQL over doc_signals restricting the pool, e.g. \"lang = 'en'\".")] = "true",
    target: Annotated[str, typer.Option(help="What to minimize: panel/bpb, unseen/bpb or <eval_set>/bpb.")] = "panel/bpb",
    preset: Annotated[str, typer.Option(help="Proxy model size: pico | nano | micro | small | base.")] = "nano",
    proxies: Annotated[int, typer.Option(help="Proxy mixtures (Dirichlet draws).")] = 32,
    heldout: Annotated[float, typer.Option(help="Share of proxies never used in fitting.")] = 0.2,
    folds: Annotated[int, typer.Option(help="k of the k-fold CV that chooses the regressor.")] = 5,
    model: Annotated[list[str] | None, typer.Option("--model", help="Regressor to compare (repeatable): linear, loglinear, gbm, law; default all.")] = None,
    max_repeats: Annotated[int, typer.Option(help="Repetition limit: caps each group at its unique tokens x this / the budget.")] = 4,
    min_share: Annotated[float, typer.Option(help="Smallest share of every group in the chosen mixture.")] = 0.0,
    candidates: Annotated[int, typer.Option(help="Candidate mixtures scored by the regressor.")] = 100_000,
    top_k: Annotated[int, typer.Option(help="The chosen mixture averages this many best candidates.")] = 100,
    validation_seeds: Annotated[int, typer.Option(help="Seeds per validation mixture (chosen and baselines); 0: none.")] = 3,
    validation_preset: Annotated[str | None, typer.Option(help="Model size of the validation runs (default: the proxies').")] = None,
    validation_tokens: Annotated[int | None, typer.Option(help="Tokens of the validation runs (default: --tokens).")] = None,
    eval_docs: EvalDocs = 100,
    seed: Annotated[int, typer.Option(help="Seed of the draws, folds, held-out split and candidates.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Runs trained at once, each in its own process with cores/workers threads.")] = 1,
) -> None:
    """Search the mixture (RegMix): train proxies on Dirichlet mixtures, regress the target on the weights, optimize, validate."""
    import sys

    import duckdb
    from pydantic import ValidationError

    from train.search.config import MODELS, SearchConfig

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
