"""Tests for chatcontract.sse: the WHATWG event-stream rules, anomaly reporting, chunking and bounds."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatcontract.sse import (
    ANOMALY_KINDS,
    BOM,
    EVENT_TOO_LARGE,
    INVALID_RETRY,
    INVALID_UTF8,
    LINE_TOO_LONG,
    MIXED_LINE_ENDINGS,
    NUL_IN_ID,
    UNKNOWN_FIELD,
    UNTERMINATED_EVENT,
    SSEAnomaly,
    SSEEvent,
    SSEParser,
    looks_like_sse,
    parse_sse,
)

# -- helpers -------------------------------------------------------------------------------------------------


def feed_chunks(chunks: Iterable[bytes], **kwargs: int) -> tuple[list[SSEEvent], SSEParser]:
    parser = SSEParser(**kwargs)
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    events += parser.close()
    return events, parser


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def datas(events: Sequence[SSEEvent]) -> list[str]:
    return [e.data for e in events]


def kinds(anomalies: Sequence[SSEAnomaly]) -> list[str]:
    return [a.kind for a in anomalies]


def outcome(parser: SSEParser, events: list[SSEEvent]) -> tuple[object, ...]:
    return (events, parser.anomalies, parser.comments, parser.bytes_seen, parser.last_event_id, parser.retry)


def all_ways(data: bytes, **kwargs: int) -> tuple[list[SSEEvent], SSEParser]:
    """Parse at once, byte by byte and in a few fixed splits; assert they agree; return the at-once result."""
    events, parser = feed_chunks([data], **kwargs)
    expected = outcome(parser, events)
    for chunks in (
        bytewise(data),
        split_at(data, range(0, len(data), 3)),
        split_at(data, range(1, len(data), 2)),
    ):
        ev2, p2 = feed_chunks(chunks, **kwargs)
        assert outcome(p2, ev2) == expected, chunks
    return events, parser


_EOL = re.compile(r"\r\n|\r|\n")


def reference(stream: bytes) -> tuple[list[tuple[str, str | None, str | None, int | None, int]], int]:
    """A literal transcription of the WHATWG algorithm on the decoded text: (data, event, id, retry, line)."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines: list[str] = []
    start = 0
    for m in _EOL.finditer(text):
        lines.append(text[start : m.start()])
        start = m.end()
    if start < len(text):
        lines.append(text[start:])  # the final unterminated line is still a line (its event is discarded)
    events: list[tuple[str, str | None, str | None, int | None, int]] = []
    data, etype, eid, retry, first = "", None, None, None, 0
    comments = 0
    for lineno, line in enumerate(lines, 1):
        if line == "":
            if data:
                events.append((data[:-1] if data.endswith("\n") else data, etype, eid, retry, first))
            data, etype, eid, retry, first = "", None, None, None, 0
            continue
        if line.startswith(":"):
            comments += 1
            continue
        if not first:
            first = lineno
        if ":" in line:
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "data":
            data += value + "\n"
        elif field == "event":
            etype = value
        elif field == "id":
            if "\0" not in value:
                eid = value
        elif field == "retry":
            if value and all(c in "0123456789" for c in value):
                retry = int(value)
    return events, comments


def as_tuples(events: Sequence[SSEEvent]) -> list[tuple[str, str | None, str | None, int | None, int]]:
    return [(e.data, e.event, e.id, e.retry, e.line) for e in events]


# -- the public surface --------------------------------------------------------------------------------------


def test_kinds_are_the_documented_strings() -> None:
    assert {
        BOM,
        INVALID_UTF8,
        UNTERMINATED_EVENT,
        UNKNOWN_FIELD,
        INVALID_RETRY,
        NUL_IN_ID,
        LINE_TOO_LONG,
        EVENT_TOO_LARGE,
        MIXED_LINE_ENDINGS,
    } == ANOMALY_KINDS
    assert "bom" in ANOMALY_KINDS and "invalid-utf8" in ANOMALY_KINDS and "event-too-large" in ANOMALY_KINDS


