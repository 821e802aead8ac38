"""The shipped web recipe (curate/recipes/web.yaml) end to end on a small generated WARC."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from curate.core.catalog import Catalog
from curate.pipeline.recipe import parse_recipe
from tests.rewrite_planted import recipe_scores
from tests.warcs import Record, generated_pages, page_records, planted_pages, write_warc

WEB_RECIPE = Path(__file__).resolve().parents[2] / "curate" / "recipes" / "web.yaml"
ORDER = ["url", "langid", "line_dedup", "quality_rules", "minhash_dedup", "pii"]


def web_recipe(inputs: str) -> dict:
    data = yaml.safe_load(WEB_RECIPE.read_text())
    data["inputs"][0]["path"] = inputs
    return data


def test_the_commented_classifier_example_is_a_valid_stage():
    """The recipe's classifier example, uncommented, parses (its model file is the user's)."""
    text = WEB_RECIPE.read_text()
    example = yaml.safe_load("\n".join(line.removeprefix("  # ") for line in text[text.index("  # - stage: classifier"):].splitlines()))
    recipe = parse_recipe(web_recipe("crawl") | {"stages": web_recipe("crawl")["stages"] + example})
    assert [s.stage for s in recipe.stages] == [*ORDER, "classifier"]


def test_web_recipe_removes_planted_boilerplate_and_pii_and_the_funnel_closes(tmp_path, run_recipe):
    pages, planted = planted_pages(30, 24, seed=5)
    records = page_records(pages + generated_pages(6, seed=4)) + [Record("response", "https://img.example.com/a.png", b"\x89PNG", "image/png")]
    write_warc(tmp_path / "crawl" / "a.warc.gz", records)
    recipe = web_recipe("crawl")
    assert [s.stage for s in parse_recipe(recipe).stages] == ORDER
    summary = run_recipe(recipe)
    with Catalog(summary.run_dir, read_only=True) as cat:
        kept = cat.execute("SELECT count(*) FROM kept_documents")[0][0]
        dropped = cat.execute("SELECT count(*) FROM decisions")[0][0]
        rejects = cat.execute("SELECT count(*) FROM rejects")[0][0]
        stages = [r[0] for r in cat.execute("SELECT stage FROM stages WHERE kind != 'ingest' ORDER BY position")]
    assert stages == ORDER
    assert kept + dropped + rejects == len(records) and kept > 0
    scores = recipe_scores(summary.run_dir, planted)
    assert scores["boilerplate_lines_scored"] >= 50 and scores["pii_items_scored"] >= 10
    assert scores["boilerplate_lines_removed_frac"] == 1.0 and scores["body_lines_removed_frac"] == 0.0
    assert scores["pii_recall"] == 1.0 and scores["pii_precision"] == 1.0 and scores["decoys_kept_frac"] == 1.0


def test_bench_web_smoke_runs_the_web_recipe_and_scores_it():
    """bench_web.py --smoke (a handful of pages, no datatrove): the benchmark runs and its last line has the figures."""
    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_web.py"
    out = subprocess.run([sys.executable, str(bench), "--smoke"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["rejects_accounted"] == 1 and result["warc_records"] > 100 and result["docs_per_cpu_s"] > 0
    assert result["boilerplate_lines_removed_frac"] == 1.0 and result["pii_recall"] == 1.0 and result["pii_precision"] == 1.0
    assert result["ratio_vs_datatrove"] is None  # no datatrove in smoke mode
