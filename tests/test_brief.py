"""The release briefing: its contents, escaping, the CLI, and that it opens offline in
Chromium without making a single request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis import brief
from analysis.__main__ import main
from extract.db import connect_readonly, writable
from tests.conftest import CHROMIUM
from tests.fixtures import dashboard_db

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "_artifacts"
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> Ltd"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dashboard fixture (sample-labelled), with one commercial recipient renamed to
    markup and one project to a link, as hostile register text would be."""
    root = tmp_path_factory.mktemp("brief")
    built = dashboard_db.build(root / "register.duckdb", root / "releases", sample=True)
    with writable(built.path) as con:
        con.execute("UPDATE organisations SET name = ? WHERE name = 'SchoolDash Limited'",
                    [HOSTILE])
        con.execute("UPDATE shares SET project = 'See <a href=\"https://evil.example\">x</a>'"
                    " WHERE reference = 'DS00712'")
        rid = con.execute("SELECT max(release_id) FROM releases").fetchone()[0]
        for i, (req, mat) in enumerate([(61, 19), (0, 0), (507, 94)]):
            for measure, value in (("Number of individuals requested", req),
                                   ("Number of individuals matched", mat)):
                con.execute(
                    "INSERT INTO count_rows (release_id, source_file, section, source_sheet,"
                    " source_row, period_label, period_start, measure, value, value_raw,"
                    " raw_cells) VALUES (?, ?, 'home_office', 'Home Office', ?, ?, ?, ?, ?, ?,"
                    " '{}')",
                    [rid, "dfe-external-data-shares-september-2023.ods", i + 2,
                     f"{['July', 'August', 'September'][i]} 2023",
                     f"2023-0{7 + i}-01", measure, value, str(value)])
    return built.path


@pytest.fixture(scope="module")
def html(db: Path) -> str:
    con = connect_readonly(db)
    try:
        return brief.build(con)
    finally:
        con.close()


def _expected(db: Path) -> dict[str, object]:
    con = connect_readonly(db)
    try:
        rid, name = con.execute("SELECT release_id, period_label FROM releases "
                                "ORDER BY release_order DESC LIMIT 1").fetchone()
        added = con.execute("SELECT count(*) FROM share_changes WHERE release_id = ? AND "
                            "change = 'added'", [rid]).fetchone()[0]
        refs = [r[0] for r in con.execute(
            "SELECT reference FROM v_share_details WHERE release_id = ? AND "
            "identifying_pupil_level AND sector IN ('commercial', 'press')", [rid]).fetchall()]
    finally:
        con.close()
    return {"name": name, "added": added, "refs": refs}


def test_briefing_contents(db: Path, html: str) -> None:
    want = _expected(db)
    assert f"<h1>Release briefing: {want['name']}</h1>" in html
    assert "Sample data: reconstructed releases, not DfE publications" in html
    assert f"Compared with March 2022: {want['added']} shares added" in html
    assert want["refs"], "the fixture has commercial identifying shares"
    section = html.split("Commercial and press recipients")[1].split("<h2>")[0]
    for ref in want["refs"]:
        assert f"<td>{ref}</td>" in section
    # each share mentioned carries its file, page or sheet and row, and its address
    assert "dfe-external-data-shares-september-2023.ods, sheet &#x27;DSAP approved shares" \
        in section
    assert "/share?ref=S05&amp;in=dfe-external-data-shares-september-2023.ods" in section
    assert "<h2>Home Office counts</h2>" in html and "<h2>Provenance</h2>" in html
    assert "3 months; individuals requested 0 to 507 a month (total 568), matched 0 to 94" \
        in html
    assert "<td>September 2023</td><td class='num'>507</td><td class='num'>94</td>" in html
    assert "licence: " in html and "npd-shares " in html


def test_register_text_is_escaped(html: str) -> None:
    assert HOSTILE not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<a href=\"https://evil.example\"" not in html
    body = html.split("</head>")[1]  # plotly.js is in the head; the body only draws charts
    assert body.count("<script") == body.count("<script>") == 2  # the two charts
    assert "https://" not in html.split("<script>")[0]  # no external stylesheet or font


def test_cli(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "brief.html"
    assert main(["brief", "--db", str(db), "--release", "December 2018", "--out",
                 str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "<h1>Release briefing: December 2018</h1>" in text
    assert "dfe-external-data-shares-december-2018.pdf, page " in text
    capsys.readouterr()
    assert main(["brief", "--db", str(db), "--release", "May 1999", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no release 'May 1999'; one of April 2018") \
        and err.count("\n") == 1


@pytest.mark.skipif(not CHROMIUM, reason="no Chromium: `sudo apt-get install -y chromium`")
def test_opens_offline_in_chromium(html: str, tmp_path: Path, browser: Any) -> None:
    path = tmp_path / "brief.html"
    path.write_text(html, encoding="utf-8")
    requests: list[str] = []
    dialogs: list[str] = []
    context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    try:
        page = context.new_page()

        def route(r) -> None:  # type: ignore[no-untyped-def]
            requests.append(r.request.url)
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                r.abort()

        context.route("**/*", route)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_selector("#chart-sectors .main-svg", timeout=20_000)
        page.wait_for_selector("#chart-home-office .main-svg", timeout=20_000)
        assert page.locator("h1").inner_text().startswith("Release briefing: ")
        bars = page.locator("#chart-sectors .point").count()
        assert bars >= 2
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "brief.png"), full_page=False)
    finally:
        context.close()
    assert [u for u in requests if not u.startswith("file://")] == []
    assert dialogs == []  # no injected script ran
