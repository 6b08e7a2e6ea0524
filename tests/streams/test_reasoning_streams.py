"""Reasoning streams: each convention's stream conforms, assembles into that convention's non-stream shape, and
the order rules (CC321 reasoning after content, CC322 after finish_reason) fire at the right event, under any
chunking.

Conventions (real shapes): DeepSeek / llama.cpp ``delta.reasoning_content``; vLLM >= 0.11 ``delta.reasoning``;
OpenRouter ``delta.reasoning`` + ``delta.reasoning_details``; Mistral (Magistral) thinking chunks in
``delta.content``. The OpenAI-compatible ones are checked with the ``reasoning`` extension.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatcontract import StreamChecker, assemble, check
from chatcontract.violations import Severity

from .helpers import REQUEST_USAGE, USAGE, choice, chunk, split_at, sse, triples, usage_chunk

CONVENTIONS = ("deepseek", "vllm", "openrouter", "mistral")
EXT = ["reasoning"]
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def dialect_of(convention: str) -> str:
    return "mistral" if convention == "mistral" else "openai"


def reasoning_delta(convention: str, text: str) -> dict[str, Any]:
    """One streamed piece of reasoning, as each server sends it."""
    if convention == "mistral":
        return {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": text}]}]}
    if convention == "deepseek":
        return {"reasoning_content": text, "content": None}
    if convention == "vllm":
        return {"reasoning": text}
    block = {"type": "reasoning.text", "text": text, "format": "unknown", "index": 0}
    return {"reasoning": text, "reasoning_details": [block]}


def stream_events(convention: str, reasoning: list[str], answer: list[str]) -> list[dict[str, Any]]:
    """A conforming stream: role, reasoning pieces, answer pieces, a finishing chunk (and usage)."""
    dialect = dialect_of(convention)
    events = [chunk([choice(dialect, {"role": "assistant", "content": ""})])]
    events += [chunk([choice(dialect, reasoning_delta(convention, piece))]) for piece in reasoning]
    events += [chunk([choice(dialect, {"content": piece})]) for piece in answer]
    if dialect == "mistral":
        events.append(chunk([choice(dialect, {"content": ""}, "stop")], usage=dict(USAGE)))
    else:
        events += [chunk([choice(dialect, {}, "stop")]), usage_chunk()]
    return events


def request_of(convention: str) -> dict[str, Any] | None:
    return dict(REQUEST_USAGE) if dialect_of(convention) == "openai" else None


def run(convention: str, text: str | bytes, request: Any = "default") -> Any:
    return check(
        text,
        dialect=dialect_of(convention),
        stream=True,
        request=request_of(convention) if request == "default" else request,
        extensions=EXT,
        select=["ALL"],
    )


def expected_message(convention: str, reasoning: str, answer: str) -> dict[str, Any]:
    """The non-stream message of each convention (what assemble() must give)."""
    if convention == "mistral":
        content: list[dict[str, Any]] = []
        if reasoning:
            content.append({"type": "thinking", "thinking": [{"type": "text", "text": reasoning}]})
        if answer:
            content.append({"type": "text", "text": answer})
        return {"role": "assistant", "content": content or None}
    message: dict[str, Any] = {"role": "assistant", "content": answer or None}
    if reasoning:
        message["reasoning_content" if convention == "deepseek" else "reasoning"] = reasoning
    if convention == "openrouter" and reasoning:  # the streamed blocks of one index join into one
        message["reasoning_details"] = [{"type": "reasoning.text", "text": reasoning, "format": "unknown", "index": 0}]
    message["refusal"] = None
    return message


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_each_convention_conforms_and_assembles_to_its_non_stream_shape(convention: str) -> None:
    text = sse(*stream_events(convention, ["The user asks ", "for France's capital."], ["Paris", "."]))
    report = run(convention, text)
    assert report.violations == (), str(report)
    assembled = assemble(text, dialect=dialect_of(convention))
    message = assembled["choices"][0]["message"]
    expected = expected_message(convention, "The user asks for France's capital.", "Paris.")
    assert message == expected
    # The assembled response is a valid non-stream response of that convention.
    assert check(assembled, dialect=dialect_of(convention), extensions=EXT, select=["ALL"]).violations == ()


def test_without_the_extension_openai_reasoning_streams_pass_as_before() -> None:
    text = sse(*stream_events("deepseek", ["x"], ["y"]))
    assert check(text, dialect="openai", stream=True, request=dict(REQUEST_USAGE), select=["ALL"]).ok


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_reasoning_after_content_is_a_warning_once_per_choice(convention: str) -> None:
    dialect = dialect_of(convention)
    events = stream_events(convention, ["Think."], ["Paris."])
    late = [chunk([choice(dialect, reasoning_delta(convention, "Check again."))]) for _ in range(2)]
    events[3:3] = late  # after the answer's first piece (event 2)
    report = run(convention, sse(*events))
    assert triples(report) == {("CC321", 3, "$.choices[0].delta")}
    assert report.violations[0].severity is Severity.WARNING
    assert report.ok


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_reasoning_after_finish_is_an_error(convention: str) -> None:
    dialect = dialect_of(convention)
    events = stream_events(convention, ["Think."], ["Paris."])
    finish_at = 3
    events.insert(finish_at + 1, chunk([choice(dialect, reasoning_delta(convention, "Done."))]))
    report = run(convention, sse(*events))
    # One finding per cause: not CC311 (content after finish) for a Mistral thinking chunk as well.
    assert triples(report) == {("CC322", finish_at + 1, "$.choices[0].delta")}
    assert not report.ok


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_leaked_think_tags_in_a_stream_are_found_on_the_assembly(convention: str) -> None:
    events = stream_events(convention, [], ["<think>\nThe user asks.", "\n</think>\n\n", "Paris."])
    assert triples(run(convention, sse(*events))) == {("CC218", None, "$.choices[0].message.content")}
    unclosed = stream_events(convention, [], ["<think>\nThe user asks.", " Paris."])
    assert triples(run(convention, sse(*unclosed))) == {("CC219", None, "$.choices[0].message.content")}


def test_mistral_consecutive_thinking_chunks_merge_but_signed_ones_stay_apart() -> None:
    signed = {"type": "thinking", "thinking": [{"type": "text", "text": "b"}], "signature": "sig"}
    events = [
        chunk([choice("mistral", {"role": "assistant", "content": ""})]),
        chunk([choice("mistral", reasoning_delta("mistral", "a"))]),
        chunk([choice("mistral", reasoning_delta("mistral", "b"))]),
        chunk([choice("mistral", {"content": [signed]})]),
        chunk([choice("mistral", {"content": "Paris."}, "stop")], usage=dict(USAGE)),
    ]
    content = assemble(sse(*events), dialect="mistral")["choices"][0]["message"]["content"]
    assert content == [
        {"type": "thinking", "thinking": [{"type": "text", "text": "ab"}]},
        signed,
        {"type": "text", "text": "Paris."},
    ]


def test_openrouter_details_join_per_index_and_keep_other_blocks() -> None:
    blocks = [
        {"type": "reasoning.text", "text": "a", "index": 0},
        {"type": "reasoning.text", "text": "b", "index": 0},
        {"type": "reasoning.encrypted", "data": "xyz", "index": 1},
        {"type": "reasoning.text", "text": "c", "index": 2},
    ]
    events = stream_events("openrouter", [], ["Paris."])
    for k, block in enumerate(blocks):
        events.insert(1 + k, chunk([choice("openai", {"reasoning_details": [block]})]))
    assert run("openrouter", sse(*events)).violations == ()
    details = assemble(sse(*events), dialect="openai")["choices"][0]["message"]["reasoning_details"]
    assert details == [{"type": "reasoning.text", "text": "ab", "index": 0}, blocks[2], blocks[3]]


def test_wrong_type_reasoning_delta_is_kept_for_cc220() -> None:
    events = stream_events("deepseek", [], ["Paris."])
    events.insert(1, chunk([choice("openai", {"reasoning_content": [{"type": "text", "text": "x"}]})]))
    assert triples(run("deepseek", sse(*events))) == {("CC220", None, "$.choices[0].message.reasoning_content")}


# -- properties over chunkings ---------------------------------------------------------------------------------

PIECES = st.lists(st.text(min_size=1, max_size=12).filter(lambda s: "think>" not in s), min_size=1, max_size=6)


@PROPS
@given(
    convention=st.sampled_from(CONVENTIONS),
    reasoning=PIECES,
    answer=PIECES,
    cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=12),
)
def test_any_chunking_of_a_reasoning_stream_conforms_and_assembles(
    convention: str, reasoning: list[str], answer: list[str], cuts: list[int]
) -> None:
    text = sse(*stream_events(convention, reasoning, answer)).encode("utf-8")
    checker = StreamChecker(dialect=dialect_of(convention), request=request_of(convention), extensions=EXT)
    for part in split_at(text, cuts):
        checker.feed(part)
    report = checker.close()
    assert report.violations == (), str(report)
    message = checker.assembled()["choices"][0]["message"]
    expected = expected_message(convention, "".join(reasoning), "".join(answer))
    assert message == expected
    assert assemble(text, dialect=dialect_of(convention)) == checker.assembled()


@PROPS
@given(
    convention=st.sampled_from(CONVENTIONS),
    reasoning=PIECES,
    answer=PIECES,
    where=st.integers(min_value=0, max_value=10),
    cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=8),
)
def test_a_late_reasoning_delta_is_reported_at_its_event_under_any_chunking(
    convention: str, reasoning: list[str], answer: list[str], where: int, cuts: list[int]
) -> None:
    dialect = dialect_of(convention)
    events = stream_events(convention, reasoning, answer)
    first_answer = 1 + len(reasoning)
    at = first_answer + 1 + where % len(answer)  # after the answer started, before the finishing chunk
    events.insert(at, chunk([choice(dialect, reasoning_delta(convention, "Late."))]))
    checker = StreamChecker(dialect=dialect, request=request_of(convention), extensions=EXT)
    for part in split_at(sse(*events).encode("utf-8"), cuts):
        checker.feed(part)
    assert triples(checker.close()) == {("CC321", at, "$.choices[0].delta")}
