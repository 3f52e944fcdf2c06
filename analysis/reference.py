"""Load the editable reference data under ``data/reference/`` (lists, rules, vocabularies).

Everything a journalist might want to correct - which list an organisation is on, aliases,
overrides, keyword rules, the words that raise a flag - lives in plain CSV files there, not in
code. Each loader validates its file and raises :class:`ReferenceError` naming the file and
line, so a typo in a hand-edited CSV is reported clearly instead of silently ignored.
Loaders are cached: the files are read once per process.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"
SECTORS = (
    "commercial",
    "press",
    "academic",
    "charity",
    "government",
    "local_authority",
    "police",
    "unknown",
)
# Curated lists, in the order they are consulted: press before companies, because
# newspapers are limited companies; a name on two lists takes the first.
LIST_FILES: tuple[tuple[str, str], ...] = (
    ("press.csv", "press"),
    ("police.csv", "police"),
    ("government.csv", "government"),
    ("local_authorities.csv", "local_authority"),
    ("universities.csv", "academic"),
    ("charities.csv", "charity"),
    ("companies.csv", "commercial"),
)
SENSITIVE_CATEGORIES = (
    "sen",
    "fsm_disadvantage",
    "cin_cla",
    "exclusions",
    "absence",
    "ap_reasons",
    "ethnicity",
    "language",
)


class ReferenceError(ValueError):
    """A reference file is missing a column or holds a bad value."""


F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list[Any] = []


def cached(maxsize: int | None = 1) -> Callable[[F], F]:
    """``lru_cache`` that :func:`clear_caches` can reset (after the files are edited)."""
    def wrap(fn: F) -> F:
        wrapped = lru_cache(maxsize=maxsize)(fn)
        _CACHES.append(wrapped)
        return wrapped  # type: ignore[return-value]

    return wrap


def clear_caches() -> None:
    """Forget everything read from data/reference and derived from it; re-read on next use."""
    for fn in _CACHES:
        fn.cache_clear()


def _rows(name: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a reference CSV; '#' lines are comments."""
    path = REFERENCE_DIR / name
    with path.open(newline="", encoding="utf-8") as fh:
        # Comment lines become blank lines (skipped below) so line numbers stay true.
        lines = ["\n" if ln.lstrip().startswith("#") else ln for ln in fh]
    reader = csv.reader(lines)
    header: list[str] | None = None
    out: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            missing = [c for c in required if c not in header]
            if missing:
                raise ReferenceError(f"{path}: missing column(s) {', '.join(missing)}")
            continue
        if len(cells) > len(header):
            raise ReferenceError(f"{path}:{reader.line_num}: more cells than the header; "
                                 "quote values that contain commas")
        cells = cells + [""] * (len(header) - len(cells))
        out.append((reader.line_num, {k: v.strip() for k, v in zip(header, cells, strict=True)}))
    if header is None:
        raise ReferenceError(f"{path}: empty file (expected a header row)")
    return out


