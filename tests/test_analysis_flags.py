"""Share flags against hand-labelled register rows, including negations and de-identification.

Each row is written the way the register writes them (DfE item vocabulary, old tiers, the
2018 identifiability/sensitivity wording, access routes). The expected flags are what a
careful reader of the row would say; every raised flag must also carry the words behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from analysis.flags import FLAGS, assess_share, negated


@dataclass
class Row:
    fields: dict[str, str]
    identifying: bool
    pupil_level: bool
    categories: set[str] = field(default_factory=set)
    high_risk: bool = False
    leaves: bool | None = None  # None: cannot tell


ROWS: dict[str, Row] = {
    "fft_tier2_transfer": Row(
        {"data_shared": "KS2 and KS4 attainment, UPN, pupil names and date of birth",
         "classification": "Tier 2", "access_route": "Secure file transfer"},
        identifying=True, pupil_level=True, high_risk=True, leaves=True),
    "press_aggregate_no_names": Row(
        {"data_shared": "Aggregate numbers of permanent exclusions by local authority; no pupil "
                        "names or other identifying data",
         "classification": "Aggregate only"},
        identifying=False, pupil_level=False, categories={"exclusions"}),
    "srs_deidentified_level_d": Row(
        {"data_shared": "De-identified pupil-level data: KS4 results, FSM eligibility, SEN "
                        "provision, ethnicity",
         "classification": "de-identified personal level data of sensitivity level D",
         "access_route": "ONS Secure Research Service"},
        identifying=False, pupil_level=True, categories={"fsm_disadvantage", "sen", "ethnicity"},
        leaves=False),
    "police_section": Row(
        {"data_shared": "Name, date of birth and last known address of the child",
         "section": "police"},
        identifying=True, pupil_level=True, high_risk=True, leaves=True),
    "home_office_section": Row(
        {"data_shared": "Pupil name, home address and school attended",
         "section": "home_office"},
        identifying=True, pupil_level=True, leaves=True),
    "tier3_school_level": Row(
        {"data_shared": "School level KS2 results", "classification": "Tier 3"},
        identifying=False, pupil_level=False),
    "old_npd_tier1": Row(
        {"data_shared": "NPD extract: KS1-KS4 attainment, absence and exclusions",
         "classification": "Tier 1", "section": "npd_requests"},
        identifying=True, pupil_level=True, categories={"absence", "exclusions"}, leaves=True),
    "tier4_candidate_numbers": Row(
        {"data_shared": "Pupil-level KS5 results with candidate numbers",
         "classification": "Tier 4"},
        identifying=True, pupil_level=True),
    "deidentified_level_c_secure": Row(
        {"data_shared": "Pupil matching reference, KS2 attainment, FSM",
         "classification": "de-identified personal level data of sensitivity level C",
         "access_route": "DfE secure environment"},
        identifying=False, pupil_level=True, categories={"fsm_disadvantage"}, leaves=False),
    "personal_level_b_sent": Row(
        {"data_shared": "CLA and CIN records including LA child ID",
         "classification": "personal level data of sensitivity level B",
         "access_route": "Encrypted file sent by secure file transfer"},
        identifying=True, pupil_level=True, categories={"cin_cla"}, leaves=True),
    "names_removed_postcode_kept": Row(
        {"data_shared": "School Census extract with names and addresses removed; postcode "
                        "retained"},
        identifying=False, pupil_level=True, high_risk=True),
    "no_names_upn_only": Row(
        {"data_shared": "No names, addresses or dates of birth will be shared; Unique Pupil "
                        "Number only"},
        identifying=True, pupil_level=True),
    "ehc_aggregate_no_individual": Row(
        {"data_shared": "Aggregated counts of pupils with an EHC plan by school; no individual "
                        "level data"},
        identifying=False, pupil_level=False, categories={"sen"}),
    "fsm_published_tables": Row(
        {"data_shared": "Numbers of pupils eligible for free school meals, published tables"},
        identifying=False, pupil_level=False, categories={"fsm_disadvantage"}),
    "leo_unknown_route": Row(
        {"data_shared": "Longitudinal Education Outcomes: de-identified individual level data "
                        "linking education, employment and benefits",
         "legal_basis": "Digital Economy Act 2017 s.64"},
        identifying=False, pupil_level=True),
    "route_says_nothing": Row(
        {"data_shared": "KS4 results for individual pupils", "access_route": "Approved by DSAP"},
        identifying=False, pupil_level=True),
    "ap_reasons": Row(
        {"data_shared": "Alternative provision census: reason for placement, pupil-level"},
        identifying=False, pupil_level=True, categories={"ap_reasons"}),
    "language_ethnicity_aggregated": Row(
        {"data_shared": "First language and ethnicity of pupils at KS2, aggregated to LA level"},
        identifying=False, pupil_level=False, categories={"language", "ethnicity"}),
    "school_names_and_addresses": Row(
        {"data_shared": "School names and addresses, headteacher names, KS4 headline measures"},
        identifying=False, pupil_level=False),
    "encrypted_upn": Row(
        {"data_shared": "Encrypted UPN (pseudonymised), KS4 results"},
        identifying=False, pupil_level=True),
    "child_protection_pupil_level": Row(
        {"data_shared": "Pupil-level data including child protection plans"},
        identifying=False, pupil_level=True, categories={"cin_cla"}),
    "identifiability_code_1e": Row(
        {"classification": "Identifiability / Sensitivity 1E", "data_shared": "Pupil addresses"},
        identifying=True, pupil_level=True),
    "identifiability_code_3b": Row(
        {"classification": "identification/sensitivity 3B", "data_shared": "CIN census"},
        identifying=False, pupil_level=False, categories={"cin_cla"}),
    "identifiability_code_4c": Row(
        {"classification": "Identifiability / Sensitivity 4C", "data_shared": "KS2 results"},
        identifying=False, pupil_level=False, high_risk=True),
    "tiers_1_and_2": Row(
        {"classification": "Tiers 1 and 2", "data_shared": "Special educational needs"},
        identifying=True, pupil_level=True, categories={"sen"}),
    "attendance_with_names_moveit": Row(
        {"data_shared": "Attendance and absence records for individual pupils, with names",
         "access_route": "MOVEit transfer"},
        identifying=True, pupil_level=True, categories={"absence"}, leaves=True),
    "press_school_level_emailed": Row(
        {"data_shared": "Number of pupils by ethnicity in each school (school-level data)",
         "access_route": "Emailed spreadsheet"},
        identifying=False, pupil_level=False, categories={"ethnicity"}, leaves=True),
    "no_sensitive_items_in_brackets": Row(
        {"data_shared": "Pupil level data (no SEN, FSM or ethnicity)"},
        identifying=False, pupil_level=True),
    "excluding_sensitive_items": Row(
        {"data_shared": "Excluding ethnicity and SEN data; KS2 results at pupil level"},
        identifying=False, pupil_level=True),
    "non_aggregated_pupil_level": Row(
        {"data_shared": "Non-aggregated pupil-level KS2 data; non-identifiable"},
        identifying=False, pupil_level=True),
    "without_names_with_upn": Row(
        {"data_shared": "Pupil level data without names, with UPN and date of birth"},
        identifying=True, pupil_level=True, high_risk=True),
    # Aggregate tables broken down by postcode are not pupil-level data; the postcode still
    # carries its DfE re-identification risk.
    "aggregate_tables_by_postcode_tier3": Row(
        {"data_shared": "Aggregate tables of home postcode, school URN and KS2 attainment by "
                        "local authority",
         "classification": "Tier 3"},
        identifying=False, pupil_level=False, high_risk=True),
    "aggregate_tables_dob_no_tier": Row(
        {"data_shared": "Aggregated counts by date of birth month and home postcode district"},
        identifying=False, pupil_level=False, high_risk=True),
    "aggregate_tables_but_upn": Row(
        {"data_shared": "Aggregate tables of home postcode by local authority, with UPN for "
                        "matching"},
        identifying=True, pupil_level=True, high_risk=True),
    "aggregate_tables_and_pupil_records": Row(
        {"data_shared": "Aggregate tables of home postcode; pupil-level KS2 records",
         "classification": "Tier 3"},
        identifying=False, pupil_level=True, high_risk=True),
    "aggregate_purpose_pupil_postcodes": Row(
        {"data_shared": "Pupil postcodes and dates of birth",
         "purpose": "To produce aggregate statistics on travel to school"},
        identifying=False, pupil_level=True, high_risk=True),
    "we_will_send_not_sen": Row(
        {"data_shared": "KS2 results for individual pupils; DfE will send the file",
         "access_route": "Secure file transfer"},
        identifying=False, pupil_level=True, leaves=True),
}


@pytest.mark.parametrize("key", sorted(ROWS))
def test_flags_match_hand_labels(key: str) -> None:
    row = ROWS[key]
    result = assess_share(**row.fields)
    assert result.identifying is row.identifying, result
    assert result.pupil_level is row.pupil_level, result
    assert result.categories() == row.categories, result
    assert result.raised("high_reidentification_risk") is row.high_risk, result
    assert result.raised("leaves_dfe") is (row.leaves is True), result
    for f in result.flags:
        assert f.flag in FLAGS
        assert f.evidence.strip()
        words = f.evidence.split("'")[1] if "'" in f.evidence else ""
        source = " ".join(row.fields.values()).casefold()
        # the quoted words really are in the row (or the evidence names the section)
        assert words.casefold() in source or f.evidence.startswith("section"), f


def test_evidence_names_field_words_and_dfe_code() -> None:
    result = assess_share(data_shared="UPN and KS4 results", classification="Tier 3")
    ident = next(f for f in result.flags if f.flag == "identifying")
    assert ident.value == "true"
    assert "data_shared: 'UPN'" in ident.evidence
    assert "DfE identifiability 2" in ident.evidence


def test_sensitive_categories_one_flag_each_with_category_value() -> None:
    result = assess_share(data_shared="SEN status, FSM eligibility, looked after children, "
                                      "exclusions, absence, ethnicity, first language, "
                                      "alternative provision")
    values = sorted(f.value for f in result.flags if f.flag == "sensitive_category")
    assert values == ["absence", "ap_reasons", "cin_cla", "ethnicity", "exclusions",
                      "fsm_disadvantage", "language", "sen"]


def test_unknown_access_route_is_not_flagged_but_explained() -> None:
    result = assess_share(data_shared="KS4 results for individual pupils")
    assert not result.raised("leaves_dfe")
    note = next(n for n in result.notes if n.flag == "leaves_dfe")
    assert note.value == "unknown" and "not stated" in note.evidence
    secure = assess_share(data_shared="x", access_route="ONS SRS")
    assert next(n for n in secure.notes if n.flag == "leaves_dfe").value == "false"


def test_aggregate_only_is_recorded_as_a_note() -> None:
    result = assess_share(data_shared="Aggregate only")
    assert not result.pupil_level
    assert any(n.flag == "pupil_level" and n.value == "aggregate" for n in result.notes)


def test_aggregate_note_names_the_items_broken_down() -> None:
    result = assess_share(data_shared="Aggregate tables of home postcode by local authority",
                          classification="Tier 3")
    note = next(n for n in result.notes if n.flag == "pupil_level")
    assert note.value == "aggregate"
    assert "data_shared: 'Aggregate'" in note.evidence
    assert "classification: 'Tier 3'" in note.evidence
    assert "'home postcode' (postcode, DfE identifiability 4" in note.evidence
    risk = next(f for f in result.flags if f.flag == "high_reidentification_risk")
    assert "'home postcode'" in risk.evidence


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("no names, addresses or postcodes", "postcodes", True),
        ("names and addresses removed", "names", True),
        ("UPN retained, names removed", "UPN", False),
        ("pupil-level only", "pupil-level", False),
        ("no names but UPN", "UPN", False),
        ("without names, with UPN", "UPN", False),
        ("without names, addresses or UPN", "UPN", True),
        ("non-aggregated pupil level", "pupil level", False),
        ("non-identifiable", "identifiable", True),
        ("names", "names", False),
    ],
)
def test_negation_scope(text: str, word: str, expected: bool) -> None:
    start = text.index(word)
    assert negated(text, start, start + len(word)) is expected


def test_blank_share_raises_nothing() -> None:
    result = assess_share()
    assert result.flags == ()
