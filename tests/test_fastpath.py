"""The conforming-response fast path of ``check()`` gives exactly the full path's report, for every input.

``check()`` first tries ``engine._fast_check`` (strict lossless parse, jsonschema-rs on a stricter schema of the
contract, one fused pass for the built-in consistency rules) and falls back to ``engine._full_check``. Here every
input is checked both ways: through ``check()`` and straight through ``_full_check``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jiter
import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from chatcontract import _accel, check, engine
from chatcontract import settings as cc_settings
from chatcontract.contracts import DIALECTS, contracts_for
from chatcontract.engine import Report
from chatcontract.outcome import Collector
from chatcontract.rules import Hit
from chatcontract.rules._fast import fast_validator

from . import strategies as gen
from .test_properties import documents

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"
THINKING = {"type": "thinking", "thinking": [{"type": "text", "text": "The user asks."}]}
MISTRAL_SEED = (DATA / "mistral_chat_completion.json").read_bytes()
OPENAI_SEED = (DATA / "openai_chat_completion.json").read_bytes()


ROUTES = ["accelerated", "numbers", "pure"]


def take_route(name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Take route ``name``: with the C accelerator (when built); without its plain proof (``numbers``), so every
    body takes the strict parse and the accelerator's walk of its numbers; or in pure Python."""
    if name != "accelerated":
        monkeypatch.setattr(_accel, "plain", None)
    if name == "pure":
        for called in _accel.CALLED:
            monkeypatch.setattr(_accel, called, None)
    return name


