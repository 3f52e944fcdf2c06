"""The one definition of the DuckDB schema. ``docs/schema.md`` documents it for researchers.

Every statement is idempotent (``IF NOT EXISTS`` / ``OR REPLACE``) so :func:`create` can run
on a new or an existing database. Each table and column carries a ``COMMENT`` so the schema
is self-describing from ``duckdb_tables()`` / ``duckdb_columns()``.

Bump :data:`SCHEMA_VERSION` when a change is not backwards compatible; the database refuses
to open with a clear message rather than silently mixing layouts.
"""

from __future__ import annotations

import contextlib

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
-- Where each warning points and what kind of self-check raised it (extract/reports.py).
ALTER TABLE ingest_warnings ADD COLUMN IF NOT EXISTS kind VARCHAR;
ALTER TABLE ingest_warnings ADD COLUMN IF NOT EXISTS section VARCHAR;
ALTER TABLE ingest_warnings ADD COLUMN IF NOT EXISTS table_index INTEGER;
ALTER TABLE ingest_warnings ADD COLUMN IF NOT EXISTS source_page INTEGER;
ALTER TABLE ingest_warnings ADD COLUMN IF NOT EXISTS source_sheet VARCHAR;
ALTER TABLE ingest_warnings ADD COLUMN IF NOT EXISTS source_row INTEGER;

-- One extraction report per table of every release (extract/reports.py).
CREATE TABLE IF NOT EXISTS table_reports (
    release_id       INTEGER NOT NULL,
    source_file      VARCHAR NOT NULL,
    table_index      INTEGER NOT NULL,
    section          VARCHAR NOT NULL,
    title            VARCHAR,
    first_page       INTEGER,
    last_page        INTEGER,
    sheet            VARCHAR,
    first_row        INTEGER,
    last_row         INTEGER,
    header_printed   JSON NOT NULL,
    header_fields    JSON NOT NULL,
    row_count        INTEGER NOT NULL,
    rows_per_page    JSON NOT NULL,
    empty_cell_share DOUBLE NOT NULL,
    warning_count    INTEGER NOT NULL,
    confidence       DOUBLE NOT NULL
);

-- Provenance of the file (analysis/figures, exports, page footers read it from here).
ALTER TABLE releases ADD COLUMN IF NOT EXISTS source_url VARCHAR;
ALTER TABLE releases ADD COLUMN IF NOT EXISTS retrieved_at VARCHAR;
ALTER TABLE releases ADD COLUMN IF NOT EXISTS licence VARCHAR;
-- Which rule placed the release in release_order (undated releases come first).
ALTER TABLE releases ADD COLUMN IF NOT EXISTS order_basis VARCHAR;
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
    in_latest_release  BOOLEAN NOT NULL,
    last_share_id      BIGINT,
    change_count       INTEGER NOT NULL DEFAULT 0
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

CREATE TABLE IF NOT EXISTS share_keys (
    release_file VARCHAR NOT NULL,
    identity     VARCHAR NOT NULL,
    share_key    VARCHAR NOT NULL,
    key_basis    VARCHAR NOT NULL,
    assigned_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (release_file, identity)
);

-- Databases written before these two columns existed gain them (no-op otherwise).
ALTER TABLE share_history ADD COLUMN IF NOT EXISTS last_share_id BIGINT;
ALTER TABLE share_history ADD COLUMN IF NOT EXISTS change_count INTEGER DEFAULT 0;

CREATE OR REPLACE VIEW v_changes AS
SELECT r.release_order, c.release_id, r.source_file, r.period_label,
       c.previous_release_id, p.source_file AS previous_source_file,
       p.period_label AS previous_period_label,
       c.change, c.share_key,
       coalesce(s.reference, ps.reference) AS reference,
       coalesce(s.organisation, ps.organisation) AS organisation,
       coalesce(s.section, ps.section) AS section,
       c.field, c.old_value, c.new_value,
       list_position(['reference', 'organisation', 'project', 'purpose', 'data_shared',
                      'classification', 'legal_basis', 'date_approved', 'date_released',
                      'status', 'access_route', 'number_of_pupils', 'section'],
                     c.field) AS field_order,
       c.share_id, c.previous_share_id,
       s.source_page, s.source_sheet, s.source_row
