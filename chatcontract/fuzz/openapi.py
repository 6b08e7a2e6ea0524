"""The OpenAPI 3.1 document of a dialect's ``POST /v1/chat/completions``, generated from the contracts.

``build_openapi("mistral")`` returns a plain JSON document (dicts, lists, strings, numbers, booleans) that
schemathesis, or any OpenAPI 3.1 tool, can load:

* the request body is ``GeneratedChatCompletionRequest``, a *bounded subset* of the dialect's request
  contract (one to three short messages, a tiny ``max_tokens``, at most two small function tools, no
  recursive shapes), so that the requests a fuzzer generates are realistic and cheap. The full request
  contract is included as a component, for reference;
* ``200`` is the response contract (``application/json``) and the stream (``text/event-stream``: each
  ``data:`` event is one chunk of the chunk contract, also a component);
* the error statuses carry the dialect's error bodies.

Every contract schema comes from the pydantic models (``TypeAdapter.json_schemas``, aliases, refs under
``#/components/schemas/``), so the document carries none of the published documents' defects: no
``required: [data]`` (Mistral's ``ChatCompletionResponse``) and no ``nullable`` (OpenAI's, an OpenAPI 3.0
keyword): OpenAPI 3.1 schemas are JSON Schema 2020-12, where nullability is a union with ``{"type": "null"}``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from .. import __version__
from .._exceptions import UsageError

__all__ = ["CHAT_PATH", "GENERATED_REQUEST", "build_openapi", "documented_statuses", "request_examples"]

JSON = dict[str, Any]

#: The one documented operation (``operationId: createChatCompletion``).
CHAT_PATH = "/v1/chat/completions"
#: Component name of the request schema fuzzers generate from.
GENERATED_REQUEST = "GeneratedChatCompletionRequest"

_DIALECTS = ("mistral", "openai")
_REF = "#/components/schemas/{model}"
_EXAMPLE_MODEL = {"mistral": "mistral-small-latest", "openai": "gpt-4o-mini"}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")

# Bounds of the generated request space (the contract allows far more; see GENERATED_REQUEST's description).
_MAX_CONTENT = 40
_MAX_STOP = 8
_SYSTEM_PROMPTS = ("You are a helpful assistant.", "Answer in one short sentence.", "Reply in JSON.")
#: OpenAI rejects ``response_format: json_object`` unless a message mentions JSON.
_JSON_PROMPT = "Reply in JSON."
_TOOLS = (
    ("get_weather", "Current weather in a city.", "city"),
    ("get_time", "Current time in an IANA time zone.", "timezone"),
)
_ANSWER_SCHEMA: JSON = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}

# Error statuses -> which of the dialect's error bodies (``DialectContracts.errors`` names) they carry.
_ERROR_BODIES: dict[str, dict[str, str]] = {
    "mistral": {**dict.fromkeys(("400", "401", "404", "429", "500"), "error-object"), "422": "http-validation-error"},
    "openai": dict.fromkeys(("400", "401", "404", "429", "500"), "error-response"),
}
_STATUS_TEXT = {
    "400": "Bad request: the provider rejected the request.",
    "401": "Missing or invalid API key.",
    "404": "Unknown model or route.",
    "422": "The request body failed validation (FastAPI/pydantic error list).",
    "429": "Rate limit or quota exceeded.",
    "500": "Server error.",
}


def build_openapi(
    dialect: str,
    *,
    max_tokens_cap: int = 16,
    model: str | None = None,
    servers: Sequence[str] | None = None,
) -> JSON:
    """Build the OpenAPI 3.1 document of ``dialect``'s chat-completions endpoint from its contracts.

    Args:
        dialect: ``"mistral"`` or ``"openai"``.
        max_tokens_cap: upper bound of the generated ``max_tokens`` (and, for OpenAI,
            ``max_completion_tokens``); every generated request carries at least one of them.
        model: pin the generated ``model`` to this name (an ``enum`` of one); by default any short string.
        servers: base URLs for the document's ``servers`` (the paths start with ``/v1``). None by default,
            so that a tool never falls back to a paid public API by accident.

    Returns:
        A fresh JSON-compatible dict (callers may mutate it).

    Raises:
        UsageError: an unknown dialect, a ``max_tokens_cap`` below 1, or an empty ``model`` / server URL.

    Example:
        >>> doc = build_openapi("mistral", max_tokens_cap=8, model="mistral-small-latest")
        >>> doc["components"]["schemas"]["GeneratedChatCompletionRequest"]["properties"]["max_tokens"]["maximum"]
        8
    """
    if dialect not in _DIALECTS:
        raise UsageError(f"unknown dialect {dialect!r}; valid dialects: {', '.join(_DIALECTS)}")
    if isinstance(max_tokens_cap, bool) or not isinstance(max_tokens_cap, int) or max_tokens_cap < 1:
        raise UsageError(f"max_tokens_cap must be an integer >= 1, got {max_tokens_cap!r}")
    if model is not None and (not isinstance(model, str) or not model):
        raise UsageError(f"model must be a non-empty string, got {model!r}")
    urls = list(servers or ())
    if any(not isinstance(url, str) or not url for url in urls):
        raise UsageError(f"servers must be non-empty URL strings, got {urls!r}")

    names, schemas = json.loads(_contract_schemas_json(dialect))  # a fresh copy of the cached schemas
    if GENERATED_REQUEST in schemas:  # pragma: no cover - a contract model would have to take this name
        raise RuntimeError(f"a contract model is named {GENERATED_REQUEST}")
    schemas[GENERATED_REQUEST] = _generated_request(
        dialect, names["request"], schemas[names["request"]], max_tokens_cap=max_tokens_cap, model=model
    )
    doc: JSON = {
        "openapi": "3.1.0",
        "info": {
            "title": f"Chat completions ({dialect} dialect)",
            "version": __version__,
            "description": (
                f"Generated by chatcontract {__version__} from its strict `{dialect}` contracts (pydantic models), "
                "not copied from the provider's published document. The request body is a bounded subset of the "
                f"request contract (`{GENERATED_REQUEST}`), for cheap and realistic fuzzing; the responses are "
                "the full contracts."
            ),
        },
        "x-chatcontract-dialect": dialect,
    }
    if urls:
        doc["servers"] = [{"url": url} for url in urls]
    doc["security"] = [{"bearerAuth": []}]
    examples = request_examples(dialect, max_tokens_cap=max_tokens_cap, model=model)
    doc["paths"] = {CHAT_PATH: {"post": _operation(dialect, names, examples)}}
    doc["components"] = {
        "schemas": dict(sorted(schemas.items())),
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <API key>`"}
        },
    }
    copy: JSON = json.loads(json.dumps(doc))  # plain JSON, and no shared sub-objects (no YAML aliases)
    return copy


def request_examples(dialect: str, *, max_tokens_cap: int = 16, model: str | None = None) -> dict[str, JSON]:
    """Hand-picked requests that reach every response path (schemathesis' ``examples`` phase sends them first).

    Random generation seldom combines ``stream: true`` with tools or ``n: 2`` with a stop sequence; these do,
    so that a provider's stream, tool-call, multi-choice and reasoning answers are checked on every run. Each one is an
    instance of the generation schema (a test proves it).
    """
    name = model or _EXAMPLE_MODEL[dialect]
    tokens = min(max_tokens_cap, 8)
    weather = _TOOLS[0]
    tool = {
        "type": "function",
        "function": {
            "name": weather[0],
            "description": weather[1],
            "parameters": {
                "type": "object",
                "properties": {weather[2]: {"type": "string"}},
                "required": [weather[2]],
                "additionalProperties": False,
            },
        },
    }
    ask = [{"role": "user", "content": "What is the capital of France?"}]
    weather_ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    json_ask = [{"role": "system", "content": _JSON_PROMPT}, {"role": "user", "content": "Name a colour."}]
    usage_option: JSON = {"stream_options": {"include_usage": True}} if dialect == "openai" else {}
    base: JSON = {"model": name, "max_tokens": tokens}
    # A tool call's arguments take a dozen tokens: a smaller budget ends it with finish_reason "length".
    with_tools: JSON = {"model": name, "max_tokens": max_tokens_cap}
    examples: dict[str, JSON] = {
        # Listed first: schemathesis sends the examples last to first, so these come after the others and leave
        # the fault-rate draws of the older examples (and the demo's findings) as they were.
        "reasoning": {
            "summary": "A reasoning request (reasoning_effort)",
            "value": {**base, "messages": ask, "reasoning_effort": "high"},
        },
        "reasoning-stream": {
            "summary": "A streamed reasoning request",
            "value": {
                **base,
                "messages": ask,
                "stream": True,
                # Mistral's own switch for its reasoning system prompt; OpenAI's is reasoning_effort.
                **({"prompt_mode": "reasoning"} if dialect == "mistral" else {"reasoning_effort": "high"}),
                **usage_option,
            },
        },
        "plain": {"summary": "One question", "value": {**base, "messages": ask}},
        "stream": {"summary": "A streamed answer", "value": {**base, "messages": ask, "stream": True}},
        **(
            {
                "stream-usage": {
                    "summary": "A streamed answer with a usage chunk",
                    "value": {**base, "messages": ask, "stream": True, **usage_option},
                }
            }
            if usage_option
            else {}
        ),
        "two-choices": {
            "summary": "n = 2 with a stop sequence",
            "value": {**base, "messages": ask, "n": 2, "stop": ["."]},
        },
        "tool-call": {
            "summary": "A forced tool call",
            "value": {
                **with_tools,
                "messages": weather_ask,
                "tools": [tool],
                "tool_choice": "any" if dialect == "mistral" else "required",
            },
        },
        "tool-call-stream": {
            "summary": "A forced tool call, streamed",
            "value": {
                **with_tools,
                "messages": weather_ask,
                "tools": [tool],
                "stream": True,
                "tool_choice": {"type": "function", "function": {"name": weather[0]}},
                **usage_option,
            },
        },
        "json-object": {
            "summary": "JSON mode",
            "value": {**base, "messages": json_ask, "response_format": {"type": "json_object"}},
        },
        "json-schema": {
            "summary": "Structured output",
            "value": {
                **base,
                "messages": json_ask,
                "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": _ANSWER_SCHEMA}},
            },
        },
    }
    copy: dict[str, JSON] = json.loads(json.dumps(examples))
    return copy


def documented_statuses(dialect: str) -> list[str]:
    """The statuses the document declares for ``POST /v1/chat/completions`` (``200`` and the error statuses)."""
    return ["200", *sorted(_ERROR_BODIES[dialect])]


def _operation(dialect: str, names: dict[str, str], examples: dict[str, JSON]) -> JSON:
    chunk = names["chunk"]
    responses: JSON = {
        "200": {
            "description": "The chat completion, or its stream of chunks when the request says `stream: true`.",
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=names["response"])}},
                "text/event-stream": {
                    "schema": {
                        "type": "string",
                        "description": (
                            "Server-sent events. Each `data:` event is one JSON chunk per "
                            f"`#/components/schemas/{chunk}`; the stream ends with `data: [DONE]`."
                        ),
                    },
                    "x-chatcontract-event-schema": _REF.format(model=chunk),
                },
            },
        }
    }
    for status, body in sorted(_ERROR_BODIES[dialect].items()):
        responses[status] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": _REF.format(model=names[f"error:{body}"])}}},
        }
    return {
        "operationId": "createChatCompletion",
        "summary": "Create a chat completion",
        "tags": ["chat"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=GENERATED_REQUEST)}, "examples": examples}
            },
        },
        "responses": responses,
    }


@functools.cache
def _contract_schemas_json(dialect: str) -> str:
    """JSON of: component names by role (``response``, ``chunk``, ``request``, ``error:<name>``), components."""
    from pydantic import TypeAdapter

    from ..contracts import contracts_for
    from ..rules.json_schema import require_discriminator_tags

    contracts = contracts_for(dialect)
    adapters: list[tuple[str, TypeAdapter[Any]]] = [
        ("response", contracts.response),
        ("chunk", contracts.chunk),
        ("request", contracts.request),
        *((f"error:{name}", adapter) for name, adapter in contracts.errors),
    ]
    keys, defs = TypeAdapter.json_schemas(
        [(role, "validation", adapter) for role, adapter in adapters], by_alias=True, ref_template=_REF
    )
    schemas: dict[str, JSON] = dict(defs.get("$defs", {}))
    names: dict[str, str] = {}
    for (role, _mode), schema in keys.items():
        ref = schema.get("$ref")
        if isinstance(ref, str) and len(schema) == 1:
            names[role] = ref.rsplit("/", 1)[-1]
        else:  # not a model (a bare union, say): give the top-level schema a component of its own
            names[role] = str(schema.get("title") or role.replace(":", "-"))
            schemas[names[role]] = schema
    require_discriminator_tags(schemas)
    return json.dumps([names, schemas])


# ---------------------------------------------------------------------------------------------------------------
# The generation schema
# ---------------------------------------------------------------------------------------------------------------


def _obj(properties: JSON, *optional: str) -> JSON:
    """A closed object: every property required except ``optional`` (no random extra keys get generated)."""
    return {
        "type": "object",
        "properties": properties,
        "required": [key for key in properties if key not in optional],
        "additionalProperties": False,
    }


def _const(value: Any) -> JSON:
    kind = {str: "string", bool: "boolean", dict: "object"}[type(value)]
    return {"type": kind, "const": value}


def _text(max_length: int = _MAX_CONTENT) -> JSON:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def _when(trigger: str, then: JSON, **match: JSON) -> JSON:
    """``if`` the request has ``trigger`` (whose value matches ``match``) ``then`` it must satisfy ``then``."""
    condition: JSON = {"required": [trigger]}
    if match:
        condition["properties"] = {trigger: {"properties": match}}
    return {"if": condition, "then": then}


def _contract_branch(request: JSON, name: str, key: str) -> JSON:
    """The first non-null variant of the contract's ``name`` property that has ``key`` (e.g. bounds, ``enum``)."""
    prop: JSON = request["properties"][name]
    for variant in prop.get("anyOf", [prop]):
        if isinstance(variant, dict) and key in variant:
            return variant
    raise LookupError(f"the request contract's {name!r} has no variant with {key!r}")  # pragma: no cover


def _number(request: JSON, name: str) -> JSON:
    """A number within the contract's bounds of ``name`` (e.g. ``temperature``: 0..1.5 Mistral, 0..2 OpenAI)."""
    branch = _contract_branch(request, name, "maximum")
    return {"type": "number", **{key: branch[key] for key in _BOUNDS if key in branch}}


def _tool(name: str, description: str, argument: str) -> JSON:
    parameters = {
        "type": "object",
        "properties": {argument: {"type": "string"}},
        "required": [argument],
        "additionalProperties": False,
    }
    function = _obj(
        {
            "name": _const(name),
            "description": _const(description),
            "parameters": _const(parameters),
            "strict": {"type": "boolean"},
        },
        "strict",
    )
    return _obj({"type": _const("function"), "function": function})


def _messages() -> JSON:
    def message(role: str, content: JSON) -> JSON:
        return _obj({"role": _const(role), "content": content})

    def conversation(*turns: JSON) -> JSON:
        return {"prefixItems": list(turns), "minItems": len(turns), "maxItems": len(turns)}

    system = message("system", {"type": "string", "enum": list(_SYSTEM_PROMPTS)})
    user, assistant = message("user", _text()), message("assistant", _text())
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": 3,
        "description": "A question, a system prompt and a question, or a question, an answer and a follow-up.",
        "oneOf": [conversation(user), conversation(system, user), conversation(user, assistant, user)],
    }