def test_records_are_frozen_and_fast_constructed_events_equal_normal_ones() -> None:
    (event,), _ = parse_sse(b"event: e\nid: 7\nretry: 5\ndata: x\n\n")
    assert event == SSEEvent(index=0, data="x", event="e", id="7", retry=5, offset=0, line=1)
    assert type(event) is SSEEvent
    assert hash(event) == hash(SSEEvent(0, "x", "e", "7", 5, 0, 1))
    assert repr(event) == "SSEEvent(index=0, data='x', event='e', id='7', retry=5, offset=0, line=1)"
    assert dataclasses.asdict(event)["data"] == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]
    anomaly = SSEAnomaly("bom", "m", 0, 1, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        anomaly.kind = "x"  # type: ignore[misc]


def test_openai_style_stream() -> None:
    stream = (
        b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'
        b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    events, parser = all_ways(stream)
    assert datas(events) == [
        '{"choices":[{"delta":{"role":"assistant"}}]}',
        '{"choices":[{"delta":{"content":"Hi"}}]}',
        "[DONE]",
    ]
    assert [e.index for e in events] == [0, 1, 2]
    assert all(e.event is None and e.id is None and e.retry is None for e in events)
    assert parser.anomalies == []
    assert parser.events_dispatched == 3
    assert parser.bytes_seen == len(stream)


def test_done_is_an_ordinary_event_and_data_after_it_is_parsed() -> None:
    events, anomalies = parse_sse(b"data: [DONE]\n\ndata: more\n\n")
    assert datas(events) == ["[DONE]", "more"]
    assert anomalies == []


def test_parse_sse_accepts_str() -> None:
    events, anomalies = parse_sse("data: héllo\r\n\r\n")
    assert datas(events) == ["héllo"]
    assert anomalies == []


def test_feed_accepts_bytearray_and_memoryview() -> None:
    parser = SSEParser()
    assert datas(parser.feed(bytearray(b"data: a\n\n"))) == ["a"]
    assert datas(parser.feed(memoryview(b"data: b\n\n"))) == ["b"]


def test_feed_returns_events_as_soon_as_completed() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n") == []
    assert datas(parser.feed(b"\ndata: b")) == ["a"]
    assert parser.feed(b"\n") == []
    assert datas(parser.feed(b"\n")) == ["b"]
    assert parser.close() == []


def test_feed_after_close_raises_and_close_is_idempotent() -> None:
    parser = SSEParser()
    parser.feed(b"data: x\n\n")
    assert parser.close() == []
    assert parser.close() == []
    with pytest.raises(ValueError):
        parser.feed(b"data: y\n\n")


def test_empty_chunks_and_empty_stream() -> None:
    events, parser = feed_chunks([b"", b"data: x\n", b"", b"\n", b""])
    assert datas(events) == ["x"]
    assert parse_sse(b"") == ([], [])


def test_max_event_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SSEParser(max_event_bytes=0)


# -- line endings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending_style(eol: bytes) -> None:
    stream = b"data: a" + eol + b"data: b" + eol + eol + b": c" + eol + b"data: d" + eol + eol
    events, parser = all_ways(stream)
    assert datas(events) == ["a\nb", "d"]
    assert [e.line for e in events] == [1, 5]
    assert [e.offset for e in events] == [0, 2 * (7 + len(eol)) + len(eol) + 3 + len(eol)]
    assert parser.anomalies == []
    assert parser.comments == 1


def test_crlf_split_across_feeds_is_one_line_ending() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # the LF completes the CRLF: no blank line
    assert parser.feed(b"\r") != []  # a blank line (CR): dispatch at once
    assert parser.feed(b"\ndata: b\r\n\r") != []
    parser.close()
    assert parser.anomalies == []


def test_cr_at_chunk_end_dispatches_without_waiting_for_the_next_byte() -> None:
    parser = SSEParser()
    assert datas(parser.feed(b"data: a\r\r")) == ["a"]
    assert datas(parser.feed(b"data: b\r\r")) == ["b"]
    parser.close()
    assert parser.anomalies == []


def test_cr_then_lf_then_lf_is_a_blank_line() -> None:
    # "\r" "\n" is one ending, the following "\n" is a blank line.
    for chunks in ([b"data: a\r", b"\n", b"\n"], [b"data: a\r\n\n"], [b"data: a\r", b"\n\n"]):
        events, parser = feed_chunks(chunks)
        assert datas(events) == ["a"]
        assert kinds(parser.anomalies) == [MIXED_LINE_ENDINGS]  # CRLF then LF


def test_lone_cr_followed_by_non_lf_is_a_cr_ending() -> None:
    events, parser = feed_chunks([b"data: a\r", b"data: b\r", b"\r"])
    assert datas(events) == ["a\nb"]
    assert parser.anomalies == []


def test_trailing_cr_at_end_of_stream() -> None:
    events, parser = feed_chunks([b"data: a\r\r"])
    assert datas(events) == ["a"]
    assert parser.anomalies == []


def test_mixed_line_endings_reported_once_at_the_first_different_ending() -> None:
    stream = b"data: a\n\ndata: b\r\n\r\ndata: c\r\r"
    events, parser = all_ways(stream)
    assert datas(events) == ["a", "b", "c"]
    (mixed,) = parser.anomalies
    assert mixed.kind == MIXED_LINE_ENDINGS
    assert mixed.line == 3
    assert mixed.offset == stream.index(b"\r\n")
    assert mixed.event is None
    assert "CRLF" in mixed.message and "LF" in mixed.message


def test_mixed_line_endings_split_cr_lf_resolution() -> None:
    parser = SSEParser()
    parser.feed(b"data: a\n\ndata: b\r")
    assert parser.anomalies == []  # not known yet: CR or CRLF?
    parser.feed(b"x")  # "x" starts a new line: the ending was a lone CR
    assert kinds(parser.anomalies) == [MIXED_LINE_ENDINGS]
    assert parser.anomalies[0].offset == len(b"data: a\n\ndata: b")
    assert "CR" in parser.anomalies[0].message


# -- BOM -----------------------------------------------------------------------------------------------------


def test_bom_stripped_once_and_reported() -> None:
    stream = b"\xef\xbb\xbfdata: a\n\n"
    events, parser = all_ways(stream)
    assert datas(events) == ["a"]
    assert events[0].offset == 3 and events[0].line == 1
    assert kinds(parser.anomalies) == [BOM]
    assert parser.anomalies[0].offset == 0 and parser.anomalies[0].event is None


def test_second_bom_is_not_stripped() -> None:
    # The second BOM is part of the first line's field name: "\ufeffdata" is an unknown field.
    events, parser = all_ways(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n")
    assert events == []
    assert kinds(parser.anomalies) == [BOM, UNKNOWN_FIELD]


def test_bom_only_inside_the_stream_is_data() -> None:
    events, parser = all_ways(b"data: \xef\xbb\xbfa\n\n")
    assert datas(events) == ["\ufeffa"]
    assert parser.anomalies == []


@pytest.mark.parametrize("stream", [b"\xef", b"\xef\xbb", b"\xef\xbbx\n\n", b"\xefdata: a\n\n"])
def test_partial_bom_is_not_a_bom(stream: bytes) -> None:
    events, parser = all_ways(stream)
    assert events == []
    assert BOM not in kinds(parser.anomalies)
    assert INVALID_UTF8 in kinds(parser.anomalies)


def test_bom_only_stream() -> None:
    events, parser = all_ways(b"\xef\xbb\xbf")
    assert events == [] and kinds(parser.anomalies) == [BOM] and parser.bytes_seen == 3


# -- comments and fields -------------------------------------------------------------------------------------


def test_comments_and_keep_alives_are_legal_and_counted() -> None:
    stream = b": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: a\n: inside\ndata: b\n\n:\n\n"
    events, parser = all_ways(stream)
    assert datas(events) == ["a\nb"]
    assert parser.anomalies == []
    assert parser.comments == 4
    assert events[0].line == 5  # comments before the event do not start it


def test_exactly_one_space_after_colon_is_removed() -> None:
    events, _ = all_ways(b"data:a\n\ndata: a\n\ndata:  a\n\ndata:\ta\n\ndata: \n\ndata:\n\n")
    assert datas(events) == ["a", "a", " a", "\ta", "", ""]


def test_line_without_colon_is_a_field_with_empty_value() -> None:
    events, parser = all_ways(b"data\n\ndata\ndata\n\nevent\ndata: x\n\nid\ndata: y\n\n")
    assert datas(events) == ["", "\n", "x", "y"]
    assert events[2].event == ""
    assert events[3].id == ""
    assert parser.anomalies == []


def test_multiline_data_and_empty_data_lines() -> None:
    events, _ = all_ways(b"data: a\ndata:\ndata: b\ndata\n\n")
    assert datas(events) == ["a\n\nb\n"]


def test_value_may_contain_colons() -> None:
    events, _ = all_ways(b'data: {"a": "b:c"}\n\nevent: x:y\ndata: 1\n\n')
    assert datas(events) == ['{"a": "b:c"}', "1"]
    assert events[1].event == "x:y"


def test_field_names_are_case_sensitive_and_exact() -> None:
    events, parser = all_ways(b"Data: a\ndata : b\n data: c\nDATA: d\n\n")
    assert events == []
    assert kinds(parser.anomalies) == [UNKNOWN_FIELD] * 4
    assert "'Data'" in parser.anomalies[0].message
    assert [a.line for a in parser.anomalies] == [1, 2, 3, 4]


def test_event_field_last_one_wins_and_resets_after_dispatch() -> None:
    events, _ = all_ways(b"event: a\nevent: b\ndata: 1\n\ndata: 2\n\n")
    assert [(e.event, e.data) for e in events] == [("b", "1"), (None, "2")]


def test_event_type_resets_even_when_nothing_is_dispatched() -> None:
    events, _ = all_ways(b"event: lost\n\ndata: 1\n\n")
    assert [(e.event, e.data) for e in events] == [(None, "1")]


def test_id_field_and_last_event_id_persistence() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid:\ndata: c\n\nid: 9\n\n"
    events, parser = all_ways(stream)
    assert [(e.data, e.id) for e in events] == [("a", "1"), ("b", None), ("c", "")]
    assert parser.last_event_id == "9"  # set by a block without data, which dispatched nothing


def test_id_with_nul_is_ignored_and_reported() -> None:
    stream = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"
    events, parser = all_ways(stream)
    assert [(e.data, e.id) for e in events] == [("a", "1"), ("b", None)]
    assert parser.last_event_id == "1"
    (anomaly,) = parser.anomalies
    assert anomaly.kind == NUL_IN_ID
    assert anomaly.line == 4 and anomaly.offset == stream.index(b"id: 2") and anomaly.event == 1


def test_retry_field() -> None:
    stream = b"retry: 3000\ndata: a\n\nretry: 0012\n\ndata: b\n\n"
    events, parser = all_ways(stream)
    assert [(e.data, e.retry) for e in events] == [("a", 3000), ("b", None)]
    assert parser.retry == 12
    assert parser.anomalies == []


@pytest.mark.parametrize(
    "value",
    [b"", b"abc", b"1.5", b"-1", b"+1", b"  1", b"1 ", b"1_000", b"\xd9\xa1", b"\xef\xbc\x91", b"0x10"],
)
def test_retry_junk_is_ignored_and_reported(value: bytes) -> None:
    stream = b"retry: 100\n\nretry:" + value + b"\ndata: x\n\n"
    events, parser = all_ways(stream)
    assert [(e.data, e.retry) for e in events] == [("x", None)]
    assert parser.retry == 100
    assert INVALID_RETRY in kinds(parser.anomalies)
    assert parser.anomalies[-1].kind == INVALID_RETRY
    assert parser.anomalies[-1].line == 3


def test_retry_with_more_digits_than_int_accepts_is_reported_not_raised() -> None:
    events, parser = all_ways(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")
    assert datas(events) == ["x"]
    assert kinds(parser.anomalies) == [INVALID_RETRY]


def test_unknown_fields_are_ignored_and_reported() -> None:
    stream = b"foo: bar\ndata: a\nbaz\n\n"
    events, parser = all_ways(stream)
    assert datas(events) == ["a"]
    assert [(a.kind, a.line, a.offset, a.event) for a in parser.anomalies] == [
        (UNKNOWN_FIELD, 1, 0, 0),
        (UNKNOWN_FIELD, 3, stream.index(b"baz"), 0),
    ]
    assert events[0].line == 1  # an unknown field still starts the event's block


def test_block_without_data_dispatches_nothing() -> None:
    events, parser = all_ways(b"event: ping\n\nid: 5\n\nretry: 10\n\n\n\n\ndata: x\n\n")
    assert [(e.index, e.data, e.event, e.id, e.retry) for e in events] == [(0, "x", None, None, None)]
    assert parser.anomalies == []


# -- end of stream -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail", [b"data: last", b"data: last\n", b"data: last\r\n", b"data: last\r", b"data: last\ndata: more"]
)
def test_unterminated_final_event_is_discarded_and_reported(tail: bytes) -> None:
    stream = b"data: a\n\n" + tail
    events, parser = all_ways(stream)
    assert datas(events) == ["a"]
    (anomaly,) = [a for a in parser.anomalies if a.kind != MIXED_LINE_ENDINGS]
    assert anomaly.kind == UNTERMINATED_EVENT
    assert anomaly.offset == len(b"data: a\n\n") and anomaly.line == 3 and anomaly.event == 1


def test_final_line_without_newline_is_still_a_line() -> None:
    _, parser = all_ways(b"data: a\n\nbogus")
    assert kinds(parser.anomalies) == [UNKNOWN_FIELD]
    _, parser = all_ways(b"data: a\n\nid: 7")
    assert parser.last_event_id == "7"
    _, parser = all_ways(b"data: a\n\n: comment")
    assert parser.comments == 1 and parser.anomalies == []


def test_unterminated_block_without_data_is_not_reported() -> None:
    events, parser = all_ways(b"data: a\n\nevent: x\nid: 2\n")
    assert datas(events) == ["a"]
    assert parser.anomalies == []


# -- invalid UTF-8 -------------------------------------------------------------------------------------------


def test_invalid_utf8_is_replaced_and_reported_per_line() -> None:
    stream = b"data: ok\ndata: bad\xff\xfe here\n\nevent: \xc3\ndata: x\n\n: \x80 comment\n\n"
    events, parser = all_ways(stream)
    assert datas(events) == ["ok\nbad\ufffd\ufffd here", "x"]
    assert events[1].event == "\ufffd"
    assert [(a.kind, a.line, a.event) for a in parser.anomalies] == [
        (INVALID_UTF8, 2, 0),
        (INVALID_UTF8, 4, 1),
        (INVALID_UTF8, 7, 2),
    ]
    first = parser.anomalies[0]
    assert first.offset == stream.index(b"data: bad")
    assert "0xff" in first.message and str(stream.index(b"\xff")) in first.message


def test_utf8_split_across_chunks_is_fine() -> None:
    stream = "data: żółć 🎉\n\n".encode()
    events, parser = all_ways(stream)
    assert datas(events) == ["żółć 🎉"]
    assert parser.anomalies == []


def test_truncated_multibyte_sequence_at_line_end() -> None:
    events, parser = all_ways(b"data: \xe2\x82\ndata: b\n\n")
    assert datas(events) == ["\ufffd\nb"]
    assert kinds(parser.anomalies) == [INVALID_UTF8]


def test_invalid_utf8_in_unknown_field_reports_both() -> None:
    _, parser = all_ways(b"f\xffo: 1\ndata: x\n\n")
    assert kinds(parser.anomalies) == [INVALID_UTF8, UNKNOWN_FIELD]


# -- offsets and line numbers --------------------------------------------------------------------------------


def test_offsets_and_line_numbers() -> None:
    stream = b": hi\r\n\r\nevent: e\r\ndata: 1\r\n\r\ndata: 2\r\ndata: 3\r\n\r\n"
    events, _ = all_ways(stream)
    assert [(e.index, e.offset, e.line) for e in events] == [
        (0, stream.index(b"event:"), 3),
        (1, stream.index(b"data: 2"), 6),
    ]


def test_offsets_count_bytes_not_characters() -> None:
    stream = "data: żółć\n\ndata: x\n\n".encode()
    events, _ = all_ways(stream)
    assert events[1].offset == stream.index(b"data: x") == 16  # "żółć" is 8 bytes


# -- bounded memory ------------------------------------------------------------------------------------------


def test_event_too_large_is_dropped_and_parsing_continues() -> None:
    big = b"data: " + b"x" * 60 + b"\n"
    stream = b"data: small\n\n" + big * 3 + b"id: 4\n: c\n\ndata: after\n\n"
    events, parser = all_ways(stream, max_event_bytes=100)
    assert [(e.index, e.data) for e in events] == [(0, "small"), (2, "after")]  # the dropped event keeps index 1
    (anomaly,) = parser.anomalies
    assert anomaly.kind == EVENT_TOO_LARGE
    assert anomaly.line == 4 and anomaly.offset == len(b"data: small\n\n") + len(big)
    assert anomaly.event == 1
    assert parser.last_event_id == ""  # the rest of the oversized event was skipped, its id too
    assert parser.comments == 0


def test_line_too_long_is_dropped_and_parsing_continues() -> None:
    stream = b"data: a\n\ndata: " + b"y" * 500 + b"\ndata: b\n\ndata: c\n\n"
    events, parser = all_ways(stream, max_event_bytes=64)
    assert [(e.index, e.data) for e in events] == [(0, "a"), (2, "c")]
    (anomaly,) = parser.anomalies
    assert anomaly.kind == LINE_TOO_LONG
    assert anomaly.line == 3 and anomaly.offset == 9 and anomaly.event == 1


def test_line_too_long_unterminated_at_end_of_stream() -> None:
    events, parser = all_ways(b"data: a\n\n:" + b"z" * 200, max_event_bytes=64)
    assert datas(events) == ["a"]
    assert kinds(parser.anomalies) == [LINE_TOO_LONG]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_overlong_line_ending_styles(eol: bytes) -> None:
    stream = b"data: " + b"q" * 100 + eol + eol + b"data: ok" + eol + eol
    events, parser = all_ways(stream, max_event_bytes=50)
    assert datas(events) == ["ok"]
    assert kinds(parser.anomalies) == [LINE_TOO_LONG]


def test_memory_stays_bounded_with_a_huge_line_fed_in_small_chunks() -> None:
    parser = SSEParser(max_event_bytes=1000)
    parser.feed(b"data: ")
    for _ in range(2000):
        parser.feed(b"x" * 100)
        assert parser._pending_len <= 1000  # white-box check of the bound
        assert sum(map(len, parser._pending)) <= 1000
    assert datas(parser.feed(b"\n\ndata: next\n\n")) == ["next"]
    assert kinds(parser.anomalies) == [LINE_TOO_LONG]
    assert parser.bytes_seen == 6 + 200_000 + 14


def test_anomaly_list_is_capped_but_counted() -> None:
    parser = SSEParser(max_anomalies=5)
    parser.feed(b"x: 1\n" * 50 + b"\n")
    parser.close()
    assert len(parser.anomalies) == 5
    assert parser.anomaly_counts == {UNKNOWN_FIELD: 50}


# -- sniffing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "data: {}",
        "event: x",
        "id: 1",
        "retry: 5",
        ": ping",
        "\n\ndata: x",
        "\ufeffdata: x",
        "\r\n:ok",
        b"data:x",
    ],
)
def test_looks_like_sse_yes(text: str | bytes) -> None:
    assert looks_like_sse(text)
    if isinstance(text, str):
        assert looks_like_sse(text.encode())


@pytest.mark.parametrize("text", ["", "\n\n", '{"id": 1}', "<html>", "Data: x", " data: x", "foo: bar", b"\xff"])
def test_looks_like_sse_no(text: str | bytes) -> None:
    assert not looks_like_sse(text)


# -- properties ----------------------------------------------------------------------------------------------

_line_text = st.text(st.characters(exclude_characters="\r\n", codec="utf-8"), max_size=12)
_id_text = st.text(st.characters(exclude_characters="\r\n\0", codec="utf-8"), max_size=8)
_data_text = st.lists(_line_text, min_size=1, max_size=3).map("\n".join)

_event_spec = st.tuples(
    _data_text,
    st.none() | _line_text,  # event
    st.none() | _id_text,  # id
    st.none() | st.integers(min_value=0, max_value=10**12),  # retry
)


def _field(name: str, value: str, space: bool) -> str:
    # "name:value" loses one leading space, so a value starting with a space needs the separator space.
    return f"{name}: {value}" if space or value.startswith(" ") else f"{name}:{value}"


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(_event_spec, max_size=8),
    eol_style=st.sampled_from(["\n", "\r\n", "\r", "mixed"]),
    bom=st.booleans(),
    data=st.data(),
)
def test_roundtrip_serialize_then_parse(
    specs: list[tuple[str, str | None, str | None, int | None]],
    eol_style: str,
    bom: bool,
    data: st.DataObject,
) -> None:
    eols = ["\n", "\r\n", "\r"]
    pieces: list[bytes] = [b"\xef\xbb\xbf"] if bom else []
    offset = 3 if bom else 0
    lineno = 1
    expected: list[tuple[int, str, str | None, str | None, int | None, int, int]] = []
    previous_eol = ""

    def emit(line: str) -> None:
        nonlocal offset, lineno, previous_eol
        if eol_style == "mixed":
            # CR, then an empty line ended by LF, would be one CRLF: don't write that.
            choices = eols[1:] if previous_eol == "\r" and not line else eols
            eol = data.draw(st.sampled_from(choices))
        else:
            eol = eol_style
        previous_eol = eol
        raw = (line + eol).encode()
        pieces.append(raw)
        offset += len(raw)
        lineno += 1

    for index, (text, event, eid, retry) in enumerate(specs):
        if data.draw(st.booleans()):
            emit(":" + data.draw(_line_text))  # a comment before the event
        start = (offset, lineno)
        fields: list[tuple[str, str]] = [("data", part) for part in text.split("\n")]
        if event is not None:
            fields.append(("event", event))
        if eid is not None:
            fields.append(("id", eid))
        if retry is not None:
            fields.append(("retry", str(retry)))
        order = data.draw(st.permutations(range(len(fields))))
        # data lines keep their relative order
        data_lines = iter([f for f in fields if f[0] == "data"])
        kinds_in_order = [fields[i][0] for i in order]
        for kind in kinds_in_order:
            name, value = next(data_lines) if kind == "data" else next(f for f in fields if f[0] == kind)
            emit(_field(name, value, data.draw(st.booleans())))
        emit("")
        expected.append((index, text, event, eid, retry, *start))

    stream = b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=12))
    events, parser = feed_chunks(split_at(stream, cuts))
    got = [(e.index, e.data, e.event, e.id, e.retry, e.offset, e.line) for e in events]
    assert got == expected
    allowed = {BOM} if bom else set()
    if eol_style == "mixed":
        allowed.add(MIXED_LINE_ENDINGS)
    assert set(kinds(parser.anomalies)) <= allowed
    assert parser.bytes_seen == len(stream)


