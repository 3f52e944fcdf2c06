"""The dashboard in a real browser: what AppTest cannot see (URLs written by bound widgets,
the canvas grid's row selection, rendered images, downloaded bytes).

Screenshots of each step go to tests/_artifacts/ (gitignored).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
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
    assert metric(page, "Shares listed") == str(len(latest))
    page.screenshot(path=artifacts / "01-overview.png")

    # A headline figure links to the rows behind it, with the filters in the address.
    page.get_by_role("button", name=f"See the {len(ident)} identifying shares").click()
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
    expect(page.get_by_text(re.compile(r"^1 share\b"))).to_be_visible(timeout=TIMEOUT)

    # Filter by sector through the multiselect.
    page.get_by_test_id("stMultiSelect").filter(has_text="Recipient sector").click()
    page.get_by_role("option", name="Charity / think tank").click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"sector=Charity"), timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"^1 share\b"))).to_be_visible(timeout=TIMEOUT)
    settled(page)
    page.screenshot(path=artifacts / "03-explorer-filtered.png")

    # Open the share: tick the first row's selection box in the canvas grid.
    grid = page.get_by_test_id("stDataFrame").first
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
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
