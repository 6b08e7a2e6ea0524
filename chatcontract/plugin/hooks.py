"""Hook specifications of the chatcontract plugin (registered in ``pytest_addhooks``)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_chatcontract_checked(item: pytest.Item, exchange: Any, report: Any) -> None:
    """Called after the guard checked one chat-completion exchange of ``item``.

    ``exchange`` has ``method``, ``url``, ``status``, ``request`` (the parsed body or None) and ``stream``;
    ``report`` is the :class:`chatcontract.Report`. Use it to log, collect statistics or add custom checks.
    """
