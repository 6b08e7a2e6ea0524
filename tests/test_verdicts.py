"""Verdicts on exchanges reproduced from real servers (issue 17): no false findings, no cascades, no blind spots.

Each test replays what a real OpenAI-compatible server sent (the bodies are written here, with where they come
from) and asserts the exact findings: one root cause, one finding, by the rule that documents it. The fuzz-side
classes (methods outside the contract, probes) are in ``tests/fuzz/test_verdicts_fuzz.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatcontract import check
from chatcontract.fuzz.judge import request_problem
from chatcontract.provider.errors import ApiError, validate_request

CREATED = 1_757_000_000


def _codes(report: Any) -> list[tuple[str, str]]:
    return [(v.code, v.path) for v in report.violations]


def _sse(*chunks: dict[str, Any]) -> str:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


# ------------------------------------------------------------------------------------ item 3: no cascades


def _mistral_chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


WEATHER_REQUEST: dict[str, Any] = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ],
    "tool_choice": "any",
    "stream": True,
    "max_tokens": 16,
}


def _fragmented_mistral_stream(pieces: list[str]) -> str:
    """OpenAI's incremental tool-call deltas (name first, then argument pieces without a name) in a Mistral stream."""
    first = _mistral_chunk(
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "D681PevKs", "function": {"name": "get_weather", "arguments": ""}, "index": 0}],
        }
    )
    rest = [_mistral_chunk({"content": "", "tool_calls": [{"function": {"arguments": p}, "index": 0}]}) for p in pieces]
    last = _mistral_chunk(
        {"content": ""}, "tool_calls", usage={"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}
    )
    return _sse(first, *rest, last)


def test_fragmented_tool_calls_in_a_mistral_stream_are_one_finding_not_a_cascade() -> None:
    # Seen on a real Mistral-dialect server: CC101 per fragment (true: the chunk contract wants function.name),
    # plus CC207 and CC208 on the made-up assembly ("id 'null' is used twice", though the server sent no id).
    report = check(
        _fragmented_mistral_stream(['{"ci', 'ty": "Pa', 'ris"}']), dialect="mistral", request=WEATHER_REQUEST
    )
    codes = {code for code, _ in _codes(report)}
    assert codes == {"CC101", "CC323"}, report.violations
    assert [v.event for v in report.violations if v.code == "CC323"] == [1]  # once per stream, where it starts
    assert all(v.path.endswith(".function.name") for v in report.violations if v.code == "CC101")


def test_whole_tool_calls_in_a_mistral_stream_are_assembled_and_judged() -> None:
    # The same call sent whole (Mistral's style): nothing to report; with cut arguments the tool rules do run.
    whole = _sse(
        _mistral_chunk(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "D681PevKs", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
                ],
            },
            "tool_calls",
            usage={"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16},
        )
    )
    assert _codes(check(whole, dialect="mistral", request=WEATHER_REQUEST)) == []
    cut = whole.replace('{\\"city\\": \\"Paris\\"}', '{\\"city\\": \\"Pa')
    assert {c for c, _ in _codes(check(cut, dialect="mistral", request=WEATHER_REQUEST))} == {"CC207"}


# ------------------------------------------------------------------------------------ item 2: error contracts


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # FastAPI's default answers (llama-cpp-python, LiteLLM, vLLM): not Mistral's 422 HTTPValidationError.
        (405, {"detail": "Method Not Allowed"}, [("CC501", "$")]),
        (404, {"detail": "Not Found"}, [("CC501", "$")]),
        # With 422, HTTPValidationError is the contract: a string detail is the wrong type there.
        (422, {"detail": "Unprocessable Entity"}, [("CC102", "$.detail")]),
        (422, {"detail": [{"loc": ["body", "model"], "msg": "Field required", "type": "missing"}]}, []),
    ],
)
def test_mistral_error_contract_is_chosen_by_status(status: int, body: Any, expected: list[tuple[str, str]]) -> None:
    report = check(body, dialect="mistral", status=status)
    assert _codes(report) == expected
    assert not any("validation-error body" in v.message for v in report.violations)


