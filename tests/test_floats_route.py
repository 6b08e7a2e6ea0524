"""The floats lane: a body plain but for floats where the contract wants none (SambaNova's float ``created``, a
float token count).

``engine._floats_check`` takes such a body when each float sits at a field that refuses every float with one error
(``rules._located.float_error``) and the document with integers in their places is one the contract's fast schema
accepts; the findings are then built without the violation route's descent or pydantic. Every answer here is held
to the full path's, on the three routes of tests/test_fastpath.py (the lane itself runs where the C accelerator's
walk of numbers does: the "accelerated" and "numbers" routes).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcontract import engine
from chatcontract.contracts import DIALECTS, contracts_for
from chatcontract.rules import _located

from .test_fastpath import ROUTES, _seed, same, take_route

ASKED = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 500}

#: Integer fields of both dialects' responses.
INT_PLACES: list[tuple[Any, ...]] = [
    ("created",),
    ("usage", "prompt_tokens"),
    ("usage", "completion_tokens"),
    ("usage", "total_tokens"),
    ("choices", 0, "index"),
]
FLOATS = [1702256327.5, 1702256327.0, 0.5, -3.25, 16.0, 1e300, 1.7976931348623157e308, 5e-324, 9.3e18, -9.3e18]


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The routes of tests/test_fastpath.py, for the tests that ask for them."""
    return take_route(str(request.param), monkeypatch)