_tokens = st.sampled_from(
    [
        b"data",
        b"data:",
        b"data: ",
        b"event:",
        b"id:",
        b"retry:",
        b"retry: 12",
        b"foo",
        b":",
        b" ",
        b"\n",
        b"\n",
        b"\r",
        b"\r\n",
        b"x",
        b"7",
        b"\x00",
        b"\xff",
        b"\xc3\xa9",
        b"\xe2\x82",
        b"\xef\xbb\xbf",
        b"[DONE]",
    ]
)
_streams = st.lists(_tokens, max_size=40).map(b"".join)


@settings(max_examples=400, deadline=None, database=None)
@given(stream=_streams, data=st.data())
def test_any_split_gives_the_same_result(stream: bytes, data: st.DataObject) -> None:
    events, parser = feed_chunks([stream])
    expected = outcome(parser, events)
    cuts = data.draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=15))
    ev2, p2 = feed_chunks(split_at(stream, cuts))
    assert outcome(p2, ev2) == expected
    ev3, p3 = feed_chunks(bytewise(stream))
    assert outcome(p3, ev3) == expected
    assert set(kinds(parser.anomalies)) <= ANOMALY_KINDS
    offsets = [a.offset for a in parser.anomalies]
    # stream order (the unterminated-event anomaly points back at its event's start, and comes last)
    body = [a.offset for a in parser.anomalies if a.kind != UNTERMINATED_EVENT]
    assert body == sorted(body), offsets


