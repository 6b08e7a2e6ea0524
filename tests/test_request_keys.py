"""A request-aware rule that declares ``request_keys`` has nothing to say about a request without any of them.

The engine skips such a rule for such a request (``outcome.Collector.run`` and the fast path); here every claim is
held against the rule function itself, on responses of every shape (tool calls, ``length`` finishes, JSON and
non-JSON content, stop-like text) and on requests that hold everything but the declared keys.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcontract import _accel, check
from chatcontract.contracts import DIALECTS, contracts_for
from chatcontract.rules import RULES, RuleContext
from chatcontract.rules._fast import REQUEST_COVERED, request_culprits, request_culprits_py, request_culprits_table

from . import strategies as gen
from .test_properties import documents

KEYED = sorted(code for code, r in RULES.items() if r.request_keys)
_TEXT = st.sampled_from(["", "Paris", "STOP", '{"a": 1}', "[1]", "a\nb", "<think>x</think>y"])
_REQUEST_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "model": st.sampled_from(["m", "mistral-small-latest", "gpt-4o", "org/model"]),
    "messages": st.just([{"role": "user", "content": "Hi"}]),
    "n": st.integers(-1, 3),
    "max_tokens": st.integers(-1, 50),
    "max_completion_tokens": st.integers(-1, 50),
    "stop": st.one_of(_TEXT, st.lists(_TEXT, max_size=2)),
    "tool_choice": st.sampled_from(
        ["none", "auto", "required", "any", {"type": "function", "function": {"name": "f"}}]
    ),
    "tools": st.just([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]),
    "response_format": st.sampled_from([{"type": "json_object"}, {"type": "text"}]),
    "logprobs": st.booleans(),
    "top_logprobs": st.integers(0, 3),
    "temperature": st.floats(0, 1),
    "stream": st.booleans(),
    # the reasoning switches (CC412, CC413) of Mistral, OpenAI, OpenRouter, DeepSeek and vLLM's chat templates
    "reasoning_effort": st.sampled_from(["none", "low", "high"]),
    "prompt_mode": st.sampled_from(["reasoning", None]),
    "reasoning": st.sampled_from([{"enabled": True}, {"enabled": False}, {"exclude": True}, {"effort": "high"}]),
    "thinking": st.sampled_from([{"type": "enabled"}, {"type": "disabled"}]),
    "chat_template_kwargs": st.sampled_from([{"enable_thinking": True}, {"enable_thinking": False}]),
}


def test_the_keyed_rules_are_the_request_rules_that_need_a_key() -> None:
    assert KEYED == [
        "CC402", "CC403", "CC404", "CC405", "CC406", "CC408", "CC409", "CC410", "CC412", "CC413", "CC414",
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("code", KEYED)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_request_without_the_keys_gives_nothing(dialect: str, code: str, data: st.DataObject) -> None:
    rule = RULES[code]
    doc = data.draw(gen.responses(dialect), label="response")
    for choice in doc["choices"]:  # the shapes the request rules look at
        choice["finish_reason"] = data.draw(st.sampled_from(["stop", "length", "tool_calls"]), label="finish")
        if isinstance(choice.get("message"), dict) and data.draw(st.booleans(), label="vary content"):
            choice["message"]["content"] = data.draw(_TEXT, label="content")
    others = {k: v for k, v in _REQUEST_VALUES.items() if k not in rule.request_keys}
    request = data.draw(st.fixed_dictionaries({}, optional=others), label="request")
    ctx = RuleContext(dialect=dialect, contracts=contracts_for(dialect), request=request, status=None)
    assert rule.check is not None
    assert list(rule.check(doc, ctx)) == []


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"model": "m", "messages": [], "stop": ["Paris"]}, ["CC410"]),  # the key is there: the rule runs
        ({"model": "m", "messages": []}, []),
    ],
)
def test_the_engine_runs_a_keyed_rule_only_with_its_key(request_: dict[str, Any], expected: list[str]) -> None:
    body = {
        "id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1_757_000_000,
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "It is Paris."}, "finish_reason": "stop"}],
    }
    assert check(body, dialect="mistral", request=request_).codes() == expected
    assert check(str(body).replace("'", '"'), dialect="mistral", request=request_).codes() == expected


# ---------------------------------------------------------------------------------------------------------------
# The fused pass over the request rules every request meets (rules._fast.request_culprits)


class _Name(str):
    """A model name that is a str subclass (an enum of model names, say): the rules take it as a str."""


_ASKED_VALUES = {**_REQUEST_VALUES, "model": st.sampled_from(["m", "mistral-small-latest", "org/m", _Name("m"), 7])}


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_request_pass_names_every_covered_rule_with_a_hit(dialect: str, data: st.DataObject) -> None:
    if data.draw(st.booleans(), label="any shape"):
        doc = data.draw(documents(dialect), label="document")
    else:
        doc = data.draw(gen.responses(dialect), label="response")
        doc["model"] = data.draw(st.sampled_from(["m", "m-2", "mistral-small-2501", "org/m", ""]), label="model")
        for choice in doc["choices"]:
            choice["finish_reason"] = data.draw(st.sampled_from(["stop", "length", "tool_calls"]), label="finish")
            msg = choice.get("message")
            if isinstance(msg, dict) and data.draw(st.booleans(), label="calls"):
                name = data.draw(st.sampled_from(["f", "g"]), label="tool")
                msg["tool_calls"] = [{"id": "a", "type": "function", "function": {"name": name, "arguments": "{}"}}]
        if isinstance(doc.get("usage"), dict):
            doc["usage"]["completion_tokens"] = data.draw(st.integers(0, 120), label="used")
    request = data.draw(st.fixed_dictionaries({}, optional=_ASKED_VALUES), label="request")
    ctx = RuleContext(dialect=dialect, contracts=contracts_for(dialect), request=request, status=None)
    hits = set()
    for code, fn in REQUEST_COVERED.items():
        if list(fn(doc, ctx)):
            hits.add(code)
    covered = frozenset(REQUEST_COVERED)
    assert hits <= request_culprits(doc, request, covered)
    assert request_culprits(doc, request, frozenset({"CC401"})) <= {"CC401"}  # only covered rules are named


def test_the_request_pass_leaves_the_usual_exchange_alone() -> None:
    # Not a pass that names everything: a request answered as asked names no rule, so none of them runs.
    body = {
        "id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1_757_000_000,
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
    }
    request = {"model": "m", "messages": [], "n": 1, "max_tokens": 5, "temperature": 0.2}
    assert request_culprits(body, request, frozenset(REQUEST_COVERED)) == frozenset()
    assert request_culprits(body, {**request, "n": 2}, frozenset(REQUEST_COVERED)) == {"CC401"}
    assert request_culprits(body, {**request, "model": "x"}, frozenset(REQUEST_COVERED)) == {"CC411"}
    assert check(body, dialect="mistral", request={**request, "n": 2}).codes() == ["CC401"]


@pytest.mark.skipif(_accel.request_culprits is None, reason="the C accelerator is not built (tests/test_speedups.py)")
@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_request_pass_in_c_is_the_python_pass(dialect: str, data: st.DataObject) -> None:
    # The C walk answers what request_culprits_py answers, or None (unsure), on any document and request
    doc = data.draw(st.one_of(documents(dialect), gen.responses(dialect)), label="document")
    if isinstance(doc, dict) and isinstance(doc.get("choices"), list) and data.draw(st.booleans(), label="vary"):
        for choice in doc["choices"]:
            if isinstance(choice, dict):
                choice["finish_reason"] = data.draw(st.sampled_from(["stop", "length", _Name("length")]), label="f")
        if isinstance(doc.get("usage"), dict):
            doc["usage"]["completion_tokens"] = data.draw(st.integers(-1, 2**64), label="used")
    values = {**_ASKED_VALUES, "n": st.integers(-1, 2**64), "max_tokens": st.integers(-(2**64), 2**64)}
    request = data.draw(st.fixed_dictionaries({}, optional=values), label="request")
    covered = frozenset(data.draw(st.sets(st.sampled_from(sorted(REQUEST_COVERED))), label="covered"))
    expected = request_culprits_py(doc, request, covered)
    assert _accel.request_culprits is not None
    found = _accel.request_culprits(doc, request, request_culprits_table(covered))
    if found is not None:
        assert found == expected
    assert request_culprits(doc, request, covered) == expected


class _Count(int):
    """An int subclass as ``n``: the C builder is unsure of it, the rule reads it as an int."""


@pytest.mark.skipif(_accel.request_pass is None, reason="the C accelerator is not built (tests/test_speedups.py)")
@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_request_pass_builds_the_rule_functions_one_hit(dialect: str, data: st.DataObject) -> None:
    # _speedups.request_pass answers what request_culprits answers, and where that names CC401 alone, CC401's one
    # hit as the rule builds it (the message to the character); and whether the request holds a keyed rule's key
    from chatcontract.violations import Hit

    doc = data.draw(st.one_of(documents(dialect), gen.responses(dialect)), label="document")
    if isinstance(doc, dict) and isinstance(doc.get("choices"), list) and data.draw(st.booleans(), label="more"):
        doc["choices"] = doc["choices"] * data.draw(st.integers(0, 3), label="times")
    values = {
        **_ASKED_VALUES,
        "n": st.one_of(st.integers(-1, 4), st.integers(-(2**64), 2**64), st.sampled_from([True, 2.0, "2", None])),
        "stop": st.just(["\n"]),
    }
    request = data.draw(st.fixed_dictionaries({}, optional=values), label="request")
    if "n" in request and data.draw(st.booleans(), label="subclass") and type(request["n"]) is int:
        request["n"] = _Count(request["n"])
    covered = frozenset(data.draw(st.sets(st.sampled_from(sorted(REQUEST_COVERED))), label="covered"))
    keyed = frozenset(data.draw(st.sets(st.sampled_from(["stop", "tool_choice", "n", "x"])), label="keyed"))
    table = request_culprits_table(covered)
    assert table is not None and _accel.request_pass is not None and _accel.request_culprits is not None
    answer = _accel.request_pass(doc, request, table, keyed)
    named = _accel.request_culprits(doc, request, table)
    if answer is None:
        assert named is None
        return
    assert answer[0] == named and answer[2] is keyed.isdisjoint(request)
    one = answer[1]
    if named != {"CC401"}:
        assert one is None
        return
    ctx = RuleContext(dialect=dialect, contracts=contracts_for(dialect), request=request, status=None)
    hits = list(REQUEST_COVERED["CC401"](doc, ctx))
    assert one is not None and hits == [Hit(*one, None)]
    assert [type(x) for x in one] == [type(x) for x in hits[0][:4]]


@pytest.mark.skipif(_accel.request_pass is None, reason="the C accelerator is not built (tests/test_speedups.py)")
def test_the_request_pass_refuses_what_it_cannot_read() -> None:
    table = request_culprits_table(frozenset(REQUEST_COVERED))
    assert table is not None and _accel.request_pass is not None
    body = {"choices": [{"index": 0}]}
    keyed = frozenset({"stop"})
    assert _accel.request_pass(body, {"n": 3}, table, keyed) == (
        frozenset({"CC401"}), (("choices",), "Request asked for n=3 choices; received 1.", 1, 3), True
    )
    assert _accel.request_pass(body, {"n": 1, "stop": "x"}, table, keyed) == (frozenset(), None, False)  # no hit
    only_402 = request_culprits_table(frozenset({"CC402"}))
    assert _accel.request_pass(body, {"n": 3}, only_402, keyed) == (frozenset(), None, True)  # CC401 not covered
    assert _accel.request_pass(body, {"n": 3, 7: 1}, table, keyed) is None  # a key that is not a str: unsure
    assert _accel.request_pass(body, _Request(n=3), table, keyed) is None  # not a dict: unsure
    for bad in [(), (*table[:2],), (table[0][:-1], *table[1:]), (table[0], table[1][:-1], table[2])]:
        with pytest.raises(TypeError):
            _accel.request_pass(body, {"n": 3}, bad, keyed)
    with pytest.raises(TypeError):
        _accel.request_pass(body, {"n": 3}, table)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _accel.request_pass(body, {"n": 3}, table, {"stop"})


class _Request(dict):  # type: ignore[type-arg]
    """A dict subclass: the pass is unsure of it."""


@pytest.mark.parametrize("n", [None, 1, 2, 3, 0, -1, True])
@pytest.mark.parametrize("keyed", [False, True])
def test_a_request_answered_with_too_few_choices_is_reported_as_the_full_path_does(
    monkeypatch: pytest.MonkeyPatch, n: Any, keyed: bool
) -> None:
    # The request's lone finding (CC401) built in one call: the report is the full path's; with a key a
    # non-covered rule reads (stop), that rule runs too and the route agrees as well
    from chatcontract import engine
    from chatcontract import settings as cc_settings

    body = {
        "id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1_757_000_000,
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}
            for i in range(2)
        ],
    }
    request: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 9}
    if n is not None:
        request["n"] = n
    if keyed:
        request["stop"] = ["\n"]
    built: list[Any] = []
    real = _accel.request_pass
    if real is not None:
        monkeypatch.setattr(_accel, "request_pass", lambda *args: built.append(real(*args)[1]) or real(*args))
    raw = json.dumps(body).encode()
    for status in (None, 200):
        settings_ = cc_settings._settings_for("mistral", None, None, None)
        expected = engine._full_check(raw, settings_, status=status, stream=None, request=request)
        got = check(raw, dialect="mistral", request=request, status=status)
        assert got == expected and str(got) == str(expected)
        assert got.codes() == ([] if n == 2 else ["CC401"])
    if real is not None and n != 2:
        assert bool(built) and None not in built  # (built: with stop, two rules run and the hit is not used)
