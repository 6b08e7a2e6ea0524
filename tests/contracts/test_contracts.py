"""Tests for chatcontract.contracts: valid payloads pass, strictness and extras behave per the documents."""

import copy
import dataclasses
import inspect
import json
import math
from typing import Any

import pydantic
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from chatcontract.contracts import DIALECTS, DialectContracts, contracts_for, mistral, openai
from chatcontract.contracts._base import ClosedModel, OpenModel, WireModel

Loc = tuple[str | int, ...]


def errors_of(adapter: TypeAdapter[Any], payload: Any) -> list[tuple[str, Loc]]:
    try:
        adapter.validate_python(payload)
    except ValidationError as exc:
        return [(e["type"], tuple(e["loc"])) for e in exc.errors()]
    return []


def mutate(payload: dict[str, Any], path: Loc, value: Any = ..., *, delete: bool = False) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


# --------------------------------------------------------------------------------------------------
# Example payloads (written for these tests; shapes follow the published documents)
# --------------------------------------------------------------------------------------------------

M_USAGE = {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}

M_RESPONSE = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "created": 1702256327,
    "usage": M_USAGE,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Claude Monet.", "tool_calls": None, "prefix": False},
            "finish_reason": "stop",
        }
    ],
}

M_TOOL_RESPONSE = {
    **M_RESPONSE,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "D681PevKs",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        "index": 0,
                    },
                    {"function": {"name": "get_time", "arguments": {"tz": "Europe/Paris"}}},
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
}

M_THINKING_RESPONSE = {
    **M_RESPONSE,
    "model": "magistral-medium-latest",
    "usage": {**M_USAGE, "prompt_audio_seconds": None, "service_tier": "standard"},
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": [{"type": "text", "text": "The user wants a painter."}]},
                    {"type": "text", "text": "Claude Monet."},
                    {"type": "reference", "reference_ids": [1, "doc-2"]},
                ],
            },
            "finish_reason": "stop",
            "logprobs": {
                "content": [{"token": "Cl", "logprob": -0.01, "bytes": [67, 108], "token_id": 5412}]
            },
        }
    ],
}

M_CHUNK = {
    "id": "a4c2b7e0f1",
    "object": "chat.completion.chunk",
    "created": 1702256327,
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Claude"}, "finish_reason": None}],
    "usage": None,
}

M_FINAL_CHUNK = {
    "id": "a4c2b7e0f1",
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
    "usage": M_USAGE,
}

M_THINKING_CHUNK = {
    "id": "a4c2b7e0f1",
    "model": "magistral-small-latest",
    "choices": [
        {
            "index": 0,
            "delta": {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Hmm"}]}]},
            "finish_reason": None,
        }
    ],
}

M_TOOL_CHUNK = {
    "id": "a4c2b7e0f1",
    "model": "mistral-large-latest",
    "choices": [
        {
            "index": 0,
            "delta": {
                "tool_calls": [{"id": "D681PevKs", "function": {"name": "get_weather", "arguments": "{}"}}]
            },
            "finish_reason": "tool_calls",
        }
    ],
}

M_422 = {
    "detail": [
        {
            "type": "less_than_equal",
            "loc": ["body", "temperature"],
            "msg": "Input should be less than or equal to 1.5",
            "input": 3,
            "ctx": {"le": 1.5},
        }
    ]
}
M_ERROR_OBJECT = {
    "object": "error",
    "message": "Unauthorized",
    "type": "authentication_error",
    "param": None,
    "code": None,
}

M_REQUEST = {
    "model": "mistral-large-latest",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "D681PevKs", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "content": "18C", "tool_call_id": "D681PevKs", "name": "get_weather"},
    ],
    "temperature": 0.3,
    "top_p": 1,
    "max_tokens": 256,
    "random_seed": 42,
    "stop": ["\n\n"],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        },
        {"type": "web_search"},
        {"type": "document_library", "library_ids": ["lib-1"]},
    ],
    "tool_choice": "any",
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "weather",
            "schema": {"type": "object", "properties": {"temp": {"type": "number"}}},
            "strict": True,
        },
    },
    "presence_penalty": 0,
    "frequency_penalty": -0.5,
    "n": 1,
    "parallel_tool_calls": False,
    "prediction": {"type": "content", "content": ""},
    "reasoning_effort": "low",
    "guardrails": [{"block_on_error": True, "moderation_llm_v1": {"action": "block"}}],
    "service_tier": "auto",
    "safe_prompt": False,
    "stream": False,
    "metadata": {"run": 1},
}

