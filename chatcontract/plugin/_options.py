"""Command-line options, ini keys, the marker's arguments and their resolution (stdlib + pytest only)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

#: Where a test's guard (``_guard.Guard``) is kept on its item, for the fixture's ``exchanges``.
GUARD_KEY = pytest.StashKey["Any"]()

__all__ = [
    "INI", "MARKER_KWARGS", "Options", "add_options", "cassette_roots", "explicit_roots", "incomplete_streams",
    "resolve", "url_pattern",
]

DIALECTS = ("mistral", "openai")
INCOMPLETE_STREAMS = ("warn", "fail")
MARKER_KWARGS = ("dialect", "select", "ignore", "provider", "extensions")
DEFAULT_URL_PATTERN = r"/chat/completions/?$"


class INI:
    """Names of the ini keys (``[tool.pytest.ini_options]`` or pytest.ini)."""

    dialect = "chatcontract_dialect"
    select = "chatcontract_select"
    ignore = "chatcontract_ignore"
    provider = "chatcontract_provider"
    guard = "chatcontract_guard"
    url_pattern = "chatcontract_url_pattern"
    cassettes = "chatcontract_cassettes"
    cassette_glob = "chatcontract_cassette_glob"
    vcr_defaults = "chatcontract_vcr_defaults"
    incomplete_streams = "chatcontract_incomplete_streams"
    fuzz_url = "chatcontract_fuzz_url"
    fuzz_model = "chatcontract_fuzz_model"
    fuzz_api_key_env = "chatcontract_fuzz_api_key_env"
    fuzz_max_requests = "chatcontract_fuzz_max_requests"


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def add_options(parser: pytest.Parser) -> None:
    """Register the ``chatcontract`` option group and its ini mirrors."""
    group = parser.getgroup("chatcontract", "chatcontract: contract checks for chat-completion APIs")
    group.addoption(
        "--chatcontract-dialect", choices=DIALECTS, default=None,
        help="contract dialect to check against (default: inferred per exchange from the client's User-Agent or the "
        "host, else mistral).",
    )
    group.addoption(
        "--chatcontract-select", action="append", default=None, metavar="CODES",
        help="rule codes/prefixes to enable, comma separated (e.g. CC2,CC401).",
    )
    group.addoption(
        "--chatcontract-ignore", action="append", default=None, metavar="CODES",
        help="rule codes/prefixes to disable, comma separated.",
    )
    group.addoption("--chatcontract-provider", default=None, help="provider name, selects per-provider-ignores.")
    group.addoption(
        "--chatcontract-guard", action="store_true", default=None,
        help="check the chat-completion exchanges of every test, not only tests marked chatcontract.",
    )
    group.addoption(
        "--chatcontract-cassettes", action="append", default=None, metavar="DIR",
        help="collect the cassettes in DIR: each chat interaction becomes a test item.",
    )
    group.addoption(
        "--chatcontract-incomplete-streams", choices=INCOMPLETE_STREAMS, default=None,
        help="a stream the test closed or left before its end cannot be checked: warn lists it in the terminal "
        "summary (default), fail fails its test.",
    )
    group.addoption("--chatcontract-fuzz-url", default=None, metavar="URL",
                    help="base URL that the chatcontract_fuzz fixture fuzzes (env CHATCONTRACT_FUZZ_URL).")
    group.addoption("--chatcontract-fuzz-model", default=None, metavar="NAME",
                    help="model name for fuzzing (env CHATCONTRACT_FUZZ_MODEL).")
    group.addoption("--chatcontract-fuzz-api-key-env", default=None, metavar="VAR",
                    help="environment variable holding the API key for fuzzing (env CHATCONTRACT_FUZZ_API_KEY_ENV).")
    group.addoption("--chatcontract-fuzz-max-requests", default=None, type=int, metavar="N",
                    help="request budget of each fuzz run (default 500).")
    parser.addini(INI.fuzz_url, "chatcontract: base URL to fuzz.", default="")
    parser.addini(INI.fuzz_model, "chatcontract: model name for fuzzing.", default="")
    parser.addini(INI.fuzz_api_key_env, "chatcontract: environment variable holding the fuzzing API key.", default="")
    parser.addini(INI.fuzz_max_requests, "chatcontract: request budget of each fuzz run.", default="")
    parser.addini(
        INI.dialect,
        "chatcontract: dialect, mistral or openai (default: inferred per exchange from the client, else mistral).",
        default="",
    )
    parser.addini(INI.select, "chatcontract: rule codes to enable.", type="args", default=None)
    parser.addini(INI.ignore, "chatcontract: rule codes to disable.", type="args", default=None)
    parser.addini(INI.provider, "chatcontract: provider name for per-provider-ignores.", default="")
    parser.addini(INI.guard, "chatcontract: check the exchanges of every test.", type="bool", default=False)
    parser.addini(
        INI.url_pattern, "chatcontract: regex on the URL path of chat-completion requests.", default=DEFAULT_URL_PATTERN
    )
    parser.addini(INI.cassettes, "chatcontract: folders of cassettes to collect as test items.", type="paths",
                  default=[])
    parser.addini(INI.cassette_glob, "chatcontract: file-name glob of collected cassettes.", default="*")
    parser.addini(
        INI.incomplete_streams,
        "chatcontract: warn (default) or fail when a test leaves a chat-completion stream before its end.",
        default="warn",
    )
    parser.addini(
        INI.vcr_defaults, "chatcontract: merge scrubbing and JSON-body matching into pytest-recording's VCR.",
        type="bool", default=True,
    )


class Options:
    """The resolved settings for one test: ``None`` means "not set here; use pyproject's or the default".

    A plain slotted class rather than a dataclass: this module loads in every pytest run, and generating a
    dataclass costs milliseconds at import.
    """

    __slots__ = ("dialect", "select", "ignore", "provider", "extensions")

    def __init__(
        self,
        *,
        dialect: str | None = None,
        select: tuple[str, ...] | None = None,
        ignore: tuple[str, ...] | None = None,
        provider: str | None = None,
        extensions: tuple[str, ...] | None = None,
    ) -> None:
        self.dialect = dialect
        self.select = select
        self.ignore = ignore
        self.provider = provider
        self.extensions = extensions

    def check_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`chatcontract.check`."""
        return {
            "dialect": self.dialect,
            "select": self.select,
            "ignore": self.ignore,
            "provider": self.provider,
            "extensions": self.extensions,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Options) and self.check_kwargs() == other.check_kwargs()

    def __hash__(self) -> int:
        return hash(tuple(self.check_kwargs().items()))

    def __repr__(self) -> str:
        items = self.check_kwargs().items()
        fields = ", ".join(f"{k}={v!r}" for k, v in items if k != "extensions" or v is not None)
        return f"Options({fields})"


