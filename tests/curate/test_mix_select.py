"""Mixture strategies and group filling as pure functions: definitions, caps, entropy targets, budgets."""

from __future__ import annotations

import math
from typing import get_args

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.mix.select import STRATEGIES, InfeasibleMixture, allocate, entropy_of, entropy_range, fill_group, seeded_keys
from curate.mix.spec import MixtureSpec, Strategy

TOKENS = {"a": 1_000, "b": 4_000, "c": 16_000}


def spec(**kw) -> MixtureSpec:
    return MixtureSpec(**{"name": "s", "token_budget": 10_000, "max_repeats": 2} | kw)


def test_every_strategy_name_of_the_spec_has_a_function():
    assert sorted(STRATEGIES) == sorted(get_args(Strategy))


def test_temperature_follows_its_definition():
    shares = STRATEGIES["temperature"](TOKENS, spec(temperature=2.0))
    z = sum(math.sqrt(t) for t in TOKENS.values())
    assert shares == pytest.approx({g: math.sqrt(t) / z for g, t in TOKENS.items()})
    assert STRATEGIES["temperature"](TOKENS, spec(temperature=1.0)) == pytest.approx(STRATEGIES["proportional"](TOKENS, spec()))
    assert STRATEGIES["temperature"](TOKENS, spec(temperature=1e9)) == pytest.approx(STRATEGIES["uniform"](TOKENS, spec()))


def test_weights_normalize_and_unknown_groups_are_named():
    assert STRATEGIES["weights"](TOKENS, spec(weights={"a": 1, "c": 3})) == pytest.approx({"a": 0.25, "b": 0.0, "c": 0.75})
    with pytest.raises(InfeasibleMixture, match=r"\['zz'\]"):
        STRATEGIES["weights"](TOKENS, spec(weights={"zz": 1}))


def test_diversity_max_is_water_filling_under_the_caps():
    shares = STRATEGIES["diversity_max"](TOKENS, spec())  # caps: a 0.2, b 0.8, c 3.2
    assert shares == pytest.approx({"a": 0.2, "b": 0.4, "c": 0.4})
    low = STRATEGIES["diversity_min"](TOKENS, spec())
    assert low == pytest.approx({"a": 0.0, "b": 0.0, "c": 1.0})
    assert entropy_range(TOKENS, spec()) == pytest.approx((0.0, entropy_of(shares)))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(100, 50_000), min_size=2, max_size=8), st.integers(1, 4), st.floats(0.05, 0.95))
def test_target_entropy_is_feasible_monotone_and_hits_reachable_targets(sizes, repeats, frac):
    tokens = {f"g{i}": n for i, n in enumerate(sizes)}
    budget = max(1, sum(sizes) * repeats // 2)
    low, high = entropy_range(tokens, spec(token_budget=budget, max_repeats=repeats))
    targets = [low + (high - low) * f for f in (frac / 2, frac)]
    got = [STRATEGIES["target_entropy"](tokens, spec(token_budget=budget, max_repeats=repeats, target_entropy=t)) for t in targets]
    for shares, target in zip(got, targets, strict=True):
        assert sum(shares.values()) == pytest.approx(1.0)
        assert all(shares[g] * budget <= tokens[g] * repeats * (1 + 1e-9) for g in tokens)
        assert entropy_of(shares) == pytest.approx(target, abs=1e-6)
    assert entropy_of(got[0]) <= entropy_of(got[1])


def _docs(sizes, prefix="d"):
    frame = pl.DataFrame({"doc_id": [f"{prefix}{i:03d}" for i in range(len(sizes))], "n_tokens": sizes})
    return frame[seeded_keys(frame["doc_id"], 0).argsort()]


def test_fill_group_epochs_best_fit_and_cap():
    docs = _docs([100, 250, 40, 60, 300, 90])  # 840 tokens
    picked = fill_group(docs, 840 * 2 + 150, 3, "g").join(docs, on="doc_id")
    assert picked["repeats"].max() == 3 and picked["repeats"].min() == 2
    # order is 300, 60, 100, 250, 40, 90: the 300 overshoots the rest (150), so the closest single document fills it
    assert (picked["repeats"] * picked["n_tokens"]).sum() == 840 * 2 + 100
    with pytest.raises(InfeasibleMixture, match=r"group 'g' ran short: it has 840 tokens.*max_repeats=3 allows \(2,520\)"):
        fill_group(docs, 2_521, 3, "g")


def test_allocate_carries_rounding_so_the_total_lands_on_budget():
    groups = {g: _docs([37 + (i * 53 + k * 11) % 400 for i in range(60)], g) for k, g in enumerate("xyz")}
    tokens = {g: int(d["n_tokens"].sum()) for g, d in groups.items()}
    s = spec(token_budget=sum(tokens.values()) // 2, max_repeats=1)
    chosen = allocate(groups, STRATEGIES["uniform"](tokens, s), s)
    total = int((chosen["n_tokens"] * chosen["repeats"]).sum())
    assert abs(total - s.token_budget) / s.token_budget < 0.001
    assert chosen["doc_id"].is_unique().all()
