"""Hypothesis strategies: valid chat-completion responses per dialect, and single-point mutations of them.

The generators follow the contract models in ``chatcontract/contracts`` (``_mistral_responses.py`` and
``_openai_responses.py``) by hand; :data:`SHAPES` restates, per object kind, which fields exist, which are
required, which JSON types each accepts and which string values an enumerated field allows.
``tests/test_properties.py`` checks that table against the pydantic models, so when a contract changes the table
(and these generators) must follow.

Valid means *no violation at all*, warnings included, so the generators also respect the consistency rules:
``total_tokens == prompt_tokens + completion_tokens``, choice indices are a permutation of ``0..n-1``,
``finish_reason`` is ``tool_calls`` exactly when the message has tool calls, tool-call ids are unique nine-character
ASCII alphanumerics, ``arguments`` is ``json.dumps`` of a dict, ``created`` is a plausible Unix time in seconds,
``id`` and ``model`` are not blank, and extra keys (where the contract allows them) are never ``error``.

Mutations (:func:`mutations`) pick one place in a valid document and break it in one way; each carries the rule
code and the path where the checker must report it.
"""

from __future__ import annotations

import copy
import json
import math
import string
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

# When a @given test fails, hypothesis' pytest plugin imports hypothesis.extra._patching (to suggest an @example
# patch), which imports libcst, which touches the deprecated mypy_extensions.TypedDict. Under this project's
# ``filterwarnings = ["error"]`` that DeprecationWarning becomes an INTERNALERROR that hides the real failure.
# Importing it once here, with that warning silenced, keeps failures readable. (Better: an ``ignore`` entry for
# this message in pyproject.toml's filterwarnings.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # libcst not installed: the plugin skips the patch, nothing to do
        pass

Loc = tuple[str | int, ...]

ALNUM = string.ascii_letters + string.digits
CREATED_MIN = 1_000_000_000  # CC209: earlier than 2001 is implausible
CREATED_MAX = 1_750_000_000  # mid-2025: safely below "now + 1 year" whenever these tests run
TOKENS_MAX = 2**31  # sums stay far inside int64

MISTRAL_FINISH = ("stop", "length", "model_length", "error", "tool_calls")
OPENAI_FINISH = ("stop", "length", "tool_calls", "content_filter", "function_call")
OPENAI_SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast")

# ----------------------------------------------------------------------------------------------------------------
# Shapes: what each object kind looks like (the generators below produce exactly these)
# ----------------------------------------------------------------------------------------------------------------

STR, INT, NUM, BOOL, ARR, OBJ, NULL = "string", "integer", "number", "boolean", "array", "object", "null"


@dataclass(frozen=True)
class Field:
    """One field of an object kind.

    ``types``: the JSON types the contract accepts. ``required``: the key must be present. ``enum``: the closed
    set of string values (CC103 for others). ``tag``: the field is the discriminator of a tagged union (CC106
    for an unknown tag, reported at the object). ``kind`` / ``item``: the object kind of the value / of the array
    items, for walking into them.
    """

    types: frozenset[str]
    required: bool
    enum: tuple[str, ...] | None = None
    tag: bool = False
    kind: str | None = None
    item: str | None = None

    @property
    def nullable(self) -> bool:
        return NULL in self.types


def F(types: str, required: bool = False, **kw: Any) -> Field:  # noqa: N802 - table shorthand
    return Field(frozenset(types.split("|")), required, **kw)


REQ = True

