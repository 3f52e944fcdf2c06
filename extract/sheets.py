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

Inside a table, a row is judged against the table's own header before it may start a new
table (:func:`_starts_new_table`): after a blank spacer row, a data row such as "DR170704.03 |
... | Tier 1 | Data sent" names two fields, but it holds a reference-shaped key and maps to
other fields than the header above it, so it is data. A spacer row never ends a table. Rows
that are not shares are kept out of the table and reported: "Total open requests | 110"
(a :class:`TableWarning` of kind ``total_row``), and tier-description or classification-key
tabs are legends (:func:`_is_legend_header`), stored as ``legend_rows``.

CSV files are decoded on the whole file (:func:`_detect_encoding`): UTF-8 when it is, with a
stray non-UTF-8 byte read as the cp1252 character it almost always is; cp1252 or latin-1
only for a file with no UTF-8 at all. The encoding used and why is reported with the table.
Records are streamed from the file, not copied through one big string. Sheets are read row by
row, and a sheet larger than the documented limits (:mod:`extract.limits`) is refused before
its cells are copied.

Hand-made workbooks also split a header over two rows ("Date" above "approved", or "Date"
merged over two columns above "approved" | "released"): the second row is taken as part of
the header when joining it to the row above names register fields better (see
:func:`_two_row_header`). Columns left empty for spacing (no header, no values) are dropped.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from extract.headers import looks_like_header, map_headers, match_header
from extract.limits import LIMITS, Limits
from extract.model import IngestError, ParsedRelease, RawRow, RawTable, TableWarning
from extract.sections import section_for_title
from extract.values import clean, is_total_row, looks_like_reference, parse_period

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
# A legend tab's header names a classification (and its description), nothing a share has.
LEGEND_FIELDS = {"classification", "purpose"}
# A UTF-8 file may hold this many stray bytes (per 1,000 non-ASCII characters, at least
# STRAY_MIN) and still be read as UTF-8; more, and it is a legacy 8-bit file.
STRAY_PER_MILLE, STRAY_MIN = 10, 3
_CHUNK = 1 << 20
# Merged ranges as python-calamine gives them: ((first row, first col), (last row, last col)).
Merge = tuple[tuple[int, int], tuple[int, int]]


@dataclass
class _Grid:
    """One sheet as strings: ``rows[i]`` is spreadsheet row ``i + 1``."""

    name: str | None  # tab name; None for CSV
    rows: list[list[str]]
    merges: list[Merge] = field(default_factory=list)  # merged cells (XLSX only; 0-based)
    notes: list[TableWarning] = field(default_factory=list)  # e.g. the CSV encoding used


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
    totals: list[int] = field(default_factory=list)  # "Total ..." rows: reported, not data


def read_spreadsheet(path: Path, on_page: PageCallback | None = None,
                     limits: Limits | None = None) -> ParsedRelease:
    """Read every table of an ODS/XLSX workbook or a CSV file. Raises IngestError.

    ``limits``: the ceilings of :mod:`extract.limits` (rows per table, cells per file,
    columns); a file past one is refused with the limit named.
    """
    path = Path(path)
    limits = limits or LIMITS
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "csv":
        grids, doc_title, fmt = [_read_csv(path, limits)], None, "csv"
    else:
        grids, doc_title, fmt = _read_workbook(path, on_page, limits)
    parsed = ParsedRelease(source_file=path.name, format=fmt, page_count=len(grids))
    first_titles: list[str] = []
    fallback = [t for t in (doc_title, " ".join(re.sub(r"[_\-]+", " ", path.stem).split())) if t]
    for n, grid in enumerate(grids, start=1):
        tables, warnings, titles = _tables_in(grid, fallback)
        for t in tables:
            if len(t.rows) > limits.max_rows_per_table:
                raise IngestError(f"{_where(grid.name)}: a table of {len(t.rows):,} rows, more "
                                  f"than the limit of {limits.max_rows_per_table:,} rows per "
                                  "table (a damaged or hostile file?)")
        if tables and grid.notes:
            tables[0].warnings[:0] = grid.notes
        parsed.tables.extend(tables)
        parsed.warnings.extend(warnings)
        first_titles = first_titles or titles
        if fmt == "csv" and on_page:
            on_page(n, len(grids))
    if not any(t.section != "legend" for t in parsed.tables):
        where = "the CSV file has no" if fmt == "csv" else "no sheet has a"
        raise IngestError(f"no register table found: {where} header row naming "
                          "organisations, projects or purposes")
    parsed.title = _release_title(doc_title, first_titles, path.stem)
    return parsed


