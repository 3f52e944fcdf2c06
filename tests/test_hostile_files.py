"""Broken or hostile release files never take the tool down (issue 13, items 2 and 3).

Every input is written by the test, small on disk: a 1.5 kB XLSX with one cell at
XFD1048576, zip bombs, an ODS whose one row is repeated a million times, a 1 MB PDF of 10,000
pages, a 2.6 MB PDF whose content stream inflates to 2.5 GiB. Each must give one reason for
its file, leave the database byte-identical, let the good files of the same call load, leave
no process behind, and keep peak memory under 2 GB.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import duckdb
import pytest

from extract import guard
from extract.ingest import ingest
from extract.limits import LIMITS, Limits

REPO = Path(__file__).resolve().parents[1]
GOVUK = REPO / "tests" / "data" / "govuk"
GOOD_CSV = GOVUK / "DfE_external_data_shares_June_2023_DSAP.csv"
GOOD_ODS = GOVUK / "DfE_external_data_shares_June_2023.ods"
TWO_GB = 2_000_000_000


# --- writers of hostile files -------------------------------------------------------------------

_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
       'package/2006/content-types"><Default Extension="rels" ContentType="application/'
       'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
       '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
       'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
       '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
       'officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
         'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
         'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_BOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
         'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships"><sheets><sheet name="Shares" sheetId="1" '
         'r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
              'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
              '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
              'Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
          'openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData>'
          '{padding}</worksheet>')


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx(path: Path, rows: str, padding_bytes: int = 0) -> Path:
    """A minimal workbook with one sheet named Shares; ``padding_bytes`` of whitespace after
    the sheet data make its XML part inflate like a zip bomb."""
    sheet = _SHEET.format(rows=rows, padding="{padding}")
    head, tail = sheet.split("{padding}")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _BOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(head.encode())
            block = b" " * (1 << 20)
            for _ in range(padding_bytes >> 20):
                fh.write(block)
            fh.write(tail.encode())
    return path


def far_cell_xlsx(path: Path) -> Path:
    """The issue's 1,958-byte workbook: a header cell and one cell at XFD1048576."""
    return write_xlsx(path, '<row r="1">' + _inline("A1", "Organisation") + "</row>"
                      '<row r="1048576">' + _inline("XFD1048576", "x") + "</row>")


def rewrite_ods(src: Path, dst: Path, content: bytes) -> Path:
    """``src`` with its content.xml replaced (mimetype first and stored, as ODF requires)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = content if info.filename == "content.xml" else zin.read(info.filename)
            method = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            zout.writestr(info, data, compress_type=method)
    return dst


def _ods_content() -> bytes:
    with zipfile.ZipFile(GOOD_ODS) as z:
        return z.read("content.xml")


def phantom_rows_ods(path: Path) -> Path:
    """The last row with content repeated 1,048,574 times (the issue's 1 kB ODS)."""
    data = _ods_content()
    last = list(re.finditer(rb"<table:table-row\b.*?</table:table-row>", data, re.S))[-1]
    row = last.group(0).replace(
        b"<table:table-row", b'<table:table-row table:number-rows-repeated="1048574"', 1)
    return rewrite_ods(GOOD_ODS, path, data[:last.start()] + row + data[last.end():])


def padded_ods(path: Path) -> Path:
    """What LibreOffice writes: every table padded with empty rows and cells repeated to the
    sheet's end. Not rows; must load exactly like the file without the padding."""
    pad = (b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
           b'table:number-columns-repeated="1024"/></table:table-row>')
    return rewrite_ods(GOOD_ODS, path, _ods_content().replace(b"</table:table>",
                                                              pad + b"</table:table>"))


def bomb_ods(path: Path) -> Path:
    """content.xml padded with 64 MiB of whitespace: inflates about 1,000 times."""
    data = _ods_content()
    return rewrite_ods(GOOD_ODS, path, data.replace(b"</office:document-content>",
                                                    b" " * (64 << 20)
                                                    + b"</office:document-content>"))


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF with a correct cross-reference table; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    return bytes(out)


def many_pages_pdf(path: Path, pages: int = 10_000) -> Path:
    """10,000 blank pages sharing one empty content stream: about 1.2 MB."""
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"
    path.write_bytes(_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                           b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
                           b"<< /Length 0 >>\nstream\n\nendstream", *[page] * pages]))
    return path


