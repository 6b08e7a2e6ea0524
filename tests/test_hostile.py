"""Hostile inputs: ``check()`` never raises, reports at ``$`` or at the right path, and stays linear in time.

Every report produced here is also rendered (``str(report)``, ``report.to_dict()`` and its JSON) because a report
that cannot be shown is as bad as an exception.
"""

from __future__ import annotations

import copy
import functools
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatcontract import ContractViolation, assert_conforms, check, engine
from chatcontract.engine import Report
from chatcontract.outcome import MAX_PER_RULE
from chatcontract.settings import resolve_settings

DIALECTS = ("mistral", "openai")
N_DEEP = 100_000

MISTRAL: dict[str, Any] = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "created": 1702256327,
    "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris is the capital of France.", "tool_calls": None},
            "finish_reason": "stop",
        }
    ],
}
OPENAI: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4.1-2025-04-14",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris is the capital of France.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
}


def doc(dialect: str) -> dict[str, Any]:
    return copy.deepcopy(MISTRAL if dialect == "mistral" else OPENAI)


def body(dialect: str, **top: Any) -> bytes:
    return json.dumps({**doc(dialect), **top}).encode()


def splice(dialect: str, raw_value: bytes | str, key: str = "x_extra") -> bytes:
    """A valid response with ``"<key>": <raw_value>`` spliced in at the top level, raw (need not be valid JSON)."""
    raw = raw_value.encode() if isinstance(raw_value, str) else raw_value
    text = json.dumps(doc(dialect)).encode()
    return text[:-1] + b', "' + key.encode() + b'": ' + raw + b"}"


def run(payload: Any, **kwargs: Any) -> Report:
    """check() plus every way of showing the result; none of them may raise."""
    kwargs.setdefault("dialect", "mistral")
    kwargs.setdefault("select", ["ALL"])
    report = check(payload, **kwargs)
    assert isinstance(report, Report)
    str(report)
    json.dumps(report.to_dict())
    for v in report.violations:
        assert v.path.startswith("$") and (v.pointer == "" or v.pointer.startswith("/"))
    return report


def pairs(report: Report) -> set[tuple[str, str]]:
    return {(v.code, v.path) for v in report.violations}


def codes(report: Report) -> set[str]:
    return {v.code for v in report.violations}


# --------------------------------------------------------------------------------------------------------------
# Nesting
# --------------------------------------------------------------------------------------------------------------

DEEP_TEXTS = {
    "arrays": "[" * N_DEEP + "]" * N_DEEP,
    "objects": '{"a":' * N_DEEP + "1" + "}" * N_DEEP,
    "mixed": '[{"a":' * (N_DEEP // 2) + "null" + "}]" * (N_DEEP // 2),
    "arrays-unclosed": "[" * N_DEEP,
    "objects-unclosed": '{"a":' * N_DEEP,
}


@pytest.mark.parametrize("shape", DEEP_TEXTS)
@pytest.mark.parametrize("as_type", [bytes, str])
def test_deep_nesting_top_level(shape: str, as_type: type) -> None:
    text = DEEP_TEXTS[shape]
    payload = text.encode() if as_type is bytes else text
    assert pairs(run(payload)) == {("CC006", "$")}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_deep_nesting_inside_a_valid_response(dialect: str, shape: str) -> None:
    assert pairs(run(splice(dialect, DEEP_TEXTS[shape]), dialect=dialect)) == {("CC006", "$")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_nesting_just_below_the_limit_is_checked_normally(dialect: str) -> None:
    depth = 190
    report = run(splice(dialect, '{"a":' * depth + "1" + "}" * depth), dialect=dialect)
    assert pairs(report) == set()
    report = run(splice(dialect, "[" * depth + "]" * depth).replace(b'"created": ', b'"created": -'), dialect=dialect)
    assert pairs(report) == {("CC209", "$.created")}


def _deep_list(n: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(n):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def _deep_dict(n: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(n):
        child: dict[str, Any] = {}
        node["a"] = child
        node = child
    return root


@pytest.mark.parametrize("dialect", DIALECTS)
def test_deep_python_objects_never_raise(dialect: str) -> None:
    """Already parsed documents nested 100,000 deep (no parser involved): no RecursionError anywhere."""
    # A parsed document gets the parser's depth limit too (CC006), and everything else still runs.
    assert pairs(run(_deep_list(N_DEEP), dialect=dialect)) == {("CC006", "$"), ("CC008", "$")}
    report = run(_deep_dict(N_DEEP), dialect=dialect)
    assert not report.ok and {("CC006", "$"), ("CC101", "$.choices")} <= pairs(report)
    assert ("CC006", "$") in pairs(run({**doc(dialect), "x_extra": _deep_dict(N_DEEP)}, dialect=dialect))
    run({**doc(dialect), "usage": {**doc(dialect)["usage"], "x": _deep_dict(N_DEEP)}}, dialect=dialect)
    run(
        {"error": {"message": "m", "type": "t", "param": None, "code": None, "x": _deep_list(N_DEEP)}},
        dialect=dialect,
        status=500,
    )
    run({**doc(dialect), "x_extra": _deep_dict(N_DEEP)}, dialect=dialect, stream=True)


def test_deep_request_never_raises() -> None:
    report = run(body("mistral"), request="[" * N_DEEP + "]" * N_DEEP)
    assert pairs(report) == set()
    json_answer = doc("mistral")
    json_answer["choices"][0]["message"]["content"] = '{"a": 1}'
    deep_schema = {"type": "object", "properties": {"a": _deep_dict(N_DEEP)}}
    run(
        json_answer,
        request={
            "model": "m",
            "messages": [],
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": deep_schema}},
        },
    )
    calls = doc("mistral")
    calls["choices"][0].update(
        finish_reason="tool_calls",
        message={
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}],
        },
    )
    run(
        calls,
        request={
            "model": "m",
            "messages": [],
            "tool_choice": "any",
            "tools": [{"type": "function", "function": {"name": "f", "parameters": deep_schema}}],
        },
    )
    run(
        calls,
        request={
            "model": "m",
            "messages": [],
            "tool_choice": "any",
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        },
        stream=False,
    )
    deep_args = doc("mistral")
    deep_args["choices"][0].update(
        finish_reason="tool_calls",
        message={
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "D681PevKs",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a": ' * N_DEEP + "1" + "}" * N_DEEP},
                }
            ],
        },
    )
    report = run(
        deep_args,
        request={
            "model": "m",
            "messages": [],
            "tool_choice": "any",
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        },
    )
    assert ("CC207", "$.choices[0].message.tool_calls[0].function.arguments") in pairs(report)