# ------------------------------------------------------------------------------------ item 6: one fact, one rule


@pytest.mark.parametrize(
    "body",
    [
        # vLLM (vllm/entrypoints/openai/protocol.py: ErrorInfo.code is an int, the status)
        {
            "error": {
                "message": "max_tokens must be at least 1, got -5.",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        },
        # llama.cpp's llama-server (tools/server: format_error_response), no param key
        {"error": {"code": 400, "message": "'messages' is required", "type": "invalid_request_error", "param": None}},
    ],
)
def test_integer_error_code_is_one_warning(body: dict[str, Any]) -> None:
    report = check(body, dialect="openai", status=400)
    assert _codes(report) == [("CC504", "$.error.code")]
    assert report.ok  # a warning: vLLM no longer exits 1 for it


# ------------------------------------------------------------------------------------ items 4 and 7: CC404, CC409


def _openai_answer(content: str | None, finish: str) -> dict[str, Any]:
    used = 12 if finish == "length" else 0
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": "tiny",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": used, "total_tokens": 12 + used},
    }


TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
ASK = [{"role": "user", "content": "Weather in Paris?"}]


def test_empty_stop_sequence_explains_an_empty_answer() -> None:
    # llama-server with "stop": "" stops at once: empty content, finish_reason stop. Before: CC404 and CC409
    # blamed response_format and tool_choice.
    request = {
        "model": "tiny",
        "messages": ASK,
        "stop": "",
        "max_tokens": 12,
        "response_format": {"type": "json_object"},
        "tools": [TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }
    assert _codes(check(_openai_answer("", "stop"), dialect="openai", request=request)) == []


def test_stop_sequences_are_named_when_they_may_have_ended_a_text_answer() -> None:
    request = {"model": "tiny", "messages": ASK, "stop": ["."], "tools": [TOOL], "tool_choice": "required"}
    report = check(_openai_answer("It is sunny", "stop"), dialect="openai", request=request)
    assert _codes(report) == [("CC409", "$.choices[0].message")]
    assert "stop sequences ['.']" in report.violations[0].message


def test_tool_choice_answered_with_text_until_length_is_reported() -> None:
    # llama-server (24 requests of a real run): a required call answered with text, cut by max_tokens.
    request = {"model": "tiny", "messages": ASK, "max_tokens": 12, "tools": [TOOL], "tool_choice": "required"}
    report = check(
        _openai_answer("The weather in Paris is usually mild and", "length"), dialect="openai", request=request
    )
    assert _codes(report) == [("CC409", "$.choices[0].message")]
    assert "whole budget" in report.violations[0].message
    # With no text at all the call itself may have been cut: nothing to blame.
    assert _codes(check(_openai_answer("", "length"), dialect="openai", request=request)) == []


# ------------------------------------------------------------------------------------ item 9: logprobs


def test_logprobs_requested_in_a_stream_are_assembled_from_the_chunks() -> None:
    def chunk(delta: dict[str, Any], logprobs: Any, finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": "tiny",
            "choices": [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}],
        }

    token = {
        "token": "Hi",
        "logprob": -0.1,
        "bytes": [72, 105],
        "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}],
    }
    request = {"model": "tiny", "messages": ASK, "stream": True, "logprobs": True, "top_logprobs": 1}
    good = _sse(
        chunk({"role": "assistant", "content": "Hi"}, {"content": [token], "refusal": None}), chunk({}, None, "stop")
    )
    assert _codes(check(good, dialect="openai", request=request)) == []
    ignored = _sse(chunk({"role": "assistant", "content": "Hi"}, None), chunk({}, None, "stop"))
    assert _codes(check(ignored, dialect="openai", request=request)) == [("CC414", "$.choices[0].logprobs")]


# ------------------------------------------------------------------------------------ item 11: closed objects


def _mistral_answer(**extra: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": "Paris", "tool_calls": None, "prefix": False}
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "message": {**message, **extra.pop("message", {})}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10, **extra.pop("usage", {})},
        **extra,
    }


