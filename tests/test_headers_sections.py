"""Header mapping by meaning and section recognition by title."""

from __future__ import annotations

import pytest

from extract.headers import looks_like_header, map_headers, match_header, normalise_header
from extract.sections import section_for_title


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Organisation", "organisation"),
        ("Requestor", "organisation"),
        ("Requester", "organisation"),
        ("Recipient organisation", "organisation"),
        ("Organisation\nname", "organisation"),
        ("Project title", "project"),
        ("Project name", "project"),
        ("Purpose", "purpose"),
        ("Description", "purpose"),
        ("Data shared", "data_shared"),
        ("Datasets requested", "data_shared"),
        ("Tier", "classification"),
        ("Data classification", "classification"),
        ("Legal gateway", "legal_basis"),
        ("Legal basis", "legal_basis"),
        ("Date approved", "date_approved"),
        ("Approval date", "date_approved"),
        ("Access route", "access_route"),
        ("Delivery", "access_route"),
        ("DSAP reference", "reference"),
        ("Ref.", "reference"),
        (
            "Date first Extract sent / Date permission for re-use granted/ "
            "Date Application Rejected",
            "date_released",
        ),
        ("Organisaton", "organisation"),  # misspelt: fuzzy
        ("Purpose of the share (summary)", "purpose"),
        ("Number of pupils", "number_of_pupils"),
    ],
)
def test_headers_map_by_meaning(header: str, field: str) -> None:
    assert match_header(header) == field


@pytest.mark.parametrize(
    "header",
    ["", "Notes", "Comments from panel", "Contact email", "Organisation type",
     "Organisation\ntype", "Type of organisation", "Requestor type"],
)
def test_headers_with_no_meaning_stay_unmapped(header: str) -> None:
    assert match_header(header) is None


def test_map_headers_keeps_unknown_and_duplicate_columns() -> None:
    hmap = map_headers(["Reference", "Requestor", "Notes", "Organisation", "Tier"])
    assert hmap.fields == {0: "reference", 1: "organisation", 4: "classification"}
    assert hmap.unmapped == [(2, "Notes"), (3, "Organisation")]


def test_header_row_detection_needs_two_fields() -> None:
    assert looks_like_header(["Reference", "Organisation", "Project"])
    assert not looks_like_header(["DfE external data shares", "", ""])
    assert not looks_like_header(["DS00628", "FFT Education Ltd", "Aspire"])


def test_normalise_header() -> None:
    assert normalise_header("  Legal\ngateway / basis ") == "legal gateway basis"


@pytest.mark.parametrize(
    ("title", "section"),
    [
        ("DfE external third-party data shares (approved by DSAP from May 2018 to end of "
         "September 2023)", "dsap"),
        ("Regular DfE external third-party data shares supported by data sharing agreements",
         "regular"),
        ("Third-party requests for data from the national pupil database (approved prior to "
         "April 2018 where data is still held by the requestor)", "npd_requests"),
        ("Data shares with Home Office", "home_office"),
        ("Data shares with police and criminal investigation authorities", "police"),
        ("Data shares through court orders", "court_orders"),
        ("Classification of data - understanding the data we share", "legend"),
        ("Shares under MoUs / data sharing agreements / SLAs", "regular"),
        ("Dear Sir or Madam, thank you for your letter", None),
        ("Price list 2024", None),
    ],
)
def test_sections_found_by_title(title: str, section: str | None) -> None:
    assert section_for_title(title) == section
