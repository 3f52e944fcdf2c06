"""Flags on one share, each with the words that raised it. Pure functions over the row's text.

A journalist must be able to check every flag, so each carries its evidence: the field and
the words in it ("data_shared: 'UPN' (unique pupil number, DfE identifiability 2)"). The
vocabulary is data, not code (``data/reference/item_terms.csv``, ``sensitive_terms.csv``,
``flag_terms.csv``, ``section_access.csv``); data items inherit DfE's own identifiability
codes (``npd_items.csv``).

Flags:

* ``identifying`` - an item that identifies a child (DfE identifiability 1 instant or 2
  meaningful: names, address, UPN, ULN, candidate number, LA child ID, UPRN), an old Tier 1,
  2 or 4 release, or a classification such as "personal level data of sensitivity level B"
  (but not "de-identified personal level data ...").
* ``pupil_level`` - individual/pupil/record-level rather than aggregated; implied by any
  identifying or per-pupil item, except that a postcode or date of birth in data DfE
  describes as aggregate ("aggregate tables of home postcode ...", Tier 3) is a breakdown.
* ``sensitive_category`` - one row per category (sen, fsm_disadvantage, cin_cla, exclusions,
  absence, ap_reasons, ethnicity, language).
* ``high_reidentification_risk`` - items DfE codes 4 (postcode, date of birth) or a code 4
  classification.
* ``leaves_dfe`` - data sent to the recipient rather than accessed in the ONS SRS or another
  secure environment. An unknown route raises nothing and says so in :attr:`ShareFlags.notes`.

Negation is handled per clause: "no names", "names and addresses removed", "de-identified",
"aggregate only" do not raise flags. A clause ends at . ; : brackets or "but"/"however".
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

try:  # the regex parser: public as sre_parse until 3.11, re._parser since
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre  # type: ignore[no-redef]

from analysis.reference import (
    cached,
    load_flag_terms,
    load_item_terms,
    load_section_access,
    load_sensitive_terms,
)

VOCABULARIES = ("items", "sensitive", "pupil_level", "classification", "access")
FLAGS = ("identifying", "pupil_level", "sensitive_category", "high_reidentification_risk",
         "leaves_dfe")
# Fields read for what data is shared (content) and for where it goes (access).
CONTENT_FIELDS = ("data_shared", "classification", "project", "purpose")
ACCESS_FIELDS = ("access_route", "data_shared", "classification", "legal_basis", "purpose")
RISK_WORDS = {1: "instant identifier", 2: "meaningful identifier", 3: "meaningless identifier",
              4: "high re-identification risk", 5: "other"}

_BOUNDARY = re.compile(r"[.;:\n()\[\]]|\b(?:but|however|whereas|although)\b", re.IGNORECASE)
_TIER = re.compile(r"\btiers?\s*((?:[1-4](?:\s*(?:,|and|&|/|or|-|to)\s*(?=[1-4]))?)+)",
                   re.IGNORECASE)
_CODE = re.compile(
    r"\bidentifi(?:ability|cation)\b[^.;\d]{0,40}?\b([1-5])\s*([a-e](?:\s*,\s*[a-e])*)?\b",
    re.IGNORECASE,
)
_sre_parse = _sre.parse
_LITERAL, _SUBPATTERN, _BRANCH = _sre.LITERAL, _sre.SUBPATTERN, _sre.BRANCH
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT)
_SENTENCE = re.compile(r"(?<=[.;])\s+")
_ONLY_AFTER = re.compile(r"^\s*only\b", re.IGNORECASE)
PRE_WINDOW_WORDS = 8  # how far back a "no"/"without" reaches within a clause
POST_WINDOW_WORDS = 8  # how far forward a "removed"/"withheld" is looked for


@dataclass(frozen=True)
class Flag:
    """One raised flag: ``value`` is 'true' or a sensitive category key."""

    flag: str
    value: str
    evidence: str


@dataclass(frozen=True)
class ShareFlags:
    """Everything assessed for one share: raised flags, and notes on what could not be told."""

    flags: tuple[Flag, ...]
    notes: tuple[Flag, ...] = ()

    def raised(self, flag: str) -> bool:
        return any(f.flag == flag for f in self.flags)

    @property
    def identifying(self) -> bool:
        return self.raised("identifying")

    @property
    def pupil_level(self) -> bool:
        return self.raised("pupil_level")

    def categories(self) -> set[str]:
        return {f.value for f in self.flags if f.flag == "sensitive_category"}


@dataclass(frozen=True)
class _Hit:
    field: str
    words: str
    label: str

    def text(self) -> str:
        return f"{self.field}: '{self.words}' ({self.label})"


@cached(maxsize=4096)
def _boundaries(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(starts, ends) of the clause boundaries of a text, computed once per text."""
    spans = [m.span() for m in _BOUNDARY.finditer(text)]
    return tuple(a for a, _ in spans), tuple(b for _, b in spans)


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the clause holding text[start:end]."""
    starts, ends = _boundaries(text)
    i = bisect.bisect_right(ends, start)  # boundaries ending at or before start
    lo = ends[i - 1] if i else 0
    j = bisect.bisect_left(starts, end)  # first boundary starting at or after end
    hi = starts[j] if j < len(starts) else len(text)
    return lo, hi


def _last_words(text: str, n: int) -> str:
    return " ".join(text.split()[-n:])


def _first_words(text: str, n: int) -> str:
    return " ".join(text.split(None, n)[:n])


@cached(maxsize=None)
def _any_of(group: str, kind: str) -> re.Pattern[str]:
    """All patterns of one kind of a flag_terms.csv group as a single regex."""
    pats = [f"(?:{t.pattern.pattern})" for t in load_flag_terms()[group] if t.key == kind]
    return re.compile("|".join(pats) or r"(?!x)x", re.IGNORECASE)


@cached()
def _negation_after_re() -> re.Pattern[str]:
    """Negating cues and keeping cues in one alternation: the leftmost one decides."""
    keep = r"\b(?:retained|included|kept|provided|supplied|shared|only|and will)\b"
    after = _any_of("negation", "after").pattern
    return re.compile(f"(?P<neg>{after})|(?P<keep>{keep})", re.IGNORECASE)


def negated(text: str, start: int, end: int) -> bool:
    """True if the words at text[start:end] are negated within their clause.

    "no names, addresses or postcodes" (a cue before, reaching a few words unless "with",
    "including" ... intervene), "non-identifiable" (a prefix), "names and addresses removed"
    (a cue after, unless a keeping word comes first: "UPN retained, names removed"); and
    "pupil-level only" is never negated.
    """
    lo, hi = _clause(text, start, end)
    after = text[end:hi]
    if _ONLY_AFTER.match(after):
        return False
    if _any_of("negation", "prefix").search(text[max(lo, start - 6):start]):
        return True  # "non-identifiable"
    before = _last_words(text[lo:start], PRE_WINDOW_WORDS)
    cues = list(_any_of("negation", "before").finditer(before))
    if cues and not _any_of("negation", "scope_end").search(before, cues[-1].end()):
        return True
    m = _negation_after_re().search(_first_words(after, POST_WINDOW_WORDS))
    return bool(m and m.group("neg"))


def _deidentified(text: str, start: int, end: int) -> bool:
    """'anonymised UPN', 'UPN (encrypted)': the identifier is de-identified, not meaningful."""
    lo, _ = _clause(text, start, start)
    near = _last_words(text[lo:start], 3) + " " + _first_words(
        re.sub(r"[()\[\]]", " ", text[end:end + 40]), 2)
    return bool(_any_of("classification", "deidentified").search(near))


def _about_child(text: str, start: int, end: int) -> bool:
    """False for items about schools or staff ('school name', 'names of schools')."""
    return not (_any_of("item_context", "before").search(text[max(0, start - 40):start])
                or _any_of("item_context", "after").search(text[end:end + 60]))


def _required_literals(seq: Any) -> frozenset[str] | None:
    """Words one of which must occur for a parsed regex sequence to match, or None.

    Walks the parse tree of a vocabulary pattern: runs of literal characters are required,
    an alternation requires one of its branches' words, optional parts require nothing. The
    longest such requirement is kept. Used only as a quick necessary test before the regex.
    """
    best: frozenset[str] | None = None

    def consider(cand: frozenset[str] | None) -> None:
        nonlocal best
        if cand and (best is None or min(map(len, cand)) > min(map(len, best))):
            best = cand

    run = ""
    for op, av in seq:
        if op is _LITERAL:
            run += chr(av).lower()
            continue
        consider(frozenset({run}) if run else None)
        run = ""
        if op is _SUBPATTERN:
            consider(_required_literals(av[-1]))
        elif op is _BRANCH:
            branches = [_required_literals(b) for b in av[1]]
            if all(branches):
                consider(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            consider(_required_literals(av[2]))
    consider(frozenset({run}) if run else None)
    return best


@cached(maxsize=None)
def _vocabulary(group: str) -> list[tuple[Any, frozenset[str] | None]]:
    """A vocabulary's terms, each with the words one of which its text must contain."""
    if group == "items":
        terms: list[Any] = list(load_item_terms())
    elif group == "sensitive":
        terms = list(load_sensitive_terms())
    else:
        terms = list(load_flag_terms()[group])
    # Parsed case-sensitively so letters stay literals; they are compared lower-cased.
    return [(t, _required_literals(_sre_parse(t.pattern.pattern, 0))) for t in terms]


