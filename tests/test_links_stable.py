"""Links that hold: a share key, once given, keeps naming the same share after any ingest.

The bundled sample releases are ingested one file at a time (``extract.ingest.ingest``) in
several orders. After every step, every link made before it, ``(share_key, release file)``,
must still open the same register row (same section, reference, organisation, project and
date) through :func:`extract.share_keys.resolve_share`, and still under the same key: the key
printed in an article is the one the database keeps. The history derived at the end must
still match the generator's truth (one key per share, different shares different keys), so
keeping keys never merges or splits shares.

The analysis stage (organisations, flags) is switched off here and each file is read once:
keys and links depend on the history alone, and the six-file series is ingested many times
over.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from extract import share_keys
from extract.db import writable
from extract.history import rebuild
from extract.ingest import ingest, order_releases, store_release
from extract.model import ParsedRelease
from extract.normalise import normalise
from tests.fixtures.make_sample_data import SAMPLE_DIR
from tests.fixtures.register_rows import build_register
from tests.test_history import DSAP, Q1, Q2, Q3, assert_history_matches, release

# The sample releases in publication order (as the generator wrote them).
FILES = [SAMPLE_DIR / r.file_name for r in build_register(seed=0, size="sample").releases]
NOV_2018 = "SAMPLE_DfE_external_data_shares_to_end_November_2018.pdf"

Content = tuple[object, ...]


_READ: dict[tuple[str, str], ParsedRelease] = {}


@pytest.fixture(autouse=True)
def history_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No analysis stage, and each file read once per session (reading is not what these
    tests are about; every ingest still stores, orders and rebuilds for real)."""
    from extract import ingest as ingest_module

    real = ingest_module.read_release

    def read_once(path: Path, *args: object, **kwargs: object) -> ParsedRelease:
        key = (str(Path(path).resolve()), ingest_module.sha256_of(Path(path)))
        if key not in _READ:
            _READ[key] = real(path, *args, **kwargs)  # type: ignore[arg-type]
        return copy.deepcopy(_READ[key])

    monkeypatch.setattr(ingest_module, "read_release", read_once)
    monkeypatch.setattr("analysis.pipeline.rebuild", lambda con, prepared=False: None)
    yield


def links(db: Path) -> dict[tuple[str, str], Content]:
    """Every link the database can make now: (share_key, release file) -> the row's text."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            """SELECT s.share_key, r.source_file, s.section, s.reference, s.organisation,
                      s.project, s.date_approved_raw
               FROM shares s JOIN releases r USING (release_id)""").fetchall()
    out: dict[tuple[str, str], Content] = {}
    for key, file, *content in rows:
        assert (key, file) not in out, f"two rows of {file} share the key {key}"
        out[(key, file)] = tuple(content)
    return out


def opened(con: duckdb.DuckDBPyConnection, key: str, file: str) -> tuple[str, Content] | None:
    """What the link opens: the row's key and text, or None."""
    share_id = share_keys.resolve_share(con, key, file)
    if share_id is None:
        return None
    row = con.execute("""SELECT share_key, section, reference, organisation, project,
                                date_approved_raw FROM shares WHERE share_id = ?""",
                      [share_id]).fetchone()
    return row[0], tuple(row[1:])


def assert_links_hold(db: Path, made: dict[tuple[str, str], Content], step: str) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        broken = {link: (content, opened(con, *link)) for link, content in made.items()
                  if opened(con, *link) != (link[0], content)}
    assert not broken, f"after {step}: {len(broken)} links broke, e.g. {list(broken.items())[:3]}"


