"""The Stage contract, checked for every registered stage that can run on generated text alone."""

from __future__ import annotations

import polars as pl
import pytest

from curate.stage import DROP_REASON, MapStage
from curate.stages import STAGES
from tests.corpus import make_corpus

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


@pytest.mark.parametrize("cls", MAP_STAGES, ids=lambda c: c.name)
def test_map_stage_contract(cls):
    stage = cls(cls.Params())
    stage.setup()
    batch = _batch(40)
    out = stage.conform(stage.apply(batch))
    assert out.columns == ["doc_id", *cls.schema, DROP_REASON]
    assert out["doc_id"].sort().equals(batch["doc_id"].sort())
    assert set(out[DROP_REASON].drop_nulls()) <= set(cls.reasons)
    again = stage.conform(stage.apply(batch))
    assert again.equals(out), "apply must be deterministic"
    empty = stage.conform(stage.apply(batch.head(0)))
    assert empty.height == 0 and empty.columns == out.columns
