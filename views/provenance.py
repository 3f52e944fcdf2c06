"""The footer of every page: where the data came from, under what licence, read by what.

Datasette shows source, source URL and licence at the foot of every page so attribution
travels with every screenshot; this footer does the same for the release files loaded: file
name and sha256, the gov.uk URL and retrieval date when ``python -m extract fetch`` downloaded
it, the licence (Open Government Licence v3.0 for DfE's publications; the bundled sample is
this project's own invented data), and the tool version.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import export
from views import analysis_cache, common


def summary(prov: pd.DataFrame) -> str:
    """One line of plain text: how many files, their licences, the tool version."""
    licences = list(dict.fromkeys(str(x) for x in prov["licence"]))
    fetched = int(prov["source_url"].notna().sum())
    return (f"Data: {len(prov)} release file{'s' if len(prov) != 1 else ''} "
            f"({fetched} downloaded from gov.uk by this tool). Licence: "
            + "; ".join(licences) + f". {export.TOOL_VERSION}.")


def footer() -> None:
    """Render the footer (called by app.py after the page)."""
    try:
        prov = analysis_cache.provenance()
    except Exception:  # the page above already reported an unreadable database
        return
    if prov.empty:
        return
    st.divider()
    st.caption(common.esc(summary(prov)))
    with st.expander("Sources, checksums and licence", expanded=False):
        st.dataframe(prov[["source_file", "source_sha256", "source_url", "retrieved_at",
                           "licence", "extractor_version"]],
                     hide_index=True, width="stretch", key="provenance_footer",
                     column_config={
                         "source_url": st.column_config.LinkColumn("gov.uk URL"),
                         "source_sha256": st.column_config.TextColumn("sha256"),
                     }, placeholder="")
