"""Fuzzing from a user's own suite: the ``chatcontract_fuzz`` and ``chatcontract_schema`` fixtures (pytester)."""

from __future__ import annotations

import pytest

from chatcontract.provider.server import serve

BASE_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:cacheprovider\n"


@pytest.fixture(autouse=True)
def _ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(BASE_INI)


WHOLE_RUN = """
def test_provider_conforms(chatcontract_fuzz):
    results = chatcontract_fuzz.assert_ok(max_examples=5, phases=("examples", "fuzzing"), seed=1)
    assert results.requests > 5
"""

PER_CASE = """
import schemathesis

schema = schemathesis.pytest.from_fixture("chatcontract_schema")


@schema.parametrize()
def test_api(case):
    case.call_and_validate()
"""


def test_whole_run_passes_on_a_conforming_provider(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(WHOLE_RUN)
    with serve(dialect="mistral", seed=1) as provider:
        result = pytester.runpytest(
            "--chatcontract-fuzz-url", provider.base_url, "--chatcontract-fuzz-model", "ref-small"
        )
    result.assert_outcomes(passed=1)


def test_whole_run_fails_with_the_findings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(WHOLE_RUN)
    with serve(dialect="openai", seed=1, faults=["created-ms"]) as provider:
        result = pytester.runpytest(
            "--chatcontract-fuzz-url",
            provider.base_url,
            "--chatcontract-fuzz-model",
            "ref-small",
            "--chatcontract-dialect",
            "openai",
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FuzzFindings*", "*CC209 implausible-created [[]error[]]*", "*curl -X POST*"])


def test_settings_from_environment_and_ini(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(WHOLE_RUN)
    with serve(dialect="mistral", seed=1) as provider:
        monkeypatch.setenv("CHATCONTRACT_FUZZ_URL", provider.base_url)
        pytester.makeini(BASE_INI + "chatcontract_fuzz_model = ref-small\nchatcontract_fuzz_max_requests = 40\n")
        result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_command_line_beats_environment(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(WHOLE_RUN)
    monkeypatch.setenv("CHATCONTRACT_FUZZ_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    with serve(dialect="mistral", seed=1) as provider:
        result = pytester.runpytest(
            "--chatcontract-fuzz-url", provider.base_url, "--chatcontract-fuzz-model", "ref-small"
        )
    result.assert_outcomes(passed=1)


def test_missing_url_fails_with_instructions(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATCONTRACT_FUZZ_URL", raising=False)
    monkeypatch.delenv("CHATCONTRACT_FUZZ_MODEL", raising=False)
    pytester.makepyfile(WHOLE_RUN)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*chatcontract_fuzz needs --chatcontract-fuzz-url and --chatcontract-fuzz-model*"])


def test_schemathesis_style_passes_on_a_conforming_provider(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PER_CASE)
    with serve(dialect="mistral", seed=1) as provider:
        result = pytester.runpytest(
            "--chatcontract-fuzz-url",
            provider.base_url,
            "--chatcontract-fuzz-model",
            "ref-small",
            "--hypothesis-seed",
            "1",
            "-v",
        )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed"), result.stdout.str()[-3000:]
    # schemathesis names each operation in the node id (pytest 9.2 moved Node._nodeid; chatcontract shims it back)
    result.stdout.fnmatch_lines(["*::test_api[[]POST /v1/chat/completions[]] SUBPASSED*"])


def test_schemathesis_style_fails_on_a_broken_provider(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PER_CASE)
    with serve(dialect="mistral", seed=1, faults=["created-ms"]) as provider:
        result = pytester.runpytest(
            "--chatcontract-fuzz-url",
            provider.base_url,
            "--chatcontract-fuzz-model",
            "ref-small",
            "--hypothesis-seed",
            "1",
        )
    assert result.parseoutcomes().get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*chatcontract: CC209*", "*CC209 implausible-created at $.created*"])


def test_private_nodeid_shim_reads_and_writes_the_structured_id(pytester: pytest.Pytester) -> None:
    """The shim behind ``chatcontract_schema``: ``_nodeid`` round-trips through pytest 9.2's ``Node._id``."""
    pytester.makepyfile(
        """
        from chatcontract.plugin._compat import restore_private_nodeid

        def test_ids(request):
            restore_private_nodeid()
            original = request.node._nodeid
            assert original == request.node.nodeid
            request.node._nodeid = original + "[POST /v1/chat/completions]"
            assert request.node.nodeid.endswith("::test_ids[POST /v1/chat/completions]")
            request.node._nodeid = original
            assert request.node.nodeid == original
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
