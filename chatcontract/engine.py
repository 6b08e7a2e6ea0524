"""The engine: ``check()`` returns a :class:`Report`; ``assert_conforms()`` raises once with every violation.

Data flow::

    any input --inputs.py--> body / parsed document (+ status, content type, request)
        --> parser findings (CC0xx) --> pydantic contracts (CC1xx) --> rule functions (CC2xx-CC5xx)
        --> Report(ok, violations in document order)

The pytest plugin, the fuzzer and the CLI all call this module; none of them re-implements a check.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jiter

from . import _accel
from ._exceptions import ContractViolation, UsageError
from .config import Config, load_config
from .contracts import DIALECTS, DialectContracts, check_extensions, contracts_for
from .inputs import MISSING, Finding, Received, coerce, number_findings, parse_json, parse_request
from .rules import RULES, Hit, Rule, RuleContext, Target, resolve_codes
from .rules._fast import COVERED, consistent, fast_validator
from .rules.schema import schema_hits
from .sse import looks_like_sse
from .violations import Severity, Violation, render_violations, shorten

__all__ = ["Report", "Settings", "acheck", "assert_conforms", "check", "forget_project_config", "resolve_settings"]

_TITLES = {
    ("mistral", "response"): "ChatCompletionResponse (mistral)",
    ("openai", "response"): "ChatCompletion (openai)",
    ("mistral", "stream"): "chat completion stream (mistral)",
    ("openai", "stream"): "chat completion stream (openai)",
    ("mistral", "error"): "error response (mistral)",
    ("openai", "error"): "error response (openai)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The result of one check: every violation, in document order.

    Attributes:
        violations: All violations (errors and warnings), in document order.
        dialect: The dialect checked against, ``"mistral"`` or ``"openai"``.
        kind: What was checked: ``"response"``, ``"stream"`` or ``"error"``.
        status: The HTTP status, when known.
    """

    violations: tuple[Violation, ...]
    dialect: str
    kind: str
    status: int | None = None

    @property
    def ok(self) -> bool:
        """True when no violation has severity error (warnings do not fail a check)."""
        return not any(v.severity is Severity.ERROR for v in self.violations)

    @property
    def errors(self) -> tuple[Violation, ...]:
        """The violations of severity error."""
        return tuple(v for v in self.violations if v.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        """The violations of severity warning."""
        return tuple(v for v in self.violations if v.severity is Severity.WARNING)

    @property
    def title(self) -> str:
        """What was checked, e.g. ``ChatCompletionResponse (mistral)``."""
        return _TITLES.get((self.dialect, self.kind), f"{self.kind} ({self.dialect})")

    def codes(self) -> list[str]:
        """The codes of all violations, in order (handy in tests)."""
        return [v.code for v in self.violations]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"ok", "dialect", "kind", "status", "violations": [...]}``."""
        return {
            "ok": self.ok,
            "dialect": self.dialect,
            "kind": self.kind,
            "status": self.status,
            "violations": [v.to_dict() for v in self.violations],
        }

    def __str__(self) -> str:
        if not self.violations:
            return f"{self.title}: conforms"
        return render_violations(self.violations, title=self.title)


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

    ``covered``: the enabled rules that the fast validator and :func:`~chatcontract.rules._fast.consistent` stand
    for (by code). ``rest``: every other enabled rule of a response (custom ones, target ANY), run one by one;
    ``with_request``: ``rest`` plus the request-aware rules (CC4xx), when there is a request. ``valid``,
    ``valid_plain`` and ``since``: the fast validator's, set by :meth:`prepare` on first use. ``empty``: the
    conforming report.
    """

    __slots__ = ("covered", "rest", "with_request", "valid", "valid_plain", "since", "empty")

    def __init__(self, covered: frozenset[str], rest: tuple[Rule, ...], with_request: tuple[Rule, ...]) -> None:
        self.covered = covered
        self.rest = rest
        self.with_request = with_request
        self.valid: Callable[[Any], bool] | None = None
        self.valid_plain: Callable[[Any], bool] = _refuse
        self.since = 0
        self.empty: Report | None = None

    def prepare(self, settings: Settings) -> Callable[[Any], bool] | None:
        validator = fast_validator(settings.contracts.response, self.covered)
        if validator is None:
            return None
        self.since = validator.since
        self.empty = _empty_report(settings.dialect, "response", None)
        self.valid_plain = validator.valid_plain
        self.valid = validator.valid
        return self.valid


def _refuse(doc: Any) -> bool:
    return False


