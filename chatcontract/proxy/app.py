"""The proxy's ASGI app: forward every request through one shared httpx transport, check chat exchanges on the way.

Any method and path is forwarded to the upstream's origin with the same path and query (the proxy mirrors the
upstream's URL space), headers and body as received, and the answer comes back the same way. Only
``POST .../chat/completions`` is judged: a JSON answer is read whole, checked by :func:`~chatcontract.check` with
its request, then sent; a stream (``text/event-stream``) is sent on chunk by chunk as it arrives and fed to a
:class:`~chatcontract.StreamChecker` on the way, judged when it ends. Chat requests ask the upstream for an
uncompressed answer (``Accept-Encoding: identity``), so the bytes checked are the bytes the client gets; every
other exchange passes through byte for byte, compressed or not, and is counted as unchecked.

With ``enforce``, a 2xx answer with error-severity violations does not reach the client as is: a JSON answer
becomes a 502 in the dialect's error envelope naming the violations; a stream is sent on event by event until an
event breaks the contract (or until its end, where the ``[DONE]`` sentinel is held back until the whole-stream
checks have run), and then ends with one SSE event carrying the dialect's error envelope and no ``[DONE]``: the
SDKs raise on it (openai's on a data event with an ``error`` key, mistralai's because it is not a chunk).

No answer from the upstream (refused, reset, timed out) is a 502 (a 504 for a timeout) in the dialect's error
envelope and a CC604 finding; a stream the upstream cuts after its headers ends with the same error event. A client
that goes away mid-stream closes the upstream request and is noted, not judged.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..violations import Severity, Violation
from .recording import Recorder
from .session import Exchange, ProxySession, _RequestView, _ResponseView, response_id

__all__ = ["CHAT_PATH", "create_app", "error_envelope"]

#: Requests judged as chat-completion exchanges (with method POST); the plugin's cassette pattern.
CHAT_PATH = re.compile(r"/chat/completions/?$")
#: Hop-by-hop headers (RFC 9110 section 7.6.1) and what httpx/uvicorn set for each leg themselves.
_REQUEST_DROPPED = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}
)
_RESPONSE_DROPPED = frozenset(
    {"connection", "keep-alive", "proxy-connection", "trailer", "transfer-encoding", "upgrade"}
)
_DONE = re.compile(rb"(?:^|\n)data: ?\[DONE\][ \t]*\r?\n")
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


def error_envelope(dialect: str, message: str, *, type_: str, code: str) -> dict[str, Any]:
    """The dialect's error body (Mistral's flat ``{"object": "error", ...}``, OpenAI's ``{"error": {...}}``)."""
    from ..provider.errors import error_body

    return error_body(dialect, message, type_=type_, code=code)


