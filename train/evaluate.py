"""Evaluation: bits per byte per eval set and per kind (id / ood), and three multiple-choice probes.

bits per byte (tokenizer-independent, as in The Pile, Gao et al. 2020): the summed negative
log-likelihood of a document's tokens (and its closing EOS) in bits, over the document's UTF-8 bytes.
Each document starts after an EOS, as in training. Documents longer than the context are scored in
consecutive non-overlapping windows, each conditioned on its own prefix only; each window keeps its
document's index, so the same pass gives every document's summed NLL (``eval_doc_losses``), whose sums
per set are the set's bits per byte. The probe (in the spirit of HellaSwag-style multiple choice,
computable from held-out text): for each document, a 32-token prefix and its true 32-token continuation
against 3 continuations taken from other documents of the same set; accuracy = how often the true one
has the lowest NLL (chance = 0.25). ``domain_choice_acc``: the same, with the 3 wrong continuations taken
from other eval sets (does the model know which domain continues? chance 0.25). ``cloze_acc``
(LAMBADA-style last word, scored as a Children's-Book-Test choice): the last word of a passage against up
to 9 words of the same set with as many tokens, given the passage before it (chance = 1 / candidates,
stored per set). A tie among the lowest NLLs earns 1/ties, so a model that cannot tell the options apart
scores exactly chance.
"""

from __future__ import annotations

import hashlib
import math
import re
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer

from curate.core.catalog import Catalog
from curate.core.errors import NotInRun
from curate.mix.eval_split import MAX_EVAL_CHARS, EvalSet, eval_texts
from train.data import EOS_ID, encode

PROBE_PREFIX, PROBE_CONT, PROBE_DISTRACTORS = 32, 32, 3
CLOZE_PASSAGE_CHARS, CLOZE_DISTRACTORS = 1000, 9
_CLOZE_WORD = re.compile(r"(?<![\w])[^\W\d_]{3,}(?![\w])")
METRICS = ("bpb", "continuation_acc", "domain_choice_acc", "cloze_acc")
IGNORE = -100  # cross_entropy's ignore_index: padding positions add nothing


def _autocast(device: str) -> torch.autocast | nullcontext:
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else nullcontext()


@torch.no_grad()
def windows_nll(model: torch.nn.Module, windows: list[list[int]], device: str, batch_size: int = 16) -> torch.Tensor:
    """Per-window summed NLL (nats) of w[1:] given its prefix; windows are right-padded and batched.

    Right padding is exact for a causal model: no real position attends to a later (padded) one.
    """
    out = torch.zeros(len(windows), dtype=torch.float64)
    order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))  # similar lengths share a batch
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = max(len(windows[i]) for i in idx)
        ids = torch.zeros(len(idx), width, dtype=torch.long)
        tgt = torch.full((len(idx), width - 1), IGNORE, dtype=torch.long)
        for row, i in enumerate(idx):
            w = torch.tensor(windows[i])
            ids[row, : len(w)] = w
            tgt[row, : len(w) - 1] = w[1:]
        ids, tgt = ids.to(device), tgt.to(device)
        with _autocast(device):
            logits = model(ids[:, :-1]).logits
        # rows x vocab, not batch x vocab x time: the transposed layout is ~3x slower on CPU
        nll = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), tgt.flatten(), ignore_index=IGNORE, reduction="none").view(tgt.shape)
        out[idx] = nll.sum(dim=1).double().cpu()
    return out


def sequence_nll(model: torch.nn.Module, ids: list[int], seq_len: int, device: str) -> float:
    """Total NLL (nats) of ids[1:] given their prefixes, in non-overlapping windows of seq_len."""
    windows = [ids[s : s + seq_len + 1] for s in range(0, len(ids) - 1, seq_len)]
    return float(windows_nll(model, windows, device).sum()) if windows else 0.0


