"""The ``chatcontract`` fixture: check, assert_conforms, stream_checker, options and exchanges."""

from __future__ import annotations

from ._llm import INNER

CANNED = INNER + '''
from tests_canned import GOOD, EMPTY_MODEL, SSE_OK, SSE_NO_DONE
'''


def _canned(pytester):
    """A module the inner tests import the canned bodies from (no network needed)."""
    from ._llm import SSE_NO_DONE, SSE_OK, completion

    pytester.makepyfile(tests_canned=f'''
GOOD = {completion()!r}
EMPTY_MODEL = {completion(model="")!r}
SSE_OK = {SSE_OK!r}
SSE_NO_DONE = {SSE_NO_DONE!r}
''')


def test_check_uses_the_tests_options(pytester, llm):
    # Given canned bodies and tests calling chatcontract.check
    _canned(pytester)
    pytester.makepyfile(CANNED + '''
def test_default_dialect(chatcontract):
    report = chatcontract.check(GOOD)
    assert report.ok and report.dialect == "mistral" and report.violations == ()

@pytest.mark.chatcontract(dialect="openai")
def test_marker_dialect(chatcontract):
    report = chatcontract.check(GOOD)
    assert not report.ok and report.dialect == "openai"
    assert {v.code for v in report.errors} == {"CC101"}

@pytest.mark.chatcontract(dialect="openai")
def test_call_kwargs_override_the_marker(chatcontract):
    assert chatcontract.check(GOOD, dialect="mistral").ok

@pytest.mark.chatcontract(ignore=["CC211"])
def test_marker_ignore(chatcontract):
    assert chatcontract.check(EMPTY_MODEL).ok
    assert [v.code for v in chatcontract.check(EMPTY_MODEL, ignore=[]).errors] == ["CC211"]

def test_response_object_with_request(chatcontract):
    response = post("ok", n=2)
    report = chatcontract.check(response, request={**REQUEST, "n": 2})
    assert [v.code for v in report.errors] == ["CC401"]
''')
    # When they run
    result = pytester.runpytest()
    # Then every check used the test's options, overridable per call
    result.assert_outcomes(passed=5)


def test_assert_conforms_fails_the_test_with_the_violation_block(pytester, llm):
    # Given a test that asserts a broken completion conforms, and one that asserts a good one
    _canned(pytester)
    pytester.makepyfile(CANNED + '''
from chatcontract import ContractViolation

def test_broken(chatcontract):
    chatcontract.assert_conforms(EMPTY_MODEL)

def test_good_returns_the_report(chatcontract):
    report = chatcontract.assert_conforms(GOOD)
    assert report.ok

def test_it_is_an_assertion_error(chatcontract):
    with pytest.raises(AssertionError) as info:
        chatcontract.assert_conforms(EMPTY_MODEL)
    assert isinstance(info.value, ContractViolation)
    assert [v.code for v in info.value.violations] == ["CC211"]
''')
    # When they run
    result = pytester.runpytest()
    # Then the broken one fails with ContractViolation and the full violation block
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*_ test_broken _*",
        "E*ContractViolation: 1 contract violation in ChatCompletionResponse (mistral)",
        "*CC211 empty-model at $.model*",
        "*model is empty.*",
        "*For further information run: chatcontract rule CC211*",
        "FAILED *test_broken*",
    ])


def test_stream_checker(pytester, llm):
    # Given tests that feed SSE bytes to the fixture's stream checker, in pieces
    _canned(pytester)
    pytester.makepyfile(CANNED + '''
def feed(checker, body):
    for i in range(0, len(body), 7):
        checker.feed(body[i:i + 7])
    return checker.close()

def test_good_stream(chatcontract):
    report = feed(chatcontract.stream_checker(), SSE_OK)
    assert report.ok and report.kind == "stream" and report.dialect == "mistral"

def test_missing_done(chatcontract):
    report = feed(chatcontract.stream_checker(), SSE_NO_DONE)
    assert [v.code for v in report.errors] == ["CC303"]

@pytest.mark.chatcontract(ignore=["CC303"])
def test_marker_options_reach_the_checker(chatcontract):
    assert feed(chatcontract.stream_checker(), SSE_NO_DONE).ok

@pytest.mark.chatcontract(dialect="openai")
def test_marker_dialect_reaches_the_checker(chatcontract):
    assert feed(chatcontract.stream_checker(), SSE_OK).dialect == "openai"
''')
    # When they run
    result = pytester.runpytest()
    # Then the checker reports per the test's options
    result.assert_outcomes(passed=4)


def test_options_property(pytester):
    # Given tests reading chatcontract.options under ini, command-line and marker settings
    pytester.makepyfile('''
import pytest

def test_unmarked(chatcontract):
    o = chatcontract.options
    assert (o.dialect, o.select, o.ignore, o.provider) == ("openai", ("CC1", "CC2"), None, "ini-provider")

@pytest.mark.chatcontract(dialect="mistral", ignore="CC104", provider="marked")
def test_marked(chatcontract, chatcontract_options):
    o = chatcontract.options
    assert (o.dialect, o.select, o.ignore, o.provider) == ("mistral", ("CC1", "CC2"), ("CC104",), "marked")
    assert chatcontract_options == o
    assert "mistral" in repr(chatcontract)
''')
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nchatcontract_provider = ini-provider\n")
    # When they run with --chatcontract-dialect and --chatcontract-select (twice, comma separated)
    result = pytester.runpytest("--chatcontract-dialect=openai", "--chatcontract-select=CC1", "--chatcontract-select",
                                " CC2 ,")
    # Then options resolve marker > command line > ini
    result.assert_outcomes(passed=2)


def test_exchanges_lists_what_the_guard_saw(pytester, llm):
    # Given a marked test that makes a JSON call, reads a stream to its end, leaves one unread and calls a non-chat URL
    pytester.makepyfile(INNER + '''
@pytest.mark.chatcontract
def test_marked(chatcontract):
    assert chatcontract.exchanges == []
    post("ok")
    post("ok", path="/v1/embeddings")
    with httpx.Client() as client:
        with client.stream("POST", chat_url("ok"), json={**REQUEST, "stream": True}) as r:
            for _ in r.iter_lines():
                pass
        with client.stream("POST", chat_url("no-done"), json={**REQUEST, "stream": True}) as r:
            next(r.iter_lines())  # closed before its end (a stream closed right after [DONE] would be judged)
    seen = chatcontract.exchanges
    assert [(e.method, e.url.rsplit(":", 1)[1].split("/", 1)[1], e.status, e.stream) for e in seen] == [
        ("POST", "ok/v1/chat/completions", 200, False),
        ("POST", "ok/v1/chat/completions", 200, True),
        ("POST", "no-done/v1/chat/completions", 200, True),
    ]
    assert [e.report.ok if e.report else None for e in seen] == [True, True, None]
    assert [e.complete for e in seen] == [True, True, False]
    assert seen[0].request == REQUEST
    seen.clear()  # a copy: the guard's own list is untouched
    assert len(chatcontract.exchanges) == 3

def test_unmarked(chatcontract):
    post("ok")
    assert chatcontract.exchanges == []
''')
    # When it runs
    result = pytester.runpytest()
    # Then exchanges lists the chat exchanges in order, and is empty when the guard is off
    result.assert_outcomes(passed=2)
