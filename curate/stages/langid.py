"""langid: language and script of each document with fastText ``lid.176`` (Joulin et al. 2016,
"Bag of Tricks for Efficient Text Classification"; the model of "FastText.zip", 2016).

What fastText does not handle, and how we do:

- newlines: fastText predicts one line at a time (a newline ends the input), so line breaks become
  spaces first; ``clean_for_fasttext`` is the exact string the model sees;
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
when none), ``lang_mix``. Batched: one ``predict`` call per batch, fed UTF-8 bytes straight from
Arrow; letters and scripts are counted in one compiled pass; the top-k columns are assembled in polars
(no per-document Python); the model loads once per worker (``setup``).
"""

from __future__ import annotations

from functools import cache
from itertools import chain
from typing import Literal

import numba as nb
import numpy as np
import polars as pl
from pydantic import Field, field_validator

from curate.dedup.shingles import pack
from curate.models.lid import ensure_lid_model
from curate.stage import DROP_REASON, MapStage, Probability, StageParams, existing_local_file

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
LINE_BREAKS = "[\n\x1c-\x1e\x85\u2028\u2029]"  # each becomes a space; fastText splits on \r \t \v \f itself


@cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point up to U+30000: is it a letter (``str.isalpha``), and its script index (0: other).

    Entry U+30000 stands for every code point above the table (no letter, no script), so a lookup
    clamps the code point and reads one entry.
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
    keep_langs: list[str] | None = Field(None, min_length=1, description="Keep only these languages (ISO codes); None keeps all.")
    min_score: float = Field(0.0, ge=0, le=1, description="Drop documents whose lang_score is below this.")
    thresholds: dict[str, Probability] = Field(default_factory=dict, description="Per-language minimum scores in [0, 1], overriding min_score.")

    _model_exists = field_validator("model_path")(existing_local_file)


def clean_for_fasttext(texts: pl.Series, max_chars: int) -> pl.Series:
    """The exact string fastText sees: the prefix with line breaks turned into spaces, stripped.

    fastText ends its input at a newline (the end-of-sentence token) and already splits words on
    ``\\r``, ``\\t``, ``\\v`` and ``\\f``; so newlines, and the Unicode line separators it does not split
    on (``\\x1c-\\x1e``, NEL, U+2028/2029), each become one space. Runs are not collapsed: fastText skips
    repeated whitespace when it splits words, so its tokens are the same either way.
    """
    return texts.str.slice(0, max_chars).str.replace_all(LINE_BREAKS, " ").str.strip_chars()


