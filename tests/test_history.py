"""History across releases: share keys, share_history, share_changes, `changes` CLI.

Unit tests build small databases in memory-like temp files straight from ParsedReleases (no
readers). The integration tests write one longitudinal register (tests/fixtures/
register_rows.py) as XLSX, PDF, ODS and CSV releases, load the folder with ONE
``python -m extract FOLDER --db DB`` call and compare the derived history with what the
generator says happened, record for record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from extract.db import writable
from extract.headers import map_headers
from extract.history import cli_changes, rebuild
from extract.ingest import order_releases, store_release
from extract.model import ParsedRelease, RawRow, RawTable
from extract.normalise import normalise
from extract.sections import section_for_title
from extract.values import parse_date, parse_period
from tests.fixtures.make_sample_data import SAMPLE_DIR, write_series
from tests.fixtures.register_rows import (
    ERA_LAYOUTS,
    ORGANISATIONS,
    Register,
    build_register,
)

REPO = Path(__file__).resolve().parents[1]
DSAP = ["Reference", "Organisation", "Project title", "Data shared", "Classification",
        "Date approved", "Date data released", "Status"]


# --- helpers ----------------------------------------------------------------------------------

def release(name: str, title: str, tables: dict[str, tuple[list[str], list[list[str]]]]
            ) -> ParsedRelease:
    """A ParsedRelease as a reader would return it: {section: (headers, rows)}."""
    out = ParsedRelease(name, name.rsplit(".", 1)[-1], title=title)
    for key, (headers, rows) in tables.items():
        out.tables.append(RawTable(key, f"{key} title", headers,
                                   [RawRow(r, i + 2, sheet=key) for i, r in enumerate(rows)]))
    return out


def build_db(path: Path, releases: list[ParsedRelease]) -> duckdb.DuckDBPyConnection:
    """Store releases, order them and rebuild history; returns a connection to the result."""
    with writable(path) as con:
        for r in releases:
            store_release(con, Path(r.source_file), f"sha-{r.source_file}", r, normalise(r))
        order_releases(con)
        rebuild(con)
    return duckdb.connect(str(path), read_only=True)


def keys_of(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], str]:
    """(file, source_row) -> share_key."""
    rows = con.execute("SELECT source_file, source_row, share_key FROM shares").fetchall()
    return {(f, r): k for f, r, k in rows}


def changes_of(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    rows = con.execute(
        """SELECT r.source_file, p.source_file, c.share_key, c.change, c.field, c.old_value,
                  c.new_value
           FROM share_changes c JOIN releases r ON r.release_id = c.release_id
           JOIN releases p ON p.release_id = c.previous_release_id""").fetchall()
    return set(rows)


def history_of(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.execute(
        """SELECT h.share_key, h.key_basis, f.source_file, l.source_file, h.first_period_end,
                  h.last_period_end, h.releases_seen, h.in_latest_release
           FROM share_history h JOIN releases f ON f.release_id = h.first_release_id
           JOIN releases l ON l.release_id = h.last_release_id""").fetchall()
    return {r[0]: r[1:] for r in rows}


Q1 = "DfE external data shares to end of March 2019"
Q2 = "DfE external data shares to end of June 2019"
Q3 = "DfE external data shares to end of September 2019"


# --- keys -------------------------------------------------------------------------------------

def test_reference_keys_ignore_case_and_spaces_and_placeholders_fall_back(tmp_path: Path):
    r1 = release("a.ods", Q1, {"dsap": (DSAP, [
        ["DS 00628", "UCL", "Attainment gaps", "KS2 attainment", "Tier 2", "01/02/2019", "",
         "approved"],
        ["n/a", "Times Newspapers Limited", "Exclusions by area", "exclusions", "Tier 3",
         "5 March 2019", "", "approved"],
    ])})
    r2 = release("b.ods", Q2, {"dsap": (DSAP, [
        ["ds00628", "University College London", "Attainment gaps", "KS2 attainment",
         "Tier 2", "2019-02-01", "", "approved"],
        ["", "TIMES NEWSPAPERS LIMITED", "Exclusions  by area", "exclusions", "Tier 3",
         "05/03/2019", "", "approved"],
    ])})
    con = build_db(tmp_path / "k.duckdb", [r1, r2])
    keys = keys_of(con)
    assert keys[("a.ods", 2)] == keys[("b.ods", 2)] == "DS00628"
    org_key = keys[("a.ods", 3)]
    assert org_key == keys[("b.ods", 3)]
    assert re.fullmatch(r"org:times-newspapers:[0-9a-f]{10}", org_key)
    assert con.execute("SELECT share_key, key_basis FROM share_history ORDER BY 1").fetchall() \
        == [("DS00628", "reference"), (org_key, "organisation+project+date")]


def test_reference_shared_by_a_second_organisation_is_qualified_first_keeps_its_key(
        tmp_path: Path):
    """One project, two councils: the reference alone would merge them. The share listed
    first keeps the plain reference (links to it were made with it); the newcomer gets the
    reference qualified with its organisation."""
    row = ["R0042", "Kent County Council", "Children missing education", "names, UPN",
           "Tier 1", "2019-01-10", "2019-02-01", "live"]
    r1 = release("a.ods", Q1, {"regular": (DSAP, [row])})
    r2 = release("b.ods", Q2, {"regular": (DSAP, [
        row, ["R 0042", "Birmingham City Council", *row[2:]]])})
    con = build_db(tmp_path / "k.duckdb", [r1, r2])
    keys = keys_of(con)
    assert keys[("a.ods", 2)] == keys[("b.ods", 2)] == "R0042"
    assert keys[("b.ods", 3)] == "R0042/birmingham-city-council"
    assert changes_of(con) == {("b.ods", "a.ods", "R0042/birmingham-city-council", "added",
                                None, None, None)}


def test_true_duplicates_get_numbered_in_source_order(tmp_path: Path):
    row = ["", "Metropolitan Police Service", "", "name, date of birth, address", "",
           "2019-03-04", "2019-03-05", "data shared"]
    r1 = release("a.ods", Q1, {"police": (DSAP, [row, row, row])})
    con = build_db(tmp_path / "k.duckdb", [r1])
    keys = [k for _, k in sorted(keys_of(con).items())]
    assert keys[1:] == [f"{keys[0]}#2", f"{keys[0]}#3"]
    assert keys[0].startswith("org:metropolitan-police-service:")


def test_keys_do_not_depend_on_ingest_order(tmp_path: Path):
    rels = [
        release("a.ods", Q1, {"dsap": (DSAP, [["DS00001", "Ofsted", "Risk", "UPN", "", "",
                                                "", "x"]])}),
        release("b.ods", Q2, {"dsap": (DSAP, [["DS00001", "Ofsted", "Risk", "UPN", "", "",
                                                "", "y"],
                                               ["", "BBC", "Absence", "absence", "", "", "",
                                                "x"]])}),
    ]
    one = build_db(tmp_path / "1.duckdb", rels)
    two = build_db(tmp_path / "2.duckdb", rels[::-1])
    assert keys_of(one) == keys_of(two)
    assert changes_of(one) == changes_of(two)
    assert history_of(one) == history_of(two)


# --- history and changes ----------------------------------------------------------------------

def three_releases() -> list[ParsedRelease]:
    """Three quarterly releases with one share of each kind of change (ingest order shuffled)."""
    ucl = ["DS00628", "UCL", "Attainment gaps", "KS2 attainment, FSM eligibility",
           "personal level data of sensitivity level C", "01/02/2019", "pending", "pending"]
    capita = ["DS00700", "Capita plc", "Pupil matching", "UPN", "Tier 4", "2019-03-01",
              "2019-03-20", "approved"]
    bbc = ["", "BBC", "Exclusions by area", "exclusions", "aggregate data", "5 March 2019",
           "n/a", "approved"]
    q1 = release("q1.ods", Q1, {"dsap": (DSAP, [ucl, capita, bbc])})
    q2 = release("q2.pdf", Q2, {"dsap": (DSAP, [
        # re-wrapped / re-cased / re-formatted only: no change
        ["DS 00628", "UCL", "Attainment  gaps", "KS2  attainment, FSM eligibility.",
         "Personal level data of sensitivity level C", "1 February 2019", "Pending",
         "Pending"],
        ["", "BBC", "exclusions by area", "exclusions", "aggregate data", "05/03/2019", "",
         "Approved"],
    ])})
    q3 = release("q3.csv", Q3, {"dsap": (DSAP, [
        ["DS00628", "University College London", "Attainment gaps",
         "KS2 attainment, FSM eligibility, ethnicity",
         "de-identified personal level data of sensitivity level C", "01/02/2019",
         "12/07/2019", "approved"],
        capita,  # back again after one release away
        bbc,
    ])})
    return [q3, q1, q2]


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    return build_db(tmp_path_factory.mktemp("three") / "h.duckdb", three_releases())


def test_history_records(three: duckdb.DuckDBPyConnection):
    org_key = next(k for k in history_of(three) if k.startswith("org:"))
    assert history_of(three) == {
        "DS00628": ("reference", "q1.ods", "q3.csv", dt.date(2019, 3, 31),
                    dt.date(2019, 9, 30), 3, True),
        "DS00700": ("reference", "q1.ods", "q3.csv", dt.date(2019, 3, 31),
                    dt.date(2019, 9, 30), 2, True),
        org_key: ("organisation+project+date", "q1.ods", "q3.csv", dt.date(2019, 3, 31),
                  dt.date(2019, 9, 30), 3, True),
    }
    assert three.execute(
        "SELECT organisation, change_count FROM share_history WHERE share_key = 'DS00628'"
    ).fetchone() == ("University College London", 5)


def test_changes_records(three: duckdb.DuckDBPyConnection):
    assert changes_of(three) == {
        ("q2.pdf", "q1.ods", "DS00700", "removed", None, None, None),
        ("q3.csv", "q2.pdf", "DS00700", "added", None, None, None),
        ("q3.csv", "q2.pdf", "DS00628", "changed", "organisation", "UCL",
         "University College London"),
        ("q3.csv", "q2.pdf", "DS00628", "changed", "data_shared",
         "KS2  attainment, FSM eligibility.", "KS2 attainment, FSM eligibility, ethnicity"),
        ("q3.csv", "q2.pdf", "DS00628", "changed", "classification",
         "Personal level data of sensitivity level C",
         "de-identified personal level data of sensitivity level C"),
        ("q3.csv", "q2.pdf", "DS00628", "changed", "date_released", "Pending", "2019-07-12"),
        ("q3.csv", "q2.pdf", "DS00628", "changed", "status", "Pending", "approved"),
    }


def test_v_changes_is_readable(three: duckdb.DuckDBPyConnection):
    rows = three.execute(
        """SELECT source_file, period_label, previous_source_file, reference, organisation,
                  field, source_row
           FROM v_changes WHERE change = 'changed' ORDER BY field_order""").fetchall()
    assert [r[5] for r in rows] == ["organisation", "data_shared", "classification",
                                    "date_released", "status"]
    assert rows[0] == ("q3.csv", "September 2019", "q2.pdf", "DS00628",
                       "University College London", "organisation", 2)


def test_field_missing_from_a_release_layout_is_not_a_change(tmp_path: Path):
    """The PDF has no Status column: a share is not 'changed' to a blank status."""
    with_status = ["DS00001", "Ofsted", "Risk", "UPN", "", "2019-01-01", "", "approved"]
    r1 = release("a.ods", Q1, {"dsap": (DSAP, [with_status])})
    r2 = release("b.pdf", Q2, {"dsap": (DSAP[:-1], [with_status[:-1]])})
    r3 = release("c.ods", Q3, {"dsap": (DSAP, [[*with_status[:-1], "withdrawn"]])})
    con = build_db(tmp_path / "m.duckdb", [r1, r2, r3])
    assert changes_of(con) == set()


def test_release_without_shares_does_not_break_the_chain(tmp_path: Path):
    share = ["DS00001", "Ofsted", "Risk", "UPN", "", "2019-01-01", "", "approved"]
    counts = release("ho.ods", "Home Office counts to end of May 2019", {
        "home_office": (["Month", "Number of individuals requested"], [["April 2019", "80"]])})
    con = build_db(tmp_path / "c.duckdb", [
        release("a.ods", Q1, {"dsap": (DSAP, [share])}), counts,
        release("b.ods", Q2, {"dsap": (DSAP, [share])})])
    assert changes_of(con) == set()
    assert history_of(con)["DS00001"][5:] == (2, True)


def test_rebuild_is_idempotent(three: duckdb.DuckDBPyConnection, tmp_path: Path):
    path = tmp_path / "again.duckdb"
    build_db(path, three_releases()).close()
    with writable(path) as con:
        rebuild(con)
        rebuild(con)
    again = duckdb.connect(str(path), read_only=True)
    assert (keys_of(again), changes_of(again), history_of(again)) == (
        keys_of(three), changes_of(three), history_of(three))


# --- the `changes` command ----------------------------------------------------------------------

def test_cli_changes_prints_counts_and_changes(three, capsys: pytest.CaptureFixture[str]):
    db = three.execute("SELECT path FROM duckdb_databases() WHERE NOT internal "
                       "AND path IS NOT NULL").fetchone()[0]
    copy = Path(db).with_name("cli.duckdb")
    copy.write_bytes(Path(db).read_bytes())
    assert cli_changes(argparse.Namespace(db=str(copy), release=None)) == 0
    out = capsys.readouterr().out
    assert "q1.ods (March 2019) → q2.pdf (June 2019)" in out
    assert "0 added, 1 removed, 0 changed" in out
    assert "1 added, 0 removed, 1 changed" in out
    assert re.search(r"- removed DS00700\s+Capita plc", out)
    assert "Organisation: UCL -> University College London" in out
    assert "Status: Pending -> approved" in out
    assert "Sections compared: DSAP approvals." in out
    assert cli_changes(argparse.Namespace(db=str(copy), release="q3.csv")) == 0
    only = capsys.readouterr().out
    assert "q2.pdf (June 2019) → q3.csv" in only and "q1.ods (March 2019) →" not in only
    assert cli_changes(argparse.Namespace(db=str(copy), release="nope.ods")) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: nope.ods: no such release") and err.count("\n") == 1


@pytest.mark.parametrize(("name", "shown"), [
    ("\x1b[31mX", r"\x1b[31mX"), ("evil\u202egpj.ods", r"evil\u202egpj.ods"),
    ("a\nerror: forged", r"a\nerror: forged")])
def test_cli_changes_shows_an_unknown_release_name_never_obeys_it(
        three, capsys: pytest.CaptureFixture[str], name: str, shown: str):
    """A --release name is the user's text: printed through extract.printable.visible, so an
    escape sequence, a bidi override or a newline shows as \\x1b, \\u202e, \\n."""
    db = three.execute("SELECT path FROM duckdb_databases() WHERE NOT internal "
                       "AND path IS NOT NULL").fetchone()[0]
    copy = Path(db).with_name("cli-escape.duckdb")
    copy.write_bytes(Path(db).read_bytes())
    assert cli_changes(argparse.Namespace(db=str(copy), release=name)) == 1
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert "\x1b" not in stream and "\u202e" not in stream
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert captured.err.startswith(f"error: {shown}: no such release")


def test_cli_changes_missing_database_is_one_error_line(tmp_path: Path, capsys):
    assert cli_changes(argparse.Namespace(db=str(tmp_path / "none.duckdb"), release=None)) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {tmp_path / 'none.duckdb'}: no database yet")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


# --- the row generator --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def small() -> Register:
    return build_register(seed=3, size="small")


def test_generator_is_deterministic(small: Register):
    again = build_register(seed=3, size="small")
    assert [(r.title, r.sections) for r in again.releases] == [
        (r.title, r.sections) for r in small.releases]
    assert again.expected_changes() == small.expected_changes()
    other = build_register(seed=4, size="small")
    assert [r.sections for r in other.releases] != [r.sections for r in small.releases]


def test_generator_headers_and_titles_mean_what_the_truth_says(small: Register):
    for era, layouts in ERA_LAYOUTS.items():
        for key, layout in layouts.items():
            assert map_headers([h for h, _ in layout]).fields == dict(enumerate(
                f for _, f in layout)), (era, key)
    for rel in small.releases:
        label = rel.plan.period_label
        assert parse_period(rel.title) == (label, rel.plan.period_end)
        assert parse_period(Path(rel.file_name).stem) == (label, rel.plan.period_end)
        assert rel.file_name.startswith("SAMPLE_") and "not a DfE publication" in rel.title
        for sec in rel.sections:
            assert section_for_title(sec.title) == sec.key, sec.title


def test_organisation_variants_are_real_spelling_changes():
    """A case-only variant is not a change to history, so the generator must not make one."""
    for name, _sector, variants in ORGANISATIONS:
        spellings = [" ".join(v.casefold().split()) for v in (name, *variants)]
        assert len(set(spellings)) == len(spellings), name


def test_every_layout_field_is_filled_somewhere_in_each_release(small: Register):
    """History compares a field only where the release's section carries it: make sure the
    truth (which assumes every layout field is carried) holds."""
    for rel in small.releases:
        for sec in rel.sections:
            for i, header in enumerate(sec.headers):
                assert any(row[i] and row[i] != "n/a" for row in sec.rows), (rel.file_name,
                                                                             header)


def test_small_series_has_every_kind_of_change(small: Register):
    changes = small.expected_changes()
    kinds = Counter(c.change for c in changes)
    fields = {c.field for c in changes if c.change == "changed"}
    assert kinds["added"] and kinds["removed"]
    assert {"organisation", "data_shared", "classification", "status", "date_released",
            "access_route", "legal_basis"} <= fields
    assert any(e.kind == "reinstated" for e in small.events)
    assert small.joint_sids, "a reference shared by two organisations"
    # pending -> released: the date and the status both move on
    assert any(c.field == "date_released" and c.old in ("pending", "Pending") and c.new
               for c in changes)


def test_sample_series_is_realistic_in_size():
    reg = build_register(seed=0, size="sample")
    sizes = [sum(len(s.rows) for s in r.sections if s.key != "home_office")
             for r in reg.releases]
    assert [r.fmt for r in reg.releases] == ["xlsx", "pdf", "ods", "ods", "ods", "csv"]
    assert min(sizes) >= 250 and sizes == sorted(sizes)


# --- a mixed folder of real files, one CLI call ---------------------------------------------------

def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "extract", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, env=env)


def share_ids_to_sids(con: duckdb.DuckDBPyConnection, register: Register) -> dict[int, int]:
    """Match each stored share row to the generator's share, by what the row says."""
    def norm(text: str | None) -> str | None:
        return " ".join(text.split()) if text else None

    truth: dict[tuple, int] = {}
    for rel in register.releases:
        for sid, cells in rel.cells.items():
            date = parse_date(cells["date_approved"])
            key = (rel.file_name, norm(cells["organisation"]), norm(cells.get("project")),
                   date)
            assert key not in truth
            truth[key] = sid
    rows = con.execute("SELECT share_id, source_file, organisation, project, date_approved "
                       "FROM shares").fetchall()
    found = {r[0]: truth.get((r[1], norm(r[2]), norm(r[3]), r[4])) for r in rows}
    unmatched = [r for r in rows if found[r[0]] is None]
    assert not unmatched, f"rows the generator did not write: {unmatched[:3]}"
    assert len(rows) == len(truth), "every generated row is stored once"
    return found  # type: ignore[return-value]