# --------------------------------------------------------------------------------------------------------------
# Big values
# --------------------------------------------------------------------------------------------------------------

BIG = 50 * 1024 * 1024


def _with_big_content(dialect: str, size: int) -> bytes:
    head, tail = json.dumps({**doc(dialect)}).encode().split(b"Paris is the capital of France.")
    return b"".join((head, b"a" * size, tail))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_50mb_string_in_a_valid_response(dialect: str) -> None:
    payload = _with_big_content(dialect, BIG)
    report = run(payload, dialect=dialect)
    assert pairs(report) == set()
    del payload, report
    gc.collect()


def test_50mb_string_as_str_input() -> None:
    payload = _with_big_content("mistral", BIG).decode()
    assert pairs(run(payload)) == set()
    del payload
    gc.collect()


def test_50mb_string_with_a_violation_elsewhere() -> None:
    payload = _with_big_content("openai", BIG).replace(b'"created": 1741569952', b'"created": 1741569952.5', 1)
    assert pairs(run(payload, dialect="openai")) == {("CC102", "$.created")}
    del payload
    gc.collect()


MB = 1024 * 1024
_LONG = "x" * MB
LONG_VALUE_CASES: dict[str, tuple[Any, dict[str, Any], tuple[str, str]]] = {
    "CC404-long-content": (
        {
            **doc("mistral"),
            "choices": [{**doc("mistral")["choices"][0], "message": {"role": "assistant", "content": _LONG}}],
        },
        {"request": {"model": "mistral-small-latest", "messages": [], "response_format": {"type": "json_object"}}},
        ("CC404", "$.choices[0].message.content"),
    ),
    "CC411-long-model": (
        {**doc("mistral"), "model": _LONG},
        {"request": {"model": "mistral-small-latest", "messages": []}},
        ("CC411", "$.model"),
    ),
    "CC207-long-arguments": (
        {
            **doc("mistral"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [
                            {"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": _LONG}}
                        ],
                    },
                }
            ],
        },
        {},
        ("CC207", "$.choices[0].message.tool_calls[0].function.arguments"),
    ),
    "CC502-long-message": (
        {"object": "error", "message": _LONG, "type": "server_error", "param": None, "code": None},
        {"status": 500, "dialect": "openai"},
        ("CC502", "$"),
    ),
    "CC501-long-body": ({"msg": _LONG}, {"status": 500}, ("CC501", "$")),
    "CC102-long-wrong-type": ({**doc("openai"), "id": [_LONG]}, {"dialect": "openai"}, ("CC102", "$.id")),
}


@pytest.mark.parametrize("name", LONG_VALUE_CASES)
def test_reports_stay_small_when_the_offending_value_is_huge(name: str) -> None:
    """Violations keep the offending value shortened: a 1 MB value must not be copied into the report text."""
    payload, kwargs, expected = LONG_VALUE_CASES[name]
    report = run(payload, **kwargs)
    assert expected in pairs(report)
    assert len(str(report)) < 20_000
    assert len(json.dumps(report.to_dict())) < 20_000


# --------------------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_invalid_utf8_in_a_string_value(dialect: str) -> None:
    payload = body(dialect).replace(b"Paris is", b"Par\xe9s is", 1)
    assert pairs(run(payload, dialect=dialect)) == {("CC002", "$")}


