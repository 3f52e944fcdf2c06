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


# Issue 8, kind 3: whatever the column naming who receives the data is called, it is the
# organisation; police sections' other columns map too. One synonyms table for every format.
@pytest.mark.parametrize(("header", "field"), [
    ("Requester", "organisation"), ("Requestor", "organisation"), ("Recipient", "organisation"),
    ("Data recipient", "organisation"), ("Police force", "organisation"),
    ("Police Force", "organisation"), ("Name of requesting organisation", "organisation"),
    ("Applicant", "organisation"), ("Organisation name", "organisation"),
    ("Requested by", "organisation"), ("Name of recipient", "organisation"),
    ("Reason for Request", "purpose"), ("Data Provided", "data_shared"),
    ("Date of Request", "date_approved"), ("Date of order", "date_approved"),
])
def test_recipient_and_police_headers(header: str, field: str) -> None:
    assert match_header(header) == field


@pytest.mark.parametrize("header", ["Organisation type", "Police force area", "Applicant type",
                                    "Court", "Requester type"])
def test_recipient_look_alikes_stay_unmapped(header: str) -> None:
    assert match_header(header) is None


def test_police_header_row_maps_every_column() -> None:
    hmap = map_headers(["Police Force", "Reason for Request", "Data Provided", "Date of Request"])
    assert hmap.fields == {0: "organisation", 1: "purpose", 2: "data_shared",
                           3: "date_approved"}


@pytest.mark.parametrize(("title", "section"), [
    ("tier of data", "legend"), ("Data classification key", "legend"), ("Key", "legend"),
    ("Description of tiers", "legend"), ("Tier of data requested by DfE", None),
    ("live cases April 12 to May 17", "npd_requests"),
])
def test_legend_tabs_by_title(title: str, section: str | None) -> None:
    assert section_for_title(title) == section
