"""Bad PDFs through the real command line: one clear line each, never a traceback, and the
database left byte-for-byte as it was (or, with a good file in the same call, the good file
still loaded)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from PIL import Image, ImageDraw
from reportlab.lib import colors, pdfencrypt
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from extract.ingest import ingest
from tests.fixtures.pdfgen import realistic_sections, write_register_pdf

REPO = Path(__file__).resolve().parents[1]
SMALL = {"dsap": 12, "police": 3}


def _letter(path: Path) -> None:
    """A one-page letter about a data request: text, but no table."""
    c = canvas.Canvas(str(path))
    lines = ["Department for Education", "Dear Dr Smith,",
             "Thank you for your application to the Data Sharing Approval Panel.",
             "Your request DS00628 for pupil level data (UPN, date of birth, postcode) has "
             "been approved.", "Yours sincerely,", "Data Sharing Approval Panel secretariat"]
    for i, line in enumerate(lines):
        c.drawString(72, 760 - 22 * i, line)
    c.showPage()
    c.save()


def _price_list(path: Path) -> None:
    """A ruled table that is not a register: the reader must not ingest it as shares."""
    doc = SimpleDocTemplate(str(path))
    data = [["Product code", "Description", "Unit price", "Quantity", "Total"]]
    data += [[f"P{i:04d}", f"Exercise books, pack of {i * 5}", "2.50", str(i), f"{2.5 * i:.2f}"]
             for i in range(1, 40)]
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    doc.build([Paragraph("School stationery price list 2023", getSampleStyleSheet()["Title"]),
               table])


def _encrypted(path: Path) -> None:
    enc = pdfencrypt.StandardEncryption("user-secret", ownerPassword="owner", strength=128)
    c = canvas.Canvas(str(path), encrypt=enc)
    c.drawString(72, 760, "Reference Organisation Purpose Data shared")
    c.showPage()
    c.save()


def _scanned(path: Path) -> None:
    """An image-only PDF, as a scanner produces: pixels of a table, no text layer."""
    img = Image.new("RGB", (1754, 1240), "white")
    draw = ImageDraw.Draw(img)
    for i, row in enumerate(["Reference  Organisation  Purpose", "DS00628  FFT Education Ltd"]):
        draw.text((100, 100 + 40 * i), row, fill="black")
    img.save(path, "PDF", resolution=150)


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad_pdfs")
    good = d / "good_register.pdf"
    write_register_pdf(good, realistic_sections(21, SMALL),
                       title="DfE external data shares to end of March 2022", seed=1)
    good2 = d / "second_register.pdf"
    write_register_pdf(good2, realistic_sections(22, SMALL), layout="unruled",
                       title="DfE external data shares to end of June 2022", seed=2)
    data = good.read_bytes()
    out = {"good": good, "good2": good2}
    out["not_a_pdf"] = d / "download.pdf"
    out["not_a_pdf"].write_text("<!DOCTYPE html><html><body>Page not found</body></html>")
    out["truncated"] = d / "truncated.pdf"
    out["truncated"].write_bytes(data[: len(data) * 6 // 10])
    scrambled = bytearray(data)
    start = len(scrambled) // 3
    for i in range(start, start + 3000):
        scrambled[i] = (scrambled[i] * 7 + 13) % 256
    out["corrupt"] = d / "corrupt.pdf"
    out["corrupt"].write_bytes(bytes(scrambled))
    out["encrypted"] = d / "encrypted.pdf"
    _encrypted(out["encrypted"])
    out["scanned"] = d / "scanned.pdf"
    _scanned(out["scanned"])
    out["letter"] = d / "letter.pdf"
    _letter(out["letter"])
    out["price_list"] = d / "price_list.pdf"
    _price_list(out["price_list"])
    return out


@pytest.fixture(scope="session")
def seeded_db(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database already holding one good release."""
    db = tmp_path_factory.mktemp("db") / "register.duckdb"
    results = ingest([files["good"]], db)
    assert [r.status for r in results] == ["ingested"], results[0].reason
    return db


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NPD_DB"}
    return subprocess.run([sys.executable, "-m", "extract", *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=180)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]


REASONS = {
    "not_a_pdf": "not a PDF file",
    "truncated": "truncated or damaged PDF",
    "corrupt": "damaged PDF",
    "encrypted": "encrypted PDF: a password is needed",
    "scanned": "scanned PDF",
    "letter": "no register table found",
    "price_list": "no register table found",
}


@pytest.mark.parametrize("kind", list(REASONS))
def test_bad_pdf_one_line_and_database_untouched(
        kind: str, files: dict[str, Path], seeded_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "register.duckdb"
    shutil.copyfile(seeded_db, db)
    before = _sha(db)
    proc = _run(files[kind], "--db", db)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = _errors(proc)
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"error: {files[kind]}: ")
    assert REASONS[kind] in errors[0]
    assert _sha(db) == before


def test_bad_pdfs_do_not_stop_a_good_one(files: dict[str, Path], seeded_db: Path,
                                         tmp_path: Path) -> None:
    db = tmp_path / "register.duckdb"
    shutil.copyfile(seeded_db, db)
    bad = [files[k] for k in REASONS]
    proc = _run(*bad[:4], files["good2"], *bad[4:], "--db", db)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = _errors(proc)
    assert len(errors) == len(bad), proc.stderr
    for path, kind in zip(bad, REASONS, strict=True):
        [line] = [e for e in errors if e.startswith(f"error: {path}: ")]
        assert REASONS[kind] in line
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = con.execute("SELECT source_file, period_label FROM releases ORDER BY 1"
                             ).fetchall()
        shares = con.execute("SELECT count(*) FROM shares WHERE source_file = ?",
                             [files["good2"].name]).fetchone()
    finally:
        con.close()
    assert loaded == [("good_register.pdf", "March 2022"), ("second_register.pdf", "June 2022")]
    assert shares == (sum(SMALL.values()),)


def test_bad_pdf_creates_no_database(files: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    proc = _run(files["scanned"], "--db", db)
    assert proc.returncode == 1
    assert len(_errors(proc)) == 1 and "Traceback" not in proc.stderr
    assert not db.exists()
    assert list(tmp_path.iterdir()) == []  # no stray temporary copies either
