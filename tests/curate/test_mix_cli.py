"""`curate mix RUN spec.yaml`, `curate mix sweep`, `curate mix eval-split` as a user runs them."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from curate.cli import app
from curate.core.catalog import Catalog
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records


def _run(tmp_path, run_recipe):
    records = to_records(make_corpus(150, seed=3, exact_dup_rate=0.0, near_dup_rate=0.05))
    for domain in sorted({r["domain"] for r in records}):
        write_jsonl(tmp_path / "data" / f"{domain}.jsonl", [r for r in records if r["domain"] == domain])
    return run_recipe({"inputs": [{"path": "data/*.jsonl", "id_field": "id", "source": "{file}"}]}).run_dir


def test_mix_emit_with_eval_split_then_sweep(tmp_path, run_recipe):
    run = _run(tmp_path, run_recipe)
    spec = tmp_path / "mix.yaml"
    spec.write_text(yaml.safe_dump({"name": "by-source", "group_by": "source", "strategy": "temperature", "temperature": 2.0,
                                    "token_budget": 15_000, "max_repeats": 2, "seed": 1}))
    runner = CliRunner()
    out = runner.invoke(app, ["mix", str(run), str(spec), "--eval-split", "3", "--ood", "law", "--diversity-sample", "40"])
    assert out.exit_code == 0, out.output
    with Catalog(run, read_only=True) as cat:
        kinds = dict(cat.query("SELECT kind, count(*) AS n FROM eval_sets GROUP BY kind").iter_rows())
        row = cat.query("SELECT mixture_id, path FROM mixtures").row(0)
        groups = json.loads((run / row[1] / "manifest.json").read_text())["groups"]
        n_law = cat.query("SELECT count(*) AS n FROM kept_documents WHERE source = 'law'")["n"][0]
        scored = cat.query("SELECT count(*) AS n FROM diversity WHERE scope_kind = 'mixture' AND scope_id = $m", {"m": row[0]})["n"][0]
    assert kinds["id"] == 3 * 4 and kinds["ood"] == n_law and "law" not in groups and scored > 5
    assert row[0] in out.output

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "temps", "base": {"group_by": "source", "token_budget": 12_000, "max_repeats": 3},
                                     "vary": {"temperature": [0.5, 1.0, 4.0]}, "diversity_sample": 30, "n_boot": 0}))
    out = runner.invoke(app, ["mix", "sweep", str(run), str(sweep), "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert out.stdout.count("temps-0") == 3 and "group_entropy_tokens" in out.stdout


def test_infeasible_and_invalid_specs_fail_clearly(tmp_path, run_recipe):
    run = _run(tmp_path, run_recipe)
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"name": "huge", "strategy": "uniform", "token_budget": 10_000_000, "max_repeats": 1}))
    out = runner.invoke(app, ["mix", "emit", str(run), str(bad)])
    assert out.exit_code == 2 and "ran short" in out.output and "group '" in out.output
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump({"name": "t", "token_budget": 100, "max_repeat": 2}))
    out = runner.invoke(app, ["mix", str(run), str(typo)])
    assert out.exit_code == 2 and "max_repeat" in out.output and "invalid mixture spec" in out.output
    typo.write_text(yaml.safe_dump({"name": "s", "base": {"token_budget": 100, "max_repeat": 2}, "steps": 3}))
    out = runner.invoke(app, ["mix", "sweep", str(run), str(typo)])
    assert out.exit_code == 2 and "base.max_repeat: Extra inputs are not permitted" in out.output  # at load, before any work
    assert "invalid sweep" in out.output
    out = runner.invoke(app, ["mix", "eval-split", str(run), "--per-group", "2", "--ood", "nosuchgroup"])
    assert out.exit_code == 2 and "nosuchgroup" in out.output


def test_eval_split_options_take_default_and_help_from_the_recipe_model():
    from typer.main import get_command

    from curate.mix.eval_split import EvalSplitParams

    mirrored = {"emit": {"eval_group_by": "group_by", "eval_seed": "seed", "threshold": "threshold", "ood": "ood_groups"},
                "eval-split": {"per_group": "per_group", "group_by": "group_by", "seed": "seed", "threshold": "threshold",
                               "containment": "containment", "ood": "ood_groups"}}
    mix = get_command(app).commands["mix"]  # type: ignore[attr-defined]
    for command, options in mirrored.items():
        params = {p.name: p for p in mix.commands[command].params}
        for option, name in options.items():
            field = EvalSplitParams.model_fields[name]
            assert params[option].help.startswith(field.description), (command, option)
            assert name == "ood_groups" or params[option].default == field.default, (command, option)
