"""Settings for a check: the dialect, its contracts and the enabled rules, resolved once and memoised.

Precedence: arguments > ``[tool.chatcontract]`` of the working directory's pyproject.toml > defaults. The project
configuration is looked up at most once a second (:func:`forget_project_config` forces a fresh look); resolved
:class:`Settings` are memoised per arguments, with the fast path's plan (:class:`_FastPlan`) attached.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._exceptions import UsageError
from .config import Config, load_config
from .contracts import DIALECTS, DialectContracts, check_extensions, contracts_for
from .outcome import Report, empty_report
from .rules import RULES, Rule, RuleContext, Target, resolve_codes
from .rules._fast import (
    COVERED,
    REQUEST_COVERED,
    FastValidator,
    NullPlaces,
    culprits_table,
    fast_validator,
    null_places,
    request_culprits_table,
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved options for one check: dialect, contracts and the enabled rules by target."""

    dialect: str
    contracts: DialectContracts
    enabled: frozenset[str]
    rules: Mapping[Target, tuple[Rule, ...]]
    fast: _FastPlan | None = field(default=None, compare=False, repr=False)


class _FastPlan:
    """How :func:`_fast_check` handles a plain response under one :class:`Settings`.

    ``covered``: the enabled rules that the fast validator and :func:`~chatcontract.rules._fast.culprits` stand
    for (by code). ``rest``: every other enabled rule of a response (custom ones, target ANY), run one by one;
    ``with_request``: ``rest`` plus the request-aware rules (CC4xx), when there is a request; of these,
    ``request_covered`` are :func:`~chatcontract.rules._fast.request_culprits`' (run only when it names them), and
    ``request_routes`` memoises ``with_request`` without the others, by the set it named and the request's keys
    among ``keyed`` (the ``request_keys`` of the rules it does not cover); ``unkeyed_routes`` by the set alone,
    for a request without any of those keys. ``valid`` and
    ``valid_plain``: the fast validator's (``locator``), set by :meth:`prepare` on first use. ``empty``: the
    conforming report. ``routes``: the violation route's rules, memoised. ``built``: reports of a lone finding
    (immutable, and a function of the key): of the C accelerator's built ones (``engine._built_report``) by (code,
    hit, status), of a null (``engine._nulls_check``) by (location, field, status), of a repeated key
    (``engine._repeated_check``) by (code, hit, the value's type, status).
    """

    __slots__ = (
        "covered", "rest", "with_request", "request_covered", "request_routes", "unkeyed_routes", "keyed", "valid",
        "valid_plain", "empty", "routes", "locator", "context", "table", "request_table", "built",
        "nulls",
    )

    def __init__(
        self,
        covered: frozenset[str],
        rest: tuple[Rule, ...],
        with_request: tuple[Rule, ...],
        request_covered: frozenset[str] = frozenset(),
    ) -> None:
        self.covered = covered
        self.rest = rest
        self.with_request = with_request
        self.request_covered = request_covered
        self.request_routes: dict[tuple[frozenset[str], frozenset[str]], tuple[Rule, ...]] = {}
        # (the covered request rules run when the fused pass names them, whatever keys the request holds)
        self.keyed = frozenset(
            key for r in with_request if r.code not in request_covered for key in r.request_keys or ()
        )
        self.unkeyed_routes: dict[frozenset[str], tuple[Rule, ...]] = {}
        self.valid: Callable[[Any], bool] | None = None
        self.valid_plain: Callable[[Any], bool] = _refuse
        self.empty: Report | None = None
        # The violation route's rules (engine._located_check), by (suspect covered rules, whether a request is known).
        self.routes: dict[tuple[frozenset[str], bool], tuple[Rule, ...]] = {}
        #: The contract's fast schema, and the rules' context without request or status.
        self.locator: FastValidator | None = None
        self.context: RuleContext | None = None
        #: What the C accelerator's ``culprits`` reads for ``covered``, and its ``request_culprits`` for
        #: ``request_covered``.
        self.table = culprits_table(covered)
        self.request_table = request_culprits_table(request_covered)
        self.built: dict[tuple[Any, ...], Report] = {}
        #: The nulls the contract refuses and its loose plain schema takes (rules._fast.NullPlaces), set by
        #: :meth:`prepare`.
        self.nulls: NullPlaces | None = None

    def asked(self, named: frozenset[str], request: Mapping[str, Any]) -> tuple[Rule, ...]:
        """``with_request`` without the :attr:`request_covered` rules not in ``named``, memoised.

        Nor the other rules with ``request_keys`` that ``request`` has none of (as ``Collector.run`` skips them).
        Most requests hold none of those keys: their memo is by ``named`` alone.
        """
        keyed = self.keyed
        if keyed.isdisjoint(request):
            found = self.unkeyed_routes.get(named)
            if found is None:
                if len(self.unkeyed_routes) >= 256:
                    self.unkeyed_routes.clear()
                found = self.unkeyed_routes[named] = self._select(named, frozenset())
            return found
        key = (named, keyed.intersection(request))
        found = self.request_routes.get(key)
        if found is None:
            if len(self.request_routes) >= 256:
                self.request_routes.clear()
            found = self.request_routes[key] = self._select(*key)
        return found

    def _select(self, named: frozenset[str], keys: frozenset[str]) -> tuple[Rule, ...]:
        skip = self.request_covered - named
        covered = self.request_covered
        return tuple(
            r
            for r in self.with_request
            if r.code not in skip
            and (r.code in covered or not (r.request_keys and r.request_keys.isdisjoint(keys)))
        )

    def prepare(self, settings: Settings) -> Callable[[Any], bool] | None:
        validator = fast_validator(settings.contracts.response)
        if validator is None:
            return None
        self.empty = empty_report(settings.dialect, "response", None)
        self.locator = validator
        self.context = RuleContext(dialect=settings.dialect, contracts=settings.contracts, request=None, status=None)
        self.valid_plain = validator.valid_plain
        self.valid = validator.valid
        self.nulls = null_places(settings.contracts.response)
        return self.valid


