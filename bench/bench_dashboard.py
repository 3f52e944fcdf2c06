"""How fast the dashboard's pages answer on a register of 100,000 shares.

    python bench/bench_dashboard.py [--shares 100000] [--rebuild] [--repeat 5]
    python bench/bench_dashboard.py --browser [--repeat 3]   # + real pages in Chromium

Builds (once, cached under bench/out/) a database of about 100,000 shares: the bundled
sample releases are ingested, then every distinct share is copied into numbered variants and
spread over 20 quarterly releases (each share listed from a start release until it is
removed or the register ends, some changing status on the way), and the real derive step
(release order, history, organisations, sectors, flags) runs over the whole lot. Then it
times, without Streamlit's cache, the same :mod:`views.data` functions each page calls on
a rerun, each on its own read-only connection as the app opens them, and prints the median
and worst milliseconds per interaction against the 300 ms budget.

With ``--browser`` it then runs ``streamlit run app.py`` on the sample database and on the
100,000-share one and drives headless Chromium (Debian's, through Playwright) at 1280x800:
for every page, the time from navigation start to the page's key element being drawn (the
page's first visit since the server started and its background warm-up finished, then the
median of repeat visits); for a sidebar link, a filter click, a search and a row click, the
time from the input event reaching the page to the result being drawn (both on the page's
own clock: :data:`INPUT_CLOCK`). Beside each it prints the server-side script time of the
runs the interaction caused, read from the log ``app.py`` writes when ``$NPD_TIMING_LOG`` is
set (:func:`views.common.log_run_time`). Budgets: 1 s in the browser, 300 ms on the server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from extract.db import connect_readonly, writable  # noqa: E402
from extract.ingest import derive, ingest  # noqa: E402
from views import data  # noqa: E402

OUT = REPO / "bench" / "out"
RELEASES = 20
BUDGET_MS = 300.0


def build(db: Path, target: int) -> None:
    """The scaled database (see module docstring)."""
    seed = OUT / "sample.duckdb"
    if not seed.exists():
        ingest([REPO / "data" / "sample"], seed)
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with writable(db) as con:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(seed)])
        # The last version of every distinct share of the sample register.
        con.execute("""
            CREATE TEMP TABLE base AS
            SELECT s.* EXCLUDE (share_id, release_id, source_file, share_key,
                                organisation_id, sector, identifying, pupil_level),
                   coalesce(s.share_key, 'id' || s.share_id) AS k
            FROM src.shares s JOIN src.releases r USING (release_id)
            QUALIFY row_number() OVER (PARTITION BY coalesce(s.share_key, 'id' || s.share_id)
                                       ORDER BY r.release_order DESC) = 1""")
        distinct = con.execute("SELECT count(*) FROM base").fetchone()[0]  # type: ignore[index]
        # Enough numbered variants of each share: every one is listed for at least 5 releases.
        copies = -(-target // (distinct * 5))
        con.execute("""
            CREATE TEMP TABLE rel AS
            SELECT n, 1000 + n AS release_id,
                   'bench-dfe-external-data-shares-' || n || '.ods' AS source_file,
                   last_day(DATE '2018-12-01' + INTERVAL (3 * n) MONTH) AS period_end
            FROM range(1, ? + 1) t(n)""", [RELEASES])
        con.execute("""
            INSERT INTO releases (release_id, source_file, source_path, sha256, format, title,
                                  period_label, period_end, row_count, is_sample, ingested_at,
                                  extractor_version)
            SELECT release_id, source_file, 'bench/out/' || source_file, md5(source_file),
                   'ods', 'Benchmark release ' || n, strftime(period_end, '%B %Y'),
                   period_end, 0, true, now()::TIMESTAMP, 'bench'
            FROM rel""")
        # Each variant is listed from a start release until it is removed (or the end); take
        # variants in order until the register holds `target` rows.
        con.execute("""
            CREATE TEMP TABLE spans AS
            WITH s AS (
                SELECT b.k, c.k AS copy, 1 + hash(b.k, c.k) % 20 AS first_n,
                       least(20, 1 + hash(b.k, c.k) % 20 + 4 + hash(c.k, b.k) % 16) AS last_n
                FROM base b CROSS JOIN range(?) c(k))
            SELECT *, sum(last_n - first_n + 1) OVER (
                      ORDER BY copy, k ROWS UNBOUNDED PRECEDING) AS running
            FROM s QUALIFY running <= ?""", [copies, target])
        copies = con.execute("SELECT max(copy) + 1 FROM spans").fetchone()[0]  # type: ignore[index]
        con.execute("""
            INSERT INTO shares BY NAME
            SELECT b.* EXCLUDE (k, reference, status),
                   CASE WHEN sp.copy = 0 THEN b.reference
                        ELSE coalesce(b.reference, 'X') || '/' || sp.copy END AS reference,
                   CASE WHEN r.n >= sp.first_n + 2 AND hash(b.k, sp.copy, 'status') % 8 = 0
                        THEN 'Approved / received data' ELSE b.status END AS status,
                   r.release_id, r.source_file
            FROM base b JOIN spans sp ON sp.k = b.k
            JOIN rel r ON r.n BETWEEN sp.first_n AND sp.last_n""")
        con.execute("DETACH src")
        con.execute("""UPDATE releases SET row_count = c.n FROM (
                           SELECT release_id, count(*) AS n FROM shares GROUP BY ALL) c
                       WHERE releases.release_id = c.release_id""")
        t1 = time.perf_counter()
        derive(con)
        t2 = time.perf_counter()
    rows = count(db, "SELECT count(*) FROM shares")
    print(f"built {db.relative_to(REPO)}: {rows:,} shares in {RELEASES} releases "
          f"({distinct:,} distinct sample shares x {copies} variants); copy "
          f"{t1 - t0:.1f} s, real derive (history + analysis) {t2 - t1:.1f} s")


def count(db: Path, sql: str) -> int:
    with closing(connect_readonly(db)) as con:
        return int(con.execute(sql).fetchone()[0])  # type: ignore[index]


def timed(db: Path, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]], repeat: int
          ) -> tuple[float, float, float, float]:
    """One interaction (its queries, each on a fresh connection): best, median and worst wall
    ms, and median CPU ms of this process (DuckDB's threads included). On a shared machine
    wall time swells with other work; CPU time shows the work itself."""
    runs, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        for fn, args in calls:
            with data.connection(db) as con:  # as the app: one connection per query
                fn(con, *args)
        runs.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return min(runs), statistics.median(runs), max(runs), statistics.median(cpu)


# --- in the browser ---------------------------------------------------------------------------

BROWSER_BUDGET_MS = 1000.0
# Pages reached by their sidebar link (the others need parameters).
NAV_LINKS = ("Overview", "Shares explorer", "Recipients", "What changed", "Export", "Findings",
             "Home Office", "Questions", "Needs review", "Release health")
TIMEOUT_MS = 60_000
# The first row's selection box: it opens the row in the baseline too (now a click on any
# cell does as well).
ROW_CLICK_X = 18


class Server:
    """``streamlit run app.py`` on ``db`` with the run-time log on, on a free port."""

    def __init__(self, db: Path, log: Path, repo: Path = REPO, script: str = "app.py") -> None:
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.log = log
        self.repo = repo
        log.write_text("")
        env = {**os.environ, "NPD_DB": str(db), "NPD_TIMING_LOG": str(log)}
        self.out = (log.parent / (log.stem + ".server.txt")).open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless=true",
             f"--server.port={self.port}", "--server.address=127.0.0.1",
             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
            cwd=repo, env=env, stdout=self.out, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait()

    def _wait(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError("streamlit did not start")

    def runs(self) -> int:
        return len(self.log.read_text().splitlines())

    def run_ms_since(self, n: int) -> list[float]:
        import json

        return [json.loads(x)["ms"] for x in self.log.read_text().splitlines()[n:]]

    def warm_up_ms(self, timeout: float = 300) -> float | None:
        """Wait for the app's background warm-up (``views/warm.py``) to finish and return
        its duration; None for a script that has none (the floor pages)."""
        import json

        from views.warm import WARM_UP

        if not (self.repo / "views" / "warm.py").exists():
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines():
                entry = json.loads(line)
                if entry.get("page") == WARM_UP:
                    return float(entry["ms"])
            time.sleep(0.1)
        return None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:  # a benchmark's server must not outlive it
            self.proc.kill()
        self.out.close()


# Installed in every document: the time of the last input event (a click's pointerdown, a
# key press), on the page's own clock (performance.now()), so a click is timed from the
# moment it reaches the page and not from when Playwright started checking that the target
# is visible and still (50-250 ms on this machine, which a person's click does not have).
INPUT_CLOCK = """
window.__npdInput = null;
for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(type, (e) => { window.__npdInput = e.timeStamp; },
                            {capture: true});
}
"""


def _drawn(page: Any, server: Server, before: int, key: str) -> None:
    """Wait until the server finished at least one run after ``before`` and the browser has
    drawn it: the app is idle again and ``key`` (a CSS selector) is visible."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while server.runs() <= before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no script run for {key}")
        time.sleep(0.005)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=TIMEOUT_MS)
    page.locator(key).first.wait_for(state="visible", timeout=TIMEOUT_MS)
    # The grid and charts paint on the next frames.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")


