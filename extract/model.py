"""In-memory shapes passed between the readers (PDF, spreadsheets) and the store.

Readers know about layout only: they find sections, header rows and data rows and keep each
row's provenance. Everything about *meaning* (which header is which field, dates, numbers)
happens afterwards in :mod:`extract.normalise`, so every format goes through one mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawRow:
    """One register row exactly as read, with where it came from.

    ``page`` is the 1-based PDF page on which the row *starts* (``None`` for spreadsheets);
    ``sheet`` is the spreadsheet tab (``None`` for PDFs); ``row`` is the 1-based row number
    within the page's table (PDF) or the sheet (spreadsheets, the row a user sees in Excel).
    ``cells`` are whitespace-normalised strings aligned with the table's ``headers``.
    """

    cells: list[str]
    row: int
    page: int | None = None
    sheet: str | None = None


@dataclass
class TableWarning:
    """A self-check that failed on one table, with where to look.

    Readers attach these to the table they concern (``RawTable.warnings``); ingest stores
    each as a row of ``ingest_warnings`` and counts them in ``table_reports``, and the CLI
    prints them with file, page (or sheet) and row. ``kind`` is a short stable code
    (e.g. ``two_references``, ``two_dates``, ``no_key``, ``extra_cells``,
    ``orphan_reference``, ``total_row``) so reports can be grouped and tested.
    """

    kind: str
    message: str
    page: int | None = None
    sheet: str | None = None
    row: int | None = None


@dataclass
class RawTable:
    """A section: its title, its header row and all its data rows across pages."""

    section: str  # canonical key: dsap, regular, npd_requests, home_office, police,
    # court_orders, legend, or "unknown"
    title: str  # the title line/sheet name the section was recognised from
    headers: list[str]
    rows: list[RawRow] = field(default_factory=list)
    first_page: int | None = None
    sheet: str | None = None
    last_page: int | None = None  # PDF: the last page the table has rows on
    warnings: list[TableWarning] = field(default_factory=list)


@dataclass
class ParsedRelease:
    """What a reader returns for one file."""

    source_file: str  # file name only (no directories), as stored in the database
    format: str  # pdf | ods | xlsx | csv
    title: str | None = None
    page_count: int | None = None  # PDF pages, or number of sheets for spreadsheets
    tables: list[RawTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The PDF character source used ("pdfminer" or "pdfium"); None for spreadsheets.
    # Recorded in releases.extractor_version, e.g. "1.0.0+pdfium".
    reader: str | None = None


class IngestError(Exception):
    """A file that cannot be ingested. ``str(exc)`` is the one-line reason shown to users."""
