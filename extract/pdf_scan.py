"""The scanning layer of the PDF reader: characters, words and rulings of each page.

Everything here works on one page at a time and returns plain, picklable data
(:class:`PageScan`), so pages can be scanned in worker processes. The characters and
rulings come from a character source (:mod:`extract.chars`: pdfium by default, pdfminer as
the reference, chosen by ``ReaderSettings.reader``); from there on everything is shared.
What the words *mean* (bands, rows, headers, sections) is decided in :mod:`extract.pdf`.

1. **Scan** (per page, in a 2-process pool for longer files): words with position, size and
   weight, never running across a vertical ruling (a character belongs to the cell holding
   its centre, however close the next cell's text); ruled tables found from the rulings,
   with the grid *closed* at the top and bottom of the vertical rulings so rows cut by a
   page break are kept rather than silently dropped (pdfplumber issue #1024/#1370), noting
   whether a table's last row was left open. The table finder is pdfplumber's own
   (``TableFinder``: snap, join, intersections, cells, tables), run on the rulings alone,
   so pdfminer never parses a page read by pdfium. Worker processes die with their parent
   (``PR_SET_PDEATHSIG``), so a killed ingest leaves no scanner running.
2. **Open and validate**: a file that is not a PDF, truncated, encrypted or unparseable is
   refused with a one-line :class:`~extract.model.IngestError`.
"""

from __future__ import annotations

import bisect
import ctypes
import logging
import math
import multiprocessing
import operator
import os
import re
import signal
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, NamedTuple

from pdfplumber.table import TableFinder

from extract.chars import LIGATURES, Char, PageChars, source
from extract.model import IngestError
from extract.settings import ReaderSettings

log = logging.getLogger(__name__)

PageCallback = Callable[[int, int], None]


class Word(NamedTuple):
    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    size: float
    bold: bool
    space: float  # width of a space in this word's font: wider gaps separate blocks
    # Narrow gaps inside the word, (text offset, x where the left part ends, x where the
    # right part starts): usually empty. Two cells' texts can run this close together
    # (right-aligned date, then the next cell), so a column bound inside one splits the word.
    gaps: tuple[tuple[int, float, float], ...] = ()
    # A space character sits right before the word: it follows another word of the same
    # text, not the text of a neighbouring cell (printers write no space between cells).
    spaced: bool = False

    def split_at(self, i: int) -> tuple[Word, Word]:
        """The two words on either side of soft gap ``i``."""
        k, left_x1, right_x0 = self.gaps[i]
        shift = tuple((o - k, a, b) for o, a, b in self.gaps[i + 1:])
        return (self._replace(x1=left_x1, text=self.text[:k], gaps=self.gaps[:i]),
                self._replace(x0=right_x0, text=self.text[k:], gaps=shift))

    def atoms(self) -> list[tuple[float, float]]:
        """Horizontal extents of the word's parts between its soft gaps."""
        if not self.gaps:
            return [(self.x0, self.x1)]
        xs = [self.x0] + [x for _, a, b in self.gaps for x in (a, b)] + [self.x1]
        return list(zip(xs[::2], xs[1::2], strict=True))


class GridTable(NamedTuple):
    """A ruled table on one page: its rows of cell texts and whether its edges were open."""

    top: float
    bottom: float
    rows: list[list[str]]
    open_bottom: bool  # no ruling below the last row: it continues on the next page


class PageScan(NamedTuple):
    number: int  # 1-based
    width: float
    height: float
    words: list[Word]  # words outside ruled tables
    tables: list[GridTable]
    chars: int
    images: int


# --- 1. scanning pages (runs in worker processes) ----------------------------------------------


# A line ending in a hyphen after a letter or digit was broken there ("peer-" / "reviewed"):
# the next line follows without a space. A free-standing dash (" - ") keeps its spaces.
HYPHEN_BREAK_RE = re.compile(r"[^\W_]-$")


def join_lines(a: str, b: str) -> str:
    """Two pieces of one cell's text, the second from the next line."""
    if not a or not b:
        return a or b
    return a + b if HYPHEN_BREAK_RE.search(a) else f"{a} {b}"


