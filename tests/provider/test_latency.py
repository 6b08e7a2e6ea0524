"""The reference provider answers a keep-alive connection at once: no ~40 ms stall per answer.

With Nagle's algorithm on the accepted socket, an answer's body (a second write after its headers) waited for the
client's delayed ACK of the headers: ~40 ms per request after the first on a connection, which capped a fuzz run
at ~20 requests a second. A raw keep-alive client measures the gap between an answer's headers and its body.
"""

from __future__ import annotations

import json
import socket
import statistics
import time

from chatcontract.provider.server import serve

BODY = json.dumps({"model": "ref-small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}).encode()
REQUEST = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)


def _round_trip(conn: socket.socket) -> float:
    start = time.perf_counter()
    conn.sendall(REQUEST)
    data = b""
    while True:
        chunk = conn.recv(65536)
        assert chunk, "the provider closed the keep-alive connection"
        data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            if len(rest) >= length:
                assert head.startswith(b"HTTP/1.1 200")
                return time.perf_counter() - start


def test_keep_alive_answers_do_not_wait_for_delayed_acks() -> None:
    with serve(dialect="mistral", seed=1) as provider:
        with socket.create_connection((provider.host, provider.port), timeout=10) as conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            times = [_round_trip(conn) for _ in range(15)]
    # the first answer on a connection was always quick (Linux acknowledges at once at first); the later ones took
    # 40-45 ms each with Nagle on, and take a few ms without
    assert statistics.median(times[1:]) < 0.025, [round(t * 1e3, 1) for t in times]
