"""The campaigners' published figures, recomputed from the loaded releases with the rows behind.

People quote figures such as "over a third of the approved requests for identifying data was
for use by commercial companies". To check one, the tool must count the same thing the same
way, say how, and show the rows it counted. Each figure is a row of
``data/published_figures.csv`` (wording, source, date, period, our definition in plain words,
and the machine fields below); :func:`compute` turns it into a :class:`FigureResult`.

How a share figure is counted:

* **Distinct shares**, by history key (``shares.share_key``; a row without one counts as
  itself): a share listed in five releases counts once. Each share is taken **as the latest
  loaded release lists it** (that row is the one shown and linked), except that a blank
  status falls back to the latest status any release gave it (the December 2018 PDF has no
  status column).
* **Period**: the share's date approved, else its date released, within the period's months.
* **Status filter** (``status_filter``): ``approved`` keeps shares approved or with data sent
  (``data/status_classes.csv`` maps the wordings) against rejected, not pursued, pending or
  open ones; ``any`` keeps all.
* **Identifying definition** (``identifying`` for the total, ``numerator_identifying`` for
  the part of a percentage): ``tiers`` - DfE's old NPD Tier 1, 2 or 4; ``dfe_codes`` - data
  items DfE codes identifiability 1 or 2, or DfE's "personal level data" classification (not
  de-identified); ``flags`` - the tool's identifying pupil-level flags (any of those, see
  ``docs/analysis.md``); ``any`` - no condition.
* **Sector** (``sector`` / ``numerator_sector``) of the resolved recipient; **section**
  (``section``) of the register.

Home Office figures read ``count_rows``: one value per month and measure (requested or
matched), from the latest loaded release listing that month; ``monthly_range`` gives the
smallest and largest, ``sum`` the total.

Coverage: where the loaded releases do not cover the figure's period, the result says so and
carries no number (a share figure needs a release running to the period's end and a share
dated in or before its first month; a Home Office figure needs every month).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analysis.export import share_path

REPO = Path(__file__).resolve().parents[1]
FIGURES_CSV = REPO / "data" / "published_figures.csv"
STATUS_CSV = REPO / "data" / "status_classes.csv"
MEASURES = ("count", "percent", "monthly_range", "sum")
IDENTIFYING = ("any", "tiers", "dfe_codes", "flags")
STATUS_FILTERS = ("any", "approved")
COMPARATORS = ("over", "about", "exactly", "range")
COUNT_MEASURES = ("requested", "matched")
IDENTIFYING_WORDS = {
    "any": "no identifying condition",
    "tiers": "old NPD Tier 1, 2 or 4",
    "dfe_codes": "DfE identifiability codes 1-2 (items) or 'personal level data'",
    "flags": "the tool's identifying pupil-level flags",
}
# Before May 2018 later releases list a request only while its recipient still holds the
# data ("approved prior to April 2018 where data is still held"), so older periods need a
# release published before then to be complete.
DSAP_START = dt.date(2018, 5, 1)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_TIER = re.compile(r"\btiers?\s*[124]\b", re.IGNORECASE)


class FigureError(ValueError):
    """A figures file or a period that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Period:
    """Whole months, inclusive: ``start`` is the first day, ``end`` the last."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2012-03..2020-06`` (a single ``2018-12`` is one month)."""
        parts = [p.strip() for p in str(text).split("..")]
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2:
            raise FigureError(f"period {text!r}: expected YYYY-MM..YYYY-MM")
        start, end = (month(p, f"period {text!r}") for p in parts)
        last = end.replace(day=calendar.monthrange(end.year, end.month)[1])
        if last < start:
            raise FigureError(f"period {text!r}: ends before it starts")
        return cls(start, last)

    def label(self) -> str:
        a, b = f"{self.start:%B %Y}", f"{self.end:%B %Y}"
        return a if a == b else f"{a} to {b}"

    def code(self) -> str:
        return f"{self.start:%Y-%m}..{self.end:%Y-%m}"