def test_extras_are_cc104_only_where_the_published_schema_is_closed() -> None:
    # Mistral's UsageInfo and AssistantMessage say additionalProperties: false: vLLM's extras there are CC104.
    closed = _mistral_answer(usage={"prompt_tokens_details": None}, message={"reasoning_content": None})
    assert sorted(_codes(check(closed, dialect="mistral"))) == [
        ("CC104", "$.choices[0].message.reasoning_content"),
        ("CC104", "$.usage.prompt_tokens_details"),
    ]
    # Mistral's ChatCompletionResponse is open: system_fingerprint / service_tier / timings are allowed there.
    top = _mistral_answer(system_fingerprint="fp_1", service_tier="default", timings={"predicted_ms": 1.0})
    assert _codes(check(top, dialect="mistral")) == []
    # OpenAI's document closes none of the response objects: vLLM's and llama-server's extras are allowed.
    answer = _openai_answer("Paris", "stop")
    answer["timings"] = {"prompt_n": 12, "predicted_n": 1}
    answer["kv_transfer_params"] = None
    answer["choices"][0] |= {"stop_reason": None, "token_ids": None}
    answer["usage"]["completion_tokens"] = 1
    answer["usage"]["total_tokens"] = 13
    assert _codes(check(answer, dialect="openai")) == []


# ------------------------------------------------------------------------------------ item 5: the request judge


BASE = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
def test_unknown_properties_make_the_request_invalid(dialect: str) -> None:
    # schemathesis' coverage phase adds x-schemathesis-unknown-property; before, the OpenAI judge called it valid
    # (its model is open, like OpenAI's published schema) and a 422 became CC603.
    problem = request_problem({**BASE, "x-schemathesis-unknown-property": 42}, dialect=dialect, model="m")
    assert problem is not None and "x-schemathesis-unknown-property" in problem
    nested = {**BASE, "messages": [{"role": "user", "content": "Hi", "x-unknown": 1}]}
    assert request_problem(nested, dialect=dialect, model="m") is not None


def test_openai_unknown_argument_answer_is_the_api_s() -> None:
    with pytest.raises(ApiError) as info:
        validate_request("openai", {**BASE, "top_k": 3}, ("m",))
    assert info.value.status == 400
    assert info.value.body["error"]["message"] == "Unrecognized request argument supplied: top_k"


#: Top-level request fields that the published documents make nullable (OpenAI: ``nullable: true`` or an
#: ``anyOf`` with null in CreateChatCompletionRequest and the schemas it references; Mistral: ``anyOf`` with
#: ``type: null`` in ChatCompletionRequest). From https://github.com/openai/openai-openapi (openapi.yaml) and
#: https://docs.mistral.ai/openapi.yaml.
NULLABLE = {
    "openai": (
        "metadata top_logprobs temperature top_p safety_identifier prompt_cache_key prompt_cache_retention "
        "service_tier modalities verbosity reasoning_effort max_completion_tokens frequency_penalty "
        "presence_penalty audio store moderation stream stop logit_bias logprobs max_tokens n prediction seed "
        "stream_options"
    ).split(),
    "mistral": (
        "temperature top_p max_tokens stop random_seed metadata tools presence_penalty frequency_penalty n "
        "reasoning_effort prompt_mode guardrails prompt_cache_key service_tier"
    ).split(),
}
NOT_NULLABLE = {
    "openai": "user messages model response_format tools tool_choice parallel_tool_calls functions".split(),
    "mistral": "model stream messages response_format tool_choice prediction parallel_tool_calls safe_prompt".split(),
}


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
def test_nullable_fields_are_judged_as_the_documents_say(dialect: str) -> None:
    for name in NULLABLE[dialect]:
        assert request_problem({**BASE, name: None}, dialect=dialect, model="m") is None, name
    for name in NOT_NULLABLE[dialect]:
        assert request_problem({**BASE, name: None}, dialect=dialect, model="m") is not None, name