def stream_bomb_pdf(path: Path, gib: float = 2.5) -> Path:
    """One page whose Flate content stream inflates to ``gib`` GiB of zeros (2.6 MB on disk).

    Built from one compressed 64 MiB block repeated (full flushes make blocks independent),
    so writing it takes a second, not a minute."""
    chunk = b"\0" * (64 << 20)
    c = zlib.compressobj(9)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    n = int(gib * 16)
    total = n * len(chunk)
    adler = ((total % 65521) << 16) | 1  # Adler-32 of zeros
    stream = first[:2] + first[2:] * n + b"\x03\x00" + adler.to_bytes(4, "big")
    path.write_bytes(_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"]))
    return path


# --- helpers ------------------------------------------------------------------------------------

def _built_db(tmp_path: Path) -> tuple[Path, bytes]:
    """A database holding one good release, and its bytes."""
    db = tmp_path / "db" / "npd.duckdb"
    good = tmp_path / "first" / GOOD_CSV.name
    good.parent.mkdir()
    shutil.copy2(GOOD_CSV, good)
    assert [r.status for r in ingest([good], db)] == ["ingested"]
    return db, db.read_bytes()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _releases(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute(
            "SELECT source_file FROM releases ORDER BY source_file").fetchall()]


# --- pre-checks: refused before any parser allocates -------------------------------------------

def test_far_cell_xlsx_is_refused_and_the_database_stays_byte_identical(tmp_path: Path) -> None:
    db, before = _built_db(tmp_path)
    bad = far_cell_xlsx(tmp_path / "far.xlsx")
    assert bad.stat().st_size < 2000
    [res] = ingest([bad], db)
    assert res.status == "failed"
    assert res.reason == ("sheet 'Shares' has 1,048,576 rows with content (down to "
                          "XFD1048576), over the limit of 250,000 rows per table; refused")
    assert db.read_bytes() == before and _leftovers(db.parent) == []


def test_good_files_of_the_same_call_still_load(tmp_path: Path) -> None:
    db, _ = _built_db(tmp_path)
    files = [far_cell_xlsx(tmp_path / "far.xlsx"), phantom_rows_ods(tmp_path / "phantom.ods"),
             shutil.copy2(GOOD_ODS, tmp_path / GOOD_ODS.name)]
    results = ingest(files, db)
    assert [r.status for r in results] == ["failed", "failed", "ingested"]
    assert _releases(db) == sorted([GOOD_CSV.name, GOOD_ODS.name])
    assert _leftovers(db.parent) == []


def test_phantom_repeated_rows_are_refused_but_padding_is_not_rows(tmp_path: Path) -> None:
    db = tmp_path / "npd.duckdb"
    phantom, padded = phantom_rows_ods(tmp_path / "phantom.ods"), padded_ods(tmp_path / "p.ods")
    assert phantom.stat().st_size < 4000
    results = ingest([phantom, padded], db)
    assert results[0].status == "failed"
    assert re.fullmatch(r"sheet '.+' has 1,048,57\d rows with content \(down to C1048\d+\), "
                        r"over the limit of 250,000 rows per table; refused", results[0].reason)
    assert results[1].status == "ingested"
    [plain] = ingest([GOOD_ODS], tmp_path / "plain.duckdb")
    assert results[1].rows_by_section == plain.rows_by_section  # the padding added no rows
    assert sum(plain.rows_by_section.values()) > 0


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_zip_bombs_are_refused_by_their_inflation_ratio(kind: str, tmp_path: Path) -> None:
    if kind == "xlsx":
        bomb = write_xlsx(tmp_path / "bomb.xlsx", '<row r="1">' + _inline("A1", "x") + "</row>",
                          padding_bytes=64 << 20)
        part = "xl/worksheets/sheet1.xml"
    else:
        bomb, part = bomb_ods(tmp_path / "bomb.ods"), "content.xml"
    assert bomb.stat().st_size < 200_000
    [res] = ingest([bomb], tmp_path / "npd.duckdb")
    assert res.status == "failed"
    assert re.fullmatch(rf"workbook part {re.escape(part)} inflates [\d,]+ times \(.+ to 64\.0 "
                        r"MiB\), over the limit of 200 times; refused \(a zip bomb\?\)",
                        res.reason), res.reason
    assert not (tmp_path / "npd.duckdb").exists()  # nothing loaded: nothing published


def test_unpacked_size_limit(tmp_path: Path) -> None:
    ods = shutil.copy2(GOOD_ODS, tmp_path / GOOD_ODS.name)
    [res] = ingest([ods], tmp_path / "npd.duckdb", limits={"max_unpacked_bytes": 4096})
    assert res.status == "failed"
    assert re.fullmatch(r"workbook unpacks to [\d.]+ KiB, over the limit of 4 KiB; refused "
                        r"\(a zip bomb\?\)", res.reason), res.reason


def test_file_size_limit(tmp_path: Path) -> None:
    csv = shutil.copy2(GOOD_CSV, tmp_path / GOOD_CSV.name)
    [res] = ingest([csv], tmp_path / "npd.duckdb", limits={"max_file_bytes": 100})
    assert res.reason == "file is 395 bytes, over the limit of 100 bytes per file; refused"


def test_ten_thousand_page_pdf_is_refused_from_its_page_count(tmp_path: Path) -> None:
    pdf = many_pages_pdf(tmp_path / "pages.pdf")
    assert pdf.stat().st_size < 1_500_000
    [res] = ingest([pdf], tmp_path / "npd.duckdb")
    assert res.reason == "PDF has 10,000 pages, over the limit of 2,000 pages per file; refused"


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="max_pdf_pages must be a positive whole number"):
        Limits(max_pdf_pages=0)
    with pytest.raises(ValueError, match="unknown limit"):
        Limits.resolve({"max_pages": 3})
    assert Limits.resolve(None) is LIMITS