def _marker_kwargs(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    marker = node.get_closest_marker("chatcontract")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(
            f"@pytest.mark.chatcontract takes keyword arguments only ({', '.join(MARKER_KWARGS)}); "
            f"received positional {marker.args!r} on {node.nodeid}"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_KWARGS))
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.chatcontract got unexpected argument(s) {', '.join(unknown)} on {node.nodeid}; "
            f"allowed: {', '.join(MARKER_KWARGS)}"
        )
    kwargs = dict(marker.kwargs)
    if kwargs.get("dialect") not in (None, *DIALECTS):
        raise pytest.UsageError(
            f"@pytest.mark.chatcontract(dialect={kwargs['dialect']!r}) on {node.nodeid}: choose one of {DIALECTS}"
        )
    for key in ("select", "ignore", "extensions"):
        value = kwargs.get(key)
        what = "extension names" if key == "extensions" else "rule codes"
        example = "['reasoning']" if key == "extensions" else "['CC2', 'CC401']"
        if isinstance(value, str):
            kwargs[key] = tuple(_codes(value))
        elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
            kwargs[key] = tuple(value)
        elif value is not None:
            raise pytest.UsageError(
                f"@pytest.mark.chatcontract({key}=...) on {node.nodeid} takes {what} as a string or a list of "
                f"strings (e.g. {example}); received {value!r}"
            )
    return kwargs