SHAPES: dict[str, dict[str, dict[str, Field]]] = {
    "mistral": {
        "response": {
            "id": F(STR, REQ),
            "object": F(STR, REQ),  # a free string in [MS]; CC212 warns on other values
            "model": F(STR, REQ),
            "usage": F(OBJ, REQ, kind="usage"),
            "created": F(INT, REQ),
            "choices": F(ARR, REQ, item="choice"),
        },
        "usage": {
            "prompt_tokens": F(INT, REQ),
            "completion_tokens": F(INT, REQ),
            "total_tokens": F(INT, REQ),
            "prompt_audio_seconds": F("integer|null"),
            "service_tier": F("string|null"),
        },
        "choice": {
            "index": F(INT, REQ),
            "message": F(OBJ, kind="message"),
            "messages": F(ARR),  # DeltaMessage list: allowed by the contract, not generated
            "finish_reason": F(STR, REQ, enum=MISTRAL_FINISH),
            "logprobs": F("object|null"),
            "prompt_logprobs": F("object|null"),
        },
        "message": {
            "role": F(STR, enum=("assistant",)),
            "content": F("string|array|null", item="chunk"),
            "tool_calls": F("array|null", item="tool_call"),
            "prefix": F(BOOL),
        },
        "tool_call": {
            "id": F(STR),
            "type": F(STR, enum=("function",)),
            "function": F(OBJ, REQ, kind="function"),
            "index": F(INT),
        },
        "function": {"name": F(STR, REQ), "arguments": F("object|string", REQ)},
        # content chunks: a tagged union on "type"
        "chunk:text": {"type": F(STR, REQ, tag=True), "text": F(STR, REQ)},
        "chunk:thinking": {
            "type": F(STR, REQ, tag=True),
            "thinking": F(ARR, REQ, item="inner"),
            "signature": F("string|null"),
            "closed": F(BOOL),
        },
        # items of ThinkChunk.thinking: a plain (untagged) union whose members we only generate as text chunks
        "inner:text": {"type": F(STR, enum=("text",)), "text": F(STR, REQ)},
    },
    "openai": {
        "response": {
            "id": F(STR, REQ),
            "choices": F(ARR, REQ, item="choice"),
            "created": F(INT, REQ),
            "model": F(STR, REQ),
            "metadata": F("object|null"),
            "service_tier": F("string|null", enum=OPENAI_SERVICE_TIERS),
            "system_fingerprint": F(STR),
            "object": F(STR, REQ, enum=("chat.completion",)),
            "usage": F(OBJ, kind="usage"),
            "moderation": F("object|null"),
        },
        "usage": {
            "completion_tokens": F(INT, REQ),
            "prompt_tokens": F(INT, REQ),
            "total_tokens": F(INT, REQ),
            "completion_tokens_details": F(OBJ, kind="completion_details"),
            "prompt_tokens_details": F(OBJ, kind="prompt_details"),
        },
        "completion_details": {
            "accepted_prediction_tokens": F(INT),
            "audio_tokens": F(INT),
            "reasoning_tokens": F(INT),
            "text_tokens": F(INT),
            "rejected_prediction_tokens": F(INT),
        },
        "prompt_details": {
            "audio_tokens": F(INT),
            "cached_tokens": F(INT),
            "text_tokens": F(INT),
            "image_tokens": F(INT),
            "cache_write_tokens": F(INT),
        },
        "choice": {
            "finish_reason": F(STR, REQ, enum=OPENAI_FINISH),
            "index": F(INT, REQ),
            "message": F(OBJ, REQ, kind="message"),
            "logprobs": F("object|null", REQ, kind="logprobs"),
        },
        "message": {
            "content": F("string|null", REQ),
            "refusal": F("string|null", REQ),
            "tool_calls": F(ARR, item="tool_call"),
            "annotations": F(ARR, item="annotation"),
            "role": F(STR, REQ, enum=("assistant",)),
            "function_call": F(OBJ, kind="function"),
            "audio": F("object|null", kind="audio"),
        },
        # tool calls: a tagged union on "type"
        "tool_call:function": {
            "id": F(STR, REQ),
            "type": F(STR, REQ, tag=True),
            "function": F(OBJ, REQ, kind="function"),
        },
        "tool_call:custom": {"id": F(STR, REQ), "type": F(STR, REQ, tag=True), "custom": F(OBJ, REQ, kind="custom")},
        "function": {"name": F(STR, REQ), "arguments": F(STR, REQ)},
        "custom": {"name": F(STR, REQ), "input": F(STR, REQ)},
        "annotation": {"type": F(STR, REQ, enum=("url_citation",)), "url_citation": F(OBJ, REQ, kind="url_citation")},
        "url_citation": {
            "end_index": F(INT, REQ),
            "start_index": F(INT, REQ),
            "url": F(STR, REQ),
            "title": F(STR, REQ),
        },
        "audio": {"id": F(STR, REQ), "expires_at": F(INT, REQ), "data": F(STR, REQ), "transcript": F(STR, REQ)},
        "logprobs": {
            "content": F("array|null", REQ, item="token_logprob"),
            "refusal": F("array|null", REQ, item="token_logprob"),
        },
        "token_logprob": {
            "token": F(STR, REQ),
            "logprob": F("number|integer", REQ),
            "bytes": F("array|null", REQ),
            "top_logprobs": F(ARR, REQ, item="top_logprob"),
        },
        "top_logprob": {"token": F(STR, REQ), "logprob": F("number|integer", REQ), "bytes": F("array|null", REQ)},
    },
}