def _timed_step(page: Any, server: Server, action: Callable[[], Any], key: str,
                navigation: bool = False) -> tuple[float, float, int]:
    """(browser ms, server ms summed over the runs it caused, number of runs).

    Browser ms are on the page's clock: from navigation start (``navigation``: a new
    document, whose ``performance.now()`` starts there), else from the input event the
    action caused (:data:`INPUT_CLOCK`), to the key element drawn."""
    page.wait_for_timeout(150)  # let any trailing rerun finish first
    before = server.runs()
    if not navigation:
        page.evaluate("() => { window.__npdInput = null; }")
    action()
    _drawn(page, server, before, key)
    since = page.evaluate("(nav) => nav ? 0 : window.__npdInput", navigation)
    if since is None:
        raise RuntimeError("the action reached the page as no pointer or key event")
    browser = float(page.evaluate("() => performance.now()")) - float(since)
    page.wait_for_timeout(250)  # a follow-up run (e.g. an address rewrite) belongs to it
    server_ms = server.run_ms_since(before)
    return browser, sum(server_ms), len(server_ms)


def browser_targets(db: Path) -> list[tuple[str, str, str]]:
    """(name, path, key element) for every page, on ``db``'s own data."""
    from urllib.parse import quote_plus

    with closing(connect_readonly(db)) as con:
        rel = data.releases(con)
        top = data.recipients(con, data.Filters(release_id=int(rel["release_id"].iloc[-1])))
        key, file = con.execute("""
            SELECT s.share_key, r.source_file FROM shares s JOIN releases r USING (release_id)
            WHERE s.share_key IS NOT NULL ORDER BY r.release_order DESC, s.share_id LIMIT 1
            """).fetchone()  # type: ignore[misc]
    org = quote_plus(str(top["name"].iloc[0]))
    grid = '[data-testid="stDataFrame"] canvas'
    targets = [
        ("Overview", "/", ".js-plotly-plot .main-svg"),
        ("Shares explorer", "/shares", grid),
        ("Explorer, all releases", "/shares?release=All+releases", grid),
        ("Recipients", "/recipients", grid),
        ("One organisation", f"/recipients?org={org}", grid),
        ("Share detail", f"/share?ref={quote_plus(key)}&in={quote_plus(file)}",
         '[data-testid="stTabs"]'),
        ("What changed", "/changes", '[data-testid="stHeading"]'),
        ("Export", "/export", '[data-testid="stDownloadButton"]'),
    ]
    for script, name, url in (("views/findings.py", "Findings", "/findings"),
                              ("views/home_office.py", "Home Office", "/home-office"),
                              ("views/questions.py", "Questions", "/questions"),
                              ("views/review.py", "Needs review", "/review"),
                              ("views/health.py", "Release health", "/health")):
        if (REPO / script).exists():
            targets.append((name, url, '[data-testid="stHeading"]'))
    return targets


