"""The guard against a real local HTTP server: every client kind, streams, request-aware rules, hook, report."""

from __future__ import annotations

import pytest

from ._llm import INNER

CLIENTS = {
    "httpx-sync": '''
def call(scenario):
    with httpx.Client() as client:
        assert client.post(chat_url(scenario), json=REQUEST).json()["object"] == "chat.completion"
''',
    "httpx-async": '''
def call(scenario):
    async def main():
        async with httpx.AsyncClient() as client:
            response = await client.post(chat_url(scenario), json=REQUEST)
            assert response.json()["object"] == "chat.completion"
    asyncio.run(main())
''',
    "httpx-sync-stream": '''
def call(scenario):
    with httpx.Client() as client:
        with client.stream("POST", chat_url(scenario), json={**REQUEST, "stream": True}) as response:
            lines = list(response.iter_lines())
    assert lines[0].startswith("data: ")
''',
    "httpx-async-stream": '''
def call(scenario):
    async def main():
        async with httpx.AsyncClient() as client:
            async with client.stream("POST", chat_url(scenario), json={**REQUEST, "stream": True}) as response:
                return b"".join([part async for part in response.aiter_bytes()])
    assert asyncio.run(main()).startswith(b"data: ")
''',
    "requests": '''
def call(scenario):
    assert requests.post(chat_url(scenario), json=REQUEST).json()["object"] == "chat.completion"
''',
    "requests-stream": '''
def call(scenario):
    with requests.post(chat_url(scenario), json={**REQUEST, "stream": True}, stream=True) as response:
        lines = list(response.iter_lines())
    assert lines[0].startswith(b"data: ")
''',
    "openai-sdk": '''
import openai

def call(scenario):
    client = openai.OpenAI(base_url=URL + "/" + scenario + "/v1", api_key="sk-test", max_retries=0)
    completion = client.chat.completions.create(**REQUEST)
    assert completion.choices[0].message.content
    client.close()
''',
    "openai-sdk-stream": '''
import openai

def call(scenario):
    client = openai.OpenAI(base_url=URL + "/" + scenario + "/v1", api_key="sk-test", max_retries=0)
    deltas = [c.choices[0].delta.content for c in client.chat.completions.create(**REQUEST, stream=True)]
    assert "".join(d or "" for d in deltas) == "Hello"
    client.close()
''',
}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_client_kind(pytester, llm, client):
    # Given a marked test that gets a conforming answer and one that gets a broken one, through this client
    stream = client.endswith("stream")
    faulty = "no-done" if stream else "empty-model"
    pytester.makepyfile(INNER + CLIENTS[client] + f'''
@pytest.mark.chatcontract
def test_conforming():
    call("ok")

@pytest.mark.chatcontract
def test_faulty():
    call("{faulty}")
''')
    # When they run against the local server (it speaks mistral; the openai SDK's User-Agent alone would mean openai)
    result = pytester.runpytest("-v", *(["--chatcontract-dialect=mistral"] if client.startswith("openai") else []))
    # Then the broken exchange fails its test with the full report; the conforming one passes
    result.stdout.fnmatch_lines(["*::test_conforming PASSED*", "*::test_faulty FAILED*"])
    result.assert_outcomes(passed=1, failed=1)
    kind = " (stream)" if stream else ""
    violation = "*CC303 missing-done at $  [[]error[]]" if stream else "*CC211 empty-model at $.model  [[]error[]]"
    result.stdout.fnmatch_lines([
        "*_ test_faulty _*",
        "E*ContractViolation: chatcontract: 1 of 1 chat-completion exchange(s) broke the contract",
        f"*POST http://127.0.0.1:*/{faulty}/v1/chat/completions -> 200{kind}",
        "*1 contract violation in * (mistral)",
        violation,
    ])