class _Proxy:
    """The forwarding endpoint: an ASGI app for every method and path."""

    def __init__(self, session: ProxySession, recorder: Recorder | None) -> None:
        self.session = session
        self.options = session.options
        self.recorder = recorder
        self.transport: httpx.AsyncHTTPTransport | None = None
        timeout = httpx.Timeout(self.options.timeout, connect=min(self.options.timeout, 10.0))
        self.timeout = timeout.as_dict()

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # httpx's transport, not an AsyncClient around it: a client keeps a cookie jar (one client's Set-Cookie
        # would go out with the next client's requests), follows no redirects we want and adds per-request work.
        if self.options.checks:
            _warm_up(self.options.dialect)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
        async with httpx.AsyncHTTPTransport(limits=limits, retries=0) as transport:
            self.transport = transport
            yield
        self.transport = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        exchange = self.session.begin(request.method, scope["path"])
        exchange.checked = request.method == "POST" and CHAT_PATH.search(scope["path"]) is not None
        try:
            response, stream = await self._forward(request, exchange)
        except ClientDisconnect:  # gone before its request body arrived
            self.session.answered(exchange, None)
            self.session.note(f"#{exchange.number} {request.method} {exchange.path}: the client left mid-request")
            return
        except Exception as exc:  # a bug of ours must cost one request, never the proxy or a traceback
            self.session.answered(exchange, None)
            self.session.note(f"#{exchange.number} {request.method} {exchange.path}: internal error: {_describe(exc)}")
            message = f"chatcontract proxy: internal error: {_describe(exc)}"
            body = json.dumps(error_envelope(self.options.dialect, message, type_="proxy_error", code="proxy_error"))
            response, stream = Response(body.encode(), status_code=502, media_type="application/json"), None
        try:
            await response(scope, receive, send)
        except OSError:  # the client went away while a JSON answer was sent: nothing left to do
            pass
        finally:
            if stream is not None:
                with anyio.CancelScope(shield=True):
                    await stream.aclose()

    # -- the request leg -------------------------------------------------------------------------------------
    async def _forward(self, request: Request, exchange: Exchange) -> tuple[Response, Any]:
        assert self.transport is not None, "the proxy app runs inside its lifespan"
        raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
        query = request.scope.get("query_string", b"")
        url = self.options.origin + raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in request.scope["headers"]
            if k.decode("latin-1").lower() not in _REQUEST_DROPPED
        ]
        whole_body = exchange.checked or self.recorder is not None
        has_body = any(
            k.lower() in ("content-length", "transfer-encoding") for k, _ in _lower(request.scope["headers"])
        )
        content: Any = None
        body = b""
        if whole_body:
            body = await request.body()
            content = body
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        elif has_body:
            content = request.stream()
        if exchange.checked:  # the bytes checked must be the bytes the client gets
            headers = [(k, v) for k, v in headers if k.lower() != "accept-encoding"] + [("accept-encoding", "identity")]
        view = _RequestView(request.method, url, headers, body, _parse(body) if exchange.checked else None)
        upstream_request = httpx.Request(
            request.method, url, headers=headers, content=content, extensions={"timeout": self.timeout}
        )
        try:
            upstream = await self.transport.handle_async_request(upstream_request)
        except (httpx.HTTPError, OSError) as exc:
            return self._failure(exchange, view, exc), None
        if exchange.checked:
            return await self._chat(exchange, view, upstream)
        iterator = self._passthrough(exchange, view, upstream)
        return _streaming(iterator, upstream.status_code, _response_headers(upstream, keep_length=True)), iterator

    def _failure(self, exchange: Exchange, view: _RequestView, exc: BaseException) -> Response:
        """No answer: 504 for a timeout, 502 otherwise, in the dialect's envelope; a CC604 finding."""
        timeout = isinstance(exc, httpx.TimeoutException)
        status = 504 if timeout else 502
        reason = _describe(exc)
        exchange.replaced = str(status)
        self.session.answered(exchange, None)
        if "CC604" in self.session.settings.enabled:
            self.session.judged(
                exchange,
                (),
                [("CC604", "$", f"no response from the upstream: {reason}", None)],
                request=view,
                response=None,
            )
        message = f"chatcontract proxy: no answer from the upstream {self.options.origin}: {reason}"
        kind = "upstream_timeout" if timeout else "upstream_unavailable"
        body = json.dumps(error_envelope(self.options.dialect, message, type_=kind, code=kind)).encode()
        return Response(body, status_code=status, media_type="application/json")

    # -- the answer leg --------------------------------------------------------------------------------------
    async def _passthrough(
        self, exchange: Exchange, view: _RequestView, upstream: httpx.Response
    ) -> AsyncIterator[bytes]:
        """An unchecked exchange: the upstream's bytes as they come (still compressed, if they were)."""
        kept = bytearray()
        complete = False
        try:
            async for chunk in upstream.aiter_raw():
                if self.recorder is not None:
                    kept += chunk
                yield chunk
            complete = True
        except (httpx.HTTPError, OSError) as exc:
            where = f"#{exchange.number} {view.method} {exchange.path}"
            self.session.note(f"{where}: the upstream broke off its answer: {_describe(exc)}")
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()
            self.session.answered(exchange, upstream.status_code)
            if complete:
                self._record(view, upstream.status_code, _response_headers(upstream, keep_length=True), bytes(kept))

    async def _chat(self, exchange: Exchange, view: _RequestView, upstream: httpx.Response) -> tuple[Response, Any]:
        content_type = upstream.headers.get("content-type", "")
        if "text/event-stream" in content_type.lower() and upstream.status_code < 300:
            iterator = self._stream(exchange, view, upstream)
            return _streaming(iterator, upstream.status_code, _response_headers(upstream, keep_length=False)), iterator
        try:
            data = await upstream.aread()
        except (httpx.HTTPError, OSError) as exc:
            return self._failure(exchange, view, exc), None
        finally:
            await upstream.aclose()
        return self._judge_answer(exchange, view, upstream, data), None

    def _judge_answer(self, exchange: Exchange, view: _RequestView, upstream: httpx.Response, data: bytes) -> Response:
        from ..engine import check
        from ..fuzz.judge import Answer

        status = upstream.status_code
        content_type = upstream.headers.get("content-type", "")
        opts = self.options
        violations: tuple[Violation, ...] = ()
        if opts.checks:
            started = time.thread_time()
            # A JSON content type adds no finding: the bytes alone take check()'s fast path, with the same report.
            media = content_type.split(";")[0].strip().lower()
            plain = media == "application/json" or media.endswith("+json")
            violations = check(
                data if plain else Answer(status, content_type, data),
                dialect=opts.dialect,
                status=status,
                request=view.json,
                provider=opts.provider,
                select=opts.select,
                ignore=opts.ignore,
            ).violations
            self.session.check_seconds += time.thread_time() - started
        errors = [v for v in violations if v.severity is Severity.ERROR]
        headers = _response_headers(upstream, keep_length=False, decoded=True)
        answer = _ResponseView(status, content_type, data, response_id(data))
        self.session.answered(exchange, status)
        self.session.judged(
            exchange, violations, self.session.exchange_codes(exchange, status), request=view, response=answer
        )
        self._record(view, status, headers, data)
        if opts.enforce and 200 <= status < 300 and errors:
            exchange.replaced = "502"
            message = _enforce_message(opts.dialect, errors)
            kind = "contract_violation"
            body = json.dumps(error_envelope(opts.dialect, message, type_=kind, code=kind)).encode()
            return Response(body, status_code=502, media_type="application/json")
        return _response(data, status, headers)

    async def _stream(self, exchange: Exchange, view: _RequestView, upstream: httpx.Response) -> AsyncIterator[bytes]:
        from ..streams import StreamChecker

        opts = self.options
        session = self.session
        started = time.thread_time()
        checker = (
            StreamChecker(
                dialect=opts.dialect,
                request=view.json,
                provider=opts.provider,
                select=opts.select,
                ignore=opts.ignore,
                status=upstream.status_code,
            )
            if opts.checks
            else None
        )
        session.check_seconds += time.thread_time() - started
        keep_all = self.recorder is not None
        kept = bytearray()
        held = bytearray()  # enforce: bytes not yet sent (an unfinished event, the [DONE] sentinel)
        state = "open"  # open -> complete | cut | disconnected | enforced
        try:
            try:
                async for chunk in upstream.aiter_bytes():
                    if keep_all or len(kept) < 2000:
                        kept += chunk
                    if checker is None:
                        yield chunk
                        continue
                    started = time.thread_time()
                    checker.feed(chunk)
                    session.check_seconds += time.thread_time() - started
                    if not opts.enforce:
                        yield chunk
                        continue
                    held += chunk
                    if any(v.severity is Severity.ERROR for v in checker.found()):
                        state = "enforced"
                        break
                    ready = _sendable(held)
                    if ready:
                        del held[: len(ready)]
                        yield ready
                else:
                    state = "complete"
            except (httpx.HTTPError, OSError) as exc:
                state = "cut"
                reason = f"the upstream broke off the stream after {len(kept)} bytes: {_describe(exc)}"
                session.answered(exchange, upstream.status_code, stream=True)
                if "CC604" in session.settings.enabled:
                    session.judged(
                        exchange,
                        (),
                        [("CC604", "$", reason, None)],
                        request=view,
                        response=_ResponseView(
                            upstream.status_code, "text/event-stream", bytes(kept), response_id(kept)
                        ),
                    )
                exchange.replaced = "stream-error-event"
                yield _error_event(opts.dialect, f"chatcontract proxy: {reason}", "upstream_unavailable")
                return
            upstream_complete = state == "complete"  # (enforce may still replace its end below)
            # A stream stopped by enforce is judged on what was read: closing the checker would add "no [DONE]".
            violations: tuple[Violation, ...] = ()
            if checker is not None:
                started = time.thread_time()
                violations = checker.close().violations if state == "complete" else checker.found()
                session.check_seconds += time.thread_time() - started
            errors = [v for v in violations if v.severity is Severity.ERROR]
            if state == "complete" and opts.enforce and errors:
                state = "enforced"
            elif state == "complete" and held:
                yield bytes(held)
            session.answered(exchange, upstream.status_code, stream=True)
            answer = _ResponseView(upstream.status_code, "text/event-stream", bytes(kept), response_id(kept))
            session.judged(
                exchange,
                violations,
                session.exchange_codes(exchange, upstream.status_code),
                request=view,
                response=answer,
            )
            if state == "enforced":
                exchange.replaced = "stream-error-event"
                yield _error_event(opts.dialect, _enforce_message(opts.dialect, errors), "contract_violation")
            if upstream_complete and keep_all:  # the recording holds the upstream's answer, also when enforced
                headers = _response_headers(upstream, keep_length=False, decoded=True)
                self._record(view, upstream.status_code, headers, bytes(kept))
        except BaseException:  # GeneratorExit or a cancellation: the client went away mid-stream
            if state == "open":
                state = "disconnected"
                session.answered(exchange, upstream.status_code, stream=True)
                session.note(
                    f"#{exchange.number} {view.method} {exchange.path}: the client disconnected mid-stream after "
                    f"{len(kept)} bytes; the stream was not judged"
                )
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()

    def _record(self, view: _RequestView, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        if self.recorder is not None:
            self.recorder.add(
                method=view.method,
                uri=view.url,
                request_headers=view.headers,
                request_body=view.body,
                status=status,
                response_headers=headers,
                response_body=body,
            )


def create_app(session: ProxySession, *, recorder: Recorder | None = None) -> Starlette:
    """The proxy as a Starlette app (its lifespan opens and closes the shared upstream connection pool)."""
    proxy = _Proxy(session, recorder)
    return Starlette(routes=[Route("/{path:path}", proxy)], lifespan=proxy.lifespan)


# -- helpers ---------------------------------------------------------------------------------------------------
def _warm_up(dialect: str) -> None:
    """Build the engine's validators now (tens of ms), not on the first client's request."""
    from ..engine import check
    from ..streams import StreamChecker

    request = {"model": "warm-up", "messages": [{"role": "user", "content": "Hi"}]}
    check(b"{}", dialect=dialect, status=200, request=request)
    checker = StreamChecker(dialect=dialect, request=request, status=200)
    checker.feed(b"data: {}\n\ndata: [DONE]\n\n")
    checker.close()


def _lower(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, bytes]]:
    return [(k.decode("latin-1").lower(), v) for k, v in headers]


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None


