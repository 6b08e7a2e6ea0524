"""`build_openapi` / `chatcontract openapi`: a valid OpenAPI 3.1 document, generated from the contracts."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chatcontract import UsageError
from chatcontract.cli import main
from chatcontract.contracts import DIALECTS, contracts_for
from chatcontract.fuzz.openapi import CHAT_PATH, GENERATED_REQUEST, build_openapi

from ..conftest import make_response
from ._sampler import from_schema

DOC_URI = "urn:chatcontract:openapi"
MODEL = "ref-small"  # served by the reference provider

CHUNKS = {
    "mistral": {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1702256327,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}],
        "usage": None,
    },
    "openai": {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4.1",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "logprobs": None, "finish_reason": None}
        ],
    },
}
ERROR_OBJECT = {"object": "error", "message": "Unauthorized", "type": "unauthorized", "param": None, "code": None}
ERRORS = {
    "mistral": {
        "422": {"detail": [{"loc": ["body", "messages"], "msg": "Field required", "type": "missing"}]},
        **dict.fromkeys(("400", "401", "404", "429", "500"), ERROR_OBJECT),
    },
    "openai": dict.fromkeys(
        ("400", "401", "404", "429", "500"),
        {"error": {"message": "Bad key", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}},
    ),
}


@pytest.fixture(scope="module", params=DIALECTS)
def doc(request: pytest.FixtureRequest) -> dict[str, Any]:
    return build_openapi(request.param, model=MODEL)


def dialect_of(doc: dict[str, Any]) -> str:
    return str(doc["x-chatcontract-dialect"])


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) pair of a JSON document, depth first."""
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from walk(value, (*path, key))


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for ``schema``, whose ``#/components/...`` refs resolve inside ``doc``."""
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    if "$ref" in schema:
        schema = {**schema, "$ref": DOC_URI + schema["$ref"]}
    return Draft202012Validator(schema, registry=registry)


def response_schema(doc: dict[str, Any], status: str, media: str = "application/json") -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][CHAT_PATH]["post"]["responses"][status]["content"][media]["schema"]
    return schema


def generation_schema(doc: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][GENERATED_REQUEST]
    return schema


# ---------------------------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------------------------


def test_is_a_valid_openapi_3_1_document(doc):
    validate_openapi(doc)
    assert doc["openapi"] == "3.1.0"
    op = doc["paths"][CHAT_PATH]["post"]
    assert op["operationId"] == "createChatCompletion"
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{GENERATED_REQUEST}"
    }


def test_the_validator_is_not_vacuous():
    broken = build_openapi("mistral")
    broken["paths"][CHAT_PATH]["post"]["responses"]["200"]["content"] = "application/json"
    with pytest.raises(OpenAPIValidationError):
        validate_openapi(broken)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_options_keep_the_document_valid(dialect):
    doc = build_openapi(dialect, max_tokens_cap=3, servers=["http://127.0.0.1:8000", "https://example.test/"])
    validate_openapi(doc)
    assert doc["servers"] == [{"url": "http://127.0.0.1:8000"}, {"url": "https://example.test/"}]
    assert "servers" not in build_openapi(dialect)  # no silent default to a paid public API


def test_no_nullable_anywhere(doc):
    assert [path for path, _ in walk(doc) if path and path[-1] == "nullable"] == []
    null_unions = [v for _, v in walk(doc) if isinstance(v, dict) and v.get("type") == "null"]
    assert null_unions, "nullability is spelled as a union with {'type': 'null'}"


def undeclared_required(node: Any) -> list[tuple[tuple[Any, ...], str]]:
    """``(path, key)`` for every key a schema lists in ``required`` but does not declare in ``properties``."""
    return [
        (path, key)
        for path, schema in walk(node)
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict)
        for key in schema.get("required", ())
        if key not in schema["properties"]
    ]


def test_no_schema_requires_an_undeclared_key(doc):
    assert undeclared_required(doc) == []


