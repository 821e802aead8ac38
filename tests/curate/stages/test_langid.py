"""langid with the real lid.176 model: labels, und for short text, mixed documents, filters."""

from __future__ import annotations

import polars as pl
import pytest

from curate.stages.langid import Langid, LangidParams, clean_for_fasttext

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


def test_mixed_document_line_fractions(stage):
    mixed = "\n".join([EN, DE, EN, DE])
    out = _run(stage, [mixed])
    assert out["lang_mix"][0] in ("en:0.50,de:0.50", "de:0.50,en:0.50")


def test_filters_keep_langs_and_thresholds():
    s = Langid(LangidParams(keep_langs=["en"], thresholds={"en": 0.99999}))
    s.setup()
    out = _run(s, [DE, EN])
    assert out["drop_reason"].to_list() == ["langid.language_not_kept", "langid.low_score"]
