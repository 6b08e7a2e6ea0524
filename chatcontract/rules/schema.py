"""CC1xx: schema violations, mapped one-to-one from the pydantic contracts' validation errors.

Pydantic reports union alternatives and discriminator tags inside ``loc``; :func:`schema_hits` strips those labels by
walking the location against the document, so each violation sits at the exact JSON path, and folds the
alternatives of one union into a single violation ("expected string, array or null; received integer").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..inputs import json_type
from ..violations import Loc, Severity, format_path, shorten
from ._located import null_errors, pydantic_order
from ._registry import Hit, declare, hit

__all__ = ["float_hit", "mapped_hits", "object_hits", "schema_hits"]

_REF = "References:\n        - Mistral OpenAPI document, ChatCompletionResponse; OpenAI OpenAPI, CreateChatCompletionResponse"

declare(
    "CC101",
    "missing-required-field",
    f"""
    What it checks:
        Every field the dialect's contract requires is present.

    Why is this bad?
        Clients read required fields without checking: a response without ``choices`` or ``usage`` crashes code
        far from the provider (one-api omitted ``model``; AnythingLLM omitted ``usage`` and ``choices[].index``).

    Example:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}]}}
        ```

    Use instead:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    {_REF}
    """,
)

declare(
    "CC102",
    "wrong-type",
    f"""
    What it checks:
        Every value has the JSON type the contract gives it, strictly: ``"10"`` is not 10, ``true`` is not 1 and
        ``1.5`` is not an integer.

    Why is this bad?
        SDKs differ in coercion: mistralai turns ``"10"`` into 10, openai keeps the string, a TypeScript client
        concatenates it. Float token counts (``completion_tokens: 37.25``) and float ``created`` timestamps
        (SambaNova) broke real clients.

    Example:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1757876416.566, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": "3", "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    Use instead:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1757876416, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    {_REF}
    """,
)

declare(
    "CC103",
    "invalid-enum-value",
    f"""
    What it checks:
        Enumerated fields hold one of the dialect's values: ``finish_reason`` (Mistral: stop, length, model_length,
        error, tool_calls; OpenAI: stop, length, tool_calls, content_filter, function_call), ``role``, ``object``
        (OpenAI: ``chat.completion``).

    Why is this bad?
        Code switches on these values. An unknown ``finish_reason`` crashed mistralai's closed enum during streams;
        OpenAI's SDK rejects Mistral's ``model_length`` when it validates.

    Example:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "end_turn"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    Use instead:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    {_REF}
    """,
)

declare(
    "CC104",
    "unexpected-field",
    f"""
    What it checks:
        Objects whose published schema sets ``additionalProperties: false`` carry no other fields. Checked field by
        field against the published documents, those objects are, on the response side:

        - Mistral: ``UsageInfo`` (``usage``), ``AssistantMessage`` (``choices[].message``), ``ToolCall`` and
          ``FunctionCall`` (``message.tool_calls[]`` and its ``function``, in chunks too), and the content chunks
          (``TextChunk``, ``ImageURLChunk`` and ``ImageURL``, ``DocumentURLChunk``, ``ReferenceChunk``,
          ``FileChunk``, ``ToolReferenceChunk``, ``ThinkChunk``, ``AudioChunk``);
        - OpenAI: none. Its document closes no response, chunk or error object.

        Everything else is open, as the documents leave it: Mistral's ``ChatCompletionResponse``,
        ``ChatCompletionChoice``, ``CompletionChunk``, its stream choice and ``DeltaMessage``, its error bodies, and
        every OpenAI object. So llama.cpp's ``timings``, vLLM's ``stop_reason``/``token_ids``/``kv_transfer_params``
        under OpenAI, and ``system_fingerprint``/``service_tier`` at the top of a Mistral response are not
        reported; vLLM's ``reasoning_content`` in a Mistral message or ``prompt_tokens_details`` in Mistral's usage
        are. On the request side Mistral's ``ChatCompletionRequest`` and its messages and tools are closed too.

    Why is this bad?
        It is a warning, not an error: providers add fields (vLLM's null extras, llama.cpp's ``timings``,
        OpenRouter's ``provider``) and clients usually ignore them. Where the published schema is closed, it tells
        you the response is not exactly the documented shape, which matters to strict clients and generated SDKs.

    Example:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, "cost_usd": 0.0001}}}}
        ```

    Use instead:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    Options:
        Ignore it per provider with ``[tool.chatcontract.per-provider-ignores]``.

    {_REF}
    """,
    severity=Severity.WARNING,
)

declare(
    "CC105",
    "value-out-of-range",
    """
    What it checks:
        Values satisfy the contract's numeric and length constraints (minimum, maximum, minItems, maxItems).

    Why is this bad?
        Out-of-range values are outside what the other side was built to handle.

    References:
        - Mistral OpenAPI document, ChatCompletionRequest (temperature, top_p, n, ...)
    """,
)

declare(
    "CC106",
    "unknown-variant",
    f"""
    What it checks:
        Tagged unions use a known tag: content chunks (``text``, ``thinking``, ``image_url``, ...), tool calls
        (``function``, ``custom``), messages by ``role``.

    Why is this bad?
        A client dispatches on the tag; an unknown one is dropped or crashes the client.

    Example:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": [{{"type": "markdown", "text": "Hi"}}]}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    Use instead:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": [{{"type": "text", "text": "Hi"}}]}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    {_REF}
    """,
)

declare(
    "CC107",
    "unexpected-null",
    f"""
    What it checks:
        ``null`` appears only where the contract makes a field nullable.

    Why is this bad?
        ``usage: null`` or ``choices: null`` pass loose SDK constructors and crash later on attribute access
        (pydantic-ai#5170).

    Example:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": null}}
        ```

    Use instead:
        ```json
        {{"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    {_REF}
    """,
)

declare(
    "CC108",
    "integer-out-of-range",
    """
    What it checks:
        Integers fit in 64 bits. An integer the request itself held is the client's own when the server echoes it
        back (a validation error's ``input``, a seed repeated in an extension field): given the request, that one
        is not reported.

    Why is this bad?
        JSON allows any number of digits, but Go, Java, Rust and JavaScript clients cannot represent them;
        ``10^400`` as a token count is a bug or an attack.

    References:
        - RFC 8259 §6, Numbers (interoperability of large numbers)
    """,
)

declare(
    "CC109",
    "null-for-optional-field",
    f"""
    What it checks:
        An optional field that the contract does not make nullable is omitted rather than sent as ``null``.

    Why is this bad?
        The documents say "may be absent", not "may be null". Dynamic clients and the openai SDK (whose types are
        ``Optional``) do not mind, which is why this is a warning; typed clients (Go, Rust, TypeScript with strict
        types) break. OpenAI's own API sends ``"system_fingerprint": null`` for some models, and LiteLLM sends
        ``"tool_calls": null`` and ``"function_call": null``.

    Example:
        ```json
        {{"id": "chatcmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "system_fingerprint": null, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi", "refusal": null}}, "logprobs": null, "finish_reason": "stop"}}]}}
        ```

    Use instead:
        ```json
        {{"id": "chatcmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "Hi", "refusal": null}}, "logprobs": null, "finish_reason": "stop"}}]}}
        ```

    Dialect: openai

    {_REF}
    """,
    severity=Severity.WARNING,
    dialects=("openai", "mistral"),
)

_TYPE_NAMES = {
    "string_type": "string",
    "int_type": "integer",
    "int_from_float": "integer",
    "float_type": "number",
    "bool_type": "boolean",
    "list_type": "array",
    "tuple_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
    "dataclass_type": "object",
    "none_required": "null",
    "is_instance_of": "object",
}
_RANGE = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_short",
    "too_long",
    "multiple_of",
    "string_too_short",
    "string_too_long",
}


_json_type = json_type


#: The discriminated unions of a schema as a tree of its index-free paths: ``(tag property at this path or None,
#: {key or "*" for list items: the tree below})``. :func:`_clean_loc` follows it down a location one segment at a
#: time, and stops looking as soon as no tagged path lies below (the usual case: at the first segment).
_Trie = tuple["str | None", "dict[str, _Trie]"]


def _clean_loc(
    doc: Any, raw: tuple[str | int, ...], missing: bool = True, tagged: _Trie | None = None
) -> tuple[Loc, Any, bool]:
    """Strip union labels from a pydantic loc; returns (loc, value at loc, whether the value exists).

    A segment that is not a key or index of the current node is a label (a union member such as ``str`` or
    ``function-after[...]``). Discriminator tags are labels too, but may equal a key (``{"type": "function",
    "function": ...}``), so they are recognised from the schema: ``tagged`` (:func:`_tagged_trie`) holds the
    index-free paths of discriminated unions with their tag property. ``missing`` says whether the error is about
    an absent key: only then may the last segment name a key that is not there.
    """
    node = doc
    out: list[str | int] | None = None  # the segments kept, once one is dropped (until then: raw[:i])
    trie = tagged  # the tagged paths at and below the path so far; None: none (no tag to look for)
    last = len(raw) - 1
    tag_skipped: Any = None
    for i, seg in enumerate(raw):
        if isinstance(node, dict) and isinstance(seg, str):
            if trie is not None:
                prop = trie[0]
                if prop is not None and tag_skipped is not node and node.get(prop) == seg:
                    tag_skipped = node  # the discriminator label; a tag labels its node once
                    if out is None:
                        out = list(raw[:i])
                    continue
            if seg in node:
                if out is not None:
                    out.append(seg)
                node = node[seg]
                if trie is not None:
                    trie = trie[1].get(seg)
                continue
            if i == last and missing:
                return (raw if out is None else (*out, seg)), None, False
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            if out is not None:
                out.append(seg)
            node = node[seg]
            if trie is not None:
                trie = trie[1].get("*")
            continue
        if out is None:  # a label
            out = list(raw[:i])
    return (raw if out is None else tuple(out)), node, True


_TAGGED: dict[int, dict[tuple[str, ...], str]] = {}
_TRIES: dict[int, tuple[TypeAdapter[Any], _Trie]] = {}


def _tagged_trie(adapter: TypeAdapter[Any]) -> _Trie:
    """:func:`_tagged_paths` as the tree :func:`_clean_loc` follows."""
    entry = _TRIES.get(id(adapter))
    if entry is None or entry[0] is not adapter:
        entry = _TRIES[id(adapter)] = (adapter, _trie(_tagged_paths(adapter), ()))
    return entry[1]


def _trie(tagged: Mapping[tuple[str, ...], str], at: tuple[str, ...]) -> _Trie:
    n = len(at)
    below = {path[n] for path in tagged if len(path) > n and path[:n] == at}
    return tagged.get(at), {seg: _trie(tagged, (*at, seg)) for seg in below}


def _tagged_paths(adapter: TypeAdapter[Any]) -> dict[tuple[str, ...], str]:
    """Index-free paths (``*`` for list items) where the adapter's schema has a discriminated union -> tag key."""
    found = _TAGGED.get(id(adapter))
    if found is not None:
        return found
    schema = adapter.json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    found = {}

    def visit(node: Any, path: tuple[str, ...], seen: frozenset[str]) -> None:
        if not isinstance(node, dict) or len(path) > 40:
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return
            visit(defs.get(name), path, seen | {name})
        disc = node.get("discriminator")
        if isinstance(disc, dict) and isinstance(disc.get("propertyName"), str):
            found[path] = disc["propertyName"]
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, ()):
                visit(branch, path, seen)
        for prop, sub in node.get("properties", {}).items():
            visit(sub, (*path, prop), seen)
        if isinstance(node.get("items"), dict):
            visit(node["items"], (*path, "*"), seen)

    visit(schema, (), frozenset())
    _TAGGED[id(adapter)] = found
    return found


def _expected(err: Any) -> str:
    t = err["type"]
    if t in _TYPE_NAMES:
        return _TYPE_NAMES[t]
    if t == "literal_error":
        return str(err.get("ctx", {}).get("expected", "one of the allowed values"))
    return str(err.get("msg", t))


#: The code of an error type whatever the value (``enum``: CC103 for a string, else by type); any other error type
#: is about the value's type: CC107 for null, else CC102.
_CODES = {
    "union_tag_invalid": "CC106",
    "union_tag_not_found": "CC101",
    "literal_error": "enum",
    "enum": "enum",
    "finite_number": "CC005",
    **dict.fromkeys(_RANGE, "CC105"),
}


def _classify(err: Any, value: Any, exists: bool) -> str:
    t = err["type"]
    if t == "extra_forbidden":
        return "CC104"
    if t == "missing" or not exists:
        return "CC101"
    code = _CODES.get(t)
    if code is None:
        return "CC107" if value is None else "CC102"
    if code == "enum":
        if value is None:
            return "CC107"
        return "CC103" if isinstance(value, str) else "CC102"  # enum values are strings: 7 is the wrong type
    return code


#: A list of more than this many items is validated in batches of ``_BATCH`` items, and so is the longest list of a
#: document with more schema errors than this: pydantic builds every error of a validation at once (about 1.4 KB
#: each with ``errors()``), so a body of a million wrong items would otherwise cost gigabytes before the
#: collector's per-rule cap could help.
_BATCH_ABOVE = 2_000
_BATCH = 500


def schema_hits(
    adapter: TypeAdapter[Any], doc: Any, *, what: str, full: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, Hit]]:
    """Validate ``doc`` with ``adapter``; yield ``(code, hit)`` per schema error at its exact path.

    ``full(code)`` true says the caller lists no more violations of ``code`` (it only counts them): those hits
    come with their location only, without the message and shown value that cost most of their making.
    """
    batched = _longest_list(doc, _BATCH_ABOVE)  # a list so long that its errors alone could be too many
    if batched is not None:
        yield from _batched_hits(adapter, doc, batched, what=what, full=full)
        return
    try:
        adapter.validator.validate_python(doc)  # the core validator: skips TypeAdapter's Python-level wrapper
        return
    except ValidationError as exc:
        if exc.error_count() > _BATCH_ABOVE:  # shorter lists, with many errors per item
            batched = _longest_list(doc, _BATCH)
        errors = exc.errors(include_url=False) if batched is None else []
    except RecursionError:
        yield "CC006", hit((), f"{what} is nested too deeply to validate.")
        return
    if batched is not None:
        yield from _batched_hits(adapter, doc, batched, what=what, full=full)
        return
    yield from mapped_hits(adapter, doc, errors, full=full)


def mapped_hits(
    adapter: TypeAdapter[Any], doc: Any, errors: list[Any], *, full: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, Hit]]:
    """``(code, hit)`` per violation, from the ``errors()`` of validating ``doc`` with ``adapter``.

    ``full(code)`` true: the caller lists no more violations of ``code``, so those hits come with their location only.
    """
    if not errors:
        return
    tagged = _tagged_trie(adapter)
    if len(errors) == 1:
        # (the usual case) one group of one error: no other union member's error to prefer (nothing to drop),
        # nothing to fold into it, no deeper error to defer to
        err = errors[0]
        loc, value, exists = _place(doc, err, tagged)
        yield _one_hit(adapter, doc, loc, err, value, exists, full)
        return
    errors = _drop_mismatched_members(errors)
    groups: dict[Loc, list[tuple[Any, Any, bool]]] = {}
    for err in errors:
        loc, value, exists = _place(doc, err, tagged)
        entries = groups.get(loc)
        if entries is None:
            groups[loc] = [(err, value, exists)]
        else:
            entries.append((err, value, exists))
    prefixes: set[Loc] | None = None  # every proper prefix of an error path, when a group needs it
    for loc, entries in groups.items():
        # A union reports each alternative; when one alternative got further (errors deeper inside the value),
        # its errors are the informative ones and the shallow "wrong type" noise of the others is dropped.
        type_entries = []
        other_entries = []
        for e in entries:
            code = _classify(e[0], e[1], e[2])
            if code == "CC102" or code == "CC107":
                type_entries.append(e)
            else:
                other_entries.append((code, e))
        if len(type_entries) == len(entries) and len(groups) > 1:
            if prefixes is None:
                prefixes = {other[:n] for other in groups for n in range(len(other))}
            if loc in prefixes:
                continue
        for code, (err, value, _exists) in other_entries:
            yield _other_hit(code, loc, err, value, full)
        if type_entries:
            names = {_expected(e[0]) for e in type_entries}
            expected = sorted(names, key=_rank) if len(names) > 1 else list(names)
            yield _type_hit(adapter, doc, loc, expected, type_entries[0][1], full)


def _one_hit(
    adapter: TypeAdapter[Any],
    doc: Any,
    loc: Loc,
    err: Any,
    value: Any,
    exists: bool,
    full: Callable[[str], bool] | None,
) -> tuple[str, Hit]:
    """The hit of a place's one error (``loc`` without union labels; ``value`` there, or whether it is missing)."""
    code = _classify(err, value, exists)
    if code == "CC102" or code == "CC107":
        return _type_hit(adapter, doc, loc, [_expected(err)], value, full)
    return _other_hit(code, loc, err, value, full)


def float_hit(adapter: TypeAdapter[Any], doc: Any, err: Any, value: float) -> tuple[str, Hit]:
    """:func:`mapped_hits`' hit for ``err``, the one error at a float ``value`` of ``doc`` (its place, ``err``'s
    ``loc``, reached without a union: see ``rules._located.float_error``).
    """
    code = _classify(err, value, True)
    if code != "CC102":
        return _one_hit(adapter, doc, err["loc"], err, value, True, None)
    # (_type_hit's message for a float, finite here: its JSON type is "number", _show and shorten give its repr and
    # the float itself; unrolled, as this is the lane of the usual float finding, a float `created`)
    expected = _expected(err)
    return code, _tuple_new(Hit, (err["loc"], f"Expected {expected}; received number {value!r}.", value, expected, None))


def _place(doc: Any, err: Any, tagged: _Trie) -> tuple[Loc, Any, bool]:
    """The error's location in ``doc`` without union labels, the value there, and whether it exists."""
    kind = err["type"]
    raw = err["loc"]
    loc, value, exists = _clean_loc(
        doc, raw if type(raw) is tuple else tuple(raw), kind == "missing" or kind == "union_tag_not_found", tagged
    )
    if kind == "union_tag_not_found":
        key = str(err.get("ctx", {}).get("discriminator", "type")).strip("'")
        return (*loc, key), None, False
    return loc, value, exists


def _other_hit(code: str, loc: Loc, err: Any, value: Any, full: Callable[[str], bool] | None) -> tuple[str, Hit]:
    """The hit of an error that is not about the value's type (missing, unknown, enum, tag, range...)."""
    if full is not None and full(code):
        return code, _tuple_new(Hit, (loc, "", None, None, None))
    if code == "CC101":
        return code, _missing(loc)
    if code == "CC104":
        return code, _unknown(loc, value)
    if code == "CC103":
        expected = _expected(err)
        return code, _tuple_new(
            Hit, (loc, f"Received {_show(value)}; expected {expected}.", shorten(value), expected, None)
        )
    if code == "CC106":
        tags = err.get("ctx", {}).get("expected_tags", "")
        tag = _show(err.get("ctx", {}).get("tag"))
        return code, _tuple_new(
            Hit, (loc, f"Unknown variant tag {tag}; expected one of {tags}.", shorten(value), None, None)
        )
    return code, _tuple_new(Hit, (loc, f"{err['msg']}; received {_show(value)}.", shorten(value), None, None))


def _type_hit(
    adapter: TypeAdapter[Any],
    doc: Any,
    loc: Loc,
    expected: list[str],
    value: Any,
    full: Callable[[str], bool] | None,
) -> tuple[str, Hit]:
    """The one hit of a place's type errors (the union's alternatives folded): CC102, or for null CC107/CC109."""
    if value is None:
        optional = bool(loc) and _is_optional(adapter, doc, loc)
        code = "CC109" if optional else "CC107"
    else:
        optional = False
        code = "CC102"
    if full is not None and full(code):
        return code, _tuple_new(Hit, (loc, "", None, None, None))
    joined = expected[0] if len(expected) == 1 else _join(expected)
    alternatives = expected[0] if len(expected) == 1 else " or ".join(expected)
    if value is None:
        detail = "; omit the field instead" if optional else ""
        return code, _tuple_new(Hit, (loc, f"Expected {joined}; received null{detail}.", None, alternatives, None))
    return code, _tuple_new(
        Hit,
        (
            loc,
            f"Expected {joined}; received {_json_type(value)} {_show(value)}.",
            shorten(value),
            alternatives,
            None,
        ),
    )


_tuple_new = tuple.__new__  # (a Hit without NamedTuple's Python-level __new__, as violations.hit builds it)

#: The message of a missing field, per location (a place of the contract, with its list indices): the same few
#: places miss their fields body after body. Bounded: emptied when full.
_MISSING: dict[Loc, str] = {}
_MISSING_MAX = 1024


def _missing(loc: Loc) -> Hit:
    message = _MISSING.get(loc)
    if message is None:
        if len(_MISSING) >= _MISSING_MAX:
            _MISSING.clear()
        message = _MISSING[loc] = f"Field {_name(loc)} is required but missing."
    return _tuple_new(Hit, (loc, message, None, "present", None))


def _unknown(loc: Loc, value: Any) -> Hit:
    return _tuple_new(Hit, (loc, f"Field {_name(loc)} is not in the contract.", shorten(value), None, None))


#: The hits of a null as the value of a field (a place of :func:`~chatcontract.rules._located.places`):
#: pydantic's errors for it, mapped as :func:`mapped_hits` maps them. They depend on the field alone (the place's
#: model is known from its path, and the field may be absent); each is kept with its location taken out.
_NULL_HITS: dict[Any, list[tuple[str, Hit]]] = {}


def null_hits(adapter: TypeAdapter[Any], doc: Any, nulls: list[tuple[Loc, Any, Any]]) -> Iterator[tuple[str, Hit]]:
    """``(code, hit)`` per null of :func:`~chatcontract.rules._located.placed_errors`, as :func:`mapped_hits` gives
    them for pydantic's errors of the document.
    """
    for loc, _, f in nulls:
        hits = _NULL_HITS.get(f)
        if hits is None:
            if len(_NULL_HITS) >= 1024:
                _NULL_HITS.clear()
            hits = _NULL_HITS[f] = list(mapped_hits(adapter, doc, null_errors(f, loc)))
        for code, h in hits:
            yield code, _tuple_new(Hit, (loc, h[1], h[2], h[3], h[4]))


def placed_hits(
    adapter: TypeAdapter[Any],
    doc: Any,
    nulls: list[tuple[Loc, Any, Any]],
    objects: list[dict[str, Any]],
    *,
    full: Callable[[str], bool] | None = None,
) -> list[tuple[str, Hit]]:
    """The hits of :func:`~chatcontract.rules._located.placed_errors`' answer in the order :func:`schema_hits`
    gives them (pydantic's order of the errors: the fields in their model's order, depth first, unknown keys last),
    for a caller that keeps findings as they come (a stream's chunk).
    """
    found = [(pydantic_order(adapter, doc, h[0]), code, h) for code, h in object_hits(objects, full=full)]
    found += [(pydantic_order(adapter, doc, h[0]), code, h) for code, h in null_hits(adapter, doc, nulls)]
    found.sort(key=lambda entry: entry[0])
    return [(code, h) for _, code, h in found]


def object_hits(
    errors: list[dict[str, Any]], *, full: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, Hit]]:
    """``(code, hit)`` per error of a model about its own keys (``missing``, ``extra_forbidden``), as
    :func:`mapped_hits` maps them: the located route spells these errors itself (``_located._object_errors``), at
    exact locations with no union label, so none of :func:`mapped_hits`' untangling applies.
    """
    for err in errors:
        loc = err["loc"]
        if err["type"] == "missing":
            if full is not None and full("CC101"):
                yield "CC101", _tuple_new(Hit, (loc, "", None, None, None))
            else:
                yield "CC101", _missing(loc)
        elif full is not None and full("CC104"):
            yield "CC104", _tuple_new(Hit, (loc, "", None, None, None))
        else:
            yield "CC104", _unknown(loc, err["input"])


