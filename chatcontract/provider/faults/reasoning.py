"""Faults of reasoning answers, registered into :data:`faults.FAULTS`.

They apply to answers that reason (the ``ref-reasoner`` model, or a request with ``reasoning_effort`` /
``prompt_mode: "reasoning"``) and reproduce what compatible servers do with reasoning: leave ``<think>`` markup in
the content (no reasoning parser), stream reasoning after the answer started or after the finish reason, count more
reasoning tokens than completion tokens, and use the other convention's field (Mistral's thinking chunks in an
OpenAI answer, OpenAI-compatible ``reasoning_content`` in a Mistral one). Each names the rule that finds it.
"""

from __future__ import annotations

from typing import Any

from ...rules.reasoning import is_thinking_chunk
from ._events import choices_of, finish_position, new_choice, sibling
from ._registry import FaultContext, Outgoing, fault

_REASONING = ("reasoning",)
_STREAM_REASONING = ("stream", "reasoning")


def _messages(out: Outgoing) -> list[dict[str, Any]]:
    doc = out.doc if isinstance(out.doc, dict) else {}
    return [c["message"] for c in choices_of(doc) if isinstance(c.get("message"), dict)]


def _split(message: dict[str, Any], dialect: str) -> tuple[str | None, str]:
    """``(reasoning, answer)`` of a reasoning message in the dialect's own style; reasoning None when absent."""
    content = message.get("content")
    if dialect == "openai":
        reasoning = message.get("reasoning_content")
        return (reasoning if isinstance(reasoning, str) else None), content if isinstance(content, str) else ""
    if not isinstance(content, list):
        return None, content if isinstance(content, str) else ""
    thinking = "".join(
        t["text"] for c in content if is_thinking_chunk(c) for t in c["thinking"] if isinstance(t.get("text"), str)
    )
    text = "".join(c["text"] for c in content if isinstance(c, dict) and c.get("type") == "text")
    return (thinking if any(is_thinking_chunk(c) for c in content) else None), text


