"""``chatcontract fuzz``: schemathesis generates, shrinks and sends requests; chatcontract judges every answer.

The division of labour:

* **schemathesis** loads the OpenAPI document built from the contracts (:func:`~chatcontract.fuzz.build_openapi`),
  generates positive and negative requests (its examples, coverage and fuzzing phases), shrinks failing ones,
  runs workers, rate-limits, honours ``429 Retry-After`` (its ``auto`` rate-limit mode) and reports transport errors;
* **chatcontract** registers one schemathesis check that puts every response through the full engine with its
  request (``check()``; streams through the incremental :class:`~chatcontract.StreamChecker`), decides with the
  *request contract* whether the request was valid (schemathesis' own positive/negative label is a generation
  intent, and JSON Schema's ``integer`` accepts ``1.0`` where the contracts do not), and adds the exchange-level
  findings (CC6xx): an invalid request answered 2xx, a 5xx, a valid request rejected, no response at all.

Budgets keep a paid API cheap: every request leaves with ``max_tokens`` (and OpenAI's ``max_completion_tokens``)
at most the cap, even a negative one whose generator drew a huge number; a hard request budget and a time budget
stop the run; Ctrl-C stops it too, and the findings so far are kept.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import random
import shlex
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from .._exceptions import ProviderError, UsageError
from .._scrub import is_secret_header
from ..violations import jsonable, shorten
from .openapi import CHAT_PATH, build_openapi, documented_statuses
from .results import STOP_REASONS, Example, Finding, FuzzResults

__all__ = ["PHASES", "BudgetExhausted", "FuzzOptions", "attach", "detach", "prepare", "run_fuzz", "severity_of"]

#: schemathesis phases a fuzz run may use (``stateful`` does not apply: there is one operation).
PHASES = ("examples", "coverage", "fuzzing")
_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")
_MAX_PATHS = 20
_MAX_BODY_SHOWN = 2000
_CHECK_NAME = "chatcontract_conformance"
#: A stream with more events than this is cut (CC604): with ``max_tokens`` capped, a conforming stream has about
#: ``cap x n`` content events plus a few; schemathesis' own default (20) would cut ordinary streams.
MAX_STREAM_EVENTS = 10_000
#: Statuses that say nothing about the request body: authentication, rate limits.
_NOT_ABOUT_THE_BODY = frozenset({401, 403, 429})


@dataclass(kw_only=True)
class FuzzOptions:
    """Everything a fuzz run needs; the CLI, the pytest fixture and the benchmark build one of these."""

    base_url: str
    model: str
    dialect: str = "mistral"
    api_key: str | None = None
    #: Name of the environment variable the key came from: the curl lines say ``$NAME`` instead of the key.
    api_key_env: str | None = None
    provider: str | None = None
    max_examples: int = 25
    max_requests: int = 500
    max_tokens_cap: int = 16
    max_time: float | None = None
    seed: int | None = None
    workers: int = 1
    rate_limit: str | None = None
    timeout: float = 30.0
    phases: Sequence[str] = PHASES
    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    #: Opt-in contract extensions (``["reasoning"]``: the reasoning fields of OpenAI-compatible servers).
    extensions: Sequence[str] | None = None
    #: False: only schemathesis' ``not_a_server_error`` runs (the benchmark's baseline).
    contract_checks: bool = True
    #: Let hypothesis shrink failing requests (costs requests; the request budget still holds).
    shrink: bool = True

    def validate(self) -> None:
        if self.dialect not in ("mistral", "openai"):
            raise UsageError(f"unknown dialect {self.dialect!r}; valid dialects: mistral, openai")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"base URL must be an http(s) URL such as http://127.0.0.1:8000/v1, got {self.base_url!r}")
        if not self.model:
            raise UsageError("a model name is required (--model)")
        for name in ("max_examples", "max_requests", "max_tokens_cap", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name.replace('_', '-')} must be an integer >= 1, got {value!r}")
        if self.timeout <= 0:
            raise UsageError(f"timeout must be positive, got {self.timeout!r}")
        if self.max_time is not None and self.max_time <= 0:
            raise UsageError(f"max-time must be positive, got {self.max_time!r}")
        unknown = [p for p in self.phases if p not in PHASES]
        if unknown or not self.phases:
            raise UsageError(f"phases must be some of {', '.join(PHASES)}, got {', '.join(self.phases) or 'none'}")
        if self.rate_limit is not None:
            _validate_rate_limit(self.rate_limit)

    @property
    def root_url(self) -> str:
        """The URL the document's ``/v1/chat/completions`` path is appended to (a trailing ``/v1`` is dropped)."""
        url = self.base_url.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url

    @property
    def provider_name(self) -> str:
        return self.provider or urlsplit(self.base_url).netloc


