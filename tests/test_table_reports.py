"""Extraction reports and self-checks end to end: ``table_reports`` and located
``ingest_warnings`` rows from a real ingest of the spreadsheet corpus, the CLI's per-table
lines, the storage bugs of issue 8 (a masked INT64 overflow, implausible counts) and the
"Release health" page driven by Streamlit's AppTest.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from extract.ingest import _insert, ingest
from extract.model import ParsedRelease, RawRow, RawTable
from extract.normalise import normalise
from extract.reports import table_report
from tests.fixtures.sheet_corpus import corpus

REPO = Path(__file__).resolve().parents[1]
NPD = "National_pupil_database_third_party_requests_2012_to_2017.xlsx"
STRAY = "dsap_shares_2018_stray_byte.csv"
EVIL = "[Click](https://evil.example/x) <b>bold</b>"


def _evil_csv(path: Path) -> None:
    """A register CSV whose total row and tab text carry markdown and HTML."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([
            ["DfE external data shares approved by DSAP to June 2019"], [],
            ["Reference", "Organisation", "Purpose", "Date approved", "Number of pupils"],
            ["DS00901", "University of Leeds", "Research", "01/06/2019", "1200"],
            ["DS00902", "Acme Ltd", "Product", "soon " + EVIL, "110 97 121"],
            [f"Total {EVIL}", "", "", "", "1200"],
        ])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    src = root / "releases"
    src.mkdir()
    specs = {f.name: f for f in corpus()}
    for name in (NPD, STRAY):
        specs[name].write(src / name)
    _evil_csv(src / "evil-june-2019.csv")
    path = root / "register.duckdb"
    results = ingest([src], path)
    assert [r.status for r in results] == ["ingested"] * 3, [r.reason for r in results]
    return path


def _rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_one_report_per_table_with_its_sheet_rows_and_confidence(db: Path) -> None:
    got = _rows(db, "SELECT table_index, section, sheet, first_row, last_row, row_count, "
                "warning_count, confidence, rows_per_page FROM table_reports "
                "WHERE source_file = ? ORDER BY table_index", NPD)
    assert [(i, s, sh, n) for i, s, sh, _, _, n, *_ in got] == [
        (0, "legend", "tier of data", 4), (1, "npd_requests", "June 17 to Sept 17", 7),
        (2, "npd_requests", "open", 3), (3, "npd_requests", "live cases April 12 to May 17", 5),
        (4, "legend", "Data classification key", 4)]
    by_sheet = {r[2]: r for r in got}
    # "open": a total row and a two-dates cell; one of three rows in doubt.
    assert by_sheet["open"][6] == 2 and by_sheet["open"][7] == pytest.approx(2 / 3, abs=0.01)
    assert by_sheet["tier of data"][7] == 1.0
    assert json.loads(by_sheet["June 17 to Sept 17"][8]) == {"June 17 to Sept 17": 7}
    # Spacer rows (5, 8, 9) inside the table: its rows run from 2 to 11, the total is 13.
    assert by_sheet["June 17 to Sept 17"][3:5] == (2, 11)
    header = _rows(db, "SELECT header_printed, header_fields FROM table_reports "
                   "WHERE source_file = ? AND sheet = 'open'", NPD)[0]
    assert json.loads(header[0])[:2] == ["Requestor", "DR reference"]
    assert json.loads(header[1])[:2] == ["organisation", "reference"]


def test_warnings_are_located_and_kinded(db: Path) -> None:
    got = set(_rows(db, "SELECT kind, source_sheet, source_row FROM ingest_warnings "
                    "WHERE source_file = ? AND kind <> 'reader'", NPD))
    assert got == {("total_row", "June 17 to Sept 17", 13), ("total_row", "open", 6),
                   ("two_dates", "open", 4), ("total_row", "live cases April 12 to May 17", 10)}
    # Total rows are never shares.
    assert _rows(db, "SELECT count(*) FROM shares WHERE raw_cells::VARCHAR LIKE '%Total%'") \
        == [(0,)]


