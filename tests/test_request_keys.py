"""A request-aware rule that declares ``request_keys`` has nothing to say about a request without any of them.

The engine skips such a rule for such a request (``outcome.Collector.run`` and the fast path); here every claim is
held against the rule function itself, on responses of every shape (tool calls, ``length`` finishes, JSON and
non-JSON content, stop-like text) and on requests that hold everything but the declared keys.
"""

from __future__ import annotations

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