def browser_bench(db: Path, label: str, repeat: int, repo: Path = REPO
                  ) -> list[tuple[str, str, float, float, float]]:
    """Time every page and the explorer's interactions in Chromium; print and return rows
    (database, interaction, browser ms, server ms, server ms of the first visit)."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM:
        raise SystemExit("no Chromium: apt-get install -y chromium")
    rows: list[tuple[str, str, float, float, float]] = []
    server = Server(db, OUT / f"runs-{db.stem}.jsonl", repo)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            ctx.add_init_script(INPUT_CLOCK)
            page = ctx.new_page()
            targets = browser_targets(db)
            print(f"\n{label}: {db.relative_to(REPO)} served from {repo}, Chromium 1280x800, "
                  f"{repeat} repeat visits each (first visit: the page's first since the server "
                  "started, after its warm-up)")
            head = (f"{'interaction':<34} {'first ms':>9} {'(server)':>9} {'browser ms':>11} "
                    f"{'server ms':>10} {'runs':>5}")
            print(head)
            print("-" * len(head))
            # Load the page bundle once, so the first timing is the app, not the JS download,
            # and let the caches' warm-up that this first visit starts finish (a reader
            # arrives some time after the server started).
            page.goto(server.url + "/export", wait_until="commit")
            _drawn(page, server, 0, '[data-testid="stDownloadButton"]')
            warm_ms = server.warm_up_ms()
            print(f"(background warm-up of the pages' first views: "
                  f"{'none' if warm_ms is None else f'{warm_ms:,.0f} ms'})")

            def report(name: str, steps: list[tuple[float, float, int]]) -> None:
                first, rest = steps[0], steps[1:] or steps[:1]
                b = statistics.median(x[0] for x in rest)
                srv = statistics.median(x[1] for x in rest)
                n = max(x[2] for x in rest)
                rows.append((label, name, b, srv, first[1]))
                print(f"{name:<34} {first[0]:>9.0f} {first[1]:>9.0f} {b:>11.0f} {srv:>10.0f} "
                      f"{n:>5}")

            for name, path, key in targets:
                steps = []
                for _ in range(repeat + 1):
                    def go(path: str = path) -> None:
                        page.goto(server.url + path, wait_until="commit")
                    steps.append(_timed_step(page, server, go, key, navigation=True))
                report(f"open {name}", steps)

            # In-app navigation: a click on the page's link in the sidebar (no page reload),
            # first to a page not yet shown in this tab since it loaded (the browser fetches
            # and starts the page's element modules, e.g. plotly's 4.7 MB), then back to it
            # after another page (what a reader going back and forth meets).
            def link(name: str) -> Any:
                return page.get_by_test_id("stSidebarNav").get_by_role("link", name=name)

            for name, _path, key in targets:
                if name not in NAV_LINKS:
                    continue
                other = "Export" if name != "Export" else "Overview"
                steps, again = [], []
                for _ in range(repeat + 1):
                    before = server.runs()
                    page.goto(server.url + ("/export" if name != "Export" else "/"),
                              wait_until="commit")
                    _drawn(page, server, before, '[data-testid="stHeading"]')
                    steps.append(_timed_step(page, server, link(name).click, key))
                    _timed_step(page, server, link(other).click, '[data-testid="stHeading"]')
                    again.append(_timed_step(page, server, link(name).click, key))
                report(f"nav link to {name}", steps)
                report(f"nav link back to {name}", again)

            grid = '[data-testid="stDataFrame"] canvas'
            # The explorer: a sector filter click (on, then off again), a search, a row click.
            steps = []
            for i in range(repeat + 1):
                page.goto(server.url + "/shares?release=All+releases", wait_until="commit")
                _drawn(page, server, server.runs() - 1, grid)
                page.get_by_test_id("stMultiSelect").filter(has_text="Recipient sector").click()
                option = page.get_by_role("option", name="Commercial" if i % 2 == 0 else "Press")
                steps.append(_timed_step(page, server, option.click, grid))
                page.keyboard.press("Escape")
            report("explorer: sector filter click", steps)

            steps = []
            for i in range(repeat + 1):
                page.goto(server.url + "/shares", wait_until="commit")
                _drawn(page, server, server.runs() - 1, grid)
                box = page.get_by_role("textbox", name="Search")
                box.fill(("university", "pupil level", "survey", "school")[i % 4])
                steps.append(_timed_step(page, server, lambda b=box: b.press("Enter"), grid))
            report("explorer: search", steps)

            steps = []
            for _ in range(repeat + 1):
                page.goto(server.url + "/shares", wait_until="commit")
                _drawn(page, server, server.runs() - 1, grid)
                canvas = page.locator(grid).first.bounding_box()
                assert canvas is not None

                def click(c: dict[str, float] = canvas) -> None:
                    page.mouse.click(c["x"] + ROW_CLICK_X, c["y"] + 35 + 17)
                steps.append(_timed_step(page, server, click, '[data-testid="stTabs"]'))
            report("explorer: row click opens share", steps)
            browser.close()
    finally:
        server.stop()
    return rows


FLOOR = REPO / "bench" / "floor"


def floor_bench(repeat: int) -> list[tuple[str, str, float, float, float]]:
    """Streamlit's own cost of opening a page on this machine, timed like the dashboard's
    pages: an empty page (``bench/floor/bare.py``) and one made of the elements our pages
    use, with no database (``bench/floor/elements.py``: sidebar filters, metrics and a data
    grid, then with a plotly chart too). A page of ours holding those elements cannot open
    faster than that."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    rows: list[tuple[str, str, float, float, float]] = []
    print(f"\nStreamlit floor: pages with no data of ours, Chromium 1280x800, {repeat} "
          "repeat visits each")
    grid = '[data-testid="stDataFrame"] canvas'
    pages = (("bare.py", "", "bare page (heading only)", '[data-testid="stHeading"]'),
             ("elements.py", "", "filters, metrics, data grid", grid),
             ("elements.py", "?chart=1", "filters, metrics, grid, plotly chart",
              ".js-plotly-plot .main-svg"))
    for script, query, name, key in pages:
        server = Server(OUT / "floor.duckdb", OUT / f"runs-floor-{len(rows)}.jsonl",
                        FLOOR, script)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                ctx.add_init_script(INPUT_CLOCK)
                page = ctx.new_page()
                page.goto(server.url + query, wait_until="commit")
                _drawn(page, server, 0, key)

                def go(page: Any = page, url: str = server.url + query) -> None:
                    page.goto(url, wait_until="commit")

                steps = [_timed_step(page, server, go, key, navigation=True)
                         for _ in range(repeat + 1)]
                browser.close()
        finally:
            server.stop()
        b = statistics.median(x[0] for x in steps[1:])
        srv = statistics.median(x[1] for x in steps[1:])
        rows.append(("floor", f"open {name}", b, srv, steps[0][1]))
        print(f"  open {name:<40} browser {b:>6.0f} ms   server {srv:>5.0f} ms")
    return rows


