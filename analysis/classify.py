"""Which sector a recipient belongs to, why, and how sure we are.

Order of evidence, strongest first; the first that decides wins and is named in the reason:

1. ``data/reference/overrides.csv`` - hand decisions (confidence 1.0);
2. collective recipients ("Local Authorities") - ``collective.csv``;
3. the closed sets and curated lists, by match key: an entry of press, police, government,
   local authority, university, charity or company lists (first list wins), an alias from
   ``aliases.csv``, a press title or programme (``press_titles.csv``, which also maps a title to
   its publisher), any written form of a council (``councils.csv`` x ``council_forms.csv``:
   "LB Barnet", "Royal Borough of Greenwich", "Stockport MBC") or a broadcaster's programme
   ("BBC Panorama" -> the BBC);
4. a close spelling of a list entry (rapidfuzz, conservative, never across different words
   such as "Bath" / "Bath Spa");
5. rules, in ``rules.csv`` order - structure before keywords: press words and NHS bodies, then
   a university named anywhere in the name ("Department of Sociology, University of X"), then
   police, central and local government words, then a company suffix (which beats the charity
   words "Trust" and "Foundation"), then weaker leanings;
6. otherwise ``unknown`` - an honest answer, never a silent guess.

Every answer carries a reason a reader can check and a confidence; below
:data:`LOW_CONFIDENCE` a recipient is listed for review (``python -m analysis review``).
A "<recipient> commissioned by <body>" row is classified by the recipient alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from analysis.names import key_from_words, match_key, normalise_name, split_recipient
from analysis.reference import (
    ListEntry,
    cached,
    load_aliases,
    load_collectives,
    load_council_forms,
    load_councils,
    load_lists,
    load_overrides,
    load_press_titles,
    load_rules,
)

FUZZY_CUTOFF = 92.0  # whole-name similarity (0-100) needed before the word-by-word check
TOKEN_CUTOFF = 85.0  # each differing word must be this similar ("Univeristy" ~ "University")
LOW_CONFIDENCE = 0.75  # below this a sector is a leaning, not a finding: listed for review
UNIVERSITY_RULE = "@university"
PREFIX_RULE = "@listed_prefix"
# Sectors whose list names may start a longer name for a unit of the body ("Home Office
# Science") even when one word; other lists' names need two words ("Mind" must not make
# "Mind Map Ltd" a charity, nor "The Independent" make "Independent Review of X" press).
_PUBLIC_SECTORS = frozenset({"government", "police", "local_authority", "academic"})
# Words that name a unit of a university; after them a university's town alone names it
# ("Institute for Employment Research, Warwick").
_UNIT_WORDS = frozenset({"institute", "centre", "department", "school", "faculty", "unit",
                         "group", "laboratory", "lab", "observatory", "college"})
_COMPANY_WORDS = frozenset({"ltd", "plc", "llp", "lp", "inc", "llc", "cic"})
# Last words that make the rest of a name a unit of the organisation it starts with, so a
# one-word name may start it ("Barnardos Policy and Research Unit", "Times Education Team").
_UNIT_ENDINGS = frozenset({"team", "unit", "desk", "newsroom", "division", "directorate",
                           "department", "programme", "project", "editorial", "investigations",
                           "bureau", "secretariat"})
LIST_LABELS = {
    "press.csv": "press list",
    "police.csv": "police list",
    "government.csv": "public bodies list",
    "local_authorities.csv": "local and regional government list",
    "universities.csv": "university list",
    "charities.csv": "charity list",
    "companies.csv": "company list",
    "councils.csv": "council list",
    "press_titles.csv": "press titles list",
}
COUNCIL_KINDS = {
    "london_borough": "London borough", "metropolitan_borough": "metropolitan borough",
    "county": "county council", "unitary": "unitary authority", "district": "district council",
    "sui_generis": "local authority", "former": "former council (since abolished)",
    "principal_area": "Welsh council", "council_area": "Scottish council",
}
# Words after a university's name that make it part of an NHS body's name instead
# ("Oxford University Hospitals NHS Foundation Trust", "Cardiff and Vale University Health Board").
_NOT_A_UNIVERSITY_AFTER = frozenset({"hospital", "hospitals", "health", "nhs", "teaching"})
_MAX_SPAN = 10  # longest university name, in words, searched for inside a name
# Brands that are also ordinary words: a name may end with them without being press.
_ORDINARY_BRANDS = frozenset({"sky", "bloomberg"})


@dataclass(frozen=True)
class Classification:
    """A sector with the evidence that decided it and a rough 0-1 confidence.

    ``evidence`` is the kind of evidence (override, list, alias, title, council, brand, fuzzy,
    rule, collective, none) for summaries; the reason already says it in words.
    """

    sector: str
    reason: str
    confidence: float
    evidence: str = field(default="", compare=False)

    @property
    def needs_review(self) -> bool:
        """Unknown, or decided only by a weak leaning: a person should confirm it."""
        return self.sector == "unknown" or self.confidence < LOW_CONFIDENCE


@dataclass(frozen=True)
class Hit:
    """A name found in the lists: the organisation it is, how it was found, and why."""

    entry: ListEntry
    method: str  # list | alias | title | council | brand | fuzzy
    confidence: float
    reason: str
    score: float = 100.0  # similarity (0-100) for a close spelling


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


def _label(entry: ListEntry) -> str:
    return LIST_LABELS.get(entry.source, entry.source)


def _listed(entry: ListEntry) -> str:
    return f"matched the {_label(entry)} ({entry.source}): '{entry.name}'"


@cached()
def _title_owners() -> dict[str, str]:
    """match key of a title -> its publisher, to name the owner of a listed title."""
    return {match_key(t.title): t.owner for t in load_press_titles()
            if t.owner and match_key(t.owner) != match_key(t.title)}


@cached()
def _explicit_index() -> dict[str, Hit]:
    """match key -> hit for every name written in a list file (lists, aliases, titles)."""
    index: dict[str, Hit] = {}
    owners = _title_owners()
    for entry in load_lists():
        reason = _listed(entry)
        owner = owners.get(match_key(entry.name))
        if entry.sector == "press" and owner:
            reason += f", published by {owner} (press_titles.csv)"
        index.setdefault(match_key(entry.name), Hit(entry, "list", 0.97, reason))
    for alias, canonical in load_aliases().items():
        target = index.get(match_key(canonical))
        if target is not None:
            index.setdefault(match_key(alias), Hit(
                target.entry, "alias", 0.95,
                f"'{alias}' is another name of '{target.entry.name}' (aliases.csv), on the "
                f"{_label(target.entry)} ({target.entry.source})"))
    for t in load_press_titles():
        owner = index.get(match_key(t.owner)) if t.owner else None
        if owner is not None and owner.entry.sector == "press":
            entry, by = owner.entry, f", published by {owner.entry.name}"
        else:
            entry, by = ListEntry(t.title, "press", "press_titles.csv"), (
                f", published by {t.owner}" if t.owner else "")
        index.setdefault(match_key(t.title), Hit(
            entry, "title", 0.93, f"a press title on the press titles list (press_titles.csv): "
                                  f"'{t.title}' ({t.kind}{by})"))
    return index


@cached()
def _council_index() -> dict[str, Hit]:
    """match key -> hit for every written form of every council (generated, not listed)."""
    index: dict[str, Hit] = {}
    forms = load_council_forms()
    for council in load_councils():
        entry = ListEntry(council.name, "local_authority", "councils.csv")
        kind = COUNCIL_KINDS.get(council.kind, council.kind)
        for base in (council.base, *council.also):
            for form, conf in forms:
                written = form.replace("{base}", base)
                how = ("the place name alone, probably its council"
                       if form == "{base}" else f"written as '{written}'")
                index.setdefault(match_key(written), Hit(
                    entry, "council", conf,
                    f"matched the council list (councils.csv): {council.base}, {kind}, {how}"))
    return index


@cached()
def list_index() -> dict[str, Hit]:
    """match key -> hit: list names, aliases, titles, then generated council forms."""
    index = dict(_explicit_index())
    for key, hit in _council_index().items():
        index.setdefault(key, hit)
    return index


@cached()
def _fuzzy_keys() -> tuple[dict[int, list[str]], dict[str, str]]:
    """Keys a close spelling may match (written names and full council forms, not 'LB X'),
    by word count - :func:`same_organisation` only joins names with as many words - and by
    their letters without spaces ("SchoolDash" / "School Dash")."""
    by_words: dict[int, list[str]] = {}
    compact: dict[str, str] = {}
    for k, h in list_index().items():
        if h.method != "council" or h.confidence >= 0.97:
            by_words.setdefault(len(k.split()), []).append(k)
            compact.setdefault(k.replace(" ", ""), k)
    return by_words, compact


@cached()
def _brands() -> list[tuple[list[str], str, ListEntry]]:
    """(brand words, brand, owner entry), longest first: 'sky news' before 'sky'."""
    index = _explicit_index()
    out: list[tuple[list[str], str, ListEntry]] = []
    for t in load_press_titles():
        if not t.brand:
            continue
        owner = index.get(match_key(t.owner)) if t.owner else None
        entry = owner.entry if owner is not None else ListEntry(t.title, "press",
                                                                "press_titles.csv")
        out.append((match_key(t.title).split(), t.title, entry))
    return sorted(out, key=lambda b: -len(b[0]))


def _brand_hit(key: str) -> Hit | None:
    """'bbc scotland disclosure' -> the BBC: a broadcaster's name followed by a programme
    ("ITV's Tonight" too), or after it when the brand cannot be an ordinary word
    ("Dispatches, Channel 4"; not "Blue Sky")."""
    words = key.split()
    for brand_words, brand, entry in _brands():
        n = len(brand_words)
        if len(words) <= n:
            continue
        possessive = [*words[:n - 1], words[n - 1].removesuffix("s")]
        plain = n > 1 or (len(brand_words[0]) >= 3 and brand_words[0] not in _ORDINARY_BRANDS)
        after = plain and words[-n:] == brand_words
        if words[:n] == brand_words or possessive == brand_words or after:
            return Hit(entry, "brand", 0.9,
                       f"a programme, service or unit of {brand} (press_titles.csv: {brand} -> "
                       f"{entry.name})")
    return None


def canonical_entry(key: str) -> Hit | None:
    """The list entry a match key stands for: exact, alias, title, council form, broadcaster's
    programme, else a close spelling; ``None`` when no list knows it."""
    index = list_index()
    hit = index.get(key)
    if hit is not None:
        return hit
    brand = _brand_hit(key)
    if brand is not None:
        return brand
    if len(key) < 6:
        return None
    by_words, compact = _fuzzy_keys()
    same_letters = compact.get(key.replace(" ", ""))
    candidates = by_words.get(len(key.split()), [])
    if same_letters is not None:
        candidates = [same_letters, *candidates]
    for cand, score, _ in process.extract(key, candidates, scorer=fuzz.ratio,
                                          score_cutoff=FUZZY_CUTOFF, limit=3):
        if same_organisation(key, cand):
            near = index[cand]
            return Hit(near.entry, "fuzzy", round(min(near.confidence, 0.85) * score / 100, 2),
                       f"close spelling ({score:.0f}%) of '{near.entry.name}': {near.reason}",
                       float(score))
    return None


@cached()
def _university_keys() -> dict[str, ListEntry]:
    return {k: h.entry for k, h in _explicit_index().items()
            if h.entry.sector == "academic" and h.method in ("list", "alias")}


def build_indexes() -> None:
    """Read the lists and build every index the classifier consults, now rather than on
    first use: ingest does it while the reader works in its child process."""
    load_rules()
    load_collectives()
    _override_index()
    _fuzzy_keys()
    _brands()
    _university_keys()


def university_named(norm: str) -> tuple[str, ListEntry] | None:
    """(words as written, university) for the longest listed university named inside a
    normalised name, e.g. 'centre for education policy ucl' -> ('ucl', UCL)."""
    words = norm.split()
    known = _university_keys()
    best: tuple[int, str, ListEntry] | None = None
    for i in range(len(words)):
        for j in range(min(len(words), i + _MAX_SPAN), i, -1):
            if best is not None and j - i <= best[0]:
                break
            if j < len(words) and words[j] in _NOT_A_UNIVERSITY_AFTER:
                continue
            span = words[i:j]
            if len(span) == 1 and len(span[0]) < 3:
                continue
            entry = known.get(key_from_words(span))
            if entry is not None:
                best = (j - i, " ".join(span), entry)
                break
    if best is None and len(words) >= 3 and _UNIT_WORDS.intersection(words[:-1]):
        entry = known.get(f"university of {words[-1]}")
        if entry is not None:
            return words[-1], entry
    return None if best is None else (best[1], best[2])


def listed_prefix(norm: str) -> tuple[str, Hit] | None:
    """(words as written, hit) when a listed organisation starts the name and more words
    follow: "home office science" -> the Home Office, "guardian data team" -> Guardian News
    and Media. A public body's name followed by a company suffix is a company of its own."""
    words = norm.split()
    with_suffix = bool(_COMPANY_WORDS.intersection(words))
    a_unit = words[-1] in _UNIT_ENDINGS
    index = _explicit_index()
    councils = _council_index()
    for n in range(min(len(words) - 1, _MAX_SPAN), 0, -1):
        head = " ".join(words[:n])
        key = key_from_words(words[:n])
        hit = index.get(key)
        if hit is None:  # a council's full form ("Wigan Council Start Well"), not a place
            hit = councils.get(key)
            if hit is not None and hit.confidence < 0.9:
                hit = None
        if hit is None or len(head) < 3:
            continue
        if hit.entry.sector in _PUBLIC_SECTORS:
            if not with_suffix:
                return head, hit
        elif n >= 2 or a_unit:  # "independent", "national" alone are words, not titles
            return head, hit
    return None