def doc_bits(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], seq_len: int, device: str,
             batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(summed NLL in bits, UTF-8 bytes) per text, from one forward pass over all the texts' windows.

    Each window keeps the index of its document, so the per-window NLLs add up per document: the paired,
    per-document losses of ``eval_doc_losses`` and the set's bits per byte come from the same numbers.
    """
    texts = [t[:MAX_EVAL_CHARS] for t in texts]
    windows: list[list[int]] = []
    owner: list[int] = []
    for i, ids in enumerate(encode(tokenizer, texts)):
        doc = [EOS_ID, *ids, EOS_ID]
        starts = range(0, len(doc) - 1, seq_len)
        windows += [doc[s : s + seq_len + 1] for s in starts]
        owner += [i] * len(starts)
    nll = windows_nll(model, windows, device, batch_size).numpy() if windows else np.zeros(0)
    bits = np.bincount(np.asarray(owner, dtype=np.int64), weights=nll, minlength=len(texts)) / math.log(2)
    return bits, np.asarray([len(t.encode("utf-8")) for t in texts], dtype=np.int64)


def bits_per_byte(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], seq_len: int, device: str,
                  batch_size: int = 16) -> tuple[float, int]:
    """(total NLL in bits / total UTF-8 bytes over all texts, number of texts)."""
    bits, n_bytes = doc_bits(model, tokenizer, texts, seq_len, device, batch_size)
    return (float(bits.sum() / n_bytes.sum()) if n_bytes.sum() else float("nan")), len(texts)


def choice_credit(scores: torch.Tensor) -> torch.Tensor:
    """Per row of NLLs (true option in column 0): 1/ties when the true option is among the lowest, else 0."""
    best = scores.min(dim=1, keepdim=True).values
    lowest = scores <= best + 1e-9 * best.abs().clamp(min=1.0)
    return lowest[:, 0].double() / lowest.sum(dim=1).double()


def _choice_accuracy(model: torch.nn.Module, options: list[list[list[int]]], device: str, batch_size: int) -> float:
    """Mean choice credit over items, each a list of token windows with the true one first.

    The options of an item share their prefix, so ranking whole-window NLLs ranks the continuations.
    """
    width = max(len(item) for item in options)
    flat = [item[min(k, len(item) - 1)] for item in options for k in range(width)]  # pad rows by repeating the last
    scores = windows_nll(model, flat, device, batch_size).view(len(options), width)
    for row, item in enumerate(options):  # padded options cannot win
        scores[row, len(item):] = math.inf
    return float(choice_credit(scores).mean())


def _probe_tokens(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    return [ids for ids in encode(tokenizer, texts) if len(ids) >= PROBE_PREFIX + PROBE_CONT]


def continuation_accuracy(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], device: str, seed: int = 0,
                          batch_size: int = 16) -> tuple[float, int]:
    """(accuracy of picking the true continuation among distractors of the same set, scored documents)."""
    token_lists = _probe_tokens(tokenizer, texts)
    if len(token_lists) <= PROBE_DISTRACTORS:
        return float("nan"), 0
    rng = np.random.default_rng(seed)
    options = []
    for i, ids in enumerate(token_lists):
        others = rng.choice([j for j in range(len(token_lists)) if j != i], PROBE_DISTRACTORS, replace=False)
        options.append([[EOS_ID, *ids[:PROBE_PREFIX], *token_lists[j][PROBE_PREFIX : PROBE_PREFIX + PROBE_CONT]] for j in (i, *others)])
    return _choice_accuracy(model, options, device, batch_size), len(token_lists)


def domain_choice_accuracy(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], other_sets: list[list[str]],
                           device: str, seed: int = 0, batch_size: int = 16) -> tuple[float, int]:
    """(accuracy of picking the true continuation against continuations from other eval sets, scored documents)."""
    token_lists = _probe_tokens(tokenizer, texts)
    pools = [p for p in (_probe_tokens(tokenizer, o) for o in other_sets) if p]
    if not token_lists or not pools:
        return float("nan"), 0
    rng = np.random.default_rng(seed)
    options = []
    for ids in token_lists:
        picked = rng.choice(len(pools), min(PROBE_DISTRACTORS, len(pools)), replace=False)  # a different domain each
        wrong = [pools[p][rng.integers(len(pools[p]))] for p in picked]
        conts = [ids, *wrong] + [pools[picked[0]][rng.integers(len(pools[picked[0]]))] for _ in range(PROBE_DISTRACTORS - len(wrong))]
        options.append([[EOS_ID, *ids[:PROBE_PREFIX], *c[PROBE_PREFIX : PROBE_PREFIX + PROBE_CONT]] for c in conts])
    return _choice_accuracy(model, options, device, batch_size), len(token_lists)


def cloze_items(tokenizer: Tokenizer, texts: list[str], seq_len: int, seed: int = 0) -> tuple[list[list[list[int]]], float]:
    """(items, chance): per document, [context + true last word, context + distractor words...] as token windows.

    The passage is the document's first CLOZE_PASSAGE_CHARS characters; the target is its last word of 3+
    letters; distractors are other documents' target words of the same set with the same token count.
    """
    found = []
    for text in texts:
        passage = text[:CLOZE_PASSAGE_CHARS]
        words = list(_CLOZE_WORD.finditer(passage))
        if words:
            found.append((passage[: words[-1].start()].rstrip(), words[-1].group()))
    if len(found) < 2:
        return [], math.nan
    word_ids = {w: tokenizer.encode(" " + w, add_special_tokens=False).ids for _, w in found}
    contexts = encode(tokenizer, [c for c, _ in found])
    rng = np.random.default_rng(seed)
    items, chances = [], []
    for (_, word), ctx in zip(found, contexts, strict=True):
        pool = sorted({w for w in word_ids if w != word and len(word_ids[w]) == len(word_ids[word])})
        if not pool:
            continue
        wrong = [pool[i] for i in rng.permutation(len(pool))[:CLOZE_DISTRACTORS]]
        keep = seq_len - len(word_ids[word])  # the window is EOS + context + word, seq_len + 1 tokens at most
        if keep < 1:
            continue
        items.append([[EOS_ID, *ctx[-keep:], *word_ids[w]] for w in (word, *wrong)])
        chances.append(1 / (1 + len(wrong)))
    return items, (float(np.mean(chances)) if chances else math.nan)


def cloze_accuracy(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], seq_len: int, device: str,
                   batch_size: int = 16) -> tuple[float, int, float]:
    """(cloze accuracy, scored documents, chance level)."""
    items, chance = cloze_items(tokenizer, texts, seq_len)
    if not items:
        return float("nan"), 0, math.nan
    return _choice_accuracy(model, items, device, batch_size), len(items), chance


def eval_sets(cat: Catalog, max_docs: int | None = None, only: list[str] | None = None) -> dict[str, EvalSet]:
    """The run's eval sets as every run of it scores them (:func:`curate.mix.eval_split.eval_texts`), or only
    the ones named in ``only`` (an unknown name is an error that lists the sets)."""
    sets = eval_texts(cat, max_docs, MAX_EVAL_CHARS)
    if only is None:
        return sets
    unknown = sorted(set(only) - set(sets))
    if unknown:
        raise NotInRun(f"no eval sets named {unknown}; the run has {sorted(sets)}")
    return {name: s for name, s in sets.items() if name in only}


def first_docs(sets: dict[str, EvalSet], max_docs: int) -> dict[str, EvalSet]:
    """At most ``max_docs`` documents per set, the first by md5(doc_id) (as ``eval_texts`` caps a set), so a
    smaller subset is always inside a larger one and the same for every run; doc_id order is kept."""
    out = {}
    for name, s in sets.items():
        keep = set(sorted(s.doc_ids, key=lambda d: hashlib.md5(d.encode()).hexdigest())[:max_docs])
        pairs = [(d, t) for d, t in zip(s.doc_ids, s.texts, strict=True) if d in keep]
        out[name] = EvalSet(s.kind, [d for d, _ in pairs], [t for _, t in pairs])
    return out


@dataclass
class Evaluation:
    """``rows``: (eval_set, metric, value, n, chance) as in ``evals``; ``doc_losses``: (eval_set, doc_id,
    nll_bits, n_bytes) per document, whose sums per set give that set's bpb row exactly."""

    rows: list[dict]
    doc_losses: list[dict]