FROM share_changes c
JOIN releases r ON r.release_id = c.release_id
LEFT JOIN releases p ON p.release_id = c.previous_release_id
LEFT JOIN shares s ON s.share_id = c.share_id
LEFT JOIN shares ps ON ps.share_id = c.previous_share_id;

COMMENT ON COLUMN share_history.share_key IS
    'Identifies a share across releases: its normalised reference (qualified /organisation '
    'when one reference covers several rows of a release), else org:<organisation>:<hash of'
    ' organisation, project, date approved>.';
COMMENT ON COLUMN share_history.key_basis IS
    'reference or organisation+project+date: what the key was built from.';
COMMENT ON COLUMN share_history.in_latest_release IS
    'Listed in the latest release that holds shares.';
COMMENT ON COLUMN share_history.releases_seen IS
    'Number of releases listing the share (gaps possible: compare with first/last).';
COMMENT ON COLUMN share_history.change_count IS
    'Rows of share_changes for this share (added, removed, one per changed field).';
COMMENT ON COLUMN share_changes.field IS
    'For change = changed: the canonical field whose normalised value differs.';
COMMENT ON COLUMN share_changes.old_value IS
    'The field as written in the previous release (dates as ISO when they parse).';
COMMENT ON COLUMN share_keys.release_file IS
    'File name of the release (releases.source_file) the key was assigned in.';
COMMENT ON COLUMN share_keys.identity IS
    'What the row says, normalised: ref:<reference>|<organisation slug>, or without a '
    'reference org:<organisation slug>|<project slug>|<date approved>; #n for a true duplicate.';
COMMENT ON COLUMN share_keys.share_key IS
    'The key given to that row; never renamed by a later ingest (shares.share_key).';
COMMENT ON COLUMN share_keys.key_basis IS
    'reference or organisation+project+date, as share_history.key_basis.';
COMMENT ON COLUMN share_keys.assigned_at IS
    'When the key was first assigned to this row (UTC).';
COMMENT ON VIEW v_changes IS
    'share_changes with release file names, periods, reference, organisation and provenance'
    ' of the newer row.';
"""

# --- analysis (analysis/) ---------------------------------------------------------------------
ANALYSIS_DDL = """
CREATE TABLE IF NOT EXISTS organisations (
    organisation_id   INTEGER PRIMARY KEY,
    name              VARCHAR NOT NULL,
    normalised_name   VARCHAR NOT NULL,
    sector            VARCHAR NOT NULL,
    sector_reason     VARCHAR NOT NULL,
    sector_confidence DOUBLE NOT NULL,
    is_collective     BOOLEAN NOT NULL DEFAULT FALSE,
    variant_count     INTEGER
);

CREATE TABLE IF NOT EXISTS organisation_names (
    raw_name        VARCHAR PRIMARY KEY,
    organisation_id INTEGER NOT NULL,
    match_method    VARCHAR NOT NULL,
    match_score     DOUBLE,
    commissioned_by VARCHAR
);

