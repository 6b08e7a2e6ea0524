"""Strict pydantic models of the chat-completion wire formats, per dialect.

``contracts_for(dialect)`` returns the :class:`DialectContracts` bundle the engine validates against.
TypeAdapters are built lazily (on first ``contracts_for`` call for a dialect) and cached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

from . import mistral, openai

__all__ = ["DIALECTS", "Dialect", "DialectContracts", "contracts_for", "mistral", "openai"]

Dialect = Literal["mistral", "openai"]
DIALECTS: tuple[Dialect, ...] = ("mistral", "openai")


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


def _openai() -> DialectContracts:
    return DialectContracts(
        name="openai",
        response=TypeAdapter(openai.CreateChatCompletionResponse),
        chunk=TypeAdapter(openai.CreateChatCompletionStreamResponse),
        request=TypeAdapter(openai.CreateChatCompletionRequest),
        errors=(("error-response", TypeAdapter(openai.ErrorResponse)),),
        stream_finish_reasons=openai.STREAM_FINISH_REASONS,
        finish_reasons=openai.FINISH_REASONS,
        chunk_object="chat.completion.chunk",
        response_object="chat.completion",
    )


_BUILDERS = {"mistral": _mistral, "openai": _openai}


@functools.cache
def contracts_for(dialect: str) -> DialectContracts:
    """Return the (cached) contracts of ``dialect``; ``ValueError`` for an unknown name."""
    try:
        builder = _BUILDERS[dialect]
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}; valid dialects: {', '.join(DIALECTS)}") from None
    return builder()
