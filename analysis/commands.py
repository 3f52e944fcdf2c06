"""The ``figures``, ``query`` and ``brief`` commands: parse nothing, call one library function,
print its result, turn its errors into one line.

Kept out of ``analysis/__main__.py`` so that file stays a list of subcommands.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

import duckdb


class CommandError(Exception):
    """Printed as ``error: <message>`` with exit status 1."""


def _connect(db: str | None) -> duckdb.DuckDBPyConnection:
    from extract.db import connect_readonly, db_path

    try:
        return connect_readonly(db)
    except FileNotFoundError:
        raise CommandError(f"{db_path(db)}: no database; run `python -m extract PATH... "
                           "--db FILE` first") from None
    except duckdb.Error as exc:
        raise CommandError(f"{db_path(db)}: not a readable database "
                           f"({str(exc).splitlines()[0]})") from None


def _write_csv(rows: list[dict[str, Any]] | Any) -> None:
    from analysis.export import neutralise

    df = neutralise(rows)
    df.to_csv(sys.stdout, index=False, lineterminator="\n")


def figures(args: argparse.Namespace) -> int:
    from analysis import figures as fig

    period = fig.Period.parse(args.period) if args.period else None
    con = _connect(args.db)
    try:
        results = fig.compute_all(con, period)
    finally:
        con.close()
    if args.rows:
        hit = [r for r in results if r.figure.id == args.rows]
        if not hit:
            raise CommandError(f"{fig.FIGURES_CSV.name}: no figure {args.rows!r}; one of "
                               + ", ".join(r.figure.id for r in results))
        if not hit[0].covered:
            raise CommandError(f"{args.rows}: not covered by the loaded releases "
                               f"({hit[0].coverage})")
        _write_csv(fig.rows_table(hit[0]))
        return 0
    if args.format == "csv":
        _write_csv(fig.summary_table(results))
    elif args.format == "json":
        print(json.dumps(fig.to_json(results), indent=1, default=str, ensure_ascii=False))
    else:
        print(fig.format_table(results))
    return 0


def query(args: argparse.Namespace) -> int:
    from analysis import queries as q

    questions = q.load_questions()
    if args.list or not args.name:
        for question in questions.values():
            params = ", ".join(f"{p.name}={p.default}" for p in question.params)
            print(f"{question.name}: {question.title}" + (f" [{params}]" if params else ""))
        return 0
    if args.name not in questions:
        raise CommandError(f"{args.name}: no such question; `python -m analysis query --list`")
    params: dict[str, str] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--param {item!r}: expected NAME=VALUE")
        params[key.strip()] = value
    con = _connect(args.db)
    try:
        result = q.run(con, questions[args.name].sql, q.bind(questions[args.name], params))
    finally:
        con.close()
    if args.format == "csv":
        _write_csv(result.frame)
    elif args.format == "json":
        print(result.frame.to_json(orient="records", date_format="iso", force_ascii=False))
    else:
        print(result.frame.to_string(index=False, max_colwidth=60) if len(result.frame)
              else "(no rows)")
    if result.truncated:
        print(f"note: only the first {result.cap} rows are shown", file=sys.stderr)
    return 0


def brief(args: argparse.Namespace) -> int:
    from analysis import brief as b

    con = _connect(args.db)
    try:
        html = b.build(con, args.release)
    finally:
        con.close()
    try:
        args.out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    from analysis.brief import BriefError
    from analysis.figures import FigureError
    from analysis.queries import QueryError

    handler = {"figures": figures, "query": query, "brief": brief}[args.command]
    try:
        return handler(args)
    except (CommandError, FigureError, QueryError, BriefError) as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 1
    except csv.Error as exc:
        print(f"error: cannot write CSV ({exc})", file=sys.stderr)
        return 1
