"""The Stage contract, checked for every registered map stage on generated text (the classifier with a
fastText model trained here)."""

from __future__ import annotations

import polars as pl
import pytest

from curate.stage import DROP_REASON, MapStage
from curate.stages import STAGES
from tests.corpus import make_corpus
from tests.tiny_models import train_fasttext

MAP_STAGES = [s for s in STAGES if issubclass(s, MapStage)]


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


@pytest.fixture(scope="module")
def required_params(tmp_path_factory) -> dict[str, dict]:
    """Params of the stages that have no defaults for everything."""
    model = train_fasttext(tmp_path_factory.mktemp("contract"))
    return {"classifier": {"models": [{"path": str(model), "columns": {"food": "food_score"}}], "keep": {"food_score": {"min": 0.5}}}}


@pytest.mark.parametrize("cls", MAP_STAGES, ids=lambda c: c.name)
def test_map_stage_contract(cls, required_params):
    stage = cls(cls.Params(**required_params.get(cls.name, {})))
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
