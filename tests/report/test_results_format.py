"""results.json format 2 (coverage, examples per rule with counts, notes) and the migration of format-1 files.

A format-1 file is what ``chatcontract fuzz`` wrote before coverage existed: it still loads, and ``chatcontract
report`` of it still writes every report.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcontract import UsageError
from chatcontract.cli import main
from chatcontract.report import render_html, render_junit, render_markdown
from chatcontract.report.results import (
    FORMAT,
    Example,
    FeatureRow,
    Finding,
    FuzzResults,
    RunCoverage,
    load_results,
)

EXAMPLE_V1: dict[str, Any] = {
    "request": {"method": "POST", "url": "http://127.0.0.1:8000/v1/chat/completions", "headers": {}, "body": {}},
    "curl": "curl -X POST http://127.0.0.1:8000/v1/chat/completions --data-raw '{}'",
    "response": {"status": 200, "content_type": "application/json", "body": "{}"},
    "phase": "fuzzing",
    "mode": "positive",
    "path": "$.created",
    "message": "created is 1736423701225: milliseconds",
    "actual": 1736423701225,
}
FORMAT_1: dict[str, Any] = {
    "provider": "old-run",
    "base_url": "http://127.0.0.1:8000/v1",
    "dialect": "openai",
    "model": "ref-small",
    "seed": 3,
    "started": "2026-11-30T10:00:00+00:00",
    "duration_s": 12.5,
    "stop_reason": "completed",
    "requests": 150,
    "statuses": {"200": 120, "400": 30},
    "positive": 120,
    "negative": 30,
    "streams": 40,
    "findings": [
        {
            "code": "CC209",
            "name": "implausible-created",
            "severity": "error",
            "count": 7,
            "summary": "created is a plausible Unix time",
            "paths": ["$.created"],
            "example": EXAMPLE_V1,
        }
    ],
    "errors": [],
    "chatcontract": "0.1.0",
    "format": 1,
}


def test_format_1_loads_with_its_one_example_standing_for_every_occurrence() -> None:
    results = FuzzResults.from_dict(copy.deepcopy(FORMAT_1))
    (finding,) = results.findings
    assert finding.example is not None and finding.example.count == 7 and finding.other_examples == []
    assert results.coverage is None and results.notes == []
    assert not results.ok  # an error finding; no coverage recorded is not held against an old run
    assert results.format == FORMAT == 2


def test_report_of_a_format_1_file_writes_every_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(FORMAT_1), "utf-8")
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "old-run (openai): FAIL" in out
    md = (tmp_path / "out" / "report.md").read_text("utf-8")
    assert (
        "Example 1 of 1: 7 exchanges of this kind" in md and "| valid requests answered 2xx | - (not recorded) |" in md
    )


def _results() -> FuzzResults:
    first = Example(**{**EXAMPLE_V1, "count": 5})
    other = Example(**{**EXAMPLE_V1, "count": 2, "path": "$.choices[0]", "mode": "negative"})
    return FuzzResults(
        provider="vllm",
        base_url="http://127.0.0.1:8000/v1",
        dialect="openai",
        model="m",
        requests=300,
        duration_s=10.0,
        findings=[
            Finding(
                code="CC209",
                name="implausible-created",
                severity="error",
                count=7,
                example=first,
                other_examples=[other],
            )
        ],
        coverage=RunCoverage(
            valid=300,
            answered=8,
            common_to_rejections="top_p=0",
            adapted={"top_p": 200},
            features=[FeatureRow(feature="top_p=0", valid=292, answered=0), FeatureRow(feature="stream", valid=3)],
        ),
        notes=["preflight: the provider has no GET /v1/models (404): the model name was not checked"],
    )


def test_format_2_round_trips(tmp_path: Path) -> None:
    results = _results()
    loaded = load_results(results.write(tmp_path / "results.json"))
    assert loaded == results
    assert [e.count for e in loaded.findings[0].examples] == [5, 2]
    assert loaded.requests_per_s == 30.0


def test_too_little_answered_fails_the_run_and_says_why() -> None:
    results = _results()
    results.findings = []
    assert not results.ok
    assert results.coverage is not None
    assert results.coverage.verdict() == (
        "8 of 300 valid requests answered 2xx and checked (3%), below the 50% this run needs: "
        "the rejected ones have `top_p=0` in common; the run measured too little"
    )
    results.coverage.min_answered = 0.02
    assert results.ok


def test_every_report_shows_the_coverage_and_each_example() -> None:
    results = _results()
    md, html, junit = render_markdown([results]), render_html([results]), render_junit([results])
    assert "| `top_p=0` | 292 | 0 |" in md
    assert "Example 2 of 2: 2 exchanges of this kind" in md and "(the commonest)" in md
    assert "<code>top_p=0</code></th><td>292</td><td>0</td>" in html
    assert html.count("of this kind") == 2
    assert 'name="coverage: valid requests answered"' in junit and 'type="coverage"' in junit
    assert "requests_per_s" in junit and "no GET /v1/models" in md


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 3}, "unsupported results format 3 (this chatcontract reads 1, 2)"),
        ({"coverage": {"valid": -1}}, "coverage: valid must be a non-negative integer"),
        ({"coverage": {"min_answered": 2}}, "min_answered must be a number in 0..1"),
        ({"coverage": {"features": [{"feature": 1}]}}, "features[0]: feature must be a string"),
        ({"coverage": {"common_to_rejections": 5}}, "common_to_rejections must be a string or null"),
        ({"notes": [1]}, "notes must be a list of strings"),
    ],
)
def test_bad_format_2_fields_are_usage_errors(change: dict[str, Any], message: str) -> None:
    data = {**copy.deepcopy(FORMAT_1), "format": 2, **change}
    with pytest.raises(UsageError, match=re.escape(message)):
        FuzzResults.from_dict(data)


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=20), st.integers(0, 10**6), st.integers(0, 10**6)), max_size=8),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.floats(0, 1),
)
@settings(max_examples=60, deadline=None)
def test_any_coverage_round_trips_through_json(
    rows: list[tuple[str, int, int]], valid: int, answered: int, share: float
) -> None:
    results = _results()
    results.coverage = RunCoverage(
        valid=valid,
        answered=answered,
        min_answered=share,
        features=[FeatureRow(feature=f, valid=v, answered=a) for f, v, a in rows],
    )
    assert FuzzResults.from_dict(json.loads(results.to_json())) == results
