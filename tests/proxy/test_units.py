"""The proxy's small parts: the results format's run kind (backwards-compatible), and how ``--enforce`` cuts a
stream into sendable events (a hypothesis property over every way a stream can be split into reads).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatcontract import UsageError
from chatcontract.proxy.app import _sendable
from chatcontract.proxy.session import ProxyOptions
from chatcontract.report.results import FuzzResults

OLD_RESULTS = {  # a results.json written before the run kind existed
    "format": 1,
    "provider": "p",
    "base_url": "http://127.0.0.1:1/v1",
    "dialect": "openai",
    "model": "m",
    "findings": [],
}


def test_results_without_a_kind_are_fuzz_runs() -> None:
    results = FuzzResults.from_dict(OLD_RESULTS)
    assert (results.kind, results.unchecked) == ("fuzz", 0)


def test_a_proxy_run_round_trips() -> None:
    results = FuzzResults(provider="p", base_url="u", dialect="mistral", model="", kind="proxy", unchecked=3)
    again = FuzzResults.from_dict(json.loads(results.to_json()))
    assert again == results


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("kind", "replay", "kind 'replay' is not one of fuzz, proxy"), ("unchecked", -1, "unchecked must be")],
)
def test_bad_kind_fields_are_usage_errors(field: str, value: object, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        FuzzResults.from_dict({**OLD_RESULTS, field: value})


@pytest.mark.parametrize(
    ("upstream", "message"),
    [
        ("api.mistral.ai/v1", "must be an http"),
        ("http://h/v1?key=1", "without query"),
        ("https://user:sk-secret@h/v1", "must not carry credentials"),
    ],
)
def test_bad_upstreams(upstream: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ProxyOptions(upstream=upstream).validate()


def test_the_proxy_mirrors_the_upstream_paths() -> None:
    options = ProxyOptions(upstream="https://api.example:8443/openai/v1/")
    assert (options.origin, options.base_path, options.provider_name) == (
        "https://api.example:8443",
        "/openai/v1",
        "api.example:8443",
    )


EVENT = st.builds(
    lambda text, sep: b"data: " + json.dumps({"c": text}).encode() + sep,
    st.text(max_size=12),
    st.sampled_from([b"\n\n", b"\r\n\r\n"]),
)


@given(events=st.lists(EVENT, max_size=6), done=st.booleans(), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_sendable_holds_back_unfinished_events_and_the_done_sentinel(
    events: list[bytes], done: bool, cuts: list[int]
) -> None:
    stream = b"".join(events) + (b"data: [DONE]\n\n" if done else b"")
    held, sent = bytearray(), b""
    bounds = sorted({min(c, len(stream)) for c in cuts} | {len(stream)})
    start = 0
    for end in bounds:  # the stream as the proxy reads it: in arbitrary pieces
        held += stream[start:end]
        start = end
        ready = _sendable(held)
        assert ready == bytes(held[: len(ready)])
        del held[: len(ready)]
        sent += ready
    # Everything up to the sentinel goes out, in whole events; the sentinel waits for the whole-stream checks
    assert sent == b"".join(events)
    assert bytes(held) == (b"data: [DONE]\n\n" if done else b"")


def test_stream_checker_found_reports_what_is_known_before_close() -> None:
    from chatcontract import StreamChecker

    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "x"}, "finish_reason": ""}],
    }
    checker = StreamChecker(dialect="openai")
    checker.feed(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    early = checker.found()
    assert [(v.code, v.event) for v in early] == [("CC103", 0)]
    report = checker.close()
    assert early[0] in report.violations and "CC303" in report.codes()  # the end brings what only the end shows