def test_closed_response_objects_are_exactly_the_ones_cc104_documents() -> None:
    from chatcontract.contracts import _mistral_responses, _openai_responses
    from chatcontract.contracts._base import ClosedModel
    from chatcontract.rules import RULES

    def closed(module: Any) -> set[str]:
        return {
            name
            for name, obj in vars(module).items()
            if isinstance(obj, type) and issubclass(obj, ClosedModel) and obj.__module__ == module.__name__
        }

    mistral = {"UsageInfo", "AssistantMessage", "ToolCall", "FunctionCall", "TextChunk", "ImageURLChunk", "ImageURL"}
    mistral |= {"DocumentURLChunk", "ReferenceChunk", "FileChunk", "ToolReferenceChunk", "ThinkChunk", "AudioChunk"}
    assert closed(_mistral_responses) == mistral
    assert closed(_openai_responses) == set()
    doc = RULES["CC104"].doc
    assert all(f"``{name}``" in doc for name in mistral)


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
@pytest.mark.parametrize(("delta", "code"), [(None, "CC107"), ("absent", "CC101")])
def test_a_missing_delta_is_one_finding_not_also_a_missing_role(dialect: str, delta: Any, code: str) -> None:
    # Before: the chunk contract's finding plus CC308 "first delta has no role" for the same missing object.
    first: dict[str, Any] = {"index": 0, "finish_reason": None}
    if delta != "absent":
        first["delta"] = delta
    last: dict[str, Any] = {"index": 0, "delta": {}, "finish_reason": "stop"}
    if dialect == "openai":
        first["logprobs"] = last["logprobs"] = None
    envelope = {"id": "c1", "object": "chat.completion.chunk", "created": CREATED, "model": "m"}
    usage = {"usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}} if dialect == "mistral" else {}
    stream = _sse({**envelope, "choices": [first]}, {**envelope, "choices": [last], **usage})
    assert _codes(check(stream, dialect=dialect)) == [(code, "$.choices[0].delta")]


def test_a_malformed_usage_is_not_also_a_missing_usage() -> None:
    # Mistral sends usage with the final chunk: a usage that is there but not an object is CC102, not also CC312.
    chunk = _mistral_chunk({"role": "assistant", "content": "Paris"}, "stop", usage="n/a")
    assert _codes(check(_sse(chunk), dialect="mistral")) == [("CC102", "$.usage")]


# ------------------------------------------------------------------------- one cause, one finding: the collector


@pytest.mark.parametrize("order", ["specific first", "specific last"])
@pytest.mark.parametrize("field", ["message", "messages"])
def test_a_null_message_is_one_finding_whatever_the_order(order: str, field: str) -> None:
    """CC109 (null for an optional field) at ``choices[0].message`` is explained by CC213 (a choice with no message)
    at ``choices[0]``; the collector keeps only CC213 whichever comes first, and keeps CC109 elsewhere."""
    from chatcontract.outcome import Collector
    from chatcontract.settings import resolve_settings
    from chatcontract.violations import Hit

    collector = Collector(resolve_settings(dialect="mistral", select=["ALL"]))
    pair = [("CC213", Hit(("choices", 0), "no message")), ("CC109", Hit(("choices", 0, field), "null"))]
    for code, h in pair if order == "specific first" else reversed(pair):
        collector.add(code, h)
    collector.add("CC109", Hit(("choices", 1, field), "null"))  # another choice: its own cause
    collector.add("CC109", Hit(("usage",), "null"))
    assert [(v.code, v.loc) for v in collector.items if v.code == "CC213"] == [("CC213", ("choices", 0))]
    assert sorted(v.loc for v in collector.items if v.code == "CC109") == [("choices", 1, field), ("usage",)]


def test_a_null_mistral_message_is_reported_once() -> None:
    body = {
        "id": "cmpl-1", "object": "chat.completion", "model": "m", "created": CREATED,
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        "choices": [{"index": 0, "message": None, "finish_reason": "stop"}],
    }
    assert _codes(check(json.dumps(body), dialect="mistral")) == [("CC213", "$.choices[0]")]
    assert _codes(check(body, dialect="mistral")) == [("CC213", "$.choices[0]")]
