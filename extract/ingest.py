"""Load release files into the database: one transaction per file, idempotent by sha256.

All work happens on a private copy of the database (:func:`extract.db.writable`), published
atomically at the end, so a crash or a bad file never leaves the live database half-written.
Within the copy each file is its own transaction: a bad file is rolled back and reported while
the good files of the same call are kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from extract import guard
from extract.db import (
    REPO,
    DatabaseError,
    Discard,
    _first_line,
    db_path,
    is_interrupt,
    writable,
)
from extract.limits import Limits
from extract.model import IngestError, ParsedRelease
from extract.normalise import Normalised, normalise
from extract.settings import ReaderSettings
from extract.values import parse_period

EXTRACTOR_VERSION = "1.0.0"
# releases.licence: DfE publishes the register under the OGL; the bundled sample is ours.
OGL = "Open Government Licence v3.0"
SAMPLE_LICENCE = ("Invented sample data made for this tool (not a DfE publication, not "
                  "Open Government Licence material)")
# releases.order_basis: the rule that placed each release in release_order.
ORDER_DATED = "period covered (month and year from the title or file name)"
ORDER_UNDATED = ("undated: no month and year in the title or file name, so placed before "
                 "every dated release (by file name) and never taken as the latest")
UNDATED_WARNING = ("no period (month and year) in the title or file name: treated as undated "
                   "and ordered before the dated releases, so it is never taken as the latest")
SUPPORTED = {".pdf", ".ods", ".xlsx", ".xlsm", ".csv"}
PageCallback = Callable[[int, int], None]  # (pages done, pages total)
log = logging.getLogger(__name__)


@dataclass
class FileResult:
    path: Path
    status: str  # ingested | replaced | unchanged | duplicate | failed
    reason: str = ""
    rows_by_section: dict[str, int] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reports: list[dict[str, object]] = field(default_factory=list)  # table_reports rows


def expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly, plus supported files found (recursively) in named folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        try:
            is_dir = p.is_dir()
        except OSError:  # e.g. a name too long for the file system: reported per file
            is_dir = False
        if is_dir:
            # Not only regular files: a FIFO or device named like a release is listed, so that
            # it is refused with what it is rather than skipped without a word.
            out.extend(
                sorted(f for f in p.rglob("*") if f.suffix.lower() in SUPPORTED
                       and not f.name.startswith(".") and not _is_dir(f))
            )
        else:
            out.append(p)
    return out


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_release(path: Path, on_page: PageCallback | None = None,
                 settings: ReaderSettings | None = None) -> ParsedRelease:
    """Dispatch to the reader for the file's format. Raises IngestError with the reason.

    This runs the reader in this process; :func:`ingest` calls it through
    :func:`read_isolated`, so that a hostile file cannot take the caller down.
    """
    guard.check_kind(path)
    if path.stat().st_size == 0:
        raise IngestError("file is empty")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from extract.pdf import read_pdf

        return read_pdf(path, on_page, settings)
    if suffix in {".ods", ".xlsx", ".xlsm", ".csv"}:
        from extract.sheets import read_spreadsheet

        return read_spreadsheet(path, on_page)
    raise IngestError(f"unsupported file type {suffix or '(none)'}; expected PDF, ODS, XLSX or CSV")


def _read_checked(path: Path, settings: ReaderSettings | None, limits: Limits,
                  on_page: PageCallback | None) -> ParsedRelease:
    guard.check_kind(path)
    guard.precheck(path, limits)
    return read_release(path, on_page, settings)


def read_isolated(path: Path, on_page: PageCallback | None = None,
                  settings: ReaderSettings | None = None,
                  limits: Limits | None = None) -> ParsedRelease:
    """:func:`read_release` after the pre-checks, in a child process under ``limits``
    (:mod:`extract.guard`): a crash, a memory blow-up or a hang there is this file's
    IngestError here, and nothing of it is left running."""
    limits = Limits.resolve(limits)
    outcome = guard.run_isolated(_read_checked, (path, settings, limits), limits, on_page)
    if outcome.error is not None:
        raise IngestError(outcome.error)
    return outcome.value  # type: ignore[no-any-return]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, object]],
            constants: dict[str, object]) -> None:
    if not rows:
        return
    import pandas as pd  # imported late: see _Preparation

    df = pd.DataFrame(rows)
    for k, v in constants.items():
        df[k] = v
    con.register("_incoming", df)
    try:
        # Table names come from the fixed set in store_release, never from input.
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")  # noqa: S608
    except Exception:
        # The failed INSERT aborted the transaction, so unregistering raises again ("current
        # transaction is aborted") and would hide the real error: report the first one.
        with contextlib.suppress(duckdb.Error):
            con.unregister("_incoming")
        raise
    con.unregister("_incoming")


RELEASE_TABLES = ("shares", "count_rows", "legend_rows", "unmapped_columns", "ingest_warnings",
                  "table_reports")


def store_release(con: duckdb.DuckDBPyConnection, path: Path, sha: str,
                  parsed: ParsedRelease, norm: Normalised) -> None:
    """Replace (or add) one release's rows. Caller owns the transaction."""
    name = parsed.source_file
    old = con.execute("SELECT release_id FROM releases WHERE source_file = ?", [name]).fetchone()
    if old:
        release_id = int(old[0])
        for t in RELEASE_TABLES:
            con.execute(f"DELETE FROM {t} WHERE release_id = ?", [release_id])  # noqa: S608
        con.execute("DELETE FROM releases WHERE release_id = ?", [release_id])
    else:
        release_id = int(con.execute(
            "SELECT coalesce(max(release_id), 0) + 1 FROM releases").fetchone()[0])  # type: ignore[index]
    period = parse_period(parsed.title or "") or parse_period(path.stem)
    marker = f"{parsed.title or ''} {name}".casefold()
    con.execute(
        """INSERT INTO releases (release_id, source_file, source_path, sha256, format, title,
               period_label, period_end, page_count, row_count, is_sample, ingested_at,
               extractor_version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [release_id, name, _display_path(path), sha, parsed.format, parsed.title,
         period[0] if period else None, period[1] if period else None, parsed.page_count,
         len(norm.shares) + len(norm.counts),
         "sample" in marker, dt.datetime.now(dt.UTC).replace(tzinfo=None),
         f"{EXTRACTOR_VERSION}+{parsed.reader}" if parsed.reader else EXTRACTOR_VERSION],
    )
    _store_provenance(con, release_id, path, "sample" in marker)
    const = {"release_id": release_id, "source_file": name}
    _insert(con, "shares", norm.shares, const)
    _insert(con, "count_rows", norm.counts, const)
    _insert(con, "legend_rows", norm.legend, const)
    _insert(con, "unmapped_columns", norm.unmapped, const)
    # Every printed warning is stored: the normaliser's (with kind and location) and any
    # added after it (e.g. an undated release), as kind 'ingest'.
    known = {i["message"] for i in norm.issues}
    extra = [{"kind": "ingest", "message": w} for w in norm.warnings if w not in known]
    _insert(con, "ingest_warnings", norm.issues + extra, const)
    _insert(con, "table_reports", norm.reports, const)


def _store_provenance(con: duckdb.DuckDBPyConnection, release_id: int, path: Path,
                      sample: bool) -> None:
    """URL and retrieval date from fetch's manifest (when the bytes are the downloaded ones)
    and the licence, stored once so exports and page footers read them from the database."""
    from extract.fetch import provenance_for

    prov = provenance_for(path) or {}
    con.execute("UPDATE releases SET source_url = ?, retrieved_at = ?, licence = ? "
                "WHERE release_id = ?",
                [prov.get("url"), prov.get("retrieved"), SAMPLE_LICENCE if sample else OGL,
                 release_id])


def _display_path(path: Path) -> str:
    """Where the file was read from: relative to the repository when inside it (portable)."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(REPO))
    except ValueError:
        return str(resolved)


def _overlap_warnings(con: duckdb.DuckDBPyConnection, path: Path,
                      old: tuple[object, ...] | None) -> list[str]:
    """Say when a file replaced one read from elsewhere, or covers another file's period:
    both are legitimate, but a journalist counting across releases needs to know."""
    out: list[str] = []
    if old and old[1] and old[1] != _display_path(path):
        out.append(f"replaced the release of the same name read earlier from {old[1]}")
    rows = con.execute(
        """SELECT o.source_file, o.period_label FROM releases n JOIN releases o
               ON o.period_end = n.period_end AND o.release_id <> n.release_id
           WHERE n.source_file = ? ORDER BY o.source_file""", [path.name]).fetchall()
    out += [f"covers the same period ({label}) as {name}; both are kept and counted"
            for name, label in rows]
    return out


def order_releases(con: duckdb.DuckDBPyConnection) -> None:
    """Number releases in publication order: by the period covered, then by file name.

    Releases with no period (no month and year in the title or file name) come *first*, by
    file name: nothing says they are recent, and the last release is the one every headline
    figure and default filter uses, so an undated file must never be taken for it. Each
    release's ``order_basis`` says which rule placed it, for the dashboard to show.
    """
    con.execute(
        """UPDATE releases SET release_order = o.n, order_basis = o.basis FROM (
               SELECT release_id,
                      row_number() OVER (ORDER BY period_end NULLS FIRST, source_file) AS n,
                      CASE WHEN period_end IS NULL THEN ? ELSE ? END AS basis
               FROM releases) o
           WHERE releases.release_id = o.release_id""", [ORDER_UNDATED, ORDER_DATED]
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open. DuckDB aborts the transaction itself on some
    errors (disk full among them); ROLLBACK then fails with "no transaction is active", which
    must never replace the first, real error."""
    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")


def _fatal(exc: BaseException) -> bool:
    """An error of the database file rather than of the release: stop the whole run."""
    if isinstance(exc, duckdb.IOException | duckdb.FatalException | OSError):
        return True
    text = str(exc)
    return "No space left" in text or "database has been invalidated" in text


class _Preparation:
    """The analysis' imports (pandas among them) and reference indexes, about 1.5 s, made
    in a thread of this process while the reader's child lays out its pages: the child then
    works on one core and the other is free, so the analysis after the last file finds
    them ready (:func:`analysis.pipeline.prepare`). Joined before the next fork, which must
    not copy a thread in mid-work, and before the analysis runs."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self.ready = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="analysis-prepare",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            from analysis.pipeline import prepare

            prepare()
            self.ready = True
        except Exception as exc:  # the analysis prepares again, and reports it there
            log.debug("analysis preparation failed: %s", exc)

    def join(self) -> bool:
        """Wait for it; True if the reference data is ready."""
        if self._thread is not None:
            self._thread.join()
        return self.ready

    def when_scanned(self, on_page: PageCallback | None) -> PageCallback:
        """``on_page``, and start once a reader reports its last page."""
        def progress(done: int, total: int) -> None:
            if on_page is not None:
                on_page(done, total)
            if done >= total:
                self.start()

        return progress


def derive(con: duckdb.DuckDBPyConnection, prepared: bool = False) -> None:
    """Everything computed across releases: order, history, organisations, flags.
    ``prepared``: :func:`analysis.pipeline.prepare` has just run in this process."""
    from analysis.pipeline import rebuild as rebuild_analysis
    from extract.history import rebuild as rebuild_history

    order_releases(con)
    rebuild_history(con)
    rebuild_analysis(con, prepared=prepared)


def ingest(
    paths: Iterable[str | os.PathLike[str]],
    db: str | os.PathLike[str] | None = None,
    on_file: Callable[[Path], PageCallback | None] | None = None,
    force_derive: bool = False,
    settings: ReaderSettings | dict[str, object] | None = None,
    limits: Limits | dict[str, object] | None = None,
) -> list[FileResult]:
    """Ingest files and folders into ``db``; returns one result per file, in order.

    ``settings`` are the PDF reader's (:class:`extract.settings.ReaderSettings`), e.g.
    ``{"reader": "pdfminer"}`` to diagnose a file with the reference character source.
    ``limits`` (:class:`extract.limits.Limits`, default ``LIMITS``) bound what one file may
    cost to read; each file is read in a child process under them (:func:`read_isolated`).
    """
    settings = ReaderSettings.resolve(settings)  # type: ignore[arg-type]
    limits = Limits.resolve(limits)  # type: ignore[arg-type]
    files = expand(paths)
    results: list[FileResult] = []
    loaded_here: dict[str, Path] = {}
    preparation = _Preparation()
    with writable(db) as con:
        changed = force_derive
        for path in files:
            res = FileResult(path, "failed")
            results.append(res)
            try:
                guard.check_kind(path)
                earlier = loaded_here.get(path.name)
                if earlier is not None and earlier.resolve() != path.resolve():
                    raise IngestError(
                        f"another file named {path.name} was loaded from {earlier.parent} in "
                        "this call; releases are keyed by file name, so rename one")
                loaded_here[path.name] = path
                sha = sha256_of(path)
                old = con.execute("SELECT sha256, source_path FROM releases WHERE source_file = ?",
                                  [path.name]).fetchone()
                if old and old[0] == sha:
                    res.status = "unchanged"
                    continue
                twin = con.execute(
                    "SELECT source_file FROM releases WHERE sha256 = ? AND source_file <> ?",
                    [sha, path.name]).fetchone()
                if twin:
                    res.status, res.reason = "duplicate", (
                        f"same content as {twin[0]}, already loaded; not counted twice")
                    continue
                preparation.join()  # no thread of ours may be running across the fork
                parsed = read_isolated(path, preparation.when_scanned(
                    on_file(path) if on_file else None), settings, limits)
                parsed.source_file = path.name
                norm = normalise(parsed)
                if not (parse_period(parsed.title or "") or parse_period(path.stem)):
                    norm.warnings.append(UNDATED_WARNING)
            except IngestError as exc:
                res.reason = str(exc)
                continue
            except OSError as exc:
                res.reason = f"cannot read the file ({exc.strerror or exc})".lower()
                continue
            except Exception as exc:  # a reader bug must not become a traceback for users
                res.reason = f"could not be read ({type(exc).__name__}: {exc})"
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                store_release(con, path, sha, parsed, norm)
                con.execute("COMMIT")
            except Exception as exc:
                _rollback(con)  # its own failure (no transaction left) would hide the cause
                if is_interrupt(exc):
                    raise KeyboardInterrupt from None
                if _fatal(exc):
                    raise DatabaseError(f"{db_path(db)}: could not be written "
                                        f"({_first_line(exc)}); database left as it was"
                                        ) from exc
                res.reason = f"could not be stored ({type(exc).__name__}: {_first_line(exc)})"
                continue
            res.status = "replaced" if old else "ingested"
            res.rows_by_section = norm.rows_by_section()
            res.unmapped = sorted({f"{u['section']}: {u['header']}" for u in norm.unmapped})
            res.warnings = norm.warnings + _overlap_warnings(con, path, old)
            res.reports = norm.reports
            changed = True
        if not changed:
            raise Discard
        derive(con, prepared=preparation.join())
    return results