O_USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}

O_RESPONSE = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Claude Monet.", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": O_USAGE,
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}

O_TOOL_RESPONSE = {
    **O_RESPONSE,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_abc123",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {"id": "call_def456", "type": "custom", "custom": {"name": "sql", "input": "SELECT 1"}},
                ],
            },
            "logprobs": {
                "content": [
                    {
                        "token": "Hi",
                        "logprob": -0.1,
                        "bytes": [72, 105],
                        "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": None}],
                    }
                ],
                "refusal": None,
            },
            "finish_reason": "tool_calls",
        }
    ],
}

O_CHUNK = {
    "id": "chatcmpl-123",
    "object": "chat.completion.chunk",
    "created": 1694268190,
    "model": "gpt-4o-mini",
    "system_fingerprint": "fp_44709d6fcb",
    "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
    ],
    "obfuscation": "r4N7vQ2m",
}

O_TOOL_CHUNK = {
    "id": "chatcmpl-123",
    "object": "chat.completion.chunk",
    "created": 1694268190,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]},
            "finish_reason": None,
        }
    ],
    "usage": None,
}

O_USAGE_CHUNK = {
    "id": "chatcmpl-123",
    "object": "chat.completion.chunk",
    "created": 1694268190,
    "model": "gpt-4o-mini",
    "choices": [],
    "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29},
}

O_ERROR = {
    "error": {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}

O_REQUEST = {
    "model": "gpt-4o",
    "messages": [
        {"role": "developer", "content": "Be terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "content": "18C", "tool_call_id": "call_abc123"},
    ],
    "temperature": 0.2,
    "top_p": 1,
    "n": 1,
    "stop": ["\n"],
    "max_completion_tokens": 200,
    "seed": 7,
    "logprobs": True,
    "top_logprobs": 2,
    "logit_bias": {"50256": -100},
    "tools": [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object"}, "strict": True},
        },
        {"type": "custom", "custom": {"name": "sql", "format": {"type": "text"}}},
    ],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": True,
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "weather", "schema": {"type": "object"}, "strict": True},
    },
    "stream": True,
    "stream_options": {"include_usage": True},
    "user": "user-1234",
    "metadata": {"run": "1"},
    "store": False,
    "reasoning_effort": "low",
    "service_tier": "auto",
}

VALID = [
    ("mistral", "response", M_RESPONSE, "plain-answer"),
    ("mistral", "response", M_TOOL_RESPONSE, "tool-calls-string-and-object-arguments"),
    ("mistral", "response", M_THINKING_RESPONSE, "thinking-text-reference-chunks"),
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("choices", 0, "message"), delete=True),
        "choice-without-message",
    ),
    ("mistral", "chunk", M_CHUNK, "chunk-usage-null"),
    ("mistral", "chunk", M_FINAL_CHUNK, "final-chunk-usage-no-object-created"),
    ("mistral", "chunk", M_THINKING_CHUNK, "chunk-thinking-content"),
    ("mistral", "chunk", M_TOOL_CHUNK, "chunk-whole-tool-call"),
    ("mistral", "request", M_REQUEST, "request-tools-json-schema"),
    ("mistral", "request", {"model": "m", "messages": []}, "request-minimal-empty-messages"),
    ("openai", "response", O_RESPONSE, "plain-answer"),
    ("openai", "response", O_TOOL_RESPONSE, "function-and-custom-tool-calls-logprobs"),
    ("openai", "response", mutate(O_RESPONSE, ("usage",), delete=True), "no-usage"),
    ("openai", "chunk", O_CHUNK, "first-chunk"),
    ("openai", "chunk", O_TOOL_CHUNK, "tool-call-fragment"),
    ("openai", "chunk", O_USAGE_CHUNK, "usage-only-empty-choices"),
    ("openai", "request", O_REQUEST, "request-tools-json-schema"),
]


def adapter(dialect: str, kind: str) -> TypeAdapter[Any]:
    if kind.startswith("error:"):
        return dict(contracts_for(dialect).errors)[kind.removeprefix("error:")]
    adapter_: TypeAdapter[Any] = getattr(contracts_for(dialect), kind)
    return adapter_


