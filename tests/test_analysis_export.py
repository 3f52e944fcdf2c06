"""Export bytes (CSV/XLSX/Parquet) and the export CLI: counts with rows, safe in Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.export import (
    ABOUT_SHEET,
    SAMPLE_NOTICE,
    about_sheet,
    commercial_reuse,
    commercial_reuse_flat,
    mark_sample,
    neutralise,
    to_csv_bytes,
    to_xlsx_bytes,
)
from analysis.pipeline import rebuild
from extract.db import connect_readonly, writable
from extract.ingest import order_releases
from extract.model import ParsedRelease
from tests.test_analysis_pipeline import FFT, _dsap, _store, release_2019, release_2020

REPO = Path(__file__).resolve().parents[1]
INJECTION = "=HYPERLINK(\"http://evil.example\",\"click\") Ltd"


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "npd.duckdb"
    evil = list(FFT)
    evil[0], evil[1], evil[2] = "DS00999", INJECTION, "+44 linkage @home"
    with writable(path) as con:
        for rel in (release_2019(), release_2020()):
            _store(con, rel)
        _store(con, ParsedRelease("SAMPLE_external_data_shares_to_end_of_June_2021.csv", "csv",
                                  "External data shares to end of June 2021", None,
                                  [_dsap([FFT, evil], page=None, sheet="Sheet1")]))
        order_releases(con)
        rebuild(con)
    return path


def _copy_with_samples(db: Path, tmp_path: Path, sample_files: set[str]) -> Path:
    """A copy of the test database in which only ``sample_files`` are sample releases."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    with writable(copy) as con:
        for (name,) in con.execute("SELECT source_file FROM releases").fetchall():
            con.execute("UPDATE releases SET is_sample = ? WHERE source_file = ?",
                        [name in sample_files, name])
    return copy


def test_neutralise_prefixes_formula_cells_only() -> None:
    df = pd.DataFrame({"=a": ["=1+1", "+44", "-5", "@SUM(A1)", "\tx", "\rx", "ok", "a=b", None],
                       "n": [-1, 2, 3, 4, 5, 6, 7, 8, 9]})
    out = neutralise(df)
    assert list(out.columns) == ["'=a", "n"]
    assert out["'=a"].tolist()[:8] == ["'=1+1", "'+44", "'-5", "'@SUM(A1)", "'\tx", "'\rx",
                                       "ok", "a=b"]
    assert pd.isna(out["'=a"].iloc[8])
    assert out["n"].tolist() == df["n"].tolist()  # numbers are not text: left alone
    assert df.loc[0, "=a"] == "=1+1"  # the input is not modified


def test_csv_bytes_have_bom_header_and_safe_cells() -> None:
    data = to_csv_bytes(pd.DataFrame({"organisation": ["=evil()", "Café Ltd"], "k": [1, 2]}))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["organisation", "k"], ["'=evil()", "1"], ["Café Ltd", "2"]]


