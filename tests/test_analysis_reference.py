"""The editable reference files: valid, consistent, tied to DfE's codes, and really used."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis import classify_recipient, reference
from analysis.flags import assess_share
from analysis.names import match_key
from analysis.reference import (
    ReferenceError,
    clear_caches,
    load_aliases,
    load_collectives,
    load_flag_terms,
    load_item_terms,
    load_lists,
    load_npd_items,
    load_overrides,
    load_rules,
    load_section_access,
    load_sensitive_terms,
)


@pytest.fixture
def edited_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of data/reference that a test may edit; caches cleared before and after."""
    copy = tmp_path / "reference"
    shutil.copytree(reference.REFERENCE_DIR, copy)
    monkeypatch.setattr(reference, "REFERENCE_DIR", copy)
    clear_caches()
    yield copy
    monkeypatch.undo()
    clear_caches()


def test_every_reference_file_loads() -> None:
    assert len(load_lists()) > 300
    assert load_aliases()["UCL"] == "University College London"
    assert load_overrides() and load_rules() and load_collectives()
    assert set(load_flag_terms()) == {"pupil_level", "access", "negation", "classification",
                                      "item_context"}
    assert {t.key for t in load_sensitive_terms()} == set(reference.SENSITIVE_CATEGORIES)
    assert load_section_access()["npd_requests"].leaves_dfe is True


def test_one_list_entry_per_organisation_and_aliases_point_at_lists() -> None:
    keys = [match_key(e.name) for e in load_lists()]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates
    listed = set(keys)
    dangling = [a for a, c in load_aliases().items() if match_key(c) not in listed]
    assert not dangling
    # a renamed organisation's old name is an alias, not a list entry of its own (which
    # would win over the alias and split one company's shares in two)
    assert load_aliases()["Ipsos MORI"] == "Ipsos UK" and match_key("Ipsos MORI") not in listed


def test_npd_items_are_dfes_codes() -> None:
    items = load_npd_items()
    assert len(items) == 319
    upn = [i for i in items if i.alias == "UPN_[term][yy]"]
    assert upn and upn[0].identification_risk == 2 and upn[0].sensitivity == "E"
    assert {i.sensitivity for i in items} <= {"A", "B", "C", "D", "E", ""}


def test_item_vocabulary_inherits_dfe_identifiability() -> None:
    risk = {t.label: t.identification_risk for t in load_item_terms()}
    assert risk["names"] == 1
    assert risk["home address"] == 1
    assert risk["unique pupil number (UPN)"] == 2
    assert risk["unique learner number (ULN)"] == 2
    assert risk["exam candidate number"] == 2
    assert risk["local authority child identifier"] == 2
    assert risk["unique property reference number (UPRN)"] == 2
    assert risk["pupil matching reference (anonymous)"] == 3
    assert risk["postcode"] == 4
    assert risk["date of birth"] == 4


def test_item_term_must_name_a_real_dfe_item(edited_reference: Path) -> None:
    terms = edited_reference / "item_terms.csv"
    terms.write_text(terms.read_text() + "\\bshoe size\\b,shoe size,SHOE_SIZE\n")
    with pytest.raises(ReferenceError, match=r"item_terms.csv:\d+: npd_alias 'SHOE_SIZE'"):
        load_item_terms()


def test_bad_rows_are_reported_with_file_and_line(edited_reference: Path) -> None:
    rules = edited_reference / "rules.csv"
    lines = rules.read_text().splitlines()
    lines.append("\\bwidgets\\b,widgetry,0.5,bad sector")
    rules.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReferenceError, match=rf"rules.csv:{len(lines)}: unknown sector"):
        load_rules()
    clear_caches()
    rules.write_text("\n".join([*lines[:-1], "(unclosed,commercial,0.5,broken"]) + "\n")
    with pytest.raises(ReferenceError, match=r"rules.csv:\d+: bad pattern"):
        load_rules()
    clear_caches()
    rules.write_text("\n".join([*lines[:-1], "a,b,c,d,e,f"]) + "\n")
    with pytest.raises(ReferenceError, match="quote values that contain commas"):
        load_rules()


def test_an_override_wins_and_says_so(edited_reference: Path) -> None:
    assert classify_recipient("Kent County Council").sector == "local_authority"
    overrides = edited_reference / "overrides.csv"
    overrides.write_text(overrides.read_text() + "KENT COUNTY COUNCIL,commercial,test note\n")
    clear_caches()
    got = classify_recipient("Kent County Council")
    assert got.sector == "commercial" and got.confidence == 1.0
    assert got.reason == "override in overrides.csv: test note"


def test_edited_vocabulary_changes_flags(edited_reference: Path) -> None:
    assert assess_share(data_shared="Pupil shoe sizes").categories() == set()
    terms = edited_reference / "sensitive_terms.csv"
    terms.write_text(terms.read_text() + "sen,\\bshoe sizes?\\b,shoe size (test)\n")
    clear_caches()
    assert assess_share(data_shared="Pupil shoe sizes").categories() == {"sen"}
