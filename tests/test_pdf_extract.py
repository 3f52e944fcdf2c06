"""The PDF reader against generated releases whose every cell is known.

Fixtures are written once per session by ``tests/fixtures/pdfgen.py`` from seeded, realistic
rows (real public organisation names, DfE data-item vocabulary, DS/DR/R references, dates in
several formats, 'pending', blank cells). The writer also reports on which pages each row was
drawn, so provenance and the presence of each hazard (rows split across pages, sections
starting mid-page) are checked against the writer, not against the reader.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pdfplumber
import pytest

from extract.ingest import ingest
from extract.model import ParsedRelease
from extract.pdf import read_pdf
from tests.fixtures.model import FixtureSection
from tests.fixtures.pdfgen import realistic_sections, write_register_pdf
from tests.fixtures.register_rows import build_register

TITLE = "DfE external data shares: register of shares approved to end of September 2023"
BIG = {"dsap": 120, "regular": 16, "npd_requests": 85, "home_office": 20, "police": 9,
       "court_orders": 6}
SMALL = {"dsap": 45, "regular": 8, "npd_requests": 30, "home_office": 12, "police": 5,
         "court_orders": 4}


@dataclass
class Case:
    """A generated release: the file, the ground truth, the writer's report, the reading."""

    path: Path
    sections: list[FixtureSection]
    report: dict[str, Any]
    parsed: ParsedRelease


CASES: dict[str, dict[str, Any]] = {
    # The layouts the reader was developed against.
    "ruled": {"layout": "ruled", "seed": 11, "counts": BIG,
              "section_break": ["flow", "page", "flow", "flow", "page", "flow"]},
    "unruled": {"layout": "unruled", "seed": 12, "repeat_header": False,
                "counts": {**BIG, "dsap": 135, "npd_requests": 95}},
    "unruled_middle": {"layout": "unruled", "seed": 13, "counts": SMALL, "valign": "MIDDLE",
                       "section_break": "page"},
    # Not tuned to: other fonts, sizes, leading, paddings, page sizes and column widths.
    "not_tuned_unruled": {
        "layout": "unruled", "seed": 14, "counts": SMALL, "font": "DejaVuSans",
        "font_size": 6.5, "leading": 9.0, "orientation": "portrait", "cell_padding": 2.0,
        "row_padding": 1.5, "repeat_header": False, "title_size": 16.0,
        "section_title_size": 8.5, "margin": 50.0},
    "not_tuned_ruled": {
        "layout": "ruled", "seed": 15, "counts": SMALL, "font": "Times-Roman",
        "font_size": 8.5, "page_size": "letter", "valign": "MIDDLE", "repeat_header": False,
        "cell_padding": 4.0, "row_padding": 3.5},
    "not_tuned_courier": {
        "layout": "ruled", "seed": 16, "counts": SMALL, "font": "Courier", "font_size": 6.5,
        "page_size": "A3", "split_rows": False,
        "col_widths": {"dsap": [1.2, 2, 2, 6, 3, 2, 1.3, 1.6]}},
    # Added after the reader was finished and passed on its first run, unchanged.
    "fresh_a3_portrait": {
        "layout": "unruled", "seed": 41, "counts": SMALL, "font": "Helvetica",
        "font_size": 9.0, "page_size": "A3", "orientation": "portrait", "cell_padding": 5.0,
        "row_padding": 4.0, "leading": 12.0, "valign": "MIDDLE",
        "title_lines": ["Published 12 October 2023", "Contact: data.sharing@education.gov.uk"],
        "running_head": "OFFICIAL-SENSITIVE", "footer": "{n}/{m}"},
}


@pytest.fixture(scope="session")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    out_dir = tmp_path_factory.mktemp("pdf_extract")
    out: dict[str, Case] = {}
    for name, spec in CASES.items():
        spec = dict(spec)
        sections = realistic_sections(spec.pop("seed"), spec.pop("counts"))
        path = out_dir / f"{name}.pdf"
        report: dict[str, Any] = {}
        write_register_pdf(path, sections, title=TITLE, seed=len(out), report=report, **spec)
        out[name] = Case(path, sections, report, read_pdf(path))
    return out


