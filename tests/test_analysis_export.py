"""Export bytes (CSV/XLSX/Parquet) and the export CLI: counts with rows, safe in Excel."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.export import (
    commercial_reuse,
    commercial_reuse_flat,
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
    assert err.strip() == f"wrote {out}: 5 counts backed by 5 register rows"
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
        written = {r["organisation_as_written"] for r in rows}
        assert "FFT Education Ltd" in written and "'" + INJECTION in written
        assert "'=HYPERLINK Ltd" in {r["organisation"] for r in rows}
        assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
        assert {"release_file", "reference", "source_page", "source_sheet", "source_row",
                "count_id", "shares_in_count"} <= set(rows[0])
    elif suffix == ".xlsx":
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == ["summary", "by_organisation", "rows"]
        values = [c.value for ws in wb for row in ws.iter_rows() for c in row]
        assert "'" + INJECTION in values and "'+44 linkage @home" in values
        assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    else:
        df = pd.read_parquet(out)
        # Parquet keeps values as written
        assert INJECTION in set(df["organisation_as_written"])
        assert len(df) == 5


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
