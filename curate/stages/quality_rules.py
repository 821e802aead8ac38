"""quality_rules: Gopher quality, Gopher repetition, C4 and FineWeb rules as signals plus thresholds.

Every signal of the enabled rule sets becomes a column (see curate/rules/ for the definitions and the
papers they follow); each rule is a threshold on one signal, and a document failing rules is dropped
with the first failing rule's name (``quality_rules.<rule>``). Thresholds default to the published
values and can be overridden per rule (``thresholds: {gopher_stop_words: 1}``). Language-specific
rules (Gopher's stop words) read the ``lang`` column from ``langid`` when it ran (else assume
``assume_lang``) and are not applied (null signal) to languages without a published list.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator

from curate.rules import Rule, c4, fineweb, gopher
from curate.stage import DROP_REASON, MapStage, StageParams

RuleSet = Literal["gopher_quality", "gopher_repetition", "c4", "fineweb"]
RULE_SETS: dict[str, tuple[Rule, ...]] = {
    "gopher_quality": gopher.QUALITY_RULES,
    "gopher_repetition": gopher.REPETITION_RULES,
    "c4": c4.RULES,
    "fineweb": fineweb.RULES,
}
ALL_RULES = {r.name: r for rules in RULE_SETS.values() for r in rules}
_EMPTY = np.zeros(0, dtype=np.uint64)
SIGNALS = tuple(dict.fromkeys([
    *gopher.quality_frame(pl.Series([""]), gopher.word_frame(pl.Series([""])), ["en"]).columns,
    *gopher.repetition_signals("", _EMPTY, _EMPTY), *c4.signals(""), *fineweb.signals("", 0)]))


class QualityRulesParams(StageParams):
    stage: Literal["quality_rules"] = "quality_rules"
    rule_sets: list[RuleSet] = Field(["gopher_quality", "gopher_repetition", "fineweb"], description="Rule sets whose thresholds drop documents (signals of all sets are always computed).")
    thresholds: dict[str, float] = Field(default_factory=dict, description="Override a rule's published threshold, by rule name.")
    disabled_rules: list[str] = Field(default_factory=list, description="Rules (by name) that never drop.")
    assume_lang: str = Field("en", description="Language assumed when no langid column exists.")

    @field_validator("thresholds", "disabled_rules")
    @classmethod
    def _known_rules(cls, value: dict[str, float] | list[str]) -> dict[str, float] | list[str]:
        unknown = sorted(set(value) - set(ALL_RULES))
        if unknown:
            raise ValueError(f"unknown rules {unknown}; known: {sorted(ALL_RULES)}")
        return value


def batch_signals(texts: pl.Series, langs: list[str | None]) -> pl.DataFrame:
    """Every signal of every rule set for a batch: word-level ones vectorized, line/n-gram ones per document."""
    words = gopher.word_frame(texts)
    quality = gopher.quality_frame(texts, words, langs)
    rows = []
    for text, hashes, lens in zip(texts.to_list(), words["hashes"].to_list(), words["lens"].to_list(), strict=True):
        ids, lengths = np.asarray(hashes, dtype=np.uint64), np.asarray(lens, dtype=np.int64)
        rows.append({**gopher.repetition_signals(text, ids, lengths), **c4.signals(text), **fineweb.signals(text, len(ids))})
    rest = pl.DataFrame(rows, schema={s: pl.Float64 for s in SIGNALS if s not in quality.columns})
    return pl.concat([quality, rest], how="horizontal").select(SIGNALS)


class QualityRules(MapStage):
    name = "quality_rules"
    version = "1"
    Params = QualityRulesParams
    optional_needs = ("lang",)
    schema = {s: pl.Float64 for s in SIGNALS}
    reasons = tuple(f"quality_rules.{name}" for name in ALL_RULES)

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: QualityRulesParams = self.params  # type: ignore[assignment]
        langs = batch["lang"].to_list() if "lang" in batch.columns else [p.assume_lang] * batch.height
        signals = batch_signals(batch["text"], langs)
        reason = pl.lit(None, dtype=pl.String)
        for rule in reversed([r for s in p.rule_sets for r in RULE_SETS[s] if r.name not in p.disabled_rules]):
            t = p.thresholds.get(rule.name, rule.threshold)
            fails = pl.col(rule.signal) < t if rule.bound == "min" else pl.col(rule.signal) > t
            reason = pl.when(fails.fill_null(False)).then(pl.lit(f"quality_rules.{rule.name}")).otherwise(reason)
        return pl.concat([batch.select("doc_id"), signals], how="horizontal").with_columns(reason.alias(DROP_REASON))
