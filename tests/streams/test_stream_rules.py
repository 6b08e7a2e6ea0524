"""Per CC3xx rule: a bad and a good stream with the exact ``(code, event, path)`` set; the assembled-response
rules (event None); the text report; and the StreamChecker API (chunking, close, feed after close)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chatcontract import UsageError, check
from chatcontract.streams import StreamChecker, assemble

from .helpers import (
    DIALECTS,
    REQUEST_PLAIN,
    REQUEST_USAGE,
    USAGE,
    bytewise,
    check_stream,
    choice,
    chunk,
    events_ok,
    final,
    first,
    middle,
    request_for,
    split_at,
    sse,
    triples,
    usage_chunk,
)

FR = "$.choices[0].finish_reason"
TOOLS_REQUEST: dict[str, Any] = {
    **REQUEST_PLAIN,
    "tools": [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
        }
    ],
}


def tail(dialect: str) -> list[dict[str, Any]]:
    return [usage_chunk()] if dialect == "openai" else []


def run(dialect: str, text: str | bytes, request: Any = "default") -> Any:
    return check_stream(text, dialect, request=request_for(dialect) if request == "default" else request)


def ok_text(dialect: str, eol: str = "\n") -> str:
    return sse(*events_ok(dialect), eol=eol)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_good_stream_conforms(dialect: str) -> None:
    report = run(dialect, ok_text(dialect))
    assert report.violations == ()
    assert report.ok
    assert report.kind == "stream"
    assert str(report) == f"chat completion stream ({dialect}): conforms"


# -- CC301 chunk-not-json -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ['{"id": "c1", "choices": [', "[1, 2]", "hello", '"text"', "null"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc301_chunk_not_json(dialect: str, bad: str) -> None:
    text = sse(first(dialect), bad, final(dialect), *tail(dialect))
    assert triples(run(dialect, text)) == {("CC301", 1, "$")}


@pytest.mark.parametrize("lost", ["first", "final"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc301_what_a_lost_chunk_carried_is_not_reported_again(dialect: str, lost: str) -> None:
    # The chunk with the role (then: no CC308 on the next delta) or with the finish reason and usage (then: no
    # CC309, no usage finding, no judgement of the assembled answer): CC301 alone, one cause, one finding.
    events: list[Any] = [first(dialect), final(dialect)]
    at = 0 if lost == "first" else 1
    events[at] = "{not json"
    text = sse(*events, *tail(dialect))
    assert triples(run(dialect, text)) == {("CC301", at, "$")}


# -- CC302 stream-truncated -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc302_stream_truncated(dialect: str) -> None:
    good = ok_text(dialect)
    # The [DONE] event without its terminating blank line: discarded, so [DONE] never arrived; that is the cut's
    # consequence, not a second finding (no CC303)
    bad = good[: -len("\n\n")]
    assert triples(run(dialect, bad)) == {("CC302", len(events_ok(dialect)), "$")}
    assert run(dialect, good).violations == ()


# -- CC303 missing-done ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc303_missing_done(dialect: str) -> None:
    assert triples(run(dialect, sse(*events_ok(dialect), done=False))) == {("CC303", None, "$")}
    assert run(dialect, ok_text(dialect)).violations == ()


# -- CC304 data-after-done ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc304_data_after_done(dialect: str) -> None:
    n = len(events_ok(dialect))
    bad = ok_text(dialect) + "data: [DONE]\n\n"
    assert triples(run(dialect, bad)) == {("CC304", n + 1, "$")}
    # Comments after [DONE] are not data.
    assert run(dialect, ok_text(dialect) + ": bye\n\n").violations == ()
    # A chunk after [DONE] (a server replaying its final chunk): clients stopped reading, so it is CC304 alone,
    # not also judged as a second finish (CC310) or a changed id (CC306)
    replayed = {**final(dialect), "id": "other"}
    assert triples(run(dialect, ok_text(dialect) + sse(replayed, done=False))) == {("CC304", n + 1, "$")}


# -- CC305 empty-stream ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "data: [DONE]\n\n", ": ping\n\n: ping\n\n"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc305_empty_stream(dialect: str, body: str) -> None:
    assert triples(run(dialect, body)) == {("CC305", None, "$")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc305_only_empty_choices(dialect: str) -> None:
    # Chunks, but none carries a choice.
    text = sse(chunk([], usage=dict(USAGE)))
    report = run(dialect, text, request=REQUEST_USAGE if dialect == "openai" else None)
    assert ("CC305", None, "$") in triples(report)


# -- CC306 chunk-metadata-changed --------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [("id", "c2"), ("model", "m2"), ("created", 1700000001)])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc306_metadata_changed(dialect: str, key: str, value: Any) -> None:
    changed = middle(dialect, **{key: value})
    text = sse(first(dialect), middle(dialect), changed, final(dialect), *tail(dialect))
    assert triples(run(dialect, text)) == {("CC306", 2, f"$.{key}")}


# -- CC307 unexpected-chunk-object (mistral) ----------------------------------------------------------------------


def test_cc307_mistral_object() -> None:
    text = sse(first("mistral"), middle("mistral", object="chat.completion"), final("mistral"))
    report = run("mistral", text)
    assert triples(report) == {("CC307", 1, "$.object")}
    assert report.ok  # a warning
    # object is optional in Mistral chunks
    events = [first("mistral"), middle("mistral"), final("mistral")]
    for e in events:
        del e["object"]
    assert run("mistral", sse(*events)).violations == ()


def test_cc307_is_cc103_under_openai() -> None:
    text = sse(first("openai"), middle("openai", object="chat.completion"), final("openai"), usage_chunk())
    assert triples(run("openai", text)) == {("CC103", 1, "$.object")}


# -- CC308 first-delta-without-role --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc308_first_delta_without_role(dialect: str) -> None:
    text = sse(middle(dialect, "Hel"), final(dialect), *tail(dialect))
    assert triples(run(dialect, text)) == {("CC308", 0, "$.choices[0].delta")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc308_second_choice_without_role(dialect: str) -> None:
    request = {**(request_for(dialect) or REQUEST_PLAIN), "n": 2}
    u: dict[str, Any] = {"usage": dict(USAGE)} if dialect == "mistral" else {}
    good_events = [
        chunk([choice(dialect, {"role": "assistant", "content": "a"})]),
        chunk([choice(dialect, {"role": "assistant", "content": "b"}, index=1)]),
        chunk([choice(dialect, {}, "stop")]),
        chunk([choice(dialect, {}, "stop", index=1)], **u),
        *tail(dialect),
    ]
    assert run(dialect, sse(*good_events), request=request).violations == ()
    bad_events = list(good_events)
    bad_events[1] = chunk([choice(dialect, {"content": "b"}, index=1)])
    assert triples(run(dialect, sse(*bad_events), request=request)) == {("CC308", 1, "$.choices[0].delta")}


# -- CC309 choice-never-finishes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc309_second_choice_never_finishes(dialect: str) -> None:
    request = {**(request_for(dialect) or REQUEST_PLAIN), "n": 2}
    u: dict[str, Any] = {"usage": dict(USAGE)} if dialect == "mistral" else {}
    events = [
        chunk(
            [choice(dialect, {"role": "assistant", "content": "a"}), choice(dialect, {"role": "assistant"}, index=1)]
        ),
        chunk([choice(dialect, {}, "stop")], **u),
        *tail(dialect),
    ]
    assert triples(run(dialect, sse(*events), request=request)) == {("CC309", None, "$.choices[1]")}
    events[1] = chunk([choice(dialect, {}, "stop"), choice(dialect, {}, "length", index=1)], **u)
    assert run(dialect, sse(*events), request=request).violations == ()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc309_an_unfinished_choice_is_not_judged_as_an_answer(dialect: str) -> None:
    # A choice cut before its tool call and its closing brace: CC309 alone, not also "tool_choice not honoured"
    # (CC409) or "content is not JSON" (CC404), which judge a finished answer. The finished choice still is.
    request = {
        **(request_for(dialect) or REQUEST_PLAIN),
        "n": 2,
        "tool_choice": "required",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "response_format": {"type": "json_object"},
    }
    u: dict[str, Any] = {"usage": dict(USAGE)} if dialect == "mistral" else {}
    events = [
        chunk(
            [
                choice(dialect, {"role": "assistant", "content": '{"a": '}),
                choice(dialect, {"role": "assistant"}, index=1),
            ]
        ),
        chunk([choice(dialect, {"content": "1}"}, "stop")], **u),
        *tail(dialect),
    ]
    assert triples(run(dialect, sse(*events), request=request)) == {
        ("CC309", None, "$.choices[1]"),
        ("CC409", None, "$.choices[0].message"),  # the finished choice made no call
    }


# -- CC310 multiple-finish-reasons ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc310_finishes_twice(dialect: str) -> None:
    u: dict[str, Any] = {"usage": dict(USAGE)} if dialect == "mistral" else {}
    text = sse(
        chunk([choice(dialect, {"role": "assistant", "content": "Hi"}, "stop")]),
        chunk([choice(dialect, {}, "stop")], **u),
        *tail(dialect),
    )
    assert triples(run(dialect, text)) == {("CC310", 1, FR)}


# -- CC311 delta-after-finish --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc311_content_after_finish(dialect: str) -> None:
    text = sse(first(dialect), final(dialect), middle(dialect, "!"), *tail(dialect))
    assert triples(run(dialect, text)) == {("CC311", 2, "$.choices[0].delta")}
    # An empty delta after the finish reason carries nothing: fine.
    text = sse(first(dialect), final(dialect), chunk([choice(dialect, {"content": ""})]), *tail(dialect))
    assert run(dialect, text).violations == ()


def test_cc311_tool_call_after_finish() -> None:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    text = sse(
        chunk([choice("openai", {"role": "assistant", "content": None}, "stop")]),
        chunk([choice("openai", {"tool_calls": [call]})]),
    )
    found = triples(run("openai", text, request=TOOLS_REQUEST))
    assert ("CC311", 1, "$.choices[0].delta") in found


# -- CC312 stream-usage-missing (mistral) ------------------------------------------------------------------------


def test_cc312_mistral_usage_missing() -> None:
    last = final("mistral")
    del last["usage"]
    report = run("mistral", sse(first("mistral"), last))
    assert triples(report) == {("CC312", None, "$")}
    assert report.ok
    assert run("mistral", sse(first("mistral"), final("mistral"))).violations == ()


# -- CC313 requested-usage-missing / CC314 usage-chunk-misplaced / CC320 unrequested usage (openai) ------------------


def test_cc313_requested_usage_missing() -> None:
    assert triples(run("openai", sse(first("openai"), final("openai")), request=REQUEST_USAGE)) == {
        ("CC313", None, "$")
    }
    assert run("openai", sse(first("openai"), final("openai"), usage_chunk()), request=REQUEST_USAGE).violations == ()


def test_cc314_usage_on_a_chunk_with_choices() -> None:
    text = sse(first("openai"), final("openai", usage=dict(USAGE)))
    assert triples(run("openai", text, request=REQUEST_USAGE)) == {("CC314", 1, "$.usage")}


def test_cc314_usage_chunk_not_last() -> None:
    text = sse(first("openai"), usage_chunk(), final("openai"))
    assert triples(run("openai", text, request=REQUEST_USAGE)) == {("CC314", 1, "$.usage")}


def test_cc314_usage_twice() -> None:
    text = sse(first("openai"), final("openai"), usage_chunk(), usage_chunk())
    assert triples(run("openai", text, request=REQUEST_USAGE)) == {("CC314", 3, "$.usage")}


def test_cc320_unrequested_usage() -> None:
    text = sse(first("openai"), final("openai"), usage_chunk())
    report = run("openai", text, request=REQUEST_PLAIN)
    assert triples(report) == {("CC320", 2, "$.usage")}
    assert report.ok


def test_usage_rules_do_not_apply_to_mistral() -> None:
    # CC313, CC314, CC320 are OpenAI rules; a Mistral stream with usage on its final chunk conforms.
    text = sse(first("mistral"), final("mistral"))
    assert run("mistral", text, request={**REQUEST_PLAIN, "stream_options": {"include_usage": True}}).violations == ()


# -- CC315 error-in-stream -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc315_error_event(dialect: str) -> None:
    error = {"message": "overloaded", "type": "server_error", "param": None, "code": None}
    text = sse(first(dialect), middle(dialect), {"error": error}, done=False)
    assert triples(run(dialect, text)) == {("CC315", 2, "$.error")}
    # A falsy "error" key on a normal chunk is not an error event.
    text = sse(first(dialect, error=None), middle(dialect), final(dialect), *tail(dialect))
    assert run(dialect, text).violations == ()


def test_cc315_finish_reason_error_mistral() -> None:
    assert triples(run("mistral", sse(first("mistral"), final("mistral", finish="error")))) == {("CC315", 1, FR)}


# -- CC316 tool-call-fragment-invalid (openai) --------------------------------------------------------------------


def _tool_stream(head: dict[str, Any], *rest: dict[str, Any]) -> str:
    return sse(
        chunk([choice("openai", {"role": "assistant", "content": None, "tool_calls": [head]})]),
        *(chunk([choice("openai", {"tool_calls": [r]})]) for r in rest),
        chunk([choice("openai", {}, "tool_calls")]),
    )


GOOD_HEAD = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}


def test_cc316_good_fragments() -> None:
    text = _tool_stream(
        GOOD_HEAD, {"index": 0, "function": {"arguments": '{"a"'}}, {"index": 0, "function": {"arguments": ": 1}"}}
    )
    assert run("openai", text, request=TOOLS_REQUEST).violations == ()
    calls = assemble(text, dialect="openai")["choices"][0]["message"]["tool_calls"]
    assert calls == [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"a": 1}'}}]


@pytest.mark.parametrize("missing", ["id", "type", "name"])
def test_cc316_first_fragment_lacks(missing: str) -> None:
    head = json.loads(json.dumps(GOOD_HEAD))
    if missing == "name":
        del head["function"]["name"]
    else:
        del head[missing]
    text = _tool_stream(head, {"index": 0, "function": {"arguments": "{}"}})
    assert triples(run("openai", text, request=TOOLS_REQUEST)) == {("CC316", 0, "$.choices[0].delta.tool_calls[0]")}


def test_cc316_id_changes_mid_call() -> None:
    text = _tool_stream(GOOD_HEAD, {"index": 0, "id": "call_2", "function": {"arguments": "{}"}})
    assert triples(run("openai", text, request=TOOLS_REQUEST)) == {("CC316", 1, "$.choices[0].delta.tool_calls[0].id")}


def test_cc316_does_not_apply_to_mistral_whole_calls() -> None:
    call = {"id": "abcDEF123", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    text = sse(
        chunk([choice("mistral", {"role": "assistant", "content": "", "tool_calls": [call]})]),
        chunk([choice("mistral", {"content": ""}, "tool_calls")], usage=dict(USAGE)),
    )
    assert run("mistral", text, request=TOOLS_REQUEST).violations == ()


# -- CC317 empty-choices-chunk ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc317_empty_choices(dialect: str) -> None:
    text = sse(first(dialect), chunk([]), final(dialect), *tail(dialect))
    report = run(dialect, text)
    assert triples(report) == {("CC317", 1, "$.choices")}
    assert report.ok


# -- CC318 sse-anomaly ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix_line", "event"),
    [("foo: bar\n", 1), ("retry: soon\n", 1), ("id: a\0b\n", 1)],
    ids=["unknown-field", "bad-retry", "nul-in-id"],
)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc318_anomalies(dialect: str, prefix_line: str, event: int) -> None:
    events = events_ok(dialect)
    text = sse(events[0], done=False) + prefix_line + sse(*events[1:])
    report = run(dialect, text)
    assert triples(report) == {("CC318", event, "$")}
    assert report.ok


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc318_mixed_line_endings(dialect: str) -> None:
    text = ok_text(dialect)
    mixed = text.replace("\n", "\r\n", 2)
    assert triples(run(dialect, mixed)) == {("CC318", None, "$")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_legal_sse_fields_are_not_anomalies(dialect: str) -> None:
    events = events_ok(dialect)
    parts = ["retry: 3000\n"]
    for n, e in enumerate(events):
        parts.append(f"id: {n}\nevent: message\ndata:{json.dumps(e)}\n\n")  # no space after the colon is legal
    parts.append("id: done\ndata: [DONE]\n\n")
    assert run(dialect, "".join(parts)).violations == ()


# -- CC319 sse-event-too-large ----------------------------------------------------------------------------------------


def test_cc319_event_too_large() -> None:
    huge = '{"pad": "' + "x" * (16 * 1024 * 1024 + 10) + '"}'
    text = sse(first("openai"), huge, final("openai"), usage_chunk())
    assert triples(run("openai", text)) == {("CC319", 1, "$")}


def test_event_index_after_a_dropped_oversized_event() -> None:
    # The oversized event is the stream's second event (index 1): the events after it keep their own indices, so a
    # finding on the third event is reported at event 2, not at event 1 next to the CC319.
    huge = '{"pad": "' + "x" * (16 * 1024 * 1024 + 10) + '"}'
    text = sse(first("openai"), huge, middle("openai", object="chat.completion"), final("openai"), usage_chunk())
    assert triples(run("openai", text)) == {("CC319", 1, "$"), ("CC103", 2, "$.object")}


# -- assembled-response rules (event None) -------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc201_usage_arithmetic_on_assembled_usage(dialect: str) -> None:
    bad = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 9}
    if dialect == "mistral":
        text = sse(first(dialect), final(dialect, usage=bad))
    else:
        text = sse(first(dialect), final(dialect), usage_chunk(bad))
    report = run(dialect, text)
    assert triples(report) == {("CC201", None, "$.usage.total_tokens")}


def test_cc207_arguments_assembled_from_fragments_do_not_parse() -> None:
    text = _tool_stream(
        GOOD_HEAD, {"index": 0, "function": {"arguments": '{"city": '}}, {"index": 0, "function": {"arguments": '"Par'}}
    )
    assert triples(run("openai", text, request=TOOLS_REQUEST)) == {
        ("CC207", None, "$.choices[0].message.tool_calls[0].function.arguments")
    }


def test_cc207_mistral_whole_call_arguments_do_not_parse() -> None:
    call = {"id": "abcDEF123", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": '}}
    text = sse(
        chunk([choice("mistral", {"role": "assistant", "content": "", "tool_calls": [call]})]),
        chunk([choice("mistral", {"content": ""}, "tool_calls")], usage=dict(USAGE)),
    )
    assert triples(run("mistral", text, request=TOOLS_REQUEST)) == {
        ("CC207", None, "$.choices[0].message.tool_calls[0].function.arguments")
    }


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc401_n2_but_one_choice_streamed(dialect: str) -> None:
    request = {**(request_for(dialect) or REQUEST_PLAIN), "n": 2}
    report = run(dialect, ok_text(dialect), request=request)
    assert triples(report) == {("CC401", None, "$.choices")}
    assert run(dialect, ok_text(dialect), request={**request, "n": 1}).violations == ()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cc402_max_tokens_exceeded(dialect: str) -> None:
    big = {"prompt_tokens": 3, "completion_tokens": 50, "total_tokens": 53}
    request = {**(request_for(dialect) or REQUEST_PLAIN), "max_tokens": 10}
    if dialect == "mistral":
        text = sse(first(dialect), final(dialect, finish="length", usage=big))
    else:
        text = sse(first(dialect), final(dialect, finish="length"), usage_chunk(big))
    assert triples(run(dialect, text, request=request)) == {("CC402", None, "$.usage.completion_tokens")}
    ok = {"prompt_tokens": 3, "completion_tokens": 10, "total_tokens": 13}
    if dialect == "mistral":
        text = sse(first(dialect), final(dialect, finish="length", usage=ok))
    else:
        text = sse(first(dialect), final(dialect, finish="length"), usage_chunk(ok))
    assert run(dialect, text, request=request).violations == ()


def test_assembled_rules_are_not_run_on_an_errored_stream() -> None:
    error = {"message": "boom", "type": "server_error", "param": None, "code": None}
    text = sse(first("openai"), {"error": error}, done=False)
    assert triples(run("openai", text, request={**REQUEST_USAGE, "n": 2})) == {("CC315", 1, "$.error")}


# -- the text report --------------------------------------------------------------------------------------------------


def test_text_report_shows_event_and_path() -> None:
    text = sse(first("openai"), middle("openai"), middle("openai"), final("openai", finish=""))
    report = run("openai", text, request=REQUEST_PLAIN)
    assert triples(report) == {("CC103", 3, FR), ("CC309", None, "$.choices[0]")}
    rendered = str(report)
    assert rendered.startswith("2 contract violations in chat completion stream (openai)")
    assert "CC103 invalid-enum-value at event 3  $.choices[0].finish_reason  [error]" in rendered
    assert "CC309 choice-never-finishes at $.choices[0]  [error]" in rendered
    assert [v.to_dict().get("event") for v in report.violations] == [3, None]


def test_violations_sorted_by_event_then_whole_stream() -> None:
    text = sse(middle("openai", object="x"), middle("openai", id="c9"), final("openai", finish="end"), done=False)
    report = run("openai", text, request=REQUEST_PLAIN)
    events = [v.event for v in report.violations]
    assert events == sorted(events, key=lambda e: float("inf") if e is None else e)
    assert triples(report) == {
        ("CC308", 0, "$.choices[0].delta"),
        ("CC103", 0, "$.object"),
        ("CC306", 1, "$.id"),
        ("CC103", 2, FR),  # "end" is not a valid finish reason, but the choice did finish: no CC309
        ("CC303", None, "$"),
    }


# -- StreamChecker API ---------------------------------------------------------------------------------------------

SAMPLES = {
    "good-mistral": ("mistral", ok_text("mistral")),
    "good-openai-crlf": ("openai", ok_text("openai", "\r\n")),
    "good-openai-cr": ("openai", ok_text("openai", "\r")),
    "bom": ("mistral", "\ufeff" + ok_text("mistral")),
    "utf8-content": ("mistral", sse(first("mistral", "héllo wörld ✓ 😀"), final("mistral", "ñ"))),
    "faults": (
        "openai",
        sse(middle("openai"), middle("openai", id="x"), final("openai", finish=""), "{bad", done=False)
        + 'data: {"id": "c1", "cho',
    ),
    "invalid-utf8": ("openai", sse(first("openai"), middle("openai", "@@"), final("openai"), usage_chunk())),
}


def _body(name: str) -> tuple[str, bytes]:
    dialect, text = SAMPLES[name]
    body = text.encode("utf-8")
    if name == "invalid-utf8":
        body = body.replace(b"@@", b"\xe2\x82", 1)
    return dialect, body


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_byte_by_byte_equals_at_once(name: str) -> None:
    dialect, body = _body(name)
    whole = StreamChecker(dialect=dialect, request=request_for(dialect))
    whole.feed(body)
    expected = whole.close()
    one = StreamChecker(dialect=dialect, request=request_for(dialect))
    for b in bytewise(body):
        one.feed(b)
    assert one.close() == expected
    odd = StreamChecker(dialect=dialect, request=request_for(dialect))
    for part in split_at(body, range(0, len(body), 13)):
        odd.feed(memoryview(part))
    assert odd.close() == expected
    # and check() on the whole body agrees
    assert check(body, dialect=dialect, stream=True, request=request_for(dialect)).violations == expected.violations


def test_feed_after_close_raises_usage_error() -> None:
    checker = StreamChecker(dialect="openai")
    checker.feed(ok_text("openai"))
    checker.close()
    with pytest.raises(UsageError):
        checker.feed(b"data: [DONE]\n\n")


def test_feed_chunk_after_close_raises_usage_error() -> None:
    checker = StreamChecker(dialect="openai")
    checker.feed_chunk(first("openai"))
    report = checker.close()
    with pytest.raises(UsageError):
        checker.feed_chunk(final("openai"))
    assert checker.close() is report


def test_feed_str_with_a_lone_surrogate_is_reported_like_check() -> None:
    # check() encodes str input with surrogatepass and reports invalid UTF-8; feed(str) must not raise instead.
    text = sse(first("openai", "a\ud800b"), final("openai"), usage_chunk())
    expected = check(text, dialect="openai", stream=True, request=REQUEST_USAGE)
    assert ("CC002", 0, "$") in triples(expected)
    checker = StreamChecker(dialect="openai", request=REQUEST_USAGE)
    checker.feed(text)
    assert checker.close() == expected


def test_close_twice_returns_the_same_report() -> None:
    checker = StreamChecker(dialect="mistral")
    checker.feed(sse(first("mistral"), final("mistral", finish=""), done=False))
    report = checker.close()
    assert checker.close() is report
    assert report.codes() == ["CC103", "CC303", "CC309"]


def test_parsed_chunks_of_a_conforming_stream_conform() -> None:
    # feed_chunk is for SDK streams, which consume [DONE] themselves: a conforming stream fed chunk by chunk
    # must not be reported as missing [DONE].
    checker = StreamChecker(dialect="openai", request=REQUEST_USAGE)
    for event in events_ok("openai"):
        checker.feed_chunk(event)
    assert checker.close().violations == ()


def test_feed_chunk_findings_have_event_indices() -> None:
    checker = StreamChecker(dialect="openai", request=REQUEST_PLAIN)
    for event in [first("openai"), middle("openai", id="c2"), final("openai", finish="")]:
        checker.feed_chunk(event)
    found = triples(checker.close())
    assert {("CC306", 1, "$.id"), ("CC103", 2, FR)} <= found


def test_assembled_reflects_what_was_fed_so_far() -> None:
    checker = StreamChecker(dialect="openai", request=REQUEST_USAGE)
    text = ok_text("openai")
    cut = text.index("data: ", 1)
    checker.feed(text[:cut])
    partial = checker.assembled()
    assert partial["choices"][0]["message"]["content"] == "Hel"
    assert partial["choices"][0]["finish_reason"] is None
    checker.feed(text[cut:])
    checker.close()
    full = checker.assembled()
    assert full == assemble(text, dialect="openai")
    assert full["choices"][0]["message"]["content"] == "Helllo"
    assert full["usage"] == USAGE


def test_consume_yields_parts_unchanged() -> None:
    body = ok_text("openai").encode()
    parts = split_at(body, [5, 50, 51, 300])
    checker = StreamChecker(dialect="openai", request=REQUEST_USAGE)
    assert list(checker.consume(iter(parts))) == parts
    assert checker.close().violations == ()


def test_aconsume_yields_parts_unchanged() -> None:
    body = sse(first("openai"), final("openai", finish="")).encode()
    parts = split_at(body, range(0, len(body), 17))

    async def source() -> AsyncIterator[bytes]:
        for p in parts:
            yield p

    async def main() -> list[bytes]:
        checker = StreamChecker(dialect="openai", request=REQUEST_PLAIN)
        out = [p async for p in checker.aconsume(source())]
        assert triples(checker.close()) == {("CC103", 1, FR), ("CC309", None, "$.choices[0]")}
        return out

    assert asyncio.run(main()) == parts


def test_check_routes_sse_text_to_the_stream_checker() -> None:
    report = check(ok_text("mistral"), dialect="mistral")
    assert report.kind == "stream"
    assert report.violations == ()
    # auto-detection also after a BOM or a leading comment
    assert check(": hi\n\n" + ok_text("mistral"), dialect="mistral").kind == "stream"
    assert check("\ufeff" + ok_text("mistral"), dialect="mistral").kind == "stream"


def test_check_list_of_parsed_chunks() -> None:
    report = check(events_ok("openai"), dialect="openai", stream=True, request=REQUEST_USAGE)
    assert report.kind == "stream"
    assert report.violations == ()


def test_unknown_dialect_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        StreamChecker(dialect="anthropic")


def test_select_and_ignore_apply_to_stream_rules() -> None:
    text = sse(first("openai"), final("openai", finish=""), done=False)
    assert {v.code for v in check(text, dialect="openai", stream=True, ignore=["CC303"]).violations} == {
        "CC103",
        "CC309",
    }
    assert check(text, dialect="openai", stream=True, select=["CC3"]).codes() == ["CC303", "CC309"]
    checker = StreamChecker(dialect="openai", select=["CC303"])
    checker.feed(text)
    assert checker.close().codes() == ["CC303"]