@pytest.mark.parametrize(
    ("dialect", "kind", "payload"), [v[:3] for v in VALID], ids=[f"{v[0]}-{v[3]}" for v in VALID]
)
def test_valid_payloads(dialect: str, kind: str, payload: dict[str, Any]) -> None:
    assert errors_of(adapter(dialect, kind), payload) == []
    # The JSON entry point agrees with the Python one.
    adapter(dialect, kind).validate_json(json.dumps(payload))


@pytest.mark.parametrize(
    ("dialect", "name", "payload"),
    [
        ("mistral", "http-validation-error", M_422),
        ("mistral", "error-object", M_ERROR_OBJECT),
        ("mistral", "error-object", {**M_ERROR_OBJECT, "type": "invalid_function_call", "code": "3280"}),
        ("openai", "error-response", O_ERROR),
    ],
    ids=["mistral-422", "mistral-flat", "mistral-flat-string-code", "openai-error"],
)
def test_valid_error_bodies(dialect: str, name: str, payload: dict[str, Any]) -> None:
    assert errors_of(adapter(dialect, f"error:{name}"), payload) == []


def test_mistral_response_without_data_passes() -> None:
    """The published document requires a non-existent `data` property; we do not."""
    assert "data" not in M_RESPONSE
    assert errors_of(contracts_for("mistral").response, M_RESPONSE) == []


# --------------------------------------------------------------------------------------------------
# Strictness: (dialect, adapter kind, payload, expected [(type, loc)])
# --------------------------------------------------------------------------------------------------

