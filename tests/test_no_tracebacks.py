"""Every command of `curate`, `train` and `reports`, on bad input, answers with a message, never a traceback.

The commands are read from the Typer apps, so a new command is covered the day it is added. Each runs
in-process (Typer's test runner: an exception escaping a command is what prints a traceback in a
terminal, since the apps disable pretty exceptions) once per kind of bad input: a missing path, a
directory where a file or run is expected, a garbage file, a run folder whose catalog is garbage, and a
real (small) run with nonsense in every other required parameter, then with each numeric option at -1 and
each text option ``no-such-thing`` in turn (these two sweeps are marked slow). A command whose every required parameter is optional (``curate demo``) gets its bad options instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from curate.cli import app as curate_app
from reports.cli import app as reports_app
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records
from train.cli import app as train_app

APPS = {"curate": curate_app, "train": train_app, "reports": reports_app}
OPTION_SWEEPS = ("negative_numbers", "nonsense_text")  # one invocation per option, some doing real work: ~20 s of CPU
SCENARIOS = ("missing", "directory", "garbage", "bad_run", "good_run", *(pytest.param(s, marks=pytest.mark.slow) for s in OPTION_SWEEPS))
NO_REQUIRED_INPUT = {  # commands that would do long real work with no arguments: their bad options instead
    "curate demo": [["--out", "{garbage}"], ["--workers", "0"], ["--seed", "-1", "--out", "{garbage}"]],
}


def _commands() -> list[tuple[str, Any]]:
    """(``app sub [subsub]``, click command) of every leaf command of the three apps."""
    found = []

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in sorted(cmd.commands.items()):
                walk(sub, [*path, name])
        else:
            found.append((" ".join(path), cmd))

    for name, app in APPS.items():
        walk(typer.main.get_command(app), [name])
    return found


COMMANDS = _commands()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bad inputs, and one small real run (ingest, exact dedup, an eval split) to aim nonsense at."""
    root = tmp_path_factory.mktemp("bad_inputs")
    (root / "empty_dir").mkdir()
    (root / "garbage.bin").write_bytes(bytes(range(256)) * 8)
    (root / "bad_run").mkdir()
    (root / "bad_run" / "catalog.duckdb").write_bytes(b"not a database" * 100)
    (root / "bad.yaml").write_text(yaml.safe_dump({"name": 3, "inputs": "nope", "stages": [{"stage": "topics", "k_range": [9, 1]}]}))
    write_jsonl(root / "data" / "c.jsonl", to_records(make_corpus(60, seed=2)))
    (root / "recipe.yaml").write_text(yaml.safe_dump({"name": "t", "inputs": [{"path": "data/c.jsonl", "id_field": "id"}],
                                                      "stages": [{"stage": "exact_dedup"}], "eval_split": {"per_group": 2}}))
    ran = CliRunner().invoke(curate_app, ["run", str(root / "recipe.yaml"), "--out", str(root / "run"), "--no-progress", "--workers", "1"])
    assert ran.exit_code == 0, ran.output
    return {"missing": root / "missing" / "thing", "empty_dir": root / "empty_dir", "garbage": root / "garbage.bin",
            "bad_run": root / "bad_run", "bad_yaml": root / "bad.yaml", "run": root / "run"}


def _value(scenario: str, param: Any, inputs: dict[str, Path]) -> str:
    """The bad value a required parameter gets in a scenario (a run folder for ``run``, else by its type)."""
    is_run = param.name == "run"
    if scenario == "missing":
        return str(inputs["missing"])
    if scenario == "directory":
        return str(inputs["empty_dir"])
    if scenario == "garbage":
        return str(inputs["garbage"])
    if scenario == "bad_run":
        return str(inputs["bad_run"] if is_run else inputs["bad_yaml"])
    if is_run:
        return str(inputs["run"])
    return str(inputs["bad_yaml"]) if param.bare_type() == "Path" else "no-such-thing"


def _invocations(command: Any, name: str, scenario: str, inputs: dict[str, Path]) -> list[list[str]]:
    if name in NO_REQUIRED_INPUT:
        fill = {k: str(v) for k, v in inputs.items()}
        return [[a.format(**fill) for a in args] for args in NO_REQUIRED_INPUT[name]] if scenario == "garbage" else []
    args: list[str] = []
    for param in command.params:
        if param.param_type_name == "argument":
            args.append(_value(scenario, param, inputs))
        elif param.required:
            args += [param.opts[0], _value(scenario, param, inputs)]
    options = [p for p in command.params if p.param_type_name == "option" and not p.required and not p.is_flag]
    if scenario == "negative_numbers":  # one option at a time: the first refusal would hide the others
        return [[*args, p.opts[0], "-1"] for p in options if p.bare_type() in ("int", "float")] or [args]
    if scenario == "nonsense_text":
        return [[*args, p.opts[0], "no-such-thing"] for p in options if p.bare_type() in ("str", "Path")] or [args]
    return [args]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_bad_input_gets_a_message_not_a_traceback(inputs, tmp_path, monkeypatch, name, command, scenario):
    monkeypatch.chdir(tmp_path)  # files a command writes by default (report.html, NAME.parquet) land here
    app, *path = name.split()
    for args in _invocations(command, name, scenario, inputs):
        result = CliRunner().invoke(APPS[app], [*path, *args])
        escaped = result.exception if not isinstance(result.exception, SystemExit) else None
        assert escaped is None and "Traceback" not in result.output, f"{name} {args}:\n{result.output}\n{escaped!r}"
