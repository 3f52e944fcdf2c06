"""Turn a reader's :class:`ParsedRelease` into rows for the database tables. Pure.

One mapping for every format: headers through :mod:`extract.headers`, dates and counts
through :mod:`extract.values`. Each output row keeps its provenance and its raw cells (all
columns, as read) so nothing is lost even where a header could not be mapped.

Every table also gets its report (:func:`extract.reports.table_report`, the rows of
``table_reports``) and its self-checks; each reader or self-check warning becomes one
``issues`` row (``ingest_warnings``) with its kind and page/sheet/row, and one line in
``warnings`` (what the CLI prints) unless it is only information (the encoding of a clean
CSV). A count that is not a plain, plausible number is refused here, with a warning naming
its row, before the database sees it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from extract.headers import SHARE_FIELDS, map_headers
from extract.model import IngestError, ParsedRelease, RawRow, RawTable, TableWarning
from extract.reports import INFO_KINDS, check_rows, describe, table_report
from extract.values import count_cell, is_total_row, parse_date

DATE_FIELDS = ("date_approved", "date_released")
# A table is a table of shares when it names who gets the data or what for.
SHARE_EVIDENCE = {"organisation", "project", "purpose"}


@dataclass
class Normalised:
    shares: list[dict[str, Any]] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)
    legend: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # ingest_warnings rows: kind, message, section, table_index, source_page/sheet/row.
    issues: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)  # table_reports rows

    def warn(self, w: TableWarning, section: str | None = None,
             table_index: int | None = None) -> None:
        """Record one warning: an ingest_warnings row, and a printed line unless it is
        information only."""
        text = describe(w)
        self.issues.append({"kind": w.kind, "message": text, "section": section,
                            "table_index": table_index, "source_page": w.page,
                            "source_sheet": w.sheet, "source_row": w.row})
        if w.kind not in INFO_KINDS:
            self.warnings.append(text)

    def rows_by_section(self) -> dict[str, int]:
        """Source rows per section (a count row holding several measures counts once)."""
        seen = {(r["section"], r["source_page"], r["source_sheet"], r["source_row"], i)
                for i, r in enumerate(self.shares)}
        seen |= {(r["section"], r["source_page"], r["source_sheet"], r["source_row"], -1)
                 for r in self.counts}
        out: dict[str, int] = {}
        for section, *_ in seen:
            out[section] = out.get(section, 0) + 1
        return out


def _header_names(headers: list[str]) -> list[str]:
    """Unique, non-empty names for raw_cells keys (blank headers become 'column N')."""
    names: list[str] = []
    taken: set[str] = set()  # a set: a 16,384-column sheet must not cost a quadratic scan
    for i, h in enumerate(headers):
        name = h or f"column {i + 1}"
        while name in taken:
            name = f"{name} ({i + 1})"
        names.append(name)
        taken.add(name)
    return names


def _provenance(table: RawTable, row: Any) -> dict[str, Any]:
    return {
        "section": table.section,
        "section_title": table.title,
        "source_page": row.page,
        "source_sheet": row.sheet,
        "source_row": row.row,
    }


def is_count_table(table: RawTable) -> bool:
    """Count tables (Home Office monthly figures) have a period and numbers, no recipients."""
    fields = map_headers(table.headers).field_set()
    if fields & SHARE_EVIDENCE:
        return False
    return table.section == "home_office" or "period" in fields


_READER_WHERE = re.compile(r"^(?:page (?P<page>\d+)|sheet '(?P<sheet>.*?)'|CSV)"
                           r"(?: row (?P<row>\d+))?:")


def _reader_warning(text: str) -> TableWarning:
    """A reader's plain warning line as a TableWarning, its location parsed from the text."""
    m = _READER_WHERE.match(text)
    page = int(m["page"]) if m and m["page"] else None
    row = int(m["row"]) if m and m["row"] else None
    return TableWarning("reader", text, page=page, sheet=m["sheet"] if m else None, row=row)


def normalise(parsed: ParsedRelease) -> Normalised:
    """Map every table of a release. Raises IngestError if it holds no register table."""
    out = Normalised()
    for text in parsed.warnings:
        out.warn(_reader_warning(text))
    for index, raw in enumerate(parsed.tables):
        table, found = _without_totals(raw)
        found += _table(table, out)
        for w in [*table.warnings, *found]:
            out.warn(w, table.section, index)
        hmap = map_headers(table.headers)
        mapped = [hmap.fields.get(i) for i in range(len(table.headers))]
        whole = table.section == "legend" or is_count_table(table)
        out.reports.append(table_report(table, index, mapped, [*table.warnings, *found],
                                        all_mapped=whole))
    if not out.shares and not out.counts:
        if any(t.section != "legend" and t.headers for t in parsed.tables):
            raise IngestError("a register table header was found but the table has no rows")
        raise IngestError("no register table found (no header row naming organisations, "
                          "projects or purposes)")
    return out


