"""The HTML report escapes document text; in headless Chromium it loads cleanly and a planted script never runs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from curate.catalog import Catalog
from reports.html import table, write_report
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records

PLANTED = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"


def test_table_escapes_every_cell():
    import polars as pl

    html = table(pl.DataFrame({"<b>col</b>": [PLANTED]}))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;col" in html


@pytest.fixture
def report(tmp_path, run_recipe):
    docs = to_records(make_corpus(60, seed=4, exact_dup_rate=0.3))
    docs[0]["text"] = PLANTED + " " + docs[0]["text"]
    docs.append(dict(docs[0], id="copy"))
    write_jsonl(tmp_path / "c.jsonl", docs)
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}], "stages": [{"stage": "exact_dedup"}, {"stage": "quality_rules"}]})
    with Catalog(run.run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM dup_clusters")["n"][0] > 0
    return write_report(run.run_dir, tmp_path / "report.html")


def test_report_is_self_contained_and_escaped(report):
    page = report.read_text()
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "&lt;script&gt;" in page
    for loader in ('src="http', "src='http", 'href="http', "<link", "@import", "<iframe"):
        assert loader not in page
    assert page.count("<svg") >= 2


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0"]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_report_in_headless_chromium(report, tmp_path):
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    assert "PWNED" not in dom.stdout.split("<title>")[1].split("</title>")[0]
    assert "Uncaught" not in dom.stderr and "CONSOLE" not in dom.stderr
    assert dom.stdout.count("<svg") >= 2
    shot = tmp_path / "report.png"
    subprocess.run([*common, "--window-size=1200,1600", f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120)
    assert shot.stat().st_size > 20_000
