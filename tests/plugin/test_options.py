"""Options, ini keys, the marker and their precedence (marker > command line > ini > [tool.chatcontract])."""

from __future__ import annotations

import pytest

from ._llm import INNER, write_ini

OPTIONS = [
    "--chatcontract-dialect={mistral,openai}",
    "--chatcontract-select=CODES",
    "--chatcontract-ignore=CODES",
    "--chatcontract-provider=*",
    "--chatcontract-guard*",
    "--chatcontract-cassettes=DIR",
]
INI_KEYS = [
    "chatcontract_dialect (string):",
    "chatcontract_select (args):",
    "chatcontract_ignore (args):",
    "chatcontract_provider (string):",
    "chatcontract_guard (bool):",
    "chatcontract_url_pattern (string):",
    "chatcontract_cassettes (paths):",
    "chatcontract_cassette_glob (string):",
    "chatcontract_vcr_defaults (bool):",
]


def test_help_lists_the_option_group_and_ini_keys(pytester):
    # Given the plugin installed
    # When pytest --help runs
    result = pytester.runpytest("--help")
    # Then the chatcontract group lists every option, and every ini key is documented
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["chatcontract: contract checks for chat-completion APIs:", *(f"  {o}" for o in OPTIONS)]
    )
    result.stdout.fnmatch_lines([f"  {k}" for k in INI_KEYS])


def test_markers_lists_the_marker(pytester):
    # When pytest --markers runs
    result = pytester.runpytest("--markers")
    # Then the marker is documented with its keyword arguments
    result.stdout.fnmatch_lines([
        "@pytest.mark.chatcontract(dialect=None, select=None, ignore=None, provider=None, extensions=None): check "
        "every chat-completion exchange this test makes (httpx, requests) against the dialect's contract (with opt-in "
        "extensions such as ['reasoning']); the test fails on error-severity violations.",
    ])


def test_strict_markers_accepts_the_marker(pytester):
    # Given a module using the marker bare and with arguments, and a typo'd marker as a control
    pytester.makepyfile(test_marked='''
import pytest

@pytest.mark.chatcontract
def test_bare():
    pass

@pytest.mark.chatcontract(dialect="openai", select=["CC1"], ignore="CC104", provider="x")
def test_args():
    pass
''', test_typo='''
import pytest

@pytest.mark.chatcontrakt
def test_typo():
    pass
''')
    # When pytest runs with --strict-markers
    result = pytester.runpytest("--strict-markers", "test_marked.py")
    typo = pytester.runpytest("--strict-markers", "test_typo.py")
    # Then the registered marker is accepted, while strictness is really on
    result.assert_outcomes(passed=2)
    typo.stdout.fnmatch_lines(["*'chatcontrakt' not found in `markers` configuration option*"])


# -- every ini key (the cassette and VCR keys are covered in test_cassette_items / test_recording) --------------------
OPTIONS_PROBE = INNER + '''
@pytest.mark.chatcontract
def test_options(chatcontract_options):
    print("OPTIONS", chatcontract_options)
'''


def test_ini_dialect(pytester, llm):
    # Given chatcontract_dialect = openai in the ini
    write_ini(pytester, "chatcontract_dialect = openai")
    pytester.makepyfile(OPTIONS_PROBE + '''
@pytest.mark.chatcontract
def test_mistral_body():
    post("ok")

@pytest.mark.chatcontract
def test_openai_body():
    post("openai")
''')
    # When a marked test receives a Mistral completion (no refusal, no logprobs)
    result = pytester.runpytest("-s")
    # Then it is checked against the OpenAI contract
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*OPTIONS Options(dialect='openai', select=None, ignore=None, provider=None)",
        "*POST http://127.0.0.1:*/ok/v1/chat/completions -> 200",
        "*ChatCompletion (openai)*",
        "*CC101 missing-required-field at $.choices[[]0[]].message.refusal*",
    ])


