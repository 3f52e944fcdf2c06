"""Build export files as bytes: pure functions shared by the CLI and the dashboard downloads.

Every count exported comes with the register rows behind it (release, reference,
organisation, page or sheet, row), so a journalist can check each number against the source.

Spreadsheet safety: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would be run as a formula by Excel or LibreOffice ("CSV injection"), and register text
is written by third parties. :func:`neutralise` prefixes such cells with ``'`` in CSV and XLSX
output; Parquet keeps the values as they are (it is not opened by spreadsheets).

Look-alike formula starts count too: LibreOffice and Excel (in some locales and input
modes) read a fullwidth ``＝ ＋ － ＠`` as the ASCII sign, and a zero-width space, joiner or
byte-order mark in front of ``=`` is invisible to a reader but not to every spreadsheet, so
:func:`is_formula_like` looks past invisible characters and folds fullwidth signs.

Excel holds at most 32,767 characters in a cell and silently drops the rest. An XLSX export
cuts such a cell itself, ends it with :data:`CUT_MARK` (how much was cut) and lists every cut
on the "About this file" sheet; CSV and Parquet keep the whole text.

Provenance travels with every row: :func:`with_provenance` adds the share's key and page
address (``/share?ref=...&in=...``), then, after a labelled separator column
(:data:`PROVENANCE_SEPARATOR`, as GrantNav does), the source file, its sha256, the gov.uk URL
and retrieval date when ``python -m extract fetch`` downloaded it, the licence and the tool
version. :func:`about_sheet` repeats them as lines of the About sheet.

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
import tomllib
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Fullwidth signs a spreadsheet may read as their ASCII forms.
FULLWIDTH_SIGNS = {"\uff1d": "=", "\uff0b": "+", "\uff0d": "-", "\uff20": "@",
                   "\ufe62": "+", "\ufe63": "-", "\ufe66": "=", "\ufe6b": "@"}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
SAMPLE_NOTICE = "Sample data: reconstructed releases, not DfE publications"
ABOUT_SHEET = "About this file"
XLSX_CELL_LIMIT = 32_767
CUT_MARK = " [cut: {n:,} more characters; Excel cells hold at most 32,767]"
PROVENANCE_SEPARATOR = "Provenance (columns to the right)"
PROVENANCE_COLUMNS = ("source_file", "source_sha256", "source_url", "retrieved_at", "licence",
                      "extractor_version", "tool_version")
OGL = "Open Government Licence v3.0"
SAMPLE_LICENCE = ("Invented sample data made for this tool (not a DfE publication, not "
                  "Open Government Licence material)")
SHARE_PAGE = "/share"


def _tool_version() -> str:
    try:
        with (Path(__file__).resolve().parents[1] / "pyproject.toml").open("rb") as fh:
            return f"npd-shares {tomllib.load(fh)['project']['version']}"
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "npd-shares (version unknown)"


TOOL_VERSION = _tool_version()


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet run ``text`` as a formula? Invisible characters (zero-width
    spaces and joiners, byte-order marks, soft hyphens: Unicode format characters) are looked
    past, and fullwidth / small ``= + - @`` count as their ASCII forms."""
    i = 0
    while i < len(text) and unicodedata.category(text[i]) == "Cf":
        i += 1
    if i == len(text):
        return False
    first = FULLWIDTH_SIGNS.get(text[i], text[i])
    return first in FORMULA_START


def neutralise_cell(value: object) -> object:
    """One value made safe for a spreadsheet: text starting like a formula gets a ``'``."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def share_path(share_key: object, release_file: object) -> str | None:
    """The dashboard address of one share as a release lists it: stable across rebuilds."""
    if not isinstance(share_key, str) or not share_key or not isinstance(release_file, str):
        return None
    return f"{SHARE_PAGE}?ref={quote(share_key, safe='')}&in={quote(release_file, safe='')}"



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


def cut_cell(value: object) -> tuple[object, int]:
    """(the value as an XLSX cell holds it, characters cut). Text over Excel's limit is cut
    and ends with :data:`CUT_MARK`, so the reader sees that something is missing."""
    if not isinstance(value, str) or len(value) <= XLSX_CELL_LIMIT:
        return value, 0
    room = XLSX_CELL_LIMIT - len(CUT_MARK.format(n=len(value)))
    cut = len(value) - room
    return value[:room] + CUT_MARK.format(n=cut), cut


def cut_long_cells(df: pd.DataFrame, sheet: str) -> tuple[pd.DataFrame, list[str]]:
    """A copy with over-long text cut (:func:`cut_cell`) and a line per cut cell."""
    out, cuts = df.copy(), []
    for col in _text_columns(out):
        for i, value in enumerate(out[col]):
            kept, n = cut_cell(value)
            if n:
                out.iat[i, out.columns.get_loc(col)] = kept
                cuts.append(f"sheet '{sheet}', column {col}, row {i + 2}: {n:,} characters cut")
    return out, cuts


def _about_with_cuts(about: pd.DataFrame, cuts: list[str]) -> pd.DataFrame:
    if not cuts:
        return about
    line = (f"{len(cuts)} cell(s) held more than Excel's 32,767 characters and were cut, "
            "each ending with '[cut: ...]'; the CSV and Parquet exports keep the whole text: "
            + "; ".join(cuts[:50]) + (f"; and {len(cuts) - 50} more" if len(cuts) > 50 else ""))
    return pd.concat([about, pd.DataFrame([("Cut cells", line)], columns=about.columns)],
                     ignore_index=True)


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One workbook, one sheet per frame, neutralised; strings are never turned into formulas.

    Text over Excel's cell limit is cut visibly (:func:`cut_long_cells`); the cuts are listed
    on the :data:`ABOUT_SHEET` when there is one (else on an About sheet added first)."""
    prepared: dict[str, pd.DataFrame] = {}
    cuts: list[str] = []
    for name, df in sheets.items():
        if name == ABOUT_SHEET:
            prepared[name] = df
            continue
        prepared[name], found = cut_long_cells(neutralise(df), name)
        cuts += found
    if cuts:
        about = prepared.get(ABOUT_SHEET, pd.DataFrame(columns=["item", "value"]))
        prepared = {ABOUT_SHEET: _about_with_cuts(about, cuts),
                    **{k: v for k, v in prepared.items() if k != ABOUT_SHEET}}
    buf = io.BytesIO()
    taken: set[str] = set()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options},
                        date_format="yyyy-mm-dd", datetime_format="yyyy-mm-dd") as xw:
        for name, df in prepared.items():
            sheet = _sheet_name(name, taken)
            safe = neutralise(df) if name == ABOUT_SHEET else df
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