def _cell_ratio(case: Case) -> float:
    got = {t.section: t for t in case.parsed.tables}
    total = exact = 0
    for s in case.sections:
        rows = got[s.key].rows if s.key in got else []
        for i, truth in enumerate(s.rows):
            cells = rows[i].cells if i < len(rows) else []
            total += len(truth)
            exact += sum(1 for j, c in enumerate(truth) if j < len(cells) and cells[j] == c)
    return exact / total


@pytest.mark.parametrize("name", list(CASES))
def test_every_row_and_cell_exactly_once(cases: dict[str, Case], name: str) -> None:
    case = cases[name]
    parsed = case.parsed
    assert [t.section for t in parsed.tables] == [s.key for s in case.sections]
    for table, truth in zip(parsed.tables, case.sections, strict=True):
        assert table.title == truth.title
        assert table.headers == truth.headers
        assert len(table.rows) == len(truth.rows), table.section
        # Each row found exactly once, with every cell exact (whitespace-normalised).
        assert Counter(tuple(r.cells) for r in table.rows) == Counter(map(tuple, truth.rows))
        assert [r.cells for r in table.rows] == truth.rows
    ratio = _cell_ratio(case)
    assert ratio >= 0.99, f"{name}: only {ratio:.2%} of cells exact"


@pytest.mark.parametrize("name", list(CASES))
def test_title_page_count_and_no_warnings(cases: dict[str, Case], name: str) -> None:
    case = cases[name]
    assert case.parsed.title == TITLE
    assert case.parsed.page_count == case.report["pages"]
    assert case.parsed.format == "pdf"
    assert case.parsed.source_file == case.path.name
    assert case.parsed.warnings == []


def test_fixtures_are_long_and_carry_the_hazards(cases: dict[str, Case]) -> None:
    """Guard the guards: the big fixtures run over 20 pages, split rows across page breaks
    and start a section mid-page, so the exactness tests above really exercise them."""
    for name in ("ruled", "unruled"):
        report = cases[name].report
        assert report["pages"] >= 20, name
        split = [k for k, pages in report["rows"].items() if len(pages) > 1]
        assert len(split) >= 3, f"{name}: only {len(split)} rows split across pages"
        mid_page = [
            s.key for prev, s in zip(cases[name].sections, cases[name].sections[1:],
                                     strict=False)
            if report["sections"][s.key] == report["rows"][(prev.key, len(prev.rows) - 1)][-1]
        ]
        assert mid_page, f"{name}: no section starts mid-page"
    # With split_rows=False no row is split: the option does what the Courier case says.
    assert all(len(p) == 1 for p in cases["not_tuned_courier"].report["rows"].values())


@pytest.mark.parametrize("name", list(CASES))
def test_provenance_page_and_row(cases: dict[str, Case], name: str) -> None:
    """page = page where the row starts (as drawn by the writer); row = 1.. within the page."""
    case = cases[name]
    for table in case.parsed.tables:
        by_page: dict[int, list[int]] = {}
        for i, row in enumerate(table.rows):
            assert row.page == case.report["rows"][(table.section, i)][0], (table.section, i)
            assert row.sheet is None
            by_page.setdefault(row.page, []).append(row.row)
        for page, numbers in by_page.items():
            assert numbers == list(range(1, len(numbers) + 1)), (table.section, page)
        assert table.first_page == case.report["sections"][table.section] or (
            # a title at the foot of a page whose header starts the next page
            table.first_page == case.report["sections"][table.section] + 1)


def test_pool_and_single_process_agree(cases: dict[str, Case]) -> None:
    """Stitching across chunk boundaries gives what one process reading in order gives."""
    case = cases["unruled"]
    single = read_pdf(case.path, settings={"workers": 1})
    assert single.tables == case.parsed.tables
    assert single.title == case.parsed.title


