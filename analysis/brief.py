"""A release briefing: one self-contained HTML page a journalist can open offline and forward.

``python -m analysis brief [--release LABEL] --out brief.html`` (and the button on What
changed). The page holds what is new in the release against the one before it, the
commercial and press recipients of identifying pupil-level data, the Home Office counts,
and for every share it mentions the reference, the file, page (or sheet) and row, and its
dashboard address. Charts are plotly with the plotly.js library embedded inline, so the page
makes no network request at all (a test opens it in Chromium with every request refused).

All register text is HTML-escaped; charts carry only constant labels (sectors, months), so no
register text reaches plotly's label markup.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from analysis import export

SECTOR_WORDS = {"commercial": "Commercial", "press": "Press", "academic": "Academic",
                "charity": "Charity / think tank", "government": "Government",
                "local_authority": "Local authority", "police": "Police", "unknown": "Unknown"}
CSS = """
body{font-family:system-ui,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#0b0c0c;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #1d70b8;padding-bottom:.2em;
margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #b1b4b6;padding:.3em .45em;text-align:left;vertical-align:top;
overflow-wrap:anywhere}td.addr{font-size:.85em;word-break:break-all;min-width:9em}
th{background:#f3f2f1}.sample{background:#fff7bf;border:3px solid #d4351c;padding:.7em 1em;
font-weight:bold}.num{text-align:right}.muted{color:#505a5f;font-size:.9em}
.metrics{display:flex;gap:1em;flex-wrap:wrap}.metric{border:1px solid #b1b4b6;padding:.5em 1em}
.metric b{display:block;font-size:1.6em}
"""


class BriefError(ValueError):
    """No briefing can be built (e.g. no such release); one line for the user."""


def esc(value: Any) -> str:
    """Register text as inert HTML; blanks as an empty cell (never a placeholder)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if value is pd.NaT or (not isinstance(value, list | tuple | dict) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date | pd.Timestamp):
        return html.escape(f"{value:%Y-%m-%d}")
    return html.escape(str(value), quote=True)


def where(page: Any, sheet: Any, row: Any) -> str:
    parts = []
    if pd.notna(page):
        parts.append(f"page {int(page)}")
    elif isinstance(sheet, str) and sheet:
        parts.append(f"sheet '{sheet}'")
    if pd.notna(row):
        parts.append(f"row {int(row)}")
    return ", ".join(parts)


_CLASS = {"link": "addr"}  # cells styled apart: dashboard addresses wrap anywhere


def table(df: pd.DataFrame, columns: dict[str, str], numeric: tuple[str, ...] = ()) -> str:
    """An HTML table of ``df``'s ``columns`` (name -> heading), every cell escaped."""
    if df.empty:
        return "<p class='muted'>None.</p>"
    head = "".join(f"<th>{esc(h)}</th>" for h in columns.values())
    body = "".join(
        "<tr>" + "".join(f"<td class='{_CLASS.get(c, 'num')}'>{esc(r[c])}</td>"
                         if c in numeric or c in _CLASS else f"<td>{esc(r[c])}</td>"
                         for c in columns) + "</tr>"
        for r in df.to_dict("records"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --- reading ---------------------------------------------------------------------------------

def pick_release(con: duckdb.DuckDBPyConnection, label: str | None) -> dict[str, Any]:
    """The release named by period label or file name; default the latest listing shares."""
    rel = con.execute("""
        SELECT r.release_id, r.source_file, r.period_label, r.release_order, r.is_sample,
               r.title, count(s.share_id) AS shares
        FROM releases r LEFT JOIN shares s ON s.release_id = r.release_id
        GROUP BY ALL ORDER BY r.release_order NULLS LAST, r.source_file""").df()
    if rel.empty:
        raise BriefError("the database holds no releases")
    if label is None:
        with_shares = rel[rel["shares"] > 0]
        pick = (with_shares if len(with_shares) else rel).iloc[-1]
    else:
        hit = rel[(rel["source_file"] == label) | (rel["period_label"] == label)]
        if hit.empty:
            raise BriefError(f"no release {label!r}; one of "
                             + ", ".join(str(x) for x in rel["period_label"].fillna(
                                 rel["source_file"])))
        pick = hit.iloc[0]
    return {k: (None if isinstance(v, float) and pd.isna(v) else v)
            for k, v in pick.to_dict().items()}


SHARE_COLS = """
    d.share_id, d.reference, d.organisation, d.organisation_as_written, d.sector, d.project,
    d.data_shared, d.classification, d.identifying_pupil_level, d.leaves_dfe,
    d.date_approved, d.release_file, d.source_page, d.source_sheet, d.source_row,
    (SELECT x.share_key FROM shares x WHERE x.share_id = d.share_id) AS share_key"""


def _changes(con: duckdb.DuckDBPyConnection, release_id: int) -> dict[str, pd.DataFrame]:
    # a removed share is shown as the previous release listed it
    added, removed = (con.execute(f"""
        SELECT {SHARE_COLS} FROM share_changes c JOIN v_share_details d
            ON d.share_id = coalesce(c.share_id, c.previous_share_id)
        WHERE c.release_id = ? AND c.change = ?
        ORDER BY d.sector, d.organisation, d.reference""",  # noqa: S608 - constant columns
                                      [release_id, kind]).df() for kind in ("added", "removed"))
    changed = con.execute("""
        SELECT c.share_key, s.reference, s.organisation, c.field, c.old_value, c.new_value,
               s.source_file AS release_file, s.source_page, s.source_sheet, s.source_row
        FROM share_changes c JOIN shares s ON s.share_id = c.share_id
        WHERE c.release_id = ? AND c.change = 'changed'
        ORDER BY s.reference NULLS LAST, s.organisation, c.field""", [release_id]).df()
    previous = con.execute("""
        SELECT p.period_label, p.source_file FROM share_changes c
        JOIN releases p ON p.release_id = c.previous_release_id
        WHERE c.release_id = ? GROUP BY ALL ORDER BY count(*) DESC LIMIT 1""",
                           [release_id]).fetchone()
    return {"added": added, "removed": removed, "changed": changed,
            "previous": pd.DataFrame([previous], columns=["period_label", "source_file"])
            if previous else pd.DataFrame()}


def _recipients(con: duckdb.DuckDBPyConnection, release_id: int) -> pd.DataFrame:
    return con.execute(f"""
        SELECT {SHARE_COLS} FROM v_share_details d
        WHERE d.release_id = ? AND d.identifying_pupil_level
          AND d.sector IN ('commercial', 'press')
        ORDER BY d.sector, d.organisation, d.reference""",  # noqa: S608 - constant columns
                       [release_id]).df()


def _by_sector(con: duckdb.DuckDBPyConnection, release_id: int) -> pd.DataFrame:
    return con.execute("""
        SELECT sector, count(*) AS shares,
               count(*) FILTER (WHERE identifying_pupil_level) AS identifying
        FROM v_share_details WHERE release_id = ? GROUP BY sector ORDER BY shares DESC""",
                       [release_id]).df()


def _home_office(con: duckdb.DuckDBPyConnection, release_id: int) -> pd.DataFrame:
    return con.execute("""
        SELECT period_start AS month,
               max(value) FILTER (WHERE measure ILIKE '%request%') AS requested,
               max(value) FILTER (WHERE measure ILIKE '%match%') AS matched,
               any_value(source_page) AS source_page, any_value(source_sheet) AS source_sheet,
               min(source_row) AS source_row
        FROM count_rows WHERE release_id = ? AND section = 'home_office'
          AND period_start IS NOT NULL
        GROUP BY period_start ORDER BY period_start""", [release_id]).df()


# --- writing ---------------------------------------------------------------------------------

def _cite(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``where`` (file, page or sheet, row) and ``link`` (the dashboard address)."""
    out = df.copy()
    out["where"] = [f"{f}, {where(p, s, r)}" for f, p, s, r in
                    zip(out["release_file"], out["source_page"], out["source_sheet"],
                        out["source_row"], strict=True)] if len(out) else []
    out["link"] = [export.share_path(k, f) for k, f in
                   zip(out["share_key"], out["release_file"], strict=True)] if len(out) else []
    if "sector" in out:
        out["sector"] = [SECTOR_WORDS.get(s, s) for s in out["sector"]]
    return out


SHARE_TABLE = {"reference": "Reference", "organisation": "Recipient",
               "organisation_as_written": "As written", "sector": "Sector",
               "project": "Project", "data_shared": "Data shared",
               "identifying_pupil_level": "Identifying pupil-level", "where": "File, page, row",
               "link": "Dashboard address"}


def _chart(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(height=320, margin={"t": 30, "b": 40, "l": 50, "r": 10},
                      template="plotly_white")
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def sector_chart(by_sector: pd.DataFrame) -> str:
    labels = [SECTOR_WORDS.get(s, "Other") for s in by_sector["sector"]]
    fig = go.Figure([go.Bar(name="All shares", x=labels, y=by_sector["shares"]),
                     go.Bar(name="Identifying pupil-level", x=labels,
                            y=by_sector["identifying"])])
    fig.update_layout(barmode="group", title_text="Shares listed, by recipient sector")
    return _chart(fig, "chart-sectors")


def home_office_chart(ho: pd.DataFrame) -> str:
    months = [f"{pd.Timestamp(m):%Y-%m}" for m in ho["month"]]
    fig = go.Figure([go.Scatter(name="Individuals requested", x=months, y=ho["requested"],
                                mode="lines"),
                     go.Scatter(name="Individuals matched", x=months, y=ho["matched"],
                                mode="lines")])
    fig.update_layout(title_text="Home Office requests per month")
    return _chart(fig, "chart-home-office")


def _provenance(con: duckdb.DuckDBPyConnection, release: dict[str, Any]) -> str:
    lines = export.provenance_lines(export.release_provenance(con), [release["source_file"]])
    items = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in lines)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<ul class='muted'>{items}<li><b>Generated</b>: {esc(now)}</li></ul>"


def build(con: duckdb.DuckDBPyConnection, label: str | None = None) -> str:
    """The briefing on one release as a complete HTML document (a string)."""
    release = pick_release(con, label)
    rid = int(release["release_id"])
    name = release["period_label"] or release["source_file"]
    ch = _changes(con, rid)
    recipients = _cite(_recipients(con, rid))
    by_sector = _by_sector(con, rid)
    ho = _home_office(con, rid)
    prev = (f"{ch['previous']['period_label'].iloc[0] or ch['previous']['source_file'].iloc[0]}"
            if len(ch["previous"]) else None)
    n_changed = ch["changed"]["share_key"].nunique() if len(ch["changed"]) else 0
    parts = [f"<h1>Release briefing: {esc(name)}</h1>",
             f"<p class='muted'>{esc(release['source_file'])} · {esc(release['title'])}</p>"]
    if release["is_sample"]:
        parts.append(f"<p class='sample'>{esc(export.SAMPLE_NOTICE)}. The shares in this "
                     "release are invented to demonstrate the tool. Nothing here describes a "
                     "real data share.</p>")
    ident = int(by_sector["identifying"].sum()) if len(by_sector) else 0
    total = int(by_sector["shares"].sum()) if len(by_sector) else 0
    metric = "<div class='metric'><b>{}</b>{}</div>"
    parts.append("<div class='metrics'>" + "".join(metric.format(esc(v), esc(t)) for v, t in [
        (f"{total:,}", "shares listed"), (f"{ident:,}", "identifying pupil-level"),
        (f"{len(ch['added']):,}", "added"), (f"{len(ch['removed']):,}", "removed"),
        (f"{n_changed:,}", "changed wording")]) + "</div>")
    parts.append("<h2>What is new</h2>")
    if prev is None:
        parts.append("<p>No earlier release of the register is loaded to compare with.</p>")
    else:
        parts.append(f"<p>Compared with {esc(prev)}: {len(ch['added']):,} shares added, "
                     f"{len(ch['removed']):,} removed and {n_changed:,} with changed wording."
                     "</p>")
        parts += ["<h3>Added</h3>", table(_cite(ch["added"]), SHARE_TABLE),
                  "<h3>Removed (as the previous release listed them)</h3>",
                  table(_cite(ch["removed"]), SHARE_TABLE),
                  "<h3>Changed wording</h3>",
                  table(_cite_changes(ch["changed"]),
                        {"reference": "Reference", "organisation": "Recipient",
                         "field": "Field", "old_value": f"In {prev}", "new_value": f"In {name}",
                         "where": "File, page, row", "link": "Dashboard address"})]
    parts += ["<h2>Commercial and press recipients of identifying pupil-level data</h2>",
              "<p class='muted'>Shares in this release to companies or the press whose data "
              "identifies children (DfE identifiability 1-2 items, an old Tier 1, 2 or 4, or "
              "'personal level data'), with the reason in the dashboard.</p>",
              table(recipients, SHARE_TABLE)]
    parts += ["<h2>Shares by recipient sector</h2>", sector_chart(by_sector)
              if len(by_sector) else "<p class='muted'>None.</p>"]
    parts.append("<h2>Home Office counts</h2>")
    if ho.empty:
        parts.append("<p class='muted'>This release has no Home Office table.</p>")
    else:
        ho_t = ho.copy()
        ho_t["month"] = [f"{pd.Timestamp(m):%B %Y}" for m in ho_t["month"]]
        ho_t["where"] = [where(p, s, r) for p, s, r in
                         zip(ho_t["source_page"], ho_t["source_sheet"], ho_t["source_row"],
                             strict=True)]
        parts += [f"<p>{len(ho):,} months; individuals requested "
                  f"{esc(f'{ho.requested.min():,.0f}')} to {esc(f'{ho.requested.max():,.0f}')} "
                  f"a month (total {esc(f'{ho.requested.sum():,.0f}')}), matched "
                  f"{esc(f'{ho.matched.min():,.0f}')} to {esc(f'{ho.matched.max():,.0f}')} "
                  f"(total {esc(f'{ho.matched.sum():,.0f}')}).</p>",
                  home_office_chart(ho),
                  table(ho_t, {"month": "Month", "requested": "Requested",
                               "matched": "Matched", "where": "Page or sheet, row"},
                        numeric=("requested", "matched"))]
    parts += ["<h2>Provenance</h2>", _provenance(con, release)]
    return page(f"Release briefing: {name}", "\n".join(parts))


def _cite_changes(df: pd.DataFrame) -> pd.DataFrame:
    return _cite(df) if len(df) else df.assign(where=[], link=[])


def page(title: str, body: str) -> str:
    """The HTML document: plotly.js inline, a content security policy that forbids any
    request to the network (so the page cannot leak that it was opened)."""
    csp = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
           "style-src 'unsafe-inline'; img-src data:; font-src data:")
    js = plotly.offline.get_plotlyjs().replace("</script", "<\\/script")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{csp}\">"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{CSS}</style>"
            f"<script>{js}</script></head><body>\n{body}\n</body></html>\n")
