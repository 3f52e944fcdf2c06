"""Benchmark the PDF ingest against its peers and against the text-layer floor.

    python bench/bench_pdf_ingest.py [--sizes 100 300] [--repeat 1] [--fresh] [--no-camelot]

Writes (once, cached under ``bench/out/``) unruled register releases of at least each
``--sizes`` pages with ``tests/fixtures/pdfgen.py`` (100 gives the 103-page release), then
runs, on each, every contender in a subprocess of its own and measures that whole process
tree: wall time, CPU time (user + system of the process and every child it waited for: the
ingest's page workers included) and peak memory (``ru_maxrss`` of the largest process):

* **ingest, pdfium** / **ingest, pdfminer**: ``python -m extract FILE --db NEW --reader R``,
  the full pipeline as a user runs it (interpreter start, imports, reading, normalising,
  storing, history, analysis). The pdfminer run is the reader as it was before pdfium: the
  "before" figure;
* **pdfplumber extract_tables()**: plain ``page.extract_tables()`` over every page;
* **Camelot stream**: ``camelot.read_pdf(FILE, pages="all", flavor="stream")`` in the bench's
  own virtualenv (``bench/out/.venv-camelot``, built from ``bench/requirements-camelot.txt``
  on first use; never a dependency of the project). Skipped with a message if it cannot be
  installed;
* **text-layer floor**: every word of every page with pypdfium2 (its text page, each
  character's text and box, split at spaces), the least any reader must do.

Then the ratios: ingest / floor (bar <= 3 on the 103-page release), ingest / Camelot (bar <=
0.5), pdfminer / pdfium. With ``--repeat N`` each figure is the best of N (less noise from
other work on a shared machine). Nothing is asserted: this prints.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.pdfgen import realistic_sections, write_register_pdf  # noqa: E402

OUT = REPO / "bench" / "out"
VENV = OUT / ".venv-camelot"
CAMELOT_REQUIREMENTS = REPO / "bench" / "requirements-camelot.txt"
TITLE = "DfE external data shares: register of shares approved to end of September 2023"

PLAIN_PDFPLUMBER = """
import sys, pdfplumber
tables = 0
with pdfplumber.open(sys.argv[1]) as pdf:
    for page in pdf.pages:
        tables += len(page.extract_tables())
        page.close()
print(tables, "tables")
"""

CAMELOT_STREAM = """
import sys, warnings
warnings.filterwarnings("ignore")
import camelot
tables = camelot.read_pdf(sys.argv[1], pages="all", flavor="stream")
print(tables.n, "tables")
"""

# All words of all pages: the text page, each character's text and box, words split at
# spaces and line breaks. What any reader of the text layer has to pay at least.
TEXT_FLOOR = """
import sys, pypdfium2 as pdfium
doc = pdfium.PdfDocument(sys.argv[1])
words = 0
for page in doc:
    tp = page.get_textpage()
    text = tp.get_text_range()
    cur = []
    for i in range(tp.count_chars()):
        ch = text[i] if i < len(text) else " "
        if ch.isspace():
            if cur:
                words += 1
                cur = []
            continue
        cur.append((ch, tp.get_charbox(i)))
    words += bool(cur)
    tp.close()
    page.close()
print(words, "words")
"""


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    note: str


BASE_PAGES = 100  # larger releases repeat this one (reportlab needs most of an hour for 300)


def release(pages: int, fresh: bool) -> Path:
    """The cached benchmark PDF of at least ``pages`` pages. Up to ``BASE_PAGES`` it is
    written with rows scaled to the pages asked for (a short file is rewritten with rows
    scaled by the shortfall); above, it is the ``BASE_PAGES`` release repeated, joined page
    for page with pypdfium2 (its references recur, which the reader flags and stores)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench_unruled_{pages}p.pdf"
    if path.exists() and not fresh:
        return path
    if pages > BASE_PAGES:
        return _joined(release(BASE_PAGES, fresh), pages, path)
    scale = max(1.0, pages / 20)
    while True:
        counts = {"dsap": int(120 * scale), "regular": int(16 * scale),
                  "npd_requests": int(80 * scale), "home_office": int(20 * scale),
                  "police": int(9 * scale), "court_orders": int(6 * scale)}
        report: dict[str, object] = {}
        write_register_pdf(path, realistic_sections(2023, counts), title=TITLE,
                           layout="unruled", seed=2023, report=report)
        got = int(report["pages"])  # type: ignore[call-overload]
        if got >= pages:
            return path
        scale *= 1.02 * pages / got


