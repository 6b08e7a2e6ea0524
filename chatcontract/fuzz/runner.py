"""``chatcontract fuzz``: schemathesis generates, shrinks and sends requests; chatcontract judges every answer.

The division of labour:

* **schemathesis** loads the OpenAPI document built from the contracts (:func:`~chatcontract.fuzz.build_openapi`),
  generates positive and negative requests (its examples, coverage and fuzzing phases), shrinks failing ones,
  runs workers, rate-limits and reports transport errors;
* **chatcontract** sends its own ``probes`` first (:mod:`~chatcontract.fuzz.probes`: hand-picked semantic
  requests schemathesis never generates) and its ``pairwise`` phase last (:mod:`~chatcontract.fuzz.pairwise`:
  valid requests in which every pair of request features meets, so that each feature is tested), registers one
  schemathesis check that puts every response through the full engine with its request (``check()``; streams
  through the incremental :class:`~chatcontract.StreamChecker`), decides with the *request contract* whether the
  request was valid (schemathesis' own positive/negative label is a generation intent, and JSON Schema's
  ``integer`` accepts ``1.0`` where the contracts do not), and adds the exchange-level findings (CC6xx): an invalid
  request answered 2xx, a 5xx, a valid request rejected, no response at all; a method the contract does not define
  is no chat request (at most CC606).

Budgets keep a paid API cheap: every request leaves with ``max_tokens`` (and OpenAI's ``max_completion_tokens``)
at most the cap (but the probes of a negative or zero ``max_tokens``), even a negative one whose generator drew a
huge number; a hard request budget and a time budget stop the run (the time budget is a hard wall: answers in
flight are cut there, and ``429 Retry-After`` is never waited out past it); Ctrl-C stops it too, and the findings
so far are kept.

A run is a measurement, and says how much it measured: a preflight (:mod:`~chatcontract.fuzz.preflight`) stops a
run whose plain request is refused before any fuzzing, and the results carry the coverage of the valid requests
(:mod:`~chatcontract.fuzz.coverage`); adaptive generation leaves out of later requests a field the provider refuses.
"""

from __future__ import annotations

import datetime as _dt
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .._exceptions import ProviderError
from ..report.results import STOP_REASONS, FuzzResults
from . import deadlines
from .hooks import RUN_KEY, attach, detach, register
from .openapi import build_openapi
from .options import CHECK_NAME, MAX_STREAM_EVENTS, SCHEMATHESIS_PHASES, FuzzOptions
from .pairwise import FACTOR_NAMES, reserve, send_pairwise
from .pairwise import SHARE as PAIRWISE_SHARE
from .probes import send_probes
from .session import BudgetExhausted, FuzzRun

__all__ = ["BudgetExhausted", "FuzzOptions", "ProviderUnreachable", "prepare", "run_fuzz"]


# ---------------------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------------------


def prepare(options: FuzzOptions, progress: Callable[[FuzzRun], None] | None = None) -> tuple[Any, FuzzRun]:
    """The schemathesis schema of a fuzz run, with chatcontract's check enabled, and its (unregistered) run state."""
    options.validate()
    if options.seed is None:  # pick the seed here, so that the results say how to reproduce the run
        options = replace(options, seed=random.SystemRandom().randrange(2**31))
    register()
    deadlines.reset()  # sockets opened from now on belong to this run (an earlier run may have cut its own)
    import schemathesis

    run = FuzzRun(options, progress)
    doc = build_openapi(options.dialect, max_tokens_cap=options.max_tokens_cap, model=options.model)
    if not options.api_key:
        doc.pop("security", None)  # no key: no Authorization header at all (not a random one)
    doc[RUN_KEY] = uuid.uuid4().hex
    schema = schemathesis.openapi.from_dict(doc, config=schemathesis.Config.from_dict(_st_config(options)))
    if options.rate_limit is not None:
        schema.config.update(rate_limit=options.rate_limit)
    return schema, run


class NothingTested(ProviderError):
    """The run could not test the provider; it carries the run's results all the same (reports are written)."""

    def __init__(self, message: str, results: FuzzResults) -> None:
        super().__init__(message)
        self.results = results


