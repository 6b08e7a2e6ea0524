"""The event model of the SSE parser: :class:`SSEEvent`, :class:`SSEAnomaly` and the anomaly kinds it reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

BOM = "bom"
"""A leading UTF-8 byte order mark was stripped (legal, but noteworthy)."""
INVALID_UTF8 = "invalid-utf8"
"""A line holds bytes that are not UTF-8; it was decoded with U+FFFD replacement characters."""
UNTERMINATED_EVENT = "unterminated-event"
"""The stream ended with event data buffered but no blank line after it: the event was discarded."""
UNKNOWN_FIELD = "unknown-field"
"""A field other than ``data``, ``event``, ``id`` and ``retry``; ignored."""
INVALID_RETRY = "invalid-retry"
"""A ``retry`` value that is not a non-empty string of ASCII digits; ignored."""
NUL_IN_ID = "nul-in-id"
"""An ``id`` value containing U+0000 NULL; ignored."""
LINE_TOO_LONG = "line-too-long"
"""A single line was longer than ``max_event_bytes``: it and the rest of its event were skipped (the
dropped event still takes an index)."""
EVENT_TOO_LARGE = "event-too-large"
"""An event's field lines (their bytes, without line endings) add up to more than ``max_event_bytes``: its
data was dropped and the rest of it skipped up to its blank line (the dropped event still takes an index)."""
MIXED_LINE_ENDINGS = "mixed-line-endings"
"""The stream uses more than one of CRLF, LF and CR (legal, but noteworthy); reported once."""

ANOMALY_KINDS: frozenset[str] = frozenset(
    {
        BOM,
        INVALID_UTF8,
        UNTERMINATED_EVENT,
        UNKNOWN_FIELD,
        INVALID_RETRY,
        NUL_IN_ID,
        LINE_TOO_LONG,
        EVENT_TOO_LARGE,
        MIXED_LINE_ENDINGS,
    }
)
"""Every :attr:`SSEAnomaly.kind` the parser can report."""


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event.

    ``index`` numbers the stream's events from 0. An event dropped as too large (``event-too-large``,
    ``line-too-long``) is not dispatched but keeps its index, so the events after it keep theirs.
    ``event`` is the raw value of the event's last ``event`` field, ``None`` when it had none; per the
    spec both ``None`` and ``""`` mean the default type ``"message"``. ``id`` is the value of the event's last
    valid ``id`` field, ``None`` if it had none (the parser's :attr:`SSEParser.last_event_id` keeps the value
    that persists across events). ``retry`` likewise is the event's own last valid ``retry`` value. ``offset``
    is the byte offset in the stream as fed (a leading BOM included, so with a BOM the first line starts at
    offset 3) where the event's first non-comment line starts, and ``line`` the 1-based number of that line.
    """

    index: int
    data: str
    event: str | None
    id: str | None
    retry: int | None
    offset: int
    line: int


@dataclass(frozen=True, slots=True)
class SSEAnomaly:
    """Something odd met in the stream: ``kind`` is one of :data:`ANOMALY_KINDS`.

    ``offset`` and ``line`` locate the line concerned: its first byte, except for ``mixed-line-endings``
    (the offending line ending itself), ``unterminated-event`` (the discarded event's first line) and ``bom``
    (offset 0, line 1). ``event`` is the index of the event the line belongs to, that is the next
    event to be dispatched; ``None`` for stream-level anomalies (``bom``, ``mixed-line-endings``).
    """

    kind: str
    message: str
    offset: int
    line: int
    event: int | None


class _EventSlots:
    # Same slots, in the same order, as SSEEvent: instances are built with plain attribute stores, then
    # turned into SSEEvent by assigning __class__ (allowed between layout-compatible classes).
    __slots__ = ("index", "data", "event", "id", "retry", "offset", "line")

    def __init__(
        self,
        index: int,
        data: str,
        event: str | None,
        id_: str | None,
        retry: int | None,
        offset: int,
        line: int,
    ) -> None:
        self.index = index
        self.data = data
        self.event = event
        self.id = id_
        self.retry = retry
        self.offset = offset
        self.line = line


def _make_by_class_swap(
    index: int, data: str, event: str | None, id_: str | None, retry: int | None, offset: int, line: int
) -> Any:
    ev = _EventSlots(index, data, event, id_, retry, offset, line)
    ev.__class__ = SSEEvent  # type: ignore[assignment]
    return ev


def _make_by_descriptors() -> Callable[[int, str, str | None, str | None, int | None, int, int], SSEEvent]:
    setters = [getattr(SSEEvent, name).__set__ for name in _EventSlots.__slots__]
    s_index, s_data, s_event, s_id, s_retry, s_offset, s_line = setters
    new = object.__new__

    def make(
        index: int, data: str, event: str | None, id_: str | None, retry: int | None, offset: int, line: int
    ) -> SSEEvent:
        ev: SSEEvent = new(SSEEvent)
        s_index(ev, index)
        s_data(ev, data)
        s_event(ev, event)
        s_id(ev, id_)
        s_retry(ev, retry)
        s_offset(ev, offset)
        s_line(ev, line)
        return ev

    return make


def _event_maker() -> Callable[[int, str, str | None, str | None, int | None, int, int], SSEEvent]:
    """Pick the fastest way to build an SSEEvent that gives exactly ``SSEEvent(...)``.

    A frozen dataclass's generated ``__init__`` goes through ``object.__setattr__`` for each field: about
    2 µs for SSEEvent, as much as half a ``json.loads`` of a typical chunk. Building a twin slots object and
    assigning its ``__class__`` costs a quarter of that; setting the slots through their member descriptors
    (what ``object.__setattr__`` ends up doing) a third. Both are checked against the real constructor.
    """
    if tuple(f.name for f in fields(SSEEvent)) != _EventSlots.__slots__:  # pragma: no cover
        raise AssertionError("SSEEvent fields changed: update _EventSlots")
    sample = (3, "d", "e", "i", 5, 7, 9)
    by_descriptors = _make_by_descriptors()
    try:
        swapped = _make_by_class_swap(*sample)
    except TypeError:  # pragma: no cover - an interpreter without layout-compatible __class__ assignment
        swapped = None
    if type(swapped) is SSEEvent and swapped == SSEEvent(*sample):
        return _make_by_class_swap
    return by_descriptors  # pragma: no cover


_make_event = _event_maker()
