"""OpenAI dialect: strict models of ``POST /chat/completions`` wire formats.

Source: the OpenAI OpenAPI document v2.3.0 (``openai/openai-openapi`` ``openapi.yaml``, called [OS]
below); schema names are cited per class. [OS] declares ``additionalProperties: false`` on none of the
chat-completion schemas modelled here except the custom-tool ``format`` objects and the custom-voice
object, so nearly every model is an :class:`OpenModel` (unknown keys allowed).

[OS] is an OpenAPI 3.1 document that still uses the 3.0 keyword ``nullable: true`` in places
(``max_tokens``, ``n``, ``stop``, chunk ``usage``/``logprobs``...). We honour it: such fields accept
``null``, which is what the API and the official SDK do.

The response side (usage, logprobs, tool calls, responses, stream chunks, errors) lives in
``_openai_responses`` and is re-exported here; the request models are defined below.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from ._base import ABSENT, ClosedModel, OpenModel
from ._openai_responses import *  # noqa: F403  (re-export of the response side)
from ._openai_responses import FunctionCall, ServiceTier, ToolCall

#: [OS] ``ReasoningEffort``.
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]

# --------------------------------------------------------------------------------------------------
# Request ([OS] CreateChatCompletionRequest = allOf CreateModelResponseProperties + own properties)
# --------------------------------------------------------------------------------------------------


class PromptCacheBreakpoint(OpenModel):
    """[OS] ``PromptCacheBreakpointParam``."""

    mode: Literal["explicit"]


class TextPart(OpenModel):
    """[OS] ``ChatCompletionRequestMessageContentPartText``."""

    type: Literal["text"]
    text: str
    prompt_cache_breakpoint: PromptCacheBreakpoint = ABSENT


class ImageURL(OpenModel):
    """``ContentPartImage.image_url``."""

    url: str
    detail: Literal["auto", "low", "high"] = "auto"


class ImagePart(OpenModel):
    """[OS] ``ChatCompletionRequestMessageContentPartImage``."""

    type: Literal["image_url"]
    image_url: ImageURL
    prompt_cache_breakpoint: PromptCacheBreakpoint = ABSENT


class InputAudio(OpenModel):
    """``ContentPartAudio.input_audio``."""

    data: str
    format: Literal["wav", "mp3"]


class AudioPart(OpenModel):
    """[OS] ``ChatCompletionRequestMessageContentPartAudio``."""

    type: Literal["input_audio"]
    input_audio: InputAudio
    prompt_cache_breakpoint: PromptCacheBreakpoint = ABSENT


class FileRef(OpenModel):
    """``ContentPartFile.file``: every key optional."""

    filename: str = ABSENT
    file_data: str = ABSENT
    file_id: str = ABSENT


class FilePart(OpenModel):
    """[OS] ``ChatCompletionRequestMessageContentPartFile``."""

    type: Literal["file"]
    file: FileRef
    prompt_cache_breakpoint: PromptCacheBreakpoint = ABSENT


class RefusalPart(OpenModel):
    """[OS] ``ChatCompletionRequestMessageContentPartRefusal``."""

    type: Literal["refusal"]
    refusal: str


UserPart = Annotated[TextPart | ImagePart | AudioPart | FilePart, Field(discriminator="type")]
AssistantPart = Annotated[TextPart | RefusalPart, Field(discriminator="type")]
TextParts = Annotated[list[TextPart], Field(min_length=1)]


class DeveloperMessage(OpenModel):
    """[OS] ``ChatCompletionRequestDeveloperMessage``."""

    role: Literal["developer"]
    content: str | TextParts
    name: str = ABSENT


class SystemMessage(OpenModel):
    """[OS] ``ChatCompletionRequestSystemMessage``."""

    role: Literal["system"]
    content: str | TextParts
    name: str = ABSENT


class UserMessage(OpenModel):
    """[OS] ``ChatCompletionRequestUserMessage``."""

    role: Literal["user"]
    content: str | Annotated[list[UserPart], Field(min_length=1)]
    name: str = ABSENT


class AssistantAudioRef(OpenModel):
    """``ChatCompletionRequestAssistantMessage.audio``."""

    id: str


class AssistantMessage(OpenModel):
    """[OS] ``ChatCompletionRequestAssistantMessage``: only ``role`` required."""

    role: Literal["assistant"]
    content: str | Annotated[list[AssistantPart], Field(min_length=1)] | None = None
    refusal: str | None = None
    name: str = ABSENT
    audio: AssistantAudioRef | None = None
    tool_calls: list[ToolCall] = ABSENT
    function_call: FunctionCall | None = None


class ToolMessage(OpenModel):
    """[OS] ``ChatCompletionRequestToolMessage``."""

    role: Literal["tool"]
    content: str | TextParts
    tool_call_id: str


class FunctionMessage(OpenModel):
    """[OS] ``ChatCompletionRequestFunctionMessage`` (deprecated)."""

    role: Literal["function"]
    content: str | None
    name: str


#: [OS] ``ChatCompletionRequestMessage``, discriminator ``role``.
Message = Annotated[
    DeveloperMessage | SystemMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage,
    Field(discriminator="role"),
]


class FunctionObject(OpenModel):
    """[OS] ``FunctionObject``: only ``name`` required."""

    description: str = ABSENT
    name: str
    parameters: dict[str, Any] = ABSENT
    strict: bool | None = None


class ChatCompletionTool(OpenModel):
    """[OS] ``ChatCompletionTool``."""

    type: Literal["function"]
    function: FunctionObject


class CustomFormatText(ClosedModel):
    """Custom tool ``format`` ``{type: "text"}`` (``additionalProperties: false`` in [OS])."""

    type: Literal["text"]


class Grammar(OpenModel):
    """Custom tool grammar."""

    definition: str
    syntax: Literal["lark", "regex"]


class CustomFormatGrammar(ClosedModel):
    """Custom tool ``format`` ``{type: "grammar", grammar}`` (``additionalProperties: false`` in [OS])."""

    type: Literal["grammar"]
    grammar: Grammar


class CustomToolSpec(OpenModel):
    """``CustomToolChatCompletions.custom``."""

    name: str
    description: str = ABSENT
    format: Annotated[CustomFormatText | CustomFormatGrammar, Field(discriminator="type")] = ABSENT


class CustomToolChatCompletions(OpenModel):
    """[OS] ``CustomToolChatCompletions``."""

    type: Literal["custom"]
    custom: CustomToolSpec


Tool = Annotated[ChatCompletionTool | CustomToolChatCompletions, Field(discriminator="type")]


class ToolName(OpenModel):
    """``{name}`` selector."""

    name: str


class ChatCompletionNamedToolChoice(OpenModel):
    """[OS] ``ChatCompletionNamedToolChoice``."""

    type: Literal["function"]
    function: ToolName


class ChatCompletionNamedToolChoiceCustom(OpenModel):
    """[OS] ``ChatCompletionNamedToolChoiceCustom``."""

    type: Literal["custom"]
    custom: ToolName


class ChatCompletionAllowedTools(OpenModel):
    """[OS] ``ChatCompletionAllowedTools``."""

    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


class ChatCompletionAllowedToolsChoice(OpenModel):
    """[OS] ``ChatCompletionAllowedToolsChoice``."""

    type: Literal["allowed_tools"]
    allowed_tools: ChatCompletionAllowedTools


#: [OS] ``ChatCompletionToolChoiceOption``.
ToolChoiceOption = (
    Literal["none", "auto", "required"]
    | Annotated[
        ChatCompletionAllowedToolsChoice
        | ChatCompletionNamedToolChoice
        | ChatCompletionNamedToolChoiceCustom,
        Field(discriminator="type"),
    ]
)


class ResponseFormatText(OpenModel):
    """[OS] ``ResponseFormatText``."""

    type: Literal["text"]


class ResponseFormatJsonObject(OpenModel):
    """[OS] ``ResponseFormatJsonObject``."""

    type: Literal["json_object"]


class JSONSchema(OpenModel):
    """``ResponseFormatJsonSchema.json_schema``: JSON key ``schema`` is the attribute ``schema_``."""

    description: str = ABSENT
    name: str
    schema_: dict[str, Any] = Field(default=ABSENT, alias="schema")
    strict: bool | None = None


class ResponseFormatJsonSchema(OpenModel):
    """[OS] ``ResponseFormatJsonSchema``."""

    type: Literal["json_schema"]
    json_schema: JSONSchema


ResponseFormat = Annotated[
    ResponseFormatText | ResponseFormatJsonSchema | ResponseFormatJsonObject, Field(discriminator="type")
]


class ChatCompletionStreamOptions(OpenModel):
    """[OS] ``ChatCompletionStreamOptions`` object."""

    include_usage: bool = ABSENT
    include_obfuscation: bool = ABSENT


class PredictionContent(OpenModel):
    """[OS] ``PredictionContent``."""

    type: Literal["content"]
    content: str | list[TextPart]


class CustomVoice(ClosedModel):
    """[OS] ``VoiceIdsOrCustomVoice`` object form (``additionalProperties: false``)."""

    id: str


class RequestAudio(OpenModel):
    """``CreateChatCompletionRequest.audio``."""

    voice: str | CustomVoice
    format: Literal["wav", "aac", "mp3", "flac", "opus", "pcm16"]


class ChatCompletionFunctionCallOption(OpenModel):
    """[OS] ``ChatCompletionFunctionCallOption``."""

    name: str


class ChatCompletionFunctions(OpenModel):
    """[OS] ``ChatCompletionFunctions`` (deprecated)."""

    description: str = ABSENT
    name: str
    parameters: dict[str, Any] = ABSENT


Penalty = Annotated[float, Field(ge=-2, le=2)]


class CreateChatCompletionRequest(OpenModel):
    """[OS] ``CreateChatCompletionRequest`` (L33105): ``model`` and ``messages`` (>= 1) required.

    ``web_search_options``, ``moderation`` and ``prompt_cache_options`` are kept as free objects.
    """

    # CreateModelResponseProperties / ModelResponseProperties
    metadata: dict[str, str] | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = 1
    top_p: Annotated[float, Field(ge=0, le=1)] | None = 1
    user: str = ABSENT
    safety_identifier: Annotated[str, Field(max_length=64)] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    prompt_cache_options: dict[str, Any] = ABSENT
    # CreateChatCompletionRequest
    messages: Annotated[list[Message], Field(min_length=1)]
    model: str
    service_tier: ServiceTier | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    reasoning_effort: ReasoningEffort | None = None
    max_completion_tokens: int | None = None
    frequency_penalty: Penalty | None = 0
    presence_penalty: Penalty | None = 0
    web_search_options: dict[str, Any] = ABSENT
    response_format: ResponseFormat = ABSENT
    audio: RequestAudio | None = None
    store: bool | None = False
    moderation: dict[str, Any] | None = None
    stream: bool | None = False
    stop: str | Annotated[list[str], Field(min_length=1, max_length=4)] | None = None
    logit_bias: dict[str, int] | None = None
    logprobs: bool | None = False
    max_tokens: int | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = 1
    prediction: PredictionContent | None = None
    seed: int | None = None
    stream_options: ChatCompletionStreamOptions | None = None
    tools: list[Tool] = ABSENT
    tool_choice: ToolChoiceOption = ABSENT
    parallel_tool_calls: bool = True
    function_call: Literal["none", "auto"] | ChatCompletionFunctionCallOption = ABSENT
    functions: Annotated[list[ChatCompletionFunctions], Field(min_length=1, max_length=128)] = ABSENT
