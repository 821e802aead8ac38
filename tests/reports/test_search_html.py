"""The HTML report's mixture-search section: both plots, the validation table, every value escaped."""

from __future__ import annotations

import json

import numpy as np

from curate.core.catalog import Catalog
from curate.stages import declared_views
from reports.html import render, table
from reports.search_html import search_section
from train.search.regress import cross_validate
from train.search.run import record

EVIL = "<script>alert(1)</script>"


def test_search_section_shows_predicted_vs_actual_and_the_weights_escaped(tmp_path):
    rng = np.random.default_rng(0)
    groups = ["a", EVIL]
    x = rng.dirichlet([1.0, 1.0], size=12)
    y = 2.0 - x[:, 0] + rng.normal(0, 0.01, 12)
    cv = cross_validate(x, y, ["linear", "gbm"], 3, seed=0)
    w = lambda v: json.dumps({"a": v, EVIL: 1 - v})  # noqa: E731
    predictions = [{"mixture_id": f"p{i}", "role": "proxy", "model": "linear", "fold": int(cv.fold[i]), "weights": w(float(x[i, 0])),
                    "predicted": float(cv.predictions["linear"][i]), "actual": float(y[i]), "n_runs": 1} for i in range(12)]
    predictions += [{"mixture_id": f"v-{arm}", "role": arm, "model": "linear", "fold": None, "weights": w(share), "predicted": 2.0 - share,
                     "actual": 2.0 - share + 0.01, "n_runs": 2} for arm, share in (("chosen", 0.9), ("uniform", 0.5), ("natural", 0.4))]
    row = {"search_id": "s", "proxy_sweep": "s", "validation_sweep": "s-val", "grouping": "source", "groups": groups, "target": "panel/bpb",
           "preset": "pico", "tokens": 1000, "n_proxies": 12, "n_heldout": 0, "n_not_learned": 12, "model": cv.chosen, "cv_spearman": 0.9,
           "cv_mae": 0.01, "heldout_spearman": None, "heldout_mae": None, "chosen_weights": w(0.9), "chosen_mixture_id": "v-chosen",
           "predicted_target": 1.1, "validation_preset": "pico", "validation_seeds": 2, "seed_sd": 0.005, "config": "{}"}
    comparisons = [{"baseline": b, "n_chosen": 2, "n_baseline": 2, "difference": d, "ci_low": d - 0.01, "ci_high": d + 0.01, "df": 3}
                   for b, d in (("uniform", -0.4), ("natural", -0.5))]
    Catalog(tmp_path / "run", views=declared_views()).close()  # a run as `curate run` opens it: every stage's view
    record(tmp_path / "run", row, predictions, cv, comparisons)
    with Catalog(tmp_path / "run", read_only=True) as cat:
        section = search_section(cat, table)
        page = render(cat)
    assert section.count("<svg") == 2 and "v-uniform" in section and "-0.4" in section and "12 of 12" in section
    assert EVIL not in section and "href='#search'" in page and "seed noise, so" not in section
    with Catalog(tmp_path / "run") as cat:  # seed noise as large as the proxies' spread: the page says so
        cat.execute("UPDATE search_runs SET seed_sd = 10")
    with Catalog(tmp_path / "run", read_only=True) as cat:
        assert "differ mostly by seed noise" in search_section(cat, table)
