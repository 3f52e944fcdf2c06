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


@contextlib.contextmanager
def writable(db: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to a private copy; publish it atomically on success."""
    path = db_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB must create the file itself
    con: duckdb.DuckDBPyConnection | None = None
    try:
        if path.exists():
            shutil.copyfile(path, tmp)
            con = duckdb.connect(str(tmp))
        else:
            config = {"storage_compatibility_version": STORAGE_VERSION}
            con = duckdb.connect(str(tmp), config=config)
        schema.create(con)
        try:
            yield con
        except Discard:
            return
        con.execute("CHECKPOINT")
        con.close()
        con = None
        os.replace(tmp, path)
    finally:
        if con is not None:
            con.close()
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
