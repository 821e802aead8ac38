"""Studies with planted truth, run through the whole loop (curate → tokenizer → designed sweep → training → study).

Two generated corpora of five sources (no third-party text):

- **planted**: each source is one domain of :mod:`tests.corpus` (its own vocabulary); the target is the whole
  panel, a blend of all five. A mixture of k domains has seen k/5 of the blend's vocabulary, so at one budget
  more domains must lower the blend's loss: diversity provably helps the target.
- **null**: the same documents with the source label drawn at random, so every source is the same blend;
  which and how many sources a mixture holds cannot matter: diversity provably does not help.

The study must say "effect" (bits per byte falling with log2 k) on the first and must not on the second.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass
from pathlib import Path

import orjson
import polars as pl

from curate.core.catalog import Catalog
from curate.mix.sweep import SweepSpec, run_sweep
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from reports.study import analyse_study
from tests.corpus import make_corpus
from train.config import TrainConfig
from train.sweep import run_sweep as train_sweep
from train.tokenizer import train_tokenizer

SOURCES = ("s1", "s2", "s3", "s4", "s5")


@dataclass(frozen=True)
class PlantedSize:
    """12 study and 12 control mixtures (k = 1, 2, 4 of 5 sources, 4 draws each), pico on 150k tokens: the
    smallest design whose CI can exclude zero with a confound adjusted for (6 mixtures leave 3 degrees of freedom)."""

    n_docs: int = 600
    per_group: int = 8
    budget: int = 150_000
    draws: int = 4
    preset: str = "pico"
    n_boot: int = 1000
    n_perm: int = 1999


def write_corpus(folder: Path, planted: bool, n_docs: int, seed: int = 5) -> None:
    """One JSONL.gz per source; planted: source = domain, null: source drawn at random for each document."""
    docs = make_corpus(n_docs, seed=seed, exact_dup_rate=0.0, near_dup_rate=0.0, sentences=(20, 40))
    domains = sorted({d.domain for d in docs})
    rng = random.Random(seed)
    by_source: dict[str, list[bytes]] = {s: [] for s in SOURCES}
    for d in docs:
        source = SOURCES[domains.index(d.domain)] if planted else rng.choice(SOURCES)
        by_source[source].append(orjson.dumps({"id": d.id, "text": d.text}))
    folder.mkdir(parents=True, exist_ok=True)
    for source, lines in by_source.items():
        (folder / f"{source}.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))


def build_planted_run(root: Path, planted: bool, n_docs: int, per_group: int) -> Path:
    """Curate one generated corpus (eval split by source, exact dedup, topics) and train its 600-token BPE."""
    write_corpus(root / "raw", planted, n_docs)
    recipe = parse_recipe({"name": "planted", "inputs": [{"path": "raw/*.jsonl.gz", "id_field": "id", "source": "{file}"}],
                           "eval_split": {"group_by": "source", "per_group": per_group},
                           "stages": [{"stage": "exact_dedup"}, {"stage": "topics", "k": 5, "sample_size": 400}]})
    run_dir = RecipeRunner(recipe, root, root / "run", workers=1, progress=False).run().run_dir
    train_tokenizer(run_dir, 600)
    return run_dir


def run_planted_study(root: Path, planted: bool, size: PlantedSize = PlantedSize(), workers: int = 2) -> pl.DataFrame:
    """The whole loop on one generated corpus; returns the study's ``study_effects`` rows."""
    run_dir = build_planted_run(root, planted, size.n_docs, size.per_group)
    sweep = SweepSpec(name="planted", base={"group_by": "source", "tokenizer": "run", "token_budget": size.budget, "epochs": 2},
                      design={"kind": "subsets", "k": [1, 2, 4], "draws": size.draws, "balance": 200},
                      control={"group_by": "bucket:5"}, study={"factor": "log2_k", "target": "panel/bpb", "confounds": ["tokens_per_byte"]},
                      diversity_sample=0)
    with Catalog(run_dir) as cat:
        run_sweep(cat, sweep)
    base = TrainConfig(mixture_id="-", tokens=size.budget, eval_at=[0.5], probe_docs=2)
    train_sweep(run_dir, "planted", [size.preset], seeds=1, base=base, progress=False, workers=workers, replicate=2)
    return analyse_study(run_dir, "planted", n_boot=size.n_boot, n_perm=size.n_perm)


def found_effect(effects: pl.DataFrame) -> bool:
    """Did the study claim that more groups lower the target (the pre-registered row's verdict)?"""
    row = effects.filter((pl.col("analysis") == "primary") & (pl.col("step_frac") == 1.0)).row(0, named=True)
    return row["verdict"] == "effect" and row["estimate"] < 0
