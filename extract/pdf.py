"""Read a register release PDF into a :class:`~extract.model.ParsedRelease`.

The published PDFs are long landscape tables of wrapped text, some drawn with a grid and
some without any rulings, with running heads ("OFFICIAL"), "Page n of m" footers, section
titles between tables, headers repeated (or not) on each page and rows broken across pages.
pdfplumber gives words and rulings; everything else is decided here:

1. **Scan** (:mod:`extract.pdf_scan`, per page, in a 2-process pool for longer files): words
   with position, size and weight, and the ruled tables found from the rulings.
2. **Page furniture**: lines repeated at the same place on many pages (but not a table
   header repeated at the top of every page), or matching "OFFICIAL"/"Page n of m" near the
   page edge, are removed.
3. **Bands**: free text (everything outside ruled tables) is cut into horizontal bands at
   vertical gaps larger than the gap between lines inside a cell. The within-cell line pitch
   is measured from the document itself (per font size, which may only tighten the cut), so
   no font size or padding is assumed. In a table set tight (no more space between rows
   than between a cell's lines) one band holds many rows; step 4 cuts it.
4. **Stitch** (in page order): title bands name sections (``section_for_title``; justified
   lines are running text, never a header); a header is judged on a band's top lines
   (``_header_lines``: the bold lines, else the lines above the first value, deepest
   where it names more fields), so a wrapped header neither swallows the first row nor
   comes back as data on later pages; a register header (naming a reference, recipient,
   project or data) or, under a recognised title, a header-like row with text keeping to
   its columns starts a table; header rows repeated on later pages are dropped; rows of an
   unruled table start where its key column (the reference, else the recipient) starts a
   new text block (``_row_starts``: after a line with none there, after another reference,
   or beside a one-line value such as a date; in tables of centred cells only the
   reference rule); for unruled tables the column boundaries come from the header cells and the
   vertical gutters the data rows leave empty (``Stitcher._bounds``; never pdfplumber's
   ``"text"`` strategy, which shreds wrapped cells), and a word that runs across a boundary
   through a gap narrower than a space is split there; the first row on a page is merged
   into the row before it when the grid was left open at the page break or its key column
   (the leftmost column that is nearly always filled, usually the reference) is empty; a
   line ending in a hyphen after a letter or digit joins the next without a space.

5. **Self-checks** (:mod:`extract.pdf_checks`): every table is checked for glued rows (two
   references in a key cell), two dates in a date cell, rows without a key, cells beyond the
   headers, and references printed on a page but stored in no row; failures become
   ``TableWarning``s with page and row. ``RawTable.last_page`` is set.

Provenance: ``RawRow.page`` is the page where a row starts; ``RawRow.row`` counts the rows
that *start* on that page within that table (a continuation fragment belongs to the row on
the previous page), so "page 12, row 7" is the 7th row beginning on page 12.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.headers import looks_like_header, map_headers
from extract.model import IngestError, ParsedRelease, RawRow, RawTable
from extract.pdf_checks import DATE_RE, REFERENCE_RE, check_tables, key_column, references
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
# A value that never wraps inside a cell: a date, a reference, a count, "pending".
ONE_LINE_RE = re.compile(r"^(\d[\d,.]*|pending|n/?a|-)$", re.IGNORECASE)


def _one_line_value(text: str) -> bool:
    return bool(DATE_RE.match(text) or REFERENCE_RE.match(text) or ONE_LINE_RE.match(text))


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

    @functools.cached_property
    def chunks(self) -> list[list[Word]]:
        """:func:`_chunks` of the line's words, once: asked of most lines several times.
        (Lines and bands are complete before anything asks; nothing changes them after.)"""
        return _chunks(self.words)


def _top_x0(w: Word) -> tuple[float, float]:
    return w.top, w.x0


def _median(values: list[float]) -> float:
    """``statistics.median``, inlined: this runs once per line of the release."""
    values.sort()
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def _lines(words: Sequence[Word]) -> list[Line]:
    """Words sharing a baseline (across the whole page width), top to bottom."""
    out: list[Line] = []
    ln: Line | None = None
    for w in sorted(words, key=_top_x0):
        height = w.bottom - w.top
        if ln is not None and abs(w.top - ln.top) <= 0.3 * (height if height > 1.0 else 1.0):
            ln.words.append(w)
            if w.bottom > ln.bottom:
                ln.bottom = w.bottom
        else:
            ln = Line([w], w.top, w.bottom, w.size)
            out.append(ln)
    for ln in out:
        if len(ln.words) > 1:
            ln.size = _median([w.size for w in ln.words])
    return out


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _furniture(scans: list[PageScan], page_lines: list[list[Line]], edge_zone: float
               ) -> set[tuple[int, float]]:
    """(page, line top) of running heads and footers.

    A line near the top or bottom edge is furniture if the same text (digits aside) sits
    at the same height on at least half the pages (unless it is a table header repeated on
    every page), or if it reads like "OFFICIAL" or "Page 3 of 19", and only furniture lies
    between it and the edge.
    """
    def key(ln: Line) -> tuple[str, int]:
        return re.sub(r"\d+", "#", _norm(ln.text)), round(ln.top / 3)

    seen: Counter[tuple[str, int]] = Counter()
    per_page: list[tuple[list[Line], list[Line]]] = []
    for s, lines in zip(scans, page_lines, strict=True):
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
                if FURNITURE_RE.match(_norm(ln.text)) or (
                        len(scans) > 1 and seen[key(ln)] >= repeat and not _header_line(ln)):
                    out.add((s.number, ln.top))
                else:
                    break
    return out


def _header_line(ln: Line) -> bool:
    """A line of side-by-side cells naming known fields: a table header repeated at the top
    of every page (print titles, a repeated heading row), not a running head."""
    chunks = ln.chunks
    return len(chunks) > 1 and looks_like_header([cell_text(c) for c in chunks])


@dataclass
class Metrics:
    """Document-wide typography, measured rather than assumed."""

    body_size: float  # the table text size
    leading: float  # line pitch inside a cell
    band_gap: float  # a vertical gap wider than this separates rows (or blocks)
    # Lowest text bottom seen on any page of each height: a page whose last row ends near
    # it was full, so that row may continue on the next page.
    text_bottom: dict[int, float] = field(default_factory=dict)
    # Line pitch measured for each other font size (rounded to 0.1pt) with enough samples:
    # text in that size is cut at its own gap where that is tighter than the default.
    leading_by_size: dict[float, float] = field(default_factory=dict)
    settings: ReaderSettings = field(default_factory=ReaderSettings)

    def margin(self, size: float) -> float:
        """What a row gap adds to the gap between a cell's lines, for text of ``size``."""
        return max(self.settings.gap_margin_min, self.settings.gap_margin_ratio * size)

    def gap_for(self, size: float) -> float:
        """The row-separating gap for text of ``size``: the body gap for body text; for other
        sizes the proportional default, tightened (never widened) by the pitch measured for
        that size, so a table set in another size than the body does not merge its rows."""
        if abs(size - self.body_size) <= 0.1 * self.body_size:
            return self.band_gap
        default = max(self.band_gap, self.settings.title_gap_ratio * size)
        pitch = self.leading_by_size.get(round(size, 1))
        if pitch is None:
            return default
        return min(default, max(0.0, pitch - size) + self.margin(size))


