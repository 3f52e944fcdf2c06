"""Recipients whose sector is unknown or only a leaning: the list a person should check.

A sector below :data:`analysis.classify.LOW_CONFIDENCE` rests on a weak rule ("name ends
'UK'", a place name alone) or on nothing at all. :func:`review_table` lists those
organisations with the shares that rest on them, most shares first, and
:func:`overrides_csv` turns them into rows in ``data/reference/overrides.csv``'s exact format
(``name,sector,note``), so a reviewer edits the sector, pastes the rows into the file and runs
``python -m analysis rebuild``. Used by ``python -m analysis review`` and the dashboard's
"Needs review" page.
"""

from __future__ import annotations

import csv
import io

import duckdb
import pandas as pd

from analysis.classify import LOW_CONFIDENCE
from analysis.export import neutralise_cell

OVERRIDE_COLUMNS = ("name", "sector", "note")

_SQL = """
    WITH per_org AS (
        SELECT s.organisation_id,
               count(DISTINCT coalesce(s.share_key, 'id:' || s.share_id)) AS shares,
               count(*) AS register_rows
        FROM shares s GROUP BY s.organisation_id)
    SELECT o.organisation_id, o.name, o.sector, o.sector_reason AS reason,
           o.sector_confidence AS confidence, coalesce(p.shares, 0) AS shares,
           coalesce(p.register_rows, 0) AS register_rows,
           (SELECT string_agg(n.raw_name, '; ' ORDER BY n.raw_name)
            FROM organisation_names n WHERE n.organisation_id = o.organisation_id) AS spellings
    FROM organisations o LEFT JOIN per_org p ON p.organisation_id = o.organisation_id
    WHERE (o.sector = 'unknown' OR o.sector_confidence < ?)
      AND NOT o.is_collective AND o.name <> '(recipient not stated)'
    ORDER BY shares DESC, o.name
"""


def review_table(con: duckdb.DuckDBPyConnection,
                 threshold: float = LOW_CONFIDENCE) -> pd.DataFrame:
    """Organisations needing review: id, name, sector, reason, confidence, shares (distinct),
    register_rows, spellings. Collective and unstated recipients are left out: their sector
    is a decision already written in collective.csv."""
    return con.execute(_SQL, [threshold]).df()


def low_confidence_ids(con: duckdb.DuckDBPyConnection,
                       threshold: float = LOW_CONFIDENCE) -> frozenset[int]:
    """Ids of the organisations :func:`review_table` lists (for counting their shares)."""
    return frozenset(int(i) for i in review_table(con, threshold)["organisation_id"])


def override_rows(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(name, sector, note) rows ready to edit: the sector is the current guess (``unknown``
    when there is none) and the note says what the classifier had, to be replaced by the
    reviewer's evidence (a charity number, a company number, the organisation's own site)."""
    rows: list[tuple[str, str, str]] = []
    for name, sector, reason, conf in zip(table["name"], table["sector"], table["reason"],
                                          table["confidence"], strict=True):
        note = f"TO CHECK: classifier said {sector} ({float(conf):.2f}): {reason}"
        rows.append((str(name), str(sector), note))
    return rows


def overrides_csv(table: pd.DataFrame, header: bool = True) -> str:
    """CSV text in overrides.csv's format (name,sector,note), every cell neutralised like
    every other CSV we write (a name starting '=' gets a leading apostrophe, which the match
    key ignores, so the override still finds the organisation)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    if header:
        out.writerow(OVERRIDE_COLUMNS)
    for row in override_rows(table):
        out.writerow([neutralise_cell(v) for v in row])
    return buf.getvalue()
