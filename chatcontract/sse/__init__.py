"""Server-Sent Events, read strictly: the WHATWG event-stream parser (:mod:`.parser`) and its events (:mod:`.events`).

Streamed chat completions arrive as ``data: {json}`` events; this package turns bytes into :class:`SSEEvent` objects
and every oddity into an :class:`SSEAnomaly`, and decides nothing about contracts (the stream checker does).
"""

from __future__ import annotations

from .events import (
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
)
from .parser import SSEParser, looks_like_sse, parse_sse

__all__ = [
    "ANOMALY_KINDS",
    "BOM",
    "EVENT_TOO_LARGE",
    "INVALID_RETRY",
    "INVALID_UTF8",
    "LINE_TOO_LONG",
    "MIXED_LINE_ENDINGS",
    "NUL_IN_ID",
    "UNKNOWN_FIELD",
    "UNTERMINATED_EVENT",
    "SSEAnomaly",
    "SSEEvent",
    "SSEParser",
    "looks_like_sse",
    "parse_sse",
]
