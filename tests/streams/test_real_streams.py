"""Real network streams: canned SSE bodies served over HTTP on 127.0.0.1, read by httpx (sync and async), requests
and the official openai SDK, checked incrementally; the findings must equal those of the canned bytes checked
directly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import openai
import pytest
import requests

from chatcontract import check
from chatcontract.streams import StreamChecker

from .helpers import (
    MESSAGES,
    REQUEST_USAGE,
    USAGE,
    CannedSSEServer,
    check_stream,
    choice,
    chunk,
    final,
    first,
    iter_counted,
    middle,
    sse,
    triples,
    usage_chunk,
)

FR = "$.choices[0].finish_reason"
# Everything is plain http:// on 127.0.0.1: no proxies from the environment, and no TLS context (building the
# default one loads the CA bundle, which costs more than a whole test here).
PLAIN: dict[str, Any] = {"trust_env": False, "verify": False}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
OPENAI_REQUEST: dict[str, Any] = {**REQUEST_USAGE, "tools": TOOLS}
MISTRAL_REQUEST: dict[str, Any] = {"model": "m", "messages": MESSAGES, "stream": True, "tools": TOOLS}

_HEAD = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}


def _openai_ok() -> str:
    return sse(
        chunk([choice("openai", {"role": "assistant", "content": None})], usage=None),
        chunk([choice("openai", {"tool_calls": [_HEAD]})], usage=None),
        chunk([choice("openai", {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]})], usage=None),
        chunk([choice("openai", {"tool_calls": [{"index": 0, "function": {"arguments": '"Zürich"}'}}]})], usage=None),
        chunk([choice("openai", {}, "tool_calls")], usage=None),
        usage_chunk(),
    )


def _openai_faulty() -> str:
    # Parses fine in the SDK (which does not validate), but breaks the contract in four places.
    return sse(
        first("openai", "Hé"),
        middle("openai", "llo", id="c2"),  # CC306
        chunk(
            [
                choice(
                    "openai",
                    {
                        "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                        ]
                    },
                )
            ]
        ),  # CC101 index
        chunk([choice("openai", {"content": "!"}, "")]),  # CC103
        final("openai", "", finish="tool_calls"),
        middle("openai", " trailing"),  # CC311
        usage_chunk(),
    )


def _openai_ollama() -> str:
    # ollama/ollama#4357: "" on every chunk, no terminal chunk, no [DONE]
    return sse(
        chunk([choice("openai", {"role": "assistant", "content": "Hi"}, "")]),
        chunk([choice("openai", {"content": " there"}, "")]),
        done=False,
    )


def _openai_error() -> str:
    error = {"message": "upstream overloaded", "param": None, "code": None}
    return sse(first("openai"), middle("openai"), {"error": error}, done=False)


def _openai_cut() -> str:
    text = sse(first("openai"), middle("openai"), final("openai"), usage_chunk())
    return text[: text.index("data: [DONE]") - 30]


def _mistral_ok() -> str:
    call = {
        "id": "abcDEF123",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'},
    }
    return sse(
        chunk([choice("mistral", {"role": "assistant", "content": ""})], usage=None),
        chunk(
            [choice("mistral", {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}]})],
            usage=None,
        ),
        chunk([choice("mistral", {"content": [{"type": "text", "text": "Let me check."}]})], usage=None),
        chunk([choice("mistral", {"content": "", "tool_calls": [call]}, "tool_calls")], usage=dict(USAGE)),
    )


def _mistral_faulty() -> str:
    return (
        "\ufeff"  # CC003 (warning)
        + sse(first("mistral"), done=False)
        + ": keep-alive\n\n"
        + sse(
            middle("mistral", object="chat.completion"),  # CC307 (warning)
            chunk([choice("mistral", {"content": "lo"}, "model_length")], usage=dict(USAGE)),  # CC103
            done=False,  # CC303
        )
    )


CANNED: dict[str, tuple[str, str, dict[str, Any], set[tuple[str, int | None, str]]]] = {
    # name: (dialect, body, request, the findings the canned bytes must give)
    "openai-ok": ("openai", _openai_ok(), OPENAI_REQUEST, set()),
    "openai-faulty": (
        "openai",
        _openai_faulty(),
        OPENAI_REQUEST,
        {
            ("CC306", 1, "$.id"),
            ("CC101", 2, "$.choices[0].delta.tool_calls[0].index"),
            ("CC103", 3, FR),
            ("CC311", 5, "$.choices[0].delta"),
        },
    ),
    "openai-ollama": (
        "openai",
        _openai_ollama(),
        {**REQUEST_USAGE, "stream_options": None},
        {("CC103", 0, FR), ("CC103", 1, FR), ("CC309", None, "$.choices[0]"), ("CC303", None, "$")},
    ),
    "openai-error": (
        "openai",
        _openai_error(),
        OPENAI_REQUEST,
        {("CC315", 2, "$.error"), ("CC101", 2, "$.error.type")},
    ),
    "openai-cut": (
        "openai",
        _openai_cut(),
        OPENAI_REQUEST,
        {("CC302", 3, "$")},  # (cut: its end, [DONE] and the requested usage are not judged)
    ),
    "mistral-ok": ("mistral", _mistral_ok(), MISTRAL_REQUEST, set()),
    "mistral-faulty": (
        "mistral",
        _mistral_faulty(),
        MISTRAL_REQUEST,
        {("CC003", None, "$"), ("CC307", 1, "$.object"), ("CC103", 2, FR), ("CC303", None, "$")},
    ),
}
SDK_PARSEABLE = ["openai-ok", "openai-faulty", "openai-ollama"]


def direct(name: str) -> Any:
    dialect, body, request, _ = CANNED[name]
    return check_stream(body.encode("utf-8"), dialect, request=request)


@pytest.fixture(scope="module")
def server() -> Iterator[CannedSSEServer]:
    srv = CannedSSEServer()
    for name, (_, body, _, _) in CANNED.items():
        srv.add(name, body)  # chunked transfer encoding, one write per event
        srv.add(name + "-close", body, chunked=False)  # body delimited by closing the connection
        srv.add(name + "-blob", body, per_event=False)  # one write
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def gated(server: CannedSSEServer) -> Iterator[CannedSSEServer]:
    server.gate.clear()
    yield server
    server.gate.set()  # never leave a handler waiting


@pytest.mark.parametrize("name", sorted(CANNED))
def test_canned_bytes_give_the_intended_findings(name: str) -> None:
    assert triples(direct(name)) == CANNED[name][3]


# -- (a) httpx, sync -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["", "-close", "-blob"])
@pytest.mark.parametrize("name", sorted(CANNED))
def test_httpx_stream_consume(server: CannedSSEServer, name: str, mode: str) -> None:
    dialect, body, request, _ = CANNED[name]
    checker = StreamChecker(dialect=dialect, request=request)
    received: list[bytes] = []
    with httpx.stream("POST", server.url(name + mode), json=request, **PLAIN) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for part in checker.consume(r.iter_bytes()):
            received.append(part)
    assert b"".join(received) == body.encode("utf-8")
    report = checker.close()
    assert report.violations == direct(name).violations
    assert server.requests[-1].body == request


@pytest.mark.parametrize("name", ["openai-ok", "openai-faulty", "mistral-faulty"])
def test_check_reads_an_unread_httpx_stream_incrementally(gated: CannedSSEServer, name: str) -> None:
    dialect, body, request, _ = CANNED[name]
    canned = gated.routes[name]
    canned.gate_after = 1  # the server sends one event, then waits until the client has received it
    seen: list[bytes] = []
    try:
        with httpx.stream("POST", gated.url(name), json=request, **PLAIN) as r:
            original = r.iter_bytes

            def spy_iter_bytes(*args: Any, **kwargs: Any) -> Iterator[bytes]:
                return iter_counted(original(*args, **kwargs), seen, gated.gate)

            def no_read() -> bytes:
                raise AssertionError("check() must not read the whole streaming body at once")

            r.iter_bytes = spy_iter_bytes  # type: ignore[method-assign]
            r.read = no_read  # type: ignore[method-assign]
            report = check(r, dialect=dialect)  # the request is taken from the response
    finally:
        canned.gate_after = None
    assert report.kind == "stream"
    assert report.status == 200
    assert len([p for p in seen if p]) >= 2
    assert b"".join(seen) == body.encode("utf-8")
    assert report.violations == direct(name).violations


def test_check_a_read_httpx_response(server: CannedSSEServer) -> None:
    dialect, body, request, _ = CANNED["openai-faulty"]
    with httpx.stream("POST", server.url("openai-faulty"), json=request, **PLAIN) as r:
        r.read()
        report = check(r, dialect=dialect)
    assert report.violations == direct("openai-faulty").violations


def test_check_a_requests_streaming_response(server: CannedSSEServer) -> None:
    dialect, body, request, _ = CANNED["openai-faulty"]
    with requests.Session() as session:
        session.trust_env = False
        with session.post(server.url("openai-faulty-close"), json=request, stream=True) as r:
            report = check(r, dialect=dialect)
    assert report.violations == direct("openai-faulty").violations


# -- (b) httpx, async --------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["", "-close"])
@pytest.mark.parametrize("name", sorted(CANNED))
async def test_httpx_async_aconsume(server: CannedSSEServer, name: str, mode: str) -> None:
    dialect, body, request, _ = CANNED[name]
    checker = StreamChecker(dialect=dialect, request=request)
    received: list[bytes] = []
    async with httpx.AsyncClient(**PLAIN) as client:
        async with client.stream("POST", server.url(name + mode), json=request) as r:
            async for part in checker.aconsume(r.aiter_bytes()):
                received.append(part)
    assert b"".join(received) == body.encode("utf-8")
    assert checker.close().violations == direct(name).violations


@pytest.mark.asyncio
async def test_check_an_unread_async_httpx_stream_is_a_usage_error(server: CannedSSEServer) -> None:
    # check() is synchronous: given an unread *async* streaming response it cannot read it. It must say so with a
    # UsageError (pointing at StreamChecker.aconsume), not leak an httpx exception.
    from chatcontract import UsageError

    dialect, _, request, _ = CANNED["openai-faulty"]
    async with httpx.AsyncClient(**PLAIN) as client:
        async with client.stream("POST", server.url("openai-faulty"), json=request) as r:
            with pytest.raises(UsageError):
                check(r, dialect=dialect)
            await r.aread()
            report = check(r, dialect=dialect)
    assert report.violations == direct("openai-faulty").violations


# -- (c) the official openai SDK ---------------------------------------------------------------------------------------


def _sdk_kwargs(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k not in ("stream",) and v is not None}


SDK_TRANSPORTS = ["httpx2", "httpx"]  # openai 3.x runs on httpx2 and still accepts a legacy httpx client


@pytest.fixture
def sdk_client(server: CannedSSEServer) -> Iterator[Any]:
    opened: list[Any] = []

    def make(name: str, transport: str = "httpx2") -> openai.OpenAI:
        http: Any = httpx2.Client(**PLAIN) if transport == "httpx2" else httpx.Client(**PLAIN)
        client = openai.OpenAI(base_url=server.base_url(name), api_key="x", http_client=http, max_retries=0)
        opened.extend([client, http])
        return client

    yield make
    for item in opened:
        item.close()


@pytest.mark.parametrize("transport", SDK_TRANSPORTS)
@pytest.mark.parametrize("name", [n for n in sorted(CANNED) if n.startswith("openai")])
def test_openai_sdk_raw_bytes(sdk_client: Any, name: str, transport: str) -> None:
    dialect, body, request, _ = CANNED[name]
    client = sdk_client(name, transport)
    checker = StreamChecker(dialect=dialect, request=request)
    with client.chat.completions.with_streaming_response.create(stream=True, **_sdk_kwargs(request)) as resp:
        assert resp.status_code == 200
        received = b"".join(checker.consume(resp.iter_bytes()))
    assert received == body.encode("utf-8")
    assert checker.close().violations == direct(name).violations


@pytest.mark.parametrize("transport", SDK_TRANSPORTS)
@pytest.mark.parametrize("name", ["openai-ok", "openai-faulty"])
def test_check_the_sdk_http_response_after_read(sdk_client: Any, name: str, transport: str) -> None:
    # check() takes the request body from the response, so the request-aware rules see include_usage.
    dialect, _, _, _ = CANNED[name]
    client = sdk_client(name, transport)
    with client.chat.completions.with_streaming_response.create(stream=True, **_sdk_kwargs(CANNED[name][2])) as resp:
        resp.read()
        report = check(resp.http_response, dialect=dialect)
    assert report.kind == "stream"
    assert report.violations == direct(name).violations


@pytest.mark.parametrize("transport", SDK_TRANSPORTS)
def test_check_the_sdk_http_response_unread(sdk_client: Any, transport: str) -> None:
    dialect, body, request, _ = CANNED["openai-faulty"]
    client = sdk_client("openai-faulty", transport)
    with client.chat.completions.with_streaming_response.create(stream=True, **_sdk_kwargs(request)) as resp:
        report = check(resp.http_response, dialect=dialect)
    assert report.violations == direct("openai-faulty").violations


@pytest.mark.parametrize("name", SDK_PARSEABLE)
def test_openai_sdk_parsed_chunks(sdk_client: Any, name: str) -> None:
    dialect, body, request, expected = CANNED[name]
    client = sdk_client(name)
    checker = StreamChecker(dialect=dialect, request=request)
    with client.chat.completions.create(stream=True, **_sdk_kwargs(request)) as stream:
        for parsed in stream:
            checker.feed_chunk(parsed.model_dump(mode="json", exclude_unset=True))
    # The SDK parsed every event (none is SSE-level broken in these streams), so the findings are the same,
    # except the [DONE] sentinel: the SDK consumes it, so a checker fed parsed chunks cannot and does not require it.
    assert triples(checker.close()) == {t for t in expected if t[0] != "CC303"}


def test_openai_sdk_parsed_chunks_round_trip(sdk_client: Any) -> None:
    # model_dump(mode="json", exclude_unset=True) gives back the wire chunks, which is what feed_chunk needs.
    dialect, body, request, _ = CANNED["openai-faulty"]
    client = sdk_client("openai-faulty")
    with client.chat.completions.create(stream=True, **_sdk_kwargs(request)) as stream:
        dumped = [parsed.model_dump(mode="json", exclude_unset=True) for parsed in stream]
    wire = [json.loads(line[6:]) for line in body.split("\n") if line.startswith("data: {")]
    assert dumped == wire


def test_openai_sdk_raises_on_the_error_event_the_checker_reports(sdk_client: Any) -> None:
    dialect, _, request, _ = CANNED["openai-error"]
    client = sdk_client("openai-error")
    checker = StreamChecker(dialect=dialect, request=request)
    with pytest.raises(openai.APIError, match="upstream overloaded"):
        with client.chat.completions.create(stream=True, **_sdk_kwargs(request)) as stream:
            for parsed in stream:
                checker.feed_chunk(parsed.model_dump(mode="json", exclude_unset=True))
    assert ("CC315", 2, "$.error") in triples(direct("openai-error"))
    assert checker.assembled()["choices"][0]["message"]["content"] == "Hell"


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["openai-ok", "openai-faulty", "openai-cut"])
async def test_openai_async_sdk_raw_bytes(server: CannedSSEServer, name: str) -> None:
    dialect, body, request, _ = CANNED[name]
    checker = StreamChecker(dialect=dialect, request=request)
    async with httpx2.AsyncClient(**PLAIN) as http:
        async with openai.AsyncOpenAI(
            base_url=server.base_url(name), api_key="x", http_client=http, max_retries=0
        ) as client:
            async with client.chat.completions.with_streaming_response.create(
                stream=True, **_sdk_kwargs(request)
            ) as resp:
                received = [part async for part in checker.aconsume(resp.iter_bytes())]
    assert b"".join(received) == body.encode("utf-8")
    assert checker.close().violations == direct(name).violations
