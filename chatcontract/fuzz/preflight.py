"""The preflight of a fuzz run: is the model listed, and is one plain valid request answered.

Before any fuzzing, ``GET {base_url}/models`` (when the provider has it; the notes say when it does not) warns when
the model under test is not listed, naming the ones that are; then one plain valid request (one user message, a
small ``max_tokens``) must be answered 2xx. When it is not, fuzzing would measure nothing: :func:`preflight` raises
:class:`PreflightFailed` (exit 2) with the provider's own words, e.g. ``model 'm' rejected: Invalid model: m; the
provider lists ref-small, ref-large``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ProviderError
from .options import FuzzOptions

__all__ = ["Preflight", "PreflightFailed", "plain_request", "preflight", "provider_reason"]


class PreflightFailed(ProviderError):
    """A plain valid request was not answered 2xx: the run would measure nothing."""


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


def preflight(options: FuzzOptions) -> Preflight:
    """List the models, then send one plain request; raise :class:`PreflightFailed` when it is not answered 2xx.

    Raises:
        ProviderError: nobody answers at the base URL.
        PreflightFailed: the plain request was refused (the message quotes the provider) or got no answer.
    """
    import httpx

    base = options.root_url + "/v1"  # where the fuzzed requests go (a base URL without /v1 gets it)
    result = Preflight()
    with httpx.Client(timeout=options.timeout, headers=_headers(options)) as client:
        listed: httpx.Response | None = None
        try:
            result.requests += 1
            listed = client.get(base + "/models")
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
        elif not listed.is_success:
            result.notes.append(
                f"GET /v1/models answered {listed.status_code} ({provider_reason(listed.content)}): "
                "the model name was not checked"
            )
        else:
            try:
                result.models = _model_ids(listed.json())
            except ValueError:
                result.models = None
            if result.models is None:
                result.notes.append("GET /v1/models did not answer a model list: the model name was not checked")
            elif options.model not in result.models:
                result.notes.append(
                    f"model {options.model!r} is not among the models the provider lists "
                    f"({', '.join(result.models) or 'none'})"
                )
        try:
            result.requests += 1
            answer = client.post(base + "/chat/completions", json=plain_request(options))
        except httpx.HTTPError as exc:
            raise PreflightFailed(
                f"a plain request for model {options.model!r} got no answer: {exc or type(exc).__name__}"
            ) from None
    if answer.is_success:
        return result
    if answer.status_code == 429:  # rate-limited, which says nothing about the request: the run paces itself
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
