"""Mistral dialect: strict models of ``POST /v1/chat/completions`` wire formats.

Source: Mistral's published OpenAPI 3.1 document (``mistralai/platform-docs-public``
``openapi-public-doc.yaml``, called [MS] below); schema names are cited per class. Shapes that exist
only in the ``mistralai==3.7.0`` SDK ([MPY3]) and the documented-but-unspecified flat error body are
marked as such. ``extra="forbid"`` (:class:`ClosedModel`) is used exactly where [MS] says
``additionalProperties: false``; everything else is :class:`OpenModel`.

Where [MS] declares a ``discriminator`` the tag key (``type`` / ``role``) must be present even if the
member schema gives it a default: without it the discriminator cannot select a member.

The response side (chunks, messages, responses, stream chunks, errors) lives in
``_mistral_responses`` and is re-exported here; the request models are defined below.
"""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from ._base import ABSENT, ClosedModel, OpenModel
from ._mistral_responses import *  # noqa: F403  (re-export of the response side)
from ._mistral_responses import AssistantMessage, ContentChunk, SystemMessageContentChunk

#: [MS] ``ToolChoiceEnum``.
ToolChoiceEnum = Literal["auto", "none", "any", "required"]
#: [MS] ``ReasoningEffort`` ([MPY3] also knows ``max``; the request is closed, so we follow [MS]).
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]

# --------------------------------------------------------------------------------------------------
# Request ([MS] ChatCompletionRequest, L16231)
# --------------------------------------------------------------------------------------------------


class SystemMessage(ClosedModel):
    """[MS] ``SystemMessage``: ``content`` required, string or text/thinking chunks, not nullable."""

    role: Literal["system"] = "system"
    content: str | list[SystemMessageContentChunk]


class UserMessage(ClosedModel):
    """[MS] ``UserMessage``: ``content`` required and nullable."""

    role: Literal["user"] = "user"
    content: str | list[ContentChunk] | None


class ToolMessage(ClosedModel):
    """[MS] ``ToolMessage``."""

    role: Literal["tool"] = "tool"
    content: str | list[ContentChunk] | None
    tool_call_id: str | None = None
    name: str | None = None


