"""The dashboard in a real browser: what AppTest cannot see (URLs written by bound widgets,
the canvas grid's row selection, rendered images, downloaded bytes).

Screenshots of each step go to tests/_artifacts/ (gitignored).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures import dashboard_db as fx

pytestmark = pytest.mark.e2e
LATEST = len(fx.RELEASES)
TIMEOUT = 20_000


def settled(page: Page) -> None:
    """Wait until Streamlit has finished the rerun an interaction started."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=TIMEOUT)


def metric(page: Page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label)
    return box.get_by_test_id("stMetricValue").inner_text(timeout=TIMEOUT)


def test_load_follow_a_figure_search_filter_and_open_a_share(
        page: Page, app_url: str, e2e_db: fx.Built, artifacts: Path) -> None:
    latest = fx.shares_in(LATEST)
    ident = [s for s in latest
             if {"identifying", "pupil_level"} <= {f for f, _, _ in s.flags}]
    page.goto(app_url)
    expect(page.get_by_text("Sample data: reconstructed releases, not DfE publications")
           ).to_be_visible(timeout=TIMEOUT)
    assert metric(page, "Shares") == str(len(latest))
    page.screenshot(path=artifacts / "01-overview.png")

    # A headline figure links to the rows behind it, with the filters in the address.
    page.get_by_role("button", name=f"{len(ident)} identifying shares").click()
    expect(page).to_have_url(re.compile(r"/shares\?.*flag=Identifying&flag=Pupil-level"),
                             timeout=TIMEOUT)
    expect(page.get_by_text(f"{len(ident)} shares", exact=False).first).to_be_visible()
    settled(page)
    page.screenshot(path=artifacts / "02-explorer-identifying.png")

    # Search: the bound box writes the term into the URL.
    search = page.get_by_role("textbox", name="Search")
    search.fill("phonics")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"q=phonics"), timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"^1 register row \(1 share\)"))).to_be_visible(
        timeout=TIMEOUT)

    # Filter by sector through the multiselect.
    sector = page.get_by_test_id("stMultiSelect").filter(has_text="Recipient sector")
    # The sidebar lists every page first: bring the box up so its menu opens on screen.
    sector.evaluate("e => e.scrollIntoView({block: 'center'})")
    sector.click()
    page.get_by_role("option", name="Charity / think tank").click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"sector=Charity"), timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"^1 register row \(1 share\)"))).to_be_visible(
        timeout=TIMEOUT)
    settled(page)
    page.screenshot(path=artifacts / "03-explorer-filtered.png")

    # Open the share: a click on the first row's organisation cell (not only its box).
    # Right after a multiselect the grid swallows the first click (Streamlit's menu still
    # holds the pointer; a person clicks again), so the test clicks once more if needed.
    grid = page.get_by_test_id("stDataFrame").first
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 300, box["y"] + 35 + 17)
    page.wait_for_timeout(1500)
    if "/shares" in page.url:
        page.mouse.click(box["x"] + 300, box["y"] + 35 + 17)
    # The address names the share stably: its key and its release's file, not its ID.
    expect(page).to_have_url(re.compile(r"/share\?(.*&)?ref=S19(&|$)"), timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="National Foundation for Educational Research")
           ).to_be_visible(timeout=TIMEOUT)
    query = parse_qs(urlsplit(page.url).query)
    assert (query["ref"], query["in"]) == (["S19"], [fx.RELEASES[LATEST - 1].source_file])
    assert "share" not in query
    assert "q=phonics" in page.url  # the filters travel with the share
    page.get_by_role("tab", name="Source and provenance").click()
    expect(page.get_by_text("sheet 'DSAP approved shares'", exact=False).first
           ).to_be_visible()
    settled(page)
    page.screenshot(path=artifacts / "04-share-detail.png")


def test_pdf_share_shows_its_source_page(page: Page, app_url: str, e2e_db: fx.Built,
                                         artifacts: Path) -> None:
    # An old link by ID still opens, and the address becomes the stable link.
    share_id = e2e_db.share_ids[("S01", 2)]
    page.goto(f"{app_url}/share?share={share_id}")
    expect(page.get_by_role("heading", name="Times Newspapers Limited")
           ).to_be_visible(timeout=TIMEOUT)
    pdf = fx.RELEASES[1].source_file
    expect(page).to_have_url(re.compile(rf"/share\?(.*&)?ref=S01&in={re.escape(pdf)}(&|$)"),
                             timeout=TIMEOUT)
    assert "share=" not in page.url
    page.get_by_role("tab", name="Source and provenance").click()
    image = page.get_by_test_id("stImage").locator("img")
    expect(image).to_be_visible(timeout=TIMEOUT)
    assert image.evaluate("img => img.naturalWidth") > 800  # a rendered page, not an icon
    page.get_by_test_id("stImage").scroll_into_view_if_needed()
    settled(page)
    page.screenshot(path=artifacts / "05-pdf-source-page.png")