def cell_text(words: Iterable[Word]) -> str:
    """Words of one cell in reading order, lines joined with single spaces (none after a
    line-breaking hyphen)."""
    ws = sorted(words, key=lambda w: w.top)
    lines: list[list[Word]] = []
    for w in ws:
        if lines and w.top - lines[-1][0].top < 0.5 * (w.bottom - w.top):
            lines[-1].append(w)
        else:
            lines.append([w])
    text = ""
    for line in lines:
        text = join_lines(text, " ".join(w.text for w in sorted(line, key=lambda w: w.x0)))
    return text


def _has_rule(h_edges: list[dict[str, Any]], y: float, x0: float, x1: float) -> bool:
    """Is there a real horizontal ruling at ``y`` covering most of ``x0..x1``?"""
    covered = sum(
        max(0.0, min(e["x1"], x1) - max(e["x0"], x0))
        for e in h_edges
        if abs(e["top"] - y) <= 2.0
    )
    return covered >= 0.6 * (x1 - x0)


BOLD_RE = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)


def _edge(x0: float, top: float, x1: float, bottom: float) -> dict[str, Any]:
    """An edge in pdfplumber's format, for its table finder."""
    return {"object_type": "line_edge", "x0": x0, "x1": x1, "top": top, "bottom": bottom,
            "doctop": top, "width": x1 - x0, "height": bottom - top,
            "orientation": "h" if bottom - top < x1 - x0 else "v"}


def soft_gap(size: float) -> float:
    """A gap between two letters wider than kerning or rounding leaves inside a word (less
    than a space): where two cells' texts may meet. Used only to split at column bounds."""
    return max(0.3, 0.08 * size)


def _words(chars: list[Char], rulings: Sequence[tuple[float, float, float]] = ()
           ) -> list[Word]:
    """Group characters into words: split at spaces, gaps over 1.5pt, font changes and
    vertical rulings (x, top, bottom) between two characters' centres.

    The same rules as ``page.extract_words(x_tolerance=1.5, y_tolerance=2,
    extra_attrs=["size", "fontname"])``, on plain tuples, plus the rulings: a printer can
    set the text of two ruled cells closer than a space (a right-aligned date, then the
    next cell's text 1.4pt on), and a character belongs to the cell holding its centre.
    Narrower gaps inside a word are kept in ``Word.gaps`` for unruled tables' column
    bounds. Also measures each font's space width, which later tells a gap between words
    from a gap between columns.
    """
    spaces: dict[tuple[str, float], list[float]] = {}
    lines: list[list[Char]] = []
    last_top = -1e9
    for c in sorted(chars, key=_TOP):
        if c[0] - last_top > 2.0 or not lines:
            lines.append([])
        lines[-1].append(c)
        last_top = c[0]
    groups: list[tuple[list[Char], bool]] = []  # characters, whether a space came before
    for line in lines:
        mid = (line[0][0] + max(map(_BOTTOM, line))) / 2  # line[0] is the topmost
        xs = sorted(x for x, top, bottom in rulings if top <= mid <= bottom)
        cur: list[Char] = []
        after_space = False
        space_end: float | None = None  # right edge of a space just passed
        for c in sorted(line, key=_X0):
            if c[4].isspace():
                spaces.setdefault((c[5], c[6]), []).append(c[3] - c[2])
                if cur:
                    groups.append((cur, after_space))
                    cur = []
                space_end = c[3]
                continue
            if cur and (c[2] - cur[-1][3] > 1.5 or c[5] != cur[-1][5] or c[6] != cur[-1][6]
                        or (xs and _ruled_between(xs, cur[-1], c))):
                groups.append((cur, after_space))
                cur = []
            if not cur:
                after_space = space_end is not None and c[2] - space_end <= 0.5 * c[6]
            space_end = None
            cur.append(c)
        if cur:
            groups.append((cur, after_space))
    space = {k: statistics.median(v) for k, v in spaces.items()}
    out: list[Word] = []
    bold: dict[str, bool] = {}
    for g, after_space in groups:
        first = g[0]
        soft = soft_gap(first[6])
        text, gaps = "", []
        # g is in x0 order: its first character has the smallest x0
        x1, top, bottom = first[3], first[0], first[1]
        prev = first
        for i, c in enumerate(g):
            if i:
                if c[2] - prev[3] > soft:
                    gaps.append((len(text), prev[3], c[2]))
                if c[3] > x1:
                    x1 = c[3]
                if c[0] < top:
                    top = c[0]
                if c[1] > bottom:
                    bottom = c[1]
            text += LIGATURES.get(c[4], c[4])
            prev = c
        font = first[5]
        is_bold = bold.get(font)
        if is_bold is None:
            is_bold = bold[font] = bool(BOLD_RE.search(font))
        out.append(Word(first[2], x1, top, bottom, text, first[6], is_bold,
                        space.get((font, first[6]), 0.3 * first[6]), tuple(gaps),
                        after_space))
    return out


