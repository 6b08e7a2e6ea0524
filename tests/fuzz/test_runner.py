"""The fuzz runner against the reference provider (with and without faults) and misbehaving servers.

Real servers on 127.0.0.1 (uvicorn for the reference provider, raw sockets for resets and stalls), real
schemathesis runs: nothing here mocks the HTTP exchange.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest

from chatcontract import ProviderError, UsageError
from chatcontract.fuzz import reproduce, session
from chatcontract.fuzz.openapi import build_openapi, request_examples
from chatcontract.fuzz.options import FuzzOptions
from chatcontract.fuzz.runner import run_fuzz
from chatcontract.provider.faults import FAULTS
from chatcontract.provider.server import serve
from chatcontract.report.results import FuzzResults, load_results

from ._misbehaving import misbehaving

MODEL = "ref-small"


def options(base_url: str, **kwargs: Any) -> FuzzOptions:
    defaults: dict[str, Any] = {"model": MODEL, "seed": 1, "max_examples": 10, "max_requests": 200}
    return FuzzOptions(base_url=base_url, **{**defaults, **kwargs})


@pytest.fixture
def sent_bodies(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every request body as it left the machine (read back from the request the transport prepared)."""
    bodies: list[Any] = []
    observe = session.FuzzRun.observe

    def spy(self: Any, case: Any, response: Any) -> Any:
        bodies.append(reproduce.sent_body(response, case))
        return observe(self, case, response)

    monkeypatch.setattr(session.FuzzRun, "observe", spy)
    return bodies


# ---------------------------------------------------------------------------------------------------------------
# The reference provider: zero findings without faults, each fault's finding with it
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["mistral", "openai"])
def clean_run(request: pytest.FixtureRequest) -> FuzzResults:
    dialect = request.param
    with serve(dialect=dialect, seed=3) as provider:
        return run_fuzz(options(provider.base_url, dialect=dialect, max_requests=400, max_examples=15))


def test_reference_provider_without_faults_has_no_findings(clean_run: FuzzResults) -> None:
    assert clean_run.findings == [], FuzzResults.to_json(clean_run)
    assert clean_run.ok
    assert clean_run.errors == []


def test_clean_run_exercised_every_kind_of_answer(clean_run: FuzzResults) -> None:
    statuses = clean_run.statuses
    assert statuses.get("200", 0) >= len(request_examples(clean_run.dialect))
    assert sum(v for k, v in statuses.items() if k.startswith("4")) > 50  # negative testing really happened
    assert "none" not in statuses and not any(k.startswith("5") for k in statuses)
    assert clean_run.streams >= 2 and clean_run.positive > 10 and clean_run.negative > 50
    assert clean_run.requests <= 400
    assert clean_run.stop_reason in ("completed", "max_requests")


_FAULT_CASES = [
    pytest.param(dialect, name, id=f"{dialect}-{name}")
    for dialect in ("mistral", "openai")
    for name, fault in FAULTS.items()
    if fault.expect.get(dialect)
]


@pytest.mark.parametrize(("dialect", "fault"), _FAULT_CASES)
def test_each_fault_is_found_by_its_rule(dialect: str, fault: str) -> None:
    expected = set(FAULTS[fault].expect[dialect])
    # a refused field value (top_p 0) is a boundary: the coverage phase sends it, four random examples may not
    phases = ("coverage",) if FAULTS[fault].target == "request" else ("examples", "fuzzing")
    # a fault that replaces every answer (html-500) fails the preflight's plain request: that run would stop there
    preflight = FAULTS[fault].target != "any"
    with serve(dialect=dialect, seed=1, faults=[fault]) as provider:
        results = run_fuzz(
            options(
                provider.base_url, dialect=dialect, max_examples=4, phases=phases, shrink=False, preflight=preflight
            )
        )
    found = {f.code for f in results.findings}
    assert expected <= found, f"{fault}: expected {sorted(expected)}, found {sorted(found)}"
    for finding in results.findings:
        assert finding.count >= 1 and finding.paths and finding.example is not None
        # a body that is not UTF-8 text is replayed through printf (chatcontract/fuzz/reproduce.py)
        assert re.match(r"(printf '[^']*' \| )?curl -X ", finding.example.curl), finding.example.curl
    assert not results.ok or all(_is_warning(code) for code in expected)