_config_state: tuple[float, Config] | None = None  # (monotonic time of the last look, the configuration)
_clock = time.time
_monotonic = time.monotonic
from_json = jiter.from_json


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
    for r in (*rules.get(Target.RESPONSE, ()), *rules.get(Target.ANY, ())):
        if r.target is Target.RESPONSE and COVERED.get(r.code) is r.check:
            covered.append(r.code)
        else:
            rest.append(r)
    plain = tuple(r for r in rest if not r.requires_request)
    return _FastPlan(frozenset(covered), plain, tuple(rest))


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


class _Collector:
    """Turns (code, hit) pairs into violations, honouring the enabled set, and keeps them in order."""

    __slots__ = ("enabled", "dialect", "items", "_seen")

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.enabled
        self.dialect = settings.dialect
        self.items: list[Violation] = []
        self._seen: set[tuple[str, tuple[Any, ...], int | None]] = set()

    def add(self, code: str, h: Hit, *, event: int | None = None) -> None:
        if code not in self.enabled:
            return
        ev = h.event if h.event is not None else event
        key = (code, h.loc, ev)
        if key in self._seen:
            return
        self._seen.add(key)
        r = RULES[code]
        self.items.append(
            Violation(
                code=code,
                name=r.name,
                severity=r.severity,
                loc=h.loc,
                message=h.message if len(h.message) <= 500 else h.message[:500] + "...",
                actual=shorten(h.actual),
                expected=shorten(h.expected),
                event=ev,
            )
        )

    def extend(self, findings: Iterable[Finding], *, event: int | None = None) -> None:
        for code, h in findings:
            self.add(code, h, event=event)

    def run(self, rules: Sequence[Rule], doc: Any, ctx: RuleContext, *, event: int | None = None) -> None:
        no_request = ctx.request is None
        for r in rules:
            if no_request and r.requires_request:
                continue
            try:
                for h in r.check(doc, ctx):  # type: ignore[misc]
                    self.add(r.code, h, event=event)
            except AssertionError as exc:
                message = str(exc) or f"Custom rule {r.name} failed."
                self.add(r.code, Hit((), message), event=event)
            except Exception as exc:  # a rule bug must not lose the other findings
                self.add(
                    "CC900",
                    Hit((), f"Rule {r.code} ({r.name}) crashed on this input: {type(exc).__name__}: {exc}"),
                    event=event,
                )


def _doc_order(doc: Any, v: Violation, positions: dict[int, dict[Any, int]]) -> tuple[Any, ...]:
    key: list[int] = []
    node = doc
    for seg in v.loc:
        if isinstance(node, dict):
            where = positions.get(id(node))
            if where is None:
                where = positions[id(node)] = {k: i for i, k in enumerate(node)}
            if seg in node:
                key.append(where[seg])
                node = node[seg]
            else:
                key.append(len(where))
                node = None
        elif isinstance(node, list) and isinstance(seg, int):
            key.append(seg)
            node = node[seg] if 0 <= seg < len(node) else None
        else:
            key.append(0)
            node = None
    return (-1 if v.event is None else v.event, key, v.code)


def _check_json_document(
    received: Received, settings: Settings, collector: _Collector, ctx: RuleContext, kind: str
) -> Any:
    doc = received.doc
    if doc is MISSING and received.body is not None:
        doc, findings = parse_json(received.body)
        collector.extend(findings)
    elif doc is not MISSING:  # parsed by the caller: the parser's number and depth checks still apply
        collector.extend(number_findings(doc, depth=True))
    if doc is MISSING:
        return doc
    if kind == "error":
        from .rules.errors import error_body_hits

        for code, h in error_body_hits(doc, ctx):
            collector.add(code, h)
        collector.run(settings.rules.get(Target.ERROR, ()), doc, ctx)
    else:
        if not isinstance(doc, dict):
            collector.add("CC008", Hit((), f"Expected a JSON object at the top level; received {_type(doc)}.", doc))
        else:
            for code, h in schema_hits(settings.contracts.response, doc, what="response"):
                collector.add(code, h)
        collector.run(settings.rules.get(Target.RESPONSE, ()), doc, ctx)
    collector.run(settings.rules.get(Target.ANY, ()), doc, ctx)
    return doc


def _type(doc: Any) -> str:
    from .inputs import json_type

    return json_type(doc)


