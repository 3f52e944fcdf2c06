"""Read a register release PDF into a :class:`~extract.model.ParsedRelease`.

The published PDFs are long landscape tables of wrapped text, some drawn with a grid and
some without any rulings, with running heads ("OFFICIAL"), "Page n of m" footers, section
titles between tables, headers repeated (or not) on each page and rows broken across pages.
pdfplumber gives words and rulings; everything else is decided here:

1. **Scan** (:mod:`extract.pdf_scan`, per page, in a 2-process pool for longer files): words
   with position, size and weight, and the ruled tables found from the rulings.
2. **Page furniture**: lines repeated at the same place on many pages, or matching
   "OFFICIAL"/"Page n of m" near the page edge, are removed.
3. **Bands**: free text (everything outside ruled tables) is cut into horizontal bands at
   vertical gaps larger than the gap between lines inside a cell. The within-cell line pitch
   is measured from the document itself, so no font size or padding is assumed.
4. **Stitch** (in page order): title bands name sections (``section_for_title``); a header
   row (``looks_like_header``, naming a reference, recipient, project or data) or the first
   row under a recognised title starts a table; header rows repeated on later pages are
   dropped; for unruled tables the column boundaries come from the header cells and the
   vertical gutters the data rows leave empty (``Stitcher._bounds``; never pdfplumber's
   ``"text"`` strategy, which shreds wrapped cells), and a word that runs across a boundary
   through a gap narrower than a space is split there; the first row on a page is merged
   into the row before it when the grid was left open at the page break or its key column
   (the leftmost column that is nearly always filled, usually the reference) is empty; a
   line ending in a hyphen after a letter or digit joins the next without a space.

Provenance: ``RawRow.page`` is the page where a row starts; ``RawRow.row`` counts the rows
that *start* on that page within that table (a continuation fragment belongs to the row on
the previous page), so "page 12, row 7" is the 7th row beginning on page 12.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.headers import looks_like_header, map_headers
from extract.model import IngestError, ParsedRelease, RawRow, RawTable
from extract.pdf_scan import (
    GridTable,
    PageCallback,
    PageScan,
    Word,
    cell_text,
    check_file,
    join_lines,
    page_count,
    pdf_error,
    scan_all,
    soft_gap,
)
from extract.sections import section_for_title
from extract.settings import ReaderSettings

log = logging.getLogger(__name__)

# Fields whose presence marks a header row as a register header (not, say, a price list).
REGISTER_FIELDS = {"reference", "organisation", "project", "data_shared"}
# Running heads/footers recognised by their words alone. A bare page number is not among
# them: it must recur on many pages, or a cell ending in "2009" would be dropped.
FURNITURE_RE = re.compile(
    r"^(official(\s*[-:]\s*sensitive)?|page\s*\d+(\s*(of|/)\s*\d+)?|\d+\s*(of|/)\s*\d+)$",
    re.IGNORECASE,
)
# A reference such as DS00628, DR170221.02, R0042: one token, letters then digits.
IDENTIFIER_RE = re.compile(r"^[A-Za-z]{0,4}[-/]?\d[\w./-]*$")


# --- 3. lines, furniture and bands --------------------------------------------------------------


@dataclass
class Line:
    words: list[Word]
    top: float
    bottom: float
    size: float

    @property
    def text(self) -> str:
        return " ".join(w.text for w in sorted(self.words, key=lambda w: w.x0))


def _lines(words: Sequence[Word]) -> list[Line]:
    """Words sharing a baseline (across the whole page width), top to bottom."""
    out: list[Line] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        if out and abs(w.top - out[-1].top) <= 0.3 * max(w.bottom - w.top, 1.0):
            ln = out[-1]
            ln.words.append(w)
            ln.bottom = max(ln.bottom, w.bottom)
        else:
            out.append(Line([w], w.top, w.bottom, w.size))
    for ln in out:
        ln.size = statistics.median(w.size for w in ln.words)
    return out


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _furniture(scans: list[PageScan], edge_zone: float) -> set[tuple[int, float]]:
    """(page, line top) of running heads and footers.

    A line near the top or bottom edge is furniture if the same text (digits aside) sits
    at the same height on at least half the pages, or if it reads like "OFFICIAL" or
    "Page 3 of 19" and only furniture lies between it and the edge.
    """
    def key(ln: Line) -> tuple[str, int]:
        return re.sub(r"\d+", "#", _norm(ln.text)), round(ln.top / 3)

    seen: Counter[tuple[str, int]] = Counter()
    per_page: list[tuple[list[Line], list[Line]]] = []
    for s in scans:
        lines = _lines(s.words)
        top = [ln for ln in lines if ln.bottom < s.height * edge_zone]
        bottom = [ln for ln in reversed(lines) if ln.top > s.height * (1 - edge_zone)]
        per_page.append((top, bottom))
        for k in {key(ln) for ln in top + bottom}:
            seen[k] += 1
    repeat = max(2, math.ceil(0.5 * len(scans)))
    out: set[tuple[int, float]] = set()
    for s, edges in zip(scans, per_page, strict=True):
        for zone in edges:  # each zone is ordered from the page edge inwards
            for ln in zone:
                if (len(scans) > 1 and seen[key(ln)] >= repeat) or FURNITURE_RE.match(
                        _norm(ln.text)):
                    out.add((s.number, ln.top))
                else:
                    break
    return out


@dataclass
class Metrics:
    """Document-wide typography, measured rather than assumed."""

    body_size: float  # the table text size
    leading: float  # line pitch inside a cell
    band_gap: float  # a vertical gap wider than this separates rows (or blocks)
    # Lowest text bottom seen on any page of each height: a page whose last row ends near
    # it was full, so that row may continue on the next page.
    text_bottom: dict[int, float] = field(default_factory=dict)


def _metrics(pages: list[list[Line]]) -> Metrics:
    """Body text size and the row-separating gap, from the whole document's free text."""
    sizes = Counter(round(w.size, 1) for lines in pages for ln in lines for w in ln.words)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    # Line pitch inside a cell: words starting at the same x (left edge of a cell's lines)
    # on consecutive lines. Most such pairs are lines of one wrapped cell, so the commonest
    # top-to-top distance is the leading.
    deltas: Counter[float] = Counter()
    for lines in pages:
        starts: dict[float, list[float]] = {}
        for ln in lines:
            if abs(ln.size - body) > 0.15 * body:
                continue
            for w in ln.words:
                starts.setdefault(round(w.x0 * 2) / 2, []).append(w.top)
        for tops in starts.values():
            tops.sort()
            for a, b in itertools.pairwise(tops):
                d = b - a
                if 0.9 * body < d < 2.5 * body:
                    deltas[round(d * 4) / 4] += 1
    leading = deltas.most_common(1)[0][0] if deltas else 1.2 * body
    if leading > 1.6 * body:  # rows are mostly single lines: the commonest pitch is a row's
        leading = 1.2 * body
    inner_gap = max(0.0, leading - body)  # glyph boxes are one font size tall
    return Metrics(body, leading, inner_gap + max(0.8, 0.12 * body))