@pytest.fixture
def lane(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The floats lane's answers (None: it left the body to the violation route), as check() asks it."""
    answers: list[Any] = []
    real = engine._floats_check

    def spy(*args: Any) -> Any:
        answers.append(real(*args))
        return answers[-1]

    monkeypatch.setattr(engine, "_floats_check", spy)
    return answers


def _with(doc: dict[str, Any], *edits: tuple[tuple[Any, ...], Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for path, value in edits:
        node = out
        for seg in path[:-1]:
            node = node[seg]
        if value is ...:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return out


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def _two_choices(dialect: str) -> dict[str, Any]:
    doc = _seed(dialect)
    doc["choices"] = [doc["choices"][0], {**copy.deepcopy(doc["choices"][0]), "index": 1}]
    return doc


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("place", INT_PLACES)
@pytest.mark.parametrize("value", FLOATS)
def test_a_float_at_an_integer_field_takes_the_lane(
    route: str, lane: list[Any], dialect: str, place: tuple[Any, ...], value: float
) -> None:
    body = _body(_with(_seed(dialect), (place, value)))
    report = same(body, dialect=dialect)
    assert "CC102" in report.codes()
    same(body, dialect=dialect, status=200)
    same(body, dialect=dialect, request=ASKED)
    same(body, dialect=dialect, request={**ASKED, "n": 2}, status=201)  # a request rule with a hit (CC401)
    if route == "pure":
        assert lane == []  # (no walk of numbers: the LosslessFloat parse and the violation route)
    else:
        assert lane and all(answer is not None for answer in lane)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_several_floats_and_their_order(route: str, lane: list[Any], dialect: str) -> None:
    doc = _two_choices(dialect)
    edits = [(place, 1.5 + n) for n, place in enumerate(INT_PLACES)] + [(("choices", 1, "index"), 2.5)]
    report = same(_body(_with(doc, *edits)), dialect=dialect)
    assert report.codes().count("CC102") == 6
    # reversed in the document: the report follows the document, not the walk
    reordered = _with(doc, *edits)
    reordered = {key: reordered[key] for key in reversed(list(reordered))}
    same(_body(reordered), dialect=dialect)
    assert route == "pure" or all(answer is not None for answer in lane)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "edits",
    [
        [(("created",), 1.5), (("id",), ...)],  # a required key missing too
        [(("created",), 1.5), (("object",), 7)],  # another wrong type, an integer
        [(("created",), 1.5), (("choices", 0, "message", "role"), "robot")],  # a value out of an enum
        [(("created",), 1.5), (("choices", 0, "extra"), 1)],  # an unknown key
        [(("created",), 1.5), (("usage", "total_tokens"), -1)],  # a bound the integer breaks too
        [(("usage", "total_tokens"), -0.5)],  # the float breaks a bound as well: only its type is reported
        [(("choices", 0, "message", "content"), 2.5)],  # content: a union (Mistral) or a string (OpenAI)
        [(("model",), 1.5)],  # a string field: "Expected string"
        [(("choices", 0, "finish_reason"), 0.5)],  # an enum
        [(("choices", 0, "message"), 0.5)],  # a model
        [(("choices",), 0.5)],  # a list of models
        [(("choices", 0), 0.5)],  # an item of it
        [(("choices", 0, "message", "x"), 0.5)],  # an unknown key holding a float
    ],
)
def test_floats_beside_other_errors_agree(dialect: str, edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    for base in (_seed(dialect), _two_choices(dialect)):
        body = _body(_with(base, *edits))
        same(body, dialect=dialect)
        same(body, dialect=dialect, request={**ASKED, "n": 2})


@pytest.mark.parametrize("dialect", DIALECTS)
def test_floats_with_rule_findings_agree(dialect: str) -> None:
    doc = _seed(dialect)
    for edits in (
        [(("created",), 1.5), (("usage", "total_tokens"), 79)],  # CC201 beside it
        [(("usage", "total_tokens"), 78.0)],  # the sum holds for the float: the rules read integers only
        [(("created",), 1.7e12 + 0.5)],  # milliseconds, as a float: CC102, and no CC209
        [(("created",), 1.5), (("model",), "")],  # CC211
        [(("choices", 0, "index"), 1.5), (("choices", 0, "finish_reason"), "tool_calls")],  # CC205
    ):
        same(_body(_with(doc, *edits)), dialect=dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("n", [100, 101])
def test_more_floats_than_a_report_lists_agree(route: str, lane: list[Any], dialect: str, n: int) -> None:
    doc = _seed(dialect)
    doc["choices"] = [{**copy.deepcopy(doc["choices"][0]), "index": i + 0.5} for i in range(n)]
    report = same(_body(doc), dialect=dialect)
    assert report.total == (None if n <= 100 else n)
    if route != "pure":
        assert (lane[0] is not None) == (n <= 100)


def test_openai_logprobs_floats_are_left_to_the_route(route: str, lane: list[Any]) -> None:
    # logprobs hold floats the contract takes: not a field that refuses every float, the violation route decides
    doc = _seed("openai")
    doc["choices"][0]["logprobs"] = {
        "content": [{"token": "Paris", "logprob": -0.25, "bytes": [80, 97], "top_logprobs": []}],
        "refusal": None,
    }
    same(_body(doc), dialect="openai")
    same(_body(_with(doc, (("created",), 1.5))), dialect="openai")
    assert all(answer is None for answer in lane)


_INTS = {
    "mistral": INT_PLACES,
    "openai": [*INT_PLACES, ("usage", "completion_tokens_details", "reasoning_tokens")],
}
_OTHER_EDITS = [
    None,
    (("id",), ...),
    (("model",), None),
    (("choices", 0, "message", "tool_calls"), None),
    (("choices", 0, "unknown"), True),
    (("usage", "total_tokens"), 1),
    (("choices", 0, "finish_reason"), "length"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_generated_float_bodies_agree(dialect: str, data: st.DataObject) -> None:
    # Any finite floats at any integer fields of one or two choices, with or without another finding
    for name in ROUTES:
        with pytest.MonkeyPatch.context() as monkeypatch:
            take_route(name, monkeypatch)
            doc = _two_choices(dialect) if data.draw(st.booleans(), label="two choices") else _seed(dialect)
            places = list(_INTS[dialect])
            if len(doc["choices"]) > 1:
                places.append(("choices", 1, "index"))
            chosen = data.draw(st.lists(st.sampled_from(places), min_size=1, max_size=4, unique=True), label="at")
            edits: list[tuple[tuple[Any, ...], Any]] = []
            for place in chosen:
                if place[-1] == "reasoning_tokens":
                    doc["usage"]["completion_tokens_details"] = {"reasoning_tokens": 0}
                value = data.draw(st.floats(allow_nan=False, allow_infinity=False), label=str(place))
                edits.append((place, value))
            other = data.draw(st.sampled_from(_OTHER_EDITS), label="and")
            if other is not None:
                edits.append(other)
            same(_body(_with(doc, *edits)), dialect=dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_float_error_answers_only_for_fields_that_refuse_every_float(dialect: str) -> None:
    adapter = contracts_for(dialect).response
    err = _located.float_error(adapter, ("created",))
    assert err is not None and err["type"] == "int_type" and err["loc"] == ("created",)
    assert _located.float_error(adapter, ("created",)) is err  # kept
    indexed = _located.float_error(adapter, ("choices", 7, "index"))
    assert indexed is not None and indexed["loc"] == ("choices", 7, "index")
    assert _located.float_error(adapter, ("nowhere",)) is None  # not a field
    assert _located.float_error(adapter, ("choices", "x", "index")) is None  # not a list index
    assert _located.float_error(adapter, ("created", "x")) is None  # below a field that is not a model
    assert _located.float_error(adapter, ("choices", 0)) is None  # an item of a list of models, not a field
    if dialect == "mistral":
        assert _located.float_error(adapter, ("choices", 0, "message", "content")) is None  # a union
    # a lax int takes 1.0, a float field takes any: neither is a field that refuses every float
    from pydantic import BaseModel, ConfigDict, TypeAdapter

    class Lax(BaseModel):
        n: int
        x: float
        s: int

        model_config = ConfigDict(strict=False)

    class Strict(BaseModel):
        n: int

        model_config = ConfigDict(strict=True)

    lax = TypeAdapter(Lax)
    assert _located.float_error(lax, ("n",)) is None
    assert _located.float_error(lax, ("x",)) is None
    strict = _located.float_error(TypeAdapter(Strict), ("n",))
    assert strict is not None and strict["type"] == "int_type"