def _is_stream(received: Received, stream: bool | None) -> bool:
    if stream is not None:
        return stream
    if received.content_type is not None:
        return received.is_event_stream
    if received.chunks is not None:
        return True
    doc = received.doc
    if isinstance(doc, list) and doc and all(isinstance(c, dict) for c in doc):
        first = doc[0].get("choices")
        return doc[0].get("object") == "chat.completion.chunk" or (
            isinstance(first, list) and bool(first) and isinstance(first[0], dict) and "delta" in first[0]
        )
    body = received.body
    if body is not None:
        head = body[:1]
        if head == b"{" or head == b"[":  # the common case: a JSON document, not SSE
            return False
        return looks_like_sse(body[:256])
    return False


def check(
    payload: Any,
    *,
    dialect: str | None = None,
    status: int | None = None,
    stream: bool | None = None,
    request: Any = None,
    provider: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    extensions: Iterable[str] | None = None,
) -> Report:
    """Check a chat-completion response, stream or error body against the dialect's contract.

    Args:
        payload: bytes or str (a JSON body or SSE text), a parsed dict or list, an ``httpx.Response``, a
            ``requests.Response`` (status, content type and request are read from it), or an SDK object with
            ``model_dump()``.
        dialect: ``"mistral"`` (the default) or ``"openai"``; ``[tool.chatcontract] dialect`` when omitted.
        status: The HTTP status. ``>= 400`` checks the body against the dialect's error contracts.
        stream: ``None`` detects SSE (content type or leading SSE fields); True or False forces it.
        request: The request body (dict or JSON) when known; enables the request-aware rules (CC4xx).
        provider: A provider name that selects ``per-provider-ignores`` from the configuration.
        select: Rule codes, prefixes (``"CC2"``), names or ``"ALL"`` to enable (replaces the configured ones).
        ignore: Rule codes, prefixes or names to disable.
        extensions: Opt-in contract extensions, e.g. ``["reasoning"]`` (the reasoning fields of
            OpenAI-compatible servers); replaces ``[tool.chatcontract] extensions``.

    Returns:
        A :class:`Report`; ``report.ok`` is False when any violation has severity error.

    Example:
        >>> report = check(b'{"id": "x"}', dialect="openai")
        >>> report.ok
        False
    """
    # _settings_for(), its most common case inlined: this function is measured in calls.
    state = _config_state
    cached = _default_settings.get(dialect if provider is None else (dialect, provider))
    if (
        cached is not None
        and select is None
        and ignore is None
        and extensions is None
        and state is not None
        and cached[0] is state[1]
        and _monotonic() - state[0] <= 1.0
    ):
        settings = cached[1]
    else:
        settings = _settings_for(dialect, select, ignore, provider, extensions)
    if stream is not True and (status is None or (type(status) is int and status < 400)):
        kind = type(payload)
        if kind is bytes or kind is str:
            try:
                report = _fast_check(payload, settings, status, request)
            except Exception:  # whatever went wrong, the full path below reports it (or raises it) properly
                report = None
            if report is not None:
                return report
    return _full_check(payload, settings, status=status, stream=stream, request=request)


def _fast_check(payload: bytes | str, settings: Settings, status: int | None, request: Any) -> Report | None:
    """The conforming-response fast path: the empty report when the full path would find nothing, else None.

    Every step only *confirms* that a stage of the full path finds nothing, and gives up (None) at the first doubt:
    the strict parse (duplicate keys and NaN refused, floats kept as ``jiter.LosslessFloat``, nothing diagnosed)
    and the stricter contract schema (:func:`~chatcontract.rules.schema.fast_schema`, jsonschema-rs) for the
    parser's and the contract's findings, :func:`~chatcontract.rules._fast.consistent` for the built-in
    consistency rules, and the remaining enabled rules run as usual, where any hit gives up. So its answer is the
    full path's (tests/test_fastpath.py).
    """
    plan = settings.fast
    if plan is None:
        return None
    body = payload if type(payload) is bytes else payload.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
    if body[:1] != b"{":  # SSE text, a BOM, a JSON value that is not an object, garbage: the full path
        return None
    valid = plan.valid
    if valid is None:
        valid = plan.prepare(settings)
        if valid is None:
            return None
    # With the C accelerator, a body proven free of duplicate keys, floats, NaN and integers over 18 digits (most
    # responses) is parsed in jiter's default mode, which then gives what the strict mode would, and checked by
    # the schema without the float and 64-bit checks (rules.schema.relax_for_plain). Without it, or when the
    # proof fails, the strict parse: the fast schema then proves the document float-free and its integers 64-bit.
    plain = _accel.plain
    try:
        if plain is not None and plain(body):
            doc = from_json(body)  # (no NaN/Infinity to refuse)
            valid = plan.valid_plain
        else:
            doc = from_json(body, allow_inf_nan=False, catch_duplicate_keys=True, float_mode="lossless-float")
    except ValueError:
        return None
    if type(doc) is not dict or not valid(doc) or _clock() < plan.since or not consistent(doc, plan.covered):
        return None
    req = None
    if request is None:
        rules = plan.rest
    else:
        req = parse_request(request)  # raises UsageError like the full path would
        rules = plan.rest if req is None else plan.with_request
    if rules:
        ctx = RuleContext(dialect=settings.dialect, contracts=settings.contracts, request=req, status=status)
        for r in rules:
            for _ in r.check(doc, ctx):  # type: ignore[misc]
                return None
    if status is None:
        return plan.empty
    return _empty_report(settings.dialect, "response", status)


