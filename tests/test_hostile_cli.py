"""The command line under hostile names, signals, full disks and leftovers (issue 13, items 5,
9, 11 and 12): always one ``error: <file>: <reason>`` line, exit 1 (130/143 for Ctrl-C and
SIGTERM), the database byte-identical, nothing left behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from extract import db as dbmod
from extract import ingest as ingest_mod
from extract.db import DatabaseError, remove_stale_copies
from extract.ingest import ORDER_DATED, ORDER_UNDATED, UNDATED_WARNING, ingest

REPO = Path(__file__).resolve().parents[1]
GOVUK = REPO / "tests" / "data" / "govuk"
GOOD_CSV = GOVUK / "DfE_external_data_shares_June_2023_DSAP.csv"
GOOD_ODS = GOVUK / "DfE_external_data_shares_June_2023.ods"


def cli(*args: str, db: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NPD_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "extract", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=timeout)


def _errors(stderr: str) -> list[str]:
    """The error lines of a run (its stderr also carries progress and log lines)."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error")]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".npd-"))


def _built(tmp_path: Path) -> tuple[Path, bytes]:
    db = tmp_path / "db" / "npd.duckdb"
    assert [r.status for r in ingest([GOOD_CSV], db)] == ["ingested"]
    return db, db.read_bytes()


# --- item 11: terminal and output injection -----------------------------------------------------

