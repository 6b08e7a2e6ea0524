"""The proxy's upstream leg: keep-alive connections to the upstream, and which forward proxy (if any) they go through.

httpx's own transport is ``httpcore.AsyncConnectionPool`` under an ``httpx.Request``/``httpx.Response`` layer.
The proxy talks to httpcore directly: it already holds the method, target, headers and body as bytes, and the
per-request models of httpx cost more CPU than the proxy's checks. For a direct upstream it also keeps its own
pool (:class:`LastInFirstOutPool`: one origin, HTTP/1.1, a stack of idle ``httpcore.AsyncHTTPConnection``), since
httpcore's general pool walks all its connections under a lock for every request and every closed response. The
HTTP itself stays httpcore's (h11), on httpcore's network-stream interface: a plain TCP connection is an asyncio
protocol on the running loop (:class:`AsyncioBackend`: anyio's socket stream and a cancel scope per read and write
were a tenth of a request's CPU), a TLS one httpcore's anyio stream; both are wrapped so that a request's head and
in-memory body go out in one write, and "is this idle connection still usable?" is asked of the kept socket.

Like httpx with ``trust_env=True``, the upstream leg honours ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` and
``NO_PROXY`` (upper or lower case, lower case first): :func:`environment_proxy` picks the forward proxy for the
upstream URL, and :func:`open_pool` then uses httpcore's ``AsyncHTTPProxy`` (``CONNECT`` tunnels for an https
upstream) or ``AsyncSOCKSProxy``. TLS verification uses httpx's default context (certifi, ``SSL_CERT_FILE``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import ipaddress
import select
import ssl
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from contextvars import ContextVar
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

from .._exceptions import UsageError

__all__ = [
    "TIMEOUT_ERRORS",
    "UPSTREAM_ERRORS",
    "LastInFirstOutPool",
    "LeanBackend",
    "Pool",
    "environment_proxy",
    "open_pool",
]

#: What a failed upstream exchange raises: httpcore's exceptions (no common base class), the socket's, and
#: httpx's (the decoding path of a compressed chat answer goes through an ``httpx.Response``).
UPSTREAM_ERRORS: tuple[type[BaseException], ...] = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    httpx.HTTPError,
    OSError,
)
#: The subset that means "the upstream was too slow" (a 504 rather than a 502).
TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (httpcore.TimeoutException, httpx.TimeoutException)

#: Idle keep-alive connections kept per pool, and for how long (httpx's defaults for the expiry).
MAX_KEEPALIVE = 64
KEEPALIVE_EXPIRY_S = 5.0


class LastInFirstOutPool:
    """Keep-alive connections to one origin, the most recently used first; as many as requests in flight.

    httpcore's ``AsyncConnectionPool`` serves any number of origins and HTTP/2: for every request and every
    response it closes, it walks all its connections under a lock, asking each idle one whether it is still usable
    (a ``poll()`` of its socket). The proxy has one origin and speaks HTTP/1.1, one request per connection at a
    time, so a stack of idle ``httpcore.AsyncHTTPConnection`` objects does: take the last one put back (checked
    once, then used), or open a new one; put it back when its response is closed and it is idle again. Each
    connection does its own connecting, TLS (ALPN http/1.1) and HTTP/1.1 through httpcore.
    """

    def __init__(
        self,
        origin: httpcore.Origin,
        *,
        ssl_context: ssl.SSLContext | None,
        max_idle: int = MAX_KEEPALIVE,
        keepalive_expiry: float = KEEPALIVE_EXPIRY_S,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._origin = origin
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._expiry = keepalive_expiry
        if network_backend is None:  # plain TCP on the loop itself; TLS through httpcore's anyio backend
            network_backend = LeanBackend(AsyncioBackend() if origin.scheme == b"http" else None)
        self._backend = network_backend
        self._idle: list[httpcore.AsyncHTTPConnection] = []
        self._open: set[httpcore.AsyncHTTPConnection] = set()

    @property
    def connections(self) -> int:
        """Connections open now (idle or busy)."""
        return len(self._open)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        connection = None
        while self._idle:
            candidate = self._idle.pop()
            if candidate.is_idle() and not candidate.has_expired():
                connection = candidate
                break
            await self._discard(candidate)
        if connection is None:
            connection = httpcore.AsyncHTTPConnection(
                self._origin,
                ssl_context=self._ssl_context,
                keepalive_expiry=self._expiry,
                network_backend=self._backend,
            )
            self._open.add(connection)
        # A body in memory (not an upload forwarded as it arrives): its head waits for it, one write for both.
        joined = None if inspect.isasyncgen(request.stream) else _JOIN.set(_Join())
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            await self._discard(connection)
            raise
        finally:
            if joined is not None:
                _JOIN.reset(joined)
        response.stream = _Returning(response.stream, connection, self)
        return response

    async def _put_back(self, connection: httpcore.AsyncHTTPConnection) -> None:
        if connection.is_idle() and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            await self._discard(connection)

    async def _discard(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._open.discard(connection)
        await connection.aclose()

    async def aclose(self) -> None:
        """Close every connection (the proxy's shutdown)."""
        self._idle.clear()
        while self._open:
            await self._open.pop().aclose()


class _Returning:
    """A response body that puts its connection back into the pool once closed."""

    __slots__ = ("_connection", "_pool", "_stream")

    def __init__(self, stream: Any, connection: httpcore.AsyncHTTPConnection, pool: LastInFirstOutPool) -> None:
        self._stream = stream
        self._connection: httpcore.AsyncHTTPConnection | None = connection
        self._pool = pool

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        try:
            await self._stream.aclose()
        finally:
            if connection is not None:
                await self._pool._put_back(connection)


#: The upstream leg's pool: the lean one for a direct connection, httpcore's proxies through a forward proxy.
Pool = LastInFirstOutPool | httpcore.AsyncConnectionPool


def environment_proxy(upstream: str, environ: Mapping[str, str]) -> str | None:
    """The forward proxy URL for ``upstream`` according to ``environ``, or None for a direct connection.

    The rules of ``urllib.request.getproxies_environment`` and of httpx's ``trust_env``: ``<scheme>_proxy`` then
    ``all_proxy``, each in lower case first, then upper case (``HTTP_PROXY`` is ignored when ``REQUEST_METHOD``
    is set: under CGI it is a request header); ``NO_PROXY`` is a comma list of hosts (a suffix matches its
    subdomains; a leading dot is the same), ``host:port``, IP addresses or networks (``10.0.0.0/8``), or ``*``.
    """
    parts = urlsplit(upstream)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if scheme == "https" else 80)

    def variable(name: str) -> str:
        value = environ.get(name.lower())
        if value is None and not (name == "http_proxy" and "REQUEST_METHOD" in environ):
            value = environ.get(name.upper())
        return (value or "").strip()

    chosen = variable(f"{scheme}_proxy") or variable("all_proxy")
    if not chosen or _bypassed(host, port, variable("no_proxy")):
        return None
    return chosen if "://" in chosen else f"http://{chosen}"


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "://" in entry:  # httpx also takes "http://host" entries
            entry = entry.split("://", 1)[1]
        entry = entry.rstrip("/")
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                pass
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def open_pool(upstream: str, environ: Mapping[str, str]) -> Pool:
    """The keep-alive pool for ``upstream``: direct, or through the forward proxy the environment names."""
    common: dict[str, Any] = {
        "ssl_context": _ssl_context(),
        "max_connections": None,
        "max_keepalive_connections": MAX_KEEPALIVE,
        "keepalive_expiry": KEEPALIVE_EXPIRY_S,
        "retries": 0,
        "network_backend": LeanBackend(),
    }
    proxy = environment_proxy(upstream, environ)
    if proxy is None:
        return LastInFirstOutPool(httpcore.URL(upstream).origin, ssl_context=common["ssl_context"])
    parts = urlsplit(proxy)
    scheme = parts.scheme.lower()
    shown = f"{scheme}://{parts.netloc.rpartition('@')[2]}"  # without the credentials
    auth = (unquote(parts.username or ""), unquote(parts.password or "")) if parts.username is not None else None
    if scheme in ("http", "https"):
        return httpcore.AsyncHTTPProxy(proxy_url=shown, proxy_auth=auth, **common)
    if scheme in ("socks5", "socks5h"):
        if importlib.util.find_spec("socksio") is None:  # httpcore's SOCKS support needs it
            raise UsageError(
                f"the environment names the SOCKS proxy {shown} for the upstream: install socksio "
                "(pip install 'httpx[socks]') or set NO_PROXY for the upstream's host"
            )
        return httpcore.AsyncSOCKSProxy(proxy_url=shown, proxy_auth=auth, **common)
    raise UsageError(f"the environment names the proxy {shown} for the upstream: only http, https and socks5 work")


