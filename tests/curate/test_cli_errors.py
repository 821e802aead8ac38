"""Small reliability fixes seen from the command line: clear errors instead of tracebacks or hashes."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from curate.cli import app
from curate.core.catalog import Catalog
from reports.cli import app as reports_app
from tests.conftest import write_jsonl


def _flat(text: str) -> str:
    """CLI output as one line, without the border of rich's error box."""
    return " ".join(text.replace("│", " ").split())


def _says(output: str, message: str) -> bool:
    """Whether the CLI output says ``message``, wherever rich wrapped it (a long path breaks mid-name)."""
    return "".join(message.split()) in "".join(output.replace("│", " ").split())


def _recipe(tmp_path, inputs: list[dict]) -> str:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "inputs": inputs}))
    return str(path)


def test_strict_flag_stops_at_the_first_bad_record(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": "fine"}, b"{broken", {"text": "also fine"}])
    recipe = _recipe(tmp_path, [{"path": "in.jsonl"}])
    out = CliRunner().invoke(app, ["run", recipe, "--out", str(tmp_path / "r1"), "--strict", "--no-progress"])
    assert out.exit_code == 2 and _says(out.output, "in.jsonl:2: ingest.malformed_json")
    lenient = CliRunner().invoke(app, ["run", recipe, "--out", str(tmp_path / "r2"), "--no-progress"])
    assert lenient.exit_code == 0, lenient.output


def test_duplicate_ids_name_the_id_file_and_lines(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}, {"id": "a", "text": "three"}])
    recipe = _recipe(tmp_path, [{"path": "in.jsonl", "id_field": "id"}])
    out = CliRunner().invoke(app, ["run", recipe, "--out", str(tmp_path / "r"), "--no-progress"])
    assert out.exit_code == 2
    assert _says(out.output, f"id 'a' at {tmp_path / 'in.jsonl'}:1, {tmp_path / 'in.jsonl'}:3")


def test_killed_run_is_marked_interrupted_on_the_next_start(tmp_path, corpus_file, run_recipe):
    spec = {"inputs": [{"path": "data/corpus.jsonl"}]}
    run_dir = run_recipe(spec).run_dir
    with Catalog(run_dir) as cat:  # what a kill -9 leaves behind: a row still 'running'
        cat.begin_run("curate run", {})
    run_recipe(spec)
    with Catalog(run_dir, read_only=True) as cat:
        assert cat.query("SELECT status FROM runs ORDER BY started_at")["status"].to_list() == ["done", "interrupted", "done"]


def test_bad_report_parameter_and_csv_of_list_columns(tmp_path, corpus_file, run_recipe):
    run_dir = str(run_recipe({"inputs": [{"path": "data/corpus.jsonl"}], "stages": [{"stage": "exact_dedup"}]}).run_dir)
    bad = CliRunner().invoke(reports_app, ["show", "dup_clusters", run_dir, "--param", "limit=abc"])
    assert bad.exit_code == 2 and "wrong type or value" in _flat(bad.output), bad.output
    lists = CliRunner().invoke(app, ["sql", run_dir, "SELECT [1, 2] AS xs, {'a': 1} AS s, 'x' AS t", "--format", "csv"])
    assert lists.exit_code == 0 and lists.stdout.splitlines() == ["xs,s,t", '"[1, 2]","{""a"": 1}",x']
    written = CliRunner().invoke(app, ["sql", run_dir, "SELECT [cluster_id] AS ids FROM dup_clusters", "--format", "csv"])
    assert written.exit_code == 0 and written.stdout.startswith("ids\n\"[")


def test_missing_quality_model_names_the_field_and_path(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": "fine"}])
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "inputs": [{"path": "in.jsonl"}],
                                    "stages": [{"stage": "quality_model", "model_path": str(tmp_path / "no_model")}]}))
    out = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "r"), "--no-progress"])
    text = _flat(out.output)
    assert out.exit_code == 2 and "Traceback" not in text, text
    assert _says(text, f"stages[0].model_path: Value error, no quality model at {tmp_path / 'no_model'}")


def test_eval_split_options_out_of_range_are_errors_naming_them(tmp_path, corpus_file, run_recipe):
    run_dir = str(run_recipe({"inputs": [{"path": "data/corpus.jsonl"}]}).run_dir)
    for option, value, message in (("--per-group", "-3", "per_group: Input should be greater than or equal to 0 (got -3)"),
                                   ("--threshold", "7", "threshold: Input should be less than or equal to 1 (got 7.0)")):
        out = CliRunner().invoke(app, ["mix", "eval-split", run_dir, option, value])
        assert out.exit_code == 2 and message in _flat(out.output), out.output
    with Catalog(run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM eval_sets")["n"][0] == 0