TOOL = ("choices", 0, "message", "tool_calls", 0)
CHUNKS = (
    "list[tagged-union[TextChunk,ImageURLChunk,DocumentURLChunk,ReferenceChunk,FileChunk,ThinkChunk,"
    "AudioChunk,ResourceChunk,ResourceLinkChunk]]"
)
INVALID = [
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("usage", "prompt_tokens"), "10"),
        [("int_type", ("usage", "prompt_tokens"))],
        "string-for-int",
    ),
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("choices", 0, "index"), True),
        [("int_type", ("choices", 0, "index"))],
        "bool-for-int",
    ),
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("created",), 1702256327.5),
        [("int_type", ("created",))],
        "float-for-int",
    ),
    ("mistral", "response", mutate(M_RESPONSE, ("usage",), None), [("model_type", ("usage",))], "null-usage"),
    ("mistral", "response", mutate(M_RESPONSE, ("id",), delete=True), [("missing", ("id",))], "missing-id"),
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("choices", 0, "message"), None),
        [("model_type", ("choices", 0, "message"))],
        "null-message",
    ),
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("choices", 0, "finish_reason"), "content_filter"),
        [("literal_error", ("choices", 0, "finish_reason"))],
        "openai-finish-reason",
    ),
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("choices", 0, "finish_reason"), None),
        [("literal_error", ("choices", 0, "finish_reason"))],
        "null-finish-reason",
    ),
    # `content` is `str | ContentChunk[] | null`: pydantic reports the failure of every union branch,
    # each with the branch name in `loc`.
    (
        "mistral",
        "response",
        mutate(M_RESPONSE, ("choices", 0, "message", "content"), [{"type": "video", "x": 1}]),
        [
            ("string_type", ("choices", 0, "message", "content", "str")),
            ("union_tag_invalid", ("choices", 0, "message", "content", CHUNKS, 0)),
        ],
        "unknown-content-chunk",
    ),
    (
        "mistral",
        "response",
        mutate(M_TOOL_RESPONSE, (*TOOL, "function", "arguments"), ["a"]),
        [
            ("dict_type", (*TOOL, "function", "arguments", "dict[str,any]")),
            ("string_type", (*TOOL, "function", "arguments", "str")),
        ],
        "array-arguments",
    ),
    (
        "mistral",
        "chunk",
        mutate(M_FINAL_CHUNK, ("choices", 0, "finish_reason"), "model_length"),
        [("literal_error", ("choices", 0, "finish_reason"))],
        "stream-model-length",
    ),
    (
        "mistral",
        "chunk",
        mutate(M_FINAL_CHUNK, ("choices", 0, "finish_reason"), delete=True),
        [("missing", ("choices", 0, "finish_reason"))],
        "stream-missing-finish-reason",
    ),
    (
        "mistral",
        "chunk",
        mutate(M_TOOL_CHUNK, ("choices", 0, "delta", "tool_calls", 0, "function", "name"), delete=True),
        [("missing", ("choices", 0, "delta", "tool_calls", 0, "function", "name"))],
        "openai-style-fragment",
    ),
    (
        "mistral",
        "request",
        mutate(M_REQUEST, ("temperature",), 1.6),
        [("less_than_equal", ("temperature",))],
        "temperature-above-1.5",
    ),
    (
        "mistral",
        "request",
        mutate(M_REQUEST, ("temperature",), math.nan),
        [("finite_number", ("temperature",))],
        "nan-float",
    ),
    ("mistral", "request", mutate(M_REQUEST, ("top_p",), 0), [("greater_than", ("top_p",))], "top-p-zero"),
    (
        "mistral",
        "request",
        mutate(M_REQUEST, ("tool_choice",), "sometimes"),
        [
            ("model_type", ("tool_choice", "ToolChoice")),
            ("literal_error", ("tool_choice", "literal['auto','none','any','required']")),
        ],
        "bad-tool-choice",
    ),
    (
        "mistral",
        "request",
        mutate(M_REQUEST, ("tools", 0, "function", "parameters"), delete=True),
        [("missing", ("tools", 0, "function", "function", "parameters"))],
        "function-without-parameters",
    ),
    (
        "mistral",
        "request",
        mutate(M_REQUEST, ("messages", 0, "role"), delete=True),
        [("union_tag_not_found", ("messages", 0))],
        "message-without-role",
    ),
    (
        "mistral",
        "error:error-object",
        mutate(M_ERROR_OBJECT, ("object",), "Error"),
        [("literal_error", ("object",))],
        "capitalised-error-object",
    ),
    (
        "openai",
        "response",
        mutate(O_RESPONSE, ("choices", 0, "finish_reason"), "model_length"),
        [("literal_error", ("choices", 0, "finish_reason"))],
        "mistral-finish-reason",
    ),
    (
        "openai",
        "response",
        mutate(O_RESPONSE, ("choices", 0, "message", "content"), [{"type": "text", "text": "x"}]),
        [("string_type", ("choices", 0, "message", "content"))],
        "content-list",
    ),
    (
        "openai",
        "response",
        mutate(O_TOOL_RESPONSE, (*TOOL, "function", "arguments"), {"city": "Paris"}),
        [("string_type", (*TOOL, "function", "function", "arguments"))],
        "object-arguments",
    ),
    (
        "openai",
        "response",
        mutate(O_TOOL_RESPONSE, (*TOOL, "id"), delete=True),
        [("missing", (*TOOL, "function", "id"))],
        "tool-call-without-id",
    ),
    ("openai", "response", mutate(O_RESPONSE, ("id",), delete=True), [("missing", ("id",))], "missing-id"),
    (
        "openai",
        "response",
        mutate(O_RESPONSE, ("choices", 0, "logprobs"), delete=True),
        [("missing", ("choices", 0, "logprobs"))],
        "missing-logprobs-key",
    ),
    (
        "openai",
        "response",
        mutate(O_RESPONSE, ("object",), "chat.completion.chunk"),
        [("literal_error", ("object",))],
        "wrong-object",
    ),
    (
        "openai",
        "response",
        mutate(O_RESPONSE, ("usage", "total_tokens"), 29.0),
        [("int_type", ("usage", "total_tokens"))],
        "float-token-count",
    ),
    (
        "openai",
        "response",
        mutate(O_TOOL_RESPONSE, ("choices", 0, "logprobs", "content", 0, "logprob"), math.inf),
        [("finite_number", ("choices", 0, "logprobs", "content", 0, "logprob"))],
        "infinite-logprob",
    ),
    (
        "openai",
        "chunk",
        mutate(O_TOOL_CHUNK, ("choices", 0, "delta", "tool_calls", 0, "index"), delete=True),
        [("missing", ("choices", 0, "delta", "tool_calls", 0, "index"))],
        "tool-fragment-without-index",
    ),
    (
        "openai",
        "chunk",
        mutate(O_CHUNK, ("created",), delete=True),
        [("missing", ("created",))],
        "missing-created",
    ),
    (
        "openai",
        "chunk",
        mutate(O_CHUNK, ("choices", 0, "delta", "role"), "model"),
        [("literal_error", ("choices", 0, "delta", "role"))],
        "bad-delta-role",
    ),
    (
        "openai",
        "error:error-response",
        mutate(O_ERROR, ("error", "param"), delete=True),
        [("missing", ("error", "param"))],
        "error-without-param",
    ),
    (
        "openai",
        "request",
        mutate(O_REQUEST, ("messages",), []),
        [("too_short", ("messages",))],
        "no-messages",
    ),
    ("openai", "request", mutate(O_REQUEST, ("n",), 129), [("less_than_equal", ("n",))], "n-above-128"),
    (
        "openai",
        "request",
        mutate(O_REQUEST, ("stop",), ["a", "b", "c", "d", "e"]),
        [("string_type", ("stop", "str")), ("too_long", ("stop", "list[str]"))],
        "five-stop-sequences",
    ),
    (
        "openai",
        "request",
        mutate(O_REQUEST, ("temperature",), "0.2"),
        [("float_type", ("temperature",))],
        "string-temperature",
    ),
]


