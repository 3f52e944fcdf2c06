"""Recompute every analysis table over the whole database: ``rebuild(con)``.

Called by :func:`extract.ingest.derive` on the private copy of the database after every
change. It replaces ``organisations``, ``organisation_names``, ``share_flags`` and
``share_flag_notes`` and fills ``shares.organisation_id / sector / identifying /
pupil_level``. Views over these are part of the schema (``extract/schema.py``).

Fast because the register is repetitive: releases are cumulative, so the same recipient name
and the same text recur in many rows. Names are resolved once per distinct spelling and
flags computed once per distinct combination of text fields; results are joined back to the
rows in DuckDB, never with per-row SQL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis import classify, flags
from analysis.classify import classify_recipient
from analysis.flags import assess_share
from analysis.names import normalise_name
from analysis.organisations import resolve
from analysis.reference import clear_caches

log = logging.getLogger(__name__)

FLAG_INPUTS = ("data_shared", "classification", "purpose", "project", "access_route",
               "legal_basis", "section")


def _frame(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> None:
    """Replace a table's rows with ``df`` (column names as in the table)."""
    con.execute(f"DELETE FROM {table}")  # noqa: S608 - table names are constants here
    if df.empty:
        return
    con.register("_analysis_rows", df)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _analysis_rows")  # noqa: S608
    finally:
        con.unregister("_analysis_rows")


def _none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


@dataclass
class OrganisationTables:
    organisations: pd.DataFrame
    names: pd.DataFrame  # organisation_names rows


def organisation_tables(name_counts: dict[str, int]) -> OrganisationTables:
    """Resolve and classify every distinct spelling (see :mod:`analysis.organisations`)."""
    orgs, matches = resolve(name_counts)
    id_of = {o.key: o.organisation_id for o in orgs}
    cls = [o.classification or classify_recipient(o.name) for o in orgs]
    return OrganisationTables(
        pd.DataFrame({
            "organisation_id": [o.organisation_id for o in orgs],
            "name": [o.name for o in orgs],
            "normalised_name": [normalise_name(o.name) for o in orgs],
            "sector": [c.sector for c in cls],
            "sector_reason": [c.reason for c in cls],
            "sector_confidence": [c.confidence for c in cls],
            "is_collective": [o.is_collective for o in orgs],
            "variant_count": [len(o.members) for o in orgs],
        }),
        pd.DataFrame({
            "raw_name": [m.raw_name for m in matches],
            "organisation_id": [id_of[m.org_key] for m in matches],
            "match_method": [m.method for m in matches],
            "match_score": [m.score for m in matches],
            "commissioned_by": [m.commissioned_by for m in matches],
        }),
    )


@dataclass
class FlagTables:
    group: pd.Series  # per share row: the id of its distinct combination of text fields
    flags: pd.DataFrame  # g, flag, value, evidence
    notes: pd.DataFrame  # g, flag, value, evidence
    identifying: dict[int, bool]
    pupil_level: dict[int, bool]


def flag_tables(shares: pd.DataFrame) -> FlagTables:
    """Assess each distinct combination of the text fields once."""
    group = shares.groupby(list(FLAG_INPUTS), dropna=False, sort=False).ngroup()
    firsts = shares.assign(_g=group).drop_duplicates("_g")
    flags: list[tuple[int, str, str, str]] = []
    notes: list[tuple[int, str, str, str]] = []
    ident: dict[int, bool] = {}
    pupil: dict[int, bool] = {}
    for rec in firsts[["_g", *FLAG_INPUTS]].itertuples(index=False):
        g = int(rec[0])
        result = assess_share(**{k: _none(v) for k, v in zip(FLAG_INPUTS, rec[1:], strict=True)})
        flags.extend((g, f.flag, f.value, f.evidence) for f in result.flags)
        notes.extend((g, f.flag, f.value, f.evidence) for f in result.notes)
        ident[g], pupil[g] = result.identifying, result.pupil_level
    columns = ["g", "flag", "value", "evidence"]
    return FlagTables(group, pd.DataFrame(flags, columns=columns),
                      pd.DataFrame(notes, columns=columns), ident, pupil)


def read_shares(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    cols = ", ".join(("share_id", "organisation", *FLAG_INPUTS))
    shares = con.execute(f"SELECT {cols} FROM shares").df()  # noqa: S608 - constant columns
    return shares.astype(object).where(shares.notna(), None)


def prepare() -> None:
    """Read the reference files as they are now and build the classifier's and the flags'
    indexes (about a second), so that ``rebuild(con, prepared=True)`` finds them ready.
    Independent of the database: ingest runs it while the reader works in its child."""
    clear_caches()
    classify.build_indexes()
    flags.build_indexes()


def rebuild(con: duckdb.DuckDBPyConnection, prepared: bool = False) -> None:
    """Recompute organisations, sectors and flags for every share in the database.
    ``prepared``: :func:`prepare` has just run, so the reference data is fresh."""
    if not prepared:
        clear_caches()  # always apply the reference files as they are now
    shares = read_shares(con)
    names = shares["organisation"].map(lambda v: v if isinstance(v, str) else "")
    orgs = organisation_tables(names.value_counts().to_dict())
    flags = flag_tables(shares)

    org_id_of = dict(zip(orgs.names["raw_name"], orgs.names["organisation_id"], strict=True))
    sector_of = dict(zip(orgs.organisations["organisation_id"], orgs.organisations["sector"],
                         strict=True))
    updates = pd.DataFrame({
        "share_id": shares["share_id"].astype("int64"),
        "organisation_id": names.map(org_id_of).astype("int64"),
        "g": flags.group.astype("int64"),
    })
    updates["sector"] = updates["organisation_id"].map(sector_of)
    updates["identifying"] = updates["g"].map(flags.identifying).astype(bool)
    updates["pupil_level"] = updates["g"].map(flags.pupil_level).astype(bool)

    _frame(con, "organisations", orgs.organisations)
    _frame(con, "organisation_names", orgs.names)
    con.register("_analysis_updates", updates)
    try:
        con.execute(
            """UPDATE shares SET organisation_id = u.organisation_id, sector = u.sector,
                   identifying = u.identifying, pupil_level = u.pupil_level
               FROM _analysis_updates u WHERE shares.share_id = u.share_id"""
        )
        # Flags were computed per distinct text (g); DuckDB fans them out to the shares.
        for table, per_group in (("share_flags", flags.flags),
                                 ("share_flag_notes", flags.notes)):
            con.execute(f"DELETE FROM {table}")  # noqa: S608 - constant table names
            con.register("_analysis_per_group", per_group)
            try:
                con.execute(
                    f"""INSERT INTO {table} (share_id, flag, value, evidence)
                        SELECT u.share_id, f.flag, f.value, f.evidence
                        FROM _analysis_updates u JOIN _analysis_per_group f ON f.g = u.g"""  # noqa: S608
                )
            finally:
                con.unregister("_analysis_per_group")
    finally:
        con.unregister("_analysis_updates")
    raised = con.execute("SELECT count(*) FROM share_flags").fetchone()
    log.info("analysis: %d shares, %d organisations from %d spellings, %d flags raised",
             len(shares), len(orgs.organisations), len(orgs.names), raised[0] if raised else 0)
