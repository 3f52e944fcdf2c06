"""The Home Office page, driven by AppTest: every figure equals SQL over ``count_rows``.

Two databases through the real ingest: the bundled sample releases (whose Home Office tables
are read from PDF, ODS and CSV), and three small CSV releases written here in which a later
release revises one month, drops another, adds a third and carries a formula-like cell.
Expected values come from SQL written here, not from ``analysis.home_office``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import export, home_office
from extract.ingest import ingest
from tests.test_app import fresh_caches  # noqa: F401 (autouse)
from tests.test_app import run as open_page

REPO = Path(__file__).resolve().parents[1]
PAGE = "views/home_office.py"
REQ, MAT = "Number of individuals requested", "Number of individuals matched"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ho_sample") / "sample.duckdb"
    results = ingest([REPO / "data" / "sample"], db)
    assert all(r.status == "ingested" for r in results), [r.reason for r in results]
    return db


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


SPRING = "dfe-external-data-shares-march-2022.csv"
AUTUMN = "dfe-external-data-shares-september-2022.csv"


@pytest.fixture(scope="module")
def revised_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """March 2022 gives January and February; September 2022 drops January, revises
    February's requests (75 -> 77) and adds March, whose matched cell is a formula."""
    root = tmp_path_factory.mktemp("ho_csv")
    src = root / "releases"
    src.mkdir()
    _write(src / "dfe-external-data-shares-september-2021.csv", [
        ["DfE external data shares: approved by DSAP from May 2018 to end of September 2021"],
        ["Reference", "Organisation", "Project title", "Data shared", "Date approved"],
        ["DS00001", "University of Bristol", "Attainment gaps", "KS2 results", "01/02/2021"]])
    title = "Home Office: number of requests for pupil data, to end of {}"
    _write(src / SPRING, [[title.format("March 2022")], ["Month", REQ, MAT],
                          ["January 2022", "80", "20"], ["February 2022", "75", "18"]])
    _write(src / AUTUMN, [[title.format("September 2022")], ["Month", REQ, MAT],
                          ["February 2022", "77", "18"], ["March 2022", "90", "=1+2"]])
    db = root / "register.duckdb"
    results = ingest([src], db)
    assert [r.status for r in results] == ["ingested"] * 3, [r.reason for r in results]
    return db


def run(db: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    """Open this page as a visitor following a link (tests/test_app.py's way)."""
    return open_page(db, monkeypatch, page=PAGE, **params)


def sql(db: Path, query: str, params: list[Any]) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, params).df()


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The (one) table on the page that has ``column``."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def where_text(page: Any, sheet: Any, row: Any) -> str:
    if pd.notna(page):
        return f"page {int(page)}, row {int(row)}"
    if isinstance(sheet, str) and sheet:
        return f"sheet '{sheet}', row {int(row)}"
    return f"row {int(row)}"


def texts(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "header", "subheader",
                                       "warning", "info") for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "")


def expected_rows(db: Path, file: str) -> pd.DataFrame:
    """One line per source row of the release's Home Office table, by SQL."""
    return sql(db, """
        SELECT c.period_label AS month, c.source_page, c.source_sheet, c.source_row,
               max(c.value) FILTER (WHERE c.measure ILIKE '%request%') AS requested,
               max(c.value) FILTER (WHERE c.measure ILIKE '%match%') AS matched,
               min(c.period_start) AS start
        FROM count_rows c WHERE c.source_file = ? AND c.section = 'home_office'
        GROUP BY ALL ORDER BY start, c.source_row""", [file])


@pytest.mark.parametrize("which", ["latest", "pdf"])
def test_figures_equal_sql_over_count_rows(sample_db: Path, monkeypatch: pytest.MonkeyPatch,
                                           which: str) -> None:
    files = sql(sample_db, """SELECT DISTINCT r.source_file, r.release_order, r.period_label
                              FROM count_rows c JOIN releases r USING (release_id)
                              ORDER BY r.release_order""", [])
    assert len(files) == 5  # every sample release since 2018 has the Home Office table
    if which == "latest":
        file, period = files["source_file"].iloc[-1], files["period_label"].iloc[-1]
        at = run(sample_db, monkeypatch)
    else:
        file = next(f for f in files["source_file"] if f.endswith(".pdf"))
        period = files.loc[files["source_file"] == file, "period_label"].iloc[0]
        at = run(sample_db, monkeypatch, **{"in": file})
    want = expected_rows(sample_db, file)
    assert len(want) > 40

    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Months listed"] == f"{want['month'].nunique():,}"
    assert metrics["Individuals requested, all months"] == f"{int(want['requested'].sum()):,}"
    assert metrics["Individuals matched, all months"] == f"{int(want['matched'].sum()):,}"

    table = table_with(at, "Individuals requested")
    assert list(table["Month"]) == list(want["month"])
    assert list(table["Individuals requested"]) == list(want["requested"])
    assert list(table["Individuals matched"]) == list(want["matched"])
    assert set(table["Release"]) == {period} and set(table["File"]) == {file}
    assert list(table["Where in the file"]) == [
        where_text(p, s, r) for p, s, r in zip(want["source_page"], want["source_sheet"],
                                               want["source_row"], strict=True)]
    if which == "pdf":
        assert all(w.startswith("page ") for w in table["Where in the file"])

    [chart] = _charts(at)
    traces = {t["name"]: t for t in json.loads(chart.proto.spec)["data"]}
    assert set(traces) == {"Individuals requested", "Individuals matched"}
    assert _numbers(traces["Individuals requested"]["y"]) == list(want["requested"])
    assert _numbers(traces["Individuals matched"]["y"]) == list(want["matched"])


