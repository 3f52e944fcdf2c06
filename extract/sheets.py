"""Read a register release published as a spreadsheet (ODS, XLSX) or exported as CSV.

Layout only, like every reader: find each table's header row *by meaning* (the header cells
name register fields, :func:`extract.headers.looks_like_header`) under whatever title and note
rows the tab has, name the section from the title row or the tab name, and keep every data row
below it with the row number a user sees in Excel or LibreOffice. Mapping headers to fields,
dates and counts is :mod:`extract.normalise`'s job.

Why not pandas with a fixed ``header=``: releases put one to four title/note rows above the
header, tabs are cut to 31 characters ("DfE external third-party data s"), a user's CSV may
stack several tabs one under another, and footnotes ("Source: ...") sit under the tables. So
each sheet is scanned as a grid of strings (python-calamine: fast, reads both ODS and XLSX).

Hand-made workbooks also split a header over two rows ("Date" above "approved", or "Date"
merged over two columns above "approved" | "released"): the second row is taken as part of
the header when joining it to the row above names register fields better (see
:func:`_two_row_header`). Columns left empty for spacing (no header, no values) are dropped.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from extract.headers import looks_like_header, map_headers, match_header
from extract.model import IngestError, ParsedRelease, RawRow, RawTable
from extract.sections import section_for_title
from extract.values import clean, parse_period

PageCallback = Callable[[int, int], None]
# A table whose section is unknown must at least say who gets data or which request it is,
# so an unrelated sheet ("Description | Date | Amount") is not taken for a register table.
IDENTITY_FIELDS = {"organisation", "project", "reference"}
# Lines under (or between) tables that are notes, not register rows.
NOTE_RE = re.compile(r"^\s*(\*|†|‡|\[\d+\]|\(\d+\)|\d+[.)]\s|(source|sources|notes?|nb|"
                     r"footnotes?|please note)\b)", re.IGNORECASE)
DEFAULT_TAB_RE = re.compile(r"^(sheet|tab|table)\s*\d*$", re.IGNORECASE)
CSV_DELIMITERS = (",", ";", "\t", "|")
MAX_WARNED_FOOTNOTES = 5
HEADER_SEARCH_ROWS = 60  # releases put a few title/note rows above the header, never pages
# Merged ranges as python-calamine gives them: ((first row, first col), (last row, last col)).
Merge = tuple[tuple[int, int], tuple[int, int]]


@dataclass
class _Grid:
    """One sheet as strings: ``rows[i]`` is spreadsheet row ``i + 1``."""

    name: str | None  # tab name; None for CSV
    rows: list[list[str]]
    merges: list[Merge] = field(default_factory=list)  # merged cells (XLSX only; 0-based)


@dataclass
class _Found:
    """A table located in a grid, before it becomes a RawTable."""

    header_at: int
    col0: int
    titles: list[str]
    section: str | None
    header: list[str] | None = None  # the header cells when they span two rows
    data: list[int] = field(default_factory=list)  # grid row indexes of data rows
    footnotes: list[int] = field(default_factory=list)


def read_spreadsheet(path: Path, on_page: PageCallback | None = None) -> ParsedRelease:
    """Read every table of an ODS/XLSX workbook or a CSV file. Raises IngestError."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "csv":
        grids, doc_title, fmt = [_read_csv(path)], None, "csv"
    else:
        grids, doc_title, fmt = _read_workbook(path, on_page)
    parsed = ParsedRelease(source_file=path.name, format=fmt, page_count=len(grids))
    first_titles: list[str] = []
    fallback = [t for t in (doc_title, " ".join(re.sub(r"[_\-]+", " ", path.stem).split())) if t]
    for n, grid in enumerate(grids, start=1):
        tables, warnings, titles = _tables_in(grid, fallback)
        parsed.tables.extend(tables)
        parsed.warnings.extend(warnings)
        first_titles = first_titles or titles
        if fmt == "csv" and on_page:
            on_page(n, len(grids))
    if not any(t.section != "legend" for t in parsed.tables):
        where = "the CSV file has" if fmt == "csv" else "no sheet has"
        raise IngestError(f"no register table found: {where} a header row naming "
                          "organisations, projects or purposes")
    parsed.title = _release_title(doc_title, first_titles, path.stem)
    return parsed


# --- opening files ----------------------------------------------------------------------------

