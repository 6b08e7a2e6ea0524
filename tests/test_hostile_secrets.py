"""Hostile secrets: a server that echoes every planted credential back, recorded through pytest-recording.

A local Starlette app (uvicorn on 127.0.0.1, a free port) answers whatever it was sent: every request header,
the URL with its query and the JSON body come back in response headers, in a JSON body, in SSE events (one of
them split across two chunks) and in a gzip-compressed body; it also sets credentials of its own (``Set-Cookie``,
``X-Debug-Token``, ``X-Upstream-Api-Key``, ``X-Client-Secret``, a URL with a password). 29 planted shapes in all,
most without any recognisable token shape. Recorded with the plugin's defaults, no cassette may hold any of them
in any encoding; recorded with the defaults off, ``chatcontract cassettes audit`` must find every one of them, at
its origin and at every place it was echoed.

The fake secrets are assembled at import time, so no key-shaped literal sits in the source.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatcontract import cli
from chatcontract.cassettes import PLACEHOLDER, audit
from chatcontract.cassettes.secrets import mask

from .plugin._llm import BASE_INI

URL_ENV = "CHATCONTRACT_TEST_ECHO_URL"


@dataclass(frozen=True)
class Shape:
    """One planted secret: where it goes (``header``, ``query``, ``body`` path, or ``response`` for the server's
    own), its value, and the text it is sent as (a header value with its scheme, a cookie list)."""

    name: str
    where: str
    key: str
    value: str
    sent: str = ""

    @property
    def wire(self) -> str:
        return self.sent or self.value


def _tag(n: int) -> str:
    return f"S{n:02d}"  # every value starts with its own 4-character tag, so masked excerpts tell them apart


_MIX = "q7fLm2Xc9Rt4Vb8Nw1Kd6Hs3Jp0Gy5Ta"
_BASIC = base64.b64encode(f"alice:{_tag(8)}pw-{_MIX[:10]}".encode()).decode()
SHAPES: tuple[Shape, ...] = (
    Shape("authorization", "header", "Authorization", "sk-" + "proj-" + _MIX + "e4Wq",
          sent="Bearer " + "sk-" + "proj-" + _MIX + "e4Wq"),
    Shape("api-key", "header", "api-key", _tag(2) + "azure" + _MIX[:20]),
    Shape("x-api-key", "header", "x-api-key", _tag(3) + "anth" + _MIX[5:25]),
    Shape("x-goog-api-key", "header", "x-goog-api-key", _tag(4) + "goog" + _MIX[3:23]),
    Shape("openai-organization", "header", "openai-organization", _tag(5) + "org" + _MIX[:14]),
    Shape("openai-project", "header", "openai-project", _tag(6) + "proj" + _MIX[9:25]),
    Shape("cookie", "header", "Cookie", _tag(7) + "sess" + _MIX[2:22],
          sent=f"session={_tag(7)}sess{_MIX[2:22]}; theme=dark"),
    Shape("proxy-authorization", "header", "Proxy-Authorization", _BASIC, sent="Basic " + _BASIC),
    Shape("ocp-apim-subscription-key", "header", "Ocp-Apim-Subscription-Key", _tag(9) + "apim" + _MIX[4:24]),
    Shape("query key", "query", "key", _tag(10) + "gkey" + _MIX[6:26]),
    Shape("query sig", "query", "sig", _tag(11) + "/sig+" + _MIX[1:15] + "=="),
    Shape("query token", "query", "token", _tag(12) + "tok" + _MIX[7:27]),
    Shape("query api_key", "query", "api_key", _tag(13) + "qak" + _MIX[8:28]),
    Shape("query access_token", "query", "access_token", _tag(14) + "qat" + _MIX[10:30]),
    Shape("query client_secret", "query", "client_secret", _tag(15) + "qcs" + _MIX[11:31]),
    Shape("body auth.token", "body", "auth.token", _tag(16) + "nest" + _MIX[:18]),
    Shape("body password", "body", "password", _tag(17) + "Correct-Horse-" + _MIX[:6]),
    Shape("body apiKey", "body", "apiKey", _tag(18) + "camel" + _MIX[3:21]),
    Shape("body access_token", "body", "access_token", _tag(19) + "bat" + _MIX[4:22]),
    Shape("body client_secret", "body", "client_secret", _tag(20) + "bcs" + _MIX[5:23]),
    Shape("body credentials[0].refresh_token", "body", "credentials.0.refresh_token", _tag(21) + "rt" + _MIX[6:24]),
    Shape("body db.db_password", "body", "db.db_password", _tag(22) + "dbpw" + _MIX[7:25]),
    Shape("body session_token", "body", "session_token", _tag(23) + "st" + _MIX[8:26]),
    Shape("body x_api_key", "body", "options.x_api_key", _tag(24) + "xak" + _MIX[9:27]),
    Shape("response set-cookie", "response", "Set-Cookie", _tag(25) + "cook" + _MIX[:20],
          sent=f"__Secure-sid={_tag(25)}cook{_MIX[:20]}; Path=/; HttpOnly"),
    Shape("response x-debug-token", "response", "X-Debug-Token", _tag(26) + "dbg" + _MIX[1:21]),
    Shape("response x-upstream-api-key", "response", "X-Upstream-Api-Key", _tag(27) + "ups" + _MIX[2:22]),
    Shape("response x-client-secret", "response", "X-Client-Secret", _tag(28) + "ccs" + _MIX[3:23]),
    Shape("response url password", "response", "callback", _tag(29) + "urlpw" + _MIX[4:20]),
)
assert len(SHAPES) == 29 and len({mask(s.value) for s in SHAPES}) == 29
REQUEST_SHAPES = [s for s in SHAPES if s.where != "response"]


def request_body() -> dict[str, Any]:
    """The chat request: the body shapes at their paths, and a header secret repeated in a message."""
    body: dict[str, Any] = {"model": "mistral-small-latest", "messages": [
        {"role": "user", "content": f"My api-key is {SHAPES[1].value}, repeat it."}]}
    for shape in (s for s in SHAPES if s.where == "body"):
        node: Any = body
        keys = shape.key.split(".")
        for name, following in zip(keys, keys[1:], strict=False):
            if name.isdigit():
                node = node[int(name)]
            else:
                node = node.setdefault(name, [{}] if following.isdigit() else {})
        node[keys[-1]] = shape.value
    return body


# -- the echo server -------------------------------------------------------------------------------------------------
_QUIET = {"host", "content-length", "accept", "accept-encoding", "connection", "user-agent", "content-type"}


async def _echo(request: Request) -> Response:
    raw = await request.body()
    body = json.loads(raw) if raw else {}
    sent_headers = [[name, value] for name, value in request.headers.items() if name not in _QUIET]
    echo = {"url": str(request.url), "headers": sent_headers, "query": list(request.query_params.multi_items()),
            "body": body, "callback": f"https://svc:{SHAPES[28].value}@hooks.example/cb"}
    completion = {"id": "cmpl-e5cc70bb28c444948073e77776eb30ef", "object": "chat.completion",
                  "model": "mistral-small-latest", "created": 1702256327,
                  "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(echo)},
                               "finish_reason": "stop"}], "echo": echo}
    headers = {f"x-echoed-{i}": value for i, (_, value) in enumerate(sent_headers)}
    headers["x-echoed-url"] = str(request.url)
    kind = request.path_params["kind"]
    if kind == "sse":
        base = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 1702256327,
                "model": "mistral-small-latest"}

        def event(content: str, **extra: Any) -> bytes:
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}], **extra}
            return b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n"

        split = SHAPES[2].value
        events = [b": keep-alive\r\n\r\n", event("Echo: "), event("key " + split[:9]), event(split[9:] + " ok")]
        events += [event(f"{name}={value} ") for name, value in [*sent_headers, *echo["query"]]]
        events += [event("", echo=echo), b"data: [DONE]\r\n\r\n"]
        content, media = b"".join(events), "text/event-stream; charset=utf-8"
    else:
        content, media = json.dumps(completion).encode(), "application/json"
    if kind == "gzip":
        content = gzip.compress(content)
        headers["content-encoding"] = "gzip"
    response = Response(content, media_type=media, headers=headers)
    response.headers.append("set-cookie", SHAPES[24].sent)
    for shape in SHAPES[25:28]:
        response.headers.append(shape.key, shape.value)
    return response


APP = Starlette(routes=[Route("/{kind}/v1/chat/completions", _echo, methods=["POST"])])


@dataclass
class EchoServer:
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def echo_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[EchoServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(APP, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    running = EchoServer(server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}")
    monkeypatch.setenv(URL_ENV, running.url)
    try:
        yield running
    finally:
        running.stop()
        sock.close()


# -- the recorded tests ----------------------------------------------------------------------------------------------
INNER = f'''
import json
import os

import httpx
import pytest

SHAPES = json.loads({json.dumps(json.dumps([s.__dict__ for s in SHAPES]))})
BODY = json.loads({json.dumps(json.dumps(request_body()))})
HEADERS = {{s["key"]: s["sent"] or s["value"] for s in SHAPES if s["where"] == "header"}}
QUERY = [(s["key"], s["value"]) for s in SHAPES if s["where"] == "query"]


def url(kind):
    return os.environ["{URL_ENV}"] + f"/{{kind}}/v1/chat/completions"


@pytest.mark.vcr
@pytest.mark.parametrize("kind", ["json", "gzip"])
def test_echo(kind):
    with httpx.Client(headers=HEADERS) as client:
        response = client.post(url(kind), params=QUERY, json=BODY)
    assert response.status_code == 200 and response.json()["object"] == "chat.completion"


@pytest.mark.vcr
def test_echo_stream():
    with httpx.Client(headers=HEADERS) as client:
        with client.stream("POST", url("sse"), params=QUERY, json={{**BODY, "stream": True}}) as response:
            assert b"".join(response.iter_bytes()).endswith(b"data: [DONE]\\r\\n\\r\\n")
'''
RECORDED = ["test_echo[gzip]", "test_echo[json]", "test_echo_stream"]


def _record(pytester: pytest.Pytester, *ini: str) -> dict[str, str]:
    pytester.makeini(BASE_INI + "".join(line + "\n" for line in ini))
    pytester.makepyfile(test_rec=INNER)
    pytester.runpytest("--record-mode=once", "-p", "no:randomly").assert_outcomes(passed=3)
    folder = pytester.path / "cassettes" / "test_rec"
    return {p.stem: p.read_text() for p in sorted(folder.glob("*.yaml"))}


def encodings(shape: Shape) -> set[str]:
    """Every form in which a planted value could survive in a cassette."""
    forms = {shape.value, shape.wire}
    if shape.key == "Proxy-Authorization":
        decoded = base64.b64decode(shape.value).decode()
        forms |= {decoded, decoded.partition(":")[2]}
    out = set()
    for form in forms:
        out |= {form, quote(form, safe=""), quote_plus(form, safe=""), json.dumps(form)[1:-1]}
        out.add(base64.b64encode(form.encode()).decode())
    return out


def survivors(cassettes: dict[str, str]) -> list[tuple[str, str]]:
    """``(cassette, shape)`` for every planted value found in any encoding, in the text or its unfolded strings."""
    found = []
    for name, text in cassettes.items():
        unfolded = text + json.dumps(yaml.safe_load(text), ensure_ascii=False, default=repr)
        found += [(name, s.name) for s in SHAPES if any(form in unfolded for form in encodings(s))]
    return found


def test_nothing_planted_survives_recording(pytester: pytest.Pytester, echo_server: EchoServer,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # Given 29 planted secrets sent or set in every shape, and a server that echoes all of them back
    # When the tests record through pytest-recording with chatcontract's defaults
    cassettes = _record(pytester)
    # Then no cassette holds any of them, in any encoding
    assert sorted(cassettes) == RECORDED
    assert survivors(cassettes) == []
    assert all(PLACEHOLDER in text for text in cassettes.values())
    # ... and the SSE body kept its framing (keep-alive comment, CRLF) around the placeholders
    stream = yaml.safe_load(cassettes["test_echo_stream"])["interactions"][0]["response"]["body"]["string"]
    assert stream.startswith(": keep-alive\r\n\r\ndata: {") and stream.endswith("data: [DONE]\r\n\r\n")
    echoed = [s for s in REQUEST_SHAPES if s.where != "body"]
    assert stream.count("\r\n\r\n") == 6 + len(echoed)  # one event per echoed header or query item, 6 others
    # ... which the audit confirms
    capsys.readouterr()
    assert cli.main(["cassettes", "audit", str(pytester.path / "cassettes")]) == 0
    assert "0 secret(s) found" in capsys.readouterr().err

    # When the server is gone and the tests replay offline
    echo_server.stop()
    # Then the scrubbed requests still match (the header secret repeated in the body is redacted alike)
    pytester.runpytest("--record-mode=none", "-p", "no:randomly").assert_outcomes(passed=3)


def test_the_audit_finds_every_planted_shape_in_an_unscrubbed_copy(
        pytester: pytest.Pytester, echo_server: EchoServer, capsys: pytest.CaptureFixture[str]) -> None:
    # Given cassettes recorded with chatcontract's defaults off: everything verbatim, the gzip body compressed
    cassettes = _record(pytester, "chatcontract_vcr_defaults = false")
    assert len(survivors(cassettes)) >= 3 * len(REQUEST_SHAPES)
    # When they are audited
    folder = pytester.path / "cassettes"
    findings = audit(folder)
    # Then every planted shape is found where it was sent or set ...
    by_file: dict[str, list[tuple[str, str, str]]] = {}
    for f in findings:
        by_file.setdefault(f.path.stem, []).append((f.location, f.kind, f.excerpt))
    assert sorted(by_file) == RECORDED
    for name, found in by_file.items():
        for shape in SHAPES:
            if shape.where == "header":
                origin = f"request.headers.{shape.key.lower()}"
            elif shape.where == "query":
                origin = f"request.uri?{shape.key}"
            elif shape.where == "body":
                origin = "request.body$." + shape.key.replace(".0.", "[0].")
            elif shape.key == "callback":
                origin = "response.body"
            else:
                origin = f"response.headers.{shape.key.lower()}"
            assert any(loc.startswith(origin) for loc, _, _ in found), (name, shape.name, found)
            # ... and wherever the server echoed a request secret: response headers and body (SSE events,
            # the decoded gzip body), whatever its shape
            if shape.where != "response":
                excerpts = {mask(form) for form in encodings(shape)}
                echoed = {loc.split(" ")[0].split(".")[1].rstrip("$") for loc, _, excerpt in found
                          if loc.startswith("response.") and excerpt in excerpts}
                assert echoed >= {"body"} if shape.where == "body" else echoed >= {"headers", "body"}, (
                    name, shape.name, found)
    assert {kind for _, kind, _ in by_file["test_echo[json]"]} >= {"request-secret", "secret-header", "secret-key",
                                                                   "secret-query-param"}
    # And the command line says so, masked, with exit 1
    capsys.readouterr()
    assert cli.main(["cassettes", "audit", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert f"{len(findings)} secret(s) found under {folder}" in err and "malformed" not in err
    assert not [s.name for s in SHAPES if any(form in out for form in encodings(s))]


def test_the_audit_reports_malformed_cassettes_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a folder with a clean cassette, a truncated one and one with a response missing its status
    (tmp_path / "clean.yaml").write_text("interactions: []\nversion: 1\n")
    (tmp_path / "truncated.yaml").write_text(f"interactions:\n- request: {{uri: 'http://x/?api_key={SHAPES[12].value}")
    (tmp_path / "no-status.yaml").write_text(yaml.safe_dump({"version": 1, "interactions": [
        {"request": {"method": "POST", "uri": "http://x/", "headers": {}, "body": None},
         "response": {"headers": {}, "body": {"string": ""}}}]}))
    # When the folder is audited
    assert cli.main(["cassettes", "audit", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    # Then each malformed file is named as such, with what is wrong, and not counted as a secret ...
    assert f"{tmp_path / 'no-status.yaml'}: malformed cassette, not audited (interaction 0): " in out
    assert "response status code None is not an HTTP status" in out
    assert f"{tmp_path / 'truncated.yaml'}: malformed cassette, not audited: not valid YAML" in out
    # ... while its raw text is still searched for secret shapes
    assert f"{tmp_path / 'truncated.yaml'}: file text: secret-param S13q…" in out
    assert "1 secret(s) found" in err and "2 malformed cassette(s) could not be audited" in err


def test_echoes_in_unusual_places_are_found_anywhere_in_the_file(tmp_path: Path) -> None:
    # Given a cassette whose request sent an api-key (no token shape) that the response repeats in its status
    # message, in an extra interaction field and in the cassette's metadata
    secret = SHAPES[1].value
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "metadata": {"note": f"recorded with {secret}"}, "interactions": [
        {"request": {"method": "POST", "uri": "http://x/v1/chat/completions", "headers": {"api-key": [secret]},
                     "body": None},
         "response": {"status": {"code": 401, "message": f"bad key {secret}"}, "headers": {},
                      "body": {"string": ""}},
         "debug": [f"key={secret}"]}]}))
    # When it is audited, then the key is found where it was sent and at each of those places
    assert sorted((f.location, f.kind) for f in audit(path)) == [
        ("cassette$.interactions[0].debug[0]", "request-secret"),
        ("cassette$.interactions[0].response.status.message", "request-secret"),
        ("metadata$.note", "request-secret"),
        ("request.headers.api-key", "secret-header"),
    ]


def test_an_audit_of_a_scrubbed_echo_is_clean_even_when_the_secret_is_short_and_common() -> None:
    # A request secret shorter than 8 characters is replaced where it was sent, not searched for elsewhere:
    # a cookie "lang=en" must not blank every "en" of the recording
    from chatcontract.cassettes import KnownSecrets

    known = KnownSecrets(["lang=en", "Bearer abc", f"Basic {_BASIC}"])
    assert "en" not in known and "abc" not in known
    assert _BASIC in known and f"alice:{_tag(8)}pw-{_MIX[:10]}" in known and f"{_tag(8)}pw-{_MIX[:10]}" in known
    assert [span[:2] for span in known.spans(f"x {_BASIC} y")] == [(2, 2 + len(_BASIC))]


@pytest.mark.parametrize("kind", ["json", "sse"])
def test_many_known_secrets_are_searched_in_one_pass(kind: str) -> None:
    # 1,000 request secrets and a 2 MB echo: one pass, not one per secret
    from chatcontract.cassettes.secrets import KnownSecrets, scan_body

    values = [f"{i:04d}-" + _MIX for i in range(1000)]
    known = KnownSecrets(values)
    text = " ".join(values) * 30
    pieces = [text[i:i + 2000] for i in range(0, len(text), 2000)]
    body = (json.dumps({"echo": text}) if kind == "json" else
            "".join(f"data: {json.dumps({'content': piece})}\n\n" for piece in pieces)).encode()
    started = time.perf_counter()
    hits: list[Any] = []
    out = scan_body(body, "text/event-stream" if kind == "sse" else "application/json", "response.body", hits, known)
    assert time.perf_counter() - started < 20
    assert _MIX not in out.decode() and len(hits) >= 29_000


def test_the_starlette_app_serves_plain_requests_too() -> None:
    # The app itself, without recording: it echoes what it got (so the assertions above test the scrubber)
    from starlette.testclient import TestClient

    with TestClient(APP) as client:
        response = client.post("/json/v1/chat/completions", params={"key": "k" * 10}, json={"password": "p" * 10},
                               headers={"api-key": "a" * 10})
    echo = response.json()["echo"]
    assert ["api-key", "a" * 10] in echo["headers"] and echo["query"] == [["key", "k" * 10]]
    assert echo["body"] == {"password": "p" * 10} and response.headers["x-debug-token"] == SHAPES[25].value
