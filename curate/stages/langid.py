"""langid: language and script of each document with fastText ``lid.176`` (Joulin et al. 2016,
"Bag of Tricks for Efficient Text Classification"; the model of "FastText.zip", 2016).

What fastText does not handle, and how we do:

- newlines: fastText predicts one line at a time (a newline ends the input), so line breaks and tabs
  become spaces first; ``clean_for_fasttext`` is the exact string the model sees;
- long documents: the label is predicted on a bounded prefix (``max_chars``, default 2,000 characters).
  The prediction averages word and character n-gram vectors, so it settles within a few hundred words;
  a prefix keeps the cost per document constant, whereas chunk-and-vote costs time linear in length
  for no gain on single-language text. Mixed text is measured separately (below);
- very short or empty text (fewer than ``min_letters`` letters in the first 500 characters): ``und``
  with score 0;
- mixed languages: for documents of at least ``mix_min_chars`` characters whose top score is below
  ``mix_below`` and whose second language scores at least ``mix_second`` (confident documents are
  single-language; a low score on a short text, or one spread over many languages, is uncertainty, not
  mixing; skipping those keeps the stage near raw fastText speed), up to ``line_sample``
  lines of at least ``2 * min_letters`` characters, evenly spread over the prefix, are predicted one by
  one (each cut to ``line_chars``; lines with fewer than ``min_letters`` letters are skipped);
  ``lang_mix`` holds ``code:fraction`` of those lines, null when not measured.

Columns: ``lang`` (ISO 639 code from ``__label__xx``), ``lang_score`` (top probability), ``lang_top``
(top-k ``code:prob``), ``script`` (Unicode script with most letters in the first 200 characters, ''
when none), ``lang_mix``. Batched: one ``predict`` call per batch; the model loads once per worker (``setup``).
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from curate.lid_model import ensure_lid_model
from curate.stage import DROP_REASON, MapStage, StageParams

SCRIPT_RANGES = {  # name -> code point ranges (inclusive) of its letters
    "Latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF)],
    "Greek": [(0x370, 0x3FF), (0x1F00, 0x1FFF)], "Cyrillic": [(0x400, 0x52F)], "Armenian": [(0x530, 0x58F)],
    "Hebrew": [(0x590, 0x5FF)], "Arabic": [(0x600, 0x6FF), (0x750, 0x77F)], "Devanagari": [(0x900, 0x97F)],
    "Bengali": [(0x980, 0x9FF)], "Tamil": [(0xB80, 0xBFF)], "Thai": [(0xE00, 0xE7F)], "Georgian": [(0x10A0, 0x10FF)],
    "Hangul": [(0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)], "Hiragana": [(0x3040, 0x309F)],
    "Katakana": [(0x30A0, 0x30FF)], "Han": [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF)],
}
SCRIPTS = ("", *SCRIPT_RANGES)
_TABLE_SIZE = 0x30000
SCRIPT_CHARS = 200  # the script is the one with most letters in this much of the prefix
LETTER_CHARS = 500  # und: too few letters in this much of the prefix
LINE_BREAKS = ["\r", "\n", "\t", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]  # each becomes a space


@cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point up to U+30000: is it a letter (``str.isalpha``), and its script index (0: other).

    Entry U+30000 stands for every code point above the table (no letter, no script), so a lookup is
    one ``np.minimum`` and one gather.
    """
    letter = np.array([chr(i).isalpha() for i in range(_TABLE_SIZE)] + [False], dtype=bool)
    script = np.zeros(_TABLE_SIZE + 1, dtype=np.uint8)
    for index, name in enumerate(SCRIPTS[1:], start=1):
        for lo, hi in SCRIPT_RANGES[name]:
            script[lo : hi + 1] = np.where(letter[lo : hi + 1], index, 0)
    return letter, script


