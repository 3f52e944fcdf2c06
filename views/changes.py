"""What changed: shares added, removed and changed in a release against the one before it.

Only sections both releases list are compared (``extract/history.py``): a share of a section
new to the release was not "added", nor one of a section it dropped "removed"; such sections
are named, with their shares listed apart. Field names are in words
(``extract.history.FIELD_LABELS``, the same as ``python -m extract changes``).

Link parameter ``changes_in``: the release's label (or file name). An unknown value is named
in a notice and the address is left as it came.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from extract import history
from views import briefing, common, data

PARAM = "changes_in"
# Column widths that keep provenance and both sides of a change on screen at 1280 px (long
# texts show in full on hover or when the cell is opened).
WIDTHS = {
    "Reference": st.column_config.TextColumn(width=110),
    "Organisation": st.column_config.TextColumn(width=180),
    "Where in the file": st.column_config.TextColumn(width=150),
    "Sector": st.column_config.TextColumn(width=110),
    "Flags": st.column_config.TextColumn(width=200),
    "Field": st.column_config.TextColumn(width=120),
    "What differs": st.column_config.TextColumn(width=200),
    "Project": st.column_config.TextColumn(width="medium"),
    "Data shared": st.column_config.TextColumn(width="medium"),
}


def _pick() -> None:
    """The picker writes its release into the address (the link to this comparison)."""
    picked = st.session_state.get("changes_in")
    if picked:
        st.query_params[PARAM] = picked


def section_name(section: Any) -> str:
    return data.SECTION_LABELS.get(str(section), str(section))


st.header("What changed", anchor=False)
rel = common.releases()
# Only releases that list shares are compared (as extract/history.py does): a release of
# counts only (e.g. Home Office tables) is neither offered nor named as "the one before".
listing_rel = rel[rel["shares"] > 0]
registers = [str(x) for x in listing_rel["label"]]
if len(registers) < 2:
    st.info("Changes appear once two or more releases that list shares are loaded.")
    st.stop()

choices = registers[1:]
asked = st.query_params.get(PARAM)
if asked:
    by_file = dict(zip(listing_rel["source_file"], listing_rel["label"], strict=True))
    wanted = asked if asked in choices else by_file.get(asked)
    if wanted in choices:
        st.session_state["changes_in"] = wanted
    else:
        latest = f"{choices[-1]} compared with {registers[-2]}"
        first = asked in (registers[0], listing_rel["source_file"].iloc[0])
        common.unknown_value_notice(
            "the release", asked, latest,
            "the first release that lists shares: there is no earlier one to compare it with"
            if first else "which is not in this database")
        st.session_state["changes_in"] = choices[-1]
elif st.session_state.get("changes_in") not in choices:
    st.session_state["changes_in"] = choices[-1]

# The top row: the picker and the three counts. (A "briefing" download may join them.)
pick_col, c1, c2, c3 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
picked = pick_col.selectbox("Release", choices, key="changes_in", on_change=_pick,
                            help="Compared with the release of the register before it.")
release_id = common.release_id_for(picked)
previous = registers[registers.index(picked) - 1]
previous_id = common.release_id_for(previous)
f = common.filters()
found = common.load(data.changes, release_id, f)
narrowed = common.describe(f, with_release=False)
st.markdown(f"**{common.esc(picked)}** compared with **{common.esc(previous)}**"
            + (f" · only shares {common.esc(narrowed)}" if narrowed else ""))

sections = common.load(history.compared_sections, release_id, previous_id)
compared = [x for x in sections if x.status == "compared"]
new = [x for x in sections if x.status == "new"]
dropped = [x for x in sections if x.status == "dropped"]
if compared:
    st.caption("Sections compared (in both releases): "
               + common.esc(", ".join(section_name(x.section) for x in compared)) + ".")
for x in new:
    st.info(f"**New section in {common.esc(picked)}: {common.esc(section_name(x.section))}** "
            f"({history.rows_phrase(x.now)}). {common.esc(previous)} had no such section, so its "
            "shares are not counted as added; they are listed below.",
            icon=":material/fiber_new:")
for x in dropped:
    st.info(f"**Not in {common.esc(picked)}: {common.esc(section_name(x.section))}** "
            f"({history.rows_phrase(x.before)} in {common.esc(previous)}). The release does not "
            "have this section, so its shares are not counted as removed.",
            icon=":material/info:")

added, removed, changed = found["added"], found["removed"], found["changed"]
n_changed = changed["share_key"].nunique() if not changed.empty else 0
c1.metric("Shares added", len(added), border=True,
          help="Listed now, not before, in a section both releases have.")
c2.metric("Shares removed", len(removed), border=True,
          help="Listed before, not now, in a section both releases have.")
c3.metric("Shares changed", n_changed, border=True,
          help="Shares whose wording differs (case and spacing ignored).")


def listing(df: pd.DataFrame, key: str) -> None:
    """Shares; selecting one opens it (as that release listed it)."""
    table = pd.DataFrame({
        "Reference": df["reference"], "Organisation": df["organisation"],
        "Where in the file": df["source"],
        "Sector": [data.SECTOR_LABELS.get(s, s) for s in df["sector"]],
        "Flags": df["flags"], "Project": df["project"], "Data shared": df["data_shared"],
    })
    common.share_grid(common.visible_table(table), df["share_id"], key, column_config=WIDTHS)


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
    def shown(field: str, value: Any) -> str | None:
        """A changed value as the page shows it (a missing one from pandas is None)."""
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        return section_name(value) if field == "section" else str(value)

    table = pd.DataFrame({
        "Reference": changed["reference"], "Organisation": changed["organisation"],
        "Field": [history.FIELD_LABELS.get(x, x) for x in changed["field"]],
        "What differs": [history.word_change(shown(fl, o), shown(fl, n)) for fl, o, n in
                         zip(changed["field"], changed["old_value"], changed["new_value"],
                             strict=True)],
        f"In {previous}": [shown(fl, v) for fl, v in
                           zip(changed["field"], changed["old_value"], strict=True)],
        f"In {picked}": [shown(fl, v) for fl, v in
                         zip(changed["field"], changed["new_value"], strict=True)],
    })
    common.share_grid(common.visible_table(table), changed["share_id"], "changed_table",
                      column_config={**WIDTHS,
                                     f"In {previous}": st.column_config.TextColumn(width=160),
                                     f"In {picked}": st.column_config.TextColumn(width=160)})

for x in new:
    st.subheader(f"First listed in the new section {common.esc(section_name(x.section))}",
                 anchor=False)
    shares, total = common.load(data.search_shares, data.Filters(
        text=f.text, release_id=release_id, sectors=f.sectors, flags=f.flags,
        categories=f.categories, sections=(x.section,)))
    st.caption(f"{history.rows_phrase(total)} of {common.esc(picked)}"
               + (f" {common.esc(narrowed)}" if narrowed else "")
               + ". Not counted as added: the release before had no such section.")
    if not shares.empty:
        listing(shares, f"new_section_{x.section}")

st.caption("Select a row to open the share. Shares are matched across releases by reference "
           "or, without one, by organisation, project and date approved.")

# The release briefing (analysis/brief.py) for the release shown.
briefing.download_button(release_id)