# --- opening files ----------------------------------------------------------------------------

def _read_workbook(path: Path, on_page: PageCallback | None, limits: Limits
                   ) -> tuple[list[_Grid], str | None, str]:
    """All sheets as string grids, the document title, and the real format (ods/xlsx)."""
    import python_calamine as pc

    kind = _workbook_kind(path)
    cells = 0
    try:
        with path.open("rb") as fh:
            wb = pc.CalamineWorkbook.from_filelike(fh)
        names = list(wb.sheet_names)
        grids: list[_Grid] = []
        for i, name in enumerate(names, start=1):
            sheet = wb.get_sheet_by_name(name)
            cells += _check_size(name, sheet.height, sheet.width, cells, limits)
            merges = list(sheet.merged_cell_ranges or [])  # None for ODS
            # iter_rows starts at the used range's first column: pad it back, so columns
            # (and merged ranges, which are absolute) are the sheet's own.
            lead = sheet.start[1] if sheet.start else 0
            grids.append(_Grid(name, _rows(sheet.iter_rows(), lead), merges))
            if on_page:
                on_page(i, len(names))
    except IngestError:
        raise
    except pc.PasswordError as exc:
        raise IngestError("the workbook is password-protected; save it without a password") \
            from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine errors, and Rust panics (not an Exception)
        reason = (_ods_problem(path) if kind == "ods" else None) or _short(exc)
        raise IngestError(f"could not read the {kind.upper()} workbook (damaged file?): "
                          f"{reason}") from exc
    if not grids:
        raise IngestError("the workbook has no sheets")
    return grids, _document_title(path, kind), kind


def _check_size(name: str | None, height: int, width: int, before: int, limits: Limits) -> int:
    """The sheet's cell count; IngestError past the limits, before any cell is copied.

    Empty rows and columns do not count: the reader's used range starts at the first and
    ends at the last filled cell, so LibreOffice's million repeated empty rows cost nothing.
    """
    where = _where(name)
    if width > limits.max_columns:
        raise IngestError(f"{where}: {width:,} columns, more than the limit of "
                          f"{limits.max_columns:,}")
    if height > limits.max_rows_per_table + HEADER_SEARCH_ROWS:
        raise IngestError(f"{where}: {height:,} filled rows, more than the limit of "
                          f"{limits.max_rows_per_table:,} rows per table (a damaged or "
                          "hostile file? LibreOffice's repeated rows expand to real rows)")
    n = height * width
    if before + n > limits.max_cells_per_file:
        raise IngestError(f"{where}: the file holds more than {limits.max_cells_per_file:,} "
                          "cells, the limit per file")
    return n


_EMPTY: list[str] = []  # one shared object for every empty row (never mutated)


def _rows(records: Iterable[list[object]], lead: int = 0) -> list[list[str]]:
    """Rows as cleaned strings, trailing empty cells dropped (wide sparse sheets stay small);
    short repeated values are shared, not copied per cell. ``lead`` empty cells are put
    back before each row (the columns left of the sheet's used range)."""
    out: list[list[str]] = []
    seen: dict[str, str] = {}
    pad = [""] * lead
    for rec in records:
        row = pad + [clean(c) for c in rec]
        while row and not row[-1]:
            row.pop()
        if not row:
            out.append(_EMPTY)
            continue
        out.append([seen.setdefault(c, c) if len(c) < 40 else c for c in row])
    return out