def month(text: str, where: str) -> dt.date:
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise FigureError(f"{where}: {text!r} is not a month (YYYY-MM)")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


@dataclass(frozen=True)
class Figure:
    """One published figure and how we recompute it (a row of published_figures.csv)."""

    id: str
    wording: str
    source: str
    source_date: str
    period: Period
    period_note: str
    definition: str
    measure: str
    published_value: float
    published_high: float | None
    comparator: str
    status_filter: str = "any"
    identifying: str = "any"
    sector: str = "any"
    section: str = "any"
    numerator_identifying: str = ""
    numerator_sector: str = ""
    count_measure: str = ""

    @property
    def is_home_office(self) -> bool:
        return self.measure in ("monthly_range", "sum")

    def published_text(self) -> str:
        v = _number(self.published_value)
        unit = "%" if self.measure == "percent" else ""
        if self.comparator == "range":
            return f"{v} to {_number(self.published_high)}"
        return {"over": f"over {v}{unit}", "about": f"{v}{unit}",
                "exactly": f"{v}{unit}"}[self.comparator]


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _choice(row: dict[str, str], key: str, allowed: tuple[str, ...], where: str,
            default: str = "") -> str:
    value = (row.get(key) or default).strip()
    if value and value not in allowed:
        raise FigureError(f"{where}: {key} {value!r} is not one of {', '.join(allowed)}")
    return value


def _float(text: str | None, where: str) -> float | None:
    if text is None or not str(text).strip():
        return None
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        raise FigureError(f"{where}: {text!r} is not a number") from None


def parse_figure(row: dict[str, str], where: str) -> Figure:
    """One CSV row as a :class:`Figure`, every machine field checked."""
    fid = (row.get("id") or "").strip()
    if not fid:
        raise FigureError(f"{where}: no id")
    where = f"{where} ({fid})"
    measure = _choice(row, "measure", MEASURES, where)
    if not measure:
        raise FigureError(f"{where}: no measure")
    value = _float(row.get("published_value"), where)
    if value is None:
        raise FigureError(f"{where}: no published_value")
    start = month(row.get("period_start", ""), f"{where} period_start")
    period = Period.parse(f"{start:%Y-%m}..{row.get('period_end', '')}")
    sectors = ("any", "commercial", "press", "academic", "charity", "government",
               "local_authority", "police", "unknown")
    fig = Figure(
        id=fid, wording=row.get("wording", "").strip(), source=row.get("source", "").strip(),
        source_date=row.get("source_date", "").strip(), period=period,
        period_note=(row.get("period_note") or "").strip(),
        definition=row.get("definition", "").strip(), measure=measure, published_value=value,
        published_high=_float(row.get("published_high"), where),
        comparator=_choice(row, "comparator", COMPARATORS, where, "exactly"),
        status_filter=_choice(row, "status_filter", STATUS_FILTERS, where, "any"),
        identifying=_choice(row, "identifying", IDENTIFYING, where, "any"),
        sector=_choice(row, "sector", sectors, where, "any"),
        section=(row.get("section") or "any").strip(),
        numerator_identifying=_choice(row, "numerator_identifying", IDENTIFYING, where),
        numerator_sector=_choice(row, "numerator_sector", sectors, where),
        count_measure=_choice(row, "count_measure", COUNT_MEASURES, where))
    if fig.is_home_office and not fig.count_measure:
        raise FigureError(f"{where}: a {measure} figure needs count_measure")
    if measure == "percent" and not (fig.numerator_identifying or fig.numerator_sector):
        raise FigureError(f"{where}: a percent figure needs numerator_identifying or "
                          "numerator_sector")
    return fig


