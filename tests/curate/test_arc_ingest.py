"""ARC input (.arc, .arc.gz, v1 and v2 header lines): records become documents as WARC records do, damage is counted."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.ingest.tasks import IngestError
from tests.warcs import COOKIE_BANNER, FOOTER, Record, generated_pages, write_arc

PAGES = generated_pages(6, seed=5)
RECORDS = [Record("response", url, page.encode()) for url, page in PAGES] + [
    Record("response", "https://img.example.com/logo.png", b"\x89PNG\r\n\x1a\n0000", "image/png"),
    Record("response", "https://empty.example.com/", b"<html><body><script>var x = 1;</script></body></html>"),
]  # the file's records: its version block, then 6 pages, an image and a page without text


def _tables(run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    with Catalog(run_dir, read_only=True) as cat:
        return (cat.query("SELECT * FROM documents ORDER BY input_file, line"),
                cat.query("SELECT * FROM rejects ORDER BY input_file, line"),
                cat.query("SELECT * FROM ingest_files ORDER BY input_file"))


def _damage(path: Path, offsets: list[int], corrupt: int) -> None:
    """Overwrite bytes inside record ``corrupt`` (gzip data of an .arc.gz, the header line of an .arc) and cut
    the last record short."""
    data = bytearray(path.read_bytes())
    at, end = (offsets[corrupt] + 40, offsets[corrupt] + 80) if path.name.endswith(".gz") else (offsets[corrupt], data.index(b"\n", offsets[corrupt]))
    data[at:end] = b"X" * (end - at)
    path.write_bytes(bytes(data[: offsets[-1] + (len(data) - offsets[-1]) // 2]))


@pytest.mark.parametrize("name", ["a.arc.gz", "a.arc"])
def test_arc_records_become_documents_and_every_record_is_counted(tmp_path, run_recipe, name):
    offsets = write_arc(tmp_path / "crawl" / name, RECORDS)
    _damage(tmp_path / "crawl" / name, offsets, corrupt=3)
    docs, rejects, files = _tables(run_recipe({"inputs": [{"path": "crawl", "source": "web"}]}).run_dir)
    assert files["n_records"].to_list() == [len(offsets)]
    assert docs.height + rejects.height == len(offsets)  # the funnel closes: version block + 8 records
    assert dict(rejects.group_by("reason").len().iter_rows()) == {
        "ingest.warc_skipped_type": 1, "ingest.warc_corrupt": 1, "ingest.warc_skipped_content_type": 1, "ingest.warc_truncated_record": 1}
    reject_at = dict(zip(rejects["reason"], zip(rejects["line"], rejects["byte_offset"], strict=True), strict=True))
    assert reject_at["ingest.warc_skipped_type"] == (1, 0)  # the filedesc:// version block
    assert reject_at["ingest.warc_corrupt"] == (4, offsets[3])
    assert reject_at["ingest.warc_truncated_record"] == (9, offsets[8])
    assert docs["line"].to_list() == [2, 3, 5, 6, 7] and docs["byte_offset"].to_list() == [offsets[i] for i in (1, 2, 4, 5, 6)]
    meta = [orjson.loads(m) for m in docs["meta"]]
    assert [m["url"] for m in meta] == [PAGES[i][0] for i in (0, 1, 3, 4, 5)]
    assert meta[0]["warc_date"] == "2026-01-01T00:00:00Z" and meta[0]["http_status"] == 200 and meta[0]["content_type"] == "text/html"
    assert docs["source_id"][0] == f"{PAGES[0][0]} 20260101000000 {offsets[1]}"
    text = docs["text"][0]
    assert "note 0" in text and COOKIE_BANNER not in text and FOOTER not in text  # main content, no boilerplate


def test_arc_v2_header_lines_and_undamaged_files(tmp_path, run_recipe):
    offsets = write_arc(tmp_path / "v2" / "b.arc", RECORDS, version=2)
    docs, rejects, _ = _tables(run_recipe({"inputs": [{"path": "v2/b.arc"}]}).run_dir)
    assert docs.height == 6 and [orjson.loads(m)["url"] for m in docs["meta"]] == [url for url, _ in PAGES]
    assert rejects["reason"].to_list() == ["ingest.warc_skipped_type", "ingest.warc_skipped_content_type", "ingest.html_no_text"]
    assert rejects["byte_offset"].to_list() == [0, offsets[7], offsets[8]]


def test_arc_doc_ids_are_stable_across_runs_and_renamed_files(tmp_path, run_recipe):
    write_arc(tmp_path / "one" / "x.arc.gz", RECORDS)
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "renamed.arc.gz").write_bytes((tmp_path / "one" / "x.arc.gz").read_bytes())  # the same file, moved
    first = _tables(run_recipe({"inputs": [{"path": "one", "source": "web"}]}, run_name="r1").run_dir)[0]
    again = _tables(run_recipe({"inputs": [{"path": "one", "source": "web"}]}, run_name="r2").run_dir)[0]
    moved = _tables(run_recipe({"inputs": [{"path": "two", "source": "web"}]}, run_name="r3").run_dir)[0]
    assert first.height == 6 and first["doc_id"].n_unique() == 6
    assert first["doc_id"].to_list() == again["doc_id"].to_list() == moved["doc_id"].to_list()


def test_strict_stops_at_a_damaged_arc_record(tmp_path, run_recipe):
    offsets = write_arc(tmp_path / "bad" / "c.arc.gz", RECORDS)
    _damage(tmp_path / "bad" / "c.arc.gz", offsets, corrupt=3)
    with pytest.raises(IngestError, match=r"c\.arc\.gz:4: ingest\.warc_corrupt"):
        run_recipe({"inputs": [{"path": "bad"}], "ingest": {"strict": True}})
