"""Shared test helpers.

pytester runs inner pytest sessions in-process and drops lazily imported modules between runs, so the classes
tests compare with isinstance() are imported eagerly here (schemathesis' pytester caveat).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import chatcontract.contracts  # noqa: F401  (eager import: see module docstring)
import chatcontract.violations  # noqa: F401

pytest_plugins = ["pytester", "tests.providers.fixtures"]

MISTRAL_RESPONSE: dict[str, Any] = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "created": 1702256327,
    "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Paris is the capital of France.",
                "tool_calls": None,
                "prefix": False,
            },
            "finish_reason": "stop",
        }
    ],
}

OPENAI_RESPONSE: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4.1-2025-04-14",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help?", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 19,
        "completion_tokens": 10,
        "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "service_tier": "default",
}


def make_response(dialect: str = "mistral", **overrides: Any) -> dict[str, Any]:
    """A valid response of the dialect, with top-level keys overridden (a value of ... deletes the key)."""
    doc = copy.deepcopy(MISTRAL_RESPONSE if dialect == "mistral" else OPENAI_RESPONSE)
    for key, value in overrides.items():
        if value is ...:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def pairs(report: Any) -> set[tuple[str, str]]:
    """The (code, path) pairs of a report."""
    return {(v.code, v.path) for v in report.violations}


@pytest.fixture
def response_bytes() -> bytes:
    """A valid Mistral response body."""
    return json.dumps(MISTRAL_RESPONSE).encode()


@pytest.fixture(autouse=True)
def _fresh_project_config():
    """check() looks at the working directory's pyproject.toml at most once a second; tests chdir much faster."""
    from chatcontract.engine import forget_project_config

    forget_project_config()
    yield
    forget_project_config()
