"""Shared builders for the stream tests, and a canned-SSE HTTP server on 127.0.0.1.

Chunks are built as plain dicts (``chunk``/``choice``), serialized to SSE text (``sse``), checked, and compared as
``(code, event, path)`` triples (``triples``). :class:`CannedSSEServer` serves fixed byte streams over real HTTP
(chunked transfer encoding or connection close), one event per write, for the end-to-end tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chatcontract import check

DIALECTS = ("mistral", "openai")
CREATED = 1700000000
USAGE: dict[str, int] = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
MESSAGES = [{"role": "user", "content": "Say hello"}]
#: An OpenAI streaming request that asks for usage (the final ``choices: []`` chunk).
REQUEST_USAGE: dict[str, Any] = {
    "model": "m",
    "messages": MESSAGES,
    "stream": True,
    "stream_options": {"include_usage": True},
}
REQUEST_PLAIN: dict[str, Any] = {"model": "m", "messages": MESSAGES, "stream": True}
DONE = "[DONE]"


def chunk(choices: Any, *, id: str = "c1", model: str = "m", created: int = CREATED, **extra: Any) -> dict[str, Any]:
    """A chunk envelope (``object`` ``chat.completion.chunk``); ``extra`` adds or overrides top-level keys."""
    doc: dict[str, Any] = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choices,
    }
    doc.update(extra)
    return doc


def choice(dialect: str, delta: Mapping[str, Any], finish: str | None = None, *, index: int = 0) -> dict[str, Any]:
    """One stream choice; OpenAI choices carry ``logprobs: null`` like the API sends."""
    out: dict[str, Any] = {"index": index, "delta": dict(delta), "finish_reason": finish}
    if dialect == "openai":
        out["logprobs"] = None
    return out


def first(dialect: str, content: str = "Hel", **extra: Any) -> dict[str, Any]:
    """The first chunk of a one-choice stream: role and some content."""
    return chunk([choice(dialect, {"role": "assistant", "content": content})], **extra)


def middle(dialect: str, content: str = "l", **extra: Any) -> dict[str, Any]:
    """A content chunk with no finish reason."""
    return chunk([choice(dialect, {"content": content})], **extra)


def final(dialect: str, content: str = "lo", finish: str = "stop", **extra: Any) -> dict[str, Any]:
    """The finishing chunk; Mistral's carries the usage (as Mistral's API does)."""
    if dialect == "mistral":
        extra.setdefault("usage", dict(USAGE))
    return chunk([choice(dialect, {"content": content}, finish)], **extra)


def usage_chunk(usage: Mapping[str, int] | None = None, **extra: Any) -> dict[str, Any]:
    """OpenAI's extra last chunk with ``choices: []`` and the usage."""
    return chunk([], usage=dict(usage or USAGE), **extra)


def events_ok(dialect: str) -> list[Any]:
    """The events (without ``[DONE]``) of a minimal conforming stream of the dialect."""
    if dialect == "mistral":
        return [first(dialect), middle(dialect), final(dialect)]
    return [first(dialect), middle(dialect), final(dialect), usage_chunk()]


def request_for(dialect: str) -> dict[str, Any] | None:
    """The request that goes with :func:`events_ok` (OpenAI asks for usage)."""
    return dict(REQUEST_USAGE) if dialect == "openai" else None


def data_line(event: Any) -> str:
    """The data of one event: a dict is JSON-encoded, a str is sent as is."""
    return event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)


def sse(*events: Any, done: bool = True, eol: str = "\n") -> str:
    """Serialize events as ``data: ...`` SSE events, followed by ``data: [DONE]`` unless ``done`` is False."""
    items = [data_line(e) for e in events]
    if done:
        items.append(DONE)
    return "".join(f"data: {item}{eol}{eol}" for item in items)


def triples(report: Any) -> set[tuple[str, int | None, str]]:
    """The ``(code, event, path)`` triples of a report."""
    return {(v.code, v.event, v.path) for v in report.violations}


