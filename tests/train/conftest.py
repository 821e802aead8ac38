"""A small run folder built by hand to the mixtures contract: docs parquet, catalog, mixtures, eval sets.

The trainer only reads what the contract promises (``mixtures`` rows, ``manifest.json`` + shards, and
``eval_sets`` joined to ``documents``), so the fixture writes exactly that from generated text. The eval split
is recorded (``eval_splits`` with its split_id) before anything is fitted, as ``train tokenizer`` requires.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.mix.eval_split import SCHEMA as CONTAMINATION_SCHEMA
from curate.mix.eval_split import record_split
from tests.corpus import make_corpus

OOD_DOMAIN = "gardening"


def _write_mixture(run_dir: Path, mixture_id: str, sweep_id: str, docs: pl.DataFrame, seed: int) -> dict:
    """One mixture folder (shuffled shard + manifest); returns its ``mixtures`` row."""
    folder = run_dir / "mixtures" / mixture_id
    folder.mkdir(parents=True)
    order = list(range(docs.height))
    random.Random(seed).shuffle(order)
    shard = docs[order].select("doc_id", "text", pl.col("source").alias("group_key"))
    shard.write_parquet(folder / "part-00000.parquet")
    n_tokens = int(shard["text"].str.len_bytes().sum() // 4)
    groups = {g: {"n_docs": n, "n_tokens": n_tokens // max(1, shard["group_key"].n_unique()), "weight": 1.0, "max_repeats": 1}
              for g, n in shard.group_by("group_key").len().iter_rows()}
    manifest = {"mixture_id": mixture_id, "name": mixture_id, "sweep_id": sweep_id, "seed": seed, "token_budget": n_tokens,
                "n_tokens": n_tokens, "groups": groups,
                "shards": [{"path": "part-00000.parquet", "n_docs": shard.height,
                            "sha256": hashlib.sha256((folder / "part-00000.parquet").read_bytes()).hexdigest()}]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return {"mixture_id": mixture_id, "name": mixture_id, "sweep_id": sweep_id, "spec": json.dumps({"fixture": True}),
            "seed": seed, "token_budget": n_tokens, "n_docs": shard.height, "n_tokens": n_tokens, "path": f"mixtures/{mixture_id}"}


def build_run(root: Path, docs_per_domain: int = 40, eval_per_group: int = 3, seed: int = 0) -> Path:
    """A run with mixtures ``one`` (software only) and ``all`` (every in-distribution domain), sweep ``s``.

    Eval sets: ``id/<domain>`` holds ``eval_per_group`` held-out documents of each in-distribution domain;
    ``ood/gardening`` holds a domain no mixture contains.
    """
    run_dir = root / "run"
    corpus = make_corpus(5 * docs_per_domain, seed=seed, exact_dup_rate=0.0, near_dup_rate=0.0, sentences=(12, 24))
    docs = pl.DataFrame({"doc_id": [d.id for d in corpus], "text": [d.text for d in corpus], "source": [d.domain for d in corpus]})
    (run_dir / "docs").mkdir(parents=True)
    docs.write_parquet(run_dir / "docs" / "part-00000.parquet")
    held = docs.filter(pl.col("source") != OOD_DOMAIN).group_by("source", maintain_order=True).head(eval_per_group)
    evals = pl.concat([
        held.select(pl.format("id/{}", "source").alias("eval_set"), "doc_id", pl.col("source").alias("group_key"), pl.lit("id").alias("kind")),
        docs.filter(pl.col("source") == OOD_DOMAIN).head(2 * eval_per_group).select(
            pl.format("ood/{}", "source").alias("eval_set"), "doc_id", pl.col("source").alias("group_key"), pl.lit("ood").alias("kind")),
    ])
    pool = docs.filter(~pl.col("doc_id").is_in(evals["doc_id"].implode()) & (pl.col("source") != OOD_DOMAIN))
    mixtures = [_write_mixture(run_dir, "one", "s", pool.filter(pl.col("source") == "software"), seed),
                _write_mixture(run_dir, "all", "s", pool, seed)]
    with Catalog(run_dir) as cat:
        record_split(cat, evals, pl.DataFrame(schema=CONTAMINATION_SCHEMA), {"fixture": True})  # reserved before any fit
        cat.append("mixtures", pl.DataFrame(mixtures))
    return run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A fresh fixture run (no tokenizer yet)."""
    return build_run(tmp_path)
