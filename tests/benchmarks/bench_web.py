"""The web recipe on one WARC: extraction speed against datatrove, boilerplate and PII removal, funnel.

The WARC is built here with FastWARC's writer from real HTML found on this machine (Python's HTML docs
when installed, every ``*.html`` under /usr/share/doc) plus generated pages (tests/warcs.py): articles
inside navigation, cookie banner and footer, and pages of :mod:`tests.rewrite_planted` text whose
article holds planted boilerplate lines or planted e-mails, public IPs and decoys; as request + response
pairs and a few non-HTML responses, one gzip member per record.

Each side runs in its own fresh process on one core, and its CPU seconds are measured around the work
only (``getrusage`` of the process and its reaped children: datatrove extracts in a forked sandbox
subprocess); both import their extractor before the timer (datatrove's sandbox gives a worker 1 s to
start: one that imports trafilatura itself on a loaded machine times out on every page). Sides:

- ours: ``curate run`` of an ingest-only recipe (FastWARC, Resiliparse main content by default; also
  with ``extractor: trafilatura``), which also writes the docs shards and the catalog;
  trafilatura (both sides) runs on an evenly spaced sample of the pages, it is ~15x slower;
- datatrove, in its own venv (``--datatrove-python``, else created at ``--datatrove-venv`` with
  ``pip install datatrove 'xxhash<4' warcio trafilatura lxml_html_clean faust-cchardet python-magic resiliparse``):
  ``WarcReader`` (warcio) + ``Trafilatura`` (its default extractor, 1 s timeout per page), and the same
  reader with a Resiliparse extractor (same call as ours) so the fast extractors are compared like for like.

Then ``curate/recipes/web.yaml`` (WARC -> extraction -> url -> langid -> line_dedup -> rules -> MinHash ->
pii) runs on the whole WARC: ``boilerplate_lines_removed_frac`` is the share of the planted boilerplate
lines that extraction kept and the rewritten text lost (on the pages that reached line_dedup),
``pii_recall`` / ``pii_precision`` those of the planted e-mails and public IPs (on the pages that reached
pii; a replaced decoy counts against precision), scored by :func:`tests.rewrite_planted.recipe_scores`.
``pii_ratio_vs_datatrove``: the pii stage's ``apply`` against datatrove's ``PIIFormatter`` on the same
planted texts (wall seconds of the work, each in its own process), with datatrove's recall/precision.

``rejects_accounted`` is 1 when, on this WARC and on a damaged copy (one corrupt gzip member, the last
record cut short), documents + rejects = records written, and the web recipe's kept + dropped + rejects
= records.

    python tests/benchmarks/bench_web.py --quick      # < 3 minutes
    python tests/benchmarks/bench_web.py --smoke      # seconds, no datatrove: the test suite runs it
    python tests/benchmarks/bench_web.py --funnel     # also the web recipe's funnel on the real pages only

Last line: JSON with warc_records, docs_per_cpu_s, ratio_vs_datatrove (ours/datatrove docs per CPU s,
each side with its default extractor), ratio_same_extractor_*, rejects_accounted,
boilerplate_lines_removed_frac, pii_recall, pii_precision and pii_ratio_vs_datatrove.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script from any folder

from tests.rewrite_planted import Page, pii_pages, pii_scores, recipe_scores  # noqa: E402
from tests.warcs import Record, generated_pages, page_records, planted_pages, warc_bytes  # noqa: E402

WEB_RECIPE = Path(__file__).resolve().parents[2] / "curate" / "recipes" / "web.yaml"
SIZES = {  # real pages, generated pages, trafilatura sample, planted boilerplate pages, planted PII pages, PII speed texts
    "smoke": (4, 10, 0, 30, 20, 200),
    "quick": (200, 2000, 300, 300, 200, 5000),
    "full": (800, 4000, 600, 600, 400, 20000),
}

HTML_ROOTS = [Path(p) for p in sorted(__import__("glob").glob("/usr/share/doc/python3*/html"))] + [Path("/usr/share/doc")]
DATATROVE_PACKAGES = ["datatrove", "xxhash<4", "warcio", "trafilatura", "lxml_html_clean", "faust-cchardet", "python-magic", "resiliparse"]
DATATROVE_SCRIPT = r'''
import json, resource, sys, time
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import BaseExtractor

class Resiliparse(BaseExtractor):
    name = "resiliparse"
    def __init__(self, timeout: float = 1):
        super().__init__(timeout)
    def extract(self, text):
        from resiliparse.extract.html2text import extract_plain_text
        return extract_plain_text(text, preserve_formatting=True, main_content=True, list_bullets=False,
                                  alt_texts=False, links=False, form_fields=False, noscript=False)

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

folder, extractor = sys.argv[1], sys.argv[2]
__import__("trafilatura" if extractor == "trafilatura" else "resiliparse.extract.html2text")  # forked workers inherit it
c0, t0 = cpu(), time.perf_counter()
read = [0]
def counted(docs):
    for doc in docs:
        read[0] += 1
        yield doc
step = Trafilatura() if extractor == "trafilatura" else Resiliparse()
out = sum(1 for doc in step.run(counted(WarcReader(folder, glob_pattern="*.warc.gz").run())) if doc.text)
print(json.dumps({"cpu_s": cpu() - c0, "wall_s": time.perf_counter() - t0, "n_read": read[0], "n_docs": out}))
'''
DATATROVE_PII = r'''
import json, sys, time
from datatrove.pipeline.formatters import PIIFormatter
texts = json.load(open(sys.argv[1]))
fmt = PIIFormatter(email_replacement="<EMAIL>", ip_replacement="<IP>")
start = time.perf_counter(); out = [fmt.format(t) for t in texts]; wall = time.perf_counter() - start
print(json.dumps({"texts": out, "wall_s": wall}))
'''


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def real_pages(limit: int, max_bytes: int = 400_000) -> list[tuple[str, str]]:
    """(url, html) of up to ``limit`` HTML files on this machine, spread over the roots (sorted, deterministic)."""
    seen, found = set(), []
    for root in HTML_ROOTS:
        for path in sorted(root.rglob("*.htm*")):
            real = path.resolve()
            if real in seen or not path.is_file() or path.stat().st_size > max_bytes:
                continue
            seen.add(real)
            parts = path.relative_to(root).parts
            site, rest = (parts[0], parts[1:]) if root == Path("/usr/share/doc") else (root.parent.name, parts)
            found.append((f"https://{site.replace('_', '-').lower()}.docs.example/{'/'.join(rest)}",
                          path.read_text(encoding="utf-8", errors="replace")))
    step = max(1, len(found) // max(limit, 1))
    return found[::step][:limit]


def build_warc(folder: Path, n_real: int, n_generated: int, n_sample: int, n_boilerplate: int, n_pii: int) -> tuple[dict[str, int], dict[str, Page]]:
    """The benchmark WARC, a damaged copy, a sample of ``n_sample`` pages (for the slow extractor) and the
    real pages alone, each in its own folder; their sizes and the planted pages by URL."""
    planted_html, planted = planted_pages(n_boilerplate, n_pii, seed=11)
    pages = real_pages(n_real) + generated_pages(n_generated, seed=11) + planted_html
    images = [Record("response", f"https://img.example.com/{i}.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png") for i in range(10)]
    records = page_records(pages) + images
    data, offsets = warc_bytes(records, gzip=True)
    real = [page for page in pages if ".docs.example/" in page[0]]
    for name, content in [("warc", data), ("sample", warc_bytes(page_records(pages[:: max(1, len(pages) // max(n_sample, 1))]), gzip=True)[0]),
                          ("real", warc_bytes(page_records(real), gzip=True)[0])]:
        (folder / name).mkdir(parents=True)
        (folder / name / "crawl.warc.gz").write_bytes(content)
    damaged = bytearray(data)
    damaged[offsets[5] + 40 : offsets[5] + 90] = b"X" * 50
    (folder / "damaged").mkdir()
    (folder / "damaged" / "crawl.warc.gz").write_bytes(bytes(damaged[: offsets[-1] + (len(data) - offsets[-1]) // 2]))
    return {"records": len(records), "pages": len(pages), "real_pages": len(real), "warc_bytes": len(data),
            "real_html_bytes": sum(len(html.encode()) for _, html in real)}, planted


def run_ours(folder: Path, extractor: str, work: Path) -> dict[str, float]:
    """Our ingest of ``folder`` in a fresh process (this script with --ours)."""
    return _json_of([sys.executable, __file__, "--ours", str(folder), extractor, str(work)])


def ours_main(folder: str, extractor: str, work: str) -> None:
    from curate.core.catalog import Catalog
    from curate.pipeline.recipe import parse_recipe
    from curate.pipeline.runner import RecipeRunner

    recipe = parse_recipe({"name": f"bench-{extractor}", "inputs": [{"path": folder, "source": "web"}],
                           "ingest": {"web": {"extractor": extractor}}})
    run_dir = Path(work) / f"run-{extractor}-{Path(folder).name}"
    __import__("trafilatura" if extractor == "trafilatura" else "resiliparse.extract.html2text")  # as datatrove's side
    c0, t0 = cpu_seconds(), time.perf_counter()
    RecipeRunner(recipe, Path(work), run_dir, workers=1, progress=False).run()
    cpu, wall = cpu_seconds() - c0, time.perf_counter() - t0
    with Catalog(run_dir, read_only=True) as cat:
        n_docs = cat.execute("SELECT count(*) FROM documents")[0][0]
        n_rejects = cat.execute("SELECT count(*) FROM rejects")[0][0]
        n_records = cat.execute("SELECT sum(n_records) FROM ingest_files")[0][0]
        n_html = cat.execute("SELECT count(*) FROM rejects WHERE reason NOT LIKE 'ingest.warc_skipped%'")[0][0] + n_docs
    print(json.dumps({"cpu_s": cpu, "wall_s": wall, "n_docs": n_docs, "n_rejects": n_rejects, "n_records": n_records,
                      "n_read": n_html}))


def datatrove_python(args: argparse.Namespace) -> str:
    """The datatrove venv's python: given, or created once at --datatrove-venv."""
    if args.datatrove_python:
        return args.datatrove_python
    venv = Path(args.datatrove_venv)
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating datatrove's venv at {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DATATROVE_PACKAGES], check=True)
    return str(python)


