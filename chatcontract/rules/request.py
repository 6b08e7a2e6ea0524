"""CC4xx: request-aware rules — the response must honour what the request asked for. Run only with ``request=``."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..violations import Severity
from ._registry import Hit, RuleContext, hit, rule
from ._util import NotJSON, as_int, choices, iter_tool_calls, loads_object, message_of, text_of, tool_calls
from .reasoning import answer_text


def _req(ctx: RuleContext) -> Mapping[str, Any]:
    assert ctx.request is not None
    return ctx.request


def _limits(req: Mapping[str, Any]) -> tuple[int, int] | None:
    """The request's token limits as (smallest, largest): ``max_tokens`` and OpenAI's ``max_completion_tokens``.

    With both set, which one binds is not defined (OpenAI refuses the pair; llama-cpp-python honours
    ``max_tokens`` only): CC402 holds the answer to the larger, CC403 to the smaller. None without a limit, or
    with a negative one (an invalid request, not a budget to compare with).
    """
    found = [n for n in (as_int(req.get("max_completion_tokens")), as_int(req.get("max_tokens"))) if n is not None]
    if not found or min(found) < 0:
        return None
    return min(found), max(found)


def _n(req: Mapping[str, Any]) -> int:
    n = as_int(req.get("n"))
    return n if n is not None and n >= 1 else 1


def _stops(req: Mapping[str, Any]) -> list[str]:
    """The request's stop sequences (``stop``: a string or a list of strings), the empty one included."""
    stop = req.get("stop")
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else []


def _stopped_by_request(req: Mapping[str, Any], choice: Mapping[str, Any], text: str | None) -> bool:
    """The request's own stop sequence explains an empty answer: it ended with ``stop`` before any text.

    ``"stop": ""`` (or a sequence the model starts with) makes servers stop at once: an empty answer is what the
    request asked for, not a response_format or tool_choice ignored.
    """
    return choice.get("finish_reason") == "stop" and not text and bool(_stops(req))


def _stop_note(req: Mapping[str, Any], choice: Mapping[str, Any]) -> str:
    """A word in the message when the request's stop sequences may have ended the answer early."""
    if choice.get("finish_reason") != "stop":
        return ""
    stops = _stops(req)
    return f" (the request's stop sequences {stops!r} may have ended it early)" if stops else ""