def check_stream(payload: Any, dialect: str, **kwargs: Any) -> Any:
    """``check()`` forced to treat ``payload`` as a stream."""
    return check(payload, dialect=dialect, stream=True, **kwargs)


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """Split ``data`` at the given offsets (out-of-range and duplicate offsets ignored)."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def bytewise(data: bytes) -> list[bytes]:
    """One byte per piece."""
    return [data[i : i + 1] for i in range(len(data))]


def event_pieces(text: str | bytes) -> list[bytes]:
    """Split an SSE stream after each blank line (one piece per event, comments included)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    pieces: list[bytes] = []
    start = 0
    while True:
        end = raw.find(b"\n\n", start)
        if end < 0:
            break
        pieces.append(raw[start : end + 2])
        start = end + 2
    if start < len(raw):
        pieces.append(raw[start:])
    return pieces


# -- the canned SSE server -----------------------------------------------------------------------------------


@dataclass
class Canned:
    """A canned HTTP response: the body as pieces written (and flushed) one at a time.

    ``chunked`` selects ``Transfer-Encoding: chunked`` (HTTP/1.1 keep-alive); otherwise the body is delimited by
    closing the connection. ``gate_after`` makes the server wait, after writing that many pieces, until the
    server's ``gate`` is set (or ``gate_timeout`` passes): a test can prove a client reads incrementally.
    """

    pieces: Sequence[bytes]
    chunked: bool = True
    status: int = 200
    content_type: str = "text/event-stream; charset=utf-8"
    gate_after: int | None = None
    gate_timeout: float = 5.0


@dataclass
class Received:
    """One request the server received."""

    path: str
    body: Any
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        owner = self.server.owner
        owner.requests.append(Received(self.path, body, {k.lower(): v for k, v in self.headers.items()}))
        canned = owner.route(self.path)
        if canned is None:
            payload = (
                b'{"error": {"message": "no such route", "type": "invalid_request_error", "param": null, "code": null}}'
            )
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(canned.status)
        self.send_header("Content-Type", canned.content_type)
        self.send_header("Cache-Control", "no-cache")
        if canned.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            for n, piece in enumerate(canned.pieces):
                if canned.gate_after is not None and n == canned.gate_after:
                    owner.gate.wait(canned.gate_timeout)
                if piece:
                    if canned.chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    else:
                        self.wfile.write(piece)
                    self.wfile.flush()
            if canned.chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: fine
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: CannedSSEServer


@dataclass
class CannedSSEServer:
    """A threaded HTTP server on 127.0.0.1 (free port) that answers ``POST /s/<name>/...`` with ``routes[name]``."""

    routes: dict[str, Canned] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    _httpd: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    def url(self, name: str, suffix: str = "/v1/chat/completions") -> str:
        """The URL of route ``name`` (``base_url(name) + "/chat/completions"`` by default)."""
        return f"http://127.0.0.1:{self.port}/s/{name}{suffix}"

    def base_url(self, name: str) -> str:
        """An OpenAI-style base URL (``.../v1``) for route ``name``."""
        return self.url(name, "/v1")

    def route(self, path: str) -> Canned | None:
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "s":
            return self.routes.get(parts[2])
        return None

    def add(self, name: str, body: str | bytes, *, per_event: bool = True, **kwargs: Any) -> Canned:
        """Serve ``body`` at route ``name``: one write per SSE event (``per_event``) or the bytes at once."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        canned = Canned(pieces=event_pieces(raw) if per_event else [raw], **kwargs)
        self.routes[name] = canned
        return canned

    def start(self) -> CannedSSEServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> CannedSSEServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def iter_counted(parts: Iterable[bytes], seen: list[bytes], on_first: threading.Event | None = None) -> Iterator[bytes]:
    """Yield ``parts`` unchanged, recording each; set ``on_first`` after the first non-empty part."""
    for part in parts:
        seen.append(part)
        if on_first is not None and part:
            on_first.set()
        yield part
