"""Shares explorer: the register's rows matching the sidebar filters; a row opens its detail."""

from __future__ import annotations

import streamlit as st

from views import common, data

LIMIT = 2000

st.header("Shares explorer", anchor=False)
f = common.filters()
df, total = common.load(data.search_shares, f, LIMIT)
shown = len(df)
noun = "share" if total == 1 else "shares"
st.markdown(f"**{total:,} {noun}** · {common.esc(common.describe(f))}")
if total > shown:
    st.caption(f"Showing the first {shown:,}. Narrow the filters, or download all {total:,} "
               "from the Export page.")
if df.empty:
    st.info("No share matches these filters. Try fewer words or remove a filter in the "
            "sidebar.")
    st.stop()

table = common.share_table(df)
event = st.dataframe(
    table, key="shares_table", on_select="rerun", selection_mode="single-row",
    hide_index=True, placeholder="—", column_config=common.SHARE_TABLE_COLUMNS, width="stretch",
    height=min(460, 35 * (len(table) + 1) + 3),
    # One release selected: its name on every row would only take space.
    column_order=[c for c in table.columns if c != "release" or f.release_id is None],
)
st.caption("Select a row (the box on its left) to open the share with its evidence and the "
           "source page. Click a column header to sort.")
row = common.selected_row(event)
if row is not None and row < shown:
    common.open_share(int(df["share_id"].iloc[row]))
