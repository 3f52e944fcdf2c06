"""The character source of the PDF reader: one small interface, two implementations.

A source turns each page of a PDF into plain data, :class:`PageChars`: the characters with
their boxes, text, font name and size, the axis-aligned ruling segments (lines and the sides
of rectangles; the sides of shaded areas apart), the number of images and the page's size.
Everything above that level (words, ruled grids, bands, rows, sections) is decided once, in
:mod:`extract.pdf_scan` and :mod:`extract.pdf`, whichever source read the page.

* ``pdfium`` (:mod:`extract.chars_pdfium`, the default): pypdfium2's text page and page
  objects. Several times faster: pdfium's C++ parser does the work pdfminer does in Python.
* ``pdfminer`` (:mod:`extract.chars_pdfminer`, the reference): pdfplumber's layout objects.

Coordinates are pdfplumber's: points from the top-left corner of the media box (``top`` and
``bottom`` grow downwards), with the media box's offset and the page's rotation applied as
pdfplumber applies them, so a box means the same whichever source measured it.

**Tolerance.** The two sources agree on the text, order, font and size of every character
and on every ruling; the boxes agree to within

* *vertically*, 0.001 em: pdfium keeps a font's /Descent as a whole number of thousandths
  (pdfminer keeps the fraction). For the 14 standard fonts both use the AFM metrics, and a
  descriptor's /Descent is read from the file (pdfium would replace a /Descent of 0, as
  LibreOffice writes, by the font program's own);
* *horizontally*, 0.001 em per preceding character of the same text object: pdfium rounds
  each glyph width of an embedded font down to whole thousandths of an em before advancing
  to the next character, pdfminer does not. Over a 100-character line at 10 pt that is
  under 0.5 pt at the line's end, and under 0.01 pt in any one gap between two characters;
* a *ligature* glyph ("fi" as one character) has the font's width of the ligature, or where
  the font has none pdfium's box of the glyph (up to 0.05 em from its advance); it comes
  from pdfium as its letters ("fi") even where the file says "ﬁ" (Chromium's output),
  which is what the word builder makes of it anyway;
* on a rotated page, pdfium lists lines in reading order: they are put back in
  content-stream order, as pdfminer lists them.

pdfium also makes spaces of its own (between text objects, at line ends): they are dropped,
except where one stands for a real space of the file that pdfium swallowed (Chromium's
output), recognised by the next character starting one space's width on.

The word rules (gaps of 1.5 pt, soft gaps of at least 0.3 pt, lines 2 pt apart) are far
coarser than that, so the words, and the release read from them, are the same; the identity
test (``tests/test_pdf_sources.py``) checks that on every PDF fixture of the suite.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

# Ligature characters and the letters they stand for (the word builder writes the letters).
LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st"}

# top, bottom, x0, x1, text, font name, size (rounded to 0.01 pt)
Char = tuple[float, float, float, float, str, str, float]
# x0, top, x1, bottom of an axis-aligned segment at least 1 pt long
Segment = tuple[float, float, float, float]


class PageChars(NamedTuple):
    """One page as a character source sees it. Plain data: it pickles between processes."""

    number: int  # 1-based
    width: float
    height: float
    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom of the media box
    chars: list[Char]
    segments: list[Segment]  # of stroked paths and small or outlined fills: rulings
    shading: list[Segment]  # of filled, unstroked areas over 2 pt each way (zebra stripes)
    images: int


class CharSource(Protocol):
    """What the scanning layer needs of a source. Both functions open the file themselves,
    so each worker process has its own document (neither library's handles survive a
    fork)."""

    def page_count(self, path: Path) -> int:
        """Pages of the document; raises the library's own error for a file it cannot
        open (translated by :func:`extract.pdf_scan.pdf_error`)."""
        ...

    def pages(self, path: Path, numbers: Sequence[int] | None = None) -> Iterator[PageChars]:
        """The given pages (1-based, ascending; all when None), one at a time."""
        ...


MODULES = {"pdfium": "extract.chars_pdfium", "pdfminer": "extract.chars_pdfminer"}


def source(name: str) -> CharSource:
    """The character source called ``name`` (one of :data:`extract.settings.READERS`)."""
    try:
        module = MODULES[name]
    except KeyError:
        raise ValueError(f"unknown character source {name!r}") from None
    return importlib.import_module(module)  # type: ignore[return-value]


def size_of(height: float) -> float:
    """A character's font size as the word builder compares it: its box height to 0.01 pt,
    rounded first to 0.001 pt so that pdfium's single-precision 4.99499988 and pdfminer's
    4.9950000000000045 (both a ``4.995 Tf``) give the same size."""
    return round(round(height, 3), 2)


def axis_segments(points: Sequence[tuple[float, float]]) -> Iterator[Segment]:
    """The axis-aligned pieces (at least 1 pt long) of a path through ``points``, as
    ``(x0, top, x1, bottom)``: the rulings a table finder can use."""
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        if abs(ax - bx) < 0.5 or abs(ay - by) < 0.5:
            x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
            top, bottom = (ay, by) if ay <= by else (by, ay)
            if max(x1 - x0, bottom - top) >= 1:
                yield (x0, top, x1, bottom)


def is_shading(fill: bool, stroke: bool, width: float, height: float) -> bool:
    """A filled, unstroked area over 2pt each way (a zebra stripe, a header background).
    On a page with no rulings it is no ruling: its edges would make the shaded rows a grid
    of their own."""
    return fill and not stroke and min(width, height) > 2.0