def test_xlsx_bytes_sheets_and_no_formulas() -> None:
    data = to_xlsx_bytes({"summary": pd.DataFrame({"a": ["=1+2", "x"]}),
                          "a/b:c*d?[e] with a very long sheet name indeed": pd.DataFrame(
                              {"b": [1]}),
                          "summary ": pd.DataFrame({"c": ["@x"]})})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "summary"
    assert len(wb.sheetnames) == 3 and all(len(s) <= 31 for s in wb.sheetnames)
    assert len({s.casefold().strip() for s in wb.sheetnames}) == 3
    cells = [c for ws in wb for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert wb["summary"]["A2"].value == "'=1+2"


def test_commercial_reuse_tables_link_counts_to_rows(db: Path) -> None:
    con = connect_readonly(db)
    try:
        tables = commercial_reuse(con)
    finally:
        con.close()
    by_org, rows, summary = tables["by_organisation"], tables["rows"], tables["summary"]
    assert summary["release_file"].tolist() == [
        "SAMPLE_external_data_shares_to_end_of_June_2019.pdf",
        "SAMPLE_external_data_shares_to_end_of_March_2020.ods",
        "SAMPLE_external_data_shares_to_end_of_June_2021.csv"]
    assert summary["commercial_identifying_shares"].tolist() == [1, 2, 2]
    assert summary["commercial_recipients"].tolist() == [1, 2, 2]
    for rec in by_org.itertuples():
        behind = rows[rows["count_id"] == rec.count_id]
        assert len(behind) == rec.shares
        assert set(behind["organisation"]) == {rec.organisation}
        assert set(behind["release_file"]) == {rec.release_file}
    first = rows.iloc[0]
    assert (first["reference"], first["source_page"], first["source_row"]) == ("DS00628", 2, 1)
    flat = commercial_reuse_flat(tables)
    assert len(flat) == len(rows) and (flat["shares_in_count"] >= 1).all()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The CLI in-process (fast); the subprocess test below covers the real entry point."""
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_cli_export_writes_each_format(db: Path, tmp_path: Path, suffix: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"reuse{suffix}"
    code, err = _run(capsys, "export", "--db", str(db), "--out", str(out))
    assert code == 0, err
    assert err.splitlines() == [f"wrote {out}: 5 counts backed by 5 register rows",
                                f"note: {SAMPLE_NOTICE} (3 of 3 releases); marked in the "
                                "is_sample column"]
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
        assert {r["is_sample"] for r in rows} == {"True"}
        written = {r["organisation_as_written"] for r in rows}
        assert "FFT Education Ltd" in written and "'" + INJECTION in written
        assert "'=HYPERLINK Ltd" in {r["organisation"] for r in rows}
        assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
        assert {"release_file", "reference", "source_page", "source_sheet", "source_row",
                "count_id", "shares_in_count"} <= set(rows[0])
    elif suffix == ".xlsx":
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == [ABOUT_SHEET, "summary", "by_organisation", "rows"]
        about = {r[0]: r[1] for r in wb[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)}
        assert next(iter(about)) == "Sample data"
        assert about["Sample data"].startswith(SAMPLE_NOTICE)
        assert about["Contents"].startswith("Commercial re-use of identifying pupil-level")
        assert about["Database"] == str(db)
        assert about["Generated"][:10] in {
            (dt.datetime.now(dt.UTC) - dt.timedelta(days=d)).strftime("%Y-%m-%d")
            for d in (0, 1)}
        for sheet in ("summary", "by_organisation", "rows"):
            header = [c.value for c in wb[sheet][1]]
            col = header.index("is_sample")
            assert header[col - 1] == "release_file"
            assert {r[col] for r in wb[sheet].iter_rows(min_row=2, values_only=True)} == {True}
        values = [c.value for ws in wb for row in ws.iter_rows() for c in row]
        assert "'" + INJECTION in values and "'+44 linkage @home" in values
        assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    else:
        df = pd.read_parquet(out)
        # Parquet keeps values as written
        assert INJECTION in set(df["organisation_as_written"])
        assert len(df) == 5
        assert df["is_sample"].dtype == bool and df["is_sample"].all()


def test_real_releases_carry_no_sample_label(db: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    real = _copy_with_samples(db, tmp_path, set())
    out = tmp_path / "reuse.xlsx"
    code, err = _run(capsys, "export", "--db", str(real), "--out", str(out))
    assert code == 0
    assert err.splitlines() == [f"wrote {out}: 5 counts backed by 5 register rows"]
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [ABOUT_SHEET, "summary", "by_organisation", "rows"]
    items = [r[0] for r in wb[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)]
    assert items[0] == "Contents" and "Sample data" not in items
    values = [c.value for ws in wb for row in ws.iter_rows() for c in row]
    assert "is_sample" not in values and not any(
        isinstance(v, str) and "Sample data" in v for v in values)
    csv_out = tmp_path / "reuse.csv"
    assert _run(capsys, "export", "--db", str(real), "--out", str(csv_out))[0] == 0
    assert "is_sample" not in csv_out.read_text(encoding="utf-8-sig").splitlines()[0]


def test_mixed_releases_label_each_row(db: Path, tmp_path: Path) -> None:
    """Only the 2021 release is a sample: the column appears and tells the rows apart."""
    sample = "SAMPLE_external_data_shares_to_end_of_June_2021.csv"
    con = connect_readonly(_copy_with_samples(db, tmp_path, {sample}))
    try:
        tables = commercial_reuse(con)
        about = about_sheet(con, "what", "sector = commercial")
        marked = mark_sample(con, tables["rows"].drop(columns="is_sample"))
        earlier = [f for f in tables["summary"]["release_file"] if f != sample]
        unmarked = mark_sample(con, tables["rows"][tables["rows"]["release_file"].isin(earlier)]
                               .drop(columns="is_sample"))
        about_real = about_sheet(con, "what", release_files=earlier)
    finally:
        con.close()
    for t in tables.values():
        assert (t["is_sample"] == (t["release_file"] == sample)).all()
        assert t["is_sample"].any() and not t["is_sample"].all()
    assert marked["is_sample"].tolist() == tables["rows"]["is_sample"].tolist()
    assert "is_sample" not in unmarked.columns  # real releases only: no label
    assert about.iloc[0].tolist() == ["Sample data", f"{SAMPLE_NOTICE} (1 of 3 releases; see "
                                      "the is_sample column)"]
    info = dict(zip(about["item"], about["value"], strict=True))
    assert info["Contents"] == "what" and info["Filters"] == "sector = commercial"
    assert info["Releases"].count("(sample)") == 1 and f"{sample} (sample)" in info["Releases"]
    assert "Sample data" not in set(about_real["item"])


def test_about_sheet_is_neutralised_in_xlsx(db: Path) -> None:
    con = connect_readonly(db)
    try:
        about = about_sheet(con, "=HYPERLINK(\"http://evil.example\") shares",
                            filters="-organisation: @acme")
    finally:
        con.close()
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({ABOUT_SHEET: about})))
    info = {r[0]: r[1] for r in wb[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)}
    assert info["Contents"] == "'=HYPERLINK(\"http://evil.example\") shares"
    assert info["Filters"] == "'-organisation: @acme"
    assert all(c.data_type != "f" for row in wb[ABOUT_SHEET].iter_rows() for c in row)


def test_cli_export_errors_are_one_line(db: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "export", "--db", str(db), "--out", str(tmp_path / "x.txt"))
    assert code == 2
    assert err.strip() == (f"error: {tmp_path / 'x.txt'}: unsupported export type .txt; "
                           "expected .csv, .xlsx or .parquet")
    missing = tmp_path / "none.duckdb"
    code, err = _run(capsys, "export", "--db", str(missing), "--out", str(tmp_path / "x.csv"))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {missing}: no database")
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    code, err = _run(capsys, "export", "--db", str(junk), "--out", str(tmp_path / "x.csv"))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {junk}:")
    assert not (tmp_path / "x.csv").exists()


def test_cli_entry_point_reports_without_traceback(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "analysis", "export", "--db",
                          str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "x.xlsx")],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


LOOKALIKES = ["\uff1dHYPERLINK(\"http://evil.example\")", "\uff0b44 1234", "\uff0d5",
              "\uff20SUM(A1)", "\u200b=1+1", "\u200d\u200b+cmd", "\ufeff=2*3", "\u2060@x",
              "\u00ad-1"]


@pytest.mark.parametrize("cell", LOOKALIKES)
def test_lookalike_formula_starts_are_neutralised(cell: str) -> None:
    assert neutralise(pd.DataFrame({"a": [cell]}))["a"].item() == "'" + cell
    rows = list(csv.reader(io.StringIO(to_csv_bytes(pd.DataFrame({"a": [cell]}))
                                       .decode("utf-8-sig"))))
    assert rows[1] == ["'" + cell]
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"s": pd.DataFrame({"a": [cell]})})))
    assert wb["s"]["A2"].value == "'" + cell and wb["s"]["A2"].data_type != "f"


def test_plain_text_with_invisible_characters_is_left_alone() -> None:
    cells = ["\u200bFFT Education Ltd", "a\uff1db", "\u200b", "Tier 1 \uff0b 2"]
    assert neutralise(pd.DataFrame({"a": cells}))["a"].tolist() == cells


def test_xlsx_says_where_it_cut_a_long_cell() -> None:
    from analysis.export import XLSX_CELL_LIMIT

    long = "pupil level data items; " * 2000  # 48,000 characters
    df = pd.DataFrame({"reference": ["DS00001", "DS00002"], "data_shared": ["short", long]})
    about = pd.DataFrame([("Contents", "test")], columns=["item", "value"])
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({ABOUT_SHEET: about, "rows": df})))
    cell = wb["rows"]["B3"].value
    assert len(cell) == XLSX_CELL_LIMIT
    assert cell.endswith("more characters; Excel cells hold at most 32,767]")
    kept = cell.index(" [cut")
    assert f"[cut: {len(long) - kept:,} more characters" in cell
    assert long.startswith(cell[:cell.index(" [cut")])
    notes = {r[0]: r[1] for r in wb[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)}
    assert "sheet 'rows', column data_shared, row 3" in notes["Cut cells"]
    assert wb["rows"]["B2"].value == "short"
    # CSV keeps the whole text
    assert long.strip() in to_csv_bytes(df).decode("utf-8-sig")


def test_exports_carry_provenance_columns(db: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.export import PROVENANCE_COLUMNS, PROVENANCE_SEPARATOR, SAMPLE_LICENCE

    con = connect_readonly(db)
    shas = dict(con.execute("SELECT source_file, sha256 FROM releases").fetchall())
    con.close()
    out = tmp_path / "reuse.csv"
    assert _run(capsys, "export", "--db", str(db), "--out", str(out))[0] == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    header = rows[0]
    sep = header.index(PROVENANCE_SEPARATOR)
    assert tuple(header[sep + 1:]) == PROVENANCE_COLUMNS
    assert header.index("share_url") == header.index("share_key") + 1 < sep
    for r in rows[1:]:
        rec = dict(zip(header, r, strict=True))
        assert r[sep] == ""  # the separator's cells are empty, not a '- placeholder
        assert rec["source_file"] == rec["release_file"]
        assert rec["source_sha256"] == shas[rec["release_file"]]
        assert rec["source_url"] == "" and rec["retrieved_at"] == ""  # not fetched
        assert rec["licence"] == SAMPLE_LICENCE  # the sample is ours, not OGL
        assert rec["tool_version"].startswith("npd-shares ")
        assert rec["share_url"] == (f"/share?ref={rec['share_key']}&in={rec['release_file']}"
                                    if rec["share_key"] else "")
    assert not any(v == "'-" for r in rows for v in r)
    xlsx = tmp_path / "reuse.xlsx"
    assert _run(capsys, "export", "--db", str(db), "--out", str(xlsx))[0] == 0
    wb = openpyxl.load_workbook(xlsx)
    for sheet in ("summary", "by_organisation", "rows"):
        head = [c.value for c in wb[sheet][1]]
        assert head[-len(PROVENANCE_COLUMNS) - 1] == PROVENANCE_SEPARATOR
    about = {r[0]: r[1] for r in wb[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)}
    source_lines = [k for k in about if k.startswith("Source: ")]
    assert len(source_lines) == 3
    assert all("sha256 " in about[k] and "licence: " in about[k] for k in source_lines)
    assert about["Tool version"].startswith("npd-shares ")
    assert "32,767" in about["Long text"]


def test_ingest_records_fetch_provenance(tmp_path: Path) -> None:
    """A file downloaded by `extract fetch` keeps its URL and date in releases (and an OGL
    licence); a file that is not in the manifest has none."""
    import hashlib
    import json as _json

    from extract.ingest import OGL, ingest

    src = REPO / "tests" / "data" / "govuk" / "DfE_external_data_shares_June_2023_DSAP.csv"
    dest = tmp_path / "releases"
    dest.mkdir()
    copy = dest / src.name
    copy.write_bytes(src.read_bytes())
    url = "https://assets.publishing.service.gov.uk/media/x/" + src.name
    (dest / "manifest.json").write_text(_json.dumps({"files": {url: {
        "filename": src.name, "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
        "size": copy.stat().st_size, "fetched_at": "2026-11-30T21:04:11+00:00"}}}))
    db = tmp_path / "p.duckdb"
    ingest([copy], db)
    con = connect_readonly(db)
    try:
        got = con.execute("SELECT source_url, retrieved_at, licence FROM releases").fetchall()
    finally:
        con.close()
    assert got == [(url, "2026-11-30T21:04:11+00:00", OGL)]
