"""The multiple-choice probes on fixtures with known answers: an oracle scores 1, a blind model exactly chance."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from curate.mix.eval_split import EvalSet
from train.evaluate import choice_credit, cloze_accuracy, cloze_items, continuation_accuracy, domain_choice_accuracy, evaluate

WORDS = ["harbor", "lantern", "meadow", "copper", "violin", "glacier", "orchard", "saddle", "thimble", "quarry",
         "walnut", "beacon", "falcon", "pepper", "ribbon", "timber"]


def _texts(domain: str, n: int) -> list[str]:
    """Documents of distinct word sequences, each ending in a unique marker and a last word."""
    return [" ".join(f"{domain}{(i * 7 + j) % 13} {WORDS[(i + j) % len(WORDS)]}" for j in range(40)) + f" end{domain}{i} {WORDS[i % len(WORDS)]}"
            for i in range(n)]


def _tokenizer(texts: list[str]) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


class Oracle(torch.nn.Module):
    """Knows the true documents: predicts the token that follows the longest context seen in them."""

    def __init__(self, docs: list[list[int]], vocab: int, context: int = 6) -> None:
        super().__init__()
        self.vocab, self.context, self.next = vocab, context, {}
        for ids in docs:
            for i in range(len(ids) - 1):
                self.next.setdefault(tuple(ids[max(0, i - context + 1) : i + 1]), ids[i + 1])

    def forward(self, ids: torch.Tensor) -> SimpleNamespace:
        logits = torch.zeros(*ids.shape, self.vocab)
        for b, row in enumerate(ids.tolist()):
            for t in range(len(row)):
                nxt = self.next.get(tuple(row[max(0, t - self.context + 1) : t + 1]))
                if nxt is not None:
                    logits[b, t, nxt] = 30.0
        return SimpleNamespace(logits=logits)


class Blind(torch.nn.Module):
    """The same distribution at every position: cannot tell any two options apart."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.vocab = vocab

    def forward(self, ids: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(logits=torch.zeros(*ids.shape, self.vocab))


@pytest.fixture(scope="module")
def setup():
    sets = {name: EvalSet(kind, [f"{name}:{i}" for i in range(8)], _texts(word, 8))
            for name, kind, word in (("id/astro", "id", "star"), ("id/law", "id", "court"), ("ood/cook", "ood", "soup"))}
    tok = _tokenizer([t for s in sets.values() for t in s.texts])
    docs = [[0, *e.ids] for e in tok.encode_batch([t for s in sets.values() for t in s.texts], add_special_tokens=False)]
    return sets, tok, Oracle(docs, tok.get_vocab_size()), Blind(tok.get_vocab_size())


def test_choice_credit_splits_ties():
    scores = torch.tensor([[1.0, 2.0, 3.0], [2.0, 1.0, 3.0], [1.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
    assert choice_credit(scores).tolist() == pytest.approx([1.0, 0.0, 0.5, 1 / 3])


def test_cloze_items_hold_the_last_word_and_same_length_distractors(setup):
    sets, tok, _, _ = setup
    texts = sets["id/astro"].texts
    items, chance = cloze_items(tok, texts, seq_len=64)
    assert len(items) == len(texts)
    for item, text in zip(items, texts, strict=True):
        last = " " + text.split()[-1]
        true_ids = tok.encode(last, add_special_tokens=False).ids
        assert item[0][-len(true_ids):] == true_ids and all(len(o) == len(item[0]) for o in item)
        assert len({tuple(o) for o in item}) == len(item)  # distinct candidates
        assert all(len(o) <= 65 for o in item)
    assert chance == pytest.approx(sum(1 / len(i) for i in items) / len(items))


def test_oracle_scores_one_and_a_blind_model_scores_chance(setup):
    sets, tok, oracle, blind = setup
    texts, others = sets["id/astro"].texts, [sets["id/law"].texts, sets["ood/cook"].texts]
    assert continuation_accuracy(oracle, tok, texts, "cpu")[0] == pytest.approx(1.0)
    assert domain_choice_accuracy(oracle, tok, texts, others, "cpu")[0] == pytest.approx(1.0)
    acc, n, chance = cloze_accuracy(oracle, tok, texts, 64, "cpu")
    assert acc == pytest.approx(1.0) and n == 8 and 0 < chance < 0.5
    assert continuation_accuracy(blind, tok, texts, "cpu")[0] == pytest.approx(0.25)
    assert domain_choice_accuracy(blind, tok, texts, others, "cpu")[0] == pytest.approx(0.25)
    assert cloze_accuracy(blind, tok, texts, 64, "cpu")[0] == pytest.approx(chance)


def test_evaluate_stores_each_probe_with_its_chance_level(setup):
    sets, tok, oracle, _ = setup
    rows = evaluate(oracle, tok, sets, 64, "cpu").rows
    by = {(r["eval_set"], r["metric"]): r for r in rows}
    bpb_only = evaluate(oracle, tok, sets, 64, "cpu", probes=False).rows  # what checkpoint evaluations store
    assert bpb_only == [r for r in rows if r["metric"] == "bpb"]
    for name in (*sets, "id", "ood"):
        assert by[(name, "continuation_acc")]["chance"] == 0.25 and by[(name, "domain_choice_acc")]["chance"] == 0.25
        assert 0 < by[(name, "cloze_acc")]["chance"] < 0.5 and by[(name, "bpb")]["chance"] is None
        assert by[(name, "cloze_acc")]["value"] == pytest.approx(1.0)
