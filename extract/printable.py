"""Make text from files safe to print on a terminal: the one function every CLI uses.

File names and cells are attacker-controlled. Printed raw, a newline in a file name forges
an ``error:`` line, an ANSI escape recolours or clears the terminal, and a right-to-left
override makes ``evil‮gpj.csv`` read as ``evilvsc.jpg``. :func:`visible` shows each such
character as a Python-style escape (``\\n``, ``\\x1b``, ``\\u202e``) so it is seen, not obeyed.
Ordinary letters in any script, accents and emoji are left alone.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL; bidi embeddings, overrides, isolates and marks; zero-width
# characters and the BOM; line and paragraph separators (which some terminals break on).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def visible(text: object) -> str:
    """``text`` (anything, via ``str``) with every control, bidi or invisible character
    escaped. Surrogates from undecodable file names become ``\\udcXX``, not a crash."""
    s = str(text)
    s = _UNSAFE.sub(_escape, s)
    if any("\ud800" <= c <= "\udfff" for c in s):
        s = "".join(f"\\u{ord(c):04x}" if "\ud800" <= c <= "\udfff" else c for c in s)
    return s


def visible_console(**kwargs: object) -> object:
    """A ``rich.console.Console`` that passes every printed string through :func:`visible`
    before its markup is parsed, for CLIs that print data with rich (``extract changes``).
    Rich's own colour codes are added after, so they still work; data's escapes are shown."""
    from rich.console import Console

    class _VisibleConsole(Console):
        def render_str(self, text: str, **kw: object) -> object:  # type: ignore[override]
            return super().render_str(visible(text), **kw)  # type: ignore[arg-type]

    return _VisibleConsole(**kwargs)  # type: ignore[arg-type]