@settings(max_examples=400, deadline=None, database=None)
@given(stream=_streams)
def test_agrees_with_a_literal_transcription_of_the_spec(stream: bytes) -> None:
    events, parser = feed_chunks([stream])
    ref_events, ref_comments = reference(stream)
    assert as_tuples(events) == ref_events
    assert [e.index for e in events] == list(range(len(events)))
    assert parser.comments == ref_comments


@settings(max_examples=300, deadline=None, database=None)
@given(stream=_streams, limit=st.integers(1, 24), data=st.data())
def test_size_limits_are_independent_of_chunking(stream: bytes, limit: int, data: st.DataObject) -> None:
    events, parser = feed_chunks([stream], max_event_bytes=limit)
    expected = outcome(parser, events)
    cuts = data.draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=15))
    ev2, p2 = feed_chunks(split_at(stream, cuts), max_event_bytes=limit)
    assert outcome(p2, ev2) == expected
    ev3, p3 = feed_chunks(bytewise(stream), max_event_bytes=limit)
    assert outcome(p3, ev3) == expected
    for event in events:
        assert len(event.data.encode("utf-8", "surrogatepass")) <= limit
    # Without the limit biting, the result is the unlimited one.
    if not {LINE_TOO_LONG, EVENT_TOO_LARGE} & set(kinds(parser.anomalies)):
        unlimited, _ = feed_chunks([stream])
        assert events == unlimited


