"""The guard: check every chat-completion exchange a test makes through httpx (sync, async, streaming) or requests.

It wraps ``httpx.Client.send`` / ``httpx.AsyncClient.send`` / ``requests.Session.send`` for the duration of the test
call. Those sit above the transports, so exchanges served by VCR.py cassettes (which patch the transports) are seen
too. Streamed bodies are checked incrementally as the test reads them. A stream is judged once its end reached the
guard: read to its end, or closed right after its ``[DONE]`` sentinel or an error event (the openai and mistralai SDKs
stop there and close the response without reading on). A stream closed or left before its end is not judged (that
would report a false "missing [DONE]"); it is listed as incomplete in the report section and the terminal summary,
and fails its test under ``chatcontract_incomplete_streams = fail``.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .._exceptions import ContractViolation
from .._infer import infer_dialect
from ..engine import Report, check
from ..inputs import parse_request
from ..streams import StreamChecker
from ._options import Options
from ._output import scrub_output

__all__ = ["Exchange", "Guard"]


def _httpx_modules() -> list[Any]:
    """httpx, and httpx2 (the fork the openai SDK ships on) when it is installed."""
    modules: list[Any] = [httpx]
    try:
        import httpx2
    except ImportError:
        pass
    else:
        modules.append(httpx2)
    return modules


@dataclass(slots=True)
class Exchange:
    """One chat-completion request/response pair seen by the guard."""

    method: str
    url: str
    status: int | None
    request: Any
    stream: bool
    report: Report | None = None
    complete: bool = True
    #: why the exchange was not judged (an incomplete stream), else ""
    unchecked: str = ""
    #: the dialect it was checked against, and why, when no setting chose it (inferred per exchange)
    dialect: str | None = None
    dialect_reason: str = ""

    def describe(self) -> str:
        kind = " (stream)" if self.stream else ""
        return scrub_output(f"{self.method} {self.url} -> {self.status}{kind}")  # no keys from query strings in CI logs


class _Decoder:
    """Undo gzip/deflate content-encoding on raw stream bytes (httpx's iter_bytes does the same for the test)."""

    def __init__(self, encoding: str) -> None:
        enc = encoding.lower().strip()
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS) if enc == "gzip" else (
            zlib.decompressobj() if enc == "deflate" else None
        )
        self.supported = enc in ("", "identity", "gzip", "deflate")

    def __call__(self, data: bytes) -> bytes:
        return self._z.decompress(data) if self._z is not None else data


class _Sink:
    """Receives the bytes of one streamed response while the test reads it."""

    def __init__(self, guard: Guard, exchange: Exchange, response: httpx.Response) -> None:
        self.guard = guard
        self.exchange = exchange
        self.response = response
        self.decode = _Decoder(response.headers.get("content-encoding", ""))
        self.sse = "text/event-stream" in response.headers.get("content-type", "").lower()
        self.kwargs = guard.kwargs_for(exchange)
        self.checker = (
            StreamChecker(request=exchange.request, status=exchange.status, **self.kwargs) if self.sse else None
        )
        self.buffer: list[bytes] = []
        self.done = False

    def feed(self, data: bytes) -> None:
        if self.done or not self.decode.supported:
            return
        part = self.decode(data)
        if self.checker is not None:
            self.checker.feed(part)
        else:
            self.buffer.append(part)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        if not self.decode.supported:
            self.exchange.complete = False
            encoding = self.response.headers.get("content-encoding", "")
            self.exchange.unchecked = f"content-encoding {encoding!r} cannot be decoded by the guard"
            self.guard.record(self.exchange)
            return
        if self.checker is not None:
            self.exchange.report = self.checker.close()
        else:
            content = b"".join(self.buffer)
            body = httpx.Response(self.exchange.status or 200, headers=self.response.headers, content=content)
            body.headers.pop("content-encoding", None)
            self.exchange.report = check(body, request=self.exchange.request, **self.kwargs)
        self.guard.record(self.exchange)

    def abandon(self, why: str = "closed by the reader") -> None:
        """The reader closed the stream (or the test ended) before the iterator ran out."""
        if self.done:
            return
        if self.checker is not None and self.checker.ended:  # every event reached the checker: judge it
            self.finish()
            return
        self.done = True
        self.exchange.complete = False
        end = "its [DONE] reached the guard" if self.checker is not None else "the end of its body"
        self.exchange.unchecked = f"{why} before {end}"
        self.guard.record(self.exchange)


