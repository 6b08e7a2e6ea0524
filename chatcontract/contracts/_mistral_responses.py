"""Mistral dialect, response side: content chunks, messages, responses, stream chunks, error bodies.

Import these from :mod:`chatcontract.contracts.mistral`, which re-exports them next to the request.

Source: Mistral's published OpenAPI 3.1 document (``mistralai/platform-docs-public``
``openapi-public-doc.yaml``, called [MS] below); schema names are cited per class. Shapes that exist
only in the ``mistralai==3.7.0`` SDK ([MPY3]) and the documented-but-unspecified flat error body are
marked as such. ``extra="forbid"`` (:class:`ClosedModel`) is used exactly where [MS] says
``additionalProperties: false``; everything else is :class:`OpenModel`.

Where [MS] declares a ``discriminator`` the tag key (``type`` / ``role``) must be present even if the
member schema gives it a default: without it the discriminator cannot select a member.
"""

from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from ._base import ABSENT, ClosedModel, OpenModel

__all__ = [
    "AssistantMessage",
    "AudioChunk",
    "ChatCompletionChoice",
    "ChatCompletionResponse",
    "ChatCompletionResponseChoiceLogprobs",
    "ChatCompletionResponseTokenLogprobs",
    "ChatCompletionResponseTokenLogprobsTopK",
    "CompletionChunk",
    "CompletionResponseStreamChoice",
    "ContentChunk",
    "DeltaMessage",
    "DocumentURLChunk",
    "ErrorObject",
    "FINISH_REASONS",
    "FileChunk",
    "FinishReason",
    "FunctionCall",
    "HTTPValidationError",
    "ImageURL",
    "ImageURLChunk",
    "ReferenceChunk",
    "ResourceChunk",
    "ResourceLinkChunk",
    "STREAM_FINISH_REASONS",
    "StreamFinishReason",
    "SystemMessageContentChunk",
    "TextChunk",
    "ThinkChunk",
    "ToolCall",
    "ToolReferenceChunk",
    "UsageInfo",
    "ValidationErrorDetail",
]

# --------------------------------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------------------------------

#: [MS] ``ChatCompletionChoice.finish_reason`` (non-stream; not nullable).
FinishReason = Literal["stop", "length", "model_length", "error", "tool_calls"]
#: [MS] ``CompletionResponseStreamChoice.finish_reason`` (no ``model_length``; ``null`` allowed separately).
StreamFinishReason = Literal["stop", "length", "error", "tool_calls"]
FINISH_REASONS: frozenset[str] = frozenset(get_args(FinishReason))
STREAM_FINISH_REASONS: frozenset[str] = frozenset(get_args(StreamFinishReason))

# --------------------------------------------------------------------------------------------------
# Content chunks ([MS] ContentChunk, discriminator ``type``; every chunk is additionalProperties:false)
# --------------------------------------------------------------------------------------------------


class TextChunk(ClosedModel):
    """[MS] ``TextChunk``: ``{type: "text", text}``."""

    type: Literal["text"] = "text"
    text: str


class ImageURL(ClosedModel):
    """[MS] ``ImageURL``: ``{url, detail?: ImageDetail | null}``."""

    url: str
    detail: Literal["low", "auto", "high"] | None = None


class ImageURLChunk(ClosedModel):
    """[MS] ``ImageURLChunk``: ``image_url`` is an ``ImageURL`` object or a plain string."""

    type: Literal["image_url"] = "image_url"
    image_url: ImageURL | str


class DocumentURLChunk(ClosedModel):
    """[MS] ``DocumentURLChunk``."""

    type: Literal["document_url"] = "document_url"
    document_url: str
    document_name: str | None = None


class ReferenceChunk(ClosedModel):
    """[MS] ``ReferenceChunk``: ``reference_ids`` items are integers or strings."""

    type: Literal["reference"] = "reference"
    reference_ids: list[int | str]


class FileChunk(ClosedModel):
    """[MS] ``FileChunk``. ``format: uuid`` is an annotation in JSON Schema and is not enforced."""

    type: Literal["file"] = "file"
    file_id: str


