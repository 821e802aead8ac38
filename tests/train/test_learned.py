"""The learned check: unigram entropy, the margin and flat-tail rules, and the held-out validation windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import entropy

from train.data import Batches
from train.learned import MARGIN_NATS, TAIL_MAX_GAIN, check, tail_step, unigram_entropy
from train.loop import validation_steps


def _curve(vals: dict[int, float]) -> list[dict]:
    return [{"step": s, "val_loss": vals.get(s)} for s in range(1, 101)]


def test_unigram_entropy_equals_scipy():
    tokens = np.random.default_rng(0).integers(0, 50, 10_000)
    assert unigram_entropy(tokens) == pytest.approx(entropy(np.bincount(tokens)), rel=1e-12)
    assert unigram_entropy(np.zeros(100, dtype=np.uint32)) == 0.0


def test_a_run_passes_only_below_the_margin_with_a_flat_tail():
    start = tail_step(100)
    assert start == 80
    good = check(_curve({10: 6.0, 80: 4.1, 100: 4.0}), 100, entropy=6.0)
    assert good.learned and good.loss_below_unigram == pytest.approx(2.0) and good.tail_gain == pytest.approx(0.1 / 4.1)
    near_unigram = check(_curve({10: 6.0, 80: 5.0, 100: 4.9}), 100, entropy=6.0)
    assert not near_unigram.learned and "unigram" in near_unigram.reason()
    still_falling = check(_curve({10: 6.0, 80: 4.6, 100: 4.0}), 100, entropy=6.0)
    assert still_falling.loss_below_unigram >= MARGIN_NATS and still_falling.tail_gain >= TAIL_MAX_GAIN
    assert not still_falling.learned and "last 20%" in still_falling.reason()
    never_measured = check(_curve({}), 100, entropy=6.0)
    assert not never_measured.learned and math.isnan(never_measured.final_val_loss)


def test_validation_is_measured_where_the_check_needs_it():
    assert validation_steps(100, None) == {10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
    assert {tail_step(37), 37} <= validation_steps(37, 50)


def test_held_out_windows_never_reach_training_and_do_not_depend_on_the_run_seed():
    tokens = np.arange(20_001, dtype=np.uint32)
    a, b = Batches(tokens, 100, 8, seed=0, holdout=12), Batches(tokens, 100, 8, seed=5, holdout=12)
    assert a.validation() == b.validation() and len(a.validation()) == 12
    held = {w[0] // 100 for w in a.validation()}
    seen = {int(x[0]) // 100 for step in range(40) for x in a.batch(step)[0]}
    assert held.isdisjoint(seen) and len(seen) == a.n_seq == 200 - 12  # 40 x 8 > one epoch: every training window seen
    assert len(a.training_tokens()) == len(tokens) - 12 * 100
    assert len(Batches(tokens, 100, 8, seed=0, holdout=500).validation()) == 20  # capped at a tenth of the windows
