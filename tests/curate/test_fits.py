"""Leak-free fits: a recipe's eval split is reserved before the first fit, and no eval doc_id reaches the
quality classifier, the topic model or the tokenizer; a stale or leaky fit is reported.

Each fit is sized to read every document it may (topic sample and tokenizer sample larger than the
pool, classifier sources over all documents), so what it was fitted on must be exactly the documents it
may see minus the eval split and its duplicates: an exclusion that did nothing would fail the test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.mix.eval_split import EvalSplitParams, fit_problems, reserve_eval
from curate.models.quality import FIT_DOCS_FILE, TextSource, TrainSpec, train_quality_model
from curate.pipeline.recipe import RecipeError, parse_recipe
from curate.pipeline.runner import RecipeRunner, RunSummary
from tests.conftest import write_jsonl
from tests.corpus import DOMAINS, make_corpus, to_records
from train.tokenizer import MANIFEST_PATH, NoEvalSplit, train_tokenizer

STAGES = [
    {"stage": "exact_dedup"},
    {"stage": "quality_model", "train": {"epoch": 2, "dim": 2, "positives": {"sql": "SELECT text FROM documents WHERE source = 'software'"},
                                         "negatives": {"sql": "SELECT text FROM documents WHERE source <> 'software'"}}},
    {"stage": "topics", "k": 3, "sample_size": 10_000, "n_components": 8, "n_features": 2**12},
]
SPLIT = {"per_group": 3, "ood_groups": ["law"], "seed": 1}


def _recipe(root: Path, split=SPLIT, stages=STAGES) -> dict:
    docs = to_records(make_corpus(120, seed=17, exact_dup_rate=0.05, near_dup_rate=0.05, sentences=(6, 12)))
    for domain in DOMAINS:
        write_jsonl(root / "data" / f"{domain}.jsonl", [d for d in docs if d["domain"] == domain])
    recipe = {"inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}], "ingest": {"shard_docs": 40},
              "stages": stages}
    return {**recipe, "eval_split": split} if split is not None else recipe


def _run(recipe: dict, root: Path, run_dir: Path) -> RunSummary:
    return RecipeRunner(parse_recipe({"name": "fits", **recipe}), root, run_dir, workers=1, progress=False).run()


def _fitted(cat: Catalog, fit: str) -> set[str]:
    return set(cat.query("SELECT doc_id FROM fit_docs WHERE fit = $f", {"f": fit})["doc_id"].to_list())


def _ids(cat: Catalog, sql: str) -> set[str]:
    return set(cat.query(sql)["doc_id"].to_list())


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory) -> tuple[dict, Path]:
    """A run through the recipe (eval split, quality classifier, topics) and the tokenizer; read-only for tests."""
    root = tmp_path_factory.mktemp("fits")
    recipe = _recipe(root)
    run_dir = _run(recipe, root, root / "run").run_dir
    train_tokenizer(run_dir, vocab_size=300, sample_docs=10_000)
    return recipe, run_dir


def test_no_eval_document_reaches_any_fit(fitted_run):
    _, run_dir = fitted_run
    with Catalog(run_dir) as cat:
        order = cat.query("SELECT stage FROM stages ORDER BY position")["stage"].to_list()
        split_id = cat.execute("SELECT split_id FROM eval_splits")[0][0]
        hidden = _ids(cat, "SELECT doc_id FROM eval_sets UNION SELECT doc_id FROM contamination")
        n_eval = cat.execute("SELECT count(*) FROM eval_sets")[0][0]
        every = _ids(cat, "SELECT doc_id FROM documents")
        before_topics = _ids(cat, "SELECT doc_id FROM doc_signals WHERE dropped_by IS NULL OR dropped_by = 'topics'")
        kept = _ids(cat, "SELECT doc_id FROM kept_documents")
        fits = {fit: _fitted(cat, fit) for fit in ("quality_model", "topics", "tokenizer")}
        report = cat.report("fits")
        problems = fit_problems(cat)
    assert order == ["ingest", "exact_dedup", "eval_split", "quality_model", "topics"]  # reserved before the first fit
    assert n_eval > 10 and split_id
    assert fits["quality_model"] == every - hidden  # its SQL sources read every document the split leaves visible
    assert fits["topics"] == before_topics - hidden  # the sample is larger than the pool: all but the split
    assert fits["tokenizer"] == kept - hidden
    assert report["n_eval_docs_in_fit"].to_list() == [0, 0, 0] and report["current"].all()
    assert set(report["split_id"]) == {split_id} and problems == []
    topics_manifest = json.loads((run_dir / "stages" / "topics" / "model" / "topic_model.json").read_text())
    quality_manifest = json.loads((run_dir / "stages" / "quality_model" / "model" / "manifest.json").read_text())
    tokenizer_manifest = json.loads((run_dir / MANIFEST_PATH).read_text())
    for recorded in (topics_manifest["params"]["eval_split"], quality_manifest["eval_split"], tokenizer_manifest["eval_split"]):
        assert recorded["split_id"] == split_id and recorded["n_eval_docs_excluded"] == n_eval


def test_stale_and_leaky_fits_are_reported_and_a_rerun_restores_the_split(fitted_run, tmp_path):
    recipe, original = fitted_run
    run_dir = tmp_path / "run"
    shutil.copytree(original, run_dir)
    with Catalog(run_dir) as cat:
        reserve_eval(cat, EvalSplitParams(group_by="source", per_group=5, seed=9))  # another split, by hand: every fit predates it
        report = cat.report("fits")
        problems = fit_problems(cat)
    assert not report["current"].any() and report["n_eval_docs_in_fit"].min() > 0
    assert len(problems) == 3 and all("eval document(s) of the current split" in p for p in problems)
    again = _run(recipe, original.parent, run_dir)  # the recipe's split comes back; the fits made against it are current again
    assert again.stages_run == ["eval_split"]
    with Catalog(run_dir) as cat:
        assert fit_problems(cat) == []
    changed = _run({**recipe, "eval_split": {**SPLIT, "seed": 2}}, original.parent, run_dir)  # a new split refits what follows
    assert changed.stages_run == ["eval_split", "quality_model", "topics"] and changed.stages_skipped == ["ingest", "exact_dedup"]
    with Catalog(run_dir) as cat:
        problems = fit_problems(cat)
    assert len(problems) == 1 and problems[0].startswith("tokenizer") and "`train tokenizer RUN`" in problems[0]


def test_tokenizer_needs_a_split_unless_told_otherwise(tmp_path, run_recipe):
    summary = run_recipe(_recipe(tmp_path, split=None, stages=[{"stage": "exact_dedup"}]))
    with pytest.raises(NoEvalSplit, match="curate mix eval-split"):
        train_tokenizer(summary.run_dir, vocab_size=300)
    train_tokenizer(summary.run_dir, vocab_size=300, require_split=False)
    with Catalog(summary.run_dir) as cat:
        assert cat.query("SELECT DISTINCT split_id FROM fit_docs")["split_id"].to_list() == [None]
        assert fit_problems(cat) == []  # no split, nothing to leak yet
        reserve_eval(cat, EvalSplitParams(group_by="source", per_group=3, seed=0))
        problems = fit_problems(cat)
    assert len(problems) == 1 and "tokenizer was fitted on" in problems[0]


def test_split_placement_and_group_by_checks(tmp_path, run_recipe):
    no_fit = run_recipe(_recipe(tmp_path, stages=[{"stage": "exact_dedup"}]), run_name="plain")
    with Catalog(no_fit.run_dir, read_only=True) as cat:  # no stage fits: the split comes after the last stage
        assert cat.query("SELECT stage FROM stages ORDER BY position")["stage"].to_list() == ["ingest", "exact_dedup", "eval_split"]
        funnel = cat.report("funnel")
    assert funnel["docs_in"][-1] == funnel["kept"][-1] == funnel["kept"][-2]  # the split drops nothing: the funnel closes
    with pytest.raises(ValueError, match="eval_split.group_by: column 'topic_id' is not available"):
        run_recipe(_recipe(tmp_path, split={"group_by": "topic_id"}), run_name="bad")
    with pytest.raises(ValueError, match=r"eval_split: ood groups \['nowhere'\] have no documents"):
        run_recipe(_recipe(tmp_path, split={"ood_groups": ["nowhere"]}), run_name="bad")
    with pytest.raises(RecipeError, match="eval_split.per_grup"):
        parse_recipe({"name": "x", "inputs": [{"path": "a.jsonl"}], "eval_split": {"per_grup": 3}})


def test_quality_classifier_from_a_file_never_reads_an_eval_text(fitted_run, tmp_path):
    """A file source cannot be hidden by views: texts equal to an eval document (after normalization) are dropped."""
    _, run_dir = fitted_run
    with Catalog(run_dir, read_only=True) as cat:
        evals = cat.query("SELECT d.text FROM eval_sets e JOIN documents d USING (doc_id) ORDER BY e.doc_id")["text"]
        others = cat.query("SELECT text FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM eval_sets"
                           " UNION SELECT doc_id FROM contamination) ORDER BY doc_id LIMIT 20")["text"]
        write_jsonl(tmp_path / "pos.jsonl", [{"text": t.upper()} for t in evals] + [{"text": t} for t in others])
        spec = TrainSpec(epoch=2, dim=2, positives=TextSource(path=str(tmp_path / "pos.jsonl")), negatives=TextSource(sql="SELECT text FROM documents"))
        manifest = train_quality_model(spec, tmp_path / "model", cat)
        eval_ids = cat.query("SELECT doc_id FROM eval_sets")["doc_id"]
    fitted = pl.read_parquet(tmp_path / "model" / FIT_DOCS_FILE)
    assert manifest["eval_split"]["n_candidates_removed"] == evals.len()
    assert manifest["n_train"]["__label__hq"] + manifest["n_heldout"]["__label__hq"] == others.len()
    assert fitted.height > others.len() and not fitted["doc_id"].is_in(eval_ids.implode()).any()
