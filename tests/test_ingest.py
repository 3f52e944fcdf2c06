"""Ingest as a user meets it: idempotent by content, a changed file replaces its release."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from extract.ingest import ingest
from tests.fixtures.model import FixtureSection
from tests.fixtures.sheetgen import write_register_sheet

TITLE = "DfE external third-party data shares (approved by DSAP from May 2018 to end of June 2019)"
HEADERS = ["Reference", "Organisation", "Project title", "Data shared", "Date approved", "Status"]
ROWS = [
    ["DS00628", "FFT Education Ltd", "Aspire school performance analysis",
     "UPN, date of birth, KS2 attainment, FSM eligibility", "2018-07-19", "Approved"],
    ["DS00702", "Times Newspapers Limited", "Exclusions of pupils with SEN",
     "Aggregate exclusion counts by SEN provision", "2018-09-03", "Approved"],
    ["DS00711", "University College London", "Millennium cohort linkage",
     "Names, home postcode, UPN, SEN provision", "", "Pending"],
]


def _write(path: Path, rows: list[list[str]]) -> None:
    write_register_sheet(path, [FixtureSection("dsap", TITLE, HEADERS, rows)],
                         title=TITLE, fmt="csv")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_unchanged_file_is_a_no_op_and_changed_file_replaces_its_release(tmp_path: Path) -> None:
    release = tmp_path / "dfe-external-data-shares-june-2019.csv"
    db = tmp_path / "npd.duckdb"
    _write(release, ROWS)

    [first] = ingest([release], db)
    assert (first.status, first.rows_by_section) == ("ingested", {"dsap": 3})
    before = _digest(db)
    [again] = ingest([release], db)
    assert again.status == "unchanged"
    assert _digest(db) == before

    # DfE republishes the same file name: one share withdrawn, one now approved.
    edited = [ROWS[0], [*ROWS[2][:4], "2019-06-02", "Approved"]]
    _write(release, edited)
    [replaced] = ingest([release], db)
    assert (replaced.status, replaced.rows_by_section) == ("replaced", {"dsap": 2})
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), max(sha256) FROM releases").fetchone() == (
            1, hashlib.sha256(release.read_bytes()).hexdigest())
        rows = con.execute(
            "SELECT reference, organisation, date_approved::VARCHAR, status, sector, source_row "
            "FROM shares ORDER BY reference").fetchall()
    assert [r[:4] for r in rows] == [
        ("DS00628", "FFT Education Ltd", "2018-07-19", "Approved"),
        ("DS00711", "University College London", "2019-06-02", "Approved"),
    ]
    assert [r[4] for r in rows] == ["commercial", "academic"]  # analysis re-ran on the new rows
    assert all(r[5] > 1 for r in rows)  # spreadsheet row numbers, below the title and header


def test_a_bad_file_in_a_folder_does_not_stop_the_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    _write(folder / "good.csv", ROWS)
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    (folder / "notes.txt").write_text("not a release; ignored in a folder")
    db = tmp_path / "npd.duckdb"
    results = {r.path.name: r for r in ingest([folder], db)}
    assert set(results) == {"good.csv", "broken.xlsx"}
    assert results["good.csv"].status == "ingested"
    assert results["broken.xlsx"].status == "failed" and results["broken.xlsx"].reason
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT source_file FROM releases").fetchall() == [("good.csv",)]
