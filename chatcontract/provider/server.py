"""Running the reference provider with uvicorn: in a background thread (:func:`serve`) or in the foreground (CLI)."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from .._exceptions import ProviderError
from .app import MODELS, create_app
from .faults import FaultSpec

__all__ = ["RunningProvider", "run_forever", "serve"]

READY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningProvider:
    """A reference provider listening on a port."""

    #: ``http://HOST:PORT/v1``: POST ``{base_url}/chat/completions``, GET ``{base_url}/models``.
    base_url: str
    port: int
    dialect: str
    host: str = "127.0.0.1"
    api_key: str | None = None
    models: tuple[str, ...] = MODELS
    faults: tuple[str, ...] = ()

    @property
    def root_url(self) -> str:
        """``http://HOST:PORT`` (what the mistralai SDK takes as ``server_url``)."""
        return self.base_url.removesuffix("/v1")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; a port in use is a :class:`~chatcontract.ProviderError` naming it.

    Created with ``IPPROTO_TCP`` rather than protocol 0: asyncio sets ``TCP_NODELAY`` only on sockets whose
    ``proto`` says TCP, and without it Nagle's algorithm holds a response's body until the client acknowledges
    its headers, which a client delays by up to 40 ms (measured: 44 ms per keep-alive request instead of 1).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ProviderError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def start_in_thread(server: Any, sock: Any, name: str, what: str) -> threading.Thread:
    """Run a uvicorn ``server`` on ``sock`` in a daemon thread; return it once the server accepts connections.

    ``what`` names the server in the :class:`~chatcontract.ProviderError` raised when it does not start within
    :data:`READY_TIMEOUT_S` seconds (the socket is closed then).
    """
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ProviderError(f"{what} did not start")
        time.sleep(0.01)
    return thread


def _server(app: Any, *, quiet: bool) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
        # quiet: not even uvicorn's warnings ("Invalid HTTP request received." for each malformed request a fuzzer
        # sends): with no log configuration they would reach the host program's standard error
        log_level="error" if quiet else "info",
        access_log=not quiet,
        lifespan="off",
        ws="none",
        http="h11",
        loop="asyncio",
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


@contextmanager
def serve(
    *,
    dialect: str = "mistral",
    faults: Iterable[str | tuple[str, float] | FaultSpec] = (),
    seed: int | None = None,
    api_key: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningProvider]:
    """Run the reference provider on ``host:port`` (0: a free port) in a background thread until the block ends.

    Example:
        >>> with serve(dialect="openai", faults=["created-ms"], seed=1) as provider:  # doctest: +SKIP
        ...     openai.OpenAI(base_url=provider.base_url, api_key="x").chat.completions.create(...)
    """
    app = create_app(dialect=dialect, faults=faults, seed=seed, api_key=api_key)
    sock = bind(host, port)
    server = _server(app, quiet=True)
    thread = start_in_thread(server, sock, "chatcontract-provider", "the reference provider")
    bound = sock.getsockname()[1]
    names = tuple(str(s) for s in app.state.provider.faults)
    try:
        yield RunningProvider(_url(host, bound), bound, dialect, host, api_key, MODELS, names)
    finally:
        server.should_exit = True
        thread.join(READY_TIMEOUT_S)
        sock.close()


def run_forever(
    *,
    dialect: str,
    host: str,
    port: int,
    faults: Sequence[str],
    seed: int | None,
    api_key: str | None,
    out: TextIO = sys.stdout,
) -> int:
    """Serve in the foreground until interrupted (Ctrl-C or SIGTERM); prints the base URL first. Returns 0."""
    app = create_app(dialect=dialect, faults=faults, seed=seed, api_key=api_key)
    sock = bind(host, port)
    state = app.state.provider
    out.write(f"chatcontract reference provider ({dialect}) at {_url(host, sock.getsockname()[1])}\n")
    out.write(f"models: {', '.join(state.models)}")
    out.write(f"; faults: {', '.join(str(s) for s in state.faults)}\n" if state.faults else "; no faults\n")
    out.flush()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: make that a clean exit (status 0).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_cleanly) if main_thread else None
    try:
        _server(app, quiet=False).run(sockets=[sock])
    finally:
        sock.close()
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)
