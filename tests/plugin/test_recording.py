"""Cassettes with pytest-recording: record against the local server scrubbed, replay offline, checked by the guard."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from chatcontract import cli
from chatcontract.cassettes import PLACEHOLDER

from ._llm import BODY_KEY, COOKIE, INNER, OPENAI_KEY, PLANTED, QUERY_KEY, STREAMED_KEY, write_ini

PROMPT_ENV = "CHATCONTRACT_TEST_PROMPT"

RECORDED = INNER + f'''
PROMPT = os.environ.get("{PROMPT_ENV}", "Hi")
HEADERS = {{"Authorization": "Bearer {OPENAI_KEY}", "x-custom": "custom-value-1234"}}


def body(**extra):
    return {{"model": "mistral-small-latest", "messages": [{{"role": "user", "content": PROMPT}}],
            "api_key": "{BODY_KEY}", **extra}}


def url(scenario):
    return chat_url(scenario) + "?api_key={QUERY_KEY}&lang=en"


def save(request, raw):
    mode = request.config.getoption("record_mode")
    (request.config.rootpath / f"raw-{{request.node.name}}-{{mode}}.bin").write_bytes(raw)


@pytest.mark.vcr
@pytest.mark.chatcontract
def test_json():
    with httpx.Client(headers=HEADERS) as client:
        assert client.post(url("ok"), json=body()).json()["model"] == "mistral-small-latest"


@pytest.mark.vcr
@pytest.mark.chatcontract
def test_secret_stream(request):
    with httpx.Client(headers=HEADERS) as client:
        with client.stream("POST", url("secret"), json=body(stream=True)) as response:
            save(request, b"".join(response.iter_raw()))


@pytest.mark.vcr
@pytest.mark.chatcontract
def test_clean_stream(request):
    async def main():
        async with httpx.AsyncClient(headers=HEADERS) as client:
            async with client.stream("POST", url("ok"), json=body(stream=True)) as response:
                return b"".join([part async for part in response.aiter_raw()])
    save(request, asyncio.run(main()))


@pytest.mark.vcr
def test_faulty_unmarked():
    with httpx.Client(headers=HEADERS) as client:
        client.post(url("empty-model"), json=body())


@pytest.mark.vcr
@pytest.mark.chatcontract
def test_faulty_marked():
    with requests.Session() as session:
        session.post(url("empty-model"), json=body(), headers=HEADERS)
'''


def _cassettes(root: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in sorted((root / "cassettes" / "test_rec").glob("*.yaml"))}


def _everything(text: str) -> str:
    """The cassette's strings, unfolded (YAML may fold a long body string over several lines)."""
    return json.dumps(yaml.safe_load(text), ensure_ascii=False)


