"""quality_rules: Gopher quality, Gopher repetition, C4 and FineWeb rules as signals plus thresholds.

Every signal of every rule set becomes a column (definitions, references and published thresholds in
``curate/rules/``); each rule is a threshold on one signal. ``quality_failed`` lists every enabled rule
a document fails (comma-separated, in rule order), and a document failing any is dropped with the first
one's name (``quality_rules.<rule>``). Thresholds default to the published values; the resolved
thresholds of all rules are part of the params (so ``stages.params`` records them for the reports).

Language: the stop-word rule is language-specific. The stage reads the ``lang`` column when ``langid``
ran earlier (an optional need, so the stage also runs without it) and otherwise assumes
``assume_lang``; languages without a stop-word list (and ``und``) get a null signal: rule not applied.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, field_validator

from curate.rules import Rule, c4, fineweb, gopher, gopher_repetition, line_table
from curate.stage import DROP_REASON, MapStage, StageParams

RuleSet = Literal["gopher_quality", "gopher_repetition", "c4", "fineweb"]
RULE_SETS: dict[str, tuple[Rule, ...]] = {
    "gopher_quality": gopher.RULES,
    "gopher_repetition": gopher_repetition.RULES,
    "c4": c4.RULES,
    "fineweb": fineweb.RULES,
}
ALL_RULES = {r.name: r for rules in RULE_SETS.values() for r in rules}
SIGNALS = (*gopher.SIGNALS, *gopher_repetition.SIGNALS, *c4.SIGNALS, *fineweb.SIGNALS)
FAILED = "quality_failed"


class QualityRulesParams(StageParams):
    stage: Literal["quality_rules"] = "quality_rules"
    rule_sets: list[RuleSet] = Field(
        ["gopher_quality", "gopher_repetition", "fineweb"],
        description="Rule sets whose thresholds drop documents (signals of all sets are always computed).",
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict, validate_default=True,
        description="Override a rule's published threshold, by rule name (resolved to all rules).",
    )
    disabled_rules: list[str] = Field(default_factory=list, description="Rules (by name) that never drop.")
    assume_lang: str = Field("en", description="Language for the stop-word rule when no langid `lang` column exists.")

    @field_validator("thresholds", "disabled_rules")
    @classmethod
    def _known_rules(cls, value: dict[str, float] | list[str]) -> dict[str, float] | list[str]:
        unknown = sorted(set(value) - set(ALL_RULES))
        if unknown:
            raise ValueError(f"unknown rules {unknown}; known: {sorted(ALL_RULES)}")
        if isinstance(value, dict):
            errors = [e for name, v in value.items() if (e := ALL_RULES[name].threshold_error(v))]
            if errors:
                raise ValueError("; ".join(errors))
            return {name: float(value.get(name, rule.threshold)) for name, rule in ALL_RULES.items()}
        return value


def batch_signals(texts: pl.Series, langs: pl.Series | list[str | None]) -> pl.DataFrame:
    """Every signal of every rule set for a batch, vectorized over the batch's words and lines."""
    langs = pl.Series("lang", langs, dtype=pl.String)
    words = gopher.word_table(texts)
    lines = line_table(texts)
    quality = gopher.signals(texts, words, lines, langs)
    return pl.concat([
        quality,
        gopher_repetition.signals(texts, words, lines),
        c4.signals(texts, lines),
        fineweb.signals(texts, lines, quality["gopher_word_count"]),
    ], how="horizontal").select(SIGNALS)


class QualityRules(MapStage):
    name = "quality_rules"
    version = "2"
    Params = QualityRulesParams
    optional_needs = ("lang",)
    schema = {**{s: pl.Float64 for s in SIGNALS}, FAILED: pl.String}
    reasons = tuple(f"quality_rules.{name}" for name in ALL_RULES)

    def active_rules(self) -> list[Rule]:
        p: QualityRulesParams = self.params  # type: ignore[assignment]
        return [r for s in p.rule_sets for r in RULE_SETS[s] if r.name not in p.disabled_rules]

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: QualityRulesParams = self.params  # type: ignore[assignment]
        langs = batch["lang"] if "lang" in batch.columns else pl.Series([p.assume_lang] * batch.height)
        signals = batch_signals(batch["text"], langs)
        rules = self.active_rules()
        failed = [pl.when(r.fails_expr(p.thresholds.get(r.name, r.threshold))).then(pl.lit(r.name)) for r in rules]
        failed_expr = pl.concat_list(failed).list.drop_nulls() if failed else pl.lit([], dtype=pl.List(pl.String))
        out = pl.concat([batch.select("doc_id"), signals], how="horizontal").with_columns(failed_expr.alias(FAILED))
        return out.with_columns(
            pl.when(pl.col(FAILED).list.len() > 0).then(pl.col(FAILED).list.join(",")).alias(FAILED),
            pl.when(pl.col(FAILED).list.len() > 0).then(pl.lit("quality_rules.") + pl.col(FAILED).list.first()).alias(DROP_REASON),
        )
