"""Cell normalisation: dates, counts and release periods as the register writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from extract.values import (
    clean,
    count_cell,
    date_cell,
    looks_like_reference,
    parse_count,
    parse_date,
    parse_period,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21/02/2017", dt.date(2017, 2, 21)),
        ("21.02.17", dt.date(2017, 2, 21)),
        ("2017-02-21", dt.date(2017, 2, 21)),
        ("2017-02-21 00:00:00", dt.date(2017, 2, 21)),
        ("21 February 2017", dt.date(2017, 2, 21)),
        ("1st Sept 2019", dt.date(2019, 9, 1)),
        ("21-Feb-17", dt.date(2017, 2, 21)),
        ("March 2019", dt.date(2019, 3, 1)),
        ("Mar-19", dt.date(2019, 3, 1)),
        ("43500", dt.date(2019, 2, 4)),
        ("pending", None),
        ("Pending ", None),
        ("", None),
        ("31/02/2019", None),
        ("n/a", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_parse_count() -> None:
    assert parse_count("1,234") == 1234
    assert parse_count("12.0") == 12
    assert parse_count("c. 500") is None
    assert parse_count("") is None


def test_clean_collapses_whitespace_and_formats_values() -> None:
    assert clean("Pupil level and exam\nlevel  files") == "Pupil level and exam level files"
    assert clean(12.0) == "12"
    assert clean(float("nan")) == ""
    assert clean(dt.datetime(2019, 3, 1)) == "2019-03-01"
    assert clean(None) == ""


@pytest.mark.parametrize(
    ("text", "label", "end"),
    [
        ("DfE external third-party data shares (approved by DSAP from May 2018 to end of "
         "September 2023)", "September 2023", dt.date(2023, 9, 30)),
        ("dfe-external-data-shares-to-end-of-june-2019", "June 2019", dt.date(2019, 6, 30)),
        ("npd_shares_2020-02", "February 2020", dt.date(2020, 2, 29)),
        ("External data shares Dec 2018", "December 2018", dt.date(2018, 12, 31)),
    ],
)
def test_parse_period(text: str, label: str, end: dt.date) -> None:
    assert parse_period(text) == (label, end)


def test_parse_period_none() -> None:
    assert parse_period("register.pdf") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("42461", dt.date(2016, 4, 1)),  # an Excel serial in a CSV date column
    ("42461.5", dt.date(2016, 4, 1)),  # with a time of day
    ("25000", None),  # 1968: outside the plausible range, not a register date
    ("99999", None),
])
def test_excel_serials_only_in_a_plausible_range(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "kind"), [
    ("2019-03-14", "date"), ("", "blank"), ("pending", "status"), ("n/a", "status"),
    ("Application Rejected", "status"), ("N/A", "status"), ("TBC", "status"),
    ("23/10/2017 and 06/11/2017", "two_dates"), ("12 March 2019, 4 May 2019", "two_dates"),
    ("soon", "unreadable"),
])
def test_date_cells_keep_status_text(text: str, kind: str) -> None:
    date, got = date_cell(text)
    assert got == kind
    assert (date is not None) == (kind == "date")


@pytest.mark.parametrize(("text", "value", "problem"), [
    ("1,234", 1234, None), ("1 234 567", 1234567, None), ("12000000", 12_000_000, None),
    ("n/a", None, None), ("", None, None),
    ("110 97 121", None, "not a plain whole number"),  # digits of three rows run together
    ("12345678901234567890123", None, "implausible"),  # would overflow INT64
    ("c. 500", None, "not a plain whole number"), ("12.5", None, "not a plain whole number"),
])
def test_counts_refused_when_not_plain_or_plausible(text: str, value: int | None,
                                                    problem: str | None) -> None:
    got, why = count_cell(text)
    assert got == value and parse_count(text) == value
    assert (why is None) if problem is None else (problem in str(why))


@pytest.mark.parametrize(("text", "expected"), [
    ("DR170221.02", True), ("DS00628", True), ("R0042", True), ("DS 00628", True),
    ("DR reference", False), ("Tier 1", False), ("2019-03-14", False), ("Data sent", False),
])
def test_reference_shape(text: str, expected: bool) -> None:
    assert looks_like_reference(text) is expected
