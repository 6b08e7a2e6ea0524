"""Smoke tests that talk to the real providers over loopback HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from . import venv as provider_venv
from .servers import LITELLM_UPSTREAM_MODELS, MOCK_TEXT, MOCK_TOOL_CALLS, Server, llamacpp_server

MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Say hello to the world."},
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "London", "Tokyo"]},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # trust_env=False: never send loopback traffic through an environment proxy.
    with httpx.Client(timeout=60.0, trust_env=False) as client:
        yield client


def chat(http: httpx.Client, server: Server, body: dict[str, Any], *, key: bool = True) -> httpx.Response:
    headers = server.headers if key else {"Content-Type": "application/json"}
    return http.post(server.chat_url, json=body, headers=headers)


def sse_events(resp: httpx.Response) -> list[str]:
    """The ``data:`` payloads of a text/event-stream body, in order."""
    return [line[len("data:") :].strip() for line in resp.text.splitlines() if line.startswith("data:")]


def assert_completion(payload: dict[str, Any], *, model: str | None = None) -> dict[str, Any]:
    assert payload["object"] == "chat.completion"
    assert isinstance(payload["id"], str) and payload["id"]
    assert isinstance(payload["created"], int)
    if model is not None:
        assert model in payload["model"]
    assert len(payload["choices"]) == 1
    choice: dict[str, Any] = payload["choices"][0]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] in {"stop", "length", "tool_calls"}
    usage = payload["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    return choice


def assert_stream(resp: httpx.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = sse_events(resp)
    assert events and events[-1] == "[DONE]", events[-3:]
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    assert any(c["choices"] and c["choices"][0].get("finish_reason") for c in chunks)
    return chunks


# ------------------------------------------------------------------------------------------- llama.cpp


def test_llamacpp_server_is_a_live_loopback_process(llamacpp: Server, http: httpx.Client) -> None:
    assert llamacpp.base_url == f"http://127.0.0.1:{llamacpp.port}/v1"
    assert llamacpp.api_key is None
    assert set(llamacpp.models) >= {"tiny", "tiny-tools"}
    os.kill(llamacpp.pid, 0)  # raises if the process is gone
    assert llamacpp.log_path.is_file()
    listed = http.get(f"{llamacpp.base_url}/models").json()
    assert {m["id"] for m in listed["data"]} >= {"tiny", "tiny-tools"}


def test_llamacpp_completion(llamacpp: Server, http: httpx.Client) -> None:
    resp = chat(http, llamacpp, {"model": "tiny", "messages": MESSAGES, "max_tokens": 12, "seed": 7})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    choice = assert_completion(resp.json(), model="tiny")
    assert isinstance(choice["message"]["content"], str)
    assert resp.json()["usage"]["completion_tokens"] <= 12


def test_llamacpp_is_deterministic_at_temperature_zero(llamacpp: Server, http: httpx.Client) -> None:
    body = {"model": "tiny", "messages": MESSAGES, "max_tokens": 8, "temperature": 0}
    first = chat(http, llamacpp, body).json()["choices"][0]["message"]["content"]
    second = chat(http, llamacpp, body).json()["choices"][0]["message"]["content"]
    assert first == second


def test_llamacpp_stream(llamacpp: Server, http: httpx.Client) -> None:
    resp = chat(http, llamacpp, {"model": "tiny", "messages": MESSAGES, "max_tokens": 12, "stream": True})
    chunks = assert_stream(resp)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert isinstance(text, str)


def test_llamacpp_named_tool_choice(llamacpp: Server, http: httpx.Client) -> None:
    body = {
        "model": "tiny-tools",
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "max_tokens": 64,
    }
    resp = chat(http, llamacpp, body)
    assert resp.status_code == 200, resp.text
    choice = assert_completion(resp.json())
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    # Grammar-constrained by the enum schema: valid JSON with allowed values.
    args = json.loads(call["function"]["arguments"])
    assert args["city"] in {"Paris", "London", "Tokyo"}
    assert args["unit"] in {"celsius", "fahrenheit"}


def test_llamacpp_server_stops_by_pid() -> None:
    with llamacpp_server(models={"solo": {"chat_format": "chatml"}}) as server:
        pid = server.pid
        assert server.models == ("solo",)
        os.kill(pid, 0)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# --------------------------------------------------------------------------------------------- LiteLLM


def test_litellm_requires_key(litellm: Server, http: httpx.Client) -> None:
    assert litellm.api_key and litellm.api_key.startswith("sk-")
    resp = chat(http, litellm, {"model": "mock-gpt", "messages": MESSAGES}, key=False)
    assert resp.status_code == 401, resp.text
    assert "error" in resp.json()
    wrong = http.post(
        litellm.chat_url, json={"model": "mock-gpt", "messages": MESSAGES}, headers={"Authorization": "Bearer sk-wrong"}
    )
    # A deviation: without a database LiteLLM cannot look an unknown (virtual) key up and answers
    # 400 "No connected db." where OpenAI answers 401. Only assert that the request is refused.
    assert 400 <= wrong.status_code < 500, wrong.text
    assert "error" in wrong.json()


@pytest.mark.parametrize("model", ["mock-gpt", "mock-mistral"])
def test_litellm_mock_completion(litellm: Server, http: httpx.Client, model: str) -> None:
    resp = chat(http, litellm, {"model": model, "messages": MESSAGES, "max_tokens": 5})
    assert resp.status_code == 200, resp.text
    choice = assert_completion(resp.json())
    assert choice["message"]["content"] == MOCK_TEXT


def test_litellm_mock_stream(litellm: Server, http: httpx.Client) -> None:
    resp = chat(http, litellm, {"model": "mock-gpt", "messages": MESSAGES, "stream": True})
    chunks = assert_stream(resp)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == MOCK_TEXT


def test_litellm_mock_tool_calls(litellm: Server, http: httpx.Client) -> None:
    body = {"model": "mock-tools", "messages": MESSAGES, "tools": [WEATHER_TOOL], "tool_choice": "auto"}
    resp = chat(http, litellm, body)
    assert resp.status_code == 200, resp.text
    choice = assert_completion(resp.json())
    (call,) = choice["message"]["tool_calls"]
    assert call["id"] == MOCK_TOOL_CALLS[0]["id"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}


def test_litellm_rate_limit(litellm: Server, http: httpx.Client) -> None:
    resp = chat(http, litellm, {"model": "mock-rate-limit", "messages": MESSAGES})
    assert resp.status_code == 429, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    error = resp.json()["error"]
    assert isinstance(error["message"], str) and error["message"]


def test_litellm_proxies_to_llamacpp(litellm: Server, http: httpx.Client) -> None:
    assert set(litellm.models) >= set(LITELLM_UPSTREAM_MODELS)
    resp = chat(http, litellm, {"model": "upstream-tiny", "messages": MESSAGES, "max_tokens": 8})
    assert resp.status_code == 200, resp.text
    choice = assert_completion(resp.json())
    assert isinstance(choice["message"]["content"], str)
    streamed = chat(http, litellm, {"model": "upstream-tiny", "messages": MESSAGES, "max_tokens": 8, "stream": True})
    assert_stream(streamed)


# ---------------------------------------------------------------------------------------- installation


def test_provider_cache_location_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("CHATCONTRACT_PROVIDER_CACHE", str(tmp_path))
    assert provider_venv.cache_root() == tmp_path.resolve()
    llama_dir = provider_venv.provider_dir("llamacpp")
    assert llama_dir.parent == tmp_path.resolve()
    assert llama_dir.name.startswith("llamacpp-")
    assert llama_dir != provider_venv.provider_dir("litellm")
    # A directory without the stamp is an unfinished venv: not healthy, so it would be rebuilt.
    (llama_dir / "bin").mkdir(parents=True)
    assert not provider_venv._healthy("llamacpp", llama_dir)
    with pytest.raises(provider_venv.ProviderInstallError, match="unknown provider"):
        provider_venv.ensure_provider_env("no-such-provider")


def test_failed_install_raises_with_pip_log(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # An existing directory that is no Python project: pip fails at once, without asking any registry.
    not_a_project = tmp_path / "not-a-project"
    not_a_project.mkdir()
    monkeypatch.setenv("CHATCONTRACT_PROVIDER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(
        provider_venv.PROVIDERS, "broken", provider_venv.ProviderSpec(requirements=(str(not_a_project),))
    )
    with pytest.raises(provider_venv.ProviderInstallError) as info:
        provider_venv.ensure_provider_env("broken")
    message = str(info.value)
    assert "failed (exit" in message
    assert "not-a-project" in message  # the tail of pip's log says what went wrong
    assert not (provider_venv.provider_dir("broken") / provider_venv.STAMP_NAME).exists()
