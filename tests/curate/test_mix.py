"""Mixtures: reproducible to the byte, on budget, capped, infeasible specs named, zero contamination."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curate.catalog import Catalog
from curate.mix import MixtureSpec, emit
from curate.mix_eval import reserve_eval
from curate.mix_select import InfeasibleMixture
from curate.mix_sweep import SweepSpec, run_sweep
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, mutate, to_records

import random


@pytest.fixture
def pool_run(tmp_path, run_recipe):
    docs = make_corpus(400, seed=12, exact_dup_rate=0.0, near_dup_rate=0.0)
    records = to_records(docs)
    for r in records:
        r["domain_src"] = r["domain"]
    write_jsonl(tmp_path / "pool" / "c.jsonl", records)
    recipe = {"inputs": [{"path": "pool/c.jsonl", "id_field": "id"}],
              "stages": [{"stage": "topics", "k": 5, "sample_size": 400}]}
    return run_recipe(recipe, workers=2).run_dir


def test_same_spec_same_bytes(pool_run):
    spec = MixtureSpec(name="m", group_by="topic_id", strategy="uniform", token_budget=30_000, seed=3)
    with Catalog(pool_run) as cat:
        first = emit(cat, spec)
        shard = (pool_run / "mixtures" / first["mixture_id"] / "part-00000.parquet").read_bytes()
        second = emit(cat, spec)
    assert first == second
    assert shard == (pool_run / "mixtures" / first["mixture_id"] / "part-00000.parquet").read_bytes()
    manifest = json.loads((pool_run / "mixtures" / first["mixture_id"] / "manifest.json").read_text())
    assert manifest["shards"][0]["sha256"] == first["shards"][0]["sha256"]
    assert abs(manifest["n_tokens"] - 30_000) / 30_000 < 0.03


def test_budget_and_repetition_cap(pool_run):
    with Catalog(pool_run) as cat:
        big = emit(cat, MixtureSpec(name="big", group_by="topic_id", strategy="proportional", token_budget=400_000, max_repeats=4))
        repeats = cat.query("SELECT max(repeats) AS r FROM mixture_docs WHERE mixture_id = $m", {"m": big["mixture_id"]})["r"][0]
        assert 1 < repeats <= 4
        assert abs(big["n_tokens"] - 400_000) / 400_000 < 0.005
        with pytest.raises(InfeasibleMixture, match=r"group '\d' has .* tokens"):
            emit(cat, MixtureSpec(name="bad", group_by="topic_id", strategy="uniform", token_budget=10_000_000, max_repeats=2))


def test_sweep_entropy_is_monotone(pool_run):
    with Catalog(pool_run) as cat:
        table = run_sweep(cat, SweepSpec(name="s", base={"group_by": "topic_id", "strategy": "target_entropy", "token_budget": 40_000}, steps=5, diversity_sample=200))
    values = table["topic_entropy"].to_list()
    assert values == sorted(values) and len(set(values)) == 5


def test_planted_near_duplicates_of_eval_docs_never_reach_a_mixture(tmp_path, run_recipe):
    docs = to_records(make_corpus(200, seed=13, exact_dup_rate=0.0, near_dup_rate=0.0))
    rng = random.Random(0)
    plants = [dict(d, id=f"plant{i}", text=mutate(rng, d["text"], 1)) for i, d in enumerate(docs[:200])]
    write_jsonl(tmp_path / "c.jsonl", docs + plants)
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id", "source": "all"}]}).run_dir
    with Catalog(run) as cat:
        found = reserve_eval(cat, "source", per_group=40, seed=1)
        assert found.height >= 36  # nearly every eval doc has its planted twin (one word changed) caught
        for i in range(3):
            emit(cat, MixtureSpec(name=f"m{i}", group_by="source", token_budget=60_000, seed=i, max_repeats=8))
        assert cat.report("contamination").height == 0
        leaked = cat.query("SELECT count(*) AS n FROM mixture_docs m JOIN contamination c USING (doc_id)")["n"][0]
    assert leaked == 0


def test_shards_load_with_hf_datasets(pool_run):
    datasets = pytest.importorskip("datasets")
    with Catalog(pool_run) as cat:
        manifest = emit(cat, MixtureSpec(name="hf", token_budget=20_000))
    files = [str(pool_run / "mixtures" / manifest["mixture_id"] / s["path"]) for s in manifest["shards"]]
    ds = datasets.load_dataset("parquet", data_files=files, split="train")
    assert ds.num_rows == sum(s["n_docs"] for s in manifest["shards"])
    assert set(ds.column_names) == {"doc_id", "text", "group_key"}
    assert pl.read_parquet(files[0]).height == manifest["shards"][0]["n_docs"]
