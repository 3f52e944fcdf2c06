"""Bytes for the Export page's download buttons.

Built with ``analysis/export.py`` (one implementation, shared with
``python -m analysis export``), which neutralises cells Excel would run as formulas. The
buttons call these only when clicked, on a worker thread, so each opens its own read-only
connection (released before the bytes are built) and calls no Streamlit command.
"""

from __future__ import annotations

import pandas as pd

from analysis import export
from views import data

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def shares_table(db: str, f: data.Filters) -> pd.DataFrame:
    with data.connection(db) as con:
        return data.export_shares(con, f)


def shares_csv(db: str, f: data.Filters) -> bytes:
    """Every share matching ``f`` as CSV (UTF-8 with BOM, formula cells neutralised)."""
    return export.to_csv_bytes(shares_table(db, f))


def shares_xlsx(db: str, f: data.Filters) -> bytes:
    """Every share matching ``f`` as an XLSX workbook with one sheet."""
    return export.to_xlsx_bytes({"Shares": shares_table(db, f)})


def reuse_tables(db: str) -> dict[str, pd.DataFrame]:
    with data.connection(db) as con:
        return data.commercial_reuse(con)


def reuse_csv(db: str) -> bytes:
    """Every row behind the commercial re-use counts, each with its count (as the CLI's
    ``python -m analysis export --out FILE.csv`` writes it)."""
    return export.to_csv_bytes(export.commercial_reuse_flat(reuse_tables(db)))


def reuse_xlsx(db: str) -> bytes:
    """Every table of the commercial re-use statistics, one sheet each."""
    return export.to_xlsx_bytes(reuse_tables(db))
