"""Deadlines for whole answers, and ``Retry-After``, for the fuzz transport.

requests and urllib3 time out *per read*: a provider that drips one byte a second never trips a 30 s read timeout
and holds a request (and the run) forever. :class:`AnswerDeadline` bounds the *whole* answer, headers and body: it
tracks the sockets the sending thread uses from its session's pools and, when the deadline passes, shuts them
down, which ends the blocked read at once. :func:`watch_session` gives a requests session the pools that
report their sockets; :func:`cut_all` ends them all when a run's time is up (schemathesis' own probes
included, which do not go through the transport).
"""

from __future__ import annotations

import email.utils
import socket
import threading
import time
import weakref
from types import TracebackType
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["AnswerDeadline", "close_kept", "cut_all", "keep", "reset", "retry_after_seconds", "watch_session"]

_current = threading.local()


def _report(sock: Any) -> None:
    """A socket the current thread sends on: the run may cut it, and so may the thread's answer deadline."""
    if sock is None:
        return
    _handed_out.add(sock)
    if _over.is_set():  # opened after the run's end: cut at once
        _shut(sock)
        return
    deadline: AnswerDeadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.track(sock)


class _ReportingHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _report(self.sock)  # the response keeps this socket even after http.client lets go of it


class _ReportingHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _report(self.sock)


class _ReportingHTTPPool(HTTPConnectionPool):
    ConnectionCls = _ReportingHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _report(getattr(conn, "sock", None))  # a kept-alive connection: no new connect()
        return conn


class _ReportingHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _ReportingHTTPSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _report(getattr(conn, "sock", None))
        return conn


_watched: weakref.WeakSet[Any] = weakref.WeakSet()
_watch_lock = threading.Lock()
#: Every socket a watched session opened (until it is garbage): what :func:`cut_all` ends.
_handed_out: weakref.WeakSet[Any] = weakref.WeakSet()


_over = threading.Event()
#: The sessions schemathesis made for the run. Its workers keep theirs in thread-local storage and never close them,
#: so each would be garbage-collected with its pooled sockets open, at whatever moment the collector runs (a
#: ResourceWarning in the middle of something else). Held here until the run's end closes them (:func:`close_kept`).
_kept: list[Any] = []


def keep(session: Any) -> None:
    """Hold ``session`` until :func:`close_kept`, which closes it (and its pooled connections)."""
    with _watch_lock:
        _kept.append(session)


def close_kept() -> None:
    """Close every session :func:`keep` holds: the run is over and its sessions with it."""
    with _watch_lock:
        sessions = list(_kept)
        _kept.clear()
    for session in sessions:
        try:
            session.close()
        except Exception:  # noqa: BLE001  (closing must not hide the run's own outcome)
            pass


def cut_all() -> None:
    """Shut down every socket that watched sessions opened, and any they open later, until :func:`reset`.

    The run is over: the answers still arriving end now. (Runs in one process one after the other each
    :func:`reset` at their start; two at the same time would cut each other's.)
    """
    _over.set()
    for sock in list(_handed_out):
        _shut(sock)


def reset() -> None:
    """A run starts: sockets opened from now on are left alone (until the next :func:`cut_all`)."""
    _over.clear()


def watch_session(session: Any) -> None:
    """Make ``session``'s HTTP(S) adapters hand out connections an :class:`AnswerDeadline` can cut (idempotent)."""
    with _watch_lock:
        if session in _watched:
            return
        for adapter in getattr(session, "adapters", {}).values():
            manager = getattr(adapter, "poolmanager", None)
            if manager is None or not hasattr(manager, "pool_classes_by_scheme"):
                continue
            manager.pool_classes_by_scheme = {"http": _ReportingHTTPPool, "https": _ReportingHTTPSPool}
            manager.clear()  # pools made before this point would not report their connections
        send = session.send

        def send_within_timeout(request: Any, **kwargs: Any) -> Any:
            # A request sent past the transport (schemathesis' probes) gets its timeout for the whole answer too.
            if getattr(_current, "deadline", None) is not None:
                return send(request, **kwargs)
            timeout = kwargs.get("timeout")
            seconds = timeout[-1] if isinstance(timeout, tuple) else timeout
            with AnswerDeadline(float(seconds) + 0.25 if isinstance(seconds, (int, float)) else None):
                return send(request, **kwargs)

        session.send = send_within_timeout
        _watched.add(session)


class AnswerDeadline:
    """Within the ``with`` block, the answer must be complete ``seconds`` from now, or its connection is cut.

    ``expired`` tells afterwards whether it was cut. ``seconds=None`` sets no deadline (the block still runs).
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expired = False
        self._socks: list[Any] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def track(self, sock: Any) -> None:
        with self._lock:
            self._socks.append(sock)
            late = self.expired
        if late:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            socks = list(self._socks)
        for sock in socks:
            _shut(sock)

    def __enter__(self) -> AnswerDeadline:
        _current.deadline = self
        if self.seconds is not None:
            self._timer = threading.Timer(max(0.0, self.seconds), self._expire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _current.deadline = None
        if self._timer is not None:
            self._timer.cancel()


def _shut(sock: Any) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv() on it; close() alone would not
    except OSError:
        pass


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: delay-seconds or an HTTP-date (RFC 9110, 10.2.3).

    ``None`` when absent or unreadable. Never negative.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
