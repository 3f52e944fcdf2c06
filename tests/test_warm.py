"""views/warm.py: after the warm-up, the first visit of each page it covers runs no query.

The warm-up repeats the calls each page's default view makes; if a page changes what it
asks for, the warm-up stops helping without any error. So this opens the pages in AppTest
on a database version no test has read before, after :func:`views.warm.fill`, and counts
the connections the pages open (every cache miss opens one; a hit opens none).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures import dashboard_db as fx
from views import common, data, warm

APP = Path(__file__).resolve().parents[1] / "app.py"
WARMED = (common.OVERVIEW, common.SHARES, common.RECIPIENTS, common.CHANGES, common.EXPORT,
          common.FINDINGS, common.HOME_OFFICE, common.QUESTIONS)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warm")
    return fx.build(root / "register.duckdb", root / "releases", sample=True).path


def _settle() -> None:
    """Let warm-up threads started by earlier runs finish (they would count as queries)."""
    for thread in threading.enumerate():
        if thread.name == "npd-warm-caches":
            thread.join(timeout=60)


@pytest.fixture
def live(register: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's database: a copy of the register at a new path (a database version no
    cache has seen), once the warm-ups of earlier tests have finished."""
    db = tmp_path / "fresh.duckdb"
    shutil.copy(register, db)
    monkeypatch.setenv("NPD_DB", str(db))
    _settle()
    return db


def _count_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real = data.connection

    @contextlib.contextmanager
    def counting(db: str, private: bool = False) -> Iterator[object]:
        opened.append(str(db))
        with real(db, private) as con:
            yield con

    monkeypatch.setattr(data, "connection", counting)
    return opened


def test_no_covered_page_runs_a_query_after_the_warm_up(
        live: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _count_queries(monkeypatch)
    warm.fill()
    assert opened, "the warm-up ran no query at all"
    at = AppTest.from_file(str(APP), default_timeout=30)
    for page in WARMED:
        opened.clear()
        if page != common.OVERVIEW:
            at.switch_page(page)
        at.run()
        assert not at.exception, (page, at.exception)
        _settle()  # a warm-up this run started itself is for a version already warm
        assert opened == [], f"{page} ran {len(opened)} queries after the warm-up"


def test_without_the_warm_up_the_same_visits_do_query(
        live: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: on a version nobody warmed, the same visits query."""
    monkeypatch.setattr(warm, "start", lambda: None)
    opened = _count_queries(monkeypatch)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception
    assert opened


def test_the_app_warms_in_the_background_once_per_version(
        live: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    real = warm.fill

    def fill() -> None:
        started.append(threading.current_thread().name)
        real()

    monkeypatch.setattr(warm, "fill", fill)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.switch_page(common.SHARES)
    at.run()
    _settle()
    assert started == ["npd-warm-caches"]