def test_response_schema_does_not_require_data(doc):
    response = resolve(doc, response_schema(doc, "200")["$ref"])
    assert "data" not in response["required"] and "data" not in response["properties"]
    assert {"id", "model", "choices", "created"} <= set(response["required"])


def test_undeclared_required_check_finds_the_published_mistral_defect():
    doc = build_openapi("mistral")
    doc["components"]["schemas"]["ChatCompletionResponse"]["required"].append("data")  # as published
    assert undeclared_required(doc) == [(("components", "schemas", "ChatCompletionResponse"), "data")]


def test_every_ref_resolves(doc):
    refs = [v for path, v in walk(doc) if path and path[-1] in ("$ref", "x-chatcontract-event-schema")]
    refs += [v for path, v in walk(doc) if len(path) > 2 and path[-2] == "mapping" and path[-3] == "discriminator"]
    refs += [generation_schema(doc)["x-chatcontract-contract"]]
    assert len(refs) > 50
    for ref in refs:
        assert isinstance(resolve(doc, ref), dict), ref


def test_statuses_and_media_types(doc):
    responses = doc["paths"][CHAT_PATH]["post"]["responses"]
    dialect = dialect_of(doc)
    assert sorted(responses) == sorted(["200", *ERRORS[dialect]])
    assert set(responses["200"]["content"]) == {"application/json", "text/event-stream"}
    stream = responses["200"]["content"]["text/event-stream"]
    chunk = stream["x-chatcontract-event-schema"]
    assert stream["schema"]["type"] == "string" and chunk in stream["schema"]["description"]
    names = {"mistral": ("ChatCompletionResponse", "CompletionChunk", "ChatCompletionRequest")}.get(
        dialect, ("CreateChatCompletionResponse", "CreateChatCompletionStreamResponse", "CreateChatCompletionRequest")
    )
    assert response_schema(doc, "200")["$ref"].endswith("/" + names[0])
    assert chunk.endswith("/" + names[1]) and names[2] in doc["components"]["schemas"]
    if dialect == "mistral":
        assert response_schema(doc, "422")["$ref"].endswith("/HTTPValidationError")
        assert response_schema(doc, "429")["$ref"].endswith("/ErrorObject")
    else:
        assert {response_schema(doc, s)["$ref"] for s in ERRORS["openai"]} == {"#/components/schemas/ErrorResponse"}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_response_components_validate_known_good_bodies(dialect):
    doc = build_openapi(dialect)
    contract = contracts_for(dialect)
    bodies = [("200", "application/json", make_response(dialect), contract.response)]
    bodies.append(("200", "text/event-stream", CHUNKS[dialect], contract.chunk))
    bodies += [(status, "application/json", body, None) for status, body in ERRORS[dialect].items()]
    for status, media, body, adapter in bodies:
        if adapter is not None:
            adapter.validate_json(json.dumps(body))  # the sample really is good
        if media == "text/event-stream":
            schema = {"$ref": doc["paths"][CHAT_PATH]["post"]["responses"][status]["content"][media][
                "x-chatcontract-event-schema"]}  # fmt: skip
        else:
            schema = response_schema(doc, status, media)
        check = validator(doc, schema)
        assert list(check.iter_errors(body)) == [], (status, media)
        assert not check.is_valid({**body, "id": 7} if "id" in body else [body]), "the schema is not vacuous"


def test_discriminator_tags_are_required_like_the_contract():
    # pydantic leaves `type` out of Tool.required (it has a default), but the discriminated union needs it.
    doc = build_openapi("mistral")
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [{"function": {"name": "f"}}]}
    request["tools"][0]["function"]["parameters"] = {}
    with pytest.raises(ValueError):
        contracts_for("mistral").request.validate_json(json.dumps(request))
    check = validator(doc, {"$ref": "#/components/schemas/ChatCompletionRequest"})
    assert not check.is_valid(request)
    request["tools"][0]["type"] = "function"
    assert check.is_valid(request)
    # ... while a response message may still leave its role out, as the contract allows.
    body = make_response("mistral")
    del body["choices"][0]["message"]["role"]
    contracts_for("mistral").response.validate_json(json.dumps(body))
    assert validator(doc, response_schema(doc, "200")).is_valid(body)


