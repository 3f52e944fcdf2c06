"""Per-table extraction reports and self-checks: what ``table_reports`` and
``ingest_warnings`` hold. Pure functions over a reader's :class:`RawTable`.

In the spirit of Camelot's ``parsing_report`` (accuracy, whitespace, order, page): every table
of every release says where it was read, the header as printed and the fields it mapped to,
how many rows it gave on which page, how empty it is, what its self-checks found, and one
confidence figure, so a user knows which table of a new layout to look at first.

Confidence (0-1) is the product of three factors, each 1 for a table read without doubt:

* **header**: ``0.5 + 0.5 * mapped / named``, where ``named`` is the number of header cells
  with text and ``mapped`` those that map to a register field (a count table's measure
  columns and a legend's columns count as mapped). A header that maps nothing halves it;
* **rows**: ``1 - doubtful / rows``, the share of rows no self-check flagged (kinds in
  :data:`DOUBT_KINDS`; a recognised total row or the encoding used is not a doubt);
* **fill**: ``1 - 0.25 * empty``, where ``empty`` is the share of empty cells: registers
  leave many cells blank honestly (no release date yet), so emptiness weighs lightly, but a
  table that is mostly holes is usually misread columns.

A table with no rows has confidence 0. The value is rounded to three decimals.
"""

from __future__ import annotations

import json
import re
from typing import Any

from extract.model import RawTable, TableWarning
from extract.values import date_cell

# Self-check kinds that put a row in doubt (lower the confidence). Others are reported only.
DOUBT_KINDS = frozenset({
    "two_references", "two_dates", "no_key", "extra_cells", "orphan_reference", "bad_count",
    "unreadable_date", "encoding_repaired", "no_columns",
})
# Kinds that are information, not problems: stored in ingest_warnings, not printed as
# warnings and not counted in table_reports.warnings.
INFO_KINDS = frozenset({"encoding"})
_REF_TOKEN = re.compile(r"\b[A-Z]{1,4}[ -]?\d{3,}(?:[./-]\d{1,3})?\b")
MAX_CELL_WARNINGS = 20  # per table and kind; the rest are summarised in one line


def location(w: TableWarning) -> str:
    """"page 3 row 2", "sheet 'open' row 7", "CSV row 5": where a user looks."""
    if w.page is not None:
        where = f"page {w.page}"
    elif w.sheet is not None:
        where = f"sheet {w.sheet!r}"
    else:
        where = "CSV"
    return f"{where} row {w.row}" if w.row is not None else where


def describe(w: TableWarning) -> str:
    """The warning as one line with its location (unless the message already starts so)."""
    if re.match(r"(page \d+|sheet '|CSV\b)", w.message) or (
            w.page is None and w.sheet is None and w.row is None):
        return w.message  # already located, or about the whole file
    return f"{location(w)}: {w.message}"


def check_rows(table: RawTable, fields: dict[int, str], date_fields: tuple[str, ...],
               key_field: str | None) -> list[TableWarning]:
    """Self-checks every format shares: two reference-shaped values in the key cell, two
    dates in a date cell, text that is no date, a row with no key, cells beyond the header.

    Checks the reader already reported for a row (same kind and row) are not repeated.
    """
    already = {(w.kind, w.page, w.sheet, w.row) for w in table.warnings}
    out: list[TableWarning] = []
    key_idx = next((i for i, f in fields.items() if f == key_field), None)
    width = len(table.headers)

    def add(kind: str, row: Any, message: str) -> None:
        if (kind, row.page, row.sheet, row.row) not in already:
            out.append(TableWarning(kind, message, page=row.page, sheet=row.sheet, row=row.row))

    for row in table.rows:
        cells = row.cells
        if not any(cells):
            continue
        if key_idx is not None:
            key = cells[key_idx] if key_idx < len(cells) else ""
            if not key:
                add("no_key", row, f"no {key_field} in this row (a continuation of the row "
                    "above, or a row the reader split?)")
            elif key_field == "reference" and len(_REF_TOKEN.findall(key)) >= 2:
                add("two_references", row, f"two references in one row ({key[:60]!r}): rows "
                    "glued together?")
        for i, f in fields.items():
            if f in date_fields and i < len(cells) and cells[i]:
                _, kind = date_cell(cells[i])
                if kind == "two_dates":
                    add("two_dates", row, f"two dates in one {f} cell ({cells[i][:60]!r}); "
                        "no date stored")
                elif kind == "unreadable":
                    add("unreadable_date", row, f"{f} {cells[i][:60]!r} is not a date; kept "
                        "as text only")
        extra = [c for c in cells[width:] if c]
        if extra:
            add("extra_cells", row, f"{len(extra)} cell(s) beyond the {width} header columns "
                "(kept in extra_cells as 'column N')")
    return _capped(out)