@cached(maxsize=None)
def _all_required_words() -> tuple[str, ...]:
    return tuple(sorted({w for g in VOCABULARIES for _, req in _vocabulary(g) if req
                         for w in req}))


def build_indexes() -> None:
    """Compile every vocabulary now rather than on first use (see
    :func:`analysis.pipeline.prepare`)."""
    _all_required_words()
    _negation_after_re()


def _present_words(text: str) -> frozenset[str]:
    """The required words that occur in text: one cheap pass serves every vocabulary."""
    lowered = text.lower()
    return frozenset(w for w in _all_required_words() if w in lowered)


def _matches(group: str, text: str, present: frozenset[str]) -> list[tuple[Any, re.Match[str]]]:
    """(term, match) for the first non-negated occurrence of each term of a vocabulary.

    A term none of whose required words is ``present`` is skipped without running its
    regex: most texts mention few of the terms, which makes this several times faster.
    """
    out: list[tuple[Any, re.Match[str]]] = []
    for term, required in _vocabulary(group):
        if required is not None and required.isdisjoint(present):
            continue
        for m in term.pattern.finditer(text):
            if m.group(0).strip() and not negated(text, m.start(), m.end()):
                out.append((term, m))
                break
    return out


def _terms(field: str, text: str, group: str,
           present: frozenset[str]) -> tuple[tuple[str, _Hit], ...]:
    """(term key, hit) for each term of a vocabulary found in text."""
    return tuple((term.key, _Hit(field, m.group(0).strip(), term.label))
                 for term, m in _matches(group, text, present))


