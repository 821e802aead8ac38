"""Mixtures: reproducible to the byte (any worker count), on budget, capped, infeasible specs named,
entropy sweeps monotone, shards readable by pyarrow / polars / DuckDB / datasets."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr

from curate.core.catalog import Catalog
from curate.mix.emit import MixtureSpec, emit, load_pool
from curate.mix.select import InfeasibleMixture
from curate.mix.sweep import SweepSpec, run_sweep
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory) -> Path:
    """300 generated documents in five domains (source = domain file), with the topics stage (k=5)."""
    root = tmp_path_factory.mktemp("mixpool")
    records = to_records(make_corpus(300, seed=12, exact_dup_rate=0.0, near_dup_rate=0.0))
    for domain in sorted({r["domain"] for r in records}):
        write_jsonl(root / f"{domain}.jsonl", [r for r in records if r["domain"] == domain])
    recipe = parse_recipe({"name": "mixpool", "inputs": [{"path": "*.jsonl", "id_field": "id", "source": "{file}"}],
                           "stages": [{"stage": "topics", "k": 5, "sample_size": 300}]})
    return RecipeRunner(recipe, root, root / "run", workers=1, progress=False).run().run_dir


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_spec_same_bytes_for_any_worker_count(pool_run):
    spec = MixtureSpec(name="m", group_by="topic_id", strategy="uniform", token_budget=30_000, seed=3, shard_docs=40, jsonl=True)
    with Catalog(pool_run) as cat:
        first = emit(cat, spec, workers=1, diversity_sample=None)
        folder = pool_run / "mixtures" / first["mixture_id"]
        before = _folder_bytes(folder)
        second = emit(cat, spec, workers=2, diversity_sample=None)
        other_seed = emit(cat, spec.model_copy(update={"seed": 4}), diversity_sample=None)
    assert first == second and before == _folder_bytes(folder)
    assert len(first["shards"]) > 1 and {f"part-{i:05d}.{e}" for i in range(len(first["shards"])) for e in ("parquet", "jsonl")} < set(before)
    assert json.loads(before["manifest.json"]) == first
    assert other_seed["mixture_id"] != first["mixture_id"] and first["mixture_id"].startswith("m-")
    frame = pl.read_parquet(folder / "part-*.parquet")
    assert frame.columns == ["doc_id", "text", "group_key"] and frame.height == first["n_rows"]
    assert frame["doc_id"].to_list() != sorted(frame["doc_id"].to_list())  # shuffled, not in doc_id order
    assert ((frame["text"].str.len_bytes() + 3) // 4).sum() == first["n_tokens"]  # bytes/4, recounted from the shards


def test_shards_read_by_pyarrow_polars_duckdb_and_datasets(pool_run):
    datasets = pytest.importorskip("datasets")
    with Catalog(pool_run) as cat:
        manifest = emit(cat, MixtureSpec(name="hf", token_budget=20_000, shard_docs=25), diversity_sample=None)
    folder = pool_run / "mixtures" / manifest["mixture_id"]
    files = [str(folder / s["path"]) for s in manifest["shards"]]
    n_rows = sum(s["n_docs"] for s in manifest["shards"])
    assert pq.read_table(files).num_rows == n_rows
    assert pl.read_parquet(files).height == n_rows
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet({files!r})").fetchall()[0][0] == n_rows
    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(folder.parent / ".hf-cache"))
    assert ds.num_rows == n_rows and set(ds.column_names) == {"doc_id", "text", "group_key"}


def test_budget_repetition_cap_and_catalog_rows(pool_run):
    with Catalog(pool_run) as cat:
        pool_tokens = int(load_pool(cat, MixtureSpec(name="p", token_budget=1)).frame["n_tokens"].sum())
        budget = 7 * pool_tokens // 2
        big = emit(cat, MixtureSpec(name="big", strategy="proportional", token_budget=budget, max_repeats=4), diversity_sample=None)
        docs = cat.query("SELECT * FROM mixture_docs WHERE mixture_id = $m", {"m": big["mixture_id"]})
        comp = cat.query("SELECT * FROM mixture_composition WHERE mixture_id = $m", {"m": big["mixture_id"]})
        row = cat.query("SELECT * FROM mixtures WHERE mixture_id = $m", {"m": big["mixture_id"]}).row(0, named=True)
    assert abs(big["n_tokens"] - budget) / budget < 0.005
    assert docs["repeats"].max() == 4 and docs["repeats"].min() >= 3  # three epochs, then part of a fourth
    assert comp["n_tokens"].sum() == big["n_tokens"] == row["n_tokens"] and row["path"] == f"mixtures/{big['mixture_id']}"
    assert {g: v["max_repeats"] for g, v in big["groups"].items()} == dict(comp.select("group_key", "max_repeats").iter_rows())


def test_infeasible_spec_names_the_group_that_ran_short(pool_run):
    with Catalog(pool_run) as cat:
        tokens = load_pool(cat, MixtureSpec(name="p", token_budget=1)).frame.group_by("group_key").agg(pl.col("n_tokens").sum())
        smallest = tokens.sort("n_tokens")["group_key"][0]
        budget = int(tokens["n_tokens"].min()) * 2 * tokens.height + 1000
        with pytest.raises(InfeasibleMixture, match=rf"group '{smallest}' ran short.*max_repeats=2"):
            emit(cat, MixtureSpec(name="bad", strategy="uniform", token_budget=budget, max_repeats=2))
        assert cat.query("SELECT count(*) AS n FROM mixtures WHERE name = 'bad'")["n"][0] == 0


def test_entropy_sweep_is_monotone_and_reproducible_across_workers(pool_run):
    sweep = SweepSpec(name="ent", base={"group_by": "topic_id", "token_budget": 40_000, "max_repeats": 8}, steps=8,
                      diversity_sample=60, n_boot=0)
    with Catalog(pool_run) as cat:
        table = run_sweep(cat, sweep, workers=2)
        manifests = {m: (pool_run / "mixtures" / m / "manifest.json").read_bytes() for m in table["mixture_id"]}
        again = run_sweep(cat, sweep, workers=1)
        report = cat.report("mixtures", sweep_id="ent")
    assert again["mixture_id"].to_list() == table["mixture_id"].to_list()
    assert manifests == {m: (pool_run / "mixtures" / m / "manifest.json").read_bytes() for m in table["mixture_id"]}
    measured = table["topic_entropy_tokens"].to_list()
    assert spearmanr(table["target_entropy"], measured).statistic == 1.0 and measured == sorted(set(measured))
    assert (table["target_entropy"] - table["topic_entropy_tokens"]).abs().max() < 0.05
    assert table["budget_error_pct"].abs().max() < 0.5
    assert report.height == 8 and report["vendi"].null_count() == 0 and report["topic_entropy_tokens"].to_list() == measured


def test_diversity_max_and_min_bracket_the_pool(pool_run):
    with Catalog(pool_run) as cat:
        hi, lo = (emit(cat, MixtureSpec(name=s, group_by="topic_id", strategy=s, token_budget=30_000, max_repeats=2), diversity_sample=80, n_boot=0)
                  for s in ("diversity_max", "diversity_min"))
        scores = cat.query("SELECT scope_id, metric, value FROM diversity WHERE scope_kind = 'mixture' AND metric IN ('vendi', 'topic_entropy_tokens')")
    value = lambda m, metric: scores.filter((pl.col("scope_id") == m["mixture_id"]) & (pl.col("metric") == metric))["value"][0]  # noqa: E731
    assert value(hi, "topic_entropy_tokens") > value(lo, "topic_entropy_tokens") + 0.5
    assert value(hi, "vendi") > value(lo, "vendi")
    assert max(v["max_repeats"] for v in lo["groups"].values()) <= 2


def test_where_quality_bucket_and_quality_top(pool_run):
    base = {"where": "source IN ('law', 'software')", "quality_column": "n_bytes", "token_budget": 8_000}
    with Catalog(pool_run) as cat:
        buckets = emit(cat, MixtureSpec(name="qb", group_by="quality_bucket", quality_buckets=3, strategy="uniform", **base), diversity_sample=None)
        top = emit(cat, MixtureSpec(name="qt", strategy="quality_top", **base), diversity_sample=None)
        sources = cat.query("SELECT DISTINCT d.source FROM mixture_docs m JOIN documents d USING (doc_id) WHERE m.mixture_id IN ($a, $b)",
                            {"a": buckets["mixture_id"], "b": top["mixture_id"]})["source"].to_list()
        lengths = cat.query("SELECT d.source, d.n_bytes, m.doc_id IS NOT NULL AS picked FROM documents d LEFT JOIN mixture_docs m"
                            " ON m.doc_id = d.doc_id AND m.mixture_id = $t WHERE d.source IN ('law', 'software')", {"t": top["mixture_id"]})
    assert set(buckets["groups"]) == {"q1", "q2", "q3"} and set(sources) <= {"law", "software"}
    for _, part in lengths.group_by("source"):  # highest values first; at most one best-fit document fills the gap
        picked = sorted(part.filter(pl.col("picked"))["n_bytes"].to_list())
        assert picked[1] >= part.filter(~pl.col("picked"))["n_bytes"].max()


def test_tokenizer_run_counts_real_tokens(pool_run):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    with Catalog(pool_run) as cat:
        texts = cat.query("SELECT text FROM documents ORDER BY doc_id")["text"].to_list()
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, show_progress=False))
        path = pool_run / "train" / "tokenizer" / "tokenizer.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tok.save(str(path))
        manifest = emit(cat, MixtureSpec(name="tok", tokenizer="run", token_budget=20_000), diversity_sample=None)
    shards = pl.read_parquet(pool_run / "mixtures" / manifest["mixture_id"] / "part-*.parquet")
    counted = sum(len(e.ids) for e in tok.encode_batch(shards["text"].to_list(), add_special_tokens=False))
    assert counted == manifest["n_tokens"] and abs(counted - 20_000) / 20_000 < 0.005
    assert manifest["token_counter"].startswith("tokenizer:")
