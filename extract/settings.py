"""Every knob of the PDF reader in one validated object, in the manner of pdfplumber's
``TableSettings``: defaults that suit every layout we know, checked on creation, and
``resolve(None | dict | instance)`` so callers can pass any of the three.

The scanning layer (:mod:`extract.pdf_scan`) and the layout layer (:mod:`extract.pdf`) read
their thresholds from here instead of module constants, so a layout that needs a different
value is a settings change (and a test), not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

READERS = ("pdfminer", "pdfium")


@dataclass(frozen=True)
class ReaderSettings:
    """Thresholds of the PDF reader. All lengths are in PDF points unless named otherwise."""

    # --- scanning (extract.pdf_scan) ---
    # Character source: "pdfminer" (pdfplumber's parser, the reference) or "pdfium".
    reader: str = "pdfminer"
    # Worker processes for page scanning; 1 scans in this process.
    workers: int = 2
    # Below this many pages, starting worker processes costs more than it saves.
    pool_min_pages: int = 8

    # --- layout (extract.pdf) ---
    # Running heads and footers live in this share of the page height at the top and bottom.
    edge_zone: float = 0.12

    def __post_init__(self) -> None:
        if self.reader not in READERS:
            raise ValueError(f"reader must be one of {', '.join(READERS)}, not {self.reader!r}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.pool_min_pages < 1:
            raise ValueError("pool_min_pages must be at least 1")
        if not 0 < self.edge_zone < 0.5:
            raise ValueError("edge_zone must be between 0 and 0.5")

    @classmethod
    def resolve(cls, value: ReaderSettings | dict[str, Any] | None) -> ReaderSettings:
        """Settings from None (defaults), a dict of overrides, or an instance as it is."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ValueError(f"unknown reader setting(s): {', '.join(unknown)}")
            return replace(cls(), **value)
        raise TypeError(f"cannot make ReaderSettings from {type(value).__name__}")