@dataclass
class Band:
    """Lines close enough together to be one table row, title or paragraph."""

    lines: list[Line]
    page: int

    @property
    def words(self) -> list[Word]:
        return [w for ln in self.lines for w in ln.words]

    @property
    def top(self) -> float:
        return self.lines[0].top

    @property
    def bottom(self) -> float:
        return max(ln.bottom for ln in self.lines)

    @property
    def text(self) -> str:
        return " ".join(ln.text for ln in self.lines)

    @property
    def size(self) -> float:
        return max(ln.size for ln in self.lines)

    @property
    def bold(self) -> bool:
        return all(w.bold for w in self.words)


def _bands(lines: list[Line], page: int, m: Metrics) -> list[Band]:
    """Cut a page's lines into bands at gaps wider than those between lines of a cell."""
    out: list[Band] = []
    bottom = -1e9
    for ln in lines:
        # Titles in a bigger font than the table have proportionally bigger line gaps.
        gap = m.band_gap if abs(ln.size - m.body_size) <= 0.1 * m.body_size else max(
            m.band_gap, 0.4 * ln.size)
        if (out and ln.top - bottom <= gap
                and abs(ln.size - out[-1].lines[-1].size) <= 0.1 * ln.size):
            out[-1].lines.append(ln)
            bottom = max(bottom, ln.bottom)
        else:
            out.append(Band([ln], page))
            bottom = ln.bottom
    return out


