"""The proxy's ASGI app: forward every request through one shared connection pool, check chat exchanges on the way.

Any method and path is forwarded to the upstream's origin with the same path and query (the proxy mirrors the
upstream's URL space), headers and body as received, and the answer comes back the same way. Only
``POST .../chat/completions`` is judged: a JSON answer is read whole, sent, then checked by
:func:`~chatcontract.check` with its request (with ``enforce``, checked before it is sent, or replaced); a stream
(``text/event-stream``) is sent on chunk by chunk as it arrives and fed to a :class:`~chatcontract.StreamChecker`
on the way, judged when it ends. Chat requests ask the upstream for an
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

The app is a plain ASGI callable rather than a Starlette application: it has one route (everything), and the
request/response objects and middleware layers of a framework cost more per request than the checks do. Bodies
and headers stay bytes from the client's socket to the upstream's and back; only chat exchanges and recordings
get the decoded view (:class:`~chatcontract.proxy.session._RequestView`) that reports and cassettes need.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from ..violations import Severity, Violation
from .recording import Recorder
from .session import Exchange, ProxySession, _RequestView, _ResponseView, response_id
from .upstream import TIMEOUT_ERRORS, UPSTREAM_ERRORS, Pool, open_pool

__all__ = ["CHAT_PATH", "ProxyApp", "create_app", "error_envelope"]

#: Requests judged as chat-completion exchanges (with method POST); the plugin's cassette pattern.
CHAT_PATH = re.compile(r"/chat/completions/?$")
#: Hop-by-hop headers (RFC 9110 section 7.6.1) and what the pool/uvicorn set for each leg themselves.
_REQUEST_DROPPED = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"host"}
)
_RESPONSE_DROPPED = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"trailer", b"transfer-encoding", b"upgrade"}
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_HEADERS = [(b"content-type", b"application/json")]
_DONE = re.compile(rb"(?:^|\n)data: ?\[DONE\][ \t]*\r?\n")
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")

Scope = dict[str, Any]
Receive = Any
Send = Any


def error_envelope(dialect: str, message: str, *, type_: str, code: str) -> dict[str, Any]:
    """The dialect's error body (Mistral's flat ``{"object": "error", ...}``, OpenAI's ``{"error": {...}}``)."""
    from ..provider.errors import error_body

    return error_body(dialect, message, type_=type_, code=code)


class _ClientLeft(Exception):
    """The client disconnected before its request body had arrived."""


@dataclass(slots=True)
class _Answer:
    """What goes back to the client: a whole body, or a stream of chunks (closed by the app once sent)."""

    status: int
    #: Lower-case names, without Content-Length (added for a whole body; a stream goes out chunked).
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    #: Work for after the answer went out: the checks of a JSON answer that is passed on whatever they find.
    after: Callable[[], object] | None = None