@pytest.fixture(autouse=True, params=ROUTES)
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on each route (:func:`take_route`)."""
    return take_route(str(request.param), monkeypatch)


def _settings(kw: dict[str, Any]) -> Any:
    return cc_settings._settings_for(
        kw.get("dialect"), kw.get("select"), kw.get("ignore"), kw.get("provider"), kw.get("extensions")
    )


def full(payload: Any, **kw: Any) -> Report:
    settings_ = _settings(kw)
    return engine._full_check(
        payload, settings_, status=kw.get("status"), stream=kw.get("stream"), request=kw.get("request")
    )


def fast_only(payload: Any, *, locate: bool = False, **kw: Any) -> Report | None:
    """The fast path alone (None: it gives up); with ``locate``, the violation route after it as check() runs it."""
    status = kw.get("status")
    if kw.get("stream") is True or (status is not None and status >= 400) or type(payload) not in (bytes, str):
        return None  # check() does not try the fast path
    settings_ = _settings(kw)
    try:  # as in check(): an exception (jsonschema-rs refusing a LosslessFloat, ...) means "take the full path"
        return engine._fast_check(payload, settings_, kw.get("status"), kw.get("request"), locate=locate)
    except Exception:
        return None


def same(payload: Any, **kw: Any) -> Report:
    """Assert that check() (fast path first) and the full path agree exactly; return the report."""
    expected = full(payload, **kw)
    got = check(payload, **kw)
    assert got == expected, f"fast path:\n{got}\nfull path:\n{expected}"
    assert json.dumps(got.to_dict()) == json.dumps(expected.to_dict())  # (also 1 vs 1.0 vs true)
    assert str(got) == str(expected)
    shortcut = fast_only(payload, **kw)
    if shortcut is not None:  # the fast path only ever answers "conforms", and only when it does
        assert shortcut == expected and not expected.violations
    located = fast_only(payload, locate=True, **kw)
    if located is not None:  # the violation route answers what the full path answers
        assert located == expected, f"violation route:\n{located}\nfull path:\n{expected}"
        assert json.dumps(located.to_dict()) == json.dumps(expected.to_dict())
    return got


# ---------------------------------------------------------------------------------------------------------------
# The fast path is taken where it should be


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_mistral_seed_takes_the_fast_path(dialect: str) -> None:
    if dialect == "mistral":
        assert fast_only(MISTRAL_SEED, dialect=dialect) is not None
        assert fast_only(MISTRAL_SEED.decode(), dialect=dialect) is not None
    same(MISTRAL_SEED, dialect=dialect)
    same(OPENAI_SEED, dialect=dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_generated_valid_responses_take_the_fast_path(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(gen.responses(dialect), label="response")
    body = json.dumps(doc).encode()
    report = same(body, dialect=dialect)
    assert not report.violations
    # Left to the full path on purpose: documents with floats (logprobs), ids and models without a printable ASCII
    # character (the fast schema's stand-in for "not blank").
    printable = all(any("!" <= ch <= "~" for ch in doc[key]) for key in ("id", "model"))
    if printable and not _has_float(doc):
        assert fast_only(body, dialect=dialect) is not None


def _has_float(node: Any) -> bool:
    if isinstance(node, float):
        return True
    if isinstance(node, dict):
        return any(_has_float(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_float(v) for v in node)
    return False


# ---------------------------------------------------------------------------------------------------------------
# Property: fast == full on valid and broken documents, with every option


SELECTS: list[dict[str, Any]] = [
    {},
    {"select": ["CC1"]},
    {"select": ["ALL"], "ignore": ["CC201", "CC216"]},
    {"ignore": ["CC2"]},
    {"ignore": ["CC202", "CC209", "CC503"]},
    {"select": ("CC204", "CC205", "CC206")},
    {"ignore": "CC212"},
]
REQUESTS: list[Any] = [
    None,
    {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]},
    {"model": "m", "messages": [], "n": 2, "max_tokens": 5, "stop": ["the"]},
    {"model": "m", "tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f"}}]},
    {"model": "m", "messages": [], "response_format": {"type": "json_object"}},
    b'{"model": "gpt-4o", "n": 1}',
    {"model": "m", "messages": [], "reasoning_effort": "high"},  # CC412
    {"model": "m", "messages": [], "reasoning_effort": "none"},  # CC413
    {"model": "gpt-4o-mini", "messages": [], "max_completion_tokens": 3, "n": 1},  # CC402, CC403, CC411
    {"model": "m", "messages": [], "tools": [{"type": "function", "function": {"name": "g"}}]},  # CC407
]


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_fast_path_equals_full_path(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(documents(dialect), label="document")
    options = dict(data.draw(st.sampled_from(SELECTS), label="select/ignore"))
    options["request"] = data.draw(st.sampled_from(REQUESTS), label="request")
    options["status"] = data.draw(st.sampled_from([None, 200, 201, 299, 400, 500]), label="status")
    options["dialect"] = data.draw(st.sampled_from([dialect, *DIALECTS]), label="dialect")
    text = json.dumps(doc, ensure_ascii=data.draw(st.booleans(), label="ensure_ascii"))
    payload = data.draw(st.sampled_from([text.encode(), text]), label="payload")
    note(f"options: {options}")
    same(payload, **options)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_every_single_mutation_agrees(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(gen.responses(dialect), label="response")
    mutation = data.draw(st.sampled_from(gen.mutation_candidates(doc, dialect)), label="mutation")
    mutation = gen.with_value(data.draw, mutation, doc, dialect)
    same(json.dumps(mutation.apply(doc)).encode(), dialect=dialect)


# ---------------------------------------------------------------------------------------------------------------
# Targeted: the places where the fast path's shortcuts could differ from the full path


def _seed(dialect: str) -> dict[str, Any]:
    doc = json.loads(OPENAI_SEED if dialect == "openai" else MISTRAL_SEED)
    if dialect == "openai":
        del doc["choices"][0]["message"]["tool_calls"]
    return dict(doc)


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node = out
    for seg in path[:-1]:
        node = node[seg]
    node[path[-1]] = value
    return out


EDITS: list[tuple[tuple[Any, ...], Any]] = [
    (("created",), 1.0e9),  # a float where the contract wants an integer: JSON Schema's integer takes it
    (("created",), 1702256327.0),
    (("created",), 1736423701225),  # milliseconds (CC209)
    (("created",), 4102444800),  # 2100 (CC209, more than a year ahead)
    (("created",), 999_999_999),
    (("created",), -1),  # CC209, each of its messages
    (("created",), 0),
    (("created",), 1_000_000_000_000),  # not milliseconds yet: more than a year ahead
    (("created",), 1_000_000_000_001),
    (("created",), 2**63 - 1),
    (("created",), 2**63),  # beyond 64 bits (CC108)
    (("created",), -(2**63) - 1),
    (("x_extra",), 2**64),  # beyond 64 bits in an extra field
    (("x_extra",), {"deep": [1.5, {"a": 2**70}]}),
    (("x_extra",), 0.0),
    (("x_extra",), [1e300]),
    (("error",), None),  # CC503 looks at truthiness; the fast path refuses any "error" key
    (("error",), {"message": "x"}),
    (("error",), 0),
    (("object",), "error"),
    (("object",), "Error"),
    (("object",), "chat.completions"),  # CC212 (mistral), CC103 (openai)
    (("id",), ""),
    (("id",), " \t"),
    (("id",), "\x1c\x1d"),  # whitespace for str.strip(), not for regular expressions
    (("id",), "\u3000"),
    (("id",), "é"),
    (("model",), "\x85"),
    (("model",), ""),
    (("usage", "total_tokens"), 79),  # CC201
    (("usage", "total_tokens"), 10),  # CC203
    (("usage", "total_tokens"), 62),  # equal to its larger part: CC201, not CC203
    (("usage", "total_tokens"), 61),
    (("usage", "total_tokens"), 2**63 - 1),
    (("usage", "total_tokens"), -(2**63)),
    (("usage", "prompt_tokens"), 2**62),
    (("usage", "prompt_tokens"), -16),  # CC202
    (("usage", "prompt_tokens"), 16.0),
    (("usage", "prompt_tokens"), True),
    (("usage", "prompt_tokens_details"), {"cached_tokens": -1}),  # CC202 one level down (openai) / extra (mistral)
    (("usage", "prompt_tokens_details"), {"cached_tokens": 3}),
    (("usage", "completion_tokens_details"), {"reasoning_tokens": 1.5}),
    (("usage", "x"), -1),
    (("choices",), []),  # CC214
    (("choices", 0, "index"), 1),  # CC204
    (("choices", 0, "index"), -1),
    (("choices", 0, "index"), 0.0),
    (("choices", 0, "finish_reason"), "tool_calls"),  # CC205
    (("choices", 0, "message"), None),  # CC213 / CC107
    (("choices", 0, "message", "content"), "a: b \\u003a"),
    (("choices", 0, "logprobs"), None),
    (("choices", 0, "x_extra"), -1.5),
    # reasoning (rules/reasoning.py)
    (("usage", "completion_tokens_details"), {"reasoning_tokens": 10_000}),  # CC217 (openai)
    (("choices", 0, "message", "content"), "<think>\nThe user asks.\n</think>\n\nParis."),  # CC218
    (("choices", 0, "message", "content"), "<think>\nThe user asks."),  # CC219
    (("choices", 0, "message", "content"), "A <think> tag in prose."),
    (("choices", 0, "message", "reasoning_content"), "The user asks."),  # CC220 (mistral)
    (("choices", 0, "message", "content"), [THINKING, {"type": "text", "text": "Paris."}]),  # CC220 (openai)
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "request_",
    [
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "high"},
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "none"},
    ],
)
@pytest.mark.parametrize("edit", [None, ("choices", 0, "message", "content"), ("choices", 0, "message", "reasoning")])
def test_reasoning_requests_and_the_extension_agree(dialect: str, request_: Any, edit: Any) -> None:
    doc = _seed(dialect)
    if edit == ("choices", 0, "message", "content"):
        doc = _set(doc, edit, [THINKING, {"type": "text", "text": "Paris."}])
    elif edit is not None:
        doc = _set(doc, edit, ["not", "a", "string"])
    body = json.dumps(doc).encode()
    for extensions in (None, ["reasoning"]):
        settings_ = engine.resolve_settings(dialect=dialect, extensions=extensions)
        expected = engine._full_check(body, settings_, status=None, stream=None, request=request_)
        assert check(body, dialect=dialect, request=request_, extensions=extensions) == expected
        foreign = edit is not None and edit[-1] == "content" and dialect == "openai"  # Mistral's chunks in OpenAI
        typed = edit is not None and edit[-1] == "reasoning" and (dialect == "mistral" or extensions is not None)
        wrong_type = foreign or typed
        assert ("CC220" in expected.codes()) == wrong_type, str(expected)


@pytest.mark.parametrize(
    ("message", "wrong_type"),
    [
        ({"role": "assistant", "content": "Paris.", "reasoning_content": ["a list"]}, True),
        ({"role": "assistant", "content": "Paris.", "reasoning": "ok", "reasoning_details": "not a list"}, True),
        ({"role": "assistant", "content": "Paris.", "reasoning_details": [{"type": "reasoning.text"}, "text"]}, True),
        ({"role": "assistant", "content": "Paris.", "reasoning_content": "ok", "reasoning": None}, False),
    ],
)
def test_short_openai_messages_with_reasoning_fields_agree(message: dict[str, Any], wrong_type: bool) -> None:
    doc = _seed("openai")
    doc["choices"][0]["message"] = message
    body = json.dumps(doc).encode()
    settings_ = engine.resolve_settings(dialect="openai", extensions=["reasoning"])
    expected = engine._full_check(body, settings_, status=None, stream=None, request=None)
    assert check(body, dialect="openai", extensions=["reasoning"]) == expected
    assert ("CC220" in expected.codes()) == wrong_type


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("path", "value"), EDITS, ids=[f"{'.'.join(map(str, p))}={v!r}"[:60] for p, v in EDITS])
def test_targeted_edits_agree(dialect: str, path: tuple[Any, ...], value: Any) -> None:
    doc = _set(_seed(dialect), path, value)
    body = json.dumps(doc).encode()
    for options in ({}, {"ignore": ["CC2"]}, {"select": ["CC1", "CC503"]}):
        same(body, dialect=dialect, **options)


def _with_calls(dialect: str, calls: list[Any], finish: str = "tool_calls") -> bytes:
    doc = _seed(dialect)
    doc["choices"][0]["message"]["tool_calls"] = calls
    doc["choices"][0]["finish_reason"] = finish
    return json.dumps(doc).encode()


def _call(cid: Any = "D681PevKs", arguments: Any = '{"city": "Paris"}', name: str = "f") -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}}


CALLS: list[tuple[list[Any], str]] = [
    ([_call()], "tool_calls"),
    ([_call()], "stop"),  # CC206
    ([_call(), _call()], "tool_calls"),  # CC208
    ([_call(), _call("Xq2bT9wLm")], "tool_calls"),
    ([_call("")], "tool_calls"),  # CC215
    ([_call(" ")], "tool_calls"),
    ([_call("call_abc-123")], "tool_calls"),  # CC216 (mistral)
    ([_call("D681PevK\u00e9")], "tool_calls"),
    ([_call("D681PevK\n")], "tool_calls"),
    ([_call(arguments='{"city": "Par')], "tool_calls"),  # CC207
    ([_call(arguments="[1]")], "tool_calls"),
    ([_call(arguments='{"a": NaN}')], "tool_calls"),
    ([_call(arguments='{"a": "\\ud800", "a": 1e999}')], "tool_calls"),  # json.loads takes it, jiter does not
    ([_call(arguments={"city": "Paris"})], "tool_calls"),
    ([_call(arguments={"n": 1.5})], "tool_calls"),
    ([], "tool_calls"),
    ([], "stop"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("calls", "finish"), CALLS)
def test_tool_calls_agree(dialect: str, calls: list[Any], finish: str) -> None:
    body = _with_calls(dialect, calls, finish)
    for options in ({}, {"ignore": ["CC216", "CC206"]}, {"select": ["CC208"]}):
        same(body, dialect=dialect, **options)
    request = {"model": "m", "messages": [], "tools": [{"type": "function", "function": {"name": "g"}}]}
    for tool_choice in ("none", "required", {"type": "function", "function": {"name": "f"}}):
        same(body, dialect=dialect, request={**request, "tool_choice": tool_choice})


@pytest.mark.parametrize("dialect", DIALECTS)
def test_several_choices_agree(dialect: str) -> None:
    doc = _seed(dialect)
    one = doc["choices"][0]
    for indices in ([0, 1], [1, 0], [0, 0], [0, 2], [2, 1, 0], [0, 1, 1], [-1, 0]):
        doc["choices"] = [{**one, "index": i} for i in indices]
        body = json.dumps(doc).encode()
        same(body, dialect=dialect)
        same(body, dialect=dialect, request={"model": "m", "n": len(indices)})


KEYS = [b'"k%d":0' % i for i in range(70)]
RAW_BODIES: list[bytes] = [
    MISTRAL_SEED.replace(b'"model":', b'"id":"x","model":', 1),  # duplicate key (CC004)
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"prefix":false', 1),
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"pre\\u0066ix":false', 1),
    MISTRAL_SEED.replace(b'"object":"chat.completion"', b'"object":"chat.completion","x":"\\u003a:"', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created":1702256327.0', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created":17022563.27e2', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created":1e400', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created":NaN', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created":12345678901234567890123', 1),
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"x":-0.0', 1),
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"x":1E+2', 1),
    b"\xef\xbb\xbf" + MISTRAL_SEED,  # BOM
    MISTRAL_SEED[:-5],  # truncated
    MISTRAL_SEED.replace(b"Paris", b"Par\xffis", 1),  # invalid UTF-8
    MISTRAL_SEED.replace(b"Paris", b"Par\\ud800is", 1),  # a lone surrogate escape
    MISTRAL_SEED.replace(b"Paris", b"Par\\udc00is", 1),  # a lone low surrogate (CC009)
    MISTRAL_SEED.replace(b"Paris", b"Par\\ud800\\u0041is", 1),  # a high surrogate before a non-surrogate
    MISTRAL_SEED.replace(b"Paris", b"Par\\uD83D\\uDE00is", 1),  # a valid pair: conforms
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"\\udfff":1', 1),  # in a key
    b" " + MISTRAL_SEED,
    MISTRAL_SEED + b"\n",
    json.dumps(json.loads(MISTRAL_SEED), indent=2).encode(),
    b"[" + MISTRAL_SEED + b"]",
    b"data: " + MISTRAL_SEED + b"\n\ndata: [DONE]\n\n",
    b"{}",
    b'{"a":' * 300 + b"1" + b"}" * 300,
    b"",
    # Aimed at the C accelerator's "plain" proof (chatcontract/_speedups.c): integers at the 18/19-digit and
    # 64-bit edges, duplicates one level down and across siblings, escapes in keys and values, nesting limits.
    MISTRAL_SEED.replace(b'"total_tokens":78', b'"total_tokens":78,"x":999999999999999999', 1),
    MISTRAL_SEED.replace(b'"total_tokens":78', b'"total_tokens":78,"x":9223372036854775807', 1),
    MISTRAL_SEED.replace(b'"total_tokens":78', b'"total_tokens":78,"x":9223372036854775808', 1),
    MISTRAL_SEED.replace(b'"total_tokens":78', b'"total_tokens":78,"x":-9223372036854775809', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created":-0', 1),
    MISTRAL_SEED.replace(b'"completion_tokens":62', b'"completion_tokens":62,"completion_tokens":62', 1),
    MISTRAL_SEED.replace(b'"role":"assistant"', b'"role":"assistant","role":"assistant"', 1),
    MISTRAL_SEED.replace(b'"role":"assistant"', b'"r\\u006fle":"assistant","role":"assistant"', 1),
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"x":{"a":1},"y":{"a":1}', 1),
    MISTRAL_SEED.replace(b"Paris", b'\\\\\\"Paris\\\\', 1),
    MISTRAL_SEED.replace(b"Paris", b'\\"}],\\"id\\":\\"', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created" : 1702256327 ', 1),
    MISTRAL_SEED.replace(b'"created":1702256327', b'"created":-Infinity', 1),
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"x":' + b"[" * 70 + b"]" * 70, 1),
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"x":{' + b",".join(KEYS[:70]) + b"}", 1),
    MISTRAL_SEED.replace(b'"prefix":false', b'"prefix":false,"x":{' + b",".join(KEYS[:65] + KEYS[:1]) + b"}", 1),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("body", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_raw_bodies_agree(dialect: str, body: bytes) -> None:
    for options in ({}, {"stream": False}, {"status": 200}, {"ignore": ["CC0"]}):
        same(body, dialect=dialect, **options)
    same(body.decode("utf-8", "replace"), dialect=dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_options_that_bypass_the_fast_path_agree(dialect: str) -> None:
    for options in ({"stream": True}, {"status": 400}, {"status": 503}, {"provider": "litellm"}):
        same(MISTRAL_SEED, dialect=dialect, **options)
    # A dict, an SDK-like object and a request that is not a body go to the full path (or raise alike).
    assert check(json.loads(MISTRAL_SEED), dialect=dialect) == full(json.loads(MISTRAL_SEED), dialect=dialect)
    with pytest.raises(Exception) as fast_exc:
        check(MISTRAL_SEED, dialect=dialect, request=42)
    with pytest.raises(type(fast_exc.value)):
        full(MISTRAL_SEED, dialect=dialect, request=42)


def test_select_given_as_a_generator_or_a_set_still_works() -> None:
    assert check(MISTRAL_SEED, select=(c for c in ["CC2"])) == full(MISTRAL_SEED, select=["CC2"])
    assert check(MISTRAL_SEED, select={"CC2", "CC1"}) == full(MISTRAL_SEED, select=["CC1", "CC2"])


def test_custom_rules_run_on_the_fast_path() -> None:
    from chatcontract.rules import RULES, Hit, rule

    seen: list[Any] = []

    @rule("CC990", "fastpath-test-rule")
    def flag(doc: Any, ctx: Any) -> Any:
        """What it checks:\n    Test rule."""
        seen.append(doc)
        if doc.get("model") == "mistral-small-latest":
            yield Hit(("model",), "flagged")

    try:
        cc_settings._settings_cache.clear()
        cc_settings._default_settings.clear()
        cc_settings._resolve.cache_clear()
        assert same(MISTRAL_SEED).codes() == ["CC990"]
        assert same(MISTRAL_SEED.replace(b"mistral-small-latest", b"other", 1)).codes() == []
        assert seen
    finally:
        del RULES["CC990"]
        from chatcontract.rules import _registry

        _registry._NAMES.pop("fastpath-test-rule", None)
        cc_settings._settings_cache.clear()
        cc_settings._default_settings.clear()
        cc_settings._resolve.cache_clear()


LONE: list[tuple[tuple[Any, ...], Any, str]] = [
    (("usage", "total_tokens"), 79, "CC201"),
    (("usage", "total_tokens"), 10, "CC203"),
    (("created",), 1736423701225, "CC209"),
    (("created",), -1, "CC209"),
    (("created",), 4102444800, "CC209"),
    (("created",), 999_999_999, "CC209"),
    (("id",), " \t", "CC210"),
    (("model",), "", "CC211"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("path", "value", "code"), LONE)
def test_a_lone_covered_finding_is_built_in_one_call(
    route: str, monkeypatch: pytest.MonkeyPatch, dialect: str, path: tuple[Any, ...], value: Any, code: str
) -> None:
    # One covered rule named and no other rule to run: the accelerator builds that rule's hit (_speedups.findings),
    # and the report is the full path's, on every route
    answers: list[Any] = []
    built = _accel.findings
    if built is not None:
        monkeypatch.setattr(_accel, "findings", lambda *args: answers.append(built(*args)) or answers[-1])
    body = json.dumps(_set(_seed(dialect), path, value)).encode()
    asked = {"model": _seed(dialect)["model"], "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 500}
    assert same(body, dialect=dialect).codes() == [code]
    assert same(body, dialect=dialect, status=200).status == 200
    assert same(body, dialect=dialect, request=asked, status=200).codes() == [code]  # no request rule to run
    assert (bool(answers) and None not in answers) == (route != "pure")
    answers.clear()
    # with a request rule to run too (CC411: another model; CC401: n; a key a keyed rule reads), the route runs
    # the rules as before (and agrees)
    for request in ({**asked, "model": "m"}, {**asked, "n": 2}, {**asked, "stop": ["\n"]}):
        same(body, dialect=dialect, request=request)
    assert answers == []


def _tool_call_doc(dialect: str, finish_first: bool, ids: list[Any], finish: str = "stop") -> dict[str, Any]:
    """The dialect's seed whose first choice has tool calls with ``ids``, its finish reason before or after them."""
    doc = _seed(dialect)
    choice = doc["choices"][0]
    choice["message"]["tool_calls"] = [_call(cid) for cid in ids]
    rest = {k: v for k, v in choice.items() if k != "finish_reason"}
    doc["choices"][0] = {"finish_reason": finish, **rest} if finish_first else {**rest, "finish_reason": finish}
    return doc