def _pitches(pages: list[list[Line]], size: float, tol: float) -> Counter[float]:
    """Top-to-top distances between lines of text of ``size`` starting at the same x: most
    such pairs are lines of one wrapped cell."""
    deltas: Counter[float] = Counter()
    for lines in pages:
        starts: dict[float, list[float]] = {}
        for ln in lines:
            if abs(ln.size - size) > tol * size:
                continue
            for w in ln.words:
                starts.setdefault(round(w.x0 * 2) / 2, []).append(w.top)
        for tops in starts.values():
            tops.sort()
            for a, b in itertools.pairwise(tops):
                d = b - a
                if 0.9 * size < d < 2.5 * size:
                    deltas[round(d * 4) / 4] += 1
    return deltas


def _leading(deltas: Counter[float], size: float) -> float:
    leading = deltas.most_common(1)[0][0] if deltas else 1.2 * size
    if leading > 1.6 * size:  # rows are mostly single lines: the commonest pitch is a row's
        leading = 1.2 * size
    return leading


def _metrics(pages: list[list[Line]], settings: ReaderSettings | None = None) -> Metrics:
    """Body text size and the row-separating gap, from the whole document's free text."""
    settings = ReaderSettings.resolve(settings)
    sizes = Counter(round(w.size, 1) for lines in pages for ln in lines for w in ln.words)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    # Line pitch inside a cell: words starting at the same x (left edge of a cell's lines)
    # on consecutive lines. Most such pairs are lines of one wrapped cell, so the commonest
    # top-to-top distance is the leading.
    leading = _leading(_pitches(pages, body, 0.15), body)
    inner_gap = max(0.0, leading - body)  # glyph boxes are one font size tall
    m = Metrics(body, leading, 0.0, settings=settings)
    m.band_gap = inner_gap + m.margin(body)
    for size, n in sizes.items():
        if abs(size - body) <= 0.1 * body or n < settings.min_size_samples:
            continue
        deltas = _pitches(pages, size, 0.02)
        if sum(deltas.values()) >= settings.min_pitch_samples:
            # The smallest frequent pitch: where most columns hold one line per row, the
            # commonest pitch is a row's, and the lines of a wrapped cell are closer.
            top = max(deltas.values())
            frequent = [d for d, n in deltas.items()
                        if n >= max(settings.min_pitch_samples / 2,
                                    settings.min_pitch_share * top)]
            m.leading_by_size[size] = _leading(Counter({min(frequent): 1}), size)
    return m


