"""Cell normalisation: dates, counts and release periods as the register writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from extract.values import clean, parse_count, parse_date, parse_period


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
