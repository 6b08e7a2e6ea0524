"""A local chat-completion server and canned payloads for the plugin tests (stdlib only, 127.0.0.1 only).

The server answers ``POST /<scenario>/v1/chat/completions`` (and any other path) with a canned JSON completion,
or with an SSE stream when the request body says ``"stream": true``. Scenarios:

* ``ok``          a conforming Mistral completion / stream;
* ``empty-model`` ``"model": ""`` (CC211) in the completion and in every chunk;
* ``no-done``     a stream without ``data: [DONE]`` (CC303); the JSON answer is conforming;
* ``openai``      a conforming OpenAI completion (fails the Mistral contract only with warnings);
* ``secret``      a conforming stream whose second chunk carries a key-shaped string (scrubbing tests).

Every response carries ``Set-Cookie`` and ``x-request-id``. The server remembers every request it received
(``requests``), so tests can show the secrets really went over the wire before they were scrubbed.

Key-shaped values are assembled at import time so that no key-shaped literal sits in the source.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

BASE_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:cacheprovider\n"
"""The ini every inner run gets (pytest-asyncio warns without a loop scope)."""
URL_ENV = "CHATCONTRACT_TEST_LLM_URL"
"""The inner tests read the local server's base URL from this environment variable."""


def write_ini(pytester: Any, *lines: str) -> None:
    """The minimal ini plus ``lines`` (chatcontract ini keys, ...)."""
    pytester.makeini(BASE_INI + "".join(line + "\n" for line in lines))


_MIX = "Q7fLm2Xc9Rt4Vb8Nw1Kd6Hs3Jp0Gy5Ta"  # 32 characters, mixed case and digits
OPENAI_KEY = "sk-" + "proj-" + _MIX + "-e4_Wq"
"""The key sent in ``Authorization: Bearer``."""
QUERY_KEY = "qk" + _MIX[::-1]
"""The value of ``?api_key=``."""
BODY_KEY = "bk-" + "Zz9" + _MIX
"""The value of the request JSON's ``api_key`` field."""
COOKIE = "sess_" + _MIX[5:] + "Ck42"
"""The response's ``Set-Cookie`` session value."""
STREAMED_KEY = "sk-" + "proj-" + _MIX[::-1] + "-Str3am"
"""The key-shaped string the ``secret`` scenario streams back inside an SSE chunk."""
PLANTED = {"authorization": OPENAI_KEY, "query": QUERY_KEY, "body": BODY_KEY, "cookie": COOKIE,
           "sse": STREAMED_KEY}

MISTRAL_COMPLETION: dict[str, Any] = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "created": 1702256327,
    "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris is the capital of France.",
                                         "tool_calls": None, "prefix": False}, "finish_reason": "stop"}],
}
"""Conforms to the Mistral contract; the OpenAI contract rejects it (no refusal, no logprobs: CC101)."""

OPENAI_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4.1-2025-04-14",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!", "refusal": None,
                                         "annotations": []}, "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29},
}


def completion(**overrides: Any) -> dict[str, Any]:
    """The Mistral completion with top-level keys overridden."""
    return {**copy.deepcopy(MISTRAL_COMPLETION), **overrides}


def chunks(*, model: str = "mistral-small-latest", middle: str = "lo") -> list[dict[str, Any]]:
    base = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 1702256327, "model": model}
    return [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": middle}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
    ]


def sse(events: list[dict[str, Any]], *, done: bool = True, preamble: str = "") -> bytes:
    """An SSE body; ``preamble`` goes first verbatim (comments, CRLF framing ...)."""
    body = preamble + "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


SSE_OK = sse(chunks())
SSE_NO_DONE = sse(chunks(), done=False)
SSE_EMPTY_MODEL = sse(chunks(model=""))
SSE_SECRET = sse(chunks(middle=f"lo, your key is {STREAMED_KEY}"), preamble=": keep-alive\r\n\r\n")


def _answer(scenario: str, stream: bool) -> tuple[bytes, str]:
    if stream:
        body = {"ok": SSE_OK, "empty-model": SSE_EMPTY_MODEL, "no-done": SSE_NO_DONE, "secret": SSE_SECRET}.get(
            scenario, SSE_OK)
        return body, "text/event-stream; charset=utf-8"
    doc = {"empty-model": completion(model=""), "openai": OPENAI_COMPLETION}.get(scenario, MISTRAL_COMPLETION)
    return json.dumps(doc).encode(), "application/json"


@dataclass
class LLMServer:
    """A ThreadingHTTPServer on 127.0.0.1 (free port) in a daemon thread."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    requests: list[dict[str, Any]] = field(default_factory=list)

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
    server: Any

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        raw = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        parts = urlsplit(self.path)
        self.server.owner.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                           "headers": dict(self.headers.items()), "body": body})
        scenario = parts.path.strip("/").split("/")[0]
        payload, ctype = _answer(scenario, bool(isinstance(body, dict) and body.get("stream")))
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Set-Cookie", f"session={COOKIE}; Path=/; HttpOnly")
        self.send_header("x-request-id", "req-0001")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass


@contextmanager
def llm_server() -> Iterator[LLMServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    running = LLMServer(server, threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True))
    server.owner = running  # type: ignore[attr-defined]
    running.thread.start()
    try:
        yield running
    finally:
        running.stop()


# -- hand-written cassettes ----------------------------------------------------------------------------------------
def interaction(response: Any, *, uri: str = "https://api.mistral.ai/v1/chat/completions", method: str = "POST",
                request: Any = None, content_type: str = "application/json", status: int = 200,
                request_headers: dict[str, list[str]] | None = None,
                response_headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One VCR.py (format 1) interaction; dict responses are JSON-encoded, bytes/str kept as the body string."""
    if request is None:
        request = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]}
    body = json.dumps(response) if isinstance(response, (dict, list)) else (
        response.decode() if isinstance(response, bytes) else response)
    return {
        "request": {"method": method, "uri": uri, "body": json.dumps(request) if request != "" else None,
                    "headers": {"Content-Type": ["application/json"], **(request_headers or {})}},
        "response": {"status": {"code": status, "message": "OK"},
                     "headers": {"Content-Type": [content_type], **(response_headers or {})},
                     "body": {"string": body}},
    }


def cassette(*interactions: dict[str, Any]) -> str:
    """A VCR.py cassette as YAML text."""
    return yaml.safe_dump({"interactions": list(interactions), "version": 1}, sort_keys=False)


EMBEDDING = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
             "model": "", "usage": {"prompt_tokens": 1, "total_tokens": 1}}
"""A non-chat response that would break the chat contract if it were checked as one."""


INNER = '''
import asyncio, json, os

import httpx, pytest, requests

URL = os.environ["CHATCONTRACT_TEST_LLM_URL"]
REQUEST = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]}


def chat_url(scenario, path="/v1/chat/completions"):
    return URL + "/" + scenario + path


def post(scenario, path="/v1/chat/completions", **extra):
    response = httpx.post(chat_url(scenario, path), json={**REQUEST, **extra})
    assert response.status_code == 200
    return response
'''
"""Imports and helpers for inner test files that talk to the local server (prepend to their source)."""
