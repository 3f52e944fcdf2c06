"""The Findings and Questions pages and the provenance footer, driven by AppTest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis import figures as fig
from analysis.export import TOOL_VERSION
from extract.db import connect_readonly
from tests.fixtures import dashboard_db, figures_db

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return figures_db.build(tmp_path_factory.mktemp("pages") / "figures.duckdb")


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dash")
    return dashboard_db.build(root / "register.duckdb", root / "releases", sample=True).path


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def unescape(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)


def open_page(db: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("NPD_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def expected(db: Path, period: str | None = None) -> list[fig.FigureResult]:
    con = connect_readonly(db)
    try:
        return fig.compute_all(con, fig.Period.parse(period) if period else None)
    finally:
        con.close()


def test_findings_show_each_figure_and_exactly_its_rows(db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(db, monkeypatch, "views/findings.py")
    results = expected(db)
    metrics = {(m.label, m.value) for m in at.metric}
    frames = [t.value for t in at.dataframe]
    for r in results:
        assert ("Published", r.figure.published_text()) in metrics
        assert ("Ours", r.ours_text() if r.covered else "–") in metrics
        if not r.covered:
            continue
        want = fig.rows_table(r)
        key = "share_url" if "share_url" in want else "period_start"
        hit = [f for f in frames if list(f.columns) == list(want.columns)
               and len(f) == len(want) and f[key].astype(str).tolist()
               == want[key].astype(str).tolist()]
        assert hit, r.figure.id
    covered = [r for r in results if r.covered and not r.figure.is_home_office]
    assert all(u.startswith("/share?ref=") for r in covered for u in r.rows["share_url"])
    infos = " ".join(str(i.value) for i in at.info)
    assert "No number" in infos  # the Home Office totals run past the releases


def test_findings_period_picker(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(db, monkeypatch, "views/findings.py")
    at.radio(key="findings_mode").set_value("One period for every figure").run()
    at.select_slider(key="findings_period").set_value(("2015-07", "2016-01")).run()
    assert not at.exception
    results = {r.figure.id: r for r in expected(db, "2015-07..2016-01")}
    metrics = [m.value for m in at.metric if m.label == "Ours"]
    assert results["home_office_requested_total"].ours_text() == "515"
    assert "515" in metrics


def test_questions_page_runs_edits_and_refuses_writes(dash: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(dash, monkeypatch, "views/questions.py")
    assert not at.error
    at.selectbox(key="question").set_value("press_recipients").run()
    result = at.dataframe[0].value
    assert len(result) > 0 and result["share_url"].str.startswith("/share?ref=").all()
    area = next(t for t in at.text_area if t.key == "sql-press_recipients")
    area.set_value("DELETE FROM shares").run()
    assert len(at.error) == 1 and "\n" not in at.error[0].value
    assert "SELECT" in at.error[0].value
    area.set_value("SELECT * FROM read_csv('/etc/passwd')").run()
    assert "read_csv" in unescape(at.error[0].value)
    area.set_value("SELECT organisation, count(*) AS n FROM shares GROUP BY 1 ORDER BY 2 DESC"
                   ).run()
    assert not at.error and len(at.dataframe[0].value) > 0


def test_every_page_has_the_provenance_footer(dash: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for page in ("views/overview.py", "views/findings.py", "views/questions.py"):
        at = open_page(dash, monkeypatch, page)
        captions = unescape(" ".join(str(c.value) for c in at.caption))
        assert "Data: 5 release files" in captions, page
        assert "Licence" in captions and TOOL_VERSION.split()[0] in captions
        footer = at.dataframe[-1].value
        assert list(footer["source_file"]) == [r.source_file for r in dashboard_db.RELEASES]


def test_what_changed_offers_the_briefing(dash: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from views import briefing

    at = open_page(dash, monkeypatch, "views/changes.py")
    buttons = [b for b in at.get("download_button") if "Download briefing" in str(b.proto)]
    assert len(buttons) == 1
    html = briefing.briefing_html(str(dash), "dfe-external-data-shares-september-2023.ods")
    assert b"<h1>Release briefing: September 2023</h1>" in html


def test_each_counted_row_opens_its_share_page(dash: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The link on a counted row opens that share, as that release lists it."""
    from urllib.parse import parse_qs, urlsplit

    results = [r for r in expected(dash, "2016-11..2023-09")
               if r.covered and not r.figure.is_home_office and len(r.rows)]
    assert results
    rows = results[0].rows.head(3)
    for rec in rows.itertuples():
        query = parse_qs(urlsplit(rec.share_url).query)
        assert urlsplit(rec.share_url).path == "/share"
        at = open_page(dash, monkeypatch, "views/share.py")
        at.query_params["ref"] = query["ref"][0]
        at.query_params["in"] = query["in"][0]
        at.run()
        assert not at.exception
        shown = unescape(" ".join(str(e.value) for kind in ("markdown", "caption", "header",
                                                             "subheader", "title")
                                  for e in getattr(at, kind)))
        assert rec.reference in shown and rec.release_file in shown, rec.share_url
