"""End-to-end ``chatcontract fuzz`` runs against the real third-party providers started by ``tests/providers``.

llama-cpp-python's server (the tiny random-weight GGUF the tests generate) and the LiteLLM proxy (mock models) are
fuzzed with fixed seeds and small budgets, and each of their known deviations (the team's PROVIDERS.md notes, the
``[tool.chatcontract.per-cassette-expect]`` tables of pyproject.toml) must be found by its rule. The other way round,
every rule a run reports must be explained by one of those deviations: the exact set of codes per run is asserted,
so a regression in our rules or a change of a provider shows up.

Each provider is fuzzed in a few cheap runs, shared by all the tests of this module:

- ``positive``: schemathesis' ``examples`` phase (the hand-picked requests of ``chatcontract/fuzz/openapi.py``:
  plain, stream, n = 2, tool calls, JSON modes, reasoning) and its ``fuzzing`` phase (``max_examples`` generated
  requests, valid and invalid);
- ``negative``: chatcontract's ``probes`` (hand-picked semantic requests: an unknown model, ``max_tokens: -5``,
  ``n: 0``, ``logprobs``, Mistral's ``tool_choice: "any"``...) and the ``coverage`` phase (boundary values, wrong
  types, missing fields, unknown properties, other HTTP methods, no API key), stopped by the request budget.

Two more runs per provider: the ``probes`` alone, and the ``pairwise`` phase alone (valid requests in which every pair
of request features meets), which must put every feature of the coverage table in a valid request.

Other HTTP methods are not chat requests: both servers answer them 405 (FastAPI's ``{"detail": ...}``), which is
right, so no finding may come from them (before issue 17 they were CC502, CC601 or CC1xx findings).

Every run happens in an empty working directory, which must stay empty: schemathesis' request cache
(``./.schemathesis``, replayed at the start of the next run whatever server it came from) and hypothesis' example
database must be off, or a run would depend on the runs before it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chatcontract.fuzz.coverage import known_features
from chatcontract.fuzz.options import FuzzOptions
from chatcontract.fuzz.pairwise import pairwise_rows
from chatcontract.fuzz.probes import probe_requests
from chatcontract.fuzz.runner import run_fuzz
from chatcontract.report.results import Finding, FuzzResults

from ..providers.servers import Server

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="chatcontract fuzz needs schemathesis: Python 3.11+")

SEED = 7
#: Low enough that every stream a provider ends on time has fewer than 20 events (see RUNNER_CUT_STREAM).
MAX_TOKENS_CAP = 12
#: A llama.cpp request that runs away (it ignores max_completion_tokens) generates ~2000 tokens: ~10 s idle.
TIMEOUT_S = 120.0
LITELLM_KEY_ENV = "LITELLM_MASTER_KEY"


# --------------------------------------------------------------------------------------------------------- runs


@dataclass
class Run:
    """One fuzz run: its options, its results, where its results.json was written."""

    name: str
    options: FuzzOptions
    results: FuzzResults
    path: Path
    key: str | None = None
    #: Network errors of a first attempt that was run again (see _fuzz).
    retried: list[str] = field(default_factory=list)
    #: The working directories of its attempts.
    workdirs: list[Path] = field(default_factory=list)

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.results.findings if f.code == code), None)

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.results.findings}

    def summary(self) -> str:
        r = self.results
        lines = [
            f"{self.name}: {r.requests} requests, statuses {r.statuses}, {r.streams} streams, stop {r.stop_reason} "
            f"(results: {self.path})" + (f", after a retry: {self.retried}" if self.retried else "")
        ]
        for f in r.findings:
            ex = f.example
            lines.append(
                f"  {f.code} x{f.count} {f.paths[:3]}"
                + (f" [{ex.phase}/{ex.mode}] {ex.response and ex.response['status']}: {ex.message}" if ex else "")
            )
        return "\n".join(lines)


def _fuzz(name: str, workdir: Path, server: Server, **overrides: Any) -> Run:
    options = FuzzOptions(
        base_url=server.base_url,
        dialect="openai",  # both speak OpenAI's wire format (pyproject's per-cassette-dialect says so too)
        api_key=server.api_key,
        provider=server.name,
        seed=SEED,
        max_tokens_cap=MAX_TOKENS_CAP,
        timeout=TIMEOUT_S,
        shrink=False,  # the smallest example is kept anyway; shrinking only spends requests
        **overrides,
    )
    # llama.cpp's server sends the 200 headers of a stream before it runs the model; when the model call raises,
    # the body is empty (CC305), but in about 1 case in 30 (measured) the connection is dropped before the last
    # chunk. schemathesis reports that as a network error and ends the phase there, so the run is cut short at a
    # random point. Only that provider race earns one more attempt, and the retry is kept in the run's record.
    retried: list[str] = []
    workdirs: list[Path] = []
    for attempt in (1, 2):
        workdirs.append(workdir / f"attempt-{attempt}")
        results = _run_in(workdirs[-1], options)
        dropped = [e for e in results.errors if server.name == "llamacpp" and _DROPPED_STREAM in e]
        if not dropped or attempt == 2:
            break
        retried.extend(dropped)
    path = results.write(workdir / "results.json")
    return Run(name, options, results, path, key=server.api_key, retried=retried, workdirs=workdirs)


#: schemathesis' message for a chunked body that ends without its last chunk.
_DROPPED_STREAM = "The server declared chunked encoding but sent an invalid chunk"


def _run_in(workdir: Path, options: FuzzOptions) -> FuzzResults:
    # In an empty directory, so that test_run_is_sane sees anything schemathesis would write (and replay) there.
    workdir.mkdir(parents=True)
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        return run_fuzz(options)
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-providers")


@pytest.fixture(scope="module")
def llamacpp_positive(llamacpp: Server, fuzz_dir: Path) -> Run:
    # tiny-tools: chat_format chatml-function-calling, so tool calls (and their deviations) happen.
    return _fuzz(
        "llamacpp_positive",
        fuzz_dir / "llamacpp-positive",
        llamacpp,
        model="tiny-tools",
        phases=("examples", "fuzzing"),
        max_examples=10,
        max_requests=60,
    )


@pytest.fixture(scope="module")
def llamacpp_negative(llamacpp: Server, fuzz_dir: Path) -> Run:
    # tiny (chat_format chatml), not tiny-tools: chatml-function-calling raises on a streamed tool_choice "required"
    # or "auto" after the 200 headers, and the coverage phase sends a dozen of those (see _fuzz on what that costs).
    return _fuzz(
        "llamacpp_negative",
        fuzz_dir / "llamacpp-negative",
        llamacpp,
        model="tiny",
        phases=("probes", "coverage"),
        max_examples=10,
        max_requests=120,
    )


@pytest.fixture(scope="module")
def litellm_positive(litellm: Server, fuzz_dir: Path) -> Run:
    return _fuzz(
        "litellm_positive",
        fuzz_dir / "litellm-positive",
        litellm,
        model="mock-gpt",
        api_key_env=LITELLM_KEY_ENV,  # the curl lines say $LITELLM_MASTER_KEY
        phases=("examples", "fuzzing"),
        max_examples=10,
        max_requests=60,
    )


@pytest.fixture(scope="module")
def litellm_negative(litellm: Server, fuzz_dir: Path) -> Run:
    return _fuzz(
        "litellm_negative",
        fuzz_dir / "litellm-negative",
        litellm,
        model="mock-gpt",  # no api_key_env: the curl lines say REDACTED
        phases=("probes", "coverage"),
        max_examples=10,
        max_requests=120,
    )


@pytest.fixture(scope="module")
def litellm_tools(litellm: Server, fuzz_dir: Path) -> Run:
    # mock-tools answers its one mock tool call to every non-streaming request.
    return _fuzz(
        "litellm_tools",
        fuzz_dir / "litellm-tools",
        litellm,
        model="mock-tools",
        api_key_env=LITELLM_KEY_ENV,
        phases=("examples",),
        max_requests=20,
    )


RUNS = ("llamacpp_positive", "llamacpp_negative", "litellm_positive", "litellm_negative", "litellm_tools")


@pytest.fixture(params=RUNS)
def run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------------- deviations


@dataclass(frozen=True)
class Deviation:
    """A provider deviation that ``run`` must report as ``code``.

    ``source``: where it is documented (PROVIDERS.md, a cassette expectation of pyproject.toml) or, for deviations
    these runs showed that neither lists, what in the provider causes it. ``path``: a regex that one of the finding's
    paths must match; ``status``/``mode``: what the finding's example must show.
    """

    run: str
    code: str
    deviation: str
    source: str
    path: str = r"\$"
    status: int | None = None
    mode: str | None = None
    #: False: it needs a request that the seeded fuzzer may or may not draw (a change of the generation schema
    #: changes the draw); such a deviation is then required in another run of the same provider.
    required: bool = True

    @property
    def provider(self) -> str:
        return self.run.split("_")[0]

    def __str__(self) -> str:
        return f"{self.run}-{self.code}: {self.deviation}"


PROVIDERS_MD = "PROVIDERS.md"
CASSETTE = "pyproject.toml per-cassette-expect"
N = r"\[\d+\]"

STREAM_FAILS_AFTER_HEADERS = (
    "a stream whose model call fails gets its 200 headers and an empty body: a tool_choice naming an undeclared "
    'tool, and with tiny-tools (chatml-function-calling) a streamed tool_choice "auto" or "required"'
)
STREAM_FAILS_SOURCE = (
    "not in PROVIDERS.md: llama_cpp/server/app.py runs the model inside the event publisher (ValueError 'Automatic "
    "streaming tool choice is not supported', the AssertionError behind PROVIDERS.md A's 500 for tool_choice \"any\")"
)
LITELLM_MOCK_CRASH = "an invalid parameter that reaches the mock crashes it: HTTP 500 (n: 1.0, response_format: 0)"
LITELLM_MOCK_CRASH_SOURCE = "not in PROVIDERS.md: 'Mock completion response failed', 'Unsupported response_format type'"
LITELLM_N2_STREAM = "an n = 2 stream finishes only choice 0"
LITELLM_N2_STREAM_SOURCE = "not in PROVIDERS.md: the last chunk has a finish_reason for index 0 only"
NO_REASONING = (
    "reasoning_effort is accepted and ignored: the model does not reason (no reasoning text, no reasoning_tokens); "
    "a warning, as providers may hide reasoning"
)
NO_REASONING_SOURCE = {
    "llamacpp": "not in PROVIDERS.md: a random-weight tiny GGUF, and llama-cpp-python has no reasoning parser",
    "litellm": "not in PROVIDERS.md: LiteLLM's mock models answer with their fixed mock_response",
}


def _no_reasoning(run: str, *, required: bool = True) -> Deviation:
    provider = run.split("_")[0]
    return Deviation(run, "CC412", NO_REASONING, NO_REASONING_SOURCE[provider], rf"\$\.choices{N}\.message", 200,
                     required=required)


# fmt: off
LLAMACPP_POSITIVE = (
    Deviation("llamacpp_positive", "CC101", "message has no refusal key (required and nullable in OpenAI's schema)",
              f"{CASSETTE}: cassettes/llamacpp/chat.yaml", rf"\$\.choices{N}\.message\.refusal", 200),
    Deviation("llamacpp_positive", "CC109", "stream deltas carry role, tool_calls and function_call as null",
              f"{CASSETTE}: cassettes/llamacpp/tool_call_stream.yaml",
              rf"\$\.choices{N}\.delta\.(role|tool_calls|function_call)", 200, "positive"),
    Deviation("llamacpp_positive", "CC313", "stream_options.include_usage is ignored",
              f"{PROVIDERS_MD} A; {CASSETTE}: cassettes/llamacpp/stream_include_usage.yaml", r"\$", 200, "positive"),
    Deviation("llamacpp_positive", "CC401", "n is ignored (one choice)",
              f"{PROVIDERS_MD} A; {CASSETTE}: cassettes/llamacpp/n2.yaml", r"\$\.choices", 200, "positive"),
    Deviation("llamacpp_positive", "CC207",
              "a named tool_choice with a free-string parameter runs to max_tokens: the arguments' JSON is cut off",
              f"{PROVIDERS_MD} A (what it does)",
              rf"\$\.choices{N}\.(message|delta)\.tool_calls{N}\.function\.arguments", 200, "positive"),
    Deviation("llamacpp_positive", "CC402",
              "max_completion_tokens is ignored (llama-cpp-python 0.3.36 only knows max_tokens): it generates to the "
              "end of the context", "not in PROVIDERS.md: llama_cpp/server/types.py has no max_completion_tokens",
              r"\$\.usage\.completion_tokens", 200, "positive"),
    Deviation("llamacpp_positive", "CC601", "invalid requests are accepted (a float or negative max_tokens...)",
              f"{PROVIDERS_MD} A (max_tokens: -5 is accepted)", r"\$", 200, "negative"),
    Deviation("llamacpp_positive", "CC602", "a malformed request gets HTTP 500, not 400",
              f"{PROVIDERS_MD} A", r"\$", 500, "negative"),
    Deviation("llamacpp_positive", "CC305", STREAM_FAILS_AFTER_HEADERS, STREAM_FAILS_SOURCE, r"\$", 200,
              required=False),
    Deviation("llamacpp_positive", "CC001", "a body that is not JSON gets a text/plain 500 \"Internal Server Error\"",
              f"{CASSETTE}: cassettes/llamacpp/error_malformed.yaml", r"\$", 500, "negative"),
    Deviation("llamacpp_positive", "CC007", "a body that is not JSON gets a text/plain 500 \"Internal Server Error\"",
              f"{CASSETTE}: cassettes/llamacpp/error_malformed.yaml", r"\$", 500, "negative"),
    _no_reasoning("llamacpp_positive"),
)
LLAMACPP_NEGATIVE = (
    Deviation("llamacpp_negative", "CC602", "a malformed request gets HTTP 500 (a Python traceback), not 400",
              f"{PROVIDERS_MD} A", r"\$", 500, "negative"),
    Deviation("llamacpp_negative", "CC001", "a body that is not JSON gets a text/plain 500 \"Internal Server Error\"",
              f"{CASSETTE}: cassettes/llamacpp/error_malformed.yaml", r"\$", 500, "negative"),
    Deviation("llamacpp_negative", "CC007", "a body that is not JSON gets a text/plain 500 \"Internal Server Error\"",
              f"{CASSETTE}: cassettes/llamacpp/error_malformed.yaml", r"\$", 500, "negative"),
    Deviation("llamacpp_negative", "CC601",
              "invalid requests are accepted: {\"max_tokens\": 12}, with neither model nor messages, gets 200",
              f"{PROVIDERS_MD} A (unknown model gets 200; max_tokens: -5 is accepted)", r"\$", 200, "negative"),
    Deviation("llamacpp_negative", "CC305", STREAM_FAILS_AFTER_HEADERS, STREAM_FAILS_SOURCE, r"\$", 200),
    Deviation("llamacpp_negative", "CC101", "message has no refusal key (required and nullable in OpenAI's schema)",
              f"{CASSETTE}: cassettes/llamacpp/chat.yaml", rf"\$\.choices{N}\.message\.refusal", 200),
    Deviation("llamacpp_negative", "CC401", "n is ignored (one choice)",
              f"{PROVIDERS_MD} A; {CASSETTE}: cassettes/llamacpp/n2.yaml", r"\$\.choices", 200, "positive"),
    Deviation("llamacpp_negative", "CC313", "stream_options.include_usage is ignored",
              f"{PROVIDERS_MD} A; {CASSETTE}: cassettes/llamacpp/stream_include_usage.yaml", r"\$", 200, "positive"),
    Deviation("llamacpp_negative", "CC109", "stream deltas carry role, tool_calls and function_call as null",
              f"{CASSETTE}: cassettes/llamacpp/tool_call_stream.yaml",
              rf"\$\.choices{N}\.delta\.(role|tool_calls|function_call)", 200),  # any mode: unknown keys are invalid
    Deviation("llamacpp_negative", "CC207",
              "a named tool_choice with a free-string parameter runs to max_tokens: the arguments' JSON is cut off",
              f"{PROVIDERS_MD} A (what it does)",
              rf"\$\.choices{N}\.(message|delta)\.tool_calls{N}\.function\.arguments", 200),  # any mode, as CC109
    Deviation("llamacpp_negative", "CC409",
              "the tiny alias (chat_format chatml) calls a tool only for a named tool_choice, not for \"required\"",
              f"{PROVIDERS_MD} A (tool calls come with chatml-function-calling: the tiny-tools alias)",
              rf"\$\.choices{N}\.message", 200, "positive"),
    _no_reasoning("llamacpp_negative", required=False),
    # adaptive generation leaves most optional fields out of the coverage phase's valid requests, so some reach the
    # model with max_completion_tokens 1 next to max_tokens 8, and get 8 tokens
    Deviation("llamacpp_negative", "CC402",
              "max_completion_tokens is ignored (llama-cpp-python 0.3.36 only knows max_tokens)",
              "not in PROVIDERS.md: llama_cpp/server/types.py has no max_completion_tokens",
              r"\$\.usage\.completion_tokens", 200, required=False),
)
LITELLM_POSITIVE = (
    Deviation("litellm_positive", "CC101",
              "no choices[].logprobs and no message.refusal key; stream chunks omit finish_reason",
              f"{PROVIDERS_MD} B (no logprobs key); {CASSETTE}: cassettes/litellm/chat.yaml, stream.yaml",
              rf"\$\.choices{N}\.(logprobs|message\.refusal|finish_reason)", 200),
    Deviation("litellm_positive", "CC402", "usage is a constant 10/20/30: completion_tokens exceeds max_tokens",
              f"{PROVIDERS_MD} B; {CASSETTE}: cassettes/litellm/max_tokens_small.yaml", r"\$\.usage\.completion_tokens",
              200, "positive"),
    Deviation("litellm_positive", "CC314", "the include_usage chunk carries a choice (OpenAI: choices [])",
              f"{CASSETTE}: cassettes/litellm/stream_include_usage.yaml", r"\$\.usage", 200, "positive"),
    Deviation("litellm_positive", "CC409", "the mock answers its text whatever tool_choice requires",
              f"{PROVIDERS_MD} B (mock_response)", rf"\$\.choices{N}\.message", 200, "positive"),
    Deviation("litellm_positive", "CC410", "the mock answers its text whatever the stop sequences",
              f"{PROVIDERS_MD} B (mock_response)", rf"\$\.choices{N}\.message\.content", 200, "positive"),
    Deviation("litellm_positive", "CC404", "the mock answers its text whatever the response_format",
              f"{PROVIDERS_MD} B (mock_response)", rf"\$\.choices{N}\.message\.content", 200, "positive"),
    Deviation("litellm_positive", "CC504", "error code is the status as a string (\"400\")",
              f"{PROVIDERS_MD} B; {CASSETTE}: cassettes/litellm/error_unknown_model.yaml", r"\$\.error\.code", 400),
    Deviation("litellm_positive", "CC601", "requests are not validated: a float max_tokens, a string temperature...",
              "not in PROVIDERS.md: the proxy passes parameters to the mock unchecked", r"\$", 200, "negative"),
    Deviation("litellm_positive", "CC309", LITELLM_N2_STREAM, LITELLM_N2_STREAM_SOURCE, rf"\$\.choices{N}", 200,
              required=False),
    Deviation("litellm_positive", "CC602", LITELLM_MOCK_CRASH, LITELLM_MOCK_CRASH_SOURCE, r"\$", 500, "negative",
              required=False),
    _no_reasoning("litellm_positive"),
)
LITELLM_NEGATIVE = (
    Deviation("litellm_negative", "CC101", "stream chunks omit finish_reason (required, null until the last chunk)",
              f"{CASSETTE}: cassettes/litellm/stream.yaml", rf"\$\.choices{N}\.finish_reason", 200),
    Deviation("litellm_negative", "CC309", LITELLM_N2_STREAM, LITELLM_N2_STREAM_SOURCE, rf"\$\.choices{N}", 200),
    Deviation("litellm_negative", "CC314", "the include_usage chunk carries a choice (OpenAI: choices [])",
              f"{CASSETTE}: cassettes/litellm/stream_include_usage.yaml", r"\$\.usage", 200, "positive"),
    Deviation("litellm_negative", "CC402", "usage is a constant 10/20/30 (streamed: re-counted, still above the cap)",
              f"{PROVIDERS_MD} B", r"\$\.usage\.completion_tokens", 200, "positive"),
    Deviation("litellm_negative", "CC404", "the mock answers its text whatever the response_format",
              f"{PROVIDERS_MD} B (mock_response)", rf"\$\.choices{N}\.message\.content", 200, "positive"),
    Deviation("litellm_negative", "CC409", "the mock answers its text whatever tool_choice requires",
              f"{PROVIDERS_MD} B (mock_response)", rf"\$\.choices{N}\.message", 200, "positive"),
    Deviation("litellm_negative", "CC410", "the mock answers its text whatever the stop sequences",
              f"{PROVIDERS_MD} B (mock_response)", rf"\$\.choices{N}\.message\.content", 200, "positive"),
    Deviation("litellm_negative", "CC504", "error code is the status as a string (\"400\")",
              f"{PROVIDERS_MD} B; {CASSETTE}: cassettes/litellm/error_unknown_model.yaml", r"\$\.error\.code", 400),
    Deviation("litellm_negative", "CC505", "a missing key gets \"param\": \"None\" (the string)",
              f"{PROVIDERS_MD} B; {CASSETTE}: cassettes/litellm/error_auth.yaml", r"\$\.error\.param", 401),
    Deviation("litellm_negative", "CC601", "requests are not validated: wrong types, missing tool fields...",
              "not in PROVIDERS.md: the proxy passes parameters to the mock unchecked", r"\$", 200, "negative"),
    Deviation("litellm_negative", "CC602", LITELLM_MOCK_CRASH, LITELLM_MOCK_CRASH_SOURCE, r"\$", 500, "negative"),
    Deviation("litellm_negative", "CC414", "logprobs: true (a probe) is ignored: the choice has no logprobs key",
              f"{PROVIDERS_MD} B (choices have no logprobs key)", rf"\$\.choices{N}\.logprobs", 200, "positive"),
    Deviation("litellm_negative", "CC214", "n: 0 (a probe) is accepted and answered with an empty choices list",
              "not in PROVIDERS.md: the mock makes n choices, whatever n is", r"\$\.choices", 200, "negative"),
    _no_reasoning("litellm_negative", required=False),
)
LITELLM_TOOLS = (
    Deviation("litellm_tools", "CC206", "finish_reason is always stop, also with tool calls",
              f"{PROVIDERS_MD} B; {CASSETTE}: cassettes/litellm/tool_calls.yaml", rf"\$\.choices{N}\.finish_reason",
              200, "positive"),
    Deviation("litellm_tools", "CC409", "streaming ignores mock_tool_calls (no call despite tool_choice)",
              f"{PROVIDERS_MD} B; {CASSETTE}: cassettes/litellm/tool_calls_stream.yaml", rf"\$\.choices{N}\.message",
              200, "positive"),
    Deviation("litellm_tools", "CC308", "a stream's first delta has no role (mock-tools streams one empty chunk)",
              f"{CASSETTE}: cassettes/litellm/tool_calls_stream.yaml", rf"\$\.choices{N}\.delta", 200, "positive"),
    Deviation("litellm_tools", "CC313", "mock-tools' stream (one empty chunk) has no usage chunk, even when asked",
              "not in PROVIDERS.md: streaming ignores mock_tool_calls and the usage option", r"\$", 200, "positive"),
    Deviation("litellm_tools", "CC402", "usage is a constant 10/20/30: completion_tokens exceeds max_tokens",
              f"{PROVIDERS_MD} B", r"\$\.usage\.completion_tokens", 200, "positive"),
    Deviation("litellm_tools", "CC101", "no choices[].logprobs and no message.refusal key",
              f"{PROVIDERS_MD} B; {CASSETTE}: cassettes/litellm/tool_calls.yaml",
              rf"\$\.choices{N}\.(logprobs|message\.refusal|finish_reason)", 200, "positive"),
    Deviation("litellm_tools", "CC407", "the mock calls get_weather also when the request declares no tools",
              f"{PROVIDERS_MD} B (mock_tool_calls: one fixed answer)",
              rf"\$\.choices{N}\.message\.tool_calls{N}\.function\.name", 200, "positive"),
    Deviation("litellm_tools", "CC408", "the mock's arguments (city, unit) do not fit the declared parameters (city)",
              f"{PROVIDERS_MD} B (mock_tool_calls: one fixed answer)",
              rf"\$\.choices{N}\.message\.tool_calls{N}\.function\.arguments", 200, "positive"),
    _no_reasoning("litellm_tools", required=False),
)
# fmt: on
DEVIATIONS = LLAMACPP_POSITIVE + LLAMACPP_NEGATIVE + LITELLM_POSITIVE + LITELLM_NEGATIVE + LITELLM_TOOLS


def _required(run_name: str) -> set[str]:
    return {d.code for d in DEVIATIONS if d.run == run_name and d.required}


def _allowed(run_name: str) -> set[str]:
    return {d.code for d in DEVIATIONS if d.run == run_name}


# ------------------------------------------------------------------------------------------------------- sanity


def test_run_is_sane(run: Run) -> None:
    r, o = run.results, run.options
    assert r.requests > 0, run.summary()
    assert r.requests <= o.max_requests, run.summary()  # the budget held
    assert r.stop_reason in ("completed", "max_requests"), run.summary()
    assert not r.errors, run.summary() + "\n" + "\n".join(r.errors)
    assert r.statuses.get("none", 0) == 0, run.summary()  # every request got an answer
    assert r.streams > 0, run.summary()  # streams were checked
    assert any(s.startswith("2") for s in r.statuses), run.summary()
    assert sum(r.statuses.values()) == r.positive + r.negative, run.summary()
    assert r.dialect == "openai" and r.seed == SEED and r.model == o.model
    for workdir in run.workdirs:  # no request cache, no example database: nothing to replay into the next run
        assert not any(workdir.iterdir()), sorted(p.name for p in workdir.iterdir())


@pytest.mark.parametrize("provider", ["llamacpp", "litellm"])
def test_provider_answers_2xx_and_4xx(provider: str, request: pytest.FixtureRequest) -> None:
    runs = [request.getfixturevalue(name) for name in RUNS if name.startswith(provider)]
    statuses = {s for r in runs for s in r.results.statuses}
    assert any(s.startswith("2") for s in statuses), statuses
    assert any(s.startswith("4") for s in statuses), statuses
    assert sum(r.results.positive for r in runs) > 0 and sum(r.results.negative for r in runs) > 0


def test_coverage_runs_spend_their_budget(llamacpp_negative: Run, litellm_negative: Run) -> None:
    # The coverage phase has more cases than the budget: it stops at exactly max_requests.
    for run in (llamacpp_negative, litellm_negative):
        assert run.results.stop_reason == "max_requests", run.summary()
        # the preflight's two requests (GET /v1/models, one plain request) count toward the budget
        assert run.results.requests == run.options.max_requests - 2 * run.options.preflight, run.summary()


def test_no_finding_comes_from_a_method_outside_the_contract(run: Run) -> None:
    # The coverage phase sends TRACE, OPTIONS, PUT...: both servers refuse them with 405, which CC606 accepts.
    if run.name.endswith("negative"):
        assert run.results.statuses.get("405", 0) > 0, run.summary()
    assert "CC606" not in run.codes, run.summary()
    for f in run.results.findings:
        assert f.example is not None and f.example.request["method"] == "POST", (f.code, f.example)


#: What each provider does with chatcontract's 9 OpenAI probes (a probes-only run, model "tiny" / "mock-gpt"):
#: finding code -> how many probes show it.
PROBE_FINDINGS = {
    # PROVIDERS.md A: the unknown model, max_tokens -5 and 0, n 0, both temperatures and Mistral's random_seed /
    # safe_prompt are all answered 200 (7 x CC601); Mistral's tool_choice "any" gets 500 (CC602); logprobs are
    # returned (no CC414); every 200 lacks message.refusal (CC101, cassettes/llamacpp/chat.yaml).
    "llamacpp": {"CC101": 8, "CC601": 7, "CC602": 1},
    # PROVIDERS.md B: the unknown model gets 400 with code "400" (CC504); the six other invalid probes are answered
    # 200 (CC601), n: 0 with an empty choices list (CC214); logprobs are ignored (CC414) and usage is a constant
    # 10/20/30 (CC402, the one valid probe); no message.refusal, no logprobs key (CC101).
    "litellm": {"CC101": 7, "CC214": 1, "CC402": 1, "CC414": 1, "CC504": 1, "CC601": 7},
}


@pytest.mark.parametrize("provider", ["llamacpp", "litellm"])
def test_probes_find_the_known_deviations(provider: str, fuzz_dir: Path, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(provider)
    run = _fuzz(
        f"{provider}_probes",
        fuzz_dir / f"{provider}-probes",
        server,
        model="tiny" if provider == "llamacpp" else "mock-gpt",
        phases=("probes",),
        max_requests=20,
    )
    assert run.results.requests == len(probe_requests("openai", run.options.model, MAX_TOKENS_CAP))
    assert {f.code: f.count for f in run.results.findings} == PROBE_FINDINGS[provider], run.summary()
    assert all(f.example is not None and f.example.phase == "probes" for f in run.results.findings)


#: What each provider does with the pairwise phase's valid requests (model "tiny" / "mock-gpt"): the codes every
#: such run shows (each tied to a request feature, so the same rows show it whatever the model writes), and the ones
#: that depend on what the tiny random-weight model happens to generate.
PAIRWISE_REQUIRED = {
    # llama-cpp-python: no message.refusal (CC101, cassettes/llamacpp/chat.yaml); include_usage ignored (CC313) and
    # n ignored (CC401), PROVIDERS.md A; top_logprobs: 2 answered with 3 alternatives per token (CC414; not in
    # PROVIDERS.md: llama_cpp's logprobs come from its own top-k); response_format json_schema answered 500, a
    # pydantic "Input should be 'text' or 'json_object'" (CC602; not in PROVIDERS.md: llama_cpp/server/types.py
    # knows text and json_object only), so that feature is in no answered request.
    "llamacpp": {"CC101", "CC313", "CC401", "CC414", "CC602"},
    # LiteLLM's mocks, PROVIDERS.md B: no logprobs/refusal keys, stream chunks without finish_reason (CC101); an
    # n = 2 stream finishes choice 0 only (CC309); the include_usage chunk carries a choice (CC314); usage a constant
    # 10/20/30 (CC402); the mock text whatever response_format (CC404) or tool_choice (CC409) ask; logprobs: true
    # ignored (CC414).
    "litellm": {"CC101", "CC309", "CC314", "CC402", "CC404", "CC409", "CC414"},
}
PAIRWISE_MAY = {
    # what the tiny model generates: stream deltas with null function_call (CC109) and cut-off tool arguments
    # (CC207) when it calls the tool, text for tool_choice "required" (CC409, the tiny alias's chatml), and a row
    # with max_completion_tokens that runs to the end of the context (CC402: llama-cpp-python ignores it)
    "llamacpp": {"CC109", "CC207", "CC402", "CC409"},
    "litellm": set(),
}
PAIRWISE_UNANSWERED = {"llamacpp": ["response_format=json_schema"], "litellm": []}


@pytest.mark.parametrize("provider", ["llamacpp", "litellm"])
def test_pairwise_tests_every_feature(provider: str, fuzz_dir: Path, request: pytest.FixtureRequest) -> None:
    """The pairwise phase puts every request feature in valid requests; the positive runs leave several out."""
    server: Server = request.getfixturevalue(provider)
    run = _fuzz(
        f"{provider}_pairwise",
        fuzz_dir / f"{provider}-pairwise",
        server,
        model="tiny" if provider == "llamacpp" else "mock-gpt",
        api_key_env=LITELLM_KEY_ENV if provider == "litellm" else None,
        phases=("pairwise",),
        max_requests=40,
    )
    rows = len(pairwise_rows("openai", SEED))
    r, cov = run.results, run.results.coverage
    assert r.requests == rows and r.positive == rows and r.negative == 0, run.summary()
    assert cov is not None and cov.valid == rows, run.summary()
    for feature in known_features("openai"):  # every feature went out in a valid request
        assert any(row.feature == feature and row.valid for row in cov.features), (feature, run.summary())
    assert cov.unanswered() == PAIRWISE_UNANSWERED[provider], run.summary()
    assert PAIRWISE_REQUIRED[provider] <= run.codes <= PAIRWISE_REQUIRED[provider] | PAIRWISE_MAY[provider], (
        run.summary()
    )
    assert all(f.example is not None and f.example.phase == "pairwise" for f in r.findings)


def test_every_finding_has_a_reproducible_example(run: Run) -> None:
    for f in run.results.findings:
        ex = f.example
        assert ex is not None, f.code
        # a body that is not UTF-8 text (the coverage phase sends some) is piped in from printf, byte for byte
        assert re.match(r"(printf '.*' \| )?curl -X ", ex.curl), ex.curl
        assert run.options.root_url in ex.curl, ex.curl
        assert ex.mode in ("positive", "negative"), (f.code, ex.mode)
        assert ex.response is not None and isinstance(ex.response["status"], int), f.code
        assert f.count >= 1 and f.paths, f.code


def test_api_key_never_appears(run: Run) -> None:
    if run.key is None:  # llama.cpp takes no key: no Authorization header at all
        assert all("authorization" not in f.example.curl.lower() for f in run.results.findings if f.example)
        return
    text = run.results.to_json()
    assert run.key not in text  # not in curl lines, request headers, bodies or error messages
    assert run.key not in run.path.read_text("utf-8")
    placeholder = f"${LITELLM_KEY_ENV}" if run.options.api_key_env else "REDACTED"
    authorized = [f.example.curl for f in run.results.findings if f.example and "Authorization" in f.example.curl]
    assert authorized, "no example carried the key"
    for curl in authorized:
        assert f"Authorization: Bearer {placeholder}" in curl, curl
        if run.options.api_key_env:  # double quotes: the shell expands $LITELLM_MASTER_KEY
            assert f'"Authorization: Bearer ${LITELLM_KEY_ENV}"' in curl, curl


# --------------------------------------------------------------------------------------------------- deviations


@pytest.mark.parametrize("dev", DEVIATIONS, ids=str)
def test_known_deviation_is_found_by_its_rule(dev: Deviation, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(dev.run)
    finding = run.finding(dev.code)
    if not dev.required:
        # Depends on the draw: another run of the provider must find it for sure (that run's own case asserts it),
        # and where this run drew it, it must be found as described below.
        assert any(d.required and d.code == dev.code and d.provider == dev.provider for d in DEVIATIONS), dev
        if finding is None:
            return
    assert finding is not None, f"{dev} ({dev.source}) was not found\n{run.summary()}"
    assert any(re.fullmatch(dev.path, p) for p in finding.paths), (finding.paths, dev.path)
    ex = finding.example
    assert ex is not None
    if dev.status is not None:
        assert ex.response is not None and ex.response["status"] == dev.status, (ex.response, ex.curl)
    if dev.mode is not None:
        assert ex.mode == dev.mode, (ex.mode, ex.curl)


def test_findings_are_exactly_the_known_deviations(run: Run) -> None:
    # Required: every deviation listed for this run (some only allowed, see `required`). Anything else is a
    # regression in our rules or a change in the provider.
    found = run.codes
    missing = _required(run.name) - found
    unexplained = found - _allowed(run.name)
    assert not missing and not unexplained, f"missing {sorted(missing)}, unexplained {sorted(unexplained)}\n" + (
        run.summary()
    )