@pytest.mark.parametrize(("line", "expected"), [
    ("chatcontract_select = CC1 CC3", "select=('CC1', 'CC3')"),
    ("chatcontract_ignore = CC211 CC212", "ignore=('CC211', 'CC212')"),
])
def test_ini_select_and_ignore(pytester, llm, line, expected):
    # Given a selection in the ini that leaves out CC211
    write_ini(pytester, line)
    pytester.makepyfile(OPTIONS_PROBE + '''
@pytest.mark.chatcontract
def test_empty_model():
    post("empty-model")

@pytest.mark.chatcontract(select=["CC2"], ignore=[])
def test_marker_puts_it_back():
    post("empty-model")
''')
    # When a marked test receives "model": ""
    result = pytester.runpytest("-s")
    # Then the ini selection applies (the marker, above it, can put the rule back)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([f"*OPTIONS Options(*{expected}*)", "*test_marker_puts_it_back*", "*CC211*"])


def test_ini_provider_selects_per_provider_ignores(pytester, llm):
    # Given per-provider-ignores for litellm* in pyproject, and chatcontract_provider = litellm-proxy in the ini
    pytester.makepyprojecttoml('[tool.chatcontract.per-provider-ignores]\n"litellm*" = ["CC211"]\n')
    write_ini(pytester, "chatcontract_provider = litellm-proxy")
    pytester.makepyfile(OPTIONS_PROBE + '''
@pytest.mark.chatcontract
def test_litellm():
    post("empty-model")

@pytest.mark.chatcontract(provider="vllm")
def test_other_provider():
    post("empty-model")
''')
    # When marked tests receive "model": ""
    result = pytester.runpytest("-s")
    # Then CC211 is ignored for the ini's provider only
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*OPTIONS Options(*provider='litellm-proxy')", "*test_other_provider*", "*CC211*"])


def test_ini_guard_checks_unmarked_tests(pytester, llm):
    # Given an unmarked test that receives a broken completion
    pytester.makepyfile(INNER + '''
def test_unmarked():
    post("empty-model")
''')
    # When it runs without, then with chatcontract_guard = true
    off = pytester.runpytest()
    write_ini(pytester, "chatcontract_guard = true")
    on = pytester.runpytest()
    # Then only the guarded run fails it
    off.assert_outcomes(passed=1)
    on.assert_outcomes(failed=1)
    on.stdout.fnmatch_lines(["*chatcontract: 1 of 1 chat-completion exchange(s) broke the contract*"])


def test_ini_url_pattern(pytester, llm):
    # Given a provider whose chat endpoint is /v1/generate, named by chatcontract_url_pattern
    write_ini(pytester, r"chatcontract_url_pattern = /v1/generate$")
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_custom_endpoint():
    post("empty-model", path="/v1/generate")

@pytest.mark.chatcontract
def test_default_endpoint_no_longer_matches():
    post("empty-model")
''')
    # When marked tests receive broken completions on both paths
    result = pytester.runpytest("-v")
    # Then only the custom path is checked
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_custom_endpoint FAILED*", "*POST http://127.0.0.1:*/empty-model/v1/generate -> 200*"]
    )


def test_ini_url_pattern_invalid_regex_is_a_clear_error(pytester, llm):
    # Given an invalid regex in chatcontract_url_pattern
    write_ini(pytester, "chatcontract_url_pattern = ([unclosed")
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_chat():
    post("ok")
''')
    # When pytest starts
    result = pytester.runpytest()
    # Then it stops before collection with a usage error naming the key and the value, and nothing crashes
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: chatcontract: ini chatcontract_url_pattern = '([unclosed' is not a valid regex*"]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


# -- precedence: marker > command line > ini > [tool.chatcontract] ---------------------------------------------------
LAYERS = ("marker", "cli", "ini", "pyproject")


def _setup(pytester, layers: dict[str, str]) -> list[str]:
    """Write the dialect into the given layers; returns the command-line arguments."""
    marker = f'(dialect="{layers["marker"]}")' if "marker" in layers else ""
    pytester.makepyfile(INNER + f'''
@pytest.mark.chatcontract{marker}
def test_mistral_completion():
    post("ok")
''')
    write_ini(pytester, *([f"chatcontract_dialect = {layers['ini']}"] if "ini" in layers else []))
    if "pyproject" in layers:
        pytester.makepyprojecttoml(f'[tool.chatcontract]\ndialect = "{layers["pyproject"]}"\n')
    return [f"--chatcontract-dialect={layers['cli']}"] if "cli" in layers else []


