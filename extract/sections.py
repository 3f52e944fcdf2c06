"""Recognise a section by its title, through the editable ``data/section_titles.csv``.

Titles vary between releases ("DfE external third-party data shares (approved by DSAP from
May 2018 to end of September 2023)", a tab called "Home Office"); the CSV holds one regular
expression per row, tried in file order, so more specific patterns come first.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

TITLES_FILE = Path(__file__).resolve().parents[1] / "data" / "section_titles.csv"
SECTIONS = ("dsap", "regular", "npd_requests", "home_office", "police", "court_orders", "legend")


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


def section_for_title(title: str) -> str | None:
    """The canonical section key a title names, or None if it names none."""
    text = " ".join(title.split())
    if not text or len(text) > 400:
        return None
    for pattern, section in load_patterns():
        if pattern.search(text):
            return section
    return None
