"""What changed, page and command: only sections both releases list are compared.

Three small releases stored with the real normaliser and derived with the real history and
analysis: the second gains a court-order section (a 2016 order, first listed there) and the
third drops it. The page must not call that order "added" nor "removed", must say which
sections are new or missing, use field names in words, and name an unknown ``changes_in``
value instead of silently showing something else. ``python -m extract changes`` says the
same.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from extract.db import writable
from extract.history import FIELD_LABELS, cli_changes
from extract.ingest import derive, store_release
from extract.normalise import normalise
from tests.test_app import fresh_caches  # noqa: F401 (autouse)
from tests.test_app import run as open_page
from tests.test_history import DSAP, Q1, Q2, Q3, release

PAGE = "views/changes.py"
COURT = ["Reference", "Organisation", "Data shared", "Date approved"]
ORDER = ["CO-2016-01", "Family Court (Leeds)", "Name, address", "12/05/2016"]


def ofsted(status: str) -> list[str]:
    return ["DS00001", "Ofsted", "Risk", "UPN", "Tier 2", "2019-01-01", "", status]


BBC = ["DS00002", "BBC", "Absence story", "absence rates", "Tier 4", "2019-04-02", "",
       "approved"]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("changes") / "register.duckdb"
    rels = [
        release("march-2019.ods", Q1, {"dsap": (DSAP, [ofsted("pending")])}),
        release("june-2019.ods", Q2, {"dsap": (DSAP, [ofsted("approved"), BBC]),
                                      "court_orders": (COURT, [ORDER])}),
        release("september-2019.ods", Q3, {"dsap": (DSAP, [BBC])}),
    ]
    with writable(path) as con:
        for r in rels:
            store_release(con, Path(r.source_file), f"sha-{r.source_file}", r, normalise(r))
        derive(con)
    return path


def run(db: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    """Open this page as a visitor following a link (tests/test_app.py's way)."""
    return open_page(db, monkeypatch, page=PAGE, **params)


def texts(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "subheader", "warning", "info")
             for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "").replace("**", "")


def test_history_does_not_add_or_remove_shares_of_a_section_one_release_lacks(db: Path):
    with duckdb.connect(str(db), read_only=True) as con:
        got = set(con.execute(
            """SELECT r.source_file, c.change, coalesce(c.field, ''), c.share_key
               FROM share_changes c JOIN releases r USING (release_id)""").fetchall())
    assert got == {
        ("june-2019.ods", "added", "", "DS00002"),
        ("june-2019.ods", "changed", "status", "DS00001"),
        ("september-2019.ods", "removed", "", "DS00001"),
    }  # the court order is neither added in June nor removed in September


def test_a_new_section_is_named_and_its_shares_listed_apart(db: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    at = run(db, monkeypatch, changes_in="June 2019")
    tables = {d.key: d.value for d in at.dataframe}
    assert list(tables["added_table"]["Reference"]) == ["DS00002"]
    assert list(tables["new_section_court_orders"]["Reference"]) == ["CO-2016-01"]
    assert {m.label: m.value for m in at.metric}["Shares added"] == "1"
    text = texts(at)
    assert "New section in June 2019: Court orders (1 register row)" in text
    assert "Sections compared (in both releases): DSAP approvals." in text
    # Field names in words, release labels in full.
    changed = tables["changed_table"]
    assert list(changed["Field"]) == [FIELD_LABELS["status"]] == ["Status"]
    assert list(changed.columns[-2:]) == ["In March 2019", "In June 2019"]
    assert list(changed["What differs"]) == ["− pending · + approved"]


def test_a_dropped_section_is_named_and_not_counted_as_removed(
        db: Path, monkeypatch: pytest.MonkeyPatch):
    at = run(db, monkeypatch)  # the latest: September 2019
    assert at.selectbox(key="changes_in").value == "September 2019"
    tables = {d.key: d.value for d in at.dataframe}
    assert list(tables["removed_table"]["Reference"]) == ["DS00001"]
    assert "Not in September 2019: Court orders (1 register row in June 2019)" in texts(at)


@pytest.mark.parametrize("asked", ["March 2022", "march-2019.ods"])
def test_an_unknown_release_in_the_link_is_named_and_the_address_kept(
        db: Path, monkeypatch: pytest.MonkeyPatch, asked: str):
    at = run(db, monkeypatch, changes_in=asked)
    text = texts(at)
    assert asked in text and "Showing September 2019 compared with June 2019 instead" in text
    # The shared notice (views.common.unknown_value_notice), saying why this value is not shown.
    why = ("no earlier one to compare it with" if asked.startswith("march-2019")
           else "which is not in this database")
    assert [w.value.startswith("The link asks for the release") and why in w.value
            for w in at.warning] == [True]
    assert at.query_params["changes_in"] in (asked, [asked])
    assert "**September 2019** compared with **June 2019**" in [m.value for m in at.markdown]


def test_a_file_name_in_the_link_opens_its_release(db: Path, monkeypatch: pytest.MonkeyPatch):
    at = run(db, monkeypatch, changes_in="june-2019.ods")
    assert at.selectbox(key="changes_in").value == "June 2019"
    assert not at.warning or all("link asks" not in w.value for w in at.warning)


def test_the_changes_command_says_the_same(db: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    assert cli_changes(argparse.Namespace(db=str(copy), release=None)) == 0
    out = capsys.readouterr().out
    june, september = out.split("september-2019.ods (September 2019)", 1)
    assert "New section in this release: Court orders (1 register row; not counted as " \
           "added" in june
    assert "1 added, 0 removed, 1 changed" in june
    assert "Status: pending -> approved" in june
    assert "Section not in this release: Court orders (1 register row before; not counted " \
           "as removed)" in september
    assert "0 added, 1 removed, 0 changed" in september
