"""The ``reasoning`` extension of the openai contract, and Mistral's thinking chunks, against real shapes.

Shapes: DeepSeek's ``reasoning_content`` (https://api-docs.deepseek.com/guides/reasoning_model), vLLM's
``reasoning`` (vllm-project/vllm#27752), OpenRouter's ``reasoning_details``
(https://openrouter.ai/docs/use-cases/reasoning-tokens), Magistral's ``ThinkChunk`` (Mistral's published document).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatcontract import UsageError, check
from chatcontract.contracts import EXTENSIONS, contracts_for


def _openai(message: dict[str, Any], **extra: object) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1755146543,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris.", "refusal": None, **message},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 48, "total_tokens": 60},
        **extra,
    }


def test_extension_registry() -> None:
    assert EXTENSIONS == {"reasoning": frozenset({"openai"})}
    plain, extended = contracts_for("openai"), contracts_for("openai", frozenset({"reasoning"}))
    assert plain.extensions == frozenset() and extended.extensions == {"reasoning"}
    assert extended is contracts_for("openai", frozenset({"reasoning"}))  # cached
    # Mistral's published contract already has thinking chunks: the extension leaves it as it is.
    assert contracts_for("mistral", frozenset({"reasoning"})) is contracts_for("mistral")


@pytest.mark.parametrize(
    "message",
    [
        {"reasoning_content": "The user asks for the capital of France."},  # DeepSeek, llama.cpp
        {"reasoning": "The user asks for the capital of France.", "reasoning_content": None},  # vLLM >= 0.11
        {  # OpenRouter
            "reasoning": "Capital of France.",
            "reasoning_details": [{"type": "reasoning.text", "text": "Capital of France.", "format": "unknown"}],
        },
    ],
    ids=["deepseek", "vllm", "openrouter"],
)
def test_extension_accepts_the_real_shapes(message: dict[str, Any]) -> None:
    report = check(_openai(message), dialect="openai", extensions=["reasoning"], select=["ALL"])
    assert report.violations == (), str(report)


@pytest.mark.parametrize(
    ("message", "pointer"),
    [
        ({"reasoning_content": [{"type": "text", "text": "x"}]}, "/choices/0/message/reasoning_content"),
        ({"reasoning": 7}, "/choices/0/message/reasoning"),
        ({"reasoning_details": {"type": "reasoning.text"}}, "/choices/0/message/reasoning_details"),
        ({"reasoning_details": ["text"]}, "/choices/0/message/reasoning_details"),
    ],
)
def test_extension_reports_malformed_fields_once(message: dict[str, Any], pointer: str) -> None:
    report = check(_openai(message), dialect="openai", extensions=["reasoning"], select=["ALL"])
    assert [(v.code, v.pointer) for v in report.violations] == [("CC220", pointer)]
    # Without the extension the published OpenAI contract leaves unknown keys alone, as before.
    assert check(_openai(message), dialect="openai", select=["ALL"]).violations == ()


def test_extension_in_streams() -> None:
    from chatcontract import StreamChecker

    checker = StreamChecker(dialect="openai", extensions=["reasoning"], select=["ALL"])
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1755146543, "model": "m"}
    deltas = [({"role": "assistant", "reasoning_content": ["x"]}, None), ({"content": "Paris."}, "stop")]
    for delta, finish in deltas:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        checker.feed(f"data: {json.dumps(chunk)}\n\n")
    checker.feed("data: [DONE]\n\n")
    report = checker.close()
    assert [(v.code, v.event, v.pointer) for v in report.violations] == [
        ("CC220", None, "/choices/0/message/reasoning_content")
    ]


def test_unknown_extension_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown extension.*'thinking'.*known: reasoning"):
        check(_openai({}), dialect="openai", extensions=["thinking"])


def test_config_switches_the_extension_on(tmp_path, monkeypatch) -> None:
    from chatcontract.engine import forget_project_config

    (tmp_path / "pyproject.toml").write_text('[tool.chatcontract]\ndialect = "openai"\nextensions = ["reasoning"]\n')
    monkeypatch.chdir(tmp_path)
    forget_project_config()
    try:
        report = check(_openai({"reasoning_content": ["x"]}))
        assert report.codes() == ["CC220"]
        assert check(_openai({"reasoning_content": ["x"]}), extensions=[]).codes() == []  # the argument wins
    finally:
        forget_project_config()


def test_config_rejects_unknown_extensions(tmp_path) -> None:
    from chatcontract import ConfigError
    from chatcontract.config import load_config

    (tmp_path / "pyproject.toml").write_text('[tool.chatcontract]\nextensions = ["thinking"]\n')
    with pytest.raises(ConfigError, match="extensions must be a list of 'reasoning'"):
        load_config(tmp_path)


def test_mistral_thinking_chunk_per_published_document() -> None:
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "Capital of France."}]}
    doc: dict[str, Any] = {
        "id": "x",
        "object": "chat.completion",
        "model": "magistral-small-2509",
        "created": 1757876416,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": [thinking, {"type": "text", "text": "Paris."}]},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12},
    }
    assert check(doc, dialect="mistral", select=["ALL"]).violations == ()
    # ThinkChunk is closed (additionalProperties: false) and `thinking` is required and a list.
    doc["choices"][0]["message"]["content"][0] = {"type": "thinking", "thinking": "Capital of France."}
    assert [(v.code, v.pointer) for v in check(doc, dialect="mistral").violations] == [
        ("CC102", "/choices/0/message/content/0/thinking")
    ]
    doc["choices"][0]["message"]["content"][0] = {**thinking, "summary": "x"}
    assert ("CC104", "/choices/0/message/content/0/summary") in {
        (v.code, v.pointer) for v in check(doc, dialect="mistral").violations
    }
