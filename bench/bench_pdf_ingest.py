"""Benchmark the PDF ingest against plain pdfplumber table extraction.

    python bench/bench_pdf_ingest.py [--pages 100] [--repeat 1] [--fresh]

Writes (once, cached under ``bench/out/``) an unruled register release of at least
``--pages`` pages with ``tests/fixtures/pdfgen.py``, then times, in one run:

(a) plain single-process pdfplumber: ``page.extract_tables()`` over every page (closing each
    page), the floor any pdfplumber-based reader is measured against;
(b) the full pipeline as a user runs it: ``python -m extract FILE --db TMP`` (interpreter
    start, imports, reading, normalising, storing, history and analysis), into a new DB;
(c) for information, ``extract.pdf.read_pdf`` alone, in this process.

It prints the times and the ratio (b)/(a) (target <= 1.0). With ``--repeat N`` each timing is
the best of N, which damps noise from other work on the machine. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pdfplumber  # noqa: E402

from extract.pdf import read_pdf  # noqa: E402
from tests.fixtures.pdfgen import realistic_sections, write_register_pdf  # noqa: E402

OUT = REPO / "bench" / "out"
TITLE = "DfE external data shares: register of shares approved to end of September 2023"


def release(pages: int, fresh: bool) -> Path:
    """The cached benchmark PDF, regenerated with more rows until it has ``pages`` pages."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench_unruled_{pages}p.pdf"
    if path.exists() and not fresh:
        return path
    scale = max(1.0, pages / 20)
    while True:
        counts = {"dsap": int(120 * scale), "regular": int(16 * scale),
                  "npd_requests": int(80 * scale), "home_office": int(20 * scale),
                  "police": int(9 * scale), "court_orders": int(6 * scale)}
        report: dict[str, object] = {}
        write_register_pdf(path, realistic_sections(2023, counts), title=TITLE,
                           layout="unruled", seed=2023, report=report)
        if int(report["pages"]) >= pages:  # type: ignore[call-overload]
            return path
        scale *= 1.1


def plain_pdfplumber(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    tables = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            tables += len(page.extract_tables())
            page.close()
    return time.perf_counter() - start, tables


def full_pipeline(path: Path) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        env = {k: v for k, v in os.environ.items() if k != "NPD_DB"}
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "extract", str(path), "--db", str(db), "--quiet"],
            cwd=REPO, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pipeline failed:\n{proc.stderr}")
    summary = next((ln for ln in (proc.stdout + proc.stderr).splitlines()
                    if ": ingested" in ln), "")
    return elapsed, summary


def reader_only(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    parsed = read_pdf(path)
    return time.perf_counter() - start, sum(len(t.rows) for t in parsed.tables)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=100, help="minimum pages (default 100)")
    ap.add_argument("--repeat", type=int, default=1, help="best of N timings (default 1)")
    ap.add_argument("--fresh", action="store_true", help="regenerate the cached PDF")
    args = ap.parse_args()

    path = release(args.pages, args.fresh)
    with pdfplumber.open(path) as pdf:
        n_pages = len(pdf.pages)
    print(f"file: {path.relative_to(REPO)} ({n_pages} pages, {path.stat().st_size:,} bytes)")
    print(f"cores: {os.cpu_count()}, load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    a = min(plain_pdfplumber(path)[0] for _ in range(args.repeat))
    b_runs = [full_pipeline(path) for _ in range(args.repeat)]
    b = min(t for t, _ in b_runs)
    c_runs = [reader_only(path) for _ in range(args.repeat)]
    c = min(t for t, _ in c_runs)

    print(f"(a) plain pdfplumber extract_tables, 1 process : {a:7.2f} s "
          f"({n_pages / a:.1f} pages/s)")
    print(f"(b) python -m extract FILE --db TMP (full)     : {b:7.2f} s "
          f"({n_pages / b:.1f} pages/s)")
    print(f"(c) extract.pdf.read_pdf only (in process)     : {c:7.2f} s, "
          f"{c_runs[0][1]} rows")
    print(f"    {b_runs[0][1].strip()}")
    print(f"ratio (b)/(a) = {b / a:.2f}   (target <= 1.0)")
    print(f"ratio (c)/(a) = {c / a:.2f}")


if __name__ == "__main__":
    main()
