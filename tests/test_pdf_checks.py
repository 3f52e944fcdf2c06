"""The PDF reader's self-checks (``extract/pdf_checks.py``): each invariant fires on the
failure it describes, with page and row, and stays silent on correct reads."""

from __future__ import annotations

from pathlib import Path

from extract.model import RawRow, RawTable
from extract.pdf import read_pdf
from extract.pdf_checks import check_references, check_rows, check_tables
from tests.fixtures.model import FixtureSection
from tests.fixtures.pdfgen import write_register_pdf

NPD = ["DR reference", "Requestor", "Purpose", "Date approved", "Status"]


def _table(rows: list[list[str]], headers: list[str] = NPD, page: int = 3) -> RawTable:
    return RawTable("npd_requests", "", headers, [RawRow(r, i + 1, page)
                                                   for i, r in enumerate(rows)], first_page=page)


def test_each_row_check_fires_with_page_and_row() -> None:
    table = _table([
        ["DR150812.03", "Ofsted", "Research.", "12/03/2019", "Approved"],
        ["DR150812.04 DR130923.01", "Ofsted Teach First", "Research. More.", "", ""],
        ["", "FFT Education Ltd", "Benchmarking.", "01/02/2015 03/04/2016", "Open"],
        ["DR160105.01", "Cabinet Office", "", "pending", "Open", "stray text"],
    ])
    got = [(w.kind, w.page, w.row) for w in check_rows(table)]
    assert got == [("two_references", 3, 2), ("no_key", 3, 3), ("two_dates", 3, 3),
                   ("extra_cells", 3, 4)]


def test_police_rows_are_keyed_on_the_force() -> None:
    """No reference column: the recipient ("Requesting organisation") is the key."""
    table = _table([["", "To trace a child.", "Name", "12/03/2019"],
                    ["Kent Police", "To trace a child.", "Name", "12/03/2019"]],
                   ["Requesting organisation", "Purpose", "Data shared", "Date approved"])
    assert [(w.kind, w.row) for w in check_rows(table)] == [("no_key", 1)]


def test_printed_references_missing_or_keyed_twice() -> None:
    a = _table([["DR150812.03", "Ofsted", "", "", ""], ["DR150812.04", "BBC", "", "", ""]])
    a.last_page = 4
    b = _table([["DR150812.04", "BBC", "", "", ""]], page=5)
    b.last_page = 5
    check_references([a, b], {3: ["DR150812.03", "DR150812.04", "DR170101.01"],
                              4: ["DR150812.03"], 5: ["DR150812.04"]})
    assert [(w.kind, w.page) for w in a.warnings] == [("orphan_reference", 3),
                                                      ("orphan_reference", 4)]
    assert "DR170101.01" in a.warnings[0].message
    assert [(w.kind, w.page, w.row) for w in b.warnings] == [("duplicate_reference", 5, 1)]


def test_last_page_is_set_from_the_rows() -> None:
    t = _table([["DR150812.03", "Ofsted", "", "", ""]])
    t.rows.append(RawRow(["DR150812.05", "BBC", "", "", ""], 1, 6))
    check_tables([t], {})
    assert (t.first_page, t.last_page) == (3, 6) and not t.warnings


def test_reader_flags_a_key_cell_holding_two_references(tmp_path: Path) -> None:
    """End to end: a register row whose reference cell reads "DR150812.03 DR130923.01"
    (as a glued read would) is stored as printed and flagged on its page and row."""
    rows = [[f"DR1508{12 + i}.0{i + 1}", "Ofsted", "Research into attendance.", "12/03/2019",
             "Approved"] for i in range(6)]
    rows[3][0] = "DR150812.03 DR130923.01"
    sec = FixtureSection("npd_requests", "Third-party requests for data from the National "
                         "Pupil Database", NPD, rows)
    for layout in ("ruled", "unruled"):
        path = tmp_path / f"{layout}.pdf"
        write_register_pdf(path, [sec], title="SAMPLE register", layout=layout, seed=1)
        [table] = read_pdf(path).tables
        assert [r.cells for r in table.rows] == rows
        assert [(w.kind, w.page, w.row) for w in table.warnings] == [
            ("two_references", 1, 4)], layout
        assert table.last_page == 1


def test_layout_thresholds_are_validated_settings() -> None:
    """Every layout threshold the reader uses is a ReaderSettings field, checked on creation."""
    import pytest

    from extract.settings import ReaderSettings

    s = ReaderSettings.resolve({"max_header_lines": 4, "min_top_share": 0.8})
    assert (s.max_header_lines, s.min_top_share) == (4, 0.8)
    assert s.reader == ReaderSettings().reader  # untouched fields keep their defaults
    for bad in ({"max_header_lines": 0}, {"min_top_share": 1.5}, {"max_crossing_share": -0.1},
                {"gap_margin_ratio": -1}, {"min_pitch_samples": 0}, {"title_gap_ratio": 9},
                {"justified_tolerance": -0.5}):
        with pytest.raises(ValueError):
            ReaderSettings.resolve(bad)
    with pytest.raises(ValueError, match="unknown reader setting"):
        ReaderSettings.resolve({"row_gap": 3})
