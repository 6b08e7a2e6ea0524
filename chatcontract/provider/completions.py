"""What the reference provider answers: a :class:`Completion` planned from a (valid) request, rendered per dialect.

Planning decides, per choice, text or tool calls, honouring ``n``, ``max_tokens`` (OpenAI: ``max_completion_tokens``
first), ``stop``, ``tools``/``tool_choice`` and ``response_format``. Rendering turns the plan into the dialect's
non-stream document or its list of stream chunks; the same plan gives the same content either way.

Reasoning: :data:`REASONING_MODEL` always reasons, any model reasons when the request asks for it
(``reasoning_effort``, Mistral's ``prompt_mode: "reasoning"``), and none does when the request turns it off
(``reasoning_effort: "none"``). The reasoning comes before the answer, in the dialect's style: Mistral's thinking
chunk in ``content`` (streamed as thinking chunk deltas), OpenAI-compatible ``reasoning_content`` (DeepSeek's
convention; streamed as ``delta.reasoning_content``) with ``usage.completion_tokens_details.reasoning_tokens``.
Its tokens count in the completion and share ``max_tokens`` with the answer.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..rules.reasoning import reasoning_disabled, reasoning_requested
from . import generate as gen

__all__ = [
    "REASONING_MODEL",
    "Call",
    "Choice",
    "Completion",
    "Event",
    "callable_tools",
    "plan",
    "render_response",
    "render_stream",
    "text_of",
]

#: The model that always reasons (any model reasons when the request asks for it).
REASONING_MODEL = "ref-reasoner"

#: A stream event: a chunk document (sent as ``data: <json>``) or raw SSE text sent as is.
Event = dict[str, Any] | str
DONE = "data: [DONE]\n\n"
FINGERPRINT = "fp_c0ffee0001"
_JSON_OBJECT_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1}},
    "required": ["answer"],
}


@dataclass
class Call:
    """One function tool call."""

    id: str
    name: str
    arguments: str


@dataclass
class Choice:
    """One planned choice: text (``content``) or tool calls, and why it finished."""

    index: int
    content: str | None
    calls: list[Call] = field(default_factory=list)
    finish_reason: str = "stop"
    #: Tokens spent without showing (a forced tool call cut off by max_tokens is dropped, its tokens still count).
    hidden: int = 0
    #: The reasoning text before the answer (None: the choice does not reason).
    reasoning: str | None = None

    @property
    def reasoning_tokens(self) -> int:
        """Tokens of the reasoning text."""
        return gen.count_tokens(self.reasoning or "")

    @property
    def tokens(self) -> int:
        """Completion tokens of this choice (reasoning, content, tool names and arguments, hidden tokens)."""
        return (
            self.hidden
            + self.reasoning_tokens
            + gen.count_tokens(self.content or "")
            + sum(gen.count_tokens(c.name) + gen.count_tokens(c.arguments) for c in self.calls)
        )


@dataclass
class Completion:
    """A planned chat completion."""

    dialect: str
    id: str
    model: str
    created: int
    prompt_tokens: int
    choices: list[Choice]
    include_usage: bool = False
    top_logprobs: int | None = None  # None: logprobs not requested

    @property
    def completion_tokens(self) -> int:
        """Completion tokens over all choices."""
        return sum(c.tokens for c in self.choices)

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens over all choices (part of :attr:`completion_tokens`)."""
        return sum(c.reasoning_tokens for c in self.choices)


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or its text chunks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return ""


def prompt_tokens(request: Mapping[str, Any]) -> int:
    """Prompt tokens: one to start, one per message plus its text and tool calls, plus tools and schema."""
    total = 1
    for m in request.get("messages") or ():
        if isinstance(m, Mapping):
            total += 1 + gen.count_tokens(text_of(m.get("content")))
            total += sum(gen.count_tokens(json.dumps(c)) for c in m.get("tool_calls") or ())
    for key in ("tools", "response_format"):
        if request.get(key):
            total += gen.count_tokens(json.dumps(request[key]))
    return total


