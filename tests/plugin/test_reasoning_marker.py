"""The marker's ``extensions`` argument: the openai dialect's reasoning extension, per test."""

from __future__ import annotations

import json

import pytest

REASONING = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1755146543,
    "model": "deepseek-reasoner",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": None, "reasoning_content": ["x"]},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12},
}
CHUNK = {"id": "c", "object": "chat.completion.chunk", "created": 1755146543, "model": "m"}


def test_marker_extensions_reach_check_and_the_stream_checker(pytester: pytest.Pytester) -> None:
    # Given an OpenAI answer whose reasoning_content is a list, and a stream with a list and late reasoning
    deltas = [
        ({"role": "assistant", "reasoning_content": ["x"]}, None),
        ({"content": "Paris."}, None),
        ({"reasoning_content": "Late."}, "stop"),
    ]
    events = [{**CHUNK, "choices": [{"index": 0, "delta": d, "finish_reason": f}]} for d, f in deltas]
    stream = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    pytester.makepyfile(f'''
import pytest

BODY = {json.dumps(REASONING).encode()!r}
STREAM = {stream!r}

@pytest.mark.chatcontract(dialect="openai", extensions=["reasoning"])
def test_with_the_extension(chatcontract):
    assert chatcontract.check(BODY).codes() == ["CC220"]
    checker = chatcontract.stream_checker()
    checker.feed(STREAM)
    assert sorted(checker.close().codes()) == ["CC220", "CC321"]

@pytest.mark.chatcontract(dialect="openai", extensions="reasoning")
def test_a_string_names_one_extension(chatcontract):
    assert chatcontract.check(BODY).codes() == ["CC220"]

@pytest.mark.chatcontract(dialect="openai")
def test_without_it_the_published_contract(chatcontract):
    assert chatcontract.check(BODY).ok and chatcontract.check(BODY).violations == ()

@pytest.mark.chatcontract(dialect="openai", extensions=["thinking"])
def test_unknown_extension(chatcontract):
    with pytest.raises(Exception, match="unknown extension"):
        chatcontract.check(BODY)

@pytest.mark.chatcontract(dialect="openai", extensions=5)
def test_misuse(chatcontract):
    pass
''')
    # When they run
    result = pytester.runpytest("-v")
    # Then the marker's extensions reach every check of the test; a non-list is a clear error of that test only
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*takes extension names as a string or a list of strings*received 5*"])