def test_record_scrubbed_then_replay_offline_checked_by_the_guard(pytester, llm, capsys, monkeypatch):
    # Given marked and unmarked tests with @pytest.mark.vcr that send a bearer key, an api_key query parameter
    # and an api_key JSON field, and get Set-Cookie and (one of them) a key-shaped string streamed back
    pytester.makepyfile(test_rec=RECORDED)

    # When they run against the local server with --record-mode=once
    recording = pytester.runpytest("--record-mode=once", "-rA")

    # Then they pass, but for the marked one that got a broken completion (all checked live) ...
    recording.assert_outcomes(passed=4, failed=1)
    recording.stdout.fnmatch_lines(["*_ test_faulty_marked _*", "*CC211 empty-model at $.model*"])
    # ... the secrets really went over the wire ...
    recording.stdout.fnmatch_lines(["*ok/v1/chat/completions?api_key=* -> 200: ChatCompletionResponse (mistral): "
                                    "conforms [[]dialect mistral, the default: *"])
    sent = llm.requests[0]
    assert sent["headers"]["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert sent["query"]["api_key"] == [QUERY_KEY] and sent["body"]["api_key"] == BODY_KEY
    # ... and the cassettes written hold none of them, but placeholders where keys were sent
    cassettes = _cassettes(pytester.path)
    assert sorted(cassettes) == ["test_clean_stream", "test_faulty_marked", "test_faulty_unmarked", "test_json",
                                 "test_secret_stream"]
    for name, text in cassettes.items():
        for where, secret in PLANTED.items():
            assert secret not in text and secret not in _everything(text), (name, where)
        assert "set-cookie" not in text.lower() and COOKIE not in text, name
        (interaction,) = yaml.safe_load(text)["interactions"]
        request = interaction["request"]
        assert request["headers"]["authorization"] == [PLACEHOLDER], name
        assert "api_key=%3CCHATCONTRACT-REDACTED%3E&lang=en" in request["uri"], name
        assert json.loads(request["body"])["api_key"] == PLACEHOLDER, name
    assert f"your key is {PLACEHOLDER}" in _everything(cassettes["test_secret_stream"])
    # ... which `chatcontract cassettes audit` confirms
    capsys.readouterr()
    assert cli.main(["cassettes", "audit", str(pytester.path / "cassettes")]) == 0
    assert "0 secret(s) found" in capsys.readouterr().err

    # When the server is gone and the tests replay with --record-mode=none and the guard on for every test
    llm.stop()
    replay = pytester.runpytest("--record-mode=none", "--chatcontract-guard", "-rA")

    # Then the replayed exchanges are checked: the good ones pass, the recorded broken ones fail with the violation
    replay.assert_outcomes(passed=3, failed=2)
    replay.stdout.fnmatch_lines([
        "*_ test_faulty_marked _*",
        "E*chatcontract: 1 of 1 chat-completion exchange(s) broke the contract",
        "*CC211 empty-model at $.model*",
    ])
    replay.stdout.fnmatch_lines([
        "*_ test_faulty_unmarked _*",
        "E*chatcontract: 1 of 1 chat-completion exchange(s) broke the contract",
        "*POST http://127.0.0.1:*/empty-model/v1/chat/completions?api_key=* -> 200",
        "*CC211 empty-model at $.model*",
    ])
    replay.stdout.fnmatch_lines(["*ok/v1/chat/completions?api_key=* -> 200 (stream): chat completion stream "
                                 "(mistral): conforms [[]dialect mistral, the default: *"])
    # And the streams replay byte for byte (the streamed key replaced by the placeholder, nothing else changed)
    raw = {p.name: p.read_bytes() for p in pytester.path.glob("raw-*.bin")}
    assert raw["raw-test_clean_stream-none.bin"] == raw["raw-test_clean_stream-once.bin"]
    assert raw["raw-test_secret_stream-once.bin"].count(STREAMED_KEY.encode()) == 1
    assert raw["raw-test_secret_stream-once.bin"].startswith(b": keep-alive\r\n\r\n")
    assert raw["raw-test_secret_stream-none.bin"] == raw["raw-test_secret_stream-once.bin"].replace(
        STREAMED_KEY.encode(), PLACEHOLDER.encode())

    # When a test sends a different prompt than the one recorded
    monkeypatch.setenv(PROMPT_ENV, "Something else")
    other = pytester.runpytest("--record-mode=none", "-k", "test_json")
    # Then the recorded interaction does not match: VCR refuses, with our JSON-body matcher's difference
    other.assert_outcomes(failed=1)
    other.stdout.fnmatch_lines([
        "*CannotOverwriteExistingCassetteException*",
        "*JSON bodies differ (key order ignored):",
        '*$.messages[[]0[]].content: recorded "Hi", this request "Something else"',
    ])


USER_CONFTEST = '''
import pytest


def user_response_hook(response):
    response["headers"]["x-user-hook"] = ["seen"]
    return response


@pytest.fixture(scope="module")
def vcr_config():
    return {"filter_headers": ["x-custom"], "before_record_response": user_response_hook}
'''


def test_user_vcr_config_is_merged_not_replaced(pytester, llm):
    # Given the user's own vcr_config: filter_headers=["x-custom"] and a before_record_response hook
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_rec=RECORDED)
    # When a test records
    result = pytester.runpytest("--record-mode=once", "-k", "test_json or test_secret_stream")
    result.assert_outcomes(passed=2)
    # Then the user's filter and hook took effect, and so did chatcontract's scrubbing
    for name, text in _cassettes(pytester.path).items():
        (interaction,) = yaml.safe_load(text)["interactions"]
        headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
        assert "x-custom" not in headers, name
        assert headers["authorization"] == [PLACEHOLDER], name
        assert interaction["response"]["headers"]["x-user-hook"] == ["seen"], name
        assert "set-cookie" not in text.lower(), name
        for secret in PLANTED.values():
            assert secret not in _everything(text), name
    # And the replay still matches on the JSON body
    llm.stop()
    pytester.runpytest("--record-mode=none", "-k", "test_json or test_secret_stream").assert_outcomes(passed=2)


def test_vcr_defaults_can_be_turned_off(pytester, llm, monkeypatch):
    # Given chatcontract_vcr_defaults = false
    write_ini(pytester, "chatcontract_vcr_defaults = false")
    pytester.makepyfile(test_rec=RECORDED)
    # When a test records
    pytester.runpytest("--record-mode=once", "-k", "test_json").assert_outcomes(passed=1)
    # Then VCR.py writes what it saw (nothing scrubbed) ...
    text = _cassettes(pytester.path)["test_json"]
    assert OPENAI_KEY in text and QUERY_KEY in text and BODY_KEY in text
    assert "set-cookie" in text.lower()
    # ... and matches with VCR.py's own defaults, which ignore the body: another prompt replays the recording
    llm.stop()
    monkeypatch.setenv(PROMPT_ENV, "Something else")
    pytester.runpytest("--record-mode=none", "-k", "test_json").assert_outcomes(passed=1)