def _ssl_context() -> ssl.SSLContext:
    """The default verification of httpx (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), as an AsyncClient would use."""
    return httpx.create_ssl_context(trust_env=True)


class _Join:
    """A request's head held back until its body is written, so that both go out in one write."""

    __slots__ = ("head", "done")

    def __init__(self) -> None:
        self.head: bytes | None = None
        self.done = False


#: Set by the pool while it sends a request whose body is in memory: h11 writes the head and the body separately,
#: which costs the upstream two wake-ups (and TCP two segments) for one small request.
_JOIN: ContextVar[_Join | None] = ContextVar("chatcontract_proxy_join", default=None)


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's anyio stream, with the idle-connection check answered from the socket kept at connect time."""

    __slots__ = ("_inner", "_socket")

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        join = _JOIN.get()
        if join is not None and join.head is not None:  # (a request without a body after all)
            join.done = True
            head, join.head = join.head, None
            await self._inner.write(head, timeout)
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        join = _JOIN.get()
        if join is not None and not join.done:
            if join.head is None:  # the request's head: its body comes next
                join.head = buffer
                return
            join.done = True
            buffer, join.head = join.head + buffer, None
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and not isinstance(self._inner, _AsyncioStream):  # (that one knows better)
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: Any) -> bool:
    """Whether an idle connection has something to read: the server closed it (or sent junk), so it is unusable."""
    if sock is None:
        return True
    fd = sock.fileno()
    if fd == -1:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Protocol(asyncio.Protocol):
    """The receiving end of a plain TCP connection to the upstream: what arrived, and whether it ended."""

    __slots__ = ("chunks", "ended", "error", "reading_paused", "transport", "waiter", "writable")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.ended = False
        self.error: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.writable: asyncio.Future[None] | None = None  # set while the transport's write buffer is full
        self.reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's transports do not subclass asyncio's)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        if len(self.chunks) > _MAX_CHUNKS_BUFFERED and self.transport is not None and not self.reading_paused:
            self.reading_paused = True  # the reader is slower than the upstream: let TCP flow control work
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self._wake()
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    def pause_writing(self) -> None:
        self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.writable = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


