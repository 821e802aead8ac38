"""minhash_dedup: accuracy on planted near-duplicates, verify, keep policies, worker-count determinism."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.dedup.shingles import shingles
from curate.stage import StageContext
from curate.stages.minhash_dedup import MinhashDedup, MinhashDedupParams
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records


def _true_pairs(texts: dict[str, str], threshold: float) -> set[frozenset[str]]:
    """Brute force over the reference (pure Python) shingle sets."""
    ids = sorted(texts)
    sets = [set(shingles(texts[i])) for i in ids]
    return {frozenset((ids[a], ids[b])) for a, b in itertools.combinations(range(len(ids)), 2)
            if len(sets[a] | sets[b]) and len(sets[a] & sets[b]) / len(sets[a] | sets[b]) >= threshold}


def _clusters(run_dir) -> dict[str, str]:
    with Catalog(run_dir, read_only=True) as cat:
        rows = cat.query("SELECT d.source_id, m.minhash_cluster FROM minhash_dedup m JOIN documents d USING (doc_id)")
    return dict(rows.iter_rows())


def test_recall_and_precision_against_brute_force(tmp_path, run_recipe):
    docs = make_corpus(400, seed=8, exact_dup_rate=0.0, near_dup_rate=0.15)
    write_jsonl(tmp_path / "c.jsonl", to_records(docs))
    recipe = {"inputs": [{"path": "c.jsonl", "id_field": "id"}], "ingest": {"shard_docs": 70},
              "stages": [{"stage": "minhash_dedup", "threshold": 0.8, "verify": True}]}
    run = run_recipe(recipe)
    truth = _true_pairs({d.id: d.text for d in docs}, 0.8)
    clusters = _clusters(run.run_dir)
    found = {frozenset(p) for p in itertools.combinations(sorted(clusters), 2) if clusters[p[0]] == clusters[p[1]]}
    assert truth, "the fixture must contain near-duplicates"
    recall = len(found & truth) / len(truth)
    assert recall >= 0.95
    # with verify every clustered pair is linked by a chain of verified pairs; direct pairs are mostly true
    precision = len(found & truth) / len(found)
    assert precision >= 0.95


@pytest.mark.slow
def test_same_clusters_whatever_the_worker_count(tmp_path, run_recipe):
    write_jsonl(tmp_path / "c.jsonl", to_records(make_corpus(240, seed=9, near_dup_rate=0.2)))
    recipe = {"inputs": [{"path": "c.jsonl", "id_field": "id"}], "ingest": {"shard_docs": 25},
              "stages": [{"stage": "minhash_dedup"}]}
    one, two = run_recipe(recipe, workers=1, run_name="w1"), run_recipe(recipe, workers=2, run_name="w2")
    assert _clusters(one.run_dir) == _clusters(two.run_dir)


def test_empty_short_docs_and_keep_column(tmp_path, run_recipe):
    base = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho"
    rows = [{"id": "a", "text": base, "q": 0.1}, {"id": "b", "text": base + " sigma", "q": 0.9},
            {"id": "s1", "text": "hi", "q": 0.5}, {"id": "s2", "text": "hi!", "q": 0.2}]
    write_jsonl(tmp_path / "c.jsonl", rows)
    stage = {"stage": "minhash_dedup", "threshold": 0.5, "num_perm": 256}
    longest = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": [{**stage, "keep": "longest"}]})
    by_column = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": [
        {"stage": "length_filter"}, {**stage, "keep": "column", "keep_column": "n_words"}]}, run_name="col")
    for run, expected in ((longest, ["b", "s2"]), (by_column, ["b", "s1"])):
        with Catalog(run.run_dir, read_only=True) as cat:
            kept = sorted(cat.query("SELECT source_id FROM kept_documents")["source_id"])
            reasons = set(cat.query("SELECT reason FROM decisions")["reason"])
        assert kept == expected and reasons == {"minhash_dedup.near_duplicate"}


def _reduce_in_completion_order(tmp_path: Path, shards: dict[str, pl.DataFrame], order: list[str], params: dict) -> pl.DataFrame:
    """reduce() with a real StageContext whose pool finishes shards in ``order`` (as 2 workers might)."""

    def pool_map(fn, columns, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in order:
            fn(shards[name].select(list(dict.fromkeys(("doc_id", *columns))))).write_parquet(out_dir / f"{name}.parquet")
        return [out_dir / f"{name}.parquet" for name in shards]

    with Catalog(tmp_path / "run") as catalog:  # a stage writes Parquet only: its reduce never writes the catalog
        ctx = StageContext("minhash_dedup", tmp_path / "stage", list(shards), 2, 0, catalog,
                           lambda shard, cols: shards[shard].select(cols), pool_map, tmp_path / "scratch", tables=MinhashDedup.tables)
        return MinhashDedup(MinhashDedupParams(**params)).reduce(ctx)


def test_completion_order_does_not_change_clusters(tmp_path):
    docs = make_corpus(120, seed=5, near_dup_rate=0.3)
    frame = pl.DataFrame({"doc_id": [d.id for d in docs], "text": [d.text for d in docs]})
    shards = {f"part-{i:03d}": frame[i * 30 : (i + 1) * 30] for i in range(4)}
    backwards = list(reversed(shards))
    first = _reduce_in_completion_order(tmp_path / "a", shards, list(shards), {})
    second = _reduce_in_completion_order(tmp_path / "b", shards, backwards, {})
    assert first.equals(second) and first["minhash_dup_of"].drop_nulls().len() > 0


@pytest.mark.parametrize("verify", [False, True])
def test_band_hash_partitions_do_not_change_clusters(tmp_path, verify):
    docs = make_corpus(150, seed=6, near_dup_rate=0.3)
    frame = pl.DataFrame({"doc_id": [d.id for d in docs], "text": [d.text for d in docs]})
    shards = {f"part-{i:03d}": frame[i * 50 : (i + 1) * 50] for i in range(3)}
    results = [_reduce_in_completion_order(tmp_path / str(n), shards, list(shards), {"lsh_partitions": n, "verify": verify})
               for n in (1, 3, 8)]
    assert results[0]["minhash_dup_of"].drop_nulls().len() > 0
    assert all(r.equals(results[0]) for r in results[1:])
    assert len(list((tmp_path / "8" / "stage" / "edges-8").glob("part-*.npy"))) == 8


def test_verify_drops_false_positive_candidates(tmp_path):
    rng = random.Random(3)
    base = [f"w{rng.randrange(10_000)}" for _ in range(60)]
    far = [w if rng.random() < 0.6 else "x" + w for w in base]  # Jaccard of 5-grams well below 0.8
    near = base[:30] + ["changed"] + base[31:]
    frame = pl.DataFrame({"doc_id": ["a", "far", "near"], "text": [" ".join(t) for t in (base, far, near)]})
    loose = {"bands": 64, "rows": 1, "threshold": 0.8}  # one matching value makes a candidate
    unverified = _reduce_in_completion_order(tmp_path / "u", {"s": frame}, ["s"], {**loose, "verify": False})
    verified = _reduce_in_completion_order(tmp_path / "v", {"s": frame}, ["s"], {**loose, "verify": True})
    assert unverified["minhash_cluster_size"].to_list() == [3, 3, 3]
    assert verified["minhash_cluster_size"].to_list() == [2, 1, 2]
    assert verified["minhash_dup_of"].to_list() == [None, None, "a"]


def test_character_shingles_find_spelling_variants(tmp_path):
    text = "the colour of the harbour was grey and the neighbour travelled to the centre of town"
    variant = text.replace("colour", "color").replace("grey", "gray").replace("centre", "center")
    frame = pl.DataFrame({"doc_id": ["uk", "us", "other"], "text": [text, variant, "an unrelated sentence about sql"]})
    words = _reduce_in_completion_order(tmp_path / "w", {"s": frame}, ["s"], {"threshold": 0.6})
    chars = _reduce_in_completion_order(tmp_path / "c", {"s": frame}, ["s"], {"threshold": 0.6, "unit": "char", "ngram": 4})
    assert words["minhash_cluster_size"].to_list() == [1, 1, 1]
    assert chars["minhash_dup_of"].to_list() == [None, "uk", None]
