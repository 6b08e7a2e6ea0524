"""Faults of streamed answers (SSE), registered into :data:`faults.FAULTS`.

A stream is a list of events: chunk documents (dicts, sent as ``data: <json>``) and raw SSE text (``[DONE]``,
comments, broken frames). The expected codes name the CC3xx stream rules (CC301 chunk-not-json ... CC318
sse-anomaly) next to the per-chunk schema codes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..completions import DONE
from ._events import carries, choices_of, chunk_docs, finish_position, finishes, new_choice, sibling
from ._registry import FaultContext, Outgoing, fault

_STREAM = ("stream",)


@fault(
    "stream-empty-finish-reason",
    'finish_reason is "" on every chunk and no chunk ever finishes (Ollama, GenieX).',
    source="https://github.com/ollama/ollama/issues/4357, https://github.com/qualcomm/GenieX/issues/1246",
    target="stream",
    expect=("CC103", "CC309"),
    needs=_STREAM,
)
def empty_finish_reason(out: Outgoing, ctx: FaultContext) -> bool:
    kept: list[Any] = []
    for event in out.events:
        if isinstance(event, dict):
            if finishes(event) and not carries(event):
                continue
            for c in choices_of(event):
                c["finish_reason"] = ""
        kept.append(event)
    out.events = kept
    return True


@fault(
    "stream-no-finish",
    "The stream ends without any finish_reason (Bedrock, LiteLLM proxies).",
    source="https://github.com/earendil-works/pi/issues/4558, https://github.com/CherryHQ/cherry-studio/issues/19793",
    target="stream",
    expect=("CC309",),
    needs=_STREAM,
)
def no_finish(out: Outgoing, ctx: FaultContext) -> bool:
    kept: list[Any] = []
    for event in out.events:
        if isinstance(event, dict) and finishes(event):
            if not carries(event):
                continue
            for c in choices_of(event):
                c["finish_reason"] = None
        kept.append(event)
    out.events = kept
    return True


@fault(
    "stream-no-done",
    "The stream closes without data: [DONE].",
    source=(
        "https://github.com/open-octo/octo-agent/issues/910 (streams closed without [DONE] after an error), "
        "https://github.com/openai/openai-go/issues/227 (non-standard SSE)"
    ),
    target="stream",
    expect=("CC303",),
    needs=_STREAM,
)
def no_done(out: Outgoing, ctx: FaultContext) -> bool:
    before = len(out.events)
    out.events = [e for e in out.events if e != DONE]
    return len(out.events) != before


@fault(
    "stream-keepalive",
    "SSE comment lines (': keep-alive', ': OPENROUTER PROCESSING') between events: legal, must pass.",
    source="https://github.com/openai/openai-go/issues/227",
    target="stream",
    expect=(),
    needs=_STREAM,
)
def keepalive(out: Outgoing, ctx: FaultContext) -> bool:
    events: list[Any] = [": OPENROUTER PROCESSING\n\n"]
    for event in out.events:
        events += [event, ": keep-alive\n\n"]
    out.events = events
    return True


@fault(
    "stream-content-after-finish",
    "More content arrives for a choice after its finish_reason chunk.",
    source=(
        "trailing content after finish_reason from OpenAI-compatible proxies: "
        "https://github.com/openai/openai-go/issues/227, https://github.com/earendil-works/pi/issues/4558"
    ),
    target="stream",
    expect=("CC311",),
    needs=_STREAM,
)
def content_after_finish(out: Outgoing, ctx: FaultContext) -> bool:
    pos = finish_position(out)
    if pos is None:
        return False
    chunk = out.events[pos]
    assert isinstance(chunk, dict)
    out.events.insert(pos + 1, sibling(chunk, [new_choice(ctx, 0, {"content": " One more thing."}, None)]))
    return True


@fault(
    "stream-indexless-tool-deltas",
    "Streamed tool-call deltas have no index (Gemini's OpenAI endpoint, Ollama); legal in Mistral's whole calls.",
    source="https://github.com/openai/openai-python/issues/2806, https://github.com/ollama/ollama/issues/7881",
    target="stream",
    expect={"mistral": (), "openai": ("CC101",)},
    needs=("stream", "tools"),
)
def indexless_tool_deltas(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for chunk in chunk_docs(out):
        for c in choices_of(chunk):
            for call in (c.get("delta") or {}).get("tool_calls") or ():
                changed = call.pop("index", None) is not None or changed
    return changed


@fault(
    "stream-error-in-200",
    'A data: {"error": {...}} event mid-stream, then the connection closes (DashScope, DeepSeek, Kimi).',
    source="https://github.com/open-octo/octo-agent/issues/910, https://github.com/aaif-goose/goose/issues/8027",
    target="stream",
    expect=("CC315",),
    needs=_STREAM,
)
def error_in_stream(out: Outgoing, ctx: FaultContext) -> bool:
    chunks = [i for i, e in enumerate(out.events) if isinstance(e, dict)]
    if not chunks:
        return False
    cut = chunks[min(1, len(chunks) - 1)] + 1
    error = {"error": {"message": "Internal server error", "type": "server_error", "param": None, "code": None}}
    out.events = [*out.events[:cut], error]
    return True


@fault(
    "stream-choices-null",
    'A chunk with "choices": null.',
    source="https://github.com/pydantic/pydantic-ai/issues/5170",
    target="stream",
    expect=("CC107",),
    needs=_STREAM,
)
def choices_null(out: Outgoing, ctx: FaultContext) -> bool:
    chunks = chunk_docs(out)
    if not chunks:
        return False
    out.events.insert(1, sibling(chunks[0], None))
    return True


@fault(
    "stream-usage-missing",
    "No usage in the stream: Mistral's final chunk lacks it; OpenAI ignores stream_options.include_usage.",
    source=(
        "https://github.com/langgenius/dify-official-plugins/issues/3650, "
        "https://github.com/sgl-project/sglang/issues/954"
    ),
    target="stream",
    expect={"mistral": ("CC312",), "openai": ("CC313",)},
    needs=("stream", "include_usage"),
)
def usage_missing(out: Outgoing, ctx: FaultContext) -> bool:
    before = len(out.events)
    out.events = [e for e in out.events if not (isinstance(e, dict) and e.get("choices") == [] and e.get("usage"))]
    changed = len(out.events) != before
    for chunk in chunk_docs(out):
        if chunk.get("usage"):
            del chunk["usage"]
            changed = True
    return changed


@fault(
    "stream-chunk-not-json",
    "One data event is cut-off JSON.",
    source=(
        "incomplete JSON from llama.cpp: https://github.com/ggml-org/llama.cpp/issues/22072; "
        "`chatcontract rule CC301`"
    ),
    target="stream",
    expect=("CC301",),
    needs=_STREAM,
)
def chunk_not_json(out: Outgoing, ctx: FaultContext) -> bool:
    positions = [i for i, e in enumerate(out.events) if isinstance(e, dict)]
    if not positions:
        return False
    pos = positions[min(1, len(positions) - 1)]
    text = json.dumps(out.events[pos], ensure_ascii=False)
    out.events[pos] = f"data: {text[: len(text) // 2]}\n\n"
    return True


@fault(
    "stream-data-after-done",
    "A chunk arrives after data: [DONE].",
    source="non-standard stream framing from proxies: https://github.com/openai/openai-go/issues/227",
    target="stream",
    expect=("CC304",),
    needs=_STREAM,
)
def data_after_done(out: Outgoing, ctx: FaultContext) -> bool:
    chunks = chunk_docs(out)
    if DONE not in out.events or not chunks:
        return False
    out.events.append(copy.deepcopy(chunks[-1]))
    return True


@fault(
    "stream-empty",
    "A 200 text/event-stream answer with an empty body.",
    source=(
        "gateways closing streams on upstream errors: https://github.com/open-octo/octo-agent/issues/910, "
        "https://github.com/aaif-goose/goose/issues/8027"
    ),
    target="stream",
    expect=("CC305",),
    needs=_STREAM,
)
def empty_stream(out: Outgoing, ctx: FaultContext) -> bool:
    out.events = []
    return True


@fault(
    "stream-id-changes",
    "Every chunk has a different id.",
    source="contract: every chunk of a completion repeats its id (OpenAI ChatCompletionChunk.id)",
    target="stream",
    expect=("CC306",),
    needs=_STREAM,
)
def id_changes(out: Outgoing, ctx: FaultContext) -> bool:
    for i, chunk in enumerate(chunk_docs(out)):
        chunk["id"] = f"{chunk['id']}-{i}"
    return True


@fault(
    "stream-object-wrong",
    'Chunks say "object": "chat.completion" instead of "chat.completion.chunk" (Azure).',
    source="https://github.com/mlflow/mlflow/issues/12767",
    target="stream",
    expect={"mistral": ("CC307",), "openai": ("CC103",)},
    needs=_STREAM,
)
def object_wrong(out: Outgoing, ctx: FaultContext) -> bool:
    for chunk in chunk_docs(out):
        chunk["object"] = "chat.completion"
    return True


@fault(
    "stream-no-role",
    "The first delta of a choice has no role.",
    source=(
        "contract: streams open with delta.role (OpenAI streaming; "
        "https://github.com/vllm-project/vllm/issues/16340 for missing keys)"
    ),
    target="stream",
    expect=("CC308",),
    needs=_STREAM,
)
def no_role(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for chunk in chunk_docs(out):
        for c in choices_of(chunk):
            changed = (c.get("delta") or {}).pop("role", None) is not None or changed
    return changed


@fault(
    "stream-double-finish",
    "A choice's finish chunk is sent twice.",
    source="https://github.com/open-webui/computer/issues/224 (finish_reason repeated with split tool calls)",
    target="stream",
    expect=("CC310",),
    needs=_STREAM,
)
def double_finish(out: Outgoing, ctx: FaultContext) -> bool:
    pos = finish_position(out)
    if pos is None:
        return False
    chunk = out.events[pos]
    assert isinstance(chunk, dict)
    finish = next(c["finish_reason"] for c in choices_of(chunk) if c.get("index") == 0)
    empty: dict[str, Any] = {"content": ""} if ctx.dialect == "mistral" else {}
    out.events.insert(pos + 1, sibling(chunk, [new_choice(ctx, 0, empty, finish)]))
    return True


@fault(
    "stream-usage-unrequested",
    "A usage chunk although stream_options.include_usage was not requested.",
    source=(
        "usage only with include_usage: https://github.com/langgenius/dify-official-plugins/issues/3650, "
        "https://github.com/sgl-project/sglang/issues/954"
    ),
    target="stream",
    expect={"openai": ("CC320",)},
    needs=_STREAM,
)
def usage_unrequested(out: Outgoing, ctx: FaultContext) -> bool:
    chunks = chunk_docs(out)
    if not chunks or any("usage" in c for c in chunks) or out.completion is None:
        return False
    from ..completions import usage

    pos = out.events.index(DONE) if DONE in out.events else len(out.events)
    out.events.insert(pos, {**sibling(chunks[-1], []), "usage": usage(out.completion)})
    return True


@fault(
    "stream-usage-early",
    "The usage chunk arrives second, before the content and finish chunks, instead of last.",
    source=(
        "usage placement in streams: https://github.com/pydantic/pydantic-ai/issues/164, "
        "https://github.com/BerriAI/litellm/issues/9657"
    ),
    target="stream",
    expect={"openai": ("CC314",)},
    needs=("stream", "include_usage"),
)
def usage_early(out: Outgoing, ctx: FaultContext) -> bool:
    carrier = next((c for c in chunk_docs(out) if c.get("usage") and c.get("choices") == []), None)
    if carrier is None:
        return False
    out.events.remove(carrier)
    out.events.insert(1, carrier)
    return True


@fault(
    "stream-empty-choices-chunk",
    'A leading chunk with "choices": [] (Azure content-filter results, Bedrock control chunks).',
    source="https://github.com/pydantic/pydantic-ai/issues/164, https://github.com/awslabs/llmeter/issues/34",
    target="stream",
    expect=("CC317",),
    needs=_STREAM,
)
def empty_choices_chunk(out: Outgoing, ctx: FaultContext) -> bool:
    chunks = chunk_docs(out)
    if not chunks:
        return False
    first = sibling(chunks[0], [])
    first["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {}}]
    out.events.insert(0, first)
    return True


@fault(
    "stream-truncated",
    "The connection drops in the middle of a chunk (no blank line, no [DONE]).",
    source=(
        "streams that end abruptly: https://github.com/earendil-works/pi/issues/7441, "
        "https://github.com/open-octo/octo-agent/issues/910"
    ),
    target="stream",
    expect=("CC302",),
    needs=_STREAM,
)
def truncated(out: Outgoing, ctx: FaultContext) -> bool:
    positions = [i for i, e in enumerate(out.events) if isinstance(e, dict)]
    if not positions:
        return False
    pos = positions[-1]
    text = json.dumps(out.events[pos], ensure_ascii=False)
    out.events = [*out.events[:pos], f"data: {text[: len(text) // 2]}"]
    return True


@fault(
    "stream-sse-anomaly",
    "Lines with an unknown SSE field (heartbeat: 1) between events.",
    source="non-standard SSE framing from proxies: https://github.com/openai/openai-go/issues/227",
    target="stream",
    expect=("CC318",),
    needs=_STREAM,
)
def sse_anomaly(out: Outgoing, ctx: FaultContext) -> bool:
    events: list[Any] = []
    for event in out.events:
        events += [event, "heartbeat: 1\n\n"] if isinstance(event, dict) else [event]
    out.events = events
    return True
