"""``[tool.chatcontract]`` configuration in pyproject.toml.

Keys (all optional)::

    [tool.chatcontract]
    dialect = "mistral"                      # or "openai"
    extensions = ["reasoning"]               # opt-in contract extensions (the reasoning fields of compatible servers)
    select = ["ALL"]                         # codes, prefixes ("CC2"), rule names, or "ALL"
    ignore = ["CC205"]
    extend-ignore = []

    [tool.chatcontract.per-provider-ignores]
    "litellm*" = ["CC201", "CC402"]          # glob on the provider name -> codes ignored for it

    [tool.chatcontract.per-cassette-ignores]
    "cassettes/llamacpp/*.yaml" = ["CC211"]  # glob on the cassette path -> codes ignored for it

Precedence everywhere: an explicit argument (or pytest marker) > the command line > this file > the defaults.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["Config", "find_pyproject", "load_config"]

_KNOWN_KEYS = {
    "per-cassette-expect",
    "per-provider-expect",
    "per-cassette-dialect",
    "per-cassette-provider",
    "dialect",
    "extensions",
    "select",
    "ignore",
    "extend-ignore",
    "per-provider-ignores",
    "per-cassette-ignores",
    "cassettes",
    "fuzz",
    "plugin",
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)  # hashed by identity: cached per loaded file
class Config:
    """The project's chatcontract configuration (defaults when there is no pyproject.toml)."""

    dialect: str | None = None
    extensions: tuple[str, ...] = ()
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    per_provider_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    per_cassette_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    cassette_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def provider_ignores(self, provider: str | None) -> tuple[str, ...]:
        """Codes ignored for ``provider`` (glob-matched, case-insensitive)."""
        if not provider:
            return ()
        out: list[str] = []
        for pattern, codes in self.per_provider_ignores.items():
            if fnmatch.fnmatch(provider.lower(), pattern.lower()):
                out.extend(codes)
        return tuple(out)

    def _cassette_matches(self, table: Mapping[str, Any], path: str | os.PathLike[str]) -> list[Any]:
        p = Path(path)
        candidates = {p.as_posix(), p.name}
        if self.source is not None:
            try:
                candidates.add(p.resolve().relative_to(self.source.parent.resolve()).as_posix())
            except ValueError:
                pass
        return [value for pattern, value in table.items() if any(fnmatch.fnmatch(c, pattern) for c in candidates)]

    def cassette_ignores(self, path: str | os.PathLike[str] | None) -> tuple[str, ...]:
        """Codes ignored for a cassette file (glob on its path, relative to the config file when possible)."""
        if path is None:
            return ()
        return tuple(c for codes in self._cassette_matches(self.per_cassette_ignores, path) for c in codes)

    def cassette_codes(self, key: str, path: str | os.PathLike[str]) -> tuple[str, ...]:
        """Codes from a glob-keyed cassette table (``per-cassette-expect``) that match ``path``."""
        table = self.cassette_tables.get(key, {})
        return tuple(c for codes in self._cassette_matches(table, path) for c in codes)

    def cassette_value(self, key: str, path: str | os.PathLike[str]) -> str | None:
        """The first value of a glob-keyed cassette table (``per-cassette-dialect``) matching ``path``."""
        found = self._cassette_matches(self.cassette_tables.get(key, {}), path)
        return str(found[0]) if found else None

    def provider_codes(self, key: str, provider: str | None) -> tuple[str, ...]:
        """Codes from a glob-keyed provider table (``per-provider-expect``) matching ``provider``."""
        if not provider:
            return ()
        table = self.cassette_tables.get(key, {})
        return tuple(
            c for pattern, codes in table.items() if fnmatch.fnmatch(provider.lower(), pattern.lower()) for c in codes
        )


