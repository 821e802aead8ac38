"""Mixture designs: subsets, Dirichlet, factorial vary, line, a negative control over hash buckets, matching,
exact epochs, rerandomization for balance, pre-registration and the tokenizer a study needs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from curate.cli import app
from curate.core.catalog import Catalog
from curate.mix.emit import MixtureSpec, emit, load_pool
from curate.mix.eval_split import EvalSplitParams, eval_texts, reserve_eval
from curate.mix.groups import bucket_key, group_sql
from curate.mix.select import InfeasibleMixture, entropy_of
from curate.mix.sweep import SweepSpec, plan_sweep, run_sweep
from tests.curate.study_run import build_study_run

BUDGET = 12_000


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    return build_study_run(tmp_path_factory.mktemp("designs"))


def subsets_sweep(**kw) -> SweepSpec:
    fields = {"name": "dom", "base": {"group_by": "source", "token_budget": BUDGET, "epochs": 2, "seed": 0},
              "design": {"kind": "subsets", "k": [1, 2, 4], "draws": 2, "balance": 50}, "control": {"group_by": "bucket:4"},
              "study": {"factor": "log2_k", "target": "unseen/bpb", "confounds": ["tokens_per_byte", "mean_doc_tokens"]},
              "diversity_sample": 0}
    return SweepSpec(**(fields | kw))


def test_subsets_with_exact_epochs_and_a_control_arm(study_run):
    with Catalog(study_run) as cat:
        table = run_sweep(cat, subsets_sweep())
        design = cat.query("SELECT * FROM mixture_design WHERE sweep_id = 'dom' ORDER BY mixture_id")
        comp = cat.query("SELECT * FROM mixture_composition WHERE mixture_id IN (SELECT mixture_id FROM mixture_design)")
        docs = cat.query("SELECT m.mixture_id, m.repeats, d.n_tokens FROM mixture_docs m JOIN mixture_design USING (mixture_id)"
                         " JOIN (SELECT unnest($ids) AS doc_id, unnest($n) AS n_tokens) d USING (doc_id)",
                         {"ids": (pool := load_pool(cat, MixtureSpec(name="p", token_budget=1)).frame)["doc_id"].to_list(),
                          "n": pool["n_tokens"].to_list()})
        study = cat.query("SELECT * FROM studies").row(0, named=True)
        n_eval = sum(len(s.doc_ids) for s in eval_texts(cat).values())
        aligned = cat.query("SELECT mixture_id, count(*) AS n, count(DISTINCT doc_id) AS d FROM mixture_alignment GROUP BY ALL")
    assert table.height == design.height == 6 + 5 and set(table["arm"]) == {"study", "control"}  # k=4 of 4 buckets: one subset
    for row in design.iter_rows(named=True):
        mine = comp.filter(pl.col("mixture_id") == row["mixture_id"])
        k = round(2 ** row["factor_value"])
        assert mine.height == k == len(row["groups"]) and sorted(mine["group_key"]) == row["groups"]
        shares = mine["n_tokens"] / mine["n_tokens"].sum()
        assert (shares - 1 / k).abs().max() < 0.05  # equal shares, up to one document
        assert row["grouping"] == ("source" if row["arm"] == "study" else "bucket:4")
    control = design.filter(pl.col("arm") == "control")
    assert sorted(control["factor_value"]) == [0, 0, 1, 1, 2] and sorted(design.filter(pl.col("arm") == "study")["factor_value"]) == [0, 0, 1, 1, 2, 2]
    assert all(g.startswith("b0") for gs in control["groups"] for g in gs)
    assert set(docs["repeats"]) == {2}  # exact epochs: every chosen document exactly twice
    seeds = [json.loads(spec)["seed"] for spec in cat_specs(study_run)]
    assert sorted(set(seeds)) == list(range(1, 7))  # each mixture of an arm its own selection seed (the control reuses 1-5)
    unique = docs.group_by("mixture_id").agg(pl.col("n_tokens").sum())["n_tokens"]
    assert (unique - BUDGET / 2).abs().max() <= docs["n_tokens"].max()
    assert study["design"] == "subsets" and study["factor"] == "log2_k" and study["target"] == "unseen/bpb"
    assert study["control_grouping"] == "bucket:4" and study["confounds"] == ["tokens_per_byte", "mean_doc_tokens"]
    assert aligned.height == 11 and set(aligned["n"]) == {n_eval} and set(aligned["d"]) == {n_eval}


def cat_specs(run_dir) -> list[str]:
    with Catalog(run_dir, read_only=True) as cat:
        return cat.query("SELECT spec FROM mixtures WHERE sweep_id = 'dom'")["spec"].to_list()


def test_designs_are_reproducible_by_seed(study_run):
    with Catalog(study_run) as cat:
        first, again = plan_sweep(cat, subsets_sweep()), plan_sweep(cat, subsets_sweep())
        other = plan_sweep(cat, subsets_sweep(design={"kind": "subsets", "k": [1, 2, 4], "draws": 2, "balance": 50, "seed": 7}))
        ids = run_sweep(cat, subsets_sweep(), plan=first)["mixture_id"].to_list()
        assert ids == run_sweep(cat, subsets_sweep())["mixture_id"].to_list()
    dump = lambda plan: [(p.spec.model_dump(), p.design) for p in plan.mixtures]  # noqa: E731
    assert dump(first) == dump(again) and first.balance == again.balance
    assert dump(first) != dump(other)
    manifest = json.loads((study_run / "mixtures" / ids[0] / "manifest.json").read_text())
    assert manifest["design"]["balance"]["candidates"] == 50 and manifest["design"]["arm"] == "study"
    assert manifest["tokenizer"] == "run" and manifest["token_counter"].startswith("tokenizer:")


def test_rerandomization_lowers_the_largest_correlation(study_run):
    with Catalog(study_run) as cat:
        # design seed 1: its first candidate is poorly balanced (4 of the first 6 design seeds are; the test pins one)
        one = plan_sweep(cat, subsets_sweep(design={"kind": "subsets", "k": [1, 2, 3], "draws": 3, "balance": 1, "seed": 1}, control=None))
        many = plan_sweep(cat, subsets_sweep(design={"kind": "subsets", "k": [1, 2, 3], "draws": 3, "balance": 300, "seed": 1}, control=None))
    assert many.balance["study"]["single_draw_max_abs_rho"] == one.balance["study"]["max_abs_rho"]
    assert many.balance["study"]["max_abs_rho"] < one.balance["study"]["max_abs_rho"]
    used = [g for p in many.mixtures for g in p.spec.weights]
    counts = pl.Series(used).value_counts()["count"]
    assert counts.max() - counts.min() <= 2  # every group used about equally often


def test_bucket_pseudo_groups_are_stable(study_run):
    with Catalog(study_run) as cat:
        rows = cat.query(f"SELECT doc_id, {group_sql('bucket:4', set())} AS g FROM documents ORDER BY doc_id")
        manifest = emit(cat, MixtureSpec(name="b", group_by="bucket:4", strategy="uniform", token_budget=4000), diversity_sample=None)
        mixed = cat.query("SELECT doc_id FROM mixture_docs WHERE mixture_id = $m", {"m": manifest["mixture_id"]})["doc_id"].to_list()
    assert rows["g"].to_list() == [bucket_key(d, 4) for d in rows["doc_id"]]
    assert set(rows["g"]) == {"b00", "b01", "b02", "b03"} and bucket_key("doc-1", 120) == bucket_key("doc-1", 120)
    assert bucket_key("x", 120).startswith("b") and len(bucket_key("x", 120)) == 4
    assert set(manifest["groups"]) == {"b00", "b01", "b02", "b03"} and len(mixed) > 0


def test_factorial_vary_makes_the_product_and_line_keeps_working(study_run):
    sweep = SweepSpec(name="fact", base={"group_by": "source", "token_budget": 6000}, vary={"max_repeats": [2, 3], "seed": [0, 1, 2]})
    line = SweepSpec(name="line", base={"group_by": "source", "token_budget": 6000, "max_repeats": 4}, steps=3, diversity_sample=0)
    with Catalog(study_run) as cat:
        plan = plan_sweep(cat, sweep)
        table = run_sweep(cat, line)
    assert [(p.spec.max_repeats, p.spec.seed) for p in plan.mixtures] == list(itertools.product([2, 3], [0, 1, 2]))
    assert {p.design["factor"] for p in plan.mixtures} == {"max_repeats"} and [p.design["factor_value"] for p in plan.mixtures][:4] == [2, 2, 2, 3]
    assert table["target_entropy"].to_list() == sorted(table["target_entropy"]) and table["group_entropy"].is_sorted()
    assert table["group_entropy_tokens"].is_sorted() and table["group_entropy_tokens"][0] == 0


def test_dirichlet_weights_sum_to_one_within_the_caps(study_run):
    sweep = SweepSpec(name="dir", base={"group_by": "source", "token_budget": BUDGET, "max_repeats": 2},
                      design={"kind": "dirichlet", "draws": 6, "alpha": [0.3, 3.0], "prior": "natural", "balance": 20, "seed": 1})
    with Catalog(study_run) as cat:
        plan, again = plan_sweep(cat, sweep), plan_sweep(cat, sweep)
        tokens = dict(load_pool(cat, plan.mixtures[0].spec).frame.group_by("group_key").agg(pl.col("n_tokens").sum()).iter_rows())
    for p in plan.mixtures:
        w = p.spec.weights
        assert sum(w.values()) == pytest.approx(1.0, abs=1e-6) and all(v * BUDGET <= tokens[g] * 2 * 1.001 for g, v in w.items())
        assert p.design["factor"] == "group_entropy" and p.design["factor_value"] == pytest.approx(entropy_of(w), abs=1e-6)
    assert [p.spec.weights for p in plan.mixtures] == [p.spec.weights for p in again.mixtures]
    assert [p.label["alpha"] for p in plan.mixtures] == [0.3, 3.0] * 3


def test_matching_holds_the_stratum_shares(study_run):
    spec = MixtureSpec(name="m", group_by="source", strategy="weights", weights={"law": 1}, token_budget=6000, max_repeats=2,
                       match={"column": "n_bytes", "bins": 3})
    with Catalog(study_run) as cat:
        pool = load_pool(cat, spec).frame
        pi = pool.group_by("stratum").agg(pl.col("n_tokens").sum() / pool["n_tokens"].sum()).sort("stratum")
        for group in ("law", "software"):
            m = emit(cat, spec.model_copy(update={"name": group, "weights": {group: 1}}), diversity_sample=None)
            got = cat.query("SELECT doc_id, repeats FROM mixture_docs WHERE mixture_id = $m", {"m": m["mixture_id"]}).join(pool, on="doc_id")
            shares = got.group_by("stratum").agg((pl.col("n_tokens") * pl.col("repeats")).sum() / m["n_tokens"]).sort("stratum")
            assert shares["stratum"].to_list() == ["q1", "q2", "q3"]
            assert (shares["n_tokens"] - pi["n_tokens"]).abs().max() < 0.06
        with pytest.raises(InfeasibleMixture, match=r"matching on source: group '\w+' ran short in stratum '\w+'"):
            emit(cat, MixtureSpec(**spec.model_dump() | {"match": {"column": "source"}}), diversity_sample=None)


def test_a_sweep_base_is_a_typed_mixture_base_so_a_typo_names_its_field():
    with pytest.raises(ValidationError, match=r"base\.max_repeat\n\s+Extra inputs are not permitted"):
        SweepSpec(name="x", base={"token_budget": 10, "max_repeat": 2}, steps=3)
    with pytest.raises(ValidationError, match=r"base\.strategy\n\s+Input should be 'proportional'"):
        SweepSpec(name="x", base={"token_budget": 10, "strategy": "uniformly"}, steps=3)
    with pytest.raises(ValidationError, match=r"vary\n.*\['temprature'\] are not MixtureSpec fields"):
        SweepSpec(name="x", base={"token_budget": 10}, vary={"temprature": [1.0, 2.0]})
    with pytest.raises(ValidationError, match=r"design\.vary\.fields\n.*\['temprature'\] are not MixtureSpec fields"):
        SweepSpec(name="x", base={"token_budget": 10}, design={"kind": "vary", "fields": {"temprature": [1.0, 2.0]}})
    with pytest.raises(ValidationError, match="base.token_budget is required"):
        SweepSpec(name="x", base={"group_by": "source"}, steps=3)
    with pytest.raises(ValidationError, match="'name': the sweep sets it for each mixture"):
        SweepSpec(name="x", base={"token_budget": 10, "name": "y"}, steps=3)
    sweep = SweepSpec(name="x", base={"group_by": "lang"}, vary={"token_budget": [10, 20]})
    assert sweep.base.group_by == "lang" and sweep.base.tokenizer == "auto"  # attributes, defaults from MixtureSpec's fields
    assert sweep.model_dump()["base"] == {"group_by": "lang"}  # the studies row keeps the base as written
    assert sweep.base.mixture("x-00", "x", token_budget=20) == MixtureSpec(name="x-00", sweep_id="x", group_by="lang", token_budget=20)


def test_a_designed_study_needs_the_run_tokenizer_and_valid_fields(tmp_path, study_run):
    bare = build_study_run(tmp_path, n_docs=60, tokenizer=False)
    with Catalog(bare) as cat:
        with pytest.raises(ValueError, match="train tokenizer"):
            plan_sweep(cat, subsets_sweep())
        reserve_eval(cat, EvalSplitParams(group_by="bucket:3", per_group=2))  # bucket:N is a grouping everywhere, eval splits included
        assert set(cat.query("SELECT group_key FROM eval_sets")["group_key"]) == {"b00", "b01", "b02"}
    with Catalog(study_run) as cat, pytest.raises(ValueError, match="remove `tokenizer: bytes4`"):
        plan_sweep(cat, subsets_sweep(base={"group_by": "source", "token_budget": BUDGET, "tokenizer": "bytes4"}))
    with pytest.raises(ValueError, match="exactly one of `design`, `steps`"):
        SweepSpec(name="x", base={"token_budget": 10}, steps=3, vary={"seed": [1, 2]})
    with pytest.raises(ValueError, match="not a factor of a subsets design"):
        subsets_sweep(study={"factor": "temperature"})
    with pytest.raises(ValueError, match="not recorded covariates"):
        subsets_sweep(study={"confounds": ["tokens_per_bytes"]})
    with Catalog(study_run) as cat, pytest.raises(ValueError, match="subsets k=6: only 5 groups"):
        plan_sweep(cat, subsets_sweep(design={"kind": "subsets", "k": [6]}))


def test_cli_sweep_prints_the_plan_and_the_balance(study_run, tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(subsets_sweep().model_dump(mode="json", exclude_none=True)))
    runner = CliRunner()
    planned = runner.invoke(app, ["mix", "sweep", str(study_run), str(path), "--plan"])
    assert planned.exit_code == 0, planned.output
    assert "balance (study)" in planned.output and "balance (control)" in planned.output and "predicted" in planned.output
    done = runner.invoke(app, ["mix", "sweep", str(study_run), str(path), "--format", "csv"])
    assert done.exit_code == 0, done.output
    assert "pre-registered: factor log2_k, target unseen/bpb" in done.output and "measured" in done.output
    assert done.stdout.count("dom-c0") == 5


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[2].glob("curate/recipes/*mix*.yaml")), ids=lambda p: p.name)
def test_example_recipes_validate(path):
    data = yaml.safe_load(path.read_text())
    (SweepSpec if "base" in data else MixtureSpec).model_validate(data)


def test_a_sql_expression_groups_mixtures(study_run):
    """group_by sql:<expression>: any expression over doc_signals columns; its text value is the group."""
    with Catalog(study_run) as cat:
        manifest = emit(cat, MixtureSpec(name="expr", group_by="sql:CASE WHEN n_bytes > 1500 THEN 'long' ELSE 'short' END",
                                         strategy="uniform", token_budget=4000), diversity_sample=None)
        rows = pl.read_parquet(study_run / "mixtures" / manifest["mixture_id"] / "*.parquet").select("doc_id", "group_key")
        sizes = cat.query("SELECT doc_id, n_bytes FROM doc_signals")
    checked = rows.join(sizes, on="doc_id")
    assert set(manifest["groups"]) == {"long", "short"} and checked.height == rows.height > 0
    assert ((checked["n_bytes"] > 1500) == (checked["group_key"] == "long")).all()
    with pytest.raises(ValueError, match="without ';'"):
        group_sql("sql:source; DROP TABLE runs", set())
