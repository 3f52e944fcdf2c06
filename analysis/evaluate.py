"""Measure the recipient classifier against hand-labelled organisations (name,sector CSV).

``python -m analysis evaluate`` prints accuracy, per-sector precision and recall, and every
miss, so a change to the lists or rules can be judged by its effect, not by anecdote.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from analysis.classify import Classification, classify_recipient
from analysis.reference import SECTORS
from extract.model import IngestError

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "labelled_organisations.csv"


@dataclass
class Evaluation:
    total: int = 0
    correct: int = 0
    # sector -> (true positives, predicted as sector, labelled as sector)
    counts: dict[str, list[int]] = field(default_factory=lambda: {s: [0, 0, 0] for s in SECTORS})
    misses: list[tuple[str, str, Classification]] = field(default_factory=list)
    decided_by: dict[str, int] = field(default_factory=dict)  # kind of evidence -> names

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def precision(self, sector: str) -> float | None:
        tp, predicted, _ = self.counts[sector]
        return tp / predicted if predicted else None

    def recall(self, sector: str) -> float | None:
        tp, _, labelled = self.counts[sector]
        return tp / labelled if labelled else None


def load_labelled(path: Path = LABELLED) -> list[tuple[str, str]]:
    """(name, sector) pairs of a labelled CSV with ``name`` and ``sector`` columns.

    Raises :class:`IngestError` for anything else (an HTML page, other columns, an unknown
    sector, no rows): scoring such a file would print a meaningless "0 of 0 correct".
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            # '#' lines are comments (provenance, first scores); blank lines keep numbering.
            lines = ["\n" if ln.startswith("#") else ln for ln in fh]
            skip = next((i for i, ln in enumerate(lines) if ln.strip()), 0)
            reader = csv.DictReader(lines[skip:])
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in ("name", "sector") if c not in header]
            if missing:
                got = ", ".join(h[:20] for h in header[:4]) or "nothing"
                raise IngestError(f"not a labelled CSV: missing column(s) "
                                  f"{', '.join(missing)} (header reads {got})")
            reader.fieldnames = header
            out: list[tuple[str, str]] = []
            for row in reader:
                name, sector = (row.get("name") or "").strip(), (row.get("sector") or "").strip()
                if not name and not sector:
                    continue
                if sector not in SECTORS:
                    raise IngestError(f"line {reader.line_num + skip}: unknown sector {sector[:40]!r}; "
                                      f"expected one of {', '.join(SECTORS)}")
                if not name:
                    raise IngestError(f"line {reader.line_num + skip}: blank name")
                out.append((name, sector))
    except UnicodeDecodeError as exc:
        raise IngestError(f"not a UTF-8 text file (byte {exc.start})") from exc
    except csv.Error as exc:
        raise IngestError(f"not a readable CSV ({exc})") from exc
    if not out:
        raise IngestError("no labelled names (expected name,sector rows)")
    return out


def evaluate(labelled: list[tuple[str, str]]) -> Evaluation:
    ev = Evaluation()
    for name, truth in labelled:
        got = classify_recipient(name)
        kind = evidence_kind(got)
        ev.decided_by[kind] = ev.decided_by.get(kind, 0) + 1
        ev.total += 1
        ev.counts[truth][2] += 1
        ev.counts[got.sector][1] += 1
        if got.sector == truth:
            ev.correct += 1
            ev.counts[truth][0] += 1
        else:
            ev.misses.append((name, truth, got))
    return ev


def evidence_kind(c: Classification) -> str:
    """Which kind of evidence decided: override, list, alias, close spelling, rule, ..."""
    reason = c.reason.split("; ")[-1]
    for prefix, kind in (("override", "override"), ("on list", "list entry"),
                         ("alias", "alias"), ("close spelling", "close spelling of a list entry"),
                         ("rule", "keyword rule"), ("collective", "collective recipient"),
                         ("from '", "bracketed name")):
        if reason.startswith(prefix):
            return kind
    return "nothing (unknown)"


def report(ev: Evaluation) -> str:
    def pct(x: float | None) -> str:
        return "   -  " if x is None else f"{100 * x:5.1f}%"

    lines = [f"{ev.correct} of {ev.total} correct: accuracy {100 * ev.accuracy:.1f}%", "",
             f"{'sector':<16} {'labelled':>8} {'predicted':>9} {'precision':>9} {'recall':>7}"]
    for s in SECTORS:
        _, predicted, labelled = ev.counts[s]
        if predicted or labelled:
            lines.append(f"{s:<16} {labelled:>8} {predicted:>9} {pct(ev.precision(s)):>9} "
                         f"{pct(ev.recall(s)):>7}")
    lines += ["", "decided by: " + ", ".join(f"{k} {v}" for k, v in
                                          sorted(ev.decided_by.items(), key=lambda kv: -kv[1]))]
    if ev.misses:
        lines += ["", "misses (name, labelled, predicted, reason):"]
        lines += [f"  {n!r}: {t} -> {c.sector} ({c.reason})" for n, t, c in ev.misses]
    return "\n".join(lines)
