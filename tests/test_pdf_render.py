"""The share page's image of its source page (views/pdf_render.py): bounded in pixels on any
page size, the share's row highlighted where its text is, and None (not an exception) for
what cannot be rendered."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from tests.fixtures.pdfgen import realistic_sections, write_register_pdf
from views import data
from views.pdf_render import HIGHLIGHT_EDGE, MAX_PIXELS, MAX_SIDE, render_page, scale_for

TITLE = "DfE external data shares to end of March 2022"


def _huge_page(path: Path, side: float = 14_400) -> Path:
    """A tiny file declaring one enormous page (issue 13 item 4: 840 bytes, 14,400 pt)."""
    c = canvas.Canvas(str(path), pagesize=(side, side))
    c.setFont("Helvetica", 400)
    c.drawString(1000, side - 2000, "DS00628 FFT Education Ltd")
    c.showPage()
    c.save()
    return path


def _image(png: bytes | None) -> Image.Image:
    assert png is not None and png.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(png))


def _red(img: Image.Image) -> np.ndarray:
    """Pixels of the highlight's outline colour."""
    a = np.asarray(img.convert("RGB")).astype(int)
    return (np.abs(a - np.array(HIGHLIGHT_EDGE[:3])).sum(axis=2) < 40)


@pytest.mark.parametrize("side", [14_400.0, 5_000.0])
def test_huge_page_renders_within_the_pixel_bound(tmp_path: Path, side: float) -> None:
    path = _huge_page(tmp_path / "huge.pdf", side)
    assert path.stat().st_size < 3000  # small on disk, as in the report
    img = _image(render_page(path, 1, ("DS00628",)))  # Pillow's bomb check runs on open
    w, h = img.size
    assert w * h <= MAX_PIXELS and max(w, h) <= MAX_SIDE
    assert w == h  # the page's shape is kept
    assert _red(img).any(), "the share's text was not highlighted on the scaled page"


def test_very_long_page_keeps_both_bounds(tmp_path: Path) -> None:
    path = tmp_path / "strip.pdf"
    c = canvas.Canvas(str(path), pagesize=(200, 14_400))
    c.drawString(20, 14_000, "DS00628")
    c.showPage()
    c.save()
    img = _image(render_page(path, 1))
    assert max(img.size) <= MAX_SIDE and img.size[0] * img.size[1] <= MAX_PIXELS
    assert img.size[0] >= 30  # not squashed to nothing


def test_ordinary_pages_keep_the_requested_resolution() -> None:
    assert scale_for(842, 595, 110) == pytest.approx(110 / 72)
    assert scale_for(14_400, 14_400, 110) * 14_400 <= MAX_SIDE


@pytest.fixture(scope="module")
def ruled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("render") / "ruled.pdf"
    write_register_pdf(path, realistic_sections(21, {"dsap": 12, "police": 3}), title=TITLE,
                       seed=1)
    return path


def _reference_box(path: Path, needle: str) -> tuple[float, float]:
    """The needle's vertical extent as a share of the page height (pdfium's own search)."""
    doc = pdfium.PdfDocument(str(path))
    page = doc[0]
    text = page.get_textpage()
    first, count = text.search(needle).get_next()
    boxes = [text.get_charbox(i) for i in range(first, first + count)]
    h = page.get_height()
    out = ((h - max(b[3] for b in boxes)) / h, (h - min(b[1] for b in boxes)) / h)
    doc.close()
    return out


def test_the_share_row_is_highlighted_around_its_text(ruled: Path) -> None:
    doc = pdfium.PdfDocument(str(ruled))
    text = doc[0].get_textpage().get_text_range()
    doc.close()
    needle = next(w for w in text.split() if w.startswith("DS") and w[2:].isdigit())
    img = _image(render_page(ruled, 1, (needle,)))
    plain = _image(render_page(ruled, 1, ()))
    assert img.size == plain.size
    assert not _red(plain).any()
    rows = np.flatnonzero(_red(img).any(axis=1))
    assert rows.size, "no highlight drawn"
    top, bottom = _reference_box(ruled, needle)
    h = img.size[1]
    assert rows.min() <= top * h and bottom * h <= rows.max() + 1
    assert rows.max() - rows.min() < h / 4  # one row, not the whole table


def test_views_data_page_image_is_this_renderer(ruled: Path) -> None:
    assert data.page_image(ruled, 1, ("DS",)) == render_page(ruled, 1, ("DS",))


def test_what_cannot_be_rendered_is_none(ruled: Path, tmp_path: Path) -> None:
    assert render_page(ruled, 99) is None
    assert render_page(ruled, 0) is None
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n% nothing else\n")
    assert render_page(broken, 1) is None
    assert render_page(tmp_path / "missing.pdf", 1) is None