def _items(field: str, text: str, present: frozenset[str]) -> tuple[tuple[int, _Hit], ...]:
    """(DfE identification risk, hit) for data items named in text, about a child."""
    out: list[tuple[int, _Hit]] = []
    for item, m in _matches("items", text, present):
        if not _about_child(text, m.start(), m.end()):
            continue
        risk = item.identification_risk
        if risk <= 2 and _deidentified(text, m.start(), m.end()):
            risk = 3  # a de-identified identifier is a meaningless one
        label = f"{item.label}, DfE identifiability {risk}: {RISK_WORDS[risk]}"
        out.append((risk, _Hit(field, m.group(0).strip(), label)))
    return tuple(out)


def _tiers(field: str, text: str) -> tuple[tuple[frozenset[int], _Hit], ...]:
    out = []
    for m in _TIER.finditer(text):
        if negated(text, m.start(), m.end()):
            continue
        tiers = {int(d) for d in re.findall(r"[1-4]", m.group(1))}
        if re.search(r"\d\s*(?:-|to)\s*\d", m.group(1)):  # "Tier 1-4" is a range
            nums = sorted(tiers)
            tiers = set(range(nums[0], nums[-1] + 1))
        out.append((frozenset(tiers), _Hit(field, m.group(0).strip(), "old NPD tier")))
    return tuple(out)