def _charts(at: AppTest) -> list[Any]:
    out: list[Any] = []

    def walk(node: Any) -> None:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == "plotly_chart":
                out.append(child)
            walk(child)

    walk(at.main)
    return out


def _numbers(v: Any) -> list[int]:
    import base64

    import numpy as np

    if isinstance(v, dict) and "bdata" in v:
        v = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return [int(x) for x in v]


def test_what_changed_between_releases(revised_db: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(revised_db, monkeypatch)
    assert "What changed since March 2022" in [h.value for h in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Months added"], metrics["Counts revised"], metrics["Months removed"]) \
        == ("1", "1", "1")
    changes = table_with(at, "Change")
    got = {(c, m, ms, None if pd.isna(o) else int(o), None if pd.isna(n) else int(n))
           for c, m, ms, o, n in zip(changes["Change"], changes["Month"], changes["Measure"],
                                     changes["In March 2022"], changes["In September 2022"],
                                     strict=True)}
    assert got == {
        ("removed", "January 2022", "Individuals requested", 80, None),
        ("removed", "January 2022", "Individuals matched", 20, None),
        ("revised", "February 2022", "Individuals requested", 75, 77),
        ("added", "March 2022", "Individuals requested", None, 90),
        ("added", "March 2022", "Individuals matched", None, None),  # "=1+2" is no number
    }
    revised = changes[changes["Change"] == "revised"].iloc[0]
    assert (revised["Where before"], revised["Where now"]) == ("row 4", "row 3")
    assert f"Before: March 2022, {SPRING}. Now: September 2022, {AUTUMN}." in texts(at)


def test_a_month_link_opens_its_rows_in_every_release(revised_db: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(revised_db, monkeypatch)
    table = table_with(at, "Rows behind it")
    link = table.loc[table["Month"] == "February 2022", "Rows behind it"].iloc[0]
    assert link == f"home-office?in={AUTUMN}&month=2022-02"
    at = run(revised_db, monkeypatch, **{"in": AUTUMN, "month": "2022-02"})
    month = table_with(at, "Count")
    got = sorted(zip(month["Release"], month["Measure"], month["Count"], month["File"],
                     month["Where in the file"], strict=True))
    assert got == [
        ("March 2022", "Individuals matched", 18, SPRING, "row 4"),
        ("March 2022", "Individuals requested", 75, SPRING, "row 4"),
        ("September 2022", "Individuals matched", 18, AUTUMN, "row 3"),
        ("September 2022", "Individuals requested", 77, AUTUMN, "row 3"),
    ]


def test_unknown_link_values_are_named_and_the_address_kept(
        revised_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(revised_db, monkeypatch, **{"in": "March 2020", "month": "2099-01"})
    text = texts(at)
    assert "The link asks for the release “March 2020”" in text
    assert "Showing the latest release with Home Office counts, September 2022 instead" in text
    assert "The link asks for the month “2099-01”" in text
    assert (at.query_params["in"], at.query_params["month"]) in (
        ("March 2020", "2099-01"), (["March 2020"], ["2099-01"]))
    # The page shows the latest release in its place.
    assert any(m.value.replace("\\", "").startswith(f"**September 2022** · {AUTUMN}")
               for m in at.markdown)


def test_download_of_the_rows_is_safe_and_labelled(revised_db: Path) -> None:
    with duckdb.connect(str(revised_db), read_only=True) as con:
        rid = con.execute("SELECT release_id FROM releases WHERE source_file = ?",
                          [AUTUMN]).fetchone()[0]
        rows = home_office.counts(con, rid)
    out = export.to_csv_bytes(home_office.citable_rows(rows, {rid: "September 2022"}))
    text = out.decode("utf-8-sig")
    parsed = list(csv.DictReader(text.splitlines()))
    assert len(parsed) == 4 and {r["release"] for r in parsed} == {"September 2022"}
    formula = next(r for r in parsed if r["value_as_written"].endswith("=1+2"))
    assert formula["value_as_written"] != "=1+2"  # neutralised: Excel shows it as text
    assert formula["value"] == "" and formula["source_row"] == "4"
    assert {r["is_sample"] for r in parsed} == {"False"}


def test_a_release_without_counts_in_the_link_is_said_so(revised_db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    at = run(revised_db, monkeypatch, **{"in": "September 2021"})
    assert ("The link asks for September 2021, a release without the Home Office counts. "
            "Showing the latest release with Home Office counts, September 2022 instead"
            ) in texts(at)
