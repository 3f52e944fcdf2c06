"""The spreadsheet corpus (tests/fixtures/sheet_corpus.py): every share exactly once, nothing
else stored as a share, at least 99% of cells exact, on layouts the 2019+ writer never makes.

Score of each file, as ``shares found exactly once / expected; rows stored that are not
shares; cells exact`` (cells = every printed cell of every expected share, keyed by its header,
plus the canonical fields those cells must map to: organisation, dates, counts).

First score, with the reader as it was before any change for this corpus (commit 57b79bd):

| file | found once | not shares | cells exact |
| --- | --- | --- | --- |
| National_pupil_database_third_party_requests_2012_to_2017.xlsx | 14/15 | 11 | 104/142 (73.2%) |
| National_pupil_database_third_party_requests_2012_to_2017.ods | 14/15 | 11 | 104/142 (73.2%) |
| External_organisation_data_shares_2017.xlsx | 8/8 | 1 | 59/69 (85.5%) |
| External_organisation_data_shares_2017.ods | 8/8 | 1 | 59/69 (85.5%) |
| npd_requests_2016_excel_serials.csv | 4/4 | 1 | 48/48 (100.0%) |
| dsap_shares_2018_cp1252.csv | 3/3 | 0 | 21/21 (100.0%) |
| dsap_shares_2018_stray_byte.csv | 3/3 | 0 | 14/21 (66.7%) |

(the NPD workbook: the row after a spacer taken for a header, its neighbours and the tier and
key tabs stored as shares, totals stored; the old external workbook: police rows with no
organisation, "Date of Request" unmapped, the court-order total stored; the stray-byte CSV
decoded as cp1252, so "Café" read "CafÃ©".)

Final score: every file 100% found once, 0 non-shares, 100% of cells exact (asserted below).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from extract.model import ParsedRelease
from extract.normalise import Normalised, normalise
from extract.sheets import read_spreadsheet
from tests.fixtures.sheet_corpus import CorpusFile, corpus

FILES = {f.name: f for f in corpus()}


@dataclass
class Score:
    expected: int
    found_once: int
    not_shares: int
    cells: int
    cells_exact: int

    def line(self) -> str:
        return (f"{self.found_once}/{self.expected} found once; {self.not_shares} not shares; "
                f"cells {self.cells_exact}/{self.cells} "
                f"({100 * self.cells_exact / max(self.cells, 1):.1f}%)")


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, dt.date) and isinstance(a, dt.datetime):
        a = a.date()
    return a == b


def score(spec: CorpusFile, norm: Normalised) -> Score:
    """Match every expected share to the stored shares holding its key cell."""
    stored = [(s, json.loads(s["raw_cells"])) for s in norm.shares]
    matched: set[int] = set()
    found = cells = exact = 0
    for share in spec.shares:
        hits = [i for i, (_, raw) in enumerate(stored) if share.key in raw.values()]
        matched.update(hits)
        found += len(hits) == 1
        cells += len(share.cells) + len(share.fields)
        if not hits:
            continue
        rec, raw = stored[hits[0]]
        exact += sum(raw.get(h) == v for h, v in share.cells.items())
        exact += sum(_same(rec.get(f), v) for f, v in share.fields.items())
        exact -= rec["section"] != share.section  # a share in the wrong section is not exact
    return Score(len(spec.shares), found, len(stored) - len(matched), cells, exact)


@pytest.fixture(scope="module")
def read(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ParsedRelease, Normalised]]:
    root = tmp_path_factory.mktemp("corpus")
    out = {}
    for name, spec in FILES.items():
        path = root / name
        spec.write(path)
        parsed = read_spreadsheet(path)
        out[name] = (parsed, normalise(parsed))
    return out


@pytest.mark.parametrize("name", list(FILES))
def test_every_share_once_nothing_else(name: str, read: dict[str, Any]) -> None:
    spec = FILES[name]
    result = score(spec, read[name][1])
    assert result.found_once == result.expected, result.line()
    assert result.not_shares == 0, result.line()
    assert result.cells_exact >= 0.99 * result.cells, result.line()


@pytest.mark.parametrize("name", list(FILES))
def test_legends_totals_and_counts(name: str, read: dict[str, Any]) -> None:
    spec = FILES[name]
    parsed, norm = read[name]
    assert len(norm.legend) == spec.legend_rows
    totals = [w for t in parsed.tables for w in t.warnings if w.kind == "total_row"]
    assert len(totals) == spec.total_rows, [w.message for w in totals]
    assert all(w.row and (w.sheet or parsed.format == "csv") for w in totals)
    sums: dict[str, int] = {}
    for c in norm.counts:
        sums[c["measure"]] = sums.get(c["measure"], 0) + (c["value"] or 0)
    assert sums == spec.counts


def test_first_scores_recorded() -> None:
    """The docstring keeps the first score of every file of the corpus."""
    assert all(name in (__doc__ or "") for name in FILES)


if __name__ == "__main__":  # print the scores: python -m tests.test_sheet_corpus DIR
    import sys

    root = Path(sys.argv[1])
    root.mkdir(parents=True, exist_ok=True)
    for name, spec in FILES.items():
        path = root / name
        spec.write(path)
        try:
            norm = normalise(read_spreadsheet(path))
            print(f"{name}: {score(spec, norm).line()}")
        except Exception as exc:  # a score line, whatever failed
            print(f"{name}: failed ({type(exc).__name__}: {exc})")
