"""Keep docs/schema.md honest: every table, view and column documented, every example runs.

Researchers query the DuckDB file directly, so the schema page is a contract. The schema is
read from a freshly created database (not from the DDL text), so tables and views added by any
module show up here as soon as :func:`extract.schema.create` makes them; the examples run
against the bundled sample series, built once per session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from extract import schema
from extract.db import writable
from extract.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "schema.md"
SAMPLE = REPO / "data" / "sample"

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
OBJECT_HEADING = re.compile(r"^`(\w+)`$")  # "### `shares`": a table or view section
COLUMN_ROW = re.compile(r"^\|\s*`(\w+)`\s*\|\s*([^|]*?)\s*\|")  # "| `col` | TYPE | ..."
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.M | re.S)


@dataclass
class DocSection:
    """One ``### `name` `` section of the doc: its group (## heading) and column rows."""

    name: str
    group: str
    columns: dict[str, str] = field(default_factory=dict)  # column -> documented type
    duplicates: list[str] = field(default_factory=list)


def parse_doc(text: str) -> dict[str, DocSection]:
    """Sections headed by a backticked name, with the column rows found under each.

    A section runs to the next heading of the same or a higher level, so sub-headings inside
    a table's section still belong to it. Code blocks are skipped (a ``#`` comment there is
    not a heading).
    """
    sections: dict[str, DocSection] = {}
    current: DocSection | None = None
    current_level = 0
    group = ""
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if m := HEADING.match(line):
            level, title = len(m[1]), m[2]
            if level == 2:
                group = title
            if current is not None and level <= current_level:
                current = None
            if (obj := OBJECT_HEADING.match(title)) and current is None:
                name = obj[1]
                assert name not in sections, f"docs/schema.md: two sections for `{name}`"
                current, current_level = DocSection(name, group), level
                sections[name] = current
            continue
        if current is not None and (row := COLUMN_ROW.match(line)):
            column, type_ = row[1], row[2]
            if column in current.columns:
                current.duplicates.append(column)
            current.columns[column] = type_
    return sections


@dataclass
class DbObject:
    name: str
    kind: str  # table | view
    columns: dict[str, str]  # column -> DuckDB data type


def schema_objects(con: duckdb.DuckDBPyConnection) -> dict[str, DbObject]:
    """Every user table and view of the main schema with its columns and types, in order."""
    kinds = dict(con.execute(
        """SELECT table_name, 'table' FROM duckdb_tables()
           WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
           UNION ALL
           SELECT view_name, 'view' FROM duckdb_views()
           WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"""
    ).fetchall())
    objects = {name: DbObject(name, kind, {}) for name, kind in kinds.items()}
    for table, column, type_ in con.execute(
        """SELECT table_name, column_name, data_type FROM duckdb_columns()
           WHERE database_name = current_database() AND schema_name = 'main'
           ORDER BY table_name, column_index"""
    ).fetchall():
        if table in objects:
            objects[table].columns[column] = type_
    return objects


@dataclass
class FreshSchema:
    objects: dict[str, DbObject]
    uncommented_core_columns: list[str]


@pytest.fixture(scope="session")
def fresh_schema(tmp_path_factory: pytest.TempPathFactory) -> FreshSchema:
    """The schema a new database gets (tables and views from every module's DDL)."""
    db = tmp_path_factory.mktemp("schema_docs") / "fresh.duckdb"
    core = sorted(set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema.CORE_DDL)))
    with writable(db) as con:
        objects = schema_objects(con)
        uncommented = con.execute(
            """SELECT table_name || '.' || column_name FROM duckdb_columns()
               WHERE database_name = current_database() AND schema_name = 'main'
                 AND table_name IN (SELECT unnest(?)) AND coalesce(comment, '') = ''
               ORDER BY ALL""", [core]).fetchall()
    return FreshSchema(objects, [r[0] for r in uncommented])