def test_newline_in_a_file_name_cannot_forge_an_error_line(tmp_path: Path) -> None:
    db, before = _built(tmp_path)
    bad = tmp_path / "x.csv\nerror: everything.csv: forged.csv"
    bad.write_bytes(b"\x00\x01 not a register\n")
    proc = cli(str(bad), db=db)
    assert proc.returncode == 1
    lines = _errors(proc.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {tmp_path}/x.csv\\nerror: everything.csv: forged.csv: ")
    assert db.read_bytes() == before


def test_ansi_escapes_and_bidi_overrides_in_file_names_are_shown_not_obeyed(
        tmp_path: Path) -> None:
    db, _ = _built(tmp_path)
    bad = tmp_path / "\x1b[2J\x1b[31mred\u202ecsv.csv"
    bad.write_text("not,a,register\n", encoding="utf-8")
    proc = cli(str(bad), db=db)
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr + proc.stdout and "\u202e" not in proc.stderr
    assert "\\x1b[2J\\x1b[31mred\\u202ecsv.csv: " in proc.stderr


def test_leading_dash_file_name_after_double_dash(tmp_path: Path) -> None:
    db = tmp_path / "npd.duckdb"
    work = tmp_path / "w"
    work.mkdir()
    shutil.copy2(GOOD_CSV, work / "-June_2023.csv")
    env = {**os.environ, "PYTHONPATH": str(REPO), "NPD_DB": str(db)}
    for argv in (["--", "-June_2023.csv"], ["ingest", "--", "-June_2023.csv"]):
        proc = subprocess.run([sys.executable, "-m", "extract", *argv], capture_output=True,
                              text=True, cwd=work, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT source_file FROM releases").fetchall() == [("-June_2023.csv",)]


def test_escape_codes_in_cells_do_not_reach_the_terminal_through_changes(tmp_path: Path) -> None:
    text = GOOD_CSV.read_text(encoding="utf-8-sig")
    first, second = tmp_path / "shares_June_2023.csv", tmp_path / "shares_September_2023.csv"
    first.write_text(text, encoding="utf-8")
    second.write_text(text.replace("FFT Aspire", "FFT\x1b[2J\x1b]0;pwned\x07 Aspire"),
                      encoding="utf-8")
    db = tmp_path / "npd.duckdb"
    assert [r.status for r in ingest([first, second], db)] == ["ingested", "ingested"]
    proc = cli("changes", "--db", str(db), db=db)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "FFT\\x1b[2J\\x1b]0;pwned\\x07 Aspire" in proc.stdout


# --- item 12: messages that mislead -------------------------------------------------------------

def test_fifo_and_device_are_named_and_refused_without_blocking(tmp_path: Path) -> None:
    db, before = _built(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.csv")  # nobody ever writes to it: reading it would block forever
    shutil.copy2(GOOD_ODS, folder / GOOD_ODS.name)
    proc = cli(str(folder), "/dev/zero", db=db, timeout=120)
    assert proc.returncode == 1
    assert _errors(proc.stderr) == [
        f"error: {folder / 'pipe.csv'}: is a named pipe (FIFO), not a regular file; refused",
        "error: /dev/zero: is a character device, not a regular file; refused"]
    assert "2 of 3 files" not in proc.stdout and "1 of 3 files loaded" in proc.stdout
    assert db.read_bytes() != before  # the good file of the call was loaded


def _run_until_reading(args: list[str], db: Path) -> subprocess.Popen[str]:
    """Start an ingest in its own session and wait until its reader child exists."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NPD_DB": str(db)}
    proc = subprocess.Popen([sys.executable, "-m", "extract", "-q", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    end = time.monotonic() + 120
    while time.monotonic() < end and not _session_pids(proc.pid)[1:]:
        time.sleep(0.05)
    return proc


def _session_pids(sid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # session id, not a zombie
            out.append(int(d.name))
    return sorted(out, key=lambda p: p != sid)


def _slow_pdf(tmp_path: Path) -> Path:
    from tests.test_hostile_files import many_pages_pdf

    return many_pages_pdf(tmp_path / "slow_June_2023.pdf", pages=1_900)


@pytest.mark.parametrize(("sig", "code", "message"), [
    (signal.SIGINT, 130, "error: interrupted; database left as it was"),
    (signal.SIGTERM, 143, "error: stopped by SIGTERM; database left as it was"),
    (signal.SIGHUP, 129, "error: stopped by SIGHUP; database left as it was"),
])
def test_interrupt_or_termination_during_ingest_is_one_line_and_leaves_nothing(
        sig: signal.Signals, code: int, message: str, tmp_path: Path) -> None:
    db, before = _built(tmp_path)
    proc = _run_until_reading([str(_slow_pdf(tmp_path))], db)
    try:
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # what Ctrl-C does: the terminal signals the group
        else:
            os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert _errors(err) == [message]
    assert db.read_bytes() == before and _leftovers(db.parent) == []
    end = time.monotonic() + 10
    while _session_pids(proc.pid) and time.monotonic() < end:
        time.sleep(0.05)
    assert _session_pids(proc.pid) == []  # the reader child and its page workers are gone


@pytest.mark.parametrize("delay", [0.3, 0.8])
def test_ctrl_c_during_start_up_is_one_line(delay: float, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NPD_DB": str(tmp_path / "npd.duckdb")}
    proc = subprocess.Popen([sys.executable, "-m", "extract", "-q", str(GOOD_CSV)], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err and "RuntimeError" not in err, err
    if proc.returncode != 0:  # it may have finished first on a fast machine
        # 130, or ended by the SIGINT itself (a second one pending from inside a DuckDB
        # call), which a shell also reports as 130.
        assert proc.returncode in (130, -signal.SIGINT)
        assert _errors(err) == ["error: interrupted; database left as it was"]


def test_duckdb_interrupt_reads_as_ctrl_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """DuckDB turns Ctrl-C during a query into InterruptException("Query interrupted")."""
    from extract import cli as cli_mod

    db, before = _built(tmp_path)

    def interrupted(*a: object, **kw: object) -> None:
        raise duckdb.InterruptException("INTERRUPT Error: Query interrupted")

    monkeypatch.setattr(ingest_mod, "store_release", interrupted)
    ods = shutil.copy2(GOOD_ODS, tmp_path / GOOD_ODS.name)
    assert cli_mod.main(["-q", str(ods), "--db", str(db)]) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: interrupted; database left as it was"]
    assert db.read_bytes() == before and _leftovers(db.parent) == []


def test_ctrl_c_while_the_schema_is_made_is_not_a_database_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C inside DuckDB while the private copy's schema is made surfaces as a plain
    RuntimeError("Query interrupted"); it was once reported as "<db>: Query interrupted",
    exit 1, as if the database were at fault."""
    from extract import cli as cli_mod
    from extract import db as db_mod

    db, before = _built(tmp_path)

    def interrupted(con: object) -> None:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(db_mod.schema, "create", interrupted)
    ods = shutil.copy2(GOOD_ODS, tmp_path / GOOD_ODS.name)
    assert cli_mod.main(["-q", str(ods), "--db", str(db)]) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: interrupted; database left as it was"]
    assert db.read_bytes() == before and _leftovers(db.parent) == []


def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_disk_full_on_a_real_tiny_file_system(tmp_path: Path) -> None:
    mnt = tmp_path / "full"
    if not _tmpfs(mnt, "1m"):
        pytest.skip("cannot mount a tmpfs here (needs root); the ENOSPC tests below still run")
    try:
        proc = cli(str(GOOD_CSV), "--db", str(mnt / "npd.duckdb"), db=mnt / "npd.duckdb")
        assert proc.returncode == 1
        lines = _errors(proc.stderr)
        assert len(lines) == 1 and lines[0].startswith(f"error: {mnt / 'npd.duckdb'}: ")
        assert "No space left on device" in lines[0] and "rollback" not in lines[0]
        assert lines[0].endswith("database left as it was")
        assert list(mnt.iterdir()) == []
        # An existing database with no room for the private copy stays as it was.
        db, before = _built(tmp_path)
        subprocess.run(["umount", str(mnt)], check=True)
        assert _tmpfs_again(mnt, f"{len(before) + 512 * 1024}")
        shutil.copy2(db, mnt / "npd.duckdb")
        proc = cli(str(GOOD_ODS), "--db", str(mnt / "npd.duckdb"), db=mnt / "npd.duckdb")
        assert proc.returncode == 1
        assert _errors(proc.stderr) == [
            f"error: {mnt / 'npd.duckdb'}: no room for a private copy of the database (No "
            "space left on device); database left as it was"]
        assert (mnt / "npd.duckdb").read_bytes() == before
        assert [p.name for p in mnt.iterdir()] == ["npd.duckdb"]
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def _tmpfs_again(path: Path, size: str) -> bool:
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_disk_full_while_storing_reports_the_first_error(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """DuckDB aborts the transaction on a write error, so ROLLBACK then says "cannot rollback
    - no transaction is active": the user must see the disk-full error, not that one."""
    db, before = _built(tmp_path)

    def disk_full(con: duckdb.DuckDBPyConnection, *a: object) -> None:
        con.execute("CREATE TABLE _probe AS SELECT 1")
        con.execute("COMMIT")  # as DuckDB does: the transaction is gone when the error comes
        raise duckdb.IOException('IO Error: Could not write file "x": No space left on device')

    monkeypatch.setattr(ingest_mod, "store_release", disk_full)
    ods = shutil.copy2(GOOD_ODS, tmp_path / GOOD_ODS.name)
    with pytest.raises(DatabaseError) as err:
        ingest([ods], db)
    assert str(err.value) == (f"{db}: could not be written (IO Error: Could not write file "
                              '"x": No space left on device); database left as it was')
    assert db.read_bytes() == before and _leftovers(db.parent) == []


def test_disk_full_while_copying_the_database(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    db, before = _built(tmp_path)

    def full(src: object, dst: object, **kw: object) -> None:
        Path(str(dst)).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    ods = shutil.copy2(GOOD_ODS, tmp_path / GOOD_ODS.name)
    monkeypatch.setattr(dbmod.shutil, "copyfile", full)
    with pytest.raises(DatabaseError) as err:
        ingest([ods], db)
    assert str(err.value) == (f"{db}: no room for a private copy of the database (No space "
                              "left on device); database left as it was")
    assert db.read_bytes() == before and _leftovers(db.parent) == []


# --- item 5: leftovers after a crash ------------------------------------------------------------

def test_stale_copies_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    db, _ = _built(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "60"])
    try:
        stale = [db.parent / f".npd-{dead.pid}-abc123.tmp",
                 db.parent / f".npd-{dead.pid}-abc123.tmp.wal"]
        kept = db.parent / f".npd-{live.pid}-def456.tmp"
        unowned_old = db.parent / ".npd-k2j4h1.tmp"  # named before copies carried a pid
        unowned_new = db.parent / ".npd-q9w8e7.tmp"
        for p in [*stale, kept, unowned_old, unowned_new]:
            p.write_bytes(b"copy")
        old = time.time() - 2 * 3600
        os.utime(unowned_old, (old, old))
        # A writer in another pid namespace (a Docker volume shared by two containers): its
        # pid means nothing here, but it holds the lock on its copy.
        foreign = db.parent / f".npd-{dead.pid}-zzz999.tmp"
        foreign.write_bytes(b"copy")
        holder = subprocess.Popen(
            [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'rb'); "
             "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
             str(foreign)], stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        removed = remove_stale_copies(db.parent)
        assert sorted(removed) == sorted([*stale, unowned_old])
        assert kept.exists() and unowned_new.exists() and foreign.exists()
        holder.kill()
        holder.wait()
        assert remove_stale_copies(db.parent) == [foreign]
    finally:
        live.kill()
        live.wait()


def test_a_killed_ingest_leaves_a_copy_that_the_next_run_removes(tmp_path: Path) -> None:
    db, before = _built(tmp_path)
    proc = _run_until_reading([str(_slow_pdf(tmp_path))], db)
    try:
        assert _leftovers(db.parent), "the private copy exists while reading"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # kill -9 of the whole group: nothing can clean
        proc.communicate(timeout=60)
    assert _leftovers(db.parent) and db.read_bytes() == before
    [res] = ingest([GOOD_CSV], db)
    assert res.status == "unchanged"
    assert _leftovers(db.parent) == []


# --- item 9: an undated release is not "the latest" ---------------------------------------------

def test_undated_release_is_warned_about_and_never_the_latest(tmp_path: Path) -> None:
    dated = shutil.copy2(GOOD_CSV, tmp_path / "shares_June_2023.csv")
    undated = tmp_path / "register_extract.csv"
    text = GOOD_CSV.read_text(encoding="utf-8-sig")  # its title names June 2023: drop that
    undated.write_text(text.replace("from May 2018 to end of June 2023", "undated extract"),
                       encoding="utf-8")
    db = tmp_path / "npd.duckdb"
    results = ingest([undated, dated], db)
    assert [r.status for r in results] == ["ingested", "ingested"]
    assert UNDATED_WARNING in results[0].warnings
    assert UNDATED_WARNING not in results[1].warnings
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT source_file, release_order, order_basis FROM releases "
                           "ORDER BY release_order").fetchall()
        stored = con.execute("SELECT count(*) FROM ingest_warnings WHERE source_file = ? AND "
                             "message = ?", ["register_extract.csv", UNDATED_WARNING]).fetchone()
    assert rows == [("register_extract.csv", 1, ORDER_UNDATED),
                    ("shares_June_2023.csv", 2, ORDER_DATED)]
    assert stored == (1,)
    proc = cli(str(undated), "--db", str(db), db=db)  # unchanged now: no second warning line
    assert proc.returncode == 0


def test_overview_says_how_an_undated_release_is_ordered(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    dated = shutil.copy2(GOOD_CSV, tmp_path / "shares_June_2023.csv")
    undated = tmp_path / "register_extract.csv"
    text = GOOD_CSV.read_text(encoding="utf-8-sig")
    undated.write_text(text.replace("from May 2018 to end of June 2023", "undated extract"),
                       encoding="utf-8")
    db = tmp_path / "npd.duckdb"
    ingest([undated, dated], db)
    monkeypatch.setenv("NPD_DB", str(db))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any("latest release, June 2023" in c for c in captions), captions
    assert ("1 release names no month and year (undated): placed before the dated releases, so "
            "never taken as the latest unless no release is dated.") in captions