def _refuse(doc: Any) -> bool:
    return False


_config_state: tuple[float, Config] | None = None  # (monotonic time of the last look, the configuration)
_monotonic = time.monotonic


def _project_config() -> Config:
    # The [tool.chatcontract] table that applies in the working directory. Looking for it (os.getcwd() is a
    # system call, then the file's mtime) on every check would cost as much as checking a small response, so
    # check() looks at most once a second: a new working directory or an edited pyproject.toml is seen within a
    # second. The pytest plugin and the command line call forget_project_config() when they start.
    global _config_state
    now = _monotonic()
    state = _config_state
    if state is None or now - state[0] > 1.0:
        state = _config_state = (now, load_config(os.getcwd()))
    return state[1]


def forget_project_config() -> None:
    """Look for ``[tool.chatcontract]`` again at the next check (after ``os.chdir()``, say).

    ``check()`` otherwise looks at the working directory's pyproject.toml at most once a second.
    """
    global _config_state
    _config_state = None


def resolve_settings(
    *,
    dialect: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    provider: str | None = None,
    config: Config | None = None,
    extensions: Iterable[str] | None = None,
) -> Settings:
    """Resolve dialect, extensions and rule selection. Precedence: arguments > ``[tool.chatcontract]`` > defaults.

    An explicit ``select`` replaces the configured selection (and the configured ``ignore`` with it); an
    explicit ``ignore`` is applied on top of whatever is selected; per-provider ignores always apply. Explicit
    ``extensions`` replace the configured ones.
    """
    cfg = config if config is not None else _project_config()
    return _resolve(
        dialect or cfg.dialect or "mistral",
        None if select is None else _as_tuple(select, "select"),
        None if ignore is None else _as_tuple(ignore, "ignore"),
        cfg.provider_ignores(provider),
        cfg,
        _extensions(cfg.extensions if extensions is None else extensions),
    )


def _extensions(value: Iterable[str]) -> frozenset[str]:
    try:
        return check_extensions(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"extensions={value!r}: {exc}.") from None


