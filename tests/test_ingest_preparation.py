"""The analysis' reference data is prepared while the reader works, and that changes nothing.

``extract.ingest`` builds the classifier's and the flags' indexes in a thread once a file's
pages are scanned (:func:`analysis.pipeline.prepare`), and the analysis after the last file
then uses them without reading the reference files again. These tests make sure that this
is only a matter of time: the files are read as they are at the ingest, an edit made since
an earlier run in the same process counts, a broken file still stops the ingest with its
name and line, and the result is the one a plain rebuild gives.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from analysis import pipeline, reference
from analysis.classify import classify_recipient
from extract.ingest import ingest

SAMPLE_PDF = next((Path(__file__).resolve().parents[1] / "data" / "sample").glob("*.pdf"))
TABLES = ("organisations", "organisation_names", "share_flags", "share_flag_notes")


@pytest.fixture
def edited_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "reference"
    shutil.copytree(reference.REFERENCE_DIR, copy)
    monkeypatch.setattr(reference, "REFERENCE_DIR", copy)
    reference.clear_caches()
    yield copy
    monkeypatch.undo()
    reference.clear_caches()


@pytest.fixture
def prepared_in(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the threads :func:`analysis.pipeline.prepare` ran in during the test."""
    threads: list[str] = []
    real = pipeline.prepare

    def spy() -> None:
        threads.append(threading.current_thread().name)
        real()

    monkeypatch.setattr(pipeline, "prepare", spy)
    return threads


def _snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        out = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
               for t in TABLES}
        out["shares"] = con.execute("SELECT share_id, organisation_id, sector, identifying, "
                                    "pupil_level FROM shares ORDER BY share_id").fetchall()
    return out


def _most_listed(db: Path) -> tuple[str, str]:
    """(name as written, sector) of the recipient with most rows."""
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        row = con.execute("SELECT organisation, any_value(sector) FROM shares "
                          "GROUP BY organisation ORDER BY count(*) DESC, organisation "
                          "LIMIT 1").fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_prepared_while_reading_gives_what_a_plain_rebuild_gives(
        tmp_path: Path, prepared_in: list[str]) -> None:
    db = tmp_path / "npd.duckdb"
    [res] = ingest([SAMPLE_PDF], db)
    assert res.status == "ingested", res.reason
    assert prepared_in == ["analysis-prepare"]  # in the thread, not on the way to the analysis
    after_ingest = _snapshot(db)
    assert after_ingest["organisations"] and after_ingest["share_flags"]
    with closing(duckdb.connect(str(db))) as con:
        pipeline.rebuild(con)  # reads every reference file itself
    assert _snapshot(db) == after_ingest


def test_an_edit_since_an_earlier_run_in_this_process_counts(
        tmp_path: Path, edited_reference: Path) -> None:
    first = tmp_path / "first.duckdb"
    ingest([SAMPLE_PDF], first)
    name, sector = _most_listed(first)
    assert classify_recipient(name).sector == sector  # the caches are warm now
    new_sector = "charity" if sector != "charity" else "commercial"
    with (edited_reference / "overrides.csv").open("a", encoding="utf-8") as fh:
        fh.write(f'"{name}",{new_sector},test override\n')
    second = tmp_path / "second.duckdb"
    ingest([SAMPLE_PDF], second)
    assert _most_listed(second) == (name, new_sector)


def test_a_broken_reference_file_still_stops_the_ingest_with_its_line(
        tmp_path: Path, edited_reference: Path, prepared_in: list[str]) -> None:
    with (edited_reference / "rules.csv").open("a", encoding="utf-8") as fh:
        fh.write("\\bwidgets\\b,manufacturing,0.9,test rule\n")
    db = tmp_path / "npd.duckdb"
    with pytest.raises(reference.ReferenceError, match=r"rules\.csv:\d+: unknown sector"):
        ingest([SAMPLE_PDF], db)
    # The preparation met the error first, kept quiet, and the analysis reported it.
    assert prepared_in == ["analysis-prepare"]
    assert not db.exists()  # nothing published
