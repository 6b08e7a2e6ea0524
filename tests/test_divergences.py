"""Real-world divergences (DIVERGENCES.md, single responses and error bodies) against the engine.

One case per divergence and dialect, named ``<item>-<what>-<dialect>`` and citing the public issue it was
reconstructed from. Payloads are rebuilt from the issue descriptions and embedded here (no file is read at run
time); apart from the divergence under test they are valid for their dialect, so each case asserts the exact set of
``(code, path, severity)`` the engine must report. Tolerated divergences assert ``report.ok`` and the exact warnings.

Not covered here: stream-only items (10, 11's stream part, 15's streaming part, 17-21, 26) are tested with the
stream rules; item 7 (``/v1/models`` entries) is not a chat-completion body.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from chatcontract import check

E, W = "error", "warning"

# --------------------------------------------------------------------------------------------------------------
# Valid baselines (shapes from the published documents); each case changes only what the issue describes.
# --------------------------------------------------------------------------------------------------------------

MISTRAL: dict[str, Any] = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "created": 1702256327,
    "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Paris is the capital of France.",
                "tool_calls": None,
                "prefix": False,
            },
            "finish_reason": "stop",
        }
    ],
}

OPENAI: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Paris is the capital of France.",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 16,
        "completion_tokens": 34,
        "total_tokens": 50,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_b42e8d4a0e",
}

BASE = {"mistral": MISTRAL, "openai": OPENAI}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def base(dialect: str) -> dict[str, Any]:
    return copy.deepcopy(BASE[dialect])


def edit(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Apply ``path=value`` changes, path segments separated by ``__`` (``choices__0__index``); ``...`` deletes."""
    for path, value in changes.items():
        keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split("__")]
        node: Any = doc
        for k in keys[:-1]:
            node = node[k]
        if value is ...:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return doc


def tool_response(dialect: str, calls: list[Any], finish_reason: str = "tool_calls") -> dict[str, Any]:
    doc = base(dialect)
    msg = doc["choices"][0]["message"]
    msg["content"] = "" if dialect == "mistral" else None
    msg["tool_calls"] = calls
    doc["choices"][0]["finish_reason"] = finish_reason
    return doc


def weather_call(dialect: str, arguments: Any = '{"city": "Paris"}', call_id: str | None = None) -> dict[str, Any]:
    if call_id is None:
        call_id = "D681PevKs" if dialect == "mistral" else "call_8zJ0nLQ2mQvPkDn0kXyWb1tE"
    return {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}


@dataclass(frozen=True)
class Case:
    id: str  # <item>-<what>-<dialect>@<source issue>
    dialect: str
    body: Any
    expect: set[tuple[str, str, str]]  # (code, path, severity)
    status: int | None = None
    request: dict[str, Any] | None = None
    exact: bool = True  # False: the expected triples must be present, others may be too
    absent: set[str] = field(default_factory=set)  # codes that must not be reported at all


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


# Dialect baseline: Mistral requires usage, OpenAI makes it optional.
case(
    "00-usage-absent-mistral@mistralai/client-python chatcompletionresponse.py",
    "mistral",
    edit(base("mistral"), usage=...),
    {("CC101", "$.usage", E)},
)
case(
    "00-usage-absent-openai@openai/openai-openapi CreateChatCompletionResponse",
    "openai",
    edit(base("openai"), usage=...),
    set(),
)

# 1. created as a float (SambaNova through the HF router; gpt4all's created=time.time()).
for d in ("mistral", "openai"):
    case(
        f"01-created-float-{d}@mlcommons/modelbench#1287",
        d,
        edit(base(d), created=1757876416.5661082),
        {("CC102", "$.created", E)},
    )
case(
    "01-created-time.time-openai@nomic-ai/gpt4all#1317",
    "openai",
    edit(base("openai"), created=1700000000.123456, model="mistral-7b-openorca.Q4_0.gguf"),
    {("CC102", "$.created", E)},
)

