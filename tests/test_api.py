"""The public surface: exports, the Report, assert_conforms, payload types and options."""

from __future__ import annotations

import json

import httpx
import pytest
import requests

import chatcontract
from chatcontract import ContractViolation, Report, Severity, UsageError, Violation, assert_conforms, check

from .conftest import make_response, pairs


def test_all_is_complete_and_sorted():
    for name in chatcontract.__all__:
        assert getattr(chatcontract, name) is not None
    # "@py_builtins"/"@pytest_ar": pytest's assertion rewriting of an installed plugin's package adds them
    public = {name for name in dir(chatcontract) if not name.startswith(("_", "@"))}
    modules = {"cli", "config", "contracts", "demo", "engine", "inputs", "rules", "sse", "streams", "violations",
               "plugin", "provider", "proxy", "cassettes", "fuzz", "importlib", "Any", "TYPE_CHECKING"}
    assert set(chatcontract.__all__) == public - modules
    assert chatcontract.__all__ == sorted(chatcontract.__all__, key=str.casefold)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        chatcontract.nope  # noqa: B018


def test_public_classes_are_rehomed():
    assert Report.__module__ == "chatcontract"
    assert repr(Severity.ERROR).startswith("<Severity.ERROR")
    assert ContractViolation.__module__ == "chatcontract"


def test_conforming_response_has_no_violations():
    report = check(make_response())
    assert report.ok and report.violations == () and report.kind == "response" and report.dialect == "mistral"
    assert str(report) == "ChatCompletionResponse (mistral): conforms"


def test_violation_record_fields():
    report = check(make_response(created="1702256327"))
    (v,) = report.violations
    assert isinstance(v, Violation)
    assert (v.code, v.name, v.severity, v.loc) == ("CC102", "wrong-type", Severity.ERROR, ("created",))
    assert v.path == "$.created" and v.pointer == "/created"
    assert v.actual == "1702256327"
    assert v.severity.value == "error" and str(v.severity) == "error"
    assert "received string" in v.message


def test_paths_render_nested_and_odd_keys():
    v = Violation(code="CC101", name="x", severity=Severity.ERROR, loc=("choices", 0, "a b", "x/y"), message="m")
    assert v.path == '$.choices[0]["a b"]["x/y"]'
    assert v.pointer == "/choices/0/a b/x~1y"


def test_report_ok_ignores_warnings():
    doc = make_response(usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 5})
    report = check(doc)
    assert report.ok
    assert [v.code for v in report.warnings] == ["CC201"] and report.errors == ()


def test_violations_in_document_order():
    doc = make_response(id="", created=-5)
    doc["choices"][0]["finish_reason"] = "nope"
    report = check(doc)
    assert [v.path for v in report.violations] == ["$.id", "$.created", "$.choices[0].finish_reason"]


def test_assert_conforms_raises_once_with_everything():
    doc = make_response(created=1.5, model="")
    with pytest.raises(ContractViolation) as info:
        assert_conforms(doc)
    err = info.value
    assert isinstance(err, AssertionError)
    assert [v.code for v in err.violations] == ["CC211", "CC102"]
    text = str(err)
    assert text.startswith("2 contract violations in ChatCompletionResponse (mistral)")
    assert "CC102 wrong-type at $.created" in text and "CC211 empty-model at $.model" in text
    assert "For further information run: chatcontract rule CC102" in text


def test_assert_conforms_returns_report_with_warnings():
    report = assert_conforms(make_response(usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 3}))
    assert report.codes() == ["CC201"]


@pytest.mark.parametrize("kind", ["bytes", "str", "dict", "bytearray", "memoryview"])
def test_payload_forms(kind):
    doc = make_response(created="x")
    raw = json.dumps(doc)
    payload = {
        "bytes": raw.encode(),
        "str": raw,
        "dict": doc,
        "bytearray": bytearray(raw.encode()),
        "memoryview": memoryview(raw.encode()),
    }[kind]
    assert pairs(check(payload)) == {("CC102", "$.created")}


def test_httpx_response_reads_status_content_type_and_request():
    request = httpx.Request("POST", "http://x/v1/chat/completions", json={"model": "m", "messages": [], "n": 2})
    response = httpx.Response(200, json=make_response(), request=request)
    report = check(response)
    assert report.status == 200
    assert pairs(report) == {("CC401", "$.choices")}  # the request was read from the response


def test_httpx_error_response_routes_to_error_contract():
    response = httpx.Response(400, json={"error": {"message": "bad", "type": "invalid_request_error"}})
    report = check(response, dialect="openai")
    assert report.kind == "error"
    assert pairs(report) == {("CC101", "$.error.param"), ("CC101", "$.error.code")}


def test_httpx_wrong_content_type():
    response = httpx.Response(200, content=json.dumps(make_response()).encode(), headers={"content-type": "text/html"})
    assert pairs(check(response)) == {("CC007", "$")}


def test_requests_response():
    resp = requests.Response()
    resp.status_code = 200
    resp._content = json.dumps(make_response(model="")).encode()
    resp.headers["content-type"] = "application/json"
    assert pairs(check(resp)) == {("CC211", "$.model")}


def test_status_argument_overrides_response_status():
    response = httpx.Response(200, json={"object": "error", "message": "m", "type": "t", "param": None, "code": None})
    assert check(response, status=400).kind == "error"


def test_sdk_object_with_model_dump():
    class FakeSDKModel:
        def model_dump(self, **kwargs):
            return make_response(id="")

    assert pairs(check(FakeSDKModel())) == {("CC210", "$.id")}


def test_unsupported_payload_is_a_usage_error():
    with pytest.raises(UsageError, match="check\\(\\) accepts bytes"):
        check(object())


def test_unknown_dialect_is_a_usage_error():
    with pytest.raises(UsageError, match="choose one of mistral, openai"):
        check(make_response(), dialect="anthropic")


def test_request_accepts_json_text():
    report = check(make_response(), request='{"model": "m", "messages": [], "n": 3}')
    assert pairs(report) == {("CC401", "$.choices")}


def test_request_aware_rules_need_a_request():
    assert check(make_response()).ok  # n unknown: CC401 does not run


def test_select_and_ignore():
    doc = make_response(id="", model="")
    assert pairs(check(doc, select=["CC210"])) == {("CC210", "$.id")}
    assert pairs(check(doc, ignore=["CC21"])) == set()
    assert pairs(check(doc, select=["ALL"], ignore=["empty-model"])) == {("CC210", "$.id")}


def test_unknown_selector_suggests():
    from chatcontract import ConfigError

    with pytest.raises(ConfigError, match="Did you mean CC201"):
        check(make_response(), select=["CC2O1"])


def test_to_dict_is_json_ready():
    report = check(make_response(created=float("nan")))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert data["violations"][0]["code"] == "CC005" or data["violations"][0]["code"] == "CC102"
    assert {"code", "name", "severity", "path", "message"} <= set(data["violations"][0])


def test_openai_dialect_conforms():
    assert check(make_response("openai"), dialect="openai").violations == ()


def test_extra_field_is_a_warning_where_forbidden():
    doc = make_response()
    doc["usage"]["cost"] = 0.1
    report = check(doc)
    assert report.ok and pairs(report) == {("CC104", "$.usage.cost")}
    assert report.violations[0].severity is Severity.WARNING


def test_extra_field_is_silent_where_allowed():
    doc = make_response("openai")
    doc["timings"] = {"prompt_ms": 1.0}
    assert check(doc, dialect="openai").violations == ()
