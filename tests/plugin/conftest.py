from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def inner_ini(pytester):
    """Inner pytest runs get a minimal ini (pytest-asyncio warns without a loop scope, and warnings are errors)."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:cacheprovider\n")