class ToolReferenceChunk(ClosedModel):
    """[MS] ``ToolReferenceChunk``; ``tool`` is ``BuiltInConnectors | string``, i.e. any string."""

    type: Literal["tool_reference"] = "tool_reference"
    tool: str
    title: str
    url: str | None = None
    favicon: str | None = None
    description: str | None = None


class ThinkChunk(ClosedModel):
    """[MS] ``ThinkChunk``. ``thinking`` items are a plain ``anyOf`` in [MS] (no discriminator)."""

    type: Literal["thinking"] = "thinking"
    thinking: list[TextChunk | ToolReferenceChunk | ReferenceChunk]
    signature: str | None = None
    closed: bool = True


class AudioChunk(ClosedModel):
    """[MS] ``AudioChunk``: ``input_audio`` is a (base64 or binary) string."""

    type: Literal["input_audio"] = "input_audio"
    input_audio: str


class ResourceChunk(OpenModel):
    """[MPY3]-only ``ResourceChunk`` ``{type: "resource", uri, content: TextChunk | ImageURLChunk}``.

    Not in [MS]; included so that SDK-3.7-era responses validate. No published schema, so extras allowed.
    """

    type: Literal["resource"] = "resource"
    uri: str
    content: Annotated[TextChunk | ImageURLChunk, Field(discriminator="type")]


class ResourceLinkChunk(OpenModel):
    """[MPY3]-only ``ResourceLinkChunk`` ``{type: "resource_link", uri, metadata?}`` (not in [MS])."""

    type: Literal["resource_link"] = "resource_link"
    uri: str
    metadata: dict[str, str | int | float | bool] | None = None


#: [MS] ``ContentChunk`` (+ the [MPY3]-only ``resource`` / ``resource_link`` members).
ContentChunk = Annotated[
    TextChunk
    | ImageURLChunk
    | DocumentURLChunk
    | ReferenceChunk
    | FileChunk
    | ThinkChunk
    | AudioChunk
    | ResourceChunk
    | ResourceLinkChunk,
    Field(discriminator="type"),
]
#: [MS] ``SystemMessageContentChunks``: ``text`` or ``thinking``.
SystemMessageContentChunk = Annotated[TextChunk | ThinkChunk, Field(discriminator="type")]

# --------------------------------------------------------------------------------------------------
# Tool calls, usage, messages
# --------------------------------------------------------------------------------------------------


class FunctionCall(ClosedModel):
    """[MS] ``FunctionCall`` (L16654): ``arguments`` is a JSON object *or* a JSON-encoded string."""

    name: str
    arguments: dict[str, Any] | str


class ToolCall(ClosedModel):
    """[MS] ``ToolCall`` (L17683): only ``function`` is required; ``id`` defaults to the string ``"null"``."""

    id: str = "null"
    type: Literal["function"] = "function"
    function: FunctionCall
    index: int = 0


class UsageInfo(ClosedModel):
    """[MS] ``UsageInfo`` (L17813), ``additionalProperties: false``: token counts required.

    Cached-token fields some servers add (``prompt_tokens_details``...) are therefore ``extra_forbidden``.
    """

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_audio_seconds: int | None = None
    service_tier: str | None = None


class AssistantMessage(ClosedModel):
    """[MS] ``AssistantMessage`` (L16183): no required field; ``role`` is a const defaulting to assistant."""

    role: Literal["assistant"] = "assistant"
    content: str | list[ContentChunk] | None = None
    tool_calls: list[ToolCall] | None = None
    prefix: bool = False


class DeltaMessage(OpenModel):
    """[MS] ``DeltaMessage`` (L32374): everything optional and nullable; ``role`` is a free string.

    ``tool_calls`` items are full ``ToolCall`` objects (``name`` and ``arguments`` both required).
    """

    role: str | None = None
    content: str | list[ContentChunk] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    index: Annotated[int, Field(ge=0)] | None = None
    metadata: dict[str, Any] | None = None


