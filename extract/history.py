"""The register across releases: one key per share, when it was seen, and what changed.

Each DfE release is cumulative, so the same share is listed again and again, sometimes with its
text re-wrapped, its status moved on or its wording tweaked. :func:`rebuild` gives every row of
``shares`` a ``share_key`` that identifies the share across releases, then derives

* ``share_history``: first/last release and period a share was seen, how often, and whether it
  is still in the latest release;
* ``share_changes``: shares added, removed and changed (one row per changed field) between
  consecutive releases;
* the view ``v_changes`` (defined in :mod:`extract.schema`), the same with file names, periods,
  references and organisations spelled out.

Everything is computed in DuckDB SQL over the whole database (no per-row queries), and each
distinct text is normalised once (releases repeat themselves). Only rows without a stored key
go through the Python key rules. On this shared 2-core machine, 100,000 share rows in 20
releases: 2-3 s for a rebuild that keeps every key, about 4.5 s after one new release of 5,000
rows, 5-9 s the first time (every key new; ``python bench/bench_history.py`` measures that).

Keys
    Assigned once and kept in ``share_keys``, so a printed link keeps naming the same share
    whatever is ingested later, in whatever order (:mod:`extract.share_keys` has the rules).
    In short: the normalised reference (``DS 00628`` = ``ds00628`` = ``DS00628``; a cell
    with no digit such as "n/a" is not a reference); a later share using a reference already
    in use gets ``DS00628/<organisation slug>`` (the first keeps the plain key); without a
    reference ``org:<organisation slug>:<hash of organisation, project, date approved>``;
    true duplicates inside one release ``#2``, ``#3`` in source order.

Changes
    Only releases that hold shares take part (a file holding only Home Office counts is not a
    release of the register of shares). Texts are compared after normalisation (case,
    whitespace, curly quotes, dashes, spacing around hyphens and slashes, trailing full stops,
    and placeholders such as "n/a"), so re-wrapping in a PDF is not a change. Dates compare as
    dates when both parse ("01/02/2019" = "1 February 2019"), counts as numbers. A field is
    compared only when both releases' sections carry it (some value in that section of that
    release), so a format that lacks a column does not make every share look changed. Likewise
    a share is "added" only when the previous release had its section and "removed" only when
    this release still has it: a court order first listed when the register gained a
    court-order section was not added then (:func:`compared_sections` names such sections).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import itertools
import sys
from dataclasses import dataclass

import duckdb
import pandas as pd
from rich.console import Console
from rich.markup import escape

from extract import share_keys
from extract.headers import SHARE_FIELDS
from extract.printable import visible
from extract.sections import section_labels

# Fields compared between releases, in report order. Dates and counts use their parsed value
# when there is one; see _FIELD_SQL.
COMPARED_FIELDS = (*SHARE_FIELDS, "section")

# Field names as a reader says them (the page and the `changes` command use the same words).
FIELD_LABELS = {
    "reference": "Reference", "organisation": "Organisation", "project": "Project",
    "purpose": "Purpose", "data_shared": "Data shared", "classification": "Data classification",
    "legal_basis": "Legal basis", "date_approved": "Date approved",
    "date_released": "Date released", "status": "Status", "access_route": "Access route",
    "number_of_pupils": "Number of pupils", "section": "Register section",
}
# Register sections in words, the same as the dashboard's (data/sections.csv).
SECTION_NAMES = section_labels()

# Text normalisation for comparisons. Placeholders for "nothing" compare equal to a blank.
# Applied once per *distinct* text (the register repeats itself release after release).
_MACROS = r"""
CREATE OR REPLACE TEMP MACRO _hist_norm(x) AS nullif(
    regexp_replace(
        regexp_replace(
            regexp_replace(
                translate(lower(strip_accents(x)), '‘’`´“”‐‑‒–—', '''''''''""-----'),
                '\s+', ' ', 'g'),
            ' ?([-/]) ?', '\1', 'g'),
        '^[\s.;,:]+|[\s.;,:]+$', '', 'g'),
    '');
CREATE OR REPLACE TEMP MACRO _hist_slug(x) AS (
    coalesce(nullif(trim(
        regexp_replace(
            regexp_replace(
                regexp_replace(replace(lower(strip_accents(coalesce(x, ''))), '&', ' and '),
                    '\([^)]*\)', ' ', 'g'),
                '[^a-z0-9]+', '-', 'g'),
            '^(the-)+|-(ltd|limited|plc|llp)$', '', 'g'),
        '-'), ''), 'unknown')
);
CREATE OR REPLACE TEMP MACRO _hist_ref(x) AS (
    CASE WHEN regexp_matches(coalesce(x, ''), '[0-9]')
         THEN regexp_replace(upper(x), '[^A-Z0-9.]', '', 'g') END
);
"""
PLACEHOLDERS = ("-", "n/a", "na", "none", "null", "nil")

TEXT_FIELDS = ("organisation", "project", "purpose", "data_shared", "classification",
               "legal_basis", "status", "access_route")
RAW_FIELDS = ("date_approved_raw", "date_released_raw", "number_of_pupils_raw")
BASE_COLUMNS = ("share_id", "release_id", "source_file", "share_key", "section",
                "source_sheet", "source_page", "source_row", "reference", *TEXT_FIELDS,
                "date_approved", "date_released", "number_of_pupils", *RAW_FIELDS)

# (compare expression, display expression) per field; t_<column> is the column's entry in
# the normalised-text dictionary _hist_text.
_FIELD_SQL: dict[str, tuple[str, str]] = {
    **{f: (f"t_{f}.c", f"b.{f}") for f in TEXT_FIELDS},
    "reference": ("k.nref", "b.reference"),
    "section": ("b.section", "b.section"),
    **{
        f: (f"coalesce(strftime(b.{f}, '%Y-%m-%d'), t_{f}_raw.c)",
            f"coalesce(strftime(b.{f}, '%Y-%m-%d'), b.{f}_raw)")
        for f in ("date_approved", "date_released")
    },
    "number_of_pupils": ("coalesce(b.number_of_pupils::VARCHAR, t_number_of_pupils_raw.c)",
                         "coalesce(b.number_of_pupils::VARCHAR, b.number_of_pupils_raw)"),
}
# Whether a row carries the field at all (used to decide if a section has the column).
_PRESENT_SQL: dict[str, str] = {
    **{f: f"{f} IS NOT NULL" for f in COMPARED_FIELDS},
    "date_approved": "date_approved_raw IS NOT NULL",
    "date_released": "date_released_raw IS NOT NULL",
    "number_of_pupils": "number_of_pupils_raw IS NOT NULL",
    "section": "TRUE",
}


def _sql_keys() -> str:
    """Temp table ``_hist_ident``: every share row with its identity (see
    :mod:`extract.share_keys`), plus the normalised-text dictionary the comparison uses."""
    placeholders = ", ".join(f"'{p}'" for p in PLACEHOLDERS)
    texts = ", ".join((*TEXT_FIELDS, *RAW_FIELDS))
    base = ", ".join(f"s.{c}" for c in BASE_COLUMNS)
    # Only constant field names are interpolated; no input reaches the SQL text.
    return f"""
CREATE OR REPLACE TEMP TABLE _hist_rel AS
    SELECT r.release_id, r.release_order, r.period_end,
           row_number() OVER (ORDER BY r.release_order NULLS LAST, r.release_id) AS n
    FROM releases r WHERE EXISTS (SELECT 1 FROM shares s WHERE s.release_id = r.release_id);

CREATE OR REPLACE TEMP TABLE _hist_base AS
    SELECT {base}, rel.n
    FROM shares s JOIN _hist_rel rel USING (release_id);

CREATE OR REPLACE TEMP TABLE _hist_text AS
    SELECT v, CASE WHEN n IN ({placeholders}) THEN NULL ELSE n END AS c
    FROM (SELECT v, _hist_norm(v) AS n
          FROM (SELECT DISTINCT unnest([{texts}]) AS v FROM _hist_base)
          WHERE v IS NOT NULL);

CREATE OR REPLACE TEMP TABLE _hist_names AS
    SELECT v, _hist_slug(v) AS slug
    FROM (SELECT DISTINCT unnest([organisation, project]) AS v FROM _hist_base)
    WHERE v IS NOT NULL;

CREATE OR REPLACE TEMP TABLE _hist_pre AS
    SELECT b.share_id, b.release_id, b.source_file, b.share_key AS old_key, b.section,
           b.source_sheet, b.source_page, b.source_row, b.date_approved,
           _hist_ref(b.reference) AS nref,
           coalesce(o.slug, 'unknown') AS norg, p.slug AS nproj
    FROM _hist_base b
    LEFT JOIN _hist_names o ON o.v = b.organisation
    LEFT JOIN _hist_names p ON p.v = b.project;

CREATE OR REPLACE TEMP TABLE _hist_ident AS
    SELECT share_id, release_id, source_file, nref, norg, base_key, seq, old_key,
           CASE WHEN seq = 1 THEN identity ELSE identity || '#' || seq END AS identity
    FROM (
        SELECT *, row_number() OVER (
            PARTITION BY release_id, identity
            ORDER BY section, coalesce(source_sheet, ''), coalesce(source_page, 0),
                     source_row, share_id) AS seq
        FROM (
            SELECT p.*,
                   CASE WHEN nref IS NULL
                        THEN 'org:' || norg || '|' || coalesce(nproj, '') || '|' ||
                             coalesce(strftime(date_approved, '%Y-%m-%d'), '')
                        ELSE 'ref:' || nref || '|' || norg END AS identity,
                   CASE WHEN nref IS NULL THEN
                            'org:' || left(norg, 40) || ':' || left(md5(
                                norg || '|' || coalesce(nproj, '') || '|' ||
                                coalesce(strftime(date_approved, '%Y-%m-%d'), '')), 10)
                        ELSE nref END AS base_key
            FROM _hist_pre p
        )
    );
"""  # noqa: S608


def _sql_k() -> str:
    """Temp table ``_hist_k`` from the assigned keys in ``_hist_keyed``."""
    joins = "\n".join(f"    LEFT JOIN _hist_text t_{c} ON t_{c}.v = b.{c}"
                      for c in (*TEXT_FIELDS, *RAW_FIELDS))
    cmp_cols = ",\n".join(
        f"           {c} AS c_{f}, ({d})::VARCHAR AS d_{f}" for f, (c, d) in _FIELD_SQL.items()
    )
    return f"""
CREATE OR REPLACE TEMP TABLE _hist_k AS
    SELECT b.share_id, b.release_id, b.n, k.share_key, k.key_basis, b.section,
           b.reference AS reference_text, b.organisation AS organisation_text,
           b.project AS project_text,
{cmp_cols}
    FROM _hist_base b
    JOIN (SELECT kk.share_id, kk.share_key, kk.key_basis, i.nref
          FROM _hist_keyed kk JOIN _hist_ident i USING (share_id)) k USING (share_id)
{joins};
"""  # noqa: S608


def _sql_changes() -> str:
    """Insert added/removed/changed rows for consecutive releases (by ``_hist_rel.n``)."""
    # Only constant field names are interpolated; no input reaches the SQL text.
    structs = ",\n".join(
        f"{{'field': '{f}', 'o': p.d_{f}, 'nv': c.d_{f}, "
        f"'differs': p.c_{f} IS DISTINCT FROM c.c_{f}}}"
        for f in COMPARED_FIELDS
    )
    present_cols = ",\n".join(f"bool_or({cond}) AS {f}" for f, cond in _PRESENT_SQL.items())
    # Most shares are unchanged: only pairs with some difference are unnested into fields.
    differs = "\n       OR ".join(f"p.c_{f} IS DISTINCT FROM c.c_{f}" for f in COMPARED_FIELDS)
    return f"""
CREATE OR REPLACE TEMP TABLE _hist_present AS
    SELECT release_id, section, field FROM (
        UNPIVOT (SELECT release_id, section, {present_cols}
                 FROM shares WHERE release_id IN (SELECT release_id FROM _hist_rel)
                 GROUP BY release_id, section)
        ON COLUMNS(* EXCLUDE (release_id, section)) INTO NAME field VALUE has)
    WHERE has;

-- The sections each release lists: a share is "added" only when the previous release had
-- its section, "removed" only when this release still has it (a section new to a release, or
-- missing from it, says nothing about its shares; views/changes.py names such sections).
CREATE OR REPLACE TEMP TABLE _hist_sections AS
    SELECT DISTINCT release_id, section FROM _hist_base;

INSERT INTO share_changes
    (release_id, previous_release_id, share_key, change, field, old_value, new_value,
     share_id, previous_share_id)
SELECT c.release_id, prev_rel.release_id, c.share_key, 'added', NULL, NULL, NULL,
       c.share_id, NULL
FROM _hist_k c
JOIN _hist_rel prev_rel ON prev_rel.n = c.n - 1
WHERE NOT EXISTS (SELECT 1 FROM _hist_k p WHERE p.n = c.n - 1 AND p.share_key = c.share_key)
  AND EXISTS (SELECT 1 FROM _hist_sections x
              WHERE x.release_id = prev_rel.release_id AND x.section = c.section)
UNION ALL
SELECT next_rel.release_id, p.release_id, p.share_key, 'removed', NULL, NULL, NULL,
       NULL, p.share_id
FROM _hist_k p
JOIN _hist_rel next_rel ON next_rel.n = p.n + 1
WHERE NOT EXISTS (SELECT 1 FROM _hist_k c WHERE c.n = p.n + 1 AND c.share_key = p.share_key)
  AND EXISTS (SELECT 1 FROM _hist_sections x
              WHERE x.release_id = next_rel.release_id AND x.section = p.section)
UNION ALL
SELECT x.release_id, x.previous_release_id, x.share_key, 'changed', x.d.field, x.d.o, x.d.nv,
       x.share_id, x.previous_share_id
FROM (
    SELECT c.release_id, p.release_id AS previous_release_id, c.share_key,
           c.share_id, p.share_id AS previous_share_id,
           p.section AS p_section, c.section AS c_section,
           unnest([{structs}]) AS d
    FROM _hist_k c JOIN _hist_k p ON p.n = c.n - 1 AND p.share_key = c.share_key
    WHERE {differs}
) x
JOIN _hist_present pp ON pp.release_id = x.previous_release_id AND pp.section = x.p_section
                      AND pp.field = x.d.field
JOIN _hist_present cp ON cp.release_id = x.release_id AND cp.section = x.c_section
                      AND cp.field = x.d.field
WHERE x.d.differs;
"""  # noqa: S608


_HISTORY_SQL = """
INSERT INTO share_history
    (share_key, key_basis, reference, organisation, project, section, first_release_id,
     last_release_id, first_period_end, last_period_end, releases_seen, in_latest_release,
     last_share_id, change_count)
SELECT k.share_key,
       arg_max(k.key_basis, k.n),
       arg_max(k.c_reference, k.n),  -- normalised: DS00628, not "DS 00628"
       arg_max(k.organisation_text, k.n),
       arg_max(k.project_text, k.n),
       arg_max(k.section, k.n),
       arg_min(k.release_id, k.n),
       arg_max(k.release_id, k.n),
       min(rel.period_end),
       max(rel.period_end),
       count(DISTINCT k.n),
       max(k.n) = (SELECT max(n) FROM _hist_rel),
       arg_max(k.share_id, k.n),
       0
FROM _hist_k k JOIN _hist_rel rel USING (release_id)
GROUP BY k.share_key;

UPDATE share_history SET change_count = c.n
FROM (SELECT share_key, count(*) AS n FROM share_changes GROUP BY share_key) c
WHERE share_history.share_key = c.share_key;
"""


# Rows whose stored key (or, in a database keyed before share_keys existed, whose current
# key) is theirs alone in their release keep it here in SQL: after the first ingest that is
# nearly every row, so only new rows reach the Python rules of extract/share_keys.py.
_SETTLED_SQL = """
CREATE OR REPLACE TEMP TABLE _hist_settled AS
    SELECT i.share_id, i.release_id, i.source_file, i.identity, i.nref,
           coalesce(k.share_key, i.old_key) AS share_key, k.share_key IS NOT NULL AS stored
    FROM _hist_ident i
    LEFT JOIN share_keys k ON k.release_file = i.source_file AND k.identity = i.identity
    WHERE coalesce(k.share_key, i.old_key) IS NOT NULL
    QUALIFY count(*) OVER (PARTITION BY i.release_id, coalesce(k.share_key, i.old_key)) = 1;

INSERT INTO share_keys (release_file, identity, share_key, key_basis, assigned_at)
SELECT source_file, identity, share_key,
       CASE WHEN nref IS NULL THEN 'organisation+project+date' ELSE 'reference' END,
       ?::TIMESTAMP
FROM _hist_settled WHERE NOT stored;

CREATE OR REPLACE TEMP TABLE _hist_pending AS
    SELECT i.* FROM _hist_ident i ANTI JOIN _hist_settled s USING (share_id);
"""


def _assign_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table ``_hist_keyed`` (share_id -> share_key, key_basis) from the identities in
    ``_hist_ident`` and the assignments kept in ``share_keys`` (:mod:`extract.share_keys`);
    new assignments are stored, existing ones are never renamed."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    settle, remember, pending = (x for x in _SETTLED_SQL.split(";") if x.strip())
    con.execute(settle)
    con.execute(remember, [now])
    con.execute(pending)
    rows = [share_keys.Row(*r) for r in con.execute(
        """SELECT share_id, source_file, identity, nref, norg, base_key, seq, old_key
           FROM _hist_pending ORDER BY share_id""").fetchall()]  # source order: first listed first
    keys: dict[int, str] = {}
    if rows:
        order = [r[0] for r in con.execute(
            """SELECT r.source_file FROM _hist_rel h JOIN releases r USING (release_id)
               ORDER BY h.n""").fetchall()]
        # The stored assignments that can bear on the pending rows: their own, and the
        # first of each (identity, key) with the same identity or the same reference (a ref:
        # identity is "ref:<reference>|..."). A share is listed in release after release:
        # one row per key is enough for the rules, and far fewer to read.
        persisted = [share_keys.Assignment(*r) for r in con.execute(
            """SELECT release_file, identity, share_key, key_basis FROM (
                   SELECT k.*, row_number() OVER (PARTITION BY identity, share_key
                                                  ORDER BY assigned_at, release_file) AS rn,
                          EXISTS (SELECT 1 FROM _hist_pending p WHERE p.identity = k.identity
                                  AND p.source_file = k.release_file) AS own
                   FROM share_keys k
                   WHERE identity IN (SELECT identity FROM _hist_pending)
                      OR (identity LIKE 'ref:%' AND split_part(substr(identity, 5), '|', 1)
                          IN (SELECT nref FROM _hist_pending WHERE nref IS NOT NULL)))
               WHERE rn = 1 OR own
               ORDER BY assigned_at, release_file, identity""").fetchall()]
        taken: dict[str, set[str]] = {}
        for file, key in con.execute(
                """SELECT source_file, share_key FROM _hist_settled
                   WHERE release_id IN (SELECT release_id FROM _hist_pending)""").fetchall():
            taken.setdefault(file, set()).add(key)
        used = [r[0] for r in con.execute(
            "SELECT DISTINCT share_key FROM share_keys").fetchall()]
        keys, new = share_keys.assign(rows, persisted, order, taken, used)
        share_keys.store(con, new, now)
    frame = pd.DataFrame({"share_id": list(keys), "share_key": list(keys.values())},
                         columns=["share_id", "share_key"])
    frame = frame.astype({"share_id": "int64", "share_key": "object"})
    con.register("_hist_keyed_df", frame)
    try:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _hist_keyed AS
            SELECT x.share_id, x.share_key,
                   CASE WHEN i.nref IS NULL THEN 'organisation+project+date'
                        ELSE 'reference' END AS key_basis
            FROM (SELECT share_id, share_key FROM _hist_settled
                  UNION ALL SELECT share_id, share_key FROM _hist_keyed_df) x
            JOIN _hist_ident i USING (share_id)""")
    finally:
        con.unregister("_hist_keyed_df")


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute ``shares.share_key``, ``share_history`` and ``share_changes``.

    History and changes are derived from scratch; keys are not: a key once assigned is kept
    in ``share_keys`` and survives any later ingest, in any order (:mod:`extract.share_keys`).
    Idempotent: a second rebuild changes nothing. Expects ``releases.release_order`` to be
    set (:func:`extract.ingest.order_releases`).
    """
    con.execute(_MACROS)
    con.execute(_sql_keys())
    _assign_keys(con)
    con.execute(_sql_k())
    con.execute("DELETE FROM share_changes")
    con.execute("DELETE FROM share_history")
    con.execute(
        """UPDATE shares SET share_key = k.share_key FROM _hist_k k
           WHERE shares.share_id = k.share_id AND shares.share_key IS DISTINCT FROM k.share_key"""
    )
    con.execute(_sql_changes())
    con.execute(_HISTORY_SQL)
    for t in ("_hist_rel", "_hist_base", "_hist_text", "_hist_names", "_hist_pre",
              "_hist_ident", "_hist_settled", "_hist_pending", "_hist_keyed", "_hist_k",
              "_hist_present", "_hist_sections"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


# --- `python -m extract changes` -------------------------------------------------------------

SHORT_VALUE = 60  # values longer than this are shown as a word diff, not old -> new


@dataclass
class _Pair:
    release_id: int
    file: str
    period: str | None
    previous_id: int
    previous_file: str
    previous_period: str | None


@dataclass(frozen=True)
class SectionPresence:
    """How many register rows one section has in a release and in the one before it."""

    section: str
    before: int
    now: int

    @property
    def status(self) -> str:
        """``compared`` (in both), ``new`` (only in this release) or ``dropped``."""
        if self.before and self.now:
            return "compared"
        return "new" if self.now else "dropped"


def register_releases(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str | None]]:
    """(release_id, file, period label) of the releases that list shares, in publication
    order: the releases the history compares (a file of counts only is not one)."""
    rows = con.execute(
        """SELECT r.release_id, r.source_file, r.period_label FROM releases r
           WHERE EXISTS (SELECT 1 FROM shares s WHERE s.release_id = r.release_id)
           ORDER BY r.release_order NULLS LAST, r.release_id""").fetchall()
    return [(int(a), str(b), c) for a, b, c in rows]


def previous_register(con: duckdb.DuckDBPyConnection, release_id: int) -> int | None:
    """The release ``release_id`` is compared with: the one before it that lists shares."""
    ids = [r[0] for r in register_releases(con)]
    i = ids.index(release_id) if release_id in ids else -1
    return ids[i - 1] if i > 0 else None


def compared_sections(con: duckdb.DuckDBPyConnection, release_id: int,
                      previous_id: int | None) -> list[SectionPresence]:
    """Each section of either release with its row counts, in report order: the sections
    compared, then those new in ``release_id``, then those it no longer has."""
    rows = con.execute(
        """SELECT section, count(*) FILTER (WHERE release_id = ?) AS before,
                  count(*) FILTER (WHERE release_id = ?) AS now
           FROM shares WHERE release_id IN (?, ?) GROUP BY section""",
        [previous_id, release_id, previous_id, release_id]).fetchall()
    found = [SectionPresence(str(sec), int(b), int(n)) for sec, b, n in rows]
    order = {"compared": 0, "new": 1, "dropped": 2}
    names = list(SECTION_NAMES)
    return sorted(found, key=lambda x: (order[x.status], names.index(x.section)
                                        if x.section in names else len(names), x.section))


def rows_phrase(n: int) -> str:
    """"1 register row", "1,204 register rows" (the page says it the same way)."""
    return f"{n:,} register row{'' if n == 1 else 's'}"


def section_notes(sections: list[SectionPresence]) -> list[str]:
    """The sections in words: which were compared, which are new (their shares are not
    counted as added) and which this release no longer has (not counted as removed)."""
    def names(kind: str) -> list[SectionPresence]:
        return [x for x in sections if x.status == kind]

    out = []
    if compared := names("compared"):
        out.append("Sections compared: " + ", ".join(
            SECTION_NAMES.get(x.section, x.section) for x in compared) + ".")
    for x in names("new"):
        out.append(f"New section in this release: {SECTION_NAMES.get(x.section, x.section)} "
                   f"({rows_phrase(x.now)}; not counted as added, the release before had no "
                   "such section).")
    for x in names("dropped"):
        out.append(f"Section not in this release: {SECTION_NAMES.get(x.section, x.section)} "
                   f"({rows_phrase(x.before)} before; not counted as removed).")
    return out


def _word_diff(old: str, new: str, context: int = 4) -> str:
    """Rich markup showing only what changed in a long text, with a few words of context."""
    a, b = old.split(), new.split()
    parts: list[str] = []
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    for i, (tag, a0, a1, b0, b1) in enumerate(ops):
        if tag == "equal":
            words = a[a0:a1]
            first, last = i == 0, i == len(ops) - 1
            if len(words) > 2 * context or (first and len(words) > context) or (
                    last and len(words) > context):
                head = [] if first else words[:context]
                tail = [] if last else words[-context:]
                words = [*head, "…", *tail]
            parts.append(escape(" ".join(words)))
            continue
        if a1 > a0:
            parts.append(f"[red]\\[-{escape(' '.join(a[a0:a1]))}-][/red]")
        if b1 > b0:
            parts.append(f"[green]{{+{escape(' '.join(b[b0:b1]))}+}}[/green]")
    return " ".join(p for p in parts if p)


def word_change(old: str | None, new: str | None) -> str:
    """The words a change took out and put in, as plain text ("− pupil name · + ethnicity"),
    so a reader sees what differs in a long text without comparing it word by word."""
    if not old or not new:
        return "(was blank)" if new else "(now blank)" if old else ""
    a, b = old.split(), new.split()
    parts: list[str] = []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if a1 > a0:
            parts.append("− " + " ".join(a[a0:a1]))
        if b1 > b0:
            parts.append("+ " + " ".join(b[b0:b1]))
    return " · ".join(parts) or "(spacing or case only)"


def _value_change(old: str | None, new: str | None) -> str:
    if old and new and (len(old) > SHORT_VALUE or len(new) > SHORT_VALUE):
        return _word_diff(old, new)
    shown_old = escape(old) if old else "[dim](blank)[/dim]"
    shown_new = escape(new) if new else "[dim](blank)[/dim]"
    return f"[red]{shown_old}[/red] -> [green]{shown_new}[/green]"


def _label(file: str, period: str | None) -> str:
    return f"{file} ({period})" if period else file


def print_changes(con: duckdb.DuckDBPyConnection, console: Console,
                  release: str | None = None) -> int:
    """Print the changes per consecutive pair of releases; returns a CLI exit status."""
    registers = register_releases(con)
    pairs = [_Pair(cur[0], cur[1], cur[2], prev[0], prev[1], prev[2])
             for prev, cur in itertools.pairwise(registers)]
    names = [r[0] for r in con.execute(
        "SELECT source_file FROM releases ORDER BY release_order, release_id").fetchall()]
    if release is not None:
        if release not in names:  # the name and the known ones shown, never obeyed
            print(f"error: {visible(release)}: no such release in the database "
                  f"(known: {', '.join(visible(n) for n in names) or 'none'})",
                  file=sys.stderr)
            return 1
        pairs = [p for p in pairs if p.file == release]
        if not pairs:
            console.print(f"{escape(visible(release))}: no earlier release to compare it with "
                          "(or it holds no shares)")
            return 0
    if not pairs:
        console.print("No changes: fewer than two releases of shares in the database.")
        return 0
    for pair in pairs:
        _print_pair(con, console, pair)
    return 0


def _what(ref: str | None, org: str | None, project: str | None, approved: object) -> str:
    """How a share is named in the listing: reference, organisation, a hint of the project."""
    hint = project or ""
    if len(hint) > 50:
        hint = hint[:49].rstrip() + "…"
    if not ref and approved:
        hint = f"{hint}, approved {approved}" if hint else f"approved {approved}"
    text = f"{escape(ref or '(no reference)')}  {escape(org or '(no organisation)')}"
    return f"{text}  [dim]{escape(hint)}[/dim]" if hint else text


def _print_pair(con: duckdb.DuckDBPyConnection, console: Console, pair: _Pair) -> None:
    counts = dict(con.execute(
        """SELECT change, count(DISTINCT share_key) FROM share_changes WHERE release_id = ?
           GROUP BY change""", [pair.release_id]).fetchall())
    console.print()
    console.print(f"[bold]{escape(_label(pair.previous_file, pair.previous_period))} → "
                  f"{escape(_label(pair.file, pair.period))}[/bold]")
    for line in section_notes(compared_sections(con, pair.release_id, pair.previous_id)):
        console.print(f"[dim]{escape(line)}[/dim]")
    console.print(f"[green]{counts.get('added', 0)} added[/green], "
                  f"[red]{counts.get('removed', 0)} removed[/red], "
                  f"[yellow]{counts.get('changed', 0)} changed[/yellow]")
    changes = con.execute(
        """SELECT v.change, v.reference, v.organisation,
                  coalesce(s.project, s.purpose), s.date_approved,
                  v.field, v.old_value, v.new_value, v.share_key
           FROM v_changes v
           LEFT JOIN shares s ON s.share_id = coalesce(v.share_id, v.previous_share_id)
           WHERE v.release_id = ?
           ORDER BY CASE v.change WHEN 'added' THEN 1 WHEN 'removed' THEN 2 ELSE 3 END,
                    v.organisation NULLS LAST, v.share_key, v.field_order""",
        [pair.release_id]).fetchall()
    marks = {"added": "[green]+[/green]", "removed": "[red]-[/red]",
             "changed": "[yellow]~[/yellow]"}
    last_key = None
    for change, ref, org, project, approved, field, old, new, key in changes:
        who = _what(ref, org, project, approved)
        if change != "changed":
            console.print(f"  {marks[change]} {change:<7} {who}")
            continue
        if key != last_key:
            console.print(f"  {marks[change]} changed {who}")
            last_key = key
        if field == "section":
            old, new = SECTION_NAMES.get(old, old), SECTION_NAMES.get(new, new)
        console.print(f"      {FIELD_LABELS.get(field, field)}: {_value_change(old, new)}")


def cli_changes(args: argparse.Namespace) -> int:
    """``python -m extract changes [--db FILE] [--release FILE_NAME]``."""
    from extract.db import connect_readonly, db_path

    try:
        con = connect_readonly(getattr(args, "db", None))
    except FileNotFoundError as exc:
        print(f"error: {visible(exc)}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {visible(db_path(getattr(args, 'db', None)))}: cannot open the "
              f"database ({visible(first)})", file=sys.stderr)
        return 1
    try:
        known = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
        ).fetchall()}
        if not {"share_changes", "releases", "v_changes"} <= known:
            print("error: the database has no release history; ingest releases first "
                  "(`python -m extract FOLDER --db FILE`)", file=sys.stderr)
            return 1
        # soft_wrap: long lines are wrapped by the terminal, not cut into pieces, so the
        # output stays greppable when piped.
        from extract.printable import visible_console  # cells are shown, never obeyed

        console = visible_console(highlight=False, soft_wrap=True)
        return print_changes(con, console, getattr(args, "release", None))  # type: ignore[arg-type]
    finally:
        con.close()