class ProviderUnreachable(NothingTested):
    """No request got a response: nobody listens at the base URL."""


class PreflightRefused(NothingTested):
    """The preflight's plain valid request was refused, or rate-limited past the time budget: nothing to measure."""


def run_fuzz(options: FuzzOptions, *, progress: Callable[[FuzzRun], None] | None = None) -> FuzzResults:
    """Fuzz ``options.base_url`` and return what was found (also when interrupted by Ctrl-C).

    First the preflight (``GET /v1/models`` and one plain request; its requests count toward the request budget),
    then the probes, schemathesis' phases and the pairwise phase on a daemon thread. ``options.max_time`` is a hard
    wall: at the deadline the run stops the engine, cuts the answers in flight and waits at most :data:`STOP_GRACE`
    seconds more for it to wind down before returning what it found.

    Raises:
        UsageError: bad options.
        ProviderUnreachable: the provider cannot be reached at all (nothing was answered); it carries the results.
        PreflightRefused: the preflight's plain request was refused; it carries the results.
    """
    options.validate()  # before the preflight sends anything
    schema, run = prepare(options, progress)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = run.started = time.monotonic()  # the preflight spends the time budget too
    if options.preflight:
        from .preflight import Preflight, PreflightFailed, PreflightRateLimited, preflight

        checked = Preflight()
        try:
            preflight(options, checked, time_left=run.remaining)
        except ProviderError as exc:
            stop = (
                "preflight_refused" if isinstance(exc, PreflightFailed)
                else "rate_limited" if isinstance(exc, PreflightRateLimited)
                else "unreachable"
            )
            run.errors.append(f"preflight: {exc}")
            results = run.results(started=started, duration=time.monotonic() - t0, stop_reason=stop)
            kind = ProviderUnreachable if stop == "unreachable" else PreflightRefused
            raise kind(str(exc), results) from None
        run.notes.extend(f"preflight: {note}" for note in checked.notes)
        # Its requests (GET /v1/models, one plain request) are not judged, but they count toward --max-requests.
        run.options = replace(run.options, max_requests=max(0, options.max_requests - checked.requests))
    attach(schema, run)
    engine = _Engine(schema, run)
    try:
        engine.start()
        if options.max_time is None:
            engine.wait(None)
        elif not engine.wait(options.max_time):
            run.expire("max_time")
        if not engine.wait(STOP_GRACE if run.stopping.is_set() else None):
            run.errors.append(
                f"the run did not stop within {STOP_GRACE:g} s of its end; "
                "the requests it still had in flight were abandoned"
            )
    except KeyboardInterrupt:
        run.expire("interrupted")
        try:
            engine.wait(STOP_GRACE)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting at once
            pass
    finally:
        detach(schema)
    with run.lock:
        stop_reason = run.stop_reason or (engine.stop_reason if engine.stop_reason in STOP_REASONS else "completed")
        if run.rate_limited and not _answered(run.statuses):
            # Every answer was a 429: whatever ended the run, nothing was tested.
            stop_reason = "rate_limited"
            run.errors.append(
                f"every answer was 429 Too Many Requests ({run.rate_limited} of them): "
                "the provider was not tested; try again later or with --rate-limit"
            )
        results = run.results(started=started, duration=time.monotonic() - t0, stop_reason=stop_reason)
    if run.unreachable and results.statuses == {"none": run.unreachable}:  # every request refused: nobody there
        message = (
            f"cannot reach {options.base_url}: no request got a response "
            f"({results.findings[0].example.message if results.findings and results.findings[0].example else ''})"
        )
        results.stop_reason = "unreachable"
        results.errors.append(message)
        raise ProviderUnreachable(message, results)
    return results


#: Seconds a run waits for schemathesis to wind down once it was told to stop (time budget, Ctrl-C).
STOP_GRACE = 3.0


