"""The chatcontract pytest plugin (entry point ``chatcontract = chatcontract.plugin``).

Loaded in every pytest run of an environment that has chatcontract installed, so this module imports only pytest and
the standard library. The engine (pydantic), VCR.py, yaml and httpx load on first use: in a fixture, when a marked
test runs, or when cassette files are collected.

Precedence of every setting, resolved in ``_options.resolve``: marker > command line > ini / pyproject > default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import hooks
from ._options import INI, Options, add_options, resolve, url_pattern

if TYPE_CHECKING:
    from ._fixture import ChatContractFixture

__all__ = ["Options"]

MARKER_HELP = (
    "chatcontract(dialect=None, select=None, ignore=None, provider=None): check every chat-completion exchange this "
    "test makes (httpx, requests) against the dialect's contract; the test fails on error-severity violations."
)
_GUARD_KEY = pytest.StashKey["Any"]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    # `pytest --chatcontract-cassettes DIR` collects DIR even when it is not among the paths pytest was given.
    for folder in config.getoption("chatcontract_cassettes") or ():
        if folder not in config.args:
            config.args.append(folder)


def _guard_enabled(item: pytest.Item) -> bool:
    if item.get_closest_marker("chatcontract") is not None:
        return True
    # Precedence: command line > ini.
    cli = item.config.getoption("chatcontract_guard")
    if cli is not None:
        return bool(cli)
    return bool(item.config.getini(INI.guard))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if not _guard_enabled(item):
        return (yield)
    from ._guard import Guard

    guard = Guard(resolve(item), url_pattern(item.config), item=item)
    item.stash[_GUARD_KEY] = guard
    with guard.installed():
        try:
            outcome = yield
        finally:
            guard.add_section()  # kept when the test fails on its own: the contract report may explain why
    guard.finish()
    return outcome


@pytest.fixture
def chatcontract(request: pytest.FixtureRequest) -> ChatContractFixture:
    """A checker configured for this test (marker > command line > ini/pyproject): ``chatcontract.check(resp)``."""
    from ._fixture import ChatContractFixture

    return ChatContractFixture(resolve(request.node), request.node)


@pytest.fixture
def chatcontract_options(request: pytest.FixtureRequest) -> Options:
    """The resolved chatcontract options (dialect, select, ignore, provider) for this test."""
    return resolve(request.node)


@pytest.hookimpl(optionalhook=True)  # pytest-recording may be disabled (-p no:recording)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """pytest-recording hook: merge chatcontract's scrubbing and JSON-body matching under the user's vcr_config."""
    if config.getini(INI.vcr_defaults) is False:
        return
    from ..cassettes import configure_vcr

    configure_vcr(vcr)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from ._options import cassette_roots

    roots = cassette_roots(parent.config)
    if not roots or file_path.suffix not in (".yaml", ".yml", ".json"):
        return None
    resolved = file_path.resolve()
    if not any(root == resolved or root in resolved.parents for root in roots):
        return None
    pattern = parent.config.getini(INI.cassette_glob) or "*"
    if not re.fullmatch(_glob_to_regex(pattern), file_path.name):
        return None
    from ._items import CassetteFile

    return CassetteFile.from_parent(parent, path=file_path)


def _glob_to_regex(pattern: str) -> str:
    import fnmatch

    return fnmatch.translate(pattern)
