"""Resolve the recipient names written in the register to organisations.

Every distinct name (not every row) is resolved once, so the cost grows with the number of
spellings, not of shares. A name joins an organisation, in this order:

1. collective - a plural recipient ("Local Authorities") becomes one collective organisation;
2. list / alias / fuzzy - it is (an alias of, or a close spelling of) a curated list entry,
   whose name becomes the organisation's name ("UCL" -> "University College London");
3. normalised - it has the same match key as another name (case, punctuation, Ltd/Limited,
   "&"/"and", leading "The", "Bristol University" = "University of Bristol");
4. fuzzy - a conservative close spelling of another name (see
   :func:`analysis.classify.same_organisation`: never "University of Bath" / "Bath Spa
   University");
5. otherwise it is an organisation of its own.

A "<university> commissioned by <department>" name joins the university; the commissioning
body is kept in ``organisation_names.commissioned_by``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from analysis.classify import (
    FUZZY_CUTOFF,
    Classification,
    canonical_entry,
    classify_recipient,
    collective_for,
    override_for,
    same_organisation,
)
from analysis.names import match_key, split_recipient

NOT_STATED = "(recipient not stated)"
# How a list hit is recorded in organisation_names.match_method: a title, a council's written
# form or a broadcaster's programme is another name of a listed organisation, like an alias.
_METHODS = {"list": "list", "alias": "alias", "title": "alias", "council": "alias",
            "brand": "alias", "fuzzy": "fuzzy_list"}


@dataclass
class NameMatch:
    """How one name as written was matched to its organisation."""

    raw_name: str
    org_key: str
    method: str  # not_stated | collective | list | alias | fuzzy_list | normalised | fuzzy | exact
    score: float | None
    commissioned_by: str | None
    principal: str


@dataclass
class Organisation:
    key: str
    name: str
    is_collective: bool
    members: list[str] = field(default_factory=list)  # principals, most frequent first
    classification: Classification | None = None
    organisation_id: int = 0


def _display(spellings: Mapping[str, int]) -> str:
    """The most used spelling, preferring mixed case over ALL CAPS / all lower case."""
    def rank(s: str) -> tuple[int, int, int, str]:
        mixed = int(s != s.upper() and s != s.lower())
        return (-mixed, -spellings[s], len(s), s)

    return min(spellings, key=rank)


def _stable_id(key: str, taken: set[int]) -> int:
    """A 31-bit id derived from the organisation key, so ids survive rebuilds and new rows."""
    n = zlib.crc32(key.encode("utf-8")) & 0x7FFFFFFF or 1
    while n in taken:
        n = n % 0x7FFFFFFF + 1
    taken.add(n)
    return n


def resolve(name_counts: Mapping[str, int]) -> tuple[list[Organisation], list[NameMatch]]:
    """Organisations and the match of every name; ``name_counts`` = name -> rows using it."""
    matches: dict[str, NameMatch] = {}
    spellings: dict[str, dict[str, int]] = {}  # org key -> principal spelling -> rows
    display_override: dict[str, str] = {}
    collective: set[str] = set()
    pending: dict[str, int] = {}  # match key -> rows, for names not on a list

    for raw, count in name_counts.items():
        text = " ".join((raw or "").split())
        if not text:
            matches[raw] = NameMatch(raw, "none", "not_stated", None, None, NOT_STATED)
            spellings.setdefault("none", {})[NOT_STATED] = count
            continue
        parts = split_recipient(text)
        principal = parts.principal
        coll = collective_for(principal)
        if coll is not None:
            key = f"collective:{coll[0]}"
            collective.add(key)
            display_override[key] = coll[0]
            matches[raw] = NameMatch(raw, key, "collective", None, parts.commissioned_by, principal)
        else:
            mkey = match_key(principal)
            found = canonical_entry(mkey)
            if found is not None:
                entry = found.entry
                key = f"list:{match_key(entry.name)}"
                display_override[key] = entry.name
                matches[raw] = NameMatch(raw, key, _METHODS[found.method], found.score,
                                         parts.commissioned_by, principal)
            else:
                key = f"name:{mkey}"
                pending[mkey] = pending.get(mkey, 0) + count
                matches[raw] = NameMatch(raw, key, "normalised", None, parts.commissioned_by,
                                         principal)
        bucket = spellings.setdefault(matches[raw].org_key, {})
        bucket[principal] = bucket.get(principal, 0) + count

    # Close spellings among names on no list: most used first, so a typo joins the usual form.
    reps: list[str] = []
    merged: dict[str, tuple[str, float]] = {}
    for mkey in sorted(pending, key=lambda k: (-pending[k], k)):
        target = None
        if len(mkey) >= 6 and reps:
            for cand, score, _ in process.extract(mkey, reps, scorer=fuzz.ratio,
                                                  score_cutoff=FUZZY_CUTOFF, limit=3):
                if same_organisation(mkey, cand):
                    target = (cand, float(score))
                    break
        if target is None:
            reps.append(mkey)
        else:
            merged[mkey] = target
    for m in matches.values():
        if m.org_key.startswith("name:"):
            mkey = m.org_key[5:]
            if mkey in merged:
                rep, score = merged[mkey]
                old = spellings.pop(m.org_key, {})
                m.org_key, m.method, m.score = f"name:{rep}", "fuzzy", score
                bucket = spellings.setdefault(m.org_key, {})
                for s, c in old.items():
                    bucket[s] = bucket.get(s, 0) + c
            elif m.principal == _display(spellings[m.org_key]):
                m.method = "exact"

    orgs: list[Organisation] = []
    taken: set[int] = set()
    for key in sorted(spellings):
        names = spellings[key]
        name = display_override.get(key) or _display(names)
        members = sorted(names, key=lambda s: (-names[s], s))
        org = Organisation(key, name, key in collective, members)
        org.classification = _classify(org)
        org.organisation_id = _stable_id(key, taken)
        orgs.append(org)
    return orgs, list(matches.values())


def _classify(org: Organisation) -> Classification:
    """An override on any spelling wins; otherwise classify the most used spelling."""
    if org.key == "none":
        return classify_recipient("")
    for member in org.members:
        found = override_for(member)
        if found is not None:
            return found
    if org.is_collective:
        return classify_recipient(org.members[0])
    if org.key.startswith("list:"):
        # Every spelling found the same list entry; the surest one speaks for the organisation
        # (a council written by its place name alone is less sure than "Kirklees Council").
        found = [classify_recipient(m) for m in org.members]
        return max(found, key=lambda c: c.confidence)
    return classify_recipient(org.members[0])