def _cli_codes(config: pytest.Config, name: str) -> tuple[str, ...] | None:
    values = config.getoption(name)
    if values is None:
        return None
    return tuple(c for v in values for c in _codes(v))


def resolve(node: pytest.Item | pytest.Collector) -> Options:
    """Resolve the options for ``node``. Precedence: marker > command line > ini > pyproject/defaults."""
    config = node.config
    marker = _marker_kwargs(node)
    ini_select = config.getini(INI.select)
    ini_ignore = config.getini(INI.ignore)
    layers: list[dict[str, Any]] = [
        marker,
        {
            "dialect": config.getoption("chatcontract_dialect"),
            "select": _cli_codes(config, "chatcontract_select"),
            "ignore": _cli_codes(config, "chatcontract_ignore"),
            "provider": config.getoption("chatcontract_provider"),
        },
        {
            "dialect": config.getini(INI.dialect) or None,
            "select": tuple(c for v in ini_select for c in _codes(v)) if ini_select else None,
            "ignore": tuple(c for v in ini_ignore for c in _codes(v)) if ini_ignore else None,
            "provider": config.getini(INI.provider) or None,
        },
    ]
    resolved: dict[str, Any] = {}
    for key in MARKER_KWARGS:
        resolved[key] = next((layer[key] for layer in layers if layer.get(key) is not None), None)
    return Options(**resolved)


def incomplete_streams(config: pytest.Config) -> str:
    """``warn`` or ``fail``: what an incomplete (unjudged) stream does. Command line > ini > ``warn``."""
    cli = config.getoption("chatcontract_incomplete_streams")
    return str(cli or config.getini(INI.incomplete_streams) or "warn").strip().lower()


def url_pattern(config: pytest.Config) -> re.Pattern[str]:
    """The compiled regex that recognises chat-completion request paths."""
    raw = config.getini(INI.url_pattern) or DEFAULT_URL_PATTERN
    try:
        return re.compile(raw)
    except re.error as exc:
        raise pytest.UsageError(f"ini {INI.url_pattern} = {raw!r} is not a valid regex: {exc}") from None


def cassette_roots(config: pytest.Config) -> list[Path]:
    """Resolved folders whose cassettes are collected (command line and ini)."""
    roots = [Path(p) for p in config.getoption("chatcontract_cassettes") or ()]
    roots += [Path(p) for p in config.getini(INI.cassettes)]
    return [p.resolve() for p in roots]


def explicit_roots(config: pytest.Config) -> list[Path]:
    """The paths given to pytest on the command line (not ``testpaths`` nor the working directory), resolved."""
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        return []
    roots = []
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::", 1)[0])
        if path.exists():
            roots.append(path.resolve())
    return roots


FUZZ_SETTINGS = ("url", "model", "api_key_env", "max_requests")


def fuzz_settings(config: pytest.Config, environ: Any) -> dict[str, str | None]:
    """The fuzz target's settings. Precedence: command line > environment (``CHATCONTRACT_FUZZ_*``) > ini."""
    out: dict[str, str | None] = {}
    for name in FUZZ_SETTINGS:
        cli = config.getoption(f"chatcontract_fuzz_{name}")
        env = environ.get(f"CHATCONTRACT_FUZZ_{name.upper()}")
        ini = config.getini(getattr(INI, f"fuzz_{name}"))
        value = cli if cli is not None else (env or ini or None)
        out[name] = None if value is None else str(value)
    return out
