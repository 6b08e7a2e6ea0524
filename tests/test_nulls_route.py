"""The nulls route: a plain body that the contract refuses only for nulls where optional fields should be omitted
(CC109, the most common warning of real providers: ``"tool_calls": null``, ``"system_fingerprint": null``).

``engine._fast_check`` finds such nulls at the levels the fused pass reads (``rules._fast.NullPlaces``, the C
accelerator's ``null_places``), asks the contract's loose schema (``rules._located.loose_null_schema``), and
reports them without the violation route's walk. Every answer here is held to the full path's, on the three routes of
tests/test_fastpath.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from chatcontract import _accel, check, engine
from chatcontract.contracts import DIALECTS, contracts_for
from chatcontract.outcome import MAX_PER_RULE
from chatcontract.rules import _located
from chatcontract.rules._fast import NULL_LEVELS, NullPlaces, null_places

from . import strategies as gen
from .test_fastpath import ROUTES, _seed, _settings, full, same, take_route

ASKED = {"messages": [{"role": "user", "content": "Hi"}]}
NULL_PLACES = _accel.null_places  # (the C walk, whatever route a test takes)


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The routes of tests/test_fastpath.py, for the tests that ask for them."""
    return take_route(str(request.param), monkeypatch)


def _places(dialect: str) -> NullPlaces:
    found = null_places(contracts_for(dialect).response)
    assert found is not None
    return found


def _targets(dialect: str) -> list[tuple[Any, ...]]:
    """Every place of the seed where a listed field could be null, as a path (choice 0 for the per-choice ones)."""
    top, per_choice, per_message, in_usage = _places(dialect).fields
    return [
        *((key,) for key in top),
        *(("choices", 0, key) for key in per_choice),
        *(("choices", 0, "message", key) for key in per_message),
        *(("usage", key) for key in in_usage),
    ]


