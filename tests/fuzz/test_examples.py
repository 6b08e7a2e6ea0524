"""Examples per rule: distinct in what triggered them, capped, each with its count, the commonest first.

Real runs against the reference provider with a fault whose finding shows up in more than one kind of exchange
(``foreign-error-envelope``: every error answer, to streamed and plain invalid requests alike).
"""

from __future__ import annotations

from typing import Any

import pytest

from chatcontract.fuzz.runner import FuzzOptions, run_fuzz
from chatcontract.provider.server import serve
from chatcontract.report.results import Example, FuzzResults


def _run(examples_per_rule: int) -> FuzzResults:
    with serve(dialect="openai", seed=1, faults=["foreign-error-envelope"]) as provider:
        return run_fuzz(
            FuzzOptions(
                base_url=provider.base_url,
                model="ref-small",
                dialect="openai",
                seed=1,
                max_examples=10,
                max_requests=150,
                shrink=False,
                examples_per_rule=examples_per_rule,
            )
        )


@pytest.fixture(scope="module")
def run() -> FuzzResults:
    return _run(5)


def _kind(example: Example) -> tuple[Any, ...]:
    body = example.request["body"]
    stream = isinstance(body, dict) and body.get("stream") is True
    status = example.response["status"] if example.response else None
    return (example.request["method"], status, example.mode, stream, example.path, str(example.actual))


def test_examples_differ_in_what_triggered_them(run: FuzzResults) -> None:
    (finding,) = [f for f in run.findings if f.code == "CC502"]
    kinds = [_kind(example) for example in finding.examples]
    assert len(kinds) >= 2, finding.examples
    assert len(set(kinds)) == len(kinds)


def test_the_commonest_kind_represents_the_rule_and_counts_add_up(run: FuzzResults) -> None:
    for finding in run.findings:
        counts = [example.count for example in finding.examples]
        assert finding.example is finding.examples[0]
        assert counts == sorted(counts, reverse=True) and all(c >= 1 for c in counts)
        assert sum(counts) <= finding.count


def test_examples_are_capped_per_rule(run: FuzzResults) -> None:
    capped = _run(1)
    (full,) = [f for f in run.findings if f.code == "CC502"]
    (one,) = [f for f in capped.findings if f.code == "CC502"]
    assert len(one.examples) == 1 and one.other_examples == []
    # the same seed sends the same requests: the one kept is the commonest kind of the uncapped run
    assert one.count == full.count
    assert _kind(one.examples[0]) == _kind(full.examples[0]) and one.examples[0].count == full.examples[0].count
