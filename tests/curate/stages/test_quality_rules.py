"""quality_rules: documents just inside and just outside each threshold; signals vs a reference."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.rules import c4, fineweb
from curate.stages.quality_rules import ALL_RULES, QualityRules, QualityRulesParams, batch_signals

WORDS = ["river", "stone", "garden", "window", "music", "paper", "forest", "candle", "bridge", "silver"]


def prose(n_words: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    body = " ".join(rng.choice(WORDS) for _ in range(n_words - 8))
    return "The house of the man and that woman to be with " + body[: len(body)] + "."


def _reason(text: str, **params) -> str | None:
    params = {"rule_sets": ["gopher_quality", "gopher_repetition", "c4", "fineweb"], **params}
    stage = QualityRules(QualityRulesParams(**params))
    return stage.apply(pl.DataFrame({"doc_id": ["d"], "text": [text]}))["drop_reason"][0]


def _signal(text: str, name: str, lang: str = "en") -> float:
    return batch_signals(pl.Series([text]), [lang])[name][0]


@pytest.mark.parametrize(("n_words", "expected"), [(49, "gopher_word_count_min"), (50, None)])
def test_word_count_threshold(n_words, expected):
    text = " ".join(f"w{i}x" for i in range(n_words))
    assert _signal(text, "gopher_n_words") == n_words
    reason = _reason(text, rule_sets=["gopher_quality"], disabled_rules=["gopher_stop_words"])
    assert reason == (f"quality_rules.{expected}" if expected else None)


def test_stop_words_rule_is_english_only():
    text = " ".join(f"w{i}x" for i in range(60))
    assert _signal(text, "gopher_stop_words") == 0
    assert _signal(text, "gopher_stop_words", lang="de") is None
    assert _reason(text, rule_sets=["gopher_quality"]) == "quality_rules.gopher_stop_words"


@pytest.mark.parametrize(("n_hash", "expected"), [(7, "gopher_symbol_word_ratio"), (6, None)])
def test_symbol_ratio(n_hash, expected):
    text = " ".join(["#tag"] * n_hash + [f"the{i} of and" for i in range(19)])  # ratio 7/64 > 0.1 >= 6/63
    assert _signal(text, "gopher_symbol_word_ratio") == pytest.approx(n_hash / (n_hash + 57))
    reason = _reason(text, rule_sets=["gopher_quality"], disabled_rules=["gopher_stop_words", "gopher_word_count_min"])
    assert reason == (f"quality_rules.{expected}" if expected else None)


def test_duplicate_lines_and_fineweb_rules():
    lines = [prose(12, seed=i) for i in range(10)]
    repeated = "\n".join(lines[:6] + lines[:4])
    assert _signal(repeated, "gopher_dup_line_frac") == pytest.approx(0.4)
    assert _reason(repeated, rule_sets=["gopher_repetition"]) == "quality_rules.gopher_dup_line_frac"
    listy = "\n".join(f"item {i}" for i in range(30))
    assert _signal(listy, "fineweb_short_line_frac") == 1.0
    assert _reason(listy, rule_sets=["fineweb"]) == "quality_rules.fineweb_line_punct"


def test_c4_rules():
    good = "\n".join(f"This is sentence number {i} of a fine page. It has words." for i in range(3))
    assert _signal(good, "c4_kept_sentences") == 6
    assert _reason(good, rule_sets=["c4"]) is None
    assert _reason(good + "\nlorem ipsum dolor sit amet.", rule_sets=["c4"]) == "quality_rules.c4_lorem_ipsum"
    assert _reason(good + "\nint main() { return 0; }", rule_sets=["c4"]) == "quality_rules.c4_curly_bracket"
    assert _reason("One sentence only.", rule_sets=["c4"]) == "quality_rules.c4_too_few_sentences"


def test_threshold_override_and_unknown_rule():
    text = " ".join(f"w{i}x" for i in range(40))
    assert _reason(text, rule_sets=["gopher_quality"], thresholds={"gopher_word_count_min": 10, "gopher_stop_words": 0}) is None
    with pytest.raises(ValueError, match="unknown rules"):
        QualityRulesParams(thresholds={"no_such_rule": 1})
    assert len(ALL_RULES) >= 20


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(WORDS + ["...", "#x", "- a", "\n", "\n\n", "Ünï", "42"]), min_size=0, max_size=80))
def test_signals_agree_with_reference(tokens):
    text = " ".join(tokens)
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    ref_fineweb = fineweb.signals(text, len([t for t in text.split() if any(c.isalnum() or c == "_" for c in t)]))
    sig = batch_signals(pl.Series([text]), ["en"])
    assert sig["fineweb_short_line_frac"][0] == pytest.approx(ref_fineweb["fineweb_short_line_frac"])
    assert sig["c4_curly_bracket"][0] == c4.signals(text)["c4_curly_bracket"]
    n_lines = max(len(lines), 1)
    assert sig["gopher_ellipsis_line_frac"][0] == pytest.approx(sum(ln.endswith(("...", "…")) for ln in lines) / n_lines)
    import re
    words = re.findall(r"\w+", text)
    assert sig["gopher_n_words"][0] == len(words)
    assert sig["gopher_mean_word_length"][0] == pytest.approx(sum(map(len, words)) / len(words) if words else 0.0)