def _without_totals(table: RawTable) -> tuple[RawTable, list[TableWarning]]:
    """The table without its "Total ..." rows, and a warning for each one the reader did not
    already report (every format: a PDF's total row is no more a share than a sheet's)."""
    if table.section == "legend":
        return table, []
    totals = [r for r in table.rows if is_total_row(r.cells)]
    if not totals:
        return table, []
    out = [TableWarning("total_row", f"total row not read as a share: "
                        f"{' '.join(c for c in r.cells if c)[:80]!r}", page=r.page,
                        sheet=r.sheet, row=r.row) for r in totals]
    return replace(table, rows=[r for r in table.rows if r not in totals]), out


def _table(table: RawTable, out: Normalised) -> list[TableWarning]:
    """Map one table into ``out``; returns the warnings its mapping and self-checks found."""
    names = _header_names(table.headers)
    found: list[TableWarning] = []
    if table.section == "legend":
        for row in table.rows:
            out.legend.append(
                {
                    "source_page": row.page,
                    "source_sheet": row.sheet,
                    "source_row": row.row,
                    "cells": json.dumps(dict(zip(names, row.cells, strict=False))),
                }
            )
        return found
    hmap = map_headers(table.headers)
    if is_count_table(table):  # every non-period column is a measure: nothing unmapped
        _counts(table, names, hmap.fields, out, found)
        return found
    # "period" only means something in count tables; in a share table ("Date of order")
    # the column has no shares field, so keep it as an unmapped column.
    for idx in [i for i, f in hmap.fields.items() if f not in SHARE_FIELDS]:
        del hmap.fields[idx]
        hmap.unmapped.append((idx, table.headers[idx]))
    hmap.unmapped.sort()
    for idx, _header in hmap.unmapped:
        out.unmapped.append(
            {"section": table.section, "column_index": idx, "header": names[idx]}
        )
    fields = hmap.field_set()
    if not (fields & SHARE_EVIDENCE or "reference" in fields):
        found.append(TableWarning(
            "no_columns", f"section {table.section!r} ({table.title[:60]!r}): no "
            f"recognisable columns in header {table.headers!r}; {len(table.rows)} rows "
            "kept as unmapped", page=table.first_page, sheet=table.sheet))
    _shares(table, names, hmap.fields, {i for i, _ in hmap.unmapped}, out, found)
    key = ("reference" if "reference" in fields else
           "organisation" if "organisation" in fields else None)
    found.extend(check_rows(table, hmap.fields, DATE_FIELDS, key))
    return found


def _count(row: RawRow, header: str, text: str, found: list[TableWarning]) -> int | None:
    """The cell as a count; a warning naming the row when it is refused."""
    value, problem = count_cell(text)
    if problem:
        found.append(TableWarning("bad_count", f"{header}: {problem}", page=row.page,
                                  sheet=row.sheet, row=row.row))
    return value


def _shares(
    table: RawTable,
    names: list[str],
    fields: dict[int, str],
    unmapped: set[int],
    out: Normalised,
    found: list[TableWarning],
) -> None:
    for row in table.rows:
        cells = row.cells + [""] * (len(names) - len(row.cells))
        rec: dict[str, Any] = _provenance(table, row)
        rec.update({f: None for f in SHARE_FIELDS})
        for i, f in fields.items():
            value = cells[i] or None
            if f in DATE_FIELDS:
                rec[f"{f}_raw"] = value
                rec[f] = parse_date(value) if value else None
            elif f == "number_of_pupils":
                rec["number_of_pupils_raw"] = value
                rec[f] = _count(row, names[i], value, found) if value else None
            else:
                rec[f] = value
        for f in DATE_FIELDS:
            rec.setdefault(f"{f}_raw", None)
        rec.setdefault("number_of_pupils_raw", None)
        rec["raw_cells"] = json.dumps(dict(zip(names, cells, strict=False)))
        extra = {names[i]: cells[i] for i in sorted(unmapped) if i < len(cells)}
        if len(cells) > len(names):
            extra.update({f"column {i + 1}": c for i, c in enumerate(cells) if i >= len(names)})
        rec["extra_cells"] = json.dumps(extra) if extra else None
        out.shares.append(rec)


def _counts(table: RawTable, names: list[str], fields: dict[int, str], out: Normalised,
            found: list[TableWarning]) -> None:
    period_idx = next((i for i, f in fields.items() if f == "period"), 0)
    for row in table.rows:
        cells = row.cells + [""] * (len(names) - len(row.cells))
        label = cells[period_idx] or None
        raw = json.dumps(dict(zip(names, cells, strict=False)))
        for i, name in enumerate(names):
            if i == period_idx:
                continue
            rec = _provenance(table, row)
            rec.update(
                {
                    "period_label": label,
                    "period_start": parse_date(label) if label else None,
                    "measure": name,
                    "value": _count(row, name, cells[i], found),
                    "value_raw": cells[i] or None,
                    "raw_cells": raw,
                }
            )
            out.counts.append(rec)
