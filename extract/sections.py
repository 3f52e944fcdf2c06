"""Recognise a section by its title, through the editable ``data/section_titles.csv``.

Titles vary between releases ("DfE external third-party data shares (approved by DSAP from
May 2018 to end of September 2023)", a tab called "Home Office"); the CSV holds one regular
expression per row, tried in file order, so more specific patterns come first.

A section's name in words (the dashboard's filter and its ``?section=`` URL values, the
``changes`` command) is in ``data/sections.csv``, read once by :func:`section_labels`.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

TITLES_FILE = Path(__file__).resolve().parents[1] / "data" / "section_titles.csv"
LABELS_FILE = Path(__file__).resolve().parents[1] / "data" / "sections.csv"
SECTIONS = ("dsap", "regular", "npd_requests", "home_office", "police", "court_orders", "legend")
# The values ``shares.section`` can hold: every section but the legend (whose rows go to
# ``legend_rows``), and "unknown" for a table whose title names no section.
SHARE_SECTIONS = (*(s for s in SECTIONS if s != "legend"), "unknown")


@lru_cache(maxsize=4)
def load_patterns(path: Path = TITLES_FILE) -> list[tuple[re.Pattern[str], str]]:
    out: list[tuple[re.Pattern[str], str]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            section = rec["section"].strip()
            if section not in SECTIONS:
                raise ValueError(f"{path}: unknown section {section!r}")
            out.append((re.compile(rec["pattern"].strip(), re.IGNORECASE), section))
    return out


@lru_cache(maxsize=4)
def _load_labels(path: Path) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            key, label = rec["key"].strip(), rec["label"].strip()
            if key not in SHARE_SECTIONS:
                raise ValueError(f"{path}: unknown section {key!r}")
            if key in out:
                raise ValueError(f"{path}: section {key!r} listed twice")
            if not label or label in out.values():  # labels are URL values: one per key
                raise ValueError(f"{path}: {key!r}: label {label!r} empty or already used")
            out[key] = label
    return tuple(out.items())


def section_labels(path: Path = LABELS_FILE) -> dict[str, str]:
    """Section key -> label, in file order (the order the dashboard lists them in).

    A fresh dict each call (the file is read once), so a caller's changes stay its own."""
    return dict(_load_labels(path))


def section_for_title(title: str) -> str | None:
    """The canonical section key a title names, or None if it names none."""
    text = " ".join(title.split())
    if not text or len(text) > 400:
        return None
    for pattern, section in load_patterns():
        if pattern.search(text):
            return section
    return None