CREATE TABLE IF NOT EXISTS share_flags (
    share_id BIGINT NOT NULL,
    flag     VARCHAR NOT NULL,
    value    VARCHAR NOT NULL,
    evidence VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS share_flag_notes (
    share_id BIGINT NOT NULL,
    flag     VARCHAR NOT NULL,
    value    VARCHAR NOT NULL,
    evidence VARCHAR NOT NULL
);

-- Columns added after the first schema: present in older files too.
ALTER TABLE organisations ADD COLUMN IF NOT EXISTS is_collective BOOLEAN DEFAULT FALSE;
ALTER TABLE organisations ADD COLUMN IF NOT EXISTS variant_count INTEGER;
ALTER TABLE organisation_names ADD COLUMN IF NOT EXISTS commissioned_by VARCHAR;

COMMENT ON COLUMN organisations.sector IS
    'commercial, press, academic, charity, government, local_authority, police or unknown.';
COMMENT ON COLUMN organisations.sector_reason IS
    'What decided the sector: an override, a curated list entry, an alias or a keyword rule.';
COMMENT ON COLUMN organisations.sector_confidence IS
    'Rough 0-1 confidence: 1 override, 0.97 list, 0.95 alias, rules 0.5-0.95, 0 unknown.';
COMMENT ON COLUMN organisations.is_collective IS
    'A plural or unnamed recipient such as "Local Authorities".';
COMMENT ON COLUMN organisation_names.match_method IS
    'How the name was matched: list, alias, fuzzy_list, collective, exact, normalised, fuzzy,'
    ' not_stated.';
COMMENT ON COLUMN organisation_names.commissioned_by IS
    'The commissioning body of "<recipient> commissioned by <body>" names.';
COMMENT ON COLUMN share_flags.flag IS
    'identifying, pupil_level, sensitive_category, high_reidentification_risk or leaves_dfe.';
COMMENT ON COLUMN share_flags.value IS
    'true, or for sensitive_category the category: sen, fsm_disadvantage, cin_cla, exclusions,'
    ' absence, ap_reasons, ethnicity, language.';
COMMENT ON COLUMN share_flags.evidence IS
    'The field and the words in the row that raised the flag.';
COMMENT ON COLUMN shares.identifying IS
    'Identifies a child: DfE identifiability 1-2 items, old Tier 1/2/4, or personal level data.';
COMMENT ON COLUMN shares.pupil_level IS
    'Individual (pupil/record) level rather than aggregated data.';
"""

# Views for researchers and campaigners, documented in docs/analysis.md. A "share" counted
# across releases is its share_key (extract/history.py), else the row itself.
ANALYSIS_VIEWS = """
CREATE OR REPLACE VIEW v_share_details AS
WITH f AS (
    SELECT share_id,
           list(value ORDER BY value) FILTER (WHERE flag = 'sensitive_category')
               AS sensitive_categories,
           bool_or(flag = 'high_reidentification_risk') AS high_reidentification_risk,
           bool_or(flag = 'leaves_dfe') AS leaves_dfe
    FROM share_flags GROUP BY share_id
)
SELECT s.share_id, s.release_id, r.source_file AS release_file, r.title AS release_title,
       r.period_label, r.period_end, year(r.period_end) AS release_year, r.release_order,
       r.is_sample, s.section, s.section_title, s.source_page, s.source_sheet, s.source_row,
       s.reference, coalesce(s.share_key, 'row:' || s.share_id) AS share_uid,
       s.organisation AS organisation_as_written, s.organisation_id,
       coalesce(o.name, s.organisation) AS organisation,
       coalesce(o.sector, s.sector, 'unknown') AS sector, o.sector_reason, o.sector_confidence,
       s.project, s.purpose, s.data_shared, s.classification, s.legal_basis, s.access_route,
       s.status, s.date_approved, s.date_released, s.number_of_pupils,
       coalesce(s.identifying, false) AS identifying,
       coalesce(s.pupil_level, false) AS pupil_level,
       coalesce(s.identifying AND s.pupil_level, false) AS identifying_pupil_level,
       coalesce(f.sensitive_categories, []) AS sensitive_categories,
       coalesce(f.high_reidentification_risk, false) AS high_reidentification_risk,
       coalesce(f.leaves_dfe, false) AS leaves_dfe
FROM shares s
JOIN releases r ON r.release_id = s.release_id
LEFT JOIN organisations o ON o.organisation_id = s.organisation_id
LEFT JOIN f ON f.share_id = s.share_id;

CREATE OR REPLACE VIEW v_shares_by_sector AS
SELECT release_id, release_file, period_label, period_end, release_year, release_order,
       sector,
       count(*) AS shares,
       count(*) FILTER (WHERE identifying_pupil_level) AS identifying_pupil_level_shares,
       count(*) FILTER (WHERE pupil_level) AS pupil_level_shares,
       count(*) FILTER (WHERE leaves_dfe) AS leaves_dfe_shares,
       round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY release_id), 1)
           AS pct_of_release
FROM v_share_details
GROUP BY release_id, release_file, period_label, period_end, release_year, release_order,
         sector
ORDER BY release_order, shares DESC, sector;

CREATE OR REPLACE VIEW v_shares_by_sector_year AS
SELECT year(date_approved) AS year_approved, sector,
       count(DISTINCT share_uid) AS shares,
       count(DISTINCT share_uid) FILTER (WHERE identifying_pupil_level)
           AS identifying_pupil_level_shares