class ProxyApp:
    """The forwarding endpoint: an ASGI app for every method and path, with its lifespan (the upstream pool)."""

    def __init__(
        self, session: ProxySession, recorder: Recorder | None, environ: Mapping[str, str] | None = None
    ) -> None:
        self.session = session
        self.options = session.options
        self.recorder = recorder
        # Built now, so that a forward proxy from the environment that cannot be used is an error before listening.
        self.pool: Pool = open_pool(self.options.upstream, os.environ if environ is None else environ)
        t = self.options.timeout
        self.timeout = {"connect": min(t, 10.0), "read": t, "write": t, "pool": t}
        origin = httpx.URL(self.options.origin)
        self.origin = self.options.origin
        self.scheme = origin.raw_scheme
        self.host = origin.raw_host
        self.port = origin.port
        self.host_header = (b"host", origin.netloc)  # what httpx sends: the port only when not the default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.options.checks:
                        _warm_up(self.options.dialect, self.options.extensions)
                except Exception as exc:  # pragma: no cover - the engine's validators are built at import time
                    await send({"type": "lifespan.startup.failed", "message": _describe(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.pool.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        if not path.startswith("/"):
            scope, path = _origin_form(scope)
        exchange = self.session.begin(method, path)
        exchange.checked = method == "POST" and CHAT_PATH.search(path) is not None
        try:
            answer = await self._forward(scope, receive, exchange)
        except _ClientLeft:  # gone before its request body arrived
            self.session.answered(exchange, None)
            self.session.note(f"#{exchange.number} {method} {exchange.path}: the client left mid-request")
            return
        except Exception as exc:  # a bug of ours must cost one request, never the proxy or a traceback
            self.session.answered(exchange, None)
            self.session.note(f"#{exchange.number} {method} {exchange.path}: internal error: {_describe(exc)}")
            message = f"chatcontract proxy: internal error: {_describe(exc)}"
            answer = self._error(502, message, "proxy_error")
        stream = answer.stream
        try:
            if stream is None:
                length = (b"content-length", str(len(answer.body)).encode())
                await send(
                    {"type": "http.response.start", "status": answer.status, "headers": [*answer.headers, length]}
                )
                await send({"type": "http.response.body", "body": answer.body})
            else:
                await _send_stream(receive, send, answer.status, answer.headers, stream)
        except OSError:  # the client went away while the answer was sent: nothing left to do
            pass
        finally:
            if stream is not None:
                with anyio.CancelScope(shield=True):
                    await stream.aclose()  # type: ignore[attr-defined]
            if answer.after is not None:
                try:
                    answer.after()
                except Exception as exc:  # as above: one exchange's findings lost, noted, never the proxy
                    self.session.note(f"#{exchange.number} {method} {exchange.path}: internal error: {_describe(exc)}")

    # -- the request leg -------------------------------------------------------------------------------------
    async def _forward(self, scope: Scope, receive: Receive, exchange: Exchange) -> _Answer:
        method: str = scope["method"]
        checked = exchange.checked
        whole_body = checked or self.recorder is not None
        headers: list[tuple[bytes, bytes]] = [self.host_header]
        length: bytes | None = None
        chunked = False
        for key, value in scope["headers"]:
            key = key.lower()
            if key in _REQUEST_DROPPED:
                chunked = chunked or key == b"transfer-encoding"
                continue
            if key == b"content-length":
                length = value
                if whole_body:
                    continue
            elif checked and key == b"accept-encoding":
                continue
            headers.append((key, value))
        if checked:  # the bytes checked must be the bytes the client gets
            headers.append((b"accept-encoding", b"identity"))
        content: Any = b""
        body = b""
        if whole_body:
            body = content = await _read_body(receive)
            if body or method in _BODY_METHODS:
                headers.append((b"content-length", str(len(body)).encode()))
        elif length is not None or chunked:
            content = _body_stream(receive)
            if length is None:
                headers.append((b"transfer-encoding", b"chunked"))
        elif method in _BODY_METHODS:
            headers.append((b"content-length", b"0"))
        target = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        if query:
            target += b"?" + query
        view = _RequestView(
            method,
            self.origin + target.decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers[1:]],
            body,
            _parse(body) if checked else None,
        )
        request = httpcore.Request(
            method,
            httpcore.URL(scheme=self.scheme, host=self.host, port=self.port, target=target),
            headers=headers,
            content=content,
            extensions={"timeout": self.timeout},
        )
        try:
            upstream = await self.pool.handle_async_request(request)
        except UPSTREAM_ERRORS as exc:
            return self._failure(exchange, view, exc)
        if checked:
            return await self._chat(exchange, view, upstream)
        return _Answer(
            upstream.status,
            _client_headers(upstream.headers, keep_length=True),
            stream=self._passthrough(exchange, view, upstream),
        )

    def _failure(self, exchange: Exchange, view: _RequestView, exc: BaseException) -> _Answer:
        """No answer: 504 for a timeout, 502 otherwise, in the dialect's envelope; a CC604 finding."""
        timeout = isinstance(exc, TIMEOUT_ERRORS)
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
        return self._error(status, message, "upstream_timeout" if timeout else "upstream_unavailable")

    def _error(self, status: int, message: str, kind: str) -> _Answer:
        body = json.dumps(error_envelope(self.options.dialect, message, type_=kind, code=kind)).encode()
        return _Answer(status, _JSON_HEADERS, body)

    # -- the answer leg --------------------------------------------------------------------------------------
    async def _passthrough(
        self, exchange: Exchange, view: _RequestView, upstream: httpcore.Response
    ) -> AsyncIterator[bytes]:
        """An unchecked exchange: the upstream's bytes as they come (still compressed, if they were)."""
        kept = bytearray()
        complete = False
        try:
            async for chunk in upstream.aiter_stream():
                if self.recorder is not None:
                    kept += chunk
                yield chunk
            complete = True
        except UPSTREAM_ERRORS as exc:
            where = f"#{exchange.number} {view.method} {exchange.path}"
            self.session.note(f"{where}: the upstream broke off its answer: {_describe(exc)}")
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()
            self.session.answered(exchange, upstream.status)
            if complete:
                self._record(view, upstream, bytes(kept), decoded=False)

    async def _chat(self, exchange: Exchange, view: _RequestView, upstream: httpcore.Response) -> _Answer:
        content_type = _header(upstream.headers, b"content-type")
        if "text/event-stream" in content_type.lower() and upstream.status < 300:
            return _Answer(
                upstream.status,
                _client_headers(upstream.headers, keep_length=False),
                stream=self._stream(exchange, view, upstream, content_type),
            )
        try:
            data = b"".join([chunk async for chunk in _decoded(upstream)])
        except UPSTREAM_ERRORS as exc:
            return self._failure(exchange, view, exc)
        finally:
            await upstream.aclose()
        if not self.options.enforce:  # the verdict changes nothing the client gets: it gets the answer first
            answer = _Answer(upstream.status, _client_headers(upstream.headers, keep_length=False, decoded=True), data)
            answer.after = partial(self._judge_answer, exchange, view, upstream, content_type, data)
            return answer
        return self._judge_answer(exchange, view, upstream, content_type, data)

    def _judge_answer(
        self, exchange: Exchange, view: _RequestView, upstream: httpcore.Response, content_type: str, data: bytes
    ) -> _Answer:
        from ..engine import check
        from ..fuzz.judge import Answer

        status = upstream.status
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
                extensions=opts.extensions,
            ).violations
            self.session.check_seconds += time.thread_time() - started
        answer = _ResponseView(status, content_type, data, response_id(data))
        self.session.answered(exchange, status)
        self.session.judged(
            exchange, violations, self.session.exchange_codes(exchange, status), request=view, response=answer
        )
        self._record(view, upstream, data, decoded=True)
        if opts.enforce and 200 <= status < 300:
            errors = [v for v in violations if v.severity is Severity.ERROR]
            if errors:
                exchange.replaced = "502"
                return self._error(502, _enforce_message(opts.dialect, errors), "contract_violation")
        return _Answer(status, _client_headers(upstream.headers, keep_length=False, decoded=True), data)

    async def _stream(
        self, exchange: Exchange, view: _RequestView, upstream: httpcore.Response, content_type: str
    ) -> AsyncIterator[bytes]:
        from ..streams import StreamChecker

        opts = self.options
        session = self.session
        status = upstream.status
        started = time.thread_time()
        checker = (
            StreamChecker(
                dialect=opts.dialect,
                request=view.json,
                provider=opts.provider,
                select=opts.select,
                ignore=opts.ignore,
                status=status,
                extensions=opts.extensions,
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
                async for chunk in _decoded(upstream):
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
            except UPSTREAM_ERRORS as exc:
                state = "cut"
                reason = f"the upstream broke off the stream after {len(kept)} bytes: {_describe(exc)}"
                session.answered(exchange, status, stream=True)
                if "CC604" in session.settings.enabled:
                    session.judged(
                        exchange,
                        (),
                        [("CC604", "$", reason, None)],
                        request=view,
                        response=_ResponseView(status, "text/event-stream", bytes(kept), response_id(kept)),
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
            self._stream_judged(exchange, view, upstream, violations, kept, recorded=upstream_complete)
            if state == "enforced":
                exchange.replaced = "stream-error-event"
                yield _error_event(opts.dialect, _enforce_message(opts.dialect, errors), "contract_violation")
        except BaseException:  # GeneratorExit or a cancellation: the client went away mid-stream
            if state == "open" and checker is not None and checker.ended:
                # It stopped at the stream's own end ([DONE] or an error event), as the openai SDK does without
                # waiting for the upstream to close the body: every event was seen, so the stream is judged whole.
                state = "complete"
                started = time.thread_time()
                violations = checker.close().violations
                session.check_seconds += time.thread_time() - started
                self._stream_judged(exchange, view, upstream, violations, kept, recorded=True)
            elif state == "open":
                state = "disconnected"
                session.answered(exchange, status, stream=True)
                session.note(
                    f"#{exchange.number} {view.method} {exchange.path}: the client disconnected mid-stream after "
                    f"{len(kept)} bytes; the stream was not judged"
                )
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()

    def _stream_judged(
        self,
        exchange: Exchange,
        view: _RequestView,
        upstream: httpcore.Response,
        violations: tuple[Violation, ...],
        kept: bytearray,
        *,
        recorded: bool,
    ) -> None:
        """A stream that ended: its findings, and its recording when it was read to its end."""
        status = upstream.status
        self.session.answered(exchange, status, stream=True)
        answer = _ResponseView(status, "text/event-stream", bytes(kept), response_id(kept))
        codes = self.session.exchange_codes(exchange, status)
        self.session.judged(exchange, violations, codes, request=view, response=answer)
        if recorded and self.recorder is not None:  # the upstream's answer, also when enforce replaced its end
            self._record(view, upstream, bytes(kept), decoded=True)

    def _record(self, view: _RequestView, upstream: httpcore.Response, body: bytes, *, decoded: bool) -> None:
        if self.recorder is not None:
            self.recorder.add(
                method=view.method,
                uri=view.url,
                request_headers=view.headers,
                request_body=view.body,
                status=upstream.status,
                response_headers=_recorded_headers(upstream.headers, decoded=decoded),
                response_body=body,
            )


def create_app(
    session: ProxySession, *, recorder: Recorder | None = None, environ: Mapping[str, str] | None = None
) -> ProxyApp:
    """The proxy as an ASGI app; its lifespan warms the engine up and closes the upstream pool.

    ``environ`` (default: ``os.environ``) names the forward proxy for the upstream, if any
    (:func:`~chatcontract.proxy.upstream.environment_proxy`).
    """
    return ProxyApp(session, recorder, environ)


# -- the client's side -----------------------------------------------------------------------------------------
def _origin_form(scope: Scope) -> tuple[Scope, str]:
    """The scope of a request whose target is a whole URL, with the URL's path as its path.

    ``POST http://host/v1/chat/completions`` comes from a client that uses the proxy as its ``HTTP_PROXY``, and
    some servers (uvicorn's h11 protocol) pass that target on as the path. It is forwarded by its path, like any
    other request: the proxy sends everything to its upstream, whatever host the client named.
    """
    parts = urlsplit(scope["path"])
    raw = urlsplit(scope.get("raw_path") or scope["path"].encode())
    path = parts.path or "/"
    return {**scope, "path": path, "raw_path": raw.path or b"/"}, path


async def _read_body(receive: Receive) -> bytes:
    """The whole request body; :class:`_ClientLeft` if the client disconnects first."""
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientLeft
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


async def _body_stream(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives (an upload forwarded while the client sends it)."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientLeft
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


async def _send_stream(
    receive: Receive, send: Send, status: int, headers: list[tuple[bytes, bytes]], chunks: AsyncIterator[bytes]
) -> None:
    """Send a streamed answer while a second task listens for the client's disconnect.

    The disconnect cancels the sending, and so the reading of the upstream: an ASGI server of spec 2.3 (uvicorn)
    drops a gone client's sends silently, so the sending alone would not notice. The sending runs in the request's
    own task (the task group's body), so the headers go out without waiting for the listener to be scheduled.
    """
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        group.cancel_scope.cancel()


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


# -- the upstream's side ---------------------------------------------------------------------------------------
def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _decoded(upstream: httpcore.Response) -> AsyncIterator[bytes]:
    """A chat answer's body, uncompressed.

    It was asked for uncompressed; an upstream that compresses anyway is decoded with httpx's decoders (the ones
    an AsyncClient would use), so the bytes checked are the bytes the client gets.
    """
    encoding = _header(upstream.headers, b"content-encoding").strip().lower()
    if not encoding or encoding == "identity":
        return upstream.aiter_stream()
    response = httpx.Response(upstream.status, headers=upstream.headers, stream=_HttpcoreBody(upstream))
    return response.aiter_bytes()


class _HttpcoreBody(httpx.AsyncByteStream):
    def __init__(self, upstream: httpcore.Response) -> None:
        self.upstream = upstream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.upstream.aiter_stream():
            yield chunk

    async def aclose(self) -> None:
        await self.upstream.aclose()


def _client_headers(
    headers: list[tuple[bytes, bytes]], *, keep_length: bool, decoded: bool = False
) -> list[tuple[bytes, bytes]]:
    """The upstream's headers for the client, with lower-case names.

    Hop-by-hop ones are left out; a decoded or re-framed body loses its length (a whole body gets its own) and a
    decoded one its encoding.
    """
    out = []
    for key, value in headers:
        low = key.lower()
        if low in _RESPONSE_DROPPED or (low == b"content-length" and not keep_length):
            continue
        if decoded and low == b"content-encoding":
            continue
        out.append((low, value))
    return out


def _recorded_headers(headers: list[tuple[bytes, bytes]], *, decoded: bool) -> list[tuple[str, str]]:
    """The upstream's headers as a cassette keeps them (their own case); a decoded body has no encoding or length."""
    out = []
    for key, value in headers:
        low = key.lower()
        if low in _RESPONSE_DROPPED or (decoded and low in (b"content-length", b"content-encoding")):
            continue
        out.append((key.decode("latin-1"), value.decode("latin-1")))
    return out


# -- helpers ---------------------------------------------------------------------------------------------------
def _warm_up(dialect: str, extensions: Sequence[str] | None) -> None:
    """Build the engine's validators now (tens of ms), not on the first client's request."""
    from ..engine import check
    from ..streams import StreamChecker

    request = {"model": "warm-up", "messages": [{"role": "user", "content": "Hi"}]}
    check(b"{}", dialect=dialect, status=200, request=request, extensions=extensions)
    checker = StreamChecker(dialect=dialect, request=request, status=200, extensions=extensions)
    checker.feed(b"data: {}\n\ndata: [DONE]\n\n")
    checker.close()


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None


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
