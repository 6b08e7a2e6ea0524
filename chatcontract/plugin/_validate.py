"""Start-up validation of the plugin's configuration: every mistake is a ``pytest.UsageError`` before collection.

Checked in ``pytest_configure``: the ``chatcontract_*`` ini keys (names and values), the ``--chatcontract-*``
options that take free text (rule codes), and the ``[tool.chatcontract]`` table that ``check()`` will read. Each
error names the setting and, like ruff, suggests the closest valid spelling ("did you mean 'openai'?"), instead
of every exchanging test failing later with an internal traceback, or a misspelt code being silently ignored.

Cheap checks run in every session; the rule registry (pydantic) is imported only when codes are configured, and
the ``[tool.chatcontract]`` table is parsed only when it exists, so a suite that does not use chatcontract loads
nothing heavy.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import pytest

from ._options import DIALECTS, INCOMPLETE_STREAMS, INI

__all__ = ["did_you_mean", "validate_config"]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'openai'?)`` for the closest of ``choices``, or ``""`` when none is close."""
    options = list(choices)
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(value.lower(), [o.lower() for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _choice(where: str, value: str, choices: tuple[str, ...]) -> None:
    if value and value not in choices:
        raise pytest.UsageError(
            f"chatcontract: {where} = {value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
        )


def _ini_names() -> list[str]:
    return [getattr(INI, name) for name in vars(INI) if not name.startswith("_")]


def _unknown_ini_keys(config: pytest.Config) -> None:
    known = _ini_names()
    # pytest itself only warns about unknown keys ("Unknown config option"); for ours a typo is an error.
    unknown_keys = getattr(config, "_get_unknown_ini_keys", None)  # private, pytest 6.0 to 9.2 at least
    if unknown_keys is None:
        return
    for key in sorted(unknown_keys()):
        if isinstance(key, str) and key.startswith("chatcontract_") and key not in known:
            where = config.inipath.name if config.inipath is not None else "the ini file"
            raise pytest.UsageError(
                f"chatcontract: unknown ini key {key!r} in {where}{did_you_mean(key, known)}; "
                f"known keys: {', '.join(sorted(known))}"
            )


def _codes(config: pytest.Config) -> None:
    from ._options import _codes as split

    sources: list[tuple[str, list[str]]] = []
    for name in ("select", "ignore"):
        cli = config.getoption(f"chatcontract_{name}")
        if cli:
            sources.append((f"--chatcontract-{name}", [c for v in cli for c in split(v)]))
        ini = config.getini(getattr(INI, name))
        if ini:
            sources.append((f"ini {getattr(INI, name)}", [c for v in ini for c in split(v)]))
    if not sources:
        return
    from .._exceptions import ConfigError
    from ..rules import resolve_codes

    for where, codes in sources:
        try:
            resolve_codes(codes, ())
        except ConfigError as exc:
            raise pytest.UsageError(f"chatcontract: {where}: {exc}") from None


def _project_table() -> None:
    """``[tool.chatcontract]`` of the pyproject.toml that ``check()`` reads (the working directory's)."""
    from .._exceptions import ConfigError
    from ..config import load_config

    try:
        load_config()
    except ConfigError as exc:
        raise pytest.UsageError(f"chatcontract: {exc}") from None


def validate_config(config: pytest.Config) -> None:
    """Raise ``pytest.UsageError`` for the first configuration mistake; cheap when chatcontract is unused."""
    if config.getoption("help", False) or config.getoption("version", False):
        return  # `pytest --help` must still show how to fix a broken setting
    _unknown_ini_keys(config)
    _choice(f"ini {INI.dialect}", str(config.getini(INI.dialect) or "").strip(), DIALECTS)
    _choice(f"ini {INI.incomplete_streams}", str(config.getini(INI.incomplete_streams) or "").strip(),
            INCOMPLETE_STREAMS)
    raw = config.getini(INI.url_pattern)
    if raw:
        try:
            re.compile(raw)
        except re.error as exc:
            message = f"chatcontract: ini {INI.url_pattern} = {raw!r} is not a valid regex: {exc}"
            raise pytest.UsageError(message) from None
    budget = str(config.getini(INI.fuzz_max_requests) or "").strip()
    if budget and not budget.isdigit():
        raise pytest.UsageError(f"chatcontract: ini {INI.fuzz_max_requests} = {budget!r} is not a whole number")
    _codes(config)
    _project_table()