def test_progress_reaches_every_page(cases: dict[str, Case]) -> None:
    case = cases["ruled"]
    calls: list[tuple[int, int]] = []
    read_pdf(case.path, on_page=lambda done, total: calls.append((done, total)))
    n = case.report["pages"]
    assert calls[-1] == (n, n)
    assert all(total == n for _, total in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


HAZARDS = [
    FixtureSection(
        key="police",
        title="Data shares with police and criminal investigation authorities",
        # A header nobody has in the synonyms file: still read, under its title.
        headers=["Force", "Why it was asked for", "What went", "When"],
        notes=["Requests are made under Schedule 2 Part 1 para 2 of the Data Protection "
               "Act 2018."],
        rows=[
            ["Metropolitan Police Service", "To trace a missing child.", "home address",
             "12/03/2019"],
            ["Greater Manchester Police", "", "postcode, date of birth", "pending"],
            ["Centre for Longitudinal Studies, UCL Institute of Education, on behalf of the "
             "Economic and Social Research Council", "Short.", "UPN", ""],
            ["Thames Valley Police", " ".join(["To locate a pupil in relation to a "
                                               "safeguarding investigation."] * 6), "", "Mar-21"],
        ],
    ),
    FixtureSection(
        key="npd_requests",
        title="Third-party requests for data from the national pupil database (approved prior "
              "to April 2018 where data is still held by the requestor)",
        headers=["DR reference", "Requestor", "Purpose", "Highest tier of data",
                 "Date first Extract sent / Date permission for re-use granted/ Date "
                 "Application Rejected"],
        rows=[
            ["DR170221.02", "Times Newspapers Limited", "To publish an article on school "
             "performance.", "Tier 2", "21 February 2017"],
            ["DR160105.01", "FFT Education Ltd", "Pupil level and exam level files will "
             "also be provided.", "", "pending"],
            ["DR150312.11", "", "", "Tier 4", "2015-03-12"],
        ],
    ),
]


@pytest.mark.parametrize("layout", ["ruled", "unruled"])
def test_blank_cells_notes_and_unrecognised_header(tmp_path: Path, layout: str) -> None:
    path = tmp_path / f"hazards_{layout}.pdf"
    write_register_pdf(path, HAZARDS, title="SAMPLE register to end of March 2021",
                       layout=layout, seed=3, section_break="flow")
    parsed = read_pdf(path)
    assert parsed.title == "SAMPLE register to end of March 2021"
    assert [(t.section, t.headers) for t in parsed.tables] == [
        (s.key, s.headers) for s in HAZARDS]
    for table, truth in zip(parsed.tables, HAZARDS, strict=True):
        assert [r.cells for r in table.rows] == truth.rows
        assert {r.page for r in table.rows} == {1}
        assert [r.row for r in table.rows] == list(range(1, len(truth.rows) + 1))


def test_ingest_points_at_the_source_page(cases: dict[str, Case], tmp_path: Path) -> None:
    """Through extract.ingest into DuckDB: source_page holds the row's reference, and
    source_row orders the rows down the page."""
    case = cases["ruled"]
    db = tmp_path / "register.duckdb"
    results = ingest([case.path], db)
    assert [r.status for r in results] == ["ingested"], results[0].reason
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            """SELECT section, source_page, source_row, reference, organisation
               FROM shares WHERE source_file = ? AND reference IS NOT NULL
               ORDER BY source_page, section, source_row""", [case.path.name]).fetchall()
        release = con.execute("SELECT title, page_count, period_label FROM releases"
                              ).fetchone()
    finally:
        con.close()
    assert release == (TITLE, case.report["pages"], "September 2023")
    # Every row of the sections that have a reference column (not 'regular', and the
    # Home Office counts are not shares).
    assert len(rows) == sum(len(s.rows) for s in case.sections
                            if s.key in {"dsap", "npd_requests", "police", "court_orders"})
    with pdfplumber.open(case.path) as pdf:
        tops: dict[tuple[str, int], list[float]] = {}
        for section, page_no, _row, reference, organisation in rows:
            page = pdf.pages[page_no - 1]
            hits = page.search(reference, regex=False)
            assert hits, f"{reference} not on page {page_no}"
            if organisation:
                assert organisation.split()[0] in page.extract_text()
            tops.setdefault((section, page_no), []).append(min(h["top"] for h in hits))
    for key, ys in tops.items():  # rows numbered in order sit in order down the page
        assert ys == sorted(ys), key


