"""Evaluation: bits per byte per eval set, and a continuation-choice probe.

bits per byte (tokenizer-independent, as in The Pile / Gao et al. 2020): the summed negative
log-likelihood of a document's tokens (and its closing EOS) in bits, over the document's UTF-8 bytes.
Documents longer than the context are scored in consecutive non-overlapping windows, each conditioned
on its own prefix only. The probe: for each document, a 32-token prefix and its true 32-token
continuation against 3 continuations taken from other documents; accuracy = how often the true one
has the lowest NLL (chance = 0.25).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tokenizers import Tokenizer

from train.data import EOS_ID, encode

PROBE_PREFIX, PROBE_CONT, PROBE_DISTRACTORS = 32, 32, 3


@torch.no_grad()
def sequence_nll(model: torch.nn.Module, ids: list[int], seq_len: int, device: str) -> float:
    """Total NLL (nats) of ids[1:] given their prefixes, in windows of seq_len."""
    total = 0.0
    for start in range(0, len(ids) - 1, seq_len):
        window = torch.tensor(ids[start : start + seq_len + 1], device=device).unsqueeze(0)
        logits = model(window[:, :-1]).logits.float()
        total += torch.nn.functional.cross_entropy(logits[0], window[0, 1:], reduction="sum").item()
    return total


MAX_EVAL_CHARS = 4000


def bits_per_byte(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], seq_len: int, device: str) -> tuple[float, int]:
    """(bits per UTF-8 byte over all texts, number of texts). Each document starts after an EOS.

    Each document is scored on its first MAX_EVAL_CHARS characters, so evaluation cost is bounded and
    long documents do not dominate a set's average.
    """
    nll = n_bytes = 0.0
    texts = [t[:MAX_EVAL_CHARS] for t in texts]
    for text, ids in zip(texts, encode(tokenizer, texts), strict=True):
        nll += sequence_nll(model, [EOS_ID, *ids, EOS_ID], seq_len, device)
        n_bytes += len(text.encode("utf-8"))
    return (nll / math.log(2) / n_bytes if n_bytes else float("nan")), len(texts)


@torch.no_grad()
def continuation_accuracy(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], device: str, seed: int = 0) -> tuple[float, int]:
    """(accuracy of picking the true continuation among distractors, number of scored documents)."""
    token_lists = [ids for ids in encode(tokenizer, texts) if len(ids) >= PROBE_PREFIX + PROBE_CONT]
    if len(token_lists) <= PROBE_DISTRACTORS:
        return float("nan"), 0
    rng = np.random.default_rng(seed)
    correct = 0
    for i, ids in enumerate(token_lists):
        prefix, true = ids[:PROBE_PREFIX], ids[PROBE_PREFIX : PROBE_PREFIX + PROBE_CONT]
        others = rng.choice([j for j in range(len(token_lists)) if j != i], PROBE_DISTRACTORS, replace=False)
        options = [true] + [token_lists[j][PROBE_PREFIX : PROBE_PREFIX + PROBE_CONT] for j in others]
        batch = torch.tensor([[EOS_ID, *prefix, *opt] for opt in options], device=device)
        logits = model(batch[:, :-1]).logits.float()
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch[:, 1:], reduction="none")
        scores = nll[:, PROBE_PREFIX:].sum(dim=1)
        correct += int(scores.argmin().item() == 0)
    return correct / len(token_lists), len(token_lists)