# Realistic streams: blocks of field lines, each block ended by a blank line, so that the fast paths (a buffer
# cut at "blank line + data:" separators) are taken, next to every kind of odd line.
_values = st.sampled_from(
    [b"", b"x", b'{"a":1}', b" lead", b"caf\xc3\xa9", b"\xff", b"[DONE]", b"a:b", b"\x00", b"\xe2\x82"]
)
_field_lines = st.one_of(
    _values.map(lambda v: b"data: " + v),
    _values.map(lambda v: b"data: " + v),
    _values.map(lambda v: b"data:" + v),
    st.sampled_from([b"data", b"foo: bar", b"\xef\xbb\xbfdata: x", b"retry: 10", b"retry: x", b"id", b":"]),
    _values.map(lambda v: b"event: " + v),
    _values.map(lambda v: b"id: " + v),
    _values.map(lambda v: b": " + v),
)
_blocks = st.lists(st.lists(_field_lines, max_size=3), max_size=14)


@st.composite
def _structured_streams(draw: st.DrawFn) -> bytes:
    blocks = draw(_blocks)
    style = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed", "mostly-crlf"]))
    out: list[bytes] = [b"\xef\xbb\xbf"] if draw(st.booleans()) else []
    for block in blocks:
        for line in [*block, b""]:
            if style == "mixed":
                eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
            elif style == "mostly-crlf":
                eol = draw(st.sampled_from(["\r\n"] * 8 + ["\n", "\r"]))
            else:
                eol = style
            out.append(line + eol.encode())
    if draw(st.booleans()):
        out.append(draw(_field_lines))  # an unterminated last line
    return b"".join(out)