CALL_FINDINGS: list[tuple[list[Any], str, bool]] = [
    (["call_mock_0001"], "stop", True),  # LiteLLM's mock: CC206 and CC216 (mistral)
    (["call_mock_0001"], "stop", False),  # the same, the message first
    (["call_1", "D681PevKs", "call_\u00e9"], "stop", True),
    (["call_1", "call_2"], "tool_calls", False),  # CC216 alone, twice
    (["D681PevKs"], "stop", False),  # CC206 alone
    (["call_1", " "], "stop", True),  # a blank id: CC215 too, the route
    (["call_1", "call_1"], "stop", True),  # a repeated id: CC208 too, the route
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("ids", "finish", "finish_first"), CALL_FINDINGS)
def test_tool_call_findings_are_built_in_one_call(
    route: str, monkeypatch: pytest.MonkeyPatch, dialect: str, ids: list[Any], finish: str, finish_first: bool
) -> None:
    # The covered rules named are all ones the accelerator builds the hits of (CC206, CC216, the one-hit rules):
    # their report is built from those hits, in document order, and is the full path's on every route; with
    # another rule to run (CC208, CC215, a request rule), the route runs the rules as before
    answers: list[Any] = []
    built = _accel.findings
    if built is not None:
        monkeypatch.setattr(_accel, "findings", lambda *args: answers.append(built(*args)) or answers[-1])
    doc = _tool_call_doc(dialect, finish_first, ids, finish)
    for edit in ({}, {"created": 1_700_000_000_000}, {"model": ""}):
        body = json.dumps({**doc, **edit}).encode()
        report = same(body, dialect=dialect)
        same(body, dialect=dialect, status=201)
        same(body, dialect=dialect, request={"model": doc["model"], "messages": [], "n": 2})
        codes = set(report.codes())
        if route == "accelerated" and codes and not codes & {"CC208", "CC215"}:
            assert answers and answers[0] is not None and {h[0] for h in answers[0]} == codes
        answers.clear()