def callable_tools(request: Mapping[str, Any]) -> dict[str, Any]:
    """Declared function tools by name, with their parameters schema (``{}`` when absent)."""
    out: dict[str, Any] = {}
    for t in request.get("tools") or ():
        fn = t.get("function") if isinstance(t, Mapping) and t.get("type", "function") == "function" else None
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            params = fn.get("parameters")
            out[fn["name"]] = params if isinstance(params, Mapping) else {"type": "object", "properties": {}}
    return out


def tool_mode(request: Mapping[str, Any], tools: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``(mode, candidate names)``; mode is none, auto, required or named."""
    tc = request.get("tool_choice")
    names = list(tools)
    if isinstance(tc, Mapping):
        if tc.get("type") == "allowed_tools" and isinstance(tc.get("allowed_tools"), Mapping):
            allowed = tc["allowed_tools"]
            wanted = {
                (t.get("function") or {}).get("name") for t in allowed.get("tools") or () if isinstance(t, Mapping)
            }
            names = [n for n in names if n in wanted]
            return ("required" if allowed.get("mode") == "required" else "auto"), names
        fn = tc.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return "named", [fn["name"]]
    if tc in ("none", "auto", "required"):
        return str(tc), names
    if tc == "any":
        return "required", names
    return "auto", names


def _max_tokens(request: Mapping[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = request.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _stops(request: Mapping[str, Any]) -> list[str]:
    stop = request.get("stop")
    items = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    return [s for s in items if isinstance(s, str) and s]


def _response_schema(request: Mapping[str, Any]) -> Any:
    rf = request.get("response_format")
    if not isinstance(rf, Mapping) or rf.get("type") not in ("json_object", "json_schema"):
        return None
    js = rf.get("json_schema")
    schema = js.get("schema") if isinstance(js, Mapping) else None
    return schema if isinstance(schema, Mapping) else _JSON_OBJECT_SCHEMA


def _text_choice(index: int, rng: random.Random, request: Mapping[str, Any], limit: int | None) -> Choice:
    schema = _response_schema(request)
    stops = _stops(request)
    if schema is not None:
        body = json.dumps(gen.instance_for(schema, rng, banned=stops), ensure_ascii=False)
    else:
        body = gen.text(rng, rng.randint(6, 40))
    body, _ = gen.cut_at_stop(body, stops)
    if limit is not None and gen.count_tokens(body) > limit:
        return Choice(index, gen.truncate_tokens(body, limit), finish_reason="length")
    return Choice(index, body)


def _call_choice(
    index: int, rng: random.Random, dialect: str, tools: Mapping[str, Any], names: Sequence[str], parallel: bool
) -> tuple[Choice, Choice]:
    """The full and the minimal version of a tool-call choice (the minimal one is tried when over the limit)."""
    count = 2 if parallel and len(names) > 1 and rng.random() < 0.3 else 1
    picked = rng.sample(list(names), count)
    ids = [gen.mistral_tool_call_id(rng) if dialect == "mistral" else gen.openai_tool_call_id(rng) for _ in picked]
    choices = []
    for minimal in (False, True):
        calls = [
            Call(i, n, json.dumps(gen.instance_for(tools[n], rng, minimal=minimal), ensure_ascii=False))
            for i, n in zip(ids, picked, strict=True)
        ]
        choices.append(Choice(index, "" if dialect == "mistral" else None, calls, "tool_calls"))
    return choices[0], choices[1]


def plan(request: Mapping[str, Any], *, dialect: str, rng: random.Random, created: int) -> Completion:
    """Plan the completion of a valid ``request``."""
    tools = callable_tools(request)
    mode, names = tool_mode(request, tools)
    limit = _max_tokens(request)
    n = request.get("n")
    count = n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1
    parallel = request.get("parallel_tool_calls", True) is not False
    reasons = reasoning_disabled(request) is None and (
        request.get("model") == REASONING_MODEL or reasoning_requested(request) is not None
    )
    full_limit = limit
    choices = []
    for index in range(count):
        reasoning = None
        limit = full_limit
        if reasons:
            reasoning = gen.text(rng, rng.randint(4, 16))
            if limit is not None:  # the reasoning gets half of the budget (at least one token), the answer the rest
                reasoning = gen.truncate_tokens(reasoning, min(limit, max(1, limit // 2)))
                limit -= gen.count_tokens(reasoning)
            reasoning = reasoning or None
        wants_call = bool(names) and (mode in ("required", "named") or (mode == "auto" and rng.random() < 0.5))
        choice = None
        if wants_call:
            for candidate in _call_choice(index, rng, dialect, tools, names, parallel):
                if limit is None or candidate.tokens <= limit:
                    choice = candidate
                    break
            if choice is None and mode != "auto":  # the forced call did not fit: cut off, nothing to show
                assert limit is not None
                choice = Choice(index, "" if dialect == "mistral" else None, finish_reason="length", hidden=limit)
        choice = choice or _text_choice(index, rng, request, limit)
        choice.reasoning = reasoning
        choices.append(choice)
    so = request.get("stream_options")
    top = request.get("top_logprobs")
    return Completion(
        dialect=dialect,
        id=gen.mistral_completion_id(rng) if dialect == "mistral" else gen.openai_completion_id(rng),
        model=str(request.get("model")),
        created=created,
        prompt_tokens=prompt_tokens(request),
        choices=choices,
        include_usage=isinstance(so, Mapping) and so.get("include_usage") is True,
        top_logprobs=(top if isinstance(top, int) else 0) if dialect == "openai" and request.get("logprobs") else None,
    )


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def usage(c: Completion) -> dict[str, Any]:
    """The dialect's usage object."""
    done = c.completion_tokens
    out: dict[str, Any] = {
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": done,
        "total_tokens": c.prompt_tokens + done,
    }
    if c.dialect == "openai":
        out["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        out["completion_tokens_details"] = {
            "reasoning_tokens": c.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
    return out


def _logprob_entries(pieces: Sequence[str], top: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for piece in pieces:
        lp = round(-rng.random() * 2, 6)
        alternatives = [(piece, lp)] + [(" " + rng.choice(gen.WORDS), round(lp - 1 - i, 6)) for i in range(top)]
        out.append(
            {
                "token": piece,
                "logprob": lp,
                "bytes": list(piece.encode()),
                "top_logprobs": [{"token": t, "logprob": v, "bytes": list(t.encode())} for t, v in alternatives[:top]],
            }
        )
    return out


def _tool_call(c: Completion, call: Call, position: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if c.dialect == "mistral":
        doc["index"] = position
    return doc


def render_response(c: Completion, rng: random.Random) -> dict[str, Any]:
    """The dialect's non-stream chat completion document."""
    choices = []
    for ch in c.choices:
        calls = [_tool_call(c, call, i) for i, call in enumerate(ch.calls)]
        if c.dialect == "mistral":
            content: Any = ch.content
            if ch.reasoning is not None:  # Magistral: the thinking chunk, then the answer as a text chunk
                content = [_thinking(ch.reasoning)] + ([{"type": "text", "text": ch.content}] if ch.content else [])
            message: dict[str, Any] = {"role": "assistant", "content": content, "tool_calls": calls or None}
            message["prefix"] = False
            choices.append({"index": ch.index, "message": message, "finish_reason": ch.finish_reason})
            continue
        message = {"role": "assistant", "content": ch.content, "refusal": None, "annotations": []}
        if ch.reasoning is not None:
            message["reasoning_content"] = ch.reasoning
        if calls:
            message["tool_calls"] = calls
        logprobs = None
        if c.top_logprobs is not None:
            entries = _logprob_entries(gen.token_pieces(ch.content or ""), c.top_logprobs, rng)
            logprobs = {"content": entries if ch.content is not None else None, "refusal": None}
        choices.append({"index": ch.index, "message": message, "logprobs": logprobs, "finish_reason": ch.finish_reason})
    doc: dict[str, Any] = {"id": c.id, "object": "chat.completion", "created": c.created, "model": c.model}
    doc["choices"] = choices
    doc["usage"] = usage(c)
    if c.dialect == "openai":
        doc["service_tier"] = "default"
        doc["system_fingerprint"] = FINGERPRINT
    return doc


def _thinking(text: str) -> dict[str, Any]:
    """Mistral's thinking content chunk (``ThinkChunk``) holding ``text``."""
    return {"type": "thinking", "thinking": [{"type": "text", "text": text}]}


def _reasoning_steps(c: Completion, ch: Choice, rng: random.Random) -> list[tuple[dict[str, Any], str | None, Any]]:
    """The reasoning deltas of a choice: thinking chunks (Mistral) or ``reasoning_content`` pieces."""
    steps: list[tuple[dict[str, Any], str | None, Any]] = []
    for group in _groups(gen.token_pieces(ch.reasoning or ""), rng):
        piece = "".join(group)
        delta = {"content": [_thinking(piece)]} if c.dialect == "mistral" else {"reasoning_content": piece}
        steps.append((delta, None, None))
    return steps


def _groups(pieces: Sequence[str], rng: random.Random) -> list[list[str]]:
    out: list[list[str]] = []
    i = 0
    while i < len(pieces):
        size = rng.randint(1, 3)
        out.append(list(pieces[i : i + size]))
        i += size
    return out


def _steps(c: Completion, ch: Choice, rng: random.Random) -> list[tuple[dict[str, Any], str | None, Any]]:
    """``(delta, finish_reason, logprobs)`` for one choice, in order; the last step carries the finish reason.

    The reasoning deltas come right after the first (role) delta, before the answer.
    """
    steps = _answer_steps(c, ch, rng)
    if ch.reasoning is not None:
        steps[1:1] = _reasoning_steps(c, ch, rng)
    return steps


def _answer_steps(c: Completion, ch: Choice, rng: random.Random) -> list[tuple[dict[str, Any], str | None, Any]]:
    mistral = c.dialect == "mistral"
    steps: list[tuple[dict[str, Any], str | None, Any]] = []
    if ch.calls and mistral:
        calls = [_tool_call(c, call, i) for i, call in enumerate(ch.calls)]
        return [({"role": "assistant", "content": ""}, None, None), ({"tool_calls": calls}, ch.finish_reason, None)]
    if ch.calls:
        for pos, call in enumerate(ch.calls):
            head = {"index": pos, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            delta: dict[str, Any] = {"tool_calls": [head]}
            if pos == 0:
                delta = {"role": "assistant", "content": None, "tool_calls": [head], "refusal": None}
            steps.append((delta, None, None))
            for group in _groups(gen.token_pieces(call.arguments), rng):
                fragment = {"index": pos, "function": {"arguments": "".join(group)}}
                steps.append(({"tool_calls": [fragment]}, None, None))
        steps.append(({}, ch.finish_reason, None))
        return steps
    steps.append(
        (
            {"role": "assistant", "content": ""} if mistral else {"role": "assistant", "content": "", "refusal": None},
            None,
            None,
        )
    )
    for group in _groups(gen.token_pieces(ch.content or ""), rng):
        logprobs = None
        if c.top_logprobs is not None:
            logprobs = {"content": _logprob_entries(group, c.top_logprobs, rng), "refusal": None}
        steps.append(({"content": "".join(group)}, None, logprobs))
    steps.append(({"content": ""} if mistral else {}, ch.finish_reason, None))
    return steps


def render_stream(c: Completion, rng: random.Random) -> list[Event]:
    """The dialect's stream: chunk documents (choices interleaved round-robin), then ``data: [DONE]``."""
    base: dict[str, Any] = {"id": c.id, "object": "chat.completion.chunk", "created": c.created, "model": c.model}
    if c.dialect == "openai":
        base["service_tier"] = "default"
        base["system_fingerprint"] = FINGERPRINT
    per_choice = [_steps(c, ch, rng) for ch in c.choices]
    events: list[Event] = []
    for k in range(max(len(s) for s in per_choice)):
        for ch, steps in zip(c.choices, per_choice, strict=True):
            if k >= len(steps):
                continue
            delta, finish, logprobs = steps[k]
            choice: dict[str, Any] = {"index": ch.index, "delta": delta}
            if c.dialect == "openai":
                choice["logprobs"] = logprobs
            choice["finish_reason"] = finish
            chunk = {**base, "choices": [choice]}
            if c.dialect == "openai" and c.include_usage:
                chunk["usage"] = None
            events.append(chunk)
    if c.dialect == "mistral":
        last = events[-1]
        assert isinstance(last, dict)
        last["usage"] = usage(c)
    elif c.include_usage:
        events.append({**base, "choices": [], "usage": usage(c)})
    events.append(DONE)
    return events