def _response_headers(upstream: httpx.Response, *, keep_length: bool, decoded: bool = False) -> list[tuple[str, str]]:
    """The upstream's headers for the client: hop-by-hop ones out; a decoded body loses its encoding and length."""
    out = []
    for key, value in upstream.headers.raw:
        name = key.decode("latin-1")
        low = name.lower()
        if low in _RESPONSE_DROPPED or (low == "content-length" and not keep_length):
            continue
        if decoded and low == "content-encoding":
            continue
        out.append((name, value.decode("latin-1")))
    return out


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


def _response(body: bytes, status: int, headers: list[tuple[str, str]]) -> Response:
    response = Response(status_code=status)
    response.body = body
    response.raw_headers = [*_raw(headers), (b"content-length", str(len(body)).encode())]
    return response


def _streaming(body: AsyncIterator[bytes], status: int, headers: list[tuple[str, str]]) -> StreamingResponse:
    response = StreamingResponse(body, status_code=status)
    response.raw_headers = _raw(headers)
    return response


def _sendable(held: bytearray) -> bytes:
    """The complete events at the start of ``held``, stopping before a ``[DONE]`` sentinel (enforce mode)."""
    done = _DONE.search(held)
    limit = done.start() + (1 if held[done.start() : done.start() + 1] == b"\n" else 0) if done else len(held)
    last = None
    for match in _EVENT_END.finditer(held, 0, limit):
        last = match
    return bytes(held[: last.end()]) if last is not None else b""


def _error_event(dialect: str, message: str, kind: str) -> bytes:
    envelope = error_envelope(dialect, message, type_=kind, code=kind)
    # A blank line first ends whatever event the client's parser has open.
    return b"\n\ndata: " + json.dumps(envelope, ensure_ascii=True).encode() + b"\n\n"


def _enforce_message(dialect: str, errors: tuple[Violation, ...] | list[Violation]) -> str:
    shown = [f"{v.code} {v.name} at {v.where}: {v.message}" for v in errors[:10]]
    more = f"; ... and {len(errors) - 10} more" if len(errors) > 10 else ""
    return f"chatcontract proxy: the upstream's answer breaks the {dialect} contract: " + "; ".join(shown) + more


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}"[:300] if text else name
