"""Every query the dashboard runs, as plain functions of a read-only DuckDB connection.

Kept free of Streamlit so the pages, the tests and ``bench/bench_dashboard.py`` exercise the
same SQL. Rules: values only ever travel as parameters (``con.execute(sql, params)``); the
only text spliced into SQL is built here from constant fragments (see :func:`where`). Flags
are read from ``share_flags`` everywhere (filters, headline figures, recipients), so a
number on the overview and the rows the explorer lists for it can never disagree.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pandas as pd

from extract.db import REPO, attach_readonly
from extract.sections import section_labels

# Labels double as URL values of the bound filter widgets (``?sector=Press``), so keep them
# short and stable: renaming one breaks links people have shared.
SECTOR_LABELS = {
    "commercial": "Commercial",
    "press": "Press",
    "academic": "Academic",
    "charity": "Charity / think tank",
    "government": "Government",
    "local_authority": "Local authority",
    "police": "Police",
    "unknown": "Unknown",
}
FLAG_LABELS = {
    "identifying": "Identifying",
    "pupil_level": "Pupil-level",
    "sensitive_category": "Sensitive data",
    "high_reidentification_risk": "High re-identification risk",
    "leaves_dfe": "Leaves DfE",
}
FLAG_HELP = {
    "identifying": "Includes items that identify a child (names, addresses, UPN, ULN...) or "
                   "is an old Tier 1, 2 or 4 / 'personal level' release.",
    "pupil_level": "Records about individual pupils rather than aggregate tables.",
    "sensitive_category": "SEN, free school meals, children in need or looked after, "
                          "exclusions, absence, AP reasons, ethnicity or language.",
    "high_reidentification_risk": "Postcode, date of birth and similar items that re-identify "
                                  "a child when combined.",
    "leaves_dfe": "Sent to the organisation rather than accessed in a secure research service.",
}
CATEGORY_LABELS = {
    "sen": "SEN",
    "fsm_disadvantage": "FSM / disadvantage",
    "cin_cla": "Children in need / looked after",
    "exclusions": "Exclusions",
    "absence": "Absence",
    "ap_reasons": "Alternative provision reasons",
    "ethnicity": "Ethnicity",
    "language": "First language",
}
# Shared with the `changes` command; edited in data/sections.csv.
SECTION_LABELS = section_labels()
# The text searched by the explorer's search box: a term matches when it occurs in any one of
# these columns. Written out here (constants), never assembled from input. One ILIKE per
# column is several times faster than one over their concatenation (no string building per
# row), and a phrase never straddles two fields.
SEARCHED = ("s.reference", "s.organisation", "o.name", "s.project", "s.purpose",
            "s.data_shared")
TERM_CLAUSE = "(" + " OR ".join(f"{c} ILIKE ? ESCAPE '\\'" for c in SEARCHED) + ")"
MAX_TERMS = 10


@dataclass(frozen=True)
class Filters:
    """What the sidebar selects. Empty tuples and ``None`` mean "no restriction"."""

    text: str = ""
    release_id: int | None = None  # None: every release (shares then repeat across releases)
    sectors: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # a share must carry every one of these
    categories: tuple[str, ...] = ()  # ...and at least one of these sensitive categories
    sections: tuple[str, ...] = ()
    date_from: dt.date | None = None  # date approved (or released when not given)
    date_to: dt.date | None = None

    def across_releases(self) -> Filters:
        """The same filters without release and dates (for comparisons between releases)."""
        return replace(self, release_id=None, date_from=None, date_to=None)


_ONE_AT_A_TIME = threading.Lock()
# The open database per path: (file identity, connection). Opening a 100,000-share file
# reads its catalogue, ~30 ms, more than most queries the pages run.
_OPEN: dict[str, tuple[tuple[int, int, int], duckdb.DuckDBPyConnection]] = {}
_KEEP_OPEN = 4  # files kept open at once (a test run touches hundreds)
# An open read-only file holds a shared lock, which stops another process opening it
# read-write: after this long without a query the dashboard lets go of it.
IDLE_CLOSE_S = 60.0
_idle: threading.Timer | None = None


@contextlib.contextmanager
def connection(db: str | os.PathLike[str], private: bool = False
               ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection for one query, never used at the same time as another.

    The file is opened once per version (inode, modification time, size) and kept open
    until :data:`IDLE_CLOSE_S` pass without a query; each query gets its own cursor. While
    any connection to a path is open, DuckDB hands a new ``connect()`` in the same process
    that *already open* database, even after an ingest has ``os.replace``-d the file: so
    when the file has changed, the old handle is closed before the new one opens, under the
    same lock as the queries, and every query reads the current file. Results are cached,
    so the queueing is rarely felt.

    ``private``: an instance of its own, closed afterwards, for a query that changes the
    instance's settings (a Question locks its configuration down: ``analysis/queries.py``).
    """
    with _ONE_AT_A_TIME:
        path = os.path.abspath(db)
        try:
            st_ = os.stat(path)
        except FileNotFoundError:
            _close(path)
            raise FileNotFoundError(f"{path}: no database yet; run `python -m extract "
                                    "data/sample`") from None
        if private:
            con = attach_readonly(path)
            try:
                yield con
            finally:
                con.close()
            return
        version = (st_.st_ino, st_.st_mtime_ns, st_.st_size)
        held = _OPEN.pop(path, None)
        if held is not None and held[0] != version:
            held[1].close()
            held = None
        if held is None:
            held = (version, attach_readonly(path))
        _OPEN[path] = held  # most recently used last
        while len(_OPEN) > _KEEP_OPEN:
            _close(next(iter(_OPEN)))
        cursor = held[1].cursor()
        try:
            cursor.execute("USE register")  # per connection: a cursor starts in memory
            yield cursor
        except duckdb.FatalException:  # the database instance is unusable from now on
            _close(path)
            raise
        finally:
            cursor.close()
            _close_when_idle()


