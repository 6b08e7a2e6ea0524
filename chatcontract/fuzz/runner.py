"""``chatcontract fuzz``: schemathesis generates, shrinks and sends requests; chatcontract judges every answer.

The division of labour:

* **schemathesis** loads the OpenAPI document built from the contracts (:func:`~chatcontract.fuzz.build_openapi`),
  generates positive and negative requests (its examples, coverage and fuzzing phases), shrinks failing ones,
  runs workers, rate-limits, honours ``429 Retry-After`` (its ``auto`` rate-limit mode) and reports transport errors;
* **chatcontract** sends its own ``probes`` first (:mod:`~chatcontract.fuzz.probes`: hand-picked semantic
  requests schemathesis never generates), registers one schemathesis check that puts every response through the
  full engine with its request (``check()``; streams through the incremental :class:`~chatcontract.StreamChecker`),
  decides with the *request contract* whether the request was valid (schemathesis' own positive/negative label is
  a generation intent, and JSON Schema's ``integer`` accepts ``1.0`` where the contracts do not), and adds the
  exchange-level findings (CC6xx): an invalid request answered 2xx, a 5xx, a valid request rejected, no response
  at all; a method the contract does not define is no chat request (at most CC606).

Budgets keep a paid API cheap: every request leaves with ``max_tokens`` (and OpenAI's ``max_completion_tokens``)
at most the cap (but the probes of a negative or zero ``max_tokens``), even a negative one whose generator drew a
huge number; a hard request budget and a time budget stop the run; Ctrl-C stops it too, and the findings so far
are kept.

A run is a measurement, and says how much it measured: a preflight (:mod:`~chatcontract.fuzz.preflight`) stops a
run whose plain request is refused before any fuzzing, and the results carry the coverage of the valid requests
(:mod:`~chatcontract.fuzz.coverage`); adaptive generation leaves out of later requests a field the provider refuses.
"""

from __future__ import annotations

import datetime as _dt
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .._exceptions import ProviderError
from ..report.results import STOP_REASONS, FuzzResults
from .hooks import RUN_KEY, attach, detach, register
from .openapi import build_openapi
from .options import CHECK_NAME, MAX_STREAM_EVENTS, SCHEMATHESIS_PHASES, FuzzOptions
from .probes import send_probes
from .session import BudgetExhausted, FuzzRun

__all__ = ["BudgetExhausted", "FuzzOptions", "prepare", "run_fuzz"]


# ---------------------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------------------


def prepare(options: FuzzOptions, progress: Callable[[FuzzRun], None] | None = None) -> tuple[Any, FuzzRun]:
    """The schemathesis schema of a fuzz run, with chatcontract's check enabled, and its (unregistered) run state."""
    options.validate()
    if options.seed is None:  # pick the seed here, so that the results say how to reproduce the run
        options = replace(options, seed=random.SystemRandom().randrange(2**31))
    register()
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


def run_fuzz(options: FuzzOptions, *, progress: Callable[[FuzzRun], None] | None = None) -> FuzzResults:
    """Fuzz ``options.base_url`` and return what was found (also when interrupted by Ctrl-C).

    Raises:
        UsageError: bad options.
        ProviderError: the provider cannot be reached at all (nothing was answered).
    """
    from schemathesis.engine import events, from_schema

    options.validate()  # before the preflight sends anything
    notes: list[str] = []
    preflight_requests = 0
    if options.preflight:
        from .preflight import preflight

        checked = preflight(options)
        notes = [f"preflight: {note}" for note in checked.notes]
        preflight_requests = checked.requests
    schema, run = prepare(options, progress)
    run.notes.extend(notes)
    run.sent = preflight_requests  # the preflight's requests count toward the request budget
    attach(schema, run)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = run.started = time.monotonic()
    engine_stop = "completed"
    if "probes" in options.phases:
        try:
            send_probes(run)
        except KeyboardInterrupt:
            run.stop_reason = run.stop_reason or "interrupted"
    st_phases = run.stop_reason is None and any(p in SCHEMATHESIS_PHASES for p in options.phases)
    stream = from_schema(schema).execute() if st_phases else iter(())
    run.stop = getattr(stream, "stop", run.stop)
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
        run.stop()
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
