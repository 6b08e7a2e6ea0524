"""The preflight of a fuzz run: is the model listed, and is one plain valid request answered.

Before any fuzzing, ``GET {base_url}/models`` (when the provider has it; the notes say when it does not) warns when
the model under test is not listed, naming the ones that are; then one plain valid request (one user message, a
small ``max_tokens``) must be answered 2xx. When it is not, fuzzing would measure nothing: :func:`preflight` raises
:class:`PreflightFailed` (exit 2) with the provider's own words, e.g. ``model 'm' rejected: Invalid model: m; the
provider lists ref-small, ref-large``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ProviderError
from .options import FuzzOptions

__all__ = ["Preflight", "PreflightFailed", "plain_request", "preflight", "provider_reason"]


class PreflightFailed(ProviderError):
    """A plain valid request was not answered 2xx: the run would measure nothing."""


class PreflightRateLimited(ProviderError):
    """The plain request was answered 429 with a ``Retry-After`` past what the run may wait: nothing can be tested."""


@dataclass(slots=True)
class Preflight:
    """What the preflight learnt: the listed models (None: no model list), notes, and the requests it sent."""

    models: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    #: Requests sent (they count toward ``--max-requests``).
    requests: int = 0


def plain_request(options: FuzzOptions) -> dict[str, Any]:
    """The plainest valid request of the run's dialect: one user message and a small token budget."""
    return {
        "model": options.model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": min(options.max_tokens_cap, 8),
    }


def provider_reason(content: bytes, limit: int = 300) -> str:
    """The provider's own words from an error body (``error.message``, ``message``, ``detail``), or the text."""
    try:
        doc = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", "replace").strip()
        return " ".join(text.split())[:limit] or "(empty body)"
    reason: Any = None
    if isinstance(doc, dict):
        error = doc.get("error")
        if isinstance(error, dict):
            reason = error.get("message")
        elif isinstance(error, str):
            reason = error
        if reason is None:
            reason = doc.get("message")
        detail = doc.get("detail")
        if reason is None and isinstance(detail, list) and detail and isinstance(detail[0], dict):
            first = detail[0]
            where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
            reason = f"{where}: {first.get('msg', '')}".strip(": ")
        elif reason is None and isinstance(detail, str):
            reason = detail
    text = reason if isinstance(reason, str) else json.dumps(doc, ensure_ascii=False)
    return " ".join(text.split())[:limit]


def _headers(options: FuzzOptions) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if options.api_key:
        headers["Authorization"] = f"Bearer {options.api_key}"
    return headers


def _model_ids(doc: Any) -> list[str] | None:
    items = doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        return None
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    return [i for i in ids if isinstance(i, str)]


def preflight(
    options: FuzzOptions, result: Preflight | None = None, *, time_left: Callable[[], float | None] | None = None
) -> Preflight:
    """List the models, then send one plain request; raise :class:`PreflightFailed` when it is not answered 2xx.

    Each answer must be complete within ``--timeout`` (and the run's time left, from ``time_left``), however slowly
    it arrives; a 429 whose ``Retry-After`` asks for more than the time left ends the run before it starts.

    Raises:
        ProviderError: nobody answers at the base URL.
        PreflightFailed: the plain request was refused (the message quotes the provider) or got no answer.
        PreflightRateLimited: the plain request was rate-limited past the time the run may wait.
    """
    import httpx

    base = options.root_url + "/v1"  # where the fuzzed requests go (a base URL without /v1 gets it)
    result = Preflight() if result is None else result  # filled as it goes: the caller sees it also on a raise

    def budget() -> float:
        left = time_left() if time_left is not None else None
        return options.timeout if left is None else max(0.0, min(options.timeout, left))

    with httpx.Client(timeout=options.timeout, headers=_headers(options)) as client:
        listed: _Answer | None = None
        try:
            result.requests += 1
            listed = _fetch(client, "GET", base + "/models", None, budget())
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            raise ProviderError(f"cannot reach {options.base_url}: {exc or type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            result.notes.append(
                f"GET /v1/models got no answer ({exc or type(exc).__name__}): the model name was not checked"
            )
        if listed is None:
            pass
        elif listed.status_code in (404, 405):
            result.notes.append(
                f"the provider has no GET /v1/models ({listed.status_code}): the model name was not checked"
            )
        elif not 200 <= listed.status_code < 300:
            result.notes.append(
                f"GET /v1/models answered {listed.status_code} ({provider_reason(listed.content)}): "
                "the model name was not checked"
            )
        else:
            try:
                result.models = _model_ids(json.loads(listed.content))
            except ValueError:
                result.models = None
            if result.models is None:
                result.notes.append("GET /v1/models did not answer a model list: the model name was not checked")
            elif options.model not in result.models:
                result.notes.append(
                    f"model {options.model!r} is not among the models the provider lists "
                    f"({', '.join(result.models) or 'none'})"
                )
        seconds = budget()
        try:
            result.requests += 1
            answer = _fetch(client, "POST", base + "/chat/completions", plain_request(options), seconds)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ProviderError(f"cannot reach {options.base_url}: {exc or type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise PreflightFailed(
                f"a plain request for model {options.model!r} got no complete answer within {seconds:g} s: "
                f"{exc or type(exc).__name__}"
            ) from None
    if 200 <= answer.status_code < 300:
        return result
    if answer.status_code == 429:  # rate-limited, which says nothing about the request: the run paces itself
        from .deadlines import retry_after_seconds
        from .options import MAX_RATE_LIMIT_WAIT

        wait = retry_after_seconds(answer.headers.get("retry-after"))
        left = time_left() if time_left is not None else None
        limit = MAX_RATE_LIMIT_WAIT if left is None else min(MAX_RATE_LIMIT_WAIT, left - 1.0)
        if wait is not None and wait > limit:
            raise PreflightRateLimited(
                f"rate limited: the plain request was answered 429 with Retry-After {wait:g} s, past the "
                f"{max(0.0, limit):.1f} s the run may wait; nothing can be tested now"
            )
        result.notes.append(f"the plain request was rate-limited (429: {provider_reason(answer.content)})")
        return result
    reason = provider_reason(answer.content)
    if result.models is not None and options.model not in result.models:
        listed_text = ", ".join(result.models) or "no model"
        raise PreflightFailed(f"model {options.model!r} rejected: {reason}; the provider lists {listed_text}")
    raise PreflightFailed(
        f"a plain request for model {options.model!r} was answered {answer.status_code}: {reason}; "
        "nothing would be measured, so the run stops here"
    )


@dataclass(slots=True)
class _Answer:
    status_code: int
    headers: Any
    content: bytes


def _fetch(client: Any, method: str, url: str, body: Any, seconds: float) -> _Answer:
    """One request whose whole answer (headers and body) must arrive within ``seconds``, however slowly it drips."""
    import httpx

    deadline = time.monotonic() + seconds
    timeout = httpx.Timeout(max(0.05, seconds))
    with client.stream(method, url, json=body, timeout=timeout) as response:
        parts = []
        for part in response.iter_bytes():
            parts.append(part)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout(f"the answer was not complete within {seconds:g} s")
        return _Answer(response.status_code, response.headers, b"".join(parts))
