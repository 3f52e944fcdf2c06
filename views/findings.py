"""Findings: the figures campaigners publish, recomputed from the loaded releases.

Each figure is a sentence with our number beside the published one, our definition in plain
words, the exact rows it counts (each linking to its share page) and a download of them. The
computation is ``analysis/figures.py``, the same as ``python -m analysis figures``.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pandas as pd
import streamlit as st

from analysis import export
from analysis import figures as fig
from views import analysis_cache, common, data, downloads

st.header("Findings: published figures, recomputed", anchor=False)
st.caption("Figures quoted by campaigners and researchers, counted again from the releases "
           "loaded here with the definition written under each. A share listed in several "
           "releases counts once. Where the loaded releases do not cover a figure's period, "
           "the page says so instead of giving a number.")

rel = common.releases()
ends = pd.to_datetime(rel["period_end"]).dropna()
last = ends.max().date() if len(ends) else dt.date.today()
months = [f"{d:%Y-%m}" for d in pd.date_range("2012-01-01", last, freq="MS")]
mode = st.radio("Period", ["Each figure's own period", "One period for every figure"],
                horizontal=True, key="findings_mode")
period: str | None = None
if mode != "Each figure's own period" and months:
    start, end = st.select_slider("Months", options=months, value=(months[0], months[-1]),
                                  key="findings_period")
    period = f"{start}..{end}"
results = analysis_cache.figures(period)
words = (f"every figure over {fig.Period.parse(period).label()}" if period
         else "each figure over its own period")
db = common.db_key().path


def figure_csv(db: str, fid: str, period: str | None) -> bytes:
    """The rows one figure counts, with provenance columns (built when clicked)."""
    with data.connection(db) as con:
        results = fig.compute_all(con, fig.Period.parse(period) if period else None)
        tables = fig.export_tables(con, [r for r in results if r.figure.id == fid])
    return export.to_csv_bytes(tables.get(fid, pd.DataFrame()))


def all_xlsx(db: str, period: str | None, words: str) -> bytes:
    with data.connection(db) as con:
        results = fig.compute_all(con, fig.Period.parse(period) if period else None)
        return fig.workbook(con, results, words)


table = fig.summary_table(results)
st.dataframe(pd.DataFrame({
    "Figure": table["figure"], "Published": table["published"], "Ours": table["ours"],
    "Bears it out": table["agrees"], "Period": table["period"],
}), hide_index=True, width="stretch", key="findings_summary")
st.download_button("Download every figure and its rows (Excel)",
                   partial(all_xlsx, db, period, words),
                   file_name=f"npd-findings-{dt.date.today().isoformat()}.xlsx",
                   mime=downloads.XLSX, on_click="ignore", icon=":material/download:",
                   key="dl_findings_xlsx")

ROW_COLUMNS = {
    "share_url": st.column_config.LinkColumn("Share", display_text="open", width="small"),
    "share_key": st.column_config.TextColumn("Share key", width="small"),
    "counted_in": st.column_config.TextColumn("Counted in", width="small"),
}

for r in results:
    f = r.figure
    with st.container(border=True, key=f"figure-{f.id}"):
        st.markdown(f"**“{common.esc(f.wording)}”**")
        st.caption(common.esc(f"{f.source}, {f.source_date}"
                              + (f" ({f.period_note})" if f.period_note else "")))
        c1, c2, c3 = st.columns([1, 1, 2])
        c1.metric("Published", f.published_text(), border=True)
        if r.covered:
            c2.metric("Ours", r.ours_text(), border=True)
        else:  # "not covered" does not fit a metric box; the reason is said below
            c2.metric("Ours", "–", border=True,
                      help="Not covered: the loaded releases do not cover this period.")
        c3.markdown("**How we count it** · " + common.esc(f.definition))
        c3.caption(common.esc(f"Period: {r.period.label()}. Identifying definition: "
                              f"{fig.IDENTIFYING_WORDS[f.numerator_identifying or f.identifying]}"
                              f". Status: {f.status_filter}. Coverage: {r.coverage}."))
        for note in r.notes:
            st.caption(common.esc("Note: " + note))
        if not r.covered:
            hint = (f" The covered part is {r.suggested.label()}: choose "
                    f"{r.suggested.code()} above." if r.suggested else "")
            st.info(common.esc(f"No number: {r.coverage}.{hint}"), icon=":material/block:")
            continue
        rows = fig.rows_table(r)
        with st.expander(f"The {len(rows):,} rows it counts", expanded=False):
            if f.measure == "percent":
                st.caption("“part and total”: counted in the percentage's top line and in its "
                           "total; “total only”: in the total.")
            st.dataframe(rows, hide_index=True, width="stretch", column_config=ROW_COLUMNS,
                         key=f"rows-{f.id}", placeholder="")
            st.download_button("Download these rows (CSV)",
                               partial(figure_csv, db, f.id, period),
                               file_name=f"npd-figure-{f.id}.csv", mime=downloads.CSV,
                               on_click="ignore", icon=":material/download:",
                               key=f"dl-{f.id}")
st.caption("The figures, their sources and our definitions are listed in "
           "`data/published_figures.csv`; status wordings are classed in "
           "`data/status_classes.csv`. The same table: `python -m analysis figures`.")
