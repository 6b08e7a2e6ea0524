"""OpenAI dialect, response side: usage, logprobs, tool calls, responses, stream chunks, error bodies.

Import these from :mod:`chatcontract.contracts.openai`, which re-exports them next to the request.

Source: the OpenAI OpenAPI document v2.3.0 (``openai/openai-openapi`` ``openapi.yaml``, called [OS]
below); schema names are cited per class. [OS] declares ``additionalProperties: false`` on none of the
chat-completion schemas modelled here except the custom-tool ``format`` objects, so nearly every model
is an :class:`OpenModel` (unknown keys allowed).

[OS] is an OpenAPI 3.1 document that still uses the 3.0 keyword ``nullable: true`` in places
(``max_tokens``, ``n``, ``stop``, chunk ``usage``/``logprobs``...). We honour it: such fields accept
``null``, which is what the API and the official SDK do.
"""

from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from ._base import ABSENT, OpenModel

__all__ = [
    "Annotation",
    "ChatCompletionMessageCustomToolCall",
    "ChatCompletionMessageToolCall",
    "ChatCompletionMessageToolCallChunk",
    "ChatCompletionResponseMessage",
    "ChatCompletionStreamResponseDelta",
    "ChatCompletionTokenLogprob",
    "Choice",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CompletionTokensDetails",
    "CompletionUsage",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CustomToolCallBody",
    "DeltaRole",
    "Error",
    "ErrorResponse",
    "FINISH_REASONS",
    "FinishReason",
    "FunctionCall",
    "MessageAudio",
    "PromptTokensDetails",
    "STREAM_FINISH_REASONS",
    "ServiceTier",
    "ToolCall",
    "TopLogprob",
    "URLCitation",
]

# --------------------------------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------------------------------

#: [OS] ``finish_reason`` of ``CreateChatCompletionResponse`` and ``CreateChatCompletionStreamResponse``.
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
FINISH_REASONS: frozenset[str] = frozenset(get_args(FinishReason))
STREAM_FINISH_REASONS: frozenset[str] = FINISH_REASONS  # same enum, plus null, in the stream
#: [OS] ``ServiceTier`` (nullable where used).
ServiceTier = Literal["auto", "default", "flex", "scale", "priority", "fast"]
#: [OS] ``ChatCompletionStreamResponseDelta.role``.
DeltaRole = Literal["developer", "system", "user", "assistant", "tool"]

# --------------------------------------------------------------------------------------------------
# Usage and logprobs
# --------------------------------------------------------------------------------------------------


class CompletionTokensDetails(OpenModel):
    """[OS] ``CompletionUsage.completion_tokens_details``: all optional integers."""

    accepted_prediction_tokens: int = 0
    audio_tokens: int = 0
    reasoning_tokens: int = 0
    text_tokens: int = ABSENT
    rejected_prediction_tokens: int = 0


class PromptTokensDetails(OpenModel):
    """[OS] ``CompletionUsage.prompt_tokens_details``: all optional integers."""

    audio_tokens: int = 0
    cached_tokens: int = 0
    text_tokens: int = ABSENT
    image_tokens: int = ABSENT
    cache_write_tokens: int = 0


class CompletionUsage(OpenModel):
    """[OS] ``CompletionUsage`` (L32211): the three token counts are required."""

    completion_tokens: int
    prompt_tokens: int
    total_tokens: int
    completion_tokens_details: CompletionTokensDetails = ABSENT
    prompt_tokens_details: PromptTokensDetails = ABSENT


class TopLogprob(OpenModel):
    """[OS] ``ChatCompletionTokenLogprob.top_logprobs`` item: all keys required, ``bytes`` nullable."""

    token: str
    logprob: float
    bytes: list[int] | None


class ChatCompletionTokenLogprob(TopLogprob):
    """[OS] ``ChatCompletionTokenLogprob``."""

    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(OpenModel):
    """Choice ``logprobs`` object: ``content`` and ``refusal`` keys required, each nullable."""

    content: list[ChatCompletionTokenLogprob] | None
    refusal: list[ChatCompletionTokenLogprob] | None


# --------------------------------------------------------------------------------------------------
# Tool calls and the response message
# --------------------------------------------------------------------------------------------------


class FunctionCall(OpenModel):
    """``{name, arguments}``; ``arguments`` is a JSON-encoded *string* (never an object)."""

    name: str
    arguments: str


class ChatCompletionMessageToolCall(OpenModel):
    """[OS] ``ChatCompletionMessageToolCall`` (function tool call): ``id, type, function`` required."""

    id: str
    type: Literal["function"]
    function: FunctionCall


class CustomToolCallBody(OpenModel):
    """``ChatCompletionMessageCustomToolCall.custom``."""

    name: str
    input: str


