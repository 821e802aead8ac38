"""langid: language and script of each document with fastText ``lid.176`` (Joulin et al. 2016).

What fastText does not handle, and how we do:

- newlines: fastText predicts one line at a time, so newlines are replaced by spaces first;
- long documents: we predict on a bounded prefix (``max_chars``, default 2,000 characters). The
  prediction averages word vectors, so it settles within a few hundred words and the cost stays
  constant per document; chunk-and-vote would cost time linear in length for no accuracy gain on
  single-language text, and mixed text is measured separately (next point);
- mixed languages: up to ``line_sample`` non-trivial lines, evenly spread over the prefix, are
  predicted one by one; ``lang_mix`` holds the fraction of sampled lines per language;
- very short or empty text (fewer than ``min_chars`` letters): ``und`` with score 0.

Columns: ``lang`` (ISO code), ``lang_score`` (probability), ``lang_top`` (top-k ``code:prob``),
``script`` (dominant Unicode script of letters), ``lang_mix`` (``code:fraction`` of sampled lines).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from curate.lid_model import ensure_lid_model
from curate.stage import DROP_REASON, MapStage, StageParams

SCRIPTS = ("Latin", "Cyrillic", "Greek", "Arabic", "Hebrew", "Han", "Hiragana", "Katakana", "Hangul", "Devanagari", "Thai", "Georgian", "Armenian")


class LangidParams(StageParams):
    stage: Literal["langid"] = "langid"
    model_path: str | None = Field(None, description="Your own lid.176.bin/.ftz (default: MIXLAB_LID_MODEL, then the cached lid.176.ftz).")
    top_k: int = Field(3, ge=1, le=10, description="Languages kept in lang_top.")
    max_chars: int = Field(2000, ge=50, description="Prefix length the document label is predicted on.")
    min_chars: int = Field(10, ge=0, description="Fewer letters than this: lang = und.")
    line_sample: int = Field(8, ge=0, description="Lines predicted separately for lang_mix (0: off).")
    keep_langs: list[str] | None = Field(None, description="Keep only these languages (ISO codes); None keeps all.")
    min_score: float = Field(0.0, ge=0, le=1, description="Drop documents whose lang_score is below this.")
    thresholds: dict[str, float] = Field(default_factory=dict, description="Per-language minimum scores, overriding min_score.")


def clean_for_fasttext(texts: pl.Series, max_chars: int) -> pl.Series:
    """The exact string fastText sees: the prefix with line breaks (and tabs) turned into spaces."""
    return texts.str.slice(0, max_chars).str.replace_all(r"[\r\n\t\v\f\u2028\u2029]+", " ").str.strip_chars()


def dominant_script(prefixes: pl.Series) -> pl.Series:
    """Unicode script with the most letters in each prefix ('' when it has none)."""
    frame = prefixes.alias("t").to_frame()
    counts = frame.select([pl.col("t").str.count_matches(rf"\p{{{s}}}").alias(s) for s in SCRIPTS]).to_numpy()
    best = counts.argmax(axis=1)
    names = np.array(SCRIPTS)[best]
    return pl.Series("script", np.where(counts.max(axis=1) > 0, names, ""), dtype=pl.String)


class Langid(MapStage):
    name = "langid"
    version = "1"
    Params = LangidParams
    schema = {"lang": pl.String, "lang_score": pl.Float64, "lang_top": pl.String, "script": pl.String, "lang_mix": pl.String}
    reasons = ("langid.language_not_kept", "langid.low_score")

    def setup(self) -> None:
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load-time warning
        self.model = fasttext.load_model(str(ensure_lid_model(self.params.model_path)))  # type: ignore[attr-defined]

    def _predict(self, texts: list[str], k: int) -> tuple[list[list[str]], list[np.ndarray]]:
        labels, probs = self.model.predict(texts, k=k)
        return [[label[9:] for label in row] for row in labels], probs

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: LangidParams = self.params  # type: ignore[assignment]
        cleaned = clean_for_fasttext(batch["text"], p.max_chars)
        letters = cleaned.str.count_matches(r"\p{L}").to_numpy()
        short = letters < p.min_chars
        labels, probs = self._predict([t if t else " " for t in cleaned.to_list()], p.top_k)
        lang = ["und" if s else row[0] for s, row in zip(short, labels, strict=True)]
        score = [0.0 if s else float(min(pr[0], 1.0)) for s, pr in zip(short, probs, strict=True)]
        top = ["" if s else ",".join(f"{la}:{min(pr, 1.0):.3f}" for la, pr in zip(row, prs, strict=True))
               for s, row, prs in zip(short, labels, probs, strict=True)]
        out = batch.select("doc_id").with_columns(
            pl.Series("lang", lang, dtype=pl.String),
            pl.Series("lang_score", score, dtype=pl.Float64),
            pl.Series("lang_top", top, dtype=pl.String),
            dominant_script(batch["text"].str.slice(0, p.max_chars)),
            pl.Series("lang_mix", self._line_mix(batch["text"], p), dtype=pl.String),
        )
        return out.with_columns(self._reason(p).alias(DROP_REASON))

    def _line_mix(self, texts: pl.Series, p: LangidParams) -> list[str]:
        """``code:fraction`` over up to ``line_sample`` evenly spread lines of each prefix."""
        if p.line_sample == 0:
            return [""] * texts.len()
        per_doc: list[list[str]] = []
        for text in texts.str.slice(0, p.max_chars).to_list():
            lines = [ln.strip() for ln in text.splitlines() if sum(c.isalpha() for c in ln) >= p.min_chars]
            step = max(1, len(lines) // p.line_sample)
            per_doc.append(lines[::step][: p.line_sample])
        flat = [ln for lines in per_doc for ln in lines]
        labels = self._predict(flat, 1)[0] if flat else []
        mixes, pos = [], 0
        for lines in per_doc:
            langs = [row[0] for row in labels[pos : pos + len(lines)]]
            pos += len(lines)
            counts = {la: langs.count(la) for la in sorted(set(langs))}
            mixes.append(",".join(f"{la}:{n / len(langs):.2f}" for la, n in sorted(counts.items(), key=lambda kv: -kv[1])))
        return mixes

    def _reason(self, p: LangidParams) -> pl.Expr:
        reason = pl.lit(None, dtype=pl.String)
        if p.thresholds or p.min_score > 0:
            floor = pl.col("lang").replace_strict(p.thresholds, default=p.min_score, return_dtype=pl.Float64) if p.thresholds else pl.lit(p.min_score)
            reason = pl.when(pl.col("lang_score") < floor).then(pl.lit("langid.low_score")).otherwise(reason)
        if p.keep_langs is not None:
            reason = pl.when(~pl.col("lang").is_in(p.keep_langs)).then(pl.lit("langid.language_not_kept")).otherwise(reason)
        return reason
