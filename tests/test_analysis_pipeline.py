"""rebuild(con) over a realistic two-release database: organisations, sectors, flags, views.

The database is built the way ingest builds it (``writable`` + ``store_release`` with
in-memory ParsedReleases: a PDF-era release with pages and an ODS-era release with sheets),
once per session. Shares carry the same reference across releases, as in the real cumulative
register; ``share_key`` is set from the reference as extract.history would.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analysis.pipeline import rebuild
from extract.db import connect_readonly, writable
from extract.ingest import order_releases, store_release
from extract.model import ParsedRelease, RawRow, RawTable
from extract.normalise import normalise

HEADERS = ["Reference", "Organisation", "Project title", "Purpose", "Data shared",
           "Classification", "Legal basis", "Date approved", "Access route"]
NPD_HEADERS = ["Reference", "Requestor", "Project", "Data requested", "Tier of data",
               "Date first Extract sent / Date permission for re-use granted/ Date Application "
               "Rejected"]

FFT = ["DS00628", "FFT Education Ltd", "Aspire", "School improvement analyses for schools",
       "KS2 and KS4 attainment, UPN, pupil names and date of birth",
       "personal level data of sensitivity level C",
       "Education (Individual Pupil Information) (Prescribed Persons) (England) Regulations "
       "2009", "21/02/2019", "Secure file transfer"]
TIMES = ["DS00702", "Times Newspapers Limited", "Exclusions in England",
         "Journalism on exclusions", "Aggregate numbers of permanent exclusions by local "
         "authority; no pupil names", "Aggregate only", "", "pending", ""]
UCL = ["DS00703", "UCL", "Millennium cohort linkage", "Research on attainment",
       "De-identified pupil-level KS4 results, FSM eligibility, SEN provision",
       "de-identified personal level data of sensitivity level D",
       "Digital Economy Act 2017 s.64", "01/03/2019", "ONS Secure Research Service"]
BRISTOL = ["DS00710", "University of Bristol commissioned by the Department for Education",
           "Evaluation of tutoring", "Evaluation", "KS2 results for individual pupils",
           "de-identified personal level data of sensitivity level C", "", "05/05/2019",
           "ONS SRS"]
SCHOOLDASH = ["DS00711", "SchoolDash Limited", "School maps", "Product", "School level "
              "census counts", "Aggregate only", "", "06/06/2019", "Emailed spreadsheet"]
KENT = ["DS00712", "Kent County Council", "Children missing education",
        "Local authority duties", "Pupil names, home address, UPN, CIN status",
        "personal level data of sensitivity level B", "", "07/06/2019",
        "Secure file transfer"]


def _dsap(rows: list[list[str]], *, page: int | None, sheet: str | None) -> RawTable:
    title = "DfE external third-party data shares (approved by DSAP)"
    return RawTable("dsap", title, HEADERS,
                    [RawRow(r, i + 1, page=page, sheet=sheet) for i, r in enumerate(rows)],
                    first_page=page, sheet=sheet)


def release_2019() -> ParsedRelease:
    npd = RawTable("npd_requests", "National pupil database third party requests", NPD_HEADERS,
                   [RawRow(["DR130405.01", "The Daily Telegraph", "School performance story",
                            "KS4 results with pupil names", "Tier 2", "12/04/2013"], 1, page=4)],
                   first_page=4)
    police = RawTable("police", "Data shares with police and criminal investigation authorities",
                      ["Organisation", "Purpose", "Data shared"],
                      [RawRow(["Metropolitan Police", "Missing child",
                               "Name, address and school of the child"], 1, page=5)],
                      first_page=5)
    return ParsedRelease("SAMPLE_external_data_shares_to_end_of_June_2019.pdf", "pdf",
                         "External data shares to end of June 2019", 6,
                         [_dsap([FFT, TIMES, UCL, BRISTOL, SCHOOLDASH, KENT], page=2,
                                sheet=None), npd, police])


def release_2020() -> ParsedRelease:
    sheet = "DSAP approved shares"
    fft = list(FFT)
    fft[1] = "FFT EDUCATION LIMITED"
    times = list(TIMES)
    times[1] = "Times Newspapers Ltd"
    ucl = list(UCL)
    ucl[1] = "University College London (UCL)"
    bristol = list(BRISTOL)
    bristol[1] = "Univeristy of Bristol"
    capita = ["DS00802", "Capita plc", "Admissions system", "Service to local authorities",
              "Pupil names, addresses and dates of birth",
              "personal level data of sensitivity level E", "", "01/02/2020",
              "Secure file transfer"]
    las = ["DS00800", "Local Authorities", "LA data return", "Statutory returns",
           "Children in need census, pupil-level", "personal level data of sensitivity level B",
           "", "03/02/2020", "DfE secure environment"]
    blank = ["DS00803", "", "Unnamed", "Unknown", "Aggregate only", "", "", "", ""]
    return ParsedRelease("SAMPLE_external_data_shares_to_end_of_March_2020.ods", "ods",
                         "External data shares to end of March 2020", 7,
                         [_dsap([fft, times, ucl, bristol, capita, las, blank], page=None,
                                sheet=sheet)])


def _store(con: duckdb.DuckDBPyConnection, rel: ParsedRelease) -> None:
    store_release(con, Path(rel.source_file), f"sha-{rel.source_file}", rel, normalise(rel))


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "npd.duckdb"
    with writable(path) as con:
        for rel in (release_2019(), release_2020()):
            _store(con, rel)
        order_releases(con)
        # What extract.history does, minimally: one key per reference across releases.
        con.execute("UPDATE shares SET share_key = coalesce(reference, 'row' || share_id)")
        rebuild(con)
    return path


@pytest.fixture
def con(db: Path) -> duckdb.DuckDBPyConnection:
    c = connect_readonly(db)
    yield c
    c.close()


def _share(con: duckdb.DuckDBPyConnection, ref: str, file_part: str) -> tuple:
    return con.execute(
        """SELECT s.share_id, o.name, s.sector, s.identifying, s.pupil_level
           FROM shares s JOIN organisations o USING (organisation_id)
           WHERE s.reference = ? AND s.source_file LIKE ?""", [ref, f"%{file_part}%"]
    ).fetchone()


def test_every_share_points_to_one_organisation_with_its_sector(con) -> None:
    missing = con.execute(
        """SELECT count(*) FROM shares s LEFT JOIN organisations o USING (organisation_id)
           WHERE o.organisation_id IS NULL OR s.sector IS DISTINCT FROM o.sector"""
    ).fetchone()[0]
    assert missing == 0
    total = con.execute("SELECT count(*) FROM shares").fetchone()[0]
    assert total == 15


def test_spellings_resolve_to_one_organisation_across_releases(con) -> None:
    rows = dict(con.execute(
        """SELECT n.raw_name, o.name FROM organisation_names n
           JOIN organisations o USING (organisation_id)""").fetchall())
    assert rows["FFT Education Ltd"] == rows["FFT EDUCATION LIMITED"] == "FFT Education Ltd"
    assert rows["UCL"] == rows["University College London (UCL)"] == "University College London"
    assert rows["Times Newspapers Ltd"] == "Times Newspapers Limited"
    bristol = {"University of Bristol commissioned by the Department for Education",
               "Univeristy of Bristol"}
    assert {rows[b] for b in bristol} == {"University of Bristol"}
    assert rows[""] == "(recipient not stated)"


def test_commissioning_body_and_match_method_are_recorded(con) -> None:
    got = dict(con.execute(
        "SELECT raw_name, (match_method, commissioned_by) FROM organisation_names").fetchall())
    assert got["University of Bristol commissioned by the Department for Education"] == (
        "list", "the Department for Education")
    assert got["Univeristy of Bristol"][0] == "fuzzy_list"
    assert got["UCL"][0] == "alias"
    assert got["Local Authorities"][0] == "collective"


def test_sectors_reasons_and_collective(con) -> None:
    orgs = {name: (sector, reason, coll) for name, sector, reason, coll in con.execute(
        "SELECT name, sector, sector_reason, is_collective FROM organisations").fetchall()}
    assert orgs["FFT Education Ltd"][0] == "commercial"
    assert orgs["Capita plc"][0] == "commercial"
    assert orgs["Times Newspapers Limited"][0] == "press"
    assert orgs["Telegraph Media Group"][0] == "press"  # "The Daily Telegraph" is an alias
    assert orgs["Metropolitan Police Service"][0] == "police"
    assert orgs["Kent County Council"][0] == "local_authority"
    assert "council list (councils.csv): Kent, county council" in orgs["Kent County Council"][1]
    assert orgs["Local authorities (several)"] == (
        "local_authority", "collective recipient 'Local authorities (several)' (collective.csv)",
        True)
    assert orgs["(recipient not stated)"][0] == "unknown"


def test_share_level_flags(con) -> None:
    assert _share(con, "DS00628", "2019")[2:] == ("commercial", True, True)
    assert _share(con, "DS00702", "2019")[2:] == ("press", False, False)
    assert _share(con, "DS00703", "2020")[2:] == ("academic", False, True)
    assert _share(con, "DR130405.01", "2019")[2:] == ("press", True, True)
    share_id = _share(con, "DS00712", "2019")[0]
    flags = dict(con.execute("SELECT flag || ':' || value, evidence FROM share_flags "
                             "WHERE share_id = ?", [share_id]).fetchall())
    assert set(flags) == {"identifying:true", "pupil_level:true", "sensitive_category:cin_cla",
                          "leaves_dfe:true"}
    assert "'UPN'" in flags["identifying:true"]
    assert "secure file transfer" in flags["leaves_dfe:true"].casefold()
    police_id = con.execute("SELECT share_id FROM shares WHERE section = 'police'").fetchone()[0]
    leaves = con.execute("SELECT evidence FROM share_flags WHERE share_id = ? AND flag = "
                         "'leaves_dfe'", [police_id]).fetchone()[0]
    assert leaves.startswith("section 'data shares with police'")


def test_notes_explain_what_could_not_be_told(con) -> None:
    share_id = _share(con, "DS00702", "2019")[0]
    notes = dict(con.execute("SELECT flag, value FROM share_flag_notes WHERE share_id = ?",
                             [share_id]).fetchall())
    assert notes == {"pupil_level": "aggregate", "leaves_dfe": "unknown"}


def test_commercial_reuse_view_counts_and_rows_behind_them(con) -> None:
    got = con.execute(
        """SELECT release_file, organisation, shares, reference_list FROM v_commercial_reuse
           ORDER BY release_order, organisation""").fetchall()
    assert got == [
        ("SAMPLE_external_data_shares_to_end_of_June_2019.pdf", "FFT Education Ltd", 1,
         "DS00628"),
        ("SAMPLE_external_data_shares_to_end_of_March_2020.ods", "Capita plc", 1, "DS00802"),
        ("SAMPLE_external_data_shares_to_end_of_March_2020.ods", "FFT Education Ltd", 1,
         "DS00628"),
    ]
    rows = con.execute(
        """SELECT release_file, reference, source_page, source_sheet, source_row,
                  identifying_evidence FROM v_commercial_reuse_rows ORDER BY release_order,
                  reference""").fetchall()
    assert rows[0][:5] == ("SAMPLE_external_data_shares_to_end_of_June_2019.pdf", "DS00628",
                           2, None, 1)
    assert rows[1][:5] == ("SAMPLE_external_data_shares_to_end_of_March_2020.ods", "DS00628",
                           None, "DSAP approved shares", 1)
    assert rows[2][1] == "DS00802" and rows[2][4] == 5
    assert all("names" in r[5] for r in rows)
    # a count equals the number of rows behind it
    per_count = con.execute(
        """SELECT c.shares, (SELECT count(*) FROM v_commercial_reuse_rows r
                             WHERE r.release_id = c.release_id
                               AND r.organisation_id = c.organisation_id)
           FROM v_commercial_reuse c""").fetchall()
    assert all(a == b for a, b in per_count)


def test_press_shares_view(con) -> None:
    got = con.execute("SELECT organisation, reference, identifying FROM v_press_shares "
                      "ORDER BY release_order, reference").fetchall()
    assert got == [("Telegraph Media Group", "DR130405.01", True),
                   ("Times Newspapers Limited", "DS00702", False),
                   ("Times Newspapers Limited", "DS00702", False)]


def test_top_recipients_count_distinct_shares_not_rows(con) -> None:
    top = {r[0]: r[1:] for r in con.execute(
        """SELECT organisation, shares, identifying_pupil_level_shares, register_rows, releases,
                  shares_in_latest_release FROM v_top_recipients""").fetchall()}
    assert top["FFT Education Ltd"] == (1, 1, 2, 2, 1)
    assert top["University of Bristol"] == (1, 0, 2, 2, 1)
    assert top["Metropolitan Police Service"] == (1, 1, 1, 1, 0)


def test_identifying_over_time_and_by_sector(con) -> None:
    got = con.execute(
        """SELECT shares, identifying_pupil_level_shares, commercial_identifying_shares,
                  press_identifying_shares, pct_identifying
           FROM v_identifying_over_time ORDER BY release_order""").fetchall()
    # 2019: FFT, Kent, Telegraph, Met police of 8 rows; 2020: FFT, Capita and the local
    # authorities' "personal level data of sensitivity level B" of 7
    assert got == [(8, 4, 1, 1, 50.0), (7, 3, 2, 0, 42.9)]
    by_sector = con.execute(
        """SELECT release_order, sum(shares), sum(pct_of_release) FROM v_shares_by_sector
           GROUP BY release_order ORDER BY release_order""").fetchall()
    assert [(a, int(b)) for a, b, _ in by_sector] == [(1, 8), (2, 7)]
    assert all(abs(float(p) - 100) < 0.5 for _, _, p in by_sector)
    years = con.execute("SELECT year_approved, sector, shares FROM v_shares_by_sector_year "
                        "WHERE sector = 'commercial' ORDER BY year_approved").fetchall()
    assert years == [(2019, "commercial", 2), (2020, "commercial", 1)]


def test_rebuild_is_idempotent_and_ids_are_stable(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    query = """SELECT o.name, s.share_id, o.organisation_id, s.identifying
               FROM shares s JOIN organisations o USING (organisation_id) ORDER BY share_id"""
    flags_q = "SELECT * FROM share_flags ORDER BY ALL"
    with writable(copy) as c:
        before, flags_before = c.execute(query).fetchall(), c.execute(flags_q).fetchall()
        rebuild(c)
        assert c.execute(query).fetchall() == before
        assert c.execute(flags_q).fetchall() == flags_before
        # a new release with new recipients leaves existing organisation ids alone
        extra = ParsedRelease("SAMPLE_external_data_shares_to_end_of_June_2020.csv", "csv",
                              "External data shares to end of June 2020", None,
                              [_dsap([FFT, ["DS00900", "Sutton Trust", "Social mobility",
                                            "Research", "Aggregate only", "", "", "", ""]],
                                     page=None, sheet=None)])
        _store(c, extra)
        order_releases(c)
        rebuild(c)
        ids = dict(c.execute("SELECT name, organisation_id FROM organisations").fetchall())
    old = {name: oid for name, _, oid, _ in before}
    assert all(ids[name] == oid for name, oid in old.items())
    assert "The Sutton Trust" in ids


def test_rebuild_on_an_empty_database(tmp_path: Path) -> None:
    with writable(tmp_path / "empty.duckdb") as c:
        rebuild(c)
        assert c.execute("SELECT count(*) FROM organisations").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM v_identifying_over_time").fetchone()[0] == 0


def test_cli_rebuild(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.__main__ import main

    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    with writable(copy) as c:  # forget the analysis, as an old database would have it
        c.execute("DELETE FROM organisations")
        c.execute("UPDATE shares SET sector = NULL, organisation_id = NULL")
    assert main(["rebuild", "--db", str(copy)]) == 0
    c = connect_readonly(copy)
    try:
        assert c.execute("SELECT count(*) FROM shares WHERE sector IS NULL").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM organisations").fetchone()[0] > 5
    finally:
        c.close()
    assert main(["rebuild", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert capsys.readouterr().err.strip().endswith("none.duckdb: no database")
