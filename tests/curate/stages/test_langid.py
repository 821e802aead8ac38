"""langid with the real lid.176 model: labels, und for short text, mixed documents, filters."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.stages.langid import LETTER_CHARS, SCRIPT_CHARS, SCRIPT_RANGES, Langid, LangidParams, clean_for_fasttext, letters_and_script

EN = "The committee approved the new budget for the public library after a long discussion about opening hours."
DE = "Der Ausschuss hat den neuen Haushalt für die öffentliche Bibliothek nach einer langen Diskussion genehmigt."
FR = "Le comité a approuvé le nouveau budget de la bibliothèque publique après une longue discussion sur les horaires."
RU = "Комитет одобрил новый бюджет публичной библиотеки после долгого обсуждения часов работы."


@pytest.fixture(scope="module")
def stage() -> Langid:
    s = Langid(LangidParams(keep_langs=["en", "de", "fr", "ru"], min_score=0.5))
    s.setup()
    return s


def _run(stage: Langid, texts: list[str]) -> pl.DataFrame:
    return stage.apply(pl.DataFrame({"doc_id": [str(i) for i in range(len(texts))], "text": texts}))


def test_languages_scripts_and_und(stage):
    out = _run(stage, [EN, DE, FR, RU, "", "ok", "12345 678"])
    assert out["lang"].to_list() == ["en", "de", "fr", "ru", "und", "und", "und"]
    assert out["script"].to_list()[:4] == ["Latin", "Latin", "Latin", "Cyrillic"]
    assert all(s > 0.5 for s in out["lang_score"][:4])
    assert out["lang_top"][0].startswith("en:")


def test_newlines_do_not_split_the_prediction(stage):
    out = _run(stage, [EN.replace(" ", "\n")])
    raw = stage.model.predict(clean_for_fasttext(pl.Series([EN.replace(" ", "\n")]), 2000).to_list(), k=1)[0][0][0]
    assert out["lang"][0] == "en" == raw[9:]


def test_mixed_document_line_fractions():
    s = Langid(LangidParams(mix_below=1.01, mix_second=0.0))
    s.setup()
    out = _run(s, ["\n".join([EN, DE, EN, DE]), "\n".join([EN, EN, FR, EN]), EN])
    assert out["lang_mix"].to_list() == ["de:0.50,en:0.50", "en:0.75,fr:0.25", None]  # one line: not measured


def test_short_or_single_language_uncertain_documents_skip_the_line_mix():
    s = Langid(LangidParams(mix_below=1.01, mix_second=0.0, mix_min_chars=1000))
    s.setup()
    mixed = "\n".join([EN, DE, EN, DE])  # about 430 characters: below mix_min_chars
    assert _run(s, [mixed])["lang_mix"][0] is None
    s.params = LangidParams(mix_below=1.01, mix_second=0.99)  # no second language scores that high
    assert _run(s, [mixed])["lang_mix"][0] is None
    s.params = LangidParams(mix_below=1.01, mix_second=0.0)
    assert _run(s, [mixed])["lang_mix"][0] == "de:0.50,en:0.50"


def test_letters_beyond_the_script_window_still_count(stage):
    out = _run(stage, ["- " * 150 + EN])  # 300 characters without letters, then English
    assert out["lang"][0] == "en"


def test_confident_documents_skip_the_line_mix(stage):
    out = _run(stage, ["\n".join([EN, EN.replace("budget", "plan")])])
    assert out["lang_score"][0] >= stage.params.mix_below and out["lang_mix"][0] is None


def test_label_equals_raw_fasttext_on_the_cleaned_prefix(stage):
    texts = [EN * 40 + "\n" + DE * 40, "\n\n" + FR, RU + "\t" + EN]
    out = _run(stage, texts)
    raw = stage.model.predict(clean_for_fasttext(pl.Series(texts), stage.params.max_chars).to_list(), k=1)[0]
    assert out["lang"].to_list() == [r[0][9:] for r in raw]
    assert out["lang"][0] == "en"  # the prefix decides a long document


def test_scripts():
    cleaned = ["Hello world", "Привет мир", "日本語の文章です", "123 456", "مرحبا بالعالم"]
    n_letters, scripts = letters_and_script(pl.Series(cleaned))
    assert scripts == ["Latin", "Cyrillic", "Han", "", "Arabic"]
    assert n_letters.tolist() == [10, 9, 8, 0, 12]


def _reference_letters_and_script(text: str) -> tuple[int, str]:
    counts = {name: sum(any(lo <= ord(c) <= hi for lo, hi in ranges) and c.isalpha() for c in text[:SCRIPT_CHARS])
              for name, ranges in SCRIPT_RANGES.items()}
    best = max(counts.values())
    return sum(c.isalpha() for c in text[:LETTER_CHARS]), next(n for n, c in counts.items() if c == best) if best else ""


def test_letters_and_script_equal_a_per_character_reference():
    rng = np.random.default_rng(7)
    alphabet = list("aZé ß-,.9\t") + ["Ж", "я", "α", "日", "の", "ア", "한", "ع", "ש", "ก", "ह", "\U00020001", "\U0001F600", "\u0301"]
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 900))) for _ in range(300)] + ["", "\U0001F600" * 600]
    n_letters, scripts = letters_and_script(pl.Series(texts))
    assert list(zip(n_letters.tolist(), scripts, strict=True)) == [_reference_letters_and_script(t) for t in texts]


def test_top_k_column_formats_raw_fasttext_probabilities(stage):
    texts = [EN, DE + " " + FR, RU, "Ok ok " * 3]
    out = _run(stage, texts)
    labels, probs = stage.model.predict(clean_for_fasttext(pl.Series(texts), stage.params.max_chars).to_list(), k=stage.params.top_k)
    expected = [",".join(f"{label[9:]}:{prob:.3f}" for label, prob in zip(row, prs, strict=True)) for row, prs in zip(labels, probs, strict=True)]
    assert out["lang_top"].to_list() == expected
    assert out["lang_score"].to_list() == pytest.approx([min(float(prs[0]), 1.0) for prs in probs])


def test_empty_batch(stage):
    out = stage.apply(pl.DataFrame(schema={"doc_id": pl.String, "text": pl.String}))
    assert out.height == 0 and stage.conform(out).columns == list(stage.output_schema())


def test_filters_keep_langs_and_thresholds():
    s = Langid(LangidParams(keep_langs=["en"], thresholds={"en": 0.99999}))
    s.setup()
    out = _run(s, [DE, EN])
    assert out["drop_reason"].to_list() == ["langid.language_not_kept", "langid.low_score"]
