"""Measure the recipient classifier against hand-labelled organisations (name,sector CSV).

``python -m analysis evaluate`` scores two labelled files and reports, separately, the names
written verbatim in a reference list (a lookup: these should all be right) and the names in
no list (the rules and structure at work: the honest figure), each with accuracy, per-sector
precision and recall and a confusion matrix, then every miss. ``tests/data/names_unseen.csv``
holds names frozen before the rules were tuned on them, in batches; each batch is scored too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from analysis.classify import Classification, classify_recipient, list_index, override_for
from analysis.names import match_key, split_recipient
from analysis.reference import SECTORS, load_councils
from extract.model import IngestError

_TESTS = Path(__file__).resolve().parents[1] / "tests" / "data"
LABELLED = _TESTS / "labelled_organisations.csv"
UNSEEN = _TESTS / "names_unseen.csv"
EVIDENCE_WORDS = {
    "override": "override", "collective": "collective recipient", "list": "list entry",
    "alias": "alias", "title": "press title", "council": "council form", "brand":
    "broadcaster's programme", "fuzzy": "close spelling of a list entry", "rule": "rule",
    "none": "nothing (unknown)",
}


@dataclass(frozen=True)
class Labelled:
    name: str
    sector: str
    batch: str = ""  # names_unseen.csv: which frozen batch the name belongs to


@dataclass
class Evaluation:
    total: int = 0
    correct: int = 0
    # sector -> (true positives, predicted as sector, labelled as sector)
    counts: dict[str, list[int]] = field(default_factory=lambda: {s: [0, 0, 0] for s in SECTORS})
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (labelled, got) -> n
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


def load_labelled_rows(path: Path = LABELLED) -> list[Labelled]:
    """Rows of a labelled CSV with ``name`` and ``sector`` columns (``batch`` optional).

    '#' lines are comments (provenance, first scores). Raises :class:`IngestError` for
    anything else (an HTML page, other columns, an unknown sector, no rows): scoring such a
    file would print a meaningless "0 of 0 correct".
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            lines = ["\n" if ln.startswith("#") else ln for ln in fh]  # keep line numbers
            skip = next((i for i, ln in enumerate(lines) if ln.strip()), 0)
            reader = csv.DictReader(lines[skip:])
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in ("name", "sector") if c not in header]
            if missing:
                got = ", ".join(h[:20] for h in header[:4]) or "nothing"
                raise IngestError(f"not a labelled CSV: missing column(s) "
                                  f"{', '.join(missing)} (header reads {got})")
            reader.fieldnames = header
            out: list[Labelled] = []
            for row in reader:
                name, sector = (row.get("name") or "").strip(), (row.get("sector") or "").strip()
                if not name and not sector:
                    continue
                line = reader.line_num + skip
                if sector not in SECTORS:
                    raise IngestError(f"line {line}: unknown sector {sector[:40]!r}; "
                                      f"expected one of {', '.join(SECTORS)}")
                if not name:
                    raise IngestError(f"line {line}: blank name")
                out.append(Labelled(name, sector, (row.get("batch") or "").strip()))
    except UnicodeDecodeError as exc:
        raise IngestError(f"not a UTF-8 text file (byte {exc.start})") from exc
    except csv.Error as exc:
        raise IngestError(f"not a readable CSV ({exc})") from exc
    if not out:
        raise IngestError("no labelled names (expected name,sector rows)")
    return out


def load_labelled(path: Path = LABELLED) -> list[tuple[str, str]]:
    """(name, sector) pairs of a labelled CSV (see :func:`load_labelled_rows`)."""
    return [(r.name, r.sector) for r in load_labelled_rows(path)]


def listed_verbatim(name: str) -> bool:
    """Is the recipient written exactly as a reference file writes it (a list name, an alias,
    a press title, a council's place name or an override)? Case, punctuation and company
    suffixes aside; a council form generated by rule ("LB Barnet") is not verbatim."""
    if override_for(name) is not None:
        return True
    key = match_key(split_recipient(name).principal)
    hit = list_index().get(key)
    if hit is None:
        return False
    if hit.method != "council":
        return True
    return key in {match_key(b) for c in load_councils() for b in (c.base, *c.also)}