def assert_history_matches(con: duckdb.DuckDBPyConnection, register: Register) -> None:
    sid_of = share_ids_to_sids(con, register)
    keys: dict[int, set[str]] = {}
    for share_id, key in con.execute("SELECT share_id, share_key FROM shares").fetchall():
        keys.setdefault(sid_of[share_id], set()).add(key)
    assert all(len(k) == 1 for k in keys.values()), "one key per share across releases"
    key_of = {sid: next(iter(k)) for sid, k in keys.items()}
    assert len(set(key_of.values())) == len(key_of), "different shares, different keys"
    sid_of_key = {k: sid for sid, k in key_of.items()}
    files = [r.file_name for r in register.releases]

    expected_history = {
        key_of[h.sid]: (h.key_basis, files[h.first_release], files[h.last_release],
                        h.releases_seen, h.in_latest_release)
        for h in register.expected_history().values()}
    got_history = {k: (v[0], v[1], v[2], v[5], v[6]) for k, v in history_of(con).items()}
    assert got_history == expected_history

    expected = Counter((files[c.release], c.sid, c.change, c.field, c.old, c.new)
                       for c in register.expected_changes())
    got = Counter((new, sid_of_key[key], change, field, old_v, new_v)
                  for new, _prev, key, change, field, old_v, new_v in con.execute(
                      """SELECT r.source_file, p.source_file, c.share_key, c.change, c.field,
                                c.old_value, c.new_value
                         FROM share_changes c JOIN releases r USING (release_id)
                         JOIN releases p ON p.release_id = c.previous_release_id"""
                  ).fetchall())
    assert got - expected == Counter(), "changes the generator did not make"
    assert expected - got == Counter(), "changes the history missed"