@rule("CC401", "choice-count-mismatch", requires_request=True)
def choice_count_mismatch(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        The response has as many choices as the request's ``n`` (1 when absent).

    Why is this bad?
        Code that asked for three candidates indexes ``choices[2]``. llama.cpp's server and LiteLLM's mocks ignore
        ``n`` and answer with one choice.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "n": 2}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}, {"index": 1, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
        ```
    """
    items = doc.get("choices") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        return  # CC101/CC214 report it
    n = _n(_req(ctx))
    if len(items) != n:
        yield hit(("choices",), f"Request asked for n={n} choices; received {len(items)}.", len(items), n)


@rule(
    "CC402",
    "completion-tokens-exceed-max-tokens",
    requires_request=True,
    request_keys=("max_completion_tokens", "max_tokens"),
)
def completion_tokens_exceed(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``usage.completion_tokens`` is at most the request's ``max_tokens`` (``max_completion_tokens`` for OpenAI)
        times ``n``. With both set, which one binds is not defined (OpenAI refuses the pair): the larger.

    Why is this bad?
        ``max_tokens`` is a cost ceiling. A provider that ignores it (LiteLLM's mocks report a constant 20) or
        miscounts (llama-cpp-python's UTF-8 handling) bills more than the caller allowed.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "length"}], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
        ```
    """
    req = _req(ctx)
    limits = _limits(req)
    usage = doc.get("usage") if isinstance(doc, dict) else None
    if limits is None or not isinstance(usage, dict):
        return
    used = as_int(usage.get("completion_tokens"))
    cap = limits[1] * _n(req)
    if used is not None and used > cap:
        yield hit(
            ("usage", "completion_tokens"),
            f"completion_tokens is {used}, above the request's limit of {cap} tokens.",
            used,
            cap,
        )


@rule(
    "CC403",
    "length-finish-reason-mismatch",
    severity=Severity.WARNING,
    requires_request=True,
    request_keys=("max_completion_tokens", "max_tokens"),
)
def length_finish_mismatch(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        ``finish_reason: "length"`` agrees with ``max_tokens``: with one choice, the completion used all
        ``max_tokens`` tokens. With both ``max_tokens`` and ``max_completion_tokens`` set, the smaller one (either
        may bind). A warning: OpenAI also says ``length`` when the context window is full (Mistral says
        ``model_length`` for that).

    Why is this bad?
        Clients retry or continue on ``length``; a wrong reason makes them continue a finished answer.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 50}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "length"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    req = _req(ctx)
    limits = _limits(req)
    items = choices(doc)
    usage = doc.get("usage") if isinstance(doc, dict) else None
    if limits is None or len(items) != 1 or not isinstance(usage, dict):
        return
    limit = limits[0]
    used = as_int(usage.get("completion_tokens"))
    pos, choice = items[0]
    if choice.get("finish_reason") == "length" and used is not None and used < limit:
        yield hit(
            ("choices", pos, "finish_reason"),
            f"finish_reason is 'length' but only {used} of max_tokens={limit} tokens were used.",
            "length",
        )


def _response_format(req: Mapping[str, Any]) -> tuple[str | None, Any]:
    rf = req.get("response_format")
    if not isinstance(rf, dict):
        return None, None
    kind = rf.get("type")
    schema = None
    if kind == "json_schema" and isinstance(rf.get("json_schema"), dict):
        schema = rf["json_schema"].get("schema")
    return (kind if isinstance(kind, str) else None), schema


@rule("CC404", "response-format-not-json", requires_request=True, request_keys=("response_format",))
def response_format_not_json(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        With ``response_format`` ``json_object`` or ``json_schema``, each finished choice's content parses as a
        JSON object. Choices cut off by ``length`` are skipped: both APIs document truncated JSON there. So are
        empty answers that the request's own ``stop`` explains (``"stop": ""`` ends an answer at once, with
        ``finish_reason: "stop"``); when stop sequences may have cut a non-empty answer, the message says so.

    Why is this bad?
        The caller asked for JSON so it could ``json.loads`` the answer without guarding.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "json_object"}}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure! {\\"a\\": 1}"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"a\\": 1}"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    req = _req(ctx)
    kind, _ = _response_format(req)
    if kind not in ("json_object", "json_schema"):
        return
    for pos, choice in choices(doc):
        if choice.get("finish_reason") == "length":
            continue
        msg = message_of(choice)
        if msg is not None and msg.get("tool_calls"):
            continue
        text = text_of(msg)
        if _stopped_by_request(req, choice, text):
            continue
        loc = ("choices", pos, "message", "content")
        note = _stop_note(req, choice)
        if text is None:
            yield hit(loc, f"response_format is {kind} but the message has no text content{note}.", None)
            continue
        try:
            parsed = loads_object(text)
        except NotJSON as exc:
            yield hit(loc, f"response_format is {kind} but the content is not JSON ({exc}){note}.", text)
            continue
        if not isinstance(parsed, dict):
            yield hit(loc, f"response_format is {kind} but the content is not a JSON object{note}.", text)


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    import jsonschema

    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def schema_errors(instance: Any, schema: Any) -> list[str]:
    """JSON Schema errors of ``instance`` (readable one-liners with the path inside it); [] when valid."""
    if not isinstance(schema, dict):
        return []
    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
    except Exception as exc:  # an invalid schema in the request is the client's problem, say so once
        return [f"the request's schema is not a valid JSON Schema ({type(exc).__name__})"]
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path) or "(root)"
        out.append(f"{where}: {err.message}")
    return out


@rule("CC405", "response-schema-mismatch", requires_request=True, request_keys=("response_format",))
def response_schema_mismatch(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        With ``response_format: {"type": "json_schema", ...}``, the JSON content validates against the schema.

    Why is this bad?
        Structured output exists so the caller can trust the shape; a missing required key surfaces as a
        KeyError deep in application code.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"town\\": \\"Paris\\"}"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"city\\": \\"Paris\\"}"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    kind, schema = _response_format(_req(ctx))
    if kind != "json_schema" or not isinstance(schema, dict):
        return
    for pos, choice in choices(doc):
        if choice.get("finish_reason") == "length":
            continue
        text = text_of(message_of(choice))
        if text is None:
            continue
        try:
            parsed = loads_object(text)
        except NotJSON:
            continue  # CC404 reports it
        errors = schema_errors(parsed, schema)
        if errors:
            yield hit(
                ("choices", pos, "message", "content"),
                f"Content does not match the requested schema: {'; '.join(errors[:3])}.",
                text,
            )


def _tool_choice(req: Mapping[str, Any]) -> tuple[str, str | None]:
    """('none'|'auto'|'required'|'named', name)."""
    tc = req.get("tool_choice")
    if isinstance(tc, str):
        return ("required" if tc == "any" else tc), None
    if isinstance(tc, dict):
        fn = tc.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return "named", fn["name"]
    return "auto", None


def _declared_tools(req: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tools = req.get("tools")
    if isinstance(tools, list):
        for t in tools:
            fn = t.get("function") if isinstance(t, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                out[fn["name"]] = fn.get("parameters")
    return out


def _calls(doc: Any) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every tool call with its location (from the per-document view the consistency rules share)."""
    for pos, tpos, call in tool_calls(doc):
        yield ("choices", pos, "message", "tool_calls", tpos), call


@rule("CC406", "tool-calls-despite-tool-choice-none", requires_request=True, request_keys=("tool_choice",))
def tool_calls_despite_none(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        With ``tool_choice: "none"``, the response has no tool calls.

    Why is this bad?
        The caller said it will not run tools in this turn; calls it did not ask for are dropped or crash it.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], "tool_choice": "none"}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    mode, _ = _tool_choice(_req(ctx))
    if mode != "none":
        return
    for loc, _call in _calls(doc):
        yield hit(loc, "tool_choice is 'none' but the response calls a tool.", None)


