"""pii: planted e-mails and public IPs replaced (recall and precision 1 on the planted set), private
ranges and look-alikes untouched, phones only when asked, and a chain of two rewrite stages."""

from __future__ import annotations

import polars as pl

from curate.core.catalog import Catalog
from curate.stages.pii import Pii, PiiParams
from tests.conftest import write_jsonl
from tests.rewrite_planted import pii_pages, pii_scores


def _apply(texts: list[str], **params: object) -> pl.DataFrame:
    batch = pl.DataFrame({"doc_id": [str(i) for i in range(len(texts))], "text": texts})
    return Pii(PiiParams(**params)).apply(batch)  # type: ignore[arg-type]


def test_planted_pii_found_and_decoys_kept():
    pages = pii_pages(300, seed=5)
    out = _apply([p.text for p in pages])
    redacted = {p.doc_id: new or p.text for p, new in zip(pages, out["text"], strict=True)}
    scores = pii_scores(pages, redacted, int(out["pii_emails"].sum() + out["pii_ips"].sum()))
    assert sum(len(p.pii) for p in pages) > 200 and sum(len(p.decoys) for p in pages) > 100
    assert scores == {"pii_recall": 1.0, "pii_precision": 1.0, "decoys_kept_frac": 1.0}
    assert out.filter(pl.col("text").is_null())["pii_emails"].sum() == 0  # unchanged documents: null text, no count


def test_private_and_reserved_addresses_untouched():
    text = "lan 10.1.2.3, 192.168.0.1, 172.16.5.4, 127.0.0.1, 100.64.0.1, 169.254.1.1, 0.0.0.0, ::1, fe80::1, fd12::3, 2001:db8::7"
    out = _apply([text, "dns 8.8.8.8 and 2001:4860:4860::8888 and 256.1.1.1"])
    assert out["text"][0] is None and out["pii_ips"][0] == 0
    assert out["text"][1] == "dns <IP> and <IP> and 256.1.1.1" and out["pii_ips"][1] == 2


def test_phones_only_when_asked_and_placeholders_configurable():
    text = "Call +1 415-555-0132 or (030) 1234 5678, mail Ana.Li@example.org; order 12-34 ships"
    assert _apply([text])["text"][0] == "Call +1 415-555-0132 or (030) 1234 5678, mail <EMAIL>; order 12-34 ships"
    out = _apply([text], phones=True, email_placeholder="[mail]", phone_placeholder="[tel]")
    assert out["text"][0] == "Call [tel] or [tel], mail [mail]; order 12-34 ships"
    assert out.select("pii_emails", "pii_ips", "pii_phones").row(0) == (1, 0, 2)


def test_two_rewrite_stages_chain(tmp_path, run_recipe):
    """documents shows pii's version where it changed a text, else line_dedup's, else the original."""
    nav = "Home | Shop | Contact"
    records = [{"id": f"d{i}", "text": f"{nav}\nPage about topic {'abcdef'[i]} here"} for i in range(6)]
    records += [{"id": "mail", "text": f"{nav}\nWrite to ana@example.org"}, {"id": "plain", "text": "Nothing shared or private"}]
    write_jsonl(tmp_path / "c.jsonl", records)
    run = run_recipe({"inputs": [{"path": "c.jsonl", "id_field": "id"}],
                      "stages": [{"stage": "line_dedup", "max_docs": 3}, {"stage": "pii"}, {"stage": "length_filter", "min_chars": 10}]})
    with Catalog(run.run_dir, read_only=True) as cat:
        texts = dict(cat.query("SELECT source_id, text FROM documents").iter_rows())
        versions = cat.query("SELECT d.source_id, r.stage FROM rewrites r JOIN documents d USING (doc_id) ORDER BY 1, 2").rows()
        kept = cat.query("SELECT source_id FROM kept_documents ORDER BY 1")["source_id"].to_list()
        signals = {r[0]: r[1:] for r in cat.query("SELECT source_id, pii_emails, n_chars FROM doc_signals").iter_rows()}
    assert texts["mail"] == "Write to <EMAIL>" and texts["d0"] == "Page about topic a here" and texts["plain"] == "Nothing shared or private"
    assert ("mail", "line_dedup") in versions and ("mail", "pii") in versions and ("plain", "pii") not in versions
    assert "mail" in kept and signals["mail"] == (1, len("Write to <EMAIL>"))  # length_filter measured the newest text