@nb.njit(cache=True)
def _count(buf: np.ndarray, offsets: np.ndarray, letter: np.ndarray, script: np.ndarray, n_scripts: int,
           letter_chars: int, script_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """Letters in each string's first ``letter_chars`` code points, script letters in its first ``script_chars``."""
    n = offsets.shape[0] - 1
    top = letter.shape[0] - 1
    n_letters = np.zeros(n, dtype=np.int64)
    counts = np.zeros((n, n_scripts), dtype=np.int64)
    for d in range(n):
        i, chars = offsets[d], 0
        while i < offsets[d + 1] and chars < letter_chars:
            b0 = int(buf[i])
            size = 1 if b0 < 0x80 else 2 if b0 < 0xE0 else 3 if b0 < 0xF0 else 4
            cp = b0 if size == 1 else b0 & (0x1F if size == 2 else 0x0F if size == 3 else 0x07)
            for k in range(1, size):
                cp = (cp << 6) | (int(buf[i + k]) & 0x3F)
            cp = min(cp, top)
            n_letters[d] += letter[cp]
            if chars < script_chars:
                counts[d, script[cp]] += 1
            chars += 1
            i += size
    return n_letters, counts


def letters_and_script(cleaned: pl.Series) -> tuple[np.ndarray, list[str]]:
    """Letters in the first ``LETTER_CHARS`` characters of each string, and the script with most
    letters in its first ``SCRIPT_CHARS`` ('' when none), in one compiled pass over the UTF-8 bytes."""
    letter, script = _tables()
    buf, offsets = pack(cleaned.str.slice(0, max(LETTER_CHARS, SCRIPT_CHARS)))
    n_letters, counts = _count(buf, offsets, letter, script, len(SCRIPTS), LETTER_CHARS, SCRIPT_CHARS)
    counts = counts[:, 1:]
    names = np.array(SCRIPTS[1:])[counts.argmax(axis=1)] if len(counts) else np.array([], dtype=str)
    return n_letters, np.where(counts.max(axis=1, initial=0) > 0, names, "").tolist()


def ranked(labels: list[list[str]], probs: list[np.ndarray], k: int) -> tuple[list[pl.Series], np.ndarray]:
    """fastText's ragged top-k as k code columns (null past a row's end) and an (n, k) probability matrix (0 there)."""
    lengths = np.fromiter(map(len, probs), dtype=np.int64, count=len(probs))
    starts = np.cumsum(lengths) - lengths
    codes = pl.Series(list(chain.from_iterable(labels)), dtype=pl.String).str.slice(len("__label__"))
    flat = np.concatenate(probs).astype(np.float64) if probs else np.zeros(0)
    columns, matrix = [], np.zeros((len(probs), k))
    for rank in range(k):
        has = lengths > rank
        at = np.where(has, starts + rank, 0)
        columns.append(pl.select(pl.when(pl.Series(has)).then(codes.gather(at))).to_series() if len(codes) else codes.clear(len(probs)))
        matrix[has, rank] = flat[at[has]]
    return columns, matrix


class Langid(MapStage):
    name = "langid"
    version = "5"
    Params = LangidParams
    schema = {"lang": pl.String, "lang_score": pl.Float64, "lang_top": pl.String, "script": pl.String, "lang_mix": pl.String}
    reasons = ("langid.language_not_kept", "langid.low_score")

    def setup(self) -> None:
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load-time deprecation warning
        self.model = fasttext.load_model(str(ensure_lid_model(self.params.model_path)))  # type: ignore[attr-defined]
        self.compile_kernels()  # builds the tables and loads (or compiles) the kernel once per worker

    def compile_kernels(self) -> None:
        letters_and_script(pl.Series(["warm up"]))

    def predict(self, texts: pl.Series, k: int) -> tuple[list[list[str]], list[np.ndarray]]:
        """Batched fastText prediction of newline-free texts: (``__label__xx`` labels, probabilities) per text.

        Calls the binding's ``multilinePredict`` directly (``FastText.predict`` adds a newline scan and
        a copy per string) with the UTF-8 bytes from Arrow: bytes skip the str -> UTF-8 encoding the
        binding does for every non-ASCII ``str`` (~7% of the prediction time on multilingual text).
        """
        return self.model.f.multilinePredict((texts + "\n").cast(pl.Binary).to_list(), k, 0.0, "strict")

    def apply(self, batch: pl.DataFrame) -> pl.DataFrame:
        p: LangidParams = self.params  # type: ignore[assignment]
        cleaned = clean_for_fasttext(batch["text"], p.max_chars)
        n_letters, scripts = letters_and_script(cleaned)
        predicted = np.flatnonzero(n_letters >= p.min_letters)  # the rest is und
        labels, probs = self.predict(cleaned.gather(predicted), p.top_k)
        codes, matrix = ranked(labels, probs, p.top_k)
        score = np.zeros(batch.height)
        # fastText's softmax can exceed 1 by rounding; lang_top prints such a value as 1.000
        score[predicted] = np.minimum(matrix[:, 0], 1.0)
        second = np.zeros(batch.height, dtype=bool)
        if p.top_k > 1:
            second[predicted] = matrix[:, 1] >= p.mix_second
        long_enough = (batch["text"].str.len_chars() >= p.mix_min_chars).fill_null(False).to_numpy()
        lang = pl.Series("lang", ["und"] * batch.height, dtype=pl.String)
        top = pl.Series("lang_top", [None] * batch.height, dtype=pl.String)
        if len(predicted):
            pairs = [pl.concat_str([code, pl.lit(":"), pl.Series(matrix[:, rank]).cast(pl.Decimal(10, 3)).cast(pl.String)])
                     for rank, code in enumerate(codes)]
            lang.scatter(predicted, codes[0].fill_null("und"))  # a row without any label (never seen) counts as und
            top.scatter(predicted, pl.select(pl.when(codes[0].is_not_null()).then(pl.concat_str(pairs, separator=",", ignore_nulls=True))).to_series())
        mixed = (score < p.mix_below) & second & long_enough
        out = batch.select("doc_id").with_columns(lang, pl.Series("lang_score", score), top, pl.Series("script", scripts, dtype=pl.String),
                                                  pl.Series("lang_mix", self._line_mix(batch["text"], mixed, p), dtype=pl.String))
        return out.with_columns(self._reason(p).alias(DROP_REASON))

    def _line_mix(self, texts: pl.Series, wanted: np.ndarray, p: LangidParams) -> list[str | None]:
        """``code:fraction`` over up to ``line_sample`` evenly spread lines of each wanted document."""
        mixes: list[str | None] = [None] * texts.len()
        if p.line_sample == 0 or not wanted.any():
            return mixes
        docs, picked = [], []
        for doc, text in zip(np.flatnonzero(wanted), texts.filter(pl.Series(wanted)).str.slice(0, p.max_chars).to_list(), strict=True):
            lines = [ln for ln in map(str.strip, text.splitlines()) if len(ln) >= 2 * p.min_letters]
            step = max(1, len(lines) // p.line_sample)
            sample = [ln[: p.line_chars] for ln in lines[::step][: p.line_sample]]
            sample = [ln for ln in sample if sum(map(str.isalpha, ln)) >= p.min_letters]
            if len(sample) >= 2:
                docs.append((doc, len(sample)))
                picked += sample
        if not picked:
            return mixes
        labels = iter(row[0][len("__label__") :] for row in self.predict(pl.Series(picked, dtype=pl.String), 1)[0])
        for doc, n in docs:
            langs = [next(labels) for _ in range(n)]
            counts = sorted(((la, langs.count(la)) for la in set(langs)), key=lambda kv: (-kv[1], kv[0]))
            mixes[doc] = ",".join(f"{la}:{c / n:.2f}" for la, c in counts)
        return mixes

    def _reason(self, p: LangidParams) -> pl.Expr:
        reason = pl.lit(None, dtype=pl.String)
        if p.thresholds or p.min_score > 0:
            floor = pl.col("lang").replace_strict(p.thresholds, default=p.min_score, return_dtype=pl.Float64)
            reason = pl.when(pl.col("lang_score") < floor).then(pl.lit("langid.low_score")).otherwise(reason)
        if p.keep_langs is not None:
            reason = pl.when(~pl.col("lang").is_in(p.keep_langs)).then(pl.lit("langid.language_not_kept")).otherwise(reason)
        return reason
