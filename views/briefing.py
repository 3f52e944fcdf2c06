"""The "Download briefing" button: the release briefing of ``analysis/brief.py`` as a file.

Built only when clicked (on a worker thread, with its own read-only connection), so the
What changed page pays nothing for it until someone wants the file.
"""

from __future__ import annotations

import re
from functools import partial

import streamlit as st

from analysis import brief
from views import common, data

HTML = "text/html"


def briefing_html(db: str, source_file: str) -> bytes:
    with data.connection(db) as con:
        return brief.build(con, source_file).encode("utf-8")


def download_button(release_id: int | None) -> None:
    """A button that downloads the briefing on ``release_id`` (one offline HTML page)."""
    rel = common.releases()
    hit = rel[rel["release_id"] == release_id]
    if hit.empty:
        return
    source_file = str(hit["source_file"].iloc[0])
    stem = re.sub(r"[^a-z0-9]+", "-", str(hit["label"].iloc[0]).casefold()).strip("-")
    st.download_button(
        "Download briefing", partial(briefing_html, common.db_key().path, source_file),
        file_name=f"npd-briefing-{stem or 'release'}.html", mime=HTML, on_click="ignore",
        icon=":material/summarize:", key="dl_briefing",
        help="One HTML page that opens offline: what is new in this release, commercial and "
             "press recipients of identifying data, Home Office counts, and the file, page "
             "and row of every share it mentions.")
