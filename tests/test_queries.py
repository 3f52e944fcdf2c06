"""Ready-made questions: each runs on the bundled sample; edited SQL can neither write nor read
files; limits and errors behave."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis import queries as q
from analysis.__main__ import main
from extract.db import connect_readonly
from extract.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = q.load_questions()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("queries") / "sample.duckdb"
    ingest([REPO / "data" / "sample"], path)
    return path


def _run(db: Path, sql: str, params: dict[str, object] | None = None, **kw: object
         ) -> q.Result:
    con = connect_readonly(db)
    try:
        return q.run(con, sql, params, **kw)  # type: ignore[arg-type]
    finally:
        con.close()


def test_every_question_has_a_title_description_and_its_parameters() -> None:
    assert len(QUESTIONS) >= 5
    for question in QUESTIONS.values():
        assert question.title and len(question.description) > 40
        used = set(q._PLACEHOLDER.findall(question.sql))
        assert used == {p.name for p in question.params}, question.name


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_every_question_runs_on_the_sample(sample_db: Path, name: str) -> None:
    question = QUESTIONS[name]
    result = _run(sample_db, question.sql, q.bind(question, {}))
    assert not result.truncated
    if name != "legal_gateway":  # the sample names no section 537A
        assert len(result.frame) > 0, name


def test_questions_answer_what_they_say(sample_db: Path) -> None:
    press = _run(sample_db, QUESTIONS["press_recipients"].sql, {"name": ""}).frame
    con = connect_readonly(sample_db)
    try:
        expected = con.execute("SELECT count(DISTINCT share_uid) FROM v_share_details "
                               "WHERE sector = 'press'").fetchone()[0]
        gone = con.execute("SELECT count(*) FROM share_history WHERE NOT in_latest_release"
                           ).fetchone()[0]
    finally:
        con.close()
    assert len(press) == expected and press["share_key"].is_unique
    left = _run(sample_db, QUESTIONS["left_register"].sql, {"section": ""}).frame
    assert len(left) == gone
    dea = _run(sample_db, QUESTIONS["legal_gateway"].sql, {"gateway": "Digital Economy"}).frame
    assert len(dea) > 0 and dea["legal_basis"].str.contains("Digital Economy").all()
    spell = _run(sample_db, QUESTIONS["recipient_spellings"].sql, {"min_spellings": 2}).frame
    assert (spell["spellings"] >= 2).all()
    years = _run(sample_db, QUESTIONS["commercial_identifying_by_year"].sql,
                 {"from_year": 2019, "to_year": 2019}).frame
    assert set(years["year"]) == {2019}


@pytest.mark.parametrize("sql", [
    "DELETE FROM shares",
    "UPDATE shares SET organisation = 'x'",
    "CREATE TABLE t AS SELECT 1",
    "DROP VIEW v_share_details",
    "SELECT 1; DELETE FROM shares",
    "COPY shares TO '/tmp/stolen.csv'",
    "ATTACH '/tmp/other.duckdb' AS o",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "PRAGMA database_list",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM READ_CSV_AUTO ('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM query('SELECT 1')",
    "EXPLAIN SELECT 1",
])
def test_writes_and_file_access_are_refused(sample_db: Path, sql: str) -> None:
    before = sample_db.read_bytes()
    with pytest.raises(q.QueryError) as exc:
        _run(sample_db, sql)
    assert "\n" not in str(exc.value)
    assert sample_db.read_bytes() == before
    assert not Path("/tmp/stolen.csv").exists()


def test_a_forbidden_word_inside_a_string_is_only_text(sample_db: Path) -> None:
    out = _run(sample_db, "SELECT 'read_csv(x); DELETE' AS words, count(*) AS n FROM shares")
    assert out.frame["words"].item() == "read_csv(x); DELETE"


def test_external_access_stays_off_whatever_the_sql(sample_db: Path) -> None:
    """Even SQL that slips past the word check cannot reach the file system."""
    con = connect_readonly(sample_db)
    try:
        q.lock_down(con)
        with pytest.raises(duckdb.Error, match=r"disabled by configuration|Permission"):
            con.execute("SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()


def test_row_cap_and_time_limit(sample_db: Path) -> None:
    capped = _run(sample_db, "SELECT share_id FROM shares ORDER BY share_id", cap=10)
    assert len(capped.frame) == 10 and capped.truncated
    with pytest.raises(q.QueryError, match=r"stopped after 0\.2 seconds"):
        _run(sample_db, "SELECT count(*) FROM range(100000000000) a, range(1000) b",
             time_limit=0.2)


def test_errors_are_one_line(sample_db: Path) -> None:
    with pytest.raises(q.QueryError, match=r"^SQL error: ") as exc:
        _run(sample_db, "SELECT nosuchcolumn FROM shares")
    assert "\n" not in str(exc.value)
    with pytest.raises(q.QueryError, match=r"uses \$year"):
        _run(sample_db, "SELECT $year")
    with pytest.raises(q.QueryError, match="is not an integer"):
        q.bind(QUESTIONS["recipient_spellings"], {"min_spellings": "two"})
    with pytest.raises(q.QueryError, match="no parameter 'x'"):
        q.bind(QUESTIONS["recipient_spellings"], {"x": "1"})


def test_question_file_format() -> None:
    parsed = q.parse_question("t", "-- title: T\n-- description: a\n-- description: b\n"
                                   "-- param: n | integer | 3 | how many\nSELECT $n AS n;\n")
    assert (parsed.title, parsed.description, parsed.sql) == ("T", "a b", "SELECT $n AS n")
    assert parsed.params == (q.Param("n", "integer", "3", "how many"),)
    with pytest.raises(q.QueryError, match="no '-- title:'"):
        q.parse_question("t", "SELECT 1")
    with pytest.raises(q.QueryError, match="param line"):
        q.parse_question("t", "-- title: T\n-- param: n | float | 1 | x\nSELECT 1")


def test_cli(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(f"{name}: " in listed for name in QUESTIONS)
    assert main(["query", "legal_gateway", "--db", str(sample_db), "--param",
                 "gateway=Digital Economy", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(df) > 0 and set(df["legal_basis"]) == {"Digital Economy Act 2017 s.64"}
    assert main(["query", "home_office_monthly", "--db", str(sample_db), "--format",
                 "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["month"].startswith("2015-07-01")
    assert main(["query", "nope", "--db", str(sample_db)]) == 1
    assert capsys.readouterr().err.startswith("error: nope: no such question")
    assert main(["query", "recipient_spellings", "--db", str(sample_db), "--param",
                 "min_spellings=x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not an integer" in err


def test_lock_down_ends_with_its_connection(sample_db: Path) -> None:
    """The next connection (the rest of the dashboard) is not left locked down."""
    _run(sample_db, "SELECT 1")
    con = connect_readonly(sample_db)
    try:
        assert con.execute("SELECT current_setting('enable_external_access'), "
                           "current_setting('lock_configuration')").fetchone() == (True, False)
    finally:
        con.close()
