"""No dialect configured: the guard infers it per exchange from the client's User-Agent or the host (pytester).

The providers are chatcontract's reference provider, really started in each dialect; the clients are the real
openai and mistralai SDKs and plain httpx.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatcontract._infer import infer_dialect
from chatcontract.provider.server import serve

MODULE = '''
import os

import httpx
import openai
import pytest
from mistralai.client import Mistral

OPENAI_URL = os.environ["CC_OPENAI_URL"]
MISTRAL_URL = os.environ["CC_MISTRAL_URL"]
MESSAGES = [{"role": "user", "content": "Say hello"}]


@pytest.mark.chatcontract
def test_openai_sdk():
    with openai.OpenAI(base_url=OPENAI_URL, api_key="sk-test", max_retries=0) as client:
        assert client.chat.completions.create(model="ref-small", messages=MESSAGES).choices
        assert list(client.chat.completions.create(model="ref-small", messages=MESSAGES, stream=True))


@pytest.mark.chatcontract
def test_mistral_sdk():
    with Mistral(api_key="sk-test", server_url=MISTRAL_URL.removesuffix("/v1")) as client:
        assert client.chat.complete(model="ref-small", messages=MESSAGES).choices


@pytest.mark.chatcontract
def test_plain_httpx():
    response = httpx.post(MISTRAL_URL + "/chat/completions", json={"model": "ref-small", "messages": MESSAGES})
    assert response.status_code == 200
'''


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with serve(dialect="openai", seed=1) as openai_provider, serve(dialect="mistral", seed=1) as mistral_provider:
        monkeypatch.setenv("CC_OPENAI_URL", openai_provider.base_url)
        monkeypatch.setenv("CC_MISTRAL_URL", mistral_provider.base_url)
        yield


def test_each_exchange_is_checked_in_the_dialect_its_client_shows(pytester: pytest.Pytester, providers: None) -> None:
    # Given marked tests with no dialect anywhere (marker, option, ini, pyproject), each using another client
    pytester.makepyfile(MODULE)
    # When they run against conforming providers of the matching dialect
    result = pytester.runpytest("-rA")
    # Then every exchange conforms (no CC104/CC312 flood for the openai SDK), and the report says which dialect
    # was used and why
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "POST */v1/chat/completions -> 200: ChatCompletion (openai): conforms "
        "[[]dialect openai, inferred from User-Agent OpenAI/Python *[]]",
        "POST */v1/chat/completions -> 200 (stream): chat completion stream (openai): conforms "
        "[[]dialect openai, inferred from User-Agent OpenAI/Python *[]]",
    ])
    result.stdout.fnmatch_lines([
        "POST */v1/chat/completions -> 200: ChatCompletionResponse (mistral): conforms "
        "[[]dialect mistral, inferred from User-Agent mistral-client-python/*[]]",
    ])
    result.stdout.fnmatch_lines([
        "POST */v1/chat/completions -> 200: ChatCompletionResponse (mistral): conforms "
        "[[]dialect mistral, the default: neither configured nor shown by the client or the host[]]",
    ])
    result.stdout.no_fnmatch_line("*CC104*")


def test_a_configured_dialect_is_not_second_guessed(pytester: pytest.Pytester, providers: None) -> None:
    # Given the same tests with the dialect set in [tool.chatcontract]
    pytester.makepyfile(MODULE)
    pytester.makepyprojecttoml('[tool.chatcontract]\ndialect = "mistral"\n')
    # When they run
    result = pytester.runpytest("-rA", "-k", "openai_sdk")
    # Then the openai SDK's exchanges are held to the configured (mistral) contract (an OpenAI completion breaks it
    # only with warnings), with no inference note
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["POST */v1/chat/completions -> 200: ChatCompletionResponse (mistral): 0 error(s), *"])
    result.stdout.no_fnmatch_line("*inferred from*")


def test_help_shows_the_default(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--chatcontract-dialect=*", "*(default: inferred per*", "*mistral).*"])


@pytest.mark.parametrize(
    ("headers", "url", "expected"),
    [
        ({"User-Agent": "AsyncOpenAI/Python 3.63.0"}, "http://127.0.0.1:8000/v1/chat/completions", "openai"),
        ({"user-agent": ["speakeasy-sdk/python 3.7.0 2.935.1 1.0.0 mistralai"]}, "http://h/v1/x", "mistral"),
        ({"X-Stainless-Lang": "python"}, "http://127.0.0.1/v1/chat/completions", "openai"),
        ({"User-Agent": "python-httpx/0.29.0"}, "https://api.openai.com/v1/chat/completions", "openai"),
        ({}, "https://api.mistral.ai/v1/chat/completions", "mistral"),
        ({"User-Agent": "curl/8.5.0"}, "http://127.0.0.1/v1/chat/completions", "mistral"),
        (None, "", "mistral"),
    ],
)
def test_infer_dialect(headers: object, url: str, expected: str) -> None:
    dialect, reason = infer_dialect(headers, url)
    assert dialect == expected
    assert reason.startswith(("inferred from", "the default"))
