"""Smoke tests of the guard through an inner pytest run (pytester)."""

from __future__ import annotations

PREAMBLE = '''
import json, httpx, pytest

GOOD = {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000,
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}]}

def make_client(body, status=200, content_type="application/json", is_async=False):
    def handler(request):
        return httpx.Response(status, content=body if isinstance(body, bytes) else json.dumps(body).encode(),
                              headers={"content-type": content_type})
    transport = httpx.MockTransport(handler)
    return (httpx.AsyncClient if is_async else httpx.Client)(transport=transport, base_url="http://llm.test/v1")
'''


def test_marked_test_fails_on_violation(pytester):
    # Given a marked test whose provider returns created in milliseconds
    pytester.makepyfile(PREAMBLE + '''
@pytest.mark.chatcontract
def test_chat():
    client = make_client(dict(GOOD, created=1736423701225))
    r = client.post("/chat/completions", json={"model": "m", "messages": []})
    assert r.status_code == 200

@pytest.mark.chatcontract
def test_good():
    make_client(GOOD).post("/chat/completions", json={"model": "m", "messages": []})

def test_unmarked_is_not_checked():
    make_client(dict(GOOD, created=-1)).post("/chat/completions", json={"model": "m", "messages": []})
''')
    # When pytest runs
    result = pytester.runpytest("-p", "no:cacheprovider")
    # Then only the marked, broken exchange fails, with the violation block
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*chatcontract: 1 of 1 chat-completion exchange(s) broke the contract*",
        "*POST http://llm.test/v1/chat/completions -> 200*",
        "*CC209 implausible-created at $.created*",
    ])


def test_streaming_sync_and_async(pytester):
    pytester.makepyfile(PREAMBLE + '''
CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
SSE_OK = ("data: " + json.dumps(CHUNK) + "\\n\\ndata: [DONE]\\n\\n").encode()
SSE_BAD = ("data: " + json.dumps(CHUNK) + "\\n\\n").encode()

@pytest.mark.chatcontract
@pytest.mark.parametrize("body", [SSE_OK, SSE_BAD], ids=["ok", "no-done"])
def test_sync_stream(body):
    client = make_client(body, content_type="text/event-stream")
    with client.stream("POST", "/chat/completions", json={"model": "m", "messages": [], "stream": True}) as r:
        for _ in r.iter_lines():
            pass

@pytest.mark.chatcontract
@pytest.mark.parametrize("body", [SSE_OK, SSE_BAD], ids=["ok", "no-done"])
def test_async_stream(body):
    import asyncio
    async def main():
        async with make_client(body, content_type="text/event-stream", is_async=True) as client:
            async with client.stream("POST", "/chat/completions", json={"model": "m", "messages": []}) as r:
                async for _ in r.aiter_bytes():
                    pass
    asyncio.run(main())
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*test_sync_stream?no-done? FAILED*", "*CC303 missing-done at $*"])


def test_marker_options_and_help(pytester):
    pytester.makepyfile(PREAMBLE + '''
@pytest.mark.chatcontract(dialect="openai", ignore=["CC1"])
def test_openai_ignores_schema():
    make_client(GOOD).post("/chat/completions", json={"model": "m", "messages": [], "n": 2})
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CC401 choice-count-mismatch*"])
    help_result = pytester.runpytest("--help")
    help_result.stdout.fnmatch_lines(
        ["chatcontract: contract checks for chat-completion APIs:", "*--chatcontract-dialect*"]
    )
    markers = pytester.runpytest("--markers")
    markers.stdout.fnmatch_lines(
        ["@pytest.mark.chatcontract(dialect=None, select=None, ignore=None, provider=None, extensions=None)*"]
    )