def compare(base: list[tuple[str, str, float, float, float]],
            now: list[tuple[str, str, float, float, float]]) -> None:
    """Baseline and current side by side: browser ms, server ms (repeat visits, median) and
    the server ms of the first visit; ratio = now / baseline in the browser."""
    print(f"\n{'database':<16} {'interaction':<34} {'browser before':>14} {'after':>7} "
          f"{'server before':>13} {'after':>7} {'first before':>12} {'after':>7} {'ratio':>6}")
    old = {(r[0], r[1]): r for r in base}
    for r in now:
        b = old.get((r[0], r[1]))
        if b:
            print(f"{r[0]:<16} {r[1]:<34} {b[2]:>14.0f} {r[2]:>7.0f} {b[3]:>13.0f} "
                  f"{r[3]:>7.0f} {b[4]:>12.0f} {r[4]:>7.0f} {r[2] / b[2]:>6.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shares", type=int, default=100_000)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--browser", action="store_true",
                    help="also time the pages in Chromium, on the sample and the large database")
    ap.add_argument("--browser-only", action="store_true", help="only the browser timings")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="a checkout of the app before a change (e.g. `git worktree add`): "
                         "its pages are timed too, alternating with this one's, and both "
                         "printed side by side")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"dashboard-{args.shares}.duckdb"
    if args.rebuild or not db.exists():
        build(db, args.shares)
    total = count(db, "SELECT count(*) FROM shares")
    if args.browser or args.browser_only:
        repeat = min(args.repeat, 3)
        rows, base = [], []
        for target, name in ((OUT / "sample.duckdb", "sample"), (db, f"{total:,} shares")):
            if args.baseline:
                base += browser_bench(target, name, repeat, args.baseline.resolve())
            rows += browser_bench(target, name, repeat)
        floor = floor_bench(repeat)
        if base:
            compare(base, rows)
        worst_b = max(r[2] for r in rows)
        worst_s = max(max(r[3], r[4]) for r in rows)
        print(f"\nslowest in the browser: {worst_b:.0f} ms ({worst_b / BROWSER_BUDGET_MS:.0%} "
              f"of {BROWSER_BUDGET_MS:.0f} ms); slowest server run: {worst_s:.0f} ms "
              f"({worst_s / BUDGET_MS:.0%} of {BUDGET_MS:.0f} ms); Streamlit's own floor "
              f"for a page of our elements: {floor[-1][2]:.0f} ms")
        if args.browser_only:
            return 0 if worst_b <= BROWSER_BUDGET_MS and worst_s <= BUDGET_MS else 1

    with closing(connect_readonly(db)) as con:
        rel = data.releases(con)
        latest = int(rel["release_id"].iloc[-1])
        top = data.recipients(con, data.Filters(release_id=latest))
        org = str(top["name"].iloc[0])
        org_id = int(top["organisation_id"].iloc[0])
        sid = con.execute("""
            SELECT s.share_id FROM shares s JOIN share_changes c USING (share_key)
            WHERE s.release_id = ? AND c.change = 'changed' LIMIT 1""", [latest]).fetchone()[0]
    f_latest = data.Filters(release_id=latest)
    f_all = data.Filters()
    word = "university"
    interactions: list[tuple[str, str, list[tuple[Callable[..., Any], tuple[Any, ...]]]]] = [
        ("Every page", "releases (labels, sample banner; app.py)", [(data.releases, ())]),
        ("Overview", "headline + two trend charts", [(data.overview, (latest,))]),
        ("Shares explorer", "latest release (first 2,000 rows)",
         [(data.search_shares, (f_latest, 2000)), (data.count_hits, (f_latest,))]),
        ("Shares explorer", f"search '{word}', latest release",
         [(data.search_shares, (data.Filters(text=word, release_id=latest), 2000))]),
        ("Shares explorer", "all releases: 2 words + sector + 2 flags",
         [(data.search_shares, (data.Filters(text="pupil level", sectors=("commercial",),
                                             flags=("identifying", "pupil_level")), 2000)),
          (data.count_hits, (data.Filters(text="pupil level", sectors=("commercial",),
                                          flags=("identifying", "pupil_level")),))]),
        ("Shares explorer", "all releases: category + date range + section",
         [(data.search_shares, (data.Filters(categories=("sen", "cin_cla"),
                                             sections=("dsap",),
                                             date_from=__import__("datetime").date(2019, 1, 1)),
                                2000))]),
        ("Recipients", "ranking, latest release", [(data.organisation_names, ()),
                                                   (data.recipients, (f_latest, ""))]),
        ("Recipients", "ranking, all releases", [(data.organisation_names, ()),
                                                 (data.recipients, (f_all, ""))]),
        ("Recipients", f"organisation page ({org[:30]})",
         [(data.organisation_names, ()), (data.organisation, (org,)),
          (data.organisation_shares, (org_id,))]),
        ("Share detail", "fields, flags, history", [(data.share_detail, (int(sid),))]),
        ("What changed", "latest vs previous", [(data.changes, (latest, f_all))]),
        ("What changed", "latest vs previous, sector filter",
         [(data.changes, (latest, data.Filters(sectors=("commercial",))))]),
        ("Export", "page: count + per-release summary",
         [(data.count_hits, (f_latest,)), (data.identifying_by_recipient, ())]),
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{total:,} shares, {len(rel)} releases; {args.repeat} runs each, uncached, a fresh "
          f"read-only connection per query (as the app); load average {load:.1f} on "
          f"{os.cpu_count()} cores\n")
    head = (f"{'page':<16} {'interaction':<46} {'best ms':>8} {'median':>8} {'worst':>8} "
            f"{'CPU ms':>8} {'median/budget':>13}")
    print(head)
    print("-" * len(head))
    worst_ratio = 0.0
    for page, what, calls in interactions:
        best, med, worst, cpu = timed(db, calls, args.repeat)
        worst_ratio = max(worst_ratio, med / BUDGET_MS)
        print(f"{page:<16} {what:<46} {best:>8.1f} {med:>8.1f} {worst:>8.1f} {cpu:>8.1f} "
              f"{med / BUDGET_MS:>13.0%}")

    # Work done on a click rather than on a rerun.
    from views import downloads

    pdf = next((p for p in sorted((REPO / "data" / "sample").glob("*.pdf"))), None)
    print("\non demand (a click, not a rerun):")
    extra: list[tuple[str, Callable[[], Any]]] = [
        ("commercial re-use tables (analysis/export.py)",
         lambda: downloads.reuse_tables(str(db))),
        ("CSV of the latest release's shares", lambda: downloads.shares_csv(str(db), f_latest)),
        ("XLSX of the latest release's shares",
         lambda: downloads.shares_xlsx(str(db), f_latest)),
    ]
    if pdf is not None:
        extra.append((f"render PDF page 3 ({pdf.name[:28]}...)",
                      lambda: data.page_image(pdf, 3, ("DR",))))
    for what, fn in extra:
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - t) * 1000)
        print(f"  {what:<60} {statistics.median(runs):>9.1f} ms")
    print(f"\nslowest interaction: {worst_ratio:.0%} of the {BUDGET_MS:.0f} ms budget")
    return 0 if worst_ratio <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
