"""Build a validated settings object from what a caller passed: nothing, a dict, or one.

``ReaderSettings`` and ``Limits`` (and any later settings object) accept the same three
forms, in the manner of pdfplumber's ``TableSettings.resolve``; an unknown key is an error,
never silently ignored, so a misspelt override cannot go unnoticed.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, TypeVar

T = TypeVar("T")


def resolve(cls: type[T], value: T | dict[str, Any] | None, default: T, what: str) -> T:
    """``default`` for None, ``value`` itself for an instance, else ``default`` with the
    dict's overrides (validated by the dataclass's ``__post_init__``)."""
    if value is None:
        return default
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown {what}(s): {', '.join(unknown)}")
        return replace(default, **value)  # type: ignore[type-var]
    raise TypeError(f"cannot make {cls.__name__} from {type(value).__name__}")
