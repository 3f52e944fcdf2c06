"""Re-create the small release files served by tests/test_fetch.py (run from the repo root).

    python tests/data/govuk/make_files.py

publication.json is a recorded-shape gov.uk content API response for the publication
"DfE external data shares" cut down to three attachments (two register files and an HTML
attachment, which fetch must skip); its asset URLs are rewritten to the test server.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.fixtures.model import FixtureSection  # noqa: E402
from tests.fixtures.sheetgen import DEFAULT_LEGEND, write_register_sheet  # noqa: E402

DSAP = FixtureSection(
    "dsap",
    "DfE external third-party data shares (approved by DSAP from May 2018 to end of June 2023)",
    ["Reference", "Organisation", "Project title", "Data shared", "Date approved", "Status"],
    [["DS00628", "University College London", "Long-term outcomes of children in need",
      "Pupil level KS4 attainment, CIN indicators", "2019-03-14", "Approved"],
     ["DS00702", "FFT Education Ltd", "FFT Aspire", "Names, UPN, KS2 attainment",
      "2019-05-14", "Approved"]],
)
HOME = FixtureSection("home_office", "Data shares with Home Office",
                      ["Month", "Number of individuals requested",
                       "Number of individuals matched"],
                      [["April 2023", "12", "3"], ["May 2023", "9", "2"]])

if __name__ == "__main__":
    write_register_sheet(HERE / "DfE_external_data_shares_June_2023.ods", [DSAP, HOME],
                         title="DfE external data shares: June 2023", fmt="ods",
                         legend=DEFAULT_LEGEND[:3])
    write_register_sheet(HERE / "DfE_external_data_shares_June_2023_DSAP.csv", [DSAP],
                         title="DfE external data shares: June 2023", fmt="csv")