@settings(max_examples=400, deadline=None, database=None)
@given(stream=_structured_streams(), data=st.data())
def test_structured_streams_agree_with_the_spec_however_fed(stream: bytes, data: st.DataObject) -> None:
    events, parser = feed_chunks([stream])
    ref_events, ref_comments = reference(stream)
    assert as_tuples(events) == ref_events
    assert parser.comments == ref_comments
    expected = outcome(parser, events)
    # The first chunk sets the line-ending style; later chunks take the fast paths.
    first_eol = min((i for i in (stream.find(b"\n"), stream.find(b"\r")) if i >= 0), default=0)
    cuts = data.draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=6))
    for chunks in ([stream[: first_eol + 1], stream[first_eol + 1 :]], split_at(stream, [first_eol + 1, *cuts])):
        ev2, p2 = feed_chunks(chunks)
        assert outcome(p2, ev2) == expected


@settings(max_examples=200, deadline=None, database=None)
@given(stream=_structured_streams(), limit=st.integers(1, 40), data=st.data())
def test_structured_streams_size_limits_independent_of_chunking(stream: bytes, limit: int, data: st.DataObject) -> None:
    events, parser = feed_chunks([stream], max_event_bytes=limit)
    expected = outcome(parser, events)
    first_eol = min((i for i in (stream.find(b"\n"), stream.find(b"\r")) if i >= 0), default=0)
    cuts = data.draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=6))
    ev2, p2 = feed_chunks(split_at(stream, [first_eol + 1, *cuts]), max_event_bytes=limit)
    assert outcome(p2, ev2) == expected


