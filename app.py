"""NPD external data-share register: the dashboard for journalists.

    streamlit run app.py

Reads the DuckDB file named by ``$NPD_DB`` (default ``data/npd_register.duckdb``) read-only.
On a fresh clone the file does not exist yet: the first visit builds it from the bundled
sample releases in ``data/sample`` (or the folders/files in ``$NPD_SOURCES``, separated by
the OS path separator) with visible progress, then shows the dashboard.

This entrypoint owns what every page shares: the page config, the first-run build, the
sample-data banner and the global filters in the sidebar (bound to the URL here so they
survive page switches). The pages live in ``views/`` and read through ``views/data.py``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import streamlit as st

from extract.db import REPO, db_path
from views import common, provenance, warm

SAMPLE_DIR = REPO / "data" / "sample"


@st.cache_resource
def _build_lock() -> threading.Lock:
    """One first-run build per server process, however many visitors arrive at once."""
    return threading.Lock()


def _sources() -> list[Path]:
    env = os.environ.get("NPD_SOURCES")
    return [Path(p) for p in env.split(os.pathsep) if p] if env else [SAMPLE_DIR]


def ensure_database() -> None:
    """Build the database on first run, showing progress; stop with one line on failure."""
    path = db_path()
    if path.exists():
        return
    with _build_lock():
        if path.exists():  # another visitor built it while we waited
            return
        from extract.ingest import expand, ingest

        sources = _sources()
        files = expand(sources)
        if not files:
            st.error(common.esc(f"No database at {path} and no release files in "
                                f"{', '.join(map(str, sources))} to build one from.")
                     + " Run `python -m extract PATH...` first.")
            st.stop()
        with st.status(f"First run: building the database from {len(files)} release "
                       "files…", expanded=True) as status:
            bar = st.progress(0.0, text="Starting")
            position = {f: i for i, f in enumerate(files)}

            def on_file(file: Path) -> Callable[[int, int], None]:
                i = position.get(file, 0)
                _progress(bar, i / len(files), f"Reading {file.name} ({i + 1} of {len(files)})")

                def on_page(done: int, total: int) -> None:
                    share = done / total if total else 0.0
                    _progress(bar, (i + share) / len(files),
                              f"Reading {file.name} ({i + 1} of {len(files)}): "
                              f"page {done} of {total}")

                return on_page

            try:
                results = ingest(sources, path, on_file=on_file)
            except Exception as exc:  # report in one line; the app cannot run without data
                status.update(label="The database could not be built", state="error")
                st.error(common.esc(f"error: {type(exc).__name__}: {exc}"))
                st.stop()
            _progress(bar, 1.0, "Done")
            for r in results:
                if r.status == "failed":
                    st.warning(common.esc(f"error: {r.path.name}: {r.reason}"))
            ok = sum(r.status != "failed" for r in results)
            status.update(label=f"Database built from {ok} of {len(results)} files",
                          state="complete", expanded=False)
        if not path.exists():
            st.error("No release file could be read, so there is no database to show.")
            st.stop()


def _progress(bar: Any, value: float, text: str) -> None:
    """Update the progress bar; a display problem must never abort an ingest."""
    # e.g. a reader calling back from a worker thread that has no script context
    with contextlib.suppress(Exception):
        bar.progress(min(max(value, 0.0), 1.0), text=text)


_STARTED = time.perf_counter()  # this script run's start, for common.log_run_time
# A local image as the tab icon: an emoji or material icon here makes every page fetch its
# favicon from a font server, which fails offline. "auto" keeps the sidebar collapsed on a
# phone, where it would otherwise cover the page after every navigation.
st.set_page_config(page_title="NPD data shares", page_icon=str(common.FAVICON),
                   layout="wide", initial_sidebar_state="auto")
ensure_database()

try:
    # The banner shows whenever any loaded release is a bundled SAMPLE reconstruction.
    sample = bool(common.releases()["is_sample"].any())
except (duckdb.Error, OSError, RuntimeError) as exc:
    st.error(common.esc(f"The database at {db_path()} could not be read: {exc}"))
    st.stop()
warm.start()  # the pages' first views, computed in the background once per database version

pages = [
    st.Page(common.OVERVIEW, title="Overview", icon=":material/insights:", default=True),
    st.Page(common.SHARES, title="Shares explorer", icon=":material/table_view:",
            url_path="shares"),
    st.Page(common.RECIPIENTS, title="Recipients", icon=":material/apartment:",
            url_path="recipients"),
    st.Page(common.SHARE, title="Share detail", icon=":material/description:",
            url_path="share"),
    st.Page(common.CHANGES, title="What changed", icon=":material/difference:",
            url_path="changes"),
    st.Page(common.EXPORT, title="Export", icon=":material/download:", url_path="export"),
]
# Pages added by later work; each appears once its script exists.
for script, title, icon, url in (
    (common.FINDINGS, "Findings", ":material/fact_check:", "findings"),
    (common.HOME_OFFICE, "Home Office", ":material/policy:", "home-office"),
    (common.QUESTIONS, "Questions", ":material/help:", "questions"),
    (common.REVIEW, "Needs review", ":material/rule:", "review"),
    (common.HEALTH, "Release health", ":material/health_and_safety:", "health"),
):
    if (REPO / script).exists():
        pages.append(st.Page(script, title=title, icon=icon, url_path=url))
page = st.navigation(pages)
# Each page's own name in the browser tab (and in bookmarks and history).
st.set_page_config(page_title=f"{page.title} · NPD data shares")
try:  # a click that opens another page switches now, before this one is drawn
    common.follow_pending_link()
except BaseException:  # the switch ends this run by raising
    common.log_run_time(page.url_path, _STARTED, drawn=False)
    raise

if sample:
    st.warning(f"**{common.SAMPLE_BANNER}.** The shares are invented to demonstrate the tool.",
               icon=":material/science:")

# A value in the address that names nothing here is said out loud, not dropped silently.
for param, value, instead in common.unknown_filter_values():
    common.unknown_value_notice(param, value, instead)

FILTERS_NOTE = ("Filters apply to the explorer, recipients, what changed and exports, and "
                "are kept in the page address so a view can be shared.")
if common.is_phone():
    # On a phone the sidebar is an overlay that would cover the page: the filters go into
    # the page, folded away, and the sidebar (navigation only) stays collapsed.
    with st.expander("Filter shares", icon=":material/filter_list:"):
        common.sidebar_filters()
        st.caption(FILTERS_NOTE)
else:
    with st.sidebar:
        st.subheader("Filter shares")
        common.sidebar_filters()
        st.caption(FILTERS_NOTE)

try:
    page.run()
except (duckdb.Error, OSError) as exc:
    st.error(common.esc(f"The database could not be read: {exc}"))
finally:  # also after st.stop() and page switches, which end a run by raising
    common.log_run_time(page.url_path, _STARTED)

# Where the data came from and under what licence, at the foot of every page.
provenance.footer()
