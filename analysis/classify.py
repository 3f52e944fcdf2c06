"""Which sector a recipient belongs to, and why.

Order of evidence, strongest first; the first that decides wins and is named in the reason:

1. ``data/reference/overrides.csv`` - hand decisions (confidence 1.0);
2. collective recipients ("Local Authorities") - ``collective.csv``;
3. the curated lists (press first, then police, government, local authorities, universities,
   charities, companies), by normalised name or by an alias from ``aliases.csv``;
4. a close spelling of a list entry (rapidfuzz, conservative, never across different words
   such as "Bath" / "Bath Spa");
5. keyword rules, in ``rules.csv`` order ("University", "County Council", "Constabulary",
   "Trust" before "Ltd" because charities are often companies limited by guarantee);
6. otherwise ``unknown`` - an honest answer, never a silent guess.

A "<recipient> commissioned by <body>" row is classified by the recipient alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from analysis.names import match_key, normalise_name, split_recipient
from analysis.reference import (
    ListEntry,
    cached,
    load_aliases,
    load_collectives,
    load_lists,
    load_overrides,
    load_rules,
)

FUZZY_CUTOFF = 92.0  # whole-name similarity (0-100) needed before the word-by-word check
TOKEN_CUTOFF = 85.0  # each differing word must be this similar ("Univeristy" ~ "University")


@dataclass(frozen=True)
class Classification:
    """A sector with the evidence that decided it and a rough 0-1 confidence."""

    sector: str
    reason: str
    confidence: float


def same_organisation(a: str, b: str) -> bool:
    """Conservative check that two match keys are spellings of one name.

    Same words in the same order, each pair equal or a close spelling, and the same numbers;
    or the same letters once spaces are removed ("SchoolDash" / "School Dash").
    """
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return True
    ta, tb = a.split(), b.split()
    if len(ta) != len(tb):
        return False
    for x, y in zip(ta, tb, strict=True):
        if x == y:
            continue
        if x.isdigit() or y.isdigit() or min(len(x), len(y)) < 4:
            return False
        if fuzz.ratio(x, y) < TOKEN_CUTOFF:
            return False
    return fuzz.ratio(a, b) >= FUZZY_CUTOFF


@cached()
def list_index() -> dict[str, ListEntry]:
    """match key -> list entry, for list names and their aliases (first list wins)."""
    index: dict[str, ListEntry] = {}
    for entry in load_lists():
        index.setdefault(match_key(entry.name), entry)
    for alias, canonical in load_aliases().items():
        target = index.get(match_key(canonical))
        if target is not None:
            index.setdefault(match_key(alias), target)
    return index


@cached()
def _override_index() -> dict[str, tuple[str, str]]:
    return {match_key(o.name): (o.sector, o.note) for o in load_overrides()}


def canonical_entry(key: str) -> tuple[ListEntry, str, float] | None:
    """(list entry, method, score) for a match key: exact/alias, else a close spelling."""
    index = list_index()
    entry = index.get(key)
    if entry is not None:
        method = "list" if match_key(entry.name) == key else "alias"
        return entry, method, 100.0
    if len(key) < 6:
        return None
    keys = list(index)
    for cand, score, _ in process.extract(key, keys, scorer=fuzz.ratio,
                                          score_cutoff=FUZZY_CUTOFF, limit=3):
        if same_organisation(key, cand):
            return index[cand], "fuzzy", float(score)
    return None


def collective_for(name: str) -> tuple[str, str] | None:
    """(collective name, sector) if the name is a plural/unnamed recipient."""
    norm = normalise_name(name)
    for c in load_collectives():
        if c.pattern.search(norm):
            return c.name, c.sector
    return None


def override_for(name: str) -> Classification | None:
    hit = _override_index().get(match_key(name))
    if hit is None:
        return None
    sector, note = hit
    return Classification(sector, f"override in overrides.csv: {note or 'hand decision'}", 1.0)


def _classify_principal(name: str) -> Classification:
    """Classify a single recipient name (no commissioning clause)."""
    override = override_for(name)
    if override is not None:
        return override
    coll = collective_for(name)
    if coll is not None:
        return Classification(coll[1], f"collective recipient '{coll[0]}' (collective.csv)", 0.9)
    key = match_key(name)
    found = canonical_entry(key)
    if found is not None:
        entry, method, score = found
        if method == "list":
            return Classification(entry.sector, f"on list {entry.source} as '{entry.name}'", 0.97)
        if method == "alias":
            return Classification(entry.sector, f"alias of '{entry.name}' (aliases.csv), on list "
                                  f"{entry.source}", 0.95)
        return Classification(entry.sector, f"close spelling ({score:.0f}%) of '{entry.name}' on "
                              f"list {entry.source}", round(0.85 * score / 100, 2))
    norm = normalise_name(name)
    for rule in load_rules():
        m = rule.pattern.search(norm)
        if m:
            return Classification(rule.sector, f"rule: {rule.reason} ('{m.group(0).strip()}', "
                                  "rules.csv)", rule.confidence)
    return Classification("unknown", "no override, list entry or rule matches", 0.0)


@cached(maxsize=65536)
def classify_recipient(name: str) -> Classification:
    """The sector of a recipient name as written in the register, with the reason.

    >>> classify_recipient("Times Newspapers Ltd").sector
    'press'
    """
    if not name or not name.strip():
        return Classification("unknown", "recipient not stated", 0.0)
    override = override_for(name)  # a hand decision on the full text wins over splitting
    if override is not None:
        return override
    parts = split_recipient(name)
    result = _classify_principal(parts.principal)
    if result.sector == "unknown":
        for aside in parts.bracketed:  # "Something (UCL)": the aside may be the known name
            alt = _classify_principal(aside)
            if alt.sector != "unknown":
                result = Classification(alt.sector, f"from '{aside}' in brackets: {alt.reason}",
                                        round(alt.confidence * 0.9, 2))
                break
    if parts.commissioned_by:
        result = Classification(
            result.sector,
            f"recipient is '{parts.principal}' (commissioned by {parts.commissioned_by}); "
            f"{result.reason}",
            result.confidence,
        )
    return result
