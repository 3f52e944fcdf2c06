"""The documented limits on what one input file may cost to read.

A release is a few megabytes: a few hundred PDF pages, a few thousand rows. A hostile or broken
file can claim far more (a 2 kB workbook declaring a cell at XFD1048576, a 4 MB zip that
inflates to gigabytes, a 10,000-page PDF). Every limit here is set well above any real release,
so an honest file never meets one, and low enough that a file at the limit is still read
within the memory and time the tool promises (peak under 2 GB for any input of 10 MB or less).

The values are listed, with the message each refusal prints, in ``docs/limits.md``; a test
checks that the page and this object agree. Readers take their limits from :data:`LIMITS`
(or an instance passed down), never from constants of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from extract.resolve import resolve

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Ceilings per input file. Sizes are in bytes, times in seconds."""

    # Size of one release file on disk (and of one downloaded body).
    max_file_bytes: int = 256 * MiB
    # Pages of one PDF (a real register release is a few hundred).
    max_pdf_pages: int = 2_000
    # Rows of one table (sheet or PDF section), not counting empty rows.
    max_rows_per_table: int = 250_000
    # Cells of one file, all sheets together (rows x columns as declared or read).
    max_cells_per_file: int = 10_000_000
    # Columns of one sheet (16,384 is the XLSX maximum, XFD).
    max_columns: int = 16_384
    # Sum of the uncompressed sizes of a workbook's (zip) members.
    max_unpacked_bytes: int = 1 * GiB
    # Uncompressed / compressed size of any one zip member larger than ratio_min_bytes.
    max_zip_ratio: int = 200
    # Members smaller than this are never refused for their ratio (tiny XML compresses well).
    ratio_min_bytes: int = 1 * MiB
    # Wall-clock seconds to read one file (the reader runs in a child process, killed after).
    max_seconds_per_file: int = 900
    # Address space the process reading one file may map beyond what it inherits when it is
    # forked (RLIMIT_AS = inherited + this). Measured: the CLI with pdfplumber, pandas, DuckDB
    # and python-calamine imported maps about 475 MiB (140 MiB resident) before any file is
    # opened; reading the 100-page benchmark PDF peaks at 133 MiB resident; the 2.5 GiB
    # stream bomb of the tests is stopped at about 1.4 GB resident. See docs/limits.md.
    max_reader_memory_bytes: int = 1536 * MiB

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{f.name} must be a positive whole number, not {value!r}")
        if self.max_columns > 16_384:
            raise ValueError("max_columns cannot exceed 16384 (the XLSX maximum)")

    @classmethod
    def resolve(cls, value: Limits | dict[str, Any] | None) -> Limits:
        """Limits from None (the defaults, :data:`LIMITS`), a dict of overrides, or an instance."""
        return resolve(cls, value, LIMITS, "limit")


LIMITS = Limits()


def human_bytes(n: int) -> str:
    """A size as refusals print it: ``256 MiB``, ``1 GiB``."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
