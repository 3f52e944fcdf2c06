"""Map column headers to canonical fields by meaning, through ``data/header_synonyms.csv``.

Releases rename columns freely ("Organisation", "Requestor", "Recipient organisation"), wrap
them over lines and add punctuation, so headers are normalised and then matched against the
synonyms table: exactly, then by the longest synonym the header starts with or contains, then
fuzzily (rapidfuzz). Anything still unmatched is returned as unmapped: kept, never dropped.
Users extend the CSV, not this code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

SYNONYMS_FILE = Path(__file__).resolve().parents[1] / "data" / "header_synonyms.csv"

SHARE_FIELDS = (
    "reference",
    "organisation",
    "project",
    "purpose",
    "data_shared",
    "classification",
    "legal_basis",
    "date_approved",
    "date_released",
    "status",
    "access_route",
    "number_of_pupils",
)
FIELDS = (*SHARE_FIELDS, "period")
# Synonyms file rows with this field name a header that must stay unmapped (kept in
# extra_cells) even though it looks like a field: "Organisation type" is not the organisation.
KEEP_UNMAPPED = "unmapped"
FUZZY_THRESHOLD = 88.0


def normalise_header(text: str) -> str:
    """Casefold, turn punctuation and line breaks into spaces, collapse runs of spaces."""
    text = text.replace("-", " ").replace("/", " ").replace("_", " ")
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


@lru_cache(maxsize=4)
def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, str]:
    """Normalised synonym -> field, from the editable CSV."""
    table: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            field, syn = rec["field"].strip(), normalise_header(rec["synonym"])
            if field not in FIELDS and field != KEEP_UNMAPPED:
                raise ValueError(f"{path}: unknown field {field!r} for synonym {syn!r}")
            if syn:
                table.setdefault(syn, field)
    return table


def match_header(header: str, synonyms: dict[str, str] | None = None) -> str | None:
    """The canonical field a header means, or None."""
    field = _match_default(header) if synonyms is None else _match(header, synonyms)
    return None if field == KEEP_UNMAPPED else field


@lru_cache(maxsize=1 << 16)
def _match_default(header: str) -> str | None:
    """:func:`_match` against the CSV's synonyms, remembered: readers ask about the same
    header several times (finding the header row, then mapping it), and a 16,384-column
    sheet must not cost minutes."""
    return _match(header, None)


def _match(header: str, synonyms: dict[str, str] | None) -> str | None:
    syn = load_synonyms() if synonyms is None else synonyms
    norm = normalise_header(header)
    if not norm:
        return None
    if norm in syn:
        return syn[norm]
    # Longest synonym that begins the header ("Organisation name (as on application)") or,
    # for multi-word synonyms, occurs inside it ("Date the data was released").
    # Candidates are the header's word prefixes and its runs of two or more words, looked up
    # in the table (not a scan of every synonym): the longest wins, the earlier row on a tie.
    words = norm.split(" ")
    order = _order(id(syn), syn)
    best: tuple[int, int, str] | None = None
    for i in range(len(words)):
        for j in range(i + 1, len(words) + (0 if i == 0 else 1)):
            if i > 0 and j - i < 2:
                continue
            s = " ".join(words[i:j])
            if len(s) < 4 or s not in syn:
                continue
            key = (len(s), -order[s], syn[s])
            if best is None or key[:2] > best[:2]:
                best = key
    if best:
        return best[2]
    if len(norm) >= 5:
        choices = [s for s in syn if len(s) >= 5]
        hit = process.extractOne(norm, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
        if hit:
            return syn[hit[0]]
    return None


_ORDERS: dict[int, dict[str, int]] = {}


def _order(key: int, syn: dict[str, str]) -> dict[str, int]:
    """Row order of each synonym (ties between equally long synonyms go to the earlier row)."""
    got = _ORDERS.get(key)
    if got is None or len(got) != len(syn):
        got = {s: n for n, s in enumerate(syn)}
        _ORDERS[key] = got
    return got


@dataclass
class HeaderMap:
    """Column index -> field for mapped columns; (index, header) for the rest."""

    fields: dict[int, str]
    unmapped: list[tuple[int, str]]

    def field_set(self) -> set[str]:
        return set(self.fields.values())


def map_headers(headers: list[str]) -> HeaderMap:
    """Map a header row. A field claimed twice keeps its first column; the second is unmapped."""
    fields: dict[int, str] = {}
    unmapped: list[tuple[int, str]] = []
    taken: set[str] = set()
    for i, h in enumerate(headers):
        field = match_header(h)
        if field is None or field in taken:
            unmapped.append((i, h))
        else:
            fields[i] = field
            taken.add(field)
    return HeaderMap(fields, unmapped)


def looks_like_header(cells: list[str], minimum: int = 2) -> bool:
    """True if at least ``minimum`` distinct fields are recognised among the cells.

    Readers use this to find the header row under title and note rows.
    """
    seen = {match_header(c) for c in cells if c and len(c) < 120}
    seen.discard(None)
    return len(seen) >= minimum
