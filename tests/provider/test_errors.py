"""Invalid requests, unknown models, bad JSON, auth and routing: the dialect's status and a conforming error body."""

from __future__ import annotations

import pytest

from chatcontract import check
from chatcontract.provider import create_app

from .helpers import call, get

OK = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}]}

INVALID = [
    {"messages": [{"role": "user", "content": "Hi"}]},  # no model
    {"model": "ref-small"},  # no messages
    {"model": "ref-small", "messages": "Hi"},
    {**OK, "temperature": "hot"},
    {**OK, "n": 0},
    {**OK, "stream": "yes"},
    {**OK, "messages": [{"role": "wizard", "content": "Hi"}]},
    {**OK, "tool_choice": {"type": "function", "function": {"name": "nope"}}, "tools": []},
    {**OK, "tool_choice": "required"},
    {**OK, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}]},
    {**OK, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string"}}}},
    [1, 2],
]
MISTRAL_ONLY = [{**OK, "stream_options": {"include_usage": True}}, {**OK, "seed": 1}, {**OK, "max_tokens": -1}]
OPENAI_ONLY = [{**OK, "messages": []}, {**OK, "max_tokens": 0}, {**OK, "tool_choice": "any"}]


def _assert_conforming_error(resp, dialect, statuses):
    assert resp.status_code in statuses, resp.text
    assert resp.headers["content-type"] == "application/json"
    report = check(resp.content, status=resp.status_code, dialect=dialect)
    assert report.violations == (), str(report)
    # The other dialect does not accept it: the envelopes really differ.
    other = "openai" if dialect == "mistral" else "mistral"
    assert not check(resp.content, status=resp.status_code, dialect=other).ok


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_invalid_requests(dialect):
    requests = INVALID + (MISTRAL_ONLY if dialect == "mistral" else OPENAI_ONLY)
    for resp in call(create_app(dialect=dialect), requests):
        _assert_conforming_error(resp, dialect, {422, 400} if dialect == "mistral" else {400})


def test_mistral_contract_errors_are_422_detail():
    resp = call(create_app(dialect="mistral"), [{"model": "ref-small"}])[0]
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert detail[0]["loc"] == ["body", "messages"] and detail[0]["type"] == "missing"


def test_openai_errors_name_the_param():
    resp = call(create_app(dialect="openai"), [{**OK, "temperature": "hot"}])[0]
    error = resp.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "temperature"
    resp = call(create_app(dialect="openai"), [{"model": "ref-small"}])[0]
    assert resp.json()["error"]["code"] == "missing_required_parameter"


@pytest.mark.parametrize(("dialect", "status", "code"), [("mistral", 400, "1500"), ("openai", 404, "model_not_found")])
def test_unknown_model(dialect, status, code):
    resp = call(create_app(dialect=dialect), [{**OK, "model": "gpt-17"}])[0]
    _assert_conforming_error(resp, dialect, {status})
    body = resp.json()
    assert (body["code"] if dialect == "mistral" else body["error"]["code"]) == code


@pytest.mark.parametrize(("dialect", "status"), [("mistral", 422), ("openai", 400)])
@pytest.mark.parametrize("body", [b'{"model": "ref-small", "messages": [', b"", b"\xff\xfe", b"nope"])
def test_malformed_json(dialect, status, body):
    resp = call(create_app(dialect=dialect), [body], raw=True, headers={"content-type": "application/json"})[0]
    _assert_conforming_error(resp, dialect, {status})


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_api_key(dialect):
    app = create_app(dialect=dialect, api_key="sk-secret-123456")
    for headers in (None, {"authorization": "Bearer wrong-key-000"}, {"authorization": "Basic sk-secret-123456"}):
        resp = call(app, [OK], headers=headers)[0]
        _assert_conforming_error(resp, dialect, {401})
        assert "sk-secret-123456" not in resp.text
        _assert_conforming_error(get(app, "/v1/models", headers=headers), dialect, {401})
    good = {"authorization": "Bearer sk-secret-123456"}
    assert call(app, [OK], headers=good)[0].status_code == 200
    assert get(app, "/v1/models", headers=good).status_code == 200


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_unknown_route_and_method(dialect):
    app = create_app(dialect=dialect)
    _assert_conforming_error(get(app, "/v1/embeddings", method="POST"), dialect, {404})
    resp = get(app, "/v1/chat/completions")
    _assert_conforming_error(resp, dialect, {405})
    assert resp.headers["allow"] == "POST"


def test_models_list_shapes():
    openai_models = get(create_app(dialect="openai", seed=1), "/v1/models").json()
    assert openai_models == {
        "object": "list",
        "data": [
            {"id": "ref-small", "object": "model", "created": 1700000000, "owned_by": "chatcontract"},
            {"id": "ref-large", "object": "model", "created": 1700000000, "owned_by": "chatcontract"},
            {"id": "ref-reasoner", "object": "model", "created": 1700000000, "owned_by": "chatcontract"},
        ],
    }
    cards = get(create_app(dialect="mistral"), "/v1/models").json()["data"]
    card = cards[0]
    assert card["type"] == "base" and card["capabilities"]["completion_chat"] is True
    # Mistral's ModelCapabilities has a `reasoning` flag: only the reasoning model sets it.
    assert [c["capabilities"]["reasoning"] for c in cards] == [False, False, True]
