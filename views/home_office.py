"""Home Office: the monthly counts of individuals the Home Office asked the DfE to find.

Every figure is one row of ``count_rows`` and is shown with its release, its file and the
sheet or page and row it was read from; a month's link (``?in=<release file>&month=YYYY-MM``)
opens the rows behind it in every release, so a revision between releases shows. The page
reads :mod:`analysis.home_office` through a cache keyed, like every page's, on the database
file's identity.

Link parameters: ``in`` (a release's file name or label) and ``month``. An unknown value is
named in a notice and the address is left as it came.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis import export, home_office
from views import common, data

RELEASE_PARAM, MONTH_PARAM = "in", "month"
URL_PATH = "home-office"


def label(release_id: int) -> str:
    return common.release_label(release_id)


def where(df: pd.DataFrame, prefix: str = "source_") -> pd.Series:
    """"sheet 'Home Office', row 7" / "page 12, row 3" for each row."""
    return data.provenance_column(df[f"{prefix}page"], df[f"{prefix}sheet"], df[f"{prefix}row"])


def measure_label(key: str, written: str) -> str:
    return home_office.MEASURE_LABELS.get(key, written)


def month_link(file: str, month_key: str) -> str:
    """The page's own address for one month of one release (relative, so it works on any
    host the dashboard is served from)."""
    return f"{URL_PATH}?{urlencode({RELEASE_PARAM: file, MONTH_PARAM: month_key})}"


def _set_release() -> None:
    picked = st.session_state.get("ho_release")
    file = files_by_label.get(picked)
    if file:
        st.query_params[RELEASE_PARAM] = file
    st.query_params.pop(MONTH_PARAM, None)


def _set_month() -> None:
    picked = st.session_state.get("ho_month")
    if picked:
        st.query_params[MONTH_PARAM] = picked
    else:
        st.query_params.pop(MONTH_PARAM, None)


st.header("Home Office requests for pupil data", anchor=False)
st.caption("Each month the Home Office asks the DfE to find individuals in the National "
           "Pupil Database (for immigration enforcement); the register reports how many were "
           "requested and how many were matched. Every count below is one row of a release, "
           "shown with the file, sheet or page and row it was read from.")

rel = common.load(home_office.releases_with_counts)
if rel.empty:
    st.info("No loaded release includes the Home Office monthly counts.")
    st.stop()

ids = [int(x) for x in rel["release_id"]]
labels = [label(i) for i in ids]
files_by_label = dict(zip(labels, rel["source_file"], strict=True))
asked = st.query_params.get(RELEASE_PARAM)
release_id = ids[-1]
if asked:
    hit = [i for i, lab, f in zip(ids, labels, rel["source_file"], strict=True)
           if asked in (f, lab, rel.loc[rel["release_id"] == i, "period_label"].iloc[0])]
    if hit:
        release_id = hit[0]
    else:
        instead = f"the latest release with Home Office counts, {label(ids[-1])}"
        every = common.releases()
        if asked in set(every["source_file"]) | set(every["label"].astype(str)):
            st.warning(f"The link asks for {common.esc(asked)}, a release without the Home "
                       f"Office counts. Showing {common.esc(instead)} instead.", icon="⚠️")
        else:
            common.unknown_value_notice("the release", asked, instead)
position = ids.index(release_id)
st.session_state["ho_release"] = labels[position]
pick, _ = st.columns([2, 3])
pick.selectbox("Release", labels, key="ho_release", on_change=_set_release,
               help="Each release repeats the earlier months; a later one may revise them.")

rows = common.load(home_office.counts, release_id)
file = str(rel["source_file"].iloc[position])
st.markdown(f"**{common.esc(label(release_id))}** · {common.esc(file)} · "
            f"{len(rows):,} count rows")

# --- the figures --------------------------------------------------------------------------
keys = [k for k in ("requested", "matched") if k in set(rows["measure_key"])]
keys += sorted(set(rows["measure_key"]) - set(keys))
cols = st.columns(len(keys) + 1)
months = rows.drop_duplicates("month_key")
cols[0].metric("Months listed", f"{len(months):,}", border=True,
               help=f"{months['month'].iloc[0]} to {months['month'].iloc[-1]}"
               if len(months) else None)
for col, key in zip(cols[1:], keys, strict=True):
    mine = rows[rows["measure_key"] == key]
    written = str(mine["measure"].iloc[0])
    col.metric(f"{measure_label(key, written)}, all months", f"{int(mine['value'].sum()):,}",
               border=True, help=f"The sum of the {len(mine)} monthly counts in the column "
               f"“{common.esc(written)}” of this release (blank or non-numeric cells, "
               f"{int(mine['value'].isna().sum())}, are not counted).")


def chart(rows: pd.DataFrame) -> go.Figure:
    """The monthly counts of one release, a line per measure."""
    fig = go.Figure()
    for key in keys:
        mine = rows[(rows["measure_key"] == key) & rows["period_start"].notna()]
        name = measure_label(key, str(mine["measure"].iloc[0]) if len(mine) else key)
        fig.add_trace(go.Scatter(
            x=mine["period_start"], y=mine["value"], mode="lines+markers",
            name=common.esc(name, "chart"),
            customdata=list(zip([common.esc(m, "chart") for m in mine["month"]],
                                [common.esc(w, "chart") for w in where(mine)], strict=True)),
            hovertemplate="%{customdata[0]}: %{y:,}<br>" + common.esc(file, "chart")
                          + ", %{customdata[1]}<extra></extra>"))
    fig.update_layout(height=340, margin={"t": 10, "b": 10}, legend_title_text="",
                      hovermode="x unified", yaxis_title="Individuals", xaxis_title="Month")
    return fig


def by_month(df: pd.DataFrame) -> pd.DataFrame:
    """One line per source row: its month, a column per measure, and where it was read."""
    # Sheet and page are each blank for one kind of file: fill them so they group.
    keyed = df.assign(sheet_k=df["source_sheet"].fillna(""),
                      page_k=df["source_page"].fillna(-1))
    index = ["month_key", "month", "source_file", "sheet_k", "page_k", "source_row"]
    grouped = keyed.groupby([*index, "measure_key"], dropna=False, sort=False)
    wide = grouped["value"].first().unstack("measure_key")
    firsts = keyed.groupby(index, dropna=False, sort=False)["period_start"].first()
    wide = wide.join(firsts).reset_index()
    wide = wide.sort_values(["period_start", "month_key", "source_row"],
                            na_position="last", kind="stable")
    wide["source_sheet"] = wide["sheet_k"].replace("", None)
    wide["source_page"] = wide["page_k"].where(wide["page_k"] >= 0)
    out = pd.DataFrame({"Month": wide["month"]})
    for key in keys:
        written = str(df.loc[df["measure_key"] == key, "measure"].iloc[0])
        out[measure_label(key, written)] = (wide[key].astype("Int64") if key in wide
                                            else pd.Series(pd.NA, index=wide.index,
                                                           dtype="Int64"))
    out["Where in the file"] = where(wide)
    out["Release"] = label(release_id)
    out["File"] = wide["source_file"]
    out["Rows behind it"] = [month_link(f, m) for f, m in
                             zip(wide["source_file"], wide["month_key"], strict=True)]
    return common.visible_table(out).reset_index(drop=True)


@st.cache_resource(show_spinner=False, max_entries=16)
def built(key: common.DbKey, release_id: int, _rows: pd.DataFrame
          ) -> tuple[go.Figure, pd.DataFrame, pd.DataFrame, bytes]:
    """The chart, the month table and the exact rows (shown, and as CSV) of one release,
    made once per database version (``key``; ``_rows`` are that version's rows of the
    release, not hashed): making them took ~300 ms of every run on the sample register.
    The same objects are handed out; the elements that draw them only read them."""
    exact = home_office.citable_rows(_rows, {i: label(i) for i in ids})
    return (chart(_rows), by_month(_rows), common.visible_table(exact),
            export.to_csv_bytes(exact))


fig, table, exact_shown, exact_csv = built(common.db_key(), release_id, rows)
st.subheader(f"Monthly counts as {common.esc(label(release_id))} gives them", anchor=False)
st.plotly_chart(fig, width="stretch", key="home_office_chart")

st.dataframe(table, key="home_office_table", hide_index=True, placeholder="—",
             width="stretch", column_config={
                 "Rows behind it": st.column_config.LinkColumn(
                     "Rows behind it", display_text="this month in every release",
                     help="Opens this page on the month: its count rows in every release."),
             })


with st.expander(f"The {len(rows):,} count rows behind these figures, exactly as read"):
    st.dataframe(exact_shown, key="home_office_rows", hide_index=True,
                 placeholder="—", width="stretch")
    st.download_button("Download these rows (CSV)", exact_csv,
                       file_name=f"home_office_counts_{file.rsplit('.', 1)[0]}.csv",
                       mime="text/csv", icon=":material/download:", key="home_office_csv",
                       on_click="ignore")

# --- one month in every release -------------------------------------------------------------
month_keys = [str(m) for m in months["month_key"]]
month_names = dict(zip(month_keys, months["month"], strict=True))
asked_month = st.query_params.get(MONTH_PARAM)
if asked_month and asked_month not in month_keys:
    common.unknown_value_notice("the month", asked_month,
                                f"every month of {label(release_id)}")
    asked_month = None
st.session_state["ho_month"] = asked_month
st.subheader("One month in every release", anchor=False)
pick_month, _ = st.columns([2, 3])
pick_month.selectbox("Month", month_keys, index=None, key="ho_month", on_change=_set_month,
                     format_func=lambda k: str(month_names.get(k, k)),
                     placeholder="Choose a month", help="Its counts as each release gives "
                     "them, with the row each was read from.")
if asked_month:
    history = common.load(home_office.month_rows, asked_month)
    st.caption(f"{common.esc(month_names[asked_month])}: {len(history)} count rows in "
               f"{history['release_id'].nunique()} releases.")
    st.dataframe(common.visible_table(pd.DataFrame({
        "Release": [label(i) for i in history["release_id"]],
        "Measure": [measure_label(k, m) for k, m in
                    zip(history["measure_key"], history["measure"], strict=True)],
        "Count": history["value"].astype("Int64"), "Where in the file": where(history),
        "As written": history["value_raw"], "File": history["source_file"],
    })), key="home_office_month", hide_index=True, placeholder="—", width="stretch")

# --- what changed since the release before ---------------------------------------------------
previous_id = common.load(home_office.previous_with_counts, release_id)
if previous_id is None:
    st.subheader("What changed", anchor=False)
    st.write(f"{common.esc(label(release_id))} is the first loaded release with these counts: "
             "nothing to compare it with.")
    st.stop()
st.subheader(f"What changed since {common.esc(label(previous_id))}", anchor=False)
diff = common.load(home_office.revisions, release_id, previous_id)
kinds = diff["change"].value_counts()
c1, c2, c3 = st.columns(3)
c1.metric("Months added", f"{diff.loc[diff['change'] == 'added', 'month_key'].nunique():,}",
          border=True, help="Counts this release gives that the one before did not.")
c2.metric("Counts revised", f"{int(kinds.get('revised', 0)):,}", border=True,
          help="A month both releases give, with a different count.")
c3.metric("Months removed", f"{diff.loc[diff['change'] == 'removed', 'month_key'].nunique():,}",
          border=True, help="Counts the release before gave that this one does not.")
if diff.empty:
    st.write("Every month the earlier release gave is given again, with the same counts, and "
             "no month was added.")
else:
    words = {"added": "added", "revised": "revised", "removed": "removed"}
    st.dataframe(common.visible_table(pd.DataFrame({
        "Change": diff["change"].map(words), "Month": diff["month"],
        "Measure": [measure_label(k, m) for k, m in
                    zip(diff["measure_key"], diff["measure"], strict=True)],
        f"In {label(previous_id)}": diff["old_value"].astype("Int64"),
        f"In {label(release_id)}": diff["new_value"].astype("Int64"),
        "Where before": where(diff, "old_").where(diff["old_file"].notna(), None),
        "Where now": where(diff, "new_").where(diff["new_file"].notna(), None),
    })), key="home_office_changes", hide_index=True, placeholder="—", width="stretch")
    before_file = str(rel.loc[rel["release_id"] == previous_id, "source_file"].iloc[0])
    st.caption(f"Before: {common.esc(label(previous_id))}, {common.esc(before_file)}. Now: "
               f"{common.esc(label(release_id))}, {common.esc(file)}.")
