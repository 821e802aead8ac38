"""Ingest: every format, every kind of bad input (counted with its reason), --strict, stable ids."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curate.core.catalog import Catalog
from curate.ingest.tasks import IngestError, IngestParams, InputSpec, pack_tasks, plan_tasks
from tests.conftest import write_jsonl

GOOD = [{"id": f"g{i}", "text": f"Document number {i} says something useful.", "meta": {"lang": "en"}} for i in range(5)]


def _docs(run_dir: Path) -> pl.DataFrame:
    with Catalog(run_dir, read_only=True) as cat:
        return cat.query("SELECT * FROM documents ORDER BY input_file, line")


def _rejects(run_dir: Path) -> pl.DataFrame:
    with Catalog(run_dir, read_only=True) as cat:
        return cat.query("SELECT * FROM rejects ORDER BY input_file, line")


def test_jsonl_plain_gzip_and_zstd(tmp_path, run_recipe):
    write_jsonl(tmp_path / "in" / "a.jsonl", GOOD)
    write_jsonl(tmp_path / "in" / "b.jsonl.gz", GOOD)
    raw = b"".join(orjson.dumps(r) + b"\n" for r in GOOD)
    (tmp_path / "in" / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    summary = run_recipe({"inputs": [{"path": "in/*", "id_field": "id", "source": "{file}"}]})
    docs = _docs(summary.run_dir)
    assert docs.height == 15
    assert sorted(docs["source"].unique()) == ["a", "b", "c"]
    assert docs["doc_id"].n_unique() == 15
    assert orjson.loads(docs["meta"][0]) == {"id": docs["source_id"][0], "meta": {"lang": "en"}}


def test_parquet_input_with_nested_text_field(tmp_path, run_recipe):
    table = pa.table({"doc": [{"body": f"text {i} " * 5} for i in range(4)], "url": [f"u{i}" for i in range(4)]})
    (tmp_path / "p").mkdir()
    pq.write_table(table, tmp_path / "p" / "x.parquet")
    summary = run_recipe({"inputs": [{"path": "p/x.parquet", "text_field": "doc.body"}]})
    docs = _docs(summary.run_dir)
    assert docs.height == 4
    assert docs["text"][0].startswith("text 0")
    assert orjson.loads(docs["meta"][0]) == {"doc": {}, "url": "u0"}


def test_text_directory(tmp_path, run_recipe):
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text("First note with enough words.")
    (folder / "sub" / "two.md").write_text("# Second\n\nA markdown note.")
    (folder / "skip.bin").write_bytes(b"\x00\x01")
    summary = run_recipe({"inputs": [{"path": "notes", "source": "notes"}]})
    docs = _docs(summary.run_dir)
    assert docs.height == 2
    assert {orjson.loads(m)["path"] for m in docs["meta"]} == {"one.txt", "sub/two.md"}


def _messy_lines() -> list[bytes]:
    big = "x" * 3000
    return [
        orjson.dumps({"id": 1, "text": "A fine document."}),
        b"{not json",
        orjson.dumps({"id": 2, "body": "no text field"}),
        orjson.dumps({"id": 3, "text": 42}),
        b'{"id": 4, "text": "bad \xff utf8"}',
        orjson.dumps({"id": 5, "text": "   \n\t "}),
        orjson.dumps({"id": 6, "text": big}),
        b"",
        orjson.dumps([1, 2, 3]),
        orjson.dumps({"text": "no id here"}),
        orjson.dumps({"id": 7, "text": "Another fine document."}),
    ]


EXPECTED_REASONS = {
    2: ("ingest.malformed_json", None),
    3: ("ingest.missing_text", "text"),
    4: ("ingest.text_not_string", "text"),
    5: ("ingest.invalid_utf8", None),
    6: ("ingest.empty_text", "text"),
    7: ("ingest.too_large", "text"),
    8: ("ingest.blank_line", None),
    9: ("ingest.not_an_object", None),
    10: ("ingest.missing_id", "id"),
}


def test_each_bad_record_is_a_counted_reject(tmp_path, run_recipe):
    write_jsonl(tmp_path / "messy.jsonl", _messy_lines())
    summary = run_recipe({"inputs": [{"path": "messy.jsonl", "id_field": "id"}], "ingest": {"max_doc_bytes": 2000}})
    rejects = _rejects(summary.run_dir)
    got = {row["line"]: (row["reason"], row["field"]) for row in rejects.iter_rows(named=True)}
    assert got == EXPECTED_REASONS
    assert _docs(summary.run_dir).height == 2
    assert all(row["excerpt"] is not None and len(row["excerpt"]) <= 200 for row in rejects.iter_rows(named=True))
    assert "\\xff" in rejects.filter(pl.col("reason") == "ingest.invalid_utf8")["excerpt"][0]


def test_truncated_gzip_keeps_what_was_read_and_rejects_the_tail(tmp_path, run_recipe):
    data = gzip.compress(b"".join(orjson.dumps({"text": f"doc {i} " * 50}) + b"\n" for i in range(200)))
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    summary = run_recipe({"inputs": [{"path": "cut.jsonl.gz"}]})
    rejects = _rejects(summary.run_dir)
    assert rejects["reason"].to_list() == ["ingest.truncated_stream"]
    n_docs = _docs(summary.run_dir).height
    assert 0 < n_docs < 200
    assert rejects["line"][0] == n_docs + 1


def test_strict_names_file_line_and_field(tmp_path, run_recipe):
    write_jsonl(tmp_path / "messy.jsonl", _messy_lines())
    with pytest.raises(IngestError, match=r"messy\.jsonl:2: ingest\.malformed_json: \{not json$"):
        run_recipe({"inputs": [{"path": "messy.jsonl", "id_field": "id"}], "ingest": {"strict": True}})
    write_jsonl(tmp_path / "nofield.jsonl", [{"text": "fine"}, {"body": "x"}])
    with pytest.raises(IngestError, match=r"nofield\.jsonl:2: ingest\.missing_text field 'text'"):
        run_recipe({"inputs": [{"path": "nofield.jsonl"}], "ingest": {"strict": True}}, run_name="strict2")


def test_unicode_is_normalized_nfc_by_default_and_configurable(tmp_path, run_recipe):
    decomposed = "Cafe\u0301 au lait is served here."
    write_jsonl(tmp_path / "u.jsonl", [{"text": decomposed}])
    nfc = _docs(run_recipe({"inputs": [{"path": "u.jsonl"}]}, run_name="nfc").run_dir)["text"][0]
    raw = _docs(run_recipe({"inputs": [{"path": "u.jsonl"}], "ingest": {"unicode_normalization": "none"}}, run_name="raw").run_dir)["text"][0]
    assert nfc == "Caf\u00e9 au lait is served here."
    assert raw == decomposed


def test_doc_ids_are_stable_across_runs_and_worker_counts(tmp_path, corpus_file, run_recipe):
    spec = {"inputs": [{"path": "data/corpus.jsonl"}], "ingest": {"shard_docs": 30, "split_bytes": 20_000}}
    one = _docs(run_recipe(spec, workers=1, run_name="w1").run_dir)
    two = _docs(run_recipe(spec, workers=2, run_name="w2").run_dir)
    assert one.height == 200
    assert one.select("doc_id", "line", "byte_offset").equals(two.select("doc_id", "line", "byte_offset"))


def test_split_ranges_give_exact_line_numbers(tmp_path, corpus_file, run_recipe):
    summary = run_recipe({"inputs": [{"path": "data/corpus.jsonl"}], "ingest": {"split_bytes": 10_000}})
    docs = _docs(summary.run_dir).sort("line")
    with corpus_file.open("rb") as f:
        lines = f.read().split(b"\n")[:-1]
    assert docs["line"].to_list() == list(range(1, 201))
    assert [orjson.loads(lines[i])["text"] for i in range(200)] == docs["text"].to_list()
    with Catalog(summary.run_dir, read_only=True) as cat:
        assert cat.query("SELECT count(*) AS n FROM ingest_files")["n"][0] > 1


def test_missing_input_is_a_clear_error(run_recipe):
    with pytest.raises(IngestError, match="matches no file"):
        run_recipe({"inputs": [{"path": "nowhere/*.jsonl"}]})


def test_fsspec_urls_as_inputs(tmp_path, run_recipe):
    import fsspec

    write_jsonl(tmp_path / "remote" / "a.jsonl.gz", GOOD)
    local = run_recipe({"inputs": [{"path": "remote/*.jsonl.gz", "source": "s"}]}, run_name="local")
    url = run_recipe({"inputs": [{"path": f"file://{tmp_path}/remote/*.jsonl.gz", "source": "s"}]}, run_name="url")
    assert _docs(url.run_dir)["text"].to_list() == _docs(local.run_dir)["text"].to_list()
    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/part.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in GOOD))
    mem = run_recipe({"inputs": [{"path": "memory://bucket/*.jsonl", "id_field": "id"}]}, run_name="mem")
    assert _docs(mem.run_dir).height == len(GOOD)


def _nested(depth: int) -> dict:
    node: dict = {}
    for _ in range(depth):
        node = {"k": node}
    return node


def test_a_too_deep_record_is_a_reject_and_the_run_goes_on(tmp_path, run_recipe):
    lines = [orjson.dumps({"text": "first"}), b'{"text": "deep", "x": ' + orjson.dumps(_nested(253)) + b"}",
             b'{"text": "deeper", "x": ' + b'{"k": ' * 1100 + b"{}" + b"}" * 1101, orjson.dumps({"text": "last"})]
    write_jsonl(tmp_path / "deep.jsonl", lines)
    summary = run_recipe({"inputs": [{"path": "deep.jsonl"}]})
    assert _docs(summary.run_dir)["text"].to_list() == ["first", "last"]
    assert _rejects(summary.run_dir).select("line", "reason").rows() == [(2, "ingest.too_deep"), (3, "ingest.too_deep")]


def test_truncated_zstd_keeps_what_was_read_and_counts_the_cut(tmp_path, run_recipe):
    data = zstandard.ZstdCompressor().compress(b"".join(orjson.dumps({"text": f"doc {i} " * 50}) + b"\n" for i in range(2000)))
    cut = data[: len(data) // 2]
    (tmp_path / "cut.jsonl.zst").write_bytes(cut)
    prefix = zstandard.ZstdDecompressor().decompressobj().decompress(cut)  # independent of the ingest reader
    complete_lines = prefix.count(b"\n")
    summary = run_recipe({"inputs": [{"path": "cut.jsonl.zst"}]})
    rejects = _rejects(summary.run_dir)
    assert 0 < complete_lines < 2000
    assert _docs(summary.run_dir).height == complete_lines
    assert rejects.select("line", "reason").rows() == [(complete_lines + 1, "ingest.truncated_stream")]


def test_utf8_bom_is_stripped_from_every_format(tmp_path, run_recipe):
    bom = b"\xef\xbb\xbf"
    body = b'{"text": "first record"}\n{"text": "second record"}\n'
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_bytes(bom + body)
    (tmp_path / "in" / "b.jsonl.gz").write_bytes(gzip.compress(bom + body))
    (tmp_path / "in" / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(bom + body))
    (tmp_path / "in" / "d.txt").write_bytes(bom + "A note.".encode())
    summary = run_recipe({"inputs": [{"path": "in"}]})
    assert _rejects(summary.run_dir).height == 0
    assert sorted(_docs(summary.run_dir)["text"].to_list()) == ["A note."] + ["first record"] * 3 + ["second record"] * 3


def test_integer_ids_beyond_64_bits_stay_exact(tmp_path, run_recipe):
    ids = [2**64 + 1, 2**64 + 2, 2**70, 2**63 + 7]
    lines = [b'{"id": %d, "text": "doc %d", "ref": %d}' % (i, i, i) for i in ids]
    write_jsonl(tmp_path / "big.jsonl", lines)
    docs = _docs(run_recipe({"inputs": [{"path": "big.jsonl", "id_field": "id"}]}).run_dir)
    assert docs["source_id"].to_list() == [str(i) for i in ids]
    assert docs["doc_id"].n_unique() == len(ids)
    assert docs["meta"][0] == '{"id":%d,"ref":%d}' % (ids[0], ids[0])


def test_zero_width_only_text_is_empty(tmp_path, run_recipe):
    write_jsonl(tmp_path / "zw.jsonl", [{"text": "\u200b\u200c\u200d\u2060\ufeff \n"}, {"text": "visible\u200b"}])
    summary = run_recipe({"inputs": [{"path": "zw.jsonl"}]})
    assert _rejects(summary.run_dir).select("line", "reason").rows() == [(1, "ingest.empty_text")]
    assert _docs(summary.run_dir)["text"].to_list() == ["visible\u200b"]


def test_rejects_from_a_text_folder_name_the_file(tmp_path, run_recipe):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "good.txt").write_text("Fine.")
    (tmp_path / "notes" / "bad.txt").write_bytes(b"caf\xe9")
    summary = run_recipe({"inputs": [{"path": "notes"}]})
    rejects = _rejects(summary.run_dir)
    assert rejects["input_file"].to_list() == [str(tmp_path / "notes" / "bad.txt")]
    assert rejects["reason"].to_list() == ["ingest.invalid_utf8"]
    with pytest.raises(IngestError, match=r"notes/bad\.txt: ingest\.invalid_utf8"):
        run_recipe({"inputs": [{"path": "notes"}], "ingest": {"strict": True}}, run_name="strict")


def test_small_files_are_packed_into_fewer_shards_with_the_same_documents(tmp_path, run_recipe):
    for i in range(12):
        write_jsonl(tmp_path / "many" / f"f{i:02d}.jsonl.gz", [{"id": f"{i}-{j}", "text": f"file {i} doc {j} " * 20} for j in range(7)])
    spec = {"inputs": [{"path": "many/*.jsonl.gz", "id_field": "id", "source": "{file}"}]}
    packed = run_recipe({**spec, "ingest": {"pack_min_bytes": 1}}, run_name="packed").run_dir
    unpacked = run_recipe({**spec, "ingest": {"pack_bytes": 1}}, run_name="unpacked").run_dir
    assert len(list((packed / "docs").glob("part-*.parquet"))) == 8  # pack_min_jobs
    assert len(list((unpacked / "docs").glob("part-*.parquet"))) == 12
    columns = ["doc_id", "source", "input_file", "line", "byte_offset", "text"]
    assert _docs(packed).select(columns).equals(_docs(unpacked).select(columns))
    with Catalog(packed, read_only=True) as a, Catalog(unpacked, read_only=True) as b:
        files = "SELECT * EXCLUDE (wall_s) FROM ingest_files ORDER BY task"
        assert a.query(files).height == 12
        assert a.query(files).equals(b.query(files))


def test_pack_tasks_keeps_order_and_leaves_text_batches_alone(tmp_path):
    file_bytes = {}
    for i, size in enumerate([10, 10, 10, 50, 10, 10]):
        (tmp_path / f"f{i}.jsonl.gz").write_bytes(b"x" * size)
        file_bytes[str(tmp_path / f"f{i}.jsonl.gz")] = size
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("a note")
    inputs = [InputSpec(path="f*.jsonl.gz"), InputSpec(path="notes")]
    tasks = plan_tasks(inputs, IngestParams(), tmp_path)
    jobs = pack_tasks(tasks, IngestParams(pack_bytes=25, pack_min_jobs=1, pack_min_bytes=1), file_bytes)
    assert [[t.path.rsplit("/", 1)[-1] for t in job.tasks] for job in jobs] == [
        ["f0.jsonl.gz", "f1.jsonl.gz"], ["f2.jsonl.gz"], ["f3.jsonl.gz"], ["f4.jsonl.gz", "f5.jsonl.gz"], ["notes"]]
    assert [job.job_id for job in jobs] == ["00000", "00001", "00002", "00003", "00004"]
    # 6 groups of 100/6 bytes: byte midpoints 5, 15, 25, 55, 85, 95 fall in groups 0, 0, 1, 3, 5, 5
    assert [len(job.tasks) for job in pack_tasks(tasks, IngestParams(pack_min_jobs=6, pack_min_bytes=1), file_bytes)] == [2, 1, 1, 2, 1]
    # no job under pack_min_bytes: 100 bytes make 3 jobs of >= 30 bytes (midpoints 5, 15 | 25 | 55, 85, 95: groups 0, 0, 0, 1, 2, 2)
    assert [len(job.tasks) for job in pack_tasks(tasks, IngestParams(pack_min_bytes=30), file_bytes)] == [3, 1, 2, 1]
    assert [len(job.tasks) for job in pack_tasks(tasks, IngestParams(), file_bytes)] == [6, 1]  # 100 bytes: one job
