"""The schemathesis side of a fuzz run: one registered check, one ``before_call`` hook and a transport watcher.

The hook enforces the budgets and the token cap; the check and the transport watcher route every answer (or
transport error) to the :class:`~chatcontract.fuzz.session.FuzzRun` of the schema that sent the case.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from .._exceptions import UsageError
from .session import FuzzRun

# ---------------------------------------------------------------------------------------------------------------
# Registration with schemathesis (its check registry is global; runs are told apart by their schema object)
# ---------------------------------------------------------------------------------------------------------------

_RUNS: dict[str, FuzzRun] = {}
#: Key in the generated document naming its run: schemathesis copies schemas (``from_fixture``, per-operation
#: views), so the object's identity is not stable, but every copy keeps the raw document.
RUN_KEY = "x-chatcontract-run"


def _run_of(schema: Any) -> FuzzRun | None:
    raw = getattr(schema, "raw_schema", None)
    token = raw.get(RUN_KEY) if isinstance(raw, dict) else None
    return _RUNS.get(token) if isinstance(token, str) else None


_registered = False
_register_lock = threading.Lock()
_WATCHED = "_chatcontract_watched"  # set on each schemathesis object a patch here was applied to


def register() -> None:
    global _registered
    with _register_lock:
        if _registered:
            # (schemathesis' registries live on; its transport module may have been imported afresh since, as
            # pytester's in-process runs drop the modules a run imported: each patch checks its own object)
            _watch_transport()
            _watch_sessions()
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
        _watch_sessions()
        _registered = True


def deliver(run: FuzzRun, case: Any, send: Callable[[], Any], session: Any) -> Any:
    """Send one request of ``run`` under its deadlines, retry 429s within the budget, record a lost exchange.

    ``send`` sends the request on ``session`` (a requests session, or None) and returns the response; the probes
    and schemathesis' transport both go through here.

    * The whole answer (headers and body, a stream included) must arrive within the request timeout, or within the
      time left of the run when that is shorter: a provider that drips bytes is cut there
      (:class:`~chatcontract.fuzz.deadlines.AnswerDeadline`). At the request timeout, a stream cut so is marked
      ``stream_cut_short`` and judged as such (CC604), any other answer is a lost exchange (CC604); at the end of
      the run's time, it is a run error, not a finding.
    * A ``429`` with ``Retry-After`` is sent again after that wait, a few times, never waiting past the time budget
      (:meth:`~chatcontract.fuzz.session.FuzzRun.retry_wait`); schemathesis' own waiting is off.
    * Exchanges that got no response are recorded (CC604) with their request, then the error is raised.
    """
    from .deadlines import retry_after_seconds
    from .reproduce import header

    attempt = 0
    while True:
        response = _send_once(run, case, send, session)
        if int(response.status_code) != 429:
            return response
        wait = run.retry_wait(retry_after_seconds(header(response.headers, "retry-after")), attempt)
        if wait is None or run.stopping.wait(wait) or not run.take_retry():
            return response
        attempt += 1


def _send_once(run: FuzzRun, case: Any, send: Callable[[], Any], session: Any) -> Any:
    import requests

    from .deadlines import AnswerDeadline, watch_session
    from .reproduce import header

    seconds, is_timeout = run.answer_budget()
    if session is not None:
        watch_session(session)
    # a little after the request timeout, so that a plain stall still ends as requests' own read timeout
    deadline = AnswerDeadline((seconds + 0.25 if is_timeout else seconds) if session is not None else None)
    cut = (
        f"timed out: the answer did not complete within {seconds:g} s"
        if is_timeout
        else f"the run's time budget ran out with the answer still arriving (after {seconds:.1f} s)"
    )
    ended = "the run ended (time budget, rate limit or Ctrl-C) with the answer still arriving"
    with deadline:
        try:
            response = send()
        except (requests.RequestException, TimeoutError, OSError) as exc:
            if run.stopping.is_set() and not deadline.expired:  # cut by the run's end: not the provider's fault
                raise requests.Timeout(ended) from None
            if deadline.expired:
                if is_timeout:
                    run.transport_error(case, TimeoutError(cut))
                raise requests.Timeout(cut) from None
            run.transport_error(case, exc)
            raise
    if run.stopping.is_set() and not deadline.expired:
        # the run's end cut the sockets: this answer may be a truncated one that looks whole
        raise requests.Timeout(ended)
    if deadline.expired:
        if not is_timeout:  # the run's end, not the provider's fault: no finding
            raise requests.Timeout(cut)
        if "text/event-stream" in header(response.headers, "content-type").lower():
            response.stream_cut_short = True  # judged as a stream that did not end (CC604)
            return response
        run.transport_error(case, TimeoutError(cut))
        raise requests.Timeout(cut)
    return response


def _watch_transport() -> None:
    """Route schemathesis' requests of a run through :func:`deliver` (deadlines, 429s, lost exchanges)."""
    from schemathesis.transport.requests import REQUESTS_TRANSPORT

    if getattr(REQUESTS_TRANSPORT, _WATCHED, False):
        return
    send = REQUESTS_TRANSPORT.send

    def watched_send(case: Any, *args: Any, **kwargs: Any) -> Any:
        run = _run_of(case.operation.schema)
        if run is None:
            return send(case, *args, **kwargs)
        return deliver(run, case, lambda: send(case, *args, **kwargs), kwargs.get("session"))

    REQUESTS_TRANSPORT.send = watched_send  # type: ignore[method-assign]
    setattr(REQUESTS_TRANSPORT, _WATCHED, True)


def _watch_sessions() -> None:
    """Every requests session schemathesis makes (its workers' and its probes') reports its connections.

    A run whose time is up can then cut the answers still arriving (:func:`~chatcontract.fuzz.deadlines.cut_all`),
    even a probe's, which does not go through the transport; and the run's end closes them all
    (:func:`~chatcontract.fuzz.deadlines.close_kept`).
    """
    from schemathesis.engine import context

    from .deadlines import keep, watch_session

    if getattr(context, _WATCHED, False):
        return
    make_session = context.make_session

    def watched_make_session(*args: Any, **kwargs: Any) -> Any:
        session = make_session(*args, **kwargs)
        watch_session(session)
        keep(session)  # closed at the run's end (schemathesis never closes its workers' sessions)
        return session

    context.make_session = watched_make_session
    setattr(context, _WATCHED, True)


def attach(schema: Any, run: FuzzRun) -> None:
    """Route ``schema``'s requests and responses to ``run`` (until :func:`detach`)."""
    _RUNS[schema.raw_schema[RUN_KEY]] = run


def detach(schema: Any) -> None:
    _RUNS.pop(schema.raw_schema.get(RUN_KEY, ""), None)


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------
