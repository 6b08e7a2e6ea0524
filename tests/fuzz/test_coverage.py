"""Coverage of a fuzz run: request features, the field rejections have in common, adaptive generation.

The unit tests drive :class:`~chatcontract.fuzz.coverage.Coverage` with request bodies; the runs fuzz the reference
provider with a fault that refuses a chosen optional field (``rejects-random-seed``, ``rejects-zero-top-p``), over
HTTP on 127.0.0.1, with adaptive generation off (the run fails and names the field) and on (the rest of the budget
still tests the answers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcontract.cli import main
from chatcontract.fuzz.coverage import KEEP_CULPRIT, Coverage, feature_field, features, known_features
from chatcontract.fuzz.runner import FuzzOptions, run_fuzz
from chatcontract.provider.server import serve
from chatcontract.report.results import load_results

ASK = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"model": "m", "messages": ASK}, set()),
        ({"model": "m", "messages": ASK, "stream": False}, set()),
        (
            {"model": "m", "messages": ASK, "stream": True, "stream_options": {"include_usage": True}},
            {"stream", "stream_options", "stream+usage"},
        ),
        ({"model": "m", "messages": ASK, "n": 2}, {"n", "n>1"}),
        ({"model": "m", "messages": ASK, "tools": [], "tool_choice": "required"}, {"tools", "tool_choice=required"}),
        (
            {
                "model": "m",
                "messages": ASK,
                "tools": [],
                "tool_choice": {"type": "function", "function": {"name": "f"}},
            },
            {"tools", "tool_choice=named"},
        ),
        ({"model": "m", "messages": ASK, "response_format": {"type": "json_schema"}}, {"response_format=json_schema"}),
        ({"model": "m", "messages": ASK, "top_p": 0.0, "temperature": 0.7}, {"top_p", "top_p=0", "temperature"}),
        ({"model": "m", "messages": ASK, "logprobs": True, "top_logprobs": 2}, {"logprobs", "top_logprobs"}),
        ({"model": "m", "messages": ASK, "random_seed": 0, "safe_prompt": None}, {"random_seed"}),
    ],
)
def test_features_of_a_request(body: dict[str, Any], expected: set[str]) -> None:
    assert features(body) == expected


@given(
    st.dictionaries(
        st.sampled_from(["stream", "n", "tools", "tool_choice", "response_format", "top_p", "seed", "stop", "x"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-2, 3),
            st.floats(0, 1),
            st.text(max_size=3),
            st.fixed_dictionaries({"type": st.sampled_from(["json_object", "text"])}),
        ),
    )
)
@settings(max_examples=200, deadline=None)
def test_every_feature_is_about_a_field_the_body_has(extra: dict[str, Any]) -> None:
    body = {"model": "m", "messages": ASK, **extra}
    for feature in features(body):
        assert feature_field(feature) in body


def test_known_features_are_listed_for_both_dialects() -> None:
    assert "random_seed" in known_features("mistral") and "stream+usage" not in known_features("mistral")
    assert {"stream+usage", "logprobs", "seed"} <= set(known_features("openai"))
    assert {"stream", "n>1", "tool_choice=named", "parallel_tool_calls", "stop"} <= set(known_features("openai"))


def _body(i: int, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}], "max_tokens": 4, **extra}


def test_the_field_the_rejections_have_in_common_is_found() -> None:
    cov = Coverage("mistral", seed=1)
    for i in range(6):  # requests with temperature are answered, whatever else they carry
        assert cov.observe(_body(i, temperature=0.5, stop="."), answered=True, rejected=False) is None
    assert cov.observe(_body(10, random_seed=1, temperature=0.2), answered=False, rejected=True) is None
    assert cov.observe(_body(11, random_seed=2, stop="."), answered=False, rejected=True) is None
    culprit = cov.observe(_body(12, random_seed=3), answered=False, rejected=True)
    assert culprit is not None and culprit.feature == "random_seed"
    assert (culprit.rejected_with, culprit.rejected, culprit.accepted_with) == (3, 3, 0)
    assert "`random_seed` in common (3 of 3 carry it; 0 with it were answered 2xx)" in culprit.describe()
    # a later rejection with the field is explained by the same culprit
    assert cov.observe(_body(13, random_seed=4), answered=False, rejected=True) == culprit
    assert cov.to_dict(0.5)["common_to_rejections"] == "random_seed"


def test_two_fields_that_always_come_together_are_not_guessed_between() -> None:
    cov = Coverage("openai", seed=1)
    for i in range(4):
        culprit = cov.observe(_body(i, seed=i, stop="."), answered=False, rejected=True)
    assert culprit is None  # seed or stop: nothing tells them apart yet
    # ... unless the provider says which
    named = cov.observe(_body(9, seed=9, stop="."), answered=False, rejected=True, reason="Unsupported param: seed")
    assert named is not None and named.feature == "seed"


def test_a_value_is_named_rather_than_its_field() -> None:
    cov = Coverage("openai", seed=1)
    for i in range(4):
        cov.observe(_body(i, top_p=0.5), answered=True, rejected=False)
    for i in range(3):
        culprit = cov.observe(_body(10 + i, top_p=0.0), answered=False, rejected=True)
    assert culprit is not None and culprit.feature == "top_p=0"


def test_adaptive_generation_leaves_the_culprit_out_of_most_requests() -> None:
    cov = Coverage("mistral", seed=1)
    for i in range(2):
        cov.observe(_body(i, random_seed=i), answered=False, rejected=True)
    assert cov.culprits == []  # two rejections are not evidence enough
    cov.observe(_body(3, random_seed=3), answered=False, rejected=True)
    # max_tokens was in every rejected request too, but every request has it: random_seed explains the rejections
    assert [c.feature for c in cov.culprits] == ["random_seed"]
    bodies = [_body(100 + i, random_seed=i) for i in range(400)]
    kept = sum("random_seed" not in cov.fields_to_drop(body) for body in bodies)
    assert abs(kept / len(bodies) - KEEP_CULPRIT) < 0.05
    # the decision is a function of the body: a replayed request is sent the same way
    assert all(cov.fields_to_drop(body) == cov.fields_to_drop(dict(body)) for body in bodies[:50])
    assert Coverage("mistral", seed=1, adaptive=False).fields_to_drop(bodies[0]) == []


def test_no_optional_field_goes_into_more_than_half_of_the_valid_requests() -> None:
    cov = Coverage("openai", seed=1)
    tools = [{"type": "function", "function": {"name": "f"}}]
    for i in range(12):
        cov.observe(_body(i, tools=tools, tool_choice="auto", stop="."), answered=True, rejected=False)
    drop = cov.fields_to_drop(_body(99, tools=tools, tool_choice="auto", stop=".", stream=True))
    # tools and stop are overused (their dependent tool_choice goes with tools); stream is not; max_tokens is the cap
    assert sorted(drop) == ["stop", "tool_choice", "tools"]


# ---------------------------------------------------------------------------------------------------------------
# Runs against the reference provider with a fault that refuses one optional field
# ---------------------------------------------------------------------------------------------------------------


def _refusing_run(dialect: str, fault: str, *, adaptive: bool) -> Any:
    with serve(dialect=dialect, seed=1, faults=[fault]) as provider:
        return run_fuzz(
            FuzzOptions(
                base_url=provider.base_url,
                model="ref-small",
                dialect=dialect,
                seed=1,
                max_examples=30,
                max_requests=220,
                phases=("coverage", "fuzzing"),
                shrink=False,
                adaptive=adaptive,
            )
        )


def test_refused_field_fails_the_run_and_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect="mistral", seed=1, faults=["rejects-random-seed"]) as provider:
        code = main(
            [
                "fuzz",
                provider.base_url,
                "--model",
                "ref-small",
                "--seed",
                "1",
                "--max-examples",
                "30",
                "--max-requests",
                "220",
                "--phases",
                "coverage,fuzzing",
                "--no-shrink",
                "--no-adapt",
                "--quiet",
                "--report",
                str(tmp_path),
            ]
        )
    captured = capsys.readouterr()
    assert code == 1  # CC603 is only a warning: the exit comes from the coverage
    assert "CC603 valid-request-rejected [warning]" in captured.out
    assert "(random_seed: Extra inputs are not permitted)" in captured.out  # the provider's own words
    assert "below the 50% this run needs: the rejected ones have `random_seed` in common" in captured.err
    results = load_results(tmp_path)
    assert results.coverage is not None and not results.coverage.sufficient and not results.ok
    assert results.coverage.common_to_rejections == "random_seed" and results.coverage.adapted == {}
    (row,) = [r for r in results.coverage.features if r.feature == "random_seed"]
    assert row.valid > 0 and row.answered == 0


def test_adaptive_generation_still_checks_at_least_half_of_the_valid_requests() -> None:
    results = _refusing_run("mistral", "rejects-random-seed", adaptive=True)
    cov = results.coverage
    assert cov is not None and cov.valid >= 20
    assert cov.answered >= cov.valid / 2 and cov.sufficient, cov
    assert cov.common_to_rejections == "random_seed" and cov.adapted.get("random_seed", 0) > 0
    (cc603,) = [f for f in results.findings if f.code == "CC603"]
    assert cc603.example is not None and cc603.example.actual == "random_seed: Extra inputs are not permitted"
    assert any("`random_seed` in common" in example.message for example in cc603.examples)
    assert any("`random_seed` in common" in note for note in results.notes)


def test_a_refused_value_is_named_in_the_openai_dialect() -> None:
    results = _refusing_run("openai", "rejects-zero-top-p", adaptive=False)
    assert results.coverage is not None and results.coverage.common_to_rejections == "top_p=0"
    (cc603,) = [f for f in results.findings if f.code == "CC603"]
    assert cc603.example is not None and "top_p must be in (0, 1], got 0.0." in cc603.example.message
