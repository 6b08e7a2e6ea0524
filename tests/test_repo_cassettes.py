"""The committed ``cassettes/``: recorded from the real providers by ``python3 -m scripts.record_cassettes``.

These tests read the committed files only: they need neither llama-cpp-python nor LiteLLM installed.

- the pytest plugin collects them and every item passes, thanks to ``[tool.chatcontract.per-cassette-expect]`` in
  pyproject.toml, whose ``expectations`` items also prove each expected finding still occurs;
- they hold no secret (the LiteLLM master key was sent with every authenticated request);
- each known deviation of each provider (the providers' documented behaviour and issue trackers) is found by its rule
  in its cassette, and every finding in the cassettes is one of those deviations (:data:`DETECTED`); the deviations
  no rule can see are at least in the recording (:data:`UNDETECTED`);
- the recorded SSE bodies are faithful: complete event streams that end with ``data: [DONE]``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from chatcontract.cassettes import PLACEHOLDER, audit, iter_cassette_files, load_cassette
from chatcontract.config import load_config
from chatcontract.sse import parse_sse
from scripts.record_cassettes import SCENARIOS, scenario_paths

from ._repo_cassettes import CASSETTES, REPO, check_cassette, codes_by_cassette, relpaths


def _pyproject_tables() -> dict[str, Any]:
    """The repository's ``[tool.chatcontract]`` cassette tables, read as the plugin reads them."""
    config = load_config(REPO)
    assert config.source == REPO / "pyproject.toml"
    return dict(config.cassette_tables)


def _interaction(relpath: str, index: int) -> Any:
    return load_cassette(CASSETTES / relpath).interactions[index]


def _result(relpath: str, index: int) -> Any:
    for it, result in check_cassette(CASSETTES / relpath):
        if it.index == index:
            return result
    raise AssertionError(f"{relpath} has no chat interaction {index}")


# ---------------------------------------------------------------------------------------------- the deviations


@dataclass(frozen=True)
class Deviation:
    """A provider deviation found by ``code``, at a path matching ``path`` (a regex), in ``cassette[interaction]``.

    ``listed``: a deviation the provider's own documentation or issue tracker describes; the others are real
    deviations from OpenAI's published schema that the recordings showed (llama.cpp's non-streaming responses pass
    the openai SDK's models, not OpenAI's OpenAPI document, which requires ``message.refusal``).
    """

    provider: str
    deviation: str
    code: str
    cassette: str
    interaction: int
    path: str
    listed: bool = True

    def __str__(self) -> str:
        return f"{self.provider}: {self.deviation} -> {self.code} in {self.cassette}[{self.interaction}]"