def _longest_list(doc: Any, longer_than: int) -> tuple[str | int, ...] | None:
    """The path of the longest list in ``doc`` with more than ``longer_than`` items (``None`` when there is none)."""
    best: tuple[str | int, ...] | None = None
    longest = longer_than
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            if len(node) > longest:
                best, longest = path, len(node)
            stack.extend(((*path, i), v) for i, v in enumerate(node) if isinstance(v, (dict, list)))
    return best


def _with(node: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of ``node`` with ``value`` at ``path`` (only the containers along the path are copied)."""
    if not path:
        return value
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _with(node[path[0]], path[1:], value)
    return copy


def _batched_hits(
    adapter: TypeAdapter[Any],
    doc: Any,
    path: tuple[str | int, ...],
    *,
    what: str,
    full: Callable[[str], bool] | None,
) -> Iterator[tuple[str, Hit]]:
    """The hits of ``doc`` with the list at ``path`` validated ``_BATCH`` items at a time.

    Each batch validates the document with that slice in place of the list: the items' hits get their real
    indices back, and what lies outside the list (the same in every batch) is taken from the first batch only.
    Items of a list are validated independently, so the hits are those of one whole validation.
    """
    items = _at(doc, path)
    depth = len(path)
    for start in range(0, len(items), _BATCH):
        piece = _with(doc, path, items[start : start + _BATCH])
        for code, h in schema_hits(adapter, piece, what=what, full=full):
            loc = h.loc
            index = loc[depth] if len(loc) > depth and loc[:depth] == path else None
            if isinstance(index, int):
                if start:
                    h = h._replace(loc=(*path, index + start, *loc[depth + 1 :]))
                yield code, h
            elif start == 0:
                yield code, h


def _at(doc: Any, path: tuple[str | int, ...]) -> Any:
    node = doc
    for seg in path:
        node = node[seg]
    return node


def _drop_mismatched_members(errors: list[Any]) -> list[Any]:
    """In untagged unions, drop the errors of members whose own ``type``/``role`` constant the input contradicts.

    ``[{"type": "text", "text": 5}]`` against ``TextChunk | ToolReferenceChunk | ReferenceChunk`` fails all three;
    only TextChunk's complaint (``text`` is not a string) is about the value the sender meant.
    """
    for err in errors:
        if err["type"] == "literal_error":
            break
    else:  # no member's constant can be contradicted: nothing to drop
        return errors
    mismatched: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}  # union point -> member prefixes that mismatch
    members: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
    for err in errors:
        loc = tuple(err["loc"])
        if len(loc) >= 2 and isinstance(loc[-2], str) and not loc[-2].islower():  # e.g. ("...", "TextChunk", "x")
            members.setdefault(loc[:-2], set()).add(loc[:-1])
        if (
            err["type"] == "literal_error"
            and len(loc) >= 2
            and loc[-1] in ("type", "role")
            and isinstance(err.get("input"), str)
        ):
            mismatched.setdefault(loc[:-2], set()).add(loc[:-1])
    drop = set()
    for point, bad in mismatched.items():
        if members.get(point, set()) - bad:  # some member's constant matched: it is the intended one
            drop |= bad
    if not drop:
        return errors
    return [e for e in errors if not any(tuple(e["loc"])[: len(prefix)] == prefix for prefix in drop)]


def _without(doc: Any, loc: Loc) -> Any:
    """A copy of ``doc`` with the key at ``loc`` removed (only the containers along the path are copied)."""
    if not loc:
        return doc
    head, rest = loc[0], loc[1:]
    if isinstance(doc, dict):
        copy = dict(doc)
        if not rest:
            copy.pop(head, None)
        elif head in copy:
            copy[head] = _without(copy[head], rest)
        return copy
    if isinstance(doc, list) and isinstance(head, int) and 0 <= head < len(doc):
        items = list(doc)
        items[head] = _without(items[head], rest) if rest else items[head]
        return items
    return doc


_OPTIONAL: dict[tuple[int, tuple[str | int, ...]], bool] = {}
#: :data:`_OPTIONAL` by the location itself (with its list indices), which costs no index-free copy to look up:
#: the same few places hold a null body after body. Bounded: emptied when full.
_OPTIONAL_AT: dict[tuple[int, Loc], bool] = {}
_OPTIONAL_AT_MAX = 1024


def _is_optional(adapter: TypeAdapter[Any], doc: Any, loc: Loc) -> bool:
    """Whether the field at ``loc`` may be absent: validate once more without it and look for a 'missing' error.

    The answer depends on the schema, not on list positions, so it is cached per adapter and index-free path.
    """
    if not isinstance(loc[-1], str):
        return False
    at = (id(adapter), loc)
    cached = _OPTIONAL_AT.get(at)
    if cached is not None:
        return cached
    key = (id(adapter), tuple(0 if isinstance(seg, int) else seg for seg in loc))
    cached = _OPTIONAL.get(key)
    if cached is None:
        cached = _OPTIONAL[key] = _optional_uncached(adapter, doc, loc)
    if len(_OPTIONAL_AT) >= _OPTIONAL_AT_MAX:
        _OPTIONAL_AT.clear()
    _OPTIONAL_AT[at] = cached
    return cached


def _optional_uncached(adapter: TypeAdapter[Any], doc: Any, loc: Loc) -> bool:
    trimmed = _without(doc, loc)
    try:
        adapter.validate_python(trimmed)
    except ValidationError as exc:
        return not any(
            e["type"] == "missing" and _clean_loc(trimmed, tuple(e["loc"]), True, _tagged_trie(adapter))[0] == loc
            for e in exc.errors()
        )
    return True


_ORDER = {n: i for i, n in enumerate(["object", "array", "string", "integer", "number", "boolean", "null"])}


def _rank(name: str) -> int:
    return _ORDER.get(name, 99)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return items[0] if items else "another type"
    return ", ".join(items[:-1]) + " or " + items[-1]


def _name(loc: Loc) -> str:
    """``format_path(loc)``, without a generator for the usual keys and indices."""
    out = "$"
    for seg in loc:
        if type(seg) is int:
            out += f"[{seg}]"
        elif type(seg) is str and seg.isidentifier():
            out += "." + seg
        else:
            return format_path(loc)
    return out


_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False) without a new encoder
_encode_str: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_CONSTANTS = {None: "null", True: "true", False: "false"}


def _show(value: Any) -> str:
    """``json.dumps(shorten(value, 60), ensure_ascii=False)``, or its ``repr`` when it is not JSON."""
    shown = shorten(value, 60)
    kind = type(shown)
    if kind is str:
        return str(_encode_str(shown))
    if kind is int:
        return repr(shown)  # (exactly an int or a float: their own repr, without the slot wrapper's call)
    if kind is float and shown - shown == 0.0:  # finite
        return repr(shown)
    if shown is None or kind is bool:
        return _CONSTANTS[shown]
    try:
        return _encode(shown)
    except (TypeError, ValueError):
        return repr(shown)
