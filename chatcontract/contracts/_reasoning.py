"""The ``reasoning`` extension of the OpenAI dialect: the reasoning fields OpenAI-compatible servers add.

OpenAI's published chat contract carries no reasoning text (only ``usage.completion_tokens_details.
reasoning_tokens``), and its schemas leave unknown keys alone, so plain ``dialect="openai"`` lets these fields pass
unchecked. Compatible servers send them all the same:

* DeepSeek's API and llama.cpp's server (``--reasoning-format deepseek``, the default) put the reasoning text in
  ``message.reasoning_content`` and, streamed, ``delta.reasoning_content``
  (https://api-docs.deepseek.com/guides/reasoning_model, https://github.com/ggml-org/llama.cpp/pull/11607);
* vLLM sends ``reasoning`` since vllm-project/vllm#27752 (older releases ``reasoning_content``,
  https://docs.vllm.ai/en/latest/features/reasoning_outputs.html);
* OpenRouter sends ``reasoning`` plus a ``reasoning_details`` list of typed blocks
  (https://openrouter.ai/docs/use-cases/reasoning-tokens).

With the extension switched on (``check(..., extensions=["reasoning"])``, ``extensions = ["reasoning"]`` in
``[tool.chatcontract]`` or ``--extension reasoning``) these fields become part of the contract. They are
declared as JSON values here on purpose: their types are judged by rule CC220 (reasoning-field-wrong-type), so a
malformed field is one finding with a reasoning-specific message, not a CC102 and a CC220 for the same value.
Mistral's dialect needs no extension: its published document has the ``thinking`` content chunk (``ThinkChunk``).
"""

from typing import Any

from ._base import ABSENT
from ._openai_responses import (
    ChatCompletionResponseMessage,
    ChatCompletionStreamResponseDelta,
    Choice,
    ChunkChoice,
    CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse,
)

__all__ = [
    "REASONING_FIELDS",
    "ReasoningChoice",
    "ReasoningChunk",
    "ReasoningChunkChoice",
    "ReasoningDelta",
    "ReasoningMessage",
    "ReasoningResponse",
]

#: The message/delta keys that carry reasoning text in OpenAI-compatible servers (string or null).
REASONING_FIELDS: tuple[str, ...] = ("reasoning_content", "reasoning")


class ReasoningMessage(ChatCompletionResponseMessage):
    """``ChatCompletionResponseMessage`` plus ``reasoning_content`` / ``reasoning`` (text) and ``reasoning_details``."""

    reasoning_content: Any = ABSENT
    reasoning: Any = ABSENT
    reasoning_details: Any = ABSENT


class ReasoningChoice(Choice):
    """A response choice whose message may carry reasoning."""

    message: ReasoningMessage


class ReasoningResponse(CreateChatCompletionResponse):
    """``CreateChatCompletionResponse`` with reasoning messages."""

    choices: list[ReasoningChoice]  # type: ignore[assignment]  # a narrower field: pydantic overrides it


class ReasoningDelta(ChatCompletionStreamResponseDelta):
    """``ChatCompletionStreamResponseDelta`` plus the streamed reasoning fields."""

    reasoning_content: Any = ABSENT
    reasoning: Any = ABSENT
    reasoning_details: Any = ABSENT


class ReasoningChunkChoice(ChunkChoice):
    """A stream choice whose delta may carry reasoning."""

    delta: ReasoningDelta


class ReasoningChunk(CreateChatCompletionStreamResponse):
    """``CreateChatCompletionStreamResponse`` with reasoning deltas."""

    choices: list[ReasoningChunkChoice]  # type: ignore[assignment]  # a narrower field: pydantic overrides it