N = r"\[\d+\]"  # any choice index
DETECTED: tuple[Deviation, ...] = (
    # llama-cpp-python's server
    Deviation("llamacpp", "n is ignored (one choice)", "CC401", "llamacpp/n2.yaml", 0, r"\$\.choices"),
    Deviation("llamacpp", "stream_options.include_usage is ignored", "CC313",
              "llamacpp/stream_include_usage.yaml", 0, r"\$"),
    Deviation("llamacpp", "a request that is not JSON gets a text/plain 500 \"Internal Server Error\"", "CC001",
              "llamacpp/error_malformed.yaml", 3, r"\$", listed=False),
    Deviation("llamacpp", "a request that is not JSON gets a text/plain 500 \"Internal Server Error\"", "CC007",
              "llamacpp/error_malformed.yaml", 3, r"\$", listed=False),
    Deviation("llamacpp", "message has no refusal key (required and nullable)", "CC101", "llamacpp/chat.yaml", 0,
              rf"\$\.choices{N}\.message\.refusal", listed=False),
    Deviation("llamacpp", "stream deltas carry role, tool_calls and function_call as null", "CC109",
              "llamacpp/tool_call_stream.yaml", 0, rf"\$\.choices{N}\.delta\.(role|tool_calls|function_call)",
              listed=False),
    # LiteLLM proxy
    Deviation("litellm", "usage is a constant 10/20/30: completion_tokens exceeds max_tokens", "CC402",
              "litellm/max_tokens_small.yaml", 0, r"\$\.usage\.completion_tokens"),
    Deviation("litellm", "finish_reason is always stop, also with tool calls", "CC206", "litellm/tool_calls.yaml", 0,
              rf"\$\.choices{N}\.finish_reason"),
    Deviation("litellm", "choices have no logprobs key", "CC101", "litellm/chat.yaml", 0,
              rf"\$\.choices{N}\.logprobs"),
    Deviation("litellm", "error code is the status as a string (\"400\")", "CC504",
              "litellm/error_unknown_model.yaml", 0, r"\$\.error\.code"),
    Deviation("litellm", "error code is the status as a string (\"429\")", "CC504", "litellm/error_rate_limit.yaml",
              0, r"\$\.error\.code"),
    Deviation("litellm", "a missing key gets \"param\": \"None\" (the string)", "CC505", "litellm/error_auth.yaml", 0,
              r"\$\.error\.param"),
    Deviation("litellm", "streaming ignores mock_tool_calls (no call despite the named tool_choice)", "CC409",
              "litellm/tool_calls_stream.yaml", 0, rf"\$\.choices{N}\.message"),
    Deviation("litellm", "when proxying, streamed usage is re-computed by LiteLLM's tokenizer", "CC402",
              "litellm/proxy_llamacpp_stream.yaml", 1, r"\$\.usage\.completion_tokens"),
    Deviation("litellm", "message has no refusal key (required and nullable)", "CC101", "litellm/chat.yaml", 0,
              rf"\$\.choices{N}\.message\.refusal", listed=False),
    Deviation("litellm", "stream chunks omit finish_reason (required, null until the last chunk)", "CC101",
              "litellm/stream.yaml", 0, rf"\$\.choices{N}\.finish_reason", listed=False),
    Deviation("litellm", "the include_usage chunk carries a choice (OpenAI: choices [])", "CC314",
              "litellm/stream_include_usage.yaml", 0, r"\$\.usage", listed=False),
    Deviation("litellm", "a stream's first delta has no role (mock-tools streams one empty chunk)", "CC308",
              "litellm/tool_calls_stream.yaml", 0, rf"\$\.choices{N}\.delta", listed=False),
)


@pytest.mark.parametrize("dev", DETECTED, ids=str)
def test_deviation_is_found_by_its_rule(dev: Deviation) -> None:
    assert dev.cassette.startswith(f"{dev.provider}/")
    result = _result(dev.cassette, dev.interaction)
    found = [(v.code, v.path) for v in result.report.violations]
    assert any(code == dev.code and re.fullmatch(dev.path, path) for code, path in found), found


def test_every_finding_is_a_known_deviation() -> None:
    # Every finding in every cassette is explained by a row of DETECTED (same provider, code and path shape): an
    # expected code in pyproject.toml cannot hide another problem with the same code.
    unexplained = []
    for path in iter_cassette_files(CASSETTES):
        provider = path.parent.name
        for it, result in check_cassette(path):
            for v in result.report.violations:
                if not any(d.provider == provider and d.code == v.code and re.fullmatch(d.path, v.path)
                           for d in DETECTED):
                    unexplained.append(f"{path.relative_to(CASSETTES)}[{it.index}]: {v.code} at {v.path}: {v.message}")
    assert not unexplained, "\n".join(unexplained)


def _error(it: Any) -> dict[str, Any]:
    return dict(json.loads(it.response.body)["error"])


def _message(it: Any) -> dict[str, Any]:
    return dict(json.loads(it.response.body)["choices"][0]["message"])


@dataclass(frozen=True)
class Undetected:
    """A known provider deviation no rule can see: ``shows`` proves it is in the recording; ``codes`` are all the
    findings of that interaction (other deviations), so a new rule that starts reporting it fails this test."""

    provider: str
    deviation: str
    cassette: str
    interaction: int
    shows: Callable[[Any], bool]
    codes: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"{self.provider}: {self.deviation} ({self.cassette}[{self.interaction}])"