@pytest.mark.parametrize(
    ("dialect", "kind", "payload", "expected"),
    [v[:4] for v in INVALID],
    ids=[f"{v[0]}-{v[4]}" for v in INVALID],
)
def test_invalid_payloads(
    dialect: str, kind: str, payload: dict[str, Any], expected: list[tuple[str, Loc]]
) -> None:
    assert errors_of(adapter(dialect, kind), payload) == expected


def test_nan_in_json_text_is_rejected() -> None:
    raw = json.dumps(mutate(O_TOOL_RESPONSE, ("choices", 0, "logprobs", "content", 0, "logprob"), math.nan))
    assert "NaN" in raw
    with pytest.raises(ValidationError) as info:
        contracts_for("openai").response.validate_json(raw)
    assert [e["type"] for e in info.value.errors()] == ["finite_number"]


# --------------------------------------------------------------------------------------------------
# Extra keys: forbidden exactly where the document says additionalProperties: false
# --------------------------------------------------------------------------------------------------

EXTRAS = [
    ("mistral", "response", ("usage", "prompt_tokens_details"), M_RESPONSE, True, "usage-info"),
    (
        "mistral",
        "response",
        ("choices", 0, "message", "reasoning_content"),
        M_RESPONSE,
        True,
        "assistant-message",
    ),
    ("mistral", "response", (*TOOL, "extra"), M_TOOL_RESPONSE, True, "tool-call"),
    ("mistral", "response", (*TOOL, "function", "extra"), M_TOOL_RESPONSE, True, "function-call"),
    (
        "mistral",
        "response",
        ("choices", 0, "message", "content", 1, "extra"),
        M_THINKING_RESPONSE,
        True,
        "text-chunk-in-union",
    ),
    ("mistral", "request", ("seed",), M_REQUEST, True, "request-seed"),
    ("mistral", "request", ("stream_options",), M_REQUEST, True, "request-stream-options"),
    ("mistral", "request", ("messages", 1, "name"), M_REQUEST, True, "user-message"),
    ("mistral", "response", ("system_fingerprint",), M_RESPONSE, False, "response-top-level"),
    ("mistral", "response", ("choices", 0, "extra"), M_RESPONSE, False, "choice"),
    ("mistral", "chunk", ("choices", 0, "delta", "reasoning_content"), M_CHUNK, False, "delta-message"),
    ("mistral", "chunk", ("provider",), M_CHUNK, False, "chunk-top-level"),
    ("mistral", "error:http-validation-error", ("request_id",), M_422, False, "http-validation-error"),
    ("openai", "response", ("provider",), O_RESPONSE, False, "response-top-level"),
    ("openai", "response", ("choices", 0, "message", "reasoning_content"), O_RESPONSE, False, "message"),
    ("openai", "response", ("usage", "cost"), O_RESPONSE, False, "usage"),
    ("openai", "chunk", ("choices", 0, "native_finish_reason"), O_CHUNK, False, "chunk-choice"),
    ("openai", "request", ("random_seed",), O_REQUEST, False, "request"),
    ("openai", "request", ("tools", 1, "custom", "format", "extra"), O_REQUEST, True, "custom-tool-format"),
]


