"""The learned and converged checks: unigram entropy, the margin rule, the flat-tail rule, and the held-out validation windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import entropy

from train.data import Batches
from train.learned import LEARNED_SHARE, TAIL_MAX_GAIN, bigram_loss, check, tail_step, unigram_entropy
from train.loop import validation_steps


def _curve(vals: dict[int, float]) -> list[dict]:
    return [{"step": s, "val_loss": vals.get(s)} for s in range(1, 101)]


def test_unigram_entropy_equals_scipy():
    tokens = np.random.default_rng(0).integers(0, 50, 10_000)
    assert unigram_entropy(tokens) == pytest.approx(entropy(np.bincount(tokens)), rel=1e-12)
    assert unigram_entropy(np.zeros(100, dtype=np.uint32)) == 0.0


def test_learned_and_converged_are_separate_checks_with_their_own_messages():
    start = tail_step(100)
    assert start == 80
    good = check(_curve({10: 6.0, 80: 4.1, 100: 4.0}), 100, entropy=6.0, bigram=4.4)
    assert good.learned and good.converged and good.loss_below_unigram == pytest.approx(2.0)
    assert good.tail_gain == pytest.approx(0.1 / 4.1) and good.learned_share == pytest.approx(2.0 / 1.6)
    assert good.learned_message().startswith("learned: val loss 4.00 is 2.00 nats below the unigram entropy 6.00; a bigram of"
                                             " its data reaches 4.40, so the run made 125% of the unigram-to-bigram gain")
    assert good.converged_message().startswith("converged: 2.4% in the last 20% of steps")
    # far below unigram but still falling: learned, not converged, and the message says so (not "unigram regime")
    still_falling = check(_curve({10: 6.0, 80: 2.74, 100: 2.6}), 100, entropy=6.0, bigram=4.4)
    assert still_falling.loss_below_unigram == pytest.approx(3.4) and still_falling.tail_gain >= TAIL_MAX_GAIN
    assert still_falling.learned and not still_falling.converged
    assert still_falling.converged_message().startswith("still improving at the end: 5.1% in the last 20% of steps")
    assert "unigram" not in still_falling.converged_message() and "NOT" not in still_falling.learned_message()
    # flat, but near the unigram entropy: converged, not learned
    near_unigram = check(_curve({10: 6.0, 80: 5.0, 100: 4.9}), 100, entropy=6.0, bigram=3.0)
    assert not near_unigram.learned and near_unigram.converged and near_unigram.learned_share == pytest.approx(1.1 / 3.0)
    assert near_unigram.learned_message().startswith("NOT learned (too close to the unigram regime): val loss 4.90 is 1.10 nats")
    # the same 1.1 nats on data whose bigram gain is smaller: half of it made, learned
    assert check(_curve({10: 6.0, 80: 5.0, 100: 4.9}), 100, entropy=6.0, bigram=4.2).learned
    both = check(_curve({10: 6.0, 80: 5.6, 100: 5.0}), 100, entropy=6.0, bigram=3.0)
    assert not both.learned and not both.converged and both.learned_share < LEARNED_SHARE
    never_measured = check(_curve({}), 100, entropy=6.0, bigram=3.0)
    assert not never_measured.learned and not never_measured.converged and math.isnan(never_measured.final_val_loss)
    assert "no validation loss" in never_measured.learned_message()


def test_bigram_yardstick_is_what_token_pairs_teach():
    rng = np.random.default_rng(1)
    cycle = np.tile(np.arange(1, 9), 500)  # each token determines the next: a bigram predicts it almost surely
    assert bigram_loss(cycle, [list(cycle[:50])], vocab_size=16) < 0.05
    noise = rng.integers(1, 9, 4000)  # no pair structure: the bigram cannot beat the unigram entropy
    assert bigram_loss(noise, [list(rng.integers(1, 9, 200))], vocab_size=16) == pytest.approx(math.log(8), abs=0.05)
    assert math.isnan(bigram_loss(noise, [], vocab_size=16))


def test_validation_is_measured_where_the_check_needs_it():
    assert validation_steps(100, None) == {10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
    assert {tail_step(37), 37} <= validation_steps(37, 50)


def test_held_out_documents_leave_training_in_every_copy(tmp_path):
    import json

    import polars as pl

    from tests.train.test_train import _text_tokenizer
    from train.data import packed_tokens

    docs = [f"document {i} " + " ".join(f"w{i}x{j}" for j in range(30)) for i in range(100)]
    rows = pl.DataFrame({"doc_id": [f"d{i}" for i in range(100)] * 3, "text": docs * 3})  # every document three times
    folder = tmp_path / "mix"
    folder.mkdir()
    rows.write_parquet(folder / "part-0.parquet")
    (folder / "manifest.json").write_text(json.dumps({"shards": [{"path": "part-0.parquet"}]}))
    tok = _text_tokenizer(docs, vocab=400)
    train, val = packed_tokens(folder, tok, "h" * 12, tmp_path / "cache")
    ids = lambda t: tuple(tok.encode(t, add_special_tokens=False).ids)  # noqa: E731
    grams = lambda t: {tuple(t[i : i + 8]) for i in range(len(t) - 7)}  # noqa: E731
    held = [d for d in docs if ids(d)[:8] in grams(val)]
    assert len(held) == 3 and len(val) == sum(len(ids(d)) + 1 for d in held)  # 3% of 100 distinct, one copy each
    in_train = grams(np.asarray(train).tolist())
    assert all(ids(d)[:8] not in in_train for d in held) and all(ids(d)[:8] in in_train for d in docs if d not in held)
    assert len(train) == 3 * sum(len(ids(d)) + 1 for d in docs if d not in held)  # all three copies of the rest
    again = packed_tokens(folder, tok, "h" * 12, tmp_path / "cache")  # cached, and independent of any run seed
    assert np.array_equal(again[0], train) and np.array_equal(again[1], val)
    batches = Batches(np.asarray(train), 16, 4, seed=0, validation=np.asarray(val), val_seqs=5)
    assert len(batches.validation()) == 5 and all(len(w) == 17 for w in batches.validation())


def test_runs_recorded_before_the_split_are_rechecked(tmp_path):
    import polars as pl

    from curate.core.catalog import Catalog

    old = [{"train_id": t, "preset": "nano", "seed": 0, "data_seed": 0, "tokens": 1, "learned": False, "loss_below_unigram": below,
            "tail_gain": gain} for t, below, gain in (("still-improving", 3.41, 0.052), ("near-unigram", 0.4, 0.01))]
    with Catalog(tmp_path) as cat:  # learned used to mean margin and flat tail; converged did not exist
        cat.append("train_runs", pl.DataFrame(old))
    with Catalog(tmp_path) as cat:  # the next writer re-derives both from the stored numbers
        rows = {t: (learned, converged) for t, learned, converged in cat.execute("SELECT train_id, learned, converged FROM train_runs")}
    assert rows == {"still-improving": (True, False), "near-unigram": (False, True)}