# ---------------------------------------------------------------------------------------------------------------
# The generation schema: a bounded subset of the request contract
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_generated_requests_are_valid_contract_requests(dialect):
    schema = generation_schema(build_openapi(dialect, max_tokens_cap=16, model=MODEL))
    adapter = contracts_for(dialect).request

    @settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(from_schema(schema))
    def check(request: dict[str, Any]) -> None:
        adapter.validate_json(json.dumps(request))
        adapter.validate_python(request)
        assert request["model"] == MODEL
        assert 1 <= len(request["messages"]) <= 3
        assert all(len(m["content"]) <= 40 for m in request["messages"])
        limits = [request[k] for k in ("max_tokens", "max_completion_tokens") if k in request]
        assert limits and all(1 <= limit <= 16 for limit in limits)

    check()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hand_written_instances_cover_every_variant(dialect):
    # The sampler rarely meets the json_object condition; these pin the rarer corners explicitly.
    doc = build_openapi(dialect, model=MODEL)
    check = validator(doc, generation_schema(doc))
    system = {"role": "system", "content": "Reply in JSON."}
    base = {"model": MODEL, "messages": [system, {"role": "user", "content": "Two cheeses?"}], "max_tokens": 4}
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }
    valid = [
        {**base, "response_format": {"type": "json_object"}},
        {**base, "tools": [weather], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {**base, "tools": [weather], "tool_choice": "required", "parallel_tool_calls": False, "n": 2},
        {**base, "stop": ["\n", "."], "temperature": 0.7, "top_p": 1, "stream": True},
    ]
    if dialect == "openai":
        valid.append({**base, "stream": True, "stream_options": {"include_usage": True}})
    for request in valid:
        assert list(check.iter_errors(request)) == [], request
        contracts_for(dialect).request.validate_json(json.dumps(request))
    invalid = [
        {**base, "max_tokens": 17},
        {**base, "max_tokens": 0},
        {**base, "model": "other"},
        {**base, "tool_choice": "auto"},  # without tools
        {**base, "messages": [base["messages"][1], system]},  # ends with a system prompt
        {**base, "messages": [{"role": "user", "content": "x" * 41}]},
        {**base, "response_format": {"type": "json_object"}, "messages": [{"role": "user", "content": "Hi"}]},
        {**base, "temperature": 3},
        {**base, "tools": [weather, weather]},
    ]
    if dialect == "openai":
        invalid += [
            {**base, "stream_options": {"include_usage": True}},
            {k: v for k, v in base.items() if k != "max_tokens"},
        ]
    for request in invalid:
        assert not check.is_valid(request), request


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("cap", [1, 5, 16, 256])
def test_max_tokens_cap_is_honoured(dialect, cap):
    schema = generation_schema(build_openapi(dialect, max_tokens_cap=cap))
    keys = ("max_tokens", "max_completion_tokens") if dialect == "openai" else ("max_tokens",)
    for key in keys:
        assert schema["properties"][key] == {"type": "integer", "minimum": 1, "maximum": cap}
    assert ("max_tokens" in schema["required"]) is (dialect == "mistral")
    assert "max_completion_tokens" not in schema["properties"] or dialect == "openai"


def test_generation_bounds_follow_each_dialect_contract():
    mistral = generation_schema(build_openapi("mistral"))["properties"]
    openai = generation_schema(build_openapi("openai"))["properties"]
    assert mistral["temperature"] == {"type": "number", "minimum": 0, "maximum": 1.5}
    assert openai["temperature"] == {"type": "number", "minimum": 0, "maximum": 2}
    assert mistral["top_p"]["exclusiveMinimum"] == 0
    assert "random_seed" in mistral and "seed" in openai and "stream_options" not in mistral
    assert mistral["tool_choice"]["anyOf"][0]["enum"] == ["auto", "none", "any", "required"]
    assert openai["tool_choice"]["anyOf"][0]["enum"] == ["none", "auto", "required"]
    for props in (mistral, openai):
        assert props["n"] == {"type": "integer", "minimum": 1, "maximum": 2}
        assert props["tools"]["maxItems"] == 2 and props["messages"]["maxItems"] == 3
        assert props["model"]["maxLength"] == 64


def test_generation_schema_is_documented_and_unpinned_by_default(doc):
    schema = generation_schema(doc)
    assert "bounded subset" in schema["description"]
    assert schema["x-chatcontract-contract"].rsplit("/", 1)[-1] in doc["components"]["schemas"]
    assert schema["properties"]["model"] == {"type": "string", "enum": [MODEL]}
    unpinned = generation_schema(build_openapi(dialect_of(doc)))["properties"]["model"]
    assert unpinned["type"] == "string" and "enum" not in unpinned
    assert not any(path and path[-1] == "$ref" for path, _ in walk(schema)), "self-contained, nothing recursive"


@pytest.mark.parametrize(
    "kwargs",
    [{"dialect": "bogus"}, {"max_tokens_cap": 0}, {"max_tokens_cap": True}, {"model": ""}, {"servers": [""]}],
)
def test_bad_arguments_raise_usage_error(kwargs):
    kwargs = {"dialect": "mistral", **kwargs}
    with pytest.raises(UsageError):
        build_openapi(**kwargs)


def test_each_call_returns_a_fresh_document():
    first = build_openapi("openai")
    snapshot = copy.deepcopy(first)
    first["components"]["schemas"].clear()
    assert build_openapi("openai") == snapshot


# ---------------------------------------------------------------------------------------------------------------
# End to end: generated requests against the reference provider, answers against the document
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_reference_provider_answers_generated_requests_as_documented(dialect):
    from chatcontract.provider import create_app
    from tests.provider.helpers import call

    doc = build_openapi(dialect, model=MODEL)
    app = create_app(dialect=dialect, seed=7)
    body_check = validator(doc, response_schema(doc, "200"))
    stream = doc["paths"][CHAT_PATH]["post"]["responses"]["200"]["content"]["text/event-stream"]
    chunk_check = validator(doc, {"$ref": stream["x-chatcontract-event-schema"]})

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(from_schema(generation_schema(doc)))
    def check(request: dict[str, Any]) -> None:
        (resp,) = call(app, [request])
        assert resp.status_code == 200, resp.text
        if request.get("stream"):
            assert resp.headers["content-type"].startswith("text/event-stream")
            data = [line[len("data: ") :] for line in resp.text.splitlines() if line.startswith("data: ")]
            assert data[-1] == "[DONE]"
            for event in data[:-1]:
                assert list(chunk_check.iter_errors(json.loads(event))) == []
        else:
            assert list(body_check.iter_errors(resp.json())) == []

    check()


# ---------------------------------------------------------------------------------------------------------------
# The command line, and import cost
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cli_prints_json_by_default(dialect, capsys):
    assert main(["openapi", "--dialect", dialect, "--max-tokens-cap", "4", "--model", MODEL]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == build_openapi(dialect, max_tokens_cap=4, model=MODEL)


def test_cli_prints_yaml(capsys):
    argv = ["openapi", "--dialect", "openai", "--format", "yaml", "--server", "http://localhost:8000"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "&id" not in out and "*id" not in out  # no YAML aliases
    printed = yaml.safe_load(out)
    assert printed == build_openapi("openai", servers=["http://localhost:8000"])
    validate_openapi(printed)


def test_cli_bogus_dialect_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["openapi", "--dialect", "bogus"])
    assert info.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_cli_bad_cap_exits_2(capsys):
    assert main(["openapi", "--max-tokens-cap", "0"]) == 2
    assert "max_tokens_cap" in capsys.readouterr().err


def test_importing_the_fuzz_package_is_light():
    code = (
        "import sys, chatcontract.fuzz as f; "
        "assert 'schemathesis' not in sys.modules and 'pydantic' not in sys.modules, sorted(sys.modules); "
        "assert callable(f.build_openapi) and f.GENERATED_REQUEST == 'GeneratedChatCompletionRequest'; "
        "assert 'schemathesis' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
