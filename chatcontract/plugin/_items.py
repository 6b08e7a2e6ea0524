"""Cassette files as test items: ``cassettes/x.yaml::interaction[3]`` (loaded only when cassettes are collected)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .._exceptions import CassetteError
from ..config import Config, load_config
from ._options import resolve, url_pattern

__all__ = ["CassetteFile", "InteractionItem"]


class InteractionFailed(Exception):
    """An interaction broke the contract beyond its expected findings."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _settings_for(path: Path, config: Config, node: pytest.Collector) -> dict[str, Any]:
    options = resolve(node)
    provider = config.cassette_value("per-cassette-provider", path) or options.provider or path.parent.name
    dialect = config.cassette_value("per-cassette-dialect", path) or options.dialect
    ignore = tuple(options.ignore or ()) + config.cassette_ignores(path)
    from ..rules import resolve_codes

    required = config.cassette_codes("per-cassette-expect", path)
    allowed = resolve_codes((*required, *config.provider_codes("per-provider-expect", provider)), ())
    return {
        "check": {"dialect": dialect, "select": options.select, "ignore": ignore or None, "provider": provider},
        "required": required,
        "allowed": allowed,
        "provider": provider,
    }


class CassetteFile(pytest.File):
    """A VCR.py cassette whose chat-completion interactions are checked as test items."""

    def collect(self) -> Iterator[pytest.Item]:
        from ..cassettes import load_cassette

        config = load_config(self.path.parent)
        try:
            cassette = load_cassette(self.path, path_pattern=url_pattern(self.config).pattern)
        except CassetteError as exc:
            yield CassetteErrorItem.from_parent(self, name="cassette", error=exc)
            return
        settings = _settings_for(self.path, config, self)
        items = [
            InteractionItem.from_parent(self, name=f"interaction[{it.index}]", interaction=it, settings=settings)
            for it in cassette.interactions
            if it.is_chat
        ]
        yield from items
        if settings["required"] and items:
            yield ExpectationsItem.from_parent(self, name="expectations", interactions=items, settings=settings)


class InteractionItem(pytest.Item):
    """One recorded chat-completion exchange, checked with the request recorded beside it."""

    def __init__(self, *, interaction: Any, settings: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interaction = interaction
        self.settings = settings
        self.report: Any = None
        self.expected_seen: set[str] = set()

    def runtest(self) -> None:
        import httpx

        from ..engine import check

        it = self.interaction
        response = httpx.Response(it.response.status, headers=_flat(it.response.headers), content=it.response.body)
        response.headers.pop("content-encoding", None)  # cassettes store decoded bodies
        report = check(response, request=it.request.json, **self.settings["check"])
        self.report = report
        allowed = set(self.settings["allowed"])
        self.expected_seen = {v.code for v in report.violations if v.code in allowed}
        unexpected = [v for v in report.errors if v.code not in allowed]
        if unexpected:
            raise InteractionFailed(str(report))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, InteractionFailed):
            text = excinfo.value.text
            if self.expected_seen:
                seen = ", ".join(sorted(self.expected_seen))
                text += f"\n\nExpected for this cassette/provider (not failing): {seen}"
            return f"{self.path.name} interaction {self.interaction.index}: {self.interaction.request.method} " \
                   f"{self.interaction.request.uri}\n{text}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        dialect = self.report.dialect if self.report is not None else (self.settings["check"]["dialect"] or "mistral")
        return self.path, None, f"{dialect}: {self.name} {self._request_id()}".rstrip()

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

    def __init__(self, *, interactions: list[InteractionItem], settings: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interactions = interactions
        self.settings = settings

    def runtest(self) -> None:
        from ..rules import resolve_codes

        seen: set[str] = set()
        for item in self.interactions:
            if item.report is None:  # deselected or not run yet: check it now, quietly
                try:
                    item.runtest()
                except InteractionFailed:
                    pass
            seen |= item.expected_seen
        missing = [sel for sel in self.settings["required"] if not resolve_codes([sel], ()) & seen]
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
        return f"Malformed cassette {self.path}{where}: {self.error}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}: malformed cassette"


def _flat(headers: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for k, v in headers.items():
        for value in v if isinstance(v, list) else [v]:
            out.append((k, str(value)))
    return out
