"""The fault catalogue: every fault is caught by the rule codes it names (mutation score 100 %), legal variations
produce no violation, rates are honoured, and the catalogue is well-formed."""

from __future__ import annotations

import pytest

from chatcontract import UsageError, check
from chatcontract.provider import FAULTS, create_app, parse_faults
from chatcontract.provider.app import FAULT_HEADER
from chatcontract.rules import RULES

from .helpers import WEATHER, call, exercise

#: The stream rules being written (chatcontract/rules/streams.py); codes a fault may name before they land.
STREAM_RULES = {f"CC3{n:02d}" for n in range(1, 21)}

CASES = [(name, dialect) for name, f in FAULTS.items() for dialect in f.dialects]
#: A fault that breaks a second clause of the contract on the request that shows it: dropping the tool calls of a
#: choice that says "tool_calls" (CC205) also leaves the named tool_choice unanswered (CC409).
ALSO_BROKEN = {"tool-calls-finish-without-calls": {"CC409"}}


@pytest.mark.parametrize(("name", "dialect"), CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_fault_is_caught_by_its_rules(name, dialect):
    fault = FAULTS[name]
    req = exercise(fault.needs, dialect)
    resp = call(create_app(dialect=dialect, faults=[name], seed=7), [req])[0]
    assert resp.headers.get(FAULT_HEADER) == name, f"{name} did not apply to {req}"
    report = check(resp, dialect=dialect, request=req, stream=bool(req.get("stream")) and resp.status_code == 200)
    expected = fault.expect[dialect]
    if fault.target == "request":
        # a refused valid request: the error answer itself conforms; the exchange rule (CC603) is the fuzz run's
        # (tests/fuzz/test_runner.py), which knows the request was valid
        assert 400 <= resp.status_code < 500 and all(code.startswith("CC6") for code in expected)
        assert report.violations == (), f"{name}: the refusal's error body should conform:\n{report}"
    elif expected:
        missing = set(expected) - set(report.codes())
        assert not missing, f"{name} ({dialect}) should be caught by {sorted(missing)}; got:\n{report}"
        # ... and by nothing else: one cause, one finding (an error body in a 200 is not also every missing field
        # of a completion, a cut stream not also its missing end), but for a second clause the fault breaks too
        extra = set(report.codes()) - set(expected) - ALSO_BROKEN.get(name, set())
        assert not extra, f"{name} ({dialect}) is also reported as {sorted(extra)}:\n{report}"
    else:
        assert report.violations == (), f"{name} is legal in {dialect} but:\n{report}"


@pytest.mark.parametrize(
    ("dialect", "extra"),
    [
        ("mistral", {"prompt_mode": "reasoning"}),  # content is a list of chunks (thinking, text)
        ("openai", {"stop": ["."], "logprobs": True, "n": 2}),  # the run-on text honours the stop sequence
        ("openai", {"tools": [WEATHER], "tool_choice": "required"}),  # an answer that owes a tool call is left alone
        ("mistral", {"tools": [WEATHER], "tool_choice": "auto"}),
        ("mistral", {"response_format": {"type": "json_object"}}),  # a JSON answer is left alone
    ],
)
def test_max_tokens_ignored_is_that_deviation_only(dialect, extra):
    """The fault never crashes the provider, and adds no deviation of its own (found fuzzing it: a 500 on a
    reasoning answer, CC410 from its padding, CC414 from a padded tool-call message)."""
    req = {**exercise(("max_tokens",), dialect), **extra}
    resp = call(create_app(dialect=dialect, faults=["max-tokens-ignored"], seed=7), [req])[0]
    assert resp.status_code == 200, resp.text
    codes = set(check(resp, dialect=dialect, request=req).codes())
    applied = resp.headers.get(FAULT_HEADER) == "max-tokens-ignored"
    assert codes == ({"CC402"} if applied else set()), (extra, applied, codes)
    assert applied == (extra.get("tool_choice") != "required" and "response_format" not in extra)


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_the_same_requests_without_faults_conform(dialect):
    """The mutation tests start from conforming answers: any code they see comes from the fault."""
    requests = [exercise(f.needs, dialect) for f in FAULTS.values() if "invalid" not in f.needs]
    for req, resp in zip(requests, call(create_app(dialect=dialect, seed=7), requests), strict=True):
        assert check(resp, dialect=dialect, request=req, stream=bool(req.get("stream"))).violations == ()


def test_catalogue_is_well_formed():
    assert len(FAULTS) >= 25
    for f in FAULTS.values():
        assert f.description and f.source and f.target in ("response", "stream", "error", "any", "request")
        assert f.dialects, f.name
        for codes in f.expect.values():
            for code in codes:
                assert code in RULES or code in STREAM_RULES, (f.name, code)
        assert ("stream" in f.needs) == (f.target == "stream"), f.name
    required = {
        "created-float",
        "created-ms",
        "usage-total-wrong",
        "usage-total-below-prompt",
        "constant-usage",
        "n-ignored",
        "max-tokens-ignored",
        "finish-reason-stop-with-tools",
        "tool-calls-finish-without-calls",
        "tool-args-not-json",
        "tool-args-object",
        "empty-tool-call-id",
        "missing-usage",
        "missing-choice-index",
        "model-empty",
        "extra-fields",
        "html-500",
        "foreign-error-envelope",
        "error-in-200",
        "stream-empty-finish-reason",
        "stream-no-finish",
        "stream-no-done",
        "stream-keepalive",
        "stream-content-after-finish",
        "stream-indexless-tool-deltas",
        "stream-error-in-200",
        "stream-choices-null",
        "stream-usage-missing",
        # reasoning (issue 15)
        "think-tags-in-content",
        "reasoning-foreign-field",
        "reasoning-tokens-over-completion",
        "stream-think-tags-in-content",
        "stream-reasoning-after-content",
        "stream-reasoning-after-finish",
    }
    assert required <= set(FAULTS)
    assert FAULTS["stream-keepalive"].expect == {"mistral": (), "openai": ()}


def test_faults_leave_other_answers_alone():
    """A tool fault on a text answer, a stream fault on a JSON answer, an error fault on a success: no change."""
    req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}]}
    faults = ["tool-args-not-json", "stream-no-done", "foreign-error-envelope", "n-ignored"]
    for dialect in ("mistral", "openai"):
        resp = call(create_app(dialect=dialect, faults=faults, seed=1), [req])[0]
        assert FAULT_HEADER not in resp.headers
        assert check(resp, dialect=dialect, request=req).violations == ()