@pytest.mark.parametrize(("high", "low"), [
    (LAYERS[i], LAYERS[j]) for i in range(len(LAYERS)) for j in range(i + 1, len(LAYERS))
])
def test_precedence(pytester, llm, high, low):
    # Given a Mistral completion, which the Mistral contract accepts and the OpenAI contract rejects,
    # and dialect = openai in the lower layer alone
    args = _setup(pytester, {low: "openai"})
    # When the test runs
    lower_only = pytester.runpytest(*args)
    # Then the lower layer is in effect (the test fails under the OpenAI contract) ...
    lower_only.assert_outcomes(failed=1)
    lower_only.stdout.fnmatch_lines(["*ChatCompletion (openai): 2 error(s)*"])

    # ... and given dialect = mistral in the higher layer as well
    args = _setup(pytester, {low: "openai", high: "mistral"})
    both = pytester.runpytest(*args)
    # Then the higher layer wins
    both.assert_outcomes(passed=1)


def test_marker_select_beats_command_line_select(pytester, llm):
    # Given --chatcontract-select=CC2 on the command line and select=["CC1"] on one test's marker
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract(select=["CC1"])
def test_marker_selection():
    post("empty-model")

@pytest.mark.chatcontract
def test_command_line_selection():
    post("empty-model")
''')
    # When both receive "model": "" (CC211, in CC2)
    result = pytester.runpytest("-v", "--chatcontract-select=CC2")
    # Then the marker's selection leaves CC211 out; the command line's keeps it
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_marker_selection PASSED*", "*test_command_line_selection FAILED*"])


# -- marker misuse -------------------------------------------------------------------------------------------------
def test_marker_misuse_is_a_clear_error_of_that_test_only(pytester, llm):
    # Given tests that misuse the marker, one that uses the fixture, and a well-formed one
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract("openai")
def test_positional():
    post("ok")

@pytest.mark.chatcontract(dialects="openai", strict=True)
def test_unknown_kwargs():
    post("ok")

@pytest.mark.chatcontract(dialect="anthropic")
def test_bad_dialect():
    post("ok")

@pytest.mark.chatcontract(dialect="anthropic")
def test_bad_dialect_with_fixture(chatcontract):
    pass

@pytest.mark.chatcontract
def test_fine():
    post("ok")
''')
    # When pytest runs
    result = pytester.runpytest("-v")
    # Then each misuse fails its own test (an error at setup for the fixture) with a message naming what is
    # allowed and what was received; the well-formed test still runs and the session is not an INTERNALERROR
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=3, errors=1)
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    result.stdout.fnmatch_lines([
        "*test_positional FAILED*",
        "*test_unknown_kwargs FAILED*",
        "*test_bad_dialect FAILED*",
        "*test_bad_dialect_with_fixture ERROR*",
        "*test_fine PASSED*",
    ])
    result.stdout.fnmatch_lines([
        "E * @pytest.mark.chatcontract takes keyword arguments only (dialect, select, ignore, provider, extensions); "
        "received positional ('openai',) on test_marker_misuse_is_a_clear_error_of_that_test_only.py::test_positional",
    ])
    result.stdout.fnmatch_lines([
        "E * @pytest.mark.chatcontract got unexpected argument(s) dialects, strict on *::test_unknown_kwargs; "
        "allowed: dialect, select, ignore, provider, extensions",
    ])
    result.stdout.fnmatch_lines([
        "E * @pytest.mark.chatcontract(dialect='anthropic') on *::test_bad_dialect: "
        "choose one of ('mistral', 'openai')",
    ])
    result.stdout.fnmatch_lines(["*ERROR at setup of test_bad_dialect_with_fixture*"])


def test_marker_select_of_wrong_type_is_a_clear_error(pytester, llm):
    # Given select= given a number instead of a list of codes
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract(select=5)
def test_select_number():
    post("ok")
''')
    # When pytest runs
    result = pytester.runpytest()
    # Then the test fails with a usage error naming the argument and what it received, not a bare TypeError
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*TypeError: 'int' object is not iterable*")
    result.stdout.fnmatch_lines(["*UsageError*select*5*"])
