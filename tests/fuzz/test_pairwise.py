"""The ``pairwise`` phase: the all-pairs generator, its rows as valid requests, and runs against the reference provider.

The generator is property-tested with hypothesis (every allowed pair of levels in some row, no forbidden pair in any,
the same rows for the same seed); the rows of both dialects are valid requests for every seed, whatever refused
features adaptive generation leaves out. The runs fuzz the real reference provider over HTTP on 127.0.0.1: every
feature of ``known_features(dialect)`` is in a valid request answered 2xx and checked; with the ``rejects-n`` fault
the field is named and the other rows still get through; the phase keeps its share of the request and time budgets
and leaves what schemathesis sends for a seed as it was.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcontract.cli import main
from chatcontract.fuzz.coverage import features, known_features
from chatcontract.fuzz.judge import request_problem
from chatcontract.fuzz.options import PHASES
from chatcontract.fuzz.pairwise import SHARE, all_pairs, factors, pairwise_rows, request_body
from chatcontract.fuzz.runner import FuzzOptions, run_fuzz
from chatcontract.provider.server import serve
from chatcontract.report.results import FuzzResults, load_results

DIALECTS = ("mistral", "openai")
MODEL = "ref-small"


# ---------------------------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def designs(draw: st.DrawFn) -> tuple[list[int], list[tuple[tuple[int, int], tuple[int, int]]]]:
    """Factor sizes and forbidden pairs; each factor keeps one level (its last) out of every forbidden pair."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=7))
    candidates = [
        ((i, a), (j, b))
        for i, j in combinations(range(len(sizes)), 2)
        for a in range(sizes[i] - 1)
        for b in range(sizes[j] - 1)
    ]
    forbidden = draw(st.lists(st.sampled_from(candidates), max_size=6, unique=True)) if candidates else []
    return sizes, forbidden


@given(designs(), st.integers(0, 2**31 - 1))
@settings(max_examples=150, deadline=None)
def test_every_allowed_pair_is_in_some_row_and_no_forbidden_one(
    design: tuple[list[int], list[tuple[tuple[int, int], tuple[int, int]]]], seed: int
) -> None:
    sizes, forbidden = design
    rows = all_pairs(sizes, seed=seed, forbidden=forbidden)
    banned = {frozenset(pair) for pair in forbidden}
    assert all(len(row) == len(sizes) and all(0 <= v < s for v, s in zip(row, sizes, strict=True)) for row in rows)
    seen = {frozenset({(i, row[i]), (j, row[j])}) for row in rows for i, j in combinations(range(len(sizes)), 2)}
    assert not seen & banned
    for i, j in combinations(range(len(sizes)), 2):
        for a in range(sizes[i]):
            for b in range(sizes[j]):
                pair = frozenset({(i, a), (j, b)})
                assert pair in seen or pair in banned, (i, a, j, b)
    if len(sizes) == 1:
        assert sorted(rows) == [(level,) for level in range(sizes[0])]
    # the same seed gives the same rows
    assert all_pairs(sizes, seed=seed, forbidden=forbidden) == rows


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_covering_set_is_small(dialect: str) -> None:
    # the 6 tool modes times the 3 levels of stream (OpenAI) or response_format need 18 rows at least; the product
    # of all levels is 36,864 (Mistral) or 55,296 (OpenAI); measured over 60 seeds: 18 to 23 rows
    sizes = [len(f.levels) for f in factors(dialect, 1)]
    assert sorted(sizes)[-2:] == [3, 6]
    lengths = [len(pairwise_rows(dialect, seed)) for seed in range(20)]
    assert min(lengths) >= 18 and max(lengths) <= 24 and sum(lengths) / len(lengths) <= 21, lengths