class LangidParams(StageParams):
    stage: Literal["langid"] = "langid"
    model_path: str | None = Field(None, description="Your own lid.176.bin/.ftz (default: MIXLAB_LID_MODEL, then the cached lid.176.ftz).")
    top_k: int = Field(3, ge=1, le=10, description="Languages kept in lang_top.")
    max_chars: int = Field(2000, ge=50, description="Prefix length (characters) the document label is predicted on.")
    min_letters: int = Field(10, ge=0, description="Fewer letters than this in the prefix: lang = und.")
    mix_below: float = Field(0.8, ge=0, le=1.01, description="Measure lang_mix only for documents whose lang_score is below this.")
    mix_second: float = Field(0.1, ge=0, le=1, description="Measure lang_mix only when the second language scores at least this.")
    mix_min_chars: int = Field(200, ge=0, description="Measure lang_mix only for documents at least this long (characters).")
    line_sample: int = Field(4, ge=0, description="Lines predicted separately for lang_mix (0: off).")
    line_chars: int = Field(120, ge=10, description="Each sampled line is cut to this many characters.")
    keep_langs: list[str] | None = Field(None, description="Keep only these languages (ISO codes); None keeps all.")
    min_score: float = Field(0.0, ge=0, le=1, description="Drop documents whose lang_score is below this.")
    thresholds: dict[str, float] = Field(default_factory=dict, description="Per-language minimum scores, overriding min_score.")


def clean_for_fasttext(texts: pl.Series, max_chars: int) -> pl.Series:
    """The exact string fastText sees: the prefix with line breaks (and tabs) turned into spaces.

    Each break becomes one space (runs are not collapsed: fastText skips repeated whitespace when it
    splits words, so the tokens are the same, and a multi-pattern replace is cheaper than a regex).
    """
    return texts.str.slice(0, max_chars).str.replace_many(LINE_BREAKS, [" "] * len(LINE_BREAKS)).str.strip_chars()