UNDETECTED: tuple[Undetected, ...] = (
    # A valid OpenAI error envelope: no rule knows the request was the client's fault or reads the message text.
    Undetected("llamacpp", "a malformed request gets HTTP 500 (not 400) with a Python traceback",
               "llamacpp/error_malformed.yaml", 0,
               lambda it: it.response.status == 500 and 'File "' in _error(it)["message"]),
    Undetected("llamacpp", "a message without content gets HTTP 500 with a traceback",
               "llamacpp/error_malformed.yaml", 1,
               lambda it: it.response.status == 500 and 'File "' in _error(it)["message"]),
    Undetected("llamacpp", "Mistral's tool_choice \"any\" gets HTTP 500", "llamacpp/error_malformed.yaml", 2,
               lambda it: it.request.json["tool_choice"] == "any" and it.response.status == 500),
    # The response echoes the requested name, so model-echo-mismatch (CC411) has nothing to say.
    Undetected("llamacpp", "an unknown model name gets 200", "llamacpp/error_unknown_model.yaml", 0,
               lambda it: it.response.status == 200
               and json.loads(it.response.body)["model"] == it.request.json["model"] == "no-such-model",
               frozenset({"CC101"})),
    # OpenAI's schema still declares the deprecated message.function_call.
    Undetected("llamacpp", "tool-call responses also carry the deprecated function_call", "llamacpp/tool_call.yaml", 0,
               lambda it: _message(it)["tool_calls"][0]["function"] == _message(it)["function_call"],
               frozenset({"CC101"})),
    Undetected("litellm", "an unknown model gets 400 (OpenAI: 404)", "litellm/error_unknown_model.yaml", 0,
               lambda it: it.response.status == 400 and "Invalid model name" in _error(it)["message"],
               frozenset({"CC504"})),
    Undetected("litellm", "max_tokens is ignored: finish_reason stop, the whole mock text",
               "litellm/max_tokens_small.yaml", 0,
               lambda it: json.loads(it.response.body)["choices"][0]["finish_reason"] == "stop"
               and _message(it)["content"] == "Hello from the LiteLLM mock.",
               frozenset({"CC101", "CC402"})),
)


@pytest.mark.parametrize("dev", UNDETECTED, ids=str)
def test_undetectable_deviation_is_in_the_recording(dev: Undetected) -> None:
    it = _interaction(dev.cassette, dev.interaction)
    assert dev.shows(it)
    assert {v.code for v in _result(dev.cassette, dev.interaction).report.violations} == dev.codes


def test_every_provider_has_deviations_on_record() -> None:
    listed = {d.provider for d in DETECTED if d.listed} | {d.provider for d in UNDETECTED}
    assert listed == {"llamacpp", "litellm"}


# ------------------------------------------------------------------------------------ pyproject expectations


def _expected_codes(relpath: str) -> set[str]:
    table = _pyproject_tables().get("per-cassette-expect", {})
    target = f"cassettes/{relpath}"
    return {code for glob, codes in table.items() if fnmatch.fnmatch(target, glob) for code in codes}


def test_pyproject_expectations_are_exactly_the_findings() -> None:
    # Exhaustive (nothing fails) and not stale (each expected code occurs), per cassette, warnings included.
    found = codes_by_cassette(CASSETTES)
    wrong = {rel: {"found": sorted(codes), "expected": sorted(_expected_codes(rel))}
             for rel, codes in found.items() if codes != _expected_codes(rel)}
    assert not wrong, json.dumps(wrong, indent=1)


def test_pyproject_cassette_globs_match_committed_files() -> None:
    tables = _pyproject_tables()
    files = [f"cassettes/{rel}" for rel in relpaths(CASSETTES)]
    for key in ("per-cassette-expect", "per-cassette-dialect"):
        for glob in tables.get(key, {}):
            assert fnmatch.filter(files, glob), f"{key} {glob!r} matches no committed cassette"
    assert all(fnmatch.fnmatch(f, "cassettes/**") for f in files)
    assert tables["per-cassette-dialect"] == {"cassettes/**": "openai"}