@pytest.mark.parametrize(
    ("sizes", "forbidden", "message"),
    [
        ([2, 0], [], "at least one level"),
        ([2, 3], [((0, 0), (1, 0)), ((0, 1), (1, 1))], "factor 0: every level"),
        ([2, 2], [((0, 0), (0, 1))], "two levels of one factor"),
        ([2, 2], [((0, 0), (1, 5))], "does not exist"),
    ],
)
def test_designs_that_cannot_be_covered_are_refused(sizes: list[int], forbidden: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        all_pairs(sizes, forbidden=forbidden)


# ---------------------------------------------------------------------------------------------------------------
# The rows as requests
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@given(seed=st.integers(0, 2**31 - 1), cap=st.integers(1, 64))
@settings(max_examples=25, deadline=None)
def test_rows_are_valid_requests_that_give_every_feature(dialect: str, seed: int, cap: int) -> None:
    rows = pairwise_rows(dialect, seed)
    given_features: set[str] = set()
    for row in rows:
        body, left_out = request_body(row, dialect, MODEL, cap)
        assert left_out == []
        assert request_problem(body, dialect=dialect, model=MODEL) is None, (row.label(), body)
        assert body.get("max_tokens", body.get("max_completion_tokens")) == cap
        given_features |= features(body)
    assert set(known_features(dialect)) <= given_features
    # every pair of levels of every two factors is in some row, but parallel_tool_calls without tools
    seen = {frozenset(pair) for row in rows for pair in combinations(row.levels, 2)}
    for fa, fb in combinations(factors(dialect, cap), 2):
        for la in fa.levels:
            for lb in fb.levels:
                pair = frozenset({(fa.name, la.name), (fb.name, lb.name)})
                alone = ("tools", "absent") in pair and ("parallel_tool_calls", "false") in pair
                assert (pair in seen) != alone, sorted(pair)


@pytest.mark.parametrize("dialect", DIALECTS)
@given(data=st.data(), seed=st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_refused_features_are_left_out_and_the_rows_stay_valid(dialect: str, data: st.DataObject, seed: int) -> None:
    refused = data.draw(st.sets(st.sampled_from(known_features(dialect)), max_size=4))
    for row in pairwise_rows(dialect, seed):
        body, left_out = request_body(row, dialect, MODEL, 16, refused)
        assert request_problem(body, dialect=dialect, model=MODEL) is None, (refused, body)
        assert not features(body) & refused, (refused, body)
        full, _ = request_body(row, dialect, MODEL, 16)
        # the fields said to be left out are the ones missing, and the rest of the row is as planned (a refused
        # max_completion_tokens gives way to max_tokens: every request carries the cap)
        if "max_completion_tokens" in left_out:
            assert body["max_tokens"] == full["max_completion_tokens"]
            body = {k: v for k, v in body.items() if k != "max_tokens"}
        assert set(full) - set(body) == set(left_out)
        assert {k: v for k, v in full.items() if k in body} == body


def test_a_refused_level_keeps_what_it_can() -> None:
    row = next(r for r in pairwise_rows("openai", 1) if dict(r.levels)["stream"] == "true+usage")
    body, left_out = request_body(row, "openai", MODEL, 16, {"stream+usage"})
    assert body["stream"] is True and "stream_options" not in body and left_out == ["stream_options"]
    row = next(r for r in pairwise_rows("openai", 1) if dict(r.levels)["tools"] == "required")
    body, left_out = request_body(row, "openai", MODEL, 16, {"tool_choice=required"})
    assert body["tools"] and "tool_choice" not in body and left_out == ["tool_choice"]
    row = next(r for r in pairwise_rows("openai", 1) if dict(r.levels)["logprobs"] == "true")
    body, left_out = request_body(row, "openai", MODEL, 16, {"logprobs"})
    assert "logprobs" not in body and "top_logprobs" not in body and left_out == ["logprobs", "top_logprobs"]


# ---------------------------------------------------------------------------------------------------------------
# Runs against the reference provider
# ---------------------------------------------------------------------------------------------------------------


def _run(dialect: str, faults: tuple[str, ...] = (), **kwargs: Any) -> FuzzResults:
    options: dict[str, Any] = {"seed": 3, "phases": ("pairwise",), "shrink": False, "workers": 1, **kwargs}
    with serve(dialect=dialect, seed=1, faults=list(faults)) as provider:
        return run_fuzz(FuzzOptions(base_url=provider.base_url, model=MODEL, dialect=dialect, **options))


def _row(results: FuzzResults, feature: str) -> tuple[int, int]:
    assert results.coverage is not None
    (row,) = [r for r in results.coverage.features if r.feature == feature]
    return row.valid, row.answered


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_feature_is_answered_and_checked(dialect: str) -> None:
    results = _run(dialect)
    rows = len(pairwise_rows(dialect, 3))
    assert results.findings == [] and results.errors == [] and results.ok
    assert results.requests == rows and results.statuses == {"200": rows} and results.positive == rows
    assert results.coverage is not None and results.coverage.unanswered() == []
    for feature in known_features(dialect):
        valid, answered = _row(results, feature)
        assert answered >= 1 and answered == valid, feature
    assert f"pairwise: {rows} of {rows} valid requests sent" in " ".join(results.notes)
    assert results.streams == sum(dict(r.levels)["stream"] != "absent" for r in pairwise_rows(dialect, 3))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_refused_field_is_named_and_the_other_rows_get_through(dialect: str) -> None:
    results = _run(dialect, ("rejects-n",))
    planned = pairwise_rows(dialect, 3)
    with_n = sum(dict(r.levels)["n"] != "absent" for r in planned)
    cov = results.coverage
    assert cov is not None and cov.common_to_rejections == "n>1"
    (cc603,) = [f for f in results.findings if f.code == "CC603"]
    assert cc603.example is not None and "Only one completion choice is allowed" in cc603.example.message
    assert any("`n>1` in common" in note for note in results.notes)
    valid_n, answered_n = _row(results, "n>1")
    assert answered_n == 0 and 3 <= valid_n < with_n  # found, then left out of the rows still to go
    assert cov.adapted.get("n", 0) == with_n - valid_n
    # every row went, and every other feature was answered
    assert results.requests == len(planned) and cov.valid == len(planned) and cov.answered == len(planned) - valid_n
    assert cov.unanswered() == ["n>1"]
    # without adaptive generation each row goes as planned
    plain = _run(dialect, ("rejects-n",), adaptive=False)
    assert plain.coverage is not None and _row(plain, "n>1") == (with_n, 0) and plain.coverage.adapted == {}


def test_the_phase_keeps_its_share_of_the_request_budget() -> None:
    results = _run("openai", phases=("fuzzing", "pairwise"), max_examples=200, max_requests=50)
    rows = len(pairwise_rows("openai", 3))
    kept = min(rows, int((50 - 2) * SHARE))  # the preflight's two requests come off the budget first
    assert results.requests == 48 and results.stop_reason == "max_requests"
    assert f"pairwise: {kept} of {rows} valid requests sent" in " ".join(results.notes)
    assert "(the rest did not fit the budget)" in " ".join(results.notes)


def test_the_phase_keeps_its_share_of_the_time_budget() -> None:
    results = _run("mistral", phases=("fuzzing", "pairwise"), max_examples=100_000, max_requests=100_000, max_time=4)
    rows = len(pairwise_rows("mistral", 3))
    assert results.stop_reason == "max_time" and results.duration_s < 4 + 3
    assert f"pairwise: {rows} of {rows} valid requests sent" in " ".join(results.notes)


def test_schemathesis_sends_what_it_sent_before() -> None:
    """The phase runs last: with it, a seeded run's earlier phases send exactly what they sent without it."""
    before = _run("openai", ("created-float",), phases=("examples", "fuzzing"), max_examples=8, seed=5)
    after = _run("openai", ("created-float",), phases=("examples", "fuzzing", "pairwise"), max_examples=8, seed=5)
    planned = pairwise_rows("openai", 5)
    rows, streamed = len(planned), sum(dict(r.levels)["stream"] != "absent" for r in planned)
    assert after.requests == before.requests + rows and after.negative == before.negative
    assert after.statuses == {**before.statuses, "200": before.statuses["200"] + rows}
    assert after.streams == before.streams + streamed
    # created-float breaks every answer but streams: each non-stream row adds one CC102, nothing else changed
    (cc102,) = before.findings
    assert cc102.code == "CC102" and [(f.code, f.count) for f in after.findings] == [
        ("CC102", cc102.count + rows - streamed)
    ]


def test_the_cli_says_every_feature_was_covered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect="openai", seed=1) as provider:
        code = main(
            ["fuzz", provider.base_url, "--dialect", "openai", "--model", MODEL, "--seed", "2", "--quiet"]
            + ["--phases", "pairwise", "--report", str(tmp_path)]
        )
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"note: pairwise: \d+ of \d+ valid requests sent, covering every pair of levels of 13", out)
    assert "  every feature was in a valid request answered 2xx and checked\n" in out
    assert "every feature of the table was in a valid request answered 2xx and checked" in (
        tmp_path / "report.md"
    ).read_text("utf-8")
    assert load_results(tmp_path).coverage is not None
    assert PHASES[-1] == "pairwise"