@rule("CC407", "undeclared-tool-called", requires_request=True)
def undeclared_tool_called(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        Every tool call names a function declared in the request's ``tools``.

    Why is this bad?
        The client has no implementation for a tool it never declared; models hallucinate names and providers
        must not pass them through.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    declared = _declared_tools(_req(ctx))
    for loc, call in _calls(doc):
        fn = call.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        if isinstance(name, str) and name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            yield hit((*loc, "function", "name"), f"Tool {name!r} was not declared (declared: {known}).", name)


@rule("CC408", "tool-arguments-schema-mismatch", requires_request=True, request_keys=("tool_choice",))
def tool_arguments_schema_mismatch(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        With a named or required ``tool_choice`` (Mistral: ``any``), each call's arguments validate against the
        declared tool's ``parameters`` schema.

    Why is this bad?
        Forced tool calls are how structured extraction is done; providers that constrain decoding by grammar
        promise this, and the caller passes the arguments on unchecked.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}], "tool_choice": "required"}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"town\\": 3}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    req = _req(ctx)
    mode, _ = _tool_choice(req)
    if mode not in ("required", "named"):
        return
    declared = _declared_tools(req)
    for loc, call in _calls(doc):
        fn = call.get("function")
        if not isinstance(fn, dict) or fn.get("name") not in declared:
            continue
        args = fn.get("arguments")
        if isinstance(args, str):
            try:
                args = loads_object(args)
            except NotJSON:
                continue  # CC207 reports it
        errors = schema_errors(args, declared[fn["name"]])
        if errors:
            yield hit(
                (*loc, "function", "arguments"),
                f"Arguments do not match the parameters of {fn['name']!r}: {'; '.join(errors[:3])}.",
                fn.get("arguments"),
            )


@rule("CC409", "tool-choice-not-honoured", requires_request=True, request_keys=("tool_choice",))
def tool_choice_not_honoured(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        With ``tool_choice`` ``required``/``any`` each choice calls a tool; with a named function it calls only
        that function. A choice cut off by ``length`` with text and no call at all is reported too: the whole
        budget went to text, where the call should have come first. Skipped: a ``length`` choice with no text
        (the call itself may have been cut) and an empty answer that the request's own ``stop`` explains
        (``"stop": ""`` ends it at once); when stop sequences may have ended a text answer, the message says so.

    Why is this bad?
        The caller forced a tool call and will not handle a plain text answer.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], "tool_choice": {"type": "function", "function": {"name": "f"}}}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    req = _req(ctx)
    mode, name = _tool_choice(req)
    if mode not in ("required", "named"):
        return
    for pos, choice in choices(doc):
        msg = message_of(choice)
        calls = list(iter_tool_calls(msg))
        if not calls:
            text = text_of(msg)
            text = answer_text(text) if text else text  # reasoning leaked in think markup is not an answer
            truncated = choice.get("finish_reason") == "length"
            if (truncated and not text) or _stopped_by_request(req, choice, text):
                continue
            wanted = f"a call to {name!r}" if name else "a tool call"
            why = " the whole budget (finish_reason 'length') went to text" if truncated else ""
            yield hit(
                ("choices", pos, "message"),
                f"tool_choice requires {wanted}; the message has none{';' + why if why else ''}"
                f"{_stop_note(req, choice)}.",
                None,
            )
            continue
        if name is None:
            continue
        for tpos, call in calls:
            fn = call.get("function")
            got = fn.get("name") if isinstance(fn, dict) else None
            if isinstance(got, str) and got != name:
                yield hit(
                    ("choices", pos, "message", "tool_calls", tpos, "function", "name"),
                    f"tool_choice names {name!r} but the response calls {got!r}.",
                    got,
                    name,
                )


