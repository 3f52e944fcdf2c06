"""Cached reads of the analysis results the Findings, Questions and footer show.

Keyed like :func:`views.common.load` by the database file's version (path, mtime, inode), so
a re-ingest is seen on the next interaction and unchanged data is served from the cache.
Each call reads through :func:`views.data.connection` (a question on an instance of its own).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analysis import export, queries
from analysis import figures as fig
from views import common, data


@st.cache_data(show_spinner=False, max_entries=32)
def _figures(key: common.DbKey, period: str | None) -> list[fig.FigureResult]:
    with data.connection(key.path) as con:
        return fig.compute_all(con, fig.Period.parse(period) if period else None)


def figures(period: str | None = None) -> list[fig.FigureResult]:
    """Every published figure recomputed, over ``period`` (``YYYY-MM..YYYY-MM``) or each
    figure's own."""
    return _figures(common.db_key(), period)


@st.cache_data(show_spinner=False, max_entries=8)
def _provenance(key: common.DbKey) -> pd.DataFrame:
    with data.connection(key.path) as con:
        prov = export.release_provenance(con)
        sample = con.execute("SELECT source_file, coalesce(is_sample, false) AS is_sample "
                             "FROM releases").df()
    return prov.merge(sample, on="source_file", how="left")


def provenance() -> pd.DataFrame:
    """Per release file: sha256, gov.uk URL and retrieval date, licence, versions."""
    return _provenance(common.db_key())


@st.cache_data(show_spinner=False, max_entries=64)
def _question(key: common.DbKey, sql: str, params: tuple[tuple[str, Any], ...]
              ) -> queries.Result:
    # an instance of its own (run() locks its configuration down), closed afterwards
    with data.connection(key.path, private=True) as con:
        return queries.run(con, sql, dict(params))


def run_question(sql: str, params: dict[str, Any]) -> queries.Result:
    """Run (or reuse the result of) a question on the live database; QueryError on failure."""
    return _question(common.db_key(), sql, tuple(sorted(params.items())))
