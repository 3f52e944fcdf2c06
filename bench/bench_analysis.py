"""Benchmark analysis.pipeline.rebuild at register scale (default 100,000 shares, 20 releases).

    python bench/bench_analysis.py [--shares 100000] [--releases 20] [--db FILE]

Builds a database from the bundled sample releases (``data/sample``, ingested once into a
temporary file), replicates their share rows across releases up to the target size - as the
real cumulative register repeats shares - and perturbs a realistic fraction so the work is not
all cache hits: re-spelt recipient names (case, "Ltd"/"Limited", typos), new recipients, and
re-worded data descriptions. Then it times the rebuild phase by phase and prints ratios (per
1,000 shares, per distinct name / text). Nothing is asserted: speed is reported, not tested.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analysis.pipeline import (  # noqa: E402
    flag_tables,
    organisation_tables,
    read_shares,
    rebuild,
)
from analysis.reference import clear_caches  # noqa: E402
from extract.db import writable  # noqa: E402
from extract.ingest import ingest  # noqa: E402

WORDS = ("Northern", "Civic", "Bright", "Learning", "Analytics", "Insight", "Data", "Policy",
         "Research", "Outcomes", "Pathways", "Evidence", "Futures", "Education", "Metrics")
SUFFIXES = ("Ltd", "Limited", "LLP", "Trust", "Foundation", "University", "Consulting Ltd")


def _respell(name: str, rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.3:
        return name.upper()
    if choice < 0.5:
        return name.replace("Limited", "Ltd") if "Limited" in name else f"The {name}"
    if choice < 0.7 and len(name) > 8:  # a transposition typo
        i = rng.randrange(2, len(name) - 2)
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return name + " "


def build(path: Path, shares: int, releases: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "sample.duckdb"
        ingest([REPO / "data" / "sample"], base)
        import duckdb

        src = duckdb.connect(str(base), read_only=True)
        rows = src.execute("SELECT * EXCLUDE (share_id) FROM shares").df()
        rels = src.execute("SELECT * FROM releases ORDER BY release_order").df()
        src.close()
    per_release = max(1, shares // releases)
    frames = []
    new_names = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)}"
                 for _ in range(max(50, shares // 200))]
    for r in range(releases):
        part = rows.sample(n=per_release, replace=True, random_state=seed + r).copy()
        part["release_id"] = r + 1
        part["source_file"] = f"BENCH_release_{r + 1:02d}.ods"
        orgs = part["organisation"].astype(object)
        pick = [rng.random() for _ in range(len(part))]
        part["organisation"] = [
            rng.choice(new_names) if p < 0.05 else _respell(o, rng) if p < 0.10 and
            isinstance(o, str) else o for p, o in zip(pick, orgs, strict=True)]
        data = part["data_shared"].astype(object)
        part["data_shared"] = [
            f"{d} Years {2010 + rng.randrange(14)} to {2015 + rng.randrange(9)}."
            if isinstance(d, str) and rng.random() < 0.15 else d for d in data]
        frames.append(part)
    big = pd.concat(frames, ignore_index=True)
    template = rels.iloc[0].to_dict()
    with writable(path) as con:
        release_rows = pd.DataFrame([
            {**template, "release_id": r + 1, "source_file": f"BENCH_release_{r + 1:02d}.ods",
             "sha256": f"bench{r}", "release_order": r + 1,
             "period_end": pd.Timestamp(2014 + r // 4, 3 * (r % 4) + 3, 28)}
            for r in range(releases)])
        for table, df in (("releases", release_rows), ("shares", big)):
            con.register("_bench_rows", df)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _bench_rows")  # noqa: S608
            con.unregister("_bench_rows")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shares", type=int, default=100_000)
    ap.add_argument("--releases", type=int, default=20)
    ap.add_argument("--db", type=Path, help="keep the benchmark database here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.duckdb"
        path.unlink(missing_ok=True)  # always a fresh database of the requested size
        t0 = time.perf_counter()
        build(path, args.shares, args.releases)
        print(f"built {args.shares:,} shares in {args.releases} releases: "
              f"{time.perf_counter() - t0:.1f} s (setup, not measured below)")
        import duckdb

        con = duckdb.connect(str(path))
        clear_caches()
        t = time.perf_counter()
        shares = read_shares(con)
        t_read = time.perf_counter() - t
        names = shares["organisation"].map(lambda v: v if isinstance(v, str) else "")
        t = time.perf_counter()
        orgs = organisation_tables(names.value_counts().to_dict())
        t_orgs = time.perf_counter() - t
        t = time.perf_counter()
        flags = flag_tables(shares)
        t_flags = time.perf_counter() - t
        clear_caches()
        t, c = time.perf_counter(), time.process_time()
        rebuild(con)
        t_total, c_total = time.perf_counter() - t, time.process_time() - c
        t = time.perf_counter()
        rebuild(con)  # a second run: the same work again (caches are cleared by design)
        t_again = time.perf_counter() - t
        con.close()
    n = len(shares)
    spellings = len(orgs.names)
    texts = len(flags.identifying)
    print(f"{'phase':<34}{'seconds':>9}  ratio")
    print(f"{'read shares':<34}{t_read:>9.2f}  {1000 * t_read / n * 1000:.1f} ms per 1,000 shares")
    print(f"{'organisations (' + format(spellings, ',') + ' spellings)':<34}{t_orgs:>9.2f}  "
          f"{1000 * t_orgs / spellings:.2f} ms per distinct spelling")
    print(f"{'flags (' + format(texts, ',') + ' distinct texts)':<34}{t_flags:>9.2f}  "
          f"{1000 * t_flags / texts:.2f} ms per distinct text")
    print(f"{'rebuild total':<34}{t_total:>9.2f}  {1000 * t_total / n * 1000:.1f} ms per "
          f"1,000 shares; {len(orgs.organisations):,} organisations")
    print(f"{'rebuild total, CPU time':<34}{c_total:>9.2f}  (wall / CPU "
          f"{t_total / c_total:.2f}: above 1 when other processes share the cores)")
    print(f"{'rebuild again':<34}{t_again:>9.2f}  ratio to first {t_again / t_total:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
