"""A chunk refused only for nulls where a field should be omitted and for missing or unknown keys is judged by the
place walk (``rules._located.placed_errors``) instead of pydantic: the stream's report must not change, findings in
the same order within each event.

The reference is the same stream checked with the place walk switched off (every refused chunk validated by
pydantic and mapped by ``schema_hits``, as before the walk).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatcontract import _accel, streams
from chatcontract.cassettes.file import load_cassette
from chatcontract.outcome import Report
from chatcontract.streams import StreamChecker

from .helpers import DIALECTS, events_ok, request_for, sse

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
needs_accelerator = pytest.mark.skipif(_accel.places is None, reason="the place walk needs the C accelerator")

#: Keys a provider may leave out, send as null or add, by level of a chunk (both dialects' names, and unknown ones)
KEYS = {
    "chunk": ("id", "object", "created", "model", "choices", "usage", "system_fingerprint", "service_tier", "x"),
    "choice": ("index", "delta", "finish_reason", "logprobs", "x"),
    "delta": ("role", "content", "tool_calls", "function_call", "refusal", "prefix", "x"),
}


def _check(body: str | bytes, dialect: str, request: Any, *, walk: bool, monkeypatch: pytest.MonkeyPatch) -> Report:
    with monkeypatch.context() as m:
        if not walk:
            m.setattr(streams, "placed_errors", lambda *args, **kwargs: None)
        checker = StreamChecker(dialect=dialect, request=request)
        checker.feed(body if isinstance(body, bytes) else body.encode())
        return checker.close()


def _targets(event: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    out = [(event, key) for key in KEYS["chunk"]]
    for c in event.get("choices") or ():
        out += [(c, key) for key in KEYS["choice"]]
        if isinstance(c.get("delta"), dict):
            out += [(c["delta"], key) for key in KEYS["delta"]]
    return out


@needs_accelerator
@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_walk_gives_the_report_pydantic_gives(
    dialect: str, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = copy.deepcopy(events_ok(dialect))
    for event in events:
        targets = _targets(event)
        for i in data.draw(st.lists(st.sampled_from(range(len(targets))), max_size=3, unique=True), label="edits"):
            node, key = targets[i]
            edit = data.draw(st.sampled_from(["drop", "null", "unknown"]), label="edit")
            if edit == "drop":
                node.pop(key, None)
            elif edit == "null":
                node[key] = None
            else:
                node["x_" + key] = data.draw(st.sampled_from([None, 1, "a", {}]), label="value")
    body = sse(*events)
    request = request_for(dialect)
    expected = _check(body, dialect, request, walk=False, monkeypatch=monkeypatch)
    got = _check(body, dialect, request, walk=True, monkeypatch=monkeypatch)
    assert got == expected, f"walk:\n{got}\npydantic:\n{expected}"


@needs_accelerator
@pytest.mark.parametrize(
    "path",
    [
        "litellm/stream.yaml",  # finish_reason left out of every chunk but the last (CC101 per chunk)
        "litellm/proxy_llamacpp_stream.yaml",
        "llamacpp/tool_call_stream.yaml",  # "tool_calls": null, "function_call": null, "role": null in deltas (CC109)
    ],
)
def test_real_streams_take_the_walk_and_keep_their_report(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    interaction = load_cassette(CASSETTES / path).interactions[0]
    body, request = interaction.response.body, interaction.request.json
    expected = _check(body, "openai", request, walk=False, monkeypatch=monkeypatch)
    walked: list[Any] = []
    real = streams.placed_errors

    def counting(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        walked.append(answer is not None)
        return answer

    monkeypatch.setattr(streams, "placed_errors", counting)
    got = _check(body, "openai", request, walk=True, monkeypatch=monkeypatch)
    assert got == expected and got.violations
    assert walked and all(walked)  # every refused chunk was judged by the walk


_FLOATS = [
    ("chunk", "created", 1757876416.566),  # a float where the contract wants an integer (CC102)
    ("chunk", "x_score", 0.5),  # an extra field holding a float
    ("choice", "logprobs", {"content": [{"token": "Hi", "logprob": -0.25, "bytes": [72, 105], "top_logprobs": []}]}),
    ("choice", "x_big", 1e999),  # inf: beyond the number checks' range
]


@pytest.mark.skipif(_accel.plain is None, reason="the plain proof needs the C accelerator")
@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("edits", [[0], [1], [2], [3], [0, 2], [1, 2]])
def test_a_chunk_plain_but_for_floats_gets_the_strict_parses_report(
    dialect: str, edits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chunk with floats is parsed in jiter's default mode when the proof says floats are its only oddity
    # (plain(raw, True) == 2): the report is the one of the strict parse, taken without the proof
    events = copy.deepcopy(events_ok(dialect))
    for event in events[1:3]:
        for i in edits:
            level, key, value = _FLOATS[i]
            for node in [event] if level == "chunk" else event.get("choices") or []:
                node[key] = value
    body = sse(*events).replace("Infinity", "1e999")
    request = request_for(dialect)
    answers: list[Any] = []
    real = _accel.plain
    with monkeypatch.context() as m:
        m.setattr(_accel, "plain", lambda raw, *flag: answers.append(real(raw, *flag)) or answers[-1])
        got = _check(body, dialect, request, walk=True, monkeypatch=monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(_accel, "plain", None)
        expected = _check(body, dialect, request, walk=True, monkeypatch=monkeypatch)
    assert got == expected, f"floats proof:\n{got}\nstrict parse:\n{expected}"
    if 3 in edits:  # a number past the checks' range: the stream's number checks take the piece, no proof asked
        assert 2 not in answers
    else:
        assert answers.count(2) == 2  # the two edited chunks took the default parse