class ChatCompletionMessageCustomToolCall(OpenModel):
    """[OS] ``ChatCompletionMessageCustomToolCall``."""

    id: str
    type: Literal["custom"]
    custom: CustomToolCallBody


#: [OS] ``ChatCompletionMessageToolCalls`` items, discriminator ``type``.
ToolCall = Annotated[
    ChatCompletionMessageToolCall | ChatCompletionMessageCustomToolCall, Field(discriminator="type")
]


class URLCitation(OpenModel):
    """``annotations[].url_citation`` (``format: uri`` not enforced)."""

    end_index: int
    start_index: int
    url: str
    title: str


class Annotation(OpenModel):
    """``ChatCompletionResponseMessage.annotations`` item."""

    type: Literal["url_citation"]
    url_citation: URLCitation


class MessageAudio(OpenModel):
    """``ChatCompletionResponseMessage.audio`` object."""

    id: str
    expires_at: int
    data: str
    transcript: str


class ChatCompletionResponseMessage(OpenModel):
    """[OS] ``ChatCompletionResponseMessage`` (L31629): ``role, content, refusal`` required.

    ``content`` is a string or null, never a list of parts.
    """

    content: str | None
    refusal: str | None
    tool_calls: list[ToolCall] = ABSENT
    annotations: list[Annotation] = ABSENT
    role: Literal["assistant"]
    function_call: FunctionCall = ABSENT
    audio: MessageAudio | None = None


# --------------------------------------------------------------------------------------------------
# Response
# --------------------------------------------------------------------------------------------------


class Choice(OpenModel):
    """``CreateChatCompletionResponse.choices`` item: all four keys required, ``logprobs`` nullable."""

    finish_reason: FinishReason
    index: int
    message: ChatCompletionResponseMessage
    logprobs: ChoiceLogprobs | None


class CreateChatCompletionResponse(OpenModel):
    """[OS] ``CreateChatCompletionResponse`` (L33507): ``id, choices, created, model, object`` required.

    ``moderation`` (``ChatCompletionModeration | null``) is kept as a free object.
    """

    id: str
    choices: list[Choice]
    created: int
    model: str
    metadata: dict[str, str] | None = None
    service_tier: ServiceTier | None = None
    system_fingerprint: str = ABSENT
    object: Literal["chat.completion"]
    usage: CompletionUsage = ABSENT
    moderation: dict[str, Any] | None = None


# --------------------------------------------------------------------------------------------------
# Stream chunk
# --------------------------------------------------------------------------------------------------


class ChoiceDeltaFunctionCall(OpenModel):
    """Deprecated ``delta.function_call`` fragment: both keys optional."""

    arguments: str = ABSENT
    name: str = ABSENT


class ChoiceDeltaToolCallFunction(OpenModel):
    """``ChatCompletionMessageToolCallChunk.function`` fragment."""

    name: str = ABSENT
    arguments: str = ABSENT


class ChatCompletionMessageToolCallChunk(OpenModel):
    """[OS] ``ChatCompletionMessageToolCallChunk``: only ``index`` required (fragments)."""

    index: int
    id: str = ABSENT
    type: Literal["function"] = ABSENT
    function: ChoiceDeltaToolCallFunction = ABSENT


class ChatCompletionStreamResponseDelta(OpenModel):
    """[OS] ``ChatCompletionStreamResponseDelta``: every key optional."""

    content: str | None = None
    function_call: ChoiceDeltaFunctionCall = ABSENT
    tool_calls: list[ChatCompletionMessageToolCallChunk] = ABSENT
    role: DeltaRole = ABSENT
    refusal: str | None = None


class ChunkChoice(OpenModel):
    """``CreateChatCompletionStreamResponse.choices`` item: ``finish_reason`` key required, nullable."""

    delta: ChatCompletionStreamResponseDelta
    logprobs: ChoiceLogprobs | None = None
    finish_reason: FinishReason | None
    index: int


class CreateChatCompletionStreamResponse(OpenModel):
    """[OS] ``CreateChatCompletionStreamResponse`` (L33665): ``id, choices, created, model, object`` required.

    ``usage`` is present only with ``stream_options.include_usage`` (null except on the final,
    ``choices: []`` chunk).
    """

    id: str
    choices: list[ChunkChoice]
    created: int
    model: str
    obfuscation: str = ABSENT
    service_tier: ServiceTier | None = None
    system_fingerprint: str = ABSENT
    object: Literal["chat.completion.chunk"]
    usage: CompletionUsage | None = None
    moderation: dict[str, Any] | None = None


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class Error(OpenModel):
    """[OS] ``Error``: all four keys required; ``param`` and ``code`` nullable."""

    code: str | None
    message: str
    param: str | None
    type: str


class ErrorResponse(OpenModel):
    """[OS] ``ErrorResponse`` (L38286): ``{"error": Error}``."""

    error: Error
