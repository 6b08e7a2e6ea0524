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
from ._options import GUARD_KEY, INI, Options, add_options, incomplete_streams, resolve, url_pattern

if TYPE_CHECKING:
    from ._fixture import ChatContractFixture

__all__ = ["Options"]

MARKER_HELP = (
    "chatcontract(dialect=None, select=None, ignore=None, provider=None, extensions=None): check every "
    "chat-completion exchange this test makes (httpx, requests) against the dialect's contract (with opt-in "
    "extensions such as ['reasoning']); the test fails on error-severity violations."
)
#: (node id, exchange description, why) of every stream the guard could not judge, for the terminal summary
_INCOMPLETE_KEY = pytest.StashKey[list[tuple[str, str, str]]]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    from ._validate import validate_config

    validate_config(config)  # a misspelt dialect, key or rule code is a usage error now, not a traceback per test
    # check() looks at the working directory's pyproject.toml at most once a second; a session (pytester's
    # in-process runs included) starts from a fresh look. Without importing the engine when nothing loaded it.
    engine = sys.modules.get("chatcontract.engine")
    if engine is not None:
        engine.forget_project_config()
    # `pytest --chatcontract-cassettes DIR` collects DIR. Given alone, it replaces the default paths (testpaths or
    # the working directory): the user asked for the cassettes, not for the whole suite as well.
    folders = list(config.getoption("chatcontract_cassettes") or ())
    if folders and config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args[:] = []
    for folder in folders:
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
    __tracebackhide__ = True  # a contract failure shows the test's frames and the report, not this wrapper
    if not _guard_enabled(item):
        return (yield)
    from ._guard import Guard

    guard = Guard(resolve(item), url_pattern(item.config), item=item, incomplete=incomplete_streams(item.config))
    item.stash[GUARD_KEY] = guard
    with guard.installed():
        try:
            outcome = yield
        finally:
            guard.settle()  # streams the test left open: judged when their end was read, else listed
            guard.add_section()  # kept when the test fails on its own: the contract report may explain why
            item.config.stash.setdefault(_INCOMPLETE_KEY, []).extend(
                (item.nodeid, ex.describe(), ex.unchecked) for ex in guard.incomplete_streams
            )
    guard.finish()
    return outcome


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """List the chat-completion streams the guard could not judge (a test left them before their end)."""
    incomplete = config.stash.get(_INCOMPLETE_KEY, [])
    if not incomplete:
        return
    terminalreporter.section("chatcontract: streams not checked", sep="-", yellow=True)
    from ._output import scrub_output

    for nodeid, what, why in incomplete:
        terminalreporter.line(scrub_output(f"{nodeid}: {what}: {why}"))
    if incomplete_streams(config) != "fail":
        terminalreporter.line(
            f"{len(incomplete)} stream(s) not checked; chatcontract_incomplete_streams = fail (ini) or "
            "--chatcontract-incomplete-streams=fail makes such tests fail."
        )


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
    from ..fuzz.options import FuzzOptions
    from ..fuzz.pytest_support import FuzzTarget

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
    from ._compat import restore_private_nodeid

    restore_private_nodeid()  # schemathesis 4.32's from_fixture still uses pytest <= 9.1's Node._nodeid
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
    """Collect cassettes as test items.

    In the folders named by ``--chatcontract-cassettes`` / ini ``chatcontract_cassettes``, and, recognised by their
    content, under any path given to pytest on the command line (``pytest cassettes/``). A default run
    (``testpaths``) sniffs nothing, so a suite's own recordings stay fixtures.
    """
    if file_path.suffix not in (".yaml", ".yml", ".json"):
        return None
    from ._options import cassette_roots, explicit_roots

    config = parent.config
    resolved = file_path.resolve()

    def under(roots: list[Path]) -> bool:
        return any(root == resolved or root in resolved.parents for root in roots)

    if under(cassette_roots(config)):
        pattern = config.getini(INI.cassette_glob) or "*"
        if not re.fullmatch(_glob_to_regex(pattern), file_path.name):
            return None
    elif not (under(explicit_roots(config)) and _looks_like_cassette(file_path)):
        return None
    from ._items import CassetteFile

    return CassetteFile.from_parent(parent, path=file_path)


_CASSETTE_YAML = re.compile(rb"^interactions:", re.MULTILINE)
_CASSETTE_JSON = re.compile(rb'^\s*\{.*?"interactions"\s*:\s*\[', re.DOTALL)


def _looks_like_cassette(path: Path) -> bool:
    """A VCR.py cassette (YAML or JSON serializer): a top-level ``interactions`` list, seen in the first 64 KiB."""
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    pattern = _CASSETTE_JSON if path.suffix == ".json" else _CASSETTE_YAML
    return pattern.search(head) is not None


def _glob_to_regex(pattern: str) -> str:
    import fnmatch

    return fnmatch.translate(pattern)
