"""Regenerate the README's screenshots of the HTML report from the generated fixture run.

    .venv/bin/python -m tests.reports.screenshot [--out reports/assets]

Builds the same run the report tests use (generated text, real curation and mixtures, generated
training results), analyses it, writes the page and captures two parts of it in headless Chromium.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from reports.analysis import analyse
from reports.html import write_report
from tests.reports.browser import Chromium, chromium_binary
from tests.reports.fixture_run import build_run

SHOTS = {"report.png": ("#generalization", 1250), "report_curation.png": ("body", 1500)}
MAX_BYTES = 300_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/assets"))
    args = parser.parse_args()
    binary = chromium_binary()
    if binary is None:
        raise SystemExit("Chromium is not installed (Debian: apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = build_run(Path(tmp))
        analyse(run_dir)
        page = write_report(run_dir, Path(tmp) / "report.html")
        with Chromium(binary, Path(tmp) / "profile", width=1200, height=900) as browser:
            browser.open(page.as_uri())
            if browser.problems():
                raise SystemExit(f"the page reported problems: {browser.problems()}")
            for name, (selector, height) in SHOTS.items():
                shot = browser.screenshot(args.out / name, selector, height)
                size = shot.stat().st_size
                print(f"{shot} {size} bytes" + (" (over the README budget)" if size > MAX_BYTES else ""))


if __name__ == "__main__":
    main()