def _ods_problem(path: Path) -> str | None:
    """Why an ODS could not be read, in words (the library only says "Cannot detect file
    format" for every damaged ODS): missing parts, a damaged member, XML that is not
    well-formed. None when nothing specific is found."""
    import xml.parsers.expat

    try:
        with zipfile.ZipFile(path) as zf:
            members = set(zf.namelist())
            if "content.xml" not in members:
                return "the ODS has no content.xml (the part that holds the sheets)"
            if "mimetype" not in members:
                return "the ODS has no mimetype member; not a complete OpenDocument file"
            mimetype = zf.read("mimetype")[:200].strip()
            if mimetype != _ODS_MIMETYPE:
                return (f"an OpenDocument file of type {mimetype.decode('ascii', 'replace')!r}"
                        ", not a spreadsheet")
            if "META-INF/manifest.xml" not in members:
                return "the ODS has no META-INF/manifest.xml; not a complete OpenDocument file"
            bad = zf.testzip()  # reads every member: sizes were pre-checked (extract.guard)
            if bad is not None:
                return f"the zip member {bad!r} is damaged (its checksum does not match)"
            parser = xml.parsers.expat.ParserCreate()
            with zf.open("content.xml") as fh:
                while chunk := fh.read(_CHUNK):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        return f"content.xml is not well-formed XML ({exc})"
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        return f"a damaged member in the zip archive ({_short(exc)})"
    except Exception:
        return None
    return None


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
    if "content.xml" in members or (b"opendocument.spreadsheet" in manifest
                                     or _mimetype(path) == _ODS_MIMETYPE):
        return "ods"  # an ODS missing parts is diagnosed by _ods_problem when it fails
    raise IngestError("a zip archive that is not a spreadsheet (no ODS or XLSX workbook inside)")


_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _mimetype(path: Path) -> bytes:
    """The ``mimetype`` member of an OpenDocument zip, or b"" when there is none."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.read("mimetype")[:200].strip()
    except (KeyError, OSError, zipfile.BadZipFile):
        return b""


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


def _read_csv(path: Path, limits: Limits) -> _Grid:
    """The CSV as one grid; one grid row per CSV record (what a spreadsheet shows as a row).

    Records are parsed straight from the file in the detected encoding (no copy of the
    whole text), so memory is the grid itself.
    """
    encoding, note = _detect_encoding(path)
    with path.open("r", encoding=encoding, errors=_STRAY, newline="") as fh:
        head = fh.read(100_000)
        if not head.lstrip("\ufeff").strip() and not fh.read(1):
            raise IngestError("the CSV file has no rows")
        fh.seek(0)
        offset = 0
        # Excel writes (and hides) a "sep=;" line to say which delimiter it used.
        if m := re.match(r"\ufeff?sep=(.)\r?\n", head):
            delimiter = m[1]
            fh.readline()
            offset = 1
        else:
            delimiter = _sniff_delimiter(head.lstrip("\ufeff"))
        if offset == 0 and head.startswith("\ufeff"):
            fh.read(1)
        try:
            rows = _rows(_limited(csv.reader(fh, delimiter=delimiter), limits))
        except csv.Error as exc:
            raise IngestError(f"malformed CSV ({_short(exc)})") from exc
    return _Grid(None, rows, notes=[note])


def _limited(records: Iterable[list[str]], limits: Limits) -> Iterable[list[str]]:
    """CSV records, refused past the row, column and cell limits as they are read."""
    cells = 0
    for n, rec in enumerate(records, start=1):
        cells += len(rec)
        if len(rec) > limits.max_columns:
            raise IngestError(f"CSV record {n}: {len(rec):,} fields, more than the limit of "
                              f"{limits.max_columns:,} columns")
        if cells > limits.max_cells_per_file or n > limits.max_rows_per_table + \
                HEADER_SEARCH_ROWS:
            raise IngestError(f"the CSV file has more than {limits.max_rows_per_table:,} rows "
                              f"or {limits.max_cells_per_file:,} cells, the limits per file")
        yield rec


def _stray_byte(exc: UnicodeError) -> tuple[str, int]:
    """Decode a byte that is not UTF-8 as the cp1252 character it almost always is (a curly
    apostrophe pasted from Word), instead of giving up on the whole file."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return bytes(bad).decode("cp1252", "replace"), exc.end


_STRAY = "npd-register-stray-byte"
codecs.register_error(_STRAY, _stray_byte)