def _tap_classes(module: Any) -> tuple[type[Any], type[Any]]:
    """Stream taps subclassing ``module``'s byte-stream bases (httpx and its fork httpx2 check isinstance)."""
    cached = _TAPS.get(module.__name__)
    if cached is not None:
        return cached

    class SyncTap(module.SyncByteStream):  # type: ignore[misc]
        def __init__(self, inner: Any, sink: _Sink) -> None:
            self.inner, self.sink = inner, sink

        def __iter__(self) -> Iterator[bytes]:
            for part in self.inner:
                self.sink.feed(part)
                yield part
            self.sink.finish()

        def close(self) -> None:
            try:
                self.inner.close()
            finally:
                self.sink.abandon()

    class AsyncTap(module.AsyncByteStream):  # type: ignore[misc]
        def __init__(self, inner: Any, sink: _Sink) -> None:
            self.inner, self.sink = inner, sink

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for part in self.inner:
                self.sink.feed(part)
                yield part
            self.sink.finish()

        async def aclose(self) -> None:
            try:
                await self.inner.aclose()
            finally:
                self.sink.abandon()

    _TAPS[module.__name__] = (SyncTap, AsyncTap)
    return SyncTap, AsyncTap


_TAPS: dict[str, tuple[type[Any], type[Any]]] = {}


def _project_dialect() -> str | None:
    """``[tool.chatcontract] dialect``, as ``check()`` would read it (validated at start-up)."""
    from .._exceptions import ConfigError
    from ..config import load_config

    try:
        return load_config().dialect
    except ConfigError:
        return None