def _read_workbook(path: Path, on_page: PageCallback | None
                   ) -> tuple[list[_Grid], str | None, str]:
    """All sheets as string grids, the document title, and the real format (ods/xlsx)."""
    import python_calamine as pc

    kind = _workbook_kind(path)
    try:
        with path.open("rb") as fh:
            wb = pc.CalamineWorkbook.from_filelike(fh)
        names = list(wb.sheet_names)
        grids: list[_Grid] = []
        for i, name in enumerate(names, start=1):
            sheet = wb.get_sheet_by_name(name)
            raw = sheet.to_python(skip_empty_area=False)
            merges = list(sheet.merged_cell_ranges or [])  # None for ODS
            grids.append(_Grid(name, [[clean(c) for c in r] for r in raw], merges))
            if on_page:
                on_page(i, len(names))
    except pc.PasswordError as exc:
        raise IngestError("the workbook is password-protected; save it without a password") \
            from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine errors, and Rust panics (not an Exception)
        raise IngestError(f"could not read the {kind.upper()} workbook (damaged file?): "
                          f"{_short(exc)}") from exc
    if not grids:
        raise IngestError("the workbook has no sheets")
    return grids, _document_title(path, kind), kind


def _workbook_kind(path: Path) -> str:
    """'ods' or 'xlsx' from the file's content (not its name); IngestError for anything else."""
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError("an encrypted (password-protected) workbook or an old binary .xls "
                          "file; save it as .xlsx or .ods without a password")
    if not magic.startswith(b"PK"):
        raise IngestError(f"not a spreadsheet: a {path.suffix.lower() or 'spreadsheet'} file "
                          "must be a zip-based workbook (file damaged or misnamed?)")
    try:
        with zipfile.ZipFile(path) as zf:
            members = set(zf.namelist())
            manifest = (zf.read("META-INF/manifest.xml")[:1_000_000]
                        if "META-INF/manifest.xml" in members else b"")
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(f"not a spreadsheet: damaged zip archive ({_short(exc)})") from exc
    if b"encryption-data" in manifest:  # an ODS saved with a password encrypts its parts
        raise IngestError("the workbook is password-protected; save it without a password")
    if "xl/workbook.xml" in members or "xl/workbook.bin" in members:
        return "xlsx"
    if "content.xml" in members:
        return "ods"
    raise IngestError("a zip archive that is not a spreadsheet (no ODS or XLSX workbook inside)")


def _document_title(path: Path, kind: str) -> str | None:
    """The title in the document properties (File > Properties), if the publisher set one."""
    member = "docProps/core.xml" if kind == "xlsx" else "meta.xml"
    try:
        with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
            text = fh.read(200_000).decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    m = re.search(r"<dc:title>(.*?)</dc:title>", text, re.DOTALL)
    title = clean(html.unescape(m[1])) if m else ""
    return title or None


def _read_csv(path: Path) -> _Grid:
    """The CSV as one grid; one grid row per CSV record (what a spreadsheet shows as a row)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        text = data.decode("utf-16")
    elif b"\x00" in data[:8192]:
        raise IngestError("not a CSV text file (binary content)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")  # Excel on Windows: "Save as CSV"
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    if not text.strip():
        raise IngestError("the CSV file has no rows")
    # Excel writes (and hides) a "sep=;" line to say which delimiter it used.
    if m := re.match(r"sep=(.)\r?\n", text):
        delimiter, text = m[1], text[m.end():]
    else:
        delimiter = _sniff_delimiter(text)
    try:
        rows = [[clean(c) for c in rec] for rec in csv.reader(io.StringIO(text),
                                                                delimiter=delimiter)]
    except csv.Error as exc:
        raise IngestError(f"malformed CSV ({_short(exc)})") from exc
    return _Grid(None, rows)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the most of the first records into several cells.

    csv.Sniffer is confused by quoted multi-line cells and prose full of commas, so score
    each candidate instead: a header row found wins, then the number of multi-cell records.
    """
    sample = text[:100_000]
    best, best_score = ",", (-1, -1)
    for delim in CSV_DELIMITERS:
        try:
            recs = [r for _, r in zip(range(60), csv.reader(io.StringIO(sample), delimiter=delim),
                                      strict=False)]
        except csv.Error:
            continue
        multi = sum(1 for r in recs if sum(1 for c in r if c.strip()) >= 2)
        header = any(looks_like_header([clean(c) for c in r]) for r in recs)
        score = (int(header), multi)
        if score > best_score:
            best, best_score = delim, score
    return best


# --- finding tables in a grid -----------------------------------------------------------------

def _filled(row: list[str]) -> int:
    return sum(1 for c in row if c)


def _text(row: list[str]) -> str:
    return " ".join(c for c in row if c)


def _section_of(titles: list[str], tab: str | None, fallback: list[str]) -> str | None:
    """Section named by the table's title rows, else its tab, else the file's name or title.

    The first title row is the table's own title; the tab name comes before later rows because
    notes often mention other sections ("shares with the police are on the next tab").
    """
    ordered = titles[:1]
    if tab and not DEFAULT_TAB_RE.match(tab):
        ordered.append(tab)
    rest = titles[1:]
    ordered += [t for t in rest if not NOTE_RE.match(t)] + [t for t in rest if NOTE_RE.match(t)]
    ordered += fallback
    for text in ordered:
        section = section_for_title(text)
        if section:
            return section
    return None


