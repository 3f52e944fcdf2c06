"""Needs review: recipients whose sector is unknown or rests on a weak rule.

Each row says what the classifier decided, why, how sure it is and how many shares rest on
it. The download holds the same organisations as rows in ``data/reference/overrides.csv``'s
exact format (name,sector,note), ready to edit and paste in; ``python -m analysis rebuild``
then applies them. Register text is shown as text, never as markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.classify import LOW_CONFIDENCE
from analysis.review import overrides_csv, review_table
from views import common, data

st.header("Needs review", anchor=False)
table = common.load(review_table)  # cached per database version, like every page query
st.caption(f"Recipients whose sector is unknown or below {LOW_CONFIDENCE:.0%} confidence: the "
           "classifier found no list entry and only a weak rule, or none. Most shares first.")
if table.empty:
    st.success("Every recipient's sector rests on a list entry or a strong rule.")
    st.stop()

shares = int(table["shares"].sum())
c1, c2 = st.columns(2)
c1.metric("Organisations to check", f"{len(table):,}", border=True)
c2.metric("Shares resting on them", f"{shares:,}", border=True)

shown = pd.DataFrame({
    "Organisation": common.visible_column(table["name"]),
    "Sector": [data.SECTOR_LABELS.get(s, s) for s in table["sector"]],
    "Confidence": table["confidence"],
    "Shares": table["shares"],
    "Why": common.visible_column(table["reason"]),
    "Written in the register as": common.visible_column(table["spellings"].fillna("")),
})
st.dataframe(shown, hide_index=True, width="stretch", placeholder="—",
             column_config={"Confidence": st.column_config.NumberColumn(format="%.2f")})

st.subheader("Ready-to-edit overrides", anchor=False)
st.markdown(
    "Rows in the format of `data/reference/overrides.csv` (name, sector, note). Set each "
    "sector to one of commercial, press, academic, charity, government, local_authority, "
    "police or unknown, replace the note with your evidence (a charity or company number, "
    "the organisation's own site), add the rows to the file and run "
    "`python -m analysis rebuild`.")
rows = overrides_csv(table)
st.download_button("Download overrides rows (CSV)", rows.encode("utf-8"),
                   file_name="overrides_to_review.csv", mime="text/csv",
                   icon=":material/download:")
first = table.head(5)
st.caption(common.esc("First rows: " + "; ".join(
    f"{n} -> {s}" for n, s in zip(first["name"], first["sector"], strict=True))))