def test_unmarked_tests_are_checked_only_with_the_guard_option(pytester, llm):
    # Given an unmarked test that receives a broken completion, and one that receives a good one
    pytester.makepyfile(INNER + '''
def test_broken():
    post("empty-model")

def test_good():
    post("ok")
''')
    # When pytest runs without and with --chatcontract-guard
    off = pytester.runpytest("-rA")
    on = pytester.runpytest("-rA", "--chatcontract-guard")
    # Then without the option nothing is checked (no report section either); with it the broken test fails
    off.assert_outcomes(passed=2)
    off.stdout.no_fnmatch_line("*Captured chatcontract*")
    on.assert_outcomes(passed=1, failed=1)
    on.stdout.fnmatch_lines(["*chatcontract: 1 of 1 chat-completion exchange(s) broke the contract*"])


def test_non_chat_urls_are_ignored(pytester, llm):
    # Given a marked test that posts to non-chat endpoints answering with bodies that would break the chat contract
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_other_endpoints():
    post("empty-model", path="/v1/embeddings")
    post("empty-model", path="/v1/completions")
    post("empty-model", path="/v1/chat/completions/batch")
    assert httpx.put(chat_url("empty-model"), json=REQUEST).status_code == 501  # only POST is a chat call
''')
    # When it runs
    result = pytester.runpytest("-rA")
    # Then none of them is checked or listed
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*Captured chatcontract*")


UNREAD = {
    "httpx-sync": '''
    with httpx.Client() as client:
        with client.stream("POST", chat_url("no-done"), json={**REQUEST, "stream": True}) as response:
            assert next(response.iter_lines()).startswith("data: ")
''',
    "httpx-async": '''
    async def main():
        async with httpx.AsyncClient() as client:
            async with client.stream("POST", chat_url("no-done"), json={**REQUEST, "stream": True}) as response:
                async for line in response.aiter_lines():
                    return line
    assert asyncio.run(main()).startswith("data: ")
''',
    "requests": '''
    response = requests.post(chat_url("no-done"), json={**REQUEST, "stream": True}, stream=True)
    assert next(response.iter_lines()).startswith(b"data: ")
    response.close()
''',
}


@pytest.mark.parametrize("client", list(UNREAD))
def test_stream_not_read_to_the_end_is_listed_as_not_checked(pytester, llm, client):
    # Given a marked test that reads only the first line of a stream lacking [DONE], then closes it
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_partial():
''' + UNREAD[client])
    # When it runs
    result = pytester.runpytest("-rA")
    # Then it passes (no false "missing [DONE]"), and the report section says the stream was not checked
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*- Captured chatcontract call -*",
        "POST http://127.0.0.1:*/no-done/v1/chat/completions -> 200 (stream): "
        "not checked (closed by the reader before its [[]DONE[]] reached the guard) [[]dialect mistral, the default: *",
    ])


def test_request_body_enables_request_aware_rules(pytester, llm):
    # Given marked tests that ask for n=2 and get one choice, through httpx (JSON and stream) and requests
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_httpx():
    post("ok", n=2)

@pytest.mark.chatcontract
def test_httpx_stream():
    with httpx.stream("POST", chat_url("ok"), json={**REQUEST, "n": 2, "stream": True}) as response:
        response.read()

@pytest.mark.chatcontract
def test_requests():
    requests.post(chat_url("ok"), data=json.dumps({**REQUEST, "n": 2}), headers={"content-type": "application/json"})

@pytest.mark.chatcontract
def test_one_choice_requested():
    post("ok", n=1)
''')
    # When they run
    result = pytester.runpytest("-v")
    # Then the guard checked each response with its request: CC401 choice-count-mismatch
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(["*_ test_httpx _*", "*CC401 choice-count-mismatch*"])
    result.stdout.fnmatch_lines(["*_ test_httpx_stream _*", "*CC401 choice-count-mismatch*"])
    result.stdout.fnmatch_lines(["*_ test_requests _*", "*CC401 choice-count-mismatch*"])


def test_checked_hook_fires_once_per_checked_exchange(pytester, llm):
    # Given a conftest implementing pytest_chatcontract_checked
    pytester.makeconftest('''
CALLS = []

def pytest_chatcontract_checked(item, exchange, report):
    CALLS.append((item.name, exchange.method, exchange.url.split("/")[3], exchange.stream, report.ok))

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"HOOK CALLS {len(CALLS)}")
    for call in CALLS:
        terminalreporter.write_line(f"HOOK {call}")
