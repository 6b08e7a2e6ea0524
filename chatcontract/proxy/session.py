"""The state of one ``chatcontract proxy`` run: options, findings, counts, the recording, the printed lines.

The ASGI app (:mod:`chatcontract.proxy.app`) forwards and checks; everything it learns lands here. Findings are
grouped by rule code exactly like a fuzz run's (how many exchanges broke the rule, at which paths, the first
example with its request and a ``curl`` line), so :meth:`ProxySession.results` is a
:class:`~chatcontract.report.results.FuzzResults` with ``kind="proxy"`` that ``chatcontract report`` merges with fuzz
runs. Every line printed and every example kept goes through the cassette scrubber first: the client's credentials
pass through to the upstream and stop there.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

from .. import __version__
from .._exceptions import UsageError
from ..cassettes import scrub_json, scrub_text
from ..report.results import Example, Finding, FuzzResults
from ..violations import Violation, jsonable, shorten

__all__ = ["Exchange", "ProxyOptions", "ProxySession"]

_MAX_PATHS = 20
_MAX_BODY_SHOWN = 2000
#: Finding lines printed per exchange; the rest are counted in one more line.
_MAX_LINES_PER_EXCHANGE = 10
#: Per-exchange records kept for :attr:`ProxySession.exchanges` (a long run forgets the oldest).
_MAX_EXCHANGES = 10_000
_RESPONSE_ID = re.compile(rb'"id"\s*:\s*"([^"\\]{1,120})"')


@dataclass(kw_only=True)
class ProxyOptions:
    """Everything a proxy run needs; the CLI, :func:`~chatcontract.proxy.serve` and the benchmark build one."""

    #: The provider's base URL, e.g. ``https://api.mistral.ai/v1``; the proxy mirrors its paths.
    upstream: str
    dialect: str = "mistral"
    host: str = "127.0.0.1"
    port: int = 8787
    #: Name in reports and for ``per-provider-ignores`` (default: the upstream's host).
    provider: str | None = None
    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    #: Opt-in contract extensions (``["reasoning"]``: the reasoning fields of OpenAI-compatible servers).
    extensions: Sequence[str] | None = None
    #: Replace answers with error-severity violations by the dialect's error (see the README's Proxy section).
    enforce: bool = False
    #: Folder the cassette of the run is written to on exit.
    record: str | None = None
    #: Seconds to wait for the upstream (connect, each read); 504 after that.
    timeout: float = 120.0
    #: False: the same forwarding, reading and recording, without the engine's checks (the benchmark's baseline).
    checks: bool = True

    def validate(self) -> None:
        if self.dialect not in ("mistral", "openai"):
            raise UsageError(f"unknown dialect {self.dialect!r}; valid dialects: mistral, openai")
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"--upstream must be an http(s) URL such as https://api.mistral.ai/v1, got {self.upstream!r}"
            )
        if parts.username is not None or parts.password is not None:
            raise UsageError(
                "--upstream must not carry credentials (user:password@): the client sends its own, and the proxy "
                "passes them on without keeping them"
            )
        if parts.query or parts.fragment:
            raise UsageError(f"--upstream takes a base URL without query or fragment, got {self.upstream!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be 0..65535, got {self.port!r}")
        if not self.timeout > 0:
            raise UsageError(f"--timeout must be positive, got {self.timeout!r}")
        from ..contracts import check_extensions

        try:
            check_extensions(self.extensions)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"--extension: {exc}") from None

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the upstream: a request for ``/v1/x`` is forwarded to ``origin + /v1/x``."""
        parts = urlsplit(self.upstream)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def base_path(self) -> str:
        """The upstream's path (``/v1``), which the proxy's own base URL repeats."""
        return urlsplit(self.upstream).path.rstrip("/")

    @property
    def provider_name(self) -> str:
        return self.provider or urlsplit(self.upstream).netloc


@dataclass(slots=True, kw_only=True)
class Exchange:
    """One forwarded request and what came of it (kept for tests and summaries; bodies are not kept)."""

    number: int
    method: str
    path: str
    #: The upstream's status, or None when it gave no answer.
    status: int | None = None
    stream: bool = False
    #: Checked as a chat-completion exchange (POST .../chat/completions).
    checked: bool = False
    #: Rule codes found, in report order, without repeats.
    codes: list[str] = field(default_factory=list)
    #: What the client got instead of the upstream's answer: ``"502"``, ``"504"``, ``"stream-error-event"``.
    replaced: str | None = None


