"""The whole loop, as `curate demo` runs it, on a tiny generated corpus (small enough for CI)."""

from __future__ import annotations

import gzip

import orjson

from curate.catalog import Catalog
from curate.demo.loop import OOD_SOURCE, run_demo
from tests.corpus import make_corpus


def test_demo_end_to_end(tmp_path, capfd):
    raw = tmp_path / "raw"
    raw.mkdir()
    docs = make_corpus(360, seed=21, sentences=(16, 40))
    names = {"cooking": OOD_SOURCE, "astronomy": "astro", "software": "software", "law": "law", "gardening": "garden"}
    for domain, source in names.items():
        lines = b"".join(orjson.dumps({"id": d.id, "text": d.text}) + b"\n" for d in docs if d.domain == domain)
        (raw / f"{source}.jsonl.gz").write_bytes(gzip.compress(lines))
    run_dir = run_demo(tmp_path, workers=2, progress=False, mode="tiny")
    with Catalog(run_dir, read_only=True) as cat:
        count = lambda table: cat.query(f"SELECT count(*) AS n FROM {table}")["n"][0]  # noqa: E731
        for table in ("documents", "decisions", "exact_dedup", "minhash_dedup", "langid", "quality_rules", "topics",
                      "topic_labels", "diversity", "eval_sets", "mixtures", "mixture_docs", "train_runs", "train_curve",
                      "evals", "checkpoint_evals", "eval_doc_losses", "correlations"):
            assert count(table) > 0, table
        assert count("kept_documents") < count("documents")
        langs = cat.query("SELECT DISTINCT lang FROM langid")["lang"].to_list()
        assert "en" in langs
        entropies = cat.query("SELECT value FROM diversity WHERE scope_kind = 'mixture' AND metric = 'topic_entropy'"
                              " ORDER BY scope_id")["value"].to_list()
        assert entropies == sorted(entropies) and entropies[-1] > entropies[0]
        ood = cat.query("SELECT value FROM evals WHERE eval_set = 'ood' AND metric = 'bpb'")["value"].to_list()
        assert all(0 < v < 20 for v in ood)
        corr = cat.query("SELECT * FROM correlations WHERE target = 'ood/bpb'")
        assert corr.height > 0 and (corr["n_mixtures"] == 3).all()
        learned = cat.query("SELECT learned, converged, loss_below_unigram FROM train_runs")
        assert learned["learned"].to_list() == [False] * 3  # pico on 4k tokens: refused, then stored as "not evidence"
        assert learned["converged"].null_count() == 0  # the second check is stored beside the first
        assert cat.report("contamination").height == 0
    out = capfd.readouterr().out
    assert "refused: 3 of 3 training runs did not pass the learned check" in out
    assert "Not evidence: 3 of 3 runs did not pass the learned check. With 3 mixtures x 1 seeds (pico" in out
    page = (tmp_path / "report.html").read_text()
    assert "Diversity vs generalization" in page and "<svg" in page
