"""``python -m extract debug``: PNG pages with the reader's decisions drawn where they are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from extract.pdf_debug import AREA, BOUND, FURNITURE, RESOLUTION, ROW, parse_pages, trace_pdf
from tests.fixtures.corpus_rows import build_sections
from tests.fixtures.pdfgen import write_register_pdf

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def unruled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tightly set unruled corpus layout (reportlab) of several pages."""
    path = tmp_path_factory.mktemp("debug") / "tight.pdf"
    sections = build_sections(105, {"npd": 40, "police": 10}, "long")
    write_register_pdf(path, [s.fixture() for s in sections], title="SAMPLE register",
                       layout="unruled", seed=105, row_padding=0.0, leading=8.0)
    return path


def _near(img: Image.Image, x: float, y: float, colour: tuple[int, int, int],
          radius: int = 3) -> bool:
    px = img.load()
    cx, cy = round(x), round(y)
    return any(px[i, j][:3] == colour
               for i in range(max(0, cx - radius), min(img.width, cx + radius + 1))
               for j in range(max(0, cy - radius), min(img.height, cy + radius + 1)))


def test_cli_writes_pngs_with_bounds_rows_and_furniture_drawn(unruled: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "png"
    proc = subprocess.run([sys.executable, "-m", "extract", "debug", str(unruled),
                           "--pages", "2-3", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    pngs = sorted(out.glob("*.png"))
    assert [p.name for p in pngs] == ["tight_p2.png", "tight_p3.png"]
    trace = trace_pdf(unruled)
    scale = RESOLUTION / 72
    with pdfplumber.open(unruled) as pdf:
        for png, n in zip(pngs, (2, 3), strict=True):
            page = pdf.pages[n - 1]
            img = Image.open(png).convert("RGB")
            # the page's aspect ratio
            assert abs(img.width / img.height - float(page.width) / float(page.height)) < 0.01
            pt = trace.pages[n]
            tables = [t for t in pt.tables if t.rows]
            assert tables and tables[0].section == "npd_requests"
            for table in tables:
                assert len(table.bounds) == {"npd_requests": 6, "police": 3}[table.section]
                top = min(b[1] for b in table.rows) * scale
                bottom = max(b[3] for b in table.rows) * scale
                for x in table.bounds:  # each column bound drawn down the table area
                    for y in (top + 3, (top + bottom) / 2, bottom - 3):
                        assert _near(img, x * scale, y, BOUND), (png.name, x, y)
                for b in table.rows:  # each row box's top-left corner
                    assert _near(img, b[0] * scale, b[1] * scale, ROW), (png.name, b)
                assert _near(img, min(b[0] for b in table.rows) * scale - 3 * scale,
                             (top + bottom) / 2, AREA)
            assert pt.furniture  # "OFFICIAL" and "Page n of m"
            for b in pt.furniture:
                assert _near(img, b[0] * scale, b[1] * scale, FURNITURE), (png.name, b)
            # And nowhere else: no bound colour far left of the table.
            assert not _near(img, 5, img.height / 2, BOUND)


def test_row_boxes_are_the_stored_rows(unruled: Path) -> None:
    """One green box per row started on the page (tight rows are not one box)."""
    from extract.pdf import read_pdf

    trace = trace_pdf(unruled)
    parsed = read_pdf(unruled)
    starts = sum(len(t.rows) for t in parsed.tables)
    boxes = sum(len(t.rows) for pt in trace.pages.values() for t in pt.tables)
    assert starts == 50
    assert starts <= boxes <= starts + len(trace.pages)  # + a continued row per page


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "not.pdf"
    bad.write_text("hello")
    proc = subprocess.run([sys.executable, "-m", "extract", "debug", str(bad), "--out",
                           str(tmp_path / "o")], cwd=REPO, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: not.pdf: not a PDF file (no %PDF header)"


def test_page_ranges() -> None:
    assert parse_pages("3-5,8", 10) == [3, 4, 5, 8]
    assert parse_pages(None, 3) == [1, 2, 3]
    assert parse_pages("2-40", 4) == [2, 3, 4]
    for bad in ("x", "5-3", "0", "20"):
        with pytest.raises(ValueError):
            parse_pages(bad, 10)