def _regex(path: str, line: int, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ReferenceError(
            f"data/reference/{path}:{line}: bad pattern {pattern!r}: {exc}") from exc


def _sector(path: str, line: int, sector: str) -> str:
    if sector not in SECTORS:
        raise ReferenceError(f"data/reference/{path}:{line}: unknown sector {sector!r}")
    return sector


@cached()
def load_name_tokens() -> dict[str, str]:
    """Word spellings unified before names are compared (limited -> ltd)."""
    return {r["token"].casefold(): r["replacement"].casefold()
            for _, r in _rows("name_tokens.csv", ("token", "replacement"))}


@dataclass(frozen=True)
class ListEntry:
    name: str
    sector: str
    source: str  # file name, for the reason text


@cached()
def load_lists() -> list[ListEntry]:
    """Every curated list entry, in consultation order."""
    out: list[ListEntry] = []
    for file, sector in LIST_FILES:
        out.extend(ListEntry(r["name"], sector, file) for _, r in _rows(file, ("name",)))
    return out


@dataclass(frozen=True)
class PressTitle:
    title: str  # "Nursery World", "BBC"
    owner: str  # publisher or broadcaster ("Mark Allen Group"); may be blank
    brand: bool  # True: the name starts with it and names a programme or unit ("BBC Panorama")
    kind: str  # newspaper, magazine, programme, broadcaster ...


@cached()
def load_press_titles() -> list[PressTitle]:
    """Titles, programmes and broadcaster brands with their owners (the ownership map)."""
    out: list[PressTitle] = []
    for i, r in _rows("press_titles.csv", ("title", "owner", "match", "kind")):
        if r["match"] not in ("title", "brand"):
            raise ReferenceError(f"data/reference/press_titles.csv:{i}: match must be 'title' "
                                 f"or 'brand', not {r['match']!r}")
        out.append(PressTitle(r["title"], r["owner"], r["match"] == "brand", r["kind"]))
    return out


COUNCIL_KINDS = ("london_borough", "metropolitan_borough", "county", "unitary", "district",
                 "sui_generis", "former", "principal_area", "council_area")


@dataclass(frozen=True)
class Council:
    base: str  # the place name the council is written by ("Barnet")
    also: tuple[str, ...]  # other spellings of the place ("Hull" for Kingston upon Hull)
    kind: str
    nation: str

    @property
    def name(self) -> str:
        """The council's usual full name, shown as the organisation's name."""
        if self.kind == "london_borough":
            return f"London Borough of {self.base}"
        if self.kind == "county":
            return f"{self.base} County Council"
        return f"{self.base} Council"


@cached()
def load_councils() -> list[Council]:
    """Every council by its place name; written forms come from :func:`load_council_forms`."""
    out: list[Council] = []
    for i, r in _rows("councils.csv", ("base", "also", "kind", "nation")):
        if r["kind"] not in COUNCIL_KINDS:
            raise ReferenceError(f"data/reference/councils.csv:{i}: unknown kind {r['kind']!r}")
        also = tuple(a.strip() for a in r["also"].split(";") if a.strip())
        out.append(Council(r["base"], also, r["kind"], r["nation"]))
    return out


@cached()
def load_council_forms() -> list[tuple[str, float]]:
    """(form with '{base}', confidence): how a council is written ('London Borough of {base}')."""
    out: list[tuple[str, float]] = []
    for i, r in _rows("council_forms.csv", ("form", "confidence")):
        if r["form"].count("{base}") != 1:
            raise ReferenceError(f"data/reference/council_forms.csv:{i}: form must contain "
                                 "{base} once")
        try:
            conf = float(r["confidence"])
        except ValueError:
            conf = -1.0
        if not 0 < conf <= 1:
            raise ReferenceError(f"data/reference/council_forms.csv:{i}: confidence must be a "
                                 "number in (0, 1]")
        out.append((r["form"], conf))
    return out


@cached()
def load_aliases() -> dict[str, str]:
    """Alias as written -> canonical name ('UCL' -> 'University College London')."""
    return {r["alias"]: r["canonical"] for _, r in _rows("aliases.csv", ("alias", "canonical"))}


@dataclass(frozen=True)
class Override:
    name: str
    sector: str
    note: str


@cached()
def load_overrides() -> list[Override]:
    """Hand decisions that win over every list and rule."""
    return [Override(r["name"], _sector("overrides.csv", i, r["sector"]), r.get("note", ""))
            for i, r in _rows("overrides.csv", ("name", "sector"))]


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    sector: str
    confidence: float
    reason: str


@cached()
def load_rules() -> list[Rule]:
    """Keyword rules on the normalised name, first match wins (file order)."""
    out: list[Rule] = []
    for i, r in _rows("rules.csv", ("pattern", "sector", "confidence", "reason")):
        # "@name" rows are structural tests done in code (analysis.classify); "@listed_prefix"
        # takes its sector from the list entry it finds, so its sector cell may be blank.
        sector = r["sector"] if r["sector"] or not r["pattern"].startswith("@") else "unknown"
        out.append(Rule(_regex("rules.csv", i, r["pattern"]), _sector("rules.csv", i, sector),
                        float(r["confidence"]), r["reason"]))
    return out


@dataclass(frozen=True)
class Collective:
    pattern: re.Pattern[str]
    name: str
    sector: str


@cached()
def load_collectives() -> list[Collective]:
    """Plural recipients ('Local Authorities') and the collective organisation they become."""
    return [Collective(_regex("collective.csv", i, r["pattern"]), r["name"],
                       _sector("collective.csv", i, r["sector"]))
            for i, r in _rows("collective.csv", ("pattern", "name", "sector"))]


@dataclass(frozen=True)
class NpdItem:
    sheet: str
    alias: str
    description: str
    identification_risk: int | None
    sensitivity: str


@cached()
def load_npd_items() -> list[NpdItem]:
    """DfE's per-item identifiability and sensitivity codes (copied from the Oct 2018 tables)."""
    out: list[NpdItem] = []
    for _, r in _rows("npd_items.csv", ("sheet", "npd_alias", "identification_risk")):
        risk = r["identification_risk"]
        out.append(NpdItem(r["sheet"], r["npd_alias"], r.get("description", ""),
                           int(risk) if risk.isdigit() else None, r.get("sensitivity", "")))
    return out


@dataclass(frozen=True)
class ItemTerm:
    pattern: re.Pattern[str]
    label: str  # plain words for the evidence ("unique pupil number")
    npd_alias: str
    identification_risk: int  # from DfE's own code for npd_alias


@cached()
def load_item_terms() -> list[ItemTerm]:
    """Words for data items, each tied to a DfE item whose identification risk it inherits.

    The risk is never typed by hand: it is the lowest (most identifying) risk DfE gives the
    named ``npd_alias`` in ``npd_items.csv``, so the vocabulary follows DfE's own codes.
    """
    risks: dict[str, list[int]] = {}
    for item in load_npd_items():
        if item.identification_risk is not None:
            risks.setdefault(item.alias.casefold(), []).append(item.identification_risk)
    out: list[ItemTerm] = []
    for i, r in _rows("item_terms.csv", ("pattern", "label", "npd_alias")):
        found = risks.get(r["npd_alias"].casefold())
        if not found:
            raise ReferenceError(f"data/reference/item_terms.csv:{i}: npd_alias "
                                 f"{r['npd_alias']!r} is not in npd_items.csv")
        out.append(ItemTerm(_regex("item_terms.csv", i, r["pattern"]), r["label"],
                            r["npd_alias"], min(found)))
    return out


@dataclass(frozen=True)
class Term:
    key: str  # the category or polarity the term signals
    pattern: re.Pattern[str]
    label: str


@cached()
def load_sensitive_terms() -> list[Term]:
    """Words signalling a sensitive category (SEN, FSM, CIN/CLA, ...)."""
    out: list[Term] = []
    for i, r in _rows("sensitive_terms.csv", ("category", "pattern", "label")):
        if r["category"] not in SENSITIVE_CATEGORIES:
            raise ReferenceError(f"data/reference/sensitive_terms.csv:{i}: unknown category "
                                 f"{r['category']!r}")
        out.append(Term(r["category"], _regex("sensitive_terms.csv", i, r["pattern"]),
                        r["label"]))
    return out


FLAG_TERM_KINDS = {
    "pupil_level": {"individual", "aggregate"},
    "access": {"secure_environment", "sent"},
    "negation": {"before", "after", "prefix", "scope_end"},
    "classification": {"identifying", "deidentified"},
    "item_context": {"before", "after"},
}


@cached()
def load_flag_terms() -> dict[str, list[Term]]:
    """Vocabulary for pupil level vs aggregate, access route, negation and classification."""
    out: dict[str, list[Term]] = {k: [] for k in FLAG_TERM_KINDS}
    for i, r in _rows("flag_terms.csv", ("group", "kind", "pattern", "label")):
        group, kind = r["group"], r["kind"]
        if kind not in FLAG_TERM_KINDS.get(group, set()):
            raise ReferenceError(f"data/reference/flag_terms.csv:{i}: unknown group/kind "
                                 f"{group!r}/{kind!r}")
        out[group].append(Term(kind, _regex("flag_terms.csv", i, r["pattern"]), r["label"]))
    return out


@dataclass(frozen=True)
class SectionAccess:
    leaves_dfe: bool
    note: str


@cached()
def load_section_access() -> dict[str, SectionAccess]:
    """What a register section says about where the data went when the row does not."""
    return {r["section"]: SectionAccess(r["leaves_dfe"].casefold() == "true", r["note"])
            for _, r in _rows("section_access.csv", ("section", "leaves_dfe", "note"))}