def _codes(field: str, text: str) -> tuple[tuple[int, _Hit], ...]:
    """'Identifiability / Sensitivity 1E' style codes: the identifiability digit."""
    return tuple((int(m.group(1)), _Hit(field, m.group(0).strip(), "DfE identifiability code"))
                 for m in _CODE.finditer(text) if not negated(text, m.start(), m.end()))


@dataclass(frozen=True)
class _FieldScan:
    """Everything found in one field's text; cached, since register text repeats a lot."""

    items: tuple[tuple[int, _Hit], ...]
    tiers: tuple[tuple[frozenset[int], _Hit], ...]
    codes: tuple[tuple[int, _Hit], ...]
    classification: tuple[tuple[str, _Hit], ...]
    level: tuple[tuple[str, _Hit], ...]
    sensitive: tuple[tuple[str, _Hit], ...]
    access: tuple[tuple[str, _Hit], ...]


@cached(maxsize=1 << 17)
def _scan_sentence(field: str, text: str) -> _FieldScan:
    present = _present_words(text)
    return _FieldScan(
        items=_items(field, text, present),
        tiers=_tiers(field, text),
        codes=_codes(field, text),
        classification=_terms(field, text, "classification", present),
        level=_terms(field, text, "pupil_level", present),
        sensitive=_terms(field, text, "sensitive", present),
        access=_terms(field, text, "access", present),
    )


def _first_per_key(hits: list[tuple[Any, _Hit]]) -> tuple[tuple[Any, _Hit], ...]:
    """The first hit of each (kind, term label): a term found in two sentences counts once."""
    seen: set[tuple[Any, str]] = set()
    out = []
    for kind, hit in hits:
        if (kind, hit.label) not in seen:
            seen.add((kind, hit.label))
            out.append((kind, hit))
    return tuple(out)


@cached(maxsize=1 << 16)
def _scan(field: str, text: str) -> _FieldScan:
    """A field's text, scanned sentence by sentence: sentences recur across shares far more
    than whole texts do ("Pupil level and exam level files will also be provided."), and no
    rule looks across a full stop or semicolon, so each sentence is scanned once."""
    parts = [_scan_sentence(field, p) for p in _SENTENCE.split(text) if p.strip()]
    if len(parts) == 1:
        return parts[0]
    return _FieldScan(*(_first_per_key([h for p in parts for h in getattr(p, name)])
                        for name in _FieldScan.__dataclass_fields__))


def _join(hits: list[_Hit], limit: int = 6) -> str:
    seen: list[str] = []
    for h in hits:
        t = h.text()
        if t not in seen:
            seen.append(t)
    more = f"; and {len(seen) - limit} more" if len(seen) > limit else ""
    return "; ".join(seen[:limit]) + more


