"""Ready-made questions: named, parameterised SQL kept as data (``data/queries/*.sql``).

In the manner of Datasette's canned queries, each file is one question a journalist or
researcher asks often. Its leading comment block gives a title, a description and the
parameters; the SQL names them ``$name`` and they are always bound, never spliced::

    -- title: Shares whose legal gateway is section 537A
    -- description: Shares whose legal basis mentions the words given ...
    -- param: gateway | text | 537A | words the legal basis must contain
    SELECT ... WHERE legal_basis ILIKE '%' || $gateway || '%'

Anyone can edit a question and run their own SQL (the Questions page lets them), so
:func:`run` makes writes and file access impossible, not merely unlikely:

* the connection is read-only (``extract.db.connect_readonly``), then external access is
  switched off (``enable_external_access = false``: no ``read_csv('/etc/passwd')``,
  ``ATTACH``, ``COPY ... TO``, ``INSTALL``/``LOAD``) and the configuration locked so a
  query cannot switch it back;
* only a single ``SELECT`` statement is accepted, and file-reading table functions and the
  ``query()`` function are refused by name before anything runs;
* a time limit interrupts the query, and at most a row cap of rows is fetched.

Errors are :class:`QueryError` with a one-line message.

The settings belong to the DuckDB instance behind the connection, and DuckDB shares one
instance among the connections a process holds open to a file at the same time. So run a
question on a connection nothing else holds open meanwhile (the dashboard's
``views.data.connection(db, private=True)`` opens one of its own); once it is closed the
instance goes, and the next connection starts with the defaults again
(``tests/test_queries.py`` checks).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
QUERIES_DIR = REPO / "data" / "queries"
TIME_LIMIT_S = 10.0
ROW_CAP = 5_000
MAX_SQL_CHARS = 20_000
PARAM_TYPES = ("text", "integer", "date")
_HEADER = re.compile(r"^--\s*(title|description|param)\s*:\s?(.*)$", re.IGNORECASE)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRINGS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
# Functions that read files or run SQL given as text: refused even though external access is
# off, so the refusal names the reason instead of a permission error.
_FORBIDDEN = re.compile(
    r"\b(read_\w+|glob|sniff_csv|parquet_\w+|delta_scan|iceberg_\w+|sqlite_\w+|"
    r"postgres_\w+|mysql_\w+|query|query_table|load_extension)\s*\(|"
    r"\b(copy|attach|detach|install|load|export|import|pragma|set|reset|call|checkpoint)\b",
    re.IGNORECASE)


class QueryError(ValueError):
    """A question that cannot run; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str
    help: str


@dataclass(frozen=True)
class Question:
    """One ready-made question: its file stem, title, description, parameters and SQL."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    sql: str


def parse_question(name: str, text: str) -> Question:
    """A question from its file text: the leading ``-- key: value`` lines, then the SQL."""
    title, description, params = "", [], []
    lines = text.splitlines()
    body_from = 0
    for i, line in enumerate(lines):
        m = _HEADER.match(line.strip())
        if not m:
            if line.strip() and not line.strip().startswith("--"):
                body_from = i
                break
            continue
        key, value = m.group(1).casefold(), m.group(2).strip()
        if key == "title":
            title = value
        elif key == "description":
            description.append(value)
        else:
            params.append(_param(name, value))
    else:
        body_from = len(lines)
    sql = "\n".join(lines[body_from:]).strip().rstrip(";")
    if not title:
        raise QueryError(f"{name}.sql: no '-- title:' line")
    if not sql:
        raise QueryError(f"{name}.sql: no SQL after the comment block")
    return Question(name, title, " ".join(description), tuple(params), sql)


def _param(question: str, spec: str) -> Param:
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) != 4 or not _NAME.match(parts[0]) or parts[1] not in PARAM_TYPES:
        raise QueryError(f"{question}.sql: param line {spec!r}: expected "
                         "'name | text|integer|date | default | help'")
    return Param(*parts)


def load_questions(folder: Path = QUERIES_DIR) -> dict[str, Question]:
    """Every ``*.sql`` in ``folder`` by name, in title order."""
    out = []
    for path in sorted(folder.glob("*.sql")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"{path}: cannot read ({exc})") from exc
        out.append(parse_question(path.stem, text))
    return {q.name: q for q in sorted(out, key=lambda q: q.title.casefold())}


def convert(param: Param, value: str) -> Any:
    """A parameter's text as the value bound to the SQL."""
    text = str(value).strip() if param.type != "text" else str(value)
    try:
        if param.type == "integer":
            return int(text)
        if param.type == "date":
            return dt.date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"parameter {param.name}: {value!r} is not "
                         f"{'an integer' if param.type == 'integer' else 'a date (YYYY-MM-DD)'}"
                         ) from None
    return text