def _validate_rate_limit(value: str) -> None:
    count, _, unit = value.partition("/")
    if not count.isdigit() or int(count) < 1 or unit not in ("s", "m", "h", "d"):
        raise UsageError(f"rate limit must look like 10/s, 100/m, 1000/h or 5000/d, got {value!r}")


# ---------------------------------------------------------------------------------------------------------------
# The run state, shared by the schemathesis hooks and check (workers run them on several threads)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Acc:
    code: str
    count: int = 0
    paths: list[str] = field(default_factory=list)
    example: Example | None = None
    size: int = 0


class _BudgetSpent(KeyboardInterrupt):
    """Raised in a hook to stop schemathesis (it treats KeyboardInterrupt as the end of the run)."""


class BudgetExhausted(RuntimeError):
    """The request budget is spent (raised in pytest tests, where a KeyboardInterrupt would end the session)."""


class _Run:
    def __init__(self, options: FuzzOptions, progress: Callable[[_Run], None] | None) -> None:
        from ..engine import resolve_settings

        self.options = options
        self.settings = resolve_settings(
            dialect=options.dialect,
            select=options.select,
            ignore=options.ignore,
            provider=options.provider,
            extensions=options.extensions,
        )
        self.lock = threading.Lock()
        self.sent = 0
        self.statuses: dict[str, int] = {}
        self.positive = self.negative = self.streams = 0
        self.findings: dict[str, _Acc] = {}
        self.errors: list[str] = []
        self.stop_reason: str | None = None
        self.stop: Callable[[], None] = lambda: None
        self.progress = progress
        self._last_progress = 0.0
        #: In a user's pytest test a spent budget fails that test instead of stopping a whole engine run.
        self.raise_on_budget = False
        self.started = time.monotonic()
        #: Statuses the generated document declares for the operation (schemathesis' status_code_conformance).
        self.documented = frozenset(documented_statuses(options.dialect))
        #: Transport errors that mean "nobody listens there" (refused, unresolvable) rather than a broken answer.
        self.unreachable = 0

    # -- budgets -------------------------------------------------------------------------------------------------

    def before_call(self, case: Any) -> None:
        with self.lock:
            limit = self.options.max_time
            if limit is not None and not self.raise_on_budget and time.monotonic() - self.started >= limit:
                self.stop_reason = self.stop_reason or "max_time"
                self.stop()
                raise _BudgetSpent
            if self.sent >= self.options.max_requests:
                if self.raise_on_budget:
                    raise BudgetExhausted(f"the fuzz request budget ({self.options.max_requests}) is spent")
                self.stop_reason = self.stop_reason or "max_requests"
                self.stop()
                raise _BudgetSpent
            self.sent += 1
        _cap_tokens(case, self.options.max_tokens_cap)

    # -- judging one exchange ------------------------------------------------------------------------------------

    def observe(self, case: Any, response: Any) -> list[tuple[str, str, str]]:
        """Check one response with its request and record its findings.

        Returns the error-severity ``(code, path, message)`` triples: what makes schemathesis count it as failed.
        """
        from ..engine import Report

        request_body = _sent_body(response, case)
        # An undocumented method (schemathesis' coverage phase probes them) is an invalid request whatever its body.
        problem = self.request_problem(request_body, str(case.method))
        request_valid = problem is None
        status = int(response.status_code)
        content_type = _header(response.headers, "content-type")
        is_stream = "text/event-stream" in content_type.lower()
        exchange: list[tuple[str, str, str, Any]] = []  # (code, path, message, actual)
        if 200 <= status < 300 and not request_valid:
            exchange.append(
                (
                    "CC601",
                    "$",
                    f"an invalid request ({problem}) was answered {status}",
                    status,
                )
            )
        elif status >= 500:
            exchange.append(("CC602", "$", f"the provider answered {status} (server error)", status))
        elif 400 <= status < 500 and request_valid and status not in _NOT_ABOUT_THE_BODY:
            exchange.append(
                (
                    "CC603",
                    "$",
                    f"a request inside the {self.options.dialect} request contract was rejected with {status}",
                    status,
                )
            )
        if str(case.method).upper() == "POST" and str(status) not in self.documented:
            exchange.append(
                (
                    "CC605",
                    "$",
                    f"status {status} is not among the documented ones ({', '.join(sorted(self.documented))})",
                    status,
                )
            )
        report: Report | None = None
        cut = is_stream and status < 300 and bool(getattr(response, "stream_cut_short", False))
        if cut:
            # Only part of the stream was read (it did not end within the timeout, or ran past MAX_STREAM_EVENTS):
            # judging the part as a whole stream would report a missing end that may well have come later.
            exchange.append(
                (
                    "CC604",
                    "$",
                    f"the stream did not end within {self.options.timeout:g} s or "
                    f"{MAX_STREAM_EVENTS} events; read {len(response.content)} bytes",
                    None,
                )
            )
        elif status != 429 or response.content:
            report = self._check_body(
                response.content, status, content_type, is_stream, request_body if request_valid else None
            )
        with self.lock:
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            if request_valid:
                self.positive += 1
            else:
                self.negative += 1
            if is_stream:
                self.streams += 1
            seen: dict[str, list[tuple[str, str, Any]]] = {}
            for code, path, message, actual in exchange:
                if code in self.settings.enabled:
                    seen.setdefault(code, []).append((path, message, actual))
            if report is not None:
                for v in report.violations:
                    seen.setdefault(v.code, []).append((v.path, v.message, v.actual))
            for code, hits in seen.items():
                self._record(code, hits, case, response, request_body, request_valid)
            self._maybe_progress()
        return [
            (code, path, message)
            for code in sorted(seen)
            if severity_of(code) == "error"
            for path, message, _ in seen[code]
        ]

    def transport_error(self, case: Any, exc: BaseException) -> None:
        """No response: a timeout, a reset or a refused connection (CC604)."""
        body = _case_body(case)
        message = f"no response: {_describe_transport_error(exc)}"
        with self.lock:
            self.statuses["none"] = self.statuses.get("none", 0) + 1
            if _is_unreachable(exc):
                self.unreachable += 1
            if "CC604" in self.settings.enabled:
                self._record("CC604", [("$", message, None)], case, None, body, self.request_problem(body) is None)
            self._maybe_progress()

    def request_problem(self, body: Any, method: str = "POST") -> str | None:
        """Why ``body`` is not a valid request (``None`` when it is): the contract plus what it cannot express.

        Beyond the schema: the model must be the one under test (any other name is an unknown model, which the
        APIs refuse), a named ``tool_choice`` must name one of the ``tools``, and so on -- the reference
        provider's own request validation, which mirrors the APIs.
        """
        from ..provider.errors import ApiError, validate_request

        if method.upper() != "POST":
            return f"method {method.upper()} instead of POST"
        if not isinstance(body, dict):
            return f"the body is {type(body).__name__ if body is not None else 'missing'}, not a JSON object"
        model = body.get("model")
        if model != self.options.model:
            return f"model {shorten(model, 40)!r} is not the model under test ({self.options.model!r})"
        try:
            validate_request(self.options.dialect, body, (model,))
        except ApiError as exc:
            return _api_error_reason(exc)
        except Exception as exc:  # a recursion error on a hostile body
            return f"the body cannot be validated ({type(exc).__name__})"
        return None

    def _check_body(self, content: bytes, status: int, content_type: str, is_stream: bool, request: Any) -> Any:
        from ..engine import check
        from ..streams import StreamChecker

        opts = self.options
        if is_stream and status < 300:
            checker = StreamChecker(
                dialect=opts.dialect,
                request=request,
                provider=opts.provider,
                select=opts.select,
                ignore=opts.ignore,
                status=status,
                extensions=opts.extensions,
            )
            view = memoryview(content)
            for start in range(0, len(view), 65536):  # as it came off the wire: the checker is incremental
                checker.feed(view[start : start + 65536])
            return checker.close()
        return check(
            _Answer(status, content_type, content),
            dialect=opts.dialect,
            status=status,
            stream=False if not is_stream else None,
            request=request,
            provider=opts.provider,
            select=opts.select,
            ignore=opts.ignore,
            extensions=opts.extensions,
        )

    def _record(
        self,
        code: str,
        hits: list[tuple[str, str, Any]],
        case: Any,
        response: Any,
        request_body: Any,
        request_valid: bool,
    ) -> None:
        acc = self.findings.get(code)
        if acc is None:
            acc = self.findings[code] = _Acc(code)
        acc.count += 1
        for path, _message, _actual in hits:
            if path not in acc.paths and len(acc.paths) < _MAX_PATHS:
                acc.paths.append(path)
        size = len(_dumps(request_body))
        # Keep the smallest request that shows the finding: hypothesis shrinks a failing request by sending ever
        # smaller variants, so the smallest one seen is the shrunk reproducer.
        if acc.example is None or size < acc.size:
            path, message, actual = hits[0]
            acc.example = self._example(case, response, request_body, request_valid, path, message, actual)
            acc.size = size

    def _example(
        self, case: Any, response: Any, body: Any, request_valid: bool, path: str, message: str, actual: Any
    ) -> Example:
        method, url, headers = _request_line(case, response, self.options.root_url)
        shown_headers = {k: _redact(k, v, self.options.api_key_env) for k, v in headers.items()}
        meta = getattr(case, "meta", None)
        phase = str(getattr(getattr(getattr(meta, "phase", None), "name", None), "value", "") or "")
        answer: dict[str, Any] | None = None
        if response is not None:
            text = response.content.decode("utf-8", "replace")
            answer = {
                "status": int(response.status_code),
                "content_type": _header(response.headers, "content-type"),
                "body": text
                if len(text) <= _MAX_BODY_SHOWN
                else text[:_MAX_BODY_SHOWN] + f"...({len(text)} characters)",
            }
        return Example(
            request={"method": method, "url": url, "headers": shown_headers, "body": shorten(body, 4000)},
            curl=_curl(method, url, shown_headers, body),
            response=answer,
            phase=phase,
            mode="positive" if request_valid else "negative",
            path=path,
            message=message,
            actual=jsonable(shorten(actual)),
        )

    def _maybe_progress(self) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self._last_progress >= 0.5:
            self._last_progress = now
            self.progress(self)

    def results(self, *, started: str, duration: float, stop_reason: str) -> FuzzResults:
        from ..rules import RULES

        findings = []
        for code in sorted(self.findings):
            acc = self.findings[code]
            rule = RULES[code]
            findings.append(
                Finding(
                    code=code,
                    name=rule.name,
                    severity=severity_of(code),
                    count=acc.count,
                    summary=rule.summary,
                    paths=list(acc.paths),
                    example=acc.example,
                )
            )
        opts = self.options
        return FuzzResults(
            provider=opts.provider_name,
            base_url=opts.base_url,
            dialect=opts.dialect,
            model=opts.model,
            seed=opts.seed,
            started=started,
            duration_s=round(duration, 3),
            stop_reason=stop_reason,
            requests=self.sent,
            statuses=dict(sorted(self.statuses.items())),
            positive=self.positive,
            negative=self.negative,
            streams=self.streams,
            findings=findings,
            errors=list(self.errors),
            chatcontract=__version__,
        )