def test_export_downloads_are_safe_in_excel(page: Page, app_url: str, artifacts: Path
                                            ) -> None:
    pytest.importorskip("analysis.export")
    commercial = [s for s in fx.shares_in(LATEST) if fx.ORGS[s.org].sector == "commercial"]
    page.goto(f"{app_url}/export?sector=Commercial")
    expect(page.get_by_text(f"{len(commercial)} shares", exact=False).first
           ).to_be_visible(timeout=TIMEOUT)
    settled(page)
    page.screenshot(path=artifacts / "06-export.png")

    with page.expect_download(timeout=TIMEOUT) as dl:
        page.get_by_role("button", name="Download shares (CSV)").click()
    assert dl.value.suggested_filename.endswith(".csv")
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads accents right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["release", "reference", "organisation"]
    assert len(body) == len(commercial)
    org = header.index("organisation")
    assert {r[org] for r in body} >= {"FFT Education Ltd", "SchoolDash Limited"}
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert "'=HYPERLINK(\"http://example.org/summary\",\"Attendance dashboard\")" in cells
    sample = header.index("is_sample")
    assert {r[sample] for r in body} == {"True"}  # every row says it is sample data

    with page.expect_download(timeout=TIMEOUT) as dl:
        page.get_by_role("button", name="Download shares (Excel)").click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    # It opens on what the file is; the register is sample data, so that comes first.
    assert book.sheetnames == ["About this file", "Shares"]
    about = {r[0]: r[1] for r in book["About this file"].iter_rows(min_row=2, values_only=True)}
    assert next(iter(about)) == "Sample data"
    assert about["Sample data"].startswith("Sample data: reconstructed releases")
    assert "Commercial" in about["Filters"]
    sheet = book["Shares"]
    values = [c for ws in book for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in values if c.data_type == "f"]
    assert sheet.max_row == len(commercial) + 1
    header = [c.value for c in sheet[1]]
    assert {r[header.index("is_sample")] for r in sheet.iter_rows(min_row=2, values_only=True)
            } == {True}


# --- downloads, text safety, unknown link values, every page at two sizes -------------------