# 2. AnythingLLM: created in milliseconds, no choices[].index, no usage.
_anything = {
    "id": "8f4f2a1e-3c1b-4c56-9f0e-5d7a8c1b2e3f",
    "object": "chat.completion",
    "created": 1736423701225,
    "model": "anythingllm-workspace",
    "choices": [
        {
            "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
}
case(
    "02-anythingllm-ms-created-no-index-no-usage-mistral@etkecc/baibot#25",
    "mistral",
    copy.deepcopy(_anything),
    {
        ("CC209", "$.created", E),
        ("CC101", "$.choices[0].index", E),
        ("CC101", "$.usage", E),
        ("CC104", "$.choices[0].message.refusal", W),
    },
)
case(
    "02-anythingllm-ms-created-no-index-openai@etkecc/baibot#25",
    "openai",
    copy.deepcopy(_anything),
    {("CC209", "$.created", E), ("CC101", "$.choices[0].index", E)},
)

# 3. Bedrock/Claude bridge: no choices[].index, no object, usage without completion_tokens and total < prompt.
for d in ("mistral", "openai"):
    case(
        f"03-bedrock-bridge-usage-total-below-prompt-{d}@SecretiveShell/MCP-Bridge#48",
        d,
        edit(base(d), object=..., choices__0__index=..., usage={"prompt_tokens": 1066, "total_tokens": 103}),
        {
            ("CC101", "$.object", E),
            ("CC101", "$.choices[0].index", E),
            ("CC101", "$.usage.completion_tokens", E),
            ("CC203", "$.usage.total_tokens", E),
        },
    )

# 4. Missing model (one-api) and missing choices.
for d in ("mistral", "openai"):
    case(f"04-missing-model-{d}@microsoft/autogen#222", d, edit(base(d), model=...), {("CC101", "$.model", E)})
    case(f"04-missing-choices-{d}@etkecc/baibot#9", d, edit(base(d), choices=...), {("CC101", "$.choices", E)})

# 5. vLLM: echoed/extra fields and model "" (#9601); chat logprobs in the Completions shape (#3179).
_vllm_extras = dict(
    messages=[{"role": "user", "content": "What is the capital of France?"}],
    prompt_logprobs=None,
    kv_transfer_params=None,
    choices__0__stop_reason=None,
    choices__0__message__reasoning_content=None,
)
case(
    "05-vllm-echoed-fields-empty-model-openai@vllm-project/vllm#9601",
    "openai",
    edit(base("openai"), model="", **_vllm_extras),
    {("CC211", "$.model", E)},
)
case(
    "05-vllm-echoed-fields-empty-model-mistral@vllm-project/vllm#9601",
    "mistral",
    edit(base("mistral"), model="", **_vllm_extras),
    {("CC211", "$.model", E), ("CC104", "$.choices[0].message.reasoning_content", W)},
)
case(
    "05-vllm-extra-fields-tolerated-openai@vllm-project/vllm#9601",
    "openai",
    edit(base("openai"), **_vllm_extras),
    set(),
)
case(
    "05-vllm-extra-fields-warn-only-mistral@vllm-project/vllm#9601",
    "mistral",
    edit(base("mistral"), usage__prompt_tokens_details=None, **_vllm_extras),
    {("CC104", "$.choices[0].message.reasoning_content", W), ("CC104", "$.usage.prompt_tokens_details", W)},
)
_completions_logprobs = {
    "text_offset": [0, 5],
    "token_logprobs": [-0.0012, -0.25],
    "tokens": ["Paris", " is"],
    "top_logprobs": [{"Paris": -0.0012}, {" is": -0.25}],
}
case(
    "05-vllm-completions-shaped-logprobs-openai@vllm-project/vllm#3179",
    "openai",
    edit(base("openai"), choices__0__logprobs=_completions_logprobs),
    {("CC101", "$.choices[0].logprobs.content", E), ("CC101", "$.choices[0].logprobs.refusal", E)},
)
case(
    "05-vllm-completions-shaped-logprobs-mistral@vllm-project/vllm#3179",
    "mistral",
    edit(base("mistral"), choices__0__logprobs=_completions_logprobs),
    {("CC101", "$.choices[0].logprobs.content", E)},
)

# 6. Float token counts.
for d in ("mistral", "openai"):
    case(
        f"06-float-completion-tokens-{d}@philschmid/easyllm#42",
        d,
        edit(base(d), usage__completion_tokens=37.25, usage__total_tokens=53.25, usage__prompt_tokens=16),
        {("CC102", "$.usage.completion_tokens", E), ("CC102", "$.usage.total_tokens", E)},
    )

# 8. finish_reason "stop" while returning tool calls: tolerated as a warning (OpenAI itself does it).
case(
    "08-stop-with-tool-calls-openai-itself@openai/openai-dotnet#64",
    "openai",
    tool_response("openai", [weather_call("openai")], "stop"),
    {("CC206", "$.choices[0].finish_reason", W)},
    request={
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    },
)
case(
    "08-stop-with-tool-calls-sglang-openai@sgl-project/sglang#2877",
    "openai",
    edit(tool_response("openai", [weather_call("openai", call_id="call_0")], "stop"), model="Qwen/Qwen2.5-7B-Instruct"),
    {("CC206", "$.choices[0].finish_reason", W)},
)
case(
    "08-stop-with-tool-calls-mlx-mistral@Blaizzy/mlx-vlm#1014",
    "mistral",
    tool_response("mistral", [weather_call("mistral")], "stop"),
    {("CC206", "$.choices[0].finish_reason", W)},
)

# 9. finish_reason "tool_calls" without tool calls; missing finish_reason.
_localai = {
    "created": 1757322665,
    "object": "chat.completion",
    "id": "80bf24d7-da74-4631-9070-c7af34a47126",
    "model": "gemma-3-12b-it",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": "Absolutely! Here's a simple recipe for cold water: ..."},
        }
    ],
    "usage": {"prompt_tokens": 40, "completion_tokens": 120, "total_tokens": 160},
}
case(
    "09-tool-calls-reason-without-calls-mistral@mudler/LocalAI#6243",
    "mistral",
    copy.deepcopy(_localai),
    {("CC205", "$.choices[0].finish_reason", E)},
)
case(
    "09-tool-calls-reason-without-calls-openai@mudler/LocalAI#6243",
    "openai",
    edit(copy.deepcopy(_localai), choices__0__message__refusal=None, choices__0__logprobs=None),
    {("CC205", "$.choices[0].finish_reason", E)},
)
for d in ("mistral", "openai"):
    case(
        f"09-missing-finish-reason-{d}@mudler/LocalAI#4771",
        d,
        edit(base(d), choices__0__finish_reason=...),
        {("CC101", "$.choices[0].finish_reason", E)},
    )