ORDERS = {
    "publication": [0, 1, 2, 3, 4, 5],
    "reverse": [5, 4, 3, 2, 1, 0],
    "interleaved": [3, 0, 5, 1, 4, 2],
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_links_made_before_each_ingest_still_open_the_same_share(order: str, tmp_path: Path):
    db = tmp_path / "register.duckdb"
    made: dict[tuple[str, str], Content] = {}
    for i in ORDERS[order]:
        path = FILES[i]
        [result] = ingest([path], db)
        assert result.status == "ingested", result.reason
        assert_links_hold(db, made, f"ingesting {path.name}")
        now = links(db)
        assert set(made) <= set(now)  # no key was renamed
        made = now
    # The history is still right: keeping keys neither merged nor split shares.
    with duckdb.connect(str(db), read_only=True) as con:
        assert_history_matches(con, build_register(seed=0, size="sample"))
        stored = con.execute("SELECT count(*), count(DISTINCT (release_file, identity)) "
                             "FROM share_keys").fetchone()
        assert stored[0] == stored[1] == len(made)


def test_the_issue_link_survives_later_releases(tmp_path: Path):
    """/share?ref=DS00142&in=<November 2018 file>: made when only that release was loaded,
    it kept working until a later release listed DS00142 for a second organisation."""
    db = tmp_path / "register.duckdb"
    ingest([SAMPLE_DIR / NOV_2018], db)
    with duckdb.connect(str(db), read_only=True) as con:
        first = opened(con, "DS00142", NOV_2018)
    assert first is not None and first[1][2] == "University of Birmingham"
    ingest([p for p in FILES if p.name != NOV_2018], db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert opened(con, "DS00142", NOV_2018) == first
        # The second organisation got the suffix; the key in use was not renamed.
        orgs = dict(con.execute("""SELECT share_key, any_value(organisation) FROM shares
                                   WHERE share_key LIKE 'DS00142%' GROUP BY 1""").fetchall())
    assert orgs["DS00142"] == "University of Birmingham"
    assert [k for k in orgs if k != "DS00142"] == ["DS00142/lancaster-university"]


def test_reingest_of_a_changed_file_and_a_forced_rebuild_keep_every_key(tmp_path: Path):
    """A release replaced by a corrected file (new share_ids, same rows) and a rebuild
    forced from scratch give every row the key it had."""
    db = tmp_path / "register.duckdb"
    ingest(FILES[:4], db)
    made = links(db)
    src = tmp_path / "src"
    src.mkdir()
    csv = FILES[5]
    copy = src / csv.name
    shutil.copy(csv, copy)
    ingest([copy], db)
    made |= links(db)
    with copy.open("a", encoding="utf-8") as out:
        out.write("\n")  # a changed file of the same name replaces the release
    [result] = ingest([copy], db)
    assert result.status == "replaced", result.reason
    assert_links_hold(db, made, "replacing the CSV release")
    ingest([], db, force_derive=True)
    assert_links_hold(db, made, "a forced rebuild")
    with writable(db) as con:
        rebuild(con)
    assert_links_hold(db, made, "a second rebuild")
    assert links(db) == made


def test_resolver_falls_back_from_key_to_reference_and_release(tmp_path: Path):
    """A key this database never gave (a link made on another copy, keyed in another
    order) still opens its share when the reference picks one row of the release."""
    db = tmp_path / "register.duckdb"
    ingest(FILES, db)
    with duckdb.connect(str(db), read_only=True) as con:
        def org(share_id: int | None) -> str | None:
            if share_id is None:
                return None
            return con.execute("SELECT organisation FROM shares WHERE share_id = ?",
                               [share_id]).fetchone()[0]

        assert org(share_keys.resolve_share(con, "DS00142/university-of-birmingham",
                                            NOV_2018)) == "University of Birmingham"
        assert org(share_keys.resolve_share(con, "ds 00142", NOV_2018)) == \
            "University of Birmingham"
        # A period label names the release too; no release: the latest listing the key.
        assert org(share_keys.resolve_share(con, "DS00142", "November 2018")) == \
            "University of Birmingham"
        assert org(share_keys.resolve_share(con, "DS00142", f"November 2018 ({NOV_2018})")) \
            == "University of Birmingham"  # the dashboard's label for a twinned period
        latest = share_keys.resolve_share(con, "DS00142", None)
        assert con.execute("SELECT r.source_file FROM shares s JOIN releases r USING "
                           "(release_id) WHERE share_id = ?", [latest]).fetchone()[0] == \
            FILES[-1].name
        # A key qualified with another organisation does not open Birmingham's row.
        assert share_keys.resolve_share(con, "DS00142/university-of-kent", NOV_2018) is None
        # Where the reference names two rows, a bare reference that is not a key is
        # ambiguous: no guess.
        two = con.execute("""SELECT r.source_file FROM shares s JOIN releases r USING
                             (release_id) WHERE s.share_key LIKE 'DS01179%' GROUP BY 1
                             HAVING count(*) = 2 LIMIT 1""").fetchone()[0]
        assert share_keys.resolve_share(con, "DS01179#9", two) is None
        for key, release in [("DS99999", NOV_2018), ("DS00142", "nope.ods"), ("", None),
                             ("org:nobody:0000000000", NOV_2018), ("%", NOV_2018)]:
            assert share_keys.resolve_share(con, key, release) is None


# --- the assignment rules, on small releases -------------------------------------------------

def build_one_at_a_time(path: Path, releases: list) -> duckdb.DuckDBPyConnection:  # type: ignore[type-arg]
    """Store and rebuild after each release, as one-file ingests do."""
    for r in releases:
        with writable(path) as con:
            store_release(con, Path(r.source_file), f"sha-{r.source_file}", r, normalise(r))
            order_releases(con)
            rebuild(con)
    return duckdb.connect(str(path), read_only=True)


def keys_by_row(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    return dict(((f, o), k) for f, o, k in con.execute(
        "SELECT source_file, organisation, share_key FROM shares").fetchall())


KENT = ["R0042", "Kent County Council", "Children missing education", "names, UPN",
        "Tier 1", "2019-01-10", "2019-02-01", "live"]
BHAM = ["R 0042", "Birmingham City Council", *KENT[2:]]


def test_newcomer_gets_the_suffix_even_when_listed_first(tmp_path: Path):
    """Birmingham is listed above Kent in the second release; Kent had the key first."""
    con = build_one_at_a_time(tmp_path / "k.duckdb", [
        release("a.ods", Q1, {"regular": (DSAP, [KENT])}),
        release("b.ods", Q2, {"regular": (DSAP, [BHAM, KENT])}),
    ])
    assert keys_by_row(con) == {
        ("a.ods", "Kent County Council"): "R0042",
        ("b.ods", "Kent County Council"): "R0042",
        ("b.ods", "Birmingham City Council"): "R0042/birmingham-city-council"}


def test_an_earlier_release_ingested_later_joins_the_keys_in_use(tmp_path: Path):
    """The later release came first and gave the keys; the earlier one, ingested after,
    lists Kent alone and must not take the plain key from the share that has it."""
    con = build_one_at_a_time(tmp_path / "k.duckdb", [
        release("b.ods", Q2, {"regular": (DSAP, [BHAM, KENT])}),
        release("a.ods", Q1, {"regular": (DSAP, [KENT])}),
    ])
    keys = keys_by_row(con)
    assert keys[("b.ods", "Birmingham City Council")] == "R0042"
    assert keys[("a.ods", "Kent County Council")] == keys[("b.ods", "Kent County Council")] \
        == "R0042/kent-county-council"


def test_a_renamed_organisation_keeps_its_key_and_so_does_its_link(tmp_path: Path):
    """The reference alone names the share when its organisation is re-spelt; the choice is
    remembered, so a newcomer on the reference later does not unsettle it."""
    kcc = ["R0042", "KCC (Kent County Council)", *KENT[2:]]
    con = build_one_at_a_time(tmp_path / "k.duckdb", [
        release("a.ods", Q1, {"regular": (DSAP, [KENT])}),
        release("b.ods", Q2, {"regular": (DSAP, [kcc])}),
        release("c.ods", Q3, {"regular": (DSAP, [BHAM, KENT])}),
    ])
    keys = keys_by_row(con)
    assert keys[("b.ods", "KCC (Kent County Council)")] == "R0042"
    assert keys[("c.ods", "Kent County Council")] == "R0042"
    assert keys[("c.ods", "Birmingham City Council")] == "R0042/birmingham-city-council"


def test_keys_written_before_share_keys_existed_are_kept(tmp_path: Path):
    """A database keyed by the old rule (every occurrence qualified) keeps its keys: the
    links made on it were made with them."""
    path = tmp_path / "k.duckdb"
    build_one_at_a_time(path, [release("a.ods", Q1, {"regular": (DSAP, [KENT, BHAM])})]
                        ).close()
    with writable(path) as con:
        con.execute("DELETE FROM share_keys")
        con.execute("UPDATE shares SET share_key = 'R0042/' || CASE WHEN organisation LIKE "
                    "'Kent%' THEN 'kent-county-council' ELSE 'birmingham-city-council' END")
        rebuild(con)
        assert sorted(r[0] for r in con.execute("SELECT share_key FROM shares").fetchall()) \
            == ["R0042/birmingham-city-council", "R0042/kent-county-council"]
        assert con.execute("SELECT count(*) FROM share_keys").fetchone()[0] == 2
