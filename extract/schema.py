"""The one definition of the DuckDB schema. ``docs/schema.md`` documents it for researchers.

Every statement is idempotent (``IF NOT EXISTS`` / ``OR REPLACE``) so :func:`create` can run
on a new or an existing database. Each table and column carries a ``COMMENT`` so the schema
is self-describing from ``duckdb_tables()`` / ``duckdb_columns()``.

Bump :data:`SCHEMA_VERSION` when a change is not backwards compatible; the database refuses
to open with a clear message rather than silently mixing layouts.
"""

from __future__ import annotations

import duckdb

SCHEMA_VERSION = 1

# --- provenance and raw extraction (extract/) -------------------------------------------------
CORE_DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE IF NOT EXISTS releases (
    release_id        INTEGER PRIMARY KEY,
    source_file       VARCHAR NOT NULL UNIQUE,
    source_path       VARCHAR,
    sha256            VARCHAR NOT NULL,
    format            VARCHAR NOT NULL,
    title             VARCHAR,
    period_label      VARCHAR,
    period_end        DATE,
    release_order     INTEGER,
    page_count        INTEGER,
    row_count         INTEGER NOT NULL DEFAULT 0,
    is_sample         BOOLEAN NOT NULL DEFAULT FALSE,
    ingested_at       TIMESTAMP NOT NULL,
    extractor_version VARCHAR NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS share_id_seq START 1;

CREATE TABLE IF NOT EXISTS shares (
    share_id            BIGINT PRIMARY KEY DEFAULT nextval('share_id_seq'),
    release_id          INTEGER NOT NULL,
    source_file         VARCHAR NOT NULL,
    section             VARCHAR NOT NULL,
    section_title       VARCHAR,
    source_page         INTEGER,
    source_sheet        VARCHAR,
    source_row          INTEGER NOT NULL,
    reference           VARCHAR,
    organisation        VARCHAR,
    project             VARCHAR,
    purpose             VARCHAR,
    data_shared         VARCHAR,
    classification      VARCHAR,
    legal_basis         VARCHAR,
    date_approved       DATE,
    date_approved_raw   VARCHAR,
    date_released       DATE,
    date_released_raw   VARCHAR,
    status              VARCHAR,
    access_route        VARCHAR,
    number_of_pupils    BIGINT,
    number_of_pupils_raw VARCHAR,
    raw_cells           JSON NOT NULL,
    extra_cells         JSON,
    share_key           VARCHAR,
    organisation_id     INTEGER,
    sector              VARCHAR,
    identifying         BOOLEAN,
    pupil_level         BOOLEAN
);

CREATE TABLE IF NOT EXISTS count_rows (
    release_id     INTEGER NOT NULL,
    source_file    VARCHAR NOT NULL,
    section        VARCHAR NOT NULL,
    section_title  VARCHAR,
    source_page    INTEGER,
    source_sheet   VARCHAR,
    source_row     INTEGER NOT NULL,
    period_label   VARCHAR,
    period_start   DATE,
    measure        VARCHAR NOT NULL,
    value          BIGINT,
    value_raw      VARCHAR,
    raw_cells      JSON NOT NULL
);

CREATE TABLE IF NOT EXISTS legend_rows (
    release_id   INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    source_page  INTEGER,
    source_sheet VARCHAR,
    source_row   INTEGER NOT NULL,
    cells        JSON NOT NULL
);

CREATE TABLE IF NOT EXISTS unmapped_columns (
    release_id   INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    section      VARCHAR NOT NULL,
    column_index INTEGER NOT NULL,
    header       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ingest_warnings (
    release_id  INTEGER NOT NULL,
    source_file VARCHAR NOT NULL,
    message     VARCHAR NOT NULL
);
"""

# --- history across releases (extract/history.py) --------------------------------------------
HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS share_history (
    share_key          VARCHAR PRIMARY KEY,
    key_basis          VARCHAR NOT NULL,
    reference          VARCHAR,
    organisation       VARCHAR,
    project            VARCHAR,
    section            VARCHAR,
    first_release_id   INTEGER NOT NULL,
    last_release_id    INTEGER NOT NULL,
    first_period_end   DATE,
    last_period_end    DATE,
    releases_seen      INTEGER NOT NULL,
    in_latest_release  BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS share_changes (
    release_id          INTEGER NOT NULL,
    previous_release_id INTEGER,
    share_key           VARCHAR NOT NULL,
    change              VARCHAR NOT NULL CHECK (change IN ('added', 'removed', 'changed')),
    field               VARCHAR,
    old_value           VARCHAR,
    new_value           VARCHAR,
    share_id            BIGINT,
    previous_share_id   BIGINT
);
"""

# --- analysis (analysis/) ---------------------------------------------------------------------
ANALYSIS_DDL = """
CREATE TABLE IF NOT EXISTS organisations (
    organisation_id   INTEGER PRIMARY KEY,
    name              VARCHAR NOT NULL,
    normalised_name   VARCHAR NOT NULL,
    sector            VARCHAR NOT NULL,
    sector_reason     VARCHAR NOT NULL,
    sector_confidence DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS organisation_names (
    raw_name        VARCHAR PRIMARY KEY,
    organisation_id INTEGER NOT NULL,
    match_method    VARCHAR NOT NULL,
    match_score     DOUBLE
);

CREATE TABLE IF NOT EXISTS share_flags (
    share_id BIGINT NOT NULL,
    flag     VARCHAR NOT NULL,
    value    VARCHAR NOT NULL,
    evidence VARCHAR NOT NULL
);
"""

COMMENTS: dict[str, str] = {
    "releases": "One row per ingested file (a release of the register).",
    "shares": "One row per register row of a share section, with provenance and canonical fields.",
    "count_rows": "Count tables (Home Office monthly counts): one row per source row and measure.",
    "legend_rows": "Rows of the legend tab 'classification of data' (not shares).",
    "unmapped_columns": "Columns whose header mapped to no canonical field (kept in extra_cells).",
    "ingest_warnings": "Non-fatal problems found while reading a file.",
    "share_history": "Each share identified across releases: when it first and last appeared.",
    "share_changes": "Shares added, removed and changed between consecutive releases.",
    "organisations": "Resolved recipient organisations with sector and the evidence for it.",
    "organisation_names": "Every organisation name as written, mapped to its organisation.",
    "share_flags": "Flags raised on a share, each with the words that triggered it.",
}


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table (idempotent) and refuse a database written by another schema."""
    con.execute(CORE_DDL)
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    elif row[0] != str(SCHEMA_VERSION):
        raise RuntimeError(
            f"database has schema version {row[0]}, this tool writes {SCHEMA_VERSION}; "
            "re-create it from the source files into a new --db file"
        )
    con.execute(HISTORY_DDL)
    con.execute(ANALYSIS_DDL)
    for table, text in COMMENTS.items():
        # COMMENT ON does not accept parameters; the texts are constants above.
        quoted = text.replace("'", "''")
        con.execute(f"COMMENT ON TABLE {table} IS '{quoted}'")
