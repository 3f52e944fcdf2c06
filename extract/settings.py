"""Every knob of the PDF reader in one validated object, in the manner of pdfplumber's
``TableSettings``: defaults that suit every layout we know, checked on creation, and
``resolve(None | dict | instance)`` so callers can pass any of the three.

The scanning layer (:mod:`extract.pdf_scan`) and the layout layer (:mod:`extract.pdf`) read
their thresholds from here instead of module constants, so a layout that needs a different
value is a settings change (and a test), not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from extract.resolve import resolve

READERS = ("pdfminer", "pdfium")


@dataclass(frozen=True)
class ReaderSettings:
    """Thresholds of the PDF reader. All lengths are in PDF points unless named otherwise."""

    # --- scanning (extract.pdf_scan) ---
    # Character source: "pdfminer" (pdfplumber's parser, the reference) or "pdfium".
    reader: str = "pdfium"
    # Worker processes for page scanning; 1 scans in this process.
    workers: int = 2
    # Below this many pages, starting worker processes costs more than it saves.
    pool_min_pages: int = 8

    # --- layout (extract.pdf) ---
    # Running heads and footers live in this share of the page height at the top and bottom.
    edge_zone: float = 0.12
    # A vertical gap separates rows (or blocks) when it is wider than the gap between the
    # lines of a cell plus this share of the font size (at least ``gap_margin_min`` pt).
    gap_margin_ratio: float = 0.12
    gap_margin_min: float = 0.8
    # Text in a size other than the body's (titles) is cut at no less than this share of
    # its size, unless its own measured pitch is tighter.
    title_gap_ratio: float = 0.4
    # A line of three or more one-word blocks whose gaps differ by less than this share of
    # the font size is justified running text (a title, a paragraph), not a header row.
    justified_tolerance: float = 0.1
    # A font size other than the body's gets its own measured line pitch (which may only
    # tighten its row cut) once this many words are set in it ...
    min_size_samples: int = 40
    # ... and this many line-to-line pitches were measured in it.
    min_pitch_samples: int = 8
    # ... and its line pitch is the smallest pitch seen at least this share as often as the
    # commonest one (a wrapped cell's lines are closer than rows).
    min_pitch_share: float = 0.15
    # Header rows of unruled tables not set in bold (bold ones end where the bold ends): at
    # most this many lines (a wrapped heading such as "Date first Extract sent / Date
    # permission for re-use granted/ Date Application Rejected" takes three, six in a narrow
    # column).
    max_header_lines: int = 8
    # Under a section title, an unrecognised header row heads a table only if at most this
    # share of the words under it run across its column bounds (prose does, tables do not).
    max_crossing_share: float = 0.05
    # An unruled table is top-aligned (rows anchor on their key's first line) if its key
    # column starts on the first line of at least this share of its multi-line bands.
    min_top_share: float = 0.6

    def __post_init__(self) -> None:
        if self.reader not in READERS:
            raise ValueError(f"reader must be one of {', '.join(READERS)}, not {self.reader!r}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.pool_min_pages < 1:
            raise ValueError("pool_min_pages must be at least 1")
        if not 0 < self.edge_zone < 0.5:
            raise ValueError("edge_zone must be between 0 and 0.5")
        for name in ("gap_margin_ratio", "gap_margin_min", "title_gap_ratio",
                     "justified_tolerance"):
            if not 0 <= getattr(self, name) <= 5:
                raise ValueError(f"{name} must be between 0 and 5")
        if self.min_size_samples < 1 or self.min_pitch_samples < 1:
            raise ValueError("min_size_samples and min_pitch_samples must be at least 1")
        if not 0 < self.min_pitch_share <= 1:
            raise ValueError("min_pitch_share must be above 0 and at most 1")
        if not 0 <= self.min_top_share <= 1:
            raise ValueError("min_top_share must be between 0 and 1")
        if not 0 <= self.max_crossing_share <= 1:
            raise ValueError("max_crossing_share must be between 0 and 1")
        if not 1 <= self.max_header_lines <= 12:
            raise ValueError("max_header_lines must be between 1 and 12")

    @classmethod
    def resolve(cls, value: ReaderSettings | dict[str, Any] | None) -> ReaderSettings:
        """Settings from None (defaults), a dict of overrides, or an instance as it is."""
        return resolve(cls, value, cls(), "reader setting")