''')
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_marked():
    post("ok")
    post("empty-model")
    post("ok", path="/v1/embeddings")
    with httpx.stream("POST", chat_url("ok"), json={**REQUEST, "stream": True}) as response:
        response.read()
    with httpx.stream("POST", chat_url("ok"), json={**REQUEST, "stream": True}) as response:
        pass  # not read: not checked, no hook call

def test_unmarked():
    post("ok")
''')
    # When the tests run
    result = pytester.runpytest()
    # Then the hook fired for each checked chat exchange, with the item, the exchange and the report
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "HOOK CALLS 3",
        "HOOK ('test_marked', 'POST', 'ok', False, True)",
        "HOOK ('test_marked', 'POST', 'empty-model', False, False)",
        "HOOK ('test_marked', 'POST', 'ok', True, True)",
    ])


def test_report_section_with_rA(pytester, llm):
    # Given a marked test with a conforming JSON exchange and a conforming stream
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_two_exchanges():
    post("ok")
    with httpx.stream("POST", chat_url("ok"), json={**REQUEST, "stream": True}) as response:
        response.read()
''')
    # When it runs with -rA
    result = pytester.runpytest("-rA")
    # Then the passing test shows a chatcontract section listing each exchange and its verdict
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*= PASSES =*",
        "*_ test_two_exchanges _*",
        "*- Captured chatcontract call -*",
        "POST http://127.0.0.1:*/ok/v1/chat/completions -> 200: ChatCompletionResponse (mistral): conforms "
        "[[]dialect mistral, the default: *",
        "POST http://127.0.0.1:*/ok/v1/chat/completions -> 200 (stream): chat completion stream (mistral): conforms "
        "[[]dialect mistral, the default: *",
    ])


def test_every_broken_exchange_is_listed(pytester, llm):
    # Given a marked test with two broken exchanges among three
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_three():
    post("empty-model")
    post("ok")
    with httpx.stream("POST", chat_url("no-done"), json={**REQUEST, "stream": True}) as response:
        response.read()
''')
    # When it runs
    result = pytester.runpytest()
    # Then the failure lists both broken exchanges with their violations
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E*chatcontract: 2 of 3 chat-completion exchange(s) broke the contract",
        "*POST http://127.0.0.1:*/empty-model/v1/chat/completions -> 200",
        "*CC211 empty-model at $.model*",
        "*POST http://127.0.0.1:*/no-done/v1/chat/completions -> 200 (stream)",
        "*CC303 missing-done at $*",
    ])


def test_report_section_survives_the_tests_own_failure(pytester, llm):
    # Given a marked test that fails on its own assertion after receiving a broken completion
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_own_failure():
    response = post("empty-model")
    assert response.json()["model"], "the model is empty"
''')
    # When it runs
    result = pytester.runpytest("-rA")
    # Then it fails with its own error, and the chatcontract section still tells what the guard found
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E*AssertionError: the model is empty"])
    result.stdout.fnmatch_lines([
        "*- Captured chatcontract call -*",
        "POST http://127.0.0.1:*/empty-model/v1/chat/completions -> 200: ChatCompletionResponse (mistral): "
        "1 error(s), 0 warning(s)*",
    ])


@pytest.mark.parametrize("tb", ["auto", "long", "short"])
def test_a_contract_failure_shows_no_plugin_frames_and_the_public_exception_name(pytester, llm, tb):
    # Given a marked test that receives a broken completion
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_broken():
    post("empty-model")
''')
    # When it runs, whatever the traceback style
    result = pytester.runpytest(f"--tb={tb}")
    # Then the failure is the report under the public name, without the plugin's own frames
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E   chatcontract.ContractViolation: chatcontract: 1 of 1 chat-completion exchange(s) "
                                 "broke the contract"])
    output = result.stdout.str()
    for internal in ("chatcontract/plugin/", "pytest_runtest_call", "chatcontract._exceptions"):
        assert internal not in output, internal
