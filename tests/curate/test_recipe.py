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


@pytest.mark.parametrize(("stage", "where"), [
    ({"stage": "langid", "thresholds": {"en": -2}}, r"stages\[0\]\.thresholds\.en: .*greater than or equal to 0"),
    ({"stage": "langid", "thresholds": {"en": 1.5}}, r"stages\[0\]\.thresholds\.en: .*less than or equal to 1"),
    ({"stage": "quality_rules", "thresholds": {"fineweb_short_line_frac": -1}}, r"stages\[0\]\.thresholds: .*fineweb_short_line_frac: threshold must be in \[0, 1\]"),
    ({"stage": "quality_rules", "thresholds": {"gopher_alpha_word_frac": 2}}, r"gopher_alpha_word_frac: threshold must be in \[0, 1\]"),
    ({"stage": "quality_rules", "thresholds": {"gopher_word_count_min": -5}}, r"gopher_word_count_min: threshold must be >= 0"),
    ({"stage": "topics", "k_range": [-3, 2]}, r"stages\[0\]\.k_range: .*1 <= low <= high"),
    ({"stage": "topics", "k_range": [12, 4]}, r"stages\[0\]\.k_range: .*1 <= low <= high"),
    ({"stage": "length_filter", "min_chars": 10, "max_chars": 5}, r"stages\[0\]: .*max_chars \(5\) is below min_chars \(10\)"),
    ({"stage": "minhash_dedup", "bands": 4}, r"stages\[0\]: .*set both bands and rows"),
    ({"stage": "minhash_dedup", "bands": 40, "rows": 40}, r"bands\*rows = 1600 exceeds num_perm = 128"),
    ({"stage": "langid", "keep_langs": []}, r"stages\[0\]\.keep_langs: List should have at least 1 item"),
    ({"stage": "langid", "model_path": "no/such/lid.bin"}, r"stages\[0\]\.model_path: .*no such file: .*no/such/lid\.bin"),
])
def test_nonsense_stage_params_are_errors_naming_the_field(stage, where):
    with pytest.raises(RecipeError, match=where):
        parse_recipe({**BASE, "stages": [stage]})