# --- isolation: what gets past the pre-checks cannot take the process down ----------------------

def test_far_cell_past_the_precheck_aborts_only_the_child(tmp_path: Path) -> None:
    """With the extent limits lifted the sheet library really asks for 512 GiB and aborts
    (SIGABRT, as in the issue); the abort is the file's reason, the good file loads."""
    db = tmp_path / "npd.duckdb"
    lifted = {"max_rows_per_table": 2_000_000, "max_cells_per_file": 1 << 40}
    files = [far_cell_xlsx(tmp_path / "far.xlsx"), shutil.copy2(GOOD_CSV, tmp_path / "g.csv")]
    results = ingest(files, db, limits=lifted)
    assert results[0].status == "failed"
    assert results[0].reason == ("the reader tried to allocate 512 GiB, more than the 1.5 GiB "
                                 "of memory it may use; refused (a hostile or damaged file?)")
    assert results[1].status == "ingested" and _releases(db) == ["g.csv"]


@pytest.mark.parametrize(("reader", "reason"), [
    ("pdfminer", "needs more than the 1.5 GiB of memory a reader may use; refused (a hostile "
                 "or damaged file?)"),  # Python's MemoryError
    ("pdfium", "the reader stopped abnormally (SIGABRT), most often because the file needs "
               "more than the 1.5 GiB of memory a reader may use; refused (a hostile or "
               "damaged file?)"),  # pdfium aborts when the allocation fails
])
def test_stream_bomb_pdf_hits_the_memory_limit(reader: str, reason: str, tmp_path: Path) -> None:
    db, before = _built_db(tmp_path)
    bomb = stream_bomb_pdf(tmp_path / "bomb.pdf")
    assert bomb.stat().st_size < 3_000_000
    [res] = ingest([bomb], db, settings={"reader": reader})
    assert res.reason == reason
    assert db.read_bytes() == before and _leftovers(db.parent) == []


_MEASURE = """
import json, resource, sys
from extract.ingest import ingest
results = ingest(sys.argv[2:], sys.argv[1])
print(json.dumps({
    "results": [[r.path.name, r.status, r.reason] for r in results],
    "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def test_every_hostile_file_in_one_call_keeps_peak_memory_under_2_gb(tmp_path: Path) -> None:
    """Peak resident memory of the ingest process and of every reader child it ran (the
    largest child's ru_maxrss), for all the hostile inputs of issue 13 in one call."""
    files = [far_cell_xlsx(tmp_path / "far.xlsx"), phantom_rows_ods(tmp_path / "phantom.ods"),
             bomb_ods(tmp_path / "bomb.ods"), many_pages_pdf(tmp_path / "pages.pdf"),
             stream_bomb_pdf(tmp_path / "bomb.pdf"), shutil.copy2(GOOD_CSV, tmp_path / "g.csv")]
    assert all(f.stat().st_size <= 10_000_000 for f in files)
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(tmp_path / "npd.duckdb"),
                           *map(str, files)], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [s for _, s, _ in out["results"]] == ["failed"] * 5 + ["ingested"]
    assert out["self"] < TWO_GB, out
    assert out["children"] < TWO_GB, out


