"""Judging one exchange: is the request inside the contract, and what the engine says of the answer.

The request's validity comes from the strict request contract, the model under test and what the contract cannot
express (the reference provider's own request validation); the answer goes through ``check()`` or, for a stream,
the incremental :class:`~chatcontract.streams.StreamChecker`.
"""

from __future__ import annotations

from typing import Any

from ..violations import shorten
from .options import FuzzOptions


class Answer:
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
            # every problem, not the first: a body missing both model and messages is missing both
            reasons = []
            for item in body["detail"][:5]:
                if isinstance(item, dict):
                    where = ".".join(str(p) for p in item.get("loc", ())[1:])
                    reasons.append(f"{where}: {item.get('msg', '')}".strip(": "))
            if reasons:
                return "; ".join(reasons)[:200]
        error = body.get("error")
        inner: dict[str, Any] = error if isinstance(error, dict) else body
        if isinstance(inner.get("message"), str):
            return str(inner["message"])[:200]
    return str(exc)[:200]


def severity_of(code: str) -> str:
    from ..rules import RULES

    return str(RULES[code].severity.value)


#: The one method the contract defines on ``/v1/chat/completions``.
CONTRACT_METHOD = "POST"
#: What an answer to a method the contract does not define may be (CC606): refused as a method (405, 501),
#: by a router that matches method and path (404, 400), or refused before routing (401, 403, 429).
METHOD_REFUSALS = frozenset({400, 401, 403, 404, 405, 429, 501})


def is_contract_method(method: str) -> bool:
    """Whether ``method`` is the one the contract defines: anything else is not a chat request at all."""
    return method.upper() == CONTRACT_METHOD


def method_problem(method: str, status: int) -> str | None:
    """CC606: why ``status`` is no answer to ``method``, a method the contract does not define (``None``: fine).

    ``OPTIONS`` may also succeed (a CORS preflight); every other method must be refused.
    """
    method = method.upper()
    if status in METHOD_REFUSALS or (method == "OPTIONS" and 200 <= status < 300):
        return None
    accepted = "405 (or 501, 404, 400; 401, 403, 429 before routing)"
    if method == "OPTIONS":
        accepted += ", or a 2xx preflight"
    return f"{method} is not a method of the chat contract (POST only); it was answered {status}, expected {accepted}"


def request_problem(body: Any, method: str = "POST", *, dialect: str, model: str) -> str | None:
    """Why ``body`` is not a valid request (``None`` when it is): the contract plus what it cannot express.

    Beyond the schema: the model must be the one under test (any other name is an unknown model, which the
    APIs refuse), a named ``tool_choice`` must name one of the ``tools``, and so on -- the reference
    provider's own request validation, which mirrors the APIs.
    """
    from ..provider.errors import ApiError, validate_request

    if not is_contract_method(method):
        return f"method {method.upper()} instead of {CONTRACT_METHOD}"
    if not isinstance(body, dict):
        return f"the body is {type(body).__name__ if body is not None else 'missing'}, not a JSON object"
    sent = body.get("model")
    # the contract first: a body without messages (and without a model) is "messages: Field required", not a
    # wrong model; the sent model is let through here so that the checks after it run too
    try:
        validate_request(dialect, body, (model, sent) if isinstance(sent, str) else (model,))
    except ApiError as exc:
        return _api_error_reason(exc)
    except Exception as exc:  # a recursion error on a hostile body
        return f"the body cannot be validated ({type(exc).__name__})"
    if sent != model:
        return f"model {shorten(sent, 40)!r} is not the model under test ({model!r})"
    return None


def check_answer(
    opts: FuzzOptions, content: bytes, status: int, content_type: str, is_stream: bool, request: Any
) -> Any:
    """The engine's report on one answer (a stream fed to the StreamChecker as it came off the wire)."""
    from ..engine import check
    from ..streams import StreamChecker

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
        Answer(status, content_type, content),
        dialect=opts.dialect,
        status=status,
        stream=False if not is_stream else None,
        request=request,
        provider=opts.provider,
        select=opts.select,
        ignore=opts.ignore,
        extensions=opts.extensions,
    )


def is_unreachable(exc: BaseException) -> bool:
    """Connection refused, host unknown, connect timeout: nobody answers at that address at all."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        marker in text for marker in ("NewConnectionError", "Connection refused", "NameResolutionError", "Errno 111")
    )


def describe_transport_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
