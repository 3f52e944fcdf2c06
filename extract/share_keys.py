"""Share keys that never change once assigned, and the resolver for links that carry one.

A share key is printed in articles (``/share?ref=DS00142&in=<release file>``), so a key, once
given to a share in a release, must keep naming that share whatever arrives later: a later
release in which the reference is shared by a second organisation, an earlier release
ingested after a later one, or a rebuild of the history from scratch. Deriving keys afresh
from the whole database on every rebuild cannot promise that (the old rule qualified every
occurrence of a reference with the organisation once *any* release listed it twice, which
renamed ``DS00142`` to ``DS00142/university-of-birmingham`` in releases already linked).

So every assignment is kept in the table ``share_keys``, one row per *(release file,
identity)*, and :func:`assign` only ever adds rows (or re-points a row whose key is now taken
by an older assignment in the same release, which a re-ingested file can cause). A row's
identity is what the history rebuild computes from its text (``extract/history.py``):

* ``ref:<normalised reference>|<organisation slug>`` for a row with a reference;
* ``org:<organisation slug>|<project slug>|<date approved>`` without one;
* ``#2``, ``#3``... appended for true duplicates inside one release (source order).

Rows are keyed release by release in publication order, and inside a release in passes, so
that the strongest evidence wins a key before weaker evidence can take it:

1. the key this very row (release file + identity) was given before;
2. the key of the same identity in another release (first assigned first);
3. for a row with a reference whose organisation is spelt differently: the reference's key
   when exactly one of its keys is free in this release (or one clearly matches the
   organisation's words);
4. a new key: the reference (``DS00142``), then ``DS00142/<organisation slug>``, then
   ``DS00142/<organisation slug>#2``...; without a reference ``org:<slug>:<hash>``, then
   ``#2``... A new key is never one already in use, so it never renames a key in use: the
   first appearance keeps the plain key, a later colliding share gets the suffix.

Slugs are ``extract/history.py``'s ``_hist_slug``, deliberately *not*
``analysis.names.normalise_name``: that normaliser reads user-editable token lists
(``data/``), and an edit there must not rename printed keys. Unifying the two would rename
every key without a reference built from the old slug, so they stay apart on purpose.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import duckdb
import pandas as pd

KEY_BASIS = {"ref": "reference", "org": "organisation+project+date"}
# Words that say nothing about which organisation a slug names (for pass 3's tie-break).
_GENERIC = frozenset({"of", "the", "and", "for", "in", "ltd", "limited", "plc", "llp",
                      "university", "council", "county", "city", "college", "school",
                      "trust", "service", "services", "department", "unknown"})


@dataclass(frozen=True)
class Row:
    """One register row as the history rebuild sees it (see the module docstring)."""

    share_id: int
    release_file: str
    identity: str
    nref: str | None  # normalised reference, None without one
    norg: str  # organisation slug
    base_key: str  # the key a first appearance gets: the reference, or org:<slug>:<hash>
    seq: int  # 1, or n for the n-th true duplicate of the identity in the release
    legacy_key: str | None = None  # shares.share_key left by an earlier rebuild


@dataclass(frozen=True)
class Assignment:
    release_file: str
    identity: str
    share_key: str
    key_basis: str


@dataclass
class _State:
    """Everything known about keys so far, persisted and assigned in this run."""

    by_identity: dict[str, list[str]] = field(default_factory=dict)
    by_ref: dict[str, list[str]] = field(default_factory=dict)
    orgs_of_key: dict[str, set[str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def note(self, identity: str, nref: str | None, norg: str, seq: int, key: str) -> None:
        keys = self.by_identity.setdefault(identity, [])
        if key not in keys:
            keys.append(key)
        if nref is not None and seq == 1:
            ref_keys = self.by_ref.setdefault(nref, [])
            if key not in ref_keys:
                ref_keys.append(key)
        self.orgs_of_key.setdefault(key, set()).add(norg)
        self.used.add(key)


def _identity_parts(identity: str) -> tuple[str | None, str, int]:
    """(reference, organisation slug, duplicate number) of a stored identity."""
    body, _, dup = identity.partition("#")
    seq = int(dup) if dup.isdigit() else 1
    kind, _, rest = body.partition(":")
    first, _, second = rest.partition("|")
    if kind == "ref":
        return first, second.split("|")[0], seq
    return None, first, seq


def _words(slug: str) -> set[str]:
    return {w for w in slug.split("-") if w and w not in _GENERIC}


def _new_keys(row: Row) -> Iterator[str]:
    """Candidate new keys for a row, most natural first (see module docstring, pass 4)."""
    if row.nref is not None:
        if row.seq == 1:
            yield row.nref
            yield f"{row.nref}/{row.norg}"
        else:
            yield f"{row.nref}#{row.seq}"
            yield f"{row.nref}/{row.norg}#{row.seq}"
        stem = f"{row.nref}/{row.norg}"
    else:
        stem = row.base_key
        yield stem if row.seq == 1 else f"{stem}#{row.seq}"
    n = max(row.seq, 1) + 1
    while True:
        yield f"{stem}#{n}"
        n += 1


def assign(rows: Iterable[Row], persisted: Iterable[Assignment], release_order: list[str],
           taken_already: dict[str, set[str]] | None = None,
           used: Iterable[str] = ()) -> tuple[dict[int, str], list[Assignment]]:
    """Keys for every row, and the assignments to store (new or re-pointed).

    ``persisted`` are rows of ``share_keys`` (oldest first): all of them, or at least those
    sharing an identity or a reference with ``rows``; ``release_order`` lists the release
    files in publication order. ``taken_already`` holds, per release file, the keys of rows
    the caller has already settled (their own stored key, unique in the release), and
    ``used`` every key in use anywhere. Pure: the caller reads and writes the database.
    """
    state = _State()
    state.used.update(used)
    settled = taken_already or {}
    known: dict[tuple[str, str], str] = {}  # (release file, identity) -> key
    stored: dict[tuple[str, str], str] = {}  # the same, as share_keys holds it
    for a in persisted:
        known[(a.release_file, a.identity)] = a.share_key
        stored[(a.release_file, a.identity)] = a.share_key
        nref, norg, seq = _identity_parts(a.identity)
        state.note(a.identity, nref, norg, seq, a.share_key)
    by_release: dict[str, list[Row]] = {}
    for r in rows:
        by_release.setdefault(r.release_file, []).append(r)
    # An earlier rebuild's keys count as assignments (a database written before share_keys
    # existed keeps the keys its links were made with).
    for file_rows in by_release.values():
        for r in file_rows:
            if r.legacy_key and (r.release_file, r.identity) not in known:
                known[(r.release_file, r.identity)] = r.legacy_key
                state.note(r.identity, r.nref, r.norg, r.seq, r.legacy_key)
    keys: dict[int, str] = {}
    out: list[Assignment] = []
    order = {f: i for i, f in enumerate(release_order)}

    def give(r: Row, key: str, taken: set[str]) -> None:
        keys[r.share_id] = key
        taken.add(key)
        state.note(r.identity, r.nref, r.norg, r.seq, key)
        known[(r.release_file, r.identity)] = key
        if stored.get((r.release_file, r.identity)) != key:
            stored[(r.release_file, r.identity)] = key
            out.append(Assignment(r.release_file, r.identity, key,
                                  KEY_BASIS["ref" if r.nref is not None else "org"]))

    for file in sorted(by_release, key=lambda f: (order.get(f, len(order)), f)):
        file_rows = by_release[file]
        taken: set[str] = set(settled.get(file, ()))
        pending = []
        for r in file_rows:  # pass 1: this row's own key
            k = known.get((r.release_file, r.identity))
            if k is not None and k not in taken:
                give(r, k, taken)
            else:
                pending.append(r)
        rest = []
        for r in pending:  # pass 2: the same identity in another release
            k = next((k for k in state.by_identity.get(r.identity, ()) if k not in taken), None)
            if k is not None:
                give(r, k, taken)
            else:
                rest.append(r)
        pending, rest = rest, []
        for r in pending:  # pass 3: the same reference, organisation spelt differently
            k = _by_reference(r, state, taken) if r.nref is not None and r.seq == 1 else None
            if k is not None:
                give(r, k, taken)
            else:
                rest.append(r)
        for r in rest:  # pass 4: a new key, never one in use
            give(r, next(k for k in _new_keys(r) if k not in state.used and k not in taken),
                 taken)
    return keys, out


def _by_reference(r: Row, state: _State, taken: set[str]) -> str | None:
    """The reference's one free key, or the free key whose organisations share words with
    this row's; None when that does not single one out (the row then gets a new key)."""
    free = [k for k in state.by_ref.get(r.nref or "", ()) if k not in taken]
    if len(free) == 1:
        return free[0]
    if not free:
        return None
    mine = _words(r.norg)
    scores = [(len(mine & set().union(*(_words(o) for o in state.orgs_of_key.get(k, ())))), k)
              for k in free]
    best = max(s for s, _ in scores)
    winners = [k for s, k in scores if s == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def store(con: duckdb.DuckDBPyConnection, assignments: list[Assignment],
          now: dt.datetime | None = None) -> None:
    """Add (or re-point) assignments in ``share_keys``; the first assignment time is kept."""
    if not assignments:
        return
    when = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # One set-based insert (a row-by-row executemany takes minutes at 100,000 rows).
    frame = pd.DataFrame({
        "release_file": [a.release_file for a in assignments],
        "identity": [a.identity for a in assignments],
        "share_key": [a.share_key for a in assignments],
        "key_basis": [a.key_basis for a in assignments],
    })
    con.register("_share_keys_new", frame)
    try:
        con.execute(
            """INSERT INTO share_keys (release_file, identity, share_key, key_basis, assigned_at)
               SELECT release_file, identity, share_key, key_basis, ?::TIMESTAMP
               FROM _share_keys_new
               ON CONFLICT (release_file, identity) DO UPDATE
                   SET share_key = excluded.share_key, key_basis = excluded.key_basis""",
            [when])
    finally:
        con.unregister("_share_keys_new")


def load(con: duckdb.DuckDBPyConnection) -> list[Assignment]:
    """Every stored assignment, oldest first (ties in a stable order)."""
    rows = con.execute("""SELECT release_file, identity, share_key, key_basis FROM share_keys
                          ORDER BY assigned_at, release_file, identity""").fetchall()
    return [Assignment(*r) for r in rows]


# --- resolving a link ---------------------------------------------------------------------------

_REF_CHARS = re.compile(r"[^A-Z0-9.]")


def key_reference(key: str) -> str | None:
    """The normalised reference a key was built from; None for an ``org:`` key."""
    if key.startswith("org:"):
        return None
    ref = _REF_CHARS.sub("", re.split(r"[/#]", key, maxsplit=1)[0].upper())
    return ref if any(c.isdigit() for c in ref) else None


def _release_ids(con: duckdb.DuckDBPyConnection, release: str) -> list[int]:
    """The releases a link's ``in=`` names: its file name, else its period label (a period
    published twice, as a PDF and an ODS, names both, earlier file first), or the dashboard's
    label for such a twin, "September 2023 (file.csv)"."""
    rows = con.execute(
        """SELECT release_id FROM releases
           WHERE source_file = ? OR period_label = ?
              OR period_label || ' (' || source_file || ')' = ?
           ORDER BY source_file <> ?, release_order NULLS LAST, source_file""",
        [release, release, release, release]).fetchall()
    return [int(r[0]) for r in rows]


def resolve_share(con: duckdb.DuckDBPyConnection, key: str, release: str | None
                  ) -> int | None:
    """The ``share_id`` a stable link ``(share key, release)`` opens, or None.

    ``release`` is the release's file name or its period label ("November 2018"); None means
    the latest release listing the key. Tries, in order:

    1. the share with this key in that release;
    2. the key's reference in that release, when it picks out one row (or one row of the
       organisation the key is qualified with, ``DS00142/university-of-birmingham``): a link
       made on another copy of the database, whose keys were assigned in another order,
       still opens the share it named.

    Parameterised SQL only; never raises for an unknown key or release.
    """
    key = " ".join(str(key).split())
    if not key:
        return None
    if release is None:
        row = con.execute(
            """SELECT s.share_id FROM shares s JOIN releases r USING (release_id)
               WHERE s.share_key = ? ORDER BY r.release_order DESC NULLS LAST,
                     r.source_file DESC, s.share_id LIMIT 1""", [key]).fetchone()
        return int(row[0]) if row else None
    ids = _release_ids(con, release)
    if not ids:
        return None
    for rid in ids:
        row = con.execute("SELECT share_id FROM shares WHERE release_id = ? AND share_key = ?"
                          " ORDER BY share_id LIMIT 1", [rid, key]).fetchone()
        if row:
            return int(row[0])
    ref = key_reference(key)
    if ref is None:
        return None
    qualifier = key.split("/", 1)[1].split("#", 1)[0] if "/" in key else None
    for rid in ids:
        # Each row with the reference, with the organisation slug its identity records.
        rows = con.execute(
            """SELECT s.share_id,
                      regexp_replace(split_part(k.identity, '|', 2), '#[0-9]+$', '') AS org
               FROM shares s JOIN releases r ON r.release_id = s.release_id
               LEFT JOIN share_keys k ON k.release_file = r.source_file
                                     AND k.share_key = s.share_key
               WHERE s.release_id = ?
                 AND regexp_replace(upper(s.reference), '[^A-Z0-9.]', '', 'g') = ?
               ORDER BY s.share_id""", [rid, ref]).fetchall()
        # A key qualified with an organisation names that organisation's row only.
        hits = [r for r in rows if r[1] == qualifier] if qualifier else rows
        if len({r[0] for r in hits}) == 1:
            return int(hits[0][0])
    return None