_TOP = operator.itemgetter(0)
_BOTTOM = operator.itemgetter(1)
_X0 = operator.itemgetter(2)


def _ruled_between(xs: list[float], a: Char, b: Char) -> bool:
    """Is there a vertical ruling (sorted ``xs``) between the centres of chars a and b?"""
    lo = (a[2] + a[3]) / 2
    i = bisect.bisect_right(xs, lo)
    return i < len(xs) and xs[i] < (b[2] + b[3]) / 2


class _PageBox(NamedTuple):
    """What pdfplumber's ``TableFinder`` asks of a page when every line is explicit: its
    bbox (for lines given as bare coordinates). Nothing here can make pdfminer parse."""

    bbox: tuple[float, float, float, float]


def _grid_tables(page: PageChars, edges: list[dict[str, Any]], words: list[Word]
                 ) -> tuple[list[GridTable], set[int]]:
    """Ruled tables found from the rulings, and which words they took."""
    v_edges = [e for e in edges if e["orientation"] == "v" and e["height"] > 5]
    h_edges = [e for e in edges if e["orientation"] == "h" and e["width"] > 5]
    tables: list[GridTable] = []
    taken: set[int] = set()
    if len(v_edges) < 2 or not h_edges:
        return tables, taken
    v_top = min(e["top"] for e in v_edges)
    v_bottom = max(e["bottom"] for e in v_edges)
    # Closed at the left and right too, at the ends of the horizontal rulings, where no
    # vertical ruling is: a grid with inner rulings only (fpdf2's "INTERNAL") would
    # otherwise lose its outer columns.
    h_in = [e for e in h_edges if v_top - 1 <= e["top"] <= v_bottom + 1]
    sides = [_edge(x, v_top, x, v_bottom) for x in (
        [min(e["x0"] for e in h_in), max(e["x1"] for e in h_in)] if h_in else [])
        if not any(abs(e["x0"] - x) <= 1.0 for e in v_edges)]
    # The rulings as explicit lines (same result as the "lines" strategy, without
    # pdfplumber re-parsing the page), closed at the top and bottom of the verticals.
    settings = {
        "vertical_strategy": "explicit", "horizontal_strategy": "explicit",
        "explicit_vertical_lines": [e for e in edges if e["orientation"] == "v"] + sides,
        "explicit_horizontal_lines": [e for e in edges if e["orientation"] == "h"]
        + [v_top, v_bottom],
    }
    found = TableFinder(_PageBox(page.bbox), settings).tables  # type: ignore[arg-type]
    for t in sorted(found, key=lambda t: t.bbox[1]):
        x0, top, x1, bottom = t.bbox
        rows = t.rows
        if len(t.columns) < 2 or not rows:
            continue
        cells_by_row: list[list[list[Word]]] = [[[] for _ in r.cells] for r in rows]
        for i, w in enumerate(words):
            cx, cy = (w.x0 + w.x1) / 2, (w.top + w.bottom) / 2
            if not (x0 <= cx <= x1 and top <= cy <= bottom):
                continue
            for r_idx, r in enumerate(rows):
                if not r.bbox[1] <= cy <= r.bbox[3]:
                    continue
                for c_idx, cell in enumerate(r.cells):
                    if cell is not None and cell[0] <= cx <= cell[2]:
                        cells_by_row[r_idx][c_idx].append(w)
                        taken.add(i)
                        break
                break
        texts = [[cell_text(c) for c in row] for row in cells_by_row]
        tables.append(GridTable(
            top, bottom, texts,
            open_bottom=not _has_rule(h_edges, bottom, x0, x1),
        ))
    return tables, taken


