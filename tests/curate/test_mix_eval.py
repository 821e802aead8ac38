"""Eval splits and decontamination: planted near-duplicates of eval documents never reach a mixture.

Every generated document gets planted twins in other files: one with a few words changed (Jaccard well
above 0.8), one with case and punctuation changed (same normalized text), and one heavily edited (below
the threshold, so it must *not* be flagged). The recorded contamination must equal a brute-force exact
Jaccard scan, and no mixture may hold a document that brute force finds too close to an eval document.
"""

from __future__ import annotations

import json
import random

import numpy as np
import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.dedup.shingles import jaccard_pairs, shingle_sets
from curate.mix.emit import MixtureSpec, emit
from curate.mix.eval_split import EvalSplitParams, reserve_eval
from curate.text import normalize_expr
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, mutate, to_records

THRESHOLD = 0.8


def _planted_corpus(root):
    docs = to_records(make_corpus(100, seed=21, exact_dup_rate=0.0, near_dup_rate=0.0, sentences=(10, 20)))
    rng = random.Random(5)
    near = [dict(d, id=f"near-{d['id']}", text=mutate(rng, d["text"], 2)) for d in docs]
    case = [dict(d, id=f"case-{d['id']}", text=d["text"].upper().replace(".", " !")) for d in docs]
    far = [dict(d, id=f"far-{d['id']}", text=mutate(rng, d["text"], len(d["text"].split()) // 3)) for d in docs]
    copy = [dict(d, id=f"copy-{d['id']}") for d in docs]  # the very same text
    for domain in sorted({d["domain"] for d in docs}):
        write_jsonl(root / "data" / f"{domain}.jsonl", [d for d in docs if d["domain"] == domain])
    write_jsonl(root / "data" / "twins.jsonl", near + case + far + copy)


def _too_close(cat: Catalog, doc_ids: list[str]) -> set[tuple[str, str]]:
    """Brute force: (eval_doc_id, doc_id) pairs with equal normalized text or exact Jaccard >= THRESHOLD."""
    evals = cat.query("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT doc_id FROM eval_sets) ORDER BY doc_id")
    others = cat.query("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest($ids)) ORDER BY doc_id", {"ids": doc_ids})
    both = pl.concat([evals, others])
    values, offsets = shingle_sets(both["text"])
    ne, no = evals.height, others.height
    pairs = np.array([(e, ne + o) for e in range(ne) for o in range(no)], dtype=np.int64).reshape(-1, 2)
    sims = jaccard_pairs(values, offsets, pairs)
    norm = both.select(normalize_expr(pl.col("text")))["text"].to_list()
    ids = both["doc_id"].to_list()
    return {(ids[e], ids[o]) for (e, o), s in zip(pairs.tolist(), sims.tolist(), strict=True)
            if (s >= THRESHOLD or norm[e] == norm[o]) and ids[e] != ids[o]}


@pytest.fixture
def planted_run(tmp_path, run_recipe):
    _planted_corpus(tmp_path)
    return run_recipe({"inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}]}).run_dir


def test_planted_near_duplicates_are_found_exactly_and_never_mixed(planted_run):
    with Catalog(planted_run) as cat:
        found = reserve_eval(cat, EvalSplitParams(group_by="source", per_group=4, ood_groups=("law",), seed=1, threshold=THRESHOLD))
        every_doc = cat.query("SELECT doc_id FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets)")["doc_id"].to_list()
        truth = _too_close(cat, every_doc)
        n_eval = cat.query("SELECT count(*) AS n FROM eval_sets")["n"][0]
        manifests = [emit(cat, MixtureSpec(name=f"m{i}", strategy=s, token_budget=25_000, seed=i, max_repeats=3), diversity_sample=None)
                     for i, s in enumerate(("proportional", "uniform", "temperature"))]
        mixed = cat.query("SELECT DISTINCT doc_id FROM mixture_docs")["doc_id"].to_list()
        leaked = _too_close(cat, mixed)
        report = cat.report("contamination")
        given_id = dict(cat.query("SELECT doc_id, source_id FROM documents").iter_rows())
        ood_mixed = cat.query("SELECT count(*) AS n FROM mixture_docs m JOIN documents d USING (doc_id) WHERE d.source = 'law'")["n"][0]
    recorded = set(found.select("eval_doc_id", "doc_id").iter_rows())
    assert recorded == truth  # recall and precision both exact against brute force
    kinds = {given_id[d].split("-")[0] for _, d in truth}
    assert {"near", "case"} <= kinds and "far" not in kinds  # planted twins caught; the heavily edited one is no near-duplicate
    assert len(truth) >= 2 * (n_eval - 20) and all(m["n_tokens"] > 0 for m in manifests)
    assert leaked == set() and report.height == 0 and ood_mixed == 0
    assert not set(mixed) & {d for _, d in recorded}


def test_new_documents_after_the_split_block_mixing(planted_run, tmp_path, run_recipe):
    with Catalog(planted_run) as cat:
        reserve_eval(cat, EvalSplitParams(group_by="source", per_group=4, seed=1))
    write_jsonl(tmp_path / "data" / "late.jsonl", [{"id": "late-1", "text": "a late document about compilers and parsers " * 20}])
    run_recipe({"inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}]})
    with Catalog(planted_run) as cat, pytest.raises(ValueError, match="documents changed since the eval split"):
        emit(cat, MixtureSpec(name="stale", token_budget=5_000), diversity_sample=None)


def test_contamination_report_shows_each_kind_of_leak(planted_run):
    """Leaks planted straight into mixture_docs (bypassing emit's filter) are each reported."""
    with Catalog(planted_run) as cat:
        reserve_eval(cat, EvalSplitParams(group_by="source", per_group=4, ood_groups=("law",), seed=1, threshold=THRESHOLD))
        eval_doc = cat.query("SELECT min(doc_id) AS d FROM eval_sets")["d"][0]
        near = cat.query("SELECT min(c.doc_id) AS d FROM contamination c JOIN documents d USING (doc_id)"
                         " WHERE d.source_id LIKE 'near-%'")["d"][0]
        same = cat.query("SELECT min(d.doc_id) AS d FROM documents d JOIN documents e ON d.text = e.text AND d.doc_id <> e.doc_id"
                         " WHERE e.doc_id IN (SELECT doc_id FROM eval_sets)")["d"][0]
        for doc_id in (eval_doc, near, same):
            cat.execute("INSERT INTO mixture_docs VALUES ('planted', ?, 1)", [doc_id])
        report = cat.report("contamination")
    problems = {(row["doc_id"], row["problem"].split(" (")[0]) for row in report.iter_rows(named=True)}
    assert (eval_doc, "eval document in mixture") in problems
    assert (near, "duplicate of eval document") in problems
    assert (same, "same text as eval document") in problems and (same, "duplicate of eval document") in problems


def test_an_eval_document_inside_a_longer_document_is_contamination(tmp_path, run_recipe):
    """Containment: an eval passage pasted into a long document is caught (whole-document Jaccard cannot see
    it); a document holding only its first few sentences, and unrelated documents, are not."""
    docs = to_records(make_corpus(60, seed=31, exact_dup_rate=0.0, near_dup_rate=0.0, sentences=(10, 20)))
    filler = [d["text"] for d in to_records(make_corpus(20, seed=32, exact_dup_rate=0.0, near_dup_rate=0.0, sentences=(30, 40)))]
    law = [d for d in docs if d["domain"] == "law"][:3]  # law is held out whole: each of its documents is an eval document
    pasted = [{"id": f"pasted-{d['id']}", "text": f"{filler[2 * i]}\n\n{d['text']}\n\n{filler[2 * i + 1]}"} for i, d in enumerate(law)]
    partial = [{"id": f"partial-{d['id']}", "text": f"{filler[10 + i]} {' '.join(d['text'].split('. ')[:3])}"} for i, d in enumerate(law)]
    for domain in sorted({d["domain"] for d in docs}):
        write_jsonl(tmp_path / "data" / f"{domain}.jsonl", [d for d in docs if d["domain"] == domain])
    write_jsonl(tmp_path / "data" / "long.jsonl", pasted + partial)  # 6 documents: too few for an eval set of 4
    run = run_recipe({"inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}]})
    with Catalog(run.run_dir) as cat:
        found = reserve_eval(cat, EvalSplitParams(group_by="source", per_group=4, ood_groups=("law",), seed=0, threshold=THRESHOLD))
        given_id = dict(cat.query("SELECT doc_id, source_id FROM documents").iter_rows())
        params = json.loads(cat.execute("SELECT params FROM eval_splits")[0][0])
    inside = found.filter(pl.col("method") == "containment")
    pairs = {(given_id[e], given_id[d]) for e, d in inside.select("eval_doc_id", "doc_id").iter_rows()}
    assert pairs == {(d["id"], f"pasted-{d['id']}") for d in law}  # exactly the pasted ones, each with its own eval doc
    assert inside["similarity"].min() == 1.0 and params["containment"] == 0.5 and params["containment_ngram"] == 8
    assert not {given_id[d] for d in found["doc_id"]} - {f"pasted-{d['id']}" for d in law}  # nothing else, partial copies included
