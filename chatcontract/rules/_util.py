"""Small defensive accessors shared by rule functions (rules run on raw documents that may be malformed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

__all__ = ["View", "as_int", "choices", "iter_tool_calls", "loads_object", "message_of", "text_of", "tool_calls", "view"]


def as_int(value: Any) -> int | None:
    """``value`` if it is a JSON integer (not a bool), else None."""
    return value if type(value) is int else None  # noqa: E721  (exact type: bool is an int subclass)


class View:
    """What the rules read from one document, computed once per document (not once per rule), on first use."""

    __slots__ = ("_doc", "_choices", "_calls")

    def __init__(self, doc: Any) -> None:
        self._doc = doc
        self._choices: list[tuple[int, dict[str, Any]]] | None = None
        self._calls: list[tuple[int, int, dict[str, Any]]] | None = None

    @property
    def choices(self) -> list[tuple[int, dict[str, Any]]]:
        if self._choices is None:
            doc = self._doc
            items = doc.get("choices") if isinstance(doc, dict) else None
            self._choices = (
                [(i, c) for i, c in enumerate(items) if isinstance(c, dict)] if isinstance(items, list) else []
            )
        return self._choices

    @property
    def calls(self) -> list[tuple[int, int, dict[str, Any]]]:
        if self._calls is None:
            calls: list[tuple[int, int, dict[str, Any]]] = []
            for pos, choice in self.choices:
                msg = choice.get("message")
                if isinstance(msg, dict) and msg.get("tool_calls"):
                    calls.extend((pos, t, call) for t, call in iter_tool_calls(msg))
            self._calls = calls
        return self._calls


_last: tuple[Any, View] = (None, View(None))


def view(doc: Any) -> View:
    """The :class:`View` of ``doc``; the last one is kept, so the rules of one check share it."""
    global _last
    last = _last  # one atomic read: the pair stays consistent under threads
    if last[0] is doc:
        return last[1]
    v = View(doc)
    _last = (doc, v)
    return v


def choices(doc: Any) -> list[tuple[int, dict[str, Any]]]:
    """``(position, choice)`` for every choice that is an object."""
    return view(doc).choices


def tool_calls(doc: Any) -> list[tuple[int, int, dict[str, Any]]]:
    """``(choice position, call position, call)`` for every tool call object in every choice's message."""
    return view(doc).calls


def message_of(choice: dict[str, Any]) -> dict[str, Any] | None:
    """The choice's message object, if it has one."""
    msg = choice.get("message")
    return msg if isinstance(msg, dict) else None


def iter_tool_calls(message: dict[str, Any] | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(position, tool_call)`` for every tool call object in a message."""
    if message is None:
        return
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        for i, call in enumerate(calls):
            if isinstance(call, dict):
                yield i, call


def text_of(message: dict[str, Any] | None) -> str | None:
    """The message's text: the string content, or its text chunks joined (Mistral chunk lists)."""
    if message is None:
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "text"]
        texts = [p for p in parts if isinstance(p, str)]
        return "".join(texts) if texts else None
    return None


class NotJSON(ValueError):
    """Raised by :func:`loads_object` with a readable reason."""


def loads_object(text: str) -> Any:
    """Parse ``text`` as JSON (no NaN/Infinity); raises :class:`NotJSON` with a one-line reason."""

    def reject(name: str) -> Any:
        raise NotJSON(f"{name} is not JSON")

    try:
        return json.loads(text, parse_constant=reject)
    except NotJSON:
        raise
    except RecursionError:
        raise NotJSON("nested too deeply") from None
    except ValueError as exc:
        msg = getattr(exc, "msg", str(exc))
        pos = getattr(exc, "pos", None)
        raise NotJSON(f"{msg} at offset {pos}" if pos is not None else msg) from None
