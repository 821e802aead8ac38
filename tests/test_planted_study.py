"""The whole loop finds a planted diversity effect and stays null where diversity cannot matter (tests/planted.py)."""

from __future__ import annotations

import pytest

from tests.planted import found_effect, run_planted_study


@pytest.mark.slow
@pytest.mark.parametrize("planted", [True, False], ids=["planted", "null"])
def test_the_study_finds_a_planted_effect_and_not_a_null_one(tmp_path, planted):
    effects = run_planted_study(tmp_path, planted)
    assert found_effect(effects) is planted
    control = effects.filter((effects["analysis"] == "control") & (effects["step_frac"] == 1.0)).row(0, named=True)
    assert control["ci_low"] <= 0 <= control["ci_high"]  # the pseudo-group arm is null in both corpora