def collective_for(name: str) -> tuple[str, str] | None:
    """(collective name, sector) if the name is a plural/unnamed recipient."""
    norm = normalise_name(name)
    for c in load_collectives():
        if c.pattern.search(norm):
            return c.name, c.sector
    return None


@cached()
def _override_index() -> dict[str, tuple[str, str]]:
    """match key -> (sector, note); an override written with a bracketed aside ("Achievement
    for All (3As) Ltd") also decides the name without it, as the register's rows are split."""
    index: dict[str, tuple[str, str]] = {}
    for o in load_overrides():
        index.setdefault(match_key(o.name), (o.sector, o.note))
    for o in load_overrides():
        index.setdefault(match_key(split_recipient(o.name).principal), (o.sector, o.note))
    return index


def override_for(name: str) -> Classification | None:
    hit = _override_index().get(match_key(name))
    if hit is None:
        return None
    sector, note = hit
    return Classification(sector, f"override in overrides.csv: {note or 'hand decision'}", 1.0,
                          "override")


def _by_rules(name: str) -> Classification | None:
    norm = normalise_name(name)
    for rule in load_rules():
        if rule.pattern.pattern == UNIVERSITY_RULE:
            found = university_named(norm)
            if found is not None:
                written, entry = found
                return Classification(
                    rule.sector, f"{rule.reason}: '{entry.name}' (written '{written}', "
                    f"{entry.source})", rule.confidence, "rule")
            continue
        if rule.pattern.pattern == PREFIX_RULE:
            prefixed = listed_prefix(norm)
            if prefixed is not None:
                head, hit = prefixed
                return Classification(
                    hit.entry.sector, f"{rule.reason}: starts with '{head}'; {hit.reason}",
                    rule.confidence, "rule")
            continue
        m = rule.pattern.search(norm)
        if m:
            return Classification(rule.sector, f"{rule.reason}: '{m.group(0).strip()}' "
                                  "(rules.csv)", rule.confidence, "rule")
    return None


