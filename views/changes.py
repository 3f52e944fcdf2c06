"""What changed: shares added, removed and changed in a release against the one before it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from views import briefing, common, data

st.header("What changed", anchor=False)
rel = common.releases()
# Only releases that list shares are compared (as extract/history.py does): a release of
# counts only (e.g. Home Office tables) is neither offered nor named as "the one before".
registers = [str(x) for x in rel.loc[rel["shares"] > 0, "label"]]
if len(registers) < 2:
    st.info("Changes appear once two or more releases that list shares are loaded.")
    st.stop()

pick_col, c1, c2, c3 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
picked = pick_col.selectbox("Release", registers[1:], index=len(registers) - 2,
                            key="changes_in", bind="query-params",
                            help="Compared with the release of the register before it.")
release_id = common.release_id_for(picked)
# The release the changes were computed against; without any change recorded, the previous
# release that lists shares (the same rule).
previous_id = common.load(data.previous_release, release_id)
previous = (common.release_label(previous_id) if previous_id is not None
            else registers[registers.index(picked) - 1])
f = common.filters()
found = common.load(data.changes, release_id, f)
narrowed = common.describe(f, with_release=False)
st.markdown(f"**{common.esc(picked)}** compared with **{common.esc(previous)}**"
            + (f" · only shares {common.esc(narrowed)}" if narrowed else ""))

added, removed, changed = found["added"], found["removed"], found["changed"]
n_changed = changed["share_key"].nunique() if not changed.empty else 0
c1.metric("Shares added", len(added), border=True)
c2.metric("Shares removed", len(removed), border=True)
c3.metric("Shares changed", n_changed, border=True,
          help="Shares whose wording differs (case and spacing ignored).")


def listing(df: pd.DataFrame, key: str) -> None:
    """Added/removed shares; selecting one opens it (as that release listed it)."""
    table = pd.DataFrame({
        "Reference": df["reference"], "Organisation": df["organisation"],
        "Sector": [data.SECTOR_LABELS.get(s, s) for s in df["sector"]],
        "Project": df["project"], "Data shared": df["data_shared"], "Flags": df["flags"],
    })
    event = st.dataframe(table, key=key, on_select="rerun", selection_mode="single-row",
                         hide_index=True, placeholder="—", width="stretch")
    row = common.selected_row(event)
    if row is not None and row < len(df):
        common.open_share(int(df["share_id"].iloc[row]))


st.subheader(f"Added in {common.esc(picked)}", anchor=False)
if added.empty:
    st.write("No share was added.")
else:
    listing(added, "added_table")

st.subheader(f"Removed since {common.esc(previous)}", anchor=False)
if removed.empty:
    st.write("No share was removed.")
else:
    st.caption(f"Listed in {common.esc(previous)} but not in {common.esc(picked)}; shown as "
               "that release listed them.")
    listing(removed, "removed_table")

st.subheader("Changed wording", anchor=False)
if changed.empty:
    st.write("No listed share changed.")
else:
    table = pd.DataFrame({
        "Reference": changed["reference"], "Organisation": changed["organisation"],
        "Field": changed["field"], f"In {previous}": changed["old_value"],
        f"In {picked}": changed["new_value"],
    })
    event = st.dataframe(table, key="changed_table", on_select="rerun",
                         selection_mode="single-row", hide_index=True, placeholder="—",
                         width="stretch")
    row = common.selected_row(event)
    if row is not None and row < len(changed):
        common.open_share(int(changed["share_id"].iloc[row]))
st.caption("Select a row to open the share. Shares are matched across releases by reference "
           "or, without one, by organisation, project and date approved.")

# The release briefing (analysis/brief.py) for the release shown.
briefing.download_button(release_id)
