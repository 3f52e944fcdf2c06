"""How long ``extract.history.rebuild`` takes on a register of ~100,000 share rows.

    python bench/bench_history.py [--releases 20] [--per-release 5000]

Builds a database of cumulative releases straight into ``shares`` (no readers: this measures
history only). Each release keeps ~96% of the previous one's shares, edits ~3% of them
(status, wording, re-cased or re-spaced text that must *not* count) and adds new ones; one
reference in fifty is shared by two organisations and one share in ten has no reference.
Prints the time and the rows per second, and the ratio to a plain full scan of ``shares``
so the figure means something on another machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extract.db import writable
from extract.history import rebuild
from extract.ingest import order_releases

ORGS = ["University College London", "FFT Education Ltd", "Times Newspapers Limited",
        "Department for Work and Pensions", "Kent County Council", "Sutton Trust"]


def build(con, releases: int, per_release: int, seed: int = 0) -> int:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    live: dict[int, dict[str, object]] = {}
    next_id = 0
    rows: list[dict[str, object]] = []
    for r in range(1, releases + 1):
        period = dt.date(2018 + r // 4, 3 * (r % 4) + 1, 1)
        con.execute(
            "INSERT INTO releases (release_id, source_file, sha256, format, period_end, "
            "ingested_at, extractor_version) VALUES (?, ?, 'x', 'ods', ?, now(), 'bench')",
            [r, f"release_{r:02d}.ods", period])
        for sid in [s for s in live if rng.random() < 0.04]:
            del live[sid]
        for share in rng.sample(list(live.values()), k=min(len(live), per_release // 30)):
            share["status"] = rng.choice(["approved", "Approved", "pending", "data shared"])
            share["data_shared"] = str(share["data_shared"]).upper() if rng.random() < .5 \
                else f"{share['data_shared']}, ethnicity"
        while len(live) < per_release:
            next_id += 1
            # one share in ten has no reference; one in fifty reuses another's reference
            number = next_id // 2 if next_id % 50 == 1 else next_id
            ref = None if next_id % 10 == 0 else f"DS{number:05d}"
            live[next_id] = {
                "reference": ref, "organisation": rng.choice(ORGS),
                "project": f"Project {next_id}", "purpose": "Research into outcomes",
                "data_shared": "UPN, KS2 attainment, FSM eligibility",
                "classification": "personal level data of sensitivity level C",
                "date_approved": period - dt.timedelta(days=rng.randint(1, 90)),
                "status": "pending",
            }
        for n, share in enumerate(live.values()):
            rows.append({**share, "release_id": r, "source_file": f"release_{r:02d}.ods",
                         "section": "dsap", "source_row": n + 2,
                         "raw_cells": json.dumps({"Reference": share["reference"]})})
    df = pd.DataFrame(rows)
    con.execute("INSERT INTO shares BY NAME SELECT * FROM df")
    return len(df)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--releases", type=int, default=20)
    p.add_argument("--per-release", type=int, default=5000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp, writable(Path(tmp) / "bench.duckdb") as con:
        n = build(con, args.releases, args.per_release)
        t0 = time.perf_counter()
        con.execute("SELECT count(*), count(DISTINCT data_shared), max(length(raw_cells)) "
                    "FROM shares").fetchall()
        scan = time.perf_counter() - t0
        t0 = time.perf_counter()
        order_releases(con)
        rebuild(con)
        took = time.perf_counter() - t0
        changes = con.execute("SELECT change, count(*) FROM share_changes GROUP BY 1 "
                              "ORDER BY 1").fetchall()
        keys = con.execute("SELECT count(*) FROM share_history").fetchone()[0]  # type: ignore[index]
    print(f"{n:,} share rows over {args.releases} releases -> {keys:,} shares; changes {changes}")
    print(f"rebuild: {took:.2f} s ({n / took:,.0f} rows/s); "
          f"{took / max(scan, 1e-6):.0f}x a full scan of shares ({scan * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