def kind_means(rows: list[dict]) -> list[dict]:
    """Per kind (id / ood) and metric: the mean over its sets (each group weighs the same, as in Paloma's
    per-domain averages), with n = the documents behind it; ``rows`` carry a ``kind`` key."""
    out = []
    for kind in sorted({r["kind"] for r in rows}):
        for metric in METRICS:
            mine = [r for r in rows if r["kind"] == kind and r["metric"] == metric and r["n"] and not math.isnan(r["value"])]
            if mine:
                chance = None if metric == "bpb" else float(np.mean([r["chance"] for r in mine]))
                out.append({"eval_set": kind, "kind": kind, "metric": metric, "n": sum(r["n"] for r in mine),
                            "value": float(np.mean([r["value"] for r in mine])), "chance": chance})
    return out


def _probe_rows(model: torch.nn.Module, tokenizer: Tokenizer, sets: dict[str, EvalSet], name: str, seq_len: int,
                device: str, batch_size: int) -> list[dict]:
    texts = sets[name].texts
    others = [s.texts for other, s in sets.items() if other != name]
    acc, n_acc = continuation_accuracy(model, tokenizer, texts, device, batch_size=batch_size)
    dom, n_dom = domain_choice_accuracy(model, tokenizer, texts, others, device, batch_size=batch_size)
    cloze, n_cloze, cloze_chance = cloze_accuracy(model, tokenizer, texts, seq_len, device, batch_size)
    return [{"metric": "continuation_acc", "value": acc, "n": n_acc, "chance": 0.25},
            {"metric": "domain_choice_acc", "value": dom, "n": n_dom, "chance": 0.25},
            {"metric": "cloze_acc", "value": cloze, "n": n_cloze, "chance": cloze_chance}]


