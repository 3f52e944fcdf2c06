"""Questions: ready-made, parameterised SQL (``data/queries/*.sql``) run on the database.

The SQL is shown and can be edited; it runs through ``analysis/queries.py`` on a read-only
connection with external access off, one SELECT only, a time limit and a row cap, so
nothing a visitor types can write to the database or read a file. An error is one line.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from analysis import export, queries
from views import analysis_cache, common, downloads

st.header("Questions", anchor=False)
st.caption("Ready-made questions about the register, as SQL you can read, change and run. "
           "Queries only read: they run on a read-only connection with a "
           f"{queries.TIME_LIMIT_S:g}-second limit and at most {queries.ROW_CAP:,} rows.")
try:
    questions = queries.load_questions()
except queries.QueryError as exc:
    st.error(common.esc(f"error: {exc}"))
    st.stop()
if not questions:
    st.info("No questions in data/queries.")
    st.stop()

names = list(questions)
name = st.selectbox("Question", names, format_func=lambda n: questions[n].title,
                    key="question", bind="query-params")
question = questions[name]
st.markdown(common.esc(question.description))

values: dict[str, str] = {}
if question.params:
    cols = st.columns(min(len(question.params), 3))
    for i, p in enumerate(question.params):
        values[p.name] = cols[i % len(cols)].text_input(
            f"{p.name} ({p.type})", value=p.default, key=f"qp-{name}-{p.name}", help=p.help)
sql = st.text_area("SQL", value=question.sql, height=260, key=f"sql-{name}",
                   help="Parameters are written $name and filled from the boxes above.")
edited = sql.strip() != question.sql.strip()
if edited:
    st.caption("Edited: running your version. Reload the question to get the original back.")


def with_links(df: pd.DataFrame) -> pd.DataFrame:
    """A ``share_url`` column when the rows name shares and their releases."""
    if {"share_key", "release_file"} <= set(df.columns) and "share_url" not in df.columns:
        df = df.copy()
        df.insert(0, "share_url", [export.share_path(k, f) for k, f in
                                   zip(df["share_key"], df["release_file"], strict=True)])
    return df


def result_csv(frame: pd.DataFrame, provenance: pd.DataFrame) -> bytes:
    return export.to_csv_bytes(export.with_provenance(frame, provenance))


try:
    params: dict[str, Any] = queries.bind(question, values)
    result = analysis_cache.run_question(sql, params)
except queries.QueryError as exc:
    st.error(common.esc(f"error: {exc}"), icon=":material/error:")
    st.stop()

frame = with_links(result.frame)
st.markdown(f"**{len(frame):,} rows**" + (f" (only the first {result.cap:,})"
                                          if result.truncated else ""))
st.dataframe(frame, hide_index=True, width="stretch", key="question_result", placeholder="",
             column_config={"share_url": st.column_config.LinkColumn(
                 "Share", display_text="open", width="small")})
st.download_button("Download these rows (CSV)",
                   partial(result_csv, result.frame, analysis_cache.provenance()),
                   file_name=f"npd-question-{name}.csv", mime=downloads.CSV,
                   on_click="ignore", icon=":material/download:", key="dl_question",
                   disabled=frame.empty)
st.caption("Add a question: a `.sql` file in `data/queries` with `-- title:`, "
           "`-- description:` and `-- param: name | text|integer|date | default | help` lines. "
           "From a terminal: `python -m analysis query NAME --param name=value`.")
