"""Faults of non-stream answers, error answers and of any answer (registered into :data:`faults.FAULTS`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .. import generate as gen
from ..completions import text_of
from ..errors import error_body, foreign_body
from ._registry import FaultContext, Outgoing, fault

_HTML_500 = (
    b"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    b"<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def _doc(out: Outgoing) -> dict[str, Any] | None:
    return out.doc if isinstance(out.doc, dict) else None


def _choices(out: Outgoing) -> list[dict[str, Any]]:
    doc = _doc(out)
    items = doc.get("choices") if doc else None
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def _usage(out: Outgoing) -> dict[str, Any] | None:
    doc = _doc(out)
    usage = doc.get("usage") if doc else None
    return usage if isinstance(usage, dict) else None


def _calls(out: Outgoing) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for choice in _choices(out):
        msg = choice.get("message")
        if isinstance(msg, dict) and isinstance(msg.get("tool_calls"), list) and msg["tool_calls"]:
            yield choice, msg


def _recount(out: Outgoing) -> None:
    """Set usage to what the choices now hold (after a fault changed them)."""
    usage = _usage(out)
    if usage is None:
        return
    done = 0
    for choice in _choices(out):
        msg = choice.get("message") or {}
        done += gen.count_tokens(text_of(msg.get("content")))
        for call in msg.get("tool_calls") or ():
            fn = call.get("function") or {}
            args = fn.get("arguments", "")
            done += gen.count_tokens(fn.get("name", "")) + gen.count_tokens(
                args if isinstance(args, str) else json.dumps(args)
            )
    usage["completion_tokens"] = done
    usage["total_tokens"] = usage["prompt_tokens"] + done


@fault(
    "created-float",
    "created is a float Unix time (1757876416.566...), as SambaNova sends it.",
    source="https://github.com/mlcommons/modelbench/issues/1287, https://github.com/BoundaryML/baml/issues/1746",
    target="response",
    expect=("CC102",),
)
def created_float(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    if doc is None or not isinstance(doc.get("created"), int):
        return False
    doc["created"] = doc["created"] + 0.5661082
    return True


@fault(
    "created-ms",
    "created is in milliseconds (1736423701225), as AnythingLLM sends it.",
    source="https://github.com/etkecc/baibot/issues/25",
    target="response",
    expect=("CC209",),
)
def created_ms(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    if doc is None or not isinstance(doc.get("created"), int):
        return False
    doc["created"] = doc["created"] * 1000 + ctx.rng.randint(0, 999)
    return True


@fault(
    "usage-total-wrong",
    "usage.total_tokens is larger than prompt + completion (reasoning or cache tokens counted apart).",
    source=(
        "https://github.com/Clarifai/clarifai-python/issues/978, "
        "https://github.com/strands-agents/harness-sdk/issues/797"
    ),
    target="response",
    expect=("CC201",),
)
def usage_total_wrong(out: Outgoing, ctx: FaultContext) -> bool:
    usage = _usage(out)
    if usage is None:
        return False
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"] + ctx.rng.randint(5, 500)
    return True


@fault(
    "usage-total-below-prompt",
    "usage.total_tokens is smaller than one of its parts (a Bedrock bridge sent prompt 1066, total 103).",
    source="https://github.com/SecretiveShell/MCP-Bridge/issues/48, https://github.com/langgenius/dify/issues/19175",
    target="response",
    expect=("CC203",),
)
def usage_total_below_prompt(out: Outgoing, ctx: FaultContext) -> bool:
    usage = _usage(out)
    if usage is None:
        return False
    usage["total_tokens"] = max(usage["prompt_tokens"], usage["completion_tokens"]) - 1
    return True


@fault(
    "constant-usage",
    "usage is 10/20/30 whatever the request, as LiteLLM's mocked models report (exceeds a small max_tokens).",
    source=(
        "LiteLLM's mock models, recorded in this project's cassettes/litellm/max_tokens_small.yaml; "
        "usage arithmetic: https://github.com/langgenius/dify/issues/19175"
    ),
    target="response",
    expect=("CC402",),
    needs=("max_tokens",),
)
def constant_usage(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    if doc is None:
        return False
    doc["usage"] = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
    return True


@fault(
    "n-ignored",
    "n is ignored: one choice whatever the request asked for (llama.cpp server, LiteLLM mocks).",
    source=(
        "llama-cpp-python's server and LiteLLM's mock models, "
        "recorded in this project's cassettes/llamacpp/n2.yaml and cassettes/litellm/n2.yaml"
    ),
    target="response",
    expect=("CC401",),
    needs=("n",),
)
def n_ignored(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    if doc is None or len(_choices(out)) < 2:
        return False
    doc["choices"] = doc["choices"][:1]
    _recount(out)
    return True


@fault(
    "max-tokens-ignored",
    "max_tokens is ignored: the answer runs past the limit and finishes with stop.",
    source="LiteLLM's mock models, recorded in this project's cassettes/litellm/max_tokens_small.yaml",
    target="response",
    expect=("CC402",),
    needs=("max_tokens",),
)
def max_tokens_ignored(out: Outgoing, ctx: FaultContext) -> bool:
    # This one deviation only: a text answer runs on (not a tool call's message, nor an answer that owed a tool
    # call or JSON, which the padding would turn into another deviation), and the extra text honours the request's
    # stop sequences.
    req = ctx.request or {}
    limit = req.get("max_completion_tokens") or req.get("max_tokens")
    rf = req.get("response_format")
    choice = req.get("tool_choice")
    if (isinstance(rf, dict) and rf.get("type") != "text") or choice in ("required", "any") or isinstance(choice, dict):
        return False
    choices = _choices(out)
    if not isinstance(limit, int) or not choices:
        return False
    msg = choices[0].get("message")
    if not isinstance(msg, dict) or msg.get("tool_calls"):
        return False
    n = req["n"] if isinstance(req.get("n"), int) else 1
    extra = gen.text(ctx.rng, limit * n + 5)
    stops = req.get("stop")
    for stop in [stops] if isinstance(stops, str) else stops if isinstance(stops, list) else []:
        if isinstance(stop, str) and stop:
            extra = extra.replace(stop, " ")
    content = msg.get("content")
    if isinstance(content, list):  # Mistral's chunks (thinking, text): one more text chunk
        content.append({"type": "text", "text": extra})
    else:
        msg["content"] = " ".join(filter(None, [content if isinstance(content, str) else None, extra]))
    if choices[0].get("finish_reason") == "length":
        choices[0]["finish_reason"] = "stop"
    _recount(out)
    return True


@fault(
    "finish-reason-stop-with-tools",
    'finish_reason is "stop" although the message has tool calls (SGLang, OpenVINO, MLX, OpenAI itself).',
    source="https://github.com/sgl-project/sglang/issues/2877, https://github.com/openai/openai-dotnet/issues/64",
    target="response",
    expect=("CC206",),
    needs=("tools",),
)
def finish_stop_with_tools(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for choice, _msg in _calls(out):
        choice["finish_reason"] = "stop"
        changed = True
    return changed


@fault(
    "tool-calls-finish-without-calls",
    'finish_reason is "tool_calls" but the message carries no tool calls (LocalAI).',
    source="https://github.com/mudler/LocalAI/issues/6243",
    target="response",
    expect=("CC205",),
    needs=("tools",),
)
def tool_calls_finish_without_calls(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for _choice, msg in list(_calls(out)):
        if ctx.dialect == "mistral":
            msg["tool_calls"] = None
        else:
            del msg["tool_calls"]
        changed = True
    return changed


@fault(
    "tool-args-not-json",
    "Tool-call arguments are cut-off JSON (llama.cpp at max_tokens, vLLM's free text).",
    source="https://github.com/vllm-project/vllm/issues/13078, https://github.com/ggml-org/llama.cpp/issues/22072",
    target="response",
    expect=("CC207",),
    needs=("tools",),
)
def tool_args_not_json(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for _choice, msg in _calls(out):
        for call in msg["tool_calls"]:
            args = call["function"]["arguments"]
            call["function"]["arguments"] = args[: max(1, len(args) // 2)]
            changed = True
    return changed


@fault(
    "tool-args-object",
    "Tool-call arguments are a JSON object instead of a string (llama-server, TGI, Ollama); legal in Mistral.",
    source=(
        "https://github.com/ggml-org/llama.cpp/issues/20198, "
        "https://github.com/huggingface/text-generation-inference/issues/2136"
    ),
    target="response",
    expect={"mistral": (), "openai": ("CC102",)},
    needs=("tools",),
)
def tool_args_object(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for _choice, msg in _calls(out):
        for call in msg["tool_calls"]:
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
            changed = True
    return changed


@fault(
    "empty-tool-call-id",
    'Tool calls have "id": "" (Gemini\'s OpenAI-compatible endpoint).',
    source="https://github.com/vercel/ai/issues/6663",
    target="response",
    expect=("CC215",),
    needs=("tools",),
)
def empty_tool_call_id(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for _choice, msg in _calls(out):
        for call in msg["tool_calls"]:
            call["id"] = ""
            changed = True
    return changed


@fault(
    "missing-usage",
    "usage is left out (AnythingLLM); required by Mistral, optional in OpenAI.",
    source=(
        "https://github.com/etkecc/baibot/issues/25; "
        "the dialect baseline: Mistral's published OpenAPI document requires usage, OpenAI's does not"
    ),
    target="response",
    expect={"mistral": ("CC101",), "openai": ()},
)
def missing_usage(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    return doc is not None and doc.pop("usage", None) is not None


@fault(
    "missing-choice-index",
    "choices[].index is left out (AnythingLLM, a Bedrock bridge).",
    source="https://github.com/etkecc/baibot/issues/25, https://github.com/SecretiveShell/MCP-Bridge/issues/48",
    target="response",
    expect=("CC101",),
)
def missing_choice_index(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for choice in _choices(out):
        changed = choice.pop("index", None) is not None or changed
    return changed


@fault(
    "model-empty",
    'model is "" (vLLM echoed an empty model name).',
    source="https://github.com/vllm-project/vllm/issues/9601",
    target="response",
    expect=("CC211",),
)
def model_empty(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    if doc is None or "model" not in doc:
        return False
    doc["model"] = ""
    return True


@fault(
    "extra-fields",
    "Extra fields: usage.prompt_tokens_details, message.reasoning_content: null, top-level timings (vLLM, "
    "llama.cpp); warnings where the schema is closed (Mistral usage and message), legal in OpenAI.",
    source="https://github.com/vllm-project/vllm/issues/9601, https://github.com/openai/openai-go/issues/227",
    target="response",
    expect={"mistral": ("CC104",), "openai": ()},
)
def extra_fields(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    if doc is None:
        return False
    if (usage := _usage(out)) is not None:
        usage.setdefault("prompt_tokens_details", {"cached_tokens": 0})
    for choice in _choices(out):
        if isinstance(choice.get("message"), dict):
            choice["message"]["reasoning_content"] = None
    doc["timings"] = {"prompt_n": 12, "prompt_ms": 3.5, "predicted_n": 20, "predicted_ms": 41.2}
    return True


@fault(
    "error-in-200",
    "A 200 answer whose body is an error object instead of a completion (gateways relaying upstream errors).",
    source=(
        "https://github.com/open-octo/octo-agent/issues/910, "
        "https://github.com/diegosouzapw/OmniRoute/issues/8210 (OpenRouter documents errors inside 200 answers)"
    ),
    target="response",
    expect=("CC503",),
)
def error_in_200(out: Outgoing, ctx: FaultContext) -> bool:
    out.doc = error_body(ctx.dialect, "The server is overloaded, please retry.", type_="server_error")
    return True


@fault(
    "html-500",
    "Every request gets a proxy's HTML error page with status 500 (text/html).",
    source=(
        "non-JSON error bodies: https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/307, "
        "https://github.com/ggml-org/llama.cpp/issues/10920; `chatcontract rule CC001`"
    ),
    target="any",
    expect=("CC001", "CC007"),
)
def html_500(out: Outgoing, ctx: FaultContext) -> bool:
    out.status, out.media_type, out.raw = 500, "text/html", _HTML_500
    return True


@fault(
    "foreign-error-envelope",
    "Error answers use the other dialect's envelope (old vLLM's flat body on its OpenAI API).",
    source=(
        "https://github.com/vllm-project/vllm/issues/12886, "
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/307"
    ),
    target="error",
    expect=("CC502",),
    needs=("invalid",),
)
def foreign_error_envelope(out: Outgoing, ctx: FaultContext) -> bool:
    doc = _doc(out)
    if doc is None:
        return False
    out.doc = foreign_body(ctx.dialect, doc)
    return True


@fault(
    "rejects-random-seed",
    "A valid request with random_seed is refused with 422 (extra input not permitted), as a server that takes only "
    "OpenAI's fields answers Mistral-dialect requests.",
    source="https://github.com/mistralai/platform-docs-public/issues/7 (422 on fields the server does not know)",
    target="request",
    expect={"mistral": ("CC603",)},
    needs=("random_seed",),
)
def rejects_random_seed(out: Outgoing, ctx: FaultContext) -> bool:
    request = ctx.request or {}
    if "random_seed" not in request:
        return False
    out.status = 422
    out.doc = {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["body", "random_seed"],
                "msg": "Extra inputs are not permitted",
                "input": request["random_seed"],
            }
        ]
    }
    return True


@fault(
    "rejects-n",
    "A valid request with n > 1 is refused with 400 (llama.cpp's server generates one choice only and refuses more).",
    source="https://github.com/algorithmicsuperintelligence/optillm/issues/8 (llama-server: 'Only one completion "
    "choice is allowed'); https://github.com/abetlen/llama-cpp-python/issues/1130",
    target="request",
    expect=("CC603",),
    needs=("n",),
)
def rejects_n(out: Outgoing, ctx: FaultContext) -> bool:
    request = ctx.request or {}
    n = request.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 1:
        return False
    out.status = 400
    out.doc = error_body(ctx.dialect, "Only one completion choice is allowed")
    return True


@fault(
    "rejects-zero-top-p",
    "A valid request with top_p 0 is refused with 400 (vLLM: top_p must be in (0, 1]).",
    source="https://github.com/microsoft/TaskWeaver/issues/231 (vLLM: 'top_p must be in (0, 1], got 0.0'); "
    "https://github.com/EvolvingLMMs-Lab/lmms-eval/issues/1265",
    target="request",
    expect={"openai": ("CC603",)},  # Mistral's contract itself wants top_p > 0
    needs=("top_p",),
)
def rejects_zero_top_p(out: Outgoing, ctx: FaultContext) -> bool:
    request = ctx.request or {}
    top_p = request.get("top_p")
    if not isinstance(top_p, (int, float)) or isinstance(top_p, bool) or top_p != 0:
        return False
    out.status = 400
    out.doc = error_body(ctx.dialect, f"top_p must be in (0, 1], got {float(top_p)}.", type_="BadRequestError")
    return True
