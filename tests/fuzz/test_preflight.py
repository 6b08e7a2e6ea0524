"""The preflight of a fuzz run against real servers: it passes, it warns and goes on, or it stops the run (exit 2).

The reference provider (uvicorn on 127.0.0.1) and the raw-socket server of ``_misbehaving`` (a model list naming
another model, no ``/v1/models`` at all): nothing here mocks an HTTP exchange.
"""

from __future__ import annotations

import json

import pytest

from chatcontract import ProviderError, UsageError
from chatcontract.cli import main
from chatcontract.fuzz.options import FuzzOptions
from chatcontract.fuzz.preflight import preflight, provider_reason
from chatcontract.fuzz.runner import PreflightRefused, run_fuzz
from chatcontract.provider.server import serve

from ._misbehaving import misbehaving


def test_listed_model_answered_passes_without_notes() -> None:
    with serve(dialect="mistral", seed=1) as provider:
        result = preflight(FuzzOptions(base_url=provider.base_url, model="ref-small"))
    assert result.models == ["ref-small", "ref-large", "ref-reasoner"]
    assert result.notes == []


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_unknown_model_stops_the_run_with_the_providers_words(dialect: str, capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect=dialect, seed=1) as provider:
        code = main(["fuzz", provider.base_url, "--model", "m", "--dialect", dialect, "--quiet"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""  # nothing was fuzzed, so there is no summary
    words = "Invalid model: m" if dialect == "mistral" else "The model `m` does not exist"
    assert f"model 'm' rejected: {words}" in captured.err
    assert "the provider lists ref-small, ref-large, ref-reasoner" in captured.err


def test_model_missing_from_the_list_is_a_note_and_the_run_goes_on() -> None:
    with misbehaving("ok") as server:
        results = run_fuzz(
            FuzzOptions(base_url=server.base_url, model="m", seed=1, max_examples=2, phases=("examples",))
        )
    assert "preflight: model 'm' is not among the models the provider lists (other-model)" in results.notes
    assert results.statuses.get("200", 0) >= 1


def test_provider_without_a_model_list_is_said_and_the_run_goes_on() -> None:
    with misbehaving("no-models") as server:
        results = run_fuzz(
            FuzzOptions(base_url=server.base_url, model="m", seed=1, max_examples=2, phases=("examples",))
        )
    assert results.notes == ["preflight: the provider has no GET /v1/models (404): the model name was not checked"]
    assert results.statuses.get("200", 0) >= 1


def test_refused_plain_request_for_an_unlisted_model_names_the_listed_ones() -> None:
    with misbehaving("forbidden") as server, pytest.raises(PreflightRefused) as failed:
        run_fuzz(FuzzOptions(base_url=server.base_url, model="m", max_examples=2))
    assert str(failed.value) == "model 'm' rejected: model blocked by policy; the provider lists other-model"
    assert isinstance(failed.value, ProviderError)
    # the run's results all the same (the command writes them): nothing fuzzed, and why
    results = failed.value.results
    assert results.stop_reason == "preflight_refused" and results.requests == 0
    assert results.errors == [f"preflight: {failed.value}"]
    # one plain request, then nothing: no fuzzing against a provider that refuses it
    (sent,) = server.requests
    assert json.loads(sent) == {"model": "m", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8}


def test_refused_plain_request_names_status_and_reason() -> None:
    with serve(dialect="openai", seed=1, api_key="sk-right") as provider, pytest.raises(PreflightRefused) as failed:
        run_fuzz(FuzzOptions(base_url=provider.base_url, model="ref-small", dialect="openai", api_key="sk-wrong"))
    message = str(failed.value)
    assert message.startswith("a plain request for model 'ref-small' was answered 401: ")
    assert "nothing would be measured" in message and "sk-wrong" not in message


def test_nobody_listening_is_a_provider_error() -> None:
    with misbehaving("ok") as server:
        url = server.base_url
    with pytest.raises(ProviderError, match="cannot reach"):
        preflight(FuzzOptions(base_url=url, model="m"))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"object": "error", "message": "Invalid model: m", "type": "invalid_model"}, "Invalid model: m"),
        ({"error": {"message": "top_p must be in (0, 1], got 0.0.", "type": "BadRequestError"}}, "top_p must be"),
        (
            {"detail": [{"loc": ["body", "random_seed"], "msg": "Extra inputs are not permitted"}]},
            "random_seed: Extra inputs are not permitted",
        ),
        ({"detail": "Not Found"}, "Not Found"),
    ],
)
def test_provider_reason_reads_every_error_envelope(body: dict[str, object], reason: str) -> None:
    assert provider_reason(json.dumps(body).encode()).startswith(reason)


def test_provider_reason_of_a_non_json_body_is_its_text() -> None:
    assert (
        provider_reason(b"<html>\r\n<h1>502 Bad Gateway</h1>\r\n</html>") == "<html> <h1>502 Bad Gateway</h1> </html>"
    )
    assert provider_reason(b"") == "(empty body)"


def test_the_preflight_counts_toward_the_request_budget() -> None:
    # --max-requests is a hard stop for every request the run sends: the preflight's GET /v1/models and plain
    # request included, so a budget of 3 leaves one request for the phases
    with serve(dialect="openai", seed=1) as provider:
        results = run_fuzz(
            FuzzOptions(base_url=provider.base_url, model="ref-small", dialect="openai", seed=1,
                        phases=("probes", "examples"), max_requests=3)
        )
    assert results.requests == 1 and results.stop_reason == "max_requests"  # 3 - the preflight's 2
    assert sum(results.statuses.values()) == 1


def test_a_budget_too_small_for_the_preflight_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="max-requests must be at least 2 with the preflight"):
        run_fuzz(FuzzOptions(base_url="http://127.0.0.1:9/v1", model="m", max_requests=1))
