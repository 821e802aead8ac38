"""The HTML report: self-contained, every document text escaped; in a real headless Chromium it loads
with no console error and no request, its plots render, and a planted <script> never runs."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from reports import plots
from reports.cli import app
from reports.html import table, write_report
from tests.reports.browser import Chromium, chromium_binary
from tests.reports.fixture_run import PLANTED

CHROMIUM = chromium_binary()


def test_table_escapes_every_cell():
    html = table(pl.DataFrame({"<b>col</b>": [PLANTED]}))
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html and "&lt;b&gt;col" in html


def test_plot_labels_are_escaped():
    svg = plots.bars([PLANTED, "b & c"], [1, 2], "<script>x</script>")
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg and "b &amp; c" in svg


def test_plot_labels_are_plain_text_not_math():
    label = "math $x_$ name"
    for svg in (plots.bars([label, "$"], [1, 2], label, label), plots.histogram(np.arange(5.0), 2.0, label, label),
                plots.stacked(["m1"], [label], np.ones((1, 1)), label), plots.membership([label], [label], np.ones((1, 1)), label)):
        assert label in svg


@pytest.fixture(scope="module")
def report(full_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    result = CliRunner().invoke(app, ["html", str(full_run), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_report_is_self_contained_and_escaped(report):
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;document.title=" in page  # the planted document shows as text (dup_clusters examples)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # only in-page SVG clip-path references
    for section in ("funnel", "corpus", "dups", "signals", "mixtures", "training", "generalization"):
        assert f"id='{section}'" in page
    assert page.count("<svg") >= 10
    assert "mean_doc_bytes" in page and "p_holm" in page


def test_report_of_an_empty_run(empty_run, tmp_path):
    page = write_report(empty_run, tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "no rows" in page and "reports correlate RUN" in page and "<svg" not in page


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
def test_report_in_headless_chromium(report, tmp_path):
    with Chromium(CHROMIUM, tmp_path / "profile", width=1200, height=900) as browser:
        browser.open(report.as_uri())
        assert browser.evaluate("document.title") == "mixlab report: run"
        assert browser.problems() == []
        assert browser.requests() == [report.as_uri()]
        sizes = browser.evaluate("Array.from(document.querySelectorAll('figure.plot svg'))"
                                 ".map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })")
        assert len(sizes) >= 10 and all(w > 200 and h > 100 for w, h in sizes)
        assert browser.evaluate("document.querySelectorAll('#generalization figure.plot').length") >= 3
        assert browser.evaluate("document.querySelectorAll('script, img').length") == 0
        assert browser.evaluate("document.body.innerText.includes(\"<script>document.title='PWNED'\")")
        shot = browser.screenshot(tmp_path / "report.png", "#generalization", 1200)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