def test_built_reports_of_several_findings_are_kept_by_their_hits(route: str) -> None:
    # Several built findings: their report is kept by (hits, status); other ids are other hits, and another report
    settings_ = _settings({"dialect": "mistral"})
    settings_.fast.built.clear()
    first_body = json.dumps(_tool_call_doc("mistral", True, ["call_mock_0001"])).encode()
    other_body = json.dumps(_tool_call_doc("mistral", True, ["call_mock_0002"])).encode()
    first = check(first_body, dialect="mistral")
    assert first.codes() == ["CC206", "CC216"]
    assert (check(first_body, dialect="mistral") is first) == (route != "pure")
    other = check(other_body, dialect="mistral")
    assert other == full(other_body, dialect="mistral") != first
    assert check(first_body, dialect="mistral", status=200) == full(first_body, dialect="mistral", status=200)
    assert (len(settings_.fast.built) == 3) == (route != "pure")


def test_built_reports_are_kept_per_hit_and_status_and_their_memo_is_bounded(route: str) -> None:
    # The report of a built finding is kept by (code, hit, status): an equal hit gets the same (immutable) report,
    # another hit or status its own; and the memo never holds more than 256 of them
    settings_ = _settings({"dialect": "mistral"})
    settings_.fast.built.clear()
    bodies = [MISTRAL_SEED.replace(b'"total_tokens":78', b'"total_tokens":%d' % (100 + i), 1) for i in range(300)]
    first = check(bodies[0], dialect="mistral")
    assert first.codes() == ["CC201"] and "100" in first.violations[0].message
    assert (check(bodies[0], dialect="mistral") is first) == (route != "pure")
    assert check(bodies[0], dialect="mistral", status=200) == full(bodies[0], dialect="mistral", status=200)
    assert check(bodies[1], dialect="mistral") == full(bodies[1], dialect="mistral") != first
    for body in bodies:
        assert len(settings_.fast.built) <= 256
        assert check(body, dialect="mistral").violations[0].actual == json.loads(body)["usage"]["total_tokens"]
    assert (len(settings_.fast.built) > 0) == (route != "pure")


