"""A run whose inputs and shards live in an S3 bucket (a moto server on loopback, read and written through
s3fs) gives the same catalog as a local run, and the catalog, mixtures and reports read its Parquet by URL."""

from __future__ import annotations

import logging
import urllib.request
from importlib import resources

import fsspec
import pytest
import yaml

from curate.core.catalog import Catalog
from curate.mix.emit import MixtureSpec, emit
from curate.pipeline.recipe import parse_recipe
from curate.pipeline.runner import RecipeRunner
from tests.conftest import write_jsonl
from tests.corpus import make_corpus, to_records
from tests.rewrite_planted import boilerplate_pages, pii_pages
from tests.snapshot import assert_same_catalog

s3fs = pytest.importorskip("s3fs", reason="s3fs is not installed (pip install 'mixlab[s3]')")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (test extra)")

BUCKET = "mixlab-test"


@pytest.fixture
def bucket(monkeypatch):
    """An empty S3 bucket on a local moto server; worker processes find it through the environment."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's access log
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "FSSPEC_S3_ENDPOINT_URL": endpoint}  # fsspec's own config variable: read by spawned workers at import
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})  # this process imported fsspec already
    s3fs.S3FileSystem.clear_instance_cache()
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()  # moto's state is per process
    fs = fsspec.filesystem("s3")
    fs.mkdir(BUCKET)
    yield fs
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def _demo_recipe_on(corpus_glob: str) -> dict:
    recipe = yaml.safe_load((resources.files("curate") / "recipes" / "demo.yaml").read_text())
    recipe["inputs"] = [{"path": corpus_glob, "id_field": "id", "source": "{file}"}]
    recipe["ingest"] = {**recipe.get("ingest", {}), "shard_docs": 40}
    return {**recipe, "name": "test"}


# One end-to-end run per path in the fast suite: Ray has its own (test_executor_ray), so Ray over a bucket is slow.
@pytest.mark.parametrize("executor", ["local", pytest.param("ray", marks=pytest.mark.slow)])
def test_run_with_inputs_and_shards_in_a_bucket_matches_a_local_run(tmp_path, bucket, run_recipe, executor, monkeypatch):
    if executor == "ray":
        pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'mixlab[ray]')")
    docs = make_corpus(240, seed=5)
    for domain in ("cooking", "software", "law"):
        path = write_jsonl(tmp_path / "data" / f"{domain}.jsonl", to_records([d for d in docs if d.domain == domain]))
        bucket.put_file(str(path), f"{BUCKET}/corpus/{domain}.jsonl")
    local = run_recipe(_demo_recipe_on("data/*.jsonl"), workers=1, run_name="local")
    data = f"s3://{BUCKET}/runs/demo"
    monkeypatch.setenv("MIXLAB_FANOUT", "always")  # workers read and write the bucket
    remote = RecipeRunner(parse_recipe(_demo_recipe_on(f"s3://{BUCKET}/corpus/*.jsonl")), tmp_path, tmp_path / "remote",
                          workers=2, progress=False, executor=executor, data=data).run()

    assert remote.n_docs == local.n_docs > 0 and remote.n_kept == local.n_kept
    assert bucket.glob(f"{BUCKET}/runs/demo/docs/part-*.parquet")
    assert bucket.glob(f"{BUCKET}/runs/demo/stages/minhash_dedup/part-*.parquet")
    assert bucket.exists(f"{BUCKET}/runs/demo/stages/topics/model/topic_model.joblib")
    assert not list((tmp_path / "remote").rglob("part-*.parquet"))  # the run folder holds the catalog, not the shards
    assert_same_catalog(local.run_dir, remote.run_dir, ignore=frozenset({"fingerprint"}))  # fingerprints hash input URLs

    again = RecipeRunner(parse_recipe(_demo_recipe_on(f"s3://{BUCKET}/corpus/*.jsonl")), tmp_path, tmp_path / "remote",
                         workers=1, progress=False).run()  # the data root is recorded: resume needs no --data
    assert again.stages_run == [] and again.n_kept == local.n_kept

    with Catalog(tmp_path / "remote", read_only=True) as cat:  # a fresh connection reads the views by URL
        assert str(cat.data_root) == data
        funnel = cat.report("funnel")
        assert funnel.height > 0
    spec = MixtureSpec(name="m", group_by="source", strategy="uniform", token_budget=5_000, seed=1, shard_docs=50)
    with Catalog(tmp_path / "remote") as cat:
        manifest = emit(cat, spec, diversity_sample=None)
    with Catalog(tmp_path / "local") as cat:
        assert emit(cat, spec, diversity_sample=None)["shards"] == manifest["shards"]  # same bytes, same hashes


def test_a_run_folder_keeps_the_data_root_it_was_created_with(tmp_path, bucket):
    with Catalog(tmp_path / "run", data=f"s3://{BUCKET}/a"):
        pass
    with pytest.raises(ValueError, match=f"keeps its data at s3://{BUCKET}/a"):
        Catalog(tmp_path / "run", data=f"s3://{BUCKET}/b")


@pytest.mark.slow
def test_rewrite_stages_with_shards_in_a_bucket_match_a_local_run(tmp_path, bucket, run_recipe):
    """line_dedup (DuckDB's frequent-lines file uploaded, text parts in the bucket) and pii on an S3 data root."""
    pages = boilerplate_pages(60, seed=1) + pii_pages(30, seed=2)
    write_jsonl(tmp_path / "pages.jsonl", [{"id": p.doc_id, "text": p.text} for p in pages])
    recipe = {"inputs": [{"path": "pages.jsonl", "id_field": "id"}], "ingest": {"shard_docs": 30},
              "stages": [{"stage": "line_dedup", "max_docs": 5}, {"stage": "pii"}]}
    local = run_recipe(recipe, run_name="local")
    remote = RecipeRunner(parse_recipe({"name": "test", **recipe}), tmp_path, tmp_path / "remote", workers=1, progress=False,
                          data=f"s3://{BUCKET}/runs/rw").run()
    assert bucket.exists(f"{BUCKET}/runs/rw/stages/line_dedup/frequent.parquet")
    assert bucket.glob(f"{BUCKET}/runs/rw/stages/pii/text/part-*.parquet")
    assert_same_catalog(local.run_dir, remote.run_dir, ignore=frozenset({"fingerprint"}))
    with Catalog(tmp_path / "remote", read_only=True) as cat, Catalog(local.run_dir, read_only=True) as ref:
        query = "SELECT doc_id, text FROM documents ORDER BY doc_id"
        assert cat.query(query).equals(ref.query(query))
        assert cat.query("SELECT count(*) AS n FROM rewrites")["n"][0] > 60
