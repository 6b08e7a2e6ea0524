"""Real third-party servers behind the proxy (llama-cpp-python's server with the tiny model, the LiteLLM proxy
with mock models), called by the official openai SDK: their known deviations (the ``per-cassette-expect`` table of
pyproject.toml, recorded from the same servers) are found by the proxy, exactly as ``check()`` finds them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai

from chatcontract.cassettes import load_cassette

from ..providers.servers import MOCK_TOOL_CALLS, Server
from .helpers import codes_of, proxy_to

MESSAGES = [{"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": "Say hello."}]
TOOL = {
    "type": "function",
    "function": {
        "name": MOCK_TOOL_CALLS[0]["function"]["name"],
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city", "unit"],
        },
    },
}


def _through_proxy(server: Server, tmp_path: Path, calls: list[dict[str, Any]]) -> list[list[str]]:
    """Make ``calls`` with the openai SDK through the proxy; the codes per exchange (checked against check())."""
    with proxy_to(server.base_url, dialect="openai", provider=server.name, record=str(tmp_path)) as (proxy, _):
        with openai.OpenAI(base_url=proxy.base_url, api_key=server.api_key or "none", max_retries=0) as client:
            for call in calls:
                answer = client.chat.completions.create(messages=MESSAGES, temperature=0, **call)
                if call.get("stream"):
                    assert list(answer)
    (path,) = tmp_path.glob("*.yaml")
    interactions = load_cassette(path).interactions
    exchanges = list(proxy.session.exchanges)
    assert [e.codes for e in exchanges] == [codes_of(i, "openai") for i in interactions]
    return [e.codes for e in exchanges]


def test_llamacpp_known_deviations(llamacpp: Server, tmp_path: Path) -> None:
    found = _through_proxy(
        llamacpp,
        tmp_path,
        [
            {"model": "tiny", "max_tokens": 16},
            {"model": "tiny", "max_tokens": 16, "n": 2},
            {"model": "tiny", "max_tokens": 16, "stream": True, "stream_options": {"include_usage": True}},
        ],
    )
    assert "CC101" in found[0]  # message.refusal missing (required, nullable, in OpenAI's schema)
    assert "CC401" in found[1]  # n ignored: one choice
    assert "CC313" in found[2]  # stream_options.include_usage ignored


def test_litellm_known_deviations(litellm: Server, tmp_path: Path) -> None:
    found = _through_proxy(
        litellm,
        tmp_path,
        [
            {"model": "mock-gpt", "max_tokens": 5},
            {"model": "mock-gpt", "stream": True, "stream_options": {"include_usage": True}},
            {"model": "mock-tools", "tools": [TOOL]},
        ],
    )
    assert {"CC101", "CC402"} <= set(found[0])  # no logprobs/refusal keys; constant usage 10/20/30 over max_tokens
    assert "CC314" in found[1]  # the include_usage chunk carries a choice
    assert "CC206" in found[2]  # finish_reason stop with tool calls
