"""minhash_dedup: accuracy on planted near-duplicates, verify, keep policies, worker-count determinism."""

from __future__ import annotations

import itertools

import polars as pl

from curate.catalog import Catalog
from curate.minhash import pack, shingle_hashes, shingle_text
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records


def _true_pairs(texts: dict[str, str], threshold: float) -> set[frozenset[str]]:
    ids = sorted(texts)
    buf, off = pack(shingle_text(pl.Series([texts[i] for i in ids])))
    sets = [set(shingle_hashes(buf, off[k], off[k + 1], 5, False).tolist()) for k in range(len(ids))]
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
