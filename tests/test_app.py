"""The dashboard, driven by Streamlit's AppTest against realistic databases.

Two databases: the one ``tests/fixtures/dashboard_db.py`` builds (five releases whose ground
truth is ``SHARES``), and — when the bundled sample releases and every pipeline stage are
present — the real ingest of ``data/sample``. Expected values come from the fixture's spec
or from SQL/pandas written here, never from the dashboard's own query module.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from extract.db import writable
from extract.history import FIELD_LABELS
from tests.fixtures import dashboard_db as fx
from views import common, data

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
LATEST = len(fx.RELEASES)


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> fx.Built:
    root = tmp_path_factory.mktemp("dash")
    return fx.build(root / "register.duckdb", root / "releases", sample=True)


@pytest.fixture(scope="session")
def plain_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same register without the SAMPLE marking (published releases)."""
    root = tmp_path_factory.mktemp("plain")
    return fx.build(root / "register.duckdb", root / "releases", sample=False).path


def _pipeline_present() -> bool:
    """Readers, history and analysis all exist (the real ingest can run)."""
    modules = ("analysis.pipeline", "extract.history", "extract.pdf", "extract.sheets")
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample releases through the real CLI ingest."""
    files = [p for p in (REPO / "data" / "sample").glob("*")
             if p.suffix.lower() in {".pdf", ".ods", ".xlsx", ".csv"}]
    if not files or not _pipeline_present():
        pytest.skip("data/sample or a pipeline stage (readers, history, analysis) not present")
    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    proc = subprocess.run([sys.executable, "-m", "extract", "data/sample", "--db", str(db),
                           "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return db


# An unmapped column header that would be a live link and a tracking image as markdown.
EVIL_HEADER = "[Click](https://evil.example/phish) ![t](https://evil.example/track.png)"
CSV_HEADER = ["Reference", "Organisation", "Project title", "Purpose", "Data shared",
              "Date approved"]
CSV_SHARES = {  # reference -> row, as the September 2021 release lists them
    "DS00001": ["DS00001", "University of Bristol", "Attainment gaps after the pandemic",
                "Research into attainment gaps", "KS2 results; FSM eligibility", "01/02/2021"],
    "DS00002": ["DS00002", "FFT Education Ltd", "Aspire target setting",
                "Target setting for schools", "UPN; pupil name; KS4 results", "01/03/2021"],
}


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


@pytest.fixture(scope="session")
def csv_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three CSV releases through the real ingest: shares (September 2021), Home Office
    counts only (March 2022), then shares again (September 2022) with a column the register
    has no field for, whose header is markdown."""
    if not _pipeline_present():
        pytest.skip("readers, history or analysis not present yet")
    from extract.ingest import ingest

    root = tmp_path_factory.mktemp("csv")
    src = root / "releases"
    src.mkdir()
    title = "DfE external data shares: approved by DSAP from May 2018 to end of {}"
    _write_csv(src / "dfe-external-data-shares-september-2021.csv",
               [[title.format("September 2021")], CSV_HEADER, *CSV_SHARES.values()])
    _write_csv(src / "dfe-external-data-shares-march-2022.csv",
               [["Home Office: number of requests for pupil data, to end of March 2022"],
                ["Month", "Number of individuals requested"],
                ["January 2022", "80"], ["February 2022", "75"]])
    _write_csv(src / "dfe-external-data-shares-september-2022.csv", [
        [title.format("September 2022")], [*CSV_HEADER, EVIL_HEADER],
        [*CSV_SHARES["DS00001"], "see ![x](https://evil.example/x.png)"],
        ["DS00003", "BBC", "School results story", "Journalism", "School-level results",
         "01/06/2022", "none"]])
    db = root / "register.duckdb"
    results = ingest([src], db)
    assert [r.status for r in results] == ["ingested"] * 3, [r.reason for r in results]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT period_label, count(s.share_id) FROM releases r "
                           "LEFT JOIN shares s USING (release_id) GROUP BY ALL "
                           "ORDER BY min(r.release_order)").fetchall() == [
            ("September 2021", 2), ("March 2022", 0), ("September 2022", 2)]
    return db


@pytest.fixture(params=["fixture", "sample"])
def any_db(request: pytest.FixtureRequest) -> Path:
    """Tests that hold for any register run on both databases."""
    if request.param == "fixture":
        return request.getfixturevalue("built").path  # type: ignore[no-any-return]
    return request.getfixturevalue("sample_db")  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    # Streamlit caches are process-global and outlive AppTest instances.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


# --- helpers ----------------------------------------------------------------------------------

