"""The one place that opens the database.

Writers never touch the live file. :func:`writable` copies it beside itself, hands out a
read-write connection to the copy and, only when the whole job succeeded, atomically
``os.replace``-s the copy over the live file. So:

* a failed ingest leaves the database byte-for-byte as it was;
* the dashboard, which opens the live file read-only per query, keeps working during an
  ingest and sees the new data on its next query (a DuckDB read-only reader and a read-write
  writer cannot share one file, but they can share a directory);
* files are written in the DuckDB 1.4 storage format so researchers' older CLIs can open them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from extract import schema

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DB = REPO / "data" / "npd_register.duckdb"
STORAGE_VERSION = "v1.4.0"
_READ_CONFIG = {"threads": "2", "memory_limit": "1GB"}


class Discard(Exception):
    """Raise inside :func:`writable`
    to drop the private copy: nothing changed, so nothing to publish."""



def db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The database path: the argument, else ``$NPD_DB``, else ``data/npd_register.duckdb``."""
    if db is not None:
        return Path(db)
    env = os.environ.get("NPD_DB")
    return Path(env) if env else DEFAULT_DB


def connect_readonly(db: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the live database (raises FileNotFoundError if absent)."""
    path = db_path(db)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no database yet; run `python -m extract data/sample`")
    return duckdb.connect(str(path), read_only=True, config=dict(_READ_CONFIG))


class DatabaseError(RuntimeError):
    """The database file cannot be used; ``str(exc)`` is ``"<path>: <reason>"`` for users."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _missing_dirs(folder: Path) -> list[Path]:
    """The folders ``mkdir(parents=True)`` would create, deepest first."""
    out: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        out.append(folder)
        folder = folder.parent
    return out


@contextlib.contextmanager
def writable(db: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to a private copy; publish it atomically on success.

    Problems with the database file itself raise :class:`DatabaseError` naming it; folders
    made for a new database are removed again if nothing was published.
    """
    path = db_path(db)
    created = _missing_dirs(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A short fixed prefix: a long database name must not make the temp name too long.
        fd, tmp_name = tempfile.mkstemp(prefix=".npd-", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        _remove_empty(created)
        raise DatabaseError(f"{path}: cannot write a database here "
                            f"({exc.strerror or _first_line(exc)})") from exc
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB must create the file itself
    con: duckdb.DuckDBPyConnection | None = None
    published = False
    try:
        try:
            if path.exists():
                shutil.copyfile(path, tmp)
                con = duckdb.connect(str(tmp))
            else:
                config = {"storage_compatibility_version": STORAGE_VERSION}
                con = duckdb.connect(str(tmp), config=config)
            schema.create(con)
        except duckdb.Error as exc:  # name the user's file, not our private copy
            reason = _first_line(exc).replace(str(tmp), str(path))
            raise DatabaseError(f"{path}: not a usable DuckDB database ({reason})") from exc
        except OSError as exc:
            raise DatabaseError(f"{path}: cannot read the database "
                                f"({exc.strerror or _first_line(exc)})") from exc
        except RuntimeError as exc:  # schema version mismatch
            raise DatabaseError(f"{path}: {exc}") from exc
        try:
            yield con
        except Discard:
            return
        con.execute("CHECKPOINT")
        con.close()
        con = None
        os.replace(tmp, path)
        published = True
    finally:
        if con is not None:
            con.close()
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
        if not published:
            _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()
