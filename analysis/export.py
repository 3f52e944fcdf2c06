"""Build export files as bytes: pure functions shared by the CLI and the dashboard downloads.

Every count exported comes with the register rows behind it (release, reference,
organisation, page or sheet, row), so a journalist can check each number against the source.

Spreadsheet safety: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would be run as a formula by Excel or LibreOffice ("CSV injection"), and register text
is written by third parties. :func:`neutralise` prefixes such cells with ``'`` in CSV and XLSX
output; Parquet keeps the values as they are (it is not opened by spreadsheets).

Sample data: the bundled releases are reconstructions, not DfE publications
(``releases.is_sample``). A file built from them must say so wherever it travels, so exports
carry an ``is_sample`` column (:func:`mark_sample`) and XLSX workbooks start with an
"About this file" sheet (:func:`about_sheet`) saying what the file holds, from which database
and when.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable

import duckdb
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
SAMPLE_NOTICE = "Sample data: reconstructed releases, not DfE publications"
ABOUT_SHEET = "About this file"


def neutralise_cell(value: object) -> object:
    """One value made safe for a spreadsheet: text starting like a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value



def _flatten(value: object) -> object:
    """Lists (e.g. sensitive categories) as '; '-joined text: CSV and Excel have no lists."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, str):
        items = value.tolist()
        if isinstance(items, list):
            return "; ".join(str(v) for v in items)
    return value


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns
            if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]


def flatten(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with list cells joined as text; other values untouched."""
    out = df.copy()
    for col in _text_columns(out):
        out[col] = out[col].astype(object).map(_flatten)
    return out


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A flattened copy whose text cells cannot run as spreadsheet formulas; headers too."""
    out = flatten(df)
    for col in _text_columns(out):
        out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel on Windows reads accents), neutralised."""
    return neutralise(df).to_csv(index=False).encode("utf-8-sig")


