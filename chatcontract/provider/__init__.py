"""The reference provider: a chat server that keeps the Mistral or OpenAI contract, or breaks it on purpose.

It follows the dialect's contract exactly, and injects real-world faults on request
(``chatcontract serve --fault created-ms:0.5``).

Without faults every answer (JSON bodies, SSE streams, error bodies) passes ``check()`` with the request, in both
dialects; with faults it reproduces the divergences catalogued in :mod:`~chatcontract.provider.faults`, each
naming the rule codes that must catch it. Text comes from a built-in word list, so no model is needed, and a seed
makes every answer byte-for-byte reproducible.

Why starlette + uvicorn: both are small, well-kept, typed ASGI libraries with few dependencies (anyio, h11,
click); starlette gives routing and a streaming response for SSE without a framework on top, and uvicorn runs the
app in-process on a background thread (``serve()``) or as the ``chatcontract serve`` command, while tests can skip
the network entirely with ``httpx.ASGITransport``. Both are imported only when the provider is used.
"""

from __future__ import annotations

from .app import MODELS, create_app
from .faults import FAULTS, Fault, FaultSpec, format_catalogue, parse_faults
from .server import RunningProvider, serve

__all__ = [
    "FAULTS",
    "MODELS",
    "Fault",
    "FaultSpec",
    "RunningProvider",
    "create_app",
    "format_catalogue",
    "parse_faults",
    "serve",
]