def release_provenance(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per release file: the :data:`PROVENANCE_COLUMNS` (licence filled from ``is_sample``
    in a database ingested before ``releases.licence`` existed)."""
    cols = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'releases'").fetchall()}
    extra = ", ".join(f"{c}" if c in cols else f"NULL AS {c}"
                      for c in ("source_url", "retrieved_at", "licence"))
    df = con.execute(
        f"SELECT source_file, sha256 AS source_sha256, {extra}, extractor_version, "  # noqa: S608
        "coalesce(is_sample, false) AS is_sample FROM releases "
        "ORDER BY release_order NULLS LAST, release_id").df()
    df["licence"] = [lic if isinstance(lic, str) and lic else
                     (SAMPLE_LICENCE if sample else OGL)
                     for lic, sample in zip(df["licence"], df["is_sample"], strict=True)]
    df["tool_version"] = TOOL_VERSION
    return df[list(PROVENANCE_COLUMNS)]


def with_provenance(df: pd.DataFrame, provenance: pd.DataFrame,
                    release_col: str = "release_file") -> pd.DataFrame:
    """``df`` with ``share_url`` after ``share_key`` (when it has one), then the separator
    column (empty cells) and the provenance of each row's release file. A copy."""
    out = df.copy()
    if "share_key" in out.columns and "share_url" not in out.columns and \
            release_col in out.columns:
        out.insert(out.columns.get_loc("share_key") + 1, "share_url",
                   [share_path(k, f) for k, f in
                    zip(out["share_key"], out[release_col], strict=True)])
    if PROVENANCE_SEPARATOR in out.columns or release_col not in out.columns:
        return out
    prov = provenance.set_index("source_file")
    out[PROVENANCE_SEPARATOR] = None
    for col in PROVENANCE_COLUMNS:
        if col == "source_file":
            out[col] = out[release_col]
        else:
            out[col] = out[release_col].map(prov[col]) if len(prov) else None
    return out


def provenance_lines(provenance: pd.DataFrame,
                     release_files: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """About-sheet lines: one per release file, then the tool version."""
    wanted = None if release_files is None else set(release_files)
    rows = []
    for rec in provenance.itertuples(index=False):
        if wanted is not None and rec.source_file not in wanted:
            continue
        parts = [f"sha256 {rec.source_sha256}"]
        if isinstance(rec.source_url, str) and rec.source_url:
            parts.append(f"downloaded from {rec.source_url}"
                         + (f" on {rec.retrieved_at}" if isinstance(rec.retrieved_at, str)
                            and rec.retrieved_at else ""))
        else:
            parts.append("not downloaded by this tool (no gov.uk URL recorded)")
        parts += [f"licence: {rec.licence}", f"read by extractor {rec.extractor_version}"]
        rows.append((f"Source: {rec.source_file}", "; ".join(parts)))
    rows.append(("Tool version", TOOL_VERSION))
    return rows


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
                       database=str(path[0]) if path and path[0] else "(in memory)",
                       provenance=provenance_lines(release_provenance(con),
                                                   [f for f, _ in releases]))


def about_table(description: str, filters: str | None,
                releases: Iterable[tuple[str, bool]], database: str | None = None,
                provenance: list[tuple[str, str]] | None = None) -> pd.DataFrame:
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
                               "prefixed with ' so it is never run as a formula (also after "
                               "invisible characters, and for fullwidth ＝ ＋ － ＠)"),
        ("Long text", "Excel holds at most 32,767 characters in a cell: longer text is cut "
                      "in the XLSX file and says so in the cell (listed under 'Cut cells'); "
                      "the CSV and Parquet files keep it whole"),
        *(provenance or []),
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
                  sector_reason, release_id, organisation_id, share_id,
                  (SELECT x.share_key FROM shares x WHERE x.share_id = v.share_id) AS share_key
           FROM v_commercial_reuse_rows v"""
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
    prov = release_provenance(con)
    summary, by_org, rows = (with_provenance(t, prov) for t in (summary, by_org, rows))
    return {"summary": summary, "by_organisation": by_org, "rows": rows}


def commercial_reuse_flat(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One table for CSV/Parquet: each row behind a count, with that count beside it."""
    counts = tables["by_organisation"][["count_id", "shares"]].rename(
        columns={"shares": "shares_in_count"})
    flat = tables["rows"].merge(counts, on="count_id", how="left")
    return provenance_last(flat)


def provenance_last(df: pd.DataFrame) -> pd.DataFrame:
    """The separator and provenance columns moved back to the end (after a merge)."""
    if PROVENANCE_SEPARATOR not in df.columns:
        return df
    tail = [PROVENANCE_SEPARATOR, *[c for c in PROVENANCE_COLUMNS if c in df.columns]]
    return df[[c for c in df.columns if c not in tail] + tail]
