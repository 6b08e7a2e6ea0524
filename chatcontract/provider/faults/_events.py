"""Small accessors for stream events (chunk dicts and raw SSE text), shared by the stream faults."""

from __future__ import annotations

from typing import Any

from ._registry import FaultContext, Outgoing

__all__ = ["carries", "choices_of", "chunk_docs", "finish_position", "finishes", "new_choice", "sibling"]


def chunk_docs(out: Outgoing) -> list[dict[str, Any]]:
    return [e for e in out.events if isinstance(e, dict)]


def choices_of(chunk: dict[str, Any]) -> list[dict[str, Any]]:
    items = chunk.get("choices")
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def finishes(chunk: dict[str, Any]) -> bool:
    return any(c.get("finish_reason") is not None for c in choices_of(chunk))


def carries(chunk: dict[str, Any]) -> bool:
    """Whether a chunk carries anything besides a finish reason (content, tool calls, usage)."""
    if chunk.get("usage"):
        return True
    return any(
        (c.get("delta") or {}).get("content") or (c.get("delta") or {}).get("tool_calls") for c in choices_of(chunk)
    )


def finish_position(out: Outgoing, index: int = 0) -> int | None:
    for pos, event in enumerate(out.events):
        if isinstance(event, dict) and any(
            c.get("index") == index and c.get("finish_reason") is not None for c in choices_of(event)
        ):
            return pos
    return None


def sibling(chunk: dict[str, Any], choices: Any) -> dict[str, Any]:
    """A chunk with the stream's metadata and the given choices (usage null where the stream sends it)."""
    out = {k: v for k, v in chunk.items() if k not in ("choices", "usage")}
    out["choices"] = choices
    if "usage" in chunk and chunk["usage"] is None:
        out["usage"] = None
    return out


def new_choice(ctx: FaultContext, index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": index, "delta": delta}
    if ctx.dialect == "openai":
        choice["logprobs"] = None
    choice["finish_reason"] = finish
    return choice
