"""Ingest as a user meets it: idempotent by content, a changed file replaces its release."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import duckdb
import pytest

from extract.db import DatabaseError
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


def test_same_content_under_another_name_is_not_counted_twice(tmp_path: Path) -> None:
    _write(tmp_path / "shares-june-2019.csv", ROWS)
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "register (1).csv").write_bytes(
        (tmp_path / "shares-june-2019.csv").read_bytes())
    db = tmp_path / "npd.duckdb"
    first, copy = ingest([tmp_path / "shares-june-2019.csv", tmp_path / "copy"], db)
    assert first.status == "ingested"
    assert copy.status == "duplicate"
    assert copy.reason == "same content as shares-june-2019.csv, already loaded; not counted twice"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM shares").fetchone() == (3,)


def test_two_files_of_one_name_in_one_call_are_refused_not_silently_replaced(
        tmp_path: Path) -> None:
    for folder, rows in (("a", ROWS), ("b", ROWS[:1])):
        (tmp_path / folder).mkdir()
        _write(tmp_path / folder / "register.csv", rows)
    db = tmp_path / "npd.duckdb"
    first, second = ingest([tmp_path / "a", tmp_path / "b"], db)
    assert first.status == "ingested"
    assert second.status == "failed"
    assert second.reason.startswith(f"another file named register.csv was loaded from {tmp_path}")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM shares").fetchone() == (3,)


def test_a_second_file_for_the_same_period_is_kept_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path / "shares-june-2019.csv", ROWS)
    _write(tmp_path / "shares-june-2019-corrected.csv", ROWS[:2])
    db = tmp_path / "npd.duckdb"
    first, second = ingest([tmp_path / "shares-june-2019.csv",
                            tmp_path / "shares-june-2019-corrected.csv"], db)
    assert (first.status, first.warnings) == ("ingested", [])
    assert second.status == "ingested"
    assert second.warnings == [
        "covers the same period (June 2019) as shares-june-2019.csv; both are kept and counted"]


def test_an_unreadable_name_fails_alone(tmp_path: Path) -> None:
    _write(tmp_path / "good.csv", ROWS)
    too_long = tmp_path / ("y" * 300 + ".csv")
    db = tmp_path / "npd.duckdb"
    good, bad = ingest([tmp_path / "good.csv", too_long], db)
    assert good.status == "ingested"
    assert (bad.status, bad.reason) == ("failed", "cannot read the file (file name too long)")


def test_a_file_that_is_not_a_database_is_named_and_left_alone(tmp_path: Path) -> None:
    _write(tmp_path / "good.csv", ROWS)
    not_db = tmp_path / "register.pdf"
    not_db.write_bytes(b"%PDF-1.7 this is a release, not a database")
    with pytest.raises(DatabaseError) as err:
        ingest([tmp_path / "good.csv"], not_db)
    assert str(err.value).startswith(f"{not_db}: not a usable DuckDB database")
    assert ".tmp" not in str(err.value)
    assert not_db.read_bytes() == b"%PDF-1.7 this is a release, not a database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.csv", "register.pdf"]


def test_folders_made_for_a_new_database_are_removed_when_nothing_loads(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    [result] = ingest([tmp_path / "empty.csv"], tmp_path / "new" / "sub" / "npd.duckdb")
    assert result.status == "failed"
    assert not (tmp_path / "new").exists()


def test_password_protected_ods_and_header_only_csv_get_their_real_reason(
        tmp_path: Path) -> None:
    # LibreOffice encrypts every part of a password-protected ODS and says so in its manifest.
    ods = tmp_path / "protected.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", b"\x8f\x13 encrypted bytes")
        zf.writestr("META-INF/manifest.xml", (
            '<manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
            '<manifest:encryption-data manifest:checksum-type="SHA1/1K"/>'
            '</manifest:file-entry></manifest:manifest>'))
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(",".join(HEADERS) + "\n", encoding="utf-8")
    results = ingest([ods, header_only], tmp_path / "npd.duckdb")
    assert [(r.status, r.reason) for r in results] == [
        ("failed", "the workbook is password-protected; save it without a password"),
        ("failed", "a register table header was found but the table has no rows"),
    ]
