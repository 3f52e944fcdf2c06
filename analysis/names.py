"""Organisation names as written in the register, reduced to comparable keys. Pure functions.

The register writes one recipient many ways ("FFT Education Ltd", "FFT EDUCATION LIMITED",
"The FFT Education Ltd."), so names are compared through two keys:

* :func:`normalise_name` - casefolded, accents and punctuation removed, "&" -> "and", word
  spellings unified through ``data/reference/name_tokens.csv`` (Limited -> ltd, Dept ->
  department), leading "The" dropped. Stored as ``organisations.normalised_name``.
* :func:`match_key` - the normalised name without legal-form words (ltd, plc, llp, ...) and
  with "<Place> University" written "university of <place>", so "Bristol University" meets
  "University of Bristol" while "Bath Spa University" ("university of bath spa") never meets
  "University of Bath".

:func:`split_recipient` separates the recipient from a commissioning body ("<university>
commissioned by <department>") and from bracketed acronyms ("Department for Work and
Pensions (DWP)").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from analysis.reference import load_name_tokens

LEGAL_FORMS = frozenset(
    {"ltd", "plc", "llp", "lp", "inc", "llc", "gmbh", "cic", "co", "corp", "pty", "sa", "bv"}
)
# Words joining a recipient to whoever commissioned or funded the work. "for" is deliberately
# absent: "Department for Education", "Institute for Fiscal Studies".
_COMMISSION_RE = re.compile(
    r"\s*[,;(]?\s*\b(?:commissioned by|on behalf of|funded by|in partnership with|"
    r"working with|with support from|sub-?contracted by|acting for|for and on behalf of)\b",
    re.IGNORECASE,
)
_PAREN_RE = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]")
_APOSTROPHES = str.maketrans("", "", "'’‘`´")
_NON_WORD = re.compile(r"[^\w\s]|_")


@dataclass(frozen=True)
class RecipientParts:
    """A recipient cell taken apart: who receives the data, and who else is named."""

    principal: str  # the recipient ("University of Bristol")
    commissioned_by: str | None  # "Department for Education and the Nuffield Foundation"
    bracketed: tuple[str, ...]  # bracketed asides, e.g. acronyms ("UCL")


def _fold(text: str) -> str:
    """Casefold and strip accents (é -> e) and apostrophes (King's -> Kings)."""
    text = text.casefold()
    if not text.isascii():  # ASCII has nothing to decompose (most names, and a hot path)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_APOSTROPHES)


def normalise_name(name: str) -> str:
    """The comparable spelling of a name: 'The F.F.T. Education Limited' -> 'fft education ltd'.

    Dotted initials are joined first so "F.F.T." and "FFT" agree.
    """
    text = _fold(name)
    text = re.sub(r"\b(?:[a-z]\.){2,}", lambda m: m.group(0).replace(".", ""), text)
    text = text.replace("&", " and ").replace("+", " and ")
    tokens = _NON_WORD.sub(" ", text).split()
    table = load_name_tokens()
    out: list[str] = []
    for tok in tokens:
        out.extend(table.get(tok, tok).split())
    if len(out) > 1 and out[0] == "the":
        out = out[1:]
    return " ".join(out)


def match_key(name: str) -> str:
    """The key two spellings of one organisation share (see module docstring)."""
    return key_from_words(normalise_name(name).split())


def key_from_words(words: list[str]) -> str:
    """:func:`match_key` of words already normalised (a part of a normalised name)."""
    tokens = list(words)
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    while len(tokens) > 1 and tokens[-1] in LEGAL_FORMS:
        tokens.pop()
        if len(tokens) > 1 and tokens[-1] == "and":  # "DC Thomson & Co Ltd"
            tokens.pop()
    # "Bristol University" -> "university of bristol"; only when "of" is absent so that
    # "University of the Arts London" and "London South Bank University" stay distinct.
    if len(tokens) >= 2 and tokens[-1] == "university" and "of" not in tokens:
        tokens = ["university", "of", *tokens[:-1]]
    return " ".join(tokens)


def split_recipient(raw: str) -> RecipientParts:
    """Separate the recipient from a commissioning body and from bracketed asides.

    "UCL Institute of Education commissioned by the Department for Education" -> principal
    "UCL Institute of Education", commissioned_by "the Department for Education".
    """
    text = " ".join(raw.split())
    commissioned: str | None = None
    m = _COMMISSION_RE.search(text)
    if m and m.start() > 0:
        commissioned = text[m.end():].strip(" ,;:)(") or None
        text = text[: m.start()]
    bracketed = tuple(b.strip() for b in _PAREN_RE.findall(text) if b.strip())
    principal = _PAREN_RE.sub(" ", text)
    principal = " ".join(principal.split()).strip(" ,;:-–")
    if not principal and bracketed:  # "(UCL)" alone
        principal, bracketed = bracketed[0], bracketed[1:]
    return RecipientParts(principal or text.strip(), commissioned, bracketed)


def acronym(name: str) -> str:
    """Initials of the significant words: 'University College London' -> 'ucl'."""
    small = {"of", "for", "and", "the", "in", "on", "at"}
    return "".join(t[0] for t in normalise_name(name).split() if t not in small)