def test_the_only_downloads_are_the_safe_ones(page: Page, app_url: str, artifacts: Path
                                               ) -> None:
    """The grid's own toolbar offers no CSV (it would write formula cells raw); the
    explorer's download button writes them neutralised, with key, address and is_sample."""
    from tests.e2e.conftest import HOSTILE_KEY, HOSTILE_PROJECT, HOSTILE_PURPOSE

    page.goto(f"{app_url}/shares?release=All+releases")
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible(timeout=TIMEOUT)
    settled(page)
    grid.hover()
    page.wait_for_timeout(500)
    toolbar = page.get_by_test_id("stElementToolbar")
    expect(toolbar.first).to_be_attached()  # the toolbar is there (search, fullscreen)...
    assert toolbar.get_by_role("button", name=re.compile("download", re.I)).count() == 0
    page.screenshot(path=artifacts / "07-explorer-toolbar.png")

    with page.expect_download(timeout=TIMEOUT) as dl:
        page.get_by_role("button", name=re.compile(r"Download all .* register rows")).click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_bytes()
                                           .decode("utf-8-sig"))))
    assert len(rows) == sum(len(fx.shares_in(n)) for n in range(1, LATEST + 1))
    cells = [c for r in rows for c in r.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    hostile = [r for r in rows if r["share_key"] == HOSTILE_KEY]
    assert hostile and {r["project"] for r in hostile} == {"'" + HOSTILE_PROJECT}
    assert {r["purpose"] for r in hostile} == {"'" + HOSTILE_PURPOSE}
    assert "'=HYPERLINK(\"http://example.org/summary\",\"Attendance dashboard\")" in cells
    assert all(r["share_url"] == f"/share?ref={r['share_key']}&in={r['source_file']}"
               for r in rows if r["share_key"].isalnum())
    assert {r["is_sample"] for r in rows} == {"True"}


def test_register_text_shows_as_text(page: Page, app_url: str, artifacts: Path) -> None:
    from tests.e2e.conftest import HOSTILE_KEY

    page.goto(f"{app_url}/share?ref={HOSTILE_KEY}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("⟨U+202E⟩", exact=False).first).to_be_visible(timeout=TIMEOUT)
    settled(page)
    # Written out, not turned into a link, an e-mail link, an icon or bold text.
    # (an invisible word joiner inside "://" and before "@" keeps markdown from linking them)
    expect(main.get_by_text(re.compile("https:\u2060?//evil\\.example/x")).first
           ).to_be_visible()
    expect(main.get_by_text(re.compile("a\u2060?@b\\.example")).first).to_be_visible()
    expect(main.get_by_text(":material/home:", exact=False).first).to_be_visible()
    expect(main.get_by_text("<b>bold</b>", exact=False).first).to_be_visible()
    assert main.locator('a[href*="evil.example"], a[href^="mailto:"]').count() == 0
    assert main.locator("b", has_text="bold").count() == 0
    page.screenshot(path=artifacts / "08-hostile-text.png")


def test_unknown_link_values_are_named_on_the_page(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/shares?release=March+2031&sector=Foo&from=2021-13-45")
    latest = fx.RELEASES[LATEST - 1].period_label
    expect(page.get_by_text("The link asks for the release “March 2031”", exact=False)
           ).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(f"Showing the latest release, {latest} instead", exact=False)
           ).to_be_visible()
    expect(page.get_by_text("the sector “Foo”", exact=False)).to_be_visible()
    expect(page.get_by_text("“2021-13-45”", exact=False)).to_be_visible()
    page.goto(f"{app_url}/recipients?org=Nobody+Ltd")
    expect(page.get_by_text("the organisation “Nobody Ltd”", exact=False)
           ).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Showing every recipient instead", exact=False)).to_be_visible()


PAGES = [("Overview", "/"), ("Shares explorer", "/shares?release=All+releases"),
         ("Recipients", "/recipients"), ("Recipients", "/recipients?org=BBC"),
         ("Share detail", "/share?ref=S19"), ("What changed", "/changes"),
         ("Export", "/export"), ("Findings", "/findings"), ("Home Office", "/home-office"),
         ("Questions", "/questions"), ("Needs review", "/review"),
         ("Release health", "/health")]
SCRIPTS = {"Findings": "findings", "Home Office": "home_office", "Questions": "questions",
           "Needs review": "review", "Release health": "health"}
PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize("size", ["1280x800", "390x844"])
def test_every_page_at_desk_and_phone_width(browser: Any, app_url: str, artifacts: Path,
                                            size: str) -> None:
    """A screenshot of every page at both sizes (look at them); each page has its own tab
    title, asks nothing of any other server (icons are local), and on a phone the filters
    are in the page while the sidebar stays collapsed."""
    width, height = (int(x) for x in size.split("x"))
    phone = width < 700
    context = browser.new_context(viewport={"width": width, "height": height},
                                  user_agent=PHONE_AGENT if phone else None,
                                  is_mobile=phone, has_touch=phone)
    page = context.new_page()
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    try:
        for n, (title, path) in enumerate(PAGES):
            script = SCRIPTS.get(title)
            if script and not (fx_repo() / "views" / f"{script}.py").exists():
                continue
            page.goto(app_url + path)
            page.get_by_test_id("stMain").get_by_test_id("stHeading").first.wait_for(
                timeout=TIMEOUT)
            settled(page)
            page.wait_for_timeout(700)  # charts and grids paint after the run
            name = re.sub(r"[^a-z0-9]+", "-", f"{n:02d}-{title}-{path}".lower()).strip("-")
            page.screenshot(path=artifacts / f"page-{size}-{name}.png")
            expect(page).to_have_title(f"{title} · NPD data shares")
            assert not page.get_by_test_id("stException").count(), path
            sidebar = page.get_by_test_id("stSidebar")
            if phone:
                expect(sidebar).not_to_be_in_viewport()
                expect(page.get_by_test_id("stMain").get_by_test_id("stExpander")
                       .filter(has_text="Filter shares")).to_be_visible()
            else:
                expect(sidebar.get_by_text("Filter shares")).to_be_visible()
                # No metric label or link-styled button text cut short ("To commercial comp…").
                cut = page.evaluate("""() => [...document.querySelectorAll(
                    ['stMetricLabel', 'stBaseButton-tertiary', 'stBaseButton-secondary']
                    .map(t => `[data-testid="stMain"] [data-testid="${t}"], `
                              + `[data-testid="stMain"] [data-testid="${t}"] *`).join(', '))]
                    .filter(e => getComputedStyle(e).textOverflow === 'ellipsis'
                                 && e.scrollWidth > e.clientWidth + 1)
                    .map(e => e.textContent)""")
                assert cut == [], (path, cut)
    finally:
        context.close()
    assert elsewhere == []


def fx_repo() -> Path:
    return Path(__file__).resolve().parents[2]