# 12. Mistral-only finish reasons.
for reason in ("model_length", "error"):
    case(
        f"12-{reason}-tolerated-mistral@mistralai/client-python#74",
        "mistral",
        edit(base("mistral"), choices__0__finish_reason=reason),
        set(),
    )
    case(
        f"12-{reason}-rejected-openai@mistralai/client-python#74",
        "openai",
        edit(base("openai"), choices__0__finish_reason=reason),
        {("CC103", "$.choices[0].finish_reason", E)},
    )
case(
    "12-tool_calls-reason-mistral@mistralai/client-python#59",
    "mistral",
    tool_response("mistral", [weather_call("mistral")]),
    set(),
)

# 13. arguments as a JSON object: allowed by Mistral's schema, a wrong type under OpenAI.
case(
    "13-arguments-object-tolerated-mistral@ggml-org/llama.cpp#20198",
    "mistral",
    tool_response("mistral", [weather_call("mistral", {"city": "Paris"})]),
    set(),
)
case(
    "13-arguments-object-openai@ggml-org/llama.cpp#20198",
    "openai",
    tool_response("openai", [weather_call("openai", {"city": "Paris"})]),
    {("CC102", "$.choices[0].message.tool_calls[0].function.arguments", E)},
)
case(
    "13-arguments-object-tgi-openai@huggingface/text-generation-inference#2136",
    "openai",
    edit(tool_response("openai", [weather_call("openai", {"city": "Paris"}, call_id="0")]), model="tgi"),
    {("CC102", "$.choices[0].message.tool_calls[0].function.arguments", E)},
)

