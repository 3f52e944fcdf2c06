"""Organisation names: normalisation, splitting, and resolution into organisations."""

from __future__ import annotations

import pytest

from analysis.classify import same_organisation
from analysis.names import match_key, normalise_name, split_recipient
from analysis.organisations import NOT_STATED, resolve


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("FFT Education Ltd", "FFT EDUCATION LIMITED"),
        ("F.F.T. Education Limited", "fft education ltd."),
        ("The Sutton Trust", "Sutton Trust"),
        ("Guardian News & Media Ltd", "Guardian News and Media Limited"),
        ("King's College London", "Kings College London"),
        ("Bristol University", "University of Bristol"),
        ("Dept for Work & Pensions", "Department for Work and Pensions"),
        ("Université de Paris", "Universite de Paris"),
    ],
)
def test_spellings_share_a_match_key(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("University of Bath", "Bath Spa University"),
        ("University of Leeds", "Leeds Beckett University"),
        ("University of Oxford", "Oxford Brookes University"),
        ("University of East London", "University of West London"),
        ("Durham University", "Durham County Council"),
        ("Smith Research Ltd", "Smyth Research Ltd"),
        ("Oak Hill Academy", "Oak Hall Academy"),
        ("Key Stage 2 Trust", "Key Stage 3 Trust"),
    ],
)
def test_different_organisations_are_never_the_same(a: str, b: str) -> None:
    assert match_key(a) != match_key(b)
    assert not same_organisation(match_key(a), match_key(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("University of Warwick", "Univeristy of Warwick"),
        ("Alma Economics Ltd", "Alma Economic Ltd"),
        ("SchoolDash Limited", "School Dash Ltd"),
    ],
)
def test_close_spellings_are_the_same(a: str, b: str) -> None:
    assert same_organisation(match_key(a), match_key(b))


def test_normalise_name_is_readable() -> None:
    assert normalise_name("The F.F.T. Education Limited") == "fft education ltd"
    assert normalise_name("Dept. for Work & Pensions") == "department for work and pensions"


def test_split_recipient() -> None:
    parts = split_recipient("UCL Institute of Education, commissioned by the Department for "
                            "Education and the Nuffield Foundation")
    assert parts.principal == "UCL Institute of Education"
    assert parts.commissioned_by == "the Department for Education and the Nuffield Foundation"
    parts = split_recipient("Department for Work and Pensions (DWP)")
    assert (parts.principal, parts.bracketed) == ("Department for Work and Pensions", ("DWP",))
    assert split_recipient("Institute for Fiscal Studies").commissioned_by is None
    assert split_recipient("(UCL)").principal == "UCL"


def test_resolve_groups_spellings_and_keeps_distinct_organisations_apart() -> None:
    counts = {
        "FFT Education Ltd": 10, "FFT EDUCATION LIMITED": 2, "UCL": 3,
        "University College London (UCL)": 4, "University of Bath": 2,
        "Bath Spa University": 1, "Pye Tait Consulting Ltd": 5, "Pye Tait Consultng Ltd": 1,
        "PYE TAIT CONSULTING LIMITED": 1, "Local Authorities": 3, "All local authorities": 1,
        "University of Bristol commissioned by the Department for Education": 1,
        "Bristol University": 1, "": 2, "Smith Research Ltd": 1, "Smyth Research Ltd": 1,
    }
    orgs, matches = resolve(counts)
    org_of = {m.raw_name: m.org_key for m in matches}
    name_of = {o.key: o.name for o in orgs}
    by_raw = {raw: name_of[key] for raw, key in org_of.items()}
    assert by_raw["FFT EDUCATION LIMITED"] == by_raw["FFT Education Ltd"] == "FFT Education Ltd"
    assert by_raw["UCL"] == by_raw["University College London (UCL)"] == (
        "University College London")
    assert by_raw["University of Bath"] != by_raw["Bath Spa University"]
    # a typo joins the most used spelling; the display name prefers mixed case
    assert {by_raw[n] for n in ("Pye Tait Consultng Ltd", "PYE TAIT CONSULTING LIMITED")} == {
        "Pye Tait Consulting Ltd"}
    assert by_raw["Smith Research Ltd"] != by_raw["Smyth Research Ltd"]
    assert by_raw["Local Authorities"] == by_raw["All local authorities"] == (
        "Local authorities (several)")
    assert by_raw["University of Bristol commissioned by the Department for Education"] == (
        by_raw["Bristol University"]) == "University of Bristol"
    assert by_raw[""] == NOT_STATED
    method = {m.raw_name: m.method for m in matches}
    assert method["Pye Tait Consultng Ltd"] == "fuzzy"
    assert method["PYE TAIT CONSULTING LIMITED"] == "normalised"
    assert method["Pye Tait Consulting Ltd"] == "exact"
    coll = next(o for o in orgs if o.name == "Local authorities (several)")
    assert coll.is_collective and coll.classification.sector == "local_authority"
    assert len({o.organisation_id for o in orgs}) == len(orgs)


def test_ids_do_not_depend_on_other_names() -> None:
    small, _ = resolve({"Kent County Council": 1})
    big, _ = resolve({"Kent County Council": 1, "Essex County Council": 1, "Acme Ltd": 3})
    kent = {o.name: o.organisation_id for o in big}["Kent County Council"]
    assert small[0].organisation_id == kent


def test_renamed_company_is_one_organisation_distinct_legal_entities_stay_apart() -> None:
    """Ipsos MORI was renamed Ipsos UK in 2021 (an alias); Capita plc and its subsidiary
    Capita Business Services Ltd are separate legal entities and stay separate."""
    counts = {"Ipsos MORI": 3, "Ipsos UK": 2, "IPSOS MORI UK LIMITED": 1, "Ipsos UK Ltd": 1,
              "Capita plc": 2, "Capita Business Services Ltd": 1}
    orgs, matches = resolve(counts)
    name_of = {o.key: o.name for o in orgs}
    by_raw = {m.raw_name: name_of[m.org_key] for m in matches}
    assert {by_raw[n] for n in ("Ipsos MORI", "Ipsos UK", "IPSOS MORI UK LIMITED",
                                "Ipsos UK Ltd")} == {"Ipsos UK"}
    assert {m.raw_name: m.method for m in matches}["Ipsos MORI"] == "alias"
    ipsos = next(o for o in orgs if o.name == "Ipsos UK")
    assert ipsos.classification.sector == "commercial"
    assert set(ipsos.members) == {"Ipsos MORI", "Ipsos UK", "IPSOS MORI UK LIMITED",
                                  "Ipsos UK Ltd"}
    assert by_raw["Capita plc"] == "Capita plc"
    assert by_raw["Capita Business Services Ltd"] == "Capita Business Services Ltd"