def load_figures(path: Path = FIGURES_CSV) -> list[Figure]:
    """Every figure in the file, in file order; a bad row is a :class:`FigureError`."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise FigureError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    figures = [parse_figure(r, f"{path.name} line {i}") for i, r in enumerate(rows, start=2)]
    ids = [f.id for f in figures]
    if len(set(ids)) != len(ids):
        raise FigureError(f"{path}: repeated figure id")
    return figures


def load_status_classes(path: Path = STATUS_CSV) -> dict[str, str]:
    """Normalised status wording -> ``approved`` or ``not_approved``."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {normalise_status(r["status"]): r["class"] for r in csv.DictReader(fh)}


def normalise_status(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return " ".join(text.casefold().replace("\u2013", "-").split()).strip(" .")


def status_class(status: Any, classes: dict[str, str]) -> str:
    """``approved``, ``not_approved``, ``unstated`` (blank) or ``unrecognised``."""
    key = normalise_status(status)
    if not key:
        return "unstated"
    return classes.get(key, "unrecognised")


# --- reading the database (the only I/O) -------------------------------------------------------

SHARE_FACTS_SQL = """
WITH listed AS (
    SELECT s.*, r.release_order, r.source_file AS release_file,
           coalesce(s.share_key, 'row:' || s.share_id) AS k
    FROM shares s JOIN releases r ON r.release_id = s.release_id
),
known AS (
    SELECT k, arg_max(status, release_order) AS known_status
    FROM listed WHERE nullif(trim(status), '') IS NOT NULL GROUP BY k
),
dfe AS (
    SELECT share_id FROM share_flags
    WHERE flag = 'identifying'
      AND regexp_matches(evidence, 'DfE identifiability [12]\\b|personal level data \\(not')
    GROUP BY share_id
)
SELECT l.k AS share_key, l.share_id, l.release_file, l.release_order, l.section,
       l.reference, l.organisation AS organisation_as_written,
       coalesce(o.name, l.organisation) AS recipient, coalesce(l.sector, 'unknown') AS sector,
       coalesce(nullif(trim(l.status), ''), kn.known_status) AS status,
       nullif(trim(l.status), '') IS NULL AND kn.known_status IS NOT NULL AS status_from_earlier,
       coalesce(l.date_approved, l.date_released) AS share_date,
       l.classification, l.data_shared,
       coalesce(l.identifying AND l.pupil_level, false) AS flags_identifying,
       dfe.share_id IS NOT NULL AS dfe_identifying,
       l.source_page, l.source_sheet, l.source_row
FROM listed l
LEFT JOIN known kn ON kn.k = l.k
LEFT JOIN organisations o ON o.organisation_id = l.organisation_id
LEFT JOIN dfe ON dfe.share_id = l.share_id
QUALIFY row_number() OVER (PARTITION BY l.k ORDER BY l.release_order DESC NULLS LAST,
                                                     l.share_id DESC) = 1
ORDER BY share_date NULLS LAST, l.k
"""

MONTHLY_SQL = """
SELECT c.period_start, c.measure, c.value, c.value_raw, r.source_file AS release_file,
       r.release_order, c.section, c.source_page, c.source_sheet, c.source_row
FROM count_rows c JOIN releases r ON r.release_id = c.release_id
WHERE c.section = 'home_office' AND c.period_start IS NOT NULL
ORDER BY c.period_start, r.release_order
"""


@dataclass
class Loaded:
    """What the figures read from one database: per-share facts, monthly counts, releases."""

    shares: pd.DataFrame
    monthly: pd.DataFrame
    releases: pd.DataFrame  # source_file, period_end, shares (rows), is_sample


def load(con: duckdb.DuckDBPyConnection) -> Loaded:
    """One pass over the database; everything after this is pure."""
    shares = con.execute(SHARE_FACTS_SQL).df()
    monthly = con.execute(MONTHLY_SQL).df()
    releases = con.execute("""
        SELECT r.source_file, r.period_end, r.release_order, coalesce(r.is_sample, false)
                   AS is_sample, count(s.share_id) AS shares
        FROM releases r LEFT JOIN shares s ON s.release_id = r.release_id
        GROUP BY ALL ORDER BY r.release_order NULLS LAST""").df()
    return Loaded(shares, monthly, releases)


# --- computing (pure) --------------------------------------------------------------------------

@dataclass
class FigureResult:
    """Our number for one figure, or why there is none, and the rows it counts."""

    figure: Figure
    period: Period
    covered: bool
    coverage: str  # what the loaded releases cover, in words
    value: float | None = None
    high: float | None = None  # monthly_range: the largest month
    numerator: int | None = None
    denominator: int | None = None
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    suggested: Period | None = None  # not covered: the part of the period that is

    def ours_text(self) -> str:
        if not self.covered or self.value is None:
            return "not covered"
        if self.figure.measure == "percent":
            return f"{self.value:.1f}% ({self.numerator:,} of {self.denominator:,})"
        if self.figure.measure == "monthly_range":
            return f"{_number(self.value)} to {_number(self.high)}"
        return _number(self.value)

    def agrees(self) -> bool | None:
        """Does our number bear the published wording out? None without a number."""
        f, v = self.figure, self.value
        if not self.covered or v is None:
            return None
        if f.comparator == "range":
            return v == f.published_value and self.high == f.published_high
        if f.comparator == "over":
            return v > f.published_value
        if f.comparator == "about":
            tolerance = 1.0 if f.measure == "percent" else 0.05 * f.published_value
            return abs(v - f.published_value) <= tolerance
        return v == f.published_value

    def sentence(self) -> str:
        """The figure as a sentence with our number beside the published one."""
        f = self.figure
        ours = (f"we count {self.ours_text()}" if self.covered
                else f"not covered by the loaded releases ({self.coverage})")
        return (f"“{f.wording}” ({f.source}, {f.source_date}): published "
                f"{f.published_text()}; {ours}, {self.period.label()}.")


def identifying_mask(df: pd.DataFrame, definition: str) -> pd.Series:
    if definition in ("", "any"):
        return pd.Series(True, index=df.index)
    if definition == "tiers":
        return df["classification"].fillna("").map(lambda t: bool(_TIER.search(t)))
    if definition == "dfe_codes":
        return df["dfe_identifying"].astype(bool)
    return df["flags_identifying"].astype(bool)


def _in_period(dates: pd.Series, period: Period) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.notna() & (d >= pd.Timestamp(period.start)) & (d <= pd.Timestamp(period.end))


def _overlap(period: Period, first: dt.date, last: dt.date) -> Period | None:
    """The whole months of ``period`` between ``first`` and ``last``, if any."""
    start = max(period.start, first.replace(day=1))  # as share_coverage: a share in the month
    end = min(period.end, last)
    end_month_last = end.replace(day=calendar.monthrange(end.year, end.month)[1])
    if end != end_month_last:
        end = end.replace(day=1) - dt.timedelta(days=1)
    return Period(start, end) if start <= end else None


def share_coverage(loaded: Loaded, period: Period) -> tuple[bool, str, list[str]]:
    """(covered, what is covered in words, notes) for a share figure over ``period``."""
    with_shares = loaded.releases[loaded.releases["shares"] > 0]
    ends = pd.to_datetime(with_shares["period_end"]).dropna()
    dates = pd.to_datetime(loaded.shares["share_date"]).dropna()
    if ends.empty or dates.empty:
        return False, "no release listing dated shares is loaded", []
    last, first = ends.max().date(), dates.min().date()
    covers = f"loaded releases list shares dated {first:%B %Y} to {last:%B %Y}"
    notes = []
    if period.start < DSAP_START and not (ends.dt.date < DSAP_START).any():
        notes.append("no release published before May 2018 is loaded, and later releases "
                     "list an older request only while its recipient still holds the data: "
                     "counts before May 2018 are lower bounds")
    if last < period.end:
        return False, f"{covers}; the period ends {period.end:%B %Y}", notes
    if first > period.start.replace(day=calendar.monthrange(period.start.year,
                                                            period.start.month)[1]):
        return False, f"{covers}; the period starts {period.start:%B %Y}", notes
    return True, covers, notes


def _share_rows(df: pd.DataFrame, classes: dict[str, str]) -> pd.DataFrame:
    out = df.copy()
    out["status_class"] = [status_class(s, classes) for s in out["status"]]
    out["share_date"] = pd.to_datetime(out["share_date"]).dt.date
    out["tiers_identifying"] = identifying_mask(out, "tiers")
    out["share_url"] = [share_path(k, f) for k, f in
                         zip(out["share_key"], out["release_file"], strict=True)]
    return out


def compute_share_figure(fig: Figure, period: Period, loaded: Loaded,
                         classes: dict[str, str]) -> FigureResult:
    covered, coverage, notes = share_coverage(loaded, period)
    res = FigureResult(fig, period, covered, coverage, notes=notes)
    if not covered:
        dates = pd.to_datetime(loaded.shares["share_date"]).dropna()
        ends = pd.to_datetime(loaded.releases.loc[loaded.releases["shares"] > 0,
                                                  "period_end"]).dropna()
        if len(dates) and len(ends):
            res.suggested = _overlap(period, dates.min().date(), ends.max().date())
        return res
    df = _share_rows(loaded.shares, classes)
    dated = df["share_date"].notna()
    base = _in_period(df["share_date"], period)
    if fig.section != "any":
        base &= df["section"] == fig.section
    undated = int((~dated & ((df["section"] == fig.section) | (fig.section == "any"))).sum())
    if undated:
        res.notes.append(f"{undated} shares have no date approved or released and are left out")
    if fig.status_filter == "approved":
        odd = base & df["status_class"].isin(("unstated", "unrecognised"))
        if odd.any():
            words = sorted({str(s) for s in df.loc[odd, "status"].dropna()})
            res.notes.append(f"{int(odd.sum())} shares in the period have no recognised status"
                             + (f" ({', '.join(words)})" if words else "")
                             + " and are left out")
        base &= df["status_class"] == "approved"
    base &= identifying_mask(df, fig.identifying)
    if fig.sector != "any":
        base &= df["sector"] == fig.sector
    if fig.measure == "percent":
        part = base & identifying_mask(df, fig.numerator_identifying)
        if fig.numerator_sector:
            part &= df["sector"] == fig.numerator_sector
        rows = df[base].copy()
        rows.insert(0, "counted_in", ["part and total" if p else "total only"
                                      for p in part[base]])
        res.numerator, res.denominator = int(part.sum()), int(base.sum())
        res.value = 100.0 * res.numerator / res.denominator if res.denominator else None
        if not res.denominator:
            res.notes.append("no share in the period meets the definition")
    else:
        rows = df[base].copy()
        rows.insert(0, "counted_in", "count")
        res.numerator = res.denominator = int(base.sum())
        res.value = float(res.numerator)
    if df.loc[base, "status_from_earlier"].any():
        n = int(df.loc[base, "status_from_earlier"].sum())
        res.notes.append(f"{n} shares' latest listing has no status; the latest status an "
                         "earlier release gave them is used")
    res.rows = rows.reset_index(drop=True)
    return res


def monthly_values(monthly: pd.DataFrame, measure: str) -> pd.DataFrame:
    """One row per month for ``measure`` (requested / matched): the latest release's value."""
    kind = monthly["measure"].str.contains("request", case=False, na=False)
    if measure == "matched":
        kind = monthly["measure"].str.contains("match", case=False, na=False)
    df = monthly[kind & monthly["value"].notna()].copy()
    df["period_start"] = pd.to_datetime(df["period_start"])
    df = df.sort_values(["period_start", "release_order"])
    return df.groupby("period_start", as_index=False).tail(1).reset_index(drop=True)


def _month_ranges(months: list[dt.date]) -> str:
    """'July 2015 to March 2016, May 2017' for a sorted list of months."""
    spans: list[list[dt.date]] = []
    for m in months:
        if spans and (m.year * 12 + m.month) - (spans[-1][1].year * 12 + spans[-1][1].month) == 1:
            spans[-1][1] = m
        else:
            spans.append([m, m])
    words = [f"{a:%B %Y}" if a == b else f"{a:%B %Y} to {b:%B %Y}" for a, b in spans]
    return ", ".join(words[:4]) + (f" and {len(words) - 4} more" if len(words) > 4 else "")


def compute_monthly_figure(fig: Figure, period: Period, loaded: Loaded) -> FigureResult:
    per_month = monthly_values(loaded.monthly, fig.count_measure)
    inside = per_month[_in_period(per_month["period_start"], period)]
    have = {d.date() for d in inside["period_start"]}
    wanted = list(pd.date_range(period.start, period.end, freq="MS").date)
    missing = [m for m in wanted if m not in have]
    if per_month.empty:
        covers = f"no monthly Home Office {fig.count_measure} counts are loaded"
    else:
        covers = (f"loaded releases give monthly {fig.count_measure} counts for "
                  f"{per_month['period_start'].min():%B %Y} to "
                  f"{per_month['period_start'].max():%B %Y}")
    if missing:
        res = FigureResult(fig, period, False, f"{covers}; missing {_month_ranges(missing)}")
        if len(have):
            part = Period(min(have), max(have).replace(
                day=calendar.monthrange(max(have).year, max(have).month)[1]))
            whole = list(pd.date_range(part.start, part.end, freq="MS").date)
            res.suggested = part if all(m in have for m in whole) else None
        return res
    res = FigureResult(fig, period, True, covers)
    rows = inside.copy()
    rows.insert(0, "counted_in", "month")
    rows["period_start"] = rows["period_start"].dt.date
    res.rows = rows.drop(columns=["release_order"]).reset_index(drop=True)
    values = rows["value"].astype("int64")
    res.numerator = res.denominator = len(rows)
    if fig.measure == "monthly_range":
        res.value, res.high = float(values.min()), float(values.max())
    else:
        res.value = float(values.sum())
    return res


def compute(fig: Figure, loaded: Loaded, classes: dict[str, str] | None = None,
            period: Period | None = None) -> FigureResult:
    """Our number for ``fig`` over its own period, or over ``period`` when given."""
    use = period or fig.period
    if fig.is_home_office:
        return compute_monthly_figure(fig, use, loaded)
    return compute_share_figure(fig, use, loaded,
                                load_status_classes() if classes is None else classes)


def compute_all(con: duckdb.DuckDBPyConnection, period: Period | None = None,
                figures: list[Figure] | None = None) -> list[FigureResult]:
    """Every published figure recomputed on ``con`` (read-only)."""
    loaded = load(con)
    classes = load_status_classes()
    return [compute(f, loaded, classes, period) for f in (figures or load_figures())]


def summary_table(results: list[FigureResult]) -> pd.DataFrame:
    """One row per figure: published against ours, the definition and the period."""
    return pd.DataFrame([{
        "id": r.figure.id, "figure": r.figure.wording, "source": r.figure.source,
        "source_date": r.figure.source_date, "period": r.period.code(),
        "published": r.figure.published_text(), "ours": r.ours_text(),
        "agrees": {True: "yes", False: "no", None: ""}[r.agrees()],
        "rows_counted": len(r.rows) if r.covered else None,
        "definition": r.figure.definition,
        "identifying_definition": IDENTIFYING_WORDS[r.figure.numerator_identifying
                                                    or r.figure.identifying],
        "status_filter": r.figure.status_filter, "sector": r.figure.numerator_sector
        or r.figure.sector, "section": r.figure.section, "coverage": r.coverage,
        "notes": "; ".join(r.notes),
    } for r in results])


def with_period(fig: Figure, period: Period) -> Figure:
    return replace(fig, period=period)


# --- output ------------------------------------------------------------------------------------

ROW_COLUMNS = ("counted_in", "share_key", "reference", "organisation_as_written", "recipient",
               "sector", "status", "status_class", "share_date", "section", "classification",
               "data_shared", "flags_identifying", "dfe_identifying", "tiers_identifying",
               "release_file", "source_page", "source_sheet", "source_row", "share_url")
MONTH_COLUMNS = ("counted_in", "period_start", "measure", "value", "value_raw", "release_file",
                 "section", "source_page", "source_sheet", "source_row")


def rows_table(result: FigureResult) -> pd.DataFrame:
    """The rows a figure counts, in a fixed column order, each with where it was read."""
    cols = MONTH_COLUMNS if result.figure.is_home_office else ROW_COLUMNS
    if result.rows.empty:
        return pd.DataFrame(columns=list(cols))
    return result.rows[[c for c in cols if c in result.rows.columns]].reset_index(drop=True)


def format_table(results: list[FigureResult]) -> str:
    """The terminal table: published against ours, then each definition and note."""
    table = summary_table(results)[["id", "period", "published", "ours", "agrees"]]
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in table.columns)]
    lines += ["  ".join(str(v).ljust(widths[c]) for c, v in rec.items())
              for rec in table.to_dict("records")]
    lines.append("")
    for r in results:
        f = r.figure
        lines.append(f"{f.id}: “{f.wording}” ({f.source}, {f.source_date})")
        lines.append(f"  definition: {f.definition}")
        lines.append(f"  coverage: {r.coverage}" + ("" if r.covered else
                     " - no number" + (f"; covered part: --period {r.suggested.code()}"
                                       if r.suggested else "")))
        lines += [f"  note: {n}" for n in r.notes]
        if r.covered:
            lines.append(f"  rows counted: {len(r.rows)} (python -m analysis figures "
                         f"--rows {f.id} --period {r.period.code()})")
    return "\n".join(lines)


