"""The reference provider's reasoning model: each dialect's style, streamed and not, with the request's switches,
through real servers and the official SDKs."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from mistralai.client import Mistral
from mistralai.client.models import TextChunk, ThinkChunk

from chatcontract import assemble, check
from chatcontract.provider import MODELS, create_app, serve
from chatcontract.provider import generate as gen

from .helpers import call

ASK = [{"role": "user", "content": "What is the capital of France?"}]
DIALECTS = ("mistral", "openai")


def ask(dialect: str, **fields: Any) -> dict[str, Any]:
    req: dict[str, Any] = {"model": "ref-reasoner", "messages": ASK, **fields}
    if fields.get("stream") and dialect == "openai":
        req["stream_options"] = {"include_usage": True}
    return req


def reasoning_of(message: dict[str, Any], dialect: str) -> str | None:
    if dialect == "openai":
        return message.get("reasoning_content")
    content = message["content"]
    if not isinstance(content, list):
        return None
    assert content[0]["type"] == "thinking"  # the thinking chunk comes first
    return "".join(t["text"] for t in content[0]["thinking"])


def test_the_reasoning_model_is_listed() -> None:
    assert "ref-reasoner" in MODELS


@pytest.mark.parametrize("dialect", DIALECTS)
def test_reasoning_in_the_dialects_style_streamed_or_not(dialect: str) -> None:
    plain, streamed = call(create_app(dialect=dialect, seed=5), [ask(dialect), ask(dialect, stream=True)])
    for resp, req in ((plain, ask(dialect)), (streamed, ask(dialect, stream=True))):
        report = check(resp, dialect=dialect, request=req, extensions=["reasoning"], select=["ALL"])
        assert report.violations == (), str(report)
    message = plain.json()["choices"][0]["message"]
    reasoning = reasoning_of(message, dialect)
    assert reasoning
    # The stream assembles into the non-stream answer (same plan, same seed).
    assembled = assemble(streamed.text, dialect=dialect)["choices"][0]["message"]
    assert reasoning_of(assembled, dialect) == reasoning
    assert assembled["content"] == message["content"]
    if dialect == "openai":
        usage = plain.json()["usage"]
        assert usage["completion_tokens_details"]["reasoning_tokens"] == gen.count_tokens(reasoning)
        assert usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]
    else:
        assert message["content"][1]["type"] == "text"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_request_switches(dialect: str) -> None:
    asked = {"model": "ref-small", "messages": ASK, "reasoning_effort": "high"}
    off = ask(dialect, reasoning_effort="none")
    plain = {"model": "ref-small", "messages": ASK}
    requests = [asked, off, plain]
    if dialect == "mistral":
        requests.append({"model": "ref-small", "messages": ASK, "prompt_mode": "reasoning"})
    resps = call(create_app(dialect=dialect, seed=5), requests)
    got = [reasoning_of(r.json()["choices"][0]["message"], dialect) for r in resps]
    assert got[0] and got[1] is None and got[2] is None
    if dialect == "mistral":
        assert got[3]
    for req, resp in zip(requests, resps, strict=True):
        assert check(resp, dialect=dialect, request=req, select=["ALL"]).violations == ()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("budget", [1, 2, 5, 8, 30])
def test_reasoning_shares_max_tokens_with_the_answer(dialect: str, budget: int) -> None:
    req = ask(dialect, max_tokens=budget, n=2)
    resp = call(create_app(dialect=dialect, seed=budget), [req])[0]
    usage = resp.json()["usage"]
    assert usage["completion_tokens"] <= 2 * budget
    assert check(resp, dialect=dialect, request=req, select=["ALL"]).ok


def test_mistral_sdk_reads_the_thinking_chunk() -> None:
    with serve(dialect="mistral", seed=3) as provider, Mistral(api_key="k", server_url=provider.root_url) as client:
        res = client.chat.complete(model="ref-reasoner", messages=ASK)
        think, text = res.choices[0].message.content
        assert isinstance(think, ThinkChunk) and isinstance(think.thinking[0], TextChunk)
        assert isinstance(text, TextChunk) and text.text
        events = list(client.chat.stream(model="ref-reasoner", messages=ASK))
        firsts = [e.data.choices[0].delta.content for e in events]
        assert any(isinstance(c, list) and isinstance(c[0], ThinkChunk) for c in firsts)


def test_openai_sdk_keeps_reasoning_content_and_counts_it() -> None:
    with serve(dialect="openai", seed=3) as provider:
        with openai.OpenAI(base_url=provider.base_url, api_key="k", _strict_response_validation=True) as client:
            completion = client.chat.completions.create(model="ref-reasoner", messages=ASK)  # type: ignore[arg-type]
            message = completion.choices[0].message
            assert message.model_extra and message.model_extra["reasoning_content"]
            assert completion.usage and completion.usage.completion_tokens_details
            assert completion.usage.completion_tokens_details.reasoning_tokens
            assert check(completion, dialect="openai", extensions=["reasoning"], select=["ALL"]).violations == ()
