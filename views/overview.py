"""Overview: headline figures for the latest release, each linked to its rows, and trends.

The trends put each release at its period end date (releases are months or years apart),
and mark a release that lists fewer register sections than the latest one (an early list
of NPD requests only): a dip there is missing sections, not fewer shares.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
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


def placed(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (per release) with its period end, release label (escaped for plotly) and
    whether the release is partial; releases without a period end left out (said below)."""
    out = df.join(cover[["period_end", "partial", "missing"]], on="release_id")
    out["label"] = [common.esc(labels.get(int(r), "?"), "chart") for r in out["release_id"]]
    out["note"] = ["<br><i>lists only some sections: no "
                   + common.esc(", ".join(data.SECTION_LABELS.get(x, x) for x in m), "chart")
                   + "</i>" if p else "" for p, m in zip(out["partial"], out["missing"],
                                                         strict=True)]
    return out[out["period_end"].notna()]


def mark_partial(fig: go.Figure, rows: pd.DataFrame) -> None:
    """Shade each release that lists only some sections, with a short note on the chart
    (the legend stays that of complete releases)."""
    for end in rows.loc[rows["partial"], "period_end"].drop_duplicates():
        day = pd.Timestamp(end)
        fig.add_vrect(x0=day - pd.Timedelta(days=50), x1=day + pd.Timedelta(days=50),
                      fillcolor="#b1b4b6", opacity=0.25, layer="below", line_width=0,
                      annotation_text="some sections only", annotation_position="top",
                      annotation_font_size=11)


undated = [labels.get(int(r), "?") for r in cover.index[cover["period_end"].isna()]]
partial = [labels.get(int(r), "?") for r in cover.index[cover["partial"]]]

st.subheader("Shares in each release, by recipient sector", anchor=False)
trend = page["sectors"]
if len(rel) < 2:
    st.caption("Trends appear once more than one release is loaded.")
if not trend.empty:
    trend = placed(trend)
    fig = go.Figure()
    for key, name in data.SECTOR_LABELS.items():
        part = trend[trend["sector"] == key]
        if part.empty:
            continue
        fig.add_bar(
            x=part["period_end"], y=part["shares"], name=common.esc(name, "chart"),
            marker={"color": common.SECTOR_COLOURS.get(name)},
            customdata=list(zip(part["label"], part["note"], strict=True)),
            hovertemplate="%{customdata[0]}: %{y:,} shares to " + common.esc(name, "chart")
                          + "%{customdata[1]}<extra></extra>")
    fig.update_layout(barmode="stack", height=340, margin={"t": 10, "b": 10},
                      legend_title_text="", bargap=0.1, yaxis_title="Shares listed",
                      xaxis_title="Period end of the release")
    # Bars about two months wide, so releases months apart do not touch.
    fig.update_traces(width=1000 * 3600 * 24 * 60)
    mark_partial(fig, trend)
    st.plotly_chart(fig, width="stretch", key="sector_trend")

# Plots, per release, the % of the shares it lists that carry identifying pupil-level data.
st.subheader("Share of listed shares that identify individual children, by release",
             anchor=False)
ident = page["identifying"]
if not ident.empty:
    ident = placed(ident)
    fig = go.Figure()
    full, part = ident[~ident["partial"]], ident[ident["partial"]]
    for rows, name, symbol in ((full, "All sections listed", "circle"),
                               (part, "Only some sections listed", "circle-open")):
        if rows.empty:
            continue
        fig.add_scatter(
            x=rows["period_end"], y=rows["pct"], name=name, mode="lines+markers",
            marker={"symbol": symbol, "size": 10, "color": "#1d70b8"},
            line={"color": "#1d70b8"} if symbol == "circle" else {"width": 0},
            customdata=list(zip(rows["label"], rows["identifying_pupil"], rows["shares"],
                                rows["note"], strict=True)),
            hovertemplate="%{customdata[0]}: %{y:.1f}% (%{customdata[1]:,} of "
                          "%{customdata[2]:,} shares)%{customdata[3]}<extra></extra>")
    mark_partial(fig, ident)
    fig.update_yaxes(range=[0, 100], ticksuffix="%", title="Identifying pupil-level")
    fig.update_layout(height=300, margin={"t": 10, "b": 10},
                      xaxis_title="Period end of the release", legend_title_text="")
    st.plotly_chart(fig, width="stretch", key="identifying_trend")
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