@dataclass
class Band:
    """Lines close enough together to be one table row, title or paragraph."""

    lines: list[Line]
    page: int

    @functools.cached_property
    def words(self) -> list[Word]:
        return [w for ln in self.lines for w in ln.words]

    @functools.cached_property
    def chunks(self) -> list[list[Word]]:
        """:func:`_chunks` of the band's words, once (see :attr:`Line.chunks`)."""
        return self.lines[0].chunks if len(self.lines) == 1 else _chunks(self.words)

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
        gap = m.gap_for(ln.size)
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


def _justified(ln: Line, tolerance: float = 0.1) -> bool:
    """A justified line of running text (a title or paragraph whose word gaps were stretched
    past a column gap): three or more one-word blocks, evenly spaced. Header cells are set
    where their columns start, so their gaps differ."""
    chunks = ln.chunks
    if len(chunks) < 3 or any(len(c) != 1 for c in chunks):
        return False
    gaps = [b[0].x0 - a[0].x1 for a, b in itertools.pairwise(chunks)]
    return max(gaps) - min(gaps) <= max(0.5, tolerance * ln.size)


def _key_index(headers: Sequence[str]) -> int:
    """The column a table's rows are anchored on: the reference, else the recipient, else
    the first column."""
    key = key_column(list(headers))
    return 0 if key is None else key


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
    key: int = 0  # text mode: the column rows are anchored on (reference, else recipient)
    # text mode: do rows print their key on their first line (cells aligned at the top)?
    top_aligned: bool = True

    def key_column(self) -> int:
        """The leftmost column that is (nearly) always filled: the reference, usually."""
        n = len(self.table.rows)
        if n < 3:
            return 0
        return next((i for i, c in enumerate(self.filled) if c >= 0.9 * n), 0)

    def add(self, cells: list[str], page: int, continuation: bool) -> None:
        self.table.last_page = max(self.table.last_page or page, page)
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


Box = tuple[float, float, float, float]  # x0, top, x1, bottom (PDF points, top-down)


@dataclass
class TableTrace:
    """What the reader decided for one table on one page, for ``extract.pdf_debug``."""

    section: str
    mode: str  # grid | text
    table_id: int  # id() of the RawTable: one trace per table and page
    bounds: list[float] = field(default_factory=list)  # text: column boundaries
    headers: list[Box] = field(default_factory=list)
    rows: list[Box] = field(default_factory=list)


@dataclass
class PageTrace:
    furniture: list[Box] = field(default_factory=list)
    tables: list[TableTrace] = field(default_factory=list)


@dataclass
class Trace:
    """Layout decisions per page (page furniture dropped, table areas, column bounds, row
    boxes), collected only when asked for: the debug images are drawn from it."""

    pages: dict[int, PageTrace] = field(default_factory=dict)

    def table(self, page: int, table: RawTable, mode: str) -> TableTrace:
        pt = self.pages.setdefault(page, PageTrace())
        for tt in pt.tables:
            if tt.table_id == id(table) and tt.mode == mode:
                return tt
        tt = TableTrace(table.section, mode, id(table))
        pt.tables.append(tt)
        return tt


