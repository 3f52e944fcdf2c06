"""Recipients: organisations ranked by shares received; one organisation's page via ``?org=``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from views import common, data

names = common.load(data.organisation_names)


def pick(name: str | None) -> None:
    st.session_state["org"] = name


def pick_from_table() -> None:
    """Open the organisation whose row was selected in the ranking."""
    row = common.selected_row(st.session_state.get("recipients_table"))
    ranking = st.session_state.get("_ranking_names") or []
    if row is not None and row < len(ranking):
        pick(ranking[row])


heading = st.empty()
# An ?org= naming no organisation here: said on the page (the bound box would drop it).
asked_org = st.query_params.get("org") if "org" not in st.session_state else None
org_name = st.columns([2, 1])[0].selectbox(
    "Organisation", names, index=None, key="org", bind="query-params",
    placeholder="Type to find an organisation…",
    help="Names are resolved across spellings: 'UCL' and 'University College London (UCL)' "
         "are one organisation.")

if org_name is None:
    heading.header("Recipients", anchor=False)
    if asked_org and asked_org not in names:
        common.unknown_value_notice("the organisation", asked_org, "every recipient")
    f = common.filters()
    who = st.text_input("Organisation name contains", key="who", bind="query-params")
    ranking = common.load(data.recipients, f, who or "")
    st.markdown(f"**{len(ranking):,} organisations** received shares · "
                f"{common.esc(common.describe(f))}. A share listed in several releases "
                "counts once.")
    if ranking.empty:
        st.info("No organisation matches these filters.")
        st.stop()
    # How many of these shares rest on a sector we are unsure of (the Needs review page).
    from analysis.review import low_confidence_ids

    unsure = ranking["organisation_id"].isin(common.load(low_confidence_ids))
    if unsure.any():
        st.caption(f"{int(ranking.loc[unsure, 'shares'].sum()):,} of "
                   f"{int(ranking['shares'].sum()):,} shares here ({int(unsure.sum()):,} "
                   "organisations) rest on an unknown or low-confidence sector; the Needs "
                   "review page lists them with ready-to-edit overrides.")
    st.session_state["_ranking_names"] = list(ranking["name"])
    table = pd.DataFrame({
        "Organisation": ranking["name"],
        "Sector": ranking["sector"].map(data.SECTOR_LABELS).fillna(ranking["sector"]),
        "Shares": ranking["shares"],
        "Identifying pupil-level": ranking["identifying_pupil"],
        "Sensitive data": ranking["sensitive"],
        "Leaves DfE": ranking["leaves_dfe"],
    })
    top = max(int(table["Shares"].max()), 1)
    st.dataframe(
        common.visible_table(table), key="recipients_table", on_select=pick_from_table,
        selection_mode=common.ROW_CLICK,
        hide_index=True, placeholder="—", height=460, width="stretch",
        column_config={
            "Shares": st.column_config.ProgressColumn(
                "Shares", format="%d", min_value=0, max_value=top,
                help="Distinct shares (a share listed in several releases counts once)."),
            "Identifying pupil-level": st.column_config.NumberColumn(format="%d"),
        },
    )
    st.caption("Click a row to see every share that organisation received over time.")
    st.stop()

org = common.load(data.organisation, org_name)
if org is None:
    st.warning("That organisation is not in this database.")
    st.stop()
heading.header(common.esc(org["name"]), anchor=False)
st.button("All recipients", on_click=pick, args=(None,), icon=":material/arrow_back:",
          type="tertiary")
sector = data.SECTOR_LABELS.get(org["sector"], org["sector"])
c1, c2 = st.columns([1, 3])
c1.metric("Sector", sector, border=True)
with c2:
    st.markdown(f"**Why:** {common.esc(org['reason'])}  \n"
                f"**Confidence:** {float(org['confidence']):.0%}  \n"
                f"**Written in the register as:** "
                f"{common.esc('; '.join(org['spellings']) or org['name'])}")

shares = common.load(data.organisation_shares, int(org["organisation_id"]))
st.subheader(f"{len(shares):,} share{'s' if len(shares) != 1 else ''} over time", anchor=False)
table = pd.DataFrame({  # when and how flagged first: the long texts last
    "Reference": shares["reference"],
    "First listed": common.release_label_column(shares["first_release_id"]),
    "Last listed": common.release_label_column(shares["last_release_id"]),
    "Releases": shares["releases_seen"],
    "Still listed": shares["in_latest"],
    "Flags": shares["flags"],
    "Project": shares["project"],
    "Data shared": shares["data_shared"],
})
common.share_grid(common.visible_table(table), shares["share_id"], "org_shares_table",
                  column_config={"Still listed": st.column_config.CheckboxColumn()})
st.caption("Click a row to open the share as last listed. Releases: how many releases list "
           "it (each release repeats every share still live).")
