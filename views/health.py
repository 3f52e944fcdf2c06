"""Release health: how well each release was read, table by table, and where to check.

Reads ``table_reports`` (one extraction report per table, with its confidence) and
``ingest_warnings`` (each self-check that failed, with page or sheet and row), both written at
ingest (``extract/reports.py``). Every release gets one line; the chosen release shows its
tables and its warnings, each with the page or sheet and row to look at and, where the row
is a stored share, a link to that share's page. Register text (titles, tab names, headers,
messages) is shown as text only: through ``common.esc`` in markdown and
``common.visible_table`` in tables.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from analysis.export import share_path
from views import common, data

RELEASES_SQL = """
SELECT r.release_id, r.source_file, r.format,
       count(t.table_index) AS tables,
       coalesce(sum(t.row_count), 0)::BIGINT AS rows,
       coalesce(sum(t.warning_count), 0)::BIGINT AS warnings,
       min(t.confidence) AS lowest_confidence
FROM releases r LEFT JOIN table_reports t USING (release_id)
GROUP BY ALL
ORDER BY lowest_confidence NULLS FIRST, r.source_file
"""
TABLES_SQL = """
SELECT t.*, (SELECT min(s.share_key) FROM shares s
             WHERE s.release_id = t.release_id AND s.source_row = t.first_row
               AND s.source_page IS NOT DISTINCT FROM t.first_page
               AND s.source_sheet IS NOT DISTINCT FROM t.sheet) AS first_share_key
FROM table_reports t WHERE t.release_id = ? ORDER BY t.table_index
"""
WARNINGS_SQL = """
SELECT w.kind, w.section, w.table_index, w.source_page, w.source_sheet, w.source_row,
       w.message,
       (SELECT min(s.share_key) FROM shares s
        WHERE s.release_id = w.release_id AND s.source_row = w.source_row
          AND s.source_page IS NOT DISTINCT FROM w.source_page
          AND s.source_sheet IS NOT DISTINCT FROM w.source_sheet) AS share_key
FROM ingest_warnings w WHERE w.release_id = ?
ORDER BY w.table_index NULLS FIRST, w.source_page NULLS FIRST, w.source_sheet NULLS FIRST,
         w.source_row NULLS FIRST, w.kind