# 14. arguments that are not a JSON object.
_args_path = "$.choices[0].message.tool_calls[0].function.arguments"
case(
    "14-arguments-not-json-and-no-id-type-openai@vllm-project/vllm#13078",
    "openai",
    tool_response("openai", [{"function": {"name": "get_weather", "arguments": "你好"}}]),
    {("CC207", _args_path, E), ("CC101", "$.choices[0].message.tool_calls[0].type", E)},
    request={
        "model": "Qwen2.5-7B-Instruct",
        "messages": [{"role": "user", "content": "你好"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    },
    exact=False,
)
case(
    "14-arguments-not-json-no-id-type-mistral@vllm-project/vllm#13078",
    "mistral",
    tool_response("mistral", [{"function": {"name": "get_weather", "arguments": "你好"}}]),
    {("CC207", _args_path, E)},
)
for d in ("mistral", "openai"):
    case(
        f"14-arguments-truncated-{d}@ggml-org/llama.cpp#22072",
        d,
        tool_response(d, [weather_call(d, '{"city": "Paris", "unit": "cel')]),
        {("CC207", _args_path, E)},
    )
    case(
        f"14-arguments-non-dict-json-{d}@langchain-ai/langchain#35997",
        d,
        tool_response(d, [weather_call(d, '["Paris"]')]),
        {("CC207", _args_path, E)},
    )

# 15 (non-stream part). Empty tool-call id from Gemini's OpenAI-compatible endpoint.
for d in ("mistral", "openai"):
    case(
        f"15-empty-tool-call-id-{d}@vercel/ai#6663",
        d,
        tool_response(d, [weather_call(d, call_id="")]),
        {("CC215", "$.choices[0].message.tool_calls[0].id", E)},
    )

# 16. Mistral tool-call ids are nine ASCII letters/digits: a warning under Mistral only.
case(
    "16-tool-call-id-not-mistral-format-mistral@langchain-ai/langchain#24668",
    "mistral",
    tool_response("mistral", [weather_call("mistral", call_id="call_8zJ0nLQ2mQvPkDn0kXyWb1tE")]),
    {("CC216", "$.choices[0].message.tool_calls[0].id", W)},
)
case(
    "16-template-id-mistral@ml-explore/mlx-lm#1375",
    "mistral",
    tool_response("mistral", [weather_call("mistral", call_id="chatcmpl-tool-3f2a")]),
    {("CC216", "$.choices[0].message.tool_calls[0].id", W)},
)
case(
    "16-tool-call-id-any-format-openai@langchain-ai/langchain#24668",
    "openai",
    tool_response("openai", [weather_call("openai", call_id="call_8zJ0nLQ2mQvPkDn0kXyWb1tE")]),
    set(),
)

# 22. Usage arithmetic.
for d in ("mistral", "openai"):
    case(
        f"22-total-below-prompt-{d}@langgenius/dify#19175",
        d,
        edit(base(d), usage__prompt_tokens=1066, usage__completion_tokens=37, usage__total_tokens=103),
        {("CC203", "$.usage.total_tokens", E)},  # CC201 defers to CC203: one finding per defect
    )
    case(
        f"22-thinking-excluded-from-completion-{d}@Clarifai/clarifai-python#978",
        d,
        edit(base(d), usage__prompt_tokens=20, usage__completion_tokens=424, usage__total_tokens=1016),
        {("CC201", "$.usage.total_tokens", W)},
    )
case(
    "22-gemini-reasoning-outside-completion-openai@router-for-me/CLIProxyAPI#5733",
    "openai",
    edit(
        base("openai"),
        usage={
            "prompt_tokens": 21,
            "completion_tokens": 0,
            "total_tokens": 81,
            "completion_tokens_details": {"reasoning_tokens": 60},
        },
    ),
    {("CC201", "$.usage.total_tokens", W), ("CC217", "$.usage.completion_tokens_details.reasoning_tokens", W)},
)
case(
    "22-gemini-reasoning-outside-completion-mistral@router-for-me/CLIProxyAPI#5733",
    "mistral",
    edit(
        base("mistral"),
        usage={
            "prompt_tokens": 21,
            "completion_tokens": 0,
            "total_tokens": 81,
            "completion_tokens_details": {"reasoning_tokens": 60},
        },
    ),
    {("CC201", "$.usage.total_tokens", W), ("CC104", "$.usage.completion_tokens_details", W)},
)
case(
    "22-bedrock-cache-tokens-in-total-openai@strands-agents/harness-sdk#797",
    "openai",
    edit(
        base("openai"),
        usage={
            "prompt_tokens": 120,
            "completion_tokens": 45,
            "total_tokens": 4261,
            "prompt_tokens_details": {"cached_tokens": 4096},
        },
    ),
    {("CC201", "$.usage.total_tokens", W)},
)
case(
    "22-reasoning-above-completion-openai@langfuse/langfuse#14987",
    "openai",
    edit(
        base("openai"),
        usage={
            "prompt_tokens": 1200,
            "completion_tokens": 102,
            "total_tokens": 1302,
            "completion_tokens_details": {"reasoning_tokens": 109},
        },
    ),
    {("CC217", "$.usage.completion_tokens_details.reasoning_tokens", W)},
    absent={"CC201", "CC203"},
)

# 23. usage present but incomplete.
for d in ("mistral", "openai"):
    case(
        f"23-usage-without-completion-tokens-{d}@ggml-org/llama.cpp#22659",
        d,
        edit(base(d), usage={"prompt_tokens": 16, "total_tokens": 50}),
        {("CC101", "$.usage.completion_tokens", E)},
    )
case(
    "23-usage-without-details-openai@BerriAI/litellm#14090",
    "openai",
    edit(base("openai"), usage={"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50}),
    set(),
)

# 24. Flat error envelopes.
_vllm_flat = {
    "object": "error",
    "message": "This model's maximum context length is 2048 tokens. However, you requested 2723 tokens (1699 in the "
    "messages, 1024 in the completion). Please reduce the length of the messages or completion.",
    "type": "BadRequestError",
    "param": None,
    "code": 400,
}
case(
    "24-vllm-flat-envelope-openai@vllm-project/vllm#12886",
    "openai",
    dict(_vllm_flat),
    {("CC502", "$", E), ("CC504", "$.code", W)},  # the integer status as code: CC504's one finding (issue 17)
    status=400,
)
case(
    "24-vllm-flat-envelope-int-code-mistral@vllm-project/vllm#12886",
    "mistral",
    dict(_vllm_flat),
    {("CC504", "$.code", W)},
    status=400,
)
case(
    "24-vllm-nested-envelope-int-code-openai@foundation-model-stack/fms-guardrails-orchestrator#511",
    "openai",
    {
        "error": {
            "message": "This model's maximum context length is 32768 tokens. However, you requested 39197 tokens "
            "in the messages, Please reduce the length of the messages. None",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }
    },
    {("CC504", "$.error.code", W)},
    status=400,
)
case(
    "24-mistral-flat-string-code-mistral@nearai/ironclaw#1241",
    "mistral",
    {
        "object": "error",
        "message": "Function call failed: invalid arguments",
        "type": "invalid_function_call",
        "param": None,
        "code": "3280",
    },
    set(),
    status=400,
)
case(
    "24-mistral-flat-string-code-openai@nearai/ironclaw#1241",
    "openai",
    {
        "object": "error",
        "message": "Function call failed: invalid arguments",
        "type": "invalid_function_call",
        "param": None,
        "code": "3280",
    },
    {("CC502", "$", E)},
    status=400,
)
case(
    "24-mistral-detail-json-in-message-mistral@mistralai/platform-docs-public#7",
    "mistral",
    {
        "object": "error",
        "message": '{"detail":[{"type":"extra_forbidden","loc":["body","frequency_penalty"],'
        '"msg":"Extra inputs are not permitted","input":0.0,"url":"https://errors.pydantic.dev/2.5/v/extra_forbidden"}]}',
        "type": "internal_error_proxy",
        "param": None,
        "code": "1000",
    },
    set(),
    status=422,
)

# 25. Other error shapes.
_lmstudio = {"error": "'response_format.type' must be 'json_schema' or 'text'"}
case(
    "25-lmstudio-error-string-openai@lmstudio-ai/lmstudio-bug-tracker#307",
    "openai",
    dict(_lmstudio),
    {("CC102", "$.error", E)},
    status=400,
)
case(
    "25-lmstudio-error-string-mistral@lmstudio-ai/lmstudio-bug-tracker#307",
    "mistral",
    dict(_lmstudio),
    {("CC502", "$", E)},
    status=400,
)
_llama_flat = {"code": 500, "message": "Unsupported param: tools", "type": "server_error"}
# Flat (message and type at the top level): OpenAI clients find no "error" object, so it is the flat envelope.
case(
    "25-llama-server-flat-openai@ggml-org/llama.cpp#10920",
    "openai",
    dict(_llama_flat),
    {("CC502", "$", E), ("CC504", "$.code", W)},
    status=500,
)
case(
    "25-llama-server-flat-mistral@ggml-org/llama.cpp#10920",
    "mistral",
    dict(_llama_flat),
    {("CC101", "$.object", E), ("CC101", "$.param", E), ("CC504", "$.code", W)},
    status=500,
)
case(
    "25-llama-server-nested-int-code-openai@QwenLM/Qwen3#822",
    "openai",
    {"error": {"code": 500, "message": "Unsupported param: tools", "type": "server_error"}},
    {("CC504", "$.error.code", W), ("CC101", "$.error.param", E)},
    status=500,
)
case(
    "25-fastapi-detail-string-openai@aioc docs/spec/extensions.md",
    "openai",
    {"detail": "Not Found"},
    {("CC502", "$", E)},
    status=404,
)
case(
    "25-fastapi-detail-string-mistral@aioc docs/spec/extensions.md",
    "mistral",
    {"detail": "Not Found"},
    {("CC501", "$", E)},  # not a validation-error body: Mistral's "detail" list belongs to 422 only (issue 17)
    status=404,
)
case(
    "25-vllm-two-envelopes-nested-openai@vllm-project/vllm#57997",
    "openai",
    {
        "error": {
            "message": "1 validation error: messages: Field required",
            "type": "BadRequestError",
            "param": None,
            "code": None,
        }
    },
    set(),
    status=400,
)
case(
    "25-vllm-two-envelopes-flat-openai@vllm-project/vllm#57997",
    "openai",
    {"object": "error", "message": "messages: Field required", "type": "BadRequestError", "param": None, "code": None},
    {("CC502", "$", E)},
    status=400,
)

# 27. Parameter rejections mapped to 4xx contracts.
_mistral_422 = {
    "detail": [
        {"type": "extra_forbidden", "loc": ["body", "store"], "msg": "Extra inputs are not permitted", "input": False},
        {
            "type": "extra_forbidden",
            "loc": ["body", "max_completion_tokens"],
            "msg": "Extra inputs are not permitted",
            "input": 8192,
        },
    ]
}
case(
    "27-mistral-422-openai-only-params-mistral@mistralai/platform-docs-public#7",
    "mistral",
    copy.deepcopy(_mistral_422),
    set(),
    status=422,
)
case(
    "27-mistral-422-openai-only-params-openai@mistralai/platform-docs-public#7",
    "openai",
    copy.deepcopy(_mistral_422),
    {("CC502", "$", E)},
    status=422,
)
case(
    "27-lmstudio-rejects-json-object-openai@lmstudio-ai/lmstudio-bug-tracker#189",
    "openai",
    dict(_lmstudio),
    {("CC102", "$.error", E)},
    status=400,
)

# LiteLLM error bodies: the status repeated as a string code, a stringified None param (warnings).
case(
    "litellm-code-400-param-None-openai@CC504/CC505 docs",
    "openai",
    {"error": {"message": "No api key passed in.", "type": "auth_error", "param": "None", "code": "400"}},
    {("CC504", "$.error.code", W), ("CC505", "$.error.param", W)},
    status=400,
)
case(
    "litellm-mistral-exception-openai@BerriAI/litellm#8978",
    "openai",
    {
        "error": {
            "message": "litellm.BadRequestError: MistralException - {'detail': [{'type': 'extra_forbidden', "
            "'loc': ['body', 'stream_options', 'include_usage'], 'msg': 'Extra inputs are not permitted', "
            "'input': True}]}. Received Model Group=mistral",
            "type": None,
            "param": None,
            "code": "400",
        }
    },
    {("CC504", "$.error.code", W), ("CC107", "$.error.type", E)},
    status=400,
)
case(
    "litellm-code-401-param-None-mistral@CC504/CC505 docs",
    "mistral",
    {
        "object": "error",
        "message": "No api key passed in.",
        "type": "authentication_error",
        "param": "None",
        "code": "401",
    },
    {("CC504", "$.code", W), ("CC505", "$.param", W)},
    status=401,
)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_divergence(c: Case) -> None:
    report = check(c.body, dialect=c.dialect, status=c.status, request=c.request, stream=False, select=["ALL"])
    got = {(v.code, v.path, v.severity.value) for v in report.violations}
    if c.exact:
        assert got == c.expect, f"unexpected: {sorted(got - c.expect)}; missing: {sorted(c.expect - got)}"
    else:
        assert c.expect <= got, f"missing: {sorted(c.expect - got)}; got {sorted(got)}"
    assert not c.absent & {code for code, _, _ in got}
    assert report.ok is all(sev == W for _, _, sev in got)
    # The same body as bytes (what actually came over the wire) gives the same verdict.
    raw = json.dumps(c.body, ensure_ascii=False).encode()
    again = check(raw, dialect=c.dialect, status=c.status, request=c.request, stream=False, select=["ALL"])
    assert {(v.code, v.path, v.severity.value) for v in again.violations} == got


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