def run_datatrove(python: str, folder: Path, extractor: str) -> dict[str, float]:
    return _json_of([python, "-c", DATATROVE_SCRIPT, str(folder), extractor])


def _json_of(command: list[str]) -> dict[str, float]:
    """The last stdout line of ``command`` as JSON; its stderr shown when it fails."""
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{command[0]} {command[1]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def web_recipe(folder: Path, work: Path, name: str) -> tuple[Path, int]:
    """curate/recipes/web.yaml on the WARC in ``folder``: its run folder and kept + dropped + rejects."""
    from curate.core.catalog import Catalog
    from curate.pipeline.recipe import parse_recipe
    from curate.pipeline.runner import RecipeRunner

    data = yaml.safe_load(WEB_RECIPE.read_text())
    data["inputs"][0]["path"] = str(folder)
    summary = RecipeRunner(parse_recipe(data), work, work / name, workers=1, progress=False).run()
    with Catalog(summary.run_dir, read_only=True) as cat:
        counted = sum(cat.execute(f"SELECT count(*) FROM {table}")[0][0] for table in ("kept_documents", "decisions", "rejects"))
    return summary.run_dir, counted


def print_funnel(run_dir: Path, source: str) -> None:
    """What each step of the web recipe removed: the funnel, text bytes, boilerplate lines and PII replaced."""
    from curate.core.catalog import Catalog
    from reports import query

    with Catalog(run_dir, read_only=True) as cat:
        text_bytes, lines, line_bytes, at_dedup = cat.execute(
            "SELECT sum(n_bytes), sum(line_dedup_lines_removed), sum(line_dedup_bytes_removed), count(line_dedup_lines_removed) FROM doc_signals")[0]
        original_bytes = cat.execute("SELECT sum(n_bytes) FROM original_documents")[0][0]
        emails, ips, with_pii = cat.execute("SELECT sum(pii_emails), sum(pii_ips), count_if(pii_emails + pii_ips > 0) FROM doc_signals")[0]
        changed = cat.execute("SELECT count(*) FROM rewrites WHERE stage = 'line_dedup'")[0][0]
    print(f"{source} -> {(original_bytes or 0) / 1e6:.1f} MB of extracted text -> {(text_bytes or 0) / 1e6:.1f} MB after the rewrites", file=sys.stderr)
    for row in query(run_dir, "funnel").iter_rows(named=True):
        print(f"{row['stage']:>14} in {row['docs_in']:>6} kept {row['kept']:>6}  {row['drop_reasons']}", file=sys.stderr)
    print(f"line_dedup: {lines or 0} lines, {(line_bytes or 0) / 1e6:.2f} MB removed from {changed} of {at_dedup} documents;"
          f" pii: {emails or 0} e-mails, {ips or 0} public IPs in {with_pii} documents", file=sys.stderr)


def pii_vs_datatrove(python: str | None, n: int, work: Path) -> dict[str, float]:
    """The pii stage against datatrove's PIIFormatter on ``n`` planted texts: docs/s, ratio, datatrove's scores."""
    import polars as pl

    from curate.stages.pii import Pii, PiiParams

    planted = pii_pages(n, seed=2)
    texts = [p.text for p in planted]
    start = time.perf_counter()
    Pii(PiiParams()).apply(pl.DataFrame({"doc_id": [p.doc_id for p in planted], "text": texts}))
    ours_s = time.perf_counter() - start
    result = {"pii_docs_per_s": round(n / ours_s)}
    if python is None:
        return result
    (work / "pii_in.json").write_text(json.dumps(texts))
    peer = _json_of([python, "-c", DATATROVE_PII, str(work / "pii_in.json")])
    redacted = {p.doc_id: t for p, t in zip(planted, peer["texts"], strict=True)}
    replaced = sum(t.count("<EMAIL>") + t.count("<IP>") for t in peer["texts"])
    scores = pii_scores(planted, redacted, replaced)
    return result | {"datatrove_pii_docs_per_s": round(n / peer["wall_s"]), "pii_ratio_vs_datatrove": round(peer["wall_s"] / ours_s, 2),
                     "datatrove_pii_recall": round(scores["pii_recall"], 4), "datatrove_pii_precision": round(scores["pii_precision"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 real + 2,000 generated + 500 planted pages, 300 for trafilatura (< 3 minutes)")
    parser.add_argument("--smoke", action="store_true", help="a handful of pages, no datatrove, no trafilatura: seconds (the test suite)")
    parser.add_argument("--datatrove-python", help="python of a venv with datatrove installed")
    parser.add_argument("--datatrove-venv", default=os.path.join(tempfile.gettempdir(), "dt-venv"), help="where to create it if missing")
    parser.add_argument("--funnel", action="store_true", help="also run curate/recipes/web.yaml on the real pages alone and print its funnel")
    parser.add_argument("--ours", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours:
        return ours_main(*args.ours)
    n_real, n_generated, n_sample, n_boilerplate, n_pii, n_pii_texts = SIZES["smoke" if args.smoke else "quick" if args.quick else "full"]
    python = None if args.smoke else datatrove_python(args)
    sides = [("ours", "resiliparse")] if args.smoke else [
        ("ours", "resiliparse"), ("datatrove", "resiliparse"), ("ours", "trafilatura"), ("datatrove", "trafilatura")]
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        work = Path(tmp)
        sizes, planted = build_warc(work, n_real, n_generated, n_sample, n_boilerplate, n_pii)
        print(f"WARC: {sizes['records']} records, {sizes['pages']} pages ({sizes['real_pages']} real, {len(planted)} planted),"
              f" {sizes['warc_bytes'] / 1e6:.1f} MB", file=sys.stderr)
        results = {}
        for side, extractor in sides:
            warc = work / ("warc" if extractor == "resiliparse" else "sample")
            r = run_ours(warc, extractor, work) if side == "ours" else run_datatrove(python, warc, extractor)
            r["docs_per_cpu_s"] = r["n_read"] / r["cpu_s"]
            results[(side, extractor)] = r
            print(f"{side:>10} {extractor:>12}: {r['n_read']} pages read, {r['n_docs']} with text, {r['cpu_s']:.1f} CPU s,"
                  f" {r['docs_per_cpu_s']:.1f} pages/CPU s", file=sys.stderr)
        damaged = run_ours(work / "damaged", "resiliparse", work)
        clean = results[("ours", "resiliparse")]
        start = time.perf_counter()
        run_dir, counted = web_recipe(work / "warc", work, "web-recipe")
        print(f"web recipe on the WARC: {time.perf_counter() - start:.1f} s", file=sys.stderr)
        print_funnel(run_dir, f"{sizes['warc_bytes'] / 1e6:.1f} MB of WARC (gzip)")
        scores = recipe_scores(run_dir, planted)
        accounted = counted == sizes["records"] and all(r["n_docs"] + r["n_rejects"] == r["n_records"] == sizes["records"] for r in (clean, damaged))
        pii_speed = pii_vs_datatrove(python, n_pii_texts, work)
        if args.funnel:
            print("the web recipe on the real pages alone:", file=sys.stderr)
            print_funnel(web_recipe(work / "real", work, "web-recipe-real")[0], f"{sizes['real_html_bytes'] / 1e6:.1f} MB of HTML")

    def ratio(extractor_ours: str, extractor_dt: str) -> float | None:
        if ("datatrove", extractor_dt) not in results:
            return None
        return round(results[("ours", extractor_ours)]["docs_per_cpu_s"] / results[("datatrove", extractor_dt)]["docs_per_cpu_s"], 2)

    print(json.dumps({
        "warc_records": sizes["records"],
        "html_pages": sizes["pages"],
        "real_pages": sizes["real_pages"],
        "docs_per_cpu_s": round(clean["docs_per_cpu_s"], 1),
        "ratio_vs_datatrove": ratio("resiliparse", "trafilatura"),
        "ratio_same_extractor_resiliparse": ratio("resiliparse", "resiliparse"),
        "ratio_same_extractor_trafilatura": ratio("trafilatura", "trafilatura"),
        "extractors": "ours: resiliparse (default) | datatrove: trafilatura (its default); same_extractor ratios pair like with like",
        "rejects_accounted": int(accounted),
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()},
        **pii_speed,
        "note": "pages/CPU s = HTML pages read per CPU second (process + reaped children), one core each; boilerplate and PII"
                " scores: curate/recipes/web.yaml on the whole WARC, on the planted pages that reached line_dedup / pii",
    }))


if __name__ == "__main__":
    main()