def _tables_in(grid: _Grid, fallback: list[str]
               ) -> tuple[list[RawTable], list[str], list[str]]:
    """Locate the tables of one grid: RawTables, warnings, the first share table's title rows.

    Rows between a table's last data row and the next header row are split: from the first
    row naming a section on they are the next table's title and notes, before it they are the
    previous table's footnotes. Single-cell rows followed by more data rows are data.
    ``fallback``: texts naming the section when neither title rows nor the tab do (the
    document title and the file name: an old NPD workbook's tabs are "open", "live cases").
    """
    rows = grid.rows
    where = f"sheet {grid.name!r}" if grid.name is not None else "CSV"
    found: list[_Found] = []
    loose: list[int] = []  # non-blank rows since the last data row (or the top): not yet placed
    current: _Found | None = None
    after_blank = False
    searched = 0  # rows tried as a header before the first table
    skip = -1  # the second row of a two-row header: already part of the header
    for i, row in enumerate(rows):
        n = _filled(row)
        if n == 0:
            after_blank = True
            continue
        if i == skip:
            continue
        blank_before, after_blank = after_blank, False
        repeat = current is not None and row == rows[current.header_at]
        if repeat and not any(section_for_title(_text(rows[j])) for j in loose):
            if (current is not None and current.header is not None and i + 1 < len(rows)
                    and rows[i + 1] == rows[current.header_at + 1]):
                skip = i + 1  # its second row is repeated too
            continue  # header repeated (printed-page style), not a new titled table
        # Header matching is costly (fuzzy): inside a table only a row after a blank, title
        # or note row can start a new one; above the first table only the first rows can.
        if current is None:
            searched += 1
            maybe = n >= 2 and searched <= HEADER_SEARCH_ROWS
        else:
            maybe = n >= 2 and (blank_before or bool(loose))
        if maybe and (repeat or looks_like_header(row)):
            split = _title_start(rows, loose) if current is not None else 0
            titles = [_text(rows[j]) for j in loose[split:]]
            section = _section_of(titles, grid.name, fallback)
            if section is not None or map_headers(row).field_set() & IDENTITY_FIELDS:
                if current is not None:
                    current.footnotes.extend(loose[:split])
                current = _Found(i, _first_filled(row), titles, section)
                if i + 1 < len(rows):
                    current.header = _two_row_header(row, rows[i + 1], i, grid.merges)
                    skip = i + 1 if current.header is not None else skip
                found.append(current)
                loose = []
                continue
        if current is None or n == 1 or NOTE_RE.match(row[_first_filled(row)]):
            loose.append(i)  # title, note or footnote, unless more data rows follow
        else:
            current.data.extend(loose)  # single-cell rows inside the table are data
            current.data.append(i)
            loose = []
    if current is not None:
        current.footnotes.extend(loose)

    warnings: list[str] = []
    if not found:
        section = _section_of([_text(rows[j]) for j in loose], grid.name, fallback)
        only = _fallback_table(rows, loose, section)
        if only is None:
            if any(_filled(r) for r in rows):
                warnings.append(f"{where}: no header row naming register columns; sheet not read")
            return [], warnings, []
        found.append(only)
    tables: list[RawTable] = []
    for f in found:
        tables.append(_to_table(rows, f, grid.name))
        if f.section is None:
            named = f"title {f.titles[0][:80]!r}" if f.titles else "no title"
            warnings.append(f"{where} row {f.header_at + 1}: section not recognised ({named}); "
                            "rows kept as section 'unknown'")
        elif _section_of(f.titles, grid.name, []) is None:
            warnings.append(f"{where} row {f.header_at + 1}: section {f.section!r} taken from "
                            "the file's name or title (the table's own title names none)")
        for j in f.footnotes[:MAX_WARNED_FOOTNOTES]:
            warnings.append(f"{where} row {j + 1}: note below the table not read as a share: "
                            f"{_text(rows[j])[:100]!r}")
        if len(f.footnotes) > MAX_WARNED_FOOTNOTES:
            warnings.append(f"{where}: {len(f.footnotes) - MAX_WARNED_FOOTNOTES} more note rows "
                            "below the table not read as shares")
    titles = next((f.titles for f in found if f.section != "legend" and f.titles), [])
    return tables, warnings, titles