def evaluate(labelled: list[tuple[str, str]]) -> Evaluation:
    ev = Evaluation()
    for name, truth in labelled:
        got = classify_recipient(name)
        kind = EVIDENCE_WORDS.get(got.evidence, got.evidence or "other")
        ev.decided_by[kind] = ev.decided_by.get(kind, 0) + 1
        ev.total += 1
        ev.counts[truth][2] += 1
        ev.counts[got.sector][1] += 1
        ev.confusion[(truth, got.sector)] = ev.confusion.get((truth, got.sector), 0) + 1
        if got.sector == truth:
            ev.correct += 1
            ev.counts[truth][0] += 1
        else:
            ev.misses.append((name, truth, got))
    return ev


def evidence_kind(c: Classification) -> str:
    """Which kind of evidence decided: override, list, alias, close spelling, rule, ..."""
    return EVIDENCE_WORDS.get(c.evidence, "nothing (unknown)")


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def _short(sector: str) -> str:
    return {"local_authority": "local_a", "government": "govt", "commercial": "commerc"}.get(
        sector, sector)[:7]


def report(ev: Evaluation, title: str = "") -> str:
    """Accuracy, per-sector precision/recall, the confusion matrix and the misses."""
    head = f"{ev.correct} of {ev.total} correct: accuracy {100 * ev.accuracy:.1f}%"
    lines = [f"{title}: {head}" if title else head, "",
             f"{'sector':<16} {'labelled':>8} {'predicted':>9} {'precision':>9} {'recall':>7}"]
    used = [s for s in SECTORS if ev.counts[s][1] or ev.counts[s][2]]
    for s in used:
        _, predicted, labelled = ev.counts[s]
        lines.append(f"{s:<16} {labelled:>8} {predicted:>9} {_pct(ev.precision(s)):>9} "
                     f"{_pct(ev.recall(s)):>7}")
    lines += ["", "confusion (rows: labelled, columns: predicted)",
              f"{'':<16}" + "".join(f"{_short(s):>8}" for s in used)]
    for t in used:
        lines.append(f"{t:<16}" + "".join(
            f"{ev.confusion.get((t, g), 0) or '.':>8}" for g in used))
    lines += ["", "decided by: " + ", ".join(f"{k} {v}" for k, v in
                                          sorted(ev.decided_by.items(), key=lambda kv: -kv[1]))]
    if ev.misses:
        lines += ["", "misses (name, labelled, predicted, reason):"]
        lines += [f"  {n!r}: {t} -> {c.sector} ({c.reason})" for n, t, c in ev.misses]
    return "\n".join(lines)


def full_report(files: dict[str, list[Labelled]]) -> str:
    """The two parts - names listed verbatim vs names in no list - then each file and batch."""
    rows = [r for labelled in files.values() for r in labelled]
    listed = [(r.name, r.sector) for r in rows if listed_verbatim(r.name)]
    unlisted = [(r.name, r.sector) for r in rows if not listed_verbatim(r.name)]
    out = [f"{len(rows)} labelled names in {', '.join(files)}", "",
           "== Part 1 " + "=" * 70]
    if listed:
        out.append(report(evaluate(listed), "names listed verbatim in data/reference"))
    else:
        out.append("names listed verbatim in data/reference: none")
    out += ["", "== Part 2 " + "=" * 70]
    if unlisted:
        out.append(report(evaluate(unlisted), "names in no list"))
    else:
        out.append("names in no list: none")
    out += ["", "== By file " + "=" * 69]
    for file, labelled in files.items():
        batches = sorted({r.batch for r in labelled})
        for batch in batches:
            part = [(r.name, r.sector) for r in labelled if r.batch == batch]
            ev = evaluate(part)
            n_unlisted = sum(not listed_verbatim(n) for n, _ in part)
            label = f"{file} batch {batch}" if batch else file
            out.append(f"{label}: {ev.correct} of {ev.total} correct ({100 * ev.accuracy:.1f}%); "
                       f"{n_unlisted} of them in no list")
    return "\n".join(out)
