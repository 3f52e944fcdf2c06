"""Each published figure recomputed on a small database whose shares are known, against the
same number worked out by hand; plus coverage, the CLI and the rows behind each figure."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis import figures as fig
from analysis.__main__ import main
from extract.db import connect_readonly
from tests.fixtures import figures_db
from tests.fixtures.figures_db import SHARES, Share

APPROVED = {"approved", "approved / received data", "received data", "data shared"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return figures_db.build(tmp_path_factory.mktemp("figures") / "figures.duckdb")


@pytest.fixture(scope="module")
def results(db: Path) -> dict[str, fig.FigureResult]:
    con = connect_readonly(db)
    try:
        return {r.figure.id: r for r in fig.compute_all(con)}
    finally:
        con.close()


# --- the hand computation: plain Python over the fixture's ground truth -----------------------

def status(s: Share) -> str | None:
    """The latest listing's status, else the latest status an earlier listing gave."""
    for rel in sorted(s.statuses, reverse=True):
        if s.statuses[rel]:
            return s.statuses[rel]
    return None


def approved(s: Share) -> bool:
    return (status(s) or "").casefold() in APPROVED


def in_period(s: Share, start: str, end: str) -> bool:
    return start <= f"{s.date:%Y-%m}" <= end


def tiers(s: Share) -> bool:
    return s.classification in ("Tier 1", "Tier 2", "Tier 4")


def keys(shares: list[Share]) -> set[str]:
    return {s.key or "row" for s in shares}


def counted_keys(result: fig.FigureResult, part: bool = False) -> set[str]:
    rows = result.rows
    if part:
        rows = rows[rows["counted_in"] == "part and total"]
    return {k if not k.startswith("row:") else "row" for k in rows["share_key"]}


# --- one test per figure ----------------------------------------------------------------------

def test_commercial_share_of_approved_identifying_2012_2020(results) -> None:
    r = results["commercial_third_2012_2020"]
    total = [s for s in SHARES if in_period(s, "2012-03", "2020-06") and approved(s)
             and s.flags_identifying]
    part = [s for s in total if s.sector == "commercial"]
    assert keys(total) == {"DR120315.01", "DR120601.01", "DR170303.01", "DR170531.01",
                           "DR170615.01", "DS00601", "DS00605", "R0042", "row"}
    assert keys(part) == {"DR120315.01", "DR170531.01", "DS00601", "DS00605"}
    assert (r.numerator, r.denominator) == (len(part), len(total)) == (4, 9)
    assert r.value == pytest.approx(100 * 4 / 9)
    assert counted_keys(r) == keys(total) and counted_keys(r, part=True) == keys(part)
    assert r.ours_text() == "44.4% (4 of 9)" and r.agrees() is True
    # DS00603's status is stated by no release: left out, and said so
    assert any("no recognised status" in n for n in r.notes)
    assert any("earlier release" in n for n in r.notes)  # DS00601: R3 blank, R2 Approved


def test_tier_share_of_approved_2012_2017(results) -> None:
    r = results["identifying_86pct_2012_2017"]
    total = [s for s in SHARES if in_period(s, "2012-03", "2017-05") and approved(s)]
    part = [s for s in total if tiers(s)]
    assert (r.numerator, r.denominator) == (len(part), len(total)) == (4, 6)
    assert counted_keys(r, part=True) == keys(part)
    assert r.ours_text() == "66.7% (4 of 6)" and r.agrees() is False


def test_identifying_count_to_may_2017(results) -> None:
    r = results["identifying_1000_2017"]
    expected = [s for s in SHARES if in_period(s, "2012-03", "2017-05") and approved(s)
                and tiers(s)]
    # DR170531.01 was pending in 2017 and received data by 2020: the latest status counts;
    # DR170303.01 is listed twice and counted once.
    assert keys(expected) == {"DR120315.01", "DR120601.01", "DR170303.01", "DR170531.01"}
    assert r.value == len(expected) and counted_keys(r) == keys(expected)
    assert len(r.rows) == 4