class _Answer:
    """What ``check()`` reads from an HTTP response (status, content type, body), without the request.

    The runner passes the request itself, and only when it is valid: request-aware rules judge answers to valid
    requests.
    """

    __slots__ = ("content", "headers", "request", "status_code")

    def __init__(self, status: int, content_type: str, content: bytes) -> None:
        self.status_code = status
        self.headers = {"content-type": content_type} if content_type else {}
        self.content = content
        self.request = None


def _api_error_reason(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        if isinstance(body.get("detail"), list) and body["detail"]:
            first = body["detail"][0]
            if isinstance(first, dict):
                where = ".".join(str(p) for p in first.get("loc", ())[1:])
                return f"{where}: {first.get('msg', '')}".strip(": ")
        error = body.get("error")
        inner: dict[str, Any] = error if isinstance(error, dict) else body
        if isinstance(inner.get("message"), str):
            return str(inner["message"])[:200]
    return str(exc)[:200]


def severity_of(code: str) -> str:
    from ..rules import RULES

    return str(RULES[code].severity.value)


# ---------------------------------------------------------------------------------------------------------------
# Registration with schemathesis (its check registry is global; runs are told apart by their schema object)
# ---------------------------------------------------------------------------------------------------------------

_RUNS: dict[str, _Run] = {}
#: Key in the generated document naming its run: schemathesis copies schemas (``from_fixture``, per-operation
#: views), so the object's identity is not stable, but every copy keeps the raw document.
_RUN_KEY = "x-chatcontract-run"


def _run_of(schema: Any) -> _Run | None:
    raw = getattr(schema, "raw_schema", None)
    token = raw.get(_RUN_KEY) if isinstance(raw, dict) else None
    return _RUNS.get(token) if isinstance(token, str) else None


_registered = False
_register_lock = threading.Lock()


def _register() -> None:
    global _registered
    with _register_lock:
        if _registered:
            return
        try:
            import schemathesis
        except ImportError:  # schemathesis 4 needs Python 3.11+; the rest of chatcontract runs on 3.10
            raise UsageError(
                f"chatcontract fuzz needs schemathesis 4 (Python 3.11 or later); this is Python "
                f"{sys.version_info.major}.{sys.version_info.minor} without it"
            ) from None
        from schemathesis.core.failures import Failure

        from ..rules import RULES

        class ContractFailure(Failure):
            """Responses that break chatcontract rules (one failure kind per set of rule codes)."""

            code = "ST901"
            kind_title = "chatcontract contract violation"

            def __init__(self, *, operation: str, errors: list[tuple[str, str, str]]) -> None:
                codes = sorted({code for code, _, _ in errors})
                shown = [f"{code} {RULES[code].name} at {path}: {message}" for code, path, message in errors[:20]]
                if len(errors) > 20:
                    shown.append(f"... and {len(errors) - 20} more")
                super().__init__(
                    operation=operation, title=f"chatcontract: {', '.join(codes)}", message="\n".join(shown)
                )
                self._codes = ",".join(codes)

            @property
            def _unique_key(self) -> str:
                return self._codes

        def chatcontract_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
            run = _run_of(case.operation.schema)
            if run is None:
                return None
            errors = run.observe(case, response)
            if errors:
                raise ContractFailure(operation=case.operation.label, errors=errors)
            return None

        def before_call(context: Any, case: Any, kwargs: Any) -> None:
            run = _run_of(case.operation.schema)
            if run is not None:
                run.before_call(case)

        schemathesis.check(chatcontract_conformance)
        schemathesis.hook(before_call)
        _watch_transport()
        _registered = True


def _watch_transport() -> None:
    """Record exchanges that got no response (CC604) with their request.

    schemathesis reports them as run errors, without the case, and no check runs for them.
    """
    import requests
    from schemathesis.transport.requests import REQUESTS_TRANSPORT

    send = REQUESTS_TRANSPORT.send

    def watched_send(case: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return send(case, *args, **kwargs)
        except (requests.RequestException, TimeoutError, OSError) as exc:
            run = _run_of(case.operation.schema)
            if run is not None:
                run.transport_error(case, exc)
            raise

    REQUESTS_TRANSPORT.send = watched_send  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------------------


def prepare(options: FuzzOptions, progress: Callable[[_Run], None] | None = None) -> tuple[Any, _Run]:
    """The schemathesis schema of a fuzz run, with chatcontract's check enabled, and its (unregistered) run state."""
    options.validate()
    if options.seed is None:  # pick the seed here, so that the results say how to reproduce the run
        options = replace(options, seed=random.SystemRandom().randrange(2**31))
    _register()
    import schemathesis

    run = _Run(options, progress)
    doc = build_openapi(options.dialect, max_tokens_cap=options.max_tokens_cap, model=options.model)
    if not options.api_key:
        doc.pop("security", None)  # no key: no Authorization header at all (not a random one)
    doc[_RUN_KEY] = uuid.uuid4().hex
    schema = schemathesis.openapi.from_dict(doc, config=schemathesis.Config.from_dict(_st_config(options)))
    if options.rate_limit is not None:
        schema.config.update(rate_limit=options.rate_limit)
    return schema, run


def attach(schema: Any, run: _Run) -> None:
    """Route ``schema``'s requests and responses to ``run`` (until :func:`detach`)."""
    _RUNS[schema.raw_schema[_RUN_KEY]] = run


def detach(schema: Any) -> None:
    _RUNS.pop(schema.raw_schema.get(_RUN_KEY, ""), None)


def run_fuzz(options: FuzzOptions, *, progress: Callable[[_Run], None] | None = None) -> FuzzResults:
    """Fuzz ``options.base_url`` and return what was found (also when interrupted by Ctrl-C).

    Raises:
        UsageError: bad options.
        ProviderError: the provider cannot be reached at all (nothing was answered).
    """
    from schemathesis.engine import events, from_schema

    schema, run = prepare(options, progress)
    attach(schema, run)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = run.started = time.monotonic()
    engine_stop = "completed"
    stream = from_schema(schema).execute()
    run.stop = stream.stop
    try:
        for event in stream:
            if isinstance(event, events.NonFatalError):
                run.errors.append(_non_fatal_message(event))
            elif isinstance(event, events.FatalError):
                run.errors.append(f"schemathesis failed: {event.exception}")
            elif isinstance(event, events.EngineFinished):
                engine_stop = str(getattr(event.stop_reason, "value", event.stop_reason))
    except KeyboardInterrupt:
        run.stop_reason = run.stop_reason or "interrupted"
        stream.stop()
    finally:
        detach(schema)
    stop_reason = run.stop_reason or (engine_stop if engine_stop in STOP_REASONS else "completed")
    results = run.results(started=started, duration=time.monotonic() - t0, stop_reason=stop_reason)
    if run.unreachable and results.statuses == {"none": run.unreachable}:  # every request refused: nobody there
        raise ProviderError(
            f"cannot reach {options.base_url}: no request got a response "
            f"({results.findings[0].example.message if results.findings and results.findings[0].example else ''})"
        )
    return results


def _st_config(options: FuzzOptions) -> dict[str, Any]:
    checks: dict[str, Any] = {"enabled": False, "not_a_server_error": {"enabled": not options.contract_checks}}
    if options.contract_checks:
        checks[_CHECK_NAME] = {"enabled": True}
    headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
    phases = {name: {"enabled": name in options.phases} for name in ("examples", "coverage", "fuzzing", "stateful")}
    project: dict[str, Any] = {
        "base-url": options.root_url,
        "workers": options.workers,
        "continue-on-failure": True,
        "request-timeout": options.timeout,
        "max-stream-events": MAX_STREAM_EVENTS,
        "headers": headers,
        "checks": checks,
        "phases": phases,
        "generation": {
            "max-examples": options.max_examples,
            "mode": "all",
            "no-shrink": not options.shrink,
            "database": "none",
        },
        "rate-limit": options.rate_limit or "auto",
        "output": {"sanitization": {"enabled": False}},
        # nothing written to the user's working directory (schemathesis' own cache and example database)
        "cache": {"enabled": False},
    }
    if options.seed is not None:
        project["seed"] = options.seed
    if options.max_time is not None:
        project["max-time"] = max(1, math.ceil(options.max_time))  # schemathesis takes whole seconds
    return project


def _non_fatal_message(event: Any) -> str:
    info = getattr(event, "info", None)
    title = getattr(info, "title", None) or type(getattr(event, "value", None)).__name__
    message = getattr(info, "message", None) or str(getattr(event, "value", ""))
    return f"{event.label}: {title}: {message}".strip()


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def _cap_tokens(case: Any, cap: int) -> None:
    """Budget: ``max_tokens`` / ``max_completion_tokens`` never exceed the cap, nor go missing.

    A provider's default can be thousands of tokens. Values of another type are left alone: the provider must
    reject them.
    """
    body = getattr(case, "body", None)
    if not isinstance(body, dict):
        return
    present = False
    for name in _TOKEN_FIELDS:
        if name not in body:
            continue
        present = True
        value = body[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > cap:
            body[name] = cap if isinstance(value, int) else float(cap)
    if not present:
        body["max_tokens"] = cap


def _sent_body(response: Any, case: Any) -> Any:
    raw = getattr(getattr(response, "request", None), "body", None)
    if isinstance(raw, (bytes, str)) and raw:
        try:
            return json.loads(raw)
        except ValueError:
            return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return _case_body(case)


def _case_body(case: Any) -> Any:
    body = getattr(case, "body", None)
    return None if type(body).__name__ == "NotSet" else body


def _header(headers: Any, name: str) -> str:
    value = None
    if isinstance(headers, Mapping):
        for key, item in headers.items():
            if key.lower() == name:
                value = item
                break
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value or "")


def _request_line(case: Any, response: Any, root_url: str) -> tuple[str, str, dict[str, str]]:
    request = getattr(response, "request", None)
    if request is not None and getattr(request, "url", None):
        return str(request.method), str(request.url), {str(k): str(v) for k, v in request.headers.items()}
    headers = {str(k): str(v) for k, v in (getattr(case, "headers", None) or {}).items()}
    headers.setdefault("Content-Type", "application/json")
    return str(getattr(case, "method", "POST")).upper(), root_url + CHAT_PATH, headers


_DROPPED_HEADERS = (
    "content-length",
    "user-agent",
    "accept-encoding",
    "connection",
    "accept",
    "x-schemathesis-testcaseid",
)


def _redact(name: str, value: str, env: str | None) -> str:
    if not is_secret_header(name):
        return value
    scheme, _, secret = value.partition(" ")
    placeholder = f"${env}" if env else "REDACTED"
    if secret and scheme.lower() in ("bearer", "basic", "token"):
        return f"{scheme} {placeholder}"
    return placeholder


def _curl(method: str, url: str, headers: Mapping[str, str], body: Any) -> str:
    parts = ["curl", "-X", method, shlex.quote(url)]
    for name, value in headers.items():
        if name.lower() in _DROPPED_HEADERS:
            continue
        header = f"{name}: {value}"
        # "$VAR" must stay expandable in the shell: double quotes for a redacted key, single quotes otherwise
        if "$" in value and is_secret_header(name):
            parts += ["-H", '"' + header.replace('"', '\\"') + '"']
        else:
            parts += ["-H", shlex.quote(header)]
    if body is not None:
        data = body if isinstance(body, str) else _dumps(body)
        parts += ["--data-raw", shlex.quote(data)]
    return " ".join(parts)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _is_unreachable(exc: BaseException) -> bool:
    """Connection refused, host unknown, connect timeout: nobody answers at that address at all."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        marker in text for marker in ("NewConnectionError", "Connection refused", "NameResolutionError", "Errno 111")
    )


def _describe_transport_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