def test_rate_applies_to_about_half_and_is_seeded():
    req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}]}

    def pattern(seed):
        resps = call(create_app(dialect="openai", faults=["created-ms:0.5"], seed=seed), [req] * 200)
        return [FAULT_HEADER in r.headers for r in resps]

    first = pattern(3)
    assert 70 <= sum(first) <= 130
    assert pattern(3) == first
    assert pattern(4) != first


def test_rate_zero_never_applies():
    req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}]}
    resps = call(create_app(dialect="mistral", faults=["model-empty:0"]), [req] * 20)
    assert not any(FAULT_HEADER in r.headers for r in resps)


def test_several_faults_apply_in_order():
    req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}]}
    resp = call(create_app(dialect="openai", faults=["created-ms", ("model-empty", 1.0)], seed=1), [req])[0]
    assert resp.headers[FAULT_HEADER] == "created-ms,model-empty"
    assert {"CC209", "CC211"} <= set(check(resp, dialect="openai").codes())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("creted-ms", "Did you mean created-ms"),
        ("created-ms:2", "outside 0..1"),
        ("created-ms:half", "not a number"),
        ("stream-usage-unrequested", "does not apply to the mistral dialect"),
    ],
)
def test_bad_fault_specs(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_faults([spec], "mistral")
    with pytest.raises(UsageError, match=message):
        create_app(dialect="mistral", faults=[spec])


def test_parse_faults_forms():
    specs = parse_faults(["created-ms:0.25", ("model-empty", 1.0)])
    assert [str(s) for s in specs] == ["created-ms:0.25", "model-empty"]
    assert parse_faults(specs) == specs
