"""Command line for the analysis: ``python -m analysis COMMAND``.

    python -m analysis classify NAME...            # CSV: name,sector,reason,confidence
    python -m analysis evaluate [--labelled FILE]  # listed vs unlisted names: accuracy, P/R
    python -m analysis export [--db FILE] --out FILE.csv|.xlsx|.parquet
    python -m analysis rebuild [--db FILE]         # re-apply edited data/reference files
    python -m analysis review [--db FILE] [--overrides FILE.csv]  # unknown/low-confidence
    python -m analysis figures [--period 2012-03..2020-06] [--format table|csv|json]
    python -m analysis query NAME [--param k=v]... | --list
    python -m analysis brief [--release LABEL] --out brief.html

Errors are one line on stderr (``error: <file>: <reason>``) with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXPORT_TYPES = (".csv", ".xlsx", ".parquet")
EXPORT_DESCRIPTION = (
    "Commercial re-use of identifying pupil-level data: per release, the commercial "
    "recipients of identifying pupil-level shares (summary, by_organisation) and every "
    "register row behind each count (rows, linked by count_id), with release, reference, "
    "page or sheet and row")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classify", help="print the sector of each recipient name as CSV")
    c.add_argument("names", nargs="+", metavar="NAME")
    e = sub.add_parser("evaluate", help="precision and recall on hand-labelled organisations")
    e.add_argument("--labelled", type=Path, help="name,sector CSV (default: "
                   "tests/data/labelled_organisations.csv and tests/data/names_unseen.csv)")
    x = sub.add_parser("export", help="commercial re-use statistics with the rows behind them")
    x.add_argument("--db", help="DuckDB file (default data/npd_register.duckdb or $NPD_DB)")
    x.add_argument("--out", required=True, type=Path, help="FILE.csv, FILE.xlsx or FILE.parquet")
    r = sub.add_parser("rebuild", help="recompute organisations, sectors and flags in a database")
    r.add_argument("--db")
    v = sub.add_parser("review", help="recipients whose sector is unknown or low-confidence, "
                       "with ready-to-edit overrides.csv rows")
    v.add_argument("--db", help="DuckDB file (default data/npd_register.duckdb or $NPD_DB)")
    v.add_argument("--overrides", type=Path, metavar="FILE.csv",
                   help="write the rows in overrides.csv's format (name,sector,note) to FILE")
    _add_g_parsers(sub)
    return p


def _add_g_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """figures, query and brief (analysis/figures.py, queries.py, brief.py)."""
    f = sub.add_parser("figures", help="published figures recomputed, with the rows behind each")
    f.add_argument("--db")
    f.add_argument("--period", help="recompute every figure over YYYY-MM..YYYY-MM")
    f.add_argument("--format", choices=("table", "csv", "json"), default="table")
    f.add_argument("--rows", metavar="ID", help="print the rows behind one figure (CSV)")
    q = sub.add_parser("query", help="run a ready-made question (data/queries/*.sql)")
    q.add_argument("name", nargs="?", metavar="NAME")
    q.add_argument("--db")
    q.add_argument("--param", action="append", default=[], metavar="K=V")
    q.add_argument("--list", action="store_true", help="list the questions")
    q.add_argument("--format", choices=("table", "csv", "json"), default="table")
    b = sub.add_parser("brief", help="a self-contained HTML briefing on one release")
    b.add_argument("--db")
    b.add_argument("--release", metavar="LABEL", help="period label or file (default: latest)")
    b.add_argument("--out", required=True, type=Path)


def _classify(names: list[str]) -> int:
    """CSV on stdout, neutralised like every other CSV we write: the output is often
    redirected to a file and opened in a spreadsheet, and names may be pasted from anywhere."""
    from analysis.classify import classify_recipient
    from analysis.export import neutralise_cell

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["name", "sector", "reason", "confidence"])
    for name in names:
        c = classify_recipient(name)
        out.writerow([neutralise_cell(v) for v in (name, c.sector, c.reason,
                                                    f"{c.confidence:.2f}")])
    return 0


def _evaluate(path: Path | None) -> int:
    from analysis.evaluate import LABELLED, UNSEEN, full_report, load_labelled_rows
    from extract.model import IngestError

    files = {}
    for src in ([path] if path else [LABELLED, UNSEEN]):
        try:
            files[src.name] = load_labelled_rows(src)
        except IngestError as exc:
            print(f"error: {src}: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"error: {src}: cannot read ({exc.strerror or exc})", file=sys.stderr)
            return 1
    print(full_report(files))
    return 0


def _export(db: str | None, out: Path) -> int:
    import duckdb

    from analysis.export import (
        ABOUT_SHEET,
        SAMPLE_NOTICE,
        about_sheet,
        commercial_reuse,
        commercial_reuse_flat,
        sample_releases,
        to_csv_bytes,
        to_parquet_bytes,
        to_xlsx_bytes,
    )
    from extract.db import connect_readonly, db_path

    suffix = out.suffix.lower()
    if suffix not in EXPORT_TYPES:
        print(f"error: {out}: unsupported export type {suffix or '(none)'}; expected "
              ".csv, .xlsx or .parquet", file=sys.stderr)
        return 2
    try:
        con = connect_readonly(db)
    except FileNotFoundError:
        print(f"error: {db_path(db)}: no database; run `python -m extract PATH... --db FILE` "
              "first", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(f"error: {db_path(db)}: not a readable database ({exc})", file=sys.stderr)
        return 1
    try:
        tables = commercial_reuse(con)
        releases = list(tables["summary"]["release_file"])
        samples = sample_releases(con, releases)
        about = about_sheet(con, EXPORT_DESCRIPTION, release_files=releases)
    except duckdb.Error as exc:
        print(f"error: {db_path(db)}: no analysis views; re-ingest with this version "
              f"({str(exc).splitlines()[0]})", file=sys.stderr)
        return 1
    finally:
        con.close()
    if suffix == ".xlsx":
        data = to_xlsx_bytes({ABOUT_SHEET: about, **tables})
    elif suffix == ".csv":
        data = to_csv_bytes(commercial_reuse_flat(tables))
    else:
        data = to_parquet_bytes(commercial_reuse_flat(tables))
    try:
        out.write_bytes(data)
    except OSError as exc:
        print(f"error: {out}: cannot write ({exc.strerror})", file=sys.stderr)
        return 1
    n = len(tables["rows"])
    print(f"wrote {out}: {len(tables['by_organisation'])} counts backed by {n} register rows",
          file=sys.stderr)
    if samples:
        print(f"note: {SAMPLE_NOTICE} ({len(samples)} of {len(releases)} releases); "
              "marked in the is_sample column", file=sys.stderr)
    return 0


def _rebuild(db: str | None) -> int:
    from analysis.pipeline import rebuild
    from extract.db import DatabaseError, db_path, writable

    path = db_path(db)
    if not path.exists():
        print(f"error: {path}: no database", file=sys.stderr)
        return 1
    try:
        with writable(path) as con:
            rebuild(con)
    except DatabaseError as exc:  # already "<path>: <reason>"
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"rebuilt organisations, sectors and flags in {path}", file=sys.stderr)
    return 0


def _review(db: str | None, overrides: Path | None) -> int:
    """The recipients a person should check, most shares first; optionally their rows for
    data/reference/overrides.csv, ready to edit (sector and note) and paste in."""
    import duckdb

    from analysis.classify import LOW_CONFIDENCE
    from analysis.commands import CommandError, _connect
    from analysis.review import overrides_csv, review_table
    from extract.db import db_path

    try:
        con = _connect(db)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        table = review_table(con)
    except duckdb.Error as exc:
        print(f"error: {db_path(db)}: no organisations table; re-ingest with this version "
              f"({str(exc).splitlines()[0]})", file=sys.stderr)
        return 1
    finally:
        con.close()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["name", "sector", "confidence", "shares", "reason"])
    from analysis.export import neutralise_cell

    for row in table.itertuples():
        out.writerow([neutralise_cell(v) for v in (row.name, row.sector,
                                                    f"{row.confidence:.2f}", row.shares,
                                                    row.reason)])
    print(f"{len(table)} organisations ({int(table['shares'].sum())} shares) have an unknown "
          f"sector or one below {LOW_CONFIDENCE:.2f} confidence", file=sys.stderr)
    if overrides is not None:
        try:
            overrides.write_text(overrides_csv(table), encoding="utf-8")
        except OSError as exc:
            print(f"error: {overrides}: cannot write ({exc.strerror})", file=sys.stderr)
            return 1
        print(f"wrote {overrides}: {len(table)} rows in overrides.csv format; set each "
              "sector and note, then add them to data/reference/overrides.csv and run "
              "`python -m analysis rebuild`", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from analysis.reference import ReferenceError

    try:
        if args.command == "classify":
            return _classify(args.names)
        if args.command == "evaluate":
            return _evaluate(args.labelled)
        if args.command == "export":
            return _export(args.db, args.out)
        if args.command == "review":
            return _review(args.db, args.overrides)
        if args.command in ("figures", "query", "brief"):
            from analysis.commands import run

            return run(args)
        return _rebuild(args.db)
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return 0
    except ReferenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback for a user
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
