"""url stage: host and registered domain from the bundled suffix list, block/allow lists from files, no network."""

from __future__ import annotations

import socket

import orjson
import polars as pl
import pytest

from curate.pipeline.recipe import RecipeError, parse_recipe
from curate.stages.url import Url, UrlParams
from reports import query
from tests.warcs import page_records, write_warc

URLS = [
    "https://news.example.co.uk/story/1",      # registered domain example.co.uk
    "https://ads.tracker.com/banner?id=3",     # blocked by domain file (subdomain of tracker.com)
    "http://shop.example.org/casino-bonus",    # blocked by substring
    "https://good.tracker.com/docs",           # allowed exception under a blocked domain
    "ftp://files.example.net/x",               # not http(s): no host
    None,                                      # no url at all
]


def _batch() -> pl.DataFrame:
    meta = [orjson.dumps({"url": u, "n": i}).decode() for i, u in enumerate(URLS)]
    return pl.DataFrame({"doc_id": [f"d{i}" for i in range(len(URLS))], "text": ["t"] * len(URLS), "meta": meta})


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt is refused and recorded (tldextract would swallow the error and fall back)."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)  # a fetch resolves the host first
    yield
    assert attempts == [], "the url stage tried to open a network connection"


def test_parses_hosts_and_applies_block_and_allow_lists(tmp_path, no_network):
    (tmp_path / "block.txt").write_text("# ad networks\ntracker.com\n\n*.spam.example\n")
    (tmp_path / "words.txt").write_text("Casino\n")
    (tmp_path / "allow.txt").write_text("good.tracker.com  # a false positive\n")
    stage = Url(UrlParams(block_domains_files=[str(tmp_path / "block.txt")], block_substrings_files=[str(tmp_path / "words.txt")],
                          allow_domains_files=[str(tmp_path / "allow.txt")]))
    stage.setup()
    out = stage.conform(stage.apply(_batch()))
    assert out["url_host"].to_list() == ["news.example.co.uk", "ads.tracker.com", "shop.example.org", "good.tracker.com", None, None]
    assert out["url_domain"].to_list() == ["example.co.uk", "tracker.com", "example.org", "tracker.com", None, None]
    assert out["url_suffix"][0] == "co.uk"
    assert out["url_blocked_by"].to_list() == [None, "domain:tracker.com", "substring:casino", None, None, None]
    assert out["drop_reason"].to_list() == [None, "url.blocked_domain", "url.blocked_substring", None, None, None]


def test_substrings_keep_their_dots():
    urls = Url(UrlParams(block_substrings=[".EXE"])).apply(_batch().with_columns(
        meta=pl.Series(['{"url": "https://a.com/setup.exe"}', '{"url": "https://exe.com/"}'] + ['{}'] * 4)))
    assert urls["url_blocked_by"].to_list()[:2] == ["substring:.exe", None]


def test_signals_only_allowlist_mode_and_missing_urls():
    signals = Url(UrlParams(block_domains=["tracker.com"], drop=False)).apply(_batch())
    assert signals["url_blocked_by"][1] == "domain:tracker.com" and signals["drop_reason"].null_count() == len(URLS)
    only = Url(UrlParams(allow_domains=["example.co.uk"], only_allowed=True, drop_missing=True)).apply(_batch())
    assert only["drop_reason"].to_list() == [None, "url.not_allowed", "url.not_allowed", "url.not_allowed", "url.missing", "url.missing"]


def test_list_files_are_checked_at_load_and_their_contents_fingerprinted(tmp_path):
    with pytest.raises(RecipeError, match="list file not found"):
        parse_recipe({"name": "x", "inputs": [{"path": "a"}], "stages": [{"stage": "url", "block_domains_files": ["nope.txt"]}]})
    lst = tmp_path / "b.txt"
    lst.write_text("a.com\n")
    before = UrlParams(block_domains_files=[str(lst)]).lists_sha256
    lst.write_text("a.com\nb.com\n")
    assert UrlParams(block_domains_files=[str(lst)]).lists_sha256 != before


def test_url_stage_on_a_warc_run_and_its_report(tmp_path, run_recipe, no_network):
    pages = [(f"https://{host}/p{i}", f"<html><body><p>Page {i} on {host} has a paragraph of text.</p></body></html>")
             for i, host in enumerate(["a.blog.example.com", "b.blog.example.com", "x.blocked.org", "a.blog.example.com"])]
    write_warc(tmp_path / "crawl" / "c.warc.gz", page_records(pages))
    summary = run_recipe({"inputs": [{"path": "crawl"}], "stages": [{"stage": "url", "block_domains": ["blocked.org"]}]})
    report = query(summary.run_dir, "url_domains")
    rows = {r["domain"]: r for r in report.iter_rows(named=True)}
    assert rows["example.com"]["docs"] == 3 and rows["example.com"]["hosts"] == 2 and rows["example.com"]["dropped_by_url"] == 0
    assert rows["blocked.org"]["dropped_by_url"] == 1 and rows["blocked.org"]["blocked_by"] == "domain:blocked.org"
    assert summary.n_kept == 3