def test_plugin_items_all_pass() -> None:
    # `pytest cassettes/` in the repository (its pyproject.toml): the cassettes are recognised by their content.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "cassettes/", "-p", "no:cacheprovider", "-q", "-rA", "--color=no"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    passed = set(re.findall(r"^PASSED (cassettes/\S+)", proc.stdout, re.M))
    chat = {f"cassettes/{rel}::interaction[{it.index}]" for rel in relpaths(CASSETTES)
            for it in load_cassette(CASSETTES / rel).interactions if it.is_chat}
    expectations = {f"cassettes/{rel}::expectations" for rel in relpaths(CASSETTES) if _expected_codes(rel)}
    assert passed == chat | expectations, out
    assert len(expectations) >= 15
    assert re.search(rf"\b{len(chat | expectations)} passed\b", out), out


# ------------------------------------------------------------------------------------------ secrets, scenarios


def test_audit_is_clean() -> None:
    assert audit(CASSETTES) == []


def test_keys_were_sent_and_scrubbed() -> None:
    # LiteLLM needs its master key: every request but the deliberately unauthenticated ones sent one, and the
    # cassette keeps the header with the placeholder. llama.cpp takes no key: none was sent.
    sent = 0
    for scenario in SCENARIOS:
        cassette = load_cassette(CASSETTES / scenario.relpath)
        for call, it in zip(scenario.calls, cassette.interactions, strict=True):
            auth = it.request.header("authorization")
            if scenario.provider == "litellm" and call.auth != "none":
                assert auth == PLACEHOLDER, (scenario.relpath, it.index)
                sent += 1
            else:
                assert auth is None, (scenario.relpath, it.index)
    assert sent >= 15
    for path in iter_cassette_files(CASSETTES):
        assert "Bearer " not in path.read_text(), path


def test_committed_cassettes_are_the_recording_scenarios() -> None:
    assert relpaths(CASSETTES) == sorted(scenario_paths())
    for scenario in SCENARIOS:
        cassette = load_cassette(CASSETTES / scenario.relpath)
        got = [(it.is_chat, it.request.body, it.response.status) for it in cassette.interactions]
        want = [(True, call.content(), call.status) for call in scenario.calls]
        assert got == want, scenario.relpath
        # The servers' ports were pinned while recording.
        port = {"llamacpp": 8000, "litellm": 4000}[scenario.provider]
        assert all(it.request.uri == f"http://127.0.0.1:{port}/v1/chat/completions" for it in cassette.interactions)


def test_cassettes_are_small() -> None:
    sizes = {p.name: p.stat().st_size for p in iter_cassette_files(CASSETTES)}
    assert sum(sizes.values()) < 256 * 1024, sizes
    assert max(sizes.values()) < 64 * 1024, sizes


# ------------------------------------------------------------------------------------------------------ streams


def _stream_interactions() -> list[tuple[str, Any]]:
    out = []
    for rel in relpaths(CASSETTES):
        for it in load_cassette(CASSETTES / rel).interactions:
            if (it.request.json or {}).get("stream"):
                out.append((f"{rel}[{it.index}]", it))
    return out


STREAMS = _stream_interactions()


def test_stream_scenarios_are_recorded() -> None:
    names = {name.split("[")[0] for name, _ in STREAMS}
    assert names == {
        "llamacpp/stream.yaml", "llamacpp/stream_include_usage.yaml", "llamacpp/tool_call_stream.yaml",
        "litellm/stream.yaml", "litellm/stream_include_usage.yaml", "litellm/tool_calls_stream.yaml",
        "litellm/proxy_llamacpp_stream.yaml",
    }
    assert len(STREAMS) == 8


@pytest.mark.parametrize(("name", "it"), STREAMS, ids=[name for name, _ in STREAMS])
def test_stream_is_recorded_faithfully(name: str, it: Any) -> None:
    assert it.response.status == 200
    assert it.response.content_type == "text/event-stream"
    body = it.response.body
    assert body.rstrip().endswith(b"data: [DONE]")
    assert body.endswith(b"\n\n")  # the last event is terminated: nothing was cut off
    events, anomalies = parse_sse(body)
    assert anomalies == []
    assert events[-1].data == "[DONE]"
    assert sum(e.data == "[DONE]" for e in events) == 1
    chunks = [json.loads(e.data) for e in events[:-1]]
    assert chunks
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert any(ch.get("finish_reason") for c in chunks for ch in c["choices"])