@dataclass(slots=True)
class _Acc:
    code: str
    count: int = 0
    paths: list[str] = field(default_factory=list)
    example: Example | None = None


class ProxySession:
    """Findings and counts of one proxy run; safe to read from another thread while the proxy serves."""

    def __init__(self, options: ProxyOptions, *, out: TextIO | None = None) -> None:
        from ..fuzz.openapi import documented_statuses
        from ..settings import resolve_settings

        options.validate()
        self.options = options
        # Resolved once, now: a bad --select/--ignore is a usage error before anything listens.
        self.settings = resolve_settings(
            dialect=options.dialect,
            select=options.select,
            ignore=options.ignore,
            provider=options.provider,
            extensions=options.extensions,
        )
        self.documented = frozenset(documented_statuses(options.dialect))
        self.out = out
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.started_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        self.requests = 0
        self.chat = 0
        self.streams = 0
        self.unchecked = 0
        self.statuses: dict[str, int] = {}
        self.models: set[str] = set()
        self.findings: dict[str, _Acc] = {}
        self.errors: list[str] = []
        self.exchanges: deque[Exchange] = deque(maxlen=_MAX_EXCHANGES)
        #: CPU seconds spent inside the engine (check(), the StreamChecker): what the checks cost the proxy.
        self.check_seconds = 0.0
        self._numbers = 0

    # -- bookkeeping -------------------------------------------------------------------------------------------
    def begin(self, method: str, path: str) -> Exchange:
        """A new request arrived: number it."""
        with self.lock:
            self._numbers += 1
            self.requests += 1
            exchange = Exchange(number=self._numbers, method=method, path=path)
            self.exchanges.append(exchange)
            return exchange

    def answered(self, exchange: Exchange, status: int | None, *, stream: bool = False) -> None:
        with self.lock:
            exchange.status = status
            exchange.stream = stream
            key = "none" if status is None else str(status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if exchange.checked:
                self.chat += 1
                self.streams += stream
            else:
                self.unchecked += 1

    def note(self, message: str) -> None:
        """A run-level problem that is not a finding about the provider (a client that went away)."""
        line = scrub_text(message)
        with self.lock:
            if len(self.errors) < 1000:
                self.errors.append(line)
        self._print(f"note: {line}")

    # -- findings ----------------------------------------------------------------------------------------------
    def exchange_codes(self, exchange: Exchange, status: int) -> list[tuple[str, str, str, Any]]:
        """The exchange-level findings of an answered chat request: CC602 (a 5xx), CC605 (undocumented status)."""
        found: list[tuple[str, str, str, Any]] = []
        if status >= 500:
            found.append(("CC602", "$", f"the provider answered {status} (server error)", status))
        if exchange.method == "POST" and str(status) not in self.documented:
            documented = ", ".join(sorted(self.documented))
            found.append(("CC605", "$", f"status {status} is not among the documented ones ({documented})", status))
        return [f for f in found if f[0] in self.settings.enabled]

    def judged(
        self,
        exchange: Exchange,
        violations: Sequence[Violation],
        extra: Iterable[tuple[str, str, str, Any]],
        *,
        request: _RequestView,
        response: _ResponseView | None,
    ) -> None:
        """Record the findings of one exchange and print a line per finding."""
        hits: dict[str, list[tuple[str, str, Any, str]]] = {}
        for code, path, message, actual in extra:
            hits.setdefault(code, []).append((path, message, actual, path))
        for v in violations:
            hits.setdefault(v.code, []).append((v.path, v.message, v.actual, v.where))
        model = request.json.get("model") if isinstance(request.json, dict) else None
        with self.lock:
            if isinstance(model, str) and len(self.models) < 50:
                self.models.add(model[:100])
            exchange.codes = list(hits)
            for code, items in hits.items():
                acc = self.findings.get(code)
                if acc is None:
                    acc = self.findings[code] = _Acc(code)
                acc.count += 1
                for path, _, _, _ in items:
                    if path not in acc.paths and len(acc.paths) < _MAX_PATHS:
                        acc.paths.append(path)
                if acc.example is None:
                    path, message, actual, _ = items[0]
                    acc.example = _example(request, response, path, message, actual)
        if hits and self.out is not None:
            self._print_findings(exchange, hits, response)

    def _print_findings(
        self, exchange: Exchange, hits: dict[str, list[tuple[str, str, Any, str]]], response: _ResponseView | None
    ) -> None:
        from ..rules import RULES

        rid = response.id if response is not None and response.id else "-"
        lines = []
        for code, items in hits.items():
            rule = RULES[code]
            for _, _, _, where in items:
                lines.append(
                    f"{code} {rule.name} [{rule.severity.value}] {where}  "
                    f"{exchange.method} {exchange.path} #{exchange.number} {rid}"
                )
        shown = lines[:_MAX_LINES_PER_EXCHANGE]
        if len(lines) > len(shown):
            shown.append(f"... and {len(lines) - len(shown)} more findings in #{exchange.number}")
        self._print("\n".join(shown))

    def _print(self, text: str) -> None:
        if self.out is None:
            return
        try:
            self.out.write(scrub_text(text) + "\n")
            self.out.flush()
        except (OSError, ValueError):  # a closed pipe must not take the proxy down
            pass

    # -- the outcome -------------------------------------------------------------------------------------------
    def results(self, *, stop_reason: str = "completed") -> FuzzResults:
        """What the run found, in the results format of ``chatcontract fuzz`` (``kind="proxy"``)."""
        from ..rules import RULES

        with self.lock:
            findings = [
                Finding(
                    code=code,
                    name=RULES[code].name,
                    severity=RULES[code].severity.value,
                    count=acc.count,
                    summary=RULES[code].summary,
                    paths=list(acc.paths),
                    example=acc.example,
                )
                for code, acc in sorted(self.findings.items())
            ]
            return FuzzResults(
                kind="proxy",
                provider=self.options.provider_name,
                base_url=self.options.upstream,
                dialect=self.options.dialect,
                model=", ".join(sorted(self.models)),
                started=self.started_at,
                duration_s=round(time.monotonic() - self.started, 3),
                stop_reason=stop_reason,
                requests=self.requests,
                statuses=dict(sorted(self.statuses.items())),
                positive=self.chat,
                streams=self.streams,
                unchecked=self.unchecked,
                findings=findings,
                errors=list(self.errors),
                chatcontract=__version__,
            )


# -- examples --------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _RequestView:
    """The request as forwarded: method, upstream URL, headers, body (raw and parsed)."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    json: Any = None


@dataclass(slots=True)
class _ResponseView:
    status: int
    content_type: str
    #: The body, or its first part for a stream when no recording keeps it whole.
    body: bytes
    id: str | None = None


def response_id(first_bytes: bytes | bytearray) -> str | None:
    """The ``id`` of a chat answer (or of a stream's first chunk), for the printed lines."""
    match = _RESPONSE_ID.search(first_bytes[:600])
    return match.group(1).decode("utf-8", "replace") if match else None


def _example(request: _RequestView, response: _ResponseView | None, path: str, message: str, actual: Any) -> Example:
    from ..fuzz.reproduce import curl as _curl
    from ..fuzz.reproduce import redact as _redact
    from .recording import scrubbed_uri

    url = scrubbed_uri(request.url)
    headers = {name: _redact(name, value, None) for name, value in request.headers}
    body: Any = scrub_json(request.json) if request.json is not None else _text(request.body, 4000)
    answer: dict[str, Any] | None = None
    if response is not None:
        answer = {
            "status": response.status,
            "content_type": response.content_type,
            "body": scrub_text(_text(response.body, _MAX_BODY_SHOWN)),
        }
    return Example(
        request={"method": request.method, "url": url, "headers": headers, "body": shorten(body, 4000)},
        curl=_curl(request.method, url, headers, body if body != "" else None),
        response=answer,
        phase="proxy",
        mode="observed",
        path=path,
        message=scrub_text(message),
        actual=jsonable(shorten(scrub_json(actual) if isinstance(actual, (dict, list, str)) else actual)),
    )


def _text(data: bytes, limit: int) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} characters)"
