"""WARC -> extracted text: mixlab's ingest against datatrove's WarcReader + extractor, on one WARC, same run.

The WARC is built here with FastWARC's writer from real HTML found on this machine (Python's HTML docs
when installed, every ``*.html`` under /usr/share/doc) plus generated pages with planted boilerplate
(tests/warcs.py), as request + response pairs and a few non-HTML responses, one gzip member per record.

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

``rejects_accounted`` is 1 when, on this WARC and on a damaged copy (one corrupt gzip member, the last
record cut short), documents + rejects = records written.

    python tests/benchmarks/bench_web.py --quick      # < 3 minutes
    python tests/benchmarks/bench_web.py --funnel     # also run curate/recipes/web.yaml on the real pages

Last line: JSON with warc_records, docs_per_cpu_s, ratio_vs_datatrove (ours/datatrove docs per CPU s,
each side with its default extractor), ratio_same_extractor_* and rejects_accounted.
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

from tests.warcs import Record, generated_pages, page_records, warc_bytes  # noqa: E402

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


def build_warc(folder: Path, n_real: int, n_generated: int, n_sample: int) -> dict[str, int]:
    """The benchmark WARC, a damaged copy and a sample of ``n_sample`` pages (for the slow extractor), each in
    its own folder; their sizes."""
    pages = real_pages(n_real) + generated_pages(n_generated, seed=11)
    images = [Record("response", f"https://img.example.com/{i}.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png") for i in range(10)]
    records = page_records(pages) + images
    data, offsets = warc_bytes(records, gzip=True)
    real = [page for page in pages if ".docs.example/" in page[0]]
    for name, content in [("warc", data), ("sample", warc_bytes(page_records(pages[:: max(1, len(pages) // n_sample)]), gzip=True)[0]),
                          ("real", warc_bytes(page_records(real), gzip=True)[0])]:
        (folder / name).mkdir(parents=True)
        (folder / name / "crawl.warc.gz").write_bytes(content)
    damaged = bytearray(data)
    damaged[offsets[5] + 40 : offsets[5] + 90] = b"X" * 50
    (folder / "damaged").mkdir()
    (folder / "damaged" / "crawl.warc.gz").write_bytes(bytes(damaged[: offsets[-1] + (len(data) - offsets[-1]) // 2]))
    return {"records": len(records), "pages": len(pages), "real_pages": len(real), "warc_bytes": len(data),
            "real_html_bytes": sum(len(html.encode()) for _, html in real)}


def run_ours(folder: Path, extractor: str, work: Path) -> dict[str, float]:
    """Our ingest of ``folder`` in a fresh process (this script with --ours)."""
    return _json_of([sys.executable, __file__, "--ours", str(folder), extractor, str(work)])


def ours_main(folder: str, extractor: str, work: str) -> None:
    from curate.catalog import Catalog
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


def funnel(folder: Path, work: Path, html_bytes: int) -> None:
    """curate/recipes/web.yaml on the WARC of the real pages only: what each step removed."""
    from curate.catalog import Catalog
    from curate.pipeline.recipe import parse_recipe
    from curate.pipeline.runner import RecipeRunner
    from reports import query

    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "curate" / "recipes" / "web.yaml").read_text())
    data["inputs"][0]["path"] = str(folder)
    summary = RecipeRunner(parse_recipe(data), work, work / "web-recipe", workers=1, progress=False).run()
    with Catalog(summary.run_dir, read_only=True) as cat:
        text_bytes = cat.execute("SELECT sum(n_bytes) FROM documents")[0][0] or 0
    print(f"real pages: {html_bytes / 1e6:.1f} MB of HTML -> {text_bytes / 1e6:.1f} MB of extracted text", file=sys.stderr)
    for row in query(summary.run_dir, "funnel").iter_rows(named=True):
        print(f"{row['stage']:>14} in {row['docs_in']:>6} kept {row['kept']:>6}  {row['drop_reasons']}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 real + 2000 generated pages, 300 of them for trafilatura (< 3 minutes)")
    parser.add_argument("--datatrove-python", help="python of a venv with datatrove installed")
    parser.add_argument("--datatrove-venv", default=os.path.join(tempfile.gettempdir(), "dt-venv"), help="where to create it if missing")
    parser.add_argument("--funnel", action="store_true", help="also run curate/recipes/web.yaml on the WARC and print its funnel")
    parser.add_argument("--ours", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours:
        return ours_main(*args.ours)
    n_real, n_generated, n_sample = (200, 2000, 300) if args.quick else (800, 4000, 600)
    python = datatrove_python(args)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        work = Path(tmp)
        sizes = build_warc(work, n_real, n_generated, n_sample)
        print(f"WARC: {sizes['records']} records, {sizes['pages']} pages ({sizes['real_pages']} real), {sizes['warc_bytes'] / 1e6:.1f} MB",
              file=sys.stderr)
        results = {}
        for side, extractor in [("ours", "resiliparse"), ("datatrove", "resiliparse"), ("ours", "trafilatura"), ("datatrove", "trafilatura")]:
            warc = work / ("warc" if extractor == "resiliparse" else "sample")
            r = run_ours(warc, extractor, work) if side == "ours" else run_datatrove(python, warc, extractor)
            r["docs_per_cpu_s"] = r["n_read"] / r["cpu_s"]
            results[(side, extractor)] = r
            print(f"{side:>10} {extractor:>12}: {r['n_read']} pages read, {r['n_docs']} with text, {r['cpu_s']:.1f} CPU s,"
                  f" {r['docs_per_cpu_s']:.1f} pages/CPU s", file=sys.stderr)
        damaged = run_ours(work / "damaged", "resiliparse", work)
        clean = results[("ours", "resiliparse")]
        accounted = all(r["n_docs"] + r["n_rejects"] == r["n_records"] == sizes["records"] for r in (clean, damaged))
        if args.funnel:
            funnel(work / "real", work, sizes["real_html_bytes"])

    def ratio(extractor_ours: str, extractor_dt: str) -> float:
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
        "boilerplate_lines_removed_frac": None,
        "pii_recall": None,
        "pii_precision": None,
        "note": "pages/CPU s = HTML pages read per CPU second (process + reaped children), one core each; line dedup and PII"
                " (boilerplate_lines_removed_frac, pii_*) are not in this branch",
    }))


if __name__ == "__main__":
    main()