def _block_gap(words: Sequence[Word]) -> float:
    """Horizontal gap that separates blocks (cells, columns) rather than words: wider than a
    space in the widest-spaced font present, with a margin for rounding and kerning."""
    if not words:
        return 2.5
    return max(w.space for w in words) + max(0.8, 0.1 * max(w.size for w in words))


def _chunks(words: Sequence[Word]) -> list[list[Word]]:
    """Split a band's words into side-by-side blocks at gaps wider than a space."""
    gap = _block_gap(words)
    out: list[list[Word]] = []
    right = -1e9
    for w in sorted(words, key=lambda w: w.x0):
        if out and w.x0 - right <= gap:
            out[-1].append(w)
        else:
            out.append([w])
            right = w.x1
        right = max(right, w.x1)
    return out


def _gutters(atoms: Sequence[tuple[float, float]], min_width: float
             ) -> list[tuple[float, float]]:
    """Horizontal stretches no atom covers, at least ``min_width`` wide, left to right;
    the first starts at -inf and the last ends at +inf."""
    out: list[tuple[float, float]] = []
    right = -math.inf
    for x0, x1 in sorted(atoms):
        if x0 - right >= min_width:
            out.append((right, x0))
        right = max(right, x1)
    out.append((right, math.inf))
    return out


def _bound_in(gutter: tuple[float, float], start: float) -> float:
    """A column bound in ``gutter`` just before the next column's text (which starts at the
    gutter's end or at its header's ``start``, whichever is first), not mid-gutter: a
    column of short values on this page would otherwise lend its neighbour half its width."""
    right = max(min(gutter[1], start), gutter[0])
    return right - min(1.5, (right - gutter[0]) / 2)


def _split_block(block: list[Word], gutters: Sequence[tuple[float, float]],
                 data: Sequence[tuple[float, float]], writes_spaces: bool
                 ) -> list[list[Word]]:
    """Split a header block where two header cells were printed closer than a word space
    ("Date approved" + "Date data shared", 1.8pt apart): at a gap with no space character
    in it (inside a word: the two texts ran together; or between words, where the producer
    writes spaces between the words of a cell but none between cells), over a data gutter,
    with data under the part on each side.

    A gap at a word space never splits: a column mixing left-aligned text ("pending") with
    right-aligned dates has a wide gutter of its own under its header. Among several gaps,
    one inside a word first, then one the right part's lines all start at (cells are
    left-aligned), then the leftmost.
    """
    atoms = [a for w in block for a in w.atoms()]
    soft = [(a, b) for w in block for _, a, b in w.gaps]
    lo, hi = min(a[0] for a in atoms), max(a[1] for a in atoms)
    cuts: list[tuple[bool, bool, float, list[Word]]] = []
    for f0, f1 in _gutters(atoms, 0.01)[1:-1]:  # stretches no header text covers
        glued = any(a <= f0 + 0.01 and f1 - 0.01 <= b for a, b in soft)
        starting = [w for w in block if abs(w.x0 - f1) < 0.01]
        if not glued and not (writes_spaces and starting
                              and not any(w.spaced for w in starting)):
            continue
        for g0, g1 in gutters:
            c0, c1 = max(f0, g0), min(f1, g1)
            if c0 > c1 or not (any(lo < d1 <= g0 + 0.01 for _, d1 in data)
                               and any(g1 - 0.01 <= d0 < hi for d0, _ in data)):
                continue
            x = (c0 + c1) / 2
            words = [p for w in block for p in _cut(w, [x])]
            cuts.append((not glued, not _aligned([w for w in words if w.x0 > x]), x, words))
    if not cuts:
        return [block]
    *_, x, words = min(cuts, key=lambda c: c[:3])
    left = [w for w in words if w.x0 + w.x1 < 2 * x]
    right = [w for w in words if w.x0 + w.x1 >= 2 * x]
    return (_split_block(left, gutters, data, writes_spaces)
            + _split_block(right, gutters, data, writes_spaces))