def _is_warning(code: str) -> bool:
    from chatcontract.rules import RULES

    return RULES[code].severity.value == "warning"


def test_finding_carries_the_shrunk_request_and_a_reproducing_curl_line() -> None:
    with serve(dialect="mistral", seed=1, faults=["usage-total-wrong"]) as provider:
        results = run_fuzz(options(provider.base_url, phases=("fuzzing",), max_examples=10, max_requests=150))
    (finding,) = [f for f in results.findings if f.code == "CC201"]
    example = finding.example
    assert example is not None and example.response is not None
    assert example.response["status"] == 200 and example.path == "$.usage.total_tokens"
    body = example.request["body"]
    # hypothesis shrinks towards the smallest request that still fails: required fields only, one short message
    assert set(body) <= {"model", "messages", "max_tokens"}, body
    assert len(body["messages"]) == 1 and len(body["messages"][0]["content"]) <= 40
    assert provider.base_url + "/chat/completions" in example.curl
    argv = shlex.split(example.curl)
    assert argv[-2] == "--data-raw" and json.loads(argv[-1]) == body  # the bytes as sent, spaces and all


def test_unknown_model_answered_200_is_an_invalid_request_accepted() -> None:
    """A request for another model than the one under test is invalid (the APIs answer 400/404)."""
    with serve(dialect="openai", seed=1) as provider:
        results = run_fuzz(
            options(
                provider.base_url,
                dialect="openai",
                model="not-served",
                max_requests=20,
                phases=("examples",),
                preflight=False,  # the preflight would stop this run before it starts (tests/fuzz/test_preflight.py)
            )
        )
    # the reference provider answers 404 for a model it does not serve: a valid request (model = the one under
    # test) rejected, a warning each; but a run in which no valid request was answered measured nothing
    assert {f.code for f in results.findings} == {"CC603"}
    assert results.coverage is not None and results.coverage.answered == 0 and results.coverage.valid > 0
    assert not results.ok


# ---------------------------------------------------------------------------------------------------------------
# Budgets
# ---------------------------------------------------------------------------------------------------------------


def test_request_budget_is_a_hard_stop() -> None:
    with serve(dialect="mistral", seed=1) as provider:
        results = run_fuzz(options(provider.base_url, max_requests=15, max_examples=50))
    assert results.requests == 13  # 15, less the preflight's 2 (GET /v1/models, one plain request)
    assert sum(results.statuses.values()) <= 13
    assert results.stop_reason == "max_requests"


def test_every_request_leaves_with_max_tokens_at_most_the_cap(sent_bodies: list[Any]) -> None:
    cap = 3
    with serve(dialect="openai", seed=1) as provider:
        run_fuzz(options(provider.base_url, dialect="openai", max_tokens_cap=cap, max_requests=250, max_examples=20))
    objects = [b for b in sent_bodies if isinstance(b, dict)]
    assert len(objects) > 100
    for body in objects:
        values = [body[k] for k in ("max_tokens", "max_completion_tokens") if k in body]
        assert values, f"no token limit in {body}"
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        assert all(v <= cap for v in numbers), body


def test_workers_share_the_budget_and_find_the_same_faults() -> None:
    with serve(dialect="mistral", seed=1, faults=["created-ms"]) as provider:
        results = run_fuzz(options(provider.base_url, workers=2, max_requests=60, max_examples=20))
    assert results.requests <= 60
    assert [f.code for f in results.findings] == ["CC209"]
    assert results.errors == []


def test_rate_limit_spaces_the_requests() -> None:
    with serve(dialect="mistral", seed=1) as provider:
        results = run_fuzz(
            options(provider.base_url, rate_limit="10/s", max_requests=14, phases=("examples", "fuzzing"))
        )
    assert results.requests == 12  # the preflight's 2 requests count toward the budget, not among the judged
    assert results.duration_s >= 0.9  # 12 requests at 10 per second take at least about a second


