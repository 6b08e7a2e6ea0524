"""Differential tests for reasoning responses: check() against the official SDKs where they model reasoning.

* mistralai models Magistral's thinking as ``ThinkChunk`` (content chunk ``{"type": "thinking", "thinking": [...]}``)
  in responses and stream events: what it parses into a ThinkChunk, check() accepts; what it cannot make sense of
  (rejects, or keeps as an unknown chunk), check() rejects; and assemble() of a Magistral stream gives a response
  the SDK parses into the same ThinkChunk a non-stream response has.
* openai's SDK does not model reasoning text: it keeps ``reasoning_content`` / ``reasoning`` as extra attributes
  of any type, so with the ``reasoning`` extension check() reports the malformed ones the SDK lets through (CC220).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mistralai.client.models import TextChunk, ThinkChunk

from chatcontract import assemble, check

from .test_differential import ACCEPTS, KEEPS_UNKNOWN, REJECTS, mistral_sdk, openai_sdk, sse

REASON = "The user asks for the capital of France."
THINK: dict[str, Any] = {"type": "thinking", "thinking": [{"type": "text", "text": REASON}]}
MAGISTRAL: dict[str, Any] = {
    "id": "5c2d1e0c8a2b4f0e9d3b7a6c1f2e3d4a",
    "object": "chat.completion",
    "created": 1757876416,
    "model": "magistral-small-2509",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": [THINK, {"type": "text", "text": "Paris."}]},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 42, "total_tokens": 52},
}


def with_chunk(chunk: Any) -> dict[str, Any]:
    doc = copy.deepcopy(MAGISTRAL)
    doc["choices"][0]["message"]["content"][0] = chunk
    return doc


def test_magistral_response_agrees_with_the_sdk() -> None:
    verdict, parsed = mistral_sdk(MAGISTRAL)
    assert verdict == ACCEPTS
    think = parsed.choices[0].message.content[0]
    assert isinstance(think, ThinkChunk) and isinstance(think.thinking[0], TextChunk)
    assert think.thinking[0].text == REASON
    assert check(MAGISTRAL, dialect="mistral", select=["ALL"]).violations == ()
    # The SDK object is a payload too: dumped back to wire JSON, it still conforms.
    assert check(parsed, dialect="mistral", select=["ALL"]).violations == ()


P = "/choices/0/message/content/0"
THINK_VARIANTS: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    # (chunk, what check() reports when the SDK accepts it)
    (THINK, []),
    ({**THINK, "signature": "c2lnbmF0dXJl", "closed": True}, []),
    ({**THINK, "signature": None}, []),
    ({"type": "thinking", "thinking": []}, []),
    ({"type": "thinking", "thinking": [{"type": "reference", "reference_ids": [1, "doc-2"]}]}, []),
    # The SDK coerces "yes" to True; the contract is strict (no coercion).
    ({**THINK, "closed": "yes"}, [("CC102", f"{P}/closed")]),
    ({"type": "thinking", "thinking": "a string, not chunks"}, []),
    ({"type": "thinking"}, []),
    ({"type": "thinking", "thinking": [{"type": "text", "text": 7}]}, []),
    ({"type": "thinking", "thinking": [{"type": "image_url", "image_url": "https://example.com/a.png"}]}, []),
]


@pytest.mark.parametrize(("chunk", "ours"), THINK_VARIANTS, ids=range(len(THINK_VARIANTS)))
def test_think_chunk_variants_agree_with_the_sdk(chunk: dict[str, Any], ours: list[tuple[str, str]]) -> None:
    doc = with_chunk(chunk)
    verdict, _ = mistral_sdk(doc)
    report = check(doc, dialect="mistral", select=["ALL"])
    if verdict == ACCEPTS:
        assert [(v.code, v.pointer) for v in report.violations] == ours, str(report)
    else:
        assert verdict in (REJECTS, KEEPS_UNKNOWN)
        assert not report.ok, f"the SDK says {verdict}, check() accepts"


THINK_TEXT = st.text(max_size=20)
THINK_CHUNKS = st.fixed_dictionaries(
    {"type": st.just("thinking"), "thinking": st.lists(st.builds(lambda t: {"type": "text", "text": t}, THINK_TEXT))},
    optional={"signature": st.none() | st.text(max_size=8), "closed": st.booleans()},
)
BROKEN = st.sampled_from(
    [("thinking", "text"), ("thinking", None), ("thinking", 3), ("closed", "no"), ("signature", 1), ("extra", 1)]
)


@settings(max_examples=60, deadline=None)
@given(chunk=THINK_CHUNKS, broken=st.none() | BROKEN)
def test_generated_think_chunks_the_sdk_rejects_we_reject(chunk: dict[str, Any], broken: Any) -> None:
    if broken is not None:
        chunk = {**chunk, broken[0]: broken[1]}
    doc = with_chunk(chunk)
    verdict, _ = mistral_sdk(doc)
    report = check(doc, dialect="mistral", select=["ALL"])
    if verdict != ACCEPTS:
        assert not report.ok, f"the SDK says {verdict}, check() accepts: {chunk!r}"
    if broken is None:
        assert verdict == ACCEPTS and report.violations == ()


def magistral_stream(pieces: list[str], answer: str) -> bytes:
    base = {"id": "x", "object": "chat.completion.chunk", "created": 1757876416, "model": "magistral-small-2509"}

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}

    events = [event({"role": "assistant", "content": ""})]
    events += [event({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": p}]}]}) for p in pieces]
    events.append(event({"content": answer}))
    events.append(event({"content": ""}, "stop", usage=MAGISTRAL["usage"]))
    return sse(*events)


@settings(max_examples=30, deadline=None)
@given(pieces=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=6), answer=st.text(min_size=1))
def test_assembled_magistral_stream_parses_like_the_non_stream_response(pieces: list[str], answer: str) -> None:
    body = magistral_stream(pieces, answer)
    assert check(body, dialect="mistral", select=["ALL"]).violations == ()
    for line in body.split(b"\n\n")[1:-2]:  # every thinking event is a CompletionEvent the SDK parses
        verdict, event = mistral_sdk(line.removeprefix(b"data: "), stream=True)
        assert verdict == ACCEPTS
        content = event.data.choices[0].delta.content
        assert isinstance(content, str) or isinstance(content[0], ThinkChunk)
    assembled = assemble(body, dialect="mistral")
    verdict, parsed = mistral_sdk(assembled)
    assert verdict == ACCEPTS
    think, text = parsed.choices[0].message.content
    assert isinstance(think, ThinkChunk) and len(think.thinking) == 1 and isinstance(think.thinking[0], TextChunk)
    assert think.thinking[0].text == "".join(pieces)
    assert isinstance(text, TextChunk) and text.text == answer


OPENAI: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1755146543,
    "model": "deepseek-reasoner",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 48, "total_tokens": 60},
}


@pytest.mark.parametrize(
    ("fields", "ours"),
    [
        ({"reasoning_content": "Capital of France."}, []),
        ({"reasoning": "Capital of France.", "reasoning_content": None}, []),
        ({"reasoning_content": [{"type": "text", "text": "x"}]}, [("CC220", "/choices/0/message/reasoning_content")]),
        ({"reasoning": {"text": "x"}}, [("CC220", "/choices/0/message/reasoning")]),
        ({"reasoning_details": "x"}, [("CC220", "/choices/0/message/reasoning_details")]),
    ],
)
def test_openai_sdk_keeps_any_reasoning_field_we_judge_its_type(fields: dict[str, Any], ours: list[Any]) -> None:
    doc = copy.deepcopy(OPENAI)
    doc["choices"][0]["message"].update(fields)
    verdict, parsed = openai_sdk(doc)
    assert verdict == ACCEPTS  # extra attributes of any type: the SDK does not model reasoning text
    assert parsed.choices[0].message.model_extra == fields
    report = check(doc, dialect="openai", extensions=["reasoning"], select=["ALL"])
    assert [(v.code, v.pointer) for v in report.violations] == ours
