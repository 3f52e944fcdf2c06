"""The spreadsheet reader on realistic ODS, XLSX and CSV releases written from ground truth.

Every fixture is written once per session by tests/fixtures/sheetgen.py from the sections
below; assertions compare what the reader returns with that ground truth (cell text, row
counts per section) and re-read the cited row from the file to prove the provenance.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from extract.model import IngestError, ParsedRelease, RawTable
from extract.normalise import normalise
from extract.sheets import read_spreadsheet
from extract.values import clean, parse_period
from tests.fixtures.model import FixtureSection
from tests.fixtures.sheetgen import DEFAULT_LEGEND, tab_name, write_register_sheet, written_table

REPO = Path(__file__).resolve().parents[1]
RELEASE_TITLE = "DfE external data shares: approved by DSAP from May 2018 to end of September 2023"
DSAP_TITLE = ("DfE external third-party data shares (approved by DSAP from May 2018 to end of "
              "September 2023)")
NPD_DATE = ("Date first Extract sent / Date permission for re-use granted/ Date Application "
            "Rejected")


def sections() -> list[FixtureSection]:
    """One release: every section of the 2019+ ODS, with the awkward cells real releases have."""
    dsap = FixtureSection(
        "dsap", DSAP_TITLE,
        ["Reference", "Organisation", "Project title", "Purpose", "Data shared",
         "Classification", "Legal gateway", "Date approved", "Date data released",
         "Access route", "Number of pupils"],
        [
            ["DS00628", "University College London",
             "Long-term outcomes of children in need",
             "To examine the educational outcomes of children in need and looked after "
             "children, to inform children's social care policy.",
             "Pupil level KS2 and KS4 attainment, CIN and CLA indicators, FSM eligibility, "
             "SEN provision. Pupil level and exam level files will also be provided.",
             "De-identified personal level data of sensitivity level B",
             "Digital Economy Act 2017 s.64", "2019-03-14", "2019-06-03",
             "ONS Secure Research Service", "640000"],
            ["DS00702", "FFT Education Ltd", "FFT Aspire school performance analysis",
             "Providing schools and local authorities with pupil progress estimates.",
             "Names, dates of birth, UPN, postcode, KS1 to KS4 attainment",
             "Personal level data of sensitivity level C",
             "Education (Individual Pupil Information) (Prescribed Persons) (England) "
             "Regulations 2009", "14/05/2019", "pending", "Secure file transfer", ""],
            ["DS00745", "Times Newspapers Limited", "Exclusions by school type",
             "Journalistic article on exclusion rates.", "Exclusions, school type, region",
             "Aggregated data", "", "2019-09-30", "", "Secure file transfer", "12"],
            ["DS00811", "Education Policy Institute", "Disadvantage gap",
             "Measuring the attainment gap between disadvantaged pupils and their peers.",
             "FSM eligibility, ethnicity, first language, KS4 attainment",
             "De-identified personal level data of sensitivity level C",
             "Data Protection Act 2018", "Mar-20", "2020-05-11",
             "ONS Secure Research Service", "5100000"],
            ["DS00902", "Birmingham City Council", "", "", "", "", "", "", "", "", ""],
        ],
        notes=["Shares approved by the Data Sharing Approval Panel (DSAP). Dates are the date "
               "of the panel decision."],
    )
    regular = FixtureSection(
        "regular",
        "Regular DfE external third-party data shares supported by data sharing agreements",
        ["Organisation", "Agreement", "Purpose", "Data shared", "Legal basis", "Date agreed",
         "Number of records"],
        [
            ["Department for Work and Pensions", "LEO: longitudinal education outcomes",
             "Linking education and benefits records for research on outcomes.",
             "UPN, names, date of birth, postcode, KS4 and KS5 attainment",
             "Small Business, Enterprise and Employment Act 2015 s.87", "2016-12-01",
             "12000000"],
            ["Ofsted", "School inspection data",
             "Risk assessment of schools ahead of inspection.",
             "School level attainment and absence", "Education and Inspections Act 2006",
             "2018-04-01", ""],
        ],
    )
    npd = FixtureSection(
        "npd_requests",
        "Third-party requests for data from the National Pupil Database (approved prior to "
        "April 2018 where data is still held by the requestor)",
        ["DR reference", "Requestor", "Project name", "Data requested", "Tier of data",
         NPD_DATE],
        [
            ["DR170221.02", "SchoolDash Limited", "School maps",
             "School level data, pupil characteristics", "Tier 2", "2017-03-20"],
            ["DR161104.01", "University of Bristol", "Teacher quality and pupil attainment",
             "Pupil level KS2 attainment, FSM, SEN", "Tier 1", "pending"],
            ["DR150618.03", "BBC", "Newsnight: exclusions", "Exclusions by reason",
             "Tier 3", "Application Rejected"],
        ],
    )
    home = FixtureSection(
        "home_office", "Data shares with Home Office",
        ["Month", "Number of individuals requested", "Number of individuals matched"],
        [["July 2015", "110", "28"], ["August 2015", "97", "31"],
         ["September 2015", "121", "40"], ["October 2015", "0", "0"]],
        notes=["Requests for the last known address of individuals, for immigration "
               "enforcement."],
    )
    police = FixtureSection(
        "police", "Data shares with police and criminal investigation authorities",
        ["Reference", "Requesting organisation", "Purpose", "Data shared", "Date of decision"],
        [["R0042", "Metropolitan Police Service",
          "Locating a missing child at risk of harm.", "Name, address, school attended",
          "2019-02-11"],
         ["R0057", "Kent Police", "Serious crime investigation.",
          "Name, date of birth, address", "2020-07-01"]],
    )
    court = FixtureSection(
        "court_orders", "Data shares through court orders",
        ["Reference", "Court", "Purpose", "Data shared", "Date of order"],
        [["R0061", "Family Court at Leeds", "Locating a child subject to proceedings.",
          "Name, address, school attended", "2021-01-15"]],
    )
    return [dsap, regular, npd, home, police, court]


FOOTNOTES = ["Source: Department for Education, data sharing approval panel records.",
             "* Dates before May 2018 are the date of the original request."]
XLSX_OPTIONS = {"extra_column": "Internal notes", "rename": {"Organisation": "Recipient"},
                "column_order": "reversed", "start_column": 1, "blank_row_after": 2}
FILES = {
    # name: (format, options)
    "release.ods": ("ods", {"footnotes": FOOTNOTES}),
    "release.xlsx": ("xlsx", {**XLSX_OPTIONS, "footnotes": FOOTNOTES[:1]}),
    "dsap-export-september-2023.csv": ("csv", {"encoding": "cp1252", "delimiter": ";"}),
    "all-tabs.csv": ("csv", {"footnotes": FOOTNOTES[:1], "extra_column": "Internal notes"}),
}


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sheets")
    out: dict[str, Path] = {}
    for name, (fmt, options) in FILES.items():
        secs = sections()[:1] if name.startswith("dsap-export") else sections()
        if name.startswith("dsap-export"):  # typographic apostrophe: cp1252-only byte
            secs[0].rows[0][3] = secs[0].rows[0][3].replace("children's", "children’s")
        legend = DEFAULT_LEGEND if fmt != "csv" else None
        write_register_sheet(root / name, secs, title=RELEASE_TITLE, fmt=fmt, legend=legend,
                             **options)
        out[name] = root / name
    return out


@pytest.fixture(scope="session")
def parsed(files: dict[str, Path]) -> dict[str, ParsedRelease]:
    return {name: read_spreadsheet(path) for name, path in files.items()}


def _expected(name: str) -> list[FixtureSection]:
    secs = sections()
    if name.startswith("dsap-export"):
        secs = secs[:1]
        secs[0].rows[0][3] = secs[0].rows[0][3].replace("children's", "children’s")
    return secs


def _share_tables(p: ParsedRelease) -> list[RawTable]:
    return [t for t in p.tables if t.section != "legend"]


# --- content -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(FILES))
def test_every_section_read_with_exact_cells(name: str, parsed: dict[str, ParsedRelease]) -> None:
    p = parsed[name]
    _, options = FILES[name]
    expected = _expected(name)
    tables = _share_tables(p)
    assert [t.section for t in tables] == [s.key for s in expected]
    for table, sec in zip(tables, expected, strict=True):
        headers, rows = written_table(sec, **options)
        assert table.headers == headers, sec.key
        assert [r.cells for r in table.rows] == rows, sec.key
        assert table.title == sec.title


def test_layout_options_really_changed_the_file(parsed: dict[str, ParsedRelease]) -> None:
    """Guard: the XLSX really has reversed, renamed and extra columns (the test above then
    proves the reader follows them)."""
    dsap = _share_tables(parsed["release.xlsx"])[0]
    assert dsap.headers[0] == "Number of pupils" and "Recipient" in dsap.headers
    assert "Internal notes" in dsap.headers and "Organisation" not in dsap.headers


def test_cp1252_semicolon_csv(files: dict[str, Path], parsed: dict[str, ParsedRelease]) -> None:
    data = files["dsap-export-september-2023.csv"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\x92" in data and data.count(b";") > 20
    row = _share_tables(parsed["dsap-export-september-2023.csv"])[0].rows[0]
    assert "children’s social care" in row.cells[3]


def test_typed_cells_become_text(parsed: dict[str, ParsedRelease]) -> None:
    """Date cells -> ISO text, number cells -> '640000' (not '640000.0'), line breaks -> space."""
    dsap = _share_tables(parsed["release.ods"])[0]
    first = dict(zip(dsap.headers, dsap.rows[0].cells, strict=True))
    assert first["Date approved"] == "2019-03-14"
    assert first["Number of pupils"] == "640000"
    assert first["Legal gateway"] == "Digital Economy Act 2017 s.64"
    assert "\n" not in first["Data shared"] and "  " not in first["Data shared"]
    second = dict(zip(dsap.headers, dsap.rows[1].cells, strict=True))
    assert second["Date approved"] == "14/05/2019" and second["Date data released"] == "pending"
    assert second["Number of pupils"] == ""


def test_blank_cells_kept_blank_rows_skipped(parsed: dict[str, ParsedRelease]) -> None:
    dsap = _share_tables(parsed["release.xlsx"])[0]
    # The writer put a fully blank row after the second data row: rows 3 and 4 are not adjacent.
    numbers = [r.row for r in dsap.rows]
    assert numbers[2] == numbers[1] + 2 and numbers[3] == numbers[2] + 1
    sparse = _share_tables(parsed["release.ods"])[0].rows[-1].cells
    assert sparse[:2] == ["DS00902", "Birmingham City Council"]  # the rest blank, but kept
    assert sparse[2:] == [""] * 9


# --- provenance ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["release.ods", "release.xlsx"])
def test_row_numbers_point_at_the_row_in_the_sheet(name: str, files: dict[str, Path],
                                                   parsed: dict[str, ParsedRelease]) -> None:
    wb = CalamineWorkbook.from_path(str(files[name]))
    p = parsed[name]
    checked = 0
    for table in p.tables:
        grid = wb.get_sheet_by_name(table.sheet).to_python(skip_empty_area=False)
        for row in table.rows:
            assert row.page is None and row.sheet == table.sheet
            sheet_cells = [clean(c) for c in grid[row.row - 1]]
            assert [c for c in sheet_cells if c] == [c for c in row.cells if c]
            checked += 1
    assert checked == sum(len(s.rows) for s in sections()) + len(DEFAULT_LEGEND) - 1


def test_csv_row_numbers_are_records(files: dict[str, Path],
                                     parsed: dict[str, ParsedRelease]) -> None:
    """Multi-line quoted cells are one row, as a spreadsheet shows the CSV."""
    text = files["all-tabs.csv"].read_text(encoding="utf-8-sig")
    records = list(csv.reader(io.StringIO(text)))
    assert text.count("\n") > len(records)  # some records span several lines
    for table in parsed["all-tabs.csv"].tables:
        for row in table.rows:
            assert row.sheet is None
            assert [clean(c) for c in records[row.row - 1] if c] == [c for c in row.cells if c]


def test_tab_names_truncated_and_sections_from_title_rows(
        files: dict[str, Path], parsed: dict[str, ParsedRelease]) -> None:
    names = CalamineWorkbook.from_path(str(files["release.ods"])).sheet_names
    assert names[0] == "classification of data"
    assert names[1] == DSAP_TITLE[:31] == tab_name(DSAP_TITLE)
    assert all(len(n) <= 31 for n in names)
    p = parsed["release.ods"]
    assert p.page_count == len(names) == 7
    assert [t.sheet for t in p.tables] == names


def test_sections_from_tab_names_when_no_title_rows(tmp_path: Path) -> None:
    path = tmp_path / "no-titles.xlsx"
    tabs = ["DSAP", "Regular data shares", "NPD third party requests", "Home Office",
            "Police", "Court orders"]
    write_register_sheet(path, sections(), title=RELEASE_TITLE, fmt="xlsx", title_rows=False,
                         tab_names=tabs)
    p = read_spreadsheet(path)
    assert [(t.section, t.sheet) for t in p.tables] == list(
        zip([s.key for s in sections()], tabs, strict=True))
    assert all(t.rows[0].row == 2 for t in p.tables)  # header on row 1


# --- legend, counts, unmapped columns, notes ----------------------------------------------------

def test_legend_is_not_shares(parsed: dict[str, ParsedRelease]) -> None:
    p = parsed["release.ods"]
    legend = [t for t in p.tables if t.section == "legend"]
    assert len(legend) == 1 and legend[0].headers == DEFAULT_LEGEND[0]
    assert [r.cells for r in legend[0].rows] == DEFAULT_LEGEND[1:]
    norm = normalise(p)
    assert len(norm.legend) == len(DEFAULT_LEGEND) - 1
    assert {s["section"] for s in norm.shares} == {"dsap", "regular", "npd_requests", "police",
                                                   "court_orders"}
    assert not any("Instant identifier" in s["raw_cells"] for s in norm.shares)


@pytest.mark.parametrize("name", ["release.ods", "release.xlsx", "all-tabs.csv"])
def test_normalised_sections_and_home_office_counts(name: str,
                                                    parsed: dict[str, ParsedRelease]) -> None:
    norm = normalise(parsed[name])
    expected = {s.key: len(s.rows) for s in sections() if s.key != "home_office"}
    home = next(s for s in sections() if s.key == "home_office")
    expected["home_office"] = len(home.rows)  # one source row per month (two measures)
    assert norm.rows_by_section() == expected
    assert len([c for c in norm.counts if c["section"] == "home_office"]) == 2 * len(home.rows)
    counts = {(c["period_label"], c["measure"]): c["value"] for c in norm.counts}
    assert counts[("July 2015", "Number of individuals requested")] == 110
    assert counts[("September 2015", "Number of individuals matched")] == 40
    assert counts[("October 2015", "Number of individuals matched")] == 0
    aug = next(c for c in norm.counts if c["period_label"] == "August 2015")
    assert aug["period_start"] == dt.date(2015, 8, 1)
    dsap = [s for s in norm.shares if s["section"] == "dsap"]
    assert dsap[0]["date_approved"] == dt.date(2019, 3, 14)
    assert dsap[0]["number_of_pupils"] == 640000
    assert dsap[3]["date_approved"] == dt.date(2020, 3, 1)  # "Mar-20"
    assert dsap[1]["date_released"] is None and dsap[1]["date_released_raw"] == "pending"


def test_unknown_columns_kept(parsed: dict[str, ParsedRelease]) -> None:
    norm = normalise(parsed["release.xlsx"])
    unmapped = {(u["section"], u["header"]) for u in norm.unmapped}
    assert ("dsap", "Internal notes") in unmapped and ("court_orders", "Court") in unmapped
    # "Date of order" is the court order's date (issue 8: dates under other names), no
    # longer an unmapped "period" column.
    assert ("court_orders", "Date of order") not in unmapped
    dsap = [s for s in norm.shares if s["section"] == "dsap"]
    assert '"Internal notes": "Internal notes 1"' in dsap[0]["extra_cells"]
    assert dsap[0]["organisation"] == "University College London"  # renamed header mapped
    court = next(s for s in norm.shares if s["section"] == "court_orders")
    assert json.loads(court["extra_cells"]) == {"Court": "Family Court at Leeds",
                                                "Internal notes": "Internal notes 1"}
    assert court["date_approved"] == dt.date(2021, 1, 15)


@pytest.mark.parametrize("name", ["release.ods", "release.xlsx", "all-tabs.csv"])
def test_footnotes_are_warnings_not_shares(name: str, parsed: dict[str, ParsedRelease]) -> None:
    p = parsed[name]
    _, options = FILES[name]
    notes = options["footnotes"]
    all_cells = [c for t in p.tables for r in t.rows for c in r.cells]
    for note in notes:
        assert note not in all_cells
        assert any(note[:40] in w for w in p.warnings), p.warnings


def test_release_title_and_period(parsed: dict[str, ParsedRelease]) -> None:
    for name in ("release.ods", "release.xlsx"):  # document title set by the publisher
        assert parsed[name].title == RELEASE_TITLE
    assert parsed["all-tabs.csv"].title == DSAP_TITLE  # first title row of the first table
    for p in parsed.values():
        assert parse_period(p.title or "") == ("September 2023", dt.date(2023, 9, 30))


@pytest.mark.parametrize(("text", "label"), [
    ("National pupil database third party requests: live cases April 12 to May 17",
     "May 2017"),
    ("NPD requests June 17 to Sept 17", "September 2017"),
    ("Data shares to end of June 2023, published 3 August 2023", "June 2023"),
    ("Published 3 August 2023: DfE external data shares June 2023", "June 2023"),
    ("Register as at 30 September 2023", "September 2023"),
])
def test_period_of_older_and_wordier_titles(text: str, label: str) -> None:
    period = parse_period(text)
    assert period is not None and period[0] == label


def test_title_from_first_row_when_no_document_title(tmp_path: Path) -> None:
    path = tmp_path / "shares.xlsx"
    write_register_sheet(path, sections()[:2], title="", fmt="xlsx")
    assert read_spreadsheet(path).title == DSAP_TITLE


def test_progress_callback_per_sheet(files: dict[str, Path]) -> None:
    calls: list[tuple[int, int]] = []
    read_spreadsheet(files["release.xlsx"], lambda d, t: calls.append((d, t)))
    assert calls == [(i, 7) for i in range(1, 8)]


def test_repeated_header_and_single_cell_rows_inside_table(tmp_path: Path) -> None:
    """A header repeated mid-table is dropped; a row with one filled cell between data rows is
    a (sparse) share, not a note."""
    sec = sections()[0]
    headers = sec.headers
    lines = [[DSAP_TITLE], [], headers, sec.rows[0], headers, ["DS00999"], sec.rows[2]]
    path = tmp_path / "repeat.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(lines)
    table = read_spreadsheet(path).tables[0]
    assert [r.row for r in table.rows] == [4, 6, 7]
    assert table.rows[1].cells[0] == "DS00999" and not any(table.rows[1].cells[1:])


def test_excel_sep_line_and_two_cell_footnote(tmp_path: Path) -> None:
    """Excel's hidden "sep=;" line sets the delimiter and is not a row; a "Source:" | "DfE"
    footnote under the table is a note even though it fills two cells."""
    sec = sections()[2]  # NPD requests: its verbatim header contains slashes, no semicolons
    path = tmp_path / "npd-requests.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        fh.write("sep=;\r\n")
        w = csv.writer(fh, delimiter=";")
        w.writerows([[sec.title], sec.headers, *sec.rows, [], ["Source:", "DfE NPD team"]])
    p = read_spreadsheet(path)
    table = p.tables[0]
    assert table.section == "npd_requests" and table.headers == sec.headers
    assert [r.cells for r in table.rows] == sec.rows
    assert [r.row for r in table.rows] == [3, 4, 5]  # title row 1, header row 2
    assert any("row 7" in w and "Source:" in w for w in p.warnings)


def test_old_workbook_tabs_take_section_from_file_name(tmp_path: Path) -> None:
    """2012-2018 NPD workbooks: tabs "open", "June 17 to Sept 17" with no title rows; the
    file says what they are."""
    sec = sections()[2]
    path = tmp_path / "National_pupil_database_third_party_requests_September_2017.xlsx"
    closed = FixtureSection(sec.key, sec.title, sec.headers, sec.rows[:2])
    still_open = FixtureSection(sec.key, sec.title, sec.headers, sec.rows[2:])
    write_register_sheet(path, [closed, still_open], title="", fmt="xlsx", title_rows=False,
                         tab_names=["June 17 to Sept 17", "open"])
    p = read_spreadsheet(path)
    assert [(t.section, t.sheet, len(t.rows)) for t in p.tables] == [
        ("npd_requests", "June 17 to Sept 17", 2), ("npd_requests", "open", 1)]
    assert sum("taken from the file's name" in w for w in p.warnings) == 2
    assert parse_period(p.title or "") == ("September 2017", dt.date(2017, 9, 30))


def test_section_unknown_is_kept_with_a_warning(tmp_path: Path) -> None:
    sec = sections()[0]
    path = tmp_path / "my_export.csv"
    write_register_sheet(path, [sec], title="", fmt="csv", csv_title_row=False)
    p = read_spreadsheet(path)
    assert p.tables[0].section == "unknown" and len(p.tables[0].rows) == len(sec.rows)
    assert any("section not recognised" in w for w in p.warnings)


def test_count_tab_with_unfamiliar_header(tmp_path: Path) -> None:
    """A Home Office tab headed "Month | Requested | Matched" (one known field) is still read
    from its title; its footnote is a warning, not a month."""
    home = FixtureSection("home_office", "Data shares with Home Office",
                          ["Month", "Requested", "Matched"],
                          [["July 2015", "110", "28"], ["August 2015", "97", "31"]])
    path = tmp_path / "home-office.xlsx"
    write_register_sheet(path, [home], title=RELEASE_TITLE, fmt="xlsx",
                         footnotes=["Source: Home Office"])
    p = read_spreadsheet(path)
    assert [(t.section, t.headers) for t in p.tables] == [("home_office", home.headers)]
    assert [r.cells for r in p.tables[0].rows] == home.rows
    assert any("Source: Home Office" in w for w in p.warnings)
    norm = normalise(p)
    assert [(c["period_label"], c["measure"], c["value"]) for c in norm.counts] == [
        ("July 2015", "Requested", 110), ("July 2015", "Matched", 28),
        ("August 2015", "Requested", 97), ("August 2015", "Matched", 31)]


def test_tab_with_no_table_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "release.xlsx"
    write_register_sheet(path, sections()[:1], title=RELEASE_TITLE, fmt="xlsx",
                         extra_tabs={"Police": [["Data shares with police"], [],
                                                ["There were no shares with police in this "
                                                 "period."]]})
    p = read_spreadsheet(path)
    assert [t.sheet for t in p.tables] == [tab_name(DSAP_TITLE)]
    assert p.page_count == 2
    assert any("'Police'" in w and "not read" in w for w in p.warnings)


def test_stacked_tables_with_identical_headers_stay_apart(tmp_path: Path) -> None:
    """Police and court-order tabs pasted one under the other share a header row: the title
    row between them starts a new table (a bare repeated header would not)."""
    police, court = sections()[4], sections()[5]
    court = FixtureSection(court.key, court.title, police.headers,
                           [["R0061", "Family Court at Leeds", "Locating a child.", "Name",
                             "2021-01-15"]])
    path = tmp_path / "police-and-courts.csv"
    write_register_sheet(path, [police, court], title="", fmt="csv")
    p = read_spreadsheet(path)
    assert [(t.section, len(t.rows)) for t in p.tables] == [("police", 2), ("court_orders", 1)]


def test_cli_ingests_spreadsheets_with_provenance(files: dict[str, Path], tmp_path: Path,
                                                  bad_files: dict[str, Path]) -> None:
    """End to end: three releases and one bad file in one call; the good ones are stored with
    sheet/row provenance, the bad one is one error line."""
    import duckdb

    db = tmp_path / "register.duckdb"
    bad = bad_files["garbage.xlsx"]
    good = [files["release.ods"], files["release.xlsx"], files["all-tabs.csv"]]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "extract", *map(str, good), str(bad),
                           "--db", str(db), "--quiet"], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {bad}: {_reason_of(bad)}"], proc.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        releases = con.execute("SELECT source_file, format, title, period_end, page_count "
                               "FROM releases ORDER BY source_file").fetchall()
        assert releases == [
            ("all-tabs.csv", "csv", DSAP_TITLE, dt.date(2023, 9, 30), 1),
            ("release.ods", "ods", RELEASE_TITLE, dt.date(2023, 9, 30), 7),
            ("release.xlsx", "xlsx", RELEASE_TITLE, dt.date(2023, 9, 30), 7)]
        per_section = dict(con.execute(
            "SELECT section, count(*) FROM shares WHERE source_file = 'release.ods' "
            "GROUP BY section").fetchall())
        assert per_section == {s.key: len(s.rows) for s in sections() if s.key != "home_office"}
        row = con.execute(
            "SELECT source_sheet, source_row, source_page, organisation, date_approved "
            "FROM shares WHERE source_file = 'release.xlsx' AND reference = 'DS00628'"
        ).fetchone()
        assert row == (tab_name(DSAP_TITLE), 5, None, "University College London",
                       dt.date(2019, 3, 14))
        # Row 5: title, note, blank, header above it. Re-read the row to prove it.
        grid = CalamineWorkbook.from_path(str(files["release.xlsx"])).get_sheet_by_name(
            row[0]).to_python(skip_empty_area=False)
        assert "DS00628" in grid[row[1] - 1]
        legend = con.execute("SELECT count(*) FROM legend_rows WHERE source_file = "
                             "'release.ods'").fetchone()
        assert legend == (len(DEFAULT_LEGEND) - 1,)
        counts = con.execute("SELECT sum(value) FROM count_rows WHERE source_file = "
                             "'all-tabs.csv' AND measure = 'Number of individuals requested'"
                             ).fetchone()
        assert counts == (110 + 97 + 121 + 0,)


# --- bad input -----------------------------------------------------------------------------------

def _budget_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Budget 2023-24"
    ws.append(["Children's services budget 2023-24"])
    ws.append([])
    ws.append(["Budget line", "2022-23", "2023-24", "Change"])
    ws.append(["Staffing", 1200000, 1250000, 50000])
    ws.append(["Transport", 300000, 280000, -20000])
    wb.save(path)


# Damaged ODS files (issue 13): each used to say "Cannot detect file format".
_ODS_DAMAGE = {
    "cut-content.ods": lambda n, d: d[: len(d) // 2] if n == "content.xml" else d,
    "no-content.ods": lambda n, d: None if n == "content.xml" else d,
    "text-document.ods": lambda n, d: (b"application/vnd.oasis.opendocument.text"
                                       if n == "mimetype" else d),
    "no-manifest.ods": lambda n, d: None if n == "META-INF/manifest.xml" else d,
}


def _bad_files(root: Path) -> dict[str, Path]:
    out = {}
    out["garbage.ods"] = root / "garbage.ods"
    out["garbage.ods"].write_bytes(bytes(range(256)) * 20)
    out["garbage.xlsx"] = root / "garbage.xlsx"
    out["garbage.xlsx"].write_bytes(b"PK\x03\x04" + os.urandom(2000))
    out["notes.xlsx"] = root / "notes.xlsx"
    with zipfile.ZipFile(out["notes.xlsx"], "w") as zf:
        zf.writestr("README.txt", "not a workbook")
    out["truncated.xlsx"] = root / "truncated.xlsx"  # a register whose sheet XML is cut off
    whole = root / "whole.xlsx"
    write_register_sheet(whole, sections()[:1], title=RELEASE_TITLE, fmt="xlsx")
    with zipfile.ZipFile(whole) as zin, zipfile.ZipFile(out["truncated.xlsx"], "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data[: len(data) // 2] if "worksheets/" in info.filename
                          else data)
    whole_ods = root / "whole.ods"
    write_register_sheet(whole_ods, sections()[:1], title=RELEASE_TITLE, fmt="ods")
    for name, change in _ODS_DAMAGE.items():
        out[name] = root / name
        with zipfile.ZipFile(whole_ods) as zin, zipfile.ZipFile(out[name], "w") as zout:
            for info in zin.infolist():
                data = change(info.filename, zin.read(info))
                if data is not None:
                    zout.writestr(info, data)
    out["budget.xlsx"] = root / "budget.xlsx"
    _budget_xlsx(out["budget.xlsx"])
    out["blank.csv"] = root / "blank.csv"
    out["blank.csv"].write_bytes(b"\xef\xbb\xbf\r\n\r\n  \r\n")
    out["minutes.csv"] = root / "minutes.csv"
    out["minutes.csv"].write_text("Item,Minutes\n1,Apologies received\n2,Budget agreed\n",
                                  encoding="utf-8")
    out["binary.csv"] = root / "binary.csv"
    out["binary.csv"].write_bytes(b"\x00\x01\x02garbage\x00" * 50)
    return out


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _bad_files(tmp_path_factory.mktemp("bad"))


REASONS = {
    "garbage.ods": "not a spreadsheet",
    "garbage.xlsx": "damaged zip",
    "notes.xlsx": "zip archive that is not a spreadsheet",
    "truncated.xlsx": "could not read the XLSX workbook (damaged file?)",
    "cut-content.ods": "content.xml is not well-formed XML (",
    "no-content.ods": "the ODS has no content.xml",
    "text-document.ods": "'application/vnd.oasis.opendocument.text', not a spreadsheet",
    "no-manifest.ods": "no META-INF/manifest.xml",
    "budget.xlsx": "no register table found",
    "blank.csv": "has no rows",
    "minutes.csv": "no register table found",
    "binary.csv": "binary",
}


@pytest.mark.parametrize("name", list(REASONS))
def test_bad_files_refused_with_reason(name: str, bad_files: dict[str, Path]) -> None:
    path = bad_files[name]
    with pytest.raises(IngestError) as exc:
        read_spreadsheet(path)
    reason = str(exc.value)
    assert REASONS[name] in reason and "\n" not in reason and len(reason) < 200


def test_no_header_message_says_what_is_missing(bad_files: dict[str, Path]) -> None:
    """It used to read "the CSV file has a header row naming ...": the opposite of meant."""
    assert _reason_of(bad_files["minutes.csv"]) == (
        "no register table found: the CSV file has no header row naming organisations, "
        "projects or purposes")
    assert _reason_of(bad_files["budget.xlsx"]).startswith(
        "no register table found: no sheet has a header row naming")


def test_xlsx_misnamed_as_ods_is_read(files: dict[str, Path], tmp_path: Path) -> None:
    """Content decides the format: a workbook saved with the wrong extension still reads."""
    path = tmp_path / "release-september-2023.ods"
    path.write_bytes(files["release.xlsx"].read_bytes())
    p = read_spreadsheet(path)
    assert p.format == "xlsx" and len(_share_tables(p)) == 6


def test_cli_refuses_bad_spreadsheets_and_keeps_db(tmp_path: Path,
                                                   bad_files: dict[str, Path]) -> None:
    from extract.db import writable

    db = tmp_path / "register.duckdb"
    with writable(db):  # an existing database (schema only)
        pass
    before = db.read_bytes()
    names = ["garbage.ods", "garbage.xlsx", "notes.xlsx", "truncated.xlsx", "budget.xlsx",
             "blank.csv", "minutes.csv", "binary.csv"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "extract", *(str(bad_files[n]) for n in names),
                           "--db", str(db), "--quiet"], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    # One line per file, naming it, with the reader's reason (no traceback, no wrapping).
    assert errors == [f"error: {bad_files[n]}: {_reason_of(bad_files[n])}" for n in names], \
        proc.stderr
    assert all(REASONS[n] in line for n, line in zip(names, errors, strict=True))
    assert "Traceback" not in proc.stderr
    assert db.read_bytes() == before


def _reason_of(path: Path) -> str:
    try:
        read_spreadsheet(path)
    except IngestError as exc:
        return str(exc)
    raise AssertionError(f"{path} was read")


def test_header_inside_a_table_judged_against_its_own_header(tmp_path: Path) -> None:
    """Issue 8, kind 4. After a spacer row, "DR170704.03 | ... | Tier 1 | Data sent" names
    two fields but holds a reference: data. A pasted header whose every cell names a field
    starts a new table, its section read from its recipient column ("Police Force")."""
    path = tmp_path / "npd-third-party-requests-june-2017.csv"
    head = ["DR reference", "Requestor", "Tier of data", "Status"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([
            ["National pupil database third party requests June 2017"], head,
            ["DR170603.01", "University of Oxford", "Tier 2", "Data sent"], [],
            ["DR170704.03", "The Daily Telegraph", "Tier 1", "Data sent"], [], [],
            ["DR170718.01", "FFT Education Ltd", "Tier 1", "Data sent"], [],
            ["Police Force", "Reason for Request", "Data Provided", "Date of Request"],
            ["Thames Valley Police", "Missing child", "Address", "02/02/2017"]])
    p = read_spreadsheet(path)
    assert [(t.section, [r.row for r in t.rows]) for t in p.tables] == [
        ("npd_requests", [3, 5, 8]), ("police", [11])]
    assert any("recipient column's header" in w for w in p.warnings)


def test_sub_heading_rows_are_not_shares(tmp_path: Path) -> None:
    """A one-cell "Closed cases" row grouping rows keyed by references is a heading: reported,
    never a share. A lone reference between rows stays a (sparse) share."""
    path = tmp_path / "npd-third-party-requests-june-2017.csv"
    head = ["DR reference", "Requestor", "Tier of data"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([
            ["National pupil database third party requests June 2017"], head,
            ["Open cases"], ["DR170603.01", "University of Oxford", "Tier 2"],
            ["DR170604.01"], ["Closed cases"], ["DR170101.02", "BBC", "Tier 3"]])
    p = read_spreadsheet(path)
    assert [r.row for r in p.tables[0].rows] == [4, 5, 7]
    heads = [w for w in p.tables[0].warnings if w.kind == "subheading"]
    assert [(w.row, "Closed cases" in w.message or "Open cases" in w.message)
            for w in heads] == [(3, True), (6, True)]


def test_table_right_of_empty_columns_keeps_its_columns_and_merged_header(tmp_path: Path) -> None:
    """A table starting in column C with "Date" merged over two columns above "approved" |
    "released": the reader's used range starts at column C, merged ranges are absolute, so
    the columns are put back where the sheet has them before the header is joined."""
    from openpyxl import Workbook

    path = tmp_path / "dsap-june-2019.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "DSAP"
    ws["C1"] = "DfE external data shares approved by DSAP to June 2019"
    for col, text in zip("CDE", ["Reference", "Organisation", "Date"], strict=True):
        ws[f"{col}3"] = text
    ws.merge_cells("E3:F3")
    ws["E4"], ws["F4"] = "approved", "released"
    for col, text in zip("CDEF", ["DS00001", "University of Leeds", "2019-06-01", "pending"],
                         strict=True):
        ws[f"{col}5"] = text
    wb.save(path)
    table = read_spreadsheet(path).tables[0]
    assert table.headers == ["Reference", "Organisation", "Date approved", "Date released"]
    assert [r.cells for r in table.rows] == [["DS00001", "University of Leeds", "2019-06-01",
                                              "pending"]]
    assert table.rows[0].row == 5
