"""Cell-level normalisation: whitespace, dates, counts, release periods. Pure functions."""

from __future__ import annotations

import calendar
import datetime as dt
import re

MONTHS = {m.casefold(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.casefold(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Excel serial day numbers read as dates only inside this range (1990-01-01 .. 2060-12-31):
# the register starts in 2012, and a wider range would turn counts into dates. Only date
# columns are parsed as dates at all (extract.normalise), so "43500 pupils" stays a count.
SERIAL_MIN, SERIAL_MAX = 32874, 58439
# More than every person the National Pupil Database has ever recorded: a count above it is
# digits of several cells run together, not a number of pupils (and would overflow INT64
# further up). Refused with a warning instead of reaching the database.
MAX_PLAUSIBLE_COUNT = 100_000_000
# What a date column holds when there is no date yet: kept as text (the _raw column), no date.
STATUS_RE = re.compile(
    r"(pending|n/?a|not applicable|not yet (?:sent|released|shared|known)|tb[cd]|ongoing|"
    r"in progress|awaiting.*|(?:application )?(?:rejected|withdrawn|refused|declined)|"
    r"not pursued|none|nil|open|closed|cancelled|unknown|-+|—|–)", re.IGNORECASE)
# A date written inside longer text, to find cells that hold two dates.
_DATE_IN_TEXT = re.compile(
    r"\b(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s+"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{2,4})\b", re.IGNORECASE)


def clean(value: object) -> str:
    """A cell as a single-spaced string ('' for None/NaN); dates become ISO strings."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def _year(y: str) -> int:
    n = int(y)
    return n + 2000 if n < 100 else n


def parse_date(text: str) -> dt.date | None:
    """A date from the many ways the register writes one; None for blanks, 'pending', junk.

    Month-only values ("March 2019", "Mar-19") become the first of the month.
    """
    s = clean(text).casefold().strip(" .")
    if not s:
        return None
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t].*)?", s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", s):
            return dt.date(_year(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(
            rf"(\d{{1,2}})(?:st|nd|rd|th)?[ \-]({_MONTH_RE})[a-z]*\.?,?[ \-](\d{{2}}|\d{{4}})", s
        ):
            return dt.date(_year(m[3]), MONTHS[m[2]], int(m[1]))
        if m := re.fullmatch(rf"({_MONTH_RE})[a-z]*\.?[ \-'](\d{{2}}|\d{{4}})", s):
            return dt.date(_year(m[2]), MONTHS[m[1]], 1)
        if re.fullmatch(r"\d{5}(\.\d+)?", s):  # Excel serial date (a fraction is the time)
            serial = int(float(s))
            if SERIAL_MIN <= serial <= SERIAL_MAX:
                return EXCEL_EPOCH + dt.timedelta(days=serial)
    except ValueError:
        return None
    return None


# A register reference: DR170221.02 (NPD requests), DS00628 (DSAP), R0042, "DS 00628".
_REFERENCE_RE = re.compile(r"[A-Z]{1,4}[ -]?\d{3,}(?:[./-]\d{1,3})?")


def looks_like_reference(text: str) -> bool:
    """True for a cell that is one reference-shaped value (never a header word)."""
    return bool(_REFERENCE_RE.fullmatch(text.strip()))


# "Total", "Totals", "Grand total", "Total open requests": a row summing the rows above it.
_TOTAL_RE = re.compile(r"^(grand\s+|sub[- ]?)?totals?\b", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^[\d,. ]+$")


def is_total_row(cells: list[str]) -> bool:
    """A "Total ..." row: its first filled cell starts with Total, every other filled cell
    is a number (or it has none). Never a share, and in a count table it would count twice."""
    filled = [c for c in cells if c]
    if not filled or not _TOTAL_RE.match(filled[0]) or len(filled[0]) > 60:
        return False
    return all(_NUMBER_RE.match(c) for c in filled[1:])


def date_cell(text: str) -> tuple[dt.date | None, str]:
    """A date column's cell: (date, kind), kind one of ``date``, ``blank``, ``status``
    ("pending", "n/a", "Application Rejected": no date yet, kept as text), ``two_dates`` (a
    cell such as "23/10/2017 and 06/11/2017": which date is meant is not for us to guess) or
    ``unreadable`` (text that is neither)."""
    s = clean(text)
    if not s:
        return None, "blank"
    if len(_DATE_IN_TEXT.findall(s)) >= 2:
        return None, "two_dates"
    date = parse_date(s)
    if date is not None:
        return date, "date"
    if STATUS_RE.fullmatch(s.strip(" .")):
        return None, "status"
    return None, "unreadable"


def parse_count(text: str) -> int | None:
    """An integer count ('1,234' -> 1234); None when the cell is not a plain, plausible number
    (see :func:`count_cell`)."""
    return count_cell(text)[0]


def count_cell(text: str) -> tuple[int | None, str | None]:
    """(count, problem): the problem says why a non-blank cell gave no count, or None.

    Plain integers only ("1,234", "12.0"); words ("n/a", "all pupils") are not counts but not
    a problem either. Digits that are not one plain number ("c. 500", "12.5", "123 456 789")
    or a number above :data:`MAX_PLAUSIBLE_COUNT` are refused with a reason.
    """
    raw = clean(text)
    s = raw.replace(",", "")
    if re.fullmatch(r"\d{1,3}(?: \d{3})+", s):  # "1 234 567": spaces as thousands separators
        s = s.replace(" ", "")
    if not s:
        return None, None
    if re.fullmatch(r"\d+(\.0+)?", s):
        n = int(float(s)) if "." in s else int(s)
        if n > MAX_PLAUSIBLE_COUNT:
            return None, (f"count {raw[:40]!r} is implausible (more than "
                          f"{MAX_PLAUSIBLE_COUNT:,}); kept as text only")
        return n, None
    if re.search(r"\d", s):
        return None, f"count {raw[:40]!r} is not a plain whole number; kept as text only"
    return None, None


# Words before the month that ends the period ("to end of September 2023", "up to June 2019")
# and words before a date that is not the period ("published 3 August 2023").
_PERIOD_END_RE = re.compile(r"\b(?:to|until|till|ending|ended|through|as at|as of)"
                            r"(?:\s+(?:the\s+)?end\s+of)?\s+(?:\d{1,2}(?:st|nd|rd|th)?\s+)?$",
                            re.I)
_NOT_PERIOD_RE = re.compile(r"\b(?:published|updated|released|issued|revised)(?:\s+on)?\s+"
                            r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?$", re.I)


def parse_period(text: str) -> tuple[str, dt.date] | None:
    """The period a release covers, from its title or file name.

    Returns (label, last day of the period's month): "to end of September 2023" ->
    ("September 2023", 2023-09-30). Titles read "from May 2018 to end of September 2023", so
    the month after "to"/"until" wins, else the *last* month-year that is not a publication
    date ("published 3 August 2023"). Old NPD tabs write two-digit years ("June 17 to
    Sept 17"); those count only when no four-digit year is given.
    """
    s = " ".join(re.sub(r"[_\-]+", " ", text).split())
    hits = list(re.finditer(rf"\b({_MONTH_RE})[a-z]*\.?\s+((?:19|20)\d{{2}})\b", s, re.I))
    if not hits:
        this_year = dt.date.today().year % 100
        hits = [m for m in re.finditer(rf"\b({_MONTH_RE})[a-z]*\.?\s*'?(\d{{2}})\b", s, re.I)
                if int(m[2]) <= this_year + 1]
    if hits:
        ends = [m for m in hits if _PERIOD_END_RE.search(s[: m.start()])]
        usable = [m for m in hits if not _NOT_PERIOD_RE.search(s[: m.start()])]
        m = (ends or usable or hits)[-1]
        month, year = MONTHS[m[1].casefold()], int(m[2])
        year += 2000 if year < 100 else 0
    else:
        m2 = re.search(r"\b((?:19|20)\d{2})[ .]?(0[1-9]|1[0-2])\b", s)
        if not m2:
            return None
        year, month = int(m2[1]), int(m2[2])
    last = calendar.monthrange(year, month)[1]
    return f"{calendar.month_name[month]} {year}", dt.date(year, month, last)
