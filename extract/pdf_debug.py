"""``python -m extract debug FILE.pdf [--pages 3-5] --out DIR``: see why a layout fails.

Writes one PNG per page (``<stem>_p<n>.png``) with the reader's decisions drawn over the
rendered page, in the manner of pdfplumber's ``debug_tablefinder``:

* **table area** (blue frame): the header and rows of each table on the page;
* **column bounds** (red vertical lines) of unruled tables, over the table area;
* **header** (magenta boxes) and **row boxes** (green): each box is one stored row (or the
  part of it on this page), so glued or split rows show at a glance;
* **page furniture** dropped as running heads/footers (orange boxes).

Ruled tables are framed and each grid drawn with its rows as one green box. Only reading
and drawing happen here; the decisions come from :func:`extract.pdf._assemble` itself, so
the picture is what the reader did, not a re-derivation.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
from PIL import ImageDraw

from extract.model import IngestError
from extract.pdf import Box, PageTrace, Trace, _assemble, scan_pdf
from extract.settings import ReaderSettings

AREA = (0, 90, 255)
BOUND = (230, 0, 0)
HEADER = (200, 0, 200)
ROW = (0, 170, 60)
FURNITURE = (255, 140, 0)
RESOLUTION = 100  # pixels per inch: a landscape A4 page is about 1170 x 830 pixels
MARGIN = 3.0  # points of frame drawn around a table area


@dataclass(frozen=True)
class DebugPage:
    """A written image and what was drawn on it (for tests and the CLI summary)."""

    page: int
    path: Path
    tables: int
    rows: int
    furniture: int


def parse_pages(spec: str | None, n_pages: int) -> list[int]:
    """"3-5,8" -> [3, 4, 5, 8]; None -> every page. Raises ValueError on a bad spec."""
    if not spec:
        return list(range(1, n_pages + 1))
    out: list[int] = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise ValueError(f"bad page range {part.strip()!r} (use e.g. 3-5,8)")
        a, b = int(m[1]), int(m[2] or m[1])
        if a < 1 or b < a:
            raise ValueError(f"bad page range {part.strip()!r}")
        out += [p for p in range(a, b + 1) if p <= n_pages and p not in out]
    if not out:
        raise ValueError(f"no such page: the file has {n_pages}")
    return out


def trace_pdf(path: Path, settings: ReaderSettings | None = None) -> Trace:
    """Read the whole file as ``read_pdf`` does (stitching needs every page), keeping the
    layout decisions."""
    settings = ReaderSettings.resolve(settings)
    scans = scan_pdf(path, None, settings)
    trace = Trace()
    _assemble(scans, settings, trace)
    return trace


def _area(boxes: list[Box], width: float) -> Box:
    x0 = min((b[0] for b in boxes if not math.isnan(b[0])), default=MARGIN)
    x1 = max((b[2] for b in boxes if not math.isnan(b[2])), default=width - MARGIN)
    return (x0 - MARGIN, min(b[1] for b in boxes) - MARGIN, x1 + MARGIN,
            max(b[3] for b in boxes) + MARGIN)


def draw_page(image: object, pt: PageTrace, width: float, scale: float) -> tuple[int, int]:
    """Draw one page's decisions on a PIL image (in place). Returns (tables, rows) drawn."""
    draw = ImageDraw.Draw(image)  # type: ignore[arg-type]

    def rect(b: Box, colour: tuple[int, int, int], w: int = 2) -> None:
        x0 = MARGIN if math.isnan(b[0]) else b[0]
        x1 = width - MARGIN if math.isnan(b[2]) else b[2]
        draw.rectangle([x0 * scale, b[1] * scale, x1 * scale, b[3] * scale],
                       outline=colour, width=w)

    rows = 0
    for b in pt.furniture:
        rect(b, FURNITURE)
    for tt in pt.tables:
        boxes = tt.headers + tt.rows
        if not boxes:
            continue
        area = _area(boxes, width)
        for b in tt.headers:
            rect(b, HEADER, 1)
        for b in tt.rows:
            rect(b, ROW, 1)
            rows += 1
        for x in tt.bounds:
            draw.line([x * scale, area[1] * scale, x * scale, area[3] * scale], fill=BOUND,
                      width=2)
        rect(area, AREA, 3)
    return len(pt.tables), rows


def debug_pdf(path: Path, out_dir: Path, pages: str | None = None,
              settings: ReaderSettings | None = None) -> list[DebugPage]:
    """Write the annotated PNGs of ``pages`` (a spec such as "3-5") into ``out_dir``."""
    path = Path(path)
    trace = trace_pdf(path, settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    out: list[DebugPage] = []
    with pdfplumber.open(path) as pdf:
        for n in parse_pages(pages, len(pdf.pages)):
            page = pdf.pages[n - 1]
            try:
                image = page.to_image(resolution=RESOLUTION).original.convert("RGB")
                pt = trace.pages.get(n, PageTrace())
                tables, rows = draw_page(image, pt, float(page.width), RESOLUTION / 72)
                target = out_dir / f"{path.stem}_p{n}.png"
                image.save(target)
                out.append(DebugPage(n, target, tables, rows, len(pt.furniture)))
            finally:
                page.close()
    return out


def cli_debug(file: str, pages: str | None, out: str) -> int:
    """The ``debug`` subcommand: one line per image; errors in the usual one-line form."""
    path = Path(file)
    try:
        written = debug_pdf(path, Path(out), pages)
    except (IngestError, ValueError) as exc:
        print(f"error: {path.name}: {exc}", file=sys.stderr)
        return 1
    for d in written:
        print(f"{d.path}: page {d.page}, {d.tables} tables, {d.rows} row boxes, "
              f"{d.furniture} furniture lines dropped")
    return 0
