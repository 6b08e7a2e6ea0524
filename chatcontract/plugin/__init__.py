"""The chatcontract pytest plugin (entry point ``chatcontract = chatcontract.plugin``).

Loaded in every pytest run of an environment that has chatcontract installed, so this module imports only pytest and
the standard library. The engine (pydantic), VCR.py, yaml and httpx load on first use: in a fixture, when a marked
test runs, or when cassette files are collected.

Precedence of every setting, resolved in ``_options.resolve``: marker > command line > ini / pyproject > default.
"""

from __future__ import annotations

import re
import sys
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
    "chatcontract(dialect=None, select=None, ignore=None, provider=None, extensions=None): check every "
    "chat-completion exchange this test makes (httpx, requests) against the dialect's contract (with opt-in "
    "extensions such as ['reasoning']); the test fails on error-severity violations."
)
_GUARD_KEY = pytest.StashKey["Any"]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    # check() looks at the working directory's pyproject.toml at most once a second; a session (pytester's
    # in-process runs included) starts from a fresh look. Without importing the engine when nothing loaded it.
    engine = sys.modules.get("chatcontract.engine")
    if engine is not None:
        engine.forget_project_config()
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


@pytest.fixture(scope="session")
def chatcontract_fuzz(request: pytest.FixtureRequest) -> Any:
    """A fuzz target (``.run()``, ``.assert_ok()``, ``.schema()``) at the configured base URL.

    Configure with ``--chatcontract-fuzz-url`` / ``CHATCONTRACT_FUZZ_URL`` / ini ``chatcontract_fuzz_url`` (and
    the same for ``-model``, ``-api-key-env``, ``-max-requests``); the dialect is the one of ``--chatcontract-dialect``.
    """
    import os

    from ._options import fuzz_settings

    settings = fuzz_settings(request.config, os.environ)
    missing = [name for name in ("url", "model") if not settings[name]]
    if missing:
        flags = " and ".join(f"--chatcontract-fuzz-{name}" for name in missing)
        envs = " / ".join(f"CHATCONTRACT_FUZZ_{name.upper()}" for name in missing)
        pytest.fail(f"chatcontract_fuzz needs {flags} (or {envs}, or the ini keys chatcontract_fuzz_*)", pytrace=False)
    from ..fuzz.pytest_support import FuzzTarget
    from ..fuzz.runner import FuzzOptions

    key_env = settings["api_key_env"]
    api_key = os.environ.get(key_env) if key_env else None
    if key_env and not api_key:
        pytest.fail(f"chatcontract_fuzz: the API key variable {key_env} is not set", pytrace=False)
    max_requests = settings["max_requests"]
    if max_requests is not None and not max_requests.isdigit():
        pytest.fail(f"chatcontract_fuzz: max requests must be an integer, got {max_requests!r}", pytrace=False)
    dialect = resolve(request.node).dialect or "mistral"
    options = FuzzOptions(
        base_url=str(settings["url"]), model=str(settings["model"]), dialect=dialect, api_key=api_key,
        api_key_env=key_env, max_requests=int(max_requests) if max_requests else 500,
        provider=request.config.getoption("chatcontract_provider") or request.config.getini(INI.provider) or None,
    )
    try:
        options.validate()
    except Exception as exc:
        pytest.fail(f"chatcontract_fuzz: {exc}", pytrace=False)
    return FuzzTarget(options)


@pytest.fixture(scope="session")
def chatcontract_schema(chatcontract_fuzz: Any) -> Iterator[Any]:
    """The fuzz target as a schemathesis schema, for ``schemathesis.pytest.from_fixture("chatcontract_schema")``.

    ``case.call_and_validate()`` sends the request (``max_tokens`` capped) and checks the answer with chatcontract.
    """
    with chatcontract_fuzz.schema() as schema:
        yield schema


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
