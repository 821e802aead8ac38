"""FineWeb quality rules (Penedo et al. 2024, "The FineWeb Datasets", Section 3.3; datatrove's
FineWebQualityFilter), with their published thresholds.

Drop when: fewer than 12% of lines end in punctuation (``fineweb_line_punct_frac`` < 0.12); more than
67% of lines are short, at most 30 characters (``fineweb_short_line_frac`` > 0.67); characters in
duplicated lines exceed 10% of all characters (``fineweb_dup_line_char_frac`` > 0.1); the document is
list-like: more than 0.3 newlines per word (``fineweb_newline_word_ratio`` > 0.3).
"""

from __future__ import annotations

from curate.rules import Rule

PUNCT = (".", "?", "!", '"', "'", "”", "’", ":", ";", ")", "]")

RULES = (
    Rule("fineweb_line_punct", "fineweb_line_punct_frac", "min", 0.12),
    Rule("fineweb_short_lines", "fineweb_short_line_frac", "max", 0.67),
    Rule("fineweb_dup_line_chars", "fineweb_dup_line_char_frac", "max", 0.1),
    Rule("fineweb_list_like", "fineweb_newline_word_ratio", "max", 0.3),
)


def signals(text: str, n_words: int) -> dict[str, float | None]:
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    n = max(len(lines), 1)
    seen: set[str] = set()
    dup_chars = 0
    for ln in lines:
        if ln in seen:
            dup_chars += len(ln)
        seen.add(ln)
    total = sum(map(len, lines))
    n_words = max(n_words, 1)
    return {
        "fineweb_line_punct_frac": sum(ln.endswith(PUNCT) for ln in lines) / n,
        "fineweb_short_line_frac": sum(len(ln) <= 30 for ln in lines) / n,
        "fineweb_dup_line_char_frac": dup_chars / total if total else 0.0,
        "fineweb_newline_word_ratio": text.count("\n") / n_words,
    }
