"""The reference provider's ASGI app: ``POST /v1/chat/completions`` and ``GET /v1/models`` in one dialect.

Every answer is built as an :class:`~chatcontract.provider.faults.Outgoing` (a JSON document or a list of stream
events), then the selected faults edit it, then it is serialised. The names of the faults that changed an answer
are sent in the ``x-chatcontract-faults`` response header.
"""

from __future__ import annotations

import hmac
import json
import random
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .._exceptions import UsageError
from .completions import REASONING_MODEL, Event, plan, render_response, render_stream
from .errors import ApiError, error, error_body, parse_body, validate_request
from .faults import FaultContext, FaultSpec, Injector, Outgoing, parse_faults

__all__ = ["MODELS", "SEEDED_CREATED", "ProviderState", "create_app"]

#: The model names the reference provider serves; ``ref-reasoner`` always reasons (see ``completions``).
MODELS: tuple[str, ...] = ("ref-small", "ref-large", REASONING_MODEL)
#: ``created`` of every answer when the provider runs with a seed (a fixed, plausible Unix time).
SEEDED_CREATED = 1_700_000_000
FAULT_HEADER = "x-chatcontract-faults"


class ProviderState:
    """Dialect, models, key, seed and faults of one app; builds every answer (no I/O)."""

    def __init__(
        self,
        *,
        dialect: str,
        faults: Sequence[FaultSpec],
        seed: int | None,
        api_key: str | None,
        models: Sequence[str] = MODELS,
    ) -> None:
        if dialect not in ("mistral", "openai"):
            raise UsageError(f"dialect={dialect!r} is not supported; choose mistral or openai.")
        self.dialect = dialect
        self.faults = tuple(faults)
        self.seed = seed
        self.api_key = api_key
        self.models = tuple(models)
        self.injector = Injector(self.faults, seed)

    def _rng(self, key: Any) -> random.Random:
        if self.seed is None:
            return random.Random()
        return random.Random(f"{self.seed}:{json.dumps(key, sort_keys=True, ensure_ascii=False, default=str)}")

    def _authorize(self, headers: Mapping[str, str]) -> None:
        if self.api_key is None:
            return
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
            return
        if self.dialect == "mistral":
            raise error(self.dialect, 401, "Unauthorized", type_="authentication_error")
        if not token.strip():
            raise error(self.dialect, 401, "You didn't provide an API key. Send it as a Bearer token.")
        shown = token.strip()[:3] + "*" * max(0, len(token.strip()) - 7) + token.strip()[-4:]
        raise error(self.dialect, 401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")

    def _finish(
        self, out: Outgoing, request: Mapping[str, Any] | None, rng: random.Random
    ) -> tuple[Outgoing, list[str]]:
        ctx = FaultContext(self.dialect, request, random.Random(rng.random()))
        return out, self.injector.apply(out, ctx)

    def chat(self, headers: Mapping[str, str], raw: bytes) -> tuple[Outgoing, list[str]]:
        """The answer to ``POST /v1/chat/completions`` and the names of the faults applied to it."""
        forced = self.injector.select("any")
        if forced:
            out = Outgoing("error", 500)
            ctx = FaultContext(self.dialect, None, self._rng(["any", raw.decode("utf-8", "replace")]))
            return out, [f.name for f in forced if f.apply(out, ctx)]
        doc: Any = None
        try:
            self._authorize(headers)
            doc = parse_body(self.dialect, raw)
            request = validate_request(self.dialect, doc, self.models)
        except ApiError as exc:
            out = Outgoing("error", exc.status, doc=exc.body)
            return self._finish(out, doc if isinstance(doc, dict) else None, self._rng(["error", exc.body]))
        refusals = self.injector.select("request")
        if refusals:  # faults that refuse a valid request (a field the imitated server does not take)
            out = Outgoing("error", 400)
            ctx = FaultContext(self.dialect, request, self._rng(["request", raw.decode("utf-8", "replace")]))
            applied = [f.name for f in refusals if f.apply(out, ctx)]
            if applied:
                return out, applied
        rng = self._rng({k: v for k, v in request.items() if k not in ("stream", "stream_options")})
        created = SEEDED_CREATED if self.seed is not None else int(time.time())
        completion = plan(request, dialect=self.dialect, rng=rng, created=created)
        if request.get("stream"):
            events = render_stream(completion, rng)
            out = Outgoing("stream", events=events, media_type="text/event-stream", completion=completion)
        else:
            out = Outgoing("response", doc=render_response(completion, rng), completion=completion)
        return self._finish(out, request, rng)

    def models_list(self, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """The answer to ``GET /v1/models``: the dialect's model list shape."""
        try:
            self._authorize(headers)
        except ApiError as exc:
            return exc.status, exc.body
        created = SEEDED_CREATED if self.seed is not None else int(time.time())
        data = []
        for name in self.models:
            card: dict[str, Any] = {"id": name, "object": "model", "created": created, "owned_by": "chatcontract"}
            if self.dialect == "mistral":
                card.update(
                    capabilities={
                        "completion_chat": True,
                        "function_calling": True,
                        "completion_fim": False,
                        "fine_tuning": False,
                        "vision": False,
                        "classification": False,
                        "reasoning": name == REASONING_MODEL,
                    },
                    name=name,
                    description=f"chatcontract reference model {name} (word-list text, no weights)",
                    max_context_length=32768,
                    aliases=[],
                    deprecation=None,
                    default_model_temperature=0.3,
                    type="base",
                )
            data.append(card)
        return 200, {"object": "list", "data": data}


def _sse(event: Event) -> bytes:
    if isinstance(event, str):
        return event.encode()
    return b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def _json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def render(out: Outgoing, applied: Sequence[str]) -> Response:
    """Serialise an answer."""
    headers = {FAULT_HEADER: ",".join(applied)} if applied else {}
    if out.raw is not None:
        return Response(out.raw, status_code=out.status, media_type=out.media_type, headers=headers)
    if out.kind == "stream":
        parts = [_sse(e) for e in out.events]

        async def body() -> AsyncIterator[bytes]:
            for part in parts:
                yield part

        headers["cache-control"] = "no-cache"
        return StreamingResponse(body(), status_code=out.status, media_type="text/event-stream", headers=headers)
    return Response(_json(out.doc), status_code=out.status, media_type=out.media_type, headers=headers)


def create_app(
    *,
    dialect: str = "mistral",
    faults: Iterable[str | tuple[str, float] | FaultSpec] = (),
    seed: int | None = None,
    api_key: str | None = None,
    models: Sequence[str] = MODELS,
) -> Starlette:
    """The reference provider as an ASGI app (use it with uvicorn, or in tests with ``httpx.ASGITransport``).

    Args:
        dialect: ``"mistral"`` or ``"openai"``: the wire format it speaks, exactly per that dialect's contract.
        faults: ``"NAME[:RATE]"`` strings (see ``chatcontract serve --list-faults``), ``(name, rate)`` pairs or
            :class:`~chatcontract.provider.faults.FaultSpec`; unknown names raise :class:`UsageError`.
        seed: Makes answers deterministic: the same request gives the same bytes (``created`` is fixed too), and
            fault rates draw from a sequence seeded with it.
        api_key: When set, requests need ``Authorization: Bearer <api_key>`` (401 otherwise).
        models: The model names served.
    """
    state = ProviderState(
        dialect=dialect, faults=parse_faults(faults, dialect), seed=seed, api_key=api_key, models=models
    )

    async def chat(request: Request) -> Response:
        out, applied = state.chat(request.headers, await request.body())
        return render(out, applied)

    async def list_models(request: Request) -> Response:
        status, doc = state.models_list(request.headers)
        return Response(_json(doc), status_code=status, media_type="application/json")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if state.dialect == "openai":
            body = error_body(state.dialect, f"Invalid URL ({request.method} {request.url.path})")
        else:
            detail = exc.detail if isinstance(exc, HTTPException) else "Internal Server Error"
            body = error_body(state.dialect, str(detail))
        headers = exc.headers if isinstance(exc, HTTPException) else None  # e.g. Allow on a 405
        return Response(_json(body), status_code=status, media_type="application/json", headers=headers)

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
    )
    app.state.provider = state
    return app