def bind(question: Question, given: dict[str, str]) -> dict[str, Any]:
    """Defaults overridden by ``given``; an unknown name is an error."""
    known = {p.name: p for p in question.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise QueryError(f"{question.name}: no parameter {unknown[0]!r}; it takes "
                         + (", ".join(known) or "none"))
    return {name: convert(p, given.get(name, p.default)) for name, p in known.items()}


def check_sql(sql: str) -> str:
    """The SQL if it is one SELECT that reads only the database; else :class:`QueryError`."""
    if len(sql) > MAX_SQL_CHARS:
        raise QueryError(f"the SQL is longer than {MAX_SQL_CHARS:,} characters")
    bare = _COMMENTS.sub(" ", _STRINGS.sub("''", sql))
    hit = _FORBIDDEN.search(bare)
    if hit:
        word = (hit.group(1) or hit.group(2)).lower()
        raise QueryError(f"only SELECT queries on the database can run here ({word!r} reads "
                         "files, runs other SQL or changes settings)")
    return sql


def _statement_check(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise QueryError(f"one statement at a time please (found {len(statements)})")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise QueryError("only SELECT queries can run here (this is a "
                         f"{statements[0].type.name} statement)")


def _first_line(exc: BaseException) -> str:
    return " ".join((str(exc).strip().splitlines() or [type(exc).__name__])[0].split())[:300]


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No file system, no extensions, no changing that back (on a read-only connection)."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


@dataclass
class Result:
    frame: pd.DataFrame
    truncated: bool
    cap: int


def run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None,
        *, time_limit: float = TIME_LIMIT_S, cap: int = ROW_CAP) -> Result:
    """Run one question on ``con`` (which it locks down first: use a connection of its own).

    Only the parameters the SQL names are bound, so an edited query may drop one.
    """
    check_sql(sql)
    lock_down(con)
    _statement_check(con, sql)
    used = set(_PLACEHOLDER.findall(_COMMENTS.sub(" ", _STRINGS.sub("''", sql))))
    missing = sorted(used - set(params or {}))
    if missing:
        raise QueryError(f"the SQL uses ${missing[0]}, which is not a parameter of this "
                         "question")
    bound = {k: v for k, v in (params or {}).items() if k in used}
    timer = threading.Timer(time_limit, con.interrupt)
    timer.start()
    try:
        cur = con.execute(sql, bound) if bound else con.execute(sql)
        rows = cur.fetchmany(cap + 1)
        columns = [d[0] for d in cur.description or []]
    except duckdb.InterruptException:
        raise QueryError(f"stopped after {time_limit:g} seconds: the question took too long"
                         ) from None
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {_first_line(exc)}") from None
    finally:
        timer.cancel()
    frame = pd.DataFrame(rows[:cap], columns=_unique(columns))
    return Result(frame, len(rows) > cap, cap)


def _unique(columns: list[str]) -> list[str]:
    """Column names made unique (``SELECT a, a`` would break a table)."""
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        n = seen.get(c, 0)
        seen[c] = n + 1
        out.append(c if n == 0 else f"{c}_{n + 1}")
    return out
