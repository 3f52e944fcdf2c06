"""Settings every test session shares: Playwright drives Debian's Chromium.

Playwright cannot download its own browser offline, so pytest-playwright's ``browser``
fixture is pointed at the system Chromium (``$CHROMIUM_PATH`` or ``chromium`` on PATH).
One Playwright instance serves the whole session: a test that started its own
``sync_playwright()`` after the browser tests would meet pytest-playwright's running
event loop and fail, so every browser test uses the ``browser`` (or ``page``) fixture.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
# Without the background-networking flags Chromium's calls home are refused by the closed
# network and slow every page load.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
