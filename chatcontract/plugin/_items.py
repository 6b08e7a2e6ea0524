"""Cassette files as test items: ``cassettes/x.yaml::interaction[3]`` (loaded only when cassettes are collected)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .._exceptions import CassetteError
from ..cassettes.check import CassetteSettings
from ._options import resolve, url_pattern

__all__ = ["CassetteFile", "InteractionItem"]


class InteractionFailed(Exception):
    """An interaction broke the contract beyond its expected findings."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class CassetteFile(pytest.File):
    """A VCR.py cassette whose chat-completion interactions are checked as test items."""

    def collect(self) -> Iterator[pytest.Item]:
        from ..cassettes import load_cassette
        from ..cassettes.check import settings_for

        try:
            cassette = load_cassette(self.path, path_pattern=url_pattern(self.config).pattern)
        except CassetteError as exc:
            yield CassetteErrorItem.from_parent(self, name="cassette", error=exc)
            return
        options = resolve(self)
        settings = settings_for(
            self.path, dialect=options.dialect, select=options.select, ignore=options.ignore, provider=options.provider
        )
        items = [
            InteractionItem.from_parent(self, name=f"interaction[{it.index}]", interaction=it, settings=settings)
            for it in cassette.interactions
            if it.is_chat
        ]
        yield from items
        if settings.required and items:
            yield ExpectationsItem.from_parent(self, name="expectations", interactions=items, settings=settings)


class InteractionItem(pytest.Item):
    """One recorded chat-completion exchange, checked with the request recorded beside it."""

    def __init__(self, *, interaction: Any, settings: CassetteSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interaction = interaction
        self.settings = settings
        self.report: Any = None
        self.expected_seen: set[str] = set()

    def runtest(self) -> None:
        from ..cassettes.check import check_interaction

        result = check_interaction(self.interaction, self.settings)
        self.report = result.report
        self.expected_seen = set(result.expected_seen)
        if not result.ok:
            why = f"\n(dialect {result.report.dialect}, {result.dialect_reason})" if result.dialect_reason else ""
            raise InteractionFailed(str(result.report) + why)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, InteractionFailed):
            text = excinfo.value.text
            if self.expected_seen:
                seen = ", ".join(sorted(self.expected_seen))
                text += f"\n\nExpected for this cassette/provider (not failing): {seen}"
            from ._output import scrub_output

            return scrub_output(f"{self.path.name} interaction {self.interaction.index}: "
                                f"{self.interaction.request.method} {self.interaction.request.uri}\n{text}")
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        dialect = self.report.dialect if self.report is not None else self.settings.dialect
        if dialect is None and self.settings.infer:
            from .._infer import infer_dialect

            dialect = infer_dialect(self.interaction.request.headers, self.interaction.request.uri)[0]
        return self.path, None, f"{dialect or 'mistral'}: {self.name} {self._request_id()}".rstrip()

    def _request_id(self) -> str:
        headers = {k.lower(): v for k, v in self.interaction.response.headers.items()}
        for key in ("x-request-id", "request-id"):
            if headers.get(key):
                value = headers[key]
                return str(value[0] if isinstance(value, list) else value)
        import json

        try:
            doc = json.loads(self.interaction.response.body)
        except (ValueError, TypeError):
            return ""
        return str(doc.get("id", "")) if isinstance(doc, dict) else ""


class ExpectationsItem(pytest.Item):
    """Fails when a finding the configuration expects for this cassette no longer occurs (a stale expectation)."""

    def __init__(self, *, interactions: list[InteractionItem], settings: CassetteSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interactions = interactions
        self.settings = settings

    def runtest(self) -> None:
        from ..cassettes.check import missing_expectations

        seen: set[str] = set()
        for item in self.interactions:
            if item.report is None:  # deselected or not run yet: check it now, quietly
                try:
                    item.runtest()
                except InteractionFailed:
                    pass
            seen |= item.expected_seen
        missing = missing_expectations(self.settings, seen)
        if missing:
            raise InteractionFailed(
                f"Expected finding(s) {', '.join(missing)} never occurred in {self.path.name}: the provider may have "
                "been fixed; update per-cassette-expect in [tool.chatcontract]."
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, InteractionFailed):
            return excinfo.value.text
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}: expected findings"


class CassetteErrorItem(pytest.Item):
    """A cassette that cannot be read: one failing item with the reason, never a crashed session."""

    def __init__(self, *, error: CassetteError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        where = f" (interaction {self.error.interaction})" if self.error.interaction is not None else ""
        message = str(self.error)
        prefix = f"{self.path}: "
        return f"Malformed cassette {self.path}{where}: {message.removeprefix(prefix)}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}: malformed cassette"


