"""Property tests: a valid response, split into a valid stream, conforms and assembles back to the response; one
mutation of such a stream is reported with the right code at the right event and path.

The generator builds a non-stream response per dialect (text content, optional tool calls with JSON-object
arguments, ``n`` choices, usage with consistent arithmetic), splits it into chunks the way each API streams
(first delta with the role; content split at random points; OpenAI tool calls as fragments keyed by ``index``
with id/type/name in the first fragment; Mistral tool calls whole; a finishing chunk per choice; Mistral usage on
the last chunk, OpenAI usage in an extra ``choices: []`` chunk with ``stream_options.include_usage``), interleaves
the choices, serializes to SSE with random line endings, comments, ``data:`` spacing and multi-line data, and
feeds it to a :class:`StreamChecker` at random byte boundaries.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatcontract import check
from chatcontract.streams import StreamChecker, assemble

from .helpers import DIALECTS, split_at

ALNUM = string.ascii_letters + string.digits
TOOL_NAMES = ("get_weather", "search", "add")
PROPS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)
RESPONSE_PROPS = settings(PROPS, max_examples=15)
COMMENTS = (": keep-alive", ": OPENROUTER PROCESSING", ":", ": ping ✓")

# -- the response ---------------------------------------------------------------------------------------------------


# Strategies are built once: building (and validating) them inside every draw dominates the run time.
SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)
JSON_VALUES = SCALARS | st.lists(SCALARS, max_size=3) | st.dictionaries(st.text(ALNUM, max_size=3), SCALARS, max_size=2)
ARGUMENTS = st.dictionaries(st.text(ALNUM + "_", min_size=1, max_size=8), JSON_VALUES, max_size=4)
MISTRAL_IDS = st.text(ALNUM, min_size=9, max_size=9)
OPENAI_IDS = st.text(ALNUM, min_size=1, max_size=24).map(lambda s: "call_" + s)
NAMES = st.sampled_from(TOOL_NAMES)
CONTENT = st.text(max_size=60)


@st.composite
def tool_call(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    call_id = draw(MISTRAL_IDS if dialect == "mistral" else OPENAI_IDS)
    args = draw(ARGUMENTS)
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": draw(NAMES), "arguments": json.dumps(args, ensure_ascii=False)},
    }


TOOL_CALLS = {d: st.lists(tool_call(d), max_size=3) for d in DIALECTS}


@st.composite
def response(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    choices = []
    seen_ids: set[str] = set()
    for index in range(n):
        calls: list[dict[str, Any]] = []
        for call in draw(TOOL_CALLS[dialect]):
            if call["id"] not in seen_ids:  # tool-call ids are unique in a response (CC208)
                seen_ids.add(call["id"])
                calls.append(call)
        text = draw(CONTENT)
        content: str | None = text
        no_text = draw(st.booleans())
        if dialect == "openai" and calls and no_text:
            content = None
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if dialect == "openai":
            message["refusal"] = None
        if calls:
            message["tool_calls"] = calls
        finish = "tool_calls" if calls else draw(st.sampled_from(["stop", "length"]))
        choice: dict[str, Any] = {"index": index, "message": message, "finish_reason": finish}
        if dialect == "openai":
            choice["logprobs"] = None
        choices.append(choice)
    prompt = draw(st.integers(0, 100_000))
    completion = draw(st.integers(0, 100_000))
    return {
        "id": draw(st.sampled_from(["cmpl-", "chatcmpl-", ""])) + draw(st.text(ALNUM, min_size=1, max_size=30)),
        "object": "chat.completion",
        "created": draw(st.integers(1_600_000_000, 1_750_000_000)),
        "model": draw(st.sampled_from(["mistral-small-latest", "magistral-medium-2509", "gpt-4o-mini", "m"])),
        "choices": choices,
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


def request_for(resp: dict[str, Any], dialect: str) -> dict[str, Any]:
    req: dict[str, Any] = {
        "model": resp["model"],
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
        "n": len(resp["choices"]),
    }
    if any(c["message"].get("tool_calls") for c in resp["choices"]):
        req["tools"] = [
            {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}} for name in TOOL_NAMES
        ]
    if dialect == "openai":
        req["stream_options"] = {"include_usage": True}
    return req


# -- splitting it into a stream -----------------------------------------------------------------------------------


def _pieces(draw: st.DrawFn, text: str) -> list[str]:
    """Split ``text`` at random points into non-empty pieces (``[""]`` for the empty string)."""
    if not text:
        return [""]
    cuts = draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=min(6, len(text))))
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(text)}), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@dataclass
class Stream:
    """A stream as a list of chunk dicts (the events before ``[DONE]``), with where each choice starts and ends."""

    events: list[dict[str, Any]]
    first_event: dict[int, int]  # choice index -> event of its first delta
    finish_event: dict[int, int]  # choice index -> event carrying its finish_reason
    done: bool = True


def _choice_deltas(draw: st.DrawFn, dialect: str, choice: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """The (delta, finish_reason) sequence of one choice."""
    message = choice["message"]
    content = message["content"]
    calls = message.get("tool_calls") or []
    out: list[tuple[dict[str, Any], str | None]] = []
    pieces = _pieces(draw, content) if isinstance(content, str) else []
    # Mistral style: the finishing chunk may carry the last content piece (never when tool calls follow).
    last_piece = pieces.pop() if pieces and len(pieces) > 1 and not calls and draw(st.booleans()) else None
    head: dict[str, Any] = {"role": "assistant"}
    if content is None:
        if draw(st.booleans()):
            head["content"] = None
    else:
        head["content"] = pieces.pop(0)
    if dialect == "openai" and draw(st.booleans()):
        head["refusal"] = None
    out.append((head, None))
    out.extend(({"content": p}, None) for p in pieces)
    if dialect == "mistral":
        if calls:
            groups = draw(st.sampled_from(["one-delta", "per-call"]))
            if groups == "one-delta":
                out.append(({"content": "", "tool_calls": copy.deepcopy(calls)}, None))
            else:
                out.extend(({"content": "", "tool_calls": [copy.deepcopy(c)]}, None) for c in calls)
    else:
        for k, call in enumerate(calls):
            arg_pieces = _pieces(draw, call["function"]["arguments"])
            frag = {
                "index": k,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": arg_pieces[0]},
            }
            out.append(({"tool_calls": [frag]}, None))
            out.extend(({"tool_calls": [{"index": k, "function": {"arguments": p}}]}, None) for p in arg_pieces[1:])
    if last_piece is not None:
        out.append(({"content": last_piece}, choice["finish_reason"]))
    else:
        out.append(({"content": ""} if dialect == "mistral" and draw(st.booleans()) else {}, choice["finish_reason"]))
    return out


@st.composite
def stream_of(draw: st.DrawFn, resp: dict[str, Any], dialect: str) -> Stream:
    per_choice = [_choice_deltas(draw, dialect, c) for c in resp["choices"]]
    labels = [i for i, seq in enumerate(per_choice) for _ in seq]
    order = draw(st.permutations(labels))
    null_usage = draw(st.booleans())  # "usage": null on the chunks that carry none (both APIs' docs do this)
    events: list[dict[str, Any]] = []
    first_event: dict[int, int] = {}
    finish_event: dict[int, int] = {}
    position = [0] * len(per_choice)
    for i in order:
        delta, finish = per_choice[i][position[i]]
        position[i] += 1
        ch: dict[str, Any] = {"index": i, "delta": delta, "finish_reason": finish}
        if dialect == "openai":
            ch["logprobs"] = None
        doc: dict[str, Any] = {
            "id": resp["id"],
            "object": "chat.completion.chunk",
            "created": resp["created"],
            "model": resp["model"],
            "choices": [ch],
        }
        if null_usage:
            doc["usage"] = None
        first_event.setdefault(i, len(events))
        if finish is not None:
            finish_event[i] = len(events)
        events.append(doc)
    if dialect == "mistral":
        events[-1]["usage"] = copy.deepcopy(resp["usage"])
    else:
        events.append(
            {
                "id": resp["id"],
                "object": "chat.completion.chunk",
                "created": resp["created"],
                "model": resp["model"],
                "choices": [],
                "usage": copy.deepcopy(resp["usage"]),
            }
        )
    return Stream(events, first_event, finish_event)


@st.composite
def serialize(draw: st.DrawFn, stream: Stream) -> bytes:
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out: list[str] = []
    datas = [json.dumps(e, ensure_ascii=draw(st.booleans())) for e in stream.events]
    if stream.done:
        datas.append("[DONE]")
    for data in datas:
        for _ in range(draw(st.integers(0, 2))):
            out.append(draw(st.sampled_from(COMMENTS)) + eol + eol)
        style = draw(st.sampled_from(["space", "no-space", "multi-line"])) if data != "[DONE]" else "space"
        if style == "multi-line":
            lines = json.dumps(json.loads(data), indent=1).split("\n")
            out.append("".join(f"data: {line}{eol}" for line in lines) + eol)
        else:
            sep = "data: " if style == "space" else "data:"
            out.append(f"{sep}{data}{eol}{eol}")
    if draw(st.booleans()):
        out.append(draw(st.sampled_from(COMMENTS)) + eol + eol)
    return "".join(out).encode("utf-8")


def feed_randomly(draw: Callable[..., Any], body: bytes, dialect: str, request: dict[str, Any]) -> Any:
    cuts = draw(st.lists(st.integers(0, len(body)), max_size=12))
    checker = StreamChecker(dialect=dialect, request=request)
    for part in split_at(body, cuts):
        checker.feed(part)
    return checker.close()


def triples(report: Any) -> set[tuple[str, int | None, str]]:
    return {(v.code, v.event, v.path) for v in report.violations}


def relevant(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields a stream must reproduce."""
    choices = []
    for c in sorted(doc["choices"], key=lambda c: c["index"]):
        message = c["message"]
        calls = [
            {"id": t["id"], "type": t["type"], "function": dict(t["function"])} for t in message.get("tool_calls") or []
        ]
        choices.append(
            {
                "index": c["index"],
                "role": message["role"],
                "content": message["content"],
                "tool_calls": calls,
                "finish_reason": c["finish_reason"],
            }
        )
    return {
        "id": doc["id"],
        "model": doc["model"],
        "created": doc["created"],
        "choices": choices,
        "usage": doc.get("usage"),
    }