#: ``ChatCompletionRequest.messages`` items, discriminator ``role``.
Message = Annotated[SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")]


class Function(ClosedModel):
    """[MS] ``Function``: ``name`` and ``parameters`` (a JSON-Schema object) required."""

    name: str
    description: str = ""
    strict: bool = False
    parameters: dict[str, Any]


class Tool(ClosedModel):
    """[MS] ``Tool`` (function tool)."""

    type: Literal["function"] = "function"
    function: Function


class ToolConfiguration(ClosedModel):
    """[MS] ``ToolConfiguration``."""

    exclude: list[str] | None = None
    include: list[str] | None = None
    requires_confirmation: list[str] | None = None


class WebSearchTool(ClosedModel):
    """[MS] ``WebSearchTool``."""

    tool_configuration: ToolConfiguration | None = None
    type: Literal["web_search"] = "web_search"


class WebSearchPremiumTool(ClosedModel):
    """[MS] ``WebSearchPremiumTool``."""

    tool_configuration: ToolConfiguration | None = None
    type: Literal["web_search_premium"] = "web_search_premium"


class CodeInterpreterTool(ClosedModel):
    """[MS] ``CodeInterpreterTool``."""

    tool_configuration: ToolConfiguration | None = None
    type: Literal["code_interpreter"] = "code_interpreter"


class ImageGenerationTool(ClosedModel):
    """[MS] ``ImageGenerationTool``."""

    tool_configuration: ToolConfiguration | None = None
    type: Literal["image_generation"] = "image_generation"


class DocumentLibraryTool(ClosedModel):
    """[MS] ``DocumentLibraryTool``: ``library_ids`` required, at least one."""

    tool_configuration: ToolConfiguration | None = None
    type: Literal["document_library"] = "document_library"
    library_ids: Annotated[list[str], Field(min_length=1)]


class OAuth2TokenAuth(OpenModel):
    """[MS] ``OAuth2TokenAuth`` (no ``required``, no ``additionalProperties`` in [MS])."""

    type: Literal["oauth2-token"] = "oauth2-token"
    value: str = ABSENT


class APIKeyAuth(ClosedModel):
    """[MS] ``APIKeyAuth``."""

    type: Literal["api-key"] = "api-key"
    value: str


class CustomConnector(ClosedModel):
    """[MS] ``CustomConnector``."""

    type: Literal["connector"] = "connector"
    connector_id: str
    authorization: Annotated[OAuth2TokenAuth | APIKeyAuth, Field(discriminator="type")] | None = None
    tool_configuration: ToolConfiguration | None = None


#: ``ChatCompletionRequest.tools`` items, discriminator ``type``.
AnyTool = Annotated[
    Tool
    | WebSearchTool
    | WebSearchPremiumTool
    | CodeInterpreterTool
    | ImageGenerationTool
    | DocumentLibraryTool
    | CustomConnector,
    Field(discriminator="type"),
]


class FunctionName(ClosedModel):
    """[MS] ``FunctionName``."""

    name: str


class ToolChoice(ClosedModel):
    """[MS] ``ToolChoice``: force a specific function."""

    type: Literal["function"] = "function"
    function: FunctionName


class JsonSchema(ClosedModel):
    """[MS] ``JsonSchema``: JSON key ``schema`` (attribute ``schema_``; ``schema`` would shadow BaseModel)."""

    name: str
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool = False


class ResponseFormat(ClosedModel):
    """[MS] ``ResponseFormat`` (``type``: [MS] ``ResponseFormats``)."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchema | None = None


class Prediction(ClosedModel):
    """[MS] ``Prediction``."""

    type: Literal["content"] = "content"
    content: str = ""


class ModerationLLMV1Config(OpenModel):
    """[MS] ``ModerationLLMV1Config``; category thresholds kept as a ``name -> number | null`` map."""

    model_config = ConfigDict(protected_namespaces=())  # `model_name` is a wire field

    model_name: str = "mistral-moderation-2411"
    custom_category_thresholds: dict[str, float | None] | None = None
    ignore_other_categories: bool = False
    action: Literal["none", "block"] = "none"


class ModerationLLMV2Config(ModerationLLMV1Config):
    """[MS] ``ModerationLLMV2Config`` (same fields, newer default model)."""

    model_name: str = "mistral-moderation-2603"


class GuardrailConfig(OpenModel):
    """[MS] ``GuardrailConfig``."""

    block_on_error: bool = False
    moderation_llm_v1: ModerationLLMV1Config | None = None
    moderation_llm_v2: ModerationLLMV2Config | None = None


Penalty = Annotated[float, Field(ge=-2, le=2)]


class ChatCompletionRequest(ClosedModel):
    """[MS] ``ChatCompletionRequest`` (L16231): closed; ``model`` and ``messages`` required.

    OpenAI-only keys (``seed``, ``stream_options``, ``max_completion_tokens``...) and the [MPY3]-only
    ones (``top_k``, ``min_tokens``, ``logprobs``...) are therefore ``extra_forbidden``.
    """

    model: str
    temperature: Annotated[float, Field(ge=0, le=1.5)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    max_tokens: Annotated[int, Field(ge=0)] | None = None
    stream: bool = False
    stop: str | list[str] | None = None
    random_seed: Annotated[int, Field(ge=0)] | None = None
    metadata: dict[str, Any] | None = None
    messages: list[Message]
    response_format: ResponseFormat = ABSENT
    tools: list[AnyTool] | None = None
    tool_choice: ToolChoice | ToolChoiceEnum = "auto"
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    n: Annotated[int, Field(ge=1)] | None = None
    prediction: Prediction = ABSENT
    parallel_tool_calls: bool = True
    reasoning_effort: ReasoningEffort | None = None
    prompt_mode: Literal["reasoning"] | None = None
    guardrails: list[GuardrailConfig] | None = None
    prompt_cache_key: str | None = None
    service_tier: Literal["auto", "standard_only"] | None = None
    safe_prompt: bool = False