def test_invalid_utf8_rest_still_checked() -> None:
    payload = body("mistral", model="").replace(b"Paris is", b"Par\xff is", 1)
    assert pairs(run(payload)) == {("CC002", "$"), ("CC211", "$.model")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_truncated_multibyte_char_inside_a_string(dialect: str) -> None:
    payload = body(dialect).replace(b"France.", b"Fran\xc3.", 1)  # the first byte of a two-byte character
    assert pairs(run(payload, dialect=dialect)) == {("CC002", "$")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_truncated_multibyte_char_at_the_end(dialect: str) -> None:
    full = body(dialect)
    for payload in (full + "é".encode()[:1], full[:-1] + "€".encode()[:2]):
        report = run(payload, dialect=dialect)
        assert ("CC002", "$") in pairs(report)
        assert {p[1] for p in pairs(report)} == {"$"} and not report.ok


def test_lone_surrogate_in_a_str_payload() -> None:
    payload = json.dumps(doc("mistral"), ensure_ascii=False).replace("Paris", "Par\udcffis")
    assert pairs(run(payload)) == {("CC002", "$")}


LONE_SURROGATES = {
    "high": ("\\ud800", "\\ud800"),
    "low": ("\\udc00", "\\udc00"),
    "high-then-letter": ("\\ud83dA", "\\ud83d"),
    "high-then-high": ("\\uDBFF\\uDBFF", "\\udbff"),
    "low-then-high": ("\\udc00\\ud800", "\\udc00"),
    "at-the-end": ("Paris \\ud83d", "\\ud83d"),
}


@pytest.mark.parametrize("name", LONE_SURROGATES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_lone_surrogate_escape_in_a_value_is_reported_at_its_path(name: str, dialect: str) -> None:
    escaped, first = LONE_SURROGATES[name]
    payload = body(dialect).replace(b"Paris is the capital of France.", escaped.encode(), 1)
    report = run(payload, dialect=dialect)
    assert ("CC009", "$.choices[0].message.content") in pairs(report) and not report.ok
    (violation,) = [v for v in report.violations if v.code == "CC009"]
    assert first in violation.message
    str(report).encode("utf-8")  # the report can be written out: the surrogate is shown as its escape
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_lone_surrogate_in_a_stream_event_and_in_a_key(dialect: str) -> None:
    chunk = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 1702256327, "model": "m",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": "PLACE"}, "finish_reason": None}]}
    line = json.dumps(chunk).replace("PLACE", "Hi \\udc00")
    keyed = json.dumps({**chunk, "x_KEY": 1}).replace("PLACE", "Hi").replace("KEY", "\\ud800")
    stream = f"data: {line}\n\ndata: {keyed}\n\ndata: [DONE]\n\n".encode()
    report = run(stream, dialect=dialect, stream=True)
    found = [(v.code, v.event, v.path) for v in report.violations if v.code == "CC009"]
    assert found == [("CC009", 0, "$.choices[0].delta.content"), ("CC009", 1, "$")]
    str(report).encode("utf-8")


def test_surrogate_pairs_and_other_escapes_conform() -> None:
    for escaped in ("\\ud83d\\ude00", "\\uD83D\\uDE00", "\\u00e9", "\\\\ud800"):  # the last is a backslash, then text
        payload = body("mistral").replace(b"Paris", escaped.encode(), 1)
        assert "CC009" not in codes(run(payload)), escaped


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bom_is_a_warning_and_the_rest_is_checked(dialect: str) -> None:
    report = run(b"\xef\xbb\xbf" + body(dialect), dialect=dialect)
    assert pairs(report) == {("CC003", "$")} and report.ok
    report = run(b"\xef\xbb\xbf" + body(dialect, model="", created=1736423701225), dialect=dialect)
    assert pairs(report) == {("CC003", "$"), ("CC211", "$.model"), ("CC209", "$.created")}
    report = run("\ufeff" + json.dumps(doc(dialect)), dialect=dialect)
    assert pairs(report) == {("CC003", "$")}


def test_bom_on_an_error_body() -> None:
    payload = (
        b"\xef\xbb\xbf" + json.dumps({"error": {"message": "m", "type": "t", "param": None, "code": None}}).encode()
    )
    assert pairs(run(payload, dialect="openai", status=400)) == {("CC003", "$")}


@pytest.mark.parametrize("payload", [b"\xef\xbb\xbf", b"\xef\xbb\xbf   ", b"\xef\xbb\xbf\xef\xbb\xbf{}"])
def test_bom_alone_or_twice(payload: bytes) -> None:
    report = run(payload)
    assert ("CC003", "$") in pairs(report) and ("CC001", "$") in pairs(report)


# --------------------------------------------------------------------------------------------------------------
# Duplicate keys, numbers
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_duplicate_keys_at_their_paths(dialect: str) -> None:
    text = body(dialect).decode()
    top = text.replace('"id": ', '"id": "first", "id": ', 1)
    assert pairs(run(top, dialect=dialect)) == {("CC004", "$.id")}
    nested = text.replace('"completion_tokens": 34', '"completion_tokens": 1, "completion_tokens": 34', 1)
    assert pairs(run(nested, dialect=dialect)) == {("CC004", "$.usage.completion_tokens")}
    in_list = text.replace('"role": "assistant"', '"role": "user", "role": "assistant"', 1)
    assert pairs(run(in_list, dialect=dialect)) == {("CC004", "$.choices[0].message.role")}
    odd_key = text.replace('"created": ', '"x-trace id": 1, "x-trace id": 2, "created": ', 1)
    assert pairs(run(odd_key, dialect=dialect)) == {("CC004", '$["x-trace id"]')}


def test_duplicate_keys_last_value_is_checked() -> None:
    text = body("mistral").decode().replace('"model": "mistral-small-latest"', '"model": "m", "model": ""', 1)
    assert pairs(run(text)) == {("CC004", "$.model"), ("CC211", "$.model")}


@pytest.mark.parametrize("status", [None, 500])
def test_duplicate_keys_in_shadowed_objects_never_raise(status: int | None) -> None:
    """A duplicate inside an object that a later duplicate key shadows, followed by more objects.

    The shadowed object is garbage-collected during parsing and its id() can be reused by a later object.
    """
    items = ", ".join(['{"a": {"x": 1, "x": 2}, "a": 1}, {"k": 1}'] * 200)
    report = run("[" + items + "]", status=status)
    listed = [v for v in report.violations if v.code == "CC004" and v.loc]
    assert {("CC004", v.path) for v in listed} == {("CC004", f"$[{2 * i}].a") for i in range(MAX_PER_RULE)}
    assert [v.actual for v in report.violations if v.code == "CC004" and not v.loc] == [200 - MAX_PER_RULE]
    report = run(splice("mistral", "[" + items + "]"), status=status)
    assert ("CC004", "$.x_extra[0].a") in pairs(report)


HUGE = "1" + "0" * 400


@pytest.mark.parametrize("dialect", DIALECTS)
def test_integer_beyond_64_bits(dialect: str) -> None:
    text = body(dialect).decode().replace('"total_tokens": 50', f'"total_tokens": {HUGE}', 1)
    report = run(text, dialect=dialect)
    assert ("CC108", "$.usage.total_tokens") in pairs(report) and not report.ok
    assert pairs(run(splice(dialect, "-" + HUGE), dialect=dialect)) == {("CC108", "$.x_extra")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_integer_beyond_64_bits_in_a_parsed_document(dialect: str) -> None:
    """The dict form of the same document: a 401-digit token count is no more acceptable than in bytes."""
    parsed = doc(dialect)
    parsed["usage"]["total_tokens"] = 10**400
    report = run(parsed, dialect=dialect)
    assert ("CC108", "$.usage.total_tokens") in pairs(report) and not report.ok
    assert pairs(run({**doc(dialect), "x_extra": -(10**400)}, dialect=dialect)) == {("CC108", "$.x_extra")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_integer_the_request_sent_is_the_clients_own(dialect: str) -> None:
    """A number too long for 64 bits that the request held, echoed back, is no CC108; any other one still is.

    Bytes, a parsed document and a stream chunk alike: the server did not write the number, the client did.
    """
    request = {"model": doc(dialect)["model"], "messages": [{"role": "user", "content": "hi"}], "seed": -(10**400)}
    echoed = splice(dialect, "-" + HUGE)
    assert pairs(run(echoed, dialect=dialect)) == {("CC108", "$.x_extra")}
    assert pairs(run(echoed, dialect=dialect, request=request)) == set()
    assert pairs(run(echoed, dialect=dialect, request=json.dumps(request))) == set()
    assert pairs(run({**doc(dialect), "x_extra": -(10**400)}, dialect=dialect, request=request)) == set()
    other = {**request, "seed": 10**400}  # the same digits, the other sign: not what the server echoes
    assert pairs(run(echoed, dialect=dialect, request=other)) == {("CC108", "$.x_extra")}
    both = body(dialect).decode().replace('"total_tokens": 50', f'"total_tokens": {HUGE}', 1)
    both = both[:-1] + f', "x_extra": -{HUGE}}}'
    assert ("CC108", "$.usage.total_tokens") in pairs(run(both, dialect=dialect, request=request))
    assert ("CC108", "$.x_extra") not in pairs(run(both, dialect=dialect, request=request))

    from chatcontract import StreamChecker

    chunk = (
        '{"id": "c", "object": "chat.completion.chunk", "created": 1702256327, "model": "' + request["model"] + '", '
        f'"x_extra": -{HUGE}, "choices": [{{"index": 0, "delta": {{"role": "assistant", "content": "Hi"}}, '
        '"finish_reason": "stop"}]}'
    )
    sse = f"data: {chunk}\n\ndata: [DONE]\n\n".encode()
    for req, expected in ((None, {("CC108", "$.x_extra")}), (request, set())):
        checker = StreamChecker(dialect=dialect, request=req, ignore=["CC3", "CC2", "CC4"])
        checker.feed(sse)
        assert {(v.code, v.path) for v in checker.close().violations} == expected


@pytest.mark.parametrize("as_text", [False, True], ids=["dict", "text"])
def test_a_lone_surrogate_the_request_sent_is_the_clients_own(as_text: bool) -> None:
    """A string or key with a lone surrogate that the request held, echoed in a 422, is no CC009; another one is.

    A request given as text is parsed with its lone surrogates replaced, as a response is: its own CC009 findings
    keep what they were, so the echo is still recognised, and a different surrogate still is not.
    """
    raw = '{"model": "m", "messages": [{"role": "user", "content": "x"}, {"caf\\ud83d": "d\\udc00t"}]}'
    request: Any = raw if as_text else json.loads(raw)
    echo = '{"detail": [{"type": "t", "loc": ["body", "messages", 1], "msg": "m", "input": %s}]}'
    same = echo % '{"caf\\ud83d": "d\\udc00t"}'
    other = echo % '{"caf\\ud83e": "d\\udc01t"}'
    assert pairs(run(same, status=422)) == {("CC009", "$.detail[0].input"), ("CC009", '$.detail[0].input["caf\ufffd"]')}
    assert pairs(run(same, status=422, request=request)) == set()
    assert pairs(run(other, status=422, request=request)) == {
        ("CC009", "$.detail[0].input"),
        ("CC009", '$.detail[0].input["caf\ufffd"]'),
    }


_PARSED_CASES = {
    "lone surrogate in a value": {"id": "\ud800"},
    "lone surrogate in a key and its value": {"x\udc00": {"a": "b\udc01", "n": 10**30}},
    "lone surrogate in a list of keys": {"x_extra": [{"k\ud83d": 1}, "\udfff"]},
    "integer beyond 64 bits": {"x_extra": [-(10**400)]},
    "nested past the limit": {"x_extra": functools.reduce(lambda inner, _: [inner], range(250), ["\ud800"])},
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", list(_PARSED_CASES), ids=list(_PARSED_CASES))
def test_a_parsed_document_is_judged_as_its_bytes(dialect: str, case: str) -> None:
    """A dict (``response.json()`` keeps lone surrogates) gets the report of its JSON text, and is not changed.

    Its lone surrogates are reported (CC009, not a pydantic "unable to parse raw data" at the root), the report
    can be written as UTF-8, and a stream chunk fed parsed gets what the same chunk gets as an SSE event.
    """
    parsed = {**doc(dialect), **_PARSED_CASES[case]}
    before = copy.deepcopy(parsed)
    as_text = json.dumps(parsed)  # (ensure_ascii: each lone surrogate written as its escape)
    report = run(parsed, dialect=dialect)
    assert pairs(report) == pairs(run(as_text, dialect=dialect)) and not report.ok
    assert parsed == before
    str(report).encode("utf-8")
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")

    from chatcontract import StreamChecker

    chunk = {
        "id": "c", "object": "chat.completion.chunk", "created": 1702256327, "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        **_PARSED_CASES[case],
    }
    fed, sse = StreamChecker(dialect=dialect), StreamChecker(dialect=dialect)
    fed.feed_chunk(chunk)
    sse.feed(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())
    parsed_report, sse_report = fed.close(), sse.close()
    parser = {"CC005", "CC006", "CC009", "CC108"}  # (a chunk too deep to parse is no chunk at all in SSE)
    assert {(v.code, v.path, v.event) for v in parsed_report.violations if v.code in parser} == {
        (v.code, v.path, v.event) for v in sse_report.violations if v.code in parser
    }
    assert parser & {v.code for v in parsed_report.violations}
    str(parsed_report).encode("utf-8")


def test_a_report_quoting_a_lone_surrogate_can_be_written() -> None:
    """A message or value quoting the request (a dict keeps lone surrogates) writes each as its escape."""
    request = {"model": "m\ud800", "messages": [{"role": "user", "content": "x"}]}
    report = run(body("mistral"), request=request)
    [v] = report.violations
    assert (v.code, v.expected) == ("CC411", "m\\ud800") and "'m\\ud800'" in v.message
    str(report).encode("utf-8")
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1E+400", "123.456e789"])
def test_overflowing_number_literals(literal: str) -> None:
    assert pairs(run(splice("mistral", literal))) == {("CC005", "$.x_extra")}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_non_finite_constants_at_their_path(literal: str, dialect: str) -> None:
    assert pairs(run(splice(dialect, literal), dialect=dialect)) == {("CC005", "$.x_extra")}
    text = body(dialect).decode().replace('"prompt_tokens": 16', f'"prompt_tokens": {literal}', 1)
    report = run(text, dialect=dialect)
    assert ("CC005", "$.usage.prompt_tokens") in pairs(report) and not report.ok
    logprobs = {"content": [{"token": "Paris", "logprob": -0.5, "bytes": None, "top_logprobs": []}], "refusal": None}
    with_lp = doc("openai")
    with_lp["choices"][0]["logprobs"] = logprobs
    text = json.dumps(with_lp).replace("-0.5", literal)
    assert pairs(run(text, dialect="openai")) == {("CC005", "$.choices[0].logprobs.content[0].logprob")}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_in_a_parsed_document(value: float) -> None:
    with_lp = doc("openai")
    with_lp["choices"][0]["logprobs"] = {
        "content": [{"token": "P", "logprob": value, "bytes": None, "top_logprobs": []}],
        "refusal": None,
    }
    assert pairs(run(with_lp, dialect="openai")) == {("CC005", "$.choices[0].logprobs.content[0].logprob")}
    assert pairs(run({**doc("mistral"), "x_extra": value})) == {("CC005", "$.x_extra")}


# --------------------------------------------------------------------------------------------------------------
# Not JSON, not an object
# --------------------------------------------------------------------------------------------------------------

EMPTY = [b"", "", None, b" ", "  \n\t\r\n ", bytearray(), memoryview(b"")]


@pytest.mark.parametrize("payload", EMPTY, ids=repr)
@pytest.mark.parametrize("status", [None, 200, 500])
def test_empty_and_whitespace_bodies(payload: Any, status: int | None) -> None:
    report = run(payload, status=status)
    assert pairs(report) == {("CC001", "$")}
    assert report.kind == ("error" if status == 500 else "response")


HTML = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>\n"
)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("status", [None, 502])
def test_html_error_page(dialect: str, status: int | None) -> None:
    report = run(HTML, dialect=dialect, status=status)
    assert pairs(report) == {("CC001", "$")}
    assert "HTML" in report.violations[0].message


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8"])
def test_html_error_page_with_content_type(content_type: str) -> None:
    response = httpx.Response(502, headers={"content-type": content_type}, content=HTML.encode())
    report = run(response, dialect="openai")
    assert report.kind == "error" and report.status == 502
    assert pairs(report) == {("CC001", "$"), ("CC007", "$")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_truncation_of_a_valid_response(dialect: str) -> None:
    full = body(dialect)
    for cut in range(len(full)):
        report = run(full[:cut], dialect=dialect)
        assert pairs(report) == {("CC001", "$")}, (cut, full[:cut][-30:])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_truncated_error_bodies(dialect: str) -> None:
    full = json.dumps({"error": {"message": "upstream timed out", "type": "server_error", "param": None, "code": None}})
    for cut in (1, 10, len(full) // 2, len(full) - 1):
        assert pairs(run(full[:cut], dialect=dialect, status=504)) == {("CC001", "$")}


@pytest.mark.parametrize("text", ["[]", "[1, 2]", '["Paris"]', '"Paris"', "42", "-0.5", "true", "false", "null"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_top_level_not_an_object(text: str, dialect: str) -> None:
    assert pairs(run(text, dialect=dialect)) == {("CC008", "$")}
    assert pairs(run(text, dialect=dialect, status=500)) == {("CC501", "$")}


def test_top_level_list_input() -> None:
    assert pairs(run([doc("mistral")])) == {("CC008", "$")}


# --------------------------------------------------------------------------------------------------------------
# Input types
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "make",
    [bytes, bytearray, lambda b: memoryview(b), lambda b: b.decode(), json.loads, lambda b: [json.loads(b)]],
    ids=["bytes", "bytearray", "memoryview", "str", "dict", "list"],
)
def test_input_types(dialect: str, make: Callable[[bytes], Any]) -> None:
    payload = make(body(dialect))
    expected = {("CC008", "$")} if isinstance(payload, list) else set()
    assert pairs(run(payload, dialect=dialect)) == expected


def test_none_input() -> None:
    assert pairs(run(None)) == {("CC001", "$")}


def test_memoryview_slice() -> None:
    raw = b"xx" + body("mistral")
    assert pairs(run(memoryview(raw)[2:])) == set()


# --------------------------------------------------------------------------------------------------------------
# Every hostile input as an error body and as a stream
# --------------------------------------------------------------------------------------------------------------

HOSTILE: dict[str, Any] = {
    "deep-arrays": DEEP_TEXTS["arrays"],
    "deep-objects": DEEP_TEXTS["objects"],
    "deep-unclosed": DEEP_TEXTS["arrays-unclosed"],
    "deep-python": _deep_dict(N_DEEP),
    "big-string": _with_big_content("mistral", 4 * MB),
    "invalid-utf8": body("mistral").replace(b"Paris", b"\xff\xfe\xfd", 1),
    "cut-multibyte": body("mistral") + b"\xe2\x82",
    "bom": b"\xef\xbb\xbf" + body("mistral"),
    "duplicates": '{"a": 1, "a": {"b": 1, "b": 2}}',
    "shadowed-duplicates": "[" + ", ".join(['{"a": {"x": 1, "x": 2}, "a": 1}, {"k": 1}'] * 200) + "]",
    "huge-int": splice("mistral", HUGE),
    "overflow": splice("mistral", "1e400"),
    "nan": splice("mistral", "NaN"),
    "empty": b"",
    "whitespace": b" \r\n\t",
    "none": None,
    "html": HTML,
    "truncated": body("mistral")[:57],
    "array": b"[1, 2, 3]",
    "string": b'"error"',
    "number": b"500",
    "sse-lookalike": b'data: {"id": 1}\n\ndata: [DONE]\n\n',
    "nul-bytes": b"\x00" * 1000,
    "binary": bytes(range(256)) * 16,
    "utf16": json.dumps(doc("mistral")).encode("utf-16"),
    "lone-surrogates": b'{"\\ud800": "\\udc00", "a": ["\\udbff\\u0041"]}',
}


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("route", ["response", "error", "stream"])
def test_hostile_inputs_never_raise_on_any_route(name: str, dialect: str, route: str) -> None:
    kwargs: dict[str, Any] = {"dialect": dialect, "stream": route == "stream"}
    if route == "error":
        kwargs["status"] = 500
    report = run(HOSTILE[name], **kwargs)
    assert report.kind == route
    if route == "error" or (route == "response" and name not in VALID_RESPONSES):
        assert not report.ok, f"{name} conformed as {route}"


VALID_RESPONSES = {"big-string", "bom"}  # valid chat completions (the BOM is only a warning)


# --------------------------------------------------------------------------------------------------------------
# Linear time: compare size N with 4N (min of 3 runs); generous bound, plus 10 ms of slack for tiny timings.
# --------------------------------------------------------------------------------------------------------------


def _best(fn: Callable[[], Any], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def assert_linear(make: Callable[[int], Any], n: int, **kwargs: Any) -> None:
    small, large = make(n), make(4 * n)
    kwargs.setdefault("select", ["ALL"])
    t_small = _best(lambda: check(small, **kwargs))
    bound = 8 * t_small + 0.01
    t_large = float("inf")
    for _ in range(3):  # stop at the first run within the bound: a slow machine moment is not quadratic time
        t_large = min(t_large, _best(lambda: check(large, **kwargs), runs=1))
        if t_large <= bound:
            break
    assert t_large <= bound, f"N={n}: {t_small:.4f}s, 4N: {t_large:.4f}s (ratio {t_large / t_small:.1f})"


def test_linear_nesting() -> None:
    assert_linear(lambda n: "[" * n + "]" * n, 25_000)
    assert_linear(lambda n: '{"a":' * n, 25_000)


def test_linear_big_string() -> None:
    assert_linear(lambda n: _with_big_content("openai", n), 2 * MB, dialect="openai")


def test_linear_many_top_level_keys() -> None:
    assert_linear(lambda n: json.dumps({**doc("mistral"), **{f"x_{i}": i for i in range(n)}}).encode(), 20_000)


def test_linear_many_choices() -> None:
    def make(n: int) -> bytes:
        d = doc("openai")
        d["choices"] = [{**d["choices"][0], "index": i} for i in range(n)]
        return json.dumps(d).encode()

    assert_linear(make, 1_000, dialect="openai")


def test_linear_many_violations_in_one_closed_object() -> None:
    """Unknown keys in Mistral's closed UsageInfo: one CC104 warning each."""

    def make(n: int) -> bytes:
        d = doc("mistral")
        d["usage"].update({f"x_{i}": i for i in range(n)})
        return json.dumps(d).encode()

    assert len(check(make(10), dialect="mistral").violations) == 10
    # past MAX_PER_RULE at both sizes, so that both list the same 100 and only count the rest
    assert_linear(make, 2_000, dialect="mistral")


def test_linear_many_nulls_for_optional_fields() -> None:
    """OpenAI choices whose message carries tool_calls: null (LiteLLM): one CC109 warning each."""

    def make(n: int) -> bytes:
        d = doc("openai")
        base = d["choices"][0]
        d["choices"] = [{**base, "index": i, "message": {**base["message"], "tool_calls": None}} for i in range(n)]
        return json.dumps(d).encode()

    assert len(check(make(3), dialect="openai").violations) == 3
    assert_linear(make, 60, dialect="openai")


def test_linear_many_duplicate_keys() -> None:
    assert_linear(lambda n: "{" + ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(n)) + "}", 2_000)


# --------------------------------------------------------------------------------------------------------------
# Bounded reports: at most MAX_PER_RULE violations of one rule per document or stream, then one summary violation
# of the same rule with the count, so that report size and memory stay small whatever the body.
# --------------------------------------------------------------------------------------------------------------


def _capped(report: Report, code: str) -> tuple[list[Any], int]:
    """The listed violations of ``code`` and the count its summary violation gives (0 without one)."""
    listed = [v for v in report.violations if v.code == code and "are not listed" not in v.message]
    more = [v.actual for v in report.violations if v.code == code and "are not listed" in v.message]
    assert len(more) <= 1
    return listed, more[0] if more else 0


def test_duplicate_keys_by_the_ten_thousand_give_a_small_report() -> None:
    """50,000 duplicated keys in 1.3 MB gave 50,006 violations and a 10 MB report; the first 100 remain."""
    payload = ("{" + ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(50_000)) + "}").encode()
    report = run(payload)
    listed, more = _capped(report, "CC004")
    assert [v.path for v in listed] == [f"$.k{i}" for i in range(MAX_PER_RULE)]
    assert more == 50_000 - MAX_PER_RULE
    assert len(report.violations) < 10 * MAX_PER_RULE
    assert len(json.dumps(report.to_dict())) < 100_000
    assert len(str(report)) < 100_000
    assert not report.ok  # the summary keeps the rule's severity
    summaries = [v for v in report.violations if "are not listed" in v.message]
    assert report.total == len(report.violations) - len(summaries) + sum(v.actual for v in summaries)
    assert str(report).startswith(f"{report.total} contract violations in ")
    assert report.to_dict()["total"] == report.total
    with pytest.raises(ContractViolation, match=f"^{report.total} contract violations"):
        assert_conforms(payload, dialect="mistral")


def test_a_rule_at_exactly_the_cap_has_no_summary() -> None:
    items = ", ".join(['{"a": 1, "a": 2}'] * MAX_PER_RULE)
    report = run("[" + items + "]")
    listed, more = _capped(report, "CC004")
    assert (len(listed), more) == (MAX_PER_RULE, 0)
    assert report.total is None and "total" not in report.to_dict()
    listed, more = _capped(run("[" + items + ', {"a": 1, "a": 2}]'), "CC004")
    assert (len(listed), more) == (MAX_PER_RULE, 1)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_many_wrong_choices_are_listed_up_to_the_cap_in_document_order(dialect: str) -> None:
    """``"choices": [1, 1, ...]``: one CC102 per item; 1,000,000 of them took 1.7 GB and 31 s."""
    n = 20_000  # past the schema's batching threshold
    payload = body(dialect, choices=[1] * n)
    started = time.perf_counter()
    report = run(payload, dialect=dialect)
    elapsed = time.perf_counter() - started
    listed, more = _capped(report, "CC102")
    assert [v.path for v in listed] == [f"$.choices[{i}]" for i in range(MAX_PER_RULE)]
    assert more == n - MAX_PER_RULE
    assert report.violations[-1].code == "CC102" and report.violations[-1].path == "$"  # the summary comes last
    assert len(json.dumps(report.to_dict())) < 100_000
    assert elapsed < 10


@pytest.mark.parametrize("n", [150, 20_000])
def test_one_object_with_many_unknown_keys_is_listed_up_to_the_cap(n: int) -> None:
    """One failing place, many findings: the violation route (up to its 200 places) hands them to a collector from
    the second on; past that, the full path."""
    d = doc("mistral")
    d["choices"][0]["message"].update({f"k{i}": i for i in range(n)})
    payload = json.dumps(d).encode()
    started = time.perf_counter()
    report = run(payload, select=None)
    elapsed = time.perf_counter() - started
    listed, more = _capped(report, "CC104")
    assert [v.path for v in listed] == [f"$.choices[0].message.k{i}" for i in range(MAX_PER_RULE)]
    assert more == n - MAX_PER_RULE and report.total == n
    settings = resolve_settings(dialect="mistral")
    assert report == engine._full_check(payload, settings, status=None, stream=None, request=None)
    located = engine._fast_check(payload, settings, None, None, locate=True)
    assert located == (report if n < 200 else None)
    assert elapsed < 10


def test_the_cap_is_per_rule_and_ignore_silences_the_summary_with_its_rule() -> None:
    d = doc("mistral")
    d["choices"] = [1] * 300 + [{**d["choices"][0], "index": i, "finish_reason": "exploded"} for i in range(300)]
    report = run(json.dumps(d).encode())
    assert _capped(report, "CC102")[1] == 300 - MAX_PER_RULE  # wrong items
    assert _capped(report, "CC103")[1] == 300 - MAX_PER_RULE  # an unknown finish_reason
    assert "CC102" not in run(json.dumps(d).encode(), select=["ALL"], ignore=["CC102"]).codes()


def test_batched_schema_validation_gives_the_hits_of_one_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long list is validated a slice at a time past a number of errors; the hits are those of one pass."""
    from chatcontract.rules import schema
    from chatcontract.settings import resolve_settings

    good = doc("openai")["choices"][0]
    items: list[Any] = []
    for i in range(60):
        items += [
            {**good, "index": 3 * i},
            1,
            {**good, "index": 3 * i + 2, "message": {**good["message"], "content": 5}, "finish_reason": None},
        ]
    d = {**doc("openai"), "choices": items, "created": "yesterday", "usage": None}
    adapter = resolve_settings(dialect="openai").contracts.response
    whole = list(schema.schema_hits(adapter, d, what="response"))
    monkeypatch.setattr(schema, "_BATCH_ABOVE", 10)
    monkeypatch.setattr(schema, "_BATCH", 7)
    assert schema._longest_list(d, 10) == ("choices",)
    batched = list(schema.schema_hits(adapter, d, what="response"))
    assert sorted(batched, key=repr) == sorted(whole, key=repr)  # the engine puts them in document order
    assert len(whole) > 120


def test_a_million_event_stream_keeps_memory_bounded() -> None:
    """``data: 1`` events, each a CC301: memory bounded by the largest event, not by the number of events."""
    import tracemalloc

    n = 100_000
    payload = b"data: 1\n\n" * n
    tracemalloc.start()
    try:
        report = run(payload, stream=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    listed, more = _capped(report, "CC301")
    assert [v.event for v in listed] == list(range(MAX_PER_RULE))
    assert more == n - MAX_PER_RULE
    assert report.violations[-1].path == "$" and report.violations[-1].code == "CC301"
    assert peak < len(payload) + 8 * MB, f"peak {peak / MB:.1f} MB for a {len(payload) / MB:.1f} MB stream"


def test_the_stream_checker_fed_a_whole_body_at_once_stays_bounded() -> None:
    from chatcontract import StreamChecker

    checker = StreamChecker(dialect="openai", select=["ALL"])
    checker.feed(b"data: 1\n\n" * 50_000 + b"data: [DONE]\n\n")
    report = checker.close()
    assert _capped(report, "CC301")[1] == 50_000 - MAX_PER_RULE
    assert len(report.violations) < 3 * MAX_PER_RULE


def test_check_command_prints_lone_surrogates_in_keys_and_values(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key and its value both holding a lone surrogate: the report (text and JSON) is still UTF-8."""
    from chatcontract.cli import main

    path = tmp_path / "lone.json"
    path.write_bytes(b'{"detail": [{"input": {"caf\\ud83d": "d\\udc00t"}}]}')
    for fmt in ("text", "json"):
        assert main(["check", str(path), "--status", "422", "--format", fmt]) == 1
        out = capsys.readouterr().out
        out.encode("utf-8")
        assert out.count("lone-surrogate") == 2, out


def test_check_command_prints_a_bounded_report(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from chatcontract.cli import main

    path = tmp_path / "dup.json"
    path.write_bytes(("{" + ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(50_000)) + "}").encode())
    for fmt in ("text", "json"):
        assert main(["check", str(path), "--format", fmt]) == 1
        out = capsys.readouterr().out
        assert len(out) < 200_000, f"{fmt}: {len(out)} characters"
        assert f"{50_000 - MAX_PER_RULE} more CC004 violations" in out


# --------------------------------------------------------------------------------------------------------------
# Fuzz runs against hostile providers: budgets that hold, runs that do not pass by default, reports always written.
# Real servers on 127.0.0.1 (tests/fuzz/_misbehaving.py) and the real command in a subprocess, timed from outside.
# --------------------------------------------------------------------------------------------------------------

#: Seconds a fuzz process may take beyond its --max-time: interpreter start and imports, the stop grace, exit.
FUZZ_SLACK = 10.0


def _fuzz(base_url: str, tmp_path: Any, *args: str) -> tuple[int, float, dict[str, Any], str]:
    """Run ``chatcontract fuzz`` on ``base_url``; exit code, wall seconds, results.json and standard error."""
    import subprocess
    import sys

    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "chatcontract", "fuzz", base_url, "--model", "m", "--seed", "1", "--quiet"]
        + ["--report", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.monotonic() - started
    assert "Traceback" not in proc.stderr, proc.stderr
    for name in ("results.json", "report.md", "report.html", "junit.xml"):
        assert (tmp_path / name).is_file(), f"{name} not written; stderr: {proc.stderr}"
    return proc.returncode, wall, json.loads((tmp_path / "results.json").read_text("utf-8")), proc.stderr


def test_fuzz_a_provider_dripping_bytes_is_cut_per_answer_and_at_the_time_budget(tmp_path: Any) -> None:
    """One byte every 0.2 s: no read ever times out, but no answer may take longer than --timeout in all."""
    from .fuzz._misbehaving import misbehaving

    with misbehaving("drip", drip=0.2) as server:
        code, wall, results, _ = _fuzz(
            server.base_url, tmp_path, "--max-time", "8", "--timeout", "1.5", "--no-preflight"
        )
    assert code == 1  # the cut answers are findings
    assert wall < 8 + FUZZ_SLACK
    assert results["duration_s"] < 8 + 3.5
    (cut,) = [f for f in results["findings"] if f["code"] == "CC604"]
    assert "within 1.5 s" in cut["example"]["message"]
    # every answer was cut: at --timeout (lost, CC604) or, the last one, at the end of the run (a run error)
    assert set(results["statuses"]) <= {"none", "200"} and sum(results["statuses"].values()) <= results["requests"]


def test_fuzz_max_time_is_a_hard_wall_even_for_a_drip_slower_than_the_timeout(tmp_path: Any) -> None:
    """--timeout 30 and --max-time 5 against one byte a second: the run still ends at 5 s and writes its reports."""
    from .fuzz._misbehaving import misbehaving

    with misbehaving("drip", drip=1.0) as server:
        code, wall, results, err = _fuzz(
            server.base_url, tmp_path, "--max-time", "5", "--timeout", "30", "--no-preflight"
        )
    assert code != 0
    assert wall < 5 + FUZZ_SLACK
    assert results["stop_reason"] == "max_time"
    assert results["duration_s"] < 5 + 3.5
    assert "nothing was tested" in err


def test_fuzz_rate_limited_with_a_huge_retry_after_stops_and_fails(tmp_path: Any) -> None:
    """429 with Retry-After: 100000 to everything: no waiting past the budget, exit 2, the reason written down."""
    from .fuzz._misbehaving import misbehaving

    with misbehaving("rate-limit", limited=10**9, retry_after="100000") as server:
        code, wall, results, err = _fuzz(server.base_url, tmp_path, "--max-time", "30", "--no-preflight")
    assert code == 2
    assert wall < FUZZ_SLACK  # stopped at the first 429, far inside the 30 s budget
    assert results["stop_reason"] == "rate_limited"
    assert results["statuses"] == {"429": results["requests"]} and results["requests"] <= 2
    assert any("Retry-After 100000" in e for e in results["errors"])
    assert "nothing was tested (stopped: rate limited)" in err
    report = (tmp_path / "report.md").read_text("utf-8")
    assert "(ERROR)" in report and "Retry-After 100000" in report  # not a pass: the run could not test


def test_fuzz_rate_limited_throughout_does_not_pass(tmp_path: Any) -> None:
    """429 with Retry-After: 1 to everything: waits are made within the budget, but a run that tested nothing fails."""
    from .fuzz._misbehaving import misbehaving

    with misbehaving("rate-limit", limited=10**9, retry_after="1") as server:
        code, wall, results, err = _fuzz(server.base_url, tmp_path, "--max-time", "5", "--no-preflight")
    assert code == 2
    assert wall < 5 + FUZZ_SLACK
    assert results["stop_reason"] == "rate_limited"
    assert set(results["statuses"]) == {"429"} and results["statuses"]["429"] >= 2
    assert any("every answer was 429" in e for e in results["errors"])


def test_fuzz_an_unreachable_provider_exits_2_and_still_writes_its_reports(tmp_path: Any) -> None:
    from .fuzz._misbehaving import misbehaving

    with misbehaving("ok") as server:
        url = server.base_url  # closed once the block ends: nobody listens there
    code, wall, results, err = _fuzz(url, tmp_path, "--max-time", "20", "--max-requests", "5", "--no-preflight")
    assert code == 2
    assert results["stop_reason"] == "unreachable"
    assert set(results["statuses"]) == {"none"}
    assert any("cannot reach" in e for e in results["errors"]) and "cannot reach" in err


# The preflight (GET /v1/models, one plain request) under the same budgets: it is the run's first exchange.


def test_fuzz_preflight_against_a_drip_is_cut_at_the_timeout_and_the_run_stops(tmp_path: Any) -> None:
    from .fuzz._misbehaving import misbehaving

    with misbehaving("drip", drip=0.5) as server:
        code, wall, results, err = _fuzz(server.base_url, tmp_path, "--max-time", "30", "--timeout", "2")
    assert code == 2 and wall < 2 * 2 + FUZZ_SLACK  # two answers, each cut at 2 s
    assert results["stop_reason"] == "preflight_refused" and results["requests"] == 0
    assert "got no complete answer within 2 s" in err
    assert "(ERROR)" in (tmp_path / "report.md").read_text("utf-8")


def test_fuzz_preflight_spends_the_time_budget_too(tmp_path: Any) -> None:
    from .fuzz._misbehaving import misbehaving

    with misbehaving("drip", drip=1.0) as server:
        code, wall, results, _ = _fuzz(server.base_url, tmp_path, "--max-time", "3", "--timeout", "30")
    assert code == 2 and wall < 3 + FUZZ_SLACK
    assert results["stop_reason"] == "preflight_refused"


def test_fuzz_preflight_rate_limited_past_the_budget_stops_at_once(tmp_path: Any) -> None:
    from .fuzz._misbehaving import misbehaving

    with misbehaving("rate-limit", limited=10**9, retry_after="100000") as server:
        code, wall, results, err = _fuzz(server.base_url, tmp_path, "--max-time", "30")
    assert code == 2 and wall < FUZZ_SLACK
    assert results["stop_reason"] == "rate_limited" and results["requests"] == 0
    assert "Retry-After 100000" in err and any("Retry-After 100000" in e for e in results["errors"])


def test_fuzz_preflight_of_an_unreachable_provider_still_writes_its_reports(tmp_path: Any) -> None:
    from .fuzz._misbehaving import misbehaving

    with misbehaving("ok") as server:
        url = server.base_url
    code, _, results, err = _fuzz(url, tmp_path, "--max-time", "20")
    assert code == 2
    assert results["stop_reason"] == "unreachable" and "cannot reach" in err


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (" 1.5 ", 1.5), ("0", 0.0), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    from chatcontract.fuzz.deadlines import retry_after_seconds

    assert retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    from chatcontract.fuzz.deadlines import retry_after_seconds

    now = 1_750_000_000.0
    assert retry_after_seconds(formatdate(now + 90, usegmt=True), now=now) == 90.0
    assert retry_after_seconds(formatdate(now - 90, usegmt=True), now=now) == 0.0


def test_fuzz_dripping_streams_are_cut_short_and_judged_as_such() -> None:
    """A dripping SSE answer is marked ``stream_cut_short`` at the timeout (CC604), not judged as a whole stream."""
    from chatcontract.fuzz.runner import FuzzOptions, run_fuzz

    from .fuzz._misbehaving import misbehaving

    with misbehaving("drip-stream", drip=0.1) as server:
        started = time.monotonic()
        results = run_fuzz(
            FuzzOptions(
                base_url=server.base_url, model="m", seed=1, phases=("examples",), max_requests=12, timeout=1,
                preflight=False,
            )
        )
        elapsed = time.monotonic() - started
    assert results.streams >= 1
    (cut,) = [f for f in results.findings if f.code == "CC604"]
    assert cut.count == results.streams  # every stream, answered 200 as far as it came, was cut
    assert cut.example is not None and "stream did not end within 1 s" in cut.example.message
    assert not {"CC303", "CC309"} & {f.code for f in results.findings}  # the part read is not judged as a whole
    assert elapsed < results.streams * 1.25 + 10


def test_a_long_list_of_wrong_items_is_validated_in_bounded_memory() -> None:
    """pydantic keeps every error of one validation (about 1.4 KB each): long lists go through it a slice at a time."""
    import tracemalloc

    n = 10_000
    payload = body("mistral", choices=[1] * n)
    tracemalloc.start()
    try:
        report = run(payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert _capped(report, "CC102")[1] == n - MAX_PER_RULE
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB for {n} wrong items"  # one validation: about 14 MB


def test_a_run_after_a_run_that_cut_its_connections_is_not_cut() -> None:
    """A run that ends rate limited cuts every socket its sessions opened; the next run in the process starts clean."""
    from chatcontract.fuzz.runner import FuzzOptions, run_fuzz

    from .fuzz._misbehaving import misbehaving

    with misbehaving("rate-limit", limited=10**9, retry_after="100000") as server:
        first = run_fuzz(
            FuzzOptions(base_url=server.base_url, model="m", seed=1, max_time=10, max_requests=5, preflight=False)
        )
    assert first.stop_reason == "rate_limited"
    with misbehaving("ok") as server:
        second = run_fuzz(
            FuzzOptions(base_url=server.base_url, model="m", seed=1, phases=("examples",), max_requests=3,
                        preflight=False)
        )
    assert second.stop_reason != "rate_limited" and second.statuses == {"200": second.requests}