@rule("CC410", "stop-sequence-in-content", requires_request=True, request_keys=("stop",))
def stop_sequence_in_content(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        No request ``stop`` sequence appears in the returned content (generation stops before it and the
        sequence itself is not returned).

    Why is this bad?
        Callers use stop sequences as delimiters; a server that returns them, or keeps generating past them,
        breaks the parsing that relies on them.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Count"}], "stop": ["4"]}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "1 2 3 4 5"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "1 2 3 "}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}}
        ```
    """
    stops = [s for s in _stops(_req(ctx)) if s]
    if not stops:
        return
    for pos, choice in choices(doc):
        text = text_of(message_of(choice))
        if not text:
            continue
        answer = answer_text(text)  # (reasoning leaked in think markup before it is CC218's)
        for s in stops:
            at = answer.find(s)
            if at >= 0:
                yield hit(
                    ("choices", pos, "message", "content"),
                    f"Content contains the stop sequence {s!r} at offset {at + len(text) - len(answer)}.",
                    text,
                )
                break


@rule("CC411", "model-echo-mismatch", severity=Severity.WARNING, requires_request=True)
def model_echo_mismatch(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        The response's ``model`` is the requested model or a version of it (``gpt-4o`` -> ``gpt-4o-2024-08-06``;
        ``mistral-small-latest`` -> ``mistral-small-2409``). A warning: gateways route and rename legitimately.

    Why is this bad?
        Cost and quality dashboards group by the returned model; an unrelated name means the request was served by
        something else than what was asked for (or a proxy forgot to pass it through).

    Request:
        ```json
        {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "gpt-3.5-turbo", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "mistral-small-2409", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```
    """
    wanted = _req(ctx).get("model")
    got = doc.get("model") if isinstance(doc, dict) else None
    if not isinstance(wanted, str) or not isinstance(got, str) or not got:
        return
    stem = wanted.removesuffix("-latest")
    tail = wanted.rsplit("/", 1)[-1].removesuffix("-latest")
    if got == wanted or got.startswith((stem, tail)) or wanted.endswith("/" + got):
        return
    yield hit(("model",), f"Requested model {wanted!r}; the response names {got!r}.", got, wanted)


def _top_logprobs(req: Mapping[str, Any]) -> int | None:
    k = as_int(req.get("top_logprobs"))
    return k if k is not None and k >= 1 else None


@rule("CC414", "logprobs-not-returned", requires_request=True, request_keys=("logprobs",), dialects=("openai",))
def logprobs_not_returned(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        With ``logprobs: true``, every choice that generated text carries ``logprobs.content``, a list with one
        entry per generated token (``logprobs.refusal`` instead when the model refused); with ``top_logprobs: k``
        as well, every entry has ``k`` ``top_logprobs``. A choice that only calls tools is left alone: log
        probabilities cover message text, not tool-call arguments. OpenAI only: Mistral's published request has no ``logprobs`` (its request is
        closed, so asking for them is an invalid request there).

    Why is this bad?
        Servers that do not implement log probabilities accept the parameter and drop it (LiteLLM's mocks, several
        OpenAI-compatible servers): the caller's confidence scores, classifiers or calibration silently get
        nothing and fail far away on ``choices[0].logprobs.content``.

    Request:
        ```json
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "logprobs": true, "top_logprobs": 1}
        ```

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": null}, "logprobs": null, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": null}, "logprobs": {"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}]}], "refusal": null}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - OpenAI API reference, Create chat completion: ``logprobs``, ``top_logprobs`` (0-20) and the choice's
          ``logprobs.content``
    """
    req = _req(ctx)
    if req.get("logprobs") is not True:
        return
    k = _top_logprobs(req)
    for pos, choice in choices(doc):
        lp = choice.get("logprobs")
        loc: tuple[str | int, ...] = ("choices", pos, "logprobs")
        message = message_of(choice)
        if not text_of(message) and not (isinstance(message, dict) and message.get("refusal")):
            continue  # no text generated (only tool calls, whose tokens logprobs do not cover, or nothing at all)
        if not isinstance(lp, dict):
            shown = "no logprobs" if "logprobs" not in choice else f"logprobs {json.dumps(lp)[:60]}"
            yield hit(loc, f"The request set logprobs: true but choice {pos} has {shown}.", lp)
            continue
        entries = lp.get("content") if isinstance(lp.get("content"), list) else lp.get("refusal")
        if not isinstance(entries, list):
            yield hit((*loc, "content"), "The request set logprobs: true but logprobs.content is not a list.", None)
            continue
        if not entries:
            yield hit((*loc, "content"), "The request set logprobs: true but logprobs.content is empty.", [])
            continue
        if k is None:
            continue
        for i, entry in enumerate(entries):
            top = entry.get("top_logprobs") if isinstance(entry, dict) else None
            if not isinstance(top, list) or len(top) != k:
                got = len(top) if isinstance(top, list) else "none"
                yield hit(
                    (*loc, "content", i, "top_logprobs"),
                    f"The request set top_logprobs: {k} but token {i} has {got}.",
                    got,
                    k,
                )
                break