"""
MISSING = "missing"  # the database predates table reports


@st.cache_data(show_spinner=False, max_entries=64)
def _query(key: common.DbKey, sql: str, params: tuple[Any, ...]) -> pd.DataFrame | str:
    """One read-only query, cached per database version; MISSING when the database was
    built before the report tables existed."""
    with data.connection(key.path) as con:
        try:
            return con.execute(sql, list(params)).df()
        except duckdb.CatalogException:
            return MISSING
        except duckdb.BinderException:  # ingest_warnings without the location columns
            return MISSING


def query(sql: str, *params: Any) -> pd.DataFrame | str:
    return _query(common.db_key(), sql, params)


def where(fmt: str, page: Any, last: Any, sheet: Any, row: Any = None) -> str:
    """"pages 3-5", "sheet 'open' row 7", "CSV row 9", "whole file": where a user looks."""
    if isinstance(sheet, str):
        out = f"sheet '{sheet}'"
    elif pd.notna(page):
        out = (f"pages {int(page)}-{int(last)}" if pd.notna(last) and int(last) != int(page)
               else f"page {int(page)}")
    elif fmt == "csv":
        out = "CSV"
    else:
        return "whole file"
    return f"{out} row {int(row)}" if row is not None and pd.notna(row) else out


def fields_text(header_json: str, fields_json: str) -> str:
    """"Requestor → organisation; Court (unmapped)": the header and what it mapped to."""
    try:
        header, fields = json.loads(header_json), json.loads(fields_json)
    except (TypeError, ValueError):
        return ""
    return "; ".join(f"{h} → {f}" if f else f"{h} (unmapped)"
                     for h, f in zip(header, fields, strict=False) if h)


st.header("Release health", anchor=False)
st.caption(
    "How well each release was read. Every table gets a confidence from 0 to 1: how much of "
    "its header maps to register fields, how many of its rows no self-check flagged, and how "
    "full its cells are (see docs/schema.md, table_reports). Warnings say which page or "
    "sheet and row to check against the published file.")

summary = query(RELEASES_SQL)
if isinstance(summary, str):
    st.info("This database was built before table reports were recorded. Ingest the "
            "releases again (python -m extract …) to see each table's health.")
    st.stop()
if summary.empty:
    st.info("No releases are loaded.")
    st.stop()

labels = common.release_label_map()
summary["Release"] = [labels.get(int(r), "?") for r in summary["release_id"]]
st.subheader("Every release", anchor=False)
st.dataframe(common.visible_table(pd.DataFrame({
    "Release": summary["Release"], "File": summary["source_file"],
    "Tables": summary["tables"], "Rows": summary["rows"], "Warnings": summary["warnings"],
    "Lowest confidence": summary["lowest_confidence"],
})), hide_index=True, width="stretch", key="health_releases", placeholder="—",
    column_config={"Lowest confidence": st.column_config.ProgressColumn(
        "Lowest confidence", min_value=0.0, max_value=1.0, format="%.2f")})

options = list(summary["release_id"].astype(int))
chosen_filter = common.filters().release_id
index = options.index(chosen_filter) if chosen_filter in options else 0
release_id = st.selectbox("Release", options, index=index, key="health_release",
                          format_func=lambda r: common.esc(labels.get(int(r), "?"), "text"))
row = summary[summary["release_id"] == release_id].iloc[0]
fmt = str(row["format"])
st.markdown(f"**{common.esc(row['source_file'])}**: {int(row['tables'])} tables, "
            f"{int(row['rows']):,} rows, {int(row['warnings'])} warnings.")

tables = query(TABLES_SQL, int(release_id))
assert not isinstance(tables, str)  # the summary query found the table
if tables.empty:
    st.info("No table reports for this release (it was loaded before they were recorded).")
else:
    st.subheader("Tables", anchor=False)
    st.dataframe(common.visible_table(pd.DataFrame({
        "#": tables["table_index"],
        "Section": tables["section"],
        "Title": tables["title"],
        "Where": [where(fmt, p, lp, s) for p, lp, s in zip(tables["first_page"],
                                                    tables["last_page"], tables["sheet"],
                                                    strict=True)],
        "Rows": tables["row_count"],
        "Warnings": tables["warning_count"],
        "Confidence": tables["confidence"],
        "Empty cells": tables["empty_cell_share"],
        "Header → field": [fields_text(h, f) for h, f in zip(tables["header_printed"],
                                                            tables["header_fields"],
                                                            strict=True)],
        "First row": [share_path(k, row["source_file"]) for k in tables["first_share_key"]],
    })), hide_index=True, width="stretch", key="health_tables", placeholder="—",
        column_config={
            "Confidence": st.column_config.ProgressColumn(
                "Confidence", min_value=0.0, max_value=1.0, format="%.2f"),
            "Empty cells": st.column_config.NumberColumn("Empty cells", format="percent"),
            "First row": st.column_config.LinkColumn("First row", display_text="open share"),
        })

warnings = query(WARNINGS_SQL, int(release_id))
assert not isinstance(warnings, str)
st.subheader("Warnings", anchor=False)
if warnings.empty:
    st.caption("None: every self-check passed.")
else:
    st.dataframe(common.visible_table(pd.DataFrame({
        "Kind": warnings["kind"].fillna(""),
        "Section": warnings["section"].fillna(""),
        "Check": [where(fmt, p, None, s, r) for p, s, r in zip(
            warnings["source_page"], warnings["source_sheet"], warnings["source_row"],
            strict=True)],
        "Message": warnings["message"],
        "Share": [share_path(k, row["source_file"]) for k in warnings["share_key"]],
    })), hide_index=True, width="stretch", key="health_warnings", placeholder="—",
        column_config={"Share": st.column_config.LinkColumn("Share", display_text="open")})
