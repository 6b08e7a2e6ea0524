"""CC2xx: consistency within one response (usage arithmetic, indices, finish_reason vs tool calls, ids)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ..violations import Severity
from ._registry import Hit, RuleContext, hit, rule
from ._util import NotJSON, as_int, choices, loads_object, tool_calls

_TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _usage(doc: Any) -> dict[str, Any] | None:
    usage = doc.get("usage") if isinstance(doc, dict) else None
    return usage if isinstance(usage, dict) else None


def _counts(doc: Any) -> tuple[int | None, int | None, int | None] | None:
    """``usage``'s prompt, completion and total token counts, each None unless a JSON integer; None without usage."""
    usage = _usage(doc)
    if usage is None:
        return None
    return as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens")), as_int(usage.get("total_tokens"))


@rule("CC201", "usage-total-mismatch", severity=Severity.WARNING)
def usage_total_mismatch(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``usage.total_tokens`` equals ``prompt_tokens + completion_tokens``.

    Why is this bad?
        Billing and budget code adds the parts or trusts the total; when they disagree, one of them is wrong.
        This is a warning because some providers break the sum legitimately: reasoning tokens counted outside
        ``completion_tokens`` (Gemini-compatible endpoints, Clarifai), cached or cache-write tokens added to the
        total (Bedrock). A total *below* one of its parts is never legitimate: see CC203.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 20, "completion_tokens": 424, "total_tokens": 1016}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 20, "completion_tokens": 424, "total_tokens": 444}}
        ```

    Options:
        Ignore it for providers that count reasoning or cache tokens apart: ``per-provider-ignores``.

    References:
        - Mistral OpenAPI document, UsageInfo; OpenAI OpenAPI, CompletionUsage
    """
    counts = _counts(doc)
    if counts is None:
        return
    p, c, t = counts
    if p is None or c is None or t is None or t == p + c or t < max(p, c):
        return  # a total below one of its parts is CC203's (an error), not this warning
    yield hit(
        ("usage", "total_tokens"),
        f"total_tokens is {t} but prompt_tokens + completion_tokens is {p + c}.",
        t,
        p + c,
    )


@rule("CC202", "negative-token-count")
def negative_token_count(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        No token count in ``usage`` (or its details objects) is negative.

    Why is this bad?
        A negative count is always a bug (an underflow in the server's accounting); it turns cost estimates negative.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": -1, "completion_tokens": 5, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6}}
        ```

    References:
        - Mistral OpenAPI document, UsageInfo
    """
    usage = _usage(doc)
    if usage is None:
        return
    for key, value in usage.items():
        if type(value) is int:  # noqa: E721
            if value < 0:
                yield hit(("usage", key), f"{key} is {value}; token counts cannot be negative.", value)
        elif isinstance(value, dict):
            for sub, v in value.items():
                if (m := as_int(v)) is not None and m < 0:
                    yield hit(("usage", key, sub), f"{key}.{sub} is {m}; token counts cannot be negative.", m)


@rule("CC203", "usage-total-below-parts")
def usage_total_below_parts(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``usage.total_tokens`` is not smaller than ``prompt_tokens`` or ``completion_tokens``.

    Why is this bad?
        Unlike a plain mismatch (CC201), no accounting scheme makes the total smaller than a part: a Bedrock bridge
        sent ``{"prompt_tokens": 1066, "total_tokens": 103}`` and Dify logged the wrong costs.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1066, "completion_tokens": 0, "total_tokens": 103}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1066, "completion_tokens": 103, "total_tokens": 1169}}
        ```
    """
    counts = _counts(doc)
    if counts is None:
        return
    p, c, t = counts
    if t is None:
        return
    part = max((x for x in (p, c) if x is not None), default=None)
    if part is not None and t < part:
        yield hit(("usage", "total_tokens"), f"total_tokens is {t}, smaller than one of its parts ({part}).", t)