def _nulled(doc: dict[str, Any], *paths: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for path in paths:
        node = out
        for seg in path[:-1]:
            node = node[seg]
        if isinstance(node, dict):
            node[path[-1]] = None
    return out


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def test_the_levels_list_the_fields_the_contracts_refuse_null_for() -> None:
    # What the loose schemas take: the published contracts' optional fields without a null in their type
    assert _targets("openai") == [
        ("system_fingerprint",),
        ("usage",),
        ("choices", 0, "message", "tool_calls"),
        ("choices", 0, "message", "annotations"),
        ("choices", 0, "message", "function_call"),
        ("usage", "completion_tokens_details"),
        ("usage", "prompt_tokens_details"),
    ]
    assert _targets("mistral") == [
        ("choices", 0, "message"),
        ("choices", 0, "messages"),
        ("choices", 0, "message", "role"),
        ("choices", 0, "message", "prefix"),
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_null_alone_takes_the_nulls_route(route: str, monkeypatch: pytest.MonkeyPatch, dialect: str) -> None:
    routed: list[Any] = []
    located = engine._located_check
    monkeypatch.setattr(engine, "_located_check", lambda *a, **kw: routed.append(a) or located(*a, **kw))
    seed = _seed(dialect)
    for path in _targets(dialect):
        body = _body(_nulled(seed, path))
        for options in ({}, {"status": 200}, {"request": {**ASKED, "model": seed["model"]}}):
            found = [(v.code, v.loc) for v in same(body, dialect=dialect, **options).violations]
            # (a null message is a choice without one: CC213, which explains the place)
            assert found == ([("CC213", path[:2])] if path[-1] == "message" else [("CC109", path)])
    assert (routed == []) == (route != "pure")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_nulls_beside_other_findings_agree(route: str, dialect: str) -> None:
    seed = _seed(dialect)
    targets = _targets(dialect)
    two = {**seed, "choices": [seed["choices"][0], {**copy.deepcopy(seed["choices"][0]), "index": 1}]}
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (_nulled(seed, *targets), {}),  # every listed null at once
        (_nulled(two, *targets, *((p[0], 1, *p[2:]) for p in targets if p[0] == "choices")), {}),  # in each choice
        (_nulled({**seed, "usage": {**seed["usage"], "total_tokens": 10**6}}, targets[-1]), {}),  # + CC201
        (_nulled({**seed, "created": 5}, targets[0]), {}),  # + CC209
        (_nulled({**seed, "id": " "}, targets[0]), {"status": 201}),  # + CC210
        (_nulled(seed, targets[0]), {"request": {**ASKED, "model": "another"}}),  # + CC411
        (_nulled(seed, targets[0]), {"request": {**ASKED, "model": seed["model"], "n": 3}}),  # + CC401
        (_nulled(seed, targets[0]), {"request": {**ASKED, "model": seed["model"], "stop": ["x"]}}),  # a keyed rule
        (_nulled(seed, *(t for t in targets if t != ("usage",))), {"request": {**ASKED, "max_tokens": 1}}),  # CC402
        (_nulled(seed, *targets), {"request": {**ASKED, "tools": [{"type": "function", "function": {"name": "f"}}]}}),
        (_nulled({k: v for k, v in seed.items() if k != "model"}, targets[0]), {}),  # + a missing key: refused
        (_nulled({**seed, "x-extra": None}, targets[0]), {}),  # an unknown key, null
        (_nulled(seed, targets[0]), {"ignore": ["CC109"]}),
        (_nulled(seed, targets[0]), {"select": ["CC2"]}),
    ]
    for doc, options in cases:
        same(_body(doc), dialect=dialect, **options)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_more_nulls_than_a_rule_lists_agree(route: str, dialect: str) -> None:
    # Past MAX_PER_RULE nulls, which are listed depends on the order of the findings: the route (or the full path)
    # answers, the same
    seed = _seed(dialect)
    per_choice = [p for p in _targets(dialect) if p[0] == "choices"]
    choices = [{**copy.deepcopy(seed["choices"][0]), "index": i} for i in range(MAX_PER_RULE + 5)]
    doc = {**seed, "choices": choices}
    doc = _nulled(doc, *((p[0], i, *p[2:]) for i in range(len(choices)) for p in per_choice[-1:]))
    report = same(_body(doc), dialect=dialect)
    assert report.total is not None and report.total > MAX_PER_RULE


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_lone_nulls_report_is_kept_per_place_field_and_status(route: str, dialect: str) -> None:
    seed = _seed(dialect)
    first, second = (_body(_nulled(seed, path)) for path in _targets(dialect)[-2:])
    report = check(first, dialect=dialect)
    assert (check(first, dialect=dialect) is report) == (route != "pure")
    assert check(first, dialect=dialect, status=200) == full(first, dialect=dialect, status=200) != report
    assert check(second, dialect=dialect) == full(second, dialect=dialect) != report


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_generated_responses_with_nulls_agree(dialect: str, data: st.DataObject) -> None:
    # Any response of the contract, with any of the listed fields null in any choice (and maybe a second finding):
    # the report is the full path's
    doc = data.draw(gen.responses(dialect), label="response")
    top, per_choice, per_message, in_usage = _places(dialect).fields
    paths: list[tuple[Any, ...]] = [(key,) for key in top]
    if isinstance(doc.get("usage"), dict):
        paths += [("usage", key) for key in in_usage]
    for i, choice in enumerate(doc["choices"]):
        paths += [("choices", i, key) for key in per_choice]
        if isinstance(choice.get("message"), dict):
            paths += [("choices", i, "message", key) for key in per_message]
    chosen = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True), label="nulled")
    doc = _nulled(doc, *chosen)
    if data.draw(st.booleans(), label="and a second finding"):
        mutation = data.draw(st.sampled_from(gen.mutation_candidates(doc, dialect)), label="mutation")
        doc = gen.with_value(data.draw, mutation, doc, dialect).apply(doc)
    same(_body(doc), dialect=dialect)


