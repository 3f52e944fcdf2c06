"""One page of a release PDF as a PNG for the share page, rendered by pdfium, with the
share's row highlighted.

The image is bounded in pixels whatever the page declares: a page of 14,400 pt square (an
840-byte file can say so) at the usual 110 dpi would be a 22,000 x 22,000 image, about 6 GB
in memory before Pillow refuses it with a ``DecompressionBombError`` (issue 13, item 4).
Here the scale is the smallest of the requested resolution, :data:`MAX_SIDE` pixels on the
longer side and :data:`MAX_PIXELS` in all, so memory stays under ~30 MB for any page.

pdfium renders directly (no pdfminer parse of the page, which pdfplumber's ``to_image``
needs for its own coordinates). pdfium is not thread-safe and the dashboard serves each
session from its own thread, so every render holds the reader's pdfium lock.
"""

from __future__ import annotations

import ctypes
import io
import math
from pathlib import Path
from typing import Any

MAX_SIDE = 2400  # pixels on the longer side
MAX_PIXELS = 6_000_000  # pixels in all (24 MB as RGBA)
HIGHLIGHT_FILL = (255, 214, 0, 60)
HIGHLIGHT_EDGE = (214, 40, 40, 255)

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in image pixels


def scale_for(width_pt: float, height_pt: float, resolution: float = 110) -> float:
    """Pixels per point: the resolution asked for, unless the page is so large (or so
    oddly shaped) that the image would pass :data:`MAX_SIDE` or :data:`MAX_PIXELS`."""
    scale = resolution / 72
    w, h = max(width_pt, 1.0), max(height_pt, 1.0)
    scale = min(scale, MAX_SIDE / max(w, h), math.sqrt(MAX_PIXELS / (w * h)))
    return max(scale, 1e-4)


def _to_device(page: Any, size: tuple[int, int], x: float, y: float) -> tuple[int, int]:
    """A point of the page (PDF user space) on the rendered image, rotation and crop box
    included, through pdfium's own mapping."""
    import pypdfium2.raw as raw

    dx, dy = ctypes.c_int(), ctypes.c_int()
    raw.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, dx, dy)
    return dx.value, dy.value


def find_text(page: Any, size: tuple[int, int], needles: tuple[str, ...]) -> Box | None:
    """Where the first needle found sits on the rendered image (pixels)."""
    text = page.get_textpage()
    try:
        for needle in needles:
            found = text.search(needle, match_case=False).get_next() if needle else None
            if not found:
                continue
            first, count = found
            xs: list[int] = []
            ys: list[int] = []
            for i in range(first, first + count):
                left, bottom, right, top = text.get_charbox(i)
                for px, py in ((left, bottom), (right, top)):
                    dx, dy = _to_device(page, size, px, py)
                    xs.append(dx)
                    ys.append(dy)
            return (min(xs), min(ys), max(xs), max(ys))
        return None
    finally:
        text.close()


def row_box(image: Any, hit: Box) -> Box:
    """The ruled table row around a hit, found on the rendered image: the nearest ruling
    lines above and below (pixel rows that are mostly dark); without rulings, a band
    across the page at the hit's line."""
    import numpy as np

    dark = np.asarray(image.convert("L")) < 140
    width_px = dark.shape[1]
    rules = np.flatnonzero(dark.mean(axis=1) > 0.4)
    above, below = rules[rules < hit[1] - 1], rules[rules > hit[3] + 1]
    if len(above) and len(below):
        line = np.flatnonzero(dark[above.max()])
        return (float(line.min()), float(above.max()), float(line.max()), float(below.min()))
    return (4.0, hit[1] - 2.0, width_px - 4.0, hit[3] + 2.0)


def highlight(image: Any, box: Box) -> Any:
    """The image with ``box`` shaded yellow and outlined red."""
    from PIL import Image, ImageDraw

    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle(box, fill=HIGHLIGHT_FILL, outline=HIGHLIGHT_EDGE, width=2)
    return Image.alpha_composite(image.convert("RGBA"), overlay)


def render_page(path: Path, page_no: int, needles: tuple[str, ...] = (),
                resolution: int = 110) -> bytes | None:
    """PNG of one PDF page with the row holding the first needle found highlighted (see
    :func:`_render`), one render at a time in this process."""
    from extract.chars_pdfium import LOCK

    with LOCK:
        return _render(path, page_no, needles, resolution)


def _render(path: Path, page_no: int, needles: tuple[str, ...], resolution: int
            ) -> bytes | None:
    """PNG of one PDF page with the row holding the first needle found (the share's
    reference, else its organisation) highlighted; never more than :data:`MAX_PIXELS`.

    Returns None when the page does not exist or the file cannot be read as a PDF, so the
    caller can say the source is unavailable instead of failing.
    """
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
    except Exception:  # a damaged, encrypted or replaced file must not break the page
        return None
    try:
        if not 1 <= page_no <= len(doc):
            return None
        page = doc[page_no - 1]
        try:
            width, height = page.get_size()
            bitmap = page.render(scale=scale_for(width, height, resolution))
            image = bitmap.to_pil()
            hit = find_text(page, image.size, needles)
            if hit is not None:
                image = highlight(image, row_box(image, hit))
            buf = io.BytesIO()
            image.convert("RGB").save(buf, format="PNG", compress_level=3)
            return buf.getvalue()
        finally:
            page.close()
    except Exception:  # whatever the page holds, the share page still shows its text
        return None
    finally:
        doc.close()
