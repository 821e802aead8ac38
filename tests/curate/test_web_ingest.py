"""Web input: WARC records (damaged ones counted), HTML -> main-content text, HTML files and fields."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest

from curate.core.catalog import Catalog
from curate.ingest.html import WebParams, decode_html, html_to_text
from curate.ingest.tasks import IngestError
from tests.conftest import write_jsonl
from tests.warcs import COOKIE_BANNER, FOOTER, Record, generated_page, generated_pages, page_records, write_warc

PAGES = generated_pages(6, seed=3)
EXTRA = [
    Record("response", "https://img.example.com/logo.png", b"\x89PNG\r\n\x1a\n0000", "image/png"),
    Record("conversion", "https://wet.example.com/page", b"A WET record is already plain text.\nSecond line.", "text/plain"),
    Record("response", "https://empty.example.com/", b"<html><body><script>var x = 1;</script></body></html>"),
]
NO_TEXT = [Record("response", "https://empty.example.com/", b"<html><body><script>var x = 1;</script></body></html>")]
RECORDS = page_records(PAGES) + EXTRA  # 12 page records (6 requests, 6 responses) + 3


def _tables(run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    with Catalog(run_dir, read_only=True) as cat:
        return (cat.query("SELECT * FROM documents ORDER BY input_file, line"),
                cat.query("SELECT * FROM rejects ORDER BY input_file, line"),
                cat.query("SELECT * FROM ingest_files ORDER BY input_file"))


def _damaged(path: Path) -> list[int]:
    """A WARC of RECORDS whose 4th record (a response) has corrupt gzip data and whose last is cut short."""
    offsets = write_warc(path, RECORDS)
    data = bytearray(path.read_bytes())
    data[offsets[3] + 40 : offsets[3] + 80] = b"X" * 40
    path.write_bytes(bytes(data[: offsets[-1] + (len(data) - offsets[-1]) // 2]))
    return offsets


def test_warc_records_become_documents_and_every_record_is_counted(tmp_path, run_recipe):
    offsets = _damaged(tmp_path / "crawl" / "a.warc.gz")
    write_warc(tmp_path / "crawl" / "b.warc", RECORDS[:4], salt="b")
    summary = run_recipe({"inputs": [{"path": "crawl", "source": "web"}]})
    docs, rejects, files = _tables(summary.run_dir)
    assert files["n_records"].to_list() == [len(RECORDS), 4]
    assert docs.height + rejects.height == len(RECORDS) + 4  # the funnel closes
    a = rejects.filter(pl.col("input_file").str.ends_with("a.warc.gz"))
    by_reason = dict(a.group_by("reason").len().iter_rows())
    assert by_reason == {"ingest.warc_skipped_type": 6, "ingest.warc_skipped_content_type": 1, "ingest.warc_corrupt": 1,
                         "ingest.warc_truncated_record": 1}
    corrupt = a.filter(pl.col("reason") == "ingest.warc_corrupt")
    assert corrupt["byte_offset"].to_list() == [offsets[3]] and corrupt["line"].to_list() == [4]
    meta = [orjson.loads(m) for m in docs["meta"]]
    assert {m["warc_type"] for m in meta} == {"response", "conversion"}
    first = meta[0]
    assert first["url"] == PAGES[0][0] and first["content_type"] == "text/html" and first["http_status"] == 200
    assert first["warc_date"] == "2026-01-01T00:00:00Z" and docs["source_id"][0] == first["warc_record_id"]
    assert "A WET record is already plain text.\nSecond line." in docs["text"].to_list()
    b = rejects.filter(pl.col("input_file").str.ends_with("b.warc"))
    assert b["reason"].to_list() == ["ingest.warc_skipped_type"] * 2  # an undamaged file: requests only


def test_truncated_record_is_a_counted_reject_with_its_offset(tmp_path, run_recipe):
    records = page_records(PAGES[:2])
    offsets = write_warc(tmp_path / "w" / "t.warc", records)
    data = (tmp_path / "w" / "t.warc").read_bytes()
    (tmp_path / "w" / "t.warc").write_bytes(data[: offsets[3] + (len(data) - offsets[3]) // 2])
    summary = run_recipe({"inputs": [{"path": "w/t.warc"}]})
    docs, rejects, _ = _tables(summary.run_dir)
    assert docs.height == 1
    truncated = rejects.filter(pl.col("reason") == "ingest.warc_truncated_record")
    assert truncated["byte_offset"].to_list() == [offsets[3]] and truncated["line"].to_list() == [4]
    assert "t.warc" in truncated["input_file"][0]


def test_doc_id_follows_the_record_id_across_runs_and_file_layouts(tmp_path, run_recipe):
    write_warc(tmp_path / "one" / "x.warc.gz", page_records(PAGES))
    write_warc(tmp_path / "two" / "renamed.warc", page_records(PAGES[::-1]))  # other file, other order, not gzipped
    first = _tables(run_recipe({"inputs": [{"path": "one", "source": "web"}]}, run_name="r1").run_dir)[0]
    again = _tables(run_recipe({"inputs": [{"path": "one", "source": "web"}]}, run_name="r2").run_dir)[0]
    moved = _tables(run_recipe({"inputs": [{"path": "two", "source": "web"}]}, run_name="r3").run_dir)[0]
    assert first["doc_id"].to_list() == again["doc_id"].to_list()
    assert sorted(first["doc_id"]) == sorted(moved["doc_id"])


def test_extraction_keeps_the_main_content_and_drops_boilerplate():
    article = ["The first paragraph of the article explains how the telescope was calibrated over three nights.",
               "A second paragraph reports the measured redshift and compares it with earlier surveys of the field."]
    page = generated_page("Telescope notes", article, "site.example.com")
    for extractor in ("resiliparse", "trafilatura"):
        text = html_to_text(page, WebParams(extractor=extractor))
        assert article[0] in text and article[1] in text, extractor
        assert COOKIE_BANNER not in text and FOOTER not in text and "Careers" not in text, extractor
        assert "Popular posts" not in text, extractor
    everything = html_to_text(page, WebParams(main_content=False))
    assert COOKIE_BANNER in everything and FOOTER in everything and article[0] in everything


def test_charset_is_detected_from_the_page():
    page = '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 cr\xe8me br\xfbl\xe9e</p></body></html>'
    assert "Café crème brûlée" in decode_html(page.encode("cp1252"))
    assert "Café" in decode_html("<p>Café</p>".encode("utf-8"), "utf-8")
    assert "Café" in decode_html("<p>Café</p>".encode("utf-8"), "no-such-charset")


def test_html_files_and_html_fields_use_the_same_extraction(tmp_path, run_recipe):
    page = generated_page("Garden diary", ["Prune the roses in early spring before the buds open on the stems."], "g.example.com")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(page)
    (tmp_path / "site" / "blank.htm").write_text("<html><body><nav>Home</nav></body></html>")
    (tmp_path / "site" / "note.txt").write_text("A plain note, read as text.")
    write_jsonl(tmp_path / "rows" / "pages.jsonl", [{"id": 1, "html": page, "url": "https://g.example.com/"}])
    summary = run_recipe({"inputs": [{"path": "site", "source": "files"},
                                     {"path": "rows/pages.jsonl", "html_field": "html", "id_field": "id", "source": "rows"}],
                          "ingest": {"web": {"extractor": "resiliparse"}}})
    docs, rejects, _ = _tables(summary.run_dir)
    texts = dict(zip(docs["input_file"].str.split("/").list.last(), docs["text"], strict=True))
    assert "Prune the roses" in texts["index.html"] and COOKIE_BANNER not in texts["index.html"]
    assert texts["pages.jsonl"] == texts["index.html"]
    assert texts["note.txt"] == "A plain note, read as text."
    assert rejects["reason"].to_list() == ["ingest.html_no_text"] and rejects["input_file"][0].endswith("blank.htm")
    row_meta = orjson.loads(docs.filter(pl.col("source") == "rows")["meta"][0])
    assert row_meta == {"id": 1, "url": "https://g.example.com/"}


def test_a_large_warc_gz_read_as_byte_ranges_gives_the_same_documents(tmp_path, run_recipe):
    records = page_records(generated_pages(40, seed=8)) + EXTRA
    offsets = write_warc(tmp_path / "big" / "c.warc.gz", records)
    data = bytearray((tmp_path / "big" / "c.warc.gz").read_bytes())
    data[offsets[31] + 40 : offsets[31] + 80] = b"X" * 40  # a corrupt record inside some range
    (tmp_path / "big" / "c.warc.gz").write_bytes(bytes(data))
    whole = run_recipe({"inputs": [{"path": "big"}]}, run_name="whole")
    ranged = run_recipe({"inputs": [{"path": "big"}], "ingest": {"split_bytes": 4096}}, run_name="ranged", workers=2)
    (docs_a, rejects_a, files_a), (docs_b, rejects_b, files_b) = _tables(whole.run_dir), _tables(ranged.run_dir)
    assert files_a.height == 1 and files_b.height == len(data) // 4096 + 1
    assert files_b["n_records"].sum() == len(records)
    columns = ["doc_id", "text", "source_id", "byte_offset", "meta"]
    assert docs_b.sort("byte_offset").select(columns).equals(docs_a.sort("byte_offset").select(columns))
    assert rejects_b.sort("byte_offset").select("byte_offset", "reason").equals(rejects_a.sort("byte_offset").select("byte_offset", "reason"))
    assert rejects_a.filter(pl.col("reason") == "ingest.warc_corrupt")["byte_offset"].to_list() == [offsets[31]]


def test_strict_stops_at_a_damaged_record_not_at_skipped_ones(tmp_path, run_recipe):
    write_warc(tmp_path / "ok" / "a.warc.gz", page_records(PAGES[:2]) + EXTRA[:1])  # requests and an image: skipped
    assert run_recipe({"inputs": [{"path": "ok"}], "ingest": {"strict": True}}, run_name="ok").n_docs == 2
    _damaged(tmp_path / "bad" / "b.warc.gz")
    with pytest.raises(IngestError, match=r"b\.warc\.gz:4: ingest\.warc_corrupt"):
        run_recipe({"inputs": [{"path": "bad"}], "ingest": {"strict": True}}, run_name="bad")


def test_a_page_trafilatura_takes_too_long_on_is_a_counted_reject(tmp_path, run_recipe):
    write_warc(tmp_path / "w" / "a.warc.gz", page_records(PAGES[:3]))
    summary = run_recipe({"inputs": [{"path": "w"}], "ingest": {"web": {"extractor": "trafilatura", "trafilatura_timeout_s": 1e-6}}})
    docs, rejects, _ = _tables(summary.run_dir)
    assert docs.height == 0 and rejects["reason"].to_list().count("ingest.html_timeout") == 3
    assert html_to_text(PAGES[0][1], WebParams(extractor="trafilatura", trafilatura_timeout_s=None))  # no limit