def _joined(base: Path, pages: int, path: Path) -> Path:
    """``base`` repeated until the document has at least ``pages`` pages."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(base))
    out = pdfium.PdfDocument.new()
    try:
        while len(out) < pages:
            out.import_pages(src)
        out.save(str(path))
    finally:
        out.close()
        src.close()
    return path


def run_tree(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` and measure its whole process tree, reaping the child with ``wait4`` so
    the rusage is that process's and its waited-for children's alone."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text_out, text_err = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd[:4]))} failed:\n{text_err[-2000:]}")
    lines = [ln.strip() for ln in (text_out + text_err).splitlines() if ln.strip()]
    note = next((ln for ln in lines if ": ingested" in ln), lines[0] if lines else "")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, note)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def ingest(path: Path, reader: str) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "NPD_DB"}
        return run_tree([sys.executable, "-m", "extract", str(path), "--db",
                         str(Path(tmp) / "bench.duckdb"), "--quiet", "--reader", reader],
                        env)


def camelot_python() -> tuple[Path | None, str]:
    """The bench virtualenv's interpreter with Camelot, built on first use."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import camelot"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True,
                       capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                        str(CAMELOT_REQUIREMENTS)], check=True, capture_output=True,
                       timeout=1800)
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"Camelot could not be installed in {VENV} ({type(exc).__name__})"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, f"Camelot does not import in {VENV}"
    return python, ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300],
                    help="minimum pages of each release (default: 100 300)")
    ap.add_argument("--repeat", type=int, default=1, help="best of N timings (default 1)")
    ap.add_argument("--fresh", action="store_true", help="regenerate the cached PDFs")
    ap.add_argument("--no-camelot", action="store_true", help="skip Camelot")
    args = ap.parse_args()

    camelot, why = (None, "skipped (--no-camelot)") if args.no_camelot else camelot_python()
    print(f"cores: {os.cpu_count()}, load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if camelot is None:
        print(f"Camelot: {why}")
    for size in args.sizes:
        path = release(size, args.fresh)
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(path))
        n_pages = len(doc)
        doc.close()
        print(f"\n== {path.relative_to(REPO)}: {n_pages} pages, "
              f"{path.stat().st_size:,} bytes ==")
        contenders: dict[str, list[str]] = {
            "text-layer floor (pypdfium2 words)": [sys.executable, "-c", TEXT_FLOOR,
                                                   str(path)],
            "pdfplumber extract_tables()": [sys.executable, "-c", PLAIN_PDFPLUMBER,
                                            str(path)],
        }
        if camelot is not None:
            contenders["Camelot stream"] = [str(camelot), "-c", CAMELOT_STREAM, str(path)]
        results: dict[str, Run] = {}
        for _ in range(args.repeat):  # interleaved, so drift in load hits all alike
            for reader in ("pdfium", "pdfminer"):
                run = ingest(path, reader)
                key = f"ingest, {reader}"
                results[key] = best([results[key], run]) if key in results else run
            for name, cmd in contenders.items():
                run = run_tree(cmd)
                results[name] = best([results[name], run]) if name in results else run
        print(f"{'':38} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}  output")
        for name, r in results.items():
            print(f"{name:38} {r.wall:8.2f} {r.cpu:8.2f} {r.rss_mb:8.0f}  {r.note[:60]}")
        ing, floor = results["ingest, pdfium"], results["text-layer floor (pypdfium2 words)"]
        print(f"ingest pdfium / text-layer floor : wall {ing.wall / floor.wall:5.2f}, "
              f"CPU {ing.cpu / floor.cpu:5.2f}   (bar: <= 3 on the 103-page release)")
        if "Camelot stream" in results:
            cam = results["Camelot stream"]
            print(f"ingest pdfium / Camelot stream   : wall {ing.wall / cam.wall:5.2f}, "
                  f"CPU {ing.cpu / cam.cpu:5.2f}   (bar: <= 0.5)")
        old = results["ingest, pdfminer"]
        plumber = results["pdfplumber extract_tables()"]
        print(f"ingest pdfminer / ingest pdfium  : wall {old.wall / ing.wall:5.2f}, "
              f"CPU {old.cpu / ing.cpu:5.2f}   (before / after)")
        print(f"ingest pdfium / pdfplumber tables: wall {ing.wall / plumber.wall:5.2f}, "
              f"CPU {ing.cpu / plumber.cpu:5.2f}")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
