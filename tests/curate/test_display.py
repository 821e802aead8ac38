"""Terminal tables fit 80 columns: ids shortened, key columns first, the rest named and written to CSV."""

from __future__ import annotations

import io

import polars as pl
from rich.console import Console

from curate.core.display import print_frame


def _render(frame: pl.DataFrame, width: int = 80, **kwargs) -> str:
    out = io.StringIO()
    print_frame(frame, title="mixtures", console=Console(file=out, width=width), **kwargs)
    return out.getvalue()


def _wide() -> pl.DataFrame:
    ids = [f"topic-entropy-{i:02d}-{h}" for i, h in enumerate(["4682fc2ece", "a0625b0687", "ef8c853aff"])]
    metrics = {f"metric_number_{j}": [0.123456 * (i + j) for i in range(3)] for j in range(12)}
    return pl.DataFrame({"mixture_id": ids, "sweep_id": ["topic-entropy"] * 3, **metrics})


def test_wide_table_fits_80_columns_and_names_what_it_leaves_out(tmp_path):
    frame = _wide()
    text = _render(frame, keys=["mixture_id", "metric_number_11"], csv=tmp_path / "full.csv")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "00-4682fc2ece" in text and "02-ef8c853aff" in text  # the common prefix goes, the distinctive part stays
    assert "after 'topic-entropy-'" in text
    assert "every row: sweep_id=topic-entropy" in text
    hidden = " ".join(text.split("more columns")[1].split())
    assert "metric_number_11" not in hidden and "metric_number_10" in hidden  # a key column is shown first
    assert str(tmp_path / "full.csv") in "".join(text.split())  # a path longer than a line breaks mid-name
    assert pl.read_csv(tmp_path / "full.csv").columns == frame.columns
    cells = {c for line in text.splitlines() for c in line.split("│")}
    assert not any(0 < len(c.strip()) <= 4 and c.strip().isalpha() for c in cells - {"", " "})  # no 4-character shreds


def test_narrow_table_shows_every_column_unchanged():
    frame = pl.DataFrame({"stage": ["ingest", "langid"], "kept": [10, 9], "drop_reasons": ["", "langid.low_score=1"]})
    text = _render(frame)
    for value in ("ingest", "langid", "langid.low_score=1", "drop_reasons"):
        assert value in text
    assert "more columns" not in text


def test_long_ids_keep_their_start_and_end():
    frame = pl.DataFrame({"id": ["x" * 40 + "TAILHASH", "y" * 40 + "OTHERHASH"], **{f"c{i}": [1.5, 2.5] for i in range(20)}})
    text = _render(frame)
    assert "TAILHASH" in text and "…" in text
