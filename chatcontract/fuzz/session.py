"""The state of one fuzz run, shared by the hooks and the check across schemathesis' worker threads.

Budgets, counts, the coverage of the valid requests (:mod:`~chatcontract.fuzz.coverage`, which also shapes the
requests still to be sent), the findings recorded per rule with a few distinct examples (each the smallest request of
its kind, with a count), and the final :class:`~chatcontract.report.results.FuzzResults`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..report.results import Example, FeatureRow, Finding, FuzzResults, RunCoverage
from ..violations import jsonable, shorten
from .coverage import Coverage, Culprit
from .judge import (
    check_answer,
    describe_transport_error,
    is_contract_method,
    is_unreachable,
    method_problem,
    request_problem,
    severity_of,
)
from .openapi import documented_statuses
from .options import (
    MAX_BODY_SHOWN,
    MAX_PATHS,
    MAX_RATE_LIMIT_RETRIES,
    MAX_RATE_LIMIT_WAIT,
    MAX_STREAM_EVENTS,
    NOT_ABOUT_THE_BODY,
    TOKEN_FIELDS,
    FuzzOptions,
)
from .preflight import provider_reason
from .reproduce import case_body, curl, dumps, header, raw_body, redact, request_line, sent_body

# ---------------------------------------------------------------------------------------------------------------
# The run state, shared by the schemathesis hooks and check (workers run them on several threads)
# ---------------------------------------------------------------------------------------------------------------


#: Kinds of exchange tracked per rule (each with a count and its smallest example); later kinds are only counted.
_MAX_KINDS = 64


@dataclass(slots=True)
class _Kind:
    count: int = 0
    example: Example | None = None
    size: int = 0


@dataclass(slots=True)
class _Acc:
    code: str
    count: int = 0
    paths: list[str] = field(default_factory=list)
    #: By kind: (method, status, request validity, stream, response path, trigger).
    kinds: dict[tuple[str, ...], _Kind] = field(default_factory=dict)


class _BudgetSpent(KeyboardInterrupt):
    """Raised in a hook to stop schemathesis (it treats KeyboardInterrupt as the end of the run)."""


class BudgetExhausted(RuntimeError):
    """The request budget is spent (raised in pytest tests, where a KeyboardInterrupt would end the session)."""


class FuzzRun:
    def __init__(self, options: FuzzOptions, progress: Callable[[FuzzRun], None] | None) -> None:
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
        self.coverage = Coverage(options.dialect, seed=options.seed, adaptive=options.adaptive)
        #: Run-level notes for the results (the preflight's, a culprit found).
        self.notes: list[str] = []
        #: Set when the run must end (time budget, rate limited past it, Ctrl-C): waits and new requests stop.
        self.stopping = threading.Event()
        #: 429 answers, the retried ones included.
        self.rate_limited = 0
        #: Requests of the budget kept for the pairwise phase, and the seconds after the start at which the phases
        #: before it stop (so that it keeps its share of the time budget); set by the runner.
        self.reserved = 0
        self.phase_deadline: float | None = None

    # -- time ----------------------------------------------------------------------------------------------------

    def remaining(self) -> float | None:
        """Seconds left of the time budget (``None`` without one; never negative)."""
        limit = self.options.max_time
        if limit is None or self.raise_on_budget:
            return None
        return max(0.0, limit - (time.monotonic() - self.started))

    def answer_budget(self) -> tuple[float, bool]:
        """Seconds the next answer may take in all, and whether that is the request timeout (not the time left)."""
        remaining = self.remaining()
        if remaining is not None and remaining < self.options.timeout:
            return remaining, False
        return self.options.timeout, True

    def expire(self, reason: str, message: str | None = None) -> None:
        """End the run: no new request, no further wait; ``reason`` becomes the stop reason unless one is set."""
        with self.lock:
            self.stop_reason = self.stop_reason or reason
            if message is not None:
                self.errors.append(message)
        self.stopping.set()
        self.stop()
        if reason != "max_requests" and not self.raise_on_budget:
            from .deadlines import cut_all

            cut_all()  # the answers still arriving end now: the run is over

    def retry_wait(self, retry_after: float | None, attempt: int) -> float | None:
        """How long to wait before sending a 429-answered request again, or ``None`` to keep the 429 and go on.

        A wait longer than the time left (or :data:`MAX_RATE_LIMIT_WAIT` without a time budget) is never made:
        the run ends there, rate limited, and says so.
        """
        with self.lock:
            self.rate_limited += 1
        if retry_after is None or attempt >= MAX_RATE_LIMIT_RETRIES:
            return None
        remaining = self.remaining()
        limit = MAX_RATE_LIMIT_WAIT if remaining is None else min(MAX_RATE_LIMIT_WAIT, remaining - 1.0)
        if retry_after > limit:
            left = (
                f"the {MAX_RATE_LIMIT_WAIT:g} s a run waits at most"
                if remaining is None or remaining - 1.0 > MAX_RATE_LIMIT_WAIT
                else f"the {max(0.0, remaining):.1f} s left of the time budget"
            )
            self.expire(
                "rate_limited",
                f"rate limited: the provider answered 429 with Retry-After {retry_after:g} s, past {left}; "
                f"the run stopped instead of waiting",
            )
            return None
        return retry_after

    def take_retry(self) -> bool:
        """Count a resend after a 429 against the request budget (and the 429 it replaces); False: budget spent."""
        with self.lock:
            if self.sent >= self.options.max_requests or self.stopping.is_set():
                return False  # the 429 stays the answer, and is counted when judged
            self.statuses["429"] = self.statuses.get("429", 0) + 1
            self.sent += 1
            return True

    # -- budgets -------------------------------------------------------------------------------------------------

    def before_call(self, case: Any) -> None:
        # the pairwise phase, sent last, has requests and time kept for it that the earlier phases may not spend
        last_phase = getattr(case, "pairwise", None) is not None
        with self.lock:
            limit = self.options.max_time
            elapsed = time.monotonic() - self.started
            over = limit is not None and not self.raise_on_budget and elapsed >= limit
            if not last_phase and self.phase_deadline is not None and elapsed >= self.phase_deadline:
                over = True  # the earlier phases end here; the run's own deadline stays limit
            if over or (self.stopping.is_set() and not self.raise_on_budget):
                self.stop_reason = self.stop_reason or "max_time"
                self.stop()
                raise _BudgetSpent
            if self.sent >= self.options.max_requests - (0 if last_phase else self.reserved):
                if self.raise_on_budget:
                    raise BudgetExhausted(f"the fuzz request budget ({self.options.max_requests}) is spent")
                self.stop_reason = self.stop_reason or "max_requests"
                self.stop()
                raise _BudgetSpent
            self.sent += 1
        body = getattr(case, "body", None)
        # adaptive generation: leave out of a valid request a field the provider refuses, and any field already in
        # more than half of them (schemathesis' "negative" cases are often valid requests: the generated schema is a
        # bounded subset of the contract, so the judge decides, not the generation mode)
        # a probe is sent as written; a pairwise row already leaves out what the provider refuses
        hand_picked = getattr(case, "probe", None) is not None or last_phase
        if self.options.adaptive and not hand_picked and isinstance(body, dict) and self.request_problem(body) is None:
            with self.lock:
                drop = self.coverage.fields_to_drop(body)
                for key in drop:
                    self.coverage.dropped[key] += 1
            for key in drop:
                del body[key]
        _cap_tokens(case, self.options.max_tokens_cap)

    # -- judging one exchange ------------------------------------------------------------------------------------

    def observe(self, case: Any, response: Any) -> list[tuple[str, str, str]]:
        """Check one response with its request and record its findings.

        Returns the error-severity ``(code, path, message)`` triples: what makes schemathesis count it as failed.
        """
        from ..engine import Report

        request_body = sent_body(response, case)
        if not is_contract_method(str(case.method)):
            # schemathesis' coverage phase probes other methods: not a chat request, so neither the engine nor
            # the other exchange rules judge it; at most CC606 says how the method was refused.
            self._observe_other_method(case, response, request_body)
            return []
        problem = self.request_problem(request_body, str(case.method))
        request_valid = problem is None
        status = int(response.status_code)
        content_type = header(response.headers, "content-type")
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
        rejected = 400 <= status < 500 and request_valid and status not in NOT_ABOUT_THE_BODY
        reason = provider_reason(response.content, 160) if rejected else ""
        culprit: Culprit | None = None
        if request_valid:
            answered = 200 <= status < 300 and not (is_stream and bool(getattr(response, "stream_cut_short", False)))
            with self.lock:
                known = len(self.coverage.culprits)
                culprit = self.coverage.observe(request_body, answered=answered, rejected=rejected, reason=reason)
                if len(self.coverage.culprits) > known:
                    said = culprit.describe() if culprit else ""
                    self.notes.append(
                        f"after {self.coverage.rejected} rejected valid requests: {said}"
                        + ("; later requests mostly leave it out" if self.options.adaptive else "")
                    )
        if rejected:
            exchange.append(
                (
                    "CC603",
                    "$",
                    f"a request inside the {self.options.dialect} request contract was rejected with {status} "
                    f"({reason})" + (f"; {culprit.describe()}" if culprit is not None else ""),
                    reason,  # what the provider said: also what tells one kind of rejection from another
                )
            )
        if str(status) not in self.documented:
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
            # An answer to an invalid request is not held to what that request asked (the request-aware rules, a
            # stream's usage). An error answer never is, so it gets the request whatever its validity: the
            # request only tells which values were the client's own, and a validation error that echoes the
            # client's invalid input (FastAPI's "input") is not the provider's 22-digit integer (CC108).
            # (An invalid body may be a JSON list or text: only an object is a request to read values from.)
            error = status >= 400 and not is_stream and isinstance(request_body, dict)
            judged_with = request_body if request_valid or error else None
            report = check_answer(self.options, response.content, status, content_type, is_stream, judged_with)
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

    def _observe_other_method(self, case: Any, response: Any, request_body: Any) -> None:
        status = int(response.status_code)
        problem = method_problem(str(case.method), status)
        with self.lock:
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            self.negative += 1
            if problem is not None and "CC606" in self.settings.enabled:
                self._record("CC606", [("$", problem, status)], case, response, request_body, False)
            self._maybe_progress()

    def transport_error(self, case: Any, exc: BaseException) -> None:
        """No response: a timeout, a reset or a refused connection (CC604; CC606 for a method outside the contract)."""
        body = case_body(case)
        message = f"no response: {describe_transport_error(exc)}"
        method = str(getattr(case, "method", "POST"))
        code = "CC604" if is_contract_method(method) else "CC606"
        with self.lock:
            self.statuses["none"] = self.statuses.get("none", 0) + 1
            if is_unreachable(exc):
                self.unreachable += 1
            if code == "CC606":
                message = f"{method.upper()} is not a method of the chat contract (POST only); {message}"
            if code in self.settings.enabled:
                valid = code == "CC604" and self.request_problem(body) is None
                self._record(code, [("$", message, None)], case, None, body, valid)
            self._maybe_progress()

    def request_problem(self, body: Any, method: str = "POST") -> str | None:
        """Why ``body`` is not a valid request under this run's dialect and model (``None`` when it is)."""
        return request_problem(body, method, dialect=self.options.dialect, model=self.options.model)

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
            if path not in acc.paths and len(acc.paths) < MAX_PATHS:
                acc.paths.append(path)
        path, message, actual = hits[0]
        key = _kind_key(code, case, response, request_body, request_valid, path, message, actual)
        kind = acc.kinds.get(key)
        if kind is None:
            if len(acc.kinds) >= _MAX_KINDS:
                key = ("other",)
            kind = acc.kinds.setdefault(key, _Kind())
        kind.count += 1
        size = len(dumps(request_body))
        # Keep the smallest request of each kind: hypothesis shrinks a failing request by sending ever smaller
        # variants, so the smallest one seen is the shrunk reproducer.
        if kind.example is None or size < kind.size:
            kind.example = self._example(case, response, request_body, request_valid, path, message, actual)
            kind.size = size

    def _example(
        self, case: Any, response: Any, body: Any, request_valid: bool, path: str, message: str, actual: Any
    ) -> Example:
        method, url, headers = request_line(case, response, self.options.root_url)
        shown_headers = {k: redact(k, v, self.options.api_key_env) for k, v in headers.items()}
        meta = getattr(case, "meta", None)
        phase = str(getattr(getattr(getattr(meta, "phase", None), "name", None), "value", "") or "")
        answer: dict[str, Any] | None = None
        if response is not None:
            text = response.content.decode("utf-8", "replace")
            answer = {
                "status": int(response.status_code),
                "content_type": header(response.headers, "content-type"),
                "body": text
                if len(text) <= MAX_BODY_SHOWN
                else text[:MAX_BODY_SHOWN] + f"...({len(text)} characters)",
            }
        return Example(
            request={"method": method, "url": url, "headers": shown_headers, "body": shorten(body, 4000)},
            curl=curl(method, url, shown_headers, body, raw=raw_body(response)),
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
            # the commonest kind represents the rule; then the other kinds, commoner first (ties: first seen)
            kinds = sorted(acc.kinds.values(), key=lambda k: -k.count)[: self.options.examples_per_rule]
            examples = []
            for kind in kinds:
                if kind.example is not None:
                    kind.example.count = kind.count
                    examples.append(kind.example)
            findings.append(
                Finding(
                    code=code,
                    name=rule.name,
                    severity=severity_of(code),
                    count=acc.count,
                    summary=rule.summary,
                    paths=list(acc.paths),
                    example=examples[0] if examples else None,
                    other_examples=examples[1:],
                )
            )
        opts = self.options
        return FuzzResults(
            provider=opts.provider_name,
            base_url=opts.root_url + "/v1",  # as the requests went: the same form whichever way it was given
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
            coverage=self.run_coverage(),
            notes=list(self.notes),
            errors=list(self.errors),
            chatcontract=__version__,
        )

    def run_coverage(self) -> RunCoverage:
        """What the run measured so far, as the results carry it."""
        data = self.coverage.to_dict(self.options.min_answered)
        return RunCoverage(
            valid=data["valid"],
            answered=data["answered"],
            min_answered=data["min_answered"],
            common_to_rejections=data["common_to_rejections"],
            adapted=data["adapted"],
            features=[FeatureRow(**row) for row in data["features"]],
        )


def _kind_key(
    code: str, case: Any, response: Any, body: Any, request_valid: bool, path: str, message: str, actual: Any
) -> tuple[str, ...]:
    """What triggered one occurrence: method, status, validity, streaming, the response path, the field involved.

    The field is the exchange rules' own: the provider's reason for a rejection (CC603), the first field the request
    contract names for an invalid request answered 2xx (CC601).
    """
    method = str(getattr(case, "method", "POST")).upper()
    status = str(response.status_code) if response is not None else "none"
    stream = "stream" if isinstance(body, dict) and body.get("stream") is True else ""
    trigger = ""
    if code == "CC603" and isinstance(actual, str):  # the provider's reason
        trigger = actual
    elif code == "CC601" and isinstance(message, str):  # "an invalid request (messages: ...) was answered 200"
        found = re.search(r"request \(([^:()]*)", message)
        trigger = found.group(1).strip() if found else ""
    return (method, status, "valid" if request_valid else "invalid", stream, path, trigger)


def _cap_tokens(case: Any, cap: int) -> None:
    """Budget: ``max_tokens`` / ``max_completion_tokens`` never exceed the cap, nor go missing.

    A provider's default can be thousands of tokens. Values of another type are left alone: the provider must
    reject them.
    """
    body = getattr(case, "body", None)
    if not isinstance(body, dict):
        return
    present = False
    for name in TOKEN_FIELDS:
        if name not in body:
            continue
        present = True
        value = body[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > cap:
            body[name] = cap if isinstance(value, int) else float(cap)
    if not present:
        body["max_tokens"] = cap
