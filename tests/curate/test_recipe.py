"""Recipe validation: errors name the field and the allowed values; unknown keys are errors."""

from __future__ import annotations

import pytest

from curate.pipeline.recipe import RecipeError, load_recipe, parse_recipe

BASE = {"name": "r", "inputs": [{"path": "x.jsonl"}]}


def test_valid_recipe_with_defaults():
    recipe = parse_recipe({**BASE, "stages": [{"stage": "length_filter", "min_chars": 10}]})
    assert recipe.stages[0].min_chars == 10
    assert recipe.ingest.unicode_normalization == "NFC"


def test_unknown_top_level_key_is_an_error():
    with pytest.raises(RecipeError, match=r"stagez: Extra inputs are not permitted"):
        parse_recipe({**BASE, "stagez": []})


def test_unknown_stage_lists_the_allowed_ones():
    with pytest.raises(RecipeError, match=r"stages\[0\].*length_filter"):
        parse_recipe({**BASE, "stages": [{"stage": "no_such_stage"}]})


def test_bad_param_value_names_the_field():
    with pytest.raises(RecipeError, match=r"stages\[0\]\.min_chars: .*greater than or equal to 0.*got: -5"):
        parse_recipe({**BASE, "stages": [{"stage": "length_filter", "min_chars": -5}]})


def test_unknown_stage_param_is_an_error():
    with pytest.raises(RecipeError, match=r"min_charz: Extra inputs are not permitted"):
        parse_recipe({**BASE, "stages": [{"stage": "length_filter", "min_charz": 5}]})


def test_enum_error_lists_allowed_values():
    with pytest.raises(RecipeError, match=r"ingest\.unicode_normalization: Input should be 'NFC', 'NFKC', 'NFD', 'NFKD' or 'none'"):
        parse_recipe({**BASE, "ingest": {"unicode_normalization": "nfc2"}})


def test_repeated_stage_is_an_error():
    with pytest.raises(RecipeError, match="repeated"):
        parse_recipe({**BASE, "stages": [{"stage": "length_filter"}, {"stage": "length_filter"}]})


def test_recipe_file_errors(tmp_path):
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(RecipeError, match="a recipe is a YAML mapping"):
        load_recipe(listy)
