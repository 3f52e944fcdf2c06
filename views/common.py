"""What every page shares: the database key and cached queries, the global filters, links.

Caching: results are cached with ``st.cache_data`` keyed by the database path *and* its
``mtime_ns`` and inode. An ingest builds a new file beside the old one and ``os.replace``-s
it, which changes both, so the next interaction after a re-ingest queries the new file while
unchanged data is served from the cache. Each query opens its own read-only connection and
closes it (DuckDB serialises queries on a shared connection, and a lingering connection
would pin the replaced file).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import pandas as pd
import streamlit as st

from analysis.export import SAMPLE_NOTICE
from extract.db import db_path
from views import data

OVERVIEW = "views/overview.py"
RECIPIENTS = "views/recipients.py"
SHARES = "views/shares.py"
SHARE = "views/share.py"
CHANGES = "views/changes.py"
EXPORT = "views/export.py"
FINDINGS = "views/findings.py"
QUESTIONS = "views/questions.py"
HOME_OFFICE = "views/home_office.py"
REVIEW = "views/review.py"
HEALTH = "views/health.py"

ALL_RELEASES = "All releases"
SAMPLE_BANNER = SAMPLE_NOTICE
# Widget keys of the global filters; each is also its URL query parameter.
FILTER_KEYS = ("q", "release", "sector", "flag", "category", "section", "from", "to")


class DbKey(NamedTuple):
    """Identifies one version of the database file (see module docstring)."""

    path: str
    mtime_ns: int
    inode: int


def db_key(path: Path | None = None) -> DbKey:
    """The cache key of the live database file (raises FileNotFoundError when absent)."""
    p = (path or db_path()).resolve()
    st_ = p.stat()
    return DbKey(str(p), st_.st_mtime_ns, st_.st_ino)


@st.cache_data(show_spinner=False, max_entries=512)
def _run(name: str, key: DbKey, args: tuple[Any, ...]) -> Any:
    fn = getattr(data, name)
    with data.connection(key.path) as con:
        return fn(con, *args)


def load(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a :mod:`views.data` query on the live database, cached per database version."""
    if getattr(data, fn.__name__, None) is not fn:
        raise ValueError(f"{fn.__name__} is not a views.data query")
    return _run(fn.__name__, db_key(), args)


@st.cache_data(show_spinner=False, max_entries=64)
def _page_png(path: str, mtime_ns: int, page: int, needles: tuple[str, ...]) -> bytes | None:
    return data.page_image(Path(path), page, needles)


def page_png(path: Path, page: int, needles: tuple[str, ...]) -> bytes | None:
    """The rendered PDF page, cached per file version."""
    return _page_png(str(path), path.stat().st_mtime_ns, page, needles)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$^=&])")