def _as_tuple(value: Iterable[str], name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    items = tuple(value)
    if not all(isinstance(v, str) for v in items):
        raise UsageError(f"{name}= takes rule codes as strings, e.g. ['CC2', 'CC401']; received {items!r}.")
    return items


@functools.lru_cache(maxsize=256)
def _resolve(
    dialect: str,
    select: tuple[str, ...] | None,
    ignore: tuple[str, ...] | None,
    provider_ignores: tuple[str, ...],
    cfg: Config,
    extensions: frozenset[str] = frozenset(),
) -> Settings:
    if dialect not in DIALECTS:
        raise UsageError(f"dialect={dialect!r} is not supported; choose one of {', '.join(DIALECTS)}.")
    if select is None:
        enabled = resolve_codes(cfg.select, cfg.ignore)
    else:
        enabled = resolve_codes(select, ())
    drop = (ignore or ()) + provider_ignores
    if drop:
        enabled = enabled - resolve_codes(drop, ())
    by_target: dict[Target, list[Rule]] = {}
    for code in RULES:
        r = RULES[code]
        if code in enabled and r.check is not None and r.applies_to(dialect):
            by_target.setdefault(r.target, []).append(r)
    rules = {t: tuple(rs) for t, rs in by_target.items()}
    return Settings(
        dialect=dialect,
        contracts=contracts_for(dialect, extensions),
        enabled=enabled,
        rules=rules,
        fast=_fast_plan(rules),
    )


def _fast_plan(rules: Mapping[Target, tuple[Rule, ...]]) -> _FastPlan:
    covered = []
    rest = []
    asked = []
    for r in (*rules.get(Target.RESPONSE, ()), *rules.get(Target.ANY, ())):
        if r.target is Target.RESPONSE and COVERED.get(r.code) is r.check:
            covered.append(r.code)
        else:
            rest.append(r)
            if r.target is Target.RESPONSE and REQUEST_COVERED.get(r.code) is r.check:
                asked.append(r.code)
    plain = tuple(r for r in rest if not r.requires_request)
    return _FastPlan(frozenset(covered), plain, tuple(rest), frozenset(asked))


_settings_cache: dict[tuple[Any, ...], tuple[Config, Settings]] = {}
_default_settings: dict[Any, tuple[Config, Settings]] = {}  # by dialect, or (dialect, provider)


def _hashable(value: Iterable[str] | None) -> Any:
    if value is None or isinstance(value, (str, tuple)):
        return value
    if isinstance(value, list):
        return tuple(value)
    return _Unhashable  # sets, generators...: not cached (a generator must be consumed once, by resolve_settings)


class _Unhashable:
    pass


def _settings_for(
    dialect: str | None,
    select: Iterable[str] | None,
    ignore: Iterable[str] | None,
    provider: str | None,
    extensions: Iterable[str] | None = None,
) -> Settings:
    """:func:`resolve_settings` for ``check()``, memoised per arguments while the project configuration stays."""
    cfg = _project_config()
    if select is None and ignore is None and extensions is None:  # the common case, without building a key
        key: Any = dialect if provider is None else (dialect, provider)
        cached = _default_settings.get(key)
        if cached is not None and cached[0] is cfg:
            return cached[1]
        settings = resolve_settings(dialect=dialect, provider=provider, config=cfg)
        if len(_default_settings) >= 256:
            _default_settings.clear()
        _default_settings[key] = (cfg, settings)
        return settings
    sel, ign, ext = _hashable(select), _hashable(ignore), _hashable(extensions)
    key = (dialect, sel, ign, provider, ext)
    cacheable = sel is not _Unhashable and ign is not _Unhashable and ext is not _Unhashable
    cached = None
    if cacheable:
        try:
            cached = _settings_cache.get(key)
        except TypeError:  # e.g. a tuple holding a list: resolve_settings reports it
            cacheable = False
    if cached is not None and cached[0] is cfg:
        return cached[1]
    settings = resolve_settings(
        dialect=dialect, select=select, ignore=ignore, provider=provider, config=cfg, extensions=extensions
    )
    if cacheable:
        if len(_settings_cache) >= 256:
            _settings_cache.clear()
        _settings_cache[key] = (cfg, settings)
    return settings
