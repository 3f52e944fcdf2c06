"""Share detail: every field, the flags and their evidence, provenance and the source page.

Selected by ``?share=<id>`` (bound to the ID box, so the address is a citable link).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from views import common, data

FIELDS = [
    ("reference", "Reference"), ("organisation", "Organisation (as written)"),
    ("project", "Project"), ("purpose", "Purpose"), ("data_shared", "Data shared"),
    ("classification", "Data classification"), ("legal_basis", "Legal basis"),
    ("date_approved_raw", "Date approved (as written)"),
    ("date_released_raw", "Date released (as written)"), ("status", "Status"),
    ("access_route", "Access route"), ("number_of_pupils_raw", "Number of pupils"),
]


def field(label: str, value: Any) -> None:
    """One labelled value. Label and value are both escaped: an unmapped column's label is
    a header from the published file, so it is data too and must show as written."""
    text = "—" if value is None or value == "" else common.esc(value)
    st.markdown(f"**{common.esc(label)}**  \n{text}")


top = st.columns([4, 1], vertical_alignment="bottom")
with top[1]:
    share_id = st.number_input("Share ID", min_value=1, value=None, step=1, key="share",
                               bind="query-params", help="IDs are those of this database; "
                               "cite a share by its release, page or sheet and row.")
heading = top[0].empty()

if share_id is None:
    heading.header("Share detail", anchor=False)
    st.info("Choose a share in the Shares explorer, or type its ID.")
    if st.button("Open the Shares explorer", icon=":material/table_view:"):
        common.goto(common.SHARES)
    st.stop()

detail = common.load(data.share_detail, int(share_id))
if detail is None:
    heading.header("Share detail", anchor=False)
    st.warning(f"There is no share with ID {int(share_id)} in this database. IDs change when "
               "the database is rebuilt; find the share again in the explorer.")
    st.stop()

s, flags = detail["share"], detail["flags"]
with heading.container():
    st.header(common.esc(s["recipient"] or s["organisation"] or "Unnamed organisation"),
              anchor=False)
    if s["project"]:
        st.markdown(f"*{common.esc(s['project'])}*")
raised = set(flags["flag"])
badges = [data.FLAG_LABELS[k] for k in data.FLAG_LABELS if k in raised]
sector = data.SECTOR_LABELS.get(s["sector"] or "unknown", s["sector"])
where = data.provenance(s["source_page"], s["source_sheet"], s["source_row"])
st.markdown(" ".join([f":blue-badge[{common.esc(sector)}]"] + [f":red-badge[{b}]" for b in badges])
            + f" · {common.esc(common.release_label(s['release_id']))}, "
            f"{common.esc(s['source_file'])}, {common.esc(where)}")

tab_details, tab_source, tab_history = st.tabs(
    ["Details and flags", "Source and provenance", "History across releases"])

with tab_details:
    left, right = st.columns([3, 2], gap="large")
    with left:
        for key, label in FIELDS:
            field(label, s.get(key))
        extra = json.loads(s["extra_cells"]) if s.get("extra_cells") else {}
        for header, value in extra.items():
            field(f"{header} (unmapped column)", value)
    with right:
        st.subheader("Flags and the words that raised them", anchor=False)
        if flags.empty:
            st.write("No flag raised: nothing in this row's text matched the identifying, "
                     "pupil-level or sensitive-data rules.")
        else:
            st.dataframe(pd.DataFrame({
                "Flag": [data.FLAG_LABELS.get(x, x) for x in flags["flag"]],
                "Category": [data.CATEGORY_LABELS.get(v, v) if v != "true" else ""
                             for v in flags["value"]],
                "Triggered by": flags["evidence"],
            }), hide_index=True, placeholder="—", width="stretch", key="flags_table")
        st.subheader("Recipient", anchor=False)
        if s["recipient"]:
            field("Organisation", s["recipient"])
            field("Sector", f"{sector} (confidence {float(s['sector_confidence'] or 0):.0%})")
            field("Why this sector", s["sector_reason"])
            if st.button("All shares to this organisation", icon=":material/apartment:"):
                common.goto(common.RECIPIENTS, org=str(s["recipient"]))
        else:
            st.write("This organisation has not been resolved or classified yet.")

with tab_source:
    st.markdown(
        f"- **Release:** {common.esc(common.release_label(s['release_id']))} — "
        f"{common.esc(s['release_title'] or '')}\n"
        f"- **File:** {common.esc(s['source_file'])}\n"
        f"- **Section:** {common.esc(data.SECTION_LABELS.get(s['section'], s['section']))} "
        f"({common.esc(s['section_title'] or '')})\n"
        f"- **Where in the file:** {common.esc(where)}")
    if s["format"] == "pdf" and s["source_page"]:
        st.subheader(f"Page {int(s['source_page'])} of the PDF", anchor=False)
        path = data.resolve_source(s["source_path"])
        png = None
        if path is not None:
            needles = tuple(x for x in (s["reference"], s["organisation"]) if x)
            png = common.page_png(path, int(s["source_page"]), needles)
        if png is None:
            st.info(f"The source file is not available on this server "
                    f"({common.esc(s['source_path'] or s['source_file'])}), so the page "
                    "cannot be shown. Download the release from gov.uk to check it.")
        else:
            # Captions are markdown: the file name is data, so it is escaped.
            st.image(png, caption=f"Page {int(s['source_page'])} of "
                                  f"{common.esc(s['source_file'])}; the share's row is "
                                  "highlighted.", width="stretch")
    st.subheader("The row exactly as published", anchor=False)
    raw = json.loads(s["raw_cells"]) if s.get("raw_cells") else {}
    st.dataframe(pd.DataFrame({"Column": list(raw), "Cell": [str(v) for v in raw.values()]}),
                 hide_index=True, placeholder="—", width="stretch", key="raw_table")

with tab_history:
    if not s["share_key"]:
        st.write("This share has not been matched across releases yet.")
    else:
        seen = detail["appearances"]
        # Releases of counts only (Home Office tables) list no shares: not in the total.
        registers = int((common.releases()["shares"] > 0).sum())
        st.markdown(f"Listed in **{len(seen)}** of {registers} releases of the register.")
        st.dataframe(pd.DataFrame({
            "Release": [common.release_label(r) for r in seen["release_id"]],
            "Status": seen["status"],
            "Organisation (as written)": seen["organisation"],
            "Where": [data.provenance(p, sh, r) for p, sh, r in
                      zip(seen["source_page"], seen["source_sheet"], seen["source_row"],
                          strict=True)],
        }), hide_index=True, placeholder="—", width="stretch", key="seen_table")
        changed = detail["changes"]
        if not changed.empty:
            st.subheader("Wording changes", anchor=False)
            st.dataframe(pd.DataFrame({
                "In release": [common.release_label(r) for r in changed["release_id"]],
                "Field": changed["field"],
                "Before": changed["old_value"], "After": changed["new_value"],
            }), hide_index=True, placeholder="—", width="stretch", key="changes_table")
