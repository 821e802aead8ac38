"""topics stage through the runner: per-doc view, labels table, saved model, worker-count determinism."""

from __future__ import annotations

import polars as pl
import pytest
from sklearn.metrics import normalized_mutual_info_score

from curate.core.catalog import Catalog
from curate.models.topics import assign, load_topic_model
from curate.stages.topics import MODEL_FILE
from tests.conftest import write_jsonl
from tests.corpus import DOMAINS, make_corpus, to_records

TOPICS = {"stage": "topics", "k": len(DOMAINS), "n_components": 16, "n_features": 2**14, "sample_size": 120}


def _recipe(tmp_path, n_docs=200, seed=5, stages=(TOPICS,)):
    docs = make_corpus(n_docs, seed=seed)
    for domain in DOMAINS:
        write_jsonl(tmp_path / "data" / f"{domain}.jsonl", to_records([d for d in docs if d.domain == domain]))
    return {"inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}], "ingest": {"shard_docs": 40},
            "stages": list(stages)}


def test_topics_view_labels_and_model(tmp_path, run_recipe):
    run = run_recipe(_recipe(tmp_path))
    with Catalog(run.run_dir, read_only=True) as cat:
        topics = cat.query("SELECT t.doc_id, t.topic_id, t.topic_distance, d.source, d.text FROM topics t JOIN documents d USING (doc_id)")
        labels = cat.query("SELECT * FROM topic_labels ORDER BY topic_id")
        report = cat.report("topics")
    assert topics.height == 200 and topics["topic_distance"].is_between(0, 2).all()
    assert normalized_mutual_info_score(topics["source"], topics["topic_id"]) >= 0.9
    assert labels["topic_id"].to_list() == list(range(len(DOMAINS)))
    assert labels["size"].sum() == 200 and labels["sample_size"].sum() == 120
    assert labels["examples"].list.len().to_list() == [3] * len(DOMAINS)
    assert report.height == len(DOMAINS) and set(report.columns) >= {"topic_id", "docs", "terms", "languages", "sources"}
    model = load_topic_model(run.run_dir / "stages" / "topics" / MODEL_FILE)
    again = assign(model, topics["text"].to_list())[0]
    assert (again == topics["topic_id"].to_numpy()).all()


@pytest.mark.slow  # two process pools: ~20 s on a loaded 2-core machine
def test_same_topics_whatever_the_worker_count(tmp_path, run_recipe):
    recipe = _recipe(tmp_path, n_docs=120, seed=6)
    one, two = run_recipe(recipe, workers=1, run_name="w1"), run_recipe(recipe, workers=2, run_name="w2")
    frames = []
    for run in (one, two):
        with Catalog(run.run_dir, read_only=True) as cat:
            frames.append(cat.query("SELECT doc_id, topic_id, round(topic_distance, 6) AS d FROM topics ORDER BY doc_id"))
    assert frames[0].equals(frames[1])


def test_topics_after_a_filter_sees_only_survivors(tmp_path, run_recipe):
    recipe = _recipe(tmp_path, n_docs=100, seed=7, stages=({"stage": "exact_dedup"}, TOPICS))
    run = run_recipe(recipe)
    with Catalog(run.run_dir, read_only=True) as cat:
        kept = cat.query("SELECT count(*) AS n FROM kept_documents")["n"][0]
        assigned = cat.query("SELECT count(*) AS n FROM topics")["n"][0]
        dropped = cat.query("SELECT count(*) AS n FROM decisions")["n"][0]
    assert dropped > 0 and assigned == kept == 100 - dropped


def test_tiny_corpus_gets_one_topic(tmp_path, run_recipe):
    write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": "just one document here"}])
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": [TOPICS]})
    with Catalog(run.run_dir, read_only=True) as cat:
        rows = cat.query("SELECT topic_id FROM topics")
        assert rows["topic_id"].to_list() == [0] and cat.query("SELECT * FROM topic_labels").height == 0
    assert isinstance(rows, pl.DataFrame)
