"""Command line: ``python -m extract PATH... [--db FILE]`` and its subcommands.

    python -m extract data/sample                 # ingest files/folders (default command)
    python -m extract ingest PATH... --db my.duckdb
    python -m extract changes [--db FILE]         # what changed between releases
    python -m extract fetch [--dest data/releases] # download the published releases

Errors are one line on stderr naming the file and the reason; the exit status is 1 if any
file failed, 2 for usage errors. Tracebacks are never shown unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from extract.db import DatabaseError, db_path
from extract.ingest import FileResult, ingest
from extract.settings import READERS, ReaderSettings

SUBCOMMANDS = ("ingest", "changes", "fetch")
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
        for u in r.unmapped:
            print(f"  unmapped column kept in extra_cells: {u}")
        for w in r.warnings:
            print(f"  warning: {w}")


def run_ingest(args: argparse.Namespace, console: Console) -> int:
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("pages"), TimeElapsedColumn(), console=console,
        disable=args.quiet,
    )

    def on_file(path: Path):  # type: ignore[no-untyped-def]
        task = progress.add_task(path.name[:50], total=None)

        def on_page(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return on_page

    with progress:
        settings = {"reader": args.reader} if args.reader else None
        results = ingest(args.paths, args.db, on_file=on_file, settings=settings)
    if not results:
        print(f"error: no PDF, ODS, XLSX or CSV files found in {' '.join(args.paths)}",
              file=sys.stderr)
        return 1
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
    if argv and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "ingest")  # `python -m extract PATH...`
    elif argv and argv[0] == "--debug" and len(argv) > 1 and argv[1] not in SUBCOMMANDS:
        argv.insert(1, "ingest")
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
        _parser().print_help()
        return 2
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; database left as it was", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
