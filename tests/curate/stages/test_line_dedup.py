"""line_dedup and the rewrite mechanism: planted boilerplate removed, unique lines kept, the threshold
respected, the original text still queryable, later stages and mixtures reading the rewritten text."""

from __future__ import annotations

import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.dedup.lines import segments
from curate.mix.emit import MixtureSpec, emit
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from tests.conftest import write_jsonl
from tests.corpus import make_corpus

COOKIE = "We use cookies to improve your experience. Accept all cookies?"
NAV = "Home | About us | Contact | Privacy policy"
EDGE = "Subscribe to our newsletter for weekly updates"  # in exactly max_docs documents: kept
MAX_DOCS = 5


def _records() -> list[dict[str, str]]:
    """40 documents; the cookie line in 20 (digits differ: normalized away), the menu in 6, the edge line
    in 5; two pairs of documents that differ only by boilerplate."""
    docs = make_corpus(40, seed=11, exact_dup_rate=0.0, near_dup_rate=0.0)
    records = []
    for i, doc in enumerate(docs):
        lines = [f"{COOKIE} ({i})"] if i < 20 else []
        lines += [doc.text]
        lines += [NAV] if 20 <= i < 26 else []
        lines += [EDGE] if 30 <= i < 35 else []
        records.append({"id": doc.id, "text": "\n".join(lines)})
    body = "A body that two pages share, word for word, once their boilerplate is gone."
    records += [{"id": "twin-a", "text": f"{COOKIE}\n{body}"}, {"id": "twin-b", "text": f"{body}\n{NAV}"}]
    return records


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One run for the tests that only read it (the mixture test adds a mixture, which they never read)."""
    root = tmp_path_factory.mktemp("line_dedup")
    write_jsonl(root / "c.jsonl", _records())
    recipe = parse_recipe({"name": "test", "inputs": [{"path": "c.jsonl", "id_field": "id"}],
                           "stages": [{"stage": "line_dedup", "max_docs": MAX_DOCS}, {"stage": "exact_dedup"}]})
    return RecipeRunner(recipe, root, root / "run", workers=1, progress=False).run().run_dir


def test_segments_rejoin_to_the_text():
    for text in ["a\nb\r\nc", "a\n\n b\n \n\nc\n", "", "\n\n", "one"]:
        for unit in ("line", "paragraph"):
            assert "".join(segments(text, unit)) == text  # type: ignore[arg-type]
    assert segments("p1 l1\np1 l2\n\np2\n", "paragraph") == ["p1 l1\np1 l2\n\n", "p2\n"]


def test_boilerplate_removed_unique_kept_threshold_respected(run):
    with Catalog(run, read_only=True) as cat:
        new = dict(cat.query("SELECT source_id, text FROM documents").iter_rows())
        old = dict(cat.query("SELECT source_id, text FROM original_documents").iter_rows())
        signals = cat.query("SELECT source_id, line_dedup_lines_removed AS n, line_dedup_bytes_removed AS b FROM doc_signals")
    assert not any(COOKIE in t or NAV in t for t in new.values())
    assert sum(EDGE in t for t in new.values()) == MAX_DOCS  # in max_docs documents: not boilerplate
    for doc_id, text in old.items():  # every other line survives, in order, byte for byte
        kept = [line for line in text.split("\n") if COOKIE not in line and line != NAV]
        ends = "\n" if text.endswith(NAV) else ""  # a removed last line leaves the line break before it
        assert new[doc_id] == "\n".join(kept) + ends
    by_id = {r["source_id"]: r for r in signals.iter_rows(named=True)}
    assert by_id["twin-a"]["n"] == 1 and by_id["twin-a"]["b"] == len(COOKIE) + 1
    assert sum(r["n"] for r in by_id.values()) == 20 + 6 + 2
    assert all(r["b"] == len(old[i].encode()) - len(new[i].encode()) for i, r in by_id.items())


def test_original_text_stays_queryable_and_versions_listed(run):
    with Catalog(run, read_only=True) as cat:
        original = cat.query("SELECT text FROM original_documents WHERE source_id = 'twin-a'")["text"][0]
        versions = cat.query("SELECT stage, count(*) AS n FROM rewrites GROUP BY stage")
        n_bytes = cat.query("SELECT n_bytes, strlen(text) AS real FROM documents WHERE source_id = 'twin-a'").row(0)
    assert original.startswith(COOKIE)
    assert versions.rows() == [("line_dedup", 20 + 6 + 2)]
    assert n_bytes[0] == n_bytes[1]


def test_later_stage_reads_rewritten_text(run):
    """twin-a and twin-b are identical only without their boilerplate: exact_dedup must see that."""
    with Catalog(run, read_only=True) as cat:
        dropped = cat.query("SELECT d.source_id, x.stage FROM decisions x JOIN documents d USING (doc_id)").rows()
    assert dropped == [("twin-b", "exact_dedup")]


def test_mixture_reads_rewritten_text(run):
    with Catalog(run) as cat:
        manifest = emit(cat, MixtureSpec(name="m", group_by="source", strategy="uniform", token_budget=10_000, seed=1),
                        diversity_sample=None)
        rewritten = cat.query("SELECT doc_id, text FROM documents")
    mixed = pl.read_parquet(run / "mixtures" / manifest["mixture_id"] / "part-*.parquet")
    assert mixed.height > 20 and not mixed["text"].str.contains("cookies", literal=True).any()
    assert mixed.select("doc_id", "text").join(rewritten, on="doc_id", how="anti").height == 0  # the very texts of documents
    assert ((mixed["text"].str.len_bytes() + 3) // 4).sum() == manifest["n_tokens"]  # the budget counts the rewritten bytes


def test_document_of_only_boilerplate_dropped(tmp_path, run_recipe):
    records = [{"id": f"d{i}", "text": f"{NAV}\nbody {'xyz'[i % 3]} number {i} is its own"} for i in range(6)]
    records.append({"id": "empty", "text": f"{NAV}\n\n{NAV}\n"})
    write_jsonl(tmp_path / "c.jsonl", records)
    result = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": [{"stage": "line_dedup", "max_docs": 3}]})
    with Catalog(result.run_dir, read_only=True) as cat:
        dropped = cat.query("SELECT d.source_id, x.reason FROM decisions x JOIN documents d USING (doc_id)").rows()
    assert dropped == [("empty", "line_dedup.all_boilerplate")]


def test_paragraph_unit_and_workers_give_the_same_catalog(tmp_path, run_recipe):
    para = "Cookie notice\nspanning two lines"
    words = "apple birch cedar dune elm fern grove heath".split()  # digits are normalized away: words differ
    records = [{"id": f"d{i}", "text": f"About {w}.\n\n{para}\n\nEnd of {w}."} for i, w in enumerate(words)]
    write_jsonl(tmp_path / "c.jsonl", records)
    recipe = {"inputs": [{"path": "c.jsonl", "id_field": "id"}], "ingest": {"shard_docs": 3},
              "stages": [{"stage": "line_dedup", "unit": "paragraph", "max_docs": 4}]}
    texts = []
    for workers in (1, 2):
        result = run_recipe(recipe, workers=workers, run_name=f"w{workers}")
        with Catalog(result.run_dir, read_only=True) as cat:
            texts.append(cat.query("SELECT source_id, text FROM documents ORDER BY source_id"))
    assert texts[0].equals(texts[1])
    assert texts[0]["text"][0] == "About apple.\n\nEnd of apple."