@fault(
    "think-tags-in-content",
    "The reasoning is left in content between <think> tags (a server without a reasoning parser).",
    source="https://github.com/ggml-org/llama.cpp/issues/11607 (--reasoning-format none); vLLM without "
    "--reasoning-parser: https://github.com/triton-inference-server/perf_analyzer/issues/433",
    target="response",
    expect=("CC218",),
    needs=_REASONING,
)
def think_tags_in_content(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for message in _messages(out):
        reasoning, answer = _split(message, ctx.dialect)
        if reasoning is None:
            continue
        message.pop("reasoning_content", None)
        message["content"] = f"<think>\n{reasoning}\n</think>\n\n{answer}"
        changed = True
    return changed


@fault(
    "reasoning-foreign-field",
    "The reasoning travels in the other convention's field: reasoning_content in a Mistral message, Mistral's "
    "thinking chunks in an OpenAI content.",
    source="https://github.com/vercel/ai/issues/8012 (Magistral's chunk list in an OpenAI-style answer); "
    "https://github.com/vllm-project/vllm/issues/27755 (reasoning_content vs reasoning)",
    target="response",
    expect={"mistral": ("CC220",), "openai": ("CC220", "CC102")},
    needs=_REASONING,
)
def reasoning_foreign_field(out: Outgoing, ctx: FaultContext) -> bool:
    changed = False
    for message in _messages(out):
        reasoning, answer = _split(message, ctx.dialect)
        if reasoning is None:
            continue
        if ctx.dialect == "mistral":
            message["content"] = answer
            message["reasoning_content"] = reasoning
        else:
            message.pop("reasoning_content", None)
            thinking = {"type": "thinking", "thinking": [{"type": "text", "text": reasoning}]}
            message["content"] = [thinking, {"type": "text", "text": answer}]
        changed = True
    return changed


@fault(
    "reasoning-tokens-over-completion",
    "usage.completion_tokens_details.reasoning_tokens is larger than completion_tokens (reasoning counted apart).",
    source="https://github.com/langfuse/langfuse/issues/14987 (109 > 102); "
    "https://github.com/router-for-me/CLIProxyAPI/issues/5733",
    target="response",
    expect={"openai": ("CC217",)},
    needs=_REASONING,
)
def reasoning_tokens_over_completion(out: Outgoing, ctx: FaultContext) -> bool:
    usage = out.doc.get("usage") if isinstance(out.doc, dict) else None
    if not isinstance(usage, dict):
        return False
    details, completion = usage.get("completion_tokens_details"), usage.get("completion_tokens")
    if not isinstance(details, dict) or not isinstance(completion, int):
        return False
    details["reasoning_tokens"] = completion + ctx.rng.randint(1, 9)
    return True


def _reasoning_events(out: Outgoing) -> list[int]:
    """Positions of the stream events that carry choice 0's reasoning."""
    found = []
    for pos, event in enumerate(out.events):
        if not isinstance(event, dict):
            continue
        for c in choices_of(event):
            delta = c.get("delta") if c.get("index") == 0 else None
            if not isinstance(delta, dict):
                continue
            content = delta.get("content")
            if "reasoning_content" in delta or (isinstance(content, list) and any(map(is_thinking_chunk, content))):
                found.append(pos)
    return found


def _answer_events(out: Outgoing) -> list[int]:
    """Positions of the stream events that carry choice 0's answer text."""
    found = []
    for pos, event in enumerate(out.events):
        if isinstance(event, dict):
            for c in choices_of(event):
                delta = c.get("delta")
                if c.get("index") == 0 and isinstance(delta, dict) and isinstance(delta.get("content"), str):
                    if delta["content"]:
                        found.append(pos)
    return found


@fault(
    "stream-think-tags-in-content",
    "The streamed reasoning arrives as content deltas between <think> tags (no reasoning parser).",
    source="https://github.com/ggml-org/llama.cpp/issues/23320 (think tags in streamed content); "
    "https://github.com/madroidmaq/mlx-omni-server/issues/114",
    target="stream",
    expect=("CC218",),
    needs=_STREAM_REASONING,
)
def stream_think_tags(out: Outgoing, ctx: FaultContext) -> bool:
    positions = _reasoning_events(out)
    if not positions:
        return False
    for k, pos in enumerate(positions):
        event = out.events[pos]
        assert isinstance(event, dict)
        for c in choices_of(event):
            delta = c["delta"]
            if c.get("index") != 0:
                continue
            if ctx.dialect == "openai":
                text = delta.pop("reasoning_content")
            else:
                text = "".join(t["text"] for chunk in delta["content"] for t in chunk["thinking"])
            prefix = "<think>\n" if k == 0 else ""
            suffix = "\n</think>\n\n" if k == len(positions) - 1 else ""
            delta["content"] = prefix + text + suffix
    return True


@fault(
    "stream-reasoning-after-content",
    "A reasoning delta arrives after the answer has started (a parser that mis-splits the end of a think block).",
    source="https://github.com/NousResearch/hermes-agent/issues/69786; "
    "https://github.com/HenriGrimm/Minnow/issues/957 (think -> prose -> think)",
    target="stream",
    expect=("CC321",),
    needs=_STREAM_REASONING,
)
def stream_reasoning_after_content(out: Outgoing, ctx: FaultContext) -> bool:
    reasoning, answer = _reasoning_events(out), _answer_events(out)
    if not reasoning or not answer:
        return False
    event = out.events.pop(reasoning[-1])
    out.events.insert(answer[0], event)  # the answer's first event moved up by one: this lands right after it
    return True


@fault(
    "stream-reasoning-after-finish",
    "A reasoning delta arrives after the choice's finish_reason.",
    source="https://github.com/BerriAI/litellm/issues/20246 (streamed reasoning deltas mishandled by proxies)",
    target="stream",
    expect=("CC322",),
    needs=_STREAM_REASONING,
)
def stream_reasoning_after_finish(out: Outgoing, ctx: FaultContext) -> bool:
    at = finish_position(out, 0)
    if at is None or not _reasoning_events(out):
        return False
    finish = out.events[at]
    assert isinstance(finish, dict)
    if ctx.dialect == "openai":
        delta: dict[str, Any] = {"reasoning_content": " Done."}
    else:
        delta = {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": " Done."}]}]}
    out.events.insert(at + 1, sibling(finish, [new_choice(ctx, 0, delta, None)]))
    return True