def _detect_encoding(path: Path) -> tuple[str, TableWarning]:
    """The encoding of the whole file, and a note saying which and why.

    Byte-order marks decide first. Otherwise the file is decoded as UTF-8 from end to end,
    counting the bytes that are not UTF-8: none, and it is UTF-8; a few among many good
    UTF-8 characters, and it is UTF-8 with stray bytes (read as cp1252, each reported with
    its line); no UTF-8 characters at all, and it is the Windows code page Excel writes
    (cp1252), or latin-1 if it has bytes cp1252 leaves undefined. One stray byte no longer
    turns every "Café" of the file into "CafÃ©".
    """
    with path.open("rb") as fh:
        start = fh.read(4)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        return "utf-16", TableWarning("encoding", "CSV: read as UTF-16 (byte-order mark)")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    stray = good = lines = 0
    first_line: int | None = None
    legacy_ok = True
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if b"\x00" in chunk[:8192] and lines == 0:
                raise IngestError("not a CSV text file (binary content)")
            text = decoder.decode(chunk)
            bad = len(re.findall("[\udc80-\udcff]", text))
            if bad and first_line is None:
                first_line = lines + text.count("\n", 0, re.search("[\udc80-\udcff]", text)
                                                .start()) + 1  # type: ignore[union-attr]
            stray += bad
            good += len(re.findall("[^\x00-\x7f\udc80-\udcff]", text))
            lines += text.count("\n")
            legacy_ok = legacy_ok and not re.search(rb"[\x81\x8d\x8f\x90\x9d]", chunk)
        decoder.decode(b"", final=True)
    bom = start.startswith(b"\xef\xbb\xbf")
    if stray == 0:
        why = "byte-order mark" if bom else ("the whole file is valid UTF-8" if good else
                                             "plain ASCII, valid as UTF-8")
        return "utf-8", TableWarning("encoding", f"CSV: read as UTF-8 ({why})")
    if good and stray <= max(STRAY_MIN, good * STRAY_PER_MILLE // 1000):
        return "utf-8", TableWarning(
            "encoding_repaired",
            f"CSV: read as UTF-8 ({good:,} UTF-8 characters); {stray} stray byte(s) that are not "
            f"UTF-8 read as cp1252, the first on line {first_line}: check that cell")
    if legacy_ok:
        return "cp1252", TableWarning(
            "encoding", f"CSV: read as cp1252 (Windows, Excel's CSV): {stray:,} bytes are not "
            "UTF-8 and the file has no UTF-8 characters")
    return "latin-1", TableWarning(
        "encoding", f"CSV: read as latin-1: {stray:,} bytes are not UTF-8 and some are not cp1252")


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
    where = _where(grid.name)
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
            section = (_section_of(titles, grid.name, []) or _header_section(row)
                       or _section_of([], None, fallback))
            new = current is None or _starts_new_table(rows[current.header_at], row, titles)
            if new and (section is not None or map_headers(row).field_set() & IDENTITY_FIELDS):
                if current is not None:
                    current.footnotes.extend(loose[:split])
                current = _Found(i, _first_filled(row), titles, section)
                if i + 1 < len(rows):
                    current.header = _two_row_header(row, rows[i + 1], i, grid.merges)
                    skip = i + 1 if current.header is not None else skip
                found.append(current)
                loose = []
                continue
        if current is not None and is_total_row(row):
            current.data.extend(loose)
            current.totals.append(i)  # "Total open requests | 110": reported, never a share
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
        f.totals += [j for j in f.data if is_total_row(rows[j])]  # fallback tables' totals
        f.data = [j for j in f.data if j not in set(f.totals)]
        tables.append(_to_table(rows, f, grid.name))
        if tables[-1].section == "legend" and f.section != "legend":
            pass  # a tier or classification key by its header: no section to guess
        elif f.section is None:
            named = f"title {f.titles[0][:80]!r}" if f.titles else "no title"
            warnings.append(f"{where} row {f.header_at + 1}: section not recognised ({named}); "
                            "rows kept as section 'unknown'")
        elif _section_of(f.titles, grid.name, []) is None:
            source = ("its recipient column's header" if _header_section(rows[f.header_at])
                      == f.section else "the file's name or title")
            warnings.append(f"{where} row {f.header_at + 1}: section {f.section!r} taken from "
                            f"{source} (the table's own title names none)")
        for j in f.footnotes[:MAX_WARNED_FOOTNOTES]:
            warnings.append(f"{where} row {j + 1}: note below the table not read as a share: "
                            f"{_text(rows[j])[:100]!r}")
        if len(f.footnotes) > MAX_WARNED_FOOTNOTES:
            warnings.append(f"{where}: {len(f.footnotes) - MAX_WARNED_FOOTNOTES} more note rows "
                            "below the table not read as shares")
    titles = next((f.titles for f in found if f.section != "legend" and f.titles), [])
    return tables, warnings, titles


def _starts_new_table(header: list[str], row: list[str], titles: list[str]) -> bool:
    """Whether a header-like row inside a table starts a new table, judged against the
    table's own header (issue 8, kind 4).

    A row holding a reference-shaped value ("DR170704.03") is a data row whatever words its
    other cells hold ("Tier 1", "Data sent"). Otherwise the row starts a new table when title
    rows above it name one, or when it maps to the same fields as the current header (the
    same table printed again under a different spelling). A row after a mere spacer that maps
    to other fields than the header is data.
    """
    if any(looks_like_reference(c) for c in row):
        return False
    if any(not NOTE_RE.match(t) for t in titles):
        return True
    hmap = map_headers(row)
    if hmap.field_set() == map_headers(header).field_set():
        return True
    # Another table's header pasted under this one without its title: every cell names a
    # field (a data row always has a name, a title or a date that names none).
    filled = [c for c in row if c]
    return len(hmap.fields) >= 3 and len(hmap.fields) == len(filled)


def _header_section(row: list[str]) -> str | None:
    """The section the recipient column's own header names, for a table with no title:
    "Police Force" heads the police section's recipient column."""
    hmap = map_headers(row)
    return next((section_for_title(row[i]) for i, f in hmap.fields.items()
                 if f == "organisation"), None)


def _is_legend_header(header: list[str]) -> bool:
    """A tier-description or classification-key table: its header names a classification
    and at most its description, and nothing a share has (no recipient, reference, project,
    date): "Tier | Description", "Code | Classification | Description"."""
    fields = map_headers(header).field_set()
    return "classification" in fields and fields <= LEGEND_FIELDS


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
    headers = _pick(header, keep)
    section = f.section or "unknown"
    if section != "legend" and _is_legend_header(headers):
        section = "legend"
    table = RawTable(section=section, title=title, headers=headers, sheet=sheet)
    table.rows = [RawRow(cells=_pick(rows[j], keep), row=j + 1, sheet=sheet) for j in f.data]
    where = _where(sheet)
    for r in _subheadings(table):
        table.rows.remove(r)
        table.warnings.append(TableWarning(
            "subheading", f"{where} row {r.row}: sub-heading inside the table not read as a "
            f"share: {_text(r.cells)[:80]!r}", sheet=sheet, row=r.row))
    for j in f.totals:
        table.warnings.append(TableWarning(
            "total_row", f"{where} row {j + 1}: total row not read as a share: "
            f"{_text(rows[j])[:80]!r}", sheet=sheet, row=j + 1))
    no_header = [c for c in keep if not (c < len(header) and header[c])]
    for c in no_header:
        first = next(j for j in f.data if c < len(rows[j]) and rows[j][c])
        table.warnings.append(TableWarning(
            "extra_cells", f"{where} row {first + 1}: values in column {_column_letter(c)}, "
            "which has no header (kept as 'column N' in extra_cells)", sheet=sheet,
            row=first + 1))
    return table


def _subheadings(table: RawTable) -> list[RawRow]:
    """Rows of one filled cell in the reference column that is no reference ("Closed
    cases", "2016"), in a table whose rows are keyed by references: headings that group the
    rows, not shares. A lone reference ("DS00999") is a sparse share and stays."""
    ref = next((i for i, f in map_headers(table.headers).fields.items() if f == "reference"),
               None)
    if ref is None or table.section == "legend":
        return []
    keyed = sum(1 for r in table.rows if ref < len(r.cells) and looks_like_reference(r.cells[ref]))
    if keyed * 2 < len(table.rows):
        return []
    return [r for r in table.rows if _filled(r.cells) == 1 and ref < len(r.cells)
            and r.cells[ref] and not looks_like_reference(r.cells[ref])]


def _column_letter(c: int) -> str:
    """0-based column index as a spreadsheet letter: 0 -> A, 27 -> AB."""
    out = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        out = chr(65 + r) + out
    return out


def _where(sheet: str | None) -> str:
    return f"sheet {sheet!r}" if sheet is not None else "CSV"


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
