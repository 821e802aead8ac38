"""exact_dedup: planted exact duplicates are found, one kept per group, the rest explained."""

from __future__ import annotations

from curate.core.catalog import Catalog
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records


def test_exact_duplicates_found_with_kept_id(tmp_path, run_recipe):
    docs = make_corpus(300, seed=4, exact_dup_rate=0.1, near_dup_rate=0.0)
    extra = [{"id": "case", "text": docs[0].text.upper() + "  "}]  # same after normalization
    write_jsonl(tmp_path / "c.jsonl", to_records(docs) + extra)
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": [{"stage": "exact_dedup"}]})
    with Catalog(run.run_dir, read_only=True) as cat:
        dropped = cat.query("SELECT d.source_id, x.detail FROM decisions x JOIN documents d USING (doc_id)")
        ids = dict(cat.query("SELECT doc_id, source_id FROM documents").iter_rows())
        clusters = cat.query("SELECT * FROM dup_clusters WHERE method = 'exact'")
    planted = {d.id for d in docs if d.dup_kind == "exact"} | {"case"}
    assert set(dropped["source_id"]) == planted
    by_id = {d.id: d for d in docs}
    for source_id, kept in dropped.iter_rows():
        original = by_id[source_id].dup_of if source_id != "case" else docs[0].id
        assert by_id[original].text == by_id[ids[kept]].text
    assert clusters.filter(clusters["is_kept"]).height == clusters["cluster_id"].n_unique()


def test_keep_longest_and_strip_digits(tmp_path, run_recipe):
    write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": "Version 1 notes here"}, {"id": "b", "text": "version 22 notes here"}])
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}],
                      "stages": [{"stage": "exact_dedup", "keep": "longest", "normalization": {"strip_digits": True}}]})
    with Catalog(run.run_dir, read_only=True) as cat:
        kept = cat.query("SELECT source_id FROM kept_documents")["source_id"].to_list()
    assert kept == ["b"]