@pytest.fixture(scope="session")
def mixed(tmp_path_factory: pytest.TempPathFactory, small: Register
          ) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("mixed")
    folder = root / "releases"
    write_series(small, folder)
    db = root / "register.duckdb"
    return folder, db, run_cli(folder, "--db", db, "-q")


def test_mixed_folder_loads_in_one_call(mixed, small: Register):
    folder, db, run = mixed
    assert run.returncode == 0, run.stderr
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv", ".ods", ".pdf", ".xlsx"]
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute("SELECT source_file, period_label, period_end FROM releases "
                          "ORDER BY release_order").fetchall()
    assert got == [(r.file_name, r.plan.period_label, r.plan.period_end)
                   for r in small.releases]


def test_mixed_folder_history_and_changes_match_the_generator(mixed, small: Register):
    _, db, run = mixed
    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert_history_matches(con, small)


def test_mixed_folder_rerun_is_a_no_op(mixed):
    folder, db, run = mixed
    assert run.returncode == 0, run.stderr
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    again = run_cli(folder, "--db", db, "-q")
    assert again.returncode == 0, again.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert again.stdout.count("unchanged (already ingested)") == 4


def test_changes_command_prints_the_changes(mixed, small: Register):
    _, db, run = mixed
    assert run.returncode == 0, run.stderr
    out = run_cli("changes", "--db", db)
    assert out.returncode == 0, out.stderr
    changes = small.expected_changes()
    for prev, cur in zip(small.releases, small.releases[1:], strict=False):
        mine = [c for c in changes if c.release == cur.index]
        count = Counter(c.change for c in mine)
        changed = len({c.sid for c in mine if c.change == "changed"})
        assert f"{prev.file_name} ({prev.plan.period_label}) → {cur.file_name}" in out.stdout
        assert (f"{count['added']} added, {count['removed']} removed, {changed} changed"
                in out.stdout)
    renamed = next(c for c in changes if c.field == "organisation")
    assert f"Organisation: {renamed.old} -> {renamed.new}" in out.stdout
    missing = run_cli("changes", "--db", db.with_name("missing.duckdb"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1


# --- the bundled sample -------------------------------------------------------------------------

def test_bundled_sample_is_what_the_generator_writes(tmp_path: Path):
    """data/sample is reproducible byte for byte by its documented command (run in a fresh
    process: odfpy's XML namespace declarations depend on what the process wrote before)."""
    run = subprocess.run([sys.executable, "-m", "tests.fixtures.make_sample_data", "--out",
                          str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0, run.stderr
    bundled = {p.name: p.read_bytes() for p in SAMPLE_DIR.glob("SAMPLE_*")}
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(bundled) == sorted(fresh)
    stale = [n for n in fresh if fresh[n] != bundled[n]]
    assert not stale, "regenerate: python -m tests.fixtures.make_sample_data"
    assert sum(map(len, bundled.values())) < 5 * 1024 * 1024


def test_bundled_sample_ingests_with_the_generators_history(tmp_path: Path):
    db = tmp_path / "sample.duckdb"
    run = run_cli(SAMPLE_DIR, "--db", db, "-q")
    assert run.returncode == 0, run.stderr
    register = build_register(seed=0, size="sample")
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute("SELECT source_file, period_end, is_sample FROM releases "
                          "ORDER BY release_order").fetchall()
        assert got == [(r.file_name, r.plan.period_end, True) for r in register.releases]
        assert_history_matches(con, register)


def test_sample_readme_describes_the_files():
    """The README's table of files (name, format, period, shares) matches the generator."""
    text = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    table = {m[1]: (m[2], m[3], int(m[4])) for m in re.finditer(
        r"^\| `(SAMPLE_[^`]+)` \| (\w+) \| ([A-Z][a-z]+ \d{4}) \| (\d+) \|", text, re.M)}
    register = build_register(seed=0, size="sample")
    assert table == {
        r.file_name: (r.fmt.upper(), r.plan.period_label,
                      sum(len(s.rows) for s in r.sections if s.key != "home_office"))
        for r in register.releases}
    assert "not published by the Department for Education" in text


def test_word_change_names_only_the_words_that_differ():
    from extract.history import word_change

    old = "Pupil level: UPN, date of birth, home postcode, KS2 results"
    new = "Pupil level: UPN, date of birth, postcode district, KS2 results, ethnicity"
    assert word_change(old, new) == "− home postcode, · + postcode district, · − results " \
        "· + results, ethnicity"
    assert word_change(None, "x") == "(was blank)" and word_change("x", "") == "(now blank)"
    assert word_change("A  b", "A b") == "(spacing or case only)"
