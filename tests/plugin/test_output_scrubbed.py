"""Everything the plugin prints goes through the cassettes' scrubber: report sections, failures, summaries."""

from __future__ import annotations

import pytest

from chatcontract.plugin._output import scrub_output

from ._llm import INNER

SECRET = "qp-SECRET0123456789abcdef"


def test_no_key_in_sections_failures_or_summaries(pytester: pytest.Pytester, llm: object) -> None:
    # Given marked tests that send their key in the query string (?key=, as Google-style gateways take it):
    # one conforming, one broken answer, one stream left open
    pytester.makepyfile(INNER + f'''
SECRET = "{SECRET}"

@pytest.mark.chatcontract
def test_ok():
    assert httpx.post(chat_url("ok") + "?key=" + SECRET + "&lang=en", json=REQUEST).status_code == 200

@pytest.mark.chatcontract
def test_broken():
    httpx.post(chat_url("empty-model") + "?key=" + SECRET, json=REQUEST)

@pytest.mark.chatcontract
def test_partial():
    with httpx.stream("POST", chat_url("no-done") + "?sig=" + SECRET, json={{**REQUEST, "stream": True}}) as r:
        next(r.iter_lines())
''')
    # When they run with every report shown
    result = pytester.runpytest("-rA")
    # Then the report section, the failure and the terminal summary name the exchange with the key redacted
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*- Captured chatcontract call -*",
        "POST http://127.0.0.1:*/ok/v1/chat/completions?key=<CHATCONTRACT-REDACTED>&lang=en -> 200: *",
    ])
    result.stdout.fnmatch_lines(["*POST http://127.0.0.1:*/empty-model/v1/chat/completions?key=<CHATCONTRACT-REDACTED> "
                                 "-> 200"])
    result.stdout.fnmatch_lines(["*- chatcontract: streams not checked -*",
                                 "*::test_partial: POST *?sig=<CHATCONTRACT-REDACTED> -> 200 (stream): *"])
    assert SECRET not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("POST https://h/v1/chat/completions?key=abc&lang=en -> 200",
         "POST https://h/v1/chat/completions?key=<CHATCONTRACT-REDACTED>&lang=en -> 200"),
        ("https://h/v1/chat/completions?Api-Key=abc#frag", "https://h/v1/chat/completions?Api-Key=<CHATCONTRACT-REDACTED>#frag"),
        ("https://user:hunter2@h/v1/chat/completions", "https://user:<CHATCONTRACT-REDACTED>@h/v1/chat/completions"),
        ('Received: "Bearer sk-abcdefghijklmnopqrstuvwxyz0123"', 'Received: "Bearer <CHATCONTRACT-REDACTED>"'),
        ("https://h/v1/chat/completions?model=a&n=2", "https://h/v1/chat/completions?model=a&n=2"),
    ],
)
def test_scrub_output(text: str, expected: str) -> None:
    assert scrub_output(text) == expected