def _codes(value: Any, key: str, source: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{source}: [tool.chatcontract] {key} must be a list of rule codes, got {value!r}")


def _globs(value: Any, key: str, source: Path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: [tool.chatcontract.{key}] must be a table of glob = [codes], got {value!r}")
    return {str(k): _codes(v, f"{key}.{k}", source) for k, v in value.items()}


def _did_you_mean(value: str, choices: Any) -> str:
    import difflib

    close = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_config(table: Mapping[str, Any], source: Path) -> Config:
    """Validate a ``[tool.chatcontract]`` table; raises :class:`ConfigError` naming the file and key."""
    from .rules import resolve_codes

    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        hints = "".join(_did_you_mean(str(key), _KNOWN_KEYS) for key in unknown)
        raise ConfigError(
            f"{source}: unknown key(s) in [tool.chatcontract]: {', '.join(unknown)}{hints}; "
            f"known keys: {', '.join(sorted(_KNOWN_KEYS))}"
        )
    dialect = table.get("dialect")
    if dialect is not None and dialect not in ("mistral", "openai"):
        hint = _did_you_mean(str(dialect), ("mistral", "openai"))
        raise ConfigError(
            f"{source}: [tool.chatcontract] dialect must be 'mistral' or 'openai', got {dialect!r}{hint}"
        )
    extensions = table.get("extensions", [])
    from .contracts import EXTENSIONS

    if not isinstance(extensions, list) or not all(isinstance(e, str) and e in EXTENSIONS for e in extensions):
        raise ConfigError(
            f"{source}: [tool.chatcontract] extensions must be a list of {', '.join(map(repr, EXTENSIONS))}, "
            f"got {extensions!r}"
        )
    select = _codes(table["select"], "select", source) if "select" in table else None
    ignore = _codes(table.get("ignore", ()), "ignore", source) + _codes(
        table.get("extend-ignore", ()), "extend-ignore", source
    )
    per_provider = _globs(table.get("per-provider-ignores", {}), "per-provider-ignores", source)
    per_cassette = _globs(table.get("per-cassette-ignores", {}), "per-cassette-ignores", source)
    # Fail on typos now, naming the file, rather than on the first check.
    try:
        resolve_codes(select, ignore)
        for codes in (*per_provider.values(), *per_cassette.values()):
            resolve_codes(None, codes)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    extra = {k: table[k] for k in ("cassettes", "fuzz", "plugin") if k in table}
    cassette_tables: dict[str, Mapping[str, Any]] = {}
    for key in ("per-cassette-expect", "per-provider-expect"):
        cassette_tables[key] = _globs(table.get(key, {}), key, source)
        try:
            for codes in cassette_tables[key].values():
                resolve_codes(codes, ())
        except ConfigError as exc:
            raise ConfigError(f"{source}: {key}: {exc}") from None
    for key in ("per-cassette-dialect", "per-cassette-provider"):
        value = table.get(key, {})
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{source}: [tool.chatcontract.{key}] must be a table of glob = \"name\", got {value!r}")
        if key == "per-cassette-dialect" and any(v not in ("mistral", "openai") for v in value.values()):
            raise ConfigError(f"{source}: [tool.chatcontract.{key}] values must be 'mistral' or 'openai'")
        cassette_tables[key] = dict(value)
    return Config(
        dialect=dialect,
        extensions=tuple(extensions),
        select=select,
        ignore=ignore,
        per_provider_ignores=per_provider,
        per_cassette_ignores=per_cassette,
        source=source,
        extra=extra,
        cassette_tables=cassette_tables,
    )


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


_cache: dict[str, tuple[Path | None, float, Config]] = {}


def load_config(start: Path | str | None = None) -> Config:
    """Load ``[tool.chatcontract]`` from the nearest pyproject.toml; cached until the file changes."""
    key = os.path.abspath(os.fspath(start)) if start is not None else os.getcwd()
    cached = _cache.get(key)
    if cached is not None:
        path, mtime, config = cached
        try:
            current = path.stat().st_mtime if path is not None else 0.0
        except OSError:
            current = -1.0
        if current == mtime:
            return config
    path = find_pyproject(Path(key))
    if path is None:
        return Config()  # not cached: a pyproject.toml created later must be found
    else:
        mtime = path.stat().st_mtime
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        table = data.get("tool", {}).get("chatcontract", {})
        config = parse_config(table, path) if table else Config(source=path)
    _cache[key] = (path, mtime, config)
    return config
