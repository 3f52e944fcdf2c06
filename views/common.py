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
import importlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from functools import lru_cache, partial
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

FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"
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
def _run(module: str, name: str, key: DbKey, args: tuple[Any, ...]) -> Any:
    fn = getattr(importlib.import_module(module), name)
    with data.connection(key.path) as con:
        return fn(con, *args)


def load(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a data-layer query on the live database, cached per database version.

    ``fn`` is a module-level function of :mod:`views.data`, ``extract`` or ``analysis``
    (no Streamlit) taking the connection first, e.g. ``load(data.recipients, f, who)``,
    ``load(history.compared_sections, release_id, previous_id)``. The cache keys on its
    module and name, so a nested function or a lambda is refused."""
    module, name = getattr(fn, "__module__", None) or "", getattr(fn, "__name__", "")
    in_layer = module == "views.data" or module.partition(".")[0] in ("extract", "analysis")
    if not in_layer or getattr(sys.modules.get(module), name, None) is not fn:
        raise ValueError(f"{module}.{name} is not a data-layer query")
    return _run(module, name, db_key(), args)


@st.cache_data(show_spinner=False, max_entries=64)
def _page_png(path: str, mtime_ns: int, page: int, needles: tuple[str, ...]) -> bytes | None:
    return data.page_image(Path(path), page, needles)


def page_png(path: Path, page: int, needles: tuple[str, ...]) -> bytes | None:
    """The rendered PDF page, cached per file version."""
    return _page_png(str(path), path.stat().st_mtime_ns, page, needles)


# Every ASCII punctuation character: CommonMark lets any of them be backslash-escaped, and
# escaping all of them leaves no markup at all: no emphasis, links, autolinked URLs or
# e-mail addresses (``https\:\/\/``, ``a\@b\.org`` match no autolink), HTML, LaTeX, emoji or
# ``:material/…:`` shortcodes, colour directives.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
# Characters that change how text around them is shown without being seen: C0/C1 controls,
# bidi controls (a right-to-left override spoofs a name), zero-width and other format
# characters (Unicode category Cf), line/paragraph separators, private-use characters.
# Written as ranges (checked against unicodedata in tests/test_app.py) so importing costs
# nothing.
_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
    "\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ue000-\uf8ff\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\U000f0000-\U0010ffff]")
# Its ASCII members: a pure-ASCII cell (most of the register) is checked with this small
# class (visible_column).
_INVISIBLE_ASCII_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CHART_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Streamlit's markdown turns URLs, www. names and e-mail addresses into links even when
# every character is escaped (GFM "autolink literals" match the text, not the source). An
# invisible word joiner (U+2060) inside "://" and "www." and before "@" keeps them from
# matching.
_NO_AUTOLINK = re.compile(r"(?<=\\:)(?=\\/\\/)|(?i:(?<=www))(?=\\\.)|(?=\\@)")


def _shown(match: re.Match[str]) -> str:
    return f"⟨U+{ord(match.group()):04X}⟩"


def visible(text: Any) -> str:
    """Register text with every invisible or direction-changing character shown as
    ``⟨U+202E⟩`` and runs of whitespace (tabs, newlines) as one space."""
    raw = "" if text is None else str(text)
    return _INVISIBLE_RE.sub(_shown, " ".join(raw.split()))


def esc(text: Any, target: str = "markdown") -> str:
    """Text from the data made inert, the one way every page shows register text.

    ``target`` is where it goes: ``"markdown"`` (headers, captions, markdown, labels:
    every markdown-significant character backslash-escaped), ``"chart"`` (plotly labels,
    hovers, titles, which read a subset of HTML: ``< > &`` become entities) or ``"text"``
    (plain-text places such as table cells). In all three, invisible and bidi characters are
    made visible (:func:`visible`)."""
    shown = visible(text)
    if target == "markdown":
        return _NO_AUTOLINK.sub("\u2060", _MD_SPECIAL.sub(r"\\\1", shown))
    if target == "chart":
        return "".join(_CHART_SPECIAL.get(ch, ch) for ch in shown)
    if target == "text":
        return shown
    raise ValueError(f"unknown target {target!r}")


def visible_column(values: pd.Series) -> pd.Series:
    """:func:`esc` with ``target="text"`` for a whole column of a table: a regex search over
    the column's cells joined by newlines (which are not in the class) finds whether any
    cell needs it; only then are the cells that do rewritten. Pure-ASCII cells (most of the
    register) are searched with the class's small ASCII part, about five times faster."""
    if values.empty or not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return values
    text = values.astype(object)
    plain: list[str] = []
    other: list[str] = []
    for v in text:
        if isinstance(v, str):
            (plain if v.isascii() else other).append(v)
    if not (_INVISIBLE_ASCII_RE.search("\n".join(plain))
            or _INVISIBLE_RE.search("\n".join(other))):
        return values
    return text.map(lambda v: _INVISIBLE_RE.sub(_shown, v) if isinstance(v, str) else v)


def visible_table(df: pd.DataFrame) -> pd.DataFrame:
    """A table of register text ready for ``st.dataframe``: every text column through
    :func:`visible_column` (a grid shows text as text, but a bidi override would still
    reorder a cell)."""
    out = df.copy()
    for col in out.columns:
        out[col] = visible_column(out[col])
    return out


TIMING_LOG_ENV = "NPD_TIMING_LOG"


def log_run_time(page: str, started: float, drawn: bool = True) -> None:
    """Append this script run's server time to ``$NPD_TIMING_LOG`` (one JSON line), so
    ``bench/bench_dashboard.py`` can print the server's share of a browser timing. Off
    (no cost) when the variable is unset. ``drawn`` is false for a run that switched page
    before drawing (:func:`follow_pending_link`)."""
    target = os.environ.get(TIMING_LOG_ENV)
    if not target:
        return
    ms = (time.perf_counter() - started) * 1000
    line = json.dumps({"page": page or "overview", "ms": round(ms, 1), "at": time.time(),
                       "drawn": drawn})
    try:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    except OSError:
        pass  # a timing log must never break a page


def releases() -> pd.DataFrame:
    return load(data.releases)  # type: ignore[no-any-return]


def release_labels() -> list[str]:
    return [str(x) for x in releases()["label"]]


@lru_cache(maxsize=8)
def _label_map(key: DbKey) -> dict[int, str]:
    rel = _run("views.data", "releases", key, ())  # the cache entry load(data.releases) uses
    return {int(i): str(lab) for i, lab in zip(rel["release_id"], rel["label"], strict=True)}


def release_label_map() -> dict[int, str]:
    """release_id -> label of the live database, worked out once per database version
    (looking a label up through :func:`releases` unpickles the whole table: ~1 ms a row)."""
    return _label_map(db_key())


def release_id_for(label: str | None) -> int | None:
    """The release a label names; None for "All releases" or an unknown label."""
    for rid, lab in release_label_map().items():
        if lab == label:
            return rid
    return None


def release_label(release_id: Any) -> str:
    try:
        return release_label_map().get(int(release_id), "?")
    except (TypeError, ValueError):
        return "?"


def release_label_column(ids: pd.Series) -> pd.Series:
    """:func:`release_label` for a whole column (one dict lookup per row, no query)."""
    return ids.map(release_label_map()).fillna("?").astype(object)


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


# What a filter parameter shows when none of its values is known.
_ANY = {"sector": "every sector", "flag": "shares with or without flags",
        "category": "every kind of data", "section": "every section"}
_CHOICES = {"sector": data.SECTOR_LABELS, "flag": data.FLAG_LABELS,
            "category": data.CATEGORY_LABELS, "section": data.SECTION_LABELS}
DATE_RANGE = (dt.date(2000, 1, 1), dt.date.today() + dt.timedelta(days=366))


def _date_or_none(text: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if DATE_RANGE[0] <= day <= DATE_RANGE[1] else None


def unknown_filter_values() -> list[tuple[str, str, str]]:
    """``(parameter, value, what is shown instead)`` for every value in the page address
    that names no release, sector, flag, category, section or date.

    Read before the bound widgets are drawn: a bound widget drops a value it does not know
    (and takes it out of the address), which without this would happen without a word.
    Only a parameter the session has not set yet comes from the address."""
    qp = st.query_params
    out: list[tuple[str, str, str]] = []
    labels = release_labels()
    names = {"release": "the release", "sector": "the sector", "flag": "the flag",
             "category": "the sensitive data", "section": "the register section",
             "from": "the earliest approval date", "to": "the latest approval date"}
    if "release" not in st.session_state and "release" in qp:
        value = qp.get("release") or ""
        if value not in (ALL_RELEASES, *labels) and labels:
            out.append((names["release"], value,
                        f"the latest release, {labels[latest_position()]}"))
    for key, choices in _CHOICES.items():
        if key in st.session_state or key not in qp:
            continue
        values = qp.get_all(key)
        known = [v for v in values if v in choices.values()]
        instead = ("only " + ", ".join(known)) if known else _ANY[key]
        out.extend((names[key], v, instead) for v in values if v not in choices.values())
    for key, side in (("from", "no earliest"), ("to", "no latest")):
        if key not in st.session_state and key in qp and _date_or_none(qp.get(key) or "") is None:
            out.append((names[key], qp.get(key) or "",
                        f"{side} approval date (write dates as 2021-03-31)"))
    return out


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
    low, high = DATE_RANGE
    c1, c2 = st.columns(2)
    c1.date_input("Approved from", value=None, min_value=low, max_value=high, key="from",
                  bind="query-params", format="DD/MM/YYYY")
    c2.date_input("Approved to", value=None, min_value=low, max_value=high, key="to",
                  bind="query-params", format="DD/MM/YYYY",
                  help="Date approved, or date released when no approval date is given. "
                       "Shares with neither are left out when a date is set.")


def is_phone() -> bool:
    """Is the visitor on a phone? Streamlit does not tell the server the window's width, so
    this reads the browser's User-Agent: phones (and phone emulation) send "Mobi" in it,
    the test MDN recommends. Phones are the screens narrower than ~700 px."""
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except Exception:  # no request (AppTest, bare mode): not a phone
        return False
    return "Mobi" in agent


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


_PENDING = "_goto"  # (page, URL parameters) to switch to at the start of the next run


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
        st.session_state[_PENDING] = (SHARES, {})

    st.button(label, on_click=apply, type="tertiary", icon=":material/arrow_forward:",
              key=f"link-{label}")


def share_grid(table: pd.DataFrame, share_ids: pd.Series, key: str, **options: Any) -> None:
    """A table of shares (``table``, row for row with ``share_ids``) in which a click on a
    row, its box or any cell (:data:`ROW_CLICK`), opens that share.

    The switch is decided in the selection callback, which runs before the rerun: the page
    the click came from is not drawn again only to be left (one script run, not two)."""
    ids = [int(x) for x in share_ids]
    st.dataframe(table, key=key, on_select=partial(_open_selected, key, ids),
                 selection_mode=ROW_CLICK, hide_index=True, placeholder="—",
                 width="stretch", **options)


def _open_selected(key: str, share_ids: list[int]) -> None:
    row = selected_row(st.session_state.get(key))
    if row is not None and 0 <= row < len(share_ids):
        st.session_state[_PENDING] = (SHARE, share_params(share_ids[row]))


def follow_pending_link() -> None:
    """Complete a click that opens another page (:func:`show_filters_link`,
    :func:`share_grid`): switching inside a callback is a no-op, so app.py calls this at the
    start of the run, before the page is drawn."""
    pending = st.session_state.pop(_PENDING, None)
    if pending:
        goto(pending[0], **pending[1])


SECTOR_COLOURS = {
    "Commercial": "#d4351c", "Press": "#f47738", "Academic": "#1d70b8",
    "Charity / think tank": "#00703c", "Government": "#4c2c92",
    "Local authority": "#28a197", "Police": "#0b0c0c", "Unknown": "#b1b4b6",
}

SHARE_TABLE_COLUMNS = {
    "release": st.column_config.TextColumn("Release", width="medium"),
    "approved": st.column_config.DateColumn("Approved", width=100, format="D MMM YYYY",
                                            help="Date approved (the table's order within "
                                                 "a release: newest first)."),
    "reference": st.column_config.TextColumn("Reference", width="small"),
    "organisation": st.column_config.TextColumn("Organisation (as written)", width="medium"),
    "sector": st.column_config.TextColumn("Sector", width=120),
    "flags": st.column_config.TextColumn("Flags", width="medium"),
    "source": st.column_config.TextColumn("Page / row", width="small"),
    "project": st.column_config.TextColumn("Project", width="medium"),
    "data_shared": st.column_config.TextColumn("Data shared", width="large"),
}


def share_table(df: pd.DataFrame) -> pd.DataFrame:
    """The explorer's columns, with readable release and sector values (column operations:
    100,000 rows cost no Python loop), register text made visible as text."""
    out = pd.DataFrame({
        "release": release_label_column(df["release_id"]),
        "approved": pd.to_datetime(df["date_approved"]).dt.date,
        "reference": df["reference"],
        "organisation": df["organisation"],
        "sector": df["sector"].map(data.SECTOR_LABELS).fillna(df["sector"]),
        "flags": df["flags"],
        "source": df["source"],
        "project": df["project"],
        "data_shared": df["data_shared"],
    })
    return visible_table(out.reset_index(drop=True))


EXPLORER_LIMIT = 2000  # rows the explorer draws (and the warm-up fills) per view


@st.cache_data(show_spinner=False, max_entries=64)
def _explorer(key: DbKey, f: data.Filters, limit: int
              ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    df, total = _run("views.data", "search_shares", key, (f, limit))
    return df, share_table(df), total


def explorer(f: data.Filters, limit: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The explorer's rows for ``f`` (:func:`views.data.search_shares`), the table drawn
    from them (:func:`share_table`) and the number of matches, cached together per database
    version: a rerun of the page (a click, a filter put back) builds no table again."""
    return _explorer(db_key(), f, limit)  # type: ignore[no-any-return]


def unknown_value_notice(param: str, value: Any, shown_instead: str,
                         why: str = "which is not in this database") -> None:
    """Say, on the page, that a link's ``param=value`` names nothing in this database and
    what is shown instead. The address is left as it came (never rewritten silently), so
    the reader can see and correct it. ``why`` replaces "which is not in this database" for
    a value that exists but cannot be shown (the first release has nothing to compare with)."""
    st.warning(f"The link asks for {esc(param)} “{esc(value)}”, {esc(why)}. "
               f"Showing {esc(shown_instead)} instead.", icon=":material/warning:")


# A click on any cell opens the row (cell selection), as well as the box on its left.
ROW_CLICK = ("single-row", "single-cell")


def selected_row(event: Any) -> int | None:
    """The positional index of the row selected in a dataframe event, by its selection box
    or by a click on any of its cells (:data:`ROW_CLICK`); None when nothing is."""
    selection = event.get("selection") if isinstance(event, dict) else getattr(
        event, "selection", None)
    if selection is None:
        return None

    def part(name: str) -> Any:
        return selection.get(name) if isinstance(selection, dict) else getattr(
            selection, name, None)

    rows, cells = part("rows"), part("cells")
    if rows:
        return int(rows[0])
    if cells:
        first = cells[0]
        return int(first[0] if isinstance(first, list | tuple) else first["row"])
    return None


def counted(hits: data.Hits) -> str:
    """'580 register rows (169 shares)': the words every page uses. A register row is one
    row of one release; a share is counted once by its key, however many releases list
    it."""
    rows = f"{hits.rows:,} register row{'' if hits.rows == 1 else 's'}"
    return f"{rows} ({hits.shares:,} share{'' if hits.shares == 1 else 's'})"
