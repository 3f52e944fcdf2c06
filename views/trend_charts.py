"""The Overview's two trend charts, built from :func:`views.data.overview` once per database
version and release.

Building a plotly figure validates every property (~120 ms for these two at 20 releases),
more than the rest of the page's run, so the finished figures are kept
(``st.cache_resource``: the same objects are handed out; ``st.plotly_chart`` only reads
them). Each release sits at its period end date; a release that lists fewer sections than
the latest one is shaded and drawn with open circles, with the missing sections in its hover.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from views import common, data


def placed(df: pd.DataFrame, cover: pd.DataFrame, labels: dict[int, str]) -> pd.DataFrame:
    """``df`` (per release) with its period end, release label (escaped for plotly) and
    whether the release is partial; releases without a period end left out (the page says
    which)."""
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


def sector_chart(trend: pd.DataFrame) -> go.Figure:
    """Stacked bars: shares listed in each release, by recipient sector (``trend`` placed)."""
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
    return fig


def identifying_chart(ident: pd.DataFrame) -> go.Figure:
    """Per release, the % of the shares it lists that carry identifying pupil-level data
    (``ident`` placed)."""
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
    return fig


@st.cache_resource(show_spinner=False, max_entries=8)
def _charts(key: common.DbKey, release_id: int) -> dict[str, Any]:  # key: the version
    page = common.load(data.overview, release_id)
    cover = page["coverage"].set_index("release_id")
    labels = common.release_label_map()
    return {
        "sectors": None if page["sectors"].empty
        else sector_chart(placed(page["sectors"], cover, labels)),
        "identifying": None if page["identifying"].empty
        else identifying_chart(placed(page["identifying"], cover, labels)),
    }


def charts(release_id: int) -> dict[str, go.Figure | None]:
    """``{"sectors": figure, "identifying": figure}`` for the Overview of ``release_id``
    (None where there is nothing to plot), built once per database version."""
    return _charts(common.db_key(), release_id)
