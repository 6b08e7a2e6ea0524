"""Shared helpers for the proxy tests: a proxy in front of an upstream, and a faulty upstream of our own.

The faulty upstream is a starlette app served by uvicorn (like the reference provider) whose answers break the
way networks do, below the contract: a stream reset after two chunks, an upstream that never answers (or stops
mid-stream), an HTML 500 page. The model named in the request picks the behaviour.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from chatcontract.provider.server import bind
from chatcontract.proxy import ProxyOptions, RunningProxy, serve

MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]

CHUNK = {
    "id": "chatcmpl-faulty",
    "object": "chat.completion.chunk",
    "created": 1_700_000_000,
    "model": "m",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "logprobs": None, "finish_reason": None}],
}
ANSWER = {
    "id": "chatcmpl-faulty",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


class _Reset(Exception):
    """Raised mid-body: uvicorn then drops the connection without ending the chunked body."""


async def _chat(request: Request) -> Response:
    body = json.loads(await request.body())
    mode = body.get("model")
    chunk = {**CHUNK, "model": mode}  # the model echoed, as the APIs do
    if mode == "hang":
        await asyncio.sleep(5)
    if mode == "html-500":
        return HTMLResponse("<html><body><h1>500 Internal Server Error</h1></body></html>", status_code=500)
    if mode in ("reset-mid-stream", "hang-mid-stream"):

        async def events() -> AsyncIterator[bytes]:
            for _ in range(2):
                yield b"data: " + json.dumps(chunk).encode() + b"\n\n"
            if mode == "hang-mid-stream":
                await asyncio.sleep(5)
            raise _Reset

        return StreamingResponse(events(), media_type="text/event-stream")
    if mode == "reasoning-not-text":  # reasoning_content that is not text: CC220 only with the reasoning extension
        if body.get("stream"):
            first = {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": 7}}]}
            last = {**chunk, "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}]}
            payload = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in (first, last))
            return Response(payload + b"data: [DONE]\n\n", media_type="text/event-stream")
        message = {**ANSWER["choices"][0]["message"], "reasoning_content": ["think", "ing"]}  # type: ignore[index]
        return JSONResponse({**ANSWER, "model": mode, "choices": [{**ANSWER["choices"][0], "message": message}]})  # type: ignore[index]
    if mode == "slow-stream":  # ten chunks 0.1 s apart, conforming: for clients that leave mid-stream

        async def slow() -> AsyncIterator[bytes]:
            first = chunk
            for i in range(10):
                yield b"data: " + json.dumps(first).encode() + b"\n\n"
                first = {**chunk, "choices": [{"index": 0, "delta": {"content": str(i)}, "finish_reason": None}]}
                await asyncio.sleep(0.1)
            last = {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield b"data: " + json.dumps(last).encode() + b"\n\ndata: [DONE]\n\n"

        return StreamingResponse(slow(), media_type="text/event-stream")
    return JSONResponse({**ANSWER, "model": mode})


BULK = bytes(range(256)) * 4096 * 8  # 8 MiB


async def _bulk(request: Request) -> Response:
    """GET: 8 MiB streamed in 64 KiB pieces; POST: the size and a digest of what was uploaded."""
    import hashlib

    if request.method == "POST":
        digest, size = hashlib.sha256(), 0
        async for part in request.stream():
            digest.update(part)
            size += len(part)
        return JSONResponse({"size": size, "sha256": digest.hexdigest()})

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(BULK), 65536):
            yield BULK[start : start + 65536]

    return StreamingResponse(pieces(), media_type="application/octet-stream")


async def _cookie(request: Request) -> Response:
    """Sets a session cookie and says which cookie it received."""
    answer = JSONResponse({"cookie": request.headers.get("cookie")})
    answer.set_cookie("session", "upstream-session-1")
    return answer


@contextmanager
def serve_in_thread(app: Any, **options: Any) -> Iterator[int]:
    """Serve the ASGI ``app`` with uvicorn (h11, asyncio, quiet) in a thread on a free loopback port; yields the
    port, and stops the server and closes its socket on exit. ``options``: more ``uvicorn.Config`` settings."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        app, log_config=None, log_level="critical", lifespan="off", http="h11", loop="asyncio", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def faulty_upstream() -> Iterator[str]:
    """A faulty upstream on a free port; yields its base URL (``http://127.0.0.1:PORT/v1``)."""

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", _chat, methods=["POST"]),
            Route("/v1/cookie", _cookie),
            Route("/v1/bulk", _bulk, methods=["GET", "POST"]),
        ]
    )
    with serve_in_thread(app, timeout_graceful_shutdown=1) as port:
        yield f"http://127.0.0.1:{port}/v1"


@contextmanager
def proxy_to(upstream: str, **options: Any) -> Iterator[tuple[RunningProxy, io.StringIO]]:
    """The proxy in front of ``upstream`` on a free port; yields it and what it printed."""
    out = io.StringIO()
    with serve(ProxyOptions(upstream=upstream, port=0, **options), out=out) as proxy:
        yield proxy, out


def codes_of(interaction: Any, dialect: str) -> list[str]:
    """The distinct rule codes ``check()`` reports for a recorded interaction, in report order (as the plugin's
    cassette items check it: the recorded answer with the recorded request)."""
    from chatcontract.cassettes.check import CassetteSettings, check_interaction

    report = check_interaction(interaction, CassetteSettings(dialect=dialect)).report
    return list(dict.fromkeys(report.codes()))


class CliProxy:
    """``chatcontract proxy`` running as a subprocess (port 0); :meth:`stop` sends a signal and collects output."""

    def __init__(self, upstream: str, *args: str, cwd: str | None = None) -> None:
        import os
        import subprocess
        import sys

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "chatcontract", "proxy", "--upstream", upstream, "--port", "0", *args]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
        )
        self.banner: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.banner.append(line)
            if line.startswith("point your client at "):
                self.base_url = line.split()[4].rstrip(";")
                break
        else:
            raise RuntimeError(f"the proxy did not start: {''.join(self.banner)}{self.process.stderr.read()}")  # type: ignore[union-attr]
        self.stdout = ""
        self.stderr = ""
        self.returncode: int | None = None

    @property
    def root_url(self) -> str:
        return self.base_url.rsplit("/v1", 1)[0]

    def stop(self, sig: int | None = None) -> int:
        import signal

        if self.returncode is None:
            self.process.send_signal(sig if sig is not None else signal.SIGTERM)
            out, err = self.process.communicate(timeout=30)
            self.stdout, self.stderr, self.returncode = "".join(self.banner) + out, err, self.process.returncode
        return self.returncode


@contextmanager
def cli_proxy(upstream: str, *args: str, cwd: str | None = None) -> Iterator[CliProxy]:
    proxy = CliProxy(upstream, *args, cwd=cwd)
    try:
        yield proxy
    finally:
        if proxy.returncode is None:
            try:
                proxy.stop()
            except Exception:
                proxy.process.kill()
                proxy.process.wait(10)