def letters_and_script(cleaned: list[str]) -> tuple[np.ndarray, list[str]]:
    """Letters per string and the script with most letters, vectorized over code points."""
    letter, script = _tables()
    n, n_scripts = len(cleaned), len(SCRIPTS)
    lengths = np.fromiter(map(len, cleaned), dtype=np.int64, count=n)
    cps = np.frombuffer("".join(cleaned).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cps = np.minimum(cps, _TABLE_SIZE)
    row = np.repeat(np.arange(0, n * n_scripts, n_scripts, dtype=np.int64), lengths)  # doc * n_scripts
    n_letters = np.bincount(row[letter[cps]] // n_scripts, minlength=n)
    counts = np.bincount(row + script[cps], minlength=n * n_scripts).reshape(n, n_scripts)[:, 1:]
    names = np.array(SCRIPTS[1:])[counts.argmax(axis=1)] if n else np.array([], dtype=str)
    return n_letters, np.where(counts.max(axis=1, initial=0) > 0, names, "").tolist()


class Langid(MapStage):
    name = "langid"
    version = "4"
    Params = LangidParams
    schema = {"lang": pl.String, "lang_score": pl.Float64, "lang_top": pl.String, "script": pl.String, "lang_mix": pl.String}
    reasons = ("langid.language_not_kept", "langid.low_score")

    def setup(self) -> None:
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load-time deprecation warning
        self.model = fasttext.load_model(str(ensure_lid_model(self.params.model_path)))  # type: ignore[attr-defined]
        _tables()

    def predict(self, texts: list[str], k: int) -> tuple[list[list[str]], list[np.ndarray]]:
        """Batched fastText prediction; labels as ISO codes (``__label__de`` -> ``de``).

        Calls the binding's ``multilinePredict`` directly: ``FastText.predict`` only adds a newline
        scan per string, and every string here is newline-free (``clean_for_fasttext``, split lines).
        """
        labels, probs = self.model.f.multilinePredict([t + "\n" for t in texts], k, 0.0, "strict")
        return [[label[9:] for label in row] for row in labels], probs

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: LangidParams = self.params  # type: ignore[assignment]
        cleaned = clean_for_fasttext(batch["text"], p.max_chars).to_list()
        n_letters, scripts = letters_and_script([c[:SCRIPT_CHARS] for c in cleaned])
        recount = np.flatnonzero(n_letters < p.min_letters)  # rare: count further before calling it und
        n_letters[recount] = letters_and_script([cleaned[i][:LETTER_CHARS] for i in recount])[0]
        short = n_letters < p.min_letters
        labels, probs = self.predict([c for c, s in zip(cleaned, short, strict=True) if not s], p.top_k)
        rows = iter(zip(labels, probs, strict=True))
        predicted = [([], []) if s else next(rows) for s in short]
        lang = [row[0] if row else "und" for row, _ in predicted]
        # fastText's softmax can exceed 1 by rounding; "%.3f" prints such a value as 1.000 in lang_top
        score = np.minimum([prs[0] if row else 0.0 for row, prs in predicted], 1.0).tolist()
        top = [",".join(map("%s:%.3f".__mod__, zip(row, prs, strict=True))) or None for row, prs in predicted]
        long_enough = (batch["text"].str.len_chars() >= p.mix_min_chars).to_list()
        second = [len(prs) > 1 and bool(prs[1] >= p.mix_second) for _, prs in predicted]
        mixed = [sc < p.mix_below and two and big for sc, two, big in zip(score, second, long_enough, strict=True)]
        out = batch.select("doc_id").with_columns(
            pl.Series("lang", lang, dtype=pl.String),
            pl.Series("lang_score", score, dtype=pl.Float64),
            pl.Series("lang_top", top, dtype=pl.String),
            pl.Series("script", scripts, dtype=pl.String),
            pl.Series("lang_mix", self._line_mix(batch["text"], mixed, p), dtype=pl.String),
        )
        return out.with_columns(self._reason(p).alias(DROP_REASON))

    def _line_mix(self, texts: pl.Series, wanted: list[bool], p: LangidParams) -> list[str | None]:
        """``code:fraction`` over up to ``line_sample`` evenly spread lines of each wanted document."""
        if p.line_sample == 0 or not any(wanted):
            return [None] * texts.len()
        prefixes = iter(texts.filter(pl.Series(wanted)).str.slice(0, p.max_chars).to_list())
        per_doc: list[list[str] | None] = []
        for want in wanted:
            if not want:
                per_doc.append(None)
                continue
            text = next(prefixes)
            lines = [ln for ln in map(str.strip, text.splitlines()) if len(ln) >= 2 * p.min_letters]
            step = max(1, len(lines) // p.line_sample)
            picked = [ln[: p.line_chars] for ln in lines[::step][: p.line_sample]]
            picked = [ln for ln in picked if sum(map(str.isalpha, ln)) >= p.min_letters]
            per_doc.append(picked if len(picked) >= 2 else None)
        flat = [ln for lines in per_doc if lines for ln in lines]
        labels = iter(self.predict(flat, 1)[0] if flat else [])
        mixes: list[str | None] = []
        for lines in per_doc:
            if not lines:
                mixes.append(None)
                continue
            langs = [next(labels)[0] for _ in lines]
            counts = sorted(((la, langs.count(la)) for la in set(langs)), key=lambda kv: (-kv[1], kv[0]))
            mixes.append(",".join(f"{la}:{n / len(langs):.2f}" for la, n in counts))
        return mixes

    def _reason(self, p: LangidParams) -> pl.Expr:
        reason = pl.lit(None, dtype=pl.String)
        if p.thresholds or p.min_score > 0:
            floor = pl.col("lang").replace_strict(p.thresholds, default=p.min_score, return_dtype=pl.Float64)
            reason = pl.when(pl.col("lang_score") < floor).then(pl.lit("langid.low_score")).otherwise(reason)
        if p.keep_langs is not None:
            reason = pl.when(~pl.col("lang").is_in(p.keep_langs)).then(pl.lit("langid.language_not_kept")).otherwise(reason)
        return reason