def _two_row_header(top: list[str], below: list[str], at: int, merges: list[Merge]
                    ) -> list[str] | None:
    """The header cells if the row under the header row continues it, else None.

    Hand-made sheets split long headers over two rows: "Date" above "approved", or "Date"
    merged across two columns above "approved" | "released". The row below is a
    continuation when every filled cell of it is short text without digits (data rows have
    dates and references) that, joined to the text above it, names a register field, and
    joining changes at least one column's meaning without losing any: "Date" alone is a
    reporting period, "Date approved" a share's approval date. A data row under the header
    ("Organisation" above "University of Leeds") changes no column's meaning.
    """
    width = max(len(top), len(below))
    top = _pad(top, width)
    below = _pad(below, width)
    if not any(below) or any(c and (len(c) > 40 or re.search(r"\d", c) or NOTE_RE.match(c))
                             for c in below):
        return None
    above = list(top)
    for (r0, c0), (r1, c1) in merges:  # a merged group heading counts above every column
        if r0 <= at <= r1 and c0 < width:
            for c in range(c0 + 1, min(c1, width - 1) + 1):
                above[c] = above[c] or top[c0]
    joined = [f"{a} {b}".strip() if b else t for a, b, t in zip(above, below, top, strict=True)]
    changed = False
    for c in range(width):
        if not below[c]:
            continue
        before, after = match_header(top[c]), match_header(joined[c])
        if after is None:
            return None
        changed = changed or after != before
    if not changed or len(map_headers(joined).fields) < len(map_headers(top).fields):
        return None
    return joined


def _title_start(rows: list[list[str]], loose: list[int]) -> int:
    """Where the next table's titles begin among the rows after a table (see _tables_in)."""
    for k, j in enumerate(loose):
        if section_for_title(_text(rows[j])):
            return k
    k = 0
    while k < len(loose) and NOTE_RE.match(_text(rows[loose[k]])):
        k += 1
    return k


def _first_filled(row: list[str]) -> int:
    return next(i for i, c in enumerate(row) if c)


def _fallback_table(rows: list[list[str]], candidates: list[int], section: str | None
                    ) -> _Found | None:
    """A sheet whose title names a section but whose header names few fields.

    The legend ("Tier | Description") and Home Office counts ("Month | Requested | Matched")
    have headers the synonyms table need not know: take the first row of two or more cells.
    """
    if section is None:
        return None
    for k, i in enumerate(candidates):
        row = rows[i]
        if _filled(row) < 2:
            continue
        if section != "legend" and not map_headers(row).fields:
            return None
        titles = [_text(rows[j]) for j in candidates[:k]]
        found = _Found(i, _first_filled(row), titles, section)
        found.data = list(candidates[k + 1:])
        while found.data and (_filled(rows[found.data[-1]]) == 1
                              or NOTE_RE.match(_text(rows[found.data[-1]]))):
            found.footnotes.insert(0, found.data.pop())  # "Source: ..." under the table
        return found
    return None


def _to_table(rows: list[list[str]], f: _Found, sheet: str | None) -> RawTable:
    header = f.header if f.header is not None else rows[f.header_at]
    body = [rows[j] for j in f.data]
    col0 = min([f.col0, *(_first_filled(r) for r in body)])
    last = max(_last_filled(r) for r in [header, *body])
    # A column with neither a header nor any value is spacing (a narrow empty column
    # between groups of columns), not data: dropped so it does not become "column N".
    keep = [c for c in range(col0, last + 1)
            if any(c < len(r) and r[c] for r in [header, *body])]
    title = f.titles[0] if f.titles else (sheet or "")
    table = RawTable(section=f.section or "unknown", title=title, headers=_pick(header, keep),
                     sheet=sheet)
    table.rows = [RawRow(cells=_pick(rows[j], keep), row=j + 1, sheet=sheet) for j in f.data]
    return table


def _pick(row: list[str], columns: list[int]) -> list[str]:
    return [row[c] if c < len(row) else "" for c in columns]


def _last_filled(row: list[str]) -> int:
    return max((i for i, c in enumerate(row) if c), default=0)


def _pad(cells: list[str], width: int) -> list[str]:
    return cells + [""] * (width - len(cells))


# --- release metadata ---------------------------------------------------------------------------

def _release_title(doc_title: str | None, first_titles: list[str], stem: str) -> str:
    """The release title: the document title or the first table's title, preferring one that
    names the period covered (what orders releases); else the file name in words.

    A document title is used only if it is about shares: templates leave "Sheet1" or "Book1".
    """
    docs = [doc_title] if doc_title and _mentions_shares(doc_title) else []
    candidates = docs + first_titles[:1]
    for text in candidates:
        if parse_period(text):
            return text
    if candidates:
        return candidates[0]  # the period then comes from the file name (extract.ingest)
    return " ".join(re.sub(r"[_\-]+", " ", stem).split())


def _mentions_shares(text: str) -> bool:
    return bool(re.search(r"share|request|pupil|npd|data", text, re.IGNORECASE))


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]
