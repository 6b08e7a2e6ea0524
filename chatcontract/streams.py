"""Checking streamed chat completions (SSE): framing, each chunk's contract, and the sequence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .inputs import parse_json
from .rules import Hit, RuleContext, Target
from .rules.schema import schema_hits
from .sse import SSEParser

if TYPE_CHECKING:
    from .engine import Settings, _Collector
    from .inputs import Received

__all__ = ["check_stream_into"]

DONE = "[DONE]"


def check_stream_into(received: Received, settings: Settings, collector: _Collector, ctx: RuleContext) -> None:
    """Parse the SSE body of ``received`` and check every data event against the chunk contract."""
    parser = SSEParser()
    events = []
    if received.chunks is not None:
        for part in received.chunks:
            events.extend(parser.feed(part))
    elif received.body is not None:
        events.extend(parser.feed(received.body))
    events.extend(parser.close())
    for event in events:
        if event.data == DONE:
            continue
        doc, findings = parse_json(event.data)
        for code, h in findings:
            collector.add("CC301" if code == "CC001" else code, h, event=event.index)
        if not isinstance(doc, dict):
            if findings:
                continue
            collector.add("CC301", Hit((), "Chunk is not a JSON object.", doc), event=event.index)
            continue
        for code, h in schema_hits(settings.contracts.chunk, doc, what="chunk"):
            collector.add(code, h, event=event.index)
        collector.run(settings.rules.get(Target.STREAM, ()), doc, ctx, event=event.index)
