"""A raw-socket HTTP server on 127.0.0.1 that misbehaves on purpose: resets, stalls, rate limits, truncated streams.

The reference provider answers like a real API; these behaviours need control below HTTP (a reset mid-body, a
server that never answers), so this server speaks just enough HTTP/1.1 by hand. One thread per connection;
``Connection: close`` on every answer.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

OK_BODY = {
    "id": "cmpl-1",
    "object": "chat.completion",
    "model": "m",
    "created": 1_700_000_000,
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Paris", "tool_calls": None}, "finish_reason": "stop"}
    ],
}


@dataclass
class Misbehaving:
    """How the server answers, by ``mode``.

    ``reset`` closes without answering, ``stall`` never answers, ``endless`` sends a stream that never ends (when
    one is asked for), ``rate-limit`` answers 429 with ``Retry-After: <retry_after>`` to the first ``limited``
    requests then OK, ``forbidden`` answers 403 to everything, ``drip`` answers 200 one byte every ``drip`` seconds
    (an SSE stream when one is asked for, else a JSON body with its Content-Length), ``drip-stream`` drips the
    streams only, ``ok``. ``GET /v1/models`` lists one model,
    ``other-model`` (in ``no-models`` mode: 404, and otherwise ``ok``). ``requests`` holds every request body as it came
    off the wire.
    """

    mode: str
    limited: int = 2
    retry_after: str = "0"
    drip: float = 1.0
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            if head.startswith(b"GET "):
                if self.mode == "no-models":
                    self._send(conn, 404, {"detail": "Not Found"})
                else:
                    self._send(conn, 200, {"object": "list", "data": [{"id": "other-model", "object": "model"}]})
                return
            with self._lock:
                self.requests.append(body)
                count = len(self.requests)
            if self.mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return
            if self.mode == "endless" and b'"stream":true' in body.replace(b" ", b""):
                # a stream that never ends: one chunk every 50 ms (other requests get an ordinary answer)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
                chunk = {**OK_BODY, "object": "chat.completion.chunk"}
                chunk["choices"] = [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}]
                line = b"data: " + json.dumps(chunk).encode() + b"\n\n"
                for _ in range(2000):
                    conn.sendall(line)
                    time.sleep(0.05)
                return
            streamed = b'"stream":true' in body.replace(b" ", b"")
            if self.mode == "drip" or (self.mode == "drip-stream" and streamed):
                self._drip(conn, streamed)
                return
            if self.mode == "stall":
                time.sleep(3)
                return
            if self.mode == "forbidden":  # a gateway that blocks the model: a status the APIs do not document
                self._send(
                    conn,
                    403,
                    {
                        "object": "error",
                        "message": "model blocked by policy",
                        "type": "forbidden",
                        "param": None,
                        "code": None,
                    },
                )
                return
            if self.mode == "rate-limit" and count <= self.limited:
                self._send(
                    conn,
                    429,
                    {"object": "error", "message": "slow down", "type": "rate_limited", "param": None, "code": "1300"},
                    extra=f"Retry-After: {self.retry_after}\r\n",
                )
                return
            self._send(conn, 200, OK_BODY)
        except OSError:
            return
        finally:
            conn.close()

    def _drip(self, conn: socket.socket, stream: bool) -> None:
        if stream:
            chunk = {**OK_BODY, "object": "chat.completion.chunk"}
            chunk["choices"] = [{"index": 0, "delta": {"role": "assistant", "content": "x"}, "finish_reason": None}]
            payload = b"data: " + json.dumps(chunk).encode() + b"\n\n" + b"data: [DONE]\n\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        else:
            payload = json.dumps(OK_BODY).encode()
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(payload)).encode()
                + b"\r\nConnection: close\r\n\r\n"
            )
        for i in range(len(payload)):  # each byte well within any read timeout; the whole far beyond it
            conn.sendall(payload[i : i + 1])
            time.sleep(self.drip)

    @staticmethod
    def _send(conn: socket.socket, status: int, body: object, extra: str = "") -> None:
        payload = json.dumps(body).encode()
        reason = {200: "OK", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}[status]
        conn.sendall(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"{extra}Connection: close\r\n\r\n".encode()
            + payload
        )


@contextmanager
def misbehaving(mode: str, **kwargs: Any) -> Iterator[Misbehaving]:
    server = Misbehaving(mode, **kwargs)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(0.2)
    server.port = sock.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=server.handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(5)
        sock.close()
