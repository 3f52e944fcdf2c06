"""The Home Office monthly counts: what each release says, and what it revised.

Releases from 2018 carry a table of the Home Office's monthly requests for pupil data
(individuals requested, individuals matched), stored row by row in ``count_rows`` with the
file, sheet or page and row each count was read from. Each release repeats the earlier months,
so a month can be *revised* by a later release, or disappear from it; this module lines two
releases up month by month and measure by measure so the dashboard can say so.

Plain functions of a DuckDB connection returning DataFrames: no Streamlit, values only as
parameters. ``views/home_office.py`` shows them; tests compare them with SQL of their own.
"""

from __future__ import annotations

import duckdb
import pandas as pd

SECTION = "home_office"
# A month is matched across releases by its parsed first day, else by its text as written.
_MONTH_KEY = "coalesce(strftime(c.period_start, '%Y-%m'), lower(trim(c.period_label)))"
# A measure is matched by what it counts ("Number of individuals requested" and
# "Individuals requested" are the same column), else by its header as written.
_MEASURE_KEY = ("CASE WHEN c.measure ILIKE '%request%' THEN 'requested' "
                "WHEN c.measure ILIKE '%match%' THEN 'matched' "
                "ELSE lower(trim(c.measure)) END")
MEASURE_LABELS = {"requested": "Individuals requested", "matched": "Individuals matched"}
_ROW_COLUMNS = f"""
    c.release_id, c.source_file, r.period_label AS release_period, r.release_order,
    coalesce(r.is_sample, false) AS is_sample,
    {_MONTH_KEY} AS month_key, c.period_label AS month, c.period_start,
    {_MEASURE_KEY} AS measure_key, c.measure, c.value, c.value_raw,
    c.section_title, c.source_sheet, c.source_page, c.source_row, c.raw_cells"""


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pd.DataFrame:
    return con.execute(sql, params).df()


def releases_with_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Releases holding Home Office counts, in publication order, with their row count."""
    return _df(con, """
        SELECT r.release_id, r.source_file, r.period_label, r.release_order,
               count(*) AS count_rows, count(DISTINCT c.period_label) AS months
        FROM count_rows c JOIN releases r ON r.release_id = c.release_id
        WHERE c.section = ?
        GROUP BY ALL ORDER BY r.release_order NULLS LAST, r.source_file""", [SECTION])


def counts(con: duckdb.DuckDBPyConnection, release_id: int) -> pd.DataFrame:
    """Every Home Office count row of one release, month by month, in source order."""
    return _df(con, f"""
        SELECT {_ROW_COLUMNS}
        FROM count_rows c JOIN releases r ON r.release_id = c.release_id
        WHERE c.section = ? AND c.release_id = ?
        ORDER BY c.period_start NULLS LAST, coalesce(c.source_sheet, ''),
                 coalesce(c.source_page, 0), c.source_row, c.measure""",  # noqa: S608
               [SECTION, release_id])


def month_rows(con: duckdb.DuckDBPyConnection, month_key: str) -> pd.DataFrame:
    """The count rows of one month (``YYYY-MM``) in every release: a figure's history."""
    return _df(con, f"""
        SELECT {_ROW_COLUMNS}
        FROM count_rows c JOIN releases r ON r.release_id = c.release_id
        WHERE c.section = ? AND {_MONTH_KEY} = ?
        ORDER BY r.release_order NULLS LAST, c.source_file, c.source_row, c.measure
        """, [SECTION, month_key])  # noqa: S608


def revisions(con: duckdb.DuckDBPyConnection, release_id: int, previous_id: int
              ) -> pd.DataFrame:
    """What ``release_id`` says differently from ``previous_id``, per month and measure.

    ``change`` is ``revised`` (both give the month, the counts differ), ``added`` (a month
    or measure the previous release did not give) or ``removed`` (given before, not now).
    Counts compare as numbers when both parse, else as written. Each side keeps its file,
    sheet or page and row.
    """
    return _df(con, f"""
        WITH cur AS (SELECT {_ROW_COLUMNS} FROM count_rows c JOIN releases r USING (release_id)
                     WHERE c.section = ? AND c.release_id = ?),
             prev AS (SELECT {_ROW_COLUMNS} FROM count_rows c JOIN releases r USING (release_id)
                      WHERE c.section = ? AND c.release_id = ?)
        SELECT CASE WHEN prev.month_key IS NULL THEN 'added'
                    WHEN cur.month_key IS NULL THEN 'removed' ELSE 'revised' END AS change,
               coalesce(cur.month_key, prev.month_key) AS month_key,
               coalesce(cur.month, prev.month) AS month,
               coalesce(cur.period_start, prev.period_start) AS period_start,
               coalesce(cur.measure_key, prev.measure_key) AS measure_key,
               coalesce(cur.measure, prev.measure) AS measure,
               prev.value AS old_value, prev.value_raw AS old_value_raw,
               cur.value AS new_value, cur.value_raw AS new_value_raw,
               prev.source_file AS old_file, prev.source_sheet AS old_sheet,
               prev.source_page AS old_page, prev.source_row AS old_row,
               cur.source_file AS new_file, cur.source_sheet AS new_sheet,
               cur.source_page AS new_page, cur.source_row AS new_row
        FROM cur FULL OUTER JOIN prev
          ON cur.month_key = prev.month_key AND cur.measure_key = prev.measure_key
        WHERE prev.month_key IS NULL OR cur.month_key IS NULL
           OR coalesce(cur.value::VARCHAR, trim(cur.value_raw))
              IS DISTINCT FROM coalesce(prev.value::VARCHAR, trim(prev.value_raw))
        ORDER BY period_start NULLS LAST, month, measure_key""",  # noqa: S608
               [SECTION, release_id, SECTION, previous_id])


def previous_with_counts(con: duckdb.DuckDBPyConnection, release_id: int) -> int | None:
    """The release before ``release_id`` (publication order) that holds counts."""
    rel = releases_with_counts(con)
    ids = [int(x) for x in rel["release_id"]]
    i = ids.index(release_id) if release_id in ids else -1
    return ids[i - 1] if i > 0 else None


def citable_rows(rows: pd.DataFrame, release_labels: dict[int, str]) -> pd.DataFrame:
    """Count rows (from :func:`counts` or :func:`month_rows`) as a journalist cites them:
    release, ``is_sample``, month, measure, the count and the cell as written, file, sheet or
    page, row and the whole source row. Pass the result through
    ``analysis.export.to_csv_bytes`` (formula cells neutralised) to hand it out."""
    return pd.DataFrame({
        "release": [release_labels.get(int(i), str(i)) for i in rows["release_id"]],
        "is_sample": rows["is_sample"], "month": rows["month"], "measure": rows["measure"],
        "value": rows["value"].astype("Int64"), "value_as_written": rows["value_raw"],
        "source_file": rows["source_file"], "source_sheet": rows["source_sheet"],
        "source_page": rows["source_page"].astype("Int64"),
        "source_row": rows["source_row"].astype("Int64"),
        "section_title": rows["section_title"], "raw_cells": rows["raw_cells"],
    })
