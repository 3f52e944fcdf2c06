"""Command line: ``python -m extract PATH... [--db FILE]`` and its subcommands.

    python -m extract data/sample                 # ingest files/folders (default command)
    python -m extract ingest PATH... --db my.duckdb
    python -m extract changes [--db FILE]         # what changed between releases
    python -m extract fetch [--dest data/releases] # download the published releases
    python -m extract debug FILE.pdf [--pages 3-5] --out DIR  # draw the reader's layout

Errors are one line on stderr naming the file and the reason; the exit status is 1 if any
file failed, 2 for usage errors. Tracebacks are never shown unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from extract.db import DatabaseError, Terminated, db_path, is_interrupt
from extract.ingest import FileResult, ingest
from extract.printable import visible
from extract.settings import READERS, ReaderSettings

SUBCOMMANDS = ("ingest", "changes", "fetch", "debug")
log = logging.getLogger("extract")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m extract", description=__doc__.split("\n")[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command")
    ing = sub.add_parser("ingest", help="load release files (PDF, ODS, XLSX, CSV) or folders")
    ing.add_argument("paths", nargs="+", metavar="PATH")
    ing.add_argument("--db", help="DuckDB file (default data/npd_register.duckdb or $NPD_DB)")
    ing.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    ing.add_argument("--reader", choices=READERS, default=None,
                     help=f"PDF character source (default: {ReaderSettings().reader}); "
                     "pdfminer is the reference, for diagnosis")
    ch = sub.add_parser("changes", help="print shares added, removed and changed per release")
    ch.add_argument("--db")
    ch.add_argument("--release", help="only this release (file name); default all")
    fe = sub.add_parser("fetch", help="download every published release attachment")
    fe.add_argument("--dest", default="data/releases")
    fe.add_argument("--api-url", help="gov.uk content API URL of the publication")
    fe.add_argument("--archive", action="append", default=[],
                    help="also fetch this archived publication API URL (repeatable)")
    fe.add_argument("--deadline", type=float, default=None, metavar="SECONDS",
                    help="stop the whole run after this long (default 3600)")
    dbg = sub.add_parser("debug", help="PNG pages with the PDF reader's table areas, column "
                         "bounds, row boxes and dropped page furniture drawn on them")
    dbg.add_argument("file", metavar="FILE.pdf")
    dbg.add_argument("--pages", help="pages to draw, e.g. 3-5 or 1,4-6 (default all)")
    dbg.add_argument("--out", required=True, help="folder for the PNG files")
    return p


def _summary(results: list[FileResult]) -> None:
    """One block per file on stdout: what was loaded, what could not be mapped, warnings."""
    for r in results:
        if r.status == "failed":
            continue
        if r.status == "unchanged":
            print(f"{r.path.name}: unchanged (already ingested)")
            continue
        if r.status == "duplicate":
            print(f"{r.path.name}: skipped, {r.reason}")
            continue
        rows = ", ".join(f"{k} {v}" for k, v in sorted(r.rows_by_section.items())) or "no rows"
        print(f"{r.path.name}: {r.status}; rows per section: {rows}")
        for rep in r.reports:
            print(f"  table {_table_line(rep)}")
        for u in r.unmapped[:MAX_UNMAPPED_LINES]:
            print(f"  unmapped column kept in extra_cells: {u}")
        if len(r.unmapped) > MAX_UNMAPPED_LINES:
            print(f"  ... and {len(r.unmapped) - MAX_UNMAPPED_LINES:,} more unmapped columns "
                  "kept in extra_cells (all listed in the unmapped_columns table)")
        for w in r.warnings:
            print(f"  warning: {w}")


MAX_UNMAPPED_LINES = 10  # a 16,384-column sheet must not print 16,380 lines


def _table_line(rep: dict[str, object]) -> str:
    """One table_reports row as a summary line: section, where, rows, warnings, confidence."""
    if rep.get("sheet") is not None:
        where = f"sheet {visible(rep['sheet'])!r}"
    elif rep.get("first_page") is not None:
        first, last = rep["first_page"], rep.get("last_page") or rep["first_page"]
        where = f"page {first}" if first == last else f"pages {first}-{last}"
    else:
        where = "CSV"
    return (f"{rep.get('table_index', 0)}: {visible(rep['section'])}, {where}, "
            f"{rep['row_count']} rows, {rep['warning_count']} warnings, "
            f"confidence {float(rep['confidence']):.2f}")  # type: ignore[arg-type]


def _visible_result(r: FileResult) -> FileResult:
    """The result with every file-derived string made terminal-safe (:func:`visible`): a file
    name with a newline cannot forge an ``error:`` line, nor an ANSI escape reach the screen."""
    return dataclasses.replace(
        r, path=Path(visible(r.path)), reason=visible(r.reason),
        rows_by_section={visible(k): v for k, v in r.rows_by_section.items()},
        unmapped=[visible(u) for u in r.unmapped], warnings=[visible(w) for w in r.warnings])


def run_ingest(args: argparse.Namespace, console: Console) -> int:
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("pages"), TimeElapsedColumn(), console=console,
        disable=args.quiet,
    )

    def on_file(path: Path):  # type: ignore[no-untyped-def]
        # Rich reads the description as markup: escape it, and show control characters.
        task = progress.add_task(escape(visible(path.name)[:50]), total=None)

        def on_page(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return on_page

    with progress:
        settings = {"reader": args.reader} if args.reader else None
        results = ingest(args.paths, args.db, on_file=on_file, settings=settings)
    if not results:
        print(f"error: no PDF, ODS, XLSX or CSV files found in "
              f"{' '.join(visible(p) for p in args.paths)}",
              file=sys.stderr)
        return 1
    results = [_visible_result(r) for r in results]  # names and cells come from files
    _summary(results)
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        print(f"error: {r.path}: {r.reason}", file=sys.stderr)
    ok = len(results) - len(failed)
    print(f"{ok} of {len(results)} files loaded or up to date in {db_path(args.db)}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    # `python -m extract PATH...` means ingest; so does `python -m extract -- -odd-name.csv`
    # (after `--` every word is a path, even one starting with a dash) and any ingest option.
    lead = 1 if argv[:1] == ["--debug"] else 0
    first = argv[lead] if len(argv) > lead else None
    if first is not None and first not in SUBCOMMANDS and first not in ("-h", "--help"):
        argv.insert(lead, "ingest")  # also `python -m extract -q --db F PATH...`
    args = _parser().parse_args(argv)
    console = Console(stderr=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    try:
        if args.command == "ingest":
            return run_ingest(args, console)
        if args.command == "changes":
            from extract.history import cli_changes

            return cli_changes(args)
        if args.command == "fetch":
            from extract.fetch import cli_fetch

            return cli_fetch(args)
        if args.command == "debug":
            from extract.pdf_debug import cli_debug

            return cli_debug(args.file, args.pages, args.out)
        _parser().print_help()
        return 2
    except DatabaseError as exc:
        print(f"error: {visible(exc)}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, duckdb.InterruptException):
        return _interrupted(args.command)
    except Terminated as exc:
        print(f"error: stopped by {exc}; database left as it was", file=sys.stderr)
        return 128 + exc.signum
    except Exception as exc:
        if debug:
            raise
        if is_interrupt(exc):  # Ctrl-C as DuckDB reports it inside some calls
            return _interrupted(args.command)
        print(f"error: {type(exc).__name__}: {visible(exc)}", file=sys.stderr)
        return 1


def _interrupted(command: str | None) -> int:
    """One line for Ctrl-C, saying what was kept; exit status 130 as shells expect."""
    left = "no partial download kept" if command == "fetch" else "database left as it was"
    print(f"error: interrupted; {left}", file=sys.stderr)
    return 130
