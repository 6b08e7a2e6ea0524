"""The violation route: the contract's errors found on sub-trees equal the errors of validating the whole document.

``rules._located.locate_errors`` descends into a document where each field's own fast schema (jsonschema-rs)
refuses the value, validates only those values with pydantic and spells a model's own errors (missing and unknown
keys) itself; ``rules._fast.suspects`` picks the covered rules
that may have a hit. Both are held here to the whole-document reference on valid, mutated and arbitrary
documents; ``tests/test_fastpath.py`` holds the route's reports to the full path's.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import jiter
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chatcontract import _accel, check, engine
from chatcontract import settings as cc_settings
from chatcontract.contracts import DIALECTS, contracts_for
from chatcontract.rules import RULES, RuleContext
from chatcontract.rules._fast import COVERED, culprits, culprits_py, fast_validator, suspects
from chatcontract.rules._located import TooMany, float_paths, locate_errors, prefixes_of, scan_numbers

from . import strategies as gen
from .test_fastpath import MISTRAL_SEED, OPENAI_SEED, full
from .test_properties import documents

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


def _whole(dialect: str, doc: Any) -> list[Any]:
    try:
        contracts_for(dialect).response.validator.validate_python(doc)
    except ValidationError as exc:
        return exc.errors(include_url=False)
    return []


def _located(dialect: str, doc: dict[str, Any], *, plain: bool = False) -> list[Any] | None:
    adapter = contracts_for(dialect).response
    found = locate_errors(adapter, doc, plain=plain, floats=prefixes_of(float_paths(doc)))
    if found is None:
        return None
    objects, values = found
    return objects + values


def _is_plain(doc: Any) -> bool:
    """What the C accelerator proves of a body: no float, no integer over 18 digits (then the relaxed schemas)."""
    paths, odd = scan_numbers(doc)
    return not paths and not odd and "e19" not in json.dumps(doc) and all(
        abs(n) < 10**18 for n in _ints(doc)
    )


def _ints(doc: Any) -> list[int]:
    if type(doc) is dict:
        return [n for v in doc.values() for n in _ints(v)]
    if type(doc) is list:
        return [n for v in doc for n in _ints(v)]
    return [doc] if type(doc) is int else []


def _key(err: Any) -> tuple[Any, ...]:
    return (err["type"], tuple(err["loc"]), err["msg"], json.dumps(err.get("ctx"), sort_keys=True, default=str))


def assert_same_errors(dialect: str, doc: dict[str, Any]) -> None:
    whole = _whole(dialect, doc)
    for plain in (False, True) if _is_plain(doc) else (False,):
        located = _located(dialect, doc, plain=plain)
        assert located is not None
        note(f"whole: {whole}\nlocated (plain={plain}): {located}")
        assert Counter(map(_key, located)) == Counter(map(_key, whole))
        # Errors at one location keep pydantic's order (the report's order depends on it).
        for loc in {tuple(e["loc"]) for e in whole}:
            at = [_key(e) for e in whole if tuple(e["loc"]) == loc]
            assert [_key(e) for e in located if tuple(e["loc"]) == loc] == at


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_located_errors_equal_the_whole_documents_errors(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(documents(dialect), label="document")
    assert_same_errors(dialect, json.loads(json.dumps(doc)))


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_located_errors_on_arbitrary_values_in_a_response(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(gen.responses(dialect), label="response")
    mutation = data.draw(st.sampled_from(gen.mutation_candidates(doc, dialect)), label="place")
    value = data.draw(JSON, label="value")
    broken = mutation.apply(doc)
    node: Any = broken
    for seg in mutation.loc[:-1]:
        node = node[seg] if isinstance(node, (dict, list)) else None
    if isinstance(node, dict):
        node[mutation.loc[-1]] = value
    assert_same_errors(dialect, broken)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=100, deadline=None)
@given(doc=st.dictionaries(st.sampled_from(["id", "object", "model", "created", "choices", "usage", "x"]), JSON))
def test_located_errors_on_arbitrary_objects(dialect: str, doc: dict[str, Any]) -> None:
    assert_same_errors(dialect, doc)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_rules_that_are_not_suspects_have_no_hit(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(documents(dialect) | st.dictionaries(st.text(max_size=8), JSON), label="document")
    ctx = RuleContext(dialect=dialect, contracts=contracts_for(dialect), request=None, status=None)
    suspect = suspects(doc)
    for code, fn in COVERED.items():
        if code not in suspect and RULES[code].applies_to(dialect):
            assert list(fn(doc, ctx)) == [], code


def _hits(dialect: str, doc: Any) -> set[str]:
    ctx = RuleContext(dialect=dialect, contracts=contracts_for(dialect), request=None, status=None)
    return {code for code, fn in COVERED.items() if RULES[code].applies_to(dialect) and list(fn(doc, ctx))}


def _vary(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """A response the contract accepts, with the values the covered rules read drawn wide (so rules hit often)."""
    doc = json.loads(json.dumps(doc))
    ints = st.integers(-3, 3) | st.integers(-(2**40), 2**45)
    words = st.sampled_from(["", " ", "x", "\u00e9", "call_1", "D681PevKs", "a<think>b</think>", "<think>"])
    if data.draw(st.booleans(), label="vary created"):
        doc["created"] = data.draw(ints, label="created")
    for key in ("id", "model", "object"):
        if data.draw(st.booleans(), label=f"vary {key}"):
            doc[key] = data.draw(words | st.just("chat.completion"), label=key)
    if isinstance(doc.get("usage"), dict) and data.draw(st.booleans(), label="vary usage"):
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            doc["usage"][key] = data.draw(ints, label=key)
    for choice in doc["choices"]:
        if data.draw(st.booleans(), label="vary index"):
            choice["index"] = data.draw(ints, label="index")
        choice["finish_reason"] = data.draw(st.sampled_from(["stop", "tool_calls", "length"]), label="finish")
        msg = choice.get("message")
        if isinstance(msg, dict) and data.draw(st.booleans(), label="vary content"):
            msg["content"] = data.draw(words, label="content")
        calls = msg.get("tool_calls") if isinstance(msg, dict) else None
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, dict) and data.draw(st.booleans(), label="vary call id"):
                call["id"] = data.draw(words, label="call id")
    return doc


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_culprits_name_every_covered_rule_with_a_hit(dialect: str, data: st.DataObject) -> None:
    """On a document the contract accepts, ``culprits`` (the fused pass) names every covered rule with a hit, and so
    does its Python reference (the C accelerator answers for the everyday shapes only)."""
    doc = _vary(data.draw(gen.responses(dialect), label="response"), data)
    if _whole(dialect, doc):
        return  # the variation broke the contract (a negative integer where the contract says >= 0): not this test
    hits = _hits(dialect, doc)
    note(f"hits: {sorted(hits)}")
    covered = frozenset(COVERED)
    assert hits <= culprits(doc, covered)
    assert hits <= culprits_py(doc, covered)
    assert hits <= suspects(doc)


# ---------------------------------------------------------------------------------------------------------------
# The route is taken for the real providers' deviations (and answers what the full path answers)


def _edit(body: bytes, **changes: Any) -> bytes:
    doc = json.loads(body)
    for path, value in changes.items():
        node = doc
        keys = path.split("__")
        for seg in keys[:-1]:
            node = node[int(seg)] if seg.isdigit() else node[seg]
        if value is ...:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return json.dumps(doc, separators=(",", ":")).encode()


_OPENAI = _edit(OPENAI_SEED, choices__0__message__tool_calls=..., choices__0__message__prefix=...)
_CALL = [{"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": '{"city": "Paris"}'}}]
DEVIATIONS: list[tuple[str, bytes, str, Any, list[str]]] = [
    ("llama.cpp: no message.refusal", _edit(_OPENAI, choices__0__message__refusal=...), "openai", None, ["CC101"]),
    ("LiteLLM: no logprobs", _edit(_OPENAI, choices__0__logprobs=...), "openai", None, ["CC101"]),
    ("LiteLLM: tool_calls null", OPENAI_SEED, "openai", None, ["CC109"]),
    ("SambaNova: created float", MISTRAL_SEED.replace(b"1702256327", b"1702256327.566"), "mistral", None, ["CC102"]),
    ("created in ms", MISTRAL_SEED.replace(b"1702256327", b"1702256327000"), "mistral", None, ["CC209"]),
    ("usage mismatch", MISTRAL_SEED.replace(b'"total_tokens":78', b'"total_tokens":79'), "mistral", None, ["CC201"]),
    ("stop with tool calls", _edit(MISTRAL_SEED, choices__0__message__tool_calls=_CALL), "mistral", None, ["CC206"]),
    ("duplicate key", MISTRAL_SEED.replace(b'"model":', b'"id":"x","model":', 1), "mistral", None, ["CC004"]),
    ("n ignored", MISTRAL_SEED, "mistral", {"model": "m", "messages": [], "n": 2}, ["CC401"]),
]


@pytest.mark.parametrize("route", ["accelerated", "numbers", "pure"])
@pytest.mark.parametrize(
    ("body", "dialect", "request_", "codes"), [d[1:] for d in DEVIATIONS], ids=[d[0] for d in DEVIATIONS]
)
def test_real_deviations_take_the_violation_route(
    body: bytes, dialect: str, request_: Any, codes: list[str], route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if route != "accelerated":
        monkeypatch.setattr(_accel, "plain", None)  # every body takes the strict parse ...
    if route == "pure":
        for name in _accel.CALLED:  # ... and its numbers, fields and findings' order are walked in Python
            monkeypatch.setattr(_accel, name, None)
    settings_ = cc_settings._settings_for(dialect, None, None, None)
    located = engine._fast_check(body, settings_, None, request_, locate=True)
    assert located is not None
    assert located.codes() == codes
    assert located == full(body, dialect=dialect, request=request_) == check(body, dialect=dialect, request=request_)


def test_a_body_that_is_not_an_object_is_left_to_the_full_path() -> None:
    settings_ = cc_settings._settings_for("mistral", None, None, None)
    for body in (b"[1]", b"{", b'{"a": NaN', b"{}" + b"x"):
        assert engine._fast_check(body, settings_, None, None, locate=True) is None
        assert check(body) == full(body)


def test_locating_stops_past_the_limit() -> None:
    adapter = contracts_for("openai").response
    doc = json.loads(OPENAI_SEED)
    choice = doc["choices"][0]
    del choice["message"]["refusal"], choice["message"]["tool_calls"]
    doc["choices"] = [{**choice, "index": i} for i in range(5)]
    objects, values = locate_errors(adapter, doc, plain=True, at_most=5) or ([], [])
    assert [e["loc"] for e in objects] == [("choices", i, "message", "refusal") for i in range(5)] and not values
    with pytest.raises(TooMany):
        locate_errors(adapter, doc, plain=True, at_most=4)


def test_float_paths_finds_every_float() -> None:
    doc = jiter.from_json(b'{"a": 1.5, "b": [1, 2.0, {"c": -0.0}], "d": "1.5", "e": true}')
    assert sorted(float_paths(doc)) == [("a",), ("b", 1), ("b", 2, "c")]


# ---------------------------------------------------------------------------------------------------------------
# Streams: a chunk the C accelerator proves plain and the chunk's fast schema accepts skips pydantic


_CHUNK: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1741569952,
    "model": "m",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "logprobs": None, "finish_reason": None}],
}
_CHUNK_PLACES = [
    ("id",),
    ("object",),
    ("created",),
    ("model",),
    ("usage",),
    ("x",),
    ("choices",),
    ("choices", 0, "index"),
    ("choices", 0, "delta"),
    ("choices", 0, "delta", "role"),
    ("choices", 0, "delta", "content"),
    ("choices", 0, "delta", "tool_calls"),
    ("choices", 0, "finish_reason"),
    ("choices", 0, "logprobs"),
]


@st.composite
def chunks(draw: st.DrawFn) -> dict[str, Any]:
    doc = json.loads(json.dumps(_CHUNK))
    for place in draw(st.lists(st.sampled_from(_CHUNK_PLACES), max_size=3)):
        node: Any = doc
        for seg in place[:-1]:
            in_list = isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)
            ok = in_list or (isinstance(node, dict) and seg in node)
            node = node[seg] if ok else None
        if isinstance(node, dict):
            node[place[-1]] = draw(JSON)
    return doc


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=200, deadline=None)
@given(doc=chunks())
def test_the_chunk_fast_schema_accepts_only_what_the_chunk_contract_accepts(dialect: str, doc: dict[str, Any]) -> None:
    adapter = contracts_for(dialect).chunk
    validator = fast_validator(adapter)
    assert validator is not None
    body = json.dumps(doc).encode()
    if _accel.plain is not None and _accel.plain(body) and validator.valid_plain(jiter.from_json(body)):
        adapter.validator.validate_python(doc)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=60, deadline=None)
@given(docs=st.lists(chunks(), min_size=1, max_size=4))
def test_stream_reports_agree_with_and_without_the_accelerator(dialect: str, docs: list[dict[str, Any]]) -> None:
    from chatcontract.streams import StreamChecker

    body = "".join(f"data: {json.dumps(d)}\n\n" for d in docs).encode() + b"data: [DONE]\n\n"
    fast = StreamChecker(dialect=dialect)
    fast.feed(body)
    saved = {name: getattr(_accel, name) for name in _accel.CALLED}
    for name in _accel.CALLED:
        setattr(_accel, name, None)
    try:
        pure = StreamChecker(dialect=dialect)
        pure.feed(body)
    finally:
        for name, fn in saved.items():
            setattr(_accel, name, fn)
    assert fast.close() == pure.close()


@settings(max_examples=300, deadline=None)
@given(value=JSON | st.floats() | st.text())
def test_shown_values_are_json_dumps_of_the_shortened_value(value: Any) -> None:
    from chatcontract.rules.schema import _show
    from chatcontract.violations import shorten

    assert _show(value) == json.dumps(shorten(value, 60), ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(loc=st.lists(st.integers(0, 10**6) | st.text(max_size=6), max_size=6))
def test_field_names_render_as_format_path(loc: list[Any]) -> None:
    from chatcontract.rules.schema import _name
    from chatcontract.violations import format_path

    assert _name(tuple(loc)) == format_path(tuple(loc))
