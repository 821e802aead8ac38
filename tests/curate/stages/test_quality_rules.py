"""quality_rules: hand-built documents just inside and just outside every threshold; signals vs a
straightforward per-document reference computation on random text (property test)."""

from __future__ import annotations

import random
import re
from collections import Counter

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.rules import stop_words
from curate.stages.quality_rules import ALL_RULES, SIGNALS, QualityRules, QualityRulesParams, batch_signals

ALL_SETS = ["gopher_quality", "gopher_repetition", "c4", "fineweb"]


def vocab(n: int, length: int = 5, seed: int = 0) -> list[str]:
    """n distinct alphabetic words of the given length (seeded)."""
    rng, out = random.Random(seed), dict.fromkeys([])
    while len(out) < n:
        out["".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(length))] = None
    return list(out)


def fill_words(total_chars: int, seed: int) -> list[str]:
    """Distinct alphabetic words whose lengths add up to exactly ``total_chars`` (>= 6)."""
    words, left, rng = [], total_chars, random.Random(seed)
    while left:
        size = left if left <= 9 else min(rng.randint(5, 8), left - 4)
        words.append(vocab(1, size, seed=rng.randrange(10**9))[0])
        left -= size
    return words


def failed(text: str, lang: str | None = "en") -> set[str]:
    stage = QualityRules(QualityRulesParams(rule_sets=ALL_SETS))
    frame = pl.DataFrame({"doc_id": ["d"], "text": [text]})
    out = stage.apply(frame.with_columns(pl.lit(lang).alias("lang")) if lang else frame)
    return set((out["quality_failed"][0] or "").split(",")) - {""}


def sig(text: str, name: str, lang: str = "en") -> float | None:
    return batch_signals(pl.Series([text]), [lang])[name][0]


def lines_of(n: int, seed: int = 0, end: str = ".") -> list[str]:
    ws = vocab(n * 6, seed=seed)
    return [" ".join(ws[i * 6 : i * 6 + 6]) + end for i in range(n)]


def dup_chars_doc(dup: int, total: int, para: bool) -> str:
    """A document whose one repeated line (or paragraph) has ``dup`` characters, ``total`` overall."""
    line = "a" * dup
    sep = "\n\n" if para else "\n"
    head = line + sep + line + sep
    return head + "b" * (total - len(head))


def ngram_doc(n: int, count: int, gram_chars: int, total: int, seed: int) -> str:
    """Word characters ``total``; one n-gram of ``gram_chars`` characters occurs ``count`` times."""
    sizes = [gram_chars // n + (i < gram_chars % n) for i in range(n)]
    gram = [vocab(1, s, seed=seed * 100 + i)[0] for i, s in enumerate(sizes)]
    filler = fill_words(total - count * gram_chars, seed)
    parts, step = [], max(1, len(filler) // count)
    for i in range(count):
        parts += gram + filler[i * step : (i + 1) * step]
    parts += filler[count * step :]
    return " ".join(parts)


STOPS = "the of "
CASES: dict[str, tuple[str, str]] = {
    "gopher_word_count_min": (STOPS + " ".join(vocab(48)), STOPS + " ".join(vocab(47))),
    "gopher_word_count_max": (" ".join(["word"] * 100_000), " ".join(["word"] * 100_001)),
    "gopher_mean_word_length_min": (" ".join(vocab(60, 3)), " ".join(vocab(59, 3) + ["ab"])),
    "gopher_mean_word_length_max": (" ".join(vocab(60, 10)), " ".join(vocab(59, 10) + ["a" * 11])),
    "gopher_symbol_word_ratio": (" ".join(vocab(100) + ["#"] * 10), " ".join(vocab(100) + ["#"] * 11)),
    "gopher_bullet_line_frac": ("\n".join(["- " + ln for ln in lines_of(9)] + lines_of(1, 1)), "\n".join("- " + ln for ln in lines_of(10))),
    "gopher_ellipsis_line_frac": ("\n".join(lines_of(3, end="...") + lines_of(7, 1)), "\n".join(lines_of(4, end="...") + lines_of(6, 1))),
    "gopher_alpha_word_frac": (" ".join(vocab(80) + ["123"] * 20), " ".join(vocab(79) + ["123"] * 21)),
    "gopher_stop_words": ("the house of " + " ".join(vocab(60)), "the house " + " ".join(vocab(60))),
    "gopher_dup_line_frac": ("\n".join(lines_of(7) + lines_of(3)), "\n".join(lines_of(6) + lines_of(4))),
    "gopher_dup_para_frac": ("\n\n".join(lines_of(7) + lines_of(3)), "\n\n".join(lines_of(6) + lines_of(4))),
    "gopher_dup_line_char_frac": (dup_chars_doc(20, 100, False), dup_chars_doc(20, 99, False)),
    "gopher_dup_para_char_frac": (dup_chars_doc(20, 100, True), dup_chars_doc(20, 99, True)),
    **{f"gopher_top_{n}gram_char_frac": (ngram_doc(n, 5, round(t * 100), 500, n), ngram_doc(n, 5, round(t * 100), 499, n))
       for n, t in ((2, 0.2), (3, 0.18), (4, 0.16))},
    **{f"gopher_dup_{n}gram_char_frac": (ngram_doc(n, 2, round(t * 500), 1000, n), ngram_doc(n, 2, round(t * 500), 999, n))
       for n, t in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))},
    "c4_kept_sentences": ("\n".join(lines_of(5)), "\n".join(lines_of(4) + ["two words."])),
    "c4_lorem_ipsum": ("\n".join(lines_of(6)), "\n".join(lines_of(6) + ["Lorem Ipsum dolor sit amet."])),
    "c4_curly_bracket": ("\n".join(lines_of(6)), "\n".join(lines_of(6) + ["call f(x) then {return}."])),
    "fineweb_line_punct_frac": ("\n".join(lines_of(3) + lines_of(22, 1, end="")), "\n".join(lines_of(2) + lines_of(23, 1, end=""))),
    "fineweb_short_line_frac": ("\n".join(vocab(67) + lines_of(33)), "\n".join(vocab(68) + lines_of(32))),
    "fineweb_dup_line_char_frac": (dup_chars_doc(10, 102, False), dup_chars_doc(10, 101, False)),
    "fineweb_newline_word_ratio": ("\n".join(["one two three four five six seven eight nine ten"] + ["eleven"] * 3),
                                   "\n".join(["one two three four five six seven eight nine"] + ["eleven"] * 4)),
}


