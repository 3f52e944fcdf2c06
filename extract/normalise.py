"""Turn a reader's :class:`ParsedRelease` into rows for the database tables. Pure.

One mapping for every format: headers through :mod:`extract.headers`, dates and counts
through :mod:`extract.values`. Each output row keeps its provenance and its raw cells (all
columns, as read) so nothing is lost even where a header could not be mapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from extract.headers import SHARE_FIELDS, map_headers
from extract.model import IngestError, ParsedRelease, RawTable
from extract.values import parse_count, parse_date

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
    for i, h in enumerate(headers):
        name = h or f"column {i + 1}"
        while name in names:
            name = f"{name} ({i + 1})"
        names.append(name)
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


def normalise(parsed: ParsedRelease) -> Normalised:
    """Map every table of a release. Raises IngestError if it holds no register table."""
    out = Normalised(warnings=list(parsed.warnings))
    for table in parsed.tables:
        names = _header_names(table.headers)
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
            continue
        hmap = map_headers(table.headers)
        if is_count_table(table):  # every non-period column is a measure: nothing unmapped
            _counts(table, names, hmap.fields, out)
            continue
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
        if hmap.field_set() & SHARE_EVIDENCE or "reference" in hmap.field_set():
            _shares(table, names, hmap.fields, {i for i, _ in hmap.unmapped}, out)
        else:
            out.warnings.append(
                f"section {table.section!r} ({table.title[:60]!r}): no recognisable columns in "
                f"header {table.headers!r}; {len(table.rows)} rows kept as unmapped"
            )
            _shares(table, names, hmap.fields, {i for i, _ in hmap.unmapped}, out)
    if not out.shares and not out.counts:
        if any(t.section != "legend" and t.headers for t in parsed.tables):
            raise IngestError("a register table header was found but the table has no rows")
        raise IngestError("no register table found (no header row naming organisations, "
                          "projects or purposes)")
    return out


def _shares(
    table: RawTable,
    names: list[str],
    fields: dict[int, str],
    unmapped: set[int],
    out: Normalised,
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
                rec[f] = parse_count(value) if value else None
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


def _counts(table: RawTable, names: list[str], fields: dict[int, str], out: Normalised) -> None:
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
                    "value": parse_count(cells[i]),
                    "value_raw": cells[i] or None,
                    "raw_cells": raw,
                }
            )
            out.counts.append(rec)
