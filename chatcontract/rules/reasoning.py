"""Reasoning and thinking: the rules for the part of the contract where compatible servers differ most.

The shapes in the wild, and where each rule family looks at them:

* Mistral (Magistral, ``reasoning_effort`` / ``prompt_mode: "reasoning"``): ``message.content`` is a list of
  chunks with ``{"type": "thinking", "thinking": [...]}`` before the text, streamed as chunk deltas (Mistral's
  published ``ThinkChunk``; validated by the dialect's contract, CC1xx).
* OpenAI: no reasoning text in chat completions; ``usage.completion_tokens_details.reasoning_tokens`` counts it.
* OpenAI-compatible servers: ``reasoning_content`` (DeepSeek, llama.cpp), ``reasoning`` (vLLM since 0.11,
  OpenRouter), ``reasoning_details`` (OpenRouter): the ``reasoning`` extension of the openai dialect
  (``chatcontract.contracts._reasoning``). Servers that do not parse reasoning leak ``<think>…</think>`` into
  ``content``.

CC217-CC220 judge one response (or an assembled stream), CC321/CC322 the order of a stream's deltas (emitted by
``chatcontract/streams.py`` through :func:`delta_reasoning`), CC412/CC413 a response against the request that
asked for reasoning or turned it off. The helpers here are shared by those rules, the stream checker and the
reference provider.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..violations import Severity
from ._registry import Hit, RuleContext, Target, declare, hit, rule
from ._util import as_int, choices, message_of, text_of

__all__ = [
    "REASONING_FIELDS",
    "THINK_CLOSE",
    "THINK_OPEN",
    "delta_reasoning",
    "has_reasoning",
    "is_thinking_chunk",
    "reasoning_disabled",
    "reasoning_requested",
    "think_markup",
    "wrong_type_hits",
]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
#: Keys of an OpenAI-compatible message or delta that carry reasoning text (string or null).
REASONING_FIELDS: tuple[str, ...] = ("reasoning_content", "reasoning")
_DETAILS = "reasoning_details"
_TRUNCATED = frozenset({"length", "model_length"})

# -- shared helpers ------------------------------------------------------------------------------------------


def is_thinking_chunk(chunk: Any) -> bool:
    """Whether ``chunk`` is a Mistral thinking content chunk (``{"type": "thinking", ...}``)."""
    return isinstance(chunk, dict) and chunk.get("type") == "thinking"


def _thinking_text(chunk: Mapping[str, Any]) -> str:
    inner = chunk.get("thinking")
    if isinstance(inner, str):
        return inner
    if isinstance(inner, list):
        return "".join(t["text"] for t in inner if isinstance(t, dict) and isinstance(t.get("text"), str))
    return ""


def has_reasoning(message: Mapping[str, Any] | None) -> bool:
    """Whether a message (or delta) carries any reasoning: a thinking chunk, reasoning text or details."""
    if message is None:
        return False
    content = message.get("content")
    if isinstance(content, list) and any(is_thinking_chunk(c) for c in content):
        return True
    for key in REASONING_FIELDS:
        value = message.get(key)
        if isinstance(value, str) and value or isinstance(value, list) and value:
            return True
    details = message.get(_DETAILS)
    return isinstance(details, list) and bool(details)


def think_markup(text: str) -> str | None:
    """``"unclosed"`` when ``text`` opens a think block it never closes, ``"leaked"`` for other think markup.

    A block at the start (``<think>…</think>answer``), an orphan ``</think>`` (the chat template opened the block,
    as DeepSeek-R1's does) and a closed pair later in the text are leaks; a lone ``<think>`` in the middle of
    prose is a mention, not markup, and is left alone.
    """
    if "think>" not in text:  # the common case, in one scan
        return None
    closes = THINK_CLOSE in text
    if text.lstrip().startswith(THINK_OPEN):
        return "leaked" if closes else "unclosed"
    return "leaked" if closes else None


def answer_text(text: str) -> str:
    """``text`` less the reasoning it leaked in think markup (CC218).

    What follows the block, or nothing while the block is still open: a suffix of ``text``, so that an offset in
    it is one in ``text`` once shifted by the length difference.
    """
    markup = think_markup(text)
    if markup is None:
        return text
    if markup == "unclosed":
        return ""
    close = text.index(THINK_CLOSE)
    opened = text.find(THINK_OPEN)
    if 0 <= opened < close and text[:opened].strip():
        return text  # a block after some answer text: not a prefix to leave out
    return text[close + len(THINK_CLOSE) :].lstrip()


def wrong_type_hits(message: Mapping[str, Any], loc: tuple[str | int, ...], ctx: RuleContext) -> Iterator[Hit]:
    """CC220's findings in one message or delta at ``loc`` (shared by the response rule and the stream checker)."""
    if ctx.dialect == "mistral":
        for key in REASONING_FIELDS:
            value = message.get(key)
            if value is not None:
                yield hit(
                    (*loc, key),
                    f"{key} is the OpenAI-compatible reasoning field; a Mistral message carries its reasoning as a "
                    '{"type": "thinking"} chunk in content.',
                    value,
                    "a thinking chunk in content",
                )
        return
    content = message.get("content")
    if isinstance(content, list):
        for i, chunk in enumerate(content):
            if is_thinking_chunk(chunk):
                yield hit(
                    (*loc, "content", i),
                    "A Mistral thinking chunk in an OpenAI content, which is a string: OpenAI-compatible servers "
                    "carry reasoning text in reasoning_content or reasoning.",
                    chunk,
                    "a string in reasoning_content or reasoning",
                )
    if "reasoning" not in ctx.contracts.extensions:
        return  # without the extension the fields are not in the contract, as in OpenAI's published one
    for key in REASONING_FIELDS:
        value = message.get(key)
        if value is not None and not isinstance(value, str):
            shape = "a list of chunks (Mistral's thinking shape)" if isinstance(value, list) else _kind(value)
            yield hit((*loc, key), f"{key} is {shape}; expected a string or null.", value, "string or null")
    details = message.get(_DETAILS)
    if details is not None and not (isinstance(details, list) and all(isinstance(d, dict) for d in details)):
        yield hit(
            (*loc, _DETAILS),
            f"{_DETAILS} is {_kind(details)}; expected a list of objects (OpenRouter's reasoning blocks).",
            details,
            "list of objects",
        )


def _kind(value: Any) -> str:
    from ..inputs import json_type

    return f"a JSON {json_type(value)}"


def delta_reasoning(delta: Mapping[str, Any]) -> tuple[dict[str, str], bool]:
    """The reasoning a stream delta carries: ``({field: text}, has_thinking_chunk)``.

    ``field`` is ``reasoning_content`` / ``reasoning`` for string pieces; Mistral thinking chunks stay in the
    content list (the assembly keeps them there) and are reported by the flag.
    """
    texts: dict[str, str] = {}
    for key in REASONING_FIELDS:
        value = delta.get(key)
        if isinstance(value, str) and value:
            texts[key] = value
    content = delta.get("content")
    thinking = isinstance(content, list) and any(is_thinking_chunk(c) for c in content)
    return texts, thinking or bool(delta.get(_DETAILS))


def reasoning_requested(req: Mapping[str, Any]) -> str | None:
    """The request field that asked for reasoning (``reasoning_effort: "high"``...), or None.

    None as well when another field turns reasoning off (:func:`reasoning_disabled` wins).
    """
    if reasoning_disabled(req) is not None:
        return None
    effort = req.get("reasoning_effort")
    if isinstance(effort, str) and effort != "none":
        return f"reasoning_effort: {effort!r}"
    if req.get("prompt_mode") == "reasoning":
        return "prompt_mode: 'reasoning'"
    opts = req.get("reasoning")  # OpenRouter
    if isinstance(opts, dict) and not opts.get("exclude") and opts.get("enabled") is not False:
        if opts.get("enabled") is True or (isinstance(opts.get("effort"), str) and opts["effort"] != "none"):
            return "reasoning.enabled" if opts.get("enabled") is True else f"reasoning.effort: {opts['effort']!r}"
    thinking = req.get("thinking")  # DeepSeek
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        return "thinking.type: 'enabled'"
    kwargs = req.get("chat_template_kwargs")  # vLLM / SGLang with Qwen3-style templates
    if isinstance(kwargs, dict) and kwargs.get("enable_thinking") is True:
        return "chat_template_kwargs.enable_thinking: true"
    return None


def reasoning_disabled(req: Mapping[str, Any]) -> str | None:
    """The request field that turned reasoning (or returning it) off, or None."""
    if req.get("reasoning_effort") == "none":
        return "reasoning_effort: 'none'"
    opts = req.get("reasoning")
    if isinstance(opts, dict):
        if opts.get("exclude") is True:
            return "reasoning.exclude: true"
        if opts.get("enabled") is False or opts.get("effort") == "none":
            return "reasoning.enabled: false" if opts.get("enabled") is False else "reasoning.effort: 'none'"
    thinking = req.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "disabled":
        return "thinking.type: 'disabled'"
    kwargs = req.get("chat_template_kwargs")
    if isinstance(kwargs, dict) and kwargs.get("enable_thinking") is False:
        return "chat_template_kwargs.enable_thinking: false"
    return None


def _reasoning_tokens(doc: Any) -> int | None:
    usage = doc.get("usage") if isinstance(doc, dict) else None
    details = usage.get("completion_tokens_details") if isinstance(usage, dict) else None
    return as_int(details.get("reasoning_tokens")) if isinstance(details, dict) else None


# -- CC2xx: one response ------------------------------------------------------------------------------------


@rule("CC217", "reasoning-tokens-exceed-completion", severity=Severity.WARNING, dialects=("openai",))
def reasoning_tokens_exceed_completion(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``usage.completion_tokens_details.reasoning_tokens`` is at most ``usage.completion_tokens``.

    Why is this bad?
        OpenAI documents ``completion_tokens_details`` as a breakdown of ``completion_tokens``: the reasoning
        tokens are part of the completion. A breakdown larger than its total double-counts or under-bills:
        Langfuse showed 109 output tokens for a LiteLLM response with ``completion_tokens: 102`` and
        ``reasoning_tokens: 109``, and a Gemini-compatible endpoint sends ``completion_tokens: 0`` with 60
        reasoning tokens. A warning by default, like CC201: some providers count reasoning outside the completion
        on purpose (ignore it per provider).

    Example:
        ```json
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "o4-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "4", "refusal": null}, "logprobs": null, "finish_reason": "stop"}], "usage": {"prompt_tokens": 20, "completion_tokens": 102, "total_tokens": 122, "completion_tokens_details": {"reasoning_tokens": 109}}}
        ```

    Use instead:
        ```json
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "o4-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "4", "refusal": null}, "logprobs": null, "finish_reason": "stop"}], "usage": {"prompt_tokens": 20, "completion_tokens": 102, "total_tokens": 122, "completion_tokens_details": {"reasoning_tokens": 96}}}
        ```

    References:
        - https://platform.openai.com/docs/guides/reasoning (reasoning tokens are billed as output tokens)
        - https://github.com/langfuse/langfuse/issues/14987 (reasoning_tokens 109 > completion_tokens 102)
        - https://github.com/router-for-me/CLIProxyAPI/issues/5733 (completion_tokens 0, reasoning_tokens 60)
    """
    reasoning = _reasoning_tokens(doc)
    if reasoning is None:
        return
    completion = as_int(doc["usage"].get("completion_tokens"))
    if completion is not None and reasoning > completion >= 0:
        yield hit(
            ("usage", "completion_tokens_details", "reasoning_tokens"),
            f"reasoning_tokens ({reasoning}) is larger than completion_tokens ({completion}), which includes them.",
            reasoning,
            f"at most {completion}",
        )


@rule("CC218", "reasoning-markup-in-content", severity=Severity.WARNING)
def reasoning_markup_in_content(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A message's ``content`` carries no think tags: the reasoning was not left in the answer. Leaks are a
        ``<think>…</think>`` block, an orphan ``</think>`` (the chat template opened the block) or a block
        cut by ``max_tokens``.

    Why is this bad?
        A server that does not parse reasoning (llama.cpp with ``--reasoning-format none``, vLLM without
        ``--reasoning-parser``, a template mismatch) leaks the chain of thought into ``content``: users see it,
        JSON-mode parsers choke on it, and the next turn sends it back to the model. Clients strip the tags
        themselves and get it wrong across stream boundaries. A warning: a text may mention the tags.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "<think>\\nThe user wants the capital of France.\\n</think>\\n\\nParis."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "The user wants the capital of France."}]}, {"type": "text", "text": "Paris."}]}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    References:
        - https://github.com/ggml-org/llama.cpp/pull/11607 (``--reasoning-format``: ``none`` leaves the tags in content)
        - https://docs.vllm.ai/en/latest/features/reasoning_outputs.html
        - https://github.com/deepseek-ai/DeepSeek-R1/issues/342 (``<think>`` in content vs ``reasoning_content``)
    """
    for pos, choice in choices(doc):
        message = message_of(choice)
        text = text_of(message)
        markup = think_markup(text) if text else None
        if markup == "leaked" or markup == "unclosed" and choice.get("finish_reason") in _TRUNCATED:
            yield hit(
                ("choices", pos, "message", "content"),
                "content carries <think> markup: the reasoning leaked into the answer.",
                text,
            )


@rule("CC219", "unclosed-think-block")
def unclosed_think_block(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A finished message's ``content`` does not open a think block that it never closes. That is: a
        ``<think>`` at the start and no ``</think>`` anywhere.

    Why is this bad?
        The whole answer is reasoning: the server's reasoning parser missed the end of the block (or the model never
        wrote it), so a client that hides think blocks shows nothing, and one that does not shows the chain of
        thought as the answer. A content cut by ``max_tokens`` (``finish_reason: "length"``) is reported as
        CC218 instead: the block was cut, not left open.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "<think>\\nThe user wants the capital of France. It is Paris."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    References:
        - https://github.com/ggml-org/llama.cpp/issues/23320 (streamed think tags lost or left unbalanced)
        - https://github.com/tobocop2/lilbee/pull/729 (clients must cope with an unclosed think block)
    """
    for pos, choice in choices(doc):
        message = message_of(choice)
        text = text_of(message)
        if text and think_markup(text) == "unclosed" and choice.get("finish_reason") not in _TRUNCATED:
            yield hit(
                ("choices", pos, "message", "content"),
                "content opens a <think> block that never closes: the whole answer is reasoning.",
                text,
            )


@rule("CC220", "reasoning-field-wrong-type")
def reasoning_field_wrong_type(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Reasoning travels in its dialect's shape. In a Mistral message: ``{"type": "thinking"}`` chunks in
        ``content``, not an OpenAI-compatible ``reasoning_content`` string. In an OpenAI message: a string in
        ``reasoning_content`` / ``reasoning``, not a thinking chunk list in ``content``. With the ``reasoning``
        extension of the openai dialect, ``reasoning_content`` and ``reasoning`` are strings or null and
        ``reasoning_details`` is a list of objects.

    Why is this bad?
        Clients read reasoning where their convention puts it: the Mistral SDK parses ``ThinkChunk`` from
        ``content``, OpenAI-compatible clients (LangChain, LiteLLM, Dify) read the string fields. A list where
        a string is expected (a proxy forwarding Magistral's chunks unchanged) breaks strict OpenAI-style
        validators, and a string where chunks are expected is dropped.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "magistral-small-latest", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris.", "reasoning_content": "The user wants the capital of France."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "magistral-small-latest", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "The user wants the capital of France."}]}, {"type": "text", "text": "Paris."}]}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    Options:
        ``extensions = ["reasoning"]`` (or ``check(..., extensions=["reasoning"])``, ``--extension reasoning``)
        adds the OpenAI-compatible fields to the openai contract, and their types to this rule.

    References:
        - https://docs.mistral.ai/inference/conversations/reasoning (thinking chunks before the text)
        - https://github.com/vercel/ai/issues/8012 (Magistral's chunk list rejected by strict OpenAI validators)
        - https://api-docs.deepseek.com/guides/reasoning_model (``reasoning_content``)
        - https://github.com/vllm-project/vllm/pull/27752 (vLLM: ``reasoning_content`` -> ``reasoning``)
        - https://openrouter.ai/docs/use-cases/reasoning-tokens (``reasoning``, ``reasoning_details``)
    """
    for pos, choice in choices(doc):
        message = message_of(choice)
        if message is not None:
            yield from wrong_type_hits(message, ("choices", pos, "message"), ctx)


# -- CC3xx: the order of a stream's deltas (emitted by the stream checker) ------------------------------------

_S = Target.STREAM
_FIRST = (
    'data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": '
    '[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}'
)


def _chunk(delta: str, finish: str = "null", usage: bool = False) -> str:
    tail = ', "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}' if usage else ""
    return (
        'data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": '
        f'[{{"index": 0, "delta": {delta}, "finish_reason": {finish}}}]{tail}}}'
    )


def _think(text: str) -> str:
    return f'{{"content": [{{"type": "thinking", "thinking": [{{"type": "text", "text": "{text}"}}]}}]}}'


def _stream(*events: str) -> str:
    return "\n\n        ".join((*events, "data: [DONE]"))


declare(
    "CC321",
    "reasoning-after-content",
    f"""
    What it checks:
        In a stream, a choice's reasoning comes before its answer. No reasoning delta (``reasoning_content`` /
        ``reasoning`` text, a Mistral thinking chunk) arrives once the choice's content has started.

    Why is this bad?
        Clients treat the first content delta as the end of the reasoning: they close the "thinking" panel, or
        return the reasoning collected so far, and drop or misplace what follows. Servers that interleave
        (tool-use agents, some parsers that mis-split a ``</think>`` across deltas) break them. A warning:
        Mistral describes reasoning output as interleaved blocks, so interleaving can be deliberate.

    Example:
        ```text
        {_stream(_FIRST, _chunk('{"content": "Paris."}'), _chunk(_think("Check: capital of France."), '"stop"', True))}
        ```

    Use instead:
        ```text
        {_stream(_FIRST, _chunk(_think("Capital of France.")), _chunk('{"content": "Paris."}', '"stop"', True))}
        ```

    References:
        - https://docs.mistral.ai/inference/conversations/reasoning (thinking chunks, then the answer)
        - https://github.com/NousResearch/hermes-agent/pull/69786 (reasoning leaks when tags split across deltas)
        - https://github.com/HenriGrimm/Minnow/pull/957 (think -> prose -> think breaks clients)
    """,
    severity=Severity.WARNING,
    target=_S,
)

declare(
    "CC322",
    "reasoning-after-finish",
    f"""
    What it checks:
        No reasoning delta arrives for a choice after its ``finish_reason``. Reasoning deltas are
        ``reasoning_content`` / ``reasoning`` text and Mistral thinking chunks.

    Why is this bad?
        The finish reason ends the choice: clients stop accumulating it, so late reasoning is lost, and a
        client that does keep reading attaches it to the wrong turn. CC311 is the same defect for content and
        tool calls.

    Example:
        ```text
        {_stream(_FIRST, _chunk(_think("Capital of France.")), _chunk('{"content": "Paris."}', '"stop"'), _chunk(_think("Done."), usage=True))}
        ```

    Use instead:
        ```text
        {_stream(_FIRST, _chunk(_think("Capital of France.")), _chunk('{"content": "Paris."}', '"stop"', True))}
        ```

    References:
        - https://github.com/BerriAI/litellm/issues/20246 (streamed reasoning deltas lost by proxies)
    """,
    target=_S,
)


# -- CC4xx: against the request -----------------------------------------------------------------------------


@rule(
    "CC412",
    "requested-reasoning-missing",
    severity=Severity.WARNING,
    requires_request=True,
    request_keys=("reasoning_effort", "prompt_mode", "reasoning", "thinking", "chat_template_kwargs"),
)
def requested_reasoning_missing(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A request that asks for reasoning gets some. Asking: ``reasoning_effort`` other than ``"none"``,
        Mistral's ``prompt_mode: "reasoning"``, OpenRouter's ``reasoning``, DeepSeek's ``thinking``,
        ``chat_template_kwargs.enable_thinking``. Getting: reasoning text or thinking chunks in a message, or
        ``reasoning_tokens`` above zero in ``usage``. Reasoning left in ``<think>`` markup in the content came too:
        that is CC218's finding (or CC219's), not also this one.

    Why is this bad?
        A response with no trace of reasoning usually means the parameter was dropped on the way (a proxy that
        does not forward it, a model that does not reason). A warning only: providers hide reasoning
        legitimately (OpenAI returns no reasoning text, and the model may decide that a question needs none).
        A request with ``max_tokens: 0`` leaves nothing to reason with and is not judged.

    Request:
        ```json
        {"model": "magistral-small-latest", "messages": [{"role": "user", "content": "Capital of France?"}], "prompt_mode": "reasoning"}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "magistral-small-latest", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "magistral-small-latest", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "The capital of France."}]}, {"type": "text", "text": "Paris."}]}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    References:
        - https://docs.mistral.ai/inference/conversations/reasoning (``prompt_mode``, ``reasoning_effort``)
        - https://platform.openai.com/docs/guides/reasoning (``reasoning_effort``; reasoning text is not returned)
        - https://openrouter.ai/docs/use-cases/reasoning-tokens ("some reasoning models do not return their
          reasoning tokens")
    """
    assert ctx.request is not None
    asked = reasoning_requested(ctx.request)
    if asked is None or (_reasoning_tokens(doc) or 0) > 0:
        return
    if any(as_int(ctx.request.get(key)) == 0 for key in ("max_tokens", "max_completion_tokens")):
        return  # no token left to reason with
    for pos, choice in choices(doc):
        message = message_of(choice)
        if message is not None and not has_reasoning(message) and choice.get("finish_reason") is not None:
            content = message.get("content")
            if isinstance(content, str) and think_markup(content) is not None:
                continue  # the reasoning came, in think markup in the content: CC218's (or CC219's) finding
            yield hit(
                ("choices", pos, "message"),
                f"The request asked for reasoning ({asked}) but the message carries none and usage counts none.",
                None,
            )


@rule(
    "CC413",
    "reasoning-despite-disabled",
    requires_request=True,
    request_keys=("reasoning_effort", "reasoning", "thinking", "chat_template_kwargs"),
)
def reasoning_despite_disabled(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A request that turns reasoning off gets no reasoning text or thinking chunks back. Turning it off:
        ``reasoning_effort: "none"``, OpenRouter's ``reasoning: {"enabled": false}`` or ``{"exclude": true}``,
        DeepSeek's ``thinking: {"type": "disabled"}``, ``chat_template_kwargs.enable_thinking: false``.

    Why is this bad?
        The caller turned reasoning off to save tokens and latency, or because it cannot show or store it;
        reasoning sent anyway is billed, shown, or sent back to the model in the next turn.

    Request:
        ```json
        {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Capital of France?"}], "reasoning_effort": "none"}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "mistral-small-latest", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "The capital of France."}]}, {"type": "text", "text": "Paris."}]}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "mistral-small-latest", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
        ```

    References:
        - https://docs.mistral.ai/inference/conversations/reasoning (``reasoning_effort: "none"``)
        - https://openrouter.ai/docs/use-cases/reasoning-tokens (``exclude``, ``enabled``)
        - https://docs.vllm.ai/en/latest/features/reasoning_outputs.html (``enable_thinking``)
    """
    assert ctx.request is not None
    off = reasoning_disabled(ctx.request)
    if off is None:
        return
    for pos, choice in choices(doc):
        message = message_of(choice)
        if message is not None and has_reasoning(message):
            yield hit(
                ("choices", pos, "message"),
                f"The request turned reasoning off ({off}) but the message carries reasoning.",
                None,
            )