# Object kinds that are tagged unions: the member is chosen by the value of "type".
_TAGGED = {("mistral", "chunk"), ("mistral", "inner"), ("openai", "tool_call")}


def shape_of(dialect: str, kind: str, node: dict[str, Any]) -> tuple[str, dict[str, Field]]:
    """The (member) kind name and field table for an object ``node`` of ``kind``."""
    if (dialect, kind) in _TAGGED:
        member = f"{kind}:{node.get('type')}"
        return member, SHAPES[dialect][member]
    return kind, SHAPES[dialect][kind]


@dataclass(frozen=True)
class Slot:
    """A field of a document: where it is, what it must be, and the object kind holding it."""

    loc: Loc
    field: Field
    owner: str
    present: bool


def slots(doc: dict[str, Any], dialect: str) -> list[Slot]:
    """Every field (present, or absent-but-known) of every object the shapes describe, in document order."""
    out: list[Slot] = []

    def visit(node: Any, kind: str, loc: Loc) -> None:
        if not isinstance(node, dict):
            return
        member, table = shape_of(dialect, kind, node)
        for name, field in table.items():
            here = (*loc, name)
            present = name in node
            out.append(Slot(here, field, member, present))
            if not present:
                continue
            value = node[name]
            if field.kind is not None:
                visit(value, field.kind, here)
            if field.item is not None and isinstance(value, list):
                for i, item in enumerate(value):
                    visit(item, field.item, (*here, i))

    visit(doc, "response", ())
    return out


# ----------------------------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------------------------

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
text = st.text(max_size=10)
nonblank = st.text(min_size=1, max_size=16).filter(lambda s: s.strip() != "")
alnum_id = st.text(alphabet=ALNUM, min_size=1, max_size=24)
created = st.integers(min_value=CREATED_MIN, max_value=CREATED_MAX)
tokens = st.integers(min_value=0, max_value=TOKENS_MAX)

json_scalars = st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=4,
)
json_objects = st.dictionaries(text, json_values, max_size=3)

# Extra keys where the contract allows them (open models). Never "error" (CC503) and never a known field name.
extra_keys = st.text(alphabet=ALNUM + "_-", min_size=1, max_size=10).map(lambda s: "x-" + s)
extras = st.dictionaries(extra_keys, json_scalars, max_size=1)
nine_alnum = st.text(alphabet=ALNUM, min_size=9, max_size=9)

# Generation is written as plain helpers taking ``draw`` (rather than nested @composite strategies built per draw):
# building strategy objects inside a draw is what makes hypothesis generation slow.


def _permute(draw: st.DrawFn, items: list[Any]) -> list[Any]:
    """A random permutation of ``items`` from a single draw (its Lehmer code); shrinks to the identity."""
    code = draw(st.integers(min_value=0, max_value=math.factorial(len(items)) - 1)) if len(items) > 1 else 0
    pool, out = list(items), []
    for radix in range(len(pool), 0, -1):
        code, pick = divmod(code, radix)
        out.append(pool.pop(pick))
    return out