def _sheet_name(name: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\ , unique."""
    base = _SHEET_BAD.sub(" ", name).strip()[:31] or "Sheet"
    out, n = base, 2
    while out.casefold() in taken:
        suffix = f" ({n})"
        out, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(out.casefold())
    return out


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One workbook, one sheet per frame, neutralised; strings are never turned into formulas."""
    buf = io.BytesIO()
    taken: set[str] = set()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options},
                        date_format="yyyy-mm-dd", datetime_format="yyyy-mm-dd") as xw:
        for name, df in sheets.items():
            sheet = _sheet_name(name, taken)
            safe = neutralise(df)
            safe.to_excel(xw, sheet_name=sheet, index=False)
            ws = xw.sheets[sheet]
            ws.freeze_panes(1, 0)
            for i, col in enumerate(safe.columns):
                width = max([len(str(col))] + [len(str(v)) for v in safe[col].head(200)])
                ws.set_column(i, i, min(max(width, 8), 60))
    return buf.getvalue()


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet keeps values as written (not a spreadsheet format); lists become text."""
    buf = io.BytesIO()
    flatten(df).to_parquet(buf, index=False)
    return buf.getvalue()


def _releases(con: duckdb.DuckDBPyConnection,
              release_files: Iterable[str] | None = None) -> list[tuple[str, bool]]:
    """(file, is_sample) of every release, or of those named, in release order."""
    got = con.execute("SELECT source_file, is_sample FROM releases "
                      "ORDER BY release_order NULLS LAST, release_id").fetchall()
    wanted = None if release_files is None else set(release_files)
    return [(f, bool(s)) for f, s in got if wanted is None or f in wanted]


def sample_releases(con: duckdb.DuckDBPyConnection,
                    release_files: Iterable[str] | None = None) -> list[str]:
    """Files of the sample (reconstructed) releases, among ``release_files`` if given."""
    return [f for f, sample in _releases(con, release_files) if sample]


def _insert_sample(df: pd.DataFrame, flags: dict[str, bool],
                   release_col: str) -> pd.DataFrame:
    out = df.copy()
    out.insert(out.columns.get_loc(release_col) + 1, "is_sample",
               out[release_col].map(lambda f: flags.get(f, False)).astype(bool))
    return out


def mark_sample(con: duckdb.DuckDBPyConnection, df: pd.DataFrame,
                release_col: str = "release_file") -> pd.DataFrame:
    """``df`` with an ``is_sample`` column after ``release_col`` when any of its releases is a
    sample; otherwise ``df`` unchanged (real data needs no label). A copy, never in place."""
    if release_col not in df.columns or "is_sample" in df.columns:
        return df
    flags = dict(_releases(con))
    if not any(flags.get(f, False) for f in df[release_col].dropna().unique()):
        return df
    return _insert_sample(df, flags, release_col)


def about_sheet(con: duckdb.DuckDBPyConnection, description: str, filters: str | None = None,
                release_files: Iterable[str] | None = None) -> pd.DataFrame:
    """The "About this file" sheet (columns ``item``, ``value``): what the file holds, the
    filters applied, the releases, database and time it was built from, and - first, when
    any of those releases is a sample - :data:`SAMPLE_NOTICE`.

    ``release_files`` limits the releases named (default: every release in the database).
    """
    releases = _releases(con, release_files)
    path = con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()
    return about_table(description, filters, releases,
                       database=str(path[0]) if path and path[0] else "(in memory)")


def about_table(description: str, filters: str | None,
                releases: Iterable[tuple[str, bool]], database: str | None = None
                ) -> pd.DataFrame:
    """The rows of the "About this file" sheet from plain values (pure; the dashboard uses it
    without ``database``, since a server path means nothing to someone downloading a file)."""
    rel = list(dict.fromkeys((str(f), bool(s)) for f, s in releases))
    samples = [f for f, sample in rel if sample]
    rows: list[tuple[str, str]] = []
    if samples:
        rows.append(("Sample data", f"{SAMPLE_NOTICE} ({len(samples)} of {len(rel)} "
                                    "releases; see the is_sample column)"))
    rows += [
        ("Contents", description),
        ("Filters", filters or "none: every row"),
        ("Releases", "; ".join(f + (" (sample)" if s else "") for f, s in rel) or "none"),
    ]
    if database is not None:
        rows.append(("Database", database))
    rows += [
        ("Generated", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("Spreadsheet safety", "text beginning with = + - @, a tab or a carriage return is "
                               "prefixed with ' so it is never run as a formula"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def commercial_reuse(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Commercial re-use of identifying pupil-level data, three tables that reference each other.

    * ``summary`` - per release: commercial recipients and their identifying pupil-level
      shares, against all shares in the release;
    * ``by_organisation`` - per release and organisation, with a ``count_id``;
    * ``rows`` - every register row behind those counts, carrying the same ``count_id``.

    When any release in the summary is a sample, every table gets an ``is_sample`` column.
    """
    by_org = con.execute(
        """SELECT 'R' || release_order || '-' || row_number() OVER (
                      PARTITION BY release_id ORDER BY shares DESC, organisation) AS count_id,
                  release_file, period_label, period_end, organisation, organisation_id,
                  shares, distinct_references, leaves_dfe_shares, reference_list
           FROM v_commercial_reuse ORDER BY release_order, shares DESC, organisation"""
    ).df()
    summary = con.execute(
        """SELECT t.release_file, t.period_label, t.period_end, t.shares AS all_shares,
                  coalesce(c.organisations, 0) AS commercial_recipients,
                  t.commercial_identifying_shares,
                  round(100.0 * t.commercial_identifying_shares / t.shares, 1)
                      AS pct_of_all_shares
           FROM v_identifying_over_time t
           LEFT JOIN (SELECT release_id, count(*) AS organisations FROM v_commercial_reuse
                      GROUP BY release_id) c ON c.release_id = t.release_id
           ORDER BY t.release_order"""
    ).df()
    rows = con.execute(
        """SELECT release_file, period_label, reference, organisation, organisation_as_written,
                  section, source_page, source_sheet, source_row, project, data_shared,
                  classification, access_route, leaves_dfe, identifying_evidence,
                  sector_reason, release_id, organisation_id, share_id
           FROM v_commercial_reuse_rows"""
    ).df()
    keys = con.execute(
        """SELECT release_id, organisation_id, 'R' || release_order || '-' || row_number() OVER (
                      PARTITION BY release_id ORDER BY shares DESC, organisation) AS count_id
           FROM v_commercial_reuse"""
    ).df()
    rows = keys.merge(rows, on=["release_id", "organisation_id"], how="right")
    rows = rows[["count_id", *[c for c in rows.columns if c not in ("count_id", "release_id")]]]
    flags = dict(_releases(con))
    if any(flags.get(f, False) for f in summary["release_file"]):
        # the column goes in every table, even one whose rows are all from real releases
        summary, by_org, rows = (_insert_sample(t, flags, "release_file")
                                 for t in (summary, by_org, rows))
    return {"summary": summary, "by_organisation": by_org, "rows": rows}


def commercial_reuse_flat(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One table for CSV/Parquet: each row behind a count, with that count beside it."""
    counts = tables["by_organisation"][["count_id", "shares"]].rename(
        columns={"shares": "shares_in_count"})
    return tables["rows"].merge(counts, on="count_id", how="left")