def test_csv_encoding_reported_and_counts_refused(db: Path) -> None:
    enc = _rows(db, "SELECT kind, message FROM ingest_warnings WHERE source_file = ? AND "
                "kind LIKE 'encoding%'", STRAY)
    assert len(enc) == 1 and enc[0][0] == "encoding_repaired" and "line 6" in enc[0][1]
    assert _rows(db, "SELECT organisation FROM shares WHERE reference = 'DS00501'") == [
        ("Café Research Ltd",)]
    bad = _rows(db, "SELECT kind, source_row, message FROM ingest_warnings WHERE "
                "source_file = 'evil-june-2019.csv' AND kind IN ('bad_count', "
                "'unreadable_date') ORDER BY kind")
    assert [(k, r) for k, r, _ in bad] == [("bad_count", 5), ("unreadable_date", 5)]
    assert _rows(db, "SELECT number_of_pupils, number_of_pupils_raw FROM shares "
                 "WHERE reference = 'DS00902'") == [(None, "110 97 121")]


def test_masked_error_reports_the_first_one() -> None:
    """An INT64 overflow used to surface as "transaction is aborted" (the clean-up raised)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (release_id INTEGER, source_file VARCHAR, n BIGINT)")
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.ConversionException):
        _insert(con, "t", [{"n": 2**70}], {"release_id": 1, "source_file": "x.csv"})
    con.execute("ROLLBACK")


def test_implausible_count_never_reaches_the_database(tmp_path: Path) -> None:
    table = RawTable("dsap", "DSAP", ["Reference", "Organisation", "Number of pupils"],
                     sheet="s")
    table.rows = [RawRow(["DS1", "Org", "12345678901234567890123"], row=4, sheet="s")]
    norm = normalise(ParsedRelease("x.xlsx", "xlsx", tables=[table]))
    assert norm.shares[0]["number_of_pupils"] is None
    assert any(i["kind"] == "bad_count" and i["source_row"] == 4 and i["source_sheet"] == "s"
               for i in norm.issues)


def test_confidence_formula() -> None:
    table = RawTable("dsap", "t", ["Reference", "Organisation", "Mystery"])
    table.rows = [RawRow(["DS1", "A", ""], row=2), RawRow(["DS2", "B", "x"], row=3)]
    rep = table_report(table, 0, ["reference", "organisation", None], [])
    # header 0.5 + 0.5 * 2/3; rows 1; fill 1 - 0.25 * 1/6
    assert rep["confidence"] == round((0.5 + 0.5 * 2 / 3) * (1 - 0.25 / 6), 3)
    assert table_report(RawTable("dsap", "t", ["Reference"]), 0, ["reference"], [])[
        "confidence"] == 0.0


def test_cli_prints_a_line_per_table_and_summarises_unmapped(tmp_path: Path) -> None:
    """A 16,384-column sheet (XFD, the XLSX maximum) used to print 16,380 "unmapped column"
    lines; now ten and a count, and every column is still kept in unmapped_columns."""
    from openpyxl import Workbook

    wide = tmp_path / "dsap-wide-june-2019.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "DSAP"
    ws.append(["DfE external data shares approved by DSAP to June 2019"])
    ws.append(["Reference", "Organisation", "Purpose", *(f"Extra {i}" for i in range(16381))])
    ws.append(["DS00001", "Org", "P", *["v"] * 16381])
    wb.save(wide)
    db = tmp_path / "r.duckdb"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "extract", str(wide), "--db", str(db),
                           "--quiet"], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "  table 0: dsap, sheet 'DSAP', 1 rows, 0 warnings, confidence" in proc.stdout
    unmapped = [ln for ln in proc.stdout.splitlines() if "unmapped column kept" in ln]
    assert len(unmapped) == 10
    assert "... and 16,371 more unmapped columns" in proc.stdout
    assert len(proc.stdout.splitlines()) < 20
    assert _rows(db, "SELECT count(*) FROM unmapped_columns") == [(16381,)]


# --- the Release health page -------------------------------------------------------------------

@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def _health(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("NPD_DB", str(db))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.switch_page("views/health.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_health_page_lists_tables_warnings_and_where_to_check(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _health(db, monkeypatch)
    releases = at.dataframe[0].value
    assert set(releases["File"]) == {NPD, STRAY, "evil-june-2019.csv"}
    assert releases.set_index("File").loc[NPD, "Tables"] == 5
    npd_id = _rows(db, "SELECT release_id FROM releases WHERE source_file = ?", NPD)[0][0]
    at.selectbox(key="health_release").set_value(npd_id).run()
    assert not at.exception, at.exception
    tables, warnings = at.dataframe[1].value, at.dataframe[2].value
    assert list(tables["Where"]) == ["sheet 'tier of data'", "sheet 'June 17 to Sept 17'",
                                     "sheet 'open'", "sheet 'live cases April 12 to May 17'",
                                     "sheet 'Data classification key'"]
    assert list(tables["Rows"]) == [4, 7, 3, 5, 4]
    assert "Requestor → organisation" in tables["Header → field"].iloc[2]
    checks = dict(zip(warnings["Kind"] + " " + warnings["Check"], warnings["Share"],
                      strict=True))
    # The two-dates row is a stored share: linked; a total row is not a share: no link.
    assert checks["two_dates sheet 'open' row 4"].startswith("/share?ref=")
    assert not isinstance(checks["total_row sheet 'open' row 6"], str)
    first = tables["First row"].iloc[1]
    assert first.startswith("/share?ref=") and first.endswith(f"in={NPD}")


def test_health_page_shows_register_text_as_text(db: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    at = _health(db, monkeypatch)
    box = at.selectbox(key="health_release")
    evil = _rows(db, "SELECT release_id FROM releases WHERE source_file = "
                 "'evil-june-2019.csv'")[0][0]
    box.set_value(evil).run()
    assert not at.exception, at.exception
    messages = " ".join(at.dataframe[2].value["Message"])
    assert EVIL in messages  # shown in a table cell, as text
    md = [str(e.value) for kind in ("markdown", "caption", "header", "subheader")
          for e in getattr(at, kind)]
    bare = [re.sub(r"\\.", "", m) for m in md]
    assert not any(re.search(r"\]\(|<[a-z/]", m) for m in bare), md


def test_health_page_on_a_database_without_reports(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A database written before table reports existed: a plain notice, no exception."""
    db = tmp_path / "old.duckdb"
    src = tmp_path / "dsap-june-2019.csv"
    _evil_csv(src)
    ingest([src], db)
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE table_reports")
    at = _health(db, monkeypatch)
    assert any("before table reports were recorded" in str(i.value) for i in at.info)


def test_total_rows_are_never_shares_in_any_format() -> None:
    """A PDF's "Total | 110" row is no more a share than a sheet's; in a count table it
    would be counted twice."""
    shares = RawTable("dsap", "DSAP", ["Reference", "Organisation", "Number of pupils"],
                      first_page=3)
    shares.rows = [RawRow(["DS00001", "Org", "110"], row=1, page=3),
                   RawRow(["Total", "", "110"], row=2, page=3)]
    counts = RawTable("home_office", "Home Office", ["Month", "Individuals requested"])
    counts.rows = [RawRow(["July 2015", "110"], row=1, page=4),
                   RawRow(["Grand total", "110"], row=2, page=4)]
    norm = normalise(ParsedRelease("x.pdf", "pdf", tables=[shares, counts]))
    assert [s["reference"] for s in norm.shares] == ["DS00001"]
    assert [c["value"] for c in norm.counts] == [110]
    totals = [(i["source_page"], i["source_row"]) for i in norm.issues if i["kind"] == "total_row"]
    assert totals == [(3, 2), (4, 2)]
    assert [r["row_count"] for r in norm.reports] == [1, 1]