def to_json(results: list[FigureResult]) -> list[dict[str, Any]]:
    """Summary rows with the rows behind each (dates as ISO text)."""
    out = []
    for r, rec in zip(results, summary_table(results).to_dict("records"), strict=True):
        rows = rows_table(r).astype(object)
        rec["rows"] = [{k: (v.isoformat() if hasattr(v, "isoformat") else
                            (None if pd.isna(v) else v) if not isinstance(v, list | dict)
                            else v) for k, v in row.items()}
                       for row in rows.to_dict("records")] if r.covered else []
        rec["value"], rec["high"] = r.value, r.high
        rec["numerator"], rec["denominator"] = r.numerator, r.denominator
        out.append(rec)
    return out


def export_tables(con: duckdb.DuckDBPyConnection, results: list[FigureResult]
                  ) -> dict[str, pd.DataFrame]:
    """Sheet name -> table for a download: the summary, then the rows behind each figure,
    every row carrying its provenance (:func:`analysis.export.with_provenance`)."""
    from analysis import export

    prov = export.release_provenance(con)
    tables = {"figures": summary_table(results)}
    for r in results:
        if r.covered:
            tables[r.figure.id] = export.with_provenance(rows_table(r), prov)
    return tables


def release_files(results: list[FigureResult]) -> list[str]:
    """Every release file a result's rows were read from."""
    files: list[str] = []
    for r in results:
        if r.covered and "release_file" in r.rows.columns:
            files += [f for f in r.rows["release_file"].dropna().unique() if f not in files]
    return files


def workbook(con: duckdb.DuckDBPyConnection, results: list[FigureResult],
             period_words: str) -> bytes:
    """XLSX: "About this file" (what, period, provenance of every file counted), the summary
    and one sheet of rows per figure; through the one safe export path."""
    from analysis import export

    about = export.about_sheet(
        con, "Published figures recomputed from the register: each figure's wording, source, "
        "our number, our definition, and (one sheet per figure) the rows it counts",
        filters=period_words, release_files=release_files(results) or None)
    return export.to_xlsx_bytes({export.ABOUT_SHEET: about, **export_tables(con, results)})