FROM v_share_details
WHERE date_approved IS NOT NULL
GROUP BY ALL
ORDER BY year_approved, shares DESC, sector;

CREATE OR REPLACE VIEW v_commercial_reuse_rows AS
SELECT d.release_id, d.release_file, d.period_label, d.period_end, d.release_order,
       d.organisation_id, d.organisation, d.organisation_as_written, d.reference, d.section,
       d.source_page, d.source_sheet, d.source_row, d.project, d.data_shared,
       d.classification, d.access_route, d.leaves_dfe, d.sector_reason,
       (SELECT string_agg(evidence, ' | ') FROM share_flags sf
         WHERE sf.share_id = d.share_id AND sf.flag = 'identifying') AS identifying_evidence,
       d.share_id, d.share_uid
FROM v_share_details d
WHERE d.sector = 'commercial' AND d.identifying_pupil_level
ORDER BY d.release_order, d.organisation, d.reference, d.source_page, d.source_row;

CREATE OR REPLACE VIEW v_commercial_reuse AS
SELECT release_id, release_file, period_label, period_end, release_order, organisation_id,
       organisation,
       count(*) AS shares,
       count(DISTINCT reference) AS distinct_references,
       count(*) FILTER (WHERE leaves_dfe) AS leaves_dfe_shares,
       string_agg(DISTINCT reference, ', ' ORDER BY reference) AS reference_list
FROM v_commercial_reuse_rows
GROUP BY ALL
ORDER BY release_order, shares DESC, organisation;

CREATE OR REPLACE VIEW v_press_shares AS
SELECT release_id, release_file, period_label, period_end, release_order, organisation_id,
       organisation, organisation_as_written, reference, section, source_page, source_sheet,
       source_row, project, purpose, data_shared, classification, date_approved, status,
       identifying, pupil_level, sensitive_categories, leaves_dfe, sector_reason, share_id,
       share_uid
FROM v_share_details
WHERE sector = 'press'
ORDER BY release_order, organisation, reference, source_page, source_row;

CREATE OR REPLACE VIEW v_top_recipients AS
WITH d AS (
    SELECT *, release_order = (SELECT max(release_order) FROM releases) AS in_latest
    FROM v_share_details
)
SELECT d.organisation_id, d.organisation, d.sector, d.sector_reason, d.sector_confidence,
       count(DISTINCT d.share_uid) AS shares,
       count(DISTINCT d.share_uid) FILTER (WHERE d.identifying_pupil_level)
           AS identifying_pupil_level_shares,
       count(DISTINCT d.share_uid) FILTER (WHERE len(d.sensitive_categories) > 0)
           AS sensitive_shares,
       count(DISTINCT d.share_uid) FILTER (WHERE d.leaves_dfe) AS leaves_dfe_shares,
       count(DISTINCT d.share_uid) FILTER (WHERE d.in_latest) AS shares_in_latest_release,
       count(DISTINCT d.release_id) AS releases,
       min(d.period_end) AS first_period_end, max(d.period_end) AS last_period_end,
       count(*) AS register_rows
FROM d
GROUP BY ALL
ORDER BY shares DESC, identifying_pupil_level_shares DESC, d.organisation;

CREATE OR REPLACE VIEW v_identifying_over_time AS
SELECT release_id, release_file, period_label, period_end, release_year, release_order,
       count(*) AS shares,
       count(*) FILTER (WHERE identifying_pupil_level) AS identifying_pupil_level_shares,
       count(*) FILTER (WHERE pupil_level) AS pupil_level_shares,
       count(*) FILTER (WHERE identifying_pupil_level AND sector = 'commercial')
           AS commercial_identifying_shares,
       count(*) FILTER (WHERE identifying_pupil_level AND sector = 'press')
           AS press_identifying_shares,
       count(*) FILTER (WHERE identifying_pupil_level AND leaves_dfe)
           AS identifying_leaving_dfe_shares,
       round(100.0 * count(*) FILTER (WHERE identifying_pupil_level) / count(*), 1)
           AS pct_identifying
FROM v_share_details
GROUP BY ALL
ORDER BY release_order;

CREATE OR REPLACE VIEW v_sensitive_categories AS
SELECT d.release_id, d.release_file, d.period_end, d.release_order, f.value AS category,
       d.sector, count(*) AS shares