def _box(words: Sequence[Word]) -> Box:
    return (min(w.x0 for w in words), min(w.top for w in words),
            max(w.x1 for w in words), max(w.bottom for w in words))


@dataclass
class Stitcher:
    """Walks the document top to bottom, page by page, turning bands and grids into tables.

    ``pending`` holds a recognised section title until the header under it arrives;
    ``current`` is the table rows are being added to, kept across pages so a table that
    continues (with or without a repeated header) and a row cut by a page break join up.
    """

    metrics: Metrics
    settings: ReaderSettings = field(default_factory=ReaderSettings)
    tables: list[RawTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    title: str | None = None
    pending: tuple[str, str] | None = None  # (section key, title text) awaiting a header
    current: Builder | None = None
    # page -> top of the first table header on it: where the self-checks start counting
    # the references printed on the page
    opened: dict[int, float] = field(default_factory=dict)
    trace: Trace | None = None  # layout decisions, for the debug images

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
            cur = self._start(rows[0], page, "grid", t.top)
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
        if self.trace is not None:
            self.trace.table(page, cur.table, "grid").rows.append(
                (math.nan, t.top, math.nan, t.bottom))
        # An open bottom under an *empty* last row (a valign=middle row cut before any of
        # its text) or under a header means the row starts afresh on the next page.
        last = rows[-1]
        cur.open_bottom = (t.open_bottom and len(rows) > first and any(last)
                           and not _same_header(last, headers))

    # -- free text: titles, notes, unruled tables --
    def text(self, bands: list[Band], page: int, page_no_one: bool, limit: float) -> None:
        """Handle a run of free-text bands on one page; ``limit`` is its lowest text line.

        A band may hold a header and the rows under it, or several rows, when rows are set
        with no more space between them than between the lines of a cell: the header is
        judged on the band's leading lines (``_header_lines``) and the rest goes on as a
        band of its own; data bands are cut into rows at the key column (``_row_starts``).
        """
        bands = list(bands)
        i = 0
        while i < len(bands):
            band = bands[i]
            cur = self.current
            whole = band.chunks
            running = len(whole) == 1 or all(
                len(ln.chunks) == 1 or _justified(ln, self.settings.justified_tolerance)
                for ln in band.lines)
            if page_no_one and self.title is None and not self.tables and running:
                self.title = band.text
            if len(whole) > 1 and cur and cur.mode == "text":
                depth = self._repeated_header(cur, band)
                if depth:
                    head, rest = self._cut_band(band, depth)
                    after = ([rest] if rest else []) + bands[i + 1:]
                    cur.bounds = self._bounds(head, after, len(cur.table.headers)) \
                        or cur.bounds
                    self._trace_header(cur, head)
                    i = self._resume(bands, i, rest)
                    continue
            depth = self._header_lines(band)
            head, rest = self._cut_band(band, depth)
            chunks = head.chunks
            if len(chunks) > 1 and self._starts_table(
                    chunks, head, ([rest] if rest else []) + bands[i + 1:], cur):
                extent = self._table_extent(([rest] if rest else []) + bands[i + 1:])
                bounds = self._bounds(head, extent, None)
                headers = self._split(head.words, bounds)
                cur = self._start(headers, page, "text", head.top)
                cur.bounds = bounds
                cur.key = _key_index(headers)
                cur.top_aligned = self._top_aligned(cur, extent)
                self._trace_header(cur, head)
                i = self._resume(bands, i, rest)
                continue
            key = section_for_title(band.text) if running else None
            if key and (cur is None or cur.mode == "grid" or self._title_like(band)):
                self.pending = (key, band.text)
                self.current = None
                i += 1
                continue
            if cur and cur.mode == "text":
                for sub, cols in self._rows(cur, band):
                    row = [cell_text(c) for c in cols]
                    cur.add(row, page, cur.text_continues(row, page, self.metrics.leading))
                    cur.last_band = self._last_band(sub, cols, limit)
                    if self.trace is not None:
                        tt = self.trace.table(page, cur.table, "text")
                        tt.rows.append(_box(sub.words))
                        tt.bounds = tt.bounds or list(cur.bounds)
            i += 1

    def _trace_header(self, cur: Builder, head: Band) -> None:
        if self.trace is not None:
            tt = self.trace.table(head.page, cur.table, "text")
            tt.headers.append(_box(head.words))
            tt.bounds = list(cur.bounds)

    @staticmethod
    def _cut_band(band: Band, depth: int) -> tuple[Band, Band | None]:
        """The band's first ``depth`` lines, and the rest (None if nothing is left)."""
        if depth >= len(band.lines):
            return band, None
        return Band(band.lines[:depth], band.page), Band(band.lines[depth:], band.page)

    @staticmethod
    def _resume(bands: list[Band], i: int, rest: Band | None) -> int:
        """Go on with the rest of band ``i`` if a header took only its top lines."""
        if rest is None:
            return i + 1
        bands[i] = rest
        return i

    def _starts_table(self, chunks: list[list[Word]], head: Band, after: list[Band],
                      cur: Builder | None) -> bool:
        """Does this header-like block start a table?

        A register header does (inside a table, only a mostly-header row, or a bold one).
        Under a recognised title, a row nobody's synonyms know may head the table too, but
        only if it looks like a header (three or more short cells of words, none a value)
        and the text under it keeps to its columns: running prose (justified lines whose
        stretched word gaps look like gutters) or a bulleted list under a section heading
        is not a table.
        """
        # A header cell is never a reference or a date. Most bands asked are data rows, whose
        # key cell (usually the first) says so before the other cells are read.
        cells: list[str] = []
        for chunk in chunks:
            text = cell_text(chunk)
            if REFERENCE_RE.match(text) or DATE_RE.match(text):
                return False
            cells.append(text)
        if _justified(head.lines[0], self.settings.justified_tolerance):
            return False
        if _is_register_header(cells, strict=cur is not None and not head.bold):
            return True
        if not self.pending:
            return False
        if looks_like_header(cells):
            return True
        if len(cells) < 3 or any(len(c) > 60 or _one_line_value(c)
                                 or not re.search(r"[^\W\d_]{2}", c) for c in cells):
            return False
        extent = self._table_extent(after)
        bounds = self._bounds(head, extent, None)
        words = [w for b in extent[:20] for w in b.words]
        if not bounds or not words:
            return False
        crossing = sum(1 for w in words for a in w.atoms()
                       if any(a[0] + 0.5 < x < a[1] - 0.5 for x in bounds))
        return crossing <= self.settings.max_crossing_share * len(words)

    def _header_lines(self, band: Band) -> int:
        """How many of a band's top lines are its header, when the rows under a header are
        set as tight as the header's own wrapped lines (so gaps cannot tell them apart).

        A bold header: the bold lines at the top. A band with no value (date, reference,
        count) on any line below its first is all header, as in a loosely set table.
        Otherwise, of the top lines (at most ``max_header_lines``) up to the
        first holding a value (a date, a reference, a count), the depth whose cells name
        the most known fields; on a tie, the one after which the next line starts in the
        key (first) column, as a top-aligned data row does; then the shallowest.
        """
        lines = band.lines
        cap = min(len(lines), self.settings.max_header_lines)
        if cap <= 1:
            return len(lines) if len(lines) == 1 else 1
        if any(REFERENCE_RE.match(w.text) or DATE_RE.match(w.text) for w in lines[0].words):
            return 1  # a reference or a date on the first line: a data row, not a header
        bold = [bool(ln.words) and all(w.bold for w in ln.words) for ln in lines]
        if bold[0] and not all(bold):  # a bold header may wrap a narrow cell many times
            k = 1
            while k < len(lines) and bold[k]:
                k += 1
            return k
        limit = 1
        while limit < len(lines) and not any(_one_line_value(w.text)
                                             for w in lines[limit].words):
            limit += 1
        if limit == len(lines):  # no value under it: the band is all header (or all prose)
            return len(lines)
        limit = min(limit, cap)
        if limit == 1:
            return 1

        def score(k: int) -> tuple[int, bool, int]:
            words = [w for ln in lines[:k] for w in ln.words]
            chunks = _chunks(words)
            mapped = len(map_headers([cell_text(c) for c in chunks]).fields)
            first_right = max(w.x1 for w in chunks[0])
            keyed = k == len(lines) or any(w.x0 <= first_right for w in lines[k].words)
            return mapped, keyed, -k

        return max(range(1, limit + 1), key=score)

    def _repeated_header(self, cur: Builder, band: Band) -> int:
        """Lines at the top of the band that repeat the table's header (0: none)."""
        vocabulary = {t for h in cur.table.headers for t in _norm(h).split()}
        first = [_norm(w.text) for w in band.lines[0].words]
        if sum(1 for t in first if t in vocabulary) < 0.8 * len(first):
            return 0  # its first line is not header words: a data row (the common case)
        bold = 0
        while bold < len(band.lines) and all(w.bold for w in band.lines[bold].words):
            bold += 1
        cap = min(len(band.lines), 2 * self.settings.max_header_lines)
        for k in dict.fromkeys([len(band.lines), bold, *range(cap, 0, -1)]):
            if not k:
                continue
            head = band.lines[:k]
            if _same_header(self._split([w for ln in head for w in ln.words], cur.bounds),
                            cur.table.headers):
                return k
        return 0

    def _top_aligned(self, cur: Builder, bands: list[Band]) -> bool:
        """Are the table's cells aligned at the top? Judged on its bands of two lines or
        more: in most of them the key column has text on the first line. (Centred cells
        put a short key in the middle of a tall row, so a key there starts no row.)"""
        top = other = 0
        for b in bands[:40]:
            if len(b.lines) < 2:
                continue
            for j, ln in enumerate(b.lines):
                if self._columns(ln.words, cur.bounds)[min(cur.key, len(cur.bounds))]:
                    top, other = (top + 1, other) if j == 0 else (top, other + 1)
                    break
        return top >= self.settings.min_top_share * (top + other)

    def _rows(self, cur: Builder, band: Band) -> list[tuple[Band, list[list[Word]]]]:
        """The band cut into rows where a new row starts (``_row_starts``), each with its
        words by column. A word's column depends on the word alone, so a row's columns are
        its lines' columns joined: each line is split once."""
        lines = band.lines
        cols = [self._columns(ln.words, cur.bounds) for ln in lines]
        starts = self._row_starts(cur, lines, cols)
        ends = [*starts[1:], len(lines)]
        width = len(cur.bounds) + 1
        return [(Band(lines[a:b], band.page),
                 [[w for c in cols[a:b] for w in c[i]] for i in range(width)])
                for a, b in zip(starts, ends, strict=True)]

    def _row_starts(self, cur: Builder, lines: list[Line],
                    cols: list[list[list[Word]]]) -> list[int]:
        """Lines of a band where a table row starts: the first, and each line where the
        key column starts a new text block: its text follows a line with none there, or
        follows another reference (references never wrap), or a column of one-line values
        (dates, counts, references) has text on this line too (a top-aligned row prints
        those on its first line; a wrapped key cell's second line has none beside it).
        In a table of centred cells only the reference rule applies.

        This does not depend on rows being further apart than the lines of a cell: in a
        tightly set table the gap method (``_bands``) sees one band for many rows.
        """
        if len(lines) < 2 or not cur.bounds:
            return [0]
        key = min(cur.key, len(cur.bounds))
        if not any(c[key] for c in cols[1:]):
            return [0]  # the key column has text on the first line only: one row
        grid = [[" ".join(w.text for w in sorted(col, key=lambda w: w.x0)) for col in c]
                for c in cols]
        one_line = [c for c in range(len(grid[0])) if c != key
                    and any(row[c] for row in grid)
                    and all(_one_line_value(row[c]) for row in grid if row[c])]
        starts = [0]
        for j in range(1, len(lines)):
            here, prev = grid[j][key], grid[j - 1][key]
            if not here:
                continue
            two_refs = bool(REFERENCE_RE.match(prev) and REFERENCE_RE.match(here))
            if two_refs or (cur.top_aligned and (not prev or any(grid[j][c] for c in one_line))):
                starts.append(j)
        return starts

    def _title_like(self, band: Band) -> bool:
        """Inside an unruled table, only a distinct line (bigger or bold) ends the table."""
        return band.size >= 1.1 * self.metrics.body_size or band.bold

    def _table_extent(self, bands: list[Band]) -> list[Band]:
        """The bands of the table that starts above them: up to the next title."""
        out = []
        for b in bands:
            if len(b.chunks) == 1 and section_for_title(b.text) \
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
        blocks = [p for b in header.chunks
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

    def _last_band(self, band: Band, cols: list[list[Word]], limit: float) -> LastBand:
        last_line = band.bottom - 0.5 * self.metrics.leading
        return LastBand(
            band.page, band.bottom, limit, len(band.lines),
            filled=frozenset(i for i, col in enumerate(cols) if col),
            at_bottom=frozenset(i for i, col in enumerate(cols)
                                if any(w.bottom >= last_line for w in col)))

    def _start(self, headers: list[str], page: int, mode: str, top: float) -> Builder:
        self.opened[page] = min(self.opened.get(page, top), top)
        key, title = self.pending or ("unknown", "")
        table = RawTable(section=key, title=title, headers=headers, first_page=page)
        self.tables.append(table)
        self.pending = None
        self.current = Builder(table, mode)
        return self.current


def _assemble(scans: list[PageScan], settings: ReaderSettings | None = None,
              trace: Trace | None = None) -> tuple[str | None, list[RawTable], list[str]]:
    """Document title, tables with rows, and warnings, from the scanned pages in order;
    ``trace``, if given, collects the layout decisions for the debug images."""
    settings = ReaderSettings.resolve(settings)
    all_lines = [_lines(s.words) for s in scans]
    furniture = _furniture(scans, all_lines, settings.edge_zone)
    page_lines = [[ln for ln in lines if (s.number, ln.top) not in furniture]
                  for s, lines in zip(scans, all_lines, strict=True)]
    metrics = _metrics(page_lines, settings)
    for s, lines in zip(scans, page_lines, strict=True):
        bottoms = [ln.bottom for ln in lines] + [t.bottom for t in s.tables]
        if bottoms:
            key = round(s.height)
            metrics.text_bottom[key] = max(metrics.text_bottom.get(key, 0.0), max(bottoms))
    if trace is not None:
        for s, lines in zip(scans, all_lines, strict=True):
            trace.pages.setdefault(s.number, PageTrace()).furniture += [
                _box(ln.words) for ln in lines if (s.number, ln.top) in furniture]
    st = Stitcher(metrics, settings, trace=trace)
    carried: set[int] = set()  # pages a table continues onto from the page before
    for s, lines in zip(scans, page_lines, strict=True):
        if st.current is not None:
            carried.add(s.number)
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
    check_tables(tables, _printed_references(scans, page_lines, st.opened, carried))
    return st.title or None, tables, st.warnings


def _printed_references(scans: list[PageScan], page_lines: list[list[Line]],
                        opened: dict[int, float], carried: set[int]) -> dict[int, list[str]]:
    """Reference-shaped tokens printed in table areas, per page: below the first header on
    a page where a table starts, the whole page where one continues (furniture aside), and
    every ruled cell."""
    out: dict[int, list[str]] = {}
    for s, lines in zip(scans, page_lines, strict=True):
        if s.number not in opened and s.number not in carried:
            continue
        top = -math.inf if s.number in carried else opened[s.number]
        refs = [t for ln in lines if ln.top >= top - 1.0 for w in ln.words
                for t in references(w.text)]
        refs += [t for g in s.tables for row in g.rows for c in row for t in references(c)]
        out[s.number] = refs
    return out


# --- entry point --------------------------------------------------------------------------------


def scan_pdf(path: Path, on_page: PageCallback | None, settings: ReaderSettings
             ) -> list[PageScan]:
    """Check the file and scan every page: the steps ``read_pdf`` and the debug view share.
    Raises IngestError with the one-line reason for a file that cannot be read."""
    check_file(path)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    n_pages = page_count(path, settings)
    if n_pages == 0:
        raise IngestError("PDF has no pages")
    try:
        return scan_all(path, n_pages, on_page, settings)
    except IngestError:
        raise
    except Exception as exc:
        raise pdf_error(exc) from None


def read_pdf(path: Path, on_page: PageCallback | None = None,
             settings: ReaderSettings | dict[str, Any] | None = None) -> ParsedRelease:
    """Read every register table of a PDF release. Raises IngestError for bad input."""
    path = Path(path)
    settings = ReaderSettings.resolve(settings)
    scans = scan_pdf(path, on_page, settings)
    n_pages = len(scans)
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