def test_identifying_count_to_june_2020(results) -> None:
    r = results["identifying_2000_2020"]
    expected = [s for s in SHARES if in_period(s, "2012-03", "2020-06") and approved(s)
                and s.flags_identifying]
    assert r.value == len(expected) == 9 and counted_keys(r) == keys(expected)


def test_dfe_coded_share_of_2018_dsap(results) -> None:
    r = results["identifying_two_thirds_2018"]
    total = [s for s in SHARES if s.section == "dsap" and in_period(s, "2018-05", "2018-12")]
    part = [s for s in total if s.dfe]
    assert (r.numerator, r.denominator) == (len(part), len(total)) == (3, 4)
    assert r.ours_text() == "75.0% (3 of 4)" and r.agrees() is True


def test_npd_requests_2012_2016_any_status(results) -> None:
    r = results["requests_887_2012_2016"]
    expected = [s for s in SHARES if s.section == "npd_requests"
                and in_period(s, "2012-03", "2016-12")]
    assert r.value == len(expected) == 6 and counted_keys(r) == keys(expected)


def test_approved_npd_requests_jan_may_2017(results) -> None:
    r = results["approved_92_2017"]
    expected = [s for s in SHARES if s.section == "npd_requests"
                and in_period(s, "2017-01", "2017-05") and approved(s)]
    assert r.value == len(expected) == 2 and counted_keys(r) == keys(expected)


def _months(n: int) -> list[int]:
    return list(range(n))


def test_home_office_requests_range(results) -> None:
    r = results["home_office_requests_range"]
    # July 2015 .. December 2017 = 30 months; January 2016 restated as 500 by release 3
    values = [figures_db.requested(3, i) for i in _months(30)]
    assert (r.value, r.high) == (min(values), max(values)) == (0, 500)
    assert len(r.rows) == 30 and set(r.rows["release_file"]) == {figures_db.RELEASES[2][0]}
    jan = r.rows[r.rows["period_start"] == figures_db.month(6)]
    assert jan["value"].tolist() == [500]


def test_home_office_matched_range(results) -> None:
    r = results["home_office_matched_range"]
    values = [figures_db.matched(i) for i in _months(30)]
    assert (r.value, r.high) == (min(values), max(values)) == (0, 6)
    assert r.ours_text() == "0 to 6"


@pytest.mark.parametrize("fid", ["home_office_requested_total", "home_office_matched_total"])
def test_home_office_totals_not_covered(results, fid: str) -> None:
    """The releases give months to June 2020; the figure runs to September 2022."""
    r = results[fid]
    assert not r.covered and r.value is None and r.ours_text() == "not covered"
    assert "missing July 2020 to September 2022" in r.coverage
    assert r.rows.empty


def test_home_office_total_over_a_covered_period(db: Path) -> None:
    con = connect_readonly(db)
    try:
        out = fig.compute_all(con, fig.Period.parse("2015-07..2016-01"))
    finally:
        con.close()
    by_id = {r.figure.id: r for r in out}
    assert by_id["home_office_requested_total"].value == sum([0, 1, 2, 3, 4, 5, 500])
    assert by_id["home_office_matched_total"].value == sum([0, 1, 2, 3, 4, 5, 6])


def test_period_beyond_the_releases_prints_no_number(db: Path) -> None:
    con = connect_readonly(db)
    try:
        out = fig.compute_all(con, fig.Period.parse("2012-03..2021-01"))
        early = fig.compute_all(con, fig.Period.parse("2011-01..2015-01"))
    finally:
        con.close()
    shares = [r for r in out if not r.figure.is_home_office]
    assert all(not r.covered and r.value is None for r in shares)
    assert "the period ends January 2021" in shares[0].coverage
    assert all(not r.covered for r in early if not r.figure.is_home_office)
    assert "the period starts January 2011" in early[0].coverage


def test_rows_link_to_each_share_as_listed(results) -> None:
    r = results["identifying_1000_2017"]
    row = r.rows[r.rows["share_key"] == "DR170531.01"].iloc[0]
    # the latest listing: the June 2020 release
    assert row["release_file"] == "DfE_external_data_shares_June_2020.ods"
    assert row["share_url"] == ("/share?ref=DR170531.01&in="
                                "DfE_external_data_shares_June_2020.ods")
    assert row["status"] == "Received data" and row["status_class"] == "approved"