class ChatCompletionResponseTokenLogprobs(OpenModel):
    """[MPY3]-only ``ChatCompletionResponseTokenLogprobs`` (``token_id``; ``bytes`` not nullable)."""

    token: str
    logprob: float
    bytes: list[int]
    token_id: int


class ChatCompletionResponseTokenLogprobsTopK(ChatCompletionResponseTokenLogprobs):
    """[MPY3]-only ``ChatCompletionResponseTokenLogprobsTopK``."""

    top_logprobs: list[ChatCompletionResponseTokenLogprobs] | None = None


class ChatCompletionResponseChoiceLogprobs(OpenModel):
    """[MPY3]-only ``ChatCompletionResponseChoiceLogprobs`` ``{content: [...]}``."""

    content: list[ChatCompletionResponseTokenLogprobsTopK]


# --------------------------------------------------------------------------------------------------
# Responses and stream chunks
# --------------------------------------------------------------------------------------------------


class ChatCompletionChoice(OpenModel):
    """[MS] ``ChatCompletionChoice`` (L32349): ``index`` and ``finish_reason`` required.

    ``logprobs`` / ``prompt_logprobs`` are the [MPY3] (SDK 3.7) shape, optional and nullable.
    """

    index: int
    message: AssistantMessage = ABSENT
    messages: list[DeltaMessage] = ABSENT
    finish_reason: FinishReason
    logprobs: ChatCompletionResponseChoiceLogprobs | None = None
    prompt_logprobs: ChatCompletionResponseChoiceLogprobs | None = None


class ChatCompletionResponse(OpenModel):
    """[MS] ``ChatCompletionResponse`` (L32419, allOf ``ResponseBase`` + ``ChatCompletionResponseBase``).

    Required: ``id, object, model, usage, created, choices``. [MS] also lists ``data`` in ``required``
    although no such property exists (a defect present in every published version; the SDKs ignore it):
    it is deliberately *not* required here. ``object`` is a free string in [MS].
    """

    id: str
    object: str
    model: str
    usage: UsageInfo
    created: int
    choices: list[ChatCompletionChoice]


class CompletionResponseStreamChoice(OpenModel):
    """[MS] ``CompletionResponseStreamChoice`` (L32521): ``finish_reason`` key required, may be null.

    ``logprobs`` / ``prompt_logprobs``: [MPY3] shape, optional and nullable.
    """

    index: int
    delta: DeltaMessage
    finish_reason: StreamFinishReason | None
    logprobs: ChatCompletionResponseChoiceLogprobs | None = None
    prompt_logprobs: ChatCompletionResponseChoiceLogprobs | None = None


class CompletionChunk(OpenModel):
    """[MS] ``CompletionChunk`` (L32499): ``id, model, choices`` required; ``object``/``created`` optional."""

    id: str
    object: str = ABSENT
    created: int = ABSENT
    model: str
    # [MS] types `usage` as a non-nullable UsageInfo, but Mistral's own streaming example
    # (chat-completion.md) sends `"usage": null` on every chunk but the last: we follow the docs.
    usage: UsageInfo | None = None
    choices: list[CompletionResponseStreamChoice]


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class ValidationErrorDetail(OpenModel):
    """[MS] ``ValidationError`` (FastAPI/pydantic shape): ``loc, msg, type`` required."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] = ABSENT


class HTTPValidationError(OpenModel):
    """[MS] ``HTTPValidationError`` (L13732), the 422 body: ``{detail?: ValidationError[]}``.

    As published, ``detail`` is optional and extra keys are allowed, so any JSON object conforms.
    """

    detail: list[ValidationErrorDetail] = ABSENT


class ErrorObject(OpenModel):
    """Flat error body of every other status (docs ``error-glossary.md``; not in [MS]).

    ``{"object": "error", "message", "type", "param", "code"}``: the glossary says *all* errors return
    these five keys, so all are required; ``param`` and ``code`` may be null.
    """

    object: Literal["error"]
    message: str
    type: str
    param: str | None
    code: str | None
