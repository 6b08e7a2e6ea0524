"""Configuration mistakes are a ``pytest.UsageError`` at start-up, with ruff's kind of suggestion (pytester)."""

from __future__ import annotations

import pytest

from ._llm import BASE_INI

MARKED = """
import pytest

@pytest.mark.chatcontract
def test_exchanges(chatcontract):
    assert chatcontract.check(b'{}') is not None
"""


def _usage_error(result: pytest.RunResult, *lines: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(["ERROR: " + lines[0], *lines[1:]])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    result.stdout.no_fnmatch_line("collected *")  # stopped before collection


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("chatcontract_dialect = opneai", "chatcontract: ini chatcontract_dialect = 'opneai' is not one of mistral, "
                                          "openai (did you mean 'openai'?)"),
        ("chatcontract_dialect = Mistral", "*(did you mean 'mistral'?)"),
        ("chatcontract_incomplete_streams = fial", "chatcontract: ini chatcontract_incomplete_streams = 'fial' is not "
                                                   "one of warn, fail (did you mean 'fail'?)"),
        ("chatcontract_dialet = openai", "chatcontract: unknown ini key 'chatcontract_dialet' in tox.ini (did you mean "
                                         "'chatcontract_dialect'?); known keys: *"),
        ("chatcontract_select = CC999", "chatcontract: ini chatcontract_select: Unknown rule selector 'CC999': *"),
        ("chatcontract_ignore = CC2O1", "chatcontract: ini chatcontract_ignore: Unknown rule selector 'CC2O1': * "
                                        "Did you mean CC201?"),
        ("chatcontract_select = bogus", "chatcontract: ini chatcontract_select: Unknown rule selector 'bogus': *"),
        ("chatcontract_select = CC9", "chatcontract: ini chatcontract_select: Rule selector 'CC9' selects no check: *"),
        ("chatcontract_fuzz_max_requests = many", "chatcontract: ini chatcontract_fuzz_max_requests = 'many' is not a "
                                                  "whole number"),
    ],
)
def test_a_misspelt_ini_setting_stops_pytest(pytester: pytest.Pytester, ini: str, message: str) -> None:
    pytester.makeini(BASE_INI + ini + "\n")
    pytester.makepyfile(MARKED)
    _usage_error(pytester.runpytest(), message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chatcontract-select=CC999"], "chatcontract: --chatcontract-select: Unknown rule selector 'CC999': *"),
        (["--chatcontract-ignore", "CC201,bogus"], "chatcontract: --chatcontract-ignore: Unknown rule selector "
                                                   "'bogus': *"),
    ],
)
def test_an_unknown_code_on_the_command_line_stops_pytest(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile(MARKED)
    _usage_error(pytester.runpytest(*args), message)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('dialect = "opneai"', "chatcontract: */pyproject.toml: [[]tool.chatcontract[]] dialect must be 'mistral' or "
                               "'openai', got 'opneai' (did you mean 'openai'?)"),
        ('selct = ["CC2"]', "chatcontract: */pyproject.toml: unknown key(s) in [[]tool.chatcontract[]]: selct (did you "
                            "mean 'select'?); known keys: *"),
        ('select = ["CC999"]', "chatcontract: */pyproject.toml: Unknown rule selector 'CC999': *"),
        ('ignore = ["bogus"]', "chatcontract: */pyproject.toml: Unknown rule selector 'bogus': *"),
    ],
)
def test_a_broken_tool_chatcontract_table_stops_pytest(pytester: pytest.Pytester, table: str, message: str) -> None:
    pytester.makepyprojecttoml("[tool.chatcontract]\n" + table + "\n")
    pytester.makepyfile(MARKED)
    _usage_error(pytester.runpytest(), message)


def test_help_still_works_with_a_broken_setting(pytester: pytest.Pytester) -> None:
    pytester.makeini(BASE_INI + "chatcontract_dialect = opneai\n")
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*--chatcontract-dialect*"])


def test_valid_settings_start_normally(pytester: pytest.Pytester) -> None:
    pytester.makeini(BASE_INI + "chatcontract_dialect = openai\nchatcontract_select = CC1, CC2\n"
                     "chatcontract_incomplete_streams = fail\n")
    pytester.makepyprojecttoml('[tool.chatcontract]\nignore = ["CC411"]\n')
    pytester.makepyfile(MARKED)
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize("code", ["CC999", "bogus", "CC2O1"])
def test_the_command_line_tool_rejects_the_same_codes_with_the_same_message(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    from chatcontract.cli import main

    # `chatcontract check --select CODE` exits 2 (usage) ...
    body = pytester.makefile(".json", answer="{}")
    assert main(["check", str(body), "--select", code]) == 2
    cli_message = capsys.readouterr().err.strip().removeprefix("chatcontract: error: ")
    # ... with the message pytest stops with for the same code
    pytester.makepyfile(MARKED)
    result = pytester.runpytest(f"--chatcontract-select={code}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: chatcontract: --chatcontract-select: {cli_message}" in result.stderr.str()