#: Chunks buffered (64 KiB each at most) before the connection stops reading from the upstream.
_MAX_CHUNKS_BUFFERED = 16


def _expire(waiter: asyncio.Future[None], error: type[Exception]) -> None:
    if not waiter.done():
        waiter.set_exception(error())


class _AsyncioStream(httpcore.AsyncNetworkStream):
    """A plain TCP connection on the running asyncio (or uvloop) loop, without anyio's layers in between.

    httpcore's anyio stream enters a cancel scope for every read and write and goes through anyio's socket stream
    (a checkpoint, a lock, a typed-attribute lookup): a measurable share of a proxied request's CPU. This one
    waits on a future with a timer for the timeout and maps failures to httpcore's exceptions exactly like
    httpcore's anyio backend (``ReadError``, ``ReadTimeout``, ``WriteError``, ``WriteTimeout``; an ended
    connection reads ``b""``, which httpcore reports as the server disconnecting). TLS upstreams use the anyio
    backend instead.
    """

    __slots__ = ("_protocol", "_socket", "_transport")

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._socket = transport.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.chunks:
            if protocol.error is not None:
                raise httpcore.ReadError(_reason(protocol.error))
            if protocol.ended:
                return b""
            loop = asyncio.get_running_loop()
            protocol.waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, _expire, waiter, httpcore.ReadTimeout) if timeout is not None else None
            try:
                await waiter
            finally:
                protocol.waiter = None
                if timer is not None:
                    timer.cancel()
            if not protocol.chunks:
                if protocol.error is not None:
                    raise httpcore.ReadError(_reason(protocol.error))
                return b""
        data = protocol.chunks.popleft()
        if len(data) > max_bytes:
            protocol.chunks.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        if protocol.reading_paused and len(protocol.chunks) <= _MAX_CHUNKS_BUFFERED // 2:
            protocol.reading_paused = False
            self._transport.resume_reading()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.ended or self._transport.is_closing():
            raise httpcore.WriteError(_reason(protocol.error) if protocol.error else "the connection is closed")
        self._transport.write(buffer)
        writable = protocol.writable
        if writable is not None:  # the write buffer is full: wait until the upstream takes it
            loop = asyncio.get_running_loop()
            timer = loop.call_later(timeout, _expire, writable, httpcore.WriteTimeout) if timeout is not None else None
            try:
                await writable
            finally:
                if timer is not None:
                    timer.cancel()
            if protocol.error is not None:
                raise httpcore.WriteError(_reason(protocol.error))

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("TLS upstreams go through httpcore's anyio backend")

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle connection the upstream closed (or wrote to) is no longer usable
            return self._protocol.ended or bool(self._protocol.chunks) or _readable(self._socket)
        if info == "socket":
            return self._socket
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        return None


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Plain TCP connections as :class:`_AsyncioStream` (for an ``http://`` upstream)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            transport, protocol = await asyncio.wait_for(
                loop.create_connection(_Protocol, host, port, local_addr=local), timeout
            )
        except (asyncio.TimeoutError, TimeoutError):
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(_reason(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _AsyncioStream(transport, protocol)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("the proxy's upstream is reached over TCP")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class LeanBackend(httpcore.AsyncNetworkBackend):
    """A network backend (httpcore's anyio one by default) whose streams are wrapped in :class:`_Stream`.

    Through them a request's head and its in-memory body go out in one write, and an idle connection's usability
    is asked of the socket kept at connect time.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = httpcore.AnyIOBackend() if inner is None else inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