class Guard:
    """Checks the chat-completion exchanges of one test."""

    def __init__(
        self, options: Options, pattern: re.Pattern[str], *, item: pytest.Item, incomplete: str = "warn"
    ) -> None:
        self.kwargs = options.check_kwargs()
        #: no marker, option, ini key nor [tool.chatcontract] names a dialect: infer it per exchange
        self.infer = options.dialect is None and _project_dialect() is None
        self.pattern = pattern
        self.item = item
        self.incomplete = incomplete
        self.exchanges: list[Exchange] = []
        self._sinks: list[_Sink] = []

    def settle(self) -> None:
        """At the end of the test: judge or list the streams the test neither read to the end nor closed."""
        for sink in self._sinks:
            sink.abandon("left open by the test")
        self._sinks.clear()

    @property
    def incomplete_streams(self) -> list[Exchange]:
        """The streamed exchanges that were not judged because they were left before their end."""
        return [ex for ex in self.exchanges if not ex.complete]

    def identify(self, exchange: Exchange, headers: Any) -> None:
        """Choose the exchange's dialect from its request when no setting chose one."""
        if self.infer:
            exchange.dialect, exchange.dialect_reason = infer_dialect(headers, exchange.url)

    def kwargs_for(self, exchange: Exchange) -> dict[str, Any]:
        """The check arguments for one exchange (its inferred dialect, when no setting chose one)."""
        return self.kwargs if exchange.dialect is None else {**self.kwargs, "dialect": exchange.dialect}

    def matches(self, method: str, path: str) -> bool:
        return method.upper() == "POST" and self.pattern.search(path) is not None

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        if exchange.report is not None:
            self.item.config.hook.pytest_chatcontract_checked(item=self.item, exchange=exchange, report=exchange.report)

    # -- httpx ------------------------------------------------------------------------------------------------
    def observe_httpx(self, request: Any, response: Any, *, is_async: bool, module: Any = httpx) -> None:
        if not self.matches(request.method, request.url.path):
            return
        try:
            body: Any = parse_request(request.content)
        except (httpx.RequestNotRead, Exception):  # a streamed upload, or a body that is not JSON
            body = None
        exchange = Exchange(
            method=request.method,
            url=str(request.url),
            status=response.status_code,
            request=body,
            stream="text/event-stream" in response.headers.get("content-type", "").lower(),
        )
        self.identify(exchange, request.headers)
        if hasattr(response, "_content"):  # already read (non-stream, or replayed by VCR.py)
            exchange.report = check(response, request=body, **self.kwargs_for(exchange))
            self.record(exchange)
            return
        sink = _Sink(self, exchange, response)
        self._sinks.append(sink)
        sync_tap, async_tap = _tap_classes(module)
        response.stream = async_tap(response.stream, sink) if is_async else sync_tap(response.stream, sink)

    # -- requests ---------------------------------------------------------------------------------------------
    def observe_requests(self, request: Any, response: Any, *, stream: bool) -> None:
        from urllib.parse import urlsplit

        if not self.matches(request.method or "", urlsplit(request.url or "").path):
            return
        body = request.body
        try:
            parsed = parse_request(body) if body else None
        except Exception:
            parsed = None
        exchange = Exchange(
            method=request.method,
            url=request.url,
            status=response.status_code,
            request=parsed,
            stream="text/event-stream" in response.headers.get("content-type", "").lower(),
        )
        self.identify(exchange, request.headers)
        if not stream:
            exchange.report = check(response, request=parsed, **self.kwargs_for(exchange))
            self.record(exchange)
            return
        fake = httpx.Response(response.status_code, headers={k: v for k, v in response.headers.items()
                                                              if k.lower() != "content-encoding"})
        sink = _Sink(self, exchange, fake)
        self._sinks.append(sink)
        original = response.iter_content

        def iter_content(chunk_size: int | None = 1, decode_unicode: bool = False) -> Iterator[Any]:
            for part in original(chunk_size, decode_unicode):
                sink.feed(part.encode("utf-8") if isinstance(part, str) else part)
                yield part
            sink.finish()

        response.iter_content = iter_content
        close = response.close

        def close_and_note() -> None:
            try:
                close()
            finally:
                sink.abandon()  # a stream closed before its end is listed as not checked

        response.close = close_and_note

    def _patch_httpx(self, mp: pytest.MonkeyPatch, module: Any) -> None:
        guard = self
        send, asend = module.Client.send, module.AsyncClient.send

        def client_send(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            response = send(client, request, *args, **kwargs)
            guard.observe_httpx(request, response, is_async=False, module=module)
            return response

        async def async_send(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            response = await asend(client, request, *args, **kwargs)
            guard.observe_httpx(request, response, is_async=True, module=module)
            return response

        mp.setattr(module.Client, "send", client_send)
        mp.setattr(module.AsyncClient, "send", async_send)

    # -- install / report -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def installed(self) -> Iterator[Guard]:
        guard = self
        with pytest.MonkeyPatch.context() as mp:
            for module in _httpx_modules():
                self._patch_httpx(mp, module)
            try:
                import requests
            except ImportError:  # requests is optional
                pass
            else:
                rsend = requests.Session.send

                def session_send(session: Any, request: Any, **kwargs: Any) -> Any:
                    response = rsend(session, request, **kwargs)
                    guard.observe_requests(request, response, stream=bool(kwargs.get("stream")))
                    return response

                mp.setattr(requests.Session, "send", session_send)
            yield self

    def summary(self) -> str:
        lines = []
        for ex in self.exchanges:
            if ex.report is None:
                line = f"{ex.describe()}: not checked ({ex.unchecked})"
            else:
                line = f"{ex.describe()}: {ex.report.title}: " + ("conforms" if not ex.report.violations
                       else f"{len(ex.report.errors)} error(s), {len(ex.report.warnings)} warning(s)")
            lines.append(line + (f" [dialect {ex.dialect}, {ex.dialect_reason}]" if ex.dialect else ""))
        return scrub_output("\n".join(lines))

    def add_section(self) -> None:
        """Add the ``chatcontract`` report section (also when the test failed on its own)."""
        if self.exchanges:
            self.item.add_report_section("call", "chatcontract", self.summary())

    def finish(self) -> None:
        """After a passing test body: fail the test on error-severity violations (and incomplete streams if asked)."""
        __tracebackhide__ = True
        failed = [ex for ex in self.exchanges if ex.report is not None and not ex.report.ok]
        incomplete = self.incomplete_streams if self.incomplete == "fail" else []
        if not failed and not incomplete:
            return
        total = len(self.exchanges)
        blocks = []
        if failed:
            blocks.append(f"chatcontract: {len(failed)} of {total} chat-completion exchange(s) broke the contract")
        if incomplete:
            blocks.append(
                f"chatcontract: {len(incomplete)} of {total} chat-completion stream(s) were not read to their end, so "
                "they were not checked (chatcontract_incomplete_streams = fail)"
            )
            blocks.extend(f"  {ex.describe()}: {ex.unchecked}" for ex in incomplete)
        if not failed:
            pytest.fail(scrub_output("\n".join(blocks)), pytrace=False)
        violations: list[Any] = []
        for ex in failed:
            assert ex.report is not None
            blocks.append("")
            blocks.append(ex.describe())
            if ex.dialect:
                blocks.append(f"dialect {ex.dialect}, {ex.dialect_reason}")
            blocks.append(str(ex.report))
            violations.extend(ex.report.violations)
        message = scrub_output("\n".join(blocks))  # a Received: value may echo a key back
        raise ContractViolation(violations, title="chat-completion exchanges", message=message)