LONG_NAMES = [
    "Centre for Longitudinal Studies, UCL Institute of Education, on behalf of the Economic "
    "and Social Research Council",
    "University of Bristol commissioned by the Department for Education and the Nuffield "
    "Foundation",
    "National Foundation for Educational Research on behalf of the Education Endowment "
    "Foundation",
]


@pytest.mark.parametrize("layout", ["ruled", "unruled"])
def test_row_cut_inside_its_key_cell(tmp_path: Path, layout: str) -> None:
    """A narrow first column of long names: page breaks fall inside the key cell itself, so
    the top of the next page starts with the tail of a name, not an empty key."""
    base = realistic_sections(31, {"regular": 60})[0]
    rows = [[LONG_NAMES[i % 3], *row[1:]] for i, row in enumerate(base.rows)]
    section = FixtureSection(base.key, base.title, base.headers, rows)
    path = tmp_path / f"long_keys_{layout}.pdf"
    report: dict[str, Any] = {}
    write_register_pdf(path, [section], title=TITLE, layout=layout, seed=5, report=report,
                       col_widths={"regular": [0.7, 1.5, 4, 2, 2, 1]}, repeat_header=False)
    split = [k for k, pages in report["rows"].items() if len(pages) > 1]
    assert len(split) >= 3
    [table] = read_pdf(path).tables
    assert [r.cells for r in table.rows] == rows
    assert [r.page for r in table.rows] == [report["rows"][("regular", i)][0]
                                            for i in range(len(rows))]


# --- a workbook printed to PDF (the hazards LibreOffice's "Export as PDF" brings) ----------------
# Date and count cells right-aligned, lines broken after hyphens, short columns auto-fitted and
# a padding of 0.7pt: a right-aligned date ends 1.4pt before the next cell's text, closer than
# a space, and header cells that fill their column run into the next header.

ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
SHEET_ROWS = {"dsap": 40, "regular": 8, "npd_requests": 15, "home_office": 24, "police": 10,
              "court_orders": 5}
SPREADSHEET_PRINT = {"font_size": 5.5, "cell_padding": 0.7, "align_numbers": True,
                     "hyphen_breaks": True, "autofit": True, "section_break": "page"}


def printed_sections() -> list[FixtureSection]:
    """The first rows of each section of the seeded September 2021 release, dates as a
    DD/MM/YYYY date cell prints them."""
    release = next(r for r in build_register(size="sample").releases
                   if "September_2021" in r.file_name)
    return [FixtureSection(s.key, s.title, list(s.headers),
                           [[ISO_DATE.sub(lambda m: f"{m[3]}/{m[2]}/{m[1]}", c) for c in row]
                            for row in s.rows[:SHEET_ROWS[s.key]]], list(s.notes))
            for s in release.sections]


@pytest.mark.parametrize("layout", ["ruled", "unruled"])
def test_spreadsheet_printed_cells_that_nearly_touch(tmp_path: Path, layout: str) -> None:
    """Every cell exact although neighbouring cells' texts are closer than a word space."""
    sections = printed_sections()
    path = tmp_path / f"printed_{layout}.pdf"
    report: dict[str, Any] = {}
    write_register_pdf(path, sections, title=TITLE, layout=layout, seed=7, report=report,
                       **SPREADSHEET_PRINT)
    # Guard: the hazards are really there, as pdfplumber's own word grouping shows.
    with pdfplumber.open(path) as pdf:
        words = {w["text"] for page in pdf.pages for w in page.extract_words(x_tolerance=1.5)}
    assert len({w for w in words if re.match(r"\d\d/\d\d/\d{4}[A-Za-z]", w)}) >= 10
    runs = {a.split()[-1] + b.split()[0] for s in sections
            for a, b in zip(s.headers, s.headers[1:], strict=False)}
    assert len(runs & words) >= 8, "header cells do not run together"
    assert report["breaks"]["hyphen"] >= 3

    parsed = read_pdf(path)
    assert parsed.warnings == []
    assert [(t.section, t.headers) for t in parsed.tables] == [
        (s.key, s.headers) for s in sections]
    for table, truth in zip(parsed.tables, sections, strict=True):
        assert [r.cells for r in table.rows] == truth.rows, table.section


