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

import pandas as pd

from analysis import export
from views import data

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ABOUT_SHEET = "About this file"
SAMPLE_NOTICE = export.SAMPLE_NOTICE  # also the dashboard banner's words
SHARES_ABOUT = ("Shares from the Department for Education's register of external shares of "
                "National Pupil Database data: one row per share as each release lists it, "
                "with its flags, recipient sector and where it sits in the source file.")
REUSE_ABOUT = ("Commercial re-use of identifying pupil-level data: per release, the commercial "
               "recipients and their shares, and every register row behind each count "
               "(count_id links them).")


def about(contents: str, filters: str, releases: pd.DataFrame) -> pd.DataFrame:
    """The "About this file" sheet for ``releases`` (``release_file``, ``is_sample``), built by
    the same function as the command line's export, without the server's database path."""
    return export.about_table(contents, filters,
                              zip(releases["release_file"], releases["is_sample"], strict=True))


def shares_table(db: str, f: data.Filters) -> pd.DataFrame:
    """The shares matching ``f`` with each one's dashboard address (``share_url`` beside
    ``share_key``: the stable link) and its release file's provenance columns."""
    with data.connection(db) as con:
        return export.with_provenance(data.export_shares(con, f), export.release_provenance(con),
                                      release_col="source_file")


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
