"""Make the provider fixtures available to the tests in this folder.

The whole suite gets them from ``pytest_plugins = ["tests.providers.fixtures"]`` in ``tests/conftest.py``;
when that plugin is already registered, nothing is done here (so the session servers start only once).
"""

from __future__ import annotations

import pytest

from . import fixtures as _fixtures

_PLUGIN_NAME = "tests.providers.fixtures"


def pytest_configure(config: pytest.Config) -> None:
    pm = config.pluginmanager
    if not pm.has_plugin(_PLUGIN_NAME) and not pm.is_registered(_fixtures):
        pm.register(_fixtures, _PLUGIN_NAME)
