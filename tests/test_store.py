"""The database layer: atomic publication, schema versioning, normalisation into rows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from extract import schema
from extract.db import Discard, connect_readonly, writable
from extract.ingest import order_releases, store_release
from extract.model import IngestError, ParsedRelease, RawRow, RawTable
from extract.normalise import normalise


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _release(name: str = "SAMPLE_shares_to_end_of_June_2019.pdf") -> ParsedRelease:
    dsap = RawTable(
        "dsap",
        "DfE external third-party data shares (approved by DSAP from May 2018 to end of June 2019)",
        ["Reference", "Organisation", "Project title", "Date approved", "Panel notes"],
        [
            RawRow(["DS00628", "FFT Education Ltd", "Aspire", "21/02/2019", "expedited"], 1, 2),
            RawRow(["DS00702", "Times Newspapers Limited", "Exclusions", "pending", ""], 2, 2),
        ],
        first_page=2,
    )
    home = RawTable(
        "home_office",
        "Data shares with Home Office",
        ["Month", "Individuals requested", "Individuals matched"],
        [RawRow(["July 2015", "120", "31"], 1, 5), RawRow(["August 2015", "1,004", "n/a"], 2, 5)],
    )
    legend = RawTable("legend", "classification of data", ["Code", "Meaning"],
                      [RawRow(["1", "Instant identifier"], 3, sheet="classification of data")])
    return ParsedRelease(name, "pdf", "External data shares to end of June 2019", 6,
                         [dsap, home, legend])


def test_normalise_maps_fields_keeps_raw_and_unmapped() -> None:
    norm = normalise(_release())
    assert norm.rows_by_section() == {"dsap": 2, "home_office": 2}
    assert len(norm.counts) == 4  # two months x two measures
    first, second = norm.shares
    assert first["reference"] == "DS00628" and first["organisation"] == "FFT Education Ltd"
    assert str(first["date_approved"]) == "2019-02-21"
    assert first["date_approved_raw"] == "21/02/2019"
    assert second["date_approved"] is None and second["date_approved_raw"] == "pending"
    assert json.loads(first["extra_cells"]) == {"Panel notes": "expedited"}
    assert json.loads(first["raw_cells"])["Project title"] == "Aspire"
    assert (first["source_page"], first["source_row"]) == (2, 1)
    assert norm.unmapped == [{"section": "dsap", "column_index": 4, "header": "Panel notes"}]
    counts = {(c["period_label"], c["measure"]): (c["value"], c["value_raw"]) for c in norm.counts}
    assert counts[("August 2015", "Individuals requested")] == (1004, "1,004")
    assert counts[("August 2015", "Individuals matched")] == (None, "n/a")
    assert len(norm.legend) == 1


def test_normalise_refuses_a_release_without_register_tables() -> None:
    letter = ParsedRelease("letter.pdf", "pdf", "Dear Sir", 1, [])
    with pytest.raises(IngestError, match="no register table"):
        normalise(letter)


def test_writable_publishes_atomically_and_leaves_db_alone_on_failure(tmp_path: Path) -> None:
    db = tmp_path / "npd.duckdb"
    rel = _release()
    with writable(db) as con:
        store_release(con, Path(rel.source_file), "sha-1", rel, normalise(rel))
        order_releases(con)
    before = _digest(db)

    reader = connect_readonly(db)  # the dashboard holding the file open must not block a write
    with pytest.raises(RuntimeError), writable(db) as con:
        con.execute("DELETE FROM shares")
        raise RuntimeError("reader crashed mid-file")
    assert _digest(db) == before
    with writable(db) as con:
        con.execute("DELETE FROM shares WHERE 1 = 1")
        raise Discard
    assert _digest(db) == before
    assert reader.execute("SELECT count(*) FROM shares").fetchone() == (2,)
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["npd.duckdb"]  # no temp files left

    with writable(db) as con:
        con.execute("DELETE FROM shares WHERE reference = ?", ["DS00702"])
    with connect_readonly(db) as con:
        assert con.execute("SELECT reference FROM shares").fetchall() == [("DS00628",)]
        rel_row = con.execute(
            "SELECT source_file, period_end, release_order, is_sample FROM releases").fetchone()
    assert rel_row is not None
    assert rel_row[0] == "SAMPLE_shares_to_end_of_June_2019.pdf"
    assert str(rel_row[1]) == "2019-06-30" and rel_row[2] == 1 and rel_row[3] is True


def test_store_release_replaces_a_changed_file(tmp_path: Path) -> None:
    db = tmp_path / "npd.duckdb"
    rel = _release("shares.pdf")
    with writable(db) as con:
        store_release(con, Path("shares.pdf"), "sha-1", rel, normalise(rel))
        rel.tables[0].rows.pop()
        store_release(con, Path("shares.pdf"), "sha-2", rel, normalise(rel))
        assert con.execute("SELECT count(*), max(sha256) FROM releases").fetchone() == (1, "sha-2")
        assert con.execute("SELECT count(*) FROM shares").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM count_rows").fetchone() == (4,)


def test_files_open_in_duckdb_1_4_storage_format(tmp_path: Path) -> None:
    db = tmp_path / "npd.duckdb"
    with writable(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        (version,) = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'npd'"
        ).fetchone() or (None,)
    assert version == "v1.4.0+"  # a file only DuckDB 2.x could read would say v2.0.0+


def test_schema_version_mismatch_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "npd.duckdb"
    with writable(db) as con:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="schema version 999"), writable(db):
        pass
    assert schema.SCHEMA_VERSION == 1
