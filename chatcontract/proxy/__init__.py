"""``chatcontract proxy``: a checking, recording proxy between a chat client in any language and its provider.

The client points at the proxy instead of the provider; the proxy forwards every request (a raw ASGI app on
uvicorn in front, httpcore keep-alive connections behind), sends every answer back as it arrives, and judges the
chat-completion exchanges on the way with the engine (:func:`~chatcontract.check` with the request,
:class:`~chatcontract.StreamChecker` for streams). What it found is a results file of the same format as a fuzz
run's (``kind: proxy``); ``--record`` writes the exchanges as a cassette the pytest plugin replays; ``--enforce``
turns broken answers into errors the client's SDK raises on.

- :mod:`.app`: the ASGI app (forwarding, checking, enforcing);
- :mod:`.upstream`: the upstream leg's connection pool and the forward proxy of ``HTTP_PROXY``/``NO_PROXY``;
- :mod:`.session`: options and the run's state (findings, counts, printed lines, results);
- :mod:`.recording`: the cassette, through the plugin's scrubbers and VCR.py's serializer;
- :mod:`.server`: uvicorn in a thread (:func:`serve`) or in the foreground until a signal;
- :mod:`.command`: the ``chatcontract proxy`` subcommand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .recording import Recorder
    from .server import RunningProxy, serve
    from .session import Exchange, ProxyOptions, ProxySession

__all__ = ["Exchange", "ProxyOptions", "ProxySession", "Recorder", "RunningProxy", "create_app", "serve"]

#: Where each public name lives: imported on first use, so that building the command line (which registers the
#: ``proxy`` subcommand) loads neither uvicorn nor httpx.
_HOMES = {
    "create_app": "app",
    "Recorder": "recording",
    "RunningProxy": "server",
    "serve": "server",
    "Exchange": "session",
    "ProxyOptions": "session",
    "ProxySession": "session",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