def test_time_budget_stops_the_run() -> None:
    with serve(dialect="mistral", seed=1) as provider:
        results = run_fuzz(options(provider.base_url, max_time=1.5, max_examples=1000, max_requests=100_000))
    assert results.stop_reason == "max_time"
    assert results.duration_s < 20


# ---------------------------------------------------------------------------------------------------------------
# Misbehaving servers: no response, 429
# ---------------------------------------------------------------------------------------------------------------


def test_connection_reset_is_a_finding_with_its_request() -> None:
    with misbehaving("reset") as server:
        results = run_fuzz(options(server.base_url, model="m", phases=("examples",), max_requests=10, preflight=False))
    (finding,) = results.findings
    assert finding.code == "CC604" and finding.severity == "error"
    assert finding.example is not None and finding.example.response is None
    assert "no response" in finding.example.message
    assert finding.example.curl.startswith("curl -X POST") and "/v1/chat/completions" in finding.example.curl
    assert results.statuses.get("none", 0) == finding.count >= 1


def test_read_timeout_is_a_finding() -> None:
    with misbehaving("stall") as server:
        results = run_fuzz(
            options(server.base_url, model="m", phases=("examples",), max_requests=2, timeout=0.5, preflight=False)
        )
    assert [f.code for f in results.findings] == ["CC604"]
    assert "timed out" in results.findings[0].example.message.lower()  # type: ignore[union-attr]


def test_stream_that_never_ends_is_cut_and_reported() -> None:
    with misbehaving("endless") as server:
        results = run_fuzz(
            options(server.base_url, model="m", phases=("examples",), max_requests=20, timeout=1, preflight=False)
        )
    (finding,) = [f for f in results.findings if f.code == "CC604"]
    example = finding.example
    assert example is not None and example.response is not None and example.response["status"] == 200
    assert example.request["body"]["stream"] is True
    assert "did not end within 1 s" in example.message
    # a cut stream is not judged as a whole: no "missing [DONE]" or "no finish_reason" for the part that was read
    assert not {"CC303", "CC309"} & {f.code for f in results.findings}


def test_unreachable_provider_is_a_provider_error() -> None:
    with misbehaving("ok") as server:
        url = server.base_url
    with pytest.raises(ProviderError, match="cannot reach"):
        run_fuzz(options(url, model="m", phases=("examples",), max_requests=5))


def test_undocumented_status_is_a_warning() -> None:
    with misbehaving("forbidden") as server:
        results = run_fuzz(options(server.base_url, model="m", phases=("examples",), max_requests=10, preflight=False))
    assert [(f.code, f.severity) for f in results.findings] == [("CC605", "warning")]
    assert "status 403 is not among the documented ones (200, 400, 401, 404, 422, 429, 500)" in (
        results.findings[0].example.message  # type: ignore[union-attr]
    )
    # only a warning, but no valid request was answered: the run measured nothing and says so
    assert results.coverage is not None and results.coverage.answered == 0 and not results.ok


def test_429_is_retried_after_retry_after() -> None:
    with misbehaving("rate-limit", limited=2) as server:
        results = run_fuzz(options(server.base_url, model="m", phases=("examples",), max_requests=20, preflight=False))
        received = len(server.requests)
    # the two 429s were retried, so every example ended in a 200 (and a 429 is never a finding)
    assert results.statuses.get("200", 0) >= 1
    assert received >= results.statuses["200"] + 2
    assert "CC603" not in {f.code for f in results.findings}


# ---------------------------------------------------------------------------------------------------------------
# Options, keys, results files
# ---------------------------------------------------------------------------------------------------------------


