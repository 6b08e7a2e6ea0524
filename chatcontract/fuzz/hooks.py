"""The schemathesis side of a fuzz run: one registered check, one ``before_call`` hook and a transport watcher.

The hook enforces the budgets and the token cap; the check and the transport watcher route every answer (or
transport error) to the :class:`~chatcontract.fuzz.session.FuzzRun` of the schema that sent the case.
"""

from __future__ import annotations

import sys
import threading
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


def register() -> None:
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


def attach(schema: Any, run: FuzzRun) -> None:
    """Route ``schema``'s requests and responses to ``run`` (until :func:`detach`)."""
    _RUNS[schema.raw_schema[RUN_KEY]] = run


def detach(schema: Any) -> None:
    _RUNS.pop(schema.raw_schema.get(RUN_KEY, ""), None)


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------
