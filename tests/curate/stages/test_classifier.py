"""classifier: a user's fastText model and a local Hugging Face folder in one stage, label -> column
mapping, keep bounds, clear errors, and quality_model's score as one configuration of it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from curate.cli import app
from curate.core.catalog import Catalog
from curate.pipeline.executor import stage_ref, worker_stage
from curate.pipeline.recipe import RecipeError, parse_recipe
from curate.stages.classifier import Classifier, ClassifierParams
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records
from tests.tiny_models import save_tiny_bert, train_fasttext


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("classifiers")
    return {"fasttext": str(train_fasttext(root / "ft")), "bert": str(save_tiny_bert(root / "bert", ["clean", "toxic"])),
            "edu": str(save_tiny_bert(root / "edu", ["edu"])),
            "quality": str(train_fasttext(root / "q", labels={"cooking": "hq", "astronomy": "lq"}))}


def _batch(n: int = 20) -> pl.DataFrame:
    docs = make_corpus(n, seed=9, exact_dup_rate=0, near_dup_rate=0)
    return pl.DataFrame({"doc_id": [d.id for d in docs], "text": [d.text for d in docs]})


def test_fasttext_and_huggingface_scores_in_one_stage(tmp_path, run_recipe, models):
    records = to_records(make_corpus(40, seed=2, exact_dup_rate=0, near_dup_rate=0))
    write_jsonl(tmp_path / "c.jsonl", records)
    stage = {"stage": "classifier", "keep": {"food_score": {"min": 0.5}},
             "models": [{"path": models["fasttext"], "columns": {"food": "food_score", "__label__space": "space_score"}},
                        {"path": models["bert"], "columns": {"toxic": "toxicity"}}]}
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": [stage]})
    with Catalog(run.run_dir, read_only=True) as cat:
        rows = cat.query("SELECT d.source_id, s.food_score, s.space_score, s.toxicity, x.reason, x.detail FROM doc_signals s"
                         " JOIN documents d USING (doc_id) LEFT JOIN decisions x USING (doc_id)")
    domain = {r["id"]: r["domain"] for r in records}
    for r in rows.iter_rows(named=True):
        assert abs(r["food_score"] + r["space_score"] - 1) < 1e-3 or domain[r["source_id"]] not in ("cooking", "astronomy")
        assert 0 <= r["toxicity"] <= 1
        assert (r["reason"] == "classifier.below_min") == (r["food_score"] < 0.5) and r["detail"] in (None, "food_score")
    by_domain = rows.with_columns(pl.col("source_id").replace_strict(domain).alias("domain")).group_by("domain").agg(pl.col("food_score").mean())
    means = dict(by_domain.iter_rows())
    assert means["cooking"] > 0.6 > 0.4 > means["astronomy"]
    assert rows["toxicity"].n_unique() > 1  # a real forward pass per document, not a constant


def test_a_worker_rebuilds_the_columns_from_the_params(models):
    stage = Classifier(ClassifierParams(models=[{"path": models["fasttext"], "columns": {"food": "food_score"}}]))
    in_worker = worker_stage(stage_ref(stage), stage.params.model_dump_json())
    assert in_worker.schema == stage.schema == {"food_score": pl.Float64, "classifier_dropped_by": pl.String}
    assert in_worker.scorers and Classifier.schema == {"classifier_dropped_by": pl.String}


def test_huggingface_regression_head_and_determinism(models):
    params = ClassifierParams(models=[{"path": models["edu"], "columns": {"edu": "edu_score"}, "batch_size": 3}],
                              keep={"edu_score": {"max": 1e9}})
    stage = Classifier(params)
    stage.setup()
    out = stage.conform(stage.apply(_batch()))
    again = Classifier(params.model_copy(update={"models": [params.models[0].model_copy(update={"batch_size": 7})]})).apply(_batch())
    assert out.columns == ["doc_id", "edu_score", "classifier_dropped_by", "drop_reason"]
    assert out["drop_reason"].null_count() == out.height
    np.testing.assert_allclose(out["edu_score"].to_numpy(), again["edu_score"].to_numpy(), atol=1e-5)  # batching changes nothing
    assert (out["edu_score"] < 0).any() or (out["edu_score"] > 1).any() or out["edu_score"].n_unique() > 1  # raw outputs


def test_classifier_as_quality_model_gives_the_same_scores(tmp_path, run_recipe, models):
    """quality_model with a given model is classifier with {hq: quality_score}: same scores, same code."""
    write_jsonl(tmp_path / "c.jsonl", to_records(make_corpus(30, seed=4)))
    stages = [{"stage": "quality_model", "model_path": models["quality"]},
              {"stage": "classifier", "models": [{"path": models["quality"], "columns": {"hq": "hq_score"}}]}]
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": stages})
    with Catalog(run.run_dir, read_only=True) as cat:
        both = cat.query("SELECT quality_score, hq_score FROM doc_signals")
    assert both.height == 30 and both["quality_score"].n_unique() > 5
    assert both["quality_score"].equals(both["hq_score"].rename("quality_score"))


def test_bad_configurations_are_clear_errors(tmp_path, models):
    with pytest.raises(RecipeError, match="keep names columns no model writes"):
        parse_recipe({"name": "x", "inputs": [{"path": "a.jsonl"}],
                      "stages": [{"stage": "classifier", "models": [{"path": "m.bin", "columns": {"a": "a_score"}}], "keep": {"b": {"min": 1}}}]})
    with pytest.raises(RecipeError, match="snake_case"):
        parse_recipe({"name": "x", "inputs": [{"path": "a.jsonl"}],
                      "stages": [{"stage": "classifier", "models": [{"path": "m.bin", "columns": {"a": "Bad Name"}}]}]})
    stage = Classifier(ClassifierParams(models=[{"path": models["fasttext"], "columns": {"toxic": "t"}}]))
    with pytest.raises(ValueError, match=r"no labels \['toxic'\]; the model's labels are \['food', 'space'\]"):
        stage.setup()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a local Hugging Face sequence classifier"):
        Classifier(ClassifierParams(models=[{"path": str(tmp_path / "empty"), "columns": {"x": "x"}}])).setup()


def test_keep_bounds_name_the_first_failing_column(models):
    columns = {"food": "food_score", "space": "space_score"}
    batch = _batch(30)
    both = Classifier(ClassifierParams(models=[{"path": models["fasttext"], "columns": columns}],
                                       keep={"space_score": {"max": 0.5}, "food_score": {"min": 0.5}})).apply(batch)
    assert set(both["drop_reason"].drop_nulls()) == {"classifier.above_max"}  # space_score is checked first
    assert both.filter(pl.col("drop_reason").is_not_null())["classifier_dropped_by"].unique().to_list() == ["space_score"]
    assert both.filter(pl.col("space_score") > 0.5).height == both["drop_reason"].is_not_null().sum() > 0
    only_min = Classifier(ClassifierParams(models=[{"path": models["fasttext"], "columns": columns}],
                                           keep={"food_score": {"min": 0.5}})).apply(batch)
    assert only_min["drop_reason"].is_not_null().to_list() == (only_min["food_score"] < 0.5).to_list()


def test_a_missing_model_or_label_is_a_clear_cli_error(tmp_path, models):
    write_jsonl(tmp_path / "in.jsonl", [{"text": "some text"}])
    for path, label, message in [(models["fasttext"], "toxic", "no labels ['toxic']"), (str(tmp_path / "nope.bin"), "x", "no fastText model file")]:
        recipe = tmp_path / "recipe.yaml"
        recipe.write_text(yaml.safe_dump({"name": "t", "inputs": [{"path": "in.jsonl"}],
                                          "stages": [{"stage": "classifier", "models": [{"path": path, "columns": {label: "score"}}]}]}))
        out = CliRunner().invoke(app, ["run", str(recipe), "--out", str(tmp_path / "run"), "--no-progress"])
        assert out.exit_code == 2 and message in " ".join(out.output.replace("│", " ").split()), out.output