def test_api_key_is_sent_and_never_written() -> None:
    key = "sk-test-1234567890abcdef"
    with serve(dialect="openai", seed=1, api_key=key, faults=["created-ms"]) as provider:
        results = run_fuzz(
            options(
                provider.base_url,
                dialect="openai",
                api_key=key,
                api_key_env="CC_TEST_KEY",
                phases=("examples",),
                max_requests=20,
            )
        )
    assert results.statuses.get("200", 0) >= 5  # the key was accepted
    text = results.to_json()
    assert key not in text
    curl = results.findings[0].example.curl  # type: ignore[union-attr]
    assert '"Authorization: Bearer $CC_TEST_KEY"' in curl


def test_results_round_trip(tmp_path: Any) -> None:
    with serve(dialect="mistral", seed=1, faults=["created-ms"]) as provider:
        results = run_fuzz(options(provider.base_url, phases=("examples",), max_requests=20))
    path = results.write(tmp_path / "out" / "results.json")
    assert load_results(path.parent) == results


def test_same_seed_same_requests(sent_bodies: list[Any]) -> None:
    runs = []
    with serve(dialect="mistral", seed=1) as provider:
        for _ in range(2):
            sent_bodies.clear()
            results = run_fuzz(options(provider.base_url, phases=("examples", "fuzzing"), max_examples=15))
            runs.append((results.statuses, results.positive, results.streams, list(sent_bodies)))
    assert runs[0] == runs[1]
    assert len(runs[0][3]) > 15


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dialect": "cohere"}, "unknown dialect"),
        ({"base_url": "ftp://x"}, "http"),
        ({"model": ""}, "model"),
        ({"max_requests": 0}, "max-requests"),
        ({"max_tokens_cap": -1}, "max-tokens-cap"),
        ({"phases": ("stateful",)}, "phases"),
        ({"rate_limit": "fast"}, "rate limit"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_options_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    base = {"base_url": "http://127.0.0.1:9/v1", "model": "m"}
    with pytest.raises(UsageError, match=message):
        run_fuzz(FuzzOptions(**{**base, **kwargs}))


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_request_examples_are_valid_generated_requests(dialect: str) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry

    doc = build_openapi(dialect, max_tokens_cap=16, model=MODEL)
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))
    schema = {"$ref": "urn:doc#/components/schemas/GeneratedChatCompletionRequest"}
    validator = Draft202012Validator(schema, registry=registry)
    media = doc["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]
    run = session.FuzzRun(FuzzOptions(base_url="http://127.0.0.1:9", model=MODEL, dialect=dialect), None)
    for name, example in media["examples"].items():
        errors = [e.message for e in validator.iter_errors(example["value"])]
        assert not errors, (name, errors)
        assert run.request_problem(example["value"]) is None, name


def test_a_run_leaves_no_socket_open_behind_it() -> None:
    """schemathesis keeps each worker's requests session in thread-local storage and never closes it; chatcontract's
    deadline watch makes each session part of a reference cycle, so only the cyclic garbage collector frees it, and
    in a cycle the sockets may be finalized before urllib3 closes them: "unclosed socket", a ResourceWarning raised
    in whatever happens to be running then (an error under this suite's filterwarnings). The run closes every session
    schemathesis made for it at its end: none is left holding a connection pool."""
    import gc

    from schemathesis.transport.requests import ManagedCookiesSession

    def open_sessions() -> list[Any]:
        def pooled(session: Any) -> bool:
            managers = [getattr(a, "poolmanager", None) for a in session.adapters.values()]
            return any(m is not None and len(m.pools) for m in managers)

        return [o for o in gc.get_objects() if isinstance(o, ManagedCookiesSession) and pooled(o)]

    gc.collect()
    before = {id(s) for s in open_sessions()}
    gc.disable()  # what the collector would otherwise free at a moment of its choosing stays in view
    try:
        with serve(dialect="openai", seed=3) as provider:
            results = run_fuzz(
                options(
                    provider.base_url, dialect="openai", max_examples=6, seed=3, workers=2,
                    phases=("examples", "fuzzing"),
                )
            )
        left = [s for s in open_sessions() if id(s) not in before]
    finally:
        gc.enable()
    assert results.requests > 0
    assert left == []
