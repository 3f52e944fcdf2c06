"""CSV files as users really have them (issue 13, items 8 and 3): the encoding is decided on
the whole file and reported, one stray byte garbles nothing, and reading a CSV costs a few
times its size in memory, not eight."""

from __future__ import annotations

import csv
import random
import tracemalloc
from pathlib import Path

import pytest

from extract.normalise import normalise
from extract.sheets import read_spreadsheet

HEADER = ["Reference", "Organisation", "Project title", "Purpose", "Date approved"]
TITLE = "DfE external data shares approved by DSAP to June 2019"
ROWS = [
    ["DS00601", "Café Research Ltd", "Crème de la crème", "Pupils’ progress", "01/05/2019"],
    ["DS00602", "Zoë Analytics", "Naïve forecasts – attendance", "Costs £5,000", "08/05/2019"],
    ["DS00603", "Smith & Co", "Children's services", "Research", "15/05/2019"],
]


def _write(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([[TITLE], HEADER, *rows])
    return path


def _read(path: Path) -> tuple[list[list[str]], list[dict[str, object]], list[str]]:
    parsed = read_spreadsheet(path)
    norm = normalise(parsed)
    enc = [i for i in norm.issues if str(i["kind"]).startswith("encoding")]
    return [r.cells for r in parsed.tables[0].rows], enc, norm.warnings


@pytest.mark.parametrize(("encoding", "word"), [
    ("utf-8", "the whole file is valid UTF-8"), ("utf-8-sig", "byte-order mark"),
    ("utf-16", "UTF-16"), ("cp1252", "cp1252")])
def test_encodings_read_exactly_and_reported(tmp_path: Path, encoding: str, word: str) -> None:
    cells, enc, warnings = _read(_write(tmp_path / "r.csv", ROWS, encoding))
    assert cells == ROWS
    assert len(enc) == 1 and enc[0]["kind"] == "encoding" and word in str(enc[0]["message"])
    assert not any("read as" in w for w in warnings)  # information, not a printed warning


def test_one_stray_byte_garbles_nothing_else(tmp_path: Path) -> None:
    path = _write(tmp_path / "stray.csv", ROWS, "utf-8")
    path.write_bytes(path.read_bytes().replace(b"Children's", b"Children\x92s"))
    cells, enc, warnings = _read(path)
    expected = [list(r) for r in ROWS]
    expected[2][2] = "Children’s services"  # the stray cp1252 apostrophe, read as one
    assert cells == expected  # "Café" stays "Café" (it used to become "CafÃ©")
    assert enc[0]["kind"] == "encoding_repaired"
    assert "1 stray byte" in str(enc[0]["message"]) and "line 5" in str(enc[0]["message"])
    assert any("stray byte" in w for w in warnings)  # printed: a cell to check


def test_latin1_when_cp1252_cannot_be(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(f"{TITLE}\r\n{','.join(HEADER)}\r\nDS00701,Caf\xe9 Ltd,P\x81,R,01/05/2019\r\n"
                     .encode("latin-1"))
    cells, enc, _ = _read(path)
    assert cells == [["DS00701", "Café Ltd", "P\x81", "R", "01/05/2019"]]
    assert "latin-1" in str(enc[0]["message"])


def test_mostly_broken_utf8_is_a_legacy_file(tmp_path: Path) -> None:
    """Many bytes that are not UTF-8 and only a few that are: cp1252 throughout."""
    rows = [[f"DS{i:05d}", "Café Ltd", "Élèves", "Œuvre", "01/05/2019"] for i in range(50)]
    cells, enc, _ = _read(_write(tmp_path / "legacy.csv", rows, "cp1252"))
    assert cells == rows and "cp1252" in str(enc[0]["message"])


def test_csv_memory_is_a_few_times_the_file(tmp_path: Path) -> None:
    """Measured with tracemalloc (Python allocations): the old reader (read_bytes, decode,
    StringIO, a list of raw records, then cleaned copies) peaked at about 9.8x the file size
    on this file; streaming records from the file, trimming trailing empty cells and sharing
    repeated short values brings the whole read_spreadsheet to about 4.3x."""
    rng = random.Random(8)
    path = tmp_path / "big-june-2019.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows([[TITLE], HEADER])
        for i in range(8000):
            w.writerow([f"DS{i:05d}", rng.choice(["University of Leeds", "FFT Education Ltd",
                                                  "Café Ltd"]), f"Project {i}",
                        "Research into outcomes of pupils " * rng.randint(1, 4), "01/02/2020",
                        "", "", ""])
    size = path.stat().st_size
    tracemalloc.start()
    try:
        parsed = read_spreadsheet(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(parsed.tables[0].rows) == 8000
    assert peak < 6 * size, f"peak {peak / size:.1f}x the file size"