def test_fast_path_events_match_line_by_line_parsing() -> None:
    # Many one-line events in one chunk after the first: the separator fast path, ASCII and not.
    body = b"".join(b"data: " + str(i).encode() + (b" \xc3\xa9" if i % 7 == 0 else b"") + b"\n\n" for i in range(200))
    for stream in (b"data: 0\n\n" + body, (b"data: 0\n\n" + body).replace(b"\xc3\xa9", b"e")):
        whole, parser = feed_chunks([stream])
        two, parser2 = feed_chunks([stream[:9], stream[9:]])
        assert two == whole and parser2.anomalies == parser.anomalies == []
        assert [e.line for e in two] == list(range(1, 2 * len(two), 2))
        assert [e.offset for e in two] == [m.start() for m in re.finditer(b"data:", stream)]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("space", [b" ", b""])
def test_fast_path_fallbacks_inside_a_chunk(eol: bytes, space: bytes) -> None:
    d = b"data:" + space
    stream = (
        d + b"first" + eol + eol
        + d + b"a" + eol + eol
        + d + b"b" + eol + b"data: b2" + eol + eol  # two data lines
        + d + b"c\xff" + eol + eol  # invalid UTF-8
        + d + b"d" + eol + b"event: e" + eol + eol  # another field
        + d + b"x" * 40 + eol + eol  # over the size limit
        + d + b"\xc3\xa9" + eol + eol
        + d + b"f" + (b"\n" if eol != b"\n" else b"\r") + eol  # a foreign line ending inside
        + d + b"g" + eol + eol
        + d + b"h"
    )  # fmt: skip
    whole, parser = feed_chunks([stream], max_event_bytes=30)
    ref, _ = reference(stream)
    split_point = len(d) + len(b"first") + len(eol)
    two, parser2 = feed_chunks([stream[:split_point], stream[split_point:]], max_event_bytes=30)
    assert outcome(parser2, two) == outcome(parser, whole)
    assert as_tuples(whole) == [r for r in ref if len(r[0]) < 30]
    assert {INVALID_UTF8, LINE_TOO_LONG, UNTERMINATED_EVENT, MIXED_LINE_ENDINGS} <= set(kinds(parser.anomalies))