@pytest.mark.parametrize(
    ("dialect", "kind", "path", "base", "forbidden"),
    [v[:5] for v in EXTRAS],
    ids=[f"{v[0]}-{v[5]}-{'forbidden' if v[4] else 'allowed'}" for v in EXTRAS],
)
def test_extra_keys(dialect: str, kind: str, path: Loc, base: dict[str, Any], forbidden: bool) -> None:
    errors = errors_of(adapter(dialect, kind), mutate(base, path, "x"))
    if not forbidden:
        assert errors == []
        return
    extra = [e for e in errors if e[0] == "extra_forbidden"]
    assert len(extra) == 1
    assert extra[0][1][-1] == path[-1]
    # Inside a `str | list[...]` union the sibling branch's type error is reported as well (its loc is
    # tagged "str"); everywhere else the extra key is the only error.
    others = [e for e in errors if e[0] != "extra_forbidden"]
    if "content" in path:
        assert others == [("string_type", (*path[: path.index("content") + 1], "str"))]
    else:
        assert others == []


# --------------------------------------------------------------------------------------------------
# Model hygiene and the public API
# --------------------------------------------------------------------------------------------------

MODELS = sorted(
    {
        obj
        for module in (mistral, openai)
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, BaseModel)
        and obj.__module__.startswith("chatcontract.contracts.")
    },
    key=lambda m: (m.__module__, m.__name__),
)


@pytest.mark.parametrize(
    "model", MODELS, ids=[f"{m.__module__.rsplit('.', 1)[-1].strip('_')}.{m.__name__}" for m in MODELS]
)
def test_model_config_and_json_schema(model: type[BaseModel]) -> None:
    assert issubclass(model, WireModel)
    assert issubclass(model, (ClosedModel, OpenModel))
    config = model.model_config
    assert config.get("strict") is True
    assert config.get("allow_inf_nan") is False
    assert config.get("extra") == ("forbid" if issubclass(model, ClosedModel) else "allow")
    schema = TypeAdapter(model).json_schema(by_alias=True)
    assert schema["additionalProperties"] is (not issubclass(model, ClosedModel))
    # An ABSENT default must not leak as `"default": null` on a non-nullable property.
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            assert {"type": "null"} in prop.get("anyOf", [])


def test_json_schema_uses_wire_name_schema() -> None:
    for dialect in DIALECTS:
        text = json.dumps(contracts_for(dialect).request.json_schema(by_alias=True))
        assert '"schema_"' not in text
        assert '"schema": {' in text


def test_contracts_for_api() -> None:
    assert DIALECTS == ("mistral", "openai")
    assert [f.name for f in dataclasses.fields(DialectContracts)] == [
        "name",
        "response",
        "chunk",
        "request",
        "errors",
        "stream_finish_reasons",
        "finish_reasons",
        "chunk_object",
        "response_object",
        "extensions",
    ]
    for dialect in DIALECTS:
        contracts = contracts_for(dialect)
        assert contracts.name == dialect
        assert contracts_for(dialect) is contracts
        for adapter_ in (
            contracts.response,
            contracts.chunk,
            contracts.request,
            *dict(contracts.errors).values(),
        ):
            assert isinstance(adapter_, pydantic.TypeAdapter)
        assert contracts.chunk_object == "chat.completion.chunk"
        assert contracts.response_object == "chat.completion"
        with pytest.raises(dataclasses.FrozenInstanceError):
            contracts.name = "openai"  # type: ignore[misc]
    m, o = contracts_for("mistral"), contracts_for("openai")
    assert [name for name, _ in m.errors] == ["http-validation-error", "error-object"]
    assert [name for name, _ in o.errors] == ["error-response"]
    assert m.finish_reasons == {"stop", "length", "model_length", "error", "tool_calls"}
    assert m.stream_finish_reasons == {"stop", "length", "error", "tool_calls"}
    assert (
        o.finish_reasons
        == o.stream_finish_reasons
        == {
            "stop",
            "length",
            "tool_calls",
            "content_filter",
            "function_call",
        }
    )


def test_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="valid dialects: mistral, openai"):
        contracts_for("anthropic")
