"""The official SDKs talk to the reference provider (openai with strict response validation, mistralai 3.7)."""

from __future__ import annotations

import json

import openai
import pytest
from mistralai.client import Mistral

from chatcontract import check
from chatcontract.provider import serve

from .helpers import WEATHER

MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]
NAMED = {"type": "function", "function": {"name": "get_weather"}}


@pytest.fixture(scope="module")
def openai_provider():
    with serve(dialect="openai", seed=9, api_key="sk-test") as provider:
        yield provider


@pytest.fixture(scope="module")
def mistral_provider():
    with serve(dialect="mistral", seed=9, api_key="mk-test") as provider:
        yield provider


@pytest.fixture
def openai_client(openai_provider):
    with openai.OpenAI(base_url=openai_provider.base_url, api_key="sk-test", _strict_response_validation=True) as c:
        yield c


@pytest.fixture
def mistral_client(mistral_provider):
    with Mistral(api_key="mk-test", server_url=mistral_provider.root_url) as c:
        yield c


def test_openai_non_stream(openai_client):
    completion = openai_client.chat.completions.create(model="ref-small", messages=MESSAGES, n=2, max_tokens=50)
    assert len(completion.choices) == 2
    assert completion.usage is not None and completion.usage.completion_tokens <= 100
    assert check(completion, dialect="openai").violations == ()


def test_openai_stream_with_usage(openai_client):
    stream = openai_client.chat.completions.create(
        model="ref-large",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        logprobs=True,
        top_logprobs=2,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].choices == [] and chunks[-1].usage is not None
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_openai_tools(openai_client):
    completion = openai_client.chat.completions.create(
        model="ref-small", messages=MESSAGES, tools=[WEATHER], tool_choice=NAMED
    )
    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    assert set(json.loads(call.function.arguments)) >= {"city", "unit"}


def test_openai_streamed_tool_call_assembles(openai_client):
    stream = openai_client.chat.completions.create(
        model="ref-small", messages=MESSAGES, tools=[WEATHER], tool_choice="required", stream=True
    )
    arguments, names = "", []
    for chunk in stream:
        for tc in chunk.choices[0].delta.tool_calls or ():
            if tc.index == 0:
                names += [tc.function.name] if tc.function and tc.function.name else []
                arguments += tc.function.arguments or "" if tc.function else ""
    assert names == ["get_weather"]
    assert json.loads(arguments)["unit"] in ("celsius", "fahrenheit")


def test_openai_errors_become_sdk_exceptions(openai_client, openai_provider):
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(model="gpt-99", messages=MESSAGES)
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=openai_provider.base_url, api_key="wrong", max_retries=0).models.list()
    assert [m.id for m in openai_client.models.list()] == ["ref-small", "ref-large", "ref-reasoner"]


def test_mistral_complete(mistral_client):
    res = mistral_client.chat.complete(model="ref-small", messages=MESSAGES, max_tokens=5)
    assert res.choices[0].finish_reason == "length"
    assert res.usage.completion_tokens == 5
    assert res.id.startswith("cmpl-")


def test_mistral_stream(mistral_client):
    events = list(mistral_client.chat.stream(model="ref-small", messages=MESSAGES))
    text = "".join(e.data.choices[0].delta.content or "" for e in events)
    assert text.endswith(".")
    assert events[-1].data.usage is not None and events[-1].data.choices[0].finish_reason == "stop"


def test_mistral_tools(mistral_client):
    res = mistral_client.chat.complete(model="ref-large", messages=MESSAGES, tools=[WEATHER], tool_choice="any")
    call = res.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and len(call.id) == 9
    events = list(mistral_client.chat.stream(model="ref-large", messages=MESSAGES, tools=[WEATHER], tool_choice="any"))
    calls = [tc for e in events for tc in e.data.choices[0].delta.tool_calls or ()]
    assert [c.function.name for c in calls] == ["get_weather"]


def test_mistral_validation_error(mistral_client):
    from mistralai.client import errors

    with pytest.raises(errors.HTTPValidationError):
        mistral_client.chat.complete(model="ref-small", messages=MESSAGES, temperature=1.4, top_p=0)
    assert [m.id for m in mistral_client.models.list().data] == ["ref-small", "ref-large", "ref-reasoner"]
