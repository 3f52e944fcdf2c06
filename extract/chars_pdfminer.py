"""The reference character source: pdfplumber's pdfminer layout objects (see
:mod:`extract.chars`).

Reads pdfminer's layout objects directly instead of ``page.chars``/``page.edges``:
pdfplumber's conversion of every object to a dict is ~60% of its parsing time and the reader
needs only positions, text, font and rulings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.layout import LTChar, LTContainer, LTCurve, LTImage, LTRect

from extract.chars import Char, PageChars, Segment, axis_segments, is_shading, size_of


def _walk(objs: Iterable[Any]) -> Iterable[Any]:
    """Layout objects, descending into figures (form XObjects)."""
    for o in objs:
        if isinstance(o, LTContainer) and not isinstance(o, LTChar):
            yield from _walk(o._objs)
        else:
            yield o


def page_chars(page: Any) -> PageChars:
    """One pdfplumber page as plain data."""
    height = float(page.height)
    mb_x0, mb_top = page.mediabox[0], page.mediabox[1]
    chars: list[Char] = []
    segments: list[Segment] = []
    shading: list[Segment] = []
    n_images = 0
    for o in _walk(page.layout._objs):
        if isinstance(o, LTChar):
            chars.append((height - o.y1 + mb_top, height - o.y0 + mb_top, o.x0 + mb_x0,
                          o.x1 + mb_x0, o.get_text(), str(o.fontname), size_of(o.size)))
        elif isinstance(o, LTImage):
            n_images += 1
        elif isinstance(o, LTCurve):  # lines and rectangles are curves too
            into = shading if is_shading(bool(o.fill), bool(o.stroke), o.width,
                                         o.height) else segments
            pts = [(x + mb_x0, height - y + mb_top) for x, y in o.pts]
            if isinstance(o, LTRect):
                x0, x1 = o.x0 + mb_x0, o.x1 + mb_x0
                top, bottom = height - o.y1 + mb_top, height - o.y0 + mb_top
                pts = [(x0, top), (x1, top), (x1, bottom), (x0, bottom), (x0, top)]
            into.extend(axis_segments(pts))
    bbox = tuple(float(v) for v in page.bbox)
    return PageChars(page.page_number, float(page.width), height, bbox,  # type: ignore[arg-type]
                     chars, segments, shading, n_images)


def page_count(path: Path) -> int:
    """Open the document once: encryption and broken structure show up here."""
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    with pdfplumber.open(path) as pdf:
        return len(pdf.pages)


def pages(path: Path, numbers: Sequence[int] | None = None) -> Iterator[PageChars]:
    """The pages, each closed after use to free pdfplumber's caches."""
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    with pdfplumber.open(path, pages=list(numbers) if numbers is not None else None) as pdf:
        for page in pdf.pages:
            try:
                yield page_chars(page)
            finally:
                page.close()
