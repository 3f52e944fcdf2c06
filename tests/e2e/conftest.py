"""Browser tests: Playwright drives Debian's Chromium against a real `streamlit run app.py`.

Playwright cannot download its own browser offline, so the system Chromium is used
(``$CHROMIUM_PATH`` or ``chromium`` on PATH). Without it these tests are skip-marked, not
deselected, so ``pytest -m e2e`` still collects them and says why.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extract.db import writable
from tests.conftest import CHROMIUM
from tests.fixtures import dashboard_db

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "_artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="no Chromium: `sudo apt-get install -y chromium` "
                                   "(or set CHROMIUM_PATH)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A journalist's laptop screen.
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768},
            "accept_downloads": True}


# Register text a hostile or careless publisher could write: formula starts for the
# downloads, and a URL, an e-mail address, a material-icon shortcode, HTML and a
# right-to-left override for the pages, which must all show as plain text.
HOSTILE_PROJECT = ("+SUM(1,2) Evil\u202eLtd https://evil.example/x a@b.example "
                   ":material/home: <b>bold</b>")
HOSTILE_PURPOSE = "@cmd|' /C calc'!A0"
HOSTILE_KEY = "S10"


@pytest.fixture(scope="session")
def e2e_db(tmp_path_factory: pytest.TempPathFactory) -> dashboard_db.Built:
    root = tmp_path_factory.mktemp("e2e")
    built = dashboard_db.build(root / "register.duckdb", root / "releases", sample=True)
    with writable(built.path) as con:
        con.execute("UPDATE shares SET project = ?, purpose = ? WHERE share_key = ?",
                    [HOSTILE_PROJECT, HOSTILE_PURPOSE, HOSTILE_KEY])
    return built


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def app_url(e2e_db: dashboard_db.Built, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[str]:
    """`python -m streamlit run app.py` on a free port, on the fixture database."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = {**os.environ, "NPD_DB": str(e2e_db.path)}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1",
             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