FROM share_flags f JOIN v_share_details d ON d.share_id = f.share_id
WHERE f.flag = 'sensitive_category'
GROUP BY ALL
ORDER BY d.release_order, shares DESC, category;

COMMENT ON VIEW v_share_details IS
    'Every share with its release, organisation, sector and flags (one row per register row).';
COMMENT ON VIEW v_shares_by_sector IS
    'Register rows per release and recipient sector, with identifying and pupil-level counts.';
COMMENT ON VIEW v_shares_by_sector_year IS
    'Distinct shares per year approved and sector.';
COMMENT ON VIEW v_commercial_reuse IS
    'Commercial recipients of identifying pupil-level data, per release, with counts.';
COMMENT ON VIEW v_commercial_reuse_rows IS
    'The register rows behind each v_commercial_reuse count, with page/sheet and row.';
COMMENT ON VIEW v_press_shares IS
    'Every register row whose recipient is a newspaper, publisher or broadcaster.';
COMMENT ON VIEW v_top_recipients IS
    'Organisations ranked by distinct shares across all releases.';
COMMENT ON VIEW v_identifying_over_time IS
    'Per release: shares, identifying pupil-level shares and their percentage.';
COMMENT ON VIEW v_sensitive_categories IS
    'Per release, sensitive category and sector: register rows flagged.';