def _pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # A zombie is dead, only not yet reaped by its (dead) parent's reaper.
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"):
            continue
        alive.append(pid)
    return alive


def _hang_with_workers(pid_file: str, progress: object) -> None:
    """A reader that starts two page workers (as the PDF reader does) and never returns."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=time.sleep, args=(3600,)) for _ in range(2)]
    for w in workers:
        w.start()
    Path(pid_file).write_text(json.dumps([os.getpid(), *[w.pid for w in workers]]))
    time.sleep(3600)


def test_a_hanging_reader_is_stopped_with_its_workers(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids.json"
    outcome = guard.run_isolated(_hang_with_workers, (str(pid_file),),
                                 Limits(max_seconds_per_file=2))
    assert outcome.error == "took longer than 2 s to read; stopped (limit 2 s per file)"
    pids = json.loads(pid_file.read_text())
    assert len(pids) == 3
    deadline = time.monotonic() + 10  # SIGKILL is delivered asynchronously
    while _pids_alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_alive(pids) == []


def _abort(progress: object) -> None:
    os.abort()


def _segfault(progress: object) -> None:
    import ctypes

    ctypes.string_at(0)


def _grab(progress: object) -> None:
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))


def _bug(progress: object) -> None:
    raise KeyError("header")


def _pages(progress: object) -> str:
    for i in range(1, 4):
        progress(i, 3)  # type: ignore[operator]
    return "done"


@pytest.mark.parametrize(("func", "reason"), [
    (_abort, "the reader stopped abnormally (SIGABRT), most often because the file needs more "
             "than the 256 MiB of memory a reader may use; refused (a hostile or damaged file?)"),
    (_segfault, "the reader crashed (SIGSEGV); the file is damaged or hostile"),
    (_grab, "needs more than the 256 MiB of memory a reader may use; refused "
            "(a hostile or damaged file?)"),
    (_bug, "could not be read (KeyError: 'header')"),
])
def test_any_failure_in_the_child_is_one_line(func: object, reason: str) -> None:
    outcome = guard.run_isolated(func, (), Limits(max_reader_memory_bytes=256 << 20))  # type: ignore[arg-type]
    assert outcome.error == reason
    assert outcome.peak_rss < TWO_GB


def test_progress_and_result_cross_from_the_child() -> None:
    seen: list[tuple[int, int]] = []
    outcome = guard.run_isolated(_pages, (), None, lambda d, t: seen.append((d, t)))
    assert outcome.error is None and outcome.value == "done"
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_ctrl_c_in_the_parent_kills_the_reader(tmp_path: Path) -> None:
    """KeyboardInterrupt while waiting for a reader: the reader and its workers go too."""
    pid_file = tmp_path / "pids.json"

    def interrupt_soon(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt_soon)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            guard.run_isolated(_hang_with_workers, (str(pid_file),), None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    pids = json.loads(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _pids_alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_alive(pids) == []


# --- the dashboard's first-run build ------------------------------------------------------------

def test_dashboard_first_run_build_survives_a_hostile_file(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """app.py builds the database through ingest() on first run: with the far-cell workbook
    and a stream bomb among its sources the server lives and the good release is shown."""
    from streamlit.testing.v1 import AppTest

    sources = tmp_path / "releases"
    sources.mkdir()
    far_cell_xlsx(sources / "far.xlsx")
    stream_bomb_pdf(sources / "bomb.pdf")
    shutil.copy2(GOOD_ODS, sources / GOOD_ODS.name)
    db = tmp_path / "npd.duckdb"
    monkeypatch.setenv("NPD_DB", str(db))
    monkeypatch.setenv("NPD_SOURCES", str(sources))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    assert db.exists() and _releases(db) == [GOOD_ODS.name]
    assert _leftovers(tmp_path) == []


def test_limits_page_lists_every_limit_with_its_value() -> None:
    """docs/limits.md and extract/limits.py must not drift apart."""
    from dataclasses import fields

    from extract.limits import human_bytes

    text = (REPO / "docs" / "limits.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", text,
                                                         re.M)}
    for f in fields(Limits):
        value = getattr(LIMITS, f.name)
        shown = human_bytes(value) if f.name.endswith("_bytes") else f"{value:,}"
        if f.name == "max_seconds_per_file":
            shown = str(value)
        assert rows.get(f.name, "").strip() == shown, f.name
    assert "(docs/limits.md)" in (REPO / "README.md").read_text(encoding="utf-8")
