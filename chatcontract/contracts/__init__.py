"""Strict pydantic models of the chat-completion wire formats, per dialect.

``contracts_for(dialect)`` returns the :class:`DialectContracts` bundle the engine validates against.
TypeAdapters are built lazily (on first ``contracts_for`` call for a dialect) and cached.
``contracts_for(dialect, extensions)`` adds opt-in, documented extensions of a dialect (:data:`EXTENSIONS`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

from . import mistral, openai

__all__ = [
    "DIALECTS",
    "EXTENSIONS",
    "Dialect",
    "DialectContracts",
    "check_extensions",
    "contracts_for",
    "mistral",
    "openai",
]

Dialect = Literal["mistral", "openai"]
DIALECTS: tuple[Dialect, ...] = ("mistral", "openai")
#: Opt-in extensions and the dialects they change. ``reasoning``: the reasoning fields of OpenAI-compatible
#: servers (``reasoning_content``, ``reasoning``, ``reasoning_details``; see ``_reasoning``). Mistral's own
#: contract already has thinking chunks, so the extension leaves it unchanged.
EXTENSIONS: dict[str, frozenset[str]] = {"reasoning": frozenset({"openai"})}


@dataclass(frozen=True)
class DialectContracts:
    """Everything the engine needs to check one dialect's wire format."""

    name: Dialect
    #: Non-stream chat completion
    #: (Mistral ``ChatCompletionResponse`` / OpenAI ``CreateChatCompletionResponse``).
    response: TypeAdapter[Any]
    #: One streamed chunk (Mistral ``CompletionChunk`` / OpenAI ``CreateChatCompletionStreamResponse``).
    chunk: TypeAdapter[Any]
    #: Request body (Mistral ``ChatCompletionRequest`` / OpenAI ``CreateChatCompletionRequest``).
    request: TypeAdapter[Any]
    #: The dialect's error-body shapes, ``(name, adapter)`` in matching order.
    errors: tuple[tuple[str, TypeAdapter[Any]], ...]
    #: Allowed non-null ``finish_reason`` values in stream chunks.
    stream_finish_reasons: frozenset[str]
    #: Allowed ``finish_reason`` values in non-stream responses.
    finish_reasons: frozenset[str]
    #: Value ``object`` must have in chunks (``None``: not constrained by the dialect).
    chunk_object: str | None
    #: Value ``object`` must have in responses (``None``: not constrained by the dialect).
    response_object: str | None
    #: The extensions switched on (only those that change this dialect).
    extensions: frozenset[str] = frozenset()


def _mistral() -> DialectContracts:
    return DialectContracts(
        name="mistral",
        response=TypeAdapter(mistral.ChatCompletionResponse),
        chunk=TypeAdapter(mistral.CompletionChunk),
        request=TypeAdapter(mistral.ChatCompletionRequest),
        errors=(
            ("http-validation-error", TypeAdapter(mistral.HTTPValidationError)),
            ("error-object", TypeAdapter(mistral.ErrorObject)),
        ),
        stream_finish_reasons=mistral.STREAM_FINISH_REASONS,
        finish_reasons=mistral.FINISH_REASONS,
        # Mistral's `object` is a free string in the spec; these are the documented values.
        chunk_object="chat.completion.chunk",
        response_object="chat.completion",
    )


def _openai(extensions: frozenset[str] = frozenset()) -> DialectContracts:
    response: Any = openai.CreateChatCompletionResponse
    chunk: Any = openai.CreateChatCompletionStreamResponse
    if "reasoning" in extensions:
        from ._reasoning import ReasoningChunk, ReasoningResponse

        response, chunk = ReasoningResponse, ReasoningChunk
    return DialectContracts(
        name="openai",
        response=TypeAdapter(response),
        chunk=TypeAdapter(chunk),
        request=TypeAdapter(openai.CreateChatCompletionRequest),
        errors=(("error-response", TypeAdapter(openai.ErrorResponse)),),
        stream_finish_reasons=openai.STREAM_FINISH_REASONS,
        finish_reasons=openai.FINISH_REASONS,
        chunk_object="chat.completion.chunk",
        response_object="chat.completion",
        extensions=extensions,
    )


_BUILDERS: dict[str, Any] = {"mistral": _mistral, "openai": _openai}


def check_extensions(extensions: Any) -> frozenset[str]:
    """Validate extension names (a string or an iterable of strings); ``ValueError`` names the known ones."""
    names = (extensions,) if isinstance(extensions, str) else tuple(extensions or ())
    unknown = [n for n in names if not isinstance(n, str) or n not in EXTENSIONS]
    if unknown:
        raise ValueError(f"unknown extension(s) {', '.join(map(repr, unknown))}; known: {', '.join(EXTENSIONS)}")
    return frozenset(names)


def contracts_for(dialect: str, extensions: frozenset[str] | tuple[str, ...] = ()) -> DialectContracts:
    """Return the (cached) contracts of ``dialect`` with ``extensions``; ``ValueError`` for an unknown name.

    An extension that does not apply to ``dialect`` (``reasoning`` for Mistral) leaves its contracts unchanged.
    """
    if dialect not in _BUILDERS:
        raise ValueError(f"unknown dialect {dialect!r}; valid dialects: {', '.join(DIALECTS)}")
    return _build(dialect, frozenset(e for e in check_extensions(extensions) if dialect in EXTENSIONS[e]))


@functools.cache
def _build(dialect: str, active: frozenset[str]) -> DialectContracts:
    if dialect == "openai":
        return _openai(active)
    return _mistral()
