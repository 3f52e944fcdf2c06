"""Needs review: unknown and low-confidence recipients, their overrides rows, CLI and page.

The database is built the way ingest builds it (``store_release`` of an in-memory release,
then ``rebuild``), with recipients of every kind the review is about: one on no list and no
rule (unknown), a council written by its place name alone (a leaning, 0.6), a name whose only
evidence is a weak rule, names that look like a formula or like markdown, and recipients the
lists settle (which must not be listed).
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis.classify import LOW_CONFIDENCE, classify_recipient
from analysis.pipeline import rebuild
from analysis.reference import clear_caches
from analysis.review import OVERRIDE_COLUMNS, overrides_csv, review_table
from extract.db import connect_readonly, writable
from extract.ingest import order_releases, store_release
from extract.model import ParsedRelease, RawRow, RawTable
from extract.normalise import normalise
from tests.test_analysis_reference import edited_reference  # noqa: F401 - a fixture

REPO = Path(__file__).resolve().parents[1]
HEADERS = ["Reference", "Organisation", "Project title", "Purpose", "Data shared",
           "Classification", "Legal basis", "Date approved", "Access route"]
# (reference, organisation) - several shares for some, so the order by shares is testable
SHARES = [
    ("DS01001", "Acme Widgets"), ("DS01002", "Acme Widgets"), ("DS01003", "Acme Widgets"),
    ("DS01004", "Kirklees"), ("DS01005", "Kirklees"),
    ("DS01006", "=1+2 Research"),
    ("DS01007", "**Bold** Trust <b>"),
    ("DS01008", "Kent County Council"), ("DS01009", "University of Leeds"),
    ("DS01010", "Local Authorities"), ("DS01011", ""),
]
EXPECTED = {"Acme Widgets": ("unknown", 3), "Kirklees Council": ("local_authority", 2),
            "=1+2 Research": ("commercial", 1),
            "**Bold** Trust <b>": ("charity", 1)}


def _release() -> ParsedRelease:
    rows = [RawRow([ref, org, "Project", "Research", "KS4 results", "Aggregate only", "",
                    "01/02/2021", "ONS SRS"], i + 1, page=2) for i, (ref, org) in enumerate(SHARES)]
    table = RawTable("dsap", "DfE external third-party data shares (approved by DSAP)",
                     HEADERS, rows, first_page=2)
    return ParsedRelease("SAMPLE_external_data_shares_to_end_of_March_2021.pdf", "pdf",
                         "External data shares to end of March 2021", 3, [table])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("review") / "npd.duckdb"
    rel = _release()
    with writable(path) as con:
        store_release(con, Path(rel.source_file), "sha-review", rel, normalise(rel))
        order_releases(con)
        con.execute("UPDATE shares SET share_key = coalesce(reference, 'row' || share_id)")
        rebuild(con)
    return path


def test_review_lists_unknown_and_weak_sectors_most_shares_first(db: Path) -> None:
    con = connect_readonly(db)
    try:
        table = review_table(con)
    finally:
        con.close()
    got = {n: (s, int(c)) for n, s, c in zip(table["name"], table["sector"], table["shares"],
                                            strict=True)}
    assert got == EXPECTED
    assert list(table["shares"]) == sorted(table["shares"], reverse=True)
    assert (table["confidence"] < LOW_CONFIDENCE).all()
    kirklees = table[table["name"] == "Kirklees Council"].iloc[0]
    assert "place name alone" in kirklees["reason"] and kirklees["spellings"] == "Kirklees"
    assert "no override, list entry or rule" in table.iloc[0]["reason"]


def test_overrides_rows_are_in_the_files_format_and_work_once_pasted(
        db: Path, edited_reference: Path) -> None:  # noqa: F811 - the imported fixture
    con = connect_readonly(db)
    try:
        text = overrides_csv(review_table(con))
    finally:
        con.close()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == OVERRIDE_COLUMNS
    assert {r[0] for r in rows[1:]} == set(EXPECTED) - {"=1+2 Research"} | {"'=1+2 Research"}
    assert all(r[2].startswith("TO CHECK: classifier said ") for r in rows[1:])
    # The reviewer sets a sector and pastes the rows (without the header) into the file.
    edited = [[r[0], "commercial", "checked: Companies House"] for r in rows[1:]]
    with (edited_reference / "overrides.csv").open("a", newline="") as fh:
        csv.writer(fh).writerows(edited)
    clear_caches()
    for name in EXPECTED:
        got = classify_recipient(name)
        assert (got.sector, got.confidence) == ("commercial", 1.0), (name, got)
        assert got.reason == "override in overrides.csv: checked: Companies House"


def test_cli_review_prints_the_list_and_writes_overrides_rows(db: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "to_review.csv"
    res = subprocess.run([sys.executable, "-m", "analysis", "review", "--db", str(db),
                          "--overrides", str(out_file)], capture_output=True, text=True,
                         cwd=REPO, check=True)
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["name", "sector", "confidence", "shares", "reason"]
    assert [r[0] for r in rows[1:3]] == ["Acme Widgets", "Kirklees Council"]
    assert "'=1+2 Research" in [r[0] for r in rows]
    assert "4 organisations (7 shares)" in res.stderr
    written = list(csv.reader(out_file.open()))
    assert tuple(written[0]) == OVERRIDE_COLUMNS and len(written) == 5


def test_cli_review_without_a_database_is_one_line(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "analysis", "review", "--db",
                          str(tmp_path / "none.duckdb")], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 1
    assert res.stderr.startswith("error: ") and len(res.stderr.splitlines()) == 1


@pytest.fixture
def app(db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("NPD_DB", str(db))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    yield at
    st.cache_data.clear()


def test_needs_review_page_lists_them_and_offers_the_rows(app: AppTest) -> None:
    app.switch_page("views/review.py")
    app.run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"Organisations to check": "4", "Shares resting on them": "7"}
    shown = app.dataframe[0].value
    assert list(shown["Organisation"])[:2] == ["Acme Widgets", "Kirklees Council"]
    assert "Kent County Council" not in set(shown["Organisation"])
    # register text in a caption is escaped: the markdown link is shown, not rendered
    caption = next(c.value for c in app.caption if c.value.startswith("First rows"))
    assert "\\*\\*Bold\\*\\* Trust \\<b\\>" in caption
    assert app.get("download_button")


def test_recipients_page_counts_shares_on_unsure_sectors(app: AppTest) -> None:
    app.switch_page("views/recipients.py")
    app.run()
    assert not app.exception, app.exception
    notes = [c.value for c in app.caption if "low-confidence sector" in c.value]
    assert notes and notes[0].startswith("7 of 11 shares here (4 organisations)")
