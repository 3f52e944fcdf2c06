"""Self-checks on every table the PDF reader returns, as :class:`~extract.model.TableWarning`s.

A reader that mis-cuts rows does not know it did; the rows it produces do. These invariants
hold for every register table, whatever its layout, so a failure points at a reading error
(or a real oddity worth a look) on a page and row a user can open:

* ``two_references``: a row's key column holds two or more reference-shaped values (two
  register rows glued into one, e.g. ``DR150812.03 DR130923.01``);
* ``two_dates``: a date cell holds two dates;
* ``no_key``: a row has no value in its key column (a fragment of the row above, or a row
  that lost its key to its neighbour);
* ``extra_cells``: a row has more cells than the table has headers;
* ``orphan_reference``: a reference-shaped token printed in the table's area of a page is
  in no stored row (a row lost), and ``duplicate_reference``: one is the key of two rows.

Pure functions: the reader passes what was printed, this module judges what was stored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from extract.headers import map_headers
from extract.model import RawTable, TableWarning

# Reference-shaped, strictly: capitals, three or more digits, an optional ".nn" suffix
# (DS00628, DR170221.02, R0042). Not a date, a count or "Tier 1".
REFERENCE_RE = re.compile(r"^[A-Z]{1,4}-?\d{3,}(\.\d{1,3})?$")
MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
DATE_RE = re.compile(rf"^(\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
                     rf"\d{{1,2}} {MONTH} \d{{4}}|{MONTH}-\d{{2}})$")
DATES_IN_RE = re.compile(rf"\b(\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
                         rf"\d{{1,2}} {MONTH} \d{{4}})\b")
DATE_FIELDS = {"date_approved", "date_released"}


_ANY_REFERENCE = re.compile(r"[A-Z]-?\d{3}")


def references(text: str) -> list[str]:
    """Reference-shaped tokens of a text, in order."""
    if not _ANY_REFERENCE.search(text):
        return []
    return [t for t in (w.strip(",;()") for w in text.split()) if REFERENCE_RE.match(t)]


def key_column(headers: list[str]) -> int | None:
    """The column identifying a row: the reference, else the recipient; None if neither."""
    fields = map_headers(list(headers)).fields
    for wanted in ("reference", "organisation"):
        for i, f in sorted(fields.items()):
            if f == wanted:
                return i
    return None


def check_rows(table: RawTable) -> list[TableWarning]:
    """Row-level invariants of one table."""
    out: list[TableWarning] = []
    key = key_column(table.headers)
    fields = map_headers(list(table.headers)).fields
    dates = [i for i, f in fields.items() if f in DATE_FIELDS]
    width = len(table.headers)
    for r in table.rows:
        where = f"page {r.page}, row {r.row}" if r.page is not None else \
            f"sheet {r.sheet}, row {r.row}"
        if key is not None and key < len(r.cells):
            refs = references(r.cells[key])
            if len(refs) >= 2:
                out.append(TableWarning("two_references", f"{where}: the key cell holds "
                                        f"{len(refs)} references ({' '.join(refs[:5])}): rows "
                                        "glued together?", r.page, r.sheet, r.row))
            elif not r.cells[key] and any(r.cells):
                out.append(TableWarning("no_key", f"{where}: no {table.headers[key]!r}",
                                        r.page, r.sheet, r.row))
        for i in dates:
            if i < len(r.cells) and len(DATES_IN_RE.findall(r.cells[i])) >= 2:
                out.append(TableWarning("two_dates", f"{where}: two dates in "
                                        f"{table.headers[i]!r} ({r.cells[i]!r})",
                                        r.page, r.sheet, r.row))
        extra = [c for c in r.cells[width:] if c]
        if extra:
            out.append(TableWarning("extra_cells", f"{where}: {len(extra)} cell(s) beyond the "
                                    f"{width} headers", r.page, r.sheet, r.row))
    return out


def check_references(tables: list[RawTable], printed: Mapping[int, Iterable[str]]
                     ) -> None:
    """Every reference-shaped token printed on a page (in a table's area, as the reader
    collected them) belongs to exactly one stored row. Attaches ``orphan_reference`` to the
    table covering the page, ``duplicate_reference`` to the table holding the second row."""
    stored: Counter[str] = Counter()
    keyed: dict[str, list[tuple[RawTable, int | None, int]]] = {}
    for t in tables:
        key = key_column(t.headers)
        for r in t.rows:
            for i, c in enumerate(r.cells):
                for ref in references(c):
                    stored[ref] += 1
                    if i == key:
                        keyed.setdefault(ref, []).append((t, r.page, r.row))
    # Every printing of a reference needs a stored occurrence; the ones beyond the stored
    # count, in page order, are orphans (a reference printed twice but stored once has
    # lost a row, on the page of its second printing).
    used: Counter[str] = Counter()
    for page in sorted(printed):
        owner = next((t for t in tables if (t.first_page or 0) <= page
                      <= (t.last_page or t.first_page or 0)), None)
        for ref in printed[page]:
            used[ref] += 1
            if used[ref] > stored[ref] and owner is not None:
                owner.warnings.append(TableWarning(
                    "orphan_reference", f"page {page}: {ref} is printed but in no stored row",
                    page))
    for ref, rows in sorted(keyed.items()):
        for t, page, row in rows[1:]:
            t.warnings.append(TableWarning(
                "duplicate_reference", f"page {page}, row {row}: {ref} is the key of "
                f"{len(rows)} rows", page, None, row))


def check_tables(tables: list[RawTable], printed: Mapping[int, Iterable[str]]) -> None:
    """All self-checks; warnings are appended to each table's ``warnings``."""
    for t in tables:
        if t.last_page is None:
            pages = [r.page for r in t.rows if r.page is not None]
            t.last_page = max(pages, default=t.first_page)
        t.warnings.extend(check_rows(t))
    check_references(tables, printed)
