"""configure_vcr: a real VCR instance records a local server through httpx (sync, async, streaming) scrubbed,
merges the user's own hooks and filters, and replays the same bytes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatcontract.cassettes import (
    DEFAULT_MATCH_ON,
    MATCHER_NAME,
    PLACEHOLDER,
    audit,
    configure_vcr,
    json_body_matcher,
    load_cassette,
    scrub_request,
    scrub_response,
)
from chatcontract.sse import parse_sse

from .helpers import (
    ALL_SECRETS,
    ANTHROPIC_KEY,
    JWT,
    OPENAI_KEY,
    ORG_ID,
    PASSWORD,
    SESSION_COOKIE,
    ChatServer,
    chat_server,
)

vcr = pytest.importorskip("vcr")
from vcr.errors import CannotOverwriteExistingCassetteException  # type: ignore[import-untyped]  # noqa: E402

CHAT = "/v1/chat/completions"
HEADERS = {"Authorization": f"Bearer {OPENAI_KEY}", "x-api-key": ANTHROPIC_KEY, "OpenAI-Organization": ORG_ID,
           "Cookie": f"session={SESSION_COOKIE}", "x-custom": "custom-value-1234"}


def payload(prompt: str, *, stream: bool = False) -> dict[str, Any]:
    return {"model": "mistral-small-latest", "messages": [{"role": "user", "content": prompt}], "stream": stream,
            "api_key": PASSWORD}


PAYLOADS = [(CHAT, payload("Hi")), (CHAT, payload("Stream it", stream=True)), ("/gzip" + CHAT, payload("Zip"))]


def user_request_hook(request: Any) -> Any:
    request.headers["x-user-hook"] = f"Bearer {JWT}"  # scrubbed: ours runs after the user's hook
    return None if "/skip/" in request.uri else request  # None: "do not record"


def user_response_hook(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"]["x-user-response-hook"] = ["seen"]
    return response


USER_CONFIG: dict[str, Any] = {"before_record_request": user_request_hook, "filter_headers": ["x-custom"],
                               "before_record_response": user_response_hook}


def exchange(mode: str, base: str, calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[int, bytes]]:
    """Make the calls with httpx in ``mode`` (sync, sync-stream, async, async-stream): (status, body bytes)."""
    async def run_async() -> list[tuple[int, bytes]]:
        out = []
        async with httpx.AsyncClient(headers=HEADERS) as client:
            for path, body in calls:
                if mode == "async-stream":
                    async with client.stream("POST", base + path, json=body) as response:
                        assert not response.is_stream_consumed
                        out.append((response.status_code, b"".join([c async for c in response.aiter_bytes()])))
                else:
                    response = await client.post(base + path, json=body)
                    out.append((response.status_code, response.content))
        return out

    if mode.startswith("async"):
        return asyncio.run(run_async())
    out = []
    with httpx.Client(headers=HEADERS) as client:
        for path, body in calls:
            if mode == "sync-stream":
                with client.stream("POST", base + path, json=body) as response:
                    with pytest.raises(httpx.ResponseNotRead):
                        _ = response.content  # neither recorded nor replayed responses arrive already read
                    out.append((response.status_code, b"".join(response.iter_bytes())))
            else:
                response = client.post(base + path, json=body)
                out.append((response.status_code, response.content))
    return out


def configured(**kwargs: Any) -> Any:
    instance = vcr.VCR(**kwargs)
    configure_vcr(instance)
    return instance


@pytest.mark.parametrize("mode", ["sync", "sync-stream", "async", "async-stream"])
def test_record_scrubbed_then_replay_the_same_bytes(mode: str, server: ChatServer, tmp_path: Path) -> None:
    my_vcr, path = configured(), tmp_path / "chat.yaml"
    with my_vcr.use_cassette(str(path), record_mode="once", **USER_CONFIG):
        live = exchange(mode, server.url, PAYLOADS)
    assert [status for status, _ in live] == [200, 200, 200]
    text = path.read_text()
    assert audit(path) == []
    for secret in ALL_SECRETS:
        assert secret not in text

    cassette = load_cassette(path)
    assert [i.is_chat for i in cassette.interactions] == [True, True, True]
    request, response = cassette.interactions[0].request, cassette.interactions[0].response
    for name in ("authorization", "x-api-key", "openai-organization", "cookie"):
        assert request.header(name) == PLACEHOLDER  # kept: the cassette shows a key was sent
    assert request.header("x-custom") is None  # the user's filter_headers, merged with ours
    assert request.header("x-user-hook") == f"Bearer {PLACEHOLDER}"
    assert request.json["api_key"] == PLACEHOLDER and request.json["messages"][0]["content"] == "Hi"
    assert response.header("set-cookie") is None and response.header("openai-organization") is None
    assert response.header("x-user-response-hook") == "seen"
    assert response.header("x-request-id") == "req_7f3a9c2e4b1d4f6a8e0c2b4d6f8a0c2e"
    sse = cassette.interactions[1].response
    assert sse.content_type == "text/event-stream" and sse.body == live[1][1]  # stored whole, byte for byte
    assert sse.body.count(b"\r\n\r\n") == 4
    zipped = cassette.interactions[2].response
    assert zipped.header("content-encoding") is None and zipped.header("content-length") == str(len(zipped.body))
    assert json.loads(zipped.body)["choices"][0]["message"]["content"] == "Echo: Zip"

    server.stop()  # replay must not need the network
    with my_vcr.use_cassette(str(path), record_mode="none", **USER_CONFIG):
        replayed = exchange(mode, server.url, PAYLOADS)
        assert replayed == live
        assert parse_sse(replayed[1][1]) == parse_sse(live[1][1])
        with pytest.raises(CannotOverwriteExistingCassetteException) as info:
            exchange(mode, server.url, [(CHAT, payload("Something else"))])
    message = str(info.value)
    assert "$.messages[0].content" in message and '"Something else"' in message
    assert PASSWORD not in message


def test_a_user_hook_returning_none_still_drops_the_interaction(server: ChatServer, tmp_path: Path) -> None:
    my_vcr, path = configured(), tmp_path / "skip.yaml"
    with my_vcr.use_cassette(str(path), **USER_CONFIG):
        exchange("sync", server.url, [("/skip" + CHAT, payload("no")), (CHAT, payload("yes"))])
    uris = [i.request.uri for i in load_cassette(path).interactions]
    assert uris == [server.url + CHAT]


def test_defaults_apply_without_user_config_and_match_on_can_be_replaced(server: ChatServer, tmp_path: Path) -> None:
    my_vcr, path = configured(), tmp_path / "plain.yaml"
    with my_vcr.use_cassette(str(path)):
        live = exchange("sync", server.url, PAYLOADS[:1])
    assert audit(path) == [] and load_cassette(path).interactions[0].request.header("x-custom") == "custom-value-1234"
    server.stop()
    with my_vcr.use_cassette(str(path), record_mode="none", match_on=["method", "path"]):
        assert exchange("sync", server.url, [(CHAT, payload("a different prompt"))]) == live


def test_decode_compressed_response_false_still_stores_scrubbable_plaintext(server: ChatServer, tmp_path: Path) -> None:
    my_vcr, path = configured(), tmp_path / "gzip.yaml"
    with my_vcr.use_cassette(str(path), decode_compressed_response=False):
        exchange("sync", server.url, PAYLOADS[2:])
    response = load_cassette(path).interactions[0].response
    assert response.header("content-encoding") is None and b"Echo: Zip" in response.body


def test_configure_vcr_sets_instance_defaults_once() -> None:
    def own_hook(request: Any) -> Any:
        return request

    my_vcr = vcr.VCR(before_record_request=own_hook, filter_headers=["x-mine"])
    configure_vcr(my_vcr)
    configure_vcr(my_vcr)
    assert my_vcr.matchers[MATCHER_NAME] is json_body_matcher
    assert my_vcr.match_on == DEFAULT_MATCH_ON and my_vcr.decode_compressed_response is True
    (hook, ours) = my_vcr.before_record_request
    (response_hook,) = my_vcr.before_record_response
    assert hook is own_hook and ours.func is scrub_request and response_hook.func is scrub_response
    assert ours.keywords["known"] is response_hook.keywords["known"]  # one set of request secrets per VCR
    assert my_vcr.filter_headers[0] == "x-mine" and ("authorization", PLACEHOLDER) in my_vcr.filter_headers
    assert len({str(h[0] if isinstance(h, tuple) else h) for h in my_vcr.filter_headers}) == len(my_vcr.filter_headers)
    assert getattr(my_vcr.use_cassette, "chatcontract_wrapped", False)
    kept = vcr.VCR(match_on=("method", "uri"))
    configure_vcr(kept)
    assert kept.match_on == ("method", "uri")  # someone chose already: not overridden


def test_use_cassette_as_a_decorator(server: ChatServer, tmp_path: Path) -> None:
    my_vcr = configured(cassette_library_dir=str(tmp_path))

    @my_vcr.use_cassette(**USER_CONFIG)  # type: ignore[untyped-decorator]
    def call_it() -> list[tuple[int, bytes]]:
        return exchange("sync", server.url, PAYLOADS[:1])

    call_it()
    assert audit(tmp_path / "call_it") == [] and load_cassette(tmp_path / "call_it").interactions


def test_pytest_recording_merges_vcr_config_over_our_defaults(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    with chat_server() as server:
        pytester.makeconftest("""
            import pytest
            from chatcontract.cassettes import configure_vcr

            def pytest_recording_configure(config, vcr):
                configure_vcr(vcr)

            def mark_it(request):
                request.headers["x-user-hook"] = "ran"
                return request

            @pytest.fixture
            def vcr_config():
                return {"filter_headers": ["x-custom"], "before_record_request": mark_it}
        """)
        pytester.makepyfile(test_chat=f"""
            import httpx, pytest

            @pytest.mark.vcr
            def test_chat():
                headers = {HEADERS!r}
                body = {payload("Hi", stream=True)!r}
                response = httpx.post("{server.url}{CHAT}", json=body, headers=headers)
                assert response.status_code == 200 and response.text.endswith("data: [DONE]\\r\\n\\r\\n")
        """)
        isolated = ("-p", "no:chatcontract", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                    "-p", "no:benchmark", "-p", "no:syrupy")  # plugins this test does not need (fast startup)
        pytester.runpytest(*isolated, "--record-mode=once").assert_outcomes(passed=1)
    cassette_path = pytester.path / "cassettes" / "test_chat" / "test_chat.yaml"
    request = load_cassette(cassette_path).interactions[0].request
    assert request.header("x-user-hook") == "ran" and request.header("x-custom") is None
    assert request.header("authorization") == PLACEHOLDER
    assert audit(pytester.path / "cassettes") == []
    pytester.runpytest(*isolated, "--record-mode=none").assert_outcomes(passed=1)  # server gone: replayed