@rule("CC204", "choice-index-invalid")
def choice_index_invalid(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Choice indices are unique and run from 0 to n-1.

    Why is this bad?
        Clients store choices by ``index`` (streams merge deltas by it); duplicates overwrite each other and gaps
        leave holes.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 1, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    items = choices(doc)
    seen: set[int] = set()
    n = len(doc.get("choices", [])) if isinstance(doc, dict) and isinstance(doc.get("choices"), list) else 0
    for pos, choice in items:
        idx = as_int(choice.get("index"))
        if idx is None:
            continue
        if idx in seen:
            yield hit(("choices", pos, "index"), f"Choice index {idx} appears more than once.", idx)
        elif not 0 <= idx < n:
            yield hit(("choices", pos, "index"), f"Choice index {idx} is outside 0..{n - 1} for {n} choices.", idx)
        seen.add(idx)


@rule("CC205", "tool-calls-finish-without-calls")
def tool_calls_finish_without_calls(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A choice with ``finish_reason: "tool_calls"`` carries at least one tool call.

    Why is this bad?
        Agent loops see ``tool_calls`` and go looking for calls to run; LocalAI sent the reason with no
        ``tool_calls`` array and clients crashed on ``None``.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - mudler/LocalAI#6243
    """
    with_calls = {pos for pos, _, _ in tool_calls(doc)}
    for pos, choice in choices(doc):
        if choice.get("finish_reason") == "tool_calls" and pos not in with_calls:
            yield hit(
                ("choices", pos, "finish_reason"),
                "finish_reason is 'tool_calls' but the message has no tool calls.",
                "tool_calls",
            )


@rule("CC206", "tool-calls-with-stop-finish-reason", severity=Severity.WARNING)
def tool_calls_with_stop(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A choice whose message has tool calls finishes with ``tool_calls``, not ``stop``.

    Why is this bad?
        Clients that branch on ``finish_reason`` skip the calls. It is a warning because OpenAI itself does this
        (gpt-4o-mini with a named ``tool_choice``), as do SGLang, OpenVINO, MLX and LiteLLM's mocks.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - openai/openai-dotnet#64; sgl-project/sglang#2877
    """
    calls = tool_calls(doc)
    if not calls:
        return
    with_calls = {pos for pos, _, _ in calls}
    for pos, choice in choices(doc):
        if choice.get("finish_reason") == "stop" and pos in with_calls:
            yield hit(
                ("choices", pos, "finish_reason"),
                "finish_reason is 'stop' although the message has tool calls; expected 'tool_calls'.",
                "stop",
                "tool_calls",
            )


def arguments_hits(arguments: Any, loc: tuple[str | int, ...], dialect: str) -> Iterator[Hit]:
    """Shared by responses and assembled streams: arguments must be a JSON object (or its JSON text)."""
    if isinstance(arguments, dict):
        return  # Mistral allows an object; OpenAI's schema (CC102) reports it
    if not isinstance(arguments, str):
        return
    try:
        parsed = loads_object(arguments)
    except NotJSON as exc:
        yield hit(loc, f"Tool-call arguments are not valid JSON ({exc}).", arguments)
        return
    if not isinstance(parsed, dict):
        from ..inputs import json_type

        yield hit(loc, f"Tool-call arguments parse as a JSON {json_type(parsed)}; expected an object.", arguments)


@rule("CC207", "tool-arguments-not-json-object")
def tool_arguments_not_json_object(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Every ``function.arguments`` is a JSON object encoded as a string (Mistral also allows the object itself).

    Why is this bad?
        Agents ``json.loads`` the arguments and pass them as keyword arguments. vLLM returned ``"你好"``,
        llama.cpp returns JSON cut off at ``max_tokens``, and LangChain met arrays.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{\\"city\\": \\"Par"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - vllm-project/vllm#13078; ggml-org/llama.cpp#22072; langchain-ai/langchain#35997
    """
    for pos, tpos, call in tool_calls(doc):
        fn = call.get("function")
        if isinstance(fn, dict) and "arguments" in fn:
            loc = ("choices", pos, "message", "tool_calls", tpos, "function", "arguments")
            yield from arguments_hits(fn["arguments"], loc, ctx.dialect)


@rule("CC208", "duplicate-tool-call-id")
def duplicate_tool_call_id(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Tool-call ids are unique within a message.

    Why is this bad?
        Tool results are matched back to calls by ``tool_call_id``; two calls with one id make the answer ambiguous.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}, {"id": "D681PevKs", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}, {"id": "Xq2bT9wLm", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    seen: set[tuple[int, str]] = set()
    for pos, tpos, call in tool_calls(doc):
        cid = call.get("id")
        if isinstance(cid, str) and cid:
            if (pos, cid) in seen:
                yield hit(
                    ("choices", pos, "message", "tool_calls", tpos, "id"),
                    f"Tool-call id {cid!r} is used twice in one message.",
                    cid,
                )
            seen.add((pos, cid))


_YEAR = 365 * 24 * 3600


def created_hits(value: Any, loc: tuple[str | int, ...]) -> Iterator[Hit]:
    """Shared by responses and stream chunks: ``created`` is a plausible Unix time in seconds."""
    created = as_int(value)
    if created is None:
        return
    now = int(time.time())
    if created < 0:
        yield hit(loc, f"created is {created}; a Unix time cannot be negative.", created)
    elif created > 1_000_000_000_000:
        yield hit(loc, f"created is {created}, which looks like milliseconds; expected seconds.", created)
    elif created > now + _YEAR:
        yield hit(loc, f"created is {created}, more than a year in the future.", created)
    elif created < 1_000_000_000:
        yield hit(loc, f"created is {created}, before 2001; expected the Unix time of the response.", created)


@rule("CC209", "implausible-created")
def implausible_created(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``created`` is a plausible Unix time in seconds: not negative, not milliseconds, not years ahead.

    Why is this bad?
        AnythingLLM sent milliseconds (``1736423701225``): clients that render the date show the year 56999.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1736423701225, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1736423701, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - etkecc/baibot#25
    """
    if isinstance(doc, dict):
        yield from created_hits(doc.get("created"), ("created",))


@rule("CC210", "empty-id")
def empty_id(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        The response ``id`` is a non-empty string.

    Why is this bad?
        Logs, caches and tracing key on the id; an empty one collides with every other empty one.

    Example:
        ```json
        {"id": "", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    if isinstance(doc, dict) and isinstance(doc.get("id"), str) and not doc["id"].strip():
        yield hit(("id",), "id is empty.", doc["id"])


@rule("CC211", "empty-model")
def empty_model(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``model`` names the model that answered: a non-empty string.

    Why is this bad?
        Cost accounting and routing read it; vLLM once echoed ``model: ""``.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "mistral-small-latest", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - vllm-project/vllm#9601
    """
    if isinstance(doc, dict) and isinstance(doc.get("model"), str) and not doc["model"].strip():
        yield hit(("model",), "model is empty.", doc["model"])


@rule("CC212", "unexpected-object-value", severity=Severity.WARNING, dialects=("mistral",))
def unexpected_object_value(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``object`` is ``"chat.completion"``. Mistral's document leaves it a free string, so this is a warning
        there; the OpenAI contract makes it a constant (reported as CC103).

    Why is this bad?
        Clients that handle several object types dispatch on it (Azure sent other values in streams).

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completions", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    if isinstance(doc, dict) and isinstance(doc.get("object"), str) and doc["object"] != "chat.completion":
        yield hit(("object",), f"object is {doc['object']!r}; expected 'chat.completion'.", doc["object"])


@rule("CC213", "choice-without-message", dialects=("mistral",))
def choice_without_message(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Every choice has a ``message`` (or Mistral's ``messages`` list). Mistral's document makes both optional;
        OpenAI's requires ``message`` (reported as CC101 there).

    Why is this bad?
        A choice without a message has no answer in it; clients read ``choices[0].message.content`` blindly.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    for pos, choice in choices(doc):
        if choice.get("message") is None and not choice.get("messages"):
            yield hit(("choices", pos), "Choice has neither message nor messages.", None)


@rule("CC214", "empty-choices")
def empty_choices(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A (non-stream) response has at least one choice.

    Why is this bad?
        ``choices[0]`` raises an IndexError in every client; neither document forbids an empty list, but a
        completion without an answer is not a completion.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    if isinstance(doc, dict) and doc.get("choices") == []:
        yield hit(("choices",), "choices is empty; expected at least one choice.", [])


@rule("CC215", "empty-tool-call-id")
def empty_tool_call_id(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Every tool call has a non-empty ``id``.

    Why is this bad?
        The tool result must name the call it answers; ``"id": ""`` (seen from Gemini's compatible endpoint via
        vercel/ai#6663) makes the follow-up request fail.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    for pos, tpos, call in tool_calls(doc):
        if isinstance(call.get("id"), str) and not call["id"].strip():
            yield hit(("choices", pos, "message", "tool_calls", tpos, "id"), "Tool-call id is empty.", "")


@rule("CC216", "tool-call-id-not-mistral-format", severity=Severity.WARNING, dialects=("mistral",))
def tool_call_id_format(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Tool-call ids are nine ASCII letters or digits, the shape Mistral's API issues and accepts back.

    Why is this bad?
        When the conversation is sent back to Mistral, other ids are rejected (LangChain, opencode and MLX hit
        this with ids from other providers or templates). A warning: the document itself does not constrain ids.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "call_abc-123", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - langchain-ai/langchain#24668
    """
    for pos, tpos, call in tool_calls(doc):
        cid = call.get("id")
        if isinstance(cid, str) and cid.strip() and not (len(cid) == 9 and cid.isascii() and cid.isalnum()):
            yield hit(
                ("choices", pos, "message", "tool_calls", tpos, "id"),
                f"Tool-call id {cid!r} is not 9 ASCII letters or digits.",
                cid,
            )