def _repeated(dialect: str, **edits: Any) -> bytes:
    """The dialect's seed with key ``id`` repeated (``"id": "x"`` before ``model``: CC004 alone), and ``edits``."""
    doc = _seed(dialect)
    for key, value in edits.items():
        doc = _set(doc, tuple(int(seg) if seg.isdigit() else seg for seg in key.split("__")), value)
    return json.dumps(doc, separators=(",", ":")).encode().replace(b'"model":', b'"id":"x","model":', 1)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_lone_repeated_key_is_answered_without_the_route(
    route: str, monkeypatch: pytest.MonkeyPatch, dialect: str
) -> None:
    # One key repeated once in a body otherwise conforming, with no other rule to run: the report is CC004's
    # violation, straight from the accelerator's parse (the violation route is not called); and the full path's
    asked = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    routed: list[Any] = []
    located = engine._located_check
    monkeypatch.setattr(engine, "_located_check", lambda *a, **kw: routed.append(a) or located(*a, **kw))
    body = _repeated(dialect)
    for options in ({}, {"status": 200}, {"request": {**asked, "model": _seed(dialect)["model"]}}):
        report = same(body, dialect=dialect, **options)
        assert [(v.code, v.loc, v.actual) for v in report.violations] == [("CC004", ("id",), "x")]
    assert (routed == []) == (route == "accelerated")
    # its report is kept per hit, value type and status: true is not 1, and a list is not kept
    assert (check(body, dialect=dialect) is check(body, dialect=dialect)) == (route == "accelerated")
    plain = json.dumps(_seed(dialect), separators=(",", ":")).encode()
    for value in (b"true", b"1", b"null", b'"1"', b"[1]", b'{"a":1}', b"1", b"true"):
        for status in (None, 200):  # (an extension key, which any JSON value may fill)
            same(plain.replace(b"{", b'{"x":0,"x":' + value + b",", 1), dialect=dialect, status=status)
    # Anything more goes the route, and agrees: another finding (a covered rule's, a request rule's), a second
    # repeat, the code ignored, a key repeated inside a value that a later repeat replaced
    routed.clear()
    cases: list[tuple[bytes, dict[str, Any]]] = [
        (_repeated(dialect, usage__total_tokens=10**6), {}),  # + CC201
        (_repeated(dialect, created=-5), {}),  # + CC209
        (body, {"request": asked}),  # + CC411 (another model)
        (body, {"request": {**asked, "n": 2}}),  # + CC401
        (body, {"request": {**asked, "stop": ["x"]}}),  # a keyed request rule to run
        (body.replace(b'"object":', b'"object":"x","object":', 1), {}),  # two repeats
        (body, {"ignore": ["CC004"]}),
        (body.replace(b'"id":"x"', b'"id":{"a":1,"a":2}', 1), {}),
    ]
    for case, options in cases:
        same(case, dialect=dialect, **options)
    assert len(routed) == 2 * len(cases)  # (same() runs check(), then the route alone)


