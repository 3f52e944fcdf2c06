"""Overview: headline figures for the latest release, each linked to its rows, and trends."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from views import common, data

common.follow_pending_link()
st.header("Who gets pupil data from the DfE?", anchor=False)
rel = common.releases()
if rel.empty:
    st.info("The database holds no releases yet.")
    st.stop()
latest = rel.iloc[common.latest_position()]
latest_id = int(latest["release_id"])
st.caption(f"Headline figures for the latest release, {common.esc(latest['label'])} "
           f"({common.esc(latest['source_file'])}). They ignore the sidebar filters; each "
           "link opens the shares behind the number.")

page = common.load(data.overview, latest_id)
h = page["headline"]
total = h["shares"]


def pct(n: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "–"


def see(n: int, kind: str) -> str:
    """Link text: 'See the 1 press share', 'See the 4 commercial shares'."""
    return f"See the {n:,} {kind} share{'' if n == 1 else 's'}"


label = str(latest["label"])
cols = st.columns(4)
with cols[0]:
    st.metric("Shares listed", f"{total:,}", border=True,
              help="Rows of the register's share sections in this release.")
    common.show_filters_link(f"See all {total:,} shares", release=label)
with cols[1]:
    st.metric("To commercial companies", pct(h["commercial"]), border=True,
              help=f"{h['commercial']:,} of {total:,} shares.")
    common.show_filters_link(see(h["commercial"], "commercial"),
                             release=label, sector=["commercial"])
with cols[2]:
    st.metric("To the press", pct(h["press"]), border=True,
              help=f"{h['press']:,} of {total:,} shares.")
    common.show_filters_link(see(h["press"], "press"), release=label,
                             sector=["press"])
with cols[3]:
    st.metric("Identifying pupil-level data", pct(h["identifying_pupil"]), border=True,
              help=f"{h['identifying_pupil']:,} of {total:,} shares include data that "
                   "identifies individual children. " + data.FLAG_HELP["identifying"])
    common.show_filters_link(see(h["identifying_pupil"], "identifying"),
                             release=label, flag=["identifying", "pupil_level"])

st.subheader("Shares in each release, by recipient sector")
trend = page["sectors"]
if len(rel) < 2:
    st.caption("Trends appear once more than one release is loaded.")
if not trend.empty:
    trend["Release"] = [common.release_label(r) for r in trend["release_id"]]
    trend["Sector"] = [data.SECTOR_LABELS.get(s, s) for s in trend["sector"]]
    fig = px.bar(trend, x="Release", y="shares", color="Sector",
                 color_discrete_map=common.SECTOR_COLOURS,
                 category_orders={"Release": common.release_labels(),
                                  "Sector": list(data.SECTOR_LABELS.values())},
                 labels={"shares": "Shares listed"})
    fig.update_layout(height=340, margin={"t": 10, "b": 10}, legend_title_text="")
    st.plotly_chart(fig, width="stretch", key="sector_trend")

# Plots, per release, the % of the shares it lists that carry identifying pupil-level data.
st.subheader("Share of listed shares that identify individual children, by release")
ident = page["identifying"]
if not ident.empty:
    ident["Release"] = [common.release_label(r) for r in ident["release_id"]]
    fig = px.line(ident, x="Release", y="pct", markers=True,
                  hover_data={"identifying_pupil": True, "shares": True},
                  labels={"pct": "% identifying pupil-level",
                          "identifying_pupil": "Identifying pupil-level shares",
                          "shares": "All shares"},
                  category_orders={"Release": common.release_labels()})
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    fig.update_layout(height=300, margin={"t": 10, "b": 10})
    st.plotly_chart(fig, width="stretch", key="identifying_trend")
st.caption("Each release is cumulative: it lists every share still live, so the same share "
           "appears in many releases. Sectors and flags are assigned by rules and reference "
           "lists; open a share to see the evidence for each.")
