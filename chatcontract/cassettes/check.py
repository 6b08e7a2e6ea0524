"""Checking recorded interactions: shared by the plugin's cassette items and ``chatcontract cassettes check``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, load_config
from ..engine import Report, check
from ..rules import resolve_codes

__all__ = ["CassetteSettings", "InteractionResult", "check_interaction", "settings_for"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CassetteSettings:
    """How one cassette is checked: check() options plus the expected findings from the configuration."""

    dialect: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    provider: str | None = None
    required: tuple[str, ...] = ()  # per-cassette-expect: must occur somewhere in the cassette
    allowed: frozenset[str] = field(default_factory=frozenset)  # expected codes: reported, not failing
    infer: bool = False  # no dialect configured anywhere: each interaction's recorded request decides

    def check_kwargs(self) -> dict[str, Any]:
        return {"dialect": self.dialect, "select": self.select, "ignore": self.ignore, "provider": self.provider}


def settings_for(
    path: Path,
    *,
    config: Config | None = None,
    dialect: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    provider: str | None = None,
) -> CassetteSettings:
    """Resolve a cassette's settings: explicit options > per-cassette tables > the cassette's folder name."""
    cfg = config if config is not None else load_config(path.parent)
    prov = provider or cfg.cassette_value("per-cassette-provider", path) or path.parent.name
    ign = tuple(ignore or ()) + cfg.cassette_ignores(path)
    required = cfg.cassette_codes("per-cassette-expect", path)
    allowed = resolve_codes((*required, *cfg.provider_codes("per-provider-expect", prov)), ())
    return CassetteSettings(
        dialect=dialect or cfg.cassette_value("per-cassette-dialect", path),
        select=tuple(select) if select is not None else None,
        ignore=ign or None,
        provider=prov,
        required=required,
        allowed=allowed,
        infer=not (dialect or cfg.cassette_value("per-cassette-dialect", path) or cfg.dialect),
    )


@dataclass(frozen=True, slots=True)
class InteractionResult:
    """The check of one recorded interaction."""

    report: Report
    expected_seen: frozenset[str]
    unexpected: tuple[Any, ...]  # error-severity violations that are not expected
    dialect_reason: str = ""  # why this dialect, when it was inferred from the recorded request

    @property
    def ok(self) -> bool:
        return not self.unexpected


def check_interaction(interaction: Any, settings: CassetteSettings) -> InteractionResult:
    """Check one recorded exchange with the request recorded beside it."""
    import httpx

    response = interaction.response
    replay = httpx.Response(response.status, headers=_flat(response.headers), content=response.body)
    replay.headers.pop("content-encoding", None)  # cassettes store decoded bodies
    kwargs, reason = settings.check_kwargs(), ""
    if settings.infer:
        from .._infer import infer_dialect

        kwargs["dialect"], reason = infer_dialect(interaction.request.headers, interaction.request.uri)
    report = check(replay, request=interaction.request.json, **kwargs)
    seen = frozenset(v.code for v in report.violations if v.code in settings.allowed)
    unexpected = tuple(v for v in report.errors if v.code not in settings.allowed)
    return InteractionResult(report, seen, unexpected, reason)


def _flat(headers: Any) -> list[tuple[str, str]]:
    out = []
    for k, v in dict(headers).items():
        for value in v if isinstance(v, list) else [v]:
            out.append((str(k), str(value)))
    return out


def missing_expectations(settings: CassetteSettings, seen: set[str]) -> list[str]:
    """The ``per-cassette-expect`` selectors that matched no finding of the cassette (stale expectations)."""
    return [sel for sel in settings.required if not resolve_codes([sel], ()) & seen]
