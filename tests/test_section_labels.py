"""Section labels: one file (data/sections.csv) for the dashboard and the `changes` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract import history
from extract.sections import LABELS_FILE, SECTIONS, load_patterns, section_labels
from views import data

# The labels are URL values (``?section=Police``) and are quoted in docs/dashboard.md and
# tests: a change here is deliberate.
EXPECTED = {
    "dsap": "DSAP approvals",
    "regular": "Regular agreements",
    "npd_requests": "NPD requests (pre-2018)",
    "home_office": "Home Office",
    "police": "Police",
    "court_orders": "Court orders",
    "unknown": "Other",
}


def test_file_keys_are_the_sections_the_reader_knows() -> None:
    # The reader files a table under a key of SECTIONS (through section_titles.csv), or
    # "unknown" when its title names none; legend tables never become shares.
    reader = (set(SECTIONS) | {"unknown"}) - {"legend"}
    assert set(section_labels()) == reader
    titled = {section for _, section in load_patterns()} - {"legend"}
    assert titled <= set(section_labels())


def test_labels_unchanged_and_shared() -> None:
    assert section_labels() == EXPECTED
    assert list(section_labels()) == list(EXPECTED)  # the dashboard lists them in file order
    assert data.SECTION_LABELS == EXPECTED
    assert history.SECTION_NAMES == EXPECTED
    assert LABELS_FILE.parent.name == "data"


def test_bad_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "sections.csv"
    bad.write_text("key,label\ndsap,DSAP approvals\nlegend,Legend\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown section 'legend'"):
        section_labels(bad)
    twice = tmp_path / "twice.csv"
    twice.write_text("key,label\ndsap,Same\npolice,Same\n", encoding="utf-8")
    with pytest.raises(ValueError, match="already used"):
        section_labels(twice)