HYPHENS = FixtureSection(
    key="dsap",
    title="DfE external third-party data shares (approved by DSAP from May 2018 to end of "
          "September 2021)",
    headers=["DSAP reference", "Organisation", "Description of project", "Data requested",
             "Date approved"],
    rows=[
        ["DS00100", "Education Policy Institute", "Research into looked-after children's "
         "attainment; results will be published in peer-reviewed journals - a public report "
         "follows.", "Pupil-level data - KS2 - KS4 - summer-born indicator", "03/05/2018"],
        ["DS00101", "University of Bristol", "A long-term study of post-16 pathways - phase 2 "
         "- with re-use of the 2006-07 extract.", "Non-identifying, de-identified pupil-level "
         "extract - no names", "23/05/2018"],
        ["DS00102", "FFT Education Ltd", "School-level benchmarking - results shared with "
         "multi-academy trusts - anonymised.", "KS4 results - school URN - "
         "free-school-meals eligibility", "30/05/2018"],
        ["DS00103", "Times Newspapers Limited", "An article on year-on-year exclusions - data "
         "for 2016-17 and 2017-18 - no pupil-level detail.", "Aggregate - "
         "local-authority-level tables", "14/06/2018"],
    ],
)


@pytest.mark.parametrize("layout", ["ruled", "unruled"])
def test_line_broken_after_a_hyphen_joins_without_a_space(tmp_path: Path, layout: str) -> None:
    """"pupil-" / "level" reads "pupil-level"; a line ending in a free-standing dash keeps
    its space ("KS2 -" / "KS4" reads "KS2 - KS4")."""
    path = tmp_path / f"hyphens_{layout}.pdf"
    report: dict[str, Any] = {}
    write_register_pdf(path, [HYPHENS], title="SAMPLE register to end of September 2021",
                       layout=layout, seed=4, report=report, hyphen_breaks=True,
                       orientation="portrait", col_widths={"dsap": [1.2, 1.6, 2.2, 1.9, 1.2]})
    assert report["breaks"]["hyphen"] >= 2 and report["breaks"]["dash"] >= 2
    [table] = read_pdf(path).tables
    assert table.headers == HYPHENS.headers
    assert [r.cells for r in table.rows] == HYPHENS.rows


def test_right_aligned_counts_beside_their_wrapped_header(tmp_path: Path) -> None:
    """Unruled, counts right-aligned in columns whose header wraps over three lines: the
    counts sit right of every header word, with the next column's header 1.4pt on."""
    base = realistic_sections(51, {"home_office": 12})[0]
    path = tmp_path / "counts.pdf"
    write_register_pdf(path, [base], title=TITLE, layout="unruled", seed=6,
                       align_numbers=True, cell_padding=0.7, col_widths={"home_office": [12, 1, 1]})
    with pdfplumber.open(path) as pdf:
        words = pdf.pages[0].extract_words(x_tolerance=1.5)
    first = min((w for w in words if w["text"] == "individuals"), key=lambda w: w["x0"])
    count = next(w for w in words if w["text"] == base.rows[0][1])
    assert count["x0"] > first["x1"] + 3  # guard: the count is right of its header's text
    [table] = read_pdf(path).tables
    assert table.headers == base.headers
    assert [r.cells for r in table.rows] == base.rows
