"""Fill the caches behind each page's first view as soon as the server sees a database.

A page's first visit after the server starts (or after an ingest replaces the file) runs
its queries; on 100,000 shares that is 0.6-2 s for the Findings, What changed and the
Overview. :func:`start` runs those same calls once per database version in a background
thread, so the first reader of a page finds them done. The calls are the pages' own, with
the arguments their default view passes (the latest release, no other filter);
``tests/test_warm.py`` opens every page after :func:`fill` and checks that none of them
runs a query, so a page whose default view changes cannot drift from this list unseen.
"""

from __future__ import annotations

import atexit
import gc
import threading
import time

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from analysis import home_office, queries
from analysis.review import low_confidence_ids
from extract import history
from views import analysis_cache, common, data, trend_charts


def fill() -> None:
    """Run the default views' queries on the live database (each result lands in the cache
    the page reads: :func:`views.common.load` and friends)."""
    rel = common.releases()
    common.release_label_map()
    analysis_cache.provenance()  # the footer of every page
    if rel.empty:
        return
    latest = int(rel["release_id"].iloc[common.latest_position()])
    f = data.Filters(release_id=latest)  # the sidebar's default: the latest release
    common.load(data.overview, latest)
    trend_charts.charts(latest)
    common.explorer(f, common.EXPLORER_LIMIT)
    common.load(data.count_hits, f)
    common.load(data.organisation_names)
    common.load(data.recipients, f, "")
    common.load(low_confidence_ids)
    common.load(data.identifying_by_recipient)
    analysis_cache.figures(None)
    listing = [int(x) for x in rel.loc[rel["shares"] > 0, "release_id"]]
    if len(listing) >= 2:  # What changed: the latest release against the one before
        common.load(data.changes, listing[-1], f)
        common.load(history.compared_sections, listing[-1], listing[-2])
    questions = queries.load_questions()
    if questions:  # the Questions page opens on the first one, with its default values
        first = next(iter(questions.values()))
        analysis_cache.run_question(first.sql, queries.bind(
            first, {p.name: p.default for p in first.params}))
    counted = common.load(home_office.releases_with_counts)
    if not counted.empty:  # the Home Office page: the latest release with counts
        last = int(counted["release_id"].iloc[-1])
        common.load(home_office.counts, last)
        before = common.load(home_office.previous_with_counts, last)
        if before is not None:
            common.load(home_office.revisions, last, before)


WARM_UP = "(warm-up)"  # its line in $NPD_TIMING_LOG (bench/bench_dashboard.py waits for it)


def _fill_quietly() -> None:
    started = time.perf_counter()
    try:
        fill()
    except Exception:  # optional work: a page that needs it reports the error itself
        return
    finally:
        # Everything alive now (Streamlit, pandas, plotly, the caches) is long-lived: out of
        # the cyclic collector's sight, a full collection no longer walks it. Streamlit's own
        # collection after every run is off (.streamlit/config.toml), and Python's own full
        # collections, which then struck inside page runs, took ~200 ms on this heap.
        # Objects freed by reference counting are freed as before.
        gc.freeze()
        common.log_run_time(WARM_UP, started, drawn=False)


# At exit the frozen objects are handed back, so the last collection frees them (DuckDB's
# bindings report any of theirs still alive as a leak).
atexit.register(gc.unfreeze)


@st.cache_resource(show_spinner=False, max_entries=4)
def _started(key: common.DbKey) -> threading.Thread:
    thread = threading.Thread(target=_fill_quietly, name="npd-warm-caches", daemon=True)
    # The caches are Streamlit's: the thread runs with this run's context, as a page would.
    add_script_run_ctx(thread, get_script_run_ctx())
    thread.start()
    return thread


def start() -> None:
    """Start :func:`fill` in the background, once per database version (app.py, each run)."""
    _started(common.db_key())