# -- properties --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@RESPONSE_PROPS
@given(data=st.data())
def test_generated_response_itself_conforms(dialect: str, data: st.DataObject) -> None:
    resp = data.draw(response(dialect))
    assert (
        check(resp, dialect=dialect, stream=False, request={**request_for(resp, dialect), "stream": False}).violations
        == ()
    )


@pytest.mark.parametrize("dialect", DIALECTS)
@PROPS
@given(data=st.data())
def test_split_stream_conforms_and_assembles_back(dialect: str, data: st.DataObject) -> None:
    resp = data.draw(response(dialect))
    request = request_for(resp, dialect)
    stream = data.draw(stream_of(resp, dialect))
    body = data.draw(serialize(stream))
    report = feed_randomly(data.draw, body, dialect, request)
    assert report.violations == (), str(report)
    assert relevant(assemble(body, dialect=dialect)) == relevant(resp)
    assert relevant(assemble(stream.events, dialect=dialect)) == relevant(resp)


MUTATIONS = ("drop-finish", "drop-done", "change-id", "empty-finish", "duplicate-final", "drop-role")


@pytest.mark.parametrize("dialect", DIALECTS)
@PROPS
@given(data=st.data(), mutation=st.sampled_from(MUTATIONS))
def test_one_mutation_is_reported_at_its_event(dialect: str, data: st.DataObject, mutation: str) -> None:
    resp = data.draw(response(dialect))
    request = request_for(resp, dialect)
    stream = data.draw(stream_of(resp, dialect))
    events = stream.events
    expected: set[tuple[str, int | None, str]]
    with_choices = [n for n, e in enumerate(events) if e["choices"]]
    if mutation == "drop-finish":
        index = data.draw(st.sampled_from(sorted(stream.finish_event)))
        events[stream.finish_event[index]]["choices"][0]["finish_reason"] = None
        expected = {("CC309", None, f"$.choices[{index}]")}
    elif mutation == "drop-done":
        stream.done = False
        expected = {("CC303", None, "$")}
    elif mutation == "change-id":
        at = data.draw(st.integers(1, len(events) - 1))  # every stream has at least two chunks
        events[at]["id"] = events[at]["id"] + "-other"
        expected = {("CC306", at, "$.id")}
    elif mutation == "empty-finish":
        at = data.draw(st.sampled_from(with_choices))
        ch = events[at]["choices"][0]
        expected = {("CC103", at, "$.choices[0].finish_reason")}
        if ch["finish_reason"] is not None:  # it was the choice's finishing chunk: the choice never finishes now
            expected.add(("CC309", None, f"$.choices[{ch['index']}]"))
        ch["finish_reason"] = ""
    elif mutation == "duplicate-final":
        at = with_choices[-1]
        dup = copy.deepcopy(events[at])
        events.insert(at + 1, dup)
        expected = {("CC310", at + 1, "$.choices[0].finish_reason")}
        delta = dup["choices"][0]["delta"]
        if delta.get("content") or delta.get("tool_calls"):
            expected.add(("CC311", at + 1, "$.choices[0].delta"))
    else:  # drop-role
        index = data.draw(st.sampled_from(sorted(stream.first_event)))
        at = stream.first_event[index]
        del events[at]["choices"][0]["delta"]["role"]
        expected = {("CC308", at, "$.choices[0].delta")}
    body = data.draw(serialize(stream))
    report = feed_randomly(data.draw, body, dialect, request)
    assert triples(report) == expected, str(report)
    # The whole-body check agrees with the incremental one.
    assert check(body, dialect=dialect, stream=True, request=request).violations == report.violations
