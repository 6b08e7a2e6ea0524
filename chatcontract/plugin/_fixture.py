"""The ``chatcontract`` fixture object (loaded on first use of the fixture)."""

from __future__ import annotations

from typing import Any

import pytest

from ..engine import Report, assert_conforms, check
from ..streams import StreamChecker
from ._options import GUARD_KEY, Options

__all__ = ["ChatContractFixture"]


class ChatContractFixture:
    """``check`` / ``assert_conforms`` / ``stream_checker`` pre-configured with the test's options.

    Keyword arguments given to a call override the test's options (argument > marker > command line > ini).
    """

    def __init__(self, options: Options, node: pytest.Item) -> None:
        self.options = options
        self._node = node

    def _kwargs(self, overrides: dict[str, Any]) -> dict[str, Any]:
        merged = {k: v for k, v in self.options.check_kwargs().items() if v is not None}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return merged

    def check(self, payload: Any, **kwargs: Any) -> Report:
        """:func:`chatcontract.check` with this test's options."""
        return check(payload, **self._kwargs(kwargs))

    def assert_conforms(self, payload: Any, **kwargs: Any) -> Report:
        """:func:`chatcontract.assert_conforms` with this test's options."""
        return assert_conforms(payload, **self._kwargs(kwargs))

    def stream_checker(self, **kwargs: Any) -> StreamChecker:
        """A :class:`chatcontract.streams.StreamChecker` with this test's options."""
        return StreamChecker(**self._kwargs(kwargs))

    @property
    def exchanges(self) -> list[Any]:
        """The exchanges the guard has checked so far in this test (empty when the guard is off)."""
        guard = self._node.stash.get(GUARD_KEY, None)
        return list(guard.exchanges) if guard is not None else []

    def __repr__(self) -> str:
        return f"<chatcontract fixture {self.options}>"