def _classify_principal(name: str) -> Classification:
    """Classify a single recipient name (no commissioning clause)."""
    override = override_for(name)
    if override is not None:
        return override
    coll = collective_for(name)
    if coll is not None:
        return Classification(coll[1], f"collective recipient '{coll[0]}' (collective.csv)", 0.9,
                              "collective")
    hit = canonical_entry(match_key(name))
    if hit is not None:
        return Classification(hit.entry.sector, hit.reason, hit.confidence, hit.method)
    ruled = _by_rules(name)
    if ruled is not None:
        return ruled
    return Classification("unknown", "no override, list entry or rule matches", 0.0, "none")


@cached(maxsize=65536)
def classify_recipient(name: str) -> Classification:
    """The sector of a recipient name as written in the register, with the reason.

    >>> classify_recipient("Times Newspapers Ltd").sector
    'press'
    """
    if not name or not name.strip():
        return Classification("unknown", "recipient not stated", 0.0, "none")
    override = override_for(name)  # a hand decision on the full text wins over splitting
    if override is not None:
        return override
    parts = split_recipient(name)
    result = _classify_principal(parts.principal)
    for aside in parts.bracketed:  # "Something (UCL)": the aside may be the known name
        alt = _classify_principal(aside)
        if alt.sector != "unknown" and round(alt.confidence * 0.9, 2) > result.confidence:
            result = Classification(alt.sector, f"from '{aside}' in brackets: {alt.reason}",
                                    round(alt.confidence * 0.9, 2), alt.evidence)
            break
    if parts.commissioned_by:
        result = Classification(
            result.sector,
            f"recipient is '{parts.principal}' (commissioned by {parts.commissioned_by}); "
            f"{result.reason}",
            result.confidence,
            result.evidence,
        )
    return result