def assess_share(
    data_shared: str | None = None,
    classification: str | None = None,
    purpose: str | None = None,
    project: str | None = None,
    access_route: str | None = None,
    legal_basis: str | None = None,
    section: str | None = None,
) -> ShareFlags:
    """All flags for one share's text fields. Pure: same text, same answer."""
    fields = {"data_shared": data_shared, "classification": classification,
              "project": project, "purpose": purpose, "access_route": access_route,
              "legal_basis": legal_basis}
    texts = {k: " ".join(v.split()) for k, v in fields.items() if v and v.strip()}
    scans = [_scan(f, texts[f]) for f in CONTENT_FIELDS if f in texts]
    # Tiers and classification wording count only where DfE writes them.
    cls_scans = [_scan(f, texts[f]) for f in ("classification", "data_shared") if f in texts]

    items = [hit for sc in scans for hit in sc.items]
    tiers = [hit for sc in cls_scans for hit in sc.tiers]
    codes = [hit for sc in scans for hit in sc.codes]
    cls_hits = [hit for sc in cls_scans for hit in sc.classification]

    identifying = [h for risk, h in items if risk <= 2]
    identifying += [h for ts, h in tiers if ts & {1, 2, 4}]
    identifying += [h for c, h in codes if c <= 2]
    identifying += [h for kind, h in cls_hits if kind == "identifying"]
    high_risk = [h for risk, h in items if risk == 4]
    high_risk += [h for c, h in codes if c == 4]

    flags: list[Flag] = []
    notes: list[Flag] = []
    if identifying:
        flags.append(Flag("identifying", "true", _join(identifying)))

    individual = [h for sc in scans for kind, h in sc.level if kind == "individual"]
    aggregate = [h for sc in scans for kind, h in sc.level if kind == "aggregate"]
    aggregate += [h for ts, h in tiers if ts == {3}]
    # Where DfE describes the data (data_shared, classification) as aggregate - "Aggregate
    # tables of home postcode ... by local authority", Tier 3 - a postcode or date of birth is
    # a breakdown, not a per-pupil item; only an identifier still makes it pupil level.
    # Aggregate wording in purpose/project ("to produce aggregate statistics") does not count.
    described_aggregate = [h for sc in cls_scans for kind, h in sc.level
                           if kind == "aggregate"]
    described_aggregate += [h for ts, h in tiers if ts == {3}]
    max_risk = 2 if described_aggregate else 4
    per_pupil = [h for risk, h in items if risk <= max_risk]
    pupil = individual + [h for ts, h in tiers if ts & {1, 2, 4}] + per_pupil
    if pupil:
        flags.append(Flag("pupil_level", "true", _join(pupil)))
    elif aggregate:
        broken_down = [h for risk, h in items if 2 < risk <= 4]
        also = f"; items in aggregate form: {_join(broken_down)}" if broken_down else ""
        notes.append(Flag("pupil_level", "aggregate",
                          "not pupil level: " + _join(aggregate) + also))

    by_cat: dict[str, list[_Hit]] = {}
    for sc in scans:
        for cat, h in sc.sensitive:
            by_cat.setdefault(cat, []).append(h)
    for cat in sorted(by_cat):
        flags.append(Flag("sensitive_category", cat, _join(by_cat[cat])))

    if high_risk:
        flags.append(Flag("high_reidentification_risk", "true", _join(high_risk)))

    leaves, note = _access(texts, section)
    if leaves is True:
        flags.append(Flag("leaves_dfe", "true", note))
    else:
        notes.append(Flag("leaves_dfe", "false" if leaves is False else "unknown", note))
    return ShareFlags(tuple(flags), tuple(notes))


def _access(texts: dict[str, str], section: str | None) -> tuple[bool | None, str]:
    """(leaves DfE?, evidence): the access route first, then other fields, then the section."""
    for f in ACCESS_FIELDS:
        if f not in texts:
            continue
        hits = _scan(f, texts[f]).access
        secure = [h for kind, h in hits if kind == "secure_environment"]
        sent = [h for kind, h in hits if kind == "sent"]
        if secure:  # "transferred to the ONS SRS" stays in a secure environment
            return False, "accessed in a secure environment, not sent: " + _join(secure)
        if sent:
            return True, _join(sent)
    default = load_section_access().get(section or "")
    if default is not None:
        return default.leaves_dfe, default.note
    if "access_route" in texts:
        return None, (f"access route '{texts['access_route'][:80]}' does not say whether data "
                      "was sent or accessed in a secure environment")
    return None, "access route not stated: cannot tell whether the data left DfE"
