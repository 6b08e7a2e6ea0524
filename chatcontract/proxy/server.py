"""Running the proxy with uvicorn: in a background thread (:func:`serve`) or in the foreground until a signal.

Both bind the socket first (so a port in use is a clear error before anything else happens), run uvicorn on it
with its access log off and without its own ``server``/``date`` headers (the upstream's are forwarded), and on the
way out write what the run found: the cassette of ``--record``, and whatever the caller does with
:meth:`~chatcontract.proxy.session.ProxySession.results`.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..provider.server import bind, start_in_thread
from .app import create_app
from .recording import Recorder
from .session import ProxyOptions, ProxySession

__all__ = ["RunningProxy", "bind", "run_until_stopped", "serve"]

READY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningProxy:
    """A proxy listening on a port."""

    #: ``http://HOST:PORT`` followed by the upstream's path: use it where the client had the upstream's base URL.
    base_url: str
    port: int
    session: ProxySession
    recorder: Recorder | None

    @property
    def root_url(self) -> str:
        """``http://HOST:PORT`` (what the mistralai SDKs take as their server URL when the upstream's path is /v1)."""
        return f"http://{self.session.options.host}:{self.port}"


def server_implementation() -> tuple[str, str]:
    """The HTTP protocol and event loop uvicorn serves the proxy with: ``(http, loop)``.

    httptools and uvloop when importable (a C parser and a libuv loop: less CPU per proxied request), else h11
    and asyncio, which behave the same.
    """
    import importlib.util

    import uvicorn

    http = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    # uvicorn before 0.36 runs uvloop by installing its event loop policy for the whole process (the proxy often
    # runs in a thread of someone else's process: a test run); later versions pass a loop factory to this run only.
    per_run = hasattr(uvicorn.Config, "get_loop_factory")
    loop = (
        "uvloop"
        if per_run and sys.platform != "win32" and importlib.util.find_spec("uvloop") is not None
        else "asyncio"
    )
    return http, loop


def _server(app: Any) -> Any:
    import uvicorn

    http, loop = server_implementation()

    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="none",
        http=http,
        loop=loop,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def _prepare(
    options: ProxyOptions, out: TextIO | None, environ: Mapping[str, str] | None = None
) -> tuple[ProxySession, Recorder | None, Any]:
    session = ProxySession(options, out=out)
    recorder = Recorder(options.record) if options.record else None
    return session, recorder, create_app(session, recorder=recorder, environ=environ)


def _url(host: str, port: int, path: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


@contextmanager
def serve(
    options: ProxyOptions, *, out: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> Iterator[RunningProxy]:
    """Run the proxy in a background thread until the block ends (port 0: a free port); the cassette is saved then.

    ``environ`` (default: ``os.environ``) is where the upstream leg looks for ``HTTP_PROXY`` and the like.

    Example:
        >>> with serve(ProxyOptions(upstream=provider.base_url, port=0)) as proxy:  # doctest: +SKIP
        ...     openai.OpenAI(base_url=proxy.base_url, api_key="x").chat.completions.create(...)
        ...     results = proxy.session.results()
    """
    session, recorder, app = _prepare(options, out, environ)
    sock = bind(options.host, options.port)
    server = _server(app)
    thread = start_in_thread(server, sock, "chatcontract-proxy", "the chatcontract proxy")
    port = sock.getsockname()[1]
    try:
        yield RunningProxy(_url(options.host, port, options.base_path), port, session, recorder)
    finally:
        server.should_exit = True
        thread.join(READY_TIMEOUT_S + 5)
        sock.close()
        if recorder is not None:
            recorder.save()


class _Stop(Exception):
    """SIGTERM arrived: stop serving and write what was found."""


def run_until_stopped(
    options: ProxyOptions, *, out: TextIO, on_ready: Callable[[RunningProxy], None] | None = None
) -> tuple[ProxySession, Path | None]:
    """Serve in the foreground until Ctrl-C or SIGTERM; returns the session and the cassette written (if any).

    uvicorn catches both signals itself, finishes the requests in flight (5 s at most) and re-raises the signal:
    SIGINT as KeyboardInterrupt, SIGTERM through the handler installed here. Both end the run normally.
    """
    session, recorder, app = _prepare(options, out)
    sock = bind(options.host, options.port)
    port = sock.getsockname()[1]
    running = RunningProxy(_url(options.host, port, options.base_path), port, session, recorder)
    server = _server(app)
    main_thread = threading.current_thread() is threading.main_thread()

    def _on_term(signum: int, frame: Any) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, _on_term) if main_thread else None
    try:
        if on_ready is not None:
            on_ready(running)
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        sock.close()
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    return session, recorder.save() if recorder is not None else None