def run(db: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None,
        filters: dict[str, Any] | None = None, **page_params: Any) -> AppTest:
    """Open the app as a visitor following a link: global filter params on the first load,
    then (optionally) a page with its own params."""
    monkeypatch.setenv("NPD_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=30)
    for k, v in (filters or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page)
        for k, v in page_params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, at.exception
    return at


def qp(at: AppTest, key: str) -> list[str]:
    """A URL parameter's values (AppTest gives a str for one value, a list for several)."""
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def unescape(md: str) -> str:
    """Markdown as shown: escapes removed, and the invisible word joiners ``esc`` puts in
    URLs and e-mail addresses (so they are not linked) dropped."""
    return re.sub(r"\\(.)", r"\1", md).replace("\u2060", "")


def texts(at: AppTest) -> str:
    """All markdown/caption/header text on the page, markdown escapes removed."""
    parts = [e.value for kind in ("markdown", "caption", "header", "subheader", "title", "info",
                                  "warning", "error") for e in getattr(at, kind)]
    return unescape("\n".join(str(p) for p in parts))


def live_markup(md: str) -> list[str]:
    """Link, image or HTML syntax left live in markdown (escaped characters dropped)."""
    bare = re.sub(r"\\.", "", md)
    return re.findall(r"\]\(|!\[|<[a-z/]", bare)


def all_markdown(at: AppTest) -> list[str]:
    """Every markdown source on the page: text elements, image captions, widget labels and
    help texts (all rendered as markdown by Streamlit)."""
    parts = [str(e.value) for kind in ("markdown", "caption", "header", "subheader", "title",
                                       "info", "warning", "error") for e in getattr(at, kind)]
    for img in elements(at.main, "image"):
        parts += [i.caption for i in img.proto.imgs]
    for kind in ("button", "selectbox", "text_input", "number_input", "multiselect",
                 "metric"):
        for w in getattr(at, kind):
            parts += [str(getattr(w, "label", "")), str(getattr(w, "help", "") or "")]
    return parts


def plotly_values(v: Any) -> list[Any]:
    """A plotly trace's values from its JSON: a list, or numbers packed as base64 bytes."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def elements(node: Any, kind: str) -> list[Any]:
    """Every element of a given proto type below ``node`` (e.g. 'image')."""
    out = []
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", None) == kind:
            out.append(child)
        out.extend(elements(child, kind))
    return out


def latest_id(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT release_id FROM releases "
                               "ORDER BY release_order DESC LIMIT 1").fetchone()[0])


def latest_shares(db: Path) -> pd.DataFrame:
    """Every share of the latest release with its flags as a set (pandas, not views.data)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rid = latest_id(db)
        shares = con.execute("SELECT * FROM shares WHERE release_id = ?", [rid]).df()
        flags = con.execute("SELECT share_id, flag, value FROM share_flags").df()
    shares["flagset"] = [set(flags.loc[flags["share_id"] == i, "flag"])
                         for i in shares["share_id"]]
    return shares


def spec_latest() -> list[fx.Share]:
    return fx.shares_in(LATEST)


def spec_flags(s: fx.Share) -> set[str]:
    return {f for f, _, _ in s.flags}


# --- overview ---------------------------------------------------------------------------------

def test_headline_figures_equal_sql_counts(any_db: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    at = run(any_db, monkeypatch)
    shares = latest_shares(any_db)
    total = len(shares)
    commercial = int((shares["sector"] == "commercial").sum())
    press = int((shares["sector"] == "press").sum())
    ident = sum({"identifying", "pupil_level"} <= f for f in shares["flagset"])
    assert total > 0
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Shares"] == f"{total:,}"
    assert metrics["To companies"] == f"{100 * commercial / total:.0f}%"
    assert metrics["To the press"] == f"{100 * press / total:.0f}%"
    assert metrics["Identifying"] == f"{100 * ident / total:.0f}%"
    labels = [b.label for b in at.button]
    assert f"See all {total:,} shares" in labels
    assert any(re.fullmatch(rf"{commercial:,} commercial shares?", x) for x in labels)
    assert any(re.fullmatch(rf"{ident:,} identifying shares?", x) for x in labels)


def test_headline_matches_fixture_ground_truth(built: fx.Built,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch)
    latest = spec_latest()
    commercial = [s for s in latest if fx.ORGS[s.org].sector == "commercial"]
    ident = [s for s in latest if {"identifying", "pupil_level"} <= spec_flags(s)]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Shares"] == str(len(latest))
    assert metrics["To companies"] == f"{100 * len(commercial) / len(latest):.0f}%"
    assert metrics["Identifying"] == f"{100 * len(ident) / len(latest):.0f}%"
    # The trend chart has one bar group per release, oldest first.
    chart = elements(at.main, "plotly_chart")
    assert len(chart) == 2
    # The line is, per release, the % of the shares it lists that identify children: the
    # title says so (not "% of releases").
    title = "Share of listed shares that identify individual children, by release"
    assert title in [h.value for h in at.subheader]
    want = {r.period_label: 100 * sum({"identifying", "pupil_level"} <= spec_flags(s)
                                      for s in fx.shares_in(n)) / len(fx.shares_in(n))
            for n, r in enumerate(fx.RELEASES, start=1)}
    plotted, placed, by_trace = {}, {}, {}
    for line in json.loads(chart[1].proto.spec)["data"]:
        names = [c[0] for c in line["customdata"]]
        plotted.update(zip(names, plotly_values(line["y"]), strict=True))
        placed.update(zip(names, plotly_values(line["x"]), strict=True))
        by_trace[line["name"]] = names
    assert plotted == pytest.approx(want, abs=0.05)  # shown to one decimal place
    # Each release sits at its period end date, not at evenly spaced categories.
    with duckdb.connect(str(built.path), read_only=True) as con:
        ends = dict(con.execute("SELECT period_label, period_end FROM releases "
                                "WHERE period_end IS NOT NULL").fetchall())
    assert {k: str(v)[:10] for k, v in placed.items()} == {k: str(v) for k, v in ends.items()
                                                           if k in placed}
    # A release listing fewer sections than the latest is drawn apart and named as such.
    with duckdb.connect(str(built.path), read_only=True) as con:
        sections = dict(con.execute("SELECT r.period_label, list(DISTINCT s.section) FROM "
                                    "shares s JOIN releases r USING (release_id) "
                                    "GROUP BY ALL").fetchall())
    newest = sections[fx.RELEASES[-1].period_label]
    partial = {k for k, v in sections.items() if set(newest) - set(v)}
    assert partial and set(by_trace.get("Only some sections listed", [])) == partial
    assert all(k in texts(at) for k in partial)


def test_headline_link_opens_the_rows_behind_the_number(built: fx.Built,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    at = run(built.path, monkeypatch)
    link = next(b for b in at.button if b.label.endswith("identifying shares"))
    link.click().run()
    assert not at.exception
    assert [h.value for h in at.header] == ["Shares explorer"]
    assert at.session_state["flag"] == ["identifying", "pupil_level"]
    expected = {s.reference for s in spec_latest()
                if {"identifying", "pupil_level"} <= spec_flags(s)}
    assert set(at.dataframe[0].value["reference"]) == expected
    assert qp(at, "flag") == ["Identifying", "Pupil-level"]


# --- shares explorer --------------------------------------------------------------------------

def _spec_text(s: fx.Share, rel: int) -> str:
    fields = [fx._cell(s, "organisation", rel), s.org, s.reference, str(fx.value_in(s, "project",
              rel)), str(fx.value_in(s, "purpose", rel)), str(fx.value_in(s, "data_shared", rel))]
    return " ".join(fields).casefold()


def test_search_narrows_the_table_to_matching_rows(built: fx.Built,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.SHARES)
    assert len(at.dataframe[0].value) == len(spec_latest())
    at.text_input(key="q").input("phonics").run()
    assert set(at.dataframe[0].value["reference"]) == {
        s.reference for s in spec_latest() if "phonics" in _spec_text(s, LATEST)}
    # Every word must match, anywhere; a quoted phrase must match as written.
    at.text_input(key="q").input('pupil level "date of birth"').run()
    want = {s.reference for s in spec_latest()
            if "pupil level" in _spec_text(s, LATEST) and "date of birth" in _spec_text(s, LATEST)}
    assert set(at.dataframe[0].value["reference"]) == want and len(want) >= 3
    # Across all releases the same share is listed once per release.
    at.selectbox(key="release").select(common.ALL_RELEASES).run()
    at.text_input(key="q").input("looked after").run()
    rows = at.dataframe[0].value
    s04 = next(s for s in fx.SHARES if s.key == "S04")
    assert list(rows["reference"]) == ["DS00628"] * len(s04.releases)
    assert set(rows["organisation"]) == {"UCL", "University College London (UCL)"}
    # LIKE wildcards typed by a user are literal characters.
    at.text_input(key="q").input("100%").run()
    assert not at.dataframe and "No register row matches" in texts(at)


def test_search_on_the_sample_register(sample_db: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    shares = latest_shares(sample_db)
    term = shares["organisation"].dropna().value_counts().index[0].split()[0]
    haystack = shares[["reference", "organisation", "project", "purpose",
                       "data_shared"]].fillna("").agg(" ".join, axis=1).str.casefold()
    want = int(haystack.str.contains(term.casefold(), regex=False).sum())
    at = run(sample_db, monkeypatch, page=common.SHARES, filters={"q": term})
    rows = at.dataframe[0].value
    assert len(rows) >= want > 0  # resolved names are searched too: never fewer rows
    assert f"{len(rows):,} share" in texts(at)


def test_filters_from_a_shared_link(built: fx.Built, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.SHARES,
             filters={"sector": "Commercial", "flag": ["Identifying", "Pupil-level"]})
    want = {s.reference for s in spec_latest() if fx.ORGS[s.org].sector == "commercial"
            and {"identifying", "pupil_level"} <= spec_flags(s)}
    assert set(at.dataframe[0].value["reference"]) == want and len(want) == 3
    assert set(at.dataframe[0].value["sector"]) == {"Commercial"}

    at = run(built.path, monkeypatch, page=common.SHARES,
             filters={"section": "Police", "release": common.ALL_RELEASES})
    s08 = next(s for s in fx.SHARES if s.key == "S08")
    assert list(at.dataframe[0].value["reference"]) == [s08.reference] * len(s08.releases)

    at = run(built.path, monkeypatch, page=common.SHARES,
             filters={"from": "2021-01-01", "to": "2022-12-31", "category": "SEN"})
    want = {s.reference for s in spec_latest()
            if s.date_approved and dt.date(2021, 1, 1) <= s.date_approved <= dt.date(2022, 12, 31)
            and any(v == "sen" for _, v, _ in s.flags)}
    assert set(at.dataframe[0].value["reference"]) == want == {"DS00971"}


def click_grid(at: AppTest, key: str, rows: list[int] | None = None,
               cells: list[list[Any]] | None = None) -> None:
    """What the browser sends when a row of the grid ``key`` is clicked: the grid's new
    selection as its widget value, beside the other widgets' values. Streamlit then calls the
    grid's ``on_select`` callback before the rerun, as it does for a real click (AppTest has
    no way to click a grid)."""
    grid = next(d for d in at.dataframe if d.key == key)
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = grid.proto.id
    state.string_value = json.dumps({"selection": {"rows": rows or [], "columns": [],
                                                   "cells": cells or []}})
    at._run(states)


def test_selecting_a_row_opens_its_detail(built: fx.Built, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    at = run(built.path, monkeypatch, page=common.SHARES, filters={"q": "phonics"})
    timing = built.path.parent / "click-runs.jsonl"
    monkeypatch.setenv(common.TIMING_LOG_ENV, str(timing))
    click_grid(at, "shares_table", rows=[0])
    assert not at.exception
    # One run draws the share page; the explorer is not drawn again only to be left (the
    # switch happens at the top of app.py, in a run that stops there).
    runs = [json.loads(x) for x in timing.read_text().splitlines()]
    assert [(r["page"], r["drawn"]) for r in runs] == [("shares", False), ("share", True)]
    # The address names the share stably (key and release file), not by its share_id.
    assert (qp(at, "ref"), qp(at, "in"), qp(at, "share")) == (
        ["S19"], [fx.RELEASES[LATEST - 1].source_file], [])
    assert at.header[0].value == "National Foundation for Educational Research"
    # The filters travel with the link.
    assert qp(at, "q") == ["phonics"]


# --- share detail -----------------------------------------------------------------------------

def test_detail_shows_provenance_flags_evidence_and_the_pdf_page(
        built: fx.Built, monkeypatch: pytest.MonkeyPatch) -> None:
    share_id = built.share_ids[("S01", 2)]  # the December 2018 PDF
    at = run(built.path, monkeypatch, page=common.SHARE, share=str(share_id))
    s01 = next(s for s in fx.SHARES if s.key == "S01")
    page, _, row = built.provenance[("S01", 2)]
    text = texts(at)
    assert at.header[0].value == "Times Newspapers Limited"
    assert f"page {page}, row {row}" in text
    assert fx.RELEASES[1].source_file in text
    for label, value in [("Reference", s01.reference), ("Data shared", s01.data_shared),
                         ("Legal basis", s01.legal_basis)]:
        assert f"**{label}**  \n{value}" in text
    # The flags with their evidence: a wrapped list, one line per flag.
    for flag, value, evidence in s01.flags:
        name = data.FLAG_LABELS[flag] + (f" ({data.CATEGORY_LABELS[value]})"
                                         if value != "true" else "")
        assert f"- **{name}**: triggered by {evidence}" in text
    assert "(Exclusions)" in text
    assert fx.ORGS[s01.org].reason in text and "confidence 97%" in text
    images = elements(at.main, "image")
    assert len(images) == 1
    raw = next(d.value for d in at.dataframe if "Cell" in d.value.columns)
    assert dict(zip(raw["Column"], raw["Cell"], strict=True))["Reference"] == "DR170221.02"
    history = next(d.value for d in at.dataframe if "Status" in d.value.columns)
    assert list(history["Release"]) == [fx.RELEASES[r - 1].period_label for r in s01.releases]


def test_detail_says_when_the_source_pdf_is_missing(built: fx.Built,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    moved = built.pdf_path.with_suffix(".away")
    built.pdf_path.rename(moved)
    try:
        at = run(built.path, monkeypatch, page=common.SHARE,
                 share=str(built.share_ids[("S08", 2)]))
    finally:
        moved.rename(built.pdf_path)
    assert "source file is not available" in texts(at)
    assert not elements(at.main, "image")


def test_detail_shows_data_as_text_not_markup(built: fx.Built,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.SHARE,
             share=str(built.share_ids[("S23", LATEST)]))
    project = next(m.value for m in at.markdown if m.value.startswith("*"))
    # Every markdown-significant character is escaped: no link, no formula, shown verbatim.
    assert "](" not in project and "\\(" in project and "\\[" not in project.replace("\\\\", "")
    assert unescape(project) == '*=HYPERLINK("http://example.org/summary","Attendance dashboard")*'


def test_detail_escapes_an_unmapped_header_from_a_csv_release(
        csv_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with duckdb.connect(str(csv_db), read_only=True) as con:
        share_id, extra = con.execute(
            "SELECT share_id, extra_cells FROM shares WHERE reference = 'DS00001' "
            "AND extra_cells IS NOT NULL").fetchone()
    assert EVIL_HEADER in extra  # the ingest kept the unmapped column, header as written
    at = run(csv_db, monkeypatch, page=common.SHARE, share=str(share_id))
    # Shown as written...
    assert f"**{EVIL_HEADER} (unmapped column)**  \nsee ![x](https://evil.example/x.png)" in (
        texts(at))
    # ...but nowhere as a live link, image or HTML.
    sources = all_markdown(at)
    assert any("evil" in m for m in sources)
    assert {m: live_markup(m) for m in sources if live_markup(m)} == {}


def test_pdf_caption_escapes_the_file_name(built: fx.Built, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Image captions are markdown: a file name such as ``[x](http://…).pdf`` is data."""
    db = tmp_path / "named.duckdb"
    shutil.copyfile(built.path, db)
    name = "[Click](https:evil.example) ![t](https:evil.example/t.png).pdf"
    with writable(db) as con:
        for table in ("shares", "releases"):
            con.execute(f"UPDATE {table} SET source_file = ? WHERE release_id = ?",
                        [name, built.release_ids[1]])
    page = built.provenance[("S01", 2)][0]
    at = run(db, monkeypatch, page=common.SHARE, share=str(built.share_ids[("S01", 2)]))
    captions = [i.caption for img in elements(at.main, "image") for i in img.proto.imgs]
    assert len(captions) == 1 and unescape(captions[0]).startswith(f"Page {page} of {name};")
    sources = all_markdown(at)
    assert sum(unescape(m).count(name) for m in sources) >= 3  # caption, header line, source
    assert {m: live_markup(m) for m in sources if live_markup(m)} == {}


def test_unknown_share_id_is_explained(built: fx.Built, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.SHARE, share="999999")
    assert "no share with ID 999999" in texts(at)
    for junk in ("abc", "99999999999999999999999"):
        at = run(built.path, monkeypatch, page=common.SHARE, share=junk)
        assert f"{junk} is not a share ID" in texts(at)


def _heading_and_where(at: AppTest) -> tuple[str, str]:
    """The share page's heading and its provenance line (release, file, page or row)."""
    line = next(m.value for m in at.markdown if m.value.startswith(":blue-badge"))
    return at.header[0].value, unescape(line.split(" · ", 1)[1])


def test_stable_link_survives_a_rebuild_and_old_links_still_open(
        built: fx.Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link names the share by key and release file; a database rebuilt from scratch
    numbers its shares differently, and the same link still opens the same share."""
    pdf = fx.RELEASES[1]  # S01 is listed in several releases: the link picks this one
    page, _, row = built.provenance[("S01", 2)]
    at = run(built.path, monkeypatch, page=common.SHARE, ref="S01", **{"in": pdf.source_file})
    assert _heading_and_where(at) == ("Times Newspapers Limited",
                                      f"{pdf.period_label}, {pdf.source_file}, "
                                      f"page {page}, row {row}")
    assert at.number_input(key="share_box").value == built.share_ids[("S01", 2)]

    # Rebuild from scratch into a new file, with share_ids from another sequence start.
    rebuilt = tmp_path / "rebuilt.duckdb"
    again_built = fx.build(rebuilt, tmp_path / "releases", sample=True, first_share_id=7001)
    new_id = again_built.share_ids[("S01", 2)]
    assert new_id != built.share_ids[("S01", 2)]
    st.cache_data.clear()
    again = run(rebuilt, monkeypatch, page=common.SHARE, ref="S01", **{"in": pdf.source_file})
    assert _heading_and_where(again) == _heading_and_where(at)
    assert again.number_input(key="share_box").value == new_id
    # The period label names the release too; a link without a release opens the latest.
    by_label = run(rebuilt, monkeypatch, page=common.SHARE, ref="S01",
                   **{"in": pdf.period_label})
    assert _heading_and_where(by_label) == _heading_and_where(at)
    latest = max(next(s for s in fx.SHARES if s.key == "S01").releases)
    no_release = run(rebuilt, monkeypatch, page=common.SHARE, ref="S01")
    assert fx.RELEASES[latest - 1].source_file in _heading_and_where(no_release)[1]

    # Old links open by ID, and the address becomes the stable form.
    old = run(built.path, monkeypatch, page=common.SHARE, share=str(built.share_ids[("S01", 2)]))
    assert _heading_and_where(old) == _heading_and_where(at)
    assert (qp(old, "ref"), qp(old, "in"), qp(old, "share")) == (
        ["S01"], [pdf.source_file], [])
    # With both forms, the stable one wins (the ID here is another share's).
    both = run(built.path, monkeypatch, page=common.SHARE, ref="S01",
               share=str(built.share_ids[("S19", LATEST)]), **{"in": pdf.source_file})
    assert _heading_and_where(both) == _heading_and_where(at)
    assert qp(both, "share") == []


def test_typing_an_id_opens_the_share_under_its_stable_link(
        built: fx.Built, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.SHARE)
    assert "Choose a share" in texts(at)
    at.number_input(key="share_box").set_value(built.share_ids[("S19", LATEST)]).run()
    assert not at.exception
    assert at.header[0].value == "National Foundation for Educational Research"
    assert (qp(at, "ref"), qp(at, "in")) == (["S19"], [fx.RELEASES[LATEST - 1].source_file])


def test_a_stable_link_that_no_longer_resolves_is_explained(
        built: fx.Built, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.SHARE, ref="DS99999",
             **{"in": fx.RELEASES[LATEST - 1].source_file})
    text = texts(at)
    assert (f"asks for the share DS99999 in the release {fx.RELEASES[LATEST - 1].source_file}"
            f", which is not in this database") in text
    assert not [d for d in at.dataframe]  # no share's details shown
    # A real key in a release that does not list it is just as unknown.
    s01_last = max(next(s for s in fx.SHARES if s.key == "S01").releases)
    assert s01_last < LATEST  # S01 was removed from the register after this release
    gone = fx.RELEASES[s01_last].source_file
    at = run(built.path, monkeypatch, page=common.SHARE, ref="S01", **{"in": gone})
    assert f"asks for the share S01 in the release {gone}" in texts(at)


# --- what changed -----------------------------------------------------------------------------

def _sql_changes(db: Path, release_id: int) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("""
            SELECT c.change, c.field, s.reference
            FROM share_changes c JOIN shares s
              ON s.share_id = coalesce(c.share_id, c.previous_share_id)
            WHERE c.release_id = ?""", [release_id]).df()


def test_what_changed_lists_the_right_shares(built: fx.Built,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.CHANGES)
    tables = {d.key: d.value for d in at.dataframe}
    before = {s.reference for s in fx.shares_in(LATEST - 1)}
    now = {s.reference for s in spec_latest()}
    assert set(tables["added_table"]["Reference"]) == now - before
    assert set(tables["removed_table"]["Reference"]) == before - now
    sql = _sql_changes(built.path, built.release_ids[LATEST - 1])
    changed = sql[sql["change"] == "changed"]
    # Field names in words on the page (the stored field is the canonical name).
    assert sorted(zip(tables["changed_table"]["Reference"], tables["changed_table"]["Field"],
                      strict=True)) == sorted(zip(changed["reference"],
                                                  changed["field"].map(FIELD_LABELS),
                                                  strict=True))
    assert ("DS00971", "classification") in set(zip(changed["reference"], changed["field"],
                                                    strict=True))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Shares added"] == str(len(now - before))
    assert metrics["Shares changed"] == str(changed["reference"].nunique())

    # The picker compares any release with the one before it; sidebar filters narrow it.
    at = run(built.path, monkeypatch, page=common.CHANGES, filters={"sector": "Press"},
             changes_in="March 2022")
    tables = {d.key: d.value for d in at.dataframe}
    press = {s.reference for s in fx.SHARES if fx.ORGS[s.org].sector == "press"}
    added = {s.reference for s in fx.shares_in(4)} - {s.reference for s in fx.shares_in(3)}
    removed = {s.reference for s in fx.shares_in(3)} - {s.reference for s in fx.shares_in(4)}
    assert set(tables["added_table"]["Reference"]) == added & press == {"DS00833"}
    assert set(tables["removed_table"]["Reference"]) == removed & press == {"DR170221.02"}
    assert "**March 2022** compared with **September 2020**" in texts(at)


def test_what_changed_skips_a_release_of_counts_only(csv_db: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """March 2022 holds only Home Office counts: September 2022 is compared with September
    2021 (as extract/history.py compared them), and March 2022 is not offered."""
    at = run(csv_db, monkeypatch, page=common.CHANGES)
    picker = at.selectbox(key="changes_in")
    assert picker.options == ["September 2022"] and picker.value == "September 2022"
    assert "**September 2022** compared with **September 2021**" in texts(at)
    assert "March 2022" not in texts(at)
    tables = {d.key: d.value for d in at.dataframe}
    assert list(tables["added_table"]["Reference"]) == ["DS00003"]
    assert list(tables["removed_table"]["Reference"]) == ["DS00002"]
    assert "Removed since September 2021" in [h.value for h in at.subheader]
    with duckdb.connect(str(csv_db), read_only=True) as con:
        assert set(con.execute("SELECT DISTINCT p.period_label FROM share_changes c JOIN "
                               "releases p ON p.release_id = c.previous_release_id"
                               ).fetchall()) == {("September 2021",)}
    # The share's history counts the releases of the register, not the counts file.
    with duckdb.connect(str(csv_db), read_only=True) as con:
        share_id = con.execute("SELECT max(share_id) FROM shares WHERE reference = 'DS00001'"
                               ).fetchone()[0]
    at = run(csv_db, monkeypatch, page=common.SHARE, share=str(share_id))
    assert any(m.value.startswith("Listed in **2** of 2 releases of the register")
               for m in at.markdown)


def test_what_changed_on_the_sample_register(sample_db: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(sample_db, monkeypatch, page=common.CHANGES)
    sql = _sql_changes(sample_db, latest_id(sample_db))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Shares added"] == str(int((sql["change"] == "added").sum()))
    assert metrics["Shares removed"] == str(int((sql["change"] == "removed").sum()))


# --- recipients -------------------------------------------------------------------------------

def test_recipients_ranked_by_shares(any_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(any_db, monkeypatch, page=common.RECIPIENTS)
    shares = latest_shares(any_db)
    with duckdb.connect(str(any_db), read_only=True) as con:
        orgs = con.execute("SELECT organisation_id, name FROM organisations").df()
    merged = shares.merge(orgs, on="organisation_id")
    counts = merged.groupby("name")["share_key"].nunique()
    merged["ip"] = [{"identifying", "pupil_level"} <= f for f in merged["flagset"]]
    ident = merged[merged["ip"]].groupby("name")["share_key"].nunique()
    table = at.dataframe[0].value
    assert dict(zip(table["Organisation"], table["Shares"], strict=True)) == counts.to_dict()
    shown = dict(zip(table["Organisation"], table["Identifying pupil-level"], strict=True))
    assert {k: v for k, v in shown.items() if v} == ident.to_dict()
    assert list(table["Shares"]) == sorted(table["Shares"], reverse=True)


def test_organisation_page_lists_its_shares_over_time(built: fx.Built,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.RECIPIENTS, org="Times Newspapers Limited")
    assert at.header[0].value == "Times Newspapers Limited"
    text = texts(at)
    assert fx.ORGS["Times Newspapers Limited"].reason in text
    for spelling in ("The Times", "Times Newspapers Ltd"):
        assert spelling in text
    table = at.dataframe[0].value
    mine = [s for s in fx.SHARES if s.org == "Times Newspapers Limited"]
    assert sorted(table["Reference"]) == sorted(s.reference for s in mine)
    assert not any(table["Still listed"])  # both were removed before the latest release


def test_recipient_search_and_sector_filter(built: fx.Built,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, page=common.RECIPIENTS, filters={"sector": "Academic"})
    assert set(at.dataframe[0].value["Organisation"]) == {
        s.org for s in spec_latest() if fx.ORGS[s.org].sector == "academic"}
    at.text_input(key="who").input("bristol").run()
    assert list(at.dataframe[0].value["Organisation"]) == ["University of Bristol"]


# --- banner, first run, freshness, bad database ----------------------------------------------

def test_sample_banner_on_every_page(built: fx.Built, plain_db: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch)
    assert common.SAMPLE_BANNER in at.warning[0].value
    for page in (common.SHARES, common.RECIPIENTS, common.SHARE, common.CHANGES, common.EXPORT):
        at.switch_page(page).run()
        assert not at.exception and common.SAMPLE_BANNER in at.warning[0].value, page
    at = run(plain_db, monkeypatch)
    assert not any(common.SAMPLE_BANNER in w.value for w in at.warning)


def test_a_reingest_is_picked_up_without_restart(built: fx.Built, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "live.duckdb"
    shutil.copyfile(built.path, db)
    at = run(db, monkeypatch)
    before = int(at.metric[0].value)
    with writable(db) as con:  # what an ingest does: new file, then os.replace
        con.execute("DELETE FROM shares WHERE release_id = ? AND sector = 'press'",
                    [built.release_ids[-1]])
    at.run()
    press = sum(fx.ORGS[s.org].sector == "press" for s in spec_latest())
    assert int(at.metric[0].value) == before - press


def test_overlapping_queries_never_read_a_replaced_file(built: fx.Built, tmp_path: Path
                                                        ) -> None:
    """A query that starts while another session's connection is open, just after an ingest
    replaced the file, must wait and then read the new file (DuckDB would otherwise hand it
    the old, still-open database)."""
    db = tmp_path / "live.duckdb"
    shutil.copyfile(built.path, db)
    latest = built.release_ids[-1]
    entered, release, result = threading.Event(), threading.Event(), {}

    def long_query() -> None:
        with data.connection(db) as con:
            con.execute("SELECT count(*) FROM shares").fetchall()
            entered.set()
            release.wait(30)

    def next_query() -> None:
        with data.connection(db) as con:
            result["n"] = con.execute("SELECT count(*) FROM shares WHERE release_id = ?",
                                      [latest]).fetchone()[0]

    first = threading.Thread(target=long_query)
    first.start()
    assert entered.wait(30)
    with writable(db) as con:  # an ingest: new file beside the old, then os.replace
        con.execute("DELETE FROM shares WHERE release_id = ?", [latest])
    second = threading.Thread(target=next_query)
    second.start()
    second.join(timeout=1)
    assert second.is_alive()  # queued behind the open connection, not reading the old file
    release.set()
    first.join()
    second.join()
    assert result["n"] == 0


def test_the_kept_open_file_blocks_nobody_and_is_let_go(built: fx.Built, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The dashboard keeps the file open between queries (opening it costs more than most
    queries). That must not get in anyone's way: a researcher's own connection in the same
    process with other settings opens; a Question's locked-down settings stay with its own
    instance; after the idle time the file is closed, so another process can write it."""
    db = tmp_path / "live.duckdb"
    shutil.copyfile(built.path, db)
    with data.connection(db) as con:
        n = con.execute("SELECT count(*) FROM shares").fetchone()[0]
    assert str(db) in data._OPEN  # kept for the next query
    with duckdb.connect(str(db), read_only=True, config={"threads": 1}) as own:
        assert own.execute("SELECT count(*) FROM shares").fetchone()[0] == n
    with data.connection(db, private=True) as con:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    with data.connection(db) as con:  # the kept instance is untouched
        assert con.execute("SELECT current_setting('enable_external_access')"
                           ).fetchone()[0] is True
    monkeypatch.setattr(data, "IDLE_CLOSE_S", 0.2)
    with data.connection(db) as con:  # restarts the countdown with the short idle time
        con.execute("SELECT 1")
    deadline = time.monotonic() + 10
    while str(db) in data._OPEN and time.monotonic() < deadline:
        time.sleep(0.05)
    assert str(db) not in data._OPEN
    writer = [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1])"
              ".execute('CREATE TABLE t AS SELECT 1 AS x')", str(db)]
    assert subprocess.run(writer, capture_output=True, timeout=60).returncode == 0


def test_unreadable_database_gives_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    bad = tmp_path / "register.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("NPD_DB", str(bad))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 1 and "could not be read" in at.error[0].value


def test_first_run_builds_the_database_with_progress(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if not _pipeline_present():
        pytest.skip("readers, history or analysis not present yet")
    from tests.fixtures.model import FixtureSection
    from tests.fixtures.sheetgen import write_register_sheet

    src = tmp_path / "releases"
    src.mkdir()
    rows = [[s.reference, s.org, s.project, s.purpose, s.data_shared, s.classification,
             s.date_approved_raw] for s in spec_latest() if s.section == "dsap"]
    section = FixtureSection("dsap", fx.SECTION_TITLES["dsap"],
                             ["Reference", "Organisation", "Project title", "Purpose",
                              "Data shared", "Data classification", "Date approved"], rows)
    write_register_sheet(src / "dfe-external-data-shares-september-2023.csv", [section],
                         title=fx.RELEASES[-1].title, fmt="csv")
    db = tmp_path / "new" / "register.duckdb"
    monkeypatch.setenv("NPD_SOURCES", str(src))
    at = run(db, monkeypatch)
    assert db.exists()
    assert [s.label for s in at.status] == ["Database built from 1 of 1 files"]
    assert at.metric[0].value == str(len(rows))


# --- pure helpers -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "[click](http://evil.example)", "<img src=x onerror=alert(1)>", "**bold** _it_ `code`",
    "$x^2$ :red[alarm] :material/warning: #heading", "1. not a list & &amp; | a | b |",
])
def test_esc_leaves_no_markup(raw: str) -> None:
    escaped = common.esc(raw)
    assert unescape(escaped) == " ".join(raw.split())
    # No markdown-significant character survives unescaped.
    assert not re.search(r"(?<!\\)[\[\]()<>*_`$:#|&]", escaped.replace("\\\\", ""))


def test_search_terms_and_like_patterns() -> None:
    assert data.search_terms('  FFT  "date of birth" ') == ["FFT", "date of birth"]
    assert data.search_terms('"unclosed') == ["unclosed"]
    assert data.like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


def test_export_bytes_are_safe_for_excel(built: fx.Built) -> None:
    pytest.importorskip("analysis.export")
    import io

    from views import downloads

    f = data.Filters(release_id=built.release_ids[-1])
    csv_bytes = downloads.shares_csv(str(built.path), f)
    df = pd.read_csv(io.BytesIO(csv_bytes), encoding="utf-8-sig", dtype=str,
                     keep_default_na=False)
    assert list(df.columns[:3]) == ["release", "reference", "organisation"]
    assert len(df) == len(spec_latest())
    assert "FFT Education Ltd" in set(df["organisation"])
    cells = df.to_numpy().ravel().tolist() + list(df.columns)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert any(c.lstrip("'").startswith("=HYPERLINK") for c in cells)  # kept, neutralised
    # Every row carries its share key and the share's stable address in the dashboard.
    from urllib.parse import quote
    want = {(s.key, f"/share?ref={quote(s.key, safe='')}&in="
             f"{quote(fx.RELEASES[LATEST - 1].source_file, safe='')}") for s in spec_latest()}
    assert set(zip(df["share_key"], df["share_url"], strict=True)) == want
    xlsx = pd.read_excel(io.BytesIO(downloads.shares_xlsx(str(built.path), f)), dtype=str,
                         engine="calamine", sheet_name="Shares")
    assert len(xlsx) == len(spec_latest())
    assert not [c for c in xlsx.fillna("").to_numpy().ravel() if str(c)[:1] in "=+-@"
                and str(c)]


def _sheets(xlsx: bytes) -> dict[str, pd.DataFrame]:
    import io

    return pd.read_excel(io.BytesIO(xlsx), sheet_name=None, dtype=str, engine="calamine")


def _csv(raw: bytes) -> pd.DataFrame:
    import io

    return pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_exports_label_sample_rows(plain_db: Path, tmp_path: Path) -> None:
    """A register mixing published releases with one SAMPLE reconstruction: every exported
    row says which it is, and each workbook opens on a sheet that says sample data is in it."""
    pytest.importorskip("analysis.export")
    from views import downloads

    db = tmp_path / "mixed.duckdb"
    shutil.copyfile(plain_db, db)
    sample_file = fx.RELEASES[-1].source_file
    with writable(db) as con:
        con.execute("UPDATE releases SET is_sample = true WHERE source_file = ?", [sample_file])
    every = data.Filters(sectors=("commercial",))
    rows = _csv(downloads.shares_csv(str(db), every))
    commercial = [(s, n) for s in fx.SHARES for n in s.releases
                  if fx.ORGS[s.org].sector == "commercial"]
    assert len(rows) == len(commercial)
    assert list(rows["is_sample"]) == [str(f == sample_file) for f in rows["source_file"]]
    assert set(rows["is_sample"]) == {"True", "False"}

    described = "all releases, sector Commercial"
    book = _sheets(downloads.shares_xlsx(str(db), every, described))
    assert list(book) == [downloads.ABOUT_SHEET, "Shares"]
    about = dict(zip(book[downloads.ABOUT_SHEET]["item"], book[downloads.ABOUT_SHEET]["value"],
                     strict=True))
    assert next(iter(about)) == "Sample data"
    assert about["Sample data"].startswith(
        "Sample data: reconstructed releases, not DfE publications (1 of 5 releases")
    assert common.SAMPLE_BANNER == downloads.SAMPLE_NOTICE
    assert about["Filters"] == described
    assert "National Pupil Database" in about["Contents"]
    assert about["Generated"].startswith(dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"))
    assert f"{sample_file} (sample)" in about["Releases"]
    assert book["Shares"]["is_sample"].tolist() == rows["is_sample"].tolist()

    # Only published rows selected: labelled false, and no sample notice.
    older = data.Filters(release_id=fx_release_id(db, fx.RELEASES[-2].source_file))
    assert set(_csv(downloads.shares_csv(str(db), older))["is_sample"]) == {"False"}
    about = _sheets(downloads.shares_xlsx(str(db), older, "March 2022"))[downloads.ABOUT_SHEET]
    assert "Sample data" not in set(about["item"])
    assert not about["value"].str.contains("reconstructed").any()

    # The commercial re-use files too: per row, and the notice on the first sheet.
    reuse = _csv(downloads.reuse_csv(str(db)))
    assert len(reuse) and list(reuse["is_sample"]) == [
        str(f == sample_file) for f in reuse["release_file"]]
    book = _sheets(downloads.reuse_xlsx(str(db)))
    assert next(iter(book)) == downloads.ABOUT_SHEET
    assert book[downloads.ABOUT_SHEET]["item"].iloc[0] == "Sample data"
    assert all("is_sample" in t.columns for name, t in book.items()
               if name != downloads.ABOUT_SHEET)


def test_published_exports_carry_no_sample_notice(plain_db: Path) -> None:
    pytest.importorskip("analysis.export")
    from views import downloads

    f = data.Filters()
    assert set(_csv(downloads.shares_csv(str(plain_db), f))["is_sample"]) == {"False"}
    for xlsx in (downloads.shares_xlsx(str(plain_db), f), downloads.reuse_xlsx(str(plain_db))):
        about = _sheets(xlsx)[downloads.ABOUT_SHEET]
        assert about["item"].iloc[0] == "Contents"
        assert not about["value"].str.contains("Sample data").any()


def fx_release_id(db: Path, source_file: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT release_id FROM releases WHERE source_file = ?",
                               [source_file]).fetchone()[0])


def test_export_page_offers_the_downloads(built: fx.Built, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    pytest.importorskip("analysis.export")
    at = run(built.path, monkeypatch, page=common.EXPORT, filters={"sector": "Commercial"})
    labels = [b.label for b in elements(at.main, "download_button")]
    assert labels == ["Download shares (CSV)", "Download shares (Excel)",
                      "Download rows behind the counts (CSV)",
                      "Download statistics and rows (Excel)"]
    n = sum(fx.ORGS[s.org].sector == "commercial" for s in spec_latest())
    assert f"{n} shares" in texts(at)


# --- Dockerfile -------------------------------------------------------------------------------

def test_dockerfile_runs_the_readme_command_as_a_non_root_user() -> None:
    text = (REPO / "Dockerfile").read_text()
    lines = [ln.strip() for ln in re.sub(r"\\\n", " ", text).splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    instr = [ln.split(None, 1) for ln in lines]
    assert instr[0] == ["FROM", "python:3.11-slim"]
    user = [v for k, v in instr if k == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert any(k == "RUN" and "pip install" in v and "-r requirements.txt" in v
               for k, v in instr)
    health = next(v for k, v in instr if k == "HEALTHCHECK")
    assert "/_stcore/health" in health and "urllib" in health and "curl" not in health
    # The database sits in its own volume, so mounting it never hides the bundled data/.
    assert any(k == "ENV" and "NPD_DB=/app/db/" in v for k, v in instr)
    assert any(k == "VOLUME" and '"/app/db"' in v for k, v in instr)
    entry = next(v for k, v in instr if k == "ENTRYPOINT")
    assert re.search(r'"streamlit",\s*"run",\s*"app.py"', entry)
    assert "--server.headless=true" in entry
    readme = (REPO / "README.md").read_text()
    assert "streamlit run app.py" in readme
    ignored = (REPO / ".dockerignore").read_text().split()
    assert "*.duckdb" in " ".join(ignored) and ".git" in ignored


def test_repo_paths_are_resolved(built: fx.Built) -> None:
    assert data.resolve_source(str(built.pdf_path)) == built.pdf_path
    assert data.resolve_source("README.md") == REPO / "README.md"
    assert data.resolve_source("data/releases/not-there.pdf") is None
    assert os.path.isabs(str(data.resolve_source("README.md")))


# --- register text as text, unknown link values, old links, row clicks -----------------------

def test_esc_makes_links_icons_and_bidi_inert() -> None:
    raw = "Evil\u202eLtd https://evil.example/x www.evil.example a@b.example :material/home:"
    md = common.esc(raw)
    shown = re.sub(r"\\(.)", r"\1", md)  # as shown, word joiners kept
    assert "⟨U+202E⟩" in shown and "\u202e" not in md
    # No autolink can match: a word joiner sits inside "://" and "www." and before "@".
    assert "://" not in shown and "www." not in shown and "a@" not in shown
    assert shown.replace("\u2060", "") == raw.replace("\u202e", "⟨U+202E⟩")
    assert not re.search(r"(?<!\\):", md)  # no live :shortcode:
    chart = common.esc('<a href="mailto:x@y.z">SAMPLE</a> & <b>x</b>', "chart")
    assert "<" not in chart and ">" not in chart and "&amp;" in chart
    assert common.esc("tab\there\u200bzero", "text") == "tab here⟨U+200B⟩zero"
    cells = common.visible_table(pd.DataFrame({"a": ["ok", "x\u202ey", None], "n": [1, 2, 3]}))
    assert list(cells["a"])[:2] == ["ok", "x⟨U+202E⟩y"] and list(cells["n"]) == [1, 2, 3]


def test_ascii_fast_path_finds_the_same_characters() -> None:
    """A pure-ASCII column is checked with the small class: it must hold exactly the big
    class's ASCII members, or a control character in ASCII text would show raw."""
    for code in range(128):
        ch = chr(code)
        assert bool(common._INVISIBLE_ASCII_RE.match(ch)) == bool(
            common._INVISIBLE_RE.match(ch)), repr(ch)
    cells = common.visible_table(pd.DataFrame({"a": ["plain", "bell\x07here", "esc\x1b[31m"]}))
    assert list(cells["a"]) == ["plain", "bell⟨U+0007⟩here", "esc⟨U+001B⟩[31m"]


def _hostile_copy(built: fx.Built, tmp_path: Path) -> tuple[Path, str]:  # db, period
    """The fixture register with a release named like markup and a share whose text is a
    URL, an e-mail address, a shortcode and a right-to-left override."""
    db = tmp_path / "hostile.duckdb"
    shutil.copy(built.path, db)
    period = '<a href="mailto:x@evil.example">Mail</a> <b>2031</b>'
    with writable(db) as con:
        con.execute("UPDATE releases SET period_label = ? WHERE release_id = ?",
                    [period, built.release_ids[1]])
        con.execute("UPDATE shares SET project = ? WHERE share_key = 'S19'",
                    ["Evil\u202eLtd https://evil.example a@b.example :material/home:"])
    return db, period


def test_hostile_register_text_shows_as_text_everywhere(built: fx.Built, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = _hostile_copy(built, tmp_path)
    at = run(db, monkeypatch)
    specs = [json.loads(c.proto.spec) for c in elements(at.main, "plotly_chart")]
    assert len(specs) == 2
    text = json.dumps(specs)
    # Labels and hovers: the markup arrives as entities, never as tags plotly would draw.
    assert "mailto" in text and "<a " not in text and "<b>2031" not in text
    assert "&lt;a href" in text
    for md in all_markdown(at):
        assert not live_markup(md), md
    at = run(db, monkeypatch, common.SHARE, ref="S19")
    page = texts(at)
    assert "⟨U+202E⟩" in page and "\u202e" not in page
    for md in all_markdown(at):
        assert not live_markup(md), md
        bare = re.sub(r"\\.", "", md)
        assert "://" not in bare and not re.search(r"\w@\w", bare), md


def test_unknown_link_values_are_named_not_dropped(built: fx.Built,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, filters={"release": "March 2031", "sector": ["Foo", "Press"],
                                               "from": "2021-13-45"})
    warnings = unescape(" ".join(w.value for w in at.warning))
    latest = fx.RELEASES[LATEST - 1].period_label
    assert "the release “March 2031”" in warnings
    assert f"Showing the latest release, {latest} instead" in warnings
    assert "the sector “Foo”" in warnings and "Showing only Press instead" in warnings
    assert "“2021-13-45”" in warnings
    # Known values raise no notice.
    at = run(built.path, monkeypatch, filters={"release": latest, "sector": "Press"})
    assert "The link asks for" not in " ".join(w.value for w in at.warning)
    at = run(built.path, monkeypatch, common.RECIPIENTS, org="Nobody Ltd")
    warnings = unescape(" ".join(w.value for w in at.warning))
    assert "the organisation “Nobody Ltd”" in warnings and "every recipient" in warnings


def test_a_link_made_before_its_key_was_qualified_still_opens(
        built: fx.Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/share?ref=DS00971&in=<file>: the key later became DS00971/<organisation>; the link
    falls back to the reference in that release and the address names the new key."""
    db = tmp_path / "qualified.duckdb"
    shutil.copy(built.path, db)
    with writable(db) as con:
        con.execute("UPDATE shares SET share_key = 'DS00971/nfer' WHERE share_key = 'S19'")
    file = fx.RELEASES[LATEST - 1].source_file
    at = run(db, monkeypatch, common.SHARE, ref="DS00971", **{"in": file})
    assert [h.value for h in at.header][-1] == common.esc(
        "National Foundation for Educational Research")
    assert qp(at, "ref") == ["DS00971/nfer"]


def test_a_click_on_any_cell_opens_the_row(built: fx.Built,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(built.path, monkeypatch, common.SHARES)
    first = at.dataframe[0].value.iloc[0]
    click_grid(at, "shares_table", cells=[[0, "organisation"]])
    assert not at.exception
    assert qp(at, "ref") and [h.value for h in at.header][-1] != "Shares explorer"
    assert first["reference"] in texts(at)