def _full_check(payload: Any, settings: Settings, *, status: int | None, stream: bool | None, request: Any) -> Report:
    received = coerce(payload, status=status, request=request)
    collector = _Collector(settings)
    ctx = RuleContext(
        dialect=settings.dialect, contracts=settings.contracts, request=received.request, status=received.status
    )
    if _is_stream(received, stream):
        from .streams import check_stream_into

        kind = "stream"
        check_stream_into(received, settings, collector, ctx)  # sorts by event, whole-stream findings last
        violations = collector.items
    else:
        kind = "error" if received.status is not None and received.status >= 400 else "response"
        if received.chunks is not None:
            received.body = b"".join(received.chunks)
            received.chunks = None
        if received.content_type is not None and received.body:
            _check_content_type(received, collector)
        doc = _check_json_document(received, settings, collector, ctx, kind)
        violations = collector.items
        if len(violations) > 1:
            positions: dict[int, dict[Any, int]] = {}
            violations.sort(key=lambda v: _doc_order(doc, v, positions))
    if not violations:
        return _empty_report(settings.dialect, kind, received.status)
    return Report(violations=tuple(violations), dialect=settings.dialect, kind=kind, status=received.status)


@functools.lru_cache(maxsize=64)
def _empty_report(dialect: str, kind: str, status: int | None) -> Report:
    # Reports are immutable, so the (common) conforming result can be shared.
    return Report(violations=(), dialect=dialect, kind=kind, status=status)


def _check_content_type(received: Received, collector: _Collector) -> None:
    ctype = (received.content_type or "").split(";")[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        return
    collector.add(
        "CC007",
        Hit((), f"Content-Type is {received.content_type!r}; expected application/json.", received.content_type),
    )


def assert_conforms(
    payload: Any,
    *,
    dialect: str | None = None,
    status: int | None = None,
    stream: bool | None = None,
    request: Any = None,
    provider: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    extensions: Iterable[str] | None = None,
) -> Report:
    """Like :func:`check`, but raise :class:`ContractViolation` (an ``AssertionError``) carrying every violation.

    Warnings do not raise. Returns the report when the payload conforms, so warnings stay inspectable.
    """
    report = check(
        payload,
        dialect=dialect,
        status=status,
        stream=stream,
        request=request,
        provider=provider,
        select=select,
        ignore=ignore,
        extensions=extensions,
    )
    if not report.ok:
        raise ContractViolation(report.violations, title=report.title)
    return report


async def acheck(
    payload: Any,
    *,
    dialect: str | None = None,
    status: int | None = None,
    stream: bool | None = None,
    request: Any = None,
    provider: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    extensions: Iterable[str] | None = None,
) -> Report:
    """Async twin of :func:`check`: also takes an unread async httpx response and reads its stream incrementally."""
    from .inputs import is_unread_async_response

    kwargs: dict[str, Any] = {
        "dialect": dialect,
        "provider": provider,
        "select": select,
        "ignore": ignore,
        "extensions": extensions,
    }
    if is_unread_async_response(payload):
        is_sse = "text/event-stream" in payload.headers.get("content-type", "").lower()
        if stream is True or (stream is None and is_sse):
            from .inputs import parse_request
            from .streams import StreamChecker

            body = None
            try:
                body = payload.request.content
            except Exception:  # no request attached, or a streamed upload
                body = None
            checker = StreamChecker(
                request=request if request is not None else parse_request(body) if body else None,
                status=status if status is not None else payload.status_code,
                **kwargs,
            )
            async for part in payload.aiter_bytes():
                checker.feed(part)
            report: Report = checker.close()
            return report
        await payload.aread()
    return check(payload, status=status, stream=stream, request=request, **kwargs)
