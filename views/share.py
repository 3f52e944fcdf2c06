"""Share detail: every field, the flags and their evidence, provenance and the source page.

Selected by ``?ref=<share_key>&in=<release file or period>``: a share's key and its release
survive a rebuild of the database, its share_id does not. Old ``?share=<id>`` links still
open (the stable form wins when a link has both) and the address is rewritten to the stable
form, so the address a journalist copies is the citable link.
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


def _parse_id(text: str | None) -> int | None:
    """A share ID from an old-style link; None when absent or not a positive whole number
    that fits the database's BIGINT (a larger one would be a query error, not "no share")."""
    try:
        value = int(text) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < 2**63 else None


def _box_changed() -> None:
    """Typing an ID opens that share under its stable link (the ID is only this database's)."""
    qp = st.query_params
    for k in (KEY, RELEASE, ID):
        qp.pop(k, None)
    if st.session_state.get("share_box") is not None:
        qp.update(common.share_params(int(st.session_state["share_box"])))


def _canonical(params: dict[str, str]) -> None:
    """Put the share's stable link in the address (dropping the old ID form), so the address
    a journalist copies survives a rebuild of the database."""
    qp = st.query_params
    if ID in qp and KEY in params:
        del qp[ID]
    for k, v in params.items():
        if qp.get(k) != v:
            qp[k] = v


KEY, RELEASE, ID = common.SHARE_KEY_PARAM, common.SHARE_RELEASE_PARAM, common.SHARE_ID_PARAM
asked_key = st.query_params.get(KEY) or None
asked_release = st.query_params.get(RELEASE) or None
asked_id_text = st.query_params.get(ID) or None
# The stable form wins over an old ID when a link carries both.
if asked_key:
    share_id = common.load(data.find_share, asked_key, asked_release)
else:
    share_id = _parse_id(asked_id_text)

top = st.columns([4, 1], vertical_alignment="bottom")
with top[1]:
    st.session_state["share_box"] = share_id
    st.number_input("Share ID", min_value=1, value=None, step=1, key="share_box",
                    on_change=_box_changed, help="IDs are those of this database and change "
                    "when it is rebuilt; the page address names the share by its reference "
                    "key and release, so copy the address to cite it.")
heading = top[0].empty()

if asked_key and share_id is None:
    heading.header("Share detail", anchor=False)
    where_asked = (f" in the release {common.esc(asked_release)}" if asked_release
                   else "")
    st.warning(f"This link asks for the share {common.esc(asked_key)}{where_asked}, which is "
               "not in this database: the share or its release may have been removed, or "
               "the release not loaded. Find the share again in the explorer.")
    if st.button("Open the Shares explorer", icon=":material/table_view:"):
        common.goto(common.SHARES)
    st.stop()

if share_id is None:
    heading.header("Share detail", anchor=False)
    if asked_id_text:
        st.warning(f"{common.esc(asked_id_text)} is not a share ID.")
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
_canonical(common.share_params(int(share_id)))

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
            # A list, not a grid: the evidence is a sentence of the register and must wrap.
            lines = []
            for flag, value, evidence in zip(flags["flag"], flags["value"], flags["evidence"],
                                             strict=True):
                name = data.FLAG_LABELS.get(flag, flag)
                if value not in ("true", None, ""):
                    name += f" ({data.CATEGORY_LABELS.get(value, value)})"
                why = common.esc(evidence) if evidence else "—"
                lines.append(f"- **{common.esc(name)}**: triggered by {why}")
            st.markdown("\n".join(lines))
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
    st.dataframe(common.visible_table(pd.DataFrame({"Column": list(raw),
                                                    "Cell": [str(v) for v in raw.values()]})),
                 hide_index=True, placeholder="—", width="stretch", key="raw_table")

with tab_history:
    if not s["share_key"]:
        st.write("This share has not been matched across releases yet.")
    else:
        seen = detail["appearances"]
        # Releases of counts only (Home Office tables) list no shares: not in the total.
        registers = int((common.releases()["shares"] > 0).sum())
        st.markdown(f"Listed in **{len(seen)}** of {registers} releases of the register: "
                    f"{len(seen)} register row{'' if len(seen) == 1 else 's'}, one share.")
        st.dataframe(common.visible_table(pd.DataFrame({
            "Release": common.release_label_column(seen["release_id"]),
            "Status": seen["status"],
            "Organisation (as written)": seen["organisation"],
            "Where": [data.provenance(p, sh, r) for p, sh, r in
                      zip(seen["source_page"], seen["source_sheet"], seen["source_row"],
                          strict=True)],
        })), hide_index=True, placeholder="—", width="stretch", key="seen_table")
        changed = detail["changes"]
        if not changed.empty:
            st.subheader("Wording changes", anchor=False)
            st.dataframe(common.visible_table(pd.DataFrame({
                "In release": common.release_label_column(changed["release_id"]),
                "Field": changed["field"],
                "Before": changed["old_value"], "After": changed["new_value"],
            })), hide_index=True, placeholder="—", width="stretch", key="changes_table")