@pytest.fixture(scope="session")
def doc_sections() -> dict[str, DocSection]:
    return parse_doc(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample series ingested once (all six releases, derived)."""
    db = tmp_path_factory.mktemp("schema_docs_sample") / "sample.duckdb"
    results = ingest([SAMPLE], db)
    failed = [f"{r.path.name}: {r.reason}" for r in results if r.status == "failed"]
    assert not failed, failed
    return db


def test_schema_has_the_expected_core(fresh_schema: FreshSchema) -> None:
    """Guard against a vacuous pass: the introspection really sees tables, views, columns."""
    objects = fresh_schema.objects
    assert {"meta", "releases", "shares", "count_rows", "share_history"} <= set(objects)
    assert objects["shares"].kind == "table"
    assert objects["v_changes"].kind == "view"
    assert objects["shares"].columns["raw_cells"] == "JSON"
    assert objects["shares"].columns["date_approved"] == "DATE"


def test_every_table_and_view_has_a_section(
    fresh_schema: FreshSchema, doc_sections: dict[str, DocSection]
) -> None:
    objects = fresh_schema.objects
    missing = sorted(set(objects) - set(doc_sections))
    assert not missing, f"docs/schema.md has no '### `name`' section for: {missing}"
    stale = sorted(set(doc_sections) - set(objects))
    assert not stale, f"docs/schema.md documents objects that do not exist: {stale}"
    misplaced = [
        f"{name} ({obj.kind}) under '## {doc_sections[name].group}'"
        for name, obj in objects.items()
        if doc_sections[name].group != {"table": "Tables", "view": "Views"}[obj.kind]
    ]
    assert not misplaced, f"tables belong under '## Tables', views under '## Views': {misplaced}"


def test_every_column_is_documented_with_its_type(
    fresh_schema: FreshSchema, doc_sections: dict[str, DocSection]
) -> None:
    problems: list[str] = []
    for name, obj in sorted(fresh_schema.objects.items()):
        section = doc_sections.get(name)
        if section is None:
            continue  # reported by test_every_table_and_view_has_a_section
        for column, type_ in obj.columns.items():
            documented = section.columns.get(column)
            if documented is None:
                problems.append(f"{name}.{column} ({type_}) is not documented")
            elif documented != type_:
                problems.append(f"{name}.{column}: documented as {documented}, is {type_}")
        problems += [f"{name}.{c} documented but no such column"
                     for c in section.columns if c not in obj.columns]
        problems += [f"{name}.{c} documented twice" for c in section.duplicates]
    assert not problems, "docs/schema.md is out of date:\n" + "\n".join(problems)


def test_core_columns_carry_comments(fresh_schema: FreshSchema) -> None:
    """The file is self-describing: every column of the CORE_DDL tables has a COMMENT."""
    missing = fresh_schema.uncommented_core_columns
    assert not missing, f"add to schema.COLUMN_COMMENTS: {missing}"


def test_doc_parser_finds_sections_columns_and_examples() -> None:
    """The parser itself: sections end at the next heading of their level, code is skipped."""
    text = (
        "## Tables\n### `a`\n| column | type |\n| --- | --- |\n| `x` | INTEGER | the x |\n"
        "#### notes\n| `y` | VARCHAR[] | sub-heading keeps the section |\n"
        "```sql\n# not a heading\nSELECT 1;\n```\n"
        "## Views\n### `v`\n| `z` | DOUBLE | z |\n### Example\n| `w` | BIGINT | not v's |\n"
    )
    sections = parse_doc(text)
    assert set(sections) == {"a", "v"}
    assert sections["a"].columns == {"x": "INTEGER", "y": "VARCHAR[]"}
    assert (sections["a"].group, sections["v"].group) == ("Tables", "Views")
    assert sections["v"].columns == {"z": "DOUBLE"}
    assert SQL_BLOCK.findall(text) == ["# not a heading\nSELECT 1;\n"]


def _examples() -> list[str]:
    return SQL_BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_doc_has_example_queries() -> None:
    examples = _examples()
    assert len(examples) >= 6
    assert all(re.search(r"\bSELECT\b", sql, re.I) for sql in examples)


@pytest.mark.parametrize("sql", _examples(), ids=lambda sql: " ".join(sql.split())[:60])
def test_example_query_returns_rows(sample_db: Path, sql: str) -> None:
    with duckdb.connect(str(sample_db), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert rows, f"example returned no rows on the sample:\n{sql}"
