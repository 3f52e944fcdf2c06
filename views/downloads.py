"""Bytes for the Export page's download buttons.

Built with ``analysis/export.py`` (one implementation, shared with
``python -m analysis export``), which neutralises cells Excel would run as formulas. The
buttons call these only when clicked, on a worker thread, so each opens its own read-only
connection (released before the bytes are built) and calls no Streamlit command.

Sample data must stay labelled wherever a file travels: every row carries ``is_sample`` (its
release is a bundled SAMPLE reconstruction), and each workbook opens on an "About this file"
sheet saying what it holds, the filters, when it was made and, when any row comes from a
sample release, :data:`SAMPLE_NOTICE`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis import export
from views import data

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ABOUT_SHEET = "About this file"
# The banner's words (views.common.SAMPLE_BANNER; not imported: that module needs Streamlit).
SAMPLE_NOTICE = "Sample data: reconstructed releases, not DfE publications"
SHARES_ABOUT = ("Shares from the Department for Education's register of external shares of "
                "National Pupil Database data: one row per share as each release lists it, "
                "with its flags, recipient sector and where it sits in the source file.")
REUSE_ABOUT = ("Commercial re-use of identifying pupil-level data: per release, the commercial "
               "recipients and their shares, and every register row behind each count "
               "(count_id links them).")


def about(contents: str, filters: str, releases: pd.DataFrame,
          now: dt.datetime | None = None) -> pd.DataFrame:
    """The "About this file" sheet (``item``, ``value``). ``releases`` holds the file's
    releases (``release_file``, ``is_sample``); the sample notice comes first when any is a
    sample, so it is the first thing anyone opening the workbook reads."""
    rel = releases.drop_duplicates("release_file")
    samples = [str(f) for f, s in zip(rel["release_file"], rel["is_sample"], strict=True) if s]
    rows: list[tuple[str, str]] = []
    if samples:
        rows.append(("Sample data", f"{SAMPLE_NOTICE}. {len(samples)} of {len(rel)} releases "
                                    "in this file are samples; see the is_sample column."))
    rows += [
        ("Contents", contents),
        ("Filters", filters or "none: every row"),
        ("Releases", "; ".join(f"{f} (sample)" if s else str(f) for f, s in
                               zip(rel["release_file"], rel["is_sample"], strict=True))
         or "none"),
        ("Generated", f"{now or dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M %Z}".strip()),
        ("Spreadsheet safety", "Text beginning with = + - @, a tab or a carriage return is "
                               "prefixed with ' so it is never run as a formula."),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def shares_table(db: str, f: data.Filters) -> pd.DataFrame:
    with data.connection(db) as con:
        return data.export_shares(con, f)


def shares_csv(db: str, f: data.Filters) -> bytes:
    """Every share matching ``f`` as CSV (UTF-8 with BOM, formula cells neutralised)."""
    return export.to_csv_bytes(shares_table(db, f))


def shares_xlsx(db: str, f: data.Filters, filters: str = "") -> bytes:
    """Every share matching ``f`` as an XLSX workbook: "About this file", then the shares.
    ``filters`` describes ``f`` in words (the page's caption)."""
    df = shares_table(db, f)
    releases = df[["source_file", "is_sample"]].rename(columns={"source_file": "release_file"})
    return export.to_xlsx_bytes({ABOUT_SHEET: about(SHARES_ABOUT, filters, releases),
                                 "Shares": df})


def reuse_tables(db: str) -> dict[str, pd.DataFrame]:
    with data.connection(db) as con:
        return data.commercial_reuse(con)


def reuse_csv(db: str) -> bytes:
    """Every row behind the commercial re-use counts, each with its count (as the CLI's
    ``python -m analysis export --out FILE.csv`` writes it)."""
    return export.to_csv_bytes(export.commercial_reuse_flat(reuse_tables(db)))


def reuse_xlsx(db: str) -> bytes:
    """"About this file", then every table of the commercial re-use statistics."""
    tables = reuse_tables(db)
    summary = next(iter(tables.values()))
    note = about(REUSE_ABOUT, "none: not affected by the dashboard's filters",
                 summary[["release_file", "is_sample"]])
    return export.to_xlsx_bytes({ABOUT_SHEET: note, **tables})