# ---------------------------------------------------------------------------------------------------------------
# The loose schema


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_loose_schema_takes_the_listed_nulls_and_nothing_else(dialect: str) -> None:
    places = _places(dialect)
    strict = _settings({"dialect": dialect}).fast
    check(b"{}", dialect=dialect)  # (prepares the plan)
    seed = _seed(dialect)
    for path in _targets(dialect):
        doc = _nulled(seed, path)
        assert places.valid(doc) and not strict.valid_plain(doc), path
    # a null anywhere else the contract refuses one, a missing key, a wrong type: refused by both
    for bad in (
        {**seed, "id": None},
        {**seed, "created": "soon"},
        {k: v for k, v in seed.items() if k != "choices"},
        _nulled(seed, ("choices", 0, "finish_reason"), ("choices", 0, "index")),
    ):
        assert not places.valid(bad) and not strict.valid_plain(bad)


def test_a_level_whose_model_is_also_used_elsewhere_takes_no_null() -> None:
    # A model used at a level and somewhere the pass does not read: its null fields stay refused at every use (a
    # null off the levels would pass the loose schema unseen)

    class Message(BaseModel):
        role: str
        tool_calls: list[str] = []  # (optional, and its null refused)

    class Choice(BaseModel):
        index: int
        message: Message

    class Shared(BaseModel):
        choices: list[Choice]
        echo: Message | None = None

    class Alone(BaseModel):
        choices: list[Choice]

    for model, listed in ((Shared, {}), (Alone, {"tool_calls"})):
        found = _located.loose_null_schema(TypeAdapter(model), NULL_LEVELS)
        assert found is not None
        schema, fields = found
        assert set(fields[2]) == set(listed), model
        message = schema["$defs"]["Message"]["properties"]["tool_calls"]
        assert ({"type": "null"} in message.get("anyOf", [])) == bool(listed)


@pytest.mark.skipif(NULL_PLACES is None, reason="never: test_speedups' first test fails when it is not built")
@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_c_walk_lists_what_the_python_walk_lists(dialect: str, data: st.DataObject) -> None:
    places = _places(dialect)
    doc = data.draw(gen.responses(dialect), label="response")
    for node in [doc, doc.get("usage"), *doc["choices"], *(c.get("message") for c in doc["choices"])]:
        if isinstance(node, dict):
            for key in data.draw(st.lists(st.sampled_from([*node, "x"]), max_size=3), label="nulled"):
                node[key] = None
    fast = NULL_PLACES(doc, places.table)
    assert fast is not None
    saved, _accel.null_places = _accel.null_places, None
    try:
        assert fast == places.find(doc)
    finally:
        _accel.null_places = saved


@pytest.mark.skipif(NULL_PLACES is None, reason="never: test_speedups' first test fails when it is not built")
def test_the_c_walk_refuses_what_it_cannot_read() -> None:
    places = _places("openai")
    seed = _seed("openai")
    keys = places.table[0]
    for table in (
        None,
        (),
        keys,
        (keys[:2], places.fields),
        ((1, 2, 3), places.fields),
        (keys, ({},) * 3),
        (keys, (set(),) * 4),
    ):
        with pytest.raises(TypeError):
            NULL_PLACES(seed, table)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        NULL_PLACES(seed)  # type: ignore[call-arg]

    class Sub(dict):  # type: ignore[type-arg]
        pass

    for doc in ([seed], Sub(seed), {1: None, **seed}, {**seed, "choices": [{"message": {(1, 2): None}}]}):
        assert NULL_PLACES(doc, places.table) is None  # (unsure: the Python walk answers)
    # what is not an exact dict or list holds no null place, in both walks
    for doc in (
        {**seed, "choices": [Sub(seed["choices"][0], tool_calls=None)]},
        {**seed, "choices": [{**seed["choices"][0], "message": Sub(tool_calls=None)}]},
        {**seed, "usage": Sub(seed["usage"], prompt_tokens_details=None)},
        {**seed, "choices": ({"message": {"tool_calls": None}},)},
        {**seed, "choices": None, "usage": "none"},
    ):
        assert NULL_PLACES(doc, places.table) == [] == places.find(doc)
