"""The Stage contract, checked for every stage of the registry (``STAGES``) on generated text: a map stage on a
batch (the classifier with a fastText model trained here), a global stage through the real executor on a small
run. A new stage is covered by being registered."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.models.quality import TextSource, TrainSpec, train_quality_model
from curate.pipeline.executor import Pool, StageRunner
from curate.pipeline.progress import StepProgress
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from curate.pipeline.shards import Upstream, docs_shards, stage_part
from curate.stage import DROP_REASON, GlobalStage, MapStage, Stage
from curate.stages import STAGES, declared_views
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records
from tests.tiny_models import train_fasttext

SMALL_PARAMS = {  # stages whose defaults are slow on a test run get small settings (the others run with defaults)
    "topics": {"k": 3, "n_components": 8, "n_features": 2**10, "sample_size": 40},
    "diversity": {"n_boot": 2, "sample_size": 30},
}


def _batch(n: int) -> pl.DataFrame:
    docs = make_corpus(n, seed=7)
    return pl.DataFrame({"doc_id": [d.id for d in docs], "text": [d.text for d in docs], "lang": ["en"] * n})


def test_stage_names_and_columns_are_unique():
    names = [s.name for s in STAGES]
    assert len(names) == len(set(names))
    columns = [c for s in STAGES for c in s.schema]
    assert len(columns) == len(set(columns)), "per-document columns must be unique across stages"
    for stage in STAGES:
        assert stage.name.isidentifier() and stage.name == stage.name.lower()
        assert all(r.startswith(f"{stage.name}.") for r in stage.reasons), stage.name
        assert stage.Params.model_fields["stage"].default == stage.name


def test_declared_views_cover_every_stage_and_table():
    """What the runner hands the catalog: each stage's output, each extra table (declared alike by its writers)."""
    views = declared_views()
    assert list(views.stages) == [s.name for s in STAGES]
    assert set(views.tables) == {t for s in STAGES for t in s.tables}
    assert all(list(views.stages[s.name]) == ["doc_id", *s.schema, DROP_REASON] for s in STAGES)


@pytest.fixture(scope="module")
def required_params(tmp_path_factory) -> dict[str, dict]:
    """Params of the stages that have no defaults for everything (models trained here, on generated text)."""
    folder = tmp_path_factory.mktemp("contract")
    model = train_fasttext(folder)
    texts = [d.text for d in make_corpus(60, seed=3)]
    write_jsonl(folder / "pos.jsonl", [{"text": t} for t in texts[:30]])
    write_jsonl(folder / "neg.jsonl", [{"text": t[::-1]} for t in texts[30:]])
    train_quality_model(TrainSpec(positives=TextSource(path=str(folder / "pos.jsonl")),
                                  negatives=TextSource(path=str(folder / "neg.jsonl")), epoch=5), folder / "quality")
    return {"classifier": {"models": [{"path": str(model), "columns": {"food": "food_score"}}], "keep": {"food_score": {"min": 0.5}}},
            "quality_model": {"model_path": str(folder / "quality"), "keep_top_fraction": 0.5}}


@pytest.mark.parametrize("cls", STAGES, ids=lambda c: c.name)
def test_stage_contract(cls: type[Stage], required_params, small_runs):
    params = {**SMALL_PARAMS.get(cls.name, {}), **required_params.get(cls.name, {})}
    if issubclass(cls, GlobalStage):
        _check_global(cls, params, small_runs)
    else:
        assert issubclass(cls, MapStage), f"{cls.name} is neither a map nor a global stage"
        _check_map(cls, params)


def _check_map(cls: type[MapStage], params: dict) -> None:
    stage = cls(cls.Params(**params))
    stage.setup()
    batch = _batch(40)
    raw = stage.apply(batch)
    out = stage.conform(raw)
    assert out.columns == ["doc_id", *stage.schema, DROP_REASON]
    if cls.rewrites:  # a new text or null (unchanged) per document
        assert raw.schema["text"] == pl.String and raw.height == batch.height
    assert out["doc_id"].sort().equals(batch["doc_id"].sort())
    assert set(out[DROP_REASON].drop_nulls()) <= set(cls.reasons)
    again = stage.conform(stage.apply(batch))
    assert again.equals(out), "apply must be deterministic"
    empty = stage.conform(stage.apply(batch.head(0)))
    assert empty.height == 0 and empty.columns == out.columns


# Global stages run through the real executor on a small run: ingest-only run folders, a pool of one, the run's
# own catalog opened read-only (a stage writes Parquet only); what they wrote is read back from their parts.


def _small_run(root: Path, n_docs: int) -> Path:
    """An ingest-only run of ``n_docs`` generated documents in two sources (``a``, ``b``) and two shards."""
    records = to_records(make_corpus(n_docs, seed=7)) if n_docs else []
    for i, source in enumerate("ab"):
        write_jsonl(root / "data" / f"{source}.jsonl", records[i::2])
    recipe = parse_recipe({"name": "contract", "inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}],
                           "ingest": {"shard_docs": 20}})
    return RecipeRunner(recipe, root, root / "run", progress=False).run().run_dir


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory) -> dict[str, Path]:
    return {"docs": _small_run(tmp_path_factory.mktemp("small"), 40), "empty": _small_run(tmp_path_factory.mktemp("empty"), 0)}


def _run_global(stage: GlobalStage, run_dir: Path) -> pl.DataFrame:
    """Run ``stage`` afresh over the run's shards (its folder wiped first) and read back what it wrote."""
    shutil.rmtree(run_dir / "stages" / stage.name, ignore_errors=True)
    shards = docs_shards(run_dir)
    pool = Pool(1)
    try:
        with Catalog(run_dir, read_only=True) as cat:  # a stage writes Parquet only; the runner records it afterwards
            StageRunner(run_dir, run_dir / "stages", pool, StepProgress(enabled=False), 0).run(stage, shards, Upstream(), cat)
    finally:
        pool.close()
    parts = [pl.read_parquet(stage_part(run_dir, stage.name, s)) for s in shards]
    return pl.concat([stage.empty_output(), *parts])


def _check_global(cls: type[GlobalStage], params: dict, runs: dict[str, Path]) -> None:
    stage = cls(cls.Params(**params))
    out = _run_global(stage, runs["docs"])
    assert out.columns == ["doc_id", *stage.schema, DROP_REASON]
    with Catalog(runs["docs"], read_only=True) as cat:
        doc_ids = cat.query("SELECT doc_id FROM documents")["doc_id"]
    tables = {t.table for t in stage.handed_tables(runs["docs"] / "stages" / cls.name)}
    assert out["doc_id"].sort().equals(doc_ids.sort()), "one row per document it was given"
    assert set(out[DROP_REASON].drop_nulls()) <= set(cls.reasons)
    assert {t.split("__", 1)[0] for t in tables} <= set(cls.tables), "extra tables are declared in `tables`"
    assert _run_global(stage, runs["docs"]).sort("doc_id").equals(out.sort("doc_id")), "reduce must be deterministic"
    assert _run_global(stage, runs["empty"]).height == 0