def _capped(found: list[TableWarning]) -> list[TableWarning]:
    """At most MAX_CELL_WARNINGS per kind; then one line saying how many more there were."""
    out: list[TableWarning] = []
    per_kind: dict[str, int] = {}
    for w in found:
        per_kind[w.kind] = per_kind.get(w.kind, 0) + 1
        if per_kind[w.kind] <= MAX_CELL_WARNINGS:
            out.append(w)
    for kind, n in per_kind.items():
        if n > MAX_CELL_WARNINGS:
            first = next(w for w in found if w.kind == kind)
            out.append(TableWarning(kind, f"{n - MAX_CELL_WARNINGS} more rows with the same "
                                    f"problem ({kind}) in this table", page=first.page,
                                    sheet=first.sheet))
    return out


def table_report(table: RawTable, index: int, mapped: list[str | None],
                 warnings: list[TableWarning], *, all_mapped: bool = False) -> dict[str, Any]:
    """One ``table_reports`` row (without release_id/source_file, added by the store).

    ``mapped``: the field of each header column (None when unmapped); ``all_mapped``: a
    count or legend table, whose columns all have a meaning.
    """
    rows = [r for r in table.rows if any(r.cells)]
    per_page: dict[str, int] = {}
    for r in rows:
        key = str(r.page) if r.page is not None else (r.sheet or "CSV")
        per_page[key] = per_page.get(key, 0) + 1
    width = max([len(table.headers), *(len(r.cells) for r in rows)], default=0)
    total = width * len(rows)
    empty = sum(1 for r in rows for c in (r.cells + [""] * (width - len(r.cells))) if not c)
    empty_share = empty / total if total else 0.0
    counted = [w for w in warnings if w.kind not in INFO_KINDS]
    named = [i for i, h in enumerate(table.headers) if h]
    n_mapped = len(named) if all_mapped else sum(1 for i in named if mapped[i] is not None)
    header = 0.5 + 0.5 * n_mapped / len(named) if named else 0.5
    doubtful = {(w.page, w.sheet, w.row) for w in counted
                if w.kind in DOUBT_KINDS and w.row is not None}
    row_factor = 1 - min(len(doubtful), len(rows)) / len(rows) if rows else 0.0
    file_doubt = any(w.kind in DOUBT_KINDS and w.row is None for w in counted)
    confidence = header * row_factor * (1 - 0.25 * empty_share) * (0.9 if file_doubt else 1)
    pages = [r.page for r in rows if r.page is not None]
    sheet_rows = [r.row for r in rows]
    return {
        "table_index": index,
        "section": table.section,
        "title": table.title,
        "first_page": table.first_page if table.first_page is not None else min(pages,
                                                                              default=None),
        "last_page": table.last_page if table.last_page is not None else max(pages,
                                                                           default=None),
        "sheet": table.sheet,
        "first_row": min(sheet_rows, default=None),
        "last_row": max(sheet_rows, default=None),
        "header_printed": json.dumps(table.headers, ensure_ascii=False),
        "header_fields": json.dumps(mapped),
        "row_count": len(rows),
        "rows_per_page": json.dumps(per_page, ensure_ascii=False),
        "empty_cell_share": round(empty_share, 4),
        "warning_count": len(counted),
        "confidence": round(confidence, 3) if rows else 0.0,
    }