def _aligned(words: Sequence[Word]) -> bool:
    """Do the lines of these words all start at one x (a left-aligned cell)?"""
    starts: dict[float, float] = {}
    for w in words:
        key = round(w.top)
        starts[key] = min(starts.get(key, math.inf), w.x0)
    return not starts or max(starts.values()) - min(starts.values()) <= 1.0


def _cut(word: Word, bounds: Sequence[float]) -> list[Word]:
    """The word split at a narrow gap (within 1pt) where a column bound runs through it."""
    for b in bounds:
        if not word.gaps or not word.x0 < b < word.x1:
            continue
        dist = [max(a - b, b - c, 0.0) for _, a, c in word.gaps]
        i = min(range(len(dist)), key=dist.__getitem__)
        if dist[i] <= 1.0:
            left, right = word.split_at(i)
            return _cut(left, bounds) + _cut(right, bounds)
    return [word]


# --- 4. stitching pages into tables -------------------------------------------------------------


def _is_register_header(cells: Sequence[str], strict: bool = False) -> bool:
    """A header row of a register table: two or more known fields, one of them naming who
    gets the data or which request it is (so a price list with a 'Description' is not).

    ``strict`` (inside a table, with no title announcing a new one): data rows can contain
    header words ("Data held within DfE"), so a new header must be mostly header words.
    """
    cells = [c for c in cells if c]
    if not cells or any(len(c) >= 120 for c in cells) or not looks_like_header(cells):
        return False
    hmap = map_headers(cells)
    fields = hmap.field_set()
    if len(fields) < 2 or not fields & REGISTER_FIELDS:
        return False
    return not strict or (len(fields) >= 3 and len(hmap.unmapped) <= len(cells) // 4)


def _same_header(a: Sequence[str], b: Sequence[str]) -> bool:
    return [_norm(x) for x in a if x] == [_norm(x) for x in b if x]


@dataclass(frozen=True)
class LastBand:
    """Where an unruled table's last band (row or fragment) ended, to judge the next page."""

    page: int
    bottom: float
    limit: float  # lowest text bottom on pages of this size: near it, the page was full
    lines: int  # text lines in the band
    filled: frozenset[int]  # columns with text
    at_bottom: frozenset[int]  # columns with text on its last line: only they can go on


@dataclass
class Builder:
    """The table being assembled, with what is needed to recognise its continuation."""

    table: RawTable
    mode: str  # grid | text
    bounds: list[float] = field(default_factory=list)  # text mode: column boundaries (x)
    page: int = 0  # page of the last row started
    on_page: int = 0  # rows started on that page
    open_bottom: bool = False  # grid mode: the last row was cut by the page end
    filled: list[int] = field(default_factory=list)  # per column: rows with a value
    last_band: LastBand | None = None  # text mode: the band rows were last added from

    def key_column(self) -> int:
        """The leftmost column that is (nearly) always filled: the reference, usually."""
        n = len(self.table.rows)
        if n < 3:
            return 0
        return next((i for i, c in enumerate(self.filled) if c >= 0.9 * n), 0)

    def add(self, cells: list[str], page: int, continuation: bool) -> None:
        width = len(self.table.headers)
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        if continuation and self.table.rows:
            last = self.table.rows[-1]
            n = max(len(last.cells), len(cells))
            old, new = last.cells + [""] * (n - len(last.cells)), cells + [""] * (n - len(cells))
            last.cells = [join_lines(" ".join(a.split()), " ".join(b.split()))
                          for a, b in zip(old, new, strict=True)]
            return
        if page != self.page:
            self.page, self.on_page = page, 0
        self.on_page += 1
        self.table.rows.append(RawRow(cells=cells, row=self.on_page, page=page))
        self.filled += [0] * (len(cells) - len(self.filled))
        for i, c in enumerate(cells):
            if c:
                self.filled[i] += 1

    def looks_continued(self, cells: list[str], page: int) -> bool:
        """First row on a new page with its key column empty: the rest of the last row."""
        if not self.table.rows or page == self.page or not any(cells):
            return False
        key = self.key_column()
        return not (cells[key] if key < len(cells) else "")

    def text_continues(self, cells: list[str], page: int, leading: float) -> bool:
        """Unruled: is this first band on a page the rest of the row the last page ended on?

        Only if that page was full (its last band ends within two lines of the lowest text
        on any such page: a row that ended with room to spare did not continue). Then yes
        if the key column is empty; no if the key is a reference (references never wrap);
        otherwise (a long name in the key column, cut mid-cell) yes only if every filled
        cell here is in a column whose text ran down to the last line above the break, and
        some column filled above is empty here.
        """
        last = self.last_band
        if last is None or not self.table.rows or page == last.page or not any(cells):
            return False
        if last.limit - last.bottom > 2 * leading:
            return False
        if self.looks_continued(cells, page):
            return True
        key = self.key_column()
        keys = [r.cells[key] for r in self.table.rows if key < len(r.cells)]
        if sum(1 for k in keys if IDENTIFIER_RE.match(k)) >= 0.9 * len(keys):
            return False
        # A cut needs a row of two lines or more, and leaves the short cells (dates,
        # references) behind: the rest fills fewer columns than the part above the break.
        filled = {i for i, c in enumerate(cells) if c}
        return last.lines > 1 and filled <= last.at_bottom and filled < last.filled


@dataclass
class Stitcher:
    """Walks the document top to bottom, page by page, turning bands and grids into tables.

    ``pending`` holds a recognised section title until the header under it arrives;
    ``current`` is the table rows are being added to, kept across pages so a table that
    continues (with or without a repeated header) and a row cut by a page break join up.
    """

    metrics: Metrics
    tables: list[RawTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    title: str | None = None
    pending: tuple[str, str] | None = None  # (section key, title text) awaiting a header
    current: Builder | None = None

    # -- grid tables --
    def grid(self, t: GridTable, page: int) -> None:
        rows = [[" ".join(c.split()) for c in r] for r in t.rows]
        if not any(any(r) for r in rows):
            return
        cur = self.current
        first = 0
        if cur and cur.mode == "grid" and _same_header(rows[0], cur.table.headers):
            first = 1  # header repeated on a continuation page
        elif _is_register_header(rows[0], strict=cur is not None) or (
                self.pending and any(rows[0])):
            cur = self._start(rows[0], page, "grid")
            first = 1
        elif cur is None or cur.mode != "grid":
            self.warnings.append(f"page {page}: a table with no register header was skipped")
            return
        headers = cur.table.headers
        for i, cells in enumerate(rows[first:]):
            if _same_header(cells, headers):
                continue  # reportlab can repeat the header mid-table above a split row
            cont = False
            if i == 0 and page != cur.page:
                # A row cut by the page break leaves the grid open under its first part: then
                # the first row here is its rest, even if empty or starting with key text.
                # Producers that close the grid at the cut are caught by the empty key.
                cont = cur.open_bottom or cur.looks_continued(cells, page)
            if any(cells):
                cur.add(cells, page, cont)
        # An open bottom under an *empty* last row (a valign=middle row cut before any of
        # its text) or under a header means the row starts afresh on the next page.
        last = rows[-1]
        cur.open_bottom = (t.open_bottom and len(rows) > first and any(last)
                           and not _same_header(last, headers))

    # -- free text: titles, notes, unruled tables --
    def text(self, bands: list[Band], page: int, page_no_one: bool, limit: float) -> None:
        """Handle a run of free-text bands on one page; ``limit`` is its lowest text line."""
        i = 0
        while i < len(bands):
            band = bands[i]
            chunks = _chunks(band.words)
            cells = [cell_text(c) for c in chunks]
            cur = self.current
            if page_no_one and self.title is None and not self.tables and len(chunks) == 1:
                self.title = band.text
            if len(chunks) > 1 and cur and cur.mode == "text" and _same_header(
                    self._cells(cur, band), cur.table.headers):
                cur.bounds = self._bounds(band, bands[i + 1:], len(cur.table.headers)) \
                    or cur.bounds
                i += 1
                continue
            if len(chunks) > 1 and (self.pending or _is_register_header(
                    cells, strict=cur is not None and not band.bold)):
                rest = self._table_extent(bands[i + 1:])
                bounds = self._bounds(band, rest, None)
                headers = self._split(band.words, bounds)
                cur = self._start(headers, page, "text")
                cur.bounds = bounds
                i += 1
                continue
            key = section_for_title(band.text) if len(chunks) == 1 else None
            if key and (cur is None or cur.mode == "grid" or self._title_like(band)):
                self.pending = (key, band.text)
                self.current = None
                i += 1
                continue
            if cur and cur.mode == "text":
                row = self._cells(cur, band)
                cur.add(row, page, cur.text_continues(row, page, self.metrics.leading))
                cur.last_band = self._last_band(cur, band, limit)
            i += 1

    def _title_like(self, band: Band) -> bool:
        """Inside an unruled table, only a distinct line (bigger or bold) ends the table."""
        return band.size >= 1.1 * self.metrics.body_size or band.bold

    def _table_extent(self, bands: list[Band]) -> list[Band]:
        """The bands of the table that starts above them: up to the next title."""
        out = []
        for b in bands:
            if len(_chunks(b.words)) == 1 and section_for_title(b.text) \
                    and self._title_like(b):
                break
            out.append(b)
        return out

    def _bounds(self, header: Band, rest: list[Band], expect: int | None) -> list[float]:
        """Column boundaries of an unruled table, from its header and data rows together.

        Each header block (words closer than a column gap) heads a column, and a boundary
        lies in a gutter the data leaves empty in every row (``_gutters``). Between two
        header blocks it is the last gutter before the next block's start: data can sit
        well right of its own header (right-aligned numbers under a wide header), and the
        next column's text starts at its left edge. A gutter narrower than a word space
        counts only where the next header starts (a right-aligned date printed 1.4pt
        before the next cell's text). Header cells printed closer than a column gap merge
        into one block; ``_split_block`` parts them again.
        """
        gap = _block_gap(header.words)
        tol = 0.5
        data = [a for b in rest for w in b.words for a in w.atoms()]
        gutters = _gutters(data, soft_gap(self.metrics.body_size))
        wide = [g for g in gutters if g[1] - g[0] >= gap]
        # Does this producer write space characters between words (not all do)?
        spaced = any(w.spaced for b in [header, *rest] for w in b.words)
        blocks = [p for b in _chunks(header.words)
                  for p in _split_block(b, gutters, data, spaced)]
        bounds: list[float] = []
        for prev, nxt in itertools.pairwise(blocks):
            start = min(w.x0 for w in nxt)
            prev_start = min(w.x0 for w in prev)
            fits = [g for g in gutters
                    if g[0] < start + tol and g[1] > prev_start
                    and (g[1] - g[0] >= gap or g[0] - tol <= start <= g[1] + tol)]
            if not fits:  # text across the gutters (a note spanning the table)
                bounds.append(start - 1.0)
                continue
            chosen = max(fits)
            # Wide gutters between the previous header's end and the chosen one, with data
            # on both sides: a column whose header cell is blank.
            prev_end = max(w.x1 for w in prev)
            bounds += [_bound_in(g, g[1]) for g in wide
                       if g[0] >= prev_end and g[1] <= chosen[0]]
            bounds.append(_bound_in(chosen, start))
        ordered: list[float] = []
        for b in bounds:  # never out of order, whatever a stray word did to the gutters
            if not ordered or b > ordered[-1]:
                ordered.append(b)
        bounds = ordered
        if expect is not None and len(bounds) + 1 != expect:
            return []
        return bounds

    @staticmethod
    def _columns(words: Sequence[Word], bounds: list[float]) -> list[list[Word]]:
        """Words by column: a word belongs where it starts (cells are left-aligned), after
        splitting a word at a narrow gap where a bound runs through it."""
        cols: list[list[Word]] = [[] for _ in range(len(bounds) + 1)]
        for word in words:
            for w in _cut(word, bounds) if word.gaps else (word,):
                x = min(w.x0 + 1.0, (w.x0 + w.x1) / 2)
                cols[bisect.bisect_left(bounds, x)].append(w)
        return cols

    @classmethod
    def _split(cls, words: Sequence[Word], bounds: list[float]) -> list[str]:
        return [cell_text(c) for c in cls._columns(words, bounds)]

    def _cells(self, cur: Builder, band: Band) -> list[str]:
        return self._split(band.words, cur.bounds)

    def _last_band(self, cur: Builder, band: Band, limit: float) -> LastBand:
        cols = self._columns(band.words, cur.bounds)
        last_line = band.bottom - 0.5 * self.metrics.leading
        return LastBand(
            band.page, band.bottom, limit, len(band.lines),
            filled=frozenset(i for i, col in enumerate(cols) if col),
            at_bottom=frozenset(i for i, col in enumerate(cols)
                                if any(w.bottom >= last_line for w in col)))

    def _start(self, headers: list[str], page: int, mode: str) -> Builder:
        key, title = self.pending or ("unknown", "")
        table = RawTable(section=key, title=title, headers=headers, first_page=page)
        self.tables.append(table)
        self.pending = None
        self.current = Builder(table, mode)
        return self.current


def _assemble(scans: list[PageScan], settings: ReaderSettings | None = None
              ) -> tuple[str | None, list[RawTable], list[str]]:
    """Document title, tables with rows, and warnings, from the scanned pages in order."""
    settings = ReaderSettings.resolve(settings)
    furniture = _furniture(scans, settings.edge_zone)
    page_lines = [
        [ln for ln in _lines(s.words) if (s.number, ln.top) not in furniture] for s in scans
    ]
    metrics = _metrics(page_lines)
    for s, lines in zip(scans, page_lines, strict=True):
        bottoms = [ln.bottom for ln in lines] + [t.bottom for t in s.tables]
        if bottoms:
            key = round(s.height)
            metrics.text_bottom[key] = max(metrics.text_bottom.get(key, 0.0), max(bottoms))
    st = Stitcher(metrics)
    for s, lines in zip(scans, page_lines, strict=True):
        limit = metrics.text_bottom.get(round(s.height), s.height)
        # Interleave free text and ruled tables top to bottom.
        bands = _bands(lines, s.number, metrics)
        items: list[tuple[float, Any]] = [(b.top, b) for b in bands]
        items += [(t.top, t) for t in s.tables]
        items.sort(key=lambda it: it[0])
        run: list[Band] = []
        for _, item in items:
            if isinstance(item, Band):
                run.append(item)
                continue
            if run:
                st.text(run, s.number, s.number == 1, limit)
                run = []
            if s.number == 1 and st.title is None:
                st.title = ""  # a table came first: no title above it
            st.grid(item, s.number)
        if run:
            st.text(run, s.number, s.number == 1, limit)
    tables = [t for t in st.tables if t.rows]
    return st.title or None, tables, st.warnings


# --- entry point --------------------------------------------------------------------------------


def read_pdf(path: Path, on_page: PageCallback | None = None,
             settings: ReaderSettings | dict[str, Any] | None = None) -> ParsedRelease:
    """Read every register table of a PDF release. Raises IngestError for bad input."""
    path = Path(path)
    settings = ReaderSettings.resolve(settings)
    check_file(path)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    n_pages = page_count(path)
    if n_pages == 0:
        raise IngestError("PDF has no pages")
    try:
        scans = scan_all(path, n_pages, on_page, settings)
    except IngestError:
        raise
    except Exception as exc:
        raise pdf_error(exc) from None
    total_chars = sum(s.chars for s in scans)
    if total_chars == 0:
        if any(s.images for s in scans):
            raise IngestError("scanned PDF: the pages are images with no text layer (needs OCR)")
        raise IngestError("PDF has no text")
    title, tables, warnings = _assemble(scans, settings)
    blank = [s.number for s in scans if s.chars == 0]
    if blank:
        warnings.append(f"pages without a text layer (scanned?) were skipped: {blank}")
    if not tables:
        if len(blank) > n_pages / 2:
            raise IngestError("scanned PDF: most pages are images with no text layer")
        raise IngestError("no register table found (no section title or header row naming "
                          "organisations, references or projects)")
    log.debug("%s: %d pages, %d tables, %d rows", path.name, n_pages, len(tables),
              sum(len(t.rows) for t in tables))
    return ParsedRelease(
        source_file=path.name, format="pdf", title=title, page_count=n_pages, tables=tables,
        warnings=warnings, reader=settings.reader,
    )