def esc(text: Any) -> str:
    """Text from the data made inert for Streamlit markdown (no links, HTML, LaTeX, emoji,
    colour directives): every markdown-significant character is backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def releases() -> pd.DataFrame:
    return load(data.releases)  # type: ignore[no-any-return]


def release_labels() -> list[str]:
    return [str(x) for x in releases()["label"]]


def release_id_for(label: str | None) -> int | None:
    """The release a label names; None for "All releases" or an unknown label."""
    rel = releases()
    hit = rel[rel["label"] == label]
    return int(hit["release_id"].iloc[0]) if len(hit) else None


def release_label(release_id: Any) -> str:
    rel = releases()
    hit = rel[rel["release_id"] == release_id]
    return str(hit["label"].iloc[0]) if len(hit) else "?"


def latest_position() -> int:
    """Position (in :func:`releases`) of the latest release that lists shares: a release of
    counts only (e.g. Home Office tables) is not "the latest register"."""
    rel = releases()
    with_shares = [i for i, n in enumerate(rel["shares"]) if n > 0]
    return with_shares[-1] if with_shares else max(len(rel) - 1, 0)


def filters() -> data.Filters:
    """The global filters as the sidebar widgets (rendered by app.py) currently set them."""
    ss = st.session_state
    return data.Filters(
        text=str(ss.get("q") or ""),
        release_id=release_id_for(ss.get("release")),
        sectors=tuple(ss.get("sector") or ()),
        flags=tuple(ss.get("flag") or ()),
        categories=tuple(ss.get("category") or ()),
        sections=tuple(ss.get("section") or ()),
        date_from=ss.get("from"),
        date_to=ss.get("to"),
    )


def sidebar_filters() -> None:
    """The global filters, bound to the URL so any view can be shared as a link.

    Rendered by app.py on every page: a bound widget in the entrypoint keeps its URL
    parameter across page switches.
    """
    labels = release_labels()
    st.text_input("Search", key="q", bind="query-params",
                  placeholder="organisation, project, purpose, data…",
                  help="Every word must appear in the organisation, project, purpose, data "
                       'shared or reference. Use "quotes" for a phrase.')
    st.selectbox("Release", [ALL_RELEASES, *labels], index=latest_position() + 1, key="release",
                 bind="query-params",
                 help="Each release repeats every share still live, so one release at a time "
                      "avoids counting a share twice.")
    st.multiselect("Recipient sector", list(data.SECTOR_LABELS), key="sector",
                   format_func=data.SECTOR_LABELS.__getitem__, bind="query-params")
    st.multiselect("Flags (all must apply)", list(data.FLAG_LABELS), key="flag",
                   format_func=data.FLAG_LABELS.__getitem__, bind="query-params",
                   help=" ".join(f"{data.FLAG_LABELS[k]}: {v}" for k, v in data.FLAG_HELP.items()))
    st.multiselect("Sensitive data (any of)", list(data.CATEGORY_LABELS), key="category",
                   format_func=data.CATEGORY_LABELS.__getitem__, bind="query-params")
    st.multiselect("Register section", list(data.SECTION_LABELS), key="section",
                   format_func=data.SECTION_LABELS.__getitem__, bind="query-params")
    low, high = dt.date(2000, 1, 1), dt.date.today() + dt.timedelta(days=366)
    c1, c2 = st.columns(2)
    c1.date_input("Approved from", value=None, min_value=low, max_value=high, key="from",
                  bind="query-params", format="DD/MM/YYYY")
    c2.date_input("Approved to", value=None, min_value=low, max_value=high, key="to",
                  bind="query-params", format="DD/MM/YYYY",
                  help="Date approved, or date released when no approval date is given. "
                       "Shares with neither are left out when a date is set.")


def describe(f: data.Filters, *, with_release: bool = True) -> str:
    """The active filters in words (plain text, for captions)."""
    parts = []
    if with_release:
        parts.append(release_label(f.release_id) if f.release_id is not None
                     else "all releases")
    if f.text:
        parts.append(f"matching “{f.text}”")
    if f.sectors:
        parts.append("sector " + " or ".join(data.SECTOR_LABELS[s] for s in f.sectors))
    if f.flags:
        parts.append("flagged " + " and ".join(data.FLAG_LABELS[x] for x in f.flags))
    if f.categories:
        parts.append("with " + " or ".join(data.CATEGORY_LABELS[c] for c in f.categories))
    if f.sections:
        parts.append("in " + " or ".join(data.SECTION_LABELS[s] for s in f.sections))
    if with_release and f.date_from:
        parts.append(f"approved from {f.date_from:%d %b %Y}")
    if with_release and f.date_to:
        parts.append(f"approved to {f.date_to:%d %b %Y}")
    return ", ".join(parts)


def goto(page: str, **params: str) -> NoReturn:
    """Switch page with page-specific URL parameters; bound filters stay in the URL.

    Always passes a dict: ``query_params=None`` would try to clear the bound filter params,
    which Streamlit refuses.
    """
    st.switch_page(page, query_params=params)


# The share page's URL parameters. The stable form names the share by its key and its
# release's file name, which survive a rebuild; ``share`` (the database's share_id) is still
# accepted from old links. Neither clashes with FILTER_KEYS.
SHARE_KEY_PARAM, SHARE_RELEASE_PARAM, SHARE_ID_PARAM = "ref", "in", "share"


def share_params(share_id: int) -> dict[str, str]:
    """The URL parameters that open a share: the stable form when the share has a key, else
    its ID (a database without derived history)."""
    ref = load(data.share_ref, int(share_id))
    if ref is None:
        return {SHARE_ID_PARAM: str(int(share_id))}
    return {SHARE_KEY_PARAM: ref[0], SHARE_RELEASE_PARAM: ref[1]}


def open_share(share_id: int) -> NoReturn:
    goto(SHARE, **share_params(share_id))


def show_filters_link(label: str, **state: Any) -> None:
    """A link-styled button that sets the global filters and opens the Shares explorer.

    Bound filters cannot be changed through the URL of an in-app link once the session has
    them, so the button sets them in session state (which updates the URL) and switches.
    """
    def apply() -> None:
        for k in FILTER_KEYS:
            st.session_state[k] = state.get(k, [] if k in ("sector", "flag", "category",
                                                               "section") else None)
        if state.get("q") is None:
            st.session_state["q"] = ""
        st.session_state["_goto"] = SHARES

    st.button(label, on_click=apply, type="tertiary", icon=":material/arrow_forward:",
              key=f"link-{label}")


def follow_pending_link() -> None:
    """Complete a :func:`show_filters_link` click (switching inside a callback is a no-op)."""
    target = st.session_state.pop("_goto", None)
    if target:
        goto(target)


SECTOR_COLOURS = {
    "Commercial": "#d4351c", "Press": "#f47738", "Academic": "#1d70b8",
    "Charity / think tank": "#00703c", "Government": "#4c2c92",
    "Local authority": "#28a197", "Police": "#0b0c0c", "Unknown": "#b1b4b6",
}

SHARE_TABLE_COLUMNS = {
    "release": st.column_config.TextColumn("Release", width="small"),
    "reference": st.column_config.TextColumn("Reference", width="small"),
    "organisation": st.column_config.TextColumn("Organisation (as written)", width="medium"),
    "sector": st.column_config.TextColumn("Sector", width="small"),
    "project": st.column_config.TextColumn("Project", width="medium"),
    "data_shared": st.column_config.TextColumn("Data shared", width="large"),
    "flags": st.column_config.TextColumn("Flags", width="medium"),
    "source": st.column_config.TextColumn("Page / row", width="small"),
}


def share_table(df: pd.DataFrame) -> pd.DataFrame:
    """The explorer's columns, with readable release and sector values."""
    out = pd.DataFrame({
        "release": [release_label(r) for r in df["release_id"]],
        "reference": df["reference"],
        "organisation": df["organisation"],
        "sector": [data.SECTOR_LABELS.get(s, s) for s in df["sector"]],
        "project": df["project"],
        "data_shared": df["data_shared"],
        "flags": df["flags"],
        "source": df["source"],
    })
    return out.reset_index(drop=True)


def selected_row(event: Any) -> int | None:
    """The positional index of the single selected row of a dataframe event, if any."""
    selection = event.get("selection") if isinstance(event, dict) else getattr(
        event, "selection", None)
    rows = selection.get("rows") if isinstance(selection, dict) else getattr(
        selection, "rows", None)
    return int(rows[0]) if rows else None
