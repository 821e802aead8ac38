"""C4 rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning...", Section 2.2), as
document-level signals (the text itself is never modified here).

C4 keeps only lines that end in terminal punctuation, have at least 3 words, and mention neither
"javascript" nor a policy/cookie notice; it drops pages with fewer than 5 sentences (counted here in
the lines C4 would keep), pages containing "lorem ipsum", and pages containing a curly bracket.
Signals: ``c4_terminal_line_frac``, ``c4_javascript_line_frac``, ``c4_policy_line_frac``,
``c4_kept_sentences``, ``c4_lorem_ipsum`` and ``c4_curly_bracket`` (0/1).
"""

from __future__ import annotations

import re

from curate.rules import Rule

TERMINAL = (".", "!", "?", '"', "'", "”", "’")
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_SENTENCE = re.compile(r"[.!?]+(?:\s|$)")

RULES = (
    Rule("c4_too_few_sentences", "c4_kept_sentences", "min", 5),
    Rule("c4_lorem_ipsum", "c4_lorem_ipsum", "max", 0),
    Rule("c4_curly_bracket", "c4_curly_bracket", "max", 0),
)


def signals(text: str) -> dict[str, float | None]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    n = max(len(lines), 1)
    lower = [ln.lower() for ln in lines]
    terminal = [ln.endswith(TERMINAL) for ln in lines]
    javascript = ["javascript" in ln for ln in lower]
    policy = [any(p in ln for p in POLICY) for ln in lower]
    kept = [ln for ln, t, j, p in zip(lines, terminal, javascript, policy, strict=True) if t and not j and not p and len(ln.split()) >= 3]
    low_text = text.lower()
    return {
        "c4_terminal_line_frac": sum(terminal) / n,
        "c4_javascript_line_frac": sum(javascript) / n,
        "c4_policy_line_frac": sum(policy) / n,
        "c4_kept_sentences": float(sum(len(_SENTENCE.findall(ln)) for ln in kept)),
        "c4_lorem_ipsum": float("lorem ipsum" in low_text),
        "c4_curly_bracket": float("{" in text or "}" in text),
    }