USAGE_OFF = MISTRAL_SEED.replace(b'"total_tokens":78', b'"total_tokens":80', 1)  # CC201, a warning


@pytest.mark.parametrize(
    "behaviour", ["one", "two", "crash after one", "crash", "assert", "assert after one", "one then a second rule"]
)
@pytest.mark.parametrize("body", ["conforming", "usage off"])
@pytest.mark.parametrize("ignore", [None, ["CC900"], ["CC991"]])
def test_the_route_takes_over_from_one_finding_as_the_collector_would(
    behaviour: str, body: str, ignore: list[str] | None
) -> None:
    # The violation route builds a lone finding's report without a collector and hands over at a second one: a
    # second hit of the rule, a crash or a failed assert after a hit, another rule's hit, a covered rule's finding
    # (CC201) before them, a code the configuration ignores
    from chatcontract.rules import RULES, Hit, _registry, rule

    @rule("CC991", "fastpath-lane-rule")
    def flaky(doc: Any, ctx: Any) -> Any:
        """What it checks:\n    Test rule."""
        if behaviour != "crash" and behaviour != "assert":
            yield Hit(("model",), "first")
        if behaviour == "two":
            yield Hit(("id",), "second")
        if behaviour.startswith("crash"):
            raise KeyError("boom")
        assert not behaviour.startswith("assert"), "the custom rule's own words"

    @rule("CC992", "fastpath-lane-second-rule")
    def second(doc: Any, ctx: Any) -> Any:
        """What it checks:\n    Test rule."""
        if behaviour == "one then a second rule":
            yield Hit(("object",), "another")

    def forget() -> None:
        cc_settings._settings_cache.clear()
        cc_settings._default_settings.clear()
        cc_settings._resolve.cache_clear()

    try:
        forget()
        codes = same(MISTRAL_SEED if body == "conforming" else USAGE_OFF, ignore=ignore).codes()
        assert ("CC201" in codes) == (body == "usage off")
        assert ("CC991" in codes) == (behaviour != "crash" and ignore != ["CC991"])
        assert ("CC900" in codes) == (behaviour.startswith("crash") and ignore is None)  # (an ignored rule never runs)
        assert ("CC992" in codes) == (behaviour == "one then a second rule")
    finally:
        for code, name in [("CC991", "fastpath-lane-rule"), ("CC992", "fastpath-lane-second-rule")]:
            del RULES[code]
            _registry._NAMES.pop(name, None)
        forget()


_MISSING_FINISH = ("CC101", Hit(("choices", 0, "finish_reason"), "missing"))
_NULL_MESSAGE = ("CC109", Hit(("choices", 0, "message"), "null"))
_NO_MESSAGE = ("CC213", Hit(("choices", 0), "no message"))


@pytest.mark.parametrize(
    ("found", "codes"),
    [
        ([], []),
        ([_MISSING_FINISH], ["CC101"]),
        ([_MISSING_FINISH, ("CC101", Hit(("choices", 0, "index"), "missing"))], ["CC101", "CC101"]),
        # one cause, one finding: the collector drops the CC109 that CC213 explains, whichever comes first
        ([_NULL_MESSAGE, _NO_MESSAGE], ["CC213"]),
        ([_NO_MESSAGE, _NULL_MESSAGE], ["CC213"]),
        ([_MISSING_FINISH, _MISSING_FINISH], ["CC101"]),  # the same finding twice
    ],
)
@pytest.mark.parametrize("body", ["conforming", "usage off"])
def test_the_route_given_findings_reports_what_a_collector_given_them_does(
    found: list[tuple[str, Hit]], codes: list[str], body: str
) -> None:
    # The violation route gets the contract's findings at its failing places as a list when there are few (no
    # collector is made for one); its report is the one a collector given them reports, rules' findings after them
    settings_ = cc_settings._settings_for("mistral", None, None, None)
    plan = settings_.fast
    if plan.valid is None:
        plan.prepare(settings_)
    doc = jiter.from_json(MISTRAL_SEED if body == "conforming" else USAGE_OFF)
    suspect = frozenset() if body == "conforming" else frozenset({"CC201"})
    collector = Collector(settings_)
    collector.extend(found)
    expected = engine._run_route(collector, doc, settings_, plan, None, None, suspect)
    got = engine._run_route(None, doc, settings_, plan, None, None, suspect, found=list(found))
    assert got == expected
    assert sorted(got.codes()) == sorted([*codes, *(["CC201"] if body == "usage off" else [])])


