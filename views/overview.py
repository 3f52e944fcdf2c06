"""Overview: headline figures for the latest release, each linked to its rows, and trends.

The trends put each release at its period end date (releases are months or years apart),
and mark a release that lists fewer register sections than the latest one (an early list
of NPD requests only): a dip there is missing sections, not fewer shares.
"""

from __future__ import annotations

import streamlit as st

from views import common, data, trend_charts

st.header("Who gets pupil data from the DfE?", anchor=False)
rel = common.releases()
if rel.empty:
    st.info("The database holds no releases yet.")
    st.stop()
latest = rel.iloc[common.latest_position()]
latest_id = int(latest["release_id"])
st.caption(f"Headline figures for the latest release, {common.esc(latest['label'])} "
           f"({common.esc(latest['source_file'])}). They ignore the filters; each "
           "link opens the register rows behind the number. In one release each share is "
           "one register row.")
undated = int(rel["period_end"].isna().sum())  # ordering rule: extract.ingest.order_releases
if undated:
    st.caption(f"{undated} release{'s' if undated > 1 else ''} name{'' if undated > 1 else 's'} "
               "no month and year (undated): placed before the dated releases, so never taken "
               "as the latest unless no release is dated.")

page = common.load(data.overview, latest_id)
h = page["headline"]
total = h["shares"]


def pct(n: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "–"


def see(n: int, kind: str) -> str:
    """Link text: '1 press share', '129 commercial shares' (short enough not to be cut in a
    quarter of a 1280 px page)."""
    return f"{n:,} {kind} share{'' if n == 1 else 's'}"


label = str(latest["label"])
cols = st.columns(4)
with cols[0]:
    st.metric("Shares", f"{total:,}", border=True,
              help="Shares listed in this release (one register row each).")
    common.show_filters_link(f"See all {total:,} shares", release=label)
with cols[1]:
    st.metric("To companies", pct(h["commercial"]), border=True,
              help=f"{h['commercial']:,} of {total:,} shares went to commercial companies.")
    common.show_filters_link(see(h["commercial"], "commercial"),
                             release=label, sector=["commercial"])
with cols[2]:
    st.metric("To the press", pct(h["press"]), border=True,
              help=f"{h['press']:,} of {total:,} shares went to newspapers and broadcasters.")
    common.show_filters_link(see(h["press"], "press"), release=label,
                             sector=["press"])
with cols[3]:
    st.metric("Identifying", pct(h["identifying_pupil"]), border=True,
              help=f"{h['identifying_pupil']:,} of {total:,} shares include pupil-level data "
                   "that identifies individual children. " + data.FLAG_HELP["identifying"])
    common.show_filters_link(see(h["identifying_pupil"], "identifying"),
                             release=label, flag=["identifying", "pupil_level"])

cover = page["coverage"].set_index("release_id")
labels = common.release_label_map()
undated = [labels.get(int(r), "?") for r in cover.index[cover["period_end"].isna()]]
partial = [labels.get(int(r), "?") for r in cover.index[cover["partial"]]]
charts = trend_charts.charts(latest_id)

st.subheader("Shares in each release, by recipient sector", anchor=False)
if len(rel) < 2:
    st.caption("Trends appear once more than one release is loaded.")
if charts["sectors"] is not None:
    st.plotly_chart(charts["sectors"], width="stretch", key="sector_trend")

st.subheader("Share of listed shares that identify individual children, by release",
             anchor=False)
if charts["identifying"] is not None:
    st.plotly_chart(charts["identifying"], width="stretch", key="identifying_trend")
notes = ["Each release is placed at the end of the period it covers, and is cumulative: it "
         "lists every share still live, so the same share appears in many releases."]
if partial:
    notes.append("Shaded, with open circles: "
                 + common.esc(", ".join(partial))
                 + " list only some of the register's sections (see the hover), so they "
                   "are not comparable with complete releases.")
if undated:
    notes.append("Not on the time axis (no period end date): " + common.esc(", ".join(undated))
                 + ".")
notes.append("Sectors and flags are assigned by rules and reference lists; open a share to "
             "see the evidence for each.")
st.caption(" ".join(notes))