def _close_when_idle() -> None:
    """(Re)start the countdown after which every kept file is closed (lock held)."""
    global _idle
    if _idle is not None:
        _idle.cancel()
    _idle = threading.Timer(IDLE_CLOSE_S, close_all)
    _idle.daemon = True
    _idle.start()


def close_all() -> None:
    """Close every database file :func:`connection` keeps open."""
    with _ONE_AT_A_TIME:
        for path in list(_OPEN):
            _close(path)


atexit.register(close_all)  # a DuckDB instance left open at exit is reported as a leak


def _close(path: str) -> None:
    held = _OPEN.pop(path, None)
    if held is not None:
        held[1].close()


def search_terms(text: str) -> list[str]:
    """Words and "quoted phrases"; every one must occur somewhere in the share's text."""
    terms = [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', text or "")]
    terms = [" ".join(t.split())[:100] for t in terms]
    return [t.strip('"') for t in terms if t.strip('"')][:MAX_TERMS]


def like_pattern(term: str) -> str:
    """A substring pattern for ILIKE with the user's %, _ and \\ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where(f: Filters) -> tuple[str, list[Any]]:
    """The WHERE clause for ``f`` over ``shares s`` (joined to ``organisations o``).

    Returns SQL made only of the constant fragments below plus its parameters.
    """
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if f.release_id is not None:
        clauses.append("s.release_id = ?")
        params.append(f.release_id)
    if f.sectors:
        clauses.append("list_contains(?, coalesce(s.sector, 'unknown'))")
        params.append(list(f.sectors))
    for flag in f.flags:
        clauses.append("EXISTS (SELECT 1 FROM share_flags fl "
                       "WHERE fl.share_id = s.share_id AND fl.flag = ?)")
        params.append(flag)
    if f.categories:
        clauses.append("EXISTS (SELECT 1 FROM share_flags fl WHERE fl.share_id = s.share_id "
                       "AND fl.flag = 'sensitive_category' AND list_contains(?, fl.value))")
        params.append(list(f.categories))
    if f.sections:
        clauses.append("list_contains(?, s.section)")
        params.append(list(f.sections))
    if f.date_from is not None:
        clauses.append("coalesce(s.date_approved, s.date_released) >= ?")
        params.append(f.date_from)
    if f.date_to is not None:
        clauses.append("coalesce(s.date_approved, s.date_released) <= ?")
        params.append(f.date_to)
    for term in search_terms(f.text):
        clauses.append(TERM_CLAUSE)
        params.extend([like_pattern(term)] * len(SEARCHED))
    return " AND ".join(clauses), params


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
        ) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


# --- releases ---------------------------------------------------------------------------------

def releases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every release in publication order, with a unique human ``label`` and share count."""
    df = _df(con, """
        SELECT r.release_id, r.source_file, r.source_path, r.format, r.title, r.period_label,
               r.period_end, r.release_order, r.page_count, r.is_sample, r.ingested_at,
               count(s.share_id) AS shares
        FROM releases r LEFT JOIN shares s ON s.release_id = r.release_id
        GROUP BY ALL
        ORDER BY r.release_order NULLS LAST, r.source_file""")
    labels = [p if isinstance(p, str) and p else Path(f).stem
              for p, f in zip(df["period_label"], df["source_file"], strict=True)]
    # Two files covering the same period (a PDF and an ODS of one release) stay distinct.
    dupes = {x for x in labels if labels.count(x) > 1}
    df["label"] = [f"{lab} ({f})" if lab in dupes else lab
                   for lab, f in zip(labels, df["source_file"], strict=True)]
    return df


# --- overview ---------------------------------------------------------------------------------

def headline(con: duckdb.DuckDBPyConnection, release_id: int) -> dict[str, int]:
    """Counts behind the overview's headline figures for one release."""
    # "Identifying pupil-level" as the analysis views define it (v_share_details).
    row = con.execute("""
        SELECT count(*),
               count(*) FILTER (WHERE sector = 'commercial'),
               count(*) FILTER (WHERE sector = 'press'),
               count(*) FILTER (WHERE identifying AND pupil_level)
        FROM shares WHERE release_id = ?""", [release_id]).fetchone()
    total, commercial, press, ident = row if row else (0, 0, 0, 0)
    return {"shares": total, "commercial": commercial, "press": press,
            "identifying_pupil": ident}


def sector_trend(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Shares per release and recipient sector (the stacked trend chart)."""
    return _df(con, """
        SELECT s.release_id, r.release_order, coalesce(s.sector, 'unknown') AS sector,
               count(*) AS shares
        FROM shares s JOIN releases r ON r.release_id = s.release_id
        GROUP BY ALL ORDER BY r.release_order, sector""")


def identifying_trend(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per release: shares, identifying pupil-level shares and their percentage (the analysis
    view ``v_identifying_over_time``: one definition for the chart and the exports)."""
    return _df(con, """
        SELECT release_id, release_order, shares,
               identifying_pupil_level_shares AS identifying_pupil, pct_identifying AS pct
        FROM v_identifying_over_time ORDER BY release_order""")


def coverage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per release that lists shares: its period end and the register sections it lists,
    and ``partial``: it lacks a section the latest release lists (an early list of NPD
    requests only is not a complete register, and a trend must say so)."""
    df = _df(con, """
        WITH per AS (
            SELECT r.release_id, r.release_order, r.period_end,
                   list(DISTINCT s.section ORDER BY s.section) AS sections
            FROM releases r JOIN shares s ON s.release_id = r.release_id
            GROUP BY ALL),
        latest AS (SELECT sections FROM per ORDER BY release_order DESC NULLS LAST LIMIT 1)
        SELECT per.release_id, per.release_order, per.period_end, per.sections,
               list_filter((SELECT sections FROM latest),
                           lambda x: NOT list_contains(per.sections, x)) AS missing
        FROM per ORDER BY per.release_order NULLS LAST""")
    df["partial"] = [len(_as_list(m)) > 0 for m in df["missing"]]
    df["sections"] = [_as_list(x) for x in df["sections"]]
    df["missing"] = [_as_list(x) for x in df["missing"]]
    return df


def overview(con: duckdb.DuckDBPyConnection, release_id: int) -> dict[str, Any]:
    """Everything the overview page shows, on one connection."""
    return {"headline": headline(con, release_id), "sectors": sector_trend(con),
            "identifying": identifying_trend(con), "coverage": coverage(con)}


# --- shares -----------------------------------------------------------------------------------

_SHARE_COLUMNS = """
    s.share_id, s.release_id, s.share_key, s.reference, s.organisation, o.name AS recipient,
    coalesce(s.sector, 'unknown') AS sector, s.project, s.purpose, s.data_shared,
    s.classification, s.legal_basis, s.date_approved, s.date_released, s.status,
    s.access_route, s.number_of_pupils, s.section, s.source_file, s.source_page,
    s.source_sheet, s.source_row"""


# What a listing of shares (the explorer, What changed) shows of each row. The other fields
# (purpose, legal basis, ...) are on the share's own page: fetching them for 2,000 rows
# doubled the bytes a search moved.
_LISTED_COLUMNS = """
    s.share_id, s.release_id, s.share_key, s.reference, s.organisation,
    coalesce(s.sector, 'unknown') AS sector, s.project, s.data_shared, s.date_approved,
    s.section, s.source_file, s.source_page, s.source_sheet, s.source_row"""


# A share's flags and sensitive categories as sorted comma-joined keys ("identifying,
# pupil_level", "ethnicity,sen"), for the shares whose ids the given subquery yields.
_FLAG_KEYS = """
    SELECT fl.share_id,
           array_to_string(list(DISTINCT fl.flag ORDER BY fl.flag), ',') AS flag_keys,
           array_to_string(list(DISTINCT fl.value ORDER BY fl.value)
                           FILTER (WHERE fl.flag = 'sensitive_category'), ',') AS cat_keys
    FROM share_flags fl WHERE fl.share_id IN ({ids}) GROUP BY fl.share_id"""
# provenance() in SQL, for the queries that list many rows.
SOURCE_SQL = (
    "CASE WHEN s.source_page IS NOT NULL THEN 'page ' || s.source_page || ', ' "
    "WHEN coalesce(s.source_sheet, '') <> '' THEN 'sheet ''' || s.source_sheet || ''', ' "
    "ELSE '' END || 'row ' || coalesce(CAST(s.source_row AS VARCHAR), '?')")


def _as_list(value: Any) -> list[Any]:
    """A DuckDB LIST cell (array, list, or NULL) as a Python list."""
    if value is None or value is pd.NA or isinstance(value, float):
        return []
    return list(value)


def flags_text(flags: Any, categories: Any) -> str:
    """'Identifying · Pupil-level · Sensitive data (Ethnicity)' for a table cell."""
    raised, cats = _as_list(flags), _as_list(categories)
    parts = []
    for key, label in FLAG_LABELS.items():
        if key in raised:
            if key == "sensitive_category" and cats:
                label += " (" + ", ".join(CATEGORY_LABELS.get(c, c) for c in cats) + ")"
            parts.append(label)
    return " · ".join(parts)


def flags_column(flag_keys: pd.Series, cat_keys: pd.Series) -> pd.Series:
    """:func:`flags_text` for a column of comma-joined keys: worked out once per distinct
    combination (a few dozen), then mapped, so 100,000 rows cost no Python loop over rows."""
    combo = flag_keys.astype(object).fillna("") + "|" + cat_keys.astype(object).fillna("")
    texts = {c: flags_text([x for x in c.split("|")[0].split(",") if x],
                           [x for x in c.split("|")[1].split(",") if x])
             for c in combo.unique()}
    return combo.map(texts).astype(object)


def provenance(page: Any, sheet: Any, row: Any) -> str:
    """Where a row sits in its source file, as a journalist cites it (``SOURCE_SQL`` and
    :func:`provenance_column` are the same rule for many rows at once)."""
    row_txt = f"row {int(row)}" if pd.notna(row) else "row ?"
    if pd.notna(page):
        return f"page {int(page)}, {row_txt}"
    if isinstance(sheet, str) and sheet:
        return f"sheet '{sheet}', {row_txt}"
    return row_txt


def provenance_column(page: pd.Series, sheet: pd.Series, row: pd.Series) -> pd.Series:
    """:func:`provenance` for whole columns."""
    rows = "row " + row.astype("Int64").astype("string").fillna("?")
    pages = "page " + page.astype("Int64").astype("string") + ", "
    sheet_s = sheet.astype("string")
    sheets = ("sheet '" + sheet_s + "', ").where(sheet_s.fillna("") != "", "")
    return (pages.where(page.notna(), sheets.fillna("")) + rows).astype(object)


def _decorate(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    """Add the readable flags and source columns to rows of shares (one query for the
    flags, then column operations: no Python loop over rows)."""
    if df.empty:
        df["flags"] = pd.Series(dtype="str")
        df["source"] = pd.Series(dtype="str")
        return df
    ids = [int(i) for i in df["share_id"]]
    keys = _df(con, _FLAG_KEYS.format(ids="SELECT unnest(?::BIGINT[])"), [ids])
    keyed = df[["share_id"]].merge(keys, on="share_id", how="left")
    df["flags"] = flags_column(keyed["flag_keys"], keyed["cat_keys"]).to_numpy()
    if {"source_page", "source_sheet", "source_row"} <= set(df.columns):
        df["source"] = provenance_column(df["source_page"], df["source_sheet"],
                                         df["source_row"]).to_numpy()
    return df


_EXPLORER_ORDER = ("release_order DESC NULLS LAST, date_approved DESC NULLS LAST, reference, "
                   "share_id")


class Hits(NamedTuple):
    """How many register rows match, and how many distinct shares (by share key) they are:
    a share still live is listed again in every release, so across releases the two
    differ ("580 register rows (169 shares)")."""

    rows: int
    shares: int


def search_shares(con: duckdb.DuckDBPyConnection, f: Filters, limit: int = 2000
                  ) -> tuple[pd.DataFrame, int]:
    """The explorer's table: up to ``limit`` matching register rows (newest release first,
    then by date approved) and the total number of rows that match (see
    :func:`count_hits` for rows and distinct shares).

    One query: a top-``limit`` sort (not a numbered window over every match, ~25x slower at
    100,000 rows) with the total from an unordered window; flags and source text come from
    SQL, and flag labels are mapped once per distinct combination."""
    clause, params = where(f)
    m_order = ", ".join("m." + part for part in _EXPLORER_ORDER.split(", "))
    sql = f"""
        WITH m AS (
            SELECT s.share_id, r.release_order, s.date_approved, s.reference,
                   count(*) OVER () AS total
            FROM shares s JOIN releases r ON r.release_id = s.release_id
            LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
            WHERE {clause}
            ORDER BY {_EXPLORER_ORDER} LIMIT ?),
        fl AS ({_FLAG_KEYS.format(ids="SELECT share_id FROM m")})
        SELECT m.total, {_LISTED_COLUMNS}, fl.flag_keys, fl.cat_keys,
               {SOURCE_SQL} AS source
        FROM m JOIN shares s ON s.share_id = m.share_id
        JOIN releases r ON r.release_id = s.release_id
        LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
        LEFT JOIN fl ON fl.share_id = m.share_id
        ORDER BY {m_order}"""  # noqa: S608 -- constant fragments only; values are parameters
    df = _df(con, sql, [*params, max(int(limit), 1)])
    total = int(df["total"].iloc[0]) if len(df) else 0
    df["flags"] = (flags_column(df["flag_keys"], df["cat_keys"]).to_numpy() if len(df)
                   else pd.Series(dtype="str"))
    df = df.drop(columns=["total", "flag_keys", "cat_keys"])
    return df.head(max(int(limit), 0)).reset_index(drop=True), total


def count_hits(con: duckdb.DuckDBPyConnection, f: Filters) -> Hits:
    """Register rows matching ``f`` and the distinct shares among them."""
    clause, params = where(f)
    row = con.execute(f"""
        SELECT count(*), count(DISTINCT coalesce(s.share_key, 'id:' || s.share_id))
        FROM shares s JOIN releases r ON r.release_id = s.release_id
        LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
        WHERE {clause}""", params).fetchone()  # noqa: S608 -- constant fragments only
    return Hits(int(row[0]), int(row[1])) if row else Hits(0, 0)


def export_shares(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Every share matching ``f`` (no limit) with the columns a journalist needs to cite it,
    and ``is_sample`` (its release is a bundled SAMPLE reconstruction), so a row copied out
    of the file still says it is not DfE data."""
    clause, params = where(f)
    sql = f"""
        SELECT r.period_label AS release, coalesce(r.is_sample, false) AS is_sample,
               {_SHARE_COLUMNS}
        FROM shares s JOIN releases r ON r.release_id = s.release_id
        LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
        WHERE {clause}
        ORDER BY r.release_order DESC NULLS LAST, s.date_approved DESC NULLS LAST,
                 s.reference, s.share_id"""  # noqa: S608 -- constant fragments only
    df = _decorate(con, _df(con, sql, params))
    return df[["release", "reference", "organisation", "recipient", "sector", "project",
               "purpose", "data_shared", "classification", "legal_basis", "date_approved",
               "date_released", "status", "access_route", "number_of_pupils", "flags",
               "section", "source_file", "source_page", "source_sheet", "source_row",
               "share_id", "share_key", "is_sample"]]


def share(con: duckdb.DuckDBPyConnection, share_id: int) -> dict[str, Any] | None:
    """Every field of one share with its release and its organisation's classification."""
    df = _df(con, """
        SELECT s.*, r.title AS release_title, r.period_label, r.release_order, r.format,
               r.source_path, r.page_count, r.is_sample, o.name AS recipient,
               o.sector AS organisation_sector, o.sector_reason, o.sector_confidence
        FROM shares s JOIN releases r ON r.release_id = s.release_id
        LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
        WHERE s.share_id = ?""", [share_id])
    if df.empty:
        return None
    return {k: (None if _isna(v) else v) for k, v in df.iloc[0].to_dict().items()}


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # lists and arrays
        return False


def share_flags(con: duckdb.DuckDBPyConnection, share_id: int) -> pd.DataFrame:
    """The flags on one share with the words that raised each."""
    return _df(con, """
        SELECT flag, value, evidence FROM share_flags WHERE share_id = ?
        ORDER BY CASE flag WHEN 'identifying' THEN 1 WHEN 'pupil_level' THEN 2
                 WHEN 'sensitive_category' THEN 3 WHEN 'high_reidentification_risk' THEN 4
                 ELSE 5 END, value""", [share_id])


def share_detail(con: duckdb.DuckDBPyConnection, share_id: int) -> dict[str, Any] | None:
    """Everything the share page shows, on one connection: the share, its flags, the releases
    listing it and its wording changes. None when there is no such share."""
    row = share(con, share_id)
    if row is None:
        return None
    key = row["share_key"]
    empty = pd.DataFrame()
    return {"share": row, "flags": share_flags(con, share_id),
            "appearances": share_appearances(con, key) if key else empty,
            "changes": share_field_changes(con, key) if key else empty}


def find_share(con: duckdb.DuckDBPyConnection, share_key: str, release: str | None
               ) -> int | None:
    """The share_id of the share ``share_key`` in ``release``, for a stable link.

    share_ids are a sequence and change when a release is re-ingested or the database is
    rebuilt; a share's key and its release's file name do not. ``release`` may be the file
    name or the period label ("March 2022"); without one, the latest release listing the
    share. The file name wins over a label, and an earlier file over a later one when a
    period was published twice (a PDF and an ODS). None when nothing matches.

    The resolver is :func:`extract.share_keys.resolve_share` (one definition for the
    dashboard and the tests of links across ingests): when the key is not in the release,
    it falls back to the key's reference in that release, so a link made before the key
    was qualified (``DS00142`` that later became ``DS00142/university-of-birmingham``), or
    on another copy of the database, still opens its share. A database from before that
    module (no ``share_keys`` table) is resolved by key alone, below.
    """
    try:
        from extract.share_keys import resolve_share
    except ImportError:  # an older checkout without stable keys
        resolve_share = None  # type: ignore[assignment]
    if resolve_share is not None:
        with contextlib.suppress(duckdb.CatalogException, duckdb.BinderException):
            return resolve_share(con, share_key, release)
    row = con.execute("""
        SELECT s.share_id FROM shares s JOIN releases r ON r.release_id = s.release_id
        WHERE s.share_key = ? AND (?::VARCHAR IS NULL OR r.source_file = ?
                                   OR r.period_label = ?)
        ORDER BY r.source_file IS NOT DISTINCT FROM ? DESC,
                 CASE WHEN ?::VARCHAR IS NULL THEN -r.release_order ELSE r.release_order END
                     NULLS LAST,
                 r.source_file, s.share_id
        LIMIT 1""", [share_key, release, release, release, release, release]).fetchone()
    return int(row[0]) if row else None


def share_ref(con: duckdb.DuckDBPyConnection, share_id: int) -> tuple[str, str] | None:
    """The stable identity of a share, ``(share_key, release file name)``; None when there is
    no such share or it has no key yet (history not derived)."""
    row = con.execute("""
        SELECT s.share_key, r.source_file
        FROM shares s JOIN releases r ON r.release_id = s.release_id
        WHERE s.share_id = ? AND s.share_key IS NOT NULL""", [share_id]).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def share_appearances(con: duckdb.DuckDBPyConnection, share_key: str) -> pd.DataFrame:
    """Every release listing the share ``share_key``, oldest first."""
    return _df(con, """
        SELECT s.release_id, r.release_order, s.share_id, s.status, s.organisation,
               s.source_page, s.source_sheet, s.source_row
        FROM shares s JOIN releases r ON r.release_id = s.release_id
        WHERE s.share_key = ? ORDER BY r.release_order""", [share_key])


def share_field_changes(con: duckdb.DuckDBPyConnection, share_key: str) -> pd.DataFrame:
    """How the share's wording changed from release to release."""
    return _df(con, """
        SELECT c.release_id, c.previous_release_id, c.field, c.old_value, c.new_value
        FROM share_changes c JOIN releases r ON r.release_id = c.release_id
        WHERE c.share_key = ? AND c.change = 'changed'
        ORDER BY r.release_order, c.field""", [share_key])


# --- recipients -------------------------------------------------------------------------------

def recipients(con: duckdb.DuckDBPyConnection, f: Filters, name: str = "") -> pd.DataFrame:
    """Organisations ranked by the shares (matching ``f``) they received.

    A share listed in several of the selected releases counts once (by ``share_key``), and
    counts as flagged if any of its listings is.
    """
    clause, params = where(f)
    sql = f"""
        WITH m AS (
            SELECT s.share_id, s.organisation_id,
                   coalesce(s.share_key, 'id:' || s.share_id) AS k
            FROM shares s JOIN releases r ON r.release_id = s.release_id
            LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
            WHERE {clause}),
        fl AS (
            SELECT share_id,
                   bool_or(flag = 'identifying') AND bool_or(flag = 'pupil_level') AS ip,
                   bool_or(flag = 'sensitive_category') AS sensitive,
                   bool_or(flag = 'leaves_dfe') AS leaves
            FROM share_flags WHERE share_id IN (SELECT share_id FROM m) GROUP BY share_id),
        one AS (  -- one row per organisation and share
            SELECT m.organisation_id, m.k, coalesce(bool_or(fl.ip), false) AS ip,
                   coalesce(bool_or(fl.sensitive), false) AS sensitive,
                   coalesce(bool_or(fl.leaves), false) AS leaves
            FROM m LEFT JOIN fl ON fl.share_id = m.share_id
            GROUP BY m.organisation_id, m.k)
        SELECT o.organisation_id, o.name, o.sector, count(*) AS shares,
               count(*) FILTER (WHERE one.ip) AS identifying_pupil,
               count(*) FILTER (WHERE one.sensitive) AS sensitive,
               count(*) FILTER (WHERE one.leaves) AS leaves_dfe
        FROM one JOIN organisations o ON o.organisation_id = one.organisation_id
        WHERE o.name ILIKE ? ESCAPE '\\'
        GROUP BY ALL
        ORDER BY shares DESC, identifying_pupil DESC, o.name"""  # noqa: S608 -- constants
    return _df(con, sql, [*params, like_pattern(" ".join(name.split()))])


def organisation_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of organisations that received at least one share, for the picker."""
    rows = con.execute("""
        SELECT DISTINCT o.name FROM organisations o
        WHERE o.organisation_id IN (SELECT organisation_id FROM shares)
        ORDER BY o.name""").fetchall()
    return [r[0] for r in rows]


def organisation(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    """One organisation by its resolved name, with every spelling the register used."""
    row = con.execute("""
        SELECT organisation_id, name, sector, sector_reason, sector_confidence
        FROM organisations WHERE name = ? ORDER BY organisation_id LIMIT 1""",
                      [name]).fetchone()
    if row is None:
        return None
    spellings = con.execute("""
        SELECT raw_name FROM organisation_names WHERE organisation_id = ?
        ORDER BY raw_name""", [row[0]]).fetchall()
    return {"organisation_id": row[0], "name": row[1], "sector": row[2], "reason": row[3],
            "confidence": row[4], "spellings": [s[0] for s in spellings]}


def organisation_shares(con: duckdb.DuckDBPyConnection, organisation_id: int) -> pd.DataFrame:
    """All the organisation's shares over time: one row per share, as last listed."""
    df = _df(con, """
        WITH s AS (
            SELECT s.*, r.release_order, coalesce(s.share_key, 'id:' || s.share_id) AS k
            FROM shares s JOIN releases r ON r.release_id = s.release_id
            WHERE s.organisation_id = ?)
        SELECT k AS share_key, arg_max(share_id, release_order) AS share_id,
               arg_max(reference, release_order) AS reference,
               arg_max(organisation, release_order) AS organisation,
               arg_max(project, release_order) AS project,
               arg_max(data_shared, release_order) AS data_shared,
               arg_max(section, release_order) AS section,
               min(date_approved) AS date_approved,
               arg_min(release_id, release_order) AS first_release_id,
               arg_max(release_id, release_order) AS last_release_id,
               count(DISTINCT release_id) AS releases_seen,
               max(release_order) = (SELECT max(release_order) FROM releases) AS in_latest
        FROM s GROUP BY k
        ORDER BY min(release_order), reference""", [organisation_id])
    if df.empty:
        df["flags"] = pd.Series(dtype="str")
        return df
    return _decorate(con, df)


# --- what changed -----------------------------------------------------------------------------

def changes(con: duckdb.DuckDBPyConnection, release_id: int, f: Filters
            ) -> dict[str, pd.DataFrame]:
    """Shares added, removed and changed in ``release_id`` against the release before it.

    Added and changed rows describe the share as this release lists it; removed rows as the
    previous release did. ``f``'s text, sector, flag and section filters apply.
    """
    clause, params = where(f.across_releases())
    sql = f"""
        SELECT c.change, c.share_key, c.field, c.old_value, c.new_value, c.share_id,
               c.previous_share_id, coalesce(c.share_id, c.previous_share_id) AS shown_id,
               s.reference, s.organisation, coalesce(s.sector, 'unknown') AS sector,
               s.project, s.data_shared, s.section, s.source_page, s.source_sheet,
               s.source_row
        FROM share_changes c
        JOIN shares s ON s.share_id = coalesce(c.share_id, c.previous_share_id)
        LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
        WHERE c.release_id = ? AND {clause}
        ORDER BY s.reference NULLS LAST, s.organisation, c.field"""  # noqa: S608 -- constants
    df = _df(con, sql, [release_id, *params])
    df = _decorate(con, df.rename(columns={"shown_id": "share_id", "share_id": "new_id"}))
    return {kind: df[df["change"] == kind].reset_index(drop=True)
            for kind in ("added", "removed", "changed")}


def previous_release(con: duckdb.DuckDBPyConnection, release_id: int) -> int | None:
    """The release ``release_id`` was compared with, as ``extract/history.py`` recorded it
    (releases of counts only are skipped there). None when no change was recorded."""
    row = con.execute("""
        SELECT previous_release_id FROM share_changes
        WHERE release_id = ? AND previous_release_id IS NOT NULL
        GROUP BY previous_release_id ORDER BY count(*) DESC LIMIT 1""", [release_id]).fetchone()
    return int(row[0]) if row else None


def identifying_by_recipient(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per release: identifying pupil-level shares, and those to companies and the press
    (the analysis view ``v_identifying_over_time``, which the re-use export also reads)."""
    return _df(con, """
        SELECT release_id, shares, identifying_pupil_level_shares,
               commercial_identifying_shares, press_identifying_shares,
               identifying_leaving_dfe_shares
        FROM v_identifying_over_time ORDER BY release_order""")


# --- exports ----------------------------------------------------------------------------------

def commercial_reuse(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """The commercial re-use statistics, as ``analysis/export.py`` defines them (sheet name ->
    table; the first is the summary), each row with its release's ``is_sample``."""
    from analysis.export import commercial_reuse as build

    tables = build(con)
    sample = _df(con, "SELECT source_file AS release_file, "
                      "coalesce(is_sample, false) AS is_sample FROM releases")
    return {name: _with_sample(df, sample) for name, df in tables.items()}


def _with_sample(df: pd.DataFrame, sample: pd.DataFrame) -> pd.DataFrame:
    """``df`` with an ``is_sample`` column looked up by ``release_file`` (kept as it is when
    it already has one, or has no release to look up)."""
    if "is_sample" in df.columns or "release_file" not in df.columns:
        return df
    out = df.merge(sample, on="release_file", how="left")
    out["is_sample"] = out["is_sample"].fillna(False).astype(bool)
    return out


# --- source page images -----------------------------------------------------------------------

def resolve_source(source_path: str | None) -> Path | None:
    """The release file on this machine: absolute paths as stored, others under the repo."""
    if not source_path:
        return None
    path = Path(source_path)
    if not path.is_absolute():
        path = REPO / path
    return path if path.is_file() else None


def page_image(path: Path, page_no: int, needles: tuple[str, ...] = (),
               resolution: int = 110) -> bytes | None:
    """PNG of one PDF page with the share's row highlighted, bounded in pixels whatever the
    page size (:func:`views.pdf_render.render_page`); None when it cannot be rendered."""
    from views.pdf_render import render_page

    return render_page(path, page_no, needles, resolution)
