"""Streams read through the official SDKs (openai, mistralai; sync and async; live and replayed from cassettes).

The SDKs stop reading at ``[DONE]`` and close the response without exhausting it: the guard must still judge every
stream whose events all reached it, and list (or, with ``chatcontract_incomplete_streams = fail``, fail) a stream the
test really left early. The provider is chatcontract's reference provider, really started, with real faults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatcontract.provider.server import serve

URL_ENV = "CHATCONTRACT_TEST_PROVIDER_URL"

INNER = '''
import asyncio
import os

import httpx
import openai
import pytest
import requests
from mistralai.client import Mistral

URL = os.environ["CHATCONTRACT_TEST_PROVIDER_URL"]  # .../v1
MESSAGES = [{"role": "user", "content": "Say hello"}]


def openai_sync():
    with openai.OpenAI(base_url=URL, api_key="sk-test", max_retries=0) as client:
        stream = client.chat.completions.create(model="ref-small", messages=MESSAGES, stream=True)
        return [c for c in stream]


def openai_async():
    async def main():
        async with openai.AsyncOpenAI(base_url=URL, api_key="sk-test", max_retries=0) as client:
            stream = await client.chat.completions.create(model="ref-small", messages=MESSAGES, stream=True)
            return [c async for c in stream]
    return asyncio.run(main())


def mistral_sync():
    with Mistral(api_key="sk-test", server_url=URL.removesuffix("/v1")) as client:
        return [e for e in client.chat.stream(model="ref-small", messages=MESSAGES)]


def mistral_async():
    async def main():
        async with Mistral(api_key="sk-test", server_url=URL.removesuffix("/v1")) as client:
            stream = await client.chat.stream_async(model="ref-small", messages=MESSAGES)
            return [e async for e in stream]
    return asyncio.run(main())


def _until_done(lines):
    """Read SSE lines up to [DONE] and stop there, as the SDKs do."""
    seen = []
    for line in lines:
        line = line.decode() if isinstance(line, bytes) else line
        if line.startswith("data: [DONE]"):
            break
        if line.startswith("data: "):
            seen.append(line)
    return seen


def httpx_sync():
    with httpx.Client() as client:
        with client.stream("POST", URL + "/chat/completions",
                           json={"model": "ref-small", "messages": MESSAGES, "stream": True}) as response:
            return _until_done(response.iter_lines())


def httpx_async():
    async def main():
        async with httpx.AsyncClient() as client:
            async with client.stream("POST", URL + "/chat/completions",
                                     json={"model": "ref-small", "messages": MESSAGES, "stream": True}) as response:
                seen = []
                async for line in response.aiter_lines():
                    if line.startswith("data: [DONE]"):
                        break
                    seen.append(line)
                return seen
    return asyncio.run(main())


def requests_stream():
    with requests.post(URL + "/chat/completions", json={"model": "ref-small", "messages": MESSAGES, "stream": True},
                       stream=True) as response:
        return _until_done(response.iter_lines())
'''

CLIENTS = ["openai_sync", "openai_async", "mistral_sync", "mistral_async", "httpx_sync", "httpx_async",
           "requests_stream"]


def _dialect(client: str) -> str:
    return "mistral" if client.startswith("mistral") else "openai"


@pytest.fixture
def provider_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    dialect, faults = request.param
    with serve(dialect=dialect, faults=faults, seed=1) as provider:
        monkeypatch.setenv(URL_ENV, provider.base_url)
        yield provider.base_url


def _test_module(client: str) -> str:
    return INNER + f'''

@pytest.mark.chatcontract(dialect="{_dialect(client)}")
def test_stream():
    assert {client}()
'''


@pytest.mark.parametrize(
    ("client", "provider_url"),
    [(c, (_dialect(c), ["stream-empty-finish-reason"])) for c in CLIENTS],
    indirect=["provider_url"],
)
def test_a_stream_read_up_to_done_is_judged(pytester: pytest.Pytester, provider_url: str, client: str) -> None:
    # Given a marked test that reads a whole stream (finish_reason "" everywhere) and stops at [DONE], like the SDKs
    pytester.makepyfile(_test_module(client))
    # When it runs against the faulty provider
    result = pytester.runpytest("-rA")
    # Then the stream was judged: the test fails with the violations, none of it is listed as "not checked"
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   chatcontract.ContractViolation: chatcontract: 1 of 1 chat-completion exchange(s) broke the contract",
        "*POST http://127.0.0.1:*/v1/chat/completions* -> 200 (stream)",  # mistralai adds a #stream fragment
        "*CC309 *",
    ])
    result.stdout.no_fnmatch_line("*not checked*")


@pytest.mark.parametrize(
    ("client", "provider_url"),
    [(c, (_dialect(c), [])) for c in CLIENTS],
    indirect=["provider_url"],
)
def test_a_conforming_stream_read_up_to_done_conforms(
    pytester: pytest.Pytester, provider_url: str, client: str
) -> None:
    pytester.makepyfile(_test_module(client))
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*- Captured chatcontract call -*", "POST *-> 200 (stream): * conforms"])
    result.stdout.no_fnmatch_line("*streams not checked*")


EARLY = '''

@pytest.mark.chatcontract(dialect="openai")
def test_first_chunk_only():
    with openai.OpenAI(base_url=URL, api_key="sk-test", max_retries=0) as client:
        stream = client.chat.completions.create(model="ref-small", messages=MESSAGES, stream=True)
        next(iter(stream))
        stream.close()


@pytest.mark.chatcontract(dialect="openai")
def test_left_open():
    client = httpx.Client()
    response = client.send(client.build_request("POST", URL + "/chat/completions",
                           json={"model": "ref-small", "messages": MESSAGES, "stream": True}), stream=True)
    assert response.status_code == 200
    test_left_open.keep = (client, response)  # closed in the next test, after the guard is gone


def test_cleanup():
    client, response = test_left_open.keep
    response.close()
    client.close()
'''


@pytest.mark.parametrize("provider_url", [("openai", [])], indirect=True)
def test_a_stream_left_early_is_listed_in_the_terminal_summary(pytester: pytest.Pytester, provider_url: str) -> None:
    # Given marked tests that read one chunk then close the stream, or leave it open
    pytester.makepyfile(INNER + EARLY)
    # When they run with the default setting
    result = pytester.runpytest("-rA", "-p", "no:randomly")
    # Then they pass, and the terminal summary lists both streams as not checked, with the option that fails them
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*- chatcontract: streams not checked -*",
        "test_a_stream_left_early_*.py::test_first_chunk_only: POST http://127.0.0.1:*/v1/chat/completions -> 200 "
        "(stream): closed by the reader before its [[]DONE[]] reached the guard",
        "test_a_stream_left_early_*.py::test_left_open: POST * -> 200 (stream): left open by the test before its "
        "[[]DONE[]] reached the guard",
        "2 stream(s) not checked; chatcontract_incomplete_streams = fail (ini) or "
        "--chatcontract-incomplete-streams=fail makes such tests fail.",
    ])


@pytest.mark.parametrize("provider_url", [("openai", [])], indirect=True)
def test_incomplete_streams_fail_when_asked(pytester: pytest.Pytester, provider_url: str) -> None:
    pytester.makepyfile(INNER + EARLY)
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nchatcontract_incomplete_streams = fail\n"
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "*_ test_first_chunk_only _*",
        "chatcontract: 1 of 1 chat-completion stream(s) were not read to their end, so they were not checked "
        "(chatcontract_incomplete_streams = fail)",
        "  POST * -> 200 (stream): closed by the reader before its [[]DONE[]] reached the guard",
    ])
    # the command line overrides the ini
    result = pytester.runpytest("--chatcontract-incomplete-streams=warn")
    result.assert_outcomes(passed=3)


RECORDED = '''

@pytest.mark.vcr
@pytest.mark.chatcontract(dialect="{dialect}")
def test_recorded():
    assert {client}()
'''


@pytest.mark.parametrize(
    ("client", "provider_url"),
    [(c, (_dialect(c), ["stream-empty-finish-reason"])) for c in ("openai_sync", "openai_async", "mistral_sync",
                                                                  "mistral_async")],
    indirect=["provider_url"],
)
def test_a_stream_replayed_from_a_cassette_is_judged(pytester: pytest.Pytester, provider_url: str, client: str) -> None:
    # Given an SDK stream recorded from the faulty provider with pytest-recording
    pytester.makepyfile(INNER + RECORDED.format(dialect=_dialect(client), client=client))
    recorded = pytester.runpytest("--record-mode=once")
    recorded.assert_outcomes(failed=1)
    assert list(pytester.path.glob("cassettes/*/test_recorded.yaml"))
    # When it is replayed (record mode none: a request the cassette does not hold raises instead of going out)
    result = pytester.runpytest("--record-mode=none", "-rA")
    # Then the replayed stream is judged the same way
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E*1 of 1 chat-completion exchange(s) broke the contract", "*CC309 *"])
    result.stdout.no_fnmatch_line("*not checked*")
    result.stdout.no_fnmatch_line("*CannotOverwriteExistingCassetteException*")
