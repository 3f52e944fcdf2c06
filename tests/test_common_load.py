"""views.common.load: any module-level function of the data layer, nothing else.

The cache keys on the function's module and name, so a function that name does not lead
back to (a lambda, a nested function) or one outside views.data / extract / analysis is
refused before anything runs. The pages' own use is covered by their AppTest files."""

from __future__ import annotations

import os.path

import pytest

from views import common


def test_load_refuses_what_its_cache_key_cannot_name() -> None:
    def nested(con: object) -> object:  # never called
        return con

    for fn in (nested, lambda con: con, os.path.join, common.esc):
        with pytest.raises(ValueError, match="is not a data-layer query"):
            common.load(fn)