def evaluate(model: torch.nn.Module, tokenizer: Tokenizer, sets: dict[str, EvalSet], seq_len: int,
             device: str, batch_size: int = 16, probes: bool = True, probe_docs: int | None = None) -> Evaluation:
    """Bits per byte (and, with ``probes``, the three probes) per set, then per kind; per-document losses.

    Checkpoint evaluations pass ``probes=False``: bits per byte is what a learning curve compares, and
    the probes cost as much again. ``probe_docs`` caps the documents per set the probes score
    (:func:`first_docs`), bits per byte still covers every document.
    """
    probe_sets = first_docs(sets, probe_docs) if probe_docs else sets
    was_training = model.training
    model.eval()
    rows, docs = [], []
    for name, eval_set in sets.items():
        bits, n_bytes = doc_bits(model, tokenizer, eval_set.texts, seq_len, device, batch_size)
        docs += [{"eval_set": name, "doc_id": d, "nll_bits": float(b), "n_bytes": int(n)}
                 for d, b, n in zip(eval_set.doc_ids, bits, n_bytes, strict=True)]
        bpb = float(bits.sum() / n_bytes.sum()) if n_bytes.sum() else float("nan")
        found = [{"metric": "bpb", "value": bpb, "n": len(eval_set.texts), "chance": None}]
        if probes:
            found += _probe_rows(model, tokenizer, probe_sets, name, seq_len, device, batch_size)
        rows += [{"eval_set": name, "kind": eval_set.kind} | r for r in found]
    rows += kind_means(rows)
    model.train(was_training)
    return Evaluation([{k: v for k, v in r.items() if k != "kind"} for r in rows], docs)