def test_status_classes() -> None:
    classes = fig.load_status_classes()
    assert fig.status_class("Approved / received data", classes) == "approved"
    assert fig.status_class(" NOT  pursued.", classes) == "not_approved"
    assert fig.status_class("", classes) == "unstated"
    assert fig.status_class("Under review", classes) == "unrecognised"


def test_figures_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "f.csv"
    rows = pd.read_csv(fig.FIGURES_CSV, dtype=str, keep_default_na=False)
    rows.loc[0, "identifying"] = "vibes"
    rows.to_csv(bad, index=False)
    with pytest.raises(fig.FigureError, match="identifying 'vibes' is not one of"):
        fig.load_figures(bad)
    with pytest.raises(fig.FigureError, match="ends before it starts"):
        fig.Period.parse("2020-06..2012-03")


def test_cli_table_csv_json_and_rows(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["figures", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("commercial_third_2012_2020 "))
    assert "over 33.3%" in line and "44.4% (4 of 9)" in line and line.rstrip().endswith("yes")
    assert "not covered" in next(x for x in out.splitlines()
                                 if x.startswith("home_office_requested_total "))
    assert main(["figures", "--db", str(db), "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table.loc[table["id"] == "approved_92_2017", "ours"].item() == "2"
    assert main(["figures", "--db", str(db), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    one = next(d for d in doc if d["id"] == "identifying_1000_2017")
    assert one["value"] == 4 and len(one["rows"]) == 4
    assert main(["figures", "--db", str(db), "--rows", "approved_92_2017"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(rows["share_key"]) == {"DR170303.01", "DR170531.01"}


def test_cli_errors_are_one_line(db: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["figures", "--db", str(db), "--period", "2020-13..2021-01"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: period '2020-13..2021-01': '2020-13' is not a month (YYYY-MM)"]
    assert main(["figures", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["figures", "--db", str(db), "--rows", "home_office_matched_total"]) == 1
    assert "not covered" in capsys.readouterr().err


def test_workbook_carries_rows_and_provenance(db: Path) -> None:
    con = connect_readonly(db)
    try:
        results = fig.compute_all(con)
        data = fig.workbook(con, results, "each figure's own period")
    finally:
        con.close()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:2] == ["About this file", "figures"]
    assert "commercial_third_2012_2020" in wb.sheetnames
    assert "home_office_matched_total" not in wb.sheetnames  # not covered: no rows
    header = [c.value for c in wb["commercial_third_2012_2020"][1]]
    sep = header.index("Provenance (columns to the right)")
    assert header[sep + 1:] == ["source_file", "source_sha256", "source_url", "retrieved_at",
                                "licence", "extractor_version", "tool_version"]
    rows = list(wb["commercial_third_2012_2020"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 9 and all(r[sep] is None for r in rows)  # no placeholder
    june = [r for r in rows if r[sep + 1] == "DfE_external_data_shares_June_2020.ods"]
    assert june and june[0][sep + 3].startswith("https://assets.publishing.service.gov.uk/")
    assert june[0][sep + 5] == "Open Government Licence v3.0"
    about = {r[0]: r[1] for r in wb["About this file"].iter_rows(min_row=2, values_only=True)}
    assert "downloaded from https://" in about["Source: DfE_external_data_shares_June_2020.ods"]
    assert about["Tool version"].startswith("npd-shares ")


def test_not_covered_names_the_covered_part(db: Path) -> None:
    con = connect_readonly(db)
    try:
        out = {r.figure.id: r for r in fig.compute_all(con, fig.Period.parse("2011-01..2021-01"))}
        again = fig.compute_all(con, out["identifying_2000_2020"].suggested)
    finally:
        con.close()
    assert out["identifying_2000_2020"].suggested == fig.Period.parse("2012-03..2020-06")
    assert out["home_office_matched_total"].suggested == fig.Period.parse("2015-07..2020-06")
    # the suggested part is covered for every share figure (Home Office counts start later)
    assert all(r.covered for r in again if not r.figure.is_home_office)
    assert not any(r.covered for r in again if r.figure.is_home_office)