def test_every_rule_has_a_case():
    assert set(CASES) == set(ALL_RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_just_inside_and_just_outside(rule):
    inside, outside = CASES[rule]
    r = ALL_RULES[rule]
    t = r.threshold
    value_in, value_out = sig(inside, r.signal), sig(outside, r.signal)
    assert (value_in >= t) if r.bound == "min" else (value_in <= t), value_in
    assert (value_out < t) if r.bound == "min" else (value_out > t), value_out
    assert rule not in failed(inside)
    assert rule in failed(outside)


def test_first_failing_rule_is_the_drop_reason_and_signals_are_kept():
    stage = QualityRules(QualityRulesParams(rule_sets=["gopher_quality"]))
    out = stage.apply(pl.DataFrame({"doc_id": ["a", "b"], "text": ["tiny text", "the of " + " ".join(vocab(60))]}))
    assert out["drop_reason"].to_list() == ["quality_rules.gopher_word_count_min", None]
    assert out["quality_failed"][0].startswith("gopher_word_count_min,")
    assert out["gopher_word_count"].to_list() == [2.0, 62.0]
    stage.conform(out)


def test_stop_words_follow_the_detected_language():
    german = "Der Hund und die Katze spielen mit dem Ball. " * 3
    assert sig(german, "gopher_stop_words", "de") >= 2
    assert sig(german, "gopher_stop_words", "en") == 0
    assert sig(german, "gopher_stop_words", "ja") is None  # no list: rule not applied
    assert sig(german, "gopher_stop_words", "und") is None
    assert "gopher_stop_words" not in failed(german, lang="ja")
    assert "gopher_stop_words" in failed(german, lang="en")
    assert sorted(stop_words()["en"]) == sorted(["the", "be", "to", "of", "and", "that", "have", "with"])


def test_without_langid_the_stage_assumes_a_language():
    text = "Der Hund und die Katze spielen mit dem Ball."
    assert "gopher_stop_words" in failed(text, lang=None)
    stage = QualityRules(QualityRulesParams(assume_lang="de"))
    assert stage.apply(pl.DataFrame({"doc_id": ["d"], "text": [text]}))["gopher_stop_words"][0] >= 2


def test_thresholds_resolve_to_every_rule_and_overrides_apply():
    params = QualityRulesParams(thresholds={"gopher_word_count_min": 10})
    assert set(params.thresholds) == set(ALL_RULES)
    assert params.thresholds["gopher_word_count_min"] == 10 and params.thresholds["gopher_stop_words"] == 2
    assert QualityRulesParams.model_validate_json(params.model_dump_json()) == params
    stage = QualityRules(QualityRulesParams(rule_sets=["gopher_quality"], thresholds={"gopher_word_count_min": 10}))
    out = stage.apply(pl.DataFrame({"doc_id": ["d"], "text": ["the of " + " ".join(vocab(20))]}))
    assert out["drop_reason"][0] is None
    with pytest.raises(ValueError, match="unknown rules"):
        QualityRulesParams(thresholds={"no_such_rule": 1})


def test_empty_batch_and_empty_text():
    stage = QualityRules(QualityRulesParams())
    out = stage.apply(pl.DataFrame({"doc_id": ["e"], "text": [""]}))
    assert out["gopher_word_count"][0] == 0 and out["drop_reason"][0] == "quality_rules.gopher_word_count_min"
    empty = stage.apply(pl.DataFrame(schema={"doc_id": pl.String, "text": pl.String}))
    assert empty.height == 0 and list(stage.conform(empty).columns) == list(stage.output_schema())


# -- reference: the definitions written out per document, as plainly as possible ----------------------

def _dup(items: list[str]) -> tuple[int, int]:
    seen, n, chars = set(), 0, 0
    for item in items:
        if item in seen:
            n, chars = n + 1, chars + len(item)
        seen.add(item)
    return n, chars


def reference(text: str, lang: str) -> dict[str, float | None]:
    words = re.findall(r"\w+", text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    n_w, n_l, wchars = max(len(words), 1), max(len(lines), 1), sum(map(len, words))
    out: dict[str, float | None] = {
        "gopher_word_count": len(words),
        "gopher_mean_word_length": wchars / n_w,
        "gopher_symbol_word_ratio": (text.count("#") + len(re.findall(r"\.\.\.|…", text))) / n_w,
        "gopher_bullet_line_frac": sum(ln[0] in "•●○■□▪▫*-–‣⁃" for ln in lines) / n_l,
        "gopher_ellipsis_line_frac": sum(ln.endswith(("...", "…")) for ln in lines) / n_l,
        "gopher_alpha_word_frac": sum(any(c.isalpha() for c in w) for w in words) / n_w,
        "gopher_stop_words": len({w.lower() for w in words} & stop_words()[lang]) if lang in stop_words() else None,
    }
    for name, items in (("line", lines), ("para", paras)):
        dup, chars = _dup(items)
        out[f"gopher_dup_{name}_frac"] = dup / max(len(items), 1)
        out[f"gopher_dup_{name}_char_frac"] = chars / max(len(text), 1)
    for n in range(2, 11):
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        counts = Counter(grams)
        if n <= 4:
            best = max(((c, sum(map(len, g))) for g, c in counts.items()), default=(0, 0))
            out[f"gopher_top_{n}gram_char_frac"] = best[0] * best[1] / max(wchars, 1) if best[0] > 1 else 0.0
        else:
            covered = {i + j for i, g in enumerate(grams) if counts[g] > 1 for j in range(n)}
            out[f"gopher_dup_{n}gram_char_frac"] = sum(len(words[i]) for i in covered) / max(wchars, 1)
    terminal = [ln.endswith((".", "!", "?", '"', "'")) and not ln.endswith("...") for ln in lines]
    short = [len(re.findall(r"\w+", ln)) < 3 for ln in lines]
    js = ["javascript" in ln.lower() for ln in lines]
    policy = [any(p in ln.lower() for p in ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")) for ln in lines]
    kept = [ln for ln, t, s, j, p in zip(lines, terminal, short, js, policy) if t and not s and not j and not p]
    out |= {
        "c4_terminal_line_frac": sum(terminal) / n_l, "c4_short_line_frac": sum(short) / n_l,
        "c4_javascript_line_frac": sum(js) / n_l, "c4_policy_line_frac": sum(policy) / n_l,
        "c4_kept_sentences": sum(len(re.findall(r"[.!?]+[\"']*(?:\s|$)", ln)) for ln in kept),
        "c4_lorem_ipsum": float("lorem ipsum" in text.lower()), "c4_curly_bracket": float("{" in text or "}" in text),
        "fineweb_line_punct_frac": sum(ln.endswith((".", "'", '"', "!", "?")) for ln in lines) / n_l,
        "fineweb_short_line_frac": sum(len(ln) <= 30 for ln in lines) / n_l,
        "fineweb_dup_line_char_frac": _dup(lines)[1] / max(len(text) - text.count("\n"), 1),
        "fineweb_newline_word_ratio": text.count("\n") / n_w,
    }
    return out


TOKENS = ["river", "stone", "the", "of", "and", "Garden", "...", "…", "#x", "- a", "• b", "\n", "\n\n", " \n ",
          "Ünï", "42", "end.", "why?", "{", "javascript", "privacy policy", "lorem ipsum", "x_y", "Здравствуйте", "'q'"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(TOKENS), max_size=60), min_size=1, max_size=4), st.sampled_from(["en", "de", "ja"]))
def test_signals_agree_with_reference(docs, lang):
    texts = [" ".join(tokens) for tokens in docs]
    got = batch_signals(pl.Series(texts), [lang] * len(texts))
    assert got.columns == list(SIGNALS)
    for i, text in enumerate(texts):
        ref = reference(text, lang)
        for name in SIGNALS:
            expected = ref[name]
            assert (got[name][i] is None) == (expected is None), name
            if expected is not None:
                assert got[name][i] == pytest.approx(expected), (name, text)