def _scan_page(page: PageChars) -> PageScan:
    """Words and ruled tables of one page, whichever source read it. Pure data out, so it
    pickles between processes."""
    edges = [_edge(*seg) for seg in page.segments]
    if edges:  # shading beside rulings can close a cell (a header's grey under no rule)
        edges += [_edge(*seg) for seg in page.shading]
    v_edges = [e for e in edges if e["orientation"] == "v" and e["height"] > 5]
    words = _words(page.chars, [(e["x0"], e["top"], e["bottom"]) for e in v_edges])
    tables, taken = _grid_tables(page, edges, words)
    if taken:
        words = [w for i, w in enumerate(words) if i not in taken]
    return PageScan(page.number, page.width, page.height, words, tables, len(page.chars),
                    page.images)


def _scan_chunk(reader: str, path: str, numbers: list[int]) -> list[PageScan]:
    """Scan some pages (1-based numbers), opening the file in this (worker) process.

    The words travel back as plain tuples (:func:`_unpack` makes them words again):
    pickling named tuples costs about 4 µs each way per word, 0.7 s for 100 pages."""
    return [s._replace(words=[tuple(w) for w in s.words])
            for s in map(_scan_page, source(reader).pages(Path(path), numbers))]


def _unpack(scans: list[PageScan]) -> list[PageScan]:
    make = Word._make
    return [s._replace(words=[make(w) for w in s.words]) for s in scans]


PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Pool initializer: the kernel kills this worker when the process that started it dies
    (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), so ``kill -9`` of an ingest leaves no scanner
    parsing on for minutes. Elsewhere than Linux the pool's own shutdown must do."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def scan_all(path: Path, n_pages: int, on_page: PageCallback | None,
              settings: ReaderSettings | None = None) -> list[PageScan]:
    """Scan every page, in two processes when the file is long enough to pay for them."""
    settings = ReaderSettings.resolve(settings)
    numbers = list(range(1, n_pages + 1))
    if n_pages < settings.pool_min_pages or settings.workers < 2:
        scans: list[PageScan] = []
        for pc in source(settings.reader).pages(path, numbers):
            scans.append(_scan_page(pc))
            if on_page:
                on_page(len(scans), n_pages)
        return scans
    # Several chunks per worker: progress moves steadily and a slow chunk cannot leave the
    # other core idle for long. Each chunk re-opens the file (cheap next to parsing pages),
    # so no open document crosses a fork.
    size = max(4, math.ceil(n_pages / (settings.workers * 4)))
    chunks = [numbers[i:i + size] for i in range(0, n_pages, size)]
    methods = multiprocessing.get_all_start_methods()
    # fork starts in milliseconds; workers only parse the file and return plain data.
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    results: dict[int, list[PageScan]] = {}
    done = 0
    with ProcessPoolExecutor(max_workers=settings.workers, mp_context=ctx,
                             initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_scan_chunk, settings.reader, str(path), c): i
                   for i, c in enumerate(chunks)}
        for fut in as_completed(futures):
            results[futures[fut]] = _unpack(fut.result())
            done += len(chunks[futures[fut]])
            if on_page:
                on_page(done, n_pages)
    return [s for i in range(len(chunks)) for s in results[i]]


# --- 2. opening and validating the file --------------------------------------------------------


def check_file(path: Path) -> None:
    """Refuse what is plainly not a readable PDF before a parser sees it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 2048))
            tail = fh.read()
    except OSError as exc:
        raise IngestError(f"cannot read file ({exc.strerror or exc})") from None
    if b"%PDF-" not in head:
        raise IngestError("not a PDF file (no %PDF header)")
    if b"%%EOF" not in tail:
        raise IngestError("truncated or damaged PDF (no end-of-file marker)")


def pdf_error(exc: BaseException) -> IngestError:
    """Translate either source's exceptions into a one-line reason: pdfminer's by class
    name (``PDFPasswordIncorrect``, ``PDFEncryptionError``...), pdfium's by its error code,
    which pypdfium2 puts in the message ("PDFium: Incorrect password error")."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    name = type(inner).__name__
    text = str(inner).lower()
    if "Password" in name or "Encrypt" in name or "password" in text or "security" in text:
        return IngestError("encrypted PDF: a password is needed to open it")
    return IngestError(f"damaged PDF, cannot be parsed ({name})")


def page_count(path: Path, settings: ReaderSettings | None = None) -> int:
    """Open the document once up front, with the source that will read it: encryption and
    broken structure show up here."""
    reader = ReaderSettings.resolve(settings).reader
    try:
        return source(reader).page_count(path)
    except Exception as exc:
        raise pdf_error(exc) from None
