"""Every input format with every kind of bad input: each record is a document or a counted reject.

The expected outcome of each record is written down here, from how the files were built, not read back
from the ingest's own counters: the funnel check does not trust the reader it checks."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from curate.core.catalog import Catalog

BOM = b"\xef\xbb\xbf"
DEEP = b'{"k": ' * 300 + b"{}" + b"}" * 300
# (raw JSONL line, reason or None for a document); the first line carries a BOM, one line ends in CRLF
LINES: list[tuple[bytes, str | None]] = [
    (BOM + b'{"id": 1, "text": "First document, after a byte order mark."}', None),
    (b"{not json", "ingest.malformed_json"),
    (b'{"id": 3, "body": "no text field"}', "ingest.missing_text"),
    (b'{"id": 4, "text": null}', "ingest.missing_text"),
    (b'{"id": 5, "text": 42}', "ingest.text_not_string"),
    (b'{"id": 6, "text": "bad \xff utf8"}', "ingest.invalid_utf8"),
    (b'{"id": 7, "text": "   \\n\\t "}', "ingest.empty_text"),
    (b'{"id": 8, "text": "\\u200b\\u200d\\ufeff"}', "ingest.empty_text"),
    (b'{"id": 9, "text": "' + b"x" * 3000 + b'"}', "ingest.too_large"),
    (b"", "ingest.blank_line"),
    (b"[1, 2, 3]", "ingest.not_an_object"),
    (b'{"text": "no id here"}', "ingest.missing_id"),
    (b'{"id": {"nested": 1}, "text": "an object as id"}', "ingest.missing_id"),
    (b'{"id": 14, "text": "deep", "x": ' + DEEP + b"}", "ingest.too_deep"),
    (b'{"id": 15, "text": "deeper", "x": ' + b"[" * 1100 + b"]" * 1100 + b"}", "ingest.too_deep"),
    (b'{"id": 18446744073709551617, "text": "an id beyond 64 bits"}', None),
    (b'{"id": 18446744073709551618, "text": "its neighbour, a different id"}', None),
    (b'{"id": 18, "text": "control \\u0000 chars \\u001b and CRLF"}\r', None),
    (b'{"id": 19, "text": "the last line has no newline"}', None),
]


def _jsonl_bytes() -> bytes:
    return b"\n".join(line for line, _ in LINES)  # no newline after the last record


def _write_inputs(root: Path) -> dict[str, dict[int, str | None]]:
    """Write every format; return the expected outcome per file name and line (row, file number)."""
    expected: dict[str, dict[int, str | None]] = {}
    per_line = {i + 1: reason for i, (_, reason) in enumerate(LINES)}
    data = _jsonl_bytes()
    (root / "j").mkdir(parents=True)
    (root / "j" / "plain.jsonl").write_bytes(data)
    (root / "j" / "gz.jsonl.gz").write_bytes(gzip.compress(data))
    (root / "j" / "zst.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    expected.update({"plain.jsonl": per_line, "gz.jsonl.gz": per_line, "zst.jsonl.zst": per_line})
    for name, compress in (("cut_gz.jsonl.gz", gzip.compress), ("cut_zst.jsonl.zst", zstandard.ZstdCompressor().compress)):
        long = b"".join(b'{"id": %d, "text": "%s"}\n' % (i, b"doc %d " % i * 40) for i in range(3000))
        packed = compress(long)
        (root / "j" / name).write_bytes(packed[: len(packed) // 2])
        whole = _prefix_lines(name, packed[: len(packed) // 2])
        expected[name] = {**dict.fromkeys(range(1, whole + 1)), whole + 1: "ingest.truncated_stream"}
    _write_parquet(root / "p", expected)
    _write_texts(root / "t", expected)
    return expected


def _prefix_lines(name: str, cut: bytes) -> int:
    """Complete lines in what can be decompressed from a cut file (independent of the ingest reader)."""
    if name.endswith(".gz"):
        return zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")
    return zstandard.ZstdDecompressor().decompressobj().decompress(cut).count(b"\n")


def _write_parquet(folder: Path, expected: dict[str, dict[int, str | None]]) -> None:
    folder.mkdir()
    texts = ["A parquet document.", None, "", " \u200b ", "y" * 3000, "Fine text, but no id.", "Another document."]
    ids = [1, 2, 3, 4, 5, None, 7]
    pq.write_table(pa.table({"id": ids, "text": texts, "tags": [["a"], [], None, ["b"], [], [], ["c"]]}), folder / "rows.parquet")
    expected["rows.parquet"] = {1: None, 2: "ingest.missing_text", 3: "ingest.empty_text", 4: "ingest.empty_text",
                                5: "ingest.too_large", 6: "ingest.missing_id", 7: None}
    pq.write_table(pa.table({"id": [10, 11], "text": [12, 13]}), folder / "ints.parquet")
    expected["ints.parquet"] = {1: "ingest.text_not_string", 2: "ingest.text_not_string"}
    pq.write_table(pa.table({"id": [20, 21], "body": ["no", "text column"]}), folder / "notext.parquet")
    expected["notext.parquet"] = {1: "ingest.missing_text", 2: "ingest.missing_text"}
    whole = (folder / "rows.parquet").read_bytes()
    (folder / "cut.parquet").write_bytes(whole[: len(whole) // 2])
    expected["cut.parquet"] = {1: "ingest.unreadable_parquet"}


def _write_texts(folder: Path, expected: dict[str, dict[int, str | None]]) -> None:
    (folder / "sub").mkdir(parents=True)
    files = {  # name -> (bytes, reason); files are read in sorted order, numbered from 1
        "a_good.txt": (b"A plain note.", None),
        "b_bom.txt": (BOM + b"A note after a byte order mark.", None),
        "c_bad_utf8.txt": (b"caf\xe9 au lait", "ingest.invalid_utf8"),
        "d_empty.txt": (b"", "ingest.empty_text"),
        "e_spaces.md": (b" \n\t\n", "ingest.empty_text"),
        "f_zero_width.txt": ("\u200b\u2060".encode(), "ingest.empty_text"),
        "g_big.txt": (b"z" * 3000, "ingest.too_large"),
        "sub/h_nested.md": (b"# Nested\n\nA nested markdown note.", None),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    for name, (_, reason) in files.items():
        expected[Path(name).name] = {0: reason}


def test_every_format_with_every_bad_input_kind(tmp_path, run_recipe):
    expected = _write_inputs(tmp_path)
    summary = run_recipe({"inputs": [{"path": "j", "id_field": "id", "source": "{file}"},
                                     {"path": "p", "id_field": "id", "source": "{file}"},
                                     {"path": "t", "source": "notes"}],
                          "ingest": {"max_doc_bytes": 2000}})
    with Catalog(summary.run_dir, read_only=True) as cat:
        docs = cat.query("SELECT input_file, line, source_id, text FROM documents")
        rejects = cat.query("SELECT input_file, line, reason FROM rejects")
        reader_count = cat.query("SELECT sum(n_records) AS n FROM ingest_files")["n"][0]

    got: dict[str, dict[int, str | None]] = {}
    for row in docs.iter_rows(named=True):
        got.setdefault(Path(row["input_file"]).name, {})[row["line"] or 0] = None
    for row in rejects.iter_rows(named=True):
        key = Path(row["input_file"]).name
        line = 0 if key.endswith((".txt", ".md")) else row["line"]
        assert line not in got.get(key, {}), f"{key}:{line} is both a document and a reject"
        got.setdefault(key, {})[line] = row["reason"]
    assert got == expected
    n_records = sum(len(v) for v in expected.values())
    assert docs.height + rejects.height == n_records == reader_count

    by_id = dict(zip(docs["source_id"], docs["text"], strict=True))
    assert by_id["1"] in ("First document, after a byte order mark.", "A parquet document.")
    assert by_id["18446744073709551617"] == "an id beyond 64 bits" and "18446744073709551618" in by_id
    assert "A note after a byte order mark." in set(docs["text"])
