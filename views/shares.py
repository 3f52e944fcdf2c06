"""Shares explorer: the register's rows matching the sidebar filters; a row opens its detail."""

from __future__ import annotations

from functools import partial

import streamlit as st

from extract.db import REPO
from views import common, data, downloads

st.header("Shares explorer", anchor=False)
f = common.filters()
df, table, total = common.explorer(f, common.EXPLORER_LIMIT)
hits = common.load(data.count_hits, f) if total else data.Hits(0, 0)
shown = len(df)
st.markdown(f"**{common.counted(hits)}** · {common.esc(common.describe(f))}")
if total > shown:
    st.caption(f"Showing the first {shown:,} register rows. Narrow the filters, or download "
               f"all {total:,} below or from the Export page.")
if "home_office" in f.sections:
    # Home Office tables are monthly counts of requests, not rows of shares.
    st.info("The Home Office section of the register holds monthly counts of requests, not "
            "individual shares, so it lists no rows here.")
    if (REPO / common.HOME_OFFICE).exists():
        st.page_link(common.HOME_OFFICE, label="See the Home Office counts",
                     icon=":material/arrow_forward:")
if df.empty:
    if "home_office" not in f.sections:
        st.info("No register row matches these filters. Try fewer words or remove a filter "
                "in the sidebar.")
    st.stop()

columns = list(table.columns)
if common.is_phone():  # on a narrow screen, who received it comes first
    columns.insert(0, columns.pop(columns.index("organisation")))
common.share_grid(
    table, df["share_id"], "shares_table", column_config=common.SHARE_TABLE_COLUMNS,
    height=min(460, 35 * (len(table) + 1) + 3),
    # One release selected: its name on every row would only take space.
    column_order=[c for c in columns if c != "release" or f.release_id is None],
)
st.caption("Click a row to open the share with its evidence and the source page. Click a "
           "column header to sort.")
st.download_button(
    f"Download all {total:,} register rows (CSV)", partial(downloads.shares_csv,
                                                           common.db_key().path, f),
    file_name="npd-shares-explorer.csv", mime=downloads.CSV, on_click="ignore",
    icon=":material/download:", key="dl_explorer_csv",
    help="Safe to open in Excel: cells that would run as formulas are prefixed with '. "
         "Each row has its share key, its address in this dashboard, is_sample and the "
         "release file's provenance.")
