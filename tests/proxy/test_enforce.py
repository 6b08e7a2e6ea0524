"""``--enforce``: an answer that breaks the contract becomes an error the SDK raises on; a conforming one passes
byte for byte (compared with the same request sent directly to an identically seeded provider).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from mistralai.client import Mistral

from chatcontract.provider import serve

from .helpers import MESSAGES, proxy_to

REQUEST = {"model": "ref-small", "messages": MESSAGES, "max_tokens": 12}


def _direct_and_proxied(dialect: str, body: dict) -> tuple[bytes, bytes, int]:
    """The same request sent directly and through an enforcing proxy, each to a provider seeded alike."""
    with serve(dialect=dialect, seed=5) as provider:
        direct = httpx.post(f"{provider.base_url}/chat/completions", json=body, timeout=10).content
    with (
        serve(dialect=dialect, seed=5) as provider,
        proxy_to(provider.base_url, dialect=dialect, enforce=True) as (
            proxy,
            _,
        ),
    ):
        answer = httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=10)
    return direct, answer.content, answer.status_code


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_conforming_answer_passes_byte_for_byte(dialect: str, stream: bool) -> None:
    direct, proxied, status = _direct_and_proxied(dialect, {**REQUEST, "stream": stream})
    assert status == 200
    assert proxied == direct


@pytest.fixture
def faulty_openai() -> Iterator[str]:
    with serve(dialect="openai", faults=["created-ms", "stream-empty-finish-reason"], seed=5) as provider:
        yield provider.base_url


def test_a_broken_json_answer_becomes_a_502_the_sdk_raises_on(faulty_openai: str) -> None:
    with proxy_to(faulty_openai, dialect="openai", enforce=True) as (proxy, out):
        with openai.OpenAI(base_url=proxy.base_url, api_key="sk-x", max_retries=0) as client:
            with pytest.raises(openai.InternalServerError) as raised:
                client.chat.completions.create(**REQUEST)
    assert raised.value.status_code == 502
    error = raised.value.body
    assert isinstance(error, dict) and error["type"] == "contract_violation"
    assert "CC209 implausible-created at $.created" in error["message"]
    (exchange,) = proxy.session.exchanges
    assert exchange.replaced == "502" and exchange.codes == ["CC209"]
    assert "CC209 implausible-created" in out.getvalue()


def test_a_broken_stream_ends_with_an_error_event_the_sdk_raises_on(faulty_openai: str) -> None:
    with proxy_to(faulty_openai, dialect="openai", enforce=True) as (proxy, _):
        with openai.OpenAI(base_url=proxy.base_url, api_key="sk-x", max_retries=0) as client:
            stream = client.chat.completions.create(**REQUEST, stream=True)
            received = []
            with pytest.raises(openai.APIError, match="CC103"):
                for chunk in stream:
                    received.append(chunk)
    (exchange,) = proxy.session.exchanges
    assert exchange.replaced == "stream-error-event" and "CC103" in exchange.codes
    assert received == []  # the first chunk already breaks the contract: nothing of it reached the client


def test_a_stream_that_fails_only_as_a_whole_loses_its_done() -> None:
    """No [DONE] (CC303) is only known at the end: the events went out, then the error event instead of [DONE]."""
    with serve(dialect="openai", faults=["stream-no-done"], seed=5) as provider:
        with proxy_to(provider.base_url, dialect="openai", enforce=True) as (proxy, _):
            answer = httpx.post(f"{proxy.base_url}/chat/completions", json={**REQUEST, "stream": True}, timeout=10)
            with openai.OpenAI(base_url=proxy.base_url, api_key="sk-x", max_retries=0) as client:
                with pytest.raises(openai.APIError, match="CC303"):
                    list(client.chat.completions.create(**REQUEST, stream=True))
    events = [e for e in answer.text.split("\n\n") if e.strip()]
    assert all(e.startswith("data: {") for e in events) and "data: [DONE]" not in answer.text
    last = json.loads(events[-1].removeprefix("data: "))
    assert last["error"]["type"] == "contract_violation" and "CC303" in last["error"]["message"]
    assert json.loads(events[-2].removeprefix("data: "))["choices"][0]["finish_reason"] in ("stop", "length")


def test_mistral_sdk_raises_on_an_enforced_stream() -> None:
    with serve(dialect="mistral", faults=["stream-empty-finish-reason"], seed=5) as provider:
        with proxy_to(provider.base_url, dialect="mistral", enforce=True) as (proxy, _):
            with Mistral(api_key="k", server_url=proxy.root_url) as client:
                with pytest.raises(Exception) as raised:
                    list(client.chat.stream(model="ref-small", messages=MESSAGES, max_tokens=12))
    assert "CC103" in str(raised.value) or "CC103" in repr(getattr(raised.value, "body", ""))


def test_error_answers_pass_unchanged_under_enforce() -> None:
    with serve(dialect="openai", faults=["foreign-error-envelope"], seed=5) as provider:
        with proxy_to(provider.base_url, dialect="openai", enforce=True) as (proxy, _):
            answer = httpx.post(f"{proxy.base_url}/chat/completions", json={"model": "ref-small"}, timeout=10)
    assert answer.status_code == 400 and answer.json()["object"] == "error"  # the other dialect's body, as sent
    (exchange,) = proxy.session.exchanges
    assert exchange.replaced is None and "CC502" in exchange.codes


def test_the_recording_keeps_the_upstreams_answers_not_the_replacements(tmp_path) -> None:
    from chatcontract.cassettes import load_cassette

    with serve(dialect="openai", faults=["created-ms", "stream-no-done"], seed=5) as provider:
        with proxy_to(provider.base_url, dialect="openai", enforce=True, record=str(tmp_path)) as (proxy, _):
            replaced = httpx.post(f"{proxy.base_url}/chat/completions", json=REQUEST, timeout=10)
            cut = httpx.post(f"{proxy.base_url}/chat/completions", json={**REQUEST, "stream": True}, timeout=10)
    assert replaced.status_code == 502 and "contract_violation" in cut.text
    (path,) = tmp_path.glob("*.yaml")
    answer, stream = (i.response for i in load_cassette(path).interactions)
    assert answer.status == 200 and json.loads(answer.body)["created"] > 10**12  # the millisecond timestamp
    assert stream.status == 200 and b"contract_violation" not in stream.body and b"[DONE]" not in stream.body
    assert [e.replaced for e in proxy.session.exchanges] == ["502", "stream-error-event"]
