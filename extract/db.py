"""The one place that opens the database.

Writers never touch the live file. :func:`writable` copies it beside itself, hands out a
read-write connection to the copy and, only when the whole job succeeded, atomically
``os.replace``-s the copy over the live file. So:

* a failed ingest leaves the database byte-for-byte as it was;
* the dashboard, which opens the live file read-only per query, keeps working during an
  ingest and sees the new data on its next query (a DuckDB read-only reader and a read-write
  writer cannot share one file, but they can share a directory);
* files are written in the DuckDB 1.4 storage format so researchers' older CLIs can open them.

A private copy is named ``.npd-<pid>-<random>.tmp`` after the process that owns it. A run that
was killed (``kill -9``, out of memory, power cut) cannot remove its copy, so every
:func:`writable` first removes the copies whose owner is no longer running
(:func:`remove_stale_copies`); a copy of a live process is never touched. SIGTERM and SIGHUP
during a run (when it runs on the main thread) unwind it like Ctrl-C: the copy is removed and
:class:`Terminated` reaches the caller.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from extract import schema

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DB = REPO / "data" / "npd_register.duckdb"
STORAGE_VERSION = "v1.4.0"
_READ_CONFIG = {"threads": "2", "memory_limit": "1GB"}


COPY_PREFIX = ".npd-"
_COPY = re.compile(r"\.npd-(?:(\d+)-)?[^/]*\.tmp(?:\.wal)?")
# A copy without an owner pid (written before copies carried one) counts as stale only once
# it is this old: no ingest runs for an hour.
_UNOWNED_GRACE = 3600


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived during a write; the private copy has been removed.

    A BaseException, like KeyboardInterrupt, so ``except Exception`` in readers cannot
    swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return signal.Signals(self.signum).name


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


def attach_readonly(db: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """The database attached read-only (as ``register``, the default catalog) to a private
    in-memory instance. DuckDB shares one instance among every ``connect()`` to a path in a
    process, so a connection kept open (the dashboard's) would refuse other ones made with
    different settings, a researcher's or a test's; a private instance refuses none."""
    con = duckdb.connect(":memory:", config=dict(_READ_CONFIG))
    try:
        con.execute("ATTACH ? AS register (READ_ONLY)", [str(db)])
        con.execute("USE register")
    except BaseException:
        con.close()
        raise
    return con


class DatabaseError(RuntimeError):
    """The database file cannot be used; ``str(exc)`` is ``"<path>: <reason>"`` for users."""


def is_interrupt(exc: BaseException) -> bool:
    """Is this Ctrl-C as DuckDB reports it? Usually ``InterruptException``, but inside some
    calls (e.g. while a DataFrame is scanned) a plain ``RuntimeError("Query interrupted")``."""
    if isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError | duckdb.Error) and "Query interrupted" in str(exc)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_copies(folder: Path) -> list[Path]:
    """Delete private copies (and their WAL files) left in ``folder`` by runs that died.

    Only copies whose owner process no longer exists go; returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _COPY.fullmatch(entry.name)
        if not m:
            continue
        try:
            if m.group(1) is not None:
                pid = int(m.group(1))
                if pid == os.getpid() or _alive(pid):
                    continue
            elif now - entry.stat().st_mtime < _UNOWNED_GRACE:
                continue
            if _locked(entry):  # a live writer in another pid namespace (a shared volume)
                continue
            entry.unlink()
            removed.append(entry)
        except OSError:
            continue
    return removed


def _locked(path: Path) -> bool:
    """Does a process hold a lock on the file: our flock on a copy being written, or the
    lock DuckDB takes on a database it has open read-write?"""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        for how in (lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB),
                    lambda: fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)):
            try:
                how()
            except BlockingIOError:
                return True
            except OSError:
                continue
        return False
    finally:
        os.close(fd)  # releases what we just took


@contextlib.contextmanager
def _cleanup_on_signals() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into :class:`Terminated` while a copy exists (main thread only:
    Python allows handlers nowhere else; a dashboard's build thread relies on the stale-copy
    sweep of the next run instead)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated(signum)

    sigs = [sig for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
            if sig is not None]
    previous = {sig: signal.signal(sig, handler) for sig in sigs}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or _first_line(exc)


def _disk_full(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        "No space left on device" in str(exc))


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
    remove_stale_copies(path.parent)
    with _cleanup_on_signals():
        yield from _writable(path, created)


def _writable(path: Path, created: list[Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A short fixed prefix: a long database name must not make the temp name too long.
        fd, tmp_name = tempfile.mkstemp(prefix=f"{COPY_PREFIX}{os.getpid()}-", suffix=".tmp",
                                        dir=path.parent)
    except OSError as exc:
        _remove_empty(created)
        raise DatabaseError(f"{path}: cannot write a database here "
                            f"({exc.strerror or _first_line(exc)})") from exc
    tmp = Path(tmp_name)
    # Held for the whole run: the copy (same inode, filled by copyfile) is visibly in use, so
    # a run in another pid namespace sharing this folder never sweeps it as stale.
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    if not path.exists():
        tmp.unlink()  # DuckDB must create a new database file itself
    con: duckdb.DuckDBPyConnection | None = None
    published = False
    try:
        try:
            if path.exists():
                try:
                    shutil.copyfile(path, tmp)
                except OSError as exc:
                    if not _disk_full(exc):
                        raise
                    raise DatabaseError(f"{path}: no room for a private copy of the database "
                                        f"({_os_reason(exc)}); database left as it was"
                                        ) from exc
                con = duckdb.connect(str(tmp))
            else:
                config = {"storage_compatibility_version": STORAGE_VERSION}
                con = duckdb.connect(str(tmp), config=config)
            schema.create(con)
        except DatabaseError:
            raise
        except (duckdb.Error, RuntimeError) as exc:
            if is_interrupt(exc):  # Ctrl-C while the schema is made: not a database problem
                raise
            if not isinstance(exc, duckdb.Error):  # schema version mismatch
                raise DatabaseError(f"{path}: {exc}") from exc
            # Name the user's file, not our private copy.
            reason = _first_line(exc).replace(str(tmp), str(path))
            if _disk_full(exc):
                raise DatabaseError(f"{path}: no room to write the database (No space left "
                                    "on device); database left as it was") from exc
            raise DatabaseError(f"{path}: not a usable DuckDB database ({reason})") from exc
        except OSError as exc:
            raise DatabaseError(f"{path}: cannot read the database "
                                f"({exc.strerror or _first_line(exc)})") from exc
        try:
            yield con
        except Discard:
            return
        try:
            con.execute("CHECKPOINT")
            con.close()
            con = None
            os.replace(tmp, path)
        except (duckdb.Error, OSError) as exc:
            if is_interrupt(exc):
                raise
            reason = _first_line(exc).replace(str(tmp), "the private copy")
            raise DatabaseError(f"{path}: could not save the database ({reason}); "
                                "database left as it was") from exc
        published = True
    finally:
        if con is not None:
            con.close()
        os.close(fd)
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
        if not published:
            _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()