class _Engine:
    """The run's requests (probes, schemathesis' phases, pairwise) on a daemon thread: the caller can stop waiting."""

    def __init__(self, schema: Any, run: FuzzRun) -> None:
        self.run = run
        self.schema = schema
        self.stream: Any = None
        self.stop_reason = "completed"
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._consume, name="chatcontract-fuzz", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait(self, seconds: float | None) -> bool:
        """Wait for the engine to finish, at most ``seconds`` (``None``: for good); True when it did."""
        end = None if seconds is None else time.monotonic() + seconds
        while True:  # short waits: Ctrl-C reaches the main thread between them
            step = 0.2 if end is None else min(0.2, end - time.monotonic())
            if step <= 0:
                return self.done.is_set()
            if self.done.wait(step):
                return True

    def _consume(self) -> None:
        run = self.run
        phases = run.options.phases
        try:
            if "pairwise" in phases and any(p != "pairwise" for p in phases):
                # the phases before it leave the pairwise phase its share of the request and time budgets
                run.reserved = reserve(run)
                if run.options.max_time is not None:
                    run.phase_deadline = run.options.max_time * (1 - PAIRWISE_SHARE)
            if "probes" in phases:
                send_probes(run)  # chatcontract's own hand-picked requests first
            if run.stop_reason is None and not run.stopping.is_set() and any(p in SCHEMATHESIS_PHASES for p in phases):
                self._schemathesis()
            if "pairwise" in phases and not run.stopping.is_set():
                planned, sent = send_pairwise(run)  # then every pair of request features, in valid requests
                with run.lock:
                    run.notes.append(
                        f"pairwise: {sent} of {planned} valid requests sent, covering every pair of levels of "
                        f"{len(FACTOR_NAMES[run.options.dialect])} request features"
                        + ("" if sent == planned else " (the rest did not fit the budget)")
                    )
        except BaseException as exc:  # noqa: BLE001  (a budget stop raised in a hook, or a bug)
            if not isinstance(exc, KeyboardInterrupt):
                with run.lock:
                    run.errors.append(f"the run failed: {type(exc).__name__}: {exc}")
        finally:
            deadlines.close_kept()  # schemathesis' sessions: their pooled sockets close now, not whenever collected
            self.done.set()

    def _schemathesis(self) -> None:
        """Run schemathesis' phases; a budget stop or an error of its own ends them, not the run."""
        from schemathesis.engine import events, from_schema

        run = self.run
        try:
            self.stream = from_schema(self.schema).execute()
            run.stop = self.stream.stop
            if run.stopping.is_set():  # told to stop while the engine was being built
                self.stream.stop()
            for event in self.stream:
                if isinstance(event, events.NonFatalError):
                    message = _non_fatal_message(event)
                    with run.lock:
                        run.errors.append(message)
                elif isinstance(event, events.FatalError):
                    with run.lock:
                        run.errors.append(f"schemathesis failed: {event.exception}")
                elif isinstance(event, events.EngineFinished):
                    self.stop_reason = str(getattr(event.stop_reason, "value", event.stop_reason))
        except Exception as exc:  # noqa: BLE001  (a schemathesis bug)
            with run.lock:
                run.errors.append(f"schemathesis failed: {type(exc).__name__}: {exc}")
        except KeyboardInterrupt:  # a budget stop raised in a hook
            pass
        finally:
            run.stop = lambda: None  # a later phase's budget stop has no engine to stop


def _answered(statuses: dict[str, int]) -> int:
    """Answers that tested something: any status but 429, and not a lost exchange."""
    return sum(n for status, n in statuses.items() if status not in ("429", "none"))


def _st_config(options: FuzzOptions) -> dict[str, Any]:
    checks: dict[str, Any] = {"enabled": False, "not_a_server_error": {"enabled": not options.contract_checks}}
    if options.contract_checks:
        checks[CHECK_NAME] = {"enabled": True}
    headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
    phases = {name: {"enabled": name in options.phases} for name in (*SCHEMATHESIS_PHASES, "stateful")}
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
        "output": {"sanitization": {"enabled": False}},
        # nothing written to the user's working directory (schemathesis' own cache and example database)
        "cache": {"enabled": False},
    }
    if options.rate_limit is not None:
        # without one, no "auto" mode: 429 Retry-After is waited out by chatcontract's transport within the time
        # budget (schemathesis' own wait sleeps up to a minute per answer, past any budget)
        project["rate-limit"] = options.rate_limit
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