def _ordered(draw: st.DrawFn, required: dict[str, Any], optional: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """An object with every ``required`` key and a random subset of ``optional`` ones, in a random key order."""
    fields = dict(required)
    if optional:
        present = draw(st.integers(min_value=0, max_value=2 ** len(optional) - 1))
        for bit, (name, strategy) in enumerate(optional.items()):
            if present >> bit & 1:
                fields[name] = draw(strategy)
    return {k: fields[k] for k in _permute(draw, list(fields))}


def _choices(draw: st.DrawFn, make_choice: Any) -> list[dict[str, Any]]:
    """1-4 choices whose indices are a permutation of 0..n-1 (CC204)."""
    n = draw(st.integers(min_value=1, max_value=4))
    return [make_choice(draw, index) for index in _permute(draw, list(range(n)))]


def _tool_call_ids(draw: st.DrawFn) -> list[str]:
    """1-3 distinct ids of nine ASCII letters or digits (Mistral's format, CC216; unique per message, CC208)."""
    return draw(st.lists(nine_alnum, min_size=1, max_size=3, unique=True))


def _arguments_text(draw: st.DrawFn) -> str:
    """``json.dumps`` of a JSON object (CC207)."""
    return json.dumps(draw(json_objects), ensure_ascii=draw(st.booleans()))


# ----------------------------------------------------------------------------------------------------------------
# Mistral
# ----------------------------------------------------------------------------------------------------------------

_M_USAGE_OPTIONAL = {
    "prompt_audio_seconds": st.none() | st.integers(min_value=0, max_value=3600),
    "service_tier": st.none() | st.sampled_from(["standard", "priority"]),
}
_M_TEXT_CHUNK = st.builds(lambda t: {"type": "text", "text": t}, text)
_M_THINK_OPTIONAL = {"signature": st.none() | text, "closed": st.booleans()}


def _m_usage(draw: st.DrawFn) -> dict[str, Any]:
    p, c = draw(tokens), draw(tokens)
    return _ordered(draw, {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}, _M_USAGE_OPTIONAL)


@st.composite
def _m_think_chunk(draw: st.DrawFn) -> dict[str, Any]:
    inner = draw(st.lists(_M_TEXT_CHUNK, min_size=1, max_size=2))
    return _ordered(draw, {"type": "thinking", "thinking": inner}, _M_THINK_OPTIONAL)


_M_CONTENT = st.one_of(text, st.none(), st.lists(_M_TEXT_CHUNK | _m_think_chunk(), min_size=1, max_size=3))
_M_MESSAGE_OPTIONAL = {"role": st.just("assistant"), "content": _M_CONTENT, "prefix": st.booleans()}
_M_NO_TOOL_CALLS: st.SearchStrategy[list[Any] | None] = st.none() | st.just([])


def _m_tool_calls(draw: st.DrawFn) -> list[dict[str, Any]]:
    calls = []
    for pos, call_id in enumerate(_tool_call_ids(draw)):
        # [MS] FunctionCall.arguments: a JSON-encoded object, or (Mistral only) the object itself.
        arguments: Any = _arguments_text(draw) if draw(st.integers(0, 3)) else draw(json_objects)
        function = {"name": draw(nonblank), "arguments": arguments}
        optional = {"type": st.just("function"), "index": st.just(pos)}
        calls.append(_ordered(draw, {"id": call_id, "function": function}, optional))
    return calls


def _m_message(draw: st.DrawFn, with_tools: bool) -> dict[str, Any]:
    if with_tools:
        return _ordered(draw, {"tool_calls": _m_tool_calls(draw)}, _M_MESSAGE_OPTIONAL)
    return _ordered(draw, {}, {**_M_MESSAGE_OPTIONAL, "tool_calls": _M_NO_TOOL_CALLS})


_M_FINISH_WITHOUT_TOOLS = st.sampled_from([r for r in MISTRAL_FINISH if r != "tool_calls"])
_M_CHOICE_OPTIONAL = {"logprobs": st.none(), "prompt_logprobs": st.none()}


def _m_choice(draw: st.DrawFn, index: int) -> dict[str, Any]:
    with_tools = draw(st.booleans())
    finish = "tool_calls" if with_tools else draw(_M_FINISH_WITHOUT_TOOLS)
    required = {"index": index, "message": _m_message(draw, with_tools), "finish_reason": finish}
    return {**_ordered(draw, required, _M_CHOICE_OPTIONAL), **draw(extras)}


@st.composite
def mistral_response(draw: st.DrawFn) -> dict[str, Any]:
    """A ``ChatCompletionResponse`` that conforms to the Mistral contract without a single violation."""
    required = {
        "id": "cmpl-" + draw(alnum_id),
        "object": "chat.completion",
        "model": draw(nonblank),
        "usage": _m_usage(draw),
        "created": draw(created),
        "choices": _choices(draw, _m_choice),
    }
    return {**_ordered(draw, required, {}), **draw(extras)}


# ----------------------------------------------------------------------------------------------------------------
# OpenAI
# ----------------------------------------------------------------------------------------------------------------

byte_lists = st.none() | st.lists(st.integers(0, 255), max_size=4)
logprob_values = st.floats(max_value=0, allow_nan=False, allow_infinity=False) | st.integers(-50, 0)
_O_TOP_LOGPROB = st.fixed_dictionaries({"token": text, "logprob": logprob_values, "bytes": byte_lists})
_O_TOKEN_LOGPROB = st.fixed_dictionaries(
    {
        "token": text,
        "logprob": logprob_values,
        "bytes": byte_lists,
        "top_logprobs": st.lists(_O_TOP_LOGPROB, max_size=2),
    }
)
_O_LOGPROBS = st.none() | st.fixed_dictionaries(
    {
        "content": st.none() | st.lists(_O_TOKEN_LOGPROB, max_size=2),
        "refusal": st.none() | st.lists(_O_TOKEN_LOGPROB, max_size=1),
    }
)
_O_AUDIO = st.none() | st.fixed_dictionaries({"id": alnum_id, "expires_at": created, "data": text, "transcript": text})
_O_RESPONSE_OPTIONAL_STATIC = {
    "system_fingerprint": st.just("fp_44709d6fcb"),
    "service_tier": st.none() | st.sampled_from(OPENAI_SERVICE_TIERS),
    "metadata": st.none() | st.dictionaries(alnum_id, text, max_size=2),
}
_O_FINISH_WITHOUT_TOOLS = st.sampled_from([r for r in OPENAI_FINISH if r != "tool_calls"])


def _o_usage(draw: st.DrawFn) -> dict[str, Any]:
    p, c = draw(tokens), draw(tokens)
    details_c = {"reasoning_tokens": draw(st.integers(0, c)), "audio_tokens": 0}
    details_p = {"cached_tokens": draw(st.integers(0, p)), "audio_tokens": 0}
    optional = {"completion_tokens_details": st.just(details_c), "prompt_tokens_details": st.just(details_p)}
    return _ordered(draw, {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}, optional)


def _o_tool_calls(draw: st.DrawFn) -> list[dict[str, Any]]:
    calls = []
    for call_id in _tool_call_ids(draw):
        if draw(st.integers(0, 4)):
            body = {"name": draw(nonblank), "arguments": _arguments_text(draw)}
            call = {"id": call_id, "type": "function", "function": body}
        else:
            call = {"id": call_id, "type": "custom", "custom": {"name": draw(nonblank), "input": draw(text)}}
        calls.append(_ordered(draw, call, {}))
    return calls


@st.composite
def _o_annotation(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.integers(0, 1000))
    end = draw(st.integers(start, start + 1000))
    url = "https://example.com/" + draw(alnum_id)
    citation = {"end_index": end, "start_index": start, "url": url, "title": draw(text)}
    return {"type": "url_citation", "url_citation": citation}


_O_MESSAGE_OPTIONAL = {"annotations": st.lists(_o_annotation(), max_size=2), "audio": _O_AUDIO}


def _o_message(draw: st.DrawFn, with_tools: bool) -> dict[str, Any]:
    required: dict[str, Any] = {
        "role": "assistant",
        "content": draw(st.none() | text),
        "refusal": draw(st.none() | text),
    }
    optional = dict(_O_MESSAGE_OPTIONAL)
    if with_tools:
        required["tool_calls"] = _o_tool_calls(draw)
    else:
        optional["tool_calls"] = st.just([])
    return _ordered(draw, required, optional)


def _o_choice(draw: st.DrawFn, index: int) -> dict[str, Any]:
    with_tools = draw(st.booleans())
    finish = "tool_calls" if with_tools else draw(_O_FINISH_WITHOUT_TOOLS)
    required = {
        "index": index,
        "message": _o_message(draw, with_tools),
        "logprobs": draw(_O_LOGPROBS),
        "finish_reason": finish,
    }
    return {**_ordered(draw, required, {}), **draw(extras)}


@st.composite
def openai_response(draw: st.DrawFn) -> dict[str, Any]:
    """A ``ChatCompletion`` that conforms to the OpenAI contract without a single violation."""
    required = {
        "id": "chatcmpl-" + draw(alnum_id),
        "object": "chat.completion",
        "created": draw(created),
        "model": draw(nonblank),
        "choices": _choices(draw, _o_choice),
    }
    optional = dict(_O_RESPONSE_OPTIONAL_STATIC)
    if draw(st.booleans()):
        required["usage"] = _o_usage(draw)
    return {**_ordered(draw, required, optional), **draw(extras)}


_RESPONSES = {"mistral": mistral_response(), "openai": openai_response()}


def responses(dialect: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid responses of ``dialect``."""
    return _RESPONSES[dialect]


# ----------------------------------------------------------------------------------------------------------------
# Mutations
# ----------------------------------------------------------------------------------------------------------------

#: Wrong-typed replacement values: (value, its JSON type, a label for test output).
WRONG_VALUES: tuple[tuple[Any, str, str], ...] = (
    ("abc", STR, "string"),
    ("10", STR, "numeric string"),
    (7, INT, "integer"),
    (True, BOOL, "boolean"),
    (1.5, NUM, "fractional number"),
    ([1], ARR, "array"),
    ({"k": 1}, OBJ, "object"),
    (None, NULL, "null"),
)


@dataclass(frozen=True)
class Mutation:
    """One change to a valid document and the violation it must cause."""

    op: str  # "drop" | "retype" | "enum" | "tag"
    loc: Loc  # where the document is changed
    value: Any  # the new value (unused for "drop")
    code: str  # the rule code the checker must report
    at: Loc  # where it must report it
    label: str

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        node: Any = out
        for seg in self.loc[:-1]:
            node = node[seg]
        if self.op == "drop":
            del node[self.loc[-1]]
        else:
            node[self.loc[-1]] = copy.deepcopy(self.value)
        return out

    def __str__(self) -> str:
        where = "/" + "/".join(map(str, self.loc))
        return f"{self.op} {where} ({self.label}) -> {self.code} at /{'/'.join(map(str, self.at))}"


#: The code for a value of the wrong JSON type in an *enumerated* field (``"finish_reason": 7``, ``"role": []``): CC102
#: (wrong type), as for any other field. The engine currently reports CC103 (invalid enum value) there; if that is
#: the intended classification, change it here.
ENUM_WRONG_TYPE_CODE = "CC102"


def _null_code(field: Field) -> str:
    # CC107: null where the contract does not allow it. A field that may be *absent* (but not null) is reported as
    # CC109 (a warning: "omit the field instead").
    return "CC107" if field.required else "CC109"


def _candidates(slot: Slot) -> Iterator[Mutation]:
    """The mutations of one field and the violation each must cause.

    * drop a required field -> CC101 at the field;
    * a value of a JSON type the field does not accept -> CC102 at the field, also on enumerated fields
      (``"finish_reason": 7`` is a wrong type, not an unknown member); ``null`` -> CC107 (required field) or
      CC109 (a field that may be absent but not null);
    * an unknown string in an enumerated field -> CC103 at the field;
    * an unknown tag in a tagged union -> CC106 at the tagged object (where the engine reports the variant).
    """
    f, loc = slot.field, slot.loc
    if f.required and slot.present:
        yield Mutation("drop", loc, None, "CC101", loc, "required field removed")
    if not slot.present:
        return
    for value, json_type, label in WRONG_VALUES:
        if json_type in f.types or (json_type == INT and NUM in f.types):
            continue
        if f.tag:
            continue  # the tag of a tagged union: see "tag" below
        code = _null_code(f) if value is None else ENUM_WRONG_TYPE_CODE if f.enum is not None else "CC102"
        yield Mutation("retype", loc, value, code, loc, label)
    if f.enum is not None:
        yield Mutation("enum", loc, None, "CC103", loc, "unknown enum value")
    if f.tag:
        yield Mutation("tag", loc, None, "CC106", loc[:-1], "unknown variant tag")


def mutation_candidates(doc: dict[str, Any], dialect: str) -> list[Mutation]:
    """Every single-point mutation of ``doc`` the shapes allow (``enum``/``tag`` ones still need a value)."""
    return [_one_cause(m, doc) for slot in slots(doc, dialect) for m in _candidates(slot)]


_MESSAGE_FIELDS = ("message", "messages")


def _one_cause(m: Mutation, doc: dict[str, Any]) -> Mutation:
    """A null ``message`` leaves a choice without a message (CC213 at the choice, which explains the null: no CC109),
    unless the choice has its other message field (``messages``, Mistral's)."""
    if not (m.op == "retype" and m.value is None and m.code == "CC109" and m.loc and m.loc[-1] in _MESSAGE_FIELDS):
        return m
    choice: Any = doc
    for seg in m.loc[:-1]:
        choice = choice[seg]
    other = next(f for f in _MESSAGE_FIELDS if f != m.loc[-1])
    if isinstance(choice, dict) and not choice.get(other):
        return Mutation(m.op, m.loc, m.value, "CC213", m.loc[:-1], m.label + " (a choice without a message)")
    return m


def unknown_string(allowed: tuple[str, ...] | None) -> st.SearchStrategy[str]:
    """A string that is none of ``allowed``."""
    return st.text(min_size=0, max_size=12).filter(lambda s: s not in (allowed or ()))


def with_value(draw: st.DrawFn, mutation: Mutation, doc: dict[str, Any], dialect: str) -> Mutation:
    """Draw the unknown string an ``enum`` or ``tag`` mutation writes (other mutations are returned unchanged)."""
    if mutation.op == "enum":
        field = next(s.field for s in slots(doc, dialect) if s.loc == mutation.loc)
        value = draw(unknown_string(field.enum))
    elif mutation.op == "tag":
        value = draw(unknown_string(KNOWN_TAGS[dialect]))
    else:
        return mutation
    return Mutation(mutation.op, mutation.loc, value, mutation.code, mutation.at, mutation.label)


@st.composite
def mutated(draw: st.DrawFn, dialect: str) -> tuple[dict[str, Any], dict[str, Any], Mutation]:
    """``(valid document, mutated document, mutation)``: one valid response broken in one place."""
    doc = draw(responses(dialect))
    mutation = with_value(draw, draw(st.sampled_from(mutation_candidates(doc, dialect))), doc, dialect)
    return doc, mutation.apply(doc), mutation


#: Every tag the contracts know for the tagged unions the generators use (the generators use only some of them).
KNOWN_TAGS = {
    "mistral": (
        "text",
        "image_url",
        "document_url",
        "reference",
        "file",
        "thinking",
        "input_audio",
        "resource",
        "resource_link",
    ),
    "openai": ("function", "custom"),
}


# ----------------------------------------------------------------------------------------------------------------
# Fixed documents that contain every object kind of SHAPES (for exhaustive, deterministic mutation sweeps)
# ----------------------------------------------------------------------------------------------------------------

RICH: dict[str, dict[str, Any]] = {
    "mistral": {
        "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
        "object": "chat.completion",
        "model": "magistral-medium-latest",
        "created": 1702256327,
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 9,
            "total_tokens": 21,
            "prompt_audio_seconds": None,
            "service_tier": "standard",
        },
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "thinking",
                            "thinking": [{"type": "text", "text": "Weather?"}],
                            "signature": None,
                            "closed": True,
                        },
                        {"type": "text", "text": "Let me check."},
                    ],
                    "tool_calls": [
                        {
                            "id": "D681PevKs",
                            "type": "function",
                            "index": 0,
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        },
                        {"id": "Xq2bT9wLm", "function": {"name": "get_time", "arguments": {"tz": "Europe/Paris"}}},
                    ],
                    "prefix": False,
                },
                "finish_reason": "tool_calls",
                "logprobs": None,
            },
            {
                "index": 1,
                "message": {"role": "assistant", "content": "Sunny.", "tool_calls": None},
                "finish_reason": "stop",
            },
        ],
    },
    "openai": {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4.1-2025-04-14",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "See https://example.com.",
                    "refusal": None,
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url_citation": {
                                "start_index": 4,
                                "end_index": 23,
                                "url": "https://example.com",
                                "title": "Example",
                            },
                        },
                    ],
                    "audio": {"id": "audio_1", "expires_at": 1741573552, "data": "UklGRg==", "transcript": "See."},
                },
                "logprobs": {
                    "content": [
                        {
                            "token": "See",
                            "logprob": -0.25,
                            "bytes": [83, 101, 101],
                            "top_logprobs": [{"token": "See", "logprob": -0.25, "bytes": None}],
                        },
                    ],
                    "refusal": None,
                },
                "finish_reason": "stop",
            },
            {
                "index": 1,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": "call_Q9x2bT9wLm",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        },
                        {"id": "call_D681PevKs", "type": "custom", "custom": {"name": "sql", "input": "SELECT 1"}},
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            },
        ],
        "usage": {
            "prompt_tokens": 19,
            "completion_tokens": 10,
            "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_44709d6fcb",
        "metadata": {"trace": "abc"},
    },
}

UNKNOWN = "surely-not-a-known-value"


def sweep(dialect: str) -> list[Mutation]:
    """Every single-point mutation of ``RICH[dialect]``, with a fixed unknown string for enum and tag mutations."""
    doc = RICH[dialect]
    return [
        Mutation(m.op, m.loc, UNKNOWN, m.code, m.at, m.label) if m.op in ("enum", "tag") else m
        for m in mutation_candidates(doc, dialect)
    ]
