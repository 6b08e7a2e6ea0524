"""Fuzzing from a user's own pytest suite: the ``chatcontract_fuzz`` and ``chatcontract_schema`` fixtures.

Two styles, both pointed at a base URL from the command line, the environment or the ini file
(``--chatcontract-fuzz-url`` > ``CHATCONTRACT_FUZZ_URL`` > ``chatcontract_fuzz_url``; the same for the model and the
API key's environment variable):

* a whole run as one test::

      def test_provider_conforms(chatcontract_fuzz):
          chatcontract_fuzz.assert_ok(max_requests=200)   # fails with the findings and their curl lines

* one pytest test per generated request, schemathesis style::

      schema = schemathesis.pytest.from_fixture("chatcontract_schema")

      @schema.parametrize()
      def test_api(case):
          case.call_and_validate()   # chatcontract's engine checks the answer; max_tokens capped, budget kept
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from .._exceptions import UsageError
from ..report.results import FuzzResults
from .command import format_summary
from .hooks import attach, detach
from .options import FuzzOptions
from .runner import prepare, run_fuzz

__all__ = ["FuzzFindings", "FuzzTarget"]


class FuzzFindings(AssertionError):
    """A fuzz run found error-severity findings (carries the results)."""

    def __init__(self, results: FuzzResults) -> None:
        super().__init__(format_summary(results))
        self.results = results


class FuzzTarget:
    """A provider to fuzz, configured from pytest's options; each call starts a run."""

    def __init__(self, options: FuzzOptions) -> None:
        self.options = options

    def _options(self, overrides: dict[str, Any]) -> FuzzOptions:
        unknown = sorted(set(overrides) - set(FuzzOptions.__dataclass_fields__))
        if unknown:
            raise UsageError(f"unknown fuzz option(s): {', '.join(unknown)}")
        options = replace(self.options, **overrides)
        options.validate()
        return options

    def run(self, **overrides: Any) -> FuzzResults:
        """Fuzz with the configured options (keyword arguments override them); returns the results."""
        return run_fuzz(self._options(overrides))

    def assert_ok(self, **overrides: Any) -> FuzzResults:
        """Fuzz and raise :class:`FuzzFindings` (an AssertionError) on any error-severity finding."""
        results = self.run(**overrides)
        if not results.ok:
            raise FuzzFindings(results)
        return results

    @contextmanager
    def schema(self, **overrides: Any) -> Iterator[Any]:
        """The schemathesis schema (base URL, key, budgets and chatcontract's check configured) for a block."""
        schema, run = prepare(self._options(overrides))
        run.raise_on_budget = True
        attach(schema, run)
        try:
            yield schema
        finally:
            detach(schema)

    def __repr__(self) -> str:
        o = self.options
        return f"<chatcontract fuzz target {o.base_url} ({o.dialect}, model {o.model})>"