def _generated_request(dialect: str, contract: str, request: JSON, *, max_tokens_cap: int, model: str | None) -> JSON:
    tokens = {"type": "integer", "minimum": 1, "maximum": max_tokens_cap}
    named_choice = _obj(
        {"type": _const("function"), "function": _obj({"name": _const(_TOOLS[0][0])})}
    )  # the first tool, always present (see `tools`)
    properties: JSON = {
        "model": (
            {"type": "string", "enum": [model]}
            if model is not None
            else {**_text(64), "examples": [_EXAMPLE_MODEL[dialect]]}
        ),
        "messages": _messages(),
        "max_tokens": tokens,
    }
    if dialect == "openai":
        properties["max_completion_tokens"] = tokens
    properties |= {
        "temperature": _number(request, "temperature"),
        "top_p": _number(request, "top_p"),
        "n": {"type": "integer", "minimum": 1, "maximum": 2},
        ("seed" if dialect == "openai" else "random_seed"): {"type": "integer", "minimum": 0, "maximum": 1000},
        "stream": {"type": "boolean"},
    }
    if dialect == "openai":
        properties["stream_options"] = _obj({"include_usage": {"type": "boolean"}})
    properties |= {
        "stop": {
            "anyOf": [_text(_MAX_STOP), {"type": "array", "minItems": 1, "maxItems": 2, "items": _text(_MAX_STOP)}]
        },
        "tools": {
            "type": "array",
            "minItems": 1,
            "maxItems": 2,
            "prefixItems": [_tool(*_TOOLS[0])],
            "items": _tool(*_TOOLS[1]),
        },
        "tool_choice": {
            "anyOf": [
                {"type": "string", "enum": _contract_branch(request, "tool_choice", "enum")["enum"]},
                named_choice,
            ]
        },
        "parallel_tool_calls": {"type": "boolean"},
        # Reasoning requests: effort levels as the contract lists them ("none" turns reasoning off).
        "reasoning_effort": {"type": "string", "enum": _contract_branch(request, "reasoning_effort", "enum")["enum"]},
        **({"prompt_mode": _const("reasoning")} if dialect == "mistral" else {}),
        "response_format": {
            "oneOf": [
                _obj({"type": _const("text")}),
                _obj({"type": _const("json_object")}),
                _obj(
                    {
                        "type": _const("json_schema"),
                        "json_schema": _obj(
                            {"name": _const("answer"), "schema": _const(_ANSWER_SCHEMA), "strict": {"type": "boolean"}},
                            "strict",
                        ),
                    }
                ),
            ]
        },
    }
    required = ["model", "messages"] + (["max_tokens"] if dialect == "mistral" else [])
    schema: JSON = _obj(properties, *(key for key in properties if key not in required))
    schema["description"] = (
        f"A bounded subset of the `{dialect}` request contract (`#/components/schemas/{contract}`, included for "
        "reference): every instance of this schema is a valid request, but most valid requests are not instances. "
        "It keeps generated requests realistic and cheap: one to three messages (system prompts from a short list, "
        f"other contents 1..{_MAX_CONTENT} characters), `max_tokens` 1..{max_tokens_cap}"
        + (" (`max_tokens` or `max_completion_tokens`, at least one)" if dialect == "openai" else "")
        + ", `n` 1..2, at most two small function tools, tiny JSON schemas, no recursive or open-ended structures, "
        + ("`reasoning_effort` and `prompt_mode`. " if dialect == "mistral" else "`reasoning_effort`. ")
        + "`tool_choice` and `parallel_tool_calls` come with `tools`, "
        + ("`stream_options` with `stream: true`, " if dialect == "openai" else "")
        + "and `response_format: json_object` with a system prompt that asks for JSON."
    )
    schema["x-chatcontract-contract"] = _REF.format(model=contract)
    if dialect == "openai":
        schema["anyOf"] = [{"required": ["max_tokens"]}, {"required": ["max_completion_tokens"]}]
    conditions = [
        _when("tool_choice", {"required": ["tools"]}),
        _when("parallel_tool_calls", {"required": ["tools"]}),
        _when(
            "response_format",
            {"properties": {"messages": {"contains": {"properties": {"content": {"const": _JSON_PROMPT}}}}}},
            type={"const": "json_object"},
        ),
    ]
    if dialect == "openai":
        conditions.append(_when("stream_options", {"required": ["stream"], "properties": {"stream": {"const": True}}}))
    schema["allOf"] = conditions
    return schema