# ---------------------------------------------------------------------------------------------------------------
# The fast schema is stricter than the contract: whatever it accepts, pydantic's strict validation accepts


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_schema_accepts_only_what_the_contract_accepts(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(documents(dialect), label="document")
    adapter = contracts_for(dialect).response
    validator = fast_validator(adapter)
    assert validator is not None
    parsed = jiter.from_json(json.dumps(doc).encode(), float_mode="lossless-float")
    try:
        accepted = validator.valid(parsed)
    except Exception:  # a float somewhere: jsonschema-rs refuses it, the full path decides
        accepted = False
    if accepted:
        adapter.validator.validate_python(doc)
        assert not _has_float(doc)


# ---------------------------------------------------------------------------------------------------------------
# Nulls for optional fields (CC109, the commonest warning of real providers): the violation route finds them without
# descending (engine._nulls_alone), and must still answer what the full path answers, beside any other finding


#: Fields a provider may send as null, by where they sit: optional ones that refuse null (CC109), required ones
#: (CC107), nullable ones (nothing), and fields of the other dialect (unknown: CC104, or nothing).
NULLABLE_PLACES: dict[str, tuple[str, ...]] = {
    "root": ("system_fingerprint", "service_tier", "usage", "id", "model", "created", "object", "choices", "x_extra"),
    "usage": ("prompt_tokens_details", "completion_tokens_details", "total_tokens"),
    "choice": ("logprobs", "message", "messages", "finish_reason", "index"),
    "message": ("tool_calls", "function_call", "annotations", "audio", "refusal", "role", "prefix", "content"),
    "details": ("reasoning_tokens", "cached_tokens", "audio_tokens"),
}


def _null_targets(doc: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    out = [(doc, key) for key in NULLABLE_PLACES["root"]]
    usage = doc.get("usage")
    if isinstance(usage, dict):
        out += [(usage, key) for key in NULLABLE_PLACES["usage"]]
        for name in ("prompt_tokens_details", "completion_tokens_details"):
            if isinstance(usage.get(name), dict):
                out += [(usage[name], key) for key in NULLABLE_PLACES["details"]]
    for choice in doc.get("choices") or ():
        if isinstance(choice, dict):
            out += [(choice, key) for key in NULLABLE_PLACES["choice"]]
            if isinstance(choice.get("message"), dict):
                out += [(choice["message"], key) for key in NULLABLE_PLACES["message"]]
    return out


@pytest.mark.parametrize(
    ("dialect", "edits", "codes"),
    [
        ("openai", [(("choices", 0, "message", "tool_calls"), None)], ["CC109"]),
        (
            "openai",
            [(("system_fingerprint",), None), (("choices", 0, "message", "function_call"), None)],
            ["CC109", "CC109"],
        ),
        ("openai", [(("usage", "prompt_tokens_details"), {"cached_tokens": None})], ["CC109"]),
        ("mistral", [(("choices", 0, "message", "prefix"), None)], ["CC109"]),
        ("mistral", [(("choices", 0, "message"), None)], ["CC213"]),  # a choice without a message: CC213 alone
        ("openai", [(("choices", 0, "message", "refusal"), "DROP")], ["CC101"]),  # llama.cpp's
        ("openai", [(("choices", 0, "message", "refusal"), "DROP"), (("choices", 0, "logprobs"), "DROP")],
         ["CC101"] * 2),
        ("openai", [(("choices", 0, "message", "x_extra"), 1), (("usage", "prompt_tokens_details"), None)], ["CC109"]),
        ("mistral", [(("choices", 0, "message", "x_extra"), 1), (("usage", "total_tokens"), "DROP")],
         ["CC101", "CC104"]),
    ],
)
def test_nulls_and_own_errors_are_reported_without_descending(
    dialect: str, edits: list[Any], codes: list[str], monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    doc = _seed(dialect)
    for path, value in edits:
        doc = _set(doc, path, value)
        if value == "DROP":
            node = doc
            for seg in path[:-1]:
                node = node[seg]
            del node[path[-1]]
    body = json.dumps(doc).encode()
    report = same(body, dialect=dialect)
    assert report.codes() == codes
    if _accel.numbers is not None:  # (a plain document: the accelerator's proof or its walk of the numbers)
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the locator was asked")

        monkeypatch.setattr(engine, "locate_errors", refuse)
        assert fast_only(body, locate=True, dialect=dialect) == report


def test_the_objects_holding_nulls_are_given_back_as_they_were() -> None:
    from chatcontract.rules._located import placed_errors

    settings_ = _settings({"dialect": "openai"})
    doc = _set(_seed("openai"), ("choices", 0, "message", "tool_calls"), None)
    doc["system_fingerprint"] = None
    doc["choices"][0]["message"]["function_call"] = None
    del doc["choices"][0]["message"]["refusal"]
    check(json.dumps(doc), dialect="openai")  # (prepares the plan's validator)
    before = json.dumps(doc)
    adapter = settings_.contracts.response
    found = placed_errors(adapter, doc, settings_.fast.locator.valid_plain)
    assert found is not None
    assert [loc for loc, _, _ in found[0]] == [
        ("system_fingerprint",), ("choices", 0, "message", "tool_calls"), ("choices", 0, "message", "function_call")
    ]
    assert [(e["type"], e["loc"]) for e in found[1]] == [("missing", ("choices", 0, "message", "refusal"))]
    assert json.dumps(doc) == before  # same keys, same order, same values
    doc["choices"][0]["finish_reason"] = 3  # something else wrong too: the locator's turn, and still as it was
    before = json.dumps(doc)
    assert placed_errors(adapter, doc, settings_.fast.locator.valid_plain) is None
    assert json.dumps(doc) == before


@pytest.mark.parametrize("dialect", DIALECTS)
def test_only_models_used_where_the_walk_goes_are_freed(dialect: str) -> None:
    # A model's own keys are freed in the walk's schema only when each use of it is a place the walk visits; the
    # walk then finds every own error the freed schema lets through
    from chatcontract.rules import _located
    from chatcontract.rules.json_schema import fast_schema, relax_for_plain

    adapter = contracts_for(dialect).response
    plan = _located._plan(adapter)
    schema, freed = _located.own_relaxed_schema(relax_for_plain(fast_schema(adapter)), plan.trie)
    assert plan.trie is not None and plan.trie[3][3] in freed  # the root
    names = {m.cls.__name__ for m in freed}
    assert ("ChatCompletionResponseMessage" if dialect == "openai" else "AssistantMessage") in names
    assert "required" not in schema and all("required" not in schema["$defs"][n] for n in names if n in schema["$defs"])
    # a made-up schema where the message model is also used outside the walk: it keeps its constraints
    made = {
        "type": "object",
        "properties": {"m": {"$ref": "#/$defs/M"}, "u": {"anyOf": [{"$ref": "#/$defs/M"}, {"type": "string"}]}},
        "required": ["m"],
        "$defs": {"M": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}},
    }

    class M(_located.BaseModel):
        a: str

    class Root(_located.BaseModel):
        m: M
        u: M | str | None = None

    trie = _located._place_node(_located._model(Root), frozenset())
    relaxed, freed_made = _located.own_relaxed_schema(made, trie)
    assert {m.cls for m in freed_made} == {Root}
    assert relaxed["$defs"]["M"]["required"] == ["a"] and "required" not in relaxed
    # freed, a closed model takes unknown keys (each is its own error, which the walk lists); an open model's schema
    # of its extra values still holds (pydantic validates those)
    for extra, kept in [(False, None), ({"type": "integer"}, {"type": "integer"}), (True, True)]:
        schema = {"type": "object", "properties": {}, "required": ["m"], "additionalProperties": extra}
        freed_schema, _ = _located.own_relaxed_schema(schema, trie)
        assert "required" not in freed_schema and freed_schema.get("additionalProperties") == kept


def test_a_model_under_a_model_also_used_off_the_walk_keeps_its_constraints() -> None:
    # P is walked under `p` and also sits in a union under `u`, where the walk never goes: M, P's field, must keep
    # its required key, or a missing `a` under `u` would pass unseen beside the walked one under `p`
    from pydantic import TypeAdapter

    from chatcontract.rules import _located
    from chatcontract.rules.json_schema import fast_schema, relax_for_plain

    class M(_located.BaseModel):
        a: str

    class P(_located.BaseModel):
        m: M

    class Root(_located.BaseModel):
        p: P
        u: P | str | None = None

    adapter = TypeAdapter(Root)
    plan = _located._plan(adapter)
    _, freed = _located.own_relaxed_schema(relax_for_plain(fast_schema(adapter)), plan.trie)
    assert {m.cls for m in freed} == {Root}
    doc = {"p": {"m": {}}, "u": {"m": {}}}
    assert _located.places(adapter, doc)[1]  # the walk sees p.m's missing key, not u.m's
    assert _located.placed_errors(adapter, doc, plan.relaxed()[0]) is None  # so the locator answers, with both


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_nulls_missing_and_unknown_keys_agree(dialect: str, data: st.DataObject) -> None:
    # Nulls for fields (optional, required, nullable), required keys missing and unknown keys, at the walk's places
    # and elsewhere, beside another finding or not: the violation route's answer is the full path's
    doc = data.draw(gen.responses(dialect), label="response")
    targets = _null_targets(doc)
    for i in data.draw(st.lists(st.sampled_from(range(len(targets))), max_size=4, unique=True), label="dropped"):
        node, key = targets[i]
        node.pop(key, None)
    for i in data.draw(st.lists(st.sampled_from(range(len(targets))), max_size=2, unique=True), label="unknown"):
        targets[i][0]["x_" + targets[i][1]] = data.draw(st.sampled_from([None, 1, "a", [], {}]), label="value")
    for i in data.draw(st.lists(st.sampled_from(range(len(targets))), max_size=2, unique=True), label="nulled"):
        targets[i][0][targets[i][1]] = None
    if data.draw(st.booleans(), label="and a second finding"):
        mutation = data.draw(st.sampled_from(gen.mutation_candidates(doc, dialect)), label="mutation")
        doc = gen.with_value(data.draw, mutation, doc, dialect).apply(doc)
    same(json.dumps(doc).encode(), dialect=dialect, request=data.draw(st.sampled_from(REQUESTS[:4]), label="request"))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("n", [99, 101, 120])
@pytest.mark.parametrize("kind", ["wrong type", "missing key", "null"])
def test_more_findings_of_a_code_than_a_report_lists_agree(dialect: str, n: int, kind: str) -> None:
    # n choices with the same finding and one more of the same code at the top, which pydantic lists after the
    # choices: past MAX_PER_RULE (100) of a code, which findings the report lists follows pydantic's order of its
    # errors, as the full path's (the walks find them in another order)
    seed = _seed(dialect)
    choices = [{**copy.deepcopy(seed["choices"][0]), "index": i} for i in range(n)]
    doc = {**seed, "choices": choices}
    for choice in choices:
        if kind == "wrong type":
            choice["message"]["content"] = 5
        elif kind == "missing key":
            del choice["message"]["role"]
        else:
            choice["message"]["tool_calls" if dialect == "openai" else "prefix"] = None
    if kind == "wrong type":
        doc.update(model=7, id=9)
    elif kind == "missing key":
        del doc["model"]
    else:
        doc["system_fingerprint" if dialect == "openai" else "usage"] = None
    same(json.dumps(doc).encode(), dialect=dialect)


RULE_FIXTURES = sorted(Path(__file__).parent.glob("rules/CC*/*.json"))


@pytest.mark.parametrize("path", RULE_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_rule_fixture_agrees(path: Path) -> None:
    # Every rule's good and bad examples (tests/rules), through check()'s routes and the full path: a rule the
    # fast path stands for, or the violation route leaves out, would show here as a different report.
    from tests.rules.test_rules import load, payload_of

    fx = load(path)
    payload = payload_of(fx)
    if not isinstance(payload, (bytes, str)):
        payload = payload.content  # the routes take bytes; the content type is the full path's business
    same(
        payload,
        dialect=fx["dialect"],
        status=fx["status"],
        request=fx["request"],
        stream=False,
        select=["ALL"],
        extensions=tuple(fx.get("extensions", ())),
    )


_json_ish = st.lists(
    st.sampled_from(['{', '}', '[', ']', '"a"', ':', ',', '1', '-0', '1e999', 'NaN', 'Infinity', '"\\ud800"', 'true',
                     ' ', '"\\u00e9"', '01', '\ufeff', '"\x01"']),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)  # (x3: the autouse route fixture)
@given(text=st.one_of(_json_ish, st.text(max_size=12)))
@example(text='{"a": "\\ud800"}')
@example(text='{"a": 1, "a": 2}')
def test_the_fused_arguments_test_never_passes_what_the_rule_refuses(text: str) -> None:
    # culprits' CC207 test (jiter) may refuse what the rule's parse (json.loads) takes, never the other way round
    from chatcontract.rules._fast import _arguments_ok
    from chatcontract.rules._util import NotJSON, loads_object

    if _arguments_ok(text):
        try:
            parsed = loads_object(text)
        except NotJSON:
            raise AssertionError(f"{text!r} passes culprits but the rule refuses it") from None
        assert isinstance(parsed, dict)
