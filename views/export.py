"""Export: the filtered shares and the commercial re-use statistics as CSV and XLSX.

Files are built only when a button is clicked (see ``views/downloads.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

import pandas as pd
import streamlit as st

from views import common, data, downloads


def slug(text: str) -> str:
    """A file-name-safe version of a release label."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60] or "all"


st.header("Export", anchor=False)
db = common.db_key().path
f = common.filters()
today = dt.date.today().isoformat()

st.subheader("Shares matching the filters", anchor=False)
hits = common.load(data.count_hits, f)
total = hits.rows
st.markdown(f"**{common.counted(hits)}** · {common.esc(common.describe(f))}")
st.caption("Change the filters to choose the rows. The file has every matching register row "
           "with its flags, recipient sector, share key and address in this dashboard, and "
           "where it sits in the source file (file, page or sheet, row).")
name = "npd-shares-" + slug(common.release_label(f.release_id) if f.release_id else "all")
c1, c2 = st.columns(2)
c1.download_button("Download shares (CSV)", partial(downloads.shares_csv, db, f),
                   file_name=f"{name}-{today}.csv", mime=downloads.CSV, on_click="ignore",
                   icon=":material/download:", disabled=total == 0, key="dl_shares_csv")
c2.download_button("Download shares (Excel)",
                   partial(downloads.shares_xlsx, db, f, common.describe(f)),
                   file_name=f"{name}-{today}.xlsx", mime=downloads.XLSX, on_click="ignore",
                   icon=":material/download:", disabled=total == 0, key="dl_shares_xlsx")

st.subheader("Commercial re-use statistics", anchor=False)
st.caption("Commercial recipients of identifying pupil-level data in each release, with the "
           "rows behind every count. Not affected by the filters.")
per_release = common.load(data.identifying_by_recipient)
if not per_release.empty:
    st.dataframe(pd.DataFrame({
        "Release": common.release_label_column(per_release["release_id"]),
        "All shares": per_release["shares"],
        "Identifying pupil-level": per_release["identifying_pupil_level_shares"],
        "…to companies": per_release["commercial_identifying_shares"],
        "…to the press": per_release["press_identifying_shares"],
        "…sent out of DfE": per_release["identifying_leaving_dfe_shares"],
    }), hide_index=True, width="stretch", key="reuse_preview")
c3, c4 = st.columns(2)
c3.download_button("Download rows behind the counts (CSV)", partial(downloads.reuse_csv, db),
                   file_name=f"npd-commercial-reuse-{today}.csv", mime=downloads.CSV,
                   on_click="ignore", icon=":material/download:", key="dl_reuse_csv")
c4.download_button("Download statistics and rows (Excel)", partial(downloads.reuse_xlsx, db),
                   file_name=f"npd-commercial-reuse-{today}.xlsx", mime=downloads.XLSX,
                   on_click="ignore", icon=":material/download:", key="dl_reuse_xlsx")
st.caption("Cells that Excel would treat as a formula (starting with =, +, -, @) are "
           "prefixed with an apostrophe, so the files are safe to open. Every row has an "
           "`is_sample` column (true for the bundled sample releases), and each Excel file "
           "opens on an \"About this file\" sheet: what it holds, the filters and the date.")