"""

COMMENTS: dict[str, str] = {
    "meta": "Settings of this database file, e.g. schema_version.",
    "releases": "One row per ingested file (a release of the register).",
    "shares": "One row per register row of a share section, with provenance and canonical fields.",
    "count_rows": "Count tables (Home Office monthly counts): one row per source row and measure.",
    "legend_rows": "Rows of the legend tab 'classification of data' (not shares).",
    "unmapped_columns": "Columns whose header mapped to no canonical field (kept in extra_cells).",
    "ingest_warnings": "Non-fatal problems found while reading a file.",
    "table_reports": "One extraction report per table of every release: where, header, rows,"
    " warnings, confidence.",
    "share_history": "Each share identified across releases: when it first and last appeared.",
    "share_changes": "Shares added, removed and changed between consecutive releases.",
    "share_keys": "Every share key ever assigned, per release and row identity: kept across"
    " rebuilds so a printed link keeps naming the same share.",
    "organisations": "Resolved recipient organisations with sector and the evidence for it.",
    "organisation_names": "Every organisation name as written, mapped to its organisation.",
    "share_flags": "Flags raised on a share, each with the words that triggered it.",
    "share_flag_notes": "What a flag check could not tell or ruled out (aggregate, unknown route).",
}

# Column comments for the CORE_DDL tables (HISTORY/ANALYSIS blocks comment their own columns
# in their DDL). Keys are "table.column"; the texts are constants, documented in docs/schema.md.
COLUMN_COMMENTS: dict[str, str] = {
    "meta.key": "Setting name, e.g. schema_version.",
    "meta.value": "Setting value as text, e.g. '1'.",
    "releases.release_id": "Id of the release; kept when a changed file with the same name"
    " replaces it.",
    "releases.source_file": "File name as ingested (no folders); a file with the same name"
    " replaces the release.",
    "releases.source_path": "Where the file was read from: relative to the repository when"
    " inside it, else absolute.",
    "releases.sha256": "SHA-256 of the file; an unchanged file is skipped on re-ingest.",
    "releases.format": "pdf, ods, xlsx or csv.",
    "releases.title": "Title line found in the file; NULL when none was found.",
    "releases.period_label": "Month the release runs to, e.g. 'September 2023', from the title"
    " or file name; NULL when neither names one.",
    "releases.period_end": "Last day of the period_label month; NULL when no period was found.",
    "releases.release_order": "Publication order 1..n by period_end (undated releases first),"
    " then file name.",
    "releases.order_basis": "The rule that placed the release in release_order: the period"
    " covered, or undated (placed before every dated release, never the latest).",
    "releases.page_count": "PDF pages, or sheets of a spreadsheet (1 for CSV).",
    "releases.row_count": "Rows stored for the file: shares rows plus count_rows rows.",
    "releases.is_sample": "Title or file name says 'sample': reconstructed data, not a DfE"
    " publication.",
    "releases.ingested_at": "When the file was stored (UTC).",
    "releases.extractor_version": "Version of the extractor that read the file; for PDFs"
    " + the character source, e.g. 1.0.0+pdfium.",
    "releases.source_url": "The gov.uk attachment URL the file was downloaded from (python -m"
    " extract fetch's manifest); NULL when the file was not fetched by the tool.",
    "releases.retrieved_at": "When that download happened (ISO 8601, UTC); NULL when not"
    " fetched by the tool.",
    "releases.licence": "Licence of the file's contents: Open Government Licence v3.0 for DfE"
    " publications; the bundled sample is this project's own invented data.",
    "shares.share_id": "Row id; renumbered when a release is re-ingested, so cite reference"
    " or share_key with the release.",
    "shares.release_id": "The release (releases.release_id) this row was read from.",
    "shares.source_file": "File name of the release (releases.source_file).",
    "shares.section": "Canonical section: dsap, regular, npd_requests, police, court_orders"
    " or unknown.",
    "shares.section_title": "Section title as written in the file (or the tab name).",
    "shares.source_page": "PDF page (1-based) on which the row starts; NULL for spreadsheets"
    " and CSV.",
    "shares.source_sheet": "Spreadsheet tab (ODS/XLSX); NULL for PDF and CSV.",
    "shares.source_row": "PDF: n-th row of the table started on source_page; ODS/XLSX: the"
    " row number a spreadsheet shows; CSV: the record number.",
    "shares.reference": "Reference as written (DS00628, DR170221.02, R0042, 'DS 00268');"
    " NULL when the section has none.",
    "shares.organisation": "Recipient organisation as written.",
    "shares.project": "Project title as written.",
    "shares.purpose": "Purpose / description as written.",
    "shares.data_shared": "Data items shared, as written.",
    "shares.classification": "As written: 'Tier 1'..'Tier 4' (to 2018) or '(de-identified)"
    " personal level data of sensitivity level B'.",
    "shares.legal_basis": "Legal basis / gateway as written.",
    "shares.date_approved": "Date approved; NULL when blank or not a date (see"
    " date_approved_raw, e.g. 'pending').",
    "shares.date_approved_raw": "Date approved cell as written ('19th November 2018',"
    " 'pending'); NULL when blank or no such column.",
    "shares.date_released": "Date the data was released; NULL when blank or not a date (see"
    " date_released_raw).",
    "shares.date_released_raw": "Date released cell as written ('14 December 2018', 'pending',"
    " 'n/a'); NULL when blank or no such column.",
    "shares.status": "As written: Approved, Received data, Pending, Not pursued, Rejected,"
    " Live ... (case varies).",
    "shares.access_route": "As written, e.g. 'ONS Secure Research Service', 'Secure file"
    " transfer'.",
    "shares.number_of_pupils": "Number of pupils/records when the cell is a plain number;"
    " else NULL (see number_of_pupils_raw).",
    "shares.number_of_pupils_raw": "Number of pupils cell as written; NULL when blank or no"
    " such column.",
    "shares.raw_cells": "Every cell of the row as read: JSON object keyed by the column"
    " header.",
    "shares.extra_cells": "Cells whose header mapped to no field (JSON object); NULL when all"
    " mapped.",
    "shares.share_key": "Identity of the share across releases (see share_history.share_key).",
    "shares.organisation_id": "Resolved organisation (organisations.organisation_id).",
    "shares.sector": "Sector of the resolved organisation (organisations.sector).",
    "count_rows.release_id": "The release (releases.release_id) this row was read from.",
    "count_rows.source_file": "File name of the release.",
    "count_rows.section": "Canonical section of the count table, e.g. home_office.",
    "count_rows.section_title": "Section title as written in the file (or the tab name).",
    "count_rows.source_page": "PDF page (1-based); NULL for spreadsheets and CSV.",
    "count_rows.source_sheet": "Spreadsheet tab (ODS/XLSX); NULL for PDF and CSV.",
    "count_rows.source_row": "Row of the source table, as for shares.source_row.",
    "count_rows.period_label": "Period cell as written, e.g. 'March 2019'.",
    "count_rows.period_start": "First day of the period's month; NULL when it does not parse.",
    "count_rows.measure": "Header of the counted column, e.g. 'Number of individuals"
    " matched'.",
    "count_rows.value": "The count; NULL when blank or not a plain number (see value_raw).",
    "count_rows.value_raw": "The count cell as written; NULL when blank.",
    "count_rows.raw_cells": "The whole source row as JSON (repeated for each measure).",
    "legend_rows.release_id": "The release (releases.release_id) this row was read from.",
    "legend_rows.source_file": "File name of the release.",
    "legend_rows.source_page": "PDF page (1-based); NULL for spreadsheets and CSV.",
    "legend_rows.source_sheet": "Spreadsheet tab; NULL for PDF and CSV.",
    "legend_rows.source_row": "Row of the legend table, as for shares.source_row.",
    "legend_rows.cells": "The legend row as JSON keyed by header (e.g. Classification,"
    " Description).",
    "unmapped_columns.release_id": "The release (releases.release_id).",
    "unmapped_columns.source_file": "File name of the release.",
    "unmapped_columns.section": "Section whose table has the column.",
    "unmapped_columns.column_index": "0-based position of the column in the table.",
    "unmapped_columns.header": "Header as written (a blank header is 'column N'): the key of"
    " the cell in extra_cells.",
    "ingest_warnings.release_id": "The release (releases.release_id).",
    "ingest_warnings.source_file": "File name of the release.",
    "ingest_warnings.message": "What was odd, e.g. a table with no recognisable columns.",
    "ingest_warnings.kind": "Self-check that raised it (total_row, two_dates, no_key, encoding,"
    " reader, ...).",
    "ingest_warnings.section": "Section of the table concerned; NULL for a file-level warning.",
    "ingest_warnings.table_index": "The table (table_reports.table_index); NULL for the file.",
    "ingest_warnings.source_page": "PDF page to check; NULL for spreadsheets and file-level.",
    "ingest_warnings.source_sheet": "Spreadsheet tab to check; NULL for PDF, CSV, file-level.",
    "ingest_warnings.source_row": "Row to check (as shares.source_row); NULL when not one row.",
    "table_reports.release_id": "The release (releases.release_id).",
    "table_reports.source_file": "File name of the release.",
    "table_reports.table_index": "0-based position of the table in the file, in reading order.",
    "table_reports.section": "Section key of the table (as shares.section; legend too).",
    "table_reports.title": "Title line or tab the section was recognised from.",
    "table_reports.first_page": "First PDF page the table has rows on; NULL for spreadsheets.",
    "table_reports.last_page": "Last PDF page the table has rows on; NULL for spreadsheets.",
    "table_reports.sheet": "Spreadsheet tab; NULL for PDF and CSV.",
    "table_reports.first_row": "Row number (source_row) of the first data row.",
    "table_reports.last_row": "Row number (source_row) of the last data row.",
    "table_reports.header_printed": "The header cells as printed, a JSON list.",
    "table_reports.header_fields": "The field each header cell mapped to (null: unmapped).",
    "table_reports.row_count": "Data rows read (not counting empty rows, totals, notes).",
    "table_reports.rows_per_page": "JSON object: rows per PDF page, or per tab / 'CSV'.",
    "table_reports.empty_cell_share": "Share of the table's cells that are empty, 0-1.",
    "table_reports.warning_count": "Warnings on this table (ingest_warnings, excluding info).",
    "table_reports.confidence": "0-1: header mapped x rows without doubt x fill (docs/schema.md).",
}


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table (idempotent) and refuse a database written by another schema.
    One transaction: a commit per statement took twice as long (0.2 s on every run)."""
    con.execute("BEGIN TRANSACTION")
    try:
        _create(con)
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def _create(con: duckdb.DuckDBPyConnection) -> None:
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
    con.execute(ANALYSIS_VIEWS)
    for table, text in COMMENTS.items():
        # COMMENT ON does not accept parameters; the texts are constants above.
        quoted = text.replace("'", "''")
        con.execute(f"COMMENT ON TABLE {table} IS '{quoted}'")
    for column, text in COLUMN_COMMENTS.items():
        quoted = text.replace("'", "''")
        con.execute(f"COMMENT ON COLUMN {column} IS '{quoted}'")
