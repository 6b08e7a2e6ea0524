"""Shared helpers for the reference-provider tests: ASGI calls without a network, and request builders."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

import httpx

from chatcontract.provider import MODELS

CHAT = "/v1/chat/completions"

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2, "maxLength": 40},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "hourly": {"type": "boolean"},
            },
            "required": ["city", "unit"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search_flights",
        "parameters": {
            "type": "object",
            "properties": {
                "route": {
                    "type": "object",
                    "properties": {
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "stops": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                    },
                    "required": ["from", "to"],
                },
                "passengers": {"type": "integer", "exclusiveMinimum": 0, "maximum": 9},
                "budget": {"type": "number", "minimum": 50, "exclusiveMaximum": 2000.5},
                "cabins": {
                    "type": "array",
                    "items": {"enum": ["economy", "business"]},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            },
            "required": ["route", "passengers", "cabins"],
            "additionalProperties": False,
        },
    },
}
NO_ARGS = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
TOOLS = (WEATHER, SEARCH, NO_ARGS)

SCHEMAS: tuple[dict[str, Any], ...] = (
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
            "email": {"type": "string", "format": "email"},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
        "required": ["name", "age"],
        "additionalProperties": False,
    },
    {
        "type": "object",
        "$defs": {
            "point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
            }
        },
        "properties": {
            "start": {"$ref": "#/$defs/point"},
            "path": {"type": "array", "items": {"$ref": "#/$defs/point"}, "minItems": 2, "maxItems": 4},
            "label": {"anyOf": [{"type": "string", "maxLength": 12}, {"type": "null"}]},
            "closed": {"type": "boolean"},
        },
        "required": ["start", "path", "label", "closed"],
    },
    {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date"},
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "level": {"type": "integer", "multipleOf": 5, "minimum": 10, "maximum": 40},
            "kind": {"const": "report"},
            "meta": {"type": "object", "properties": {"pages": {"type": ["integer", "null"]}}, "required": ["pages"]},
        },
        "required": ["when", "score", "level", "kind", "meta"],
    },
)
TEXT_STOPS = (".", ",", "the", "sun", "ea", " ", "Moon")
JSON_STOPS = ("###", "\n\n", "<|end|>")


def call(
    app: Any, requests: Sequence[Any], *, headers: dict[str, str] | None = None, raw: bool = False
) -> list[httpx.Response]:
    """POST each request (a dict, or bytes with raw=True) to the app's chat endpoint; responses fully read."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://provider.test") as client:
            out = []
            for req in requests:
                if raw:
                    resp = await client.post(CHAT, content=req, headers=headers)
                else:
                    resp = await client.post(CHAT, json=req, headers=headers)
                await resp.aread()
                out.append(resp)
            return out

    return asyncio.run(run())


def get(app: Any, path: str, *, method: str = "GET", headers: dict[str, str] | None = None) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://provider.test") as client:
            resp = await client.request(method, path, headers=headers)
            await resp.aread()
            return resp

    return asyncio.run(run())


def _history(rng: random.Random, dialect: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if rng.random() < 0.5:
        messages.append({"role": "system", "content": "You are terse."})
    messages.append({"role": "user", "content": rng.choice(["Hi", "Weather in Paris?", "List three colours.", ""])})
    if rng.random() < 0.25:
        call_id = "D681PevKs" if dialect == "mistral" else "call_Xq2bT9wLmN0pQr5sT7uV9wX1"
        fn = {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'}
        messages.append(
            {"role": "assistant", "content": "", "tool_calls": [{"id": call_id, "type": "function", "function": fn}]}
        )
        tool: dict[str, Any] = {"role": "tool", "content": '{"temp": 21}', "tool_call_id": call_id}
        if dialect == "mistral":
            tool["name"] = "get_weather"
        messages.append(tool)
        messages.append({"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]})
    return messages


def random_request(rng: random.Random, dialect: str) -> dict[str, Any]:
    """A valid, varied request: text, tools with every tool_choice mode, JSON formats, n, stop, max_tokens."""
    req: dict[str, Any] = {"model": rng.choice(MODELS), "messages": _history(rng, dialect)}
    mode = rng.choice(["text", "tools", "tools", "json_object", "json_schema"])
    if rng.random() < 0.4:
        req["n"] = rng.randint(1, 3)
    if rng.random() < 0.5:
        limit = rng.choice([1, 2, 5, 12, 40, 400])
        key = "max_completion_tokens" if dialect == "openai" and rng.random() < 0.5 else "max_tokens"
        req[key] = limit
    if rng.random() < 0.35:
        pool = JSON_STOPS if mode.startswith("json") else TEXT_STOPS
        req["stop"] = rng.choice(pool) if rng.random() < 0.5 else rng.sample(pool, 2)
    if mode == "tools":
        tools = rng.sample(TOOLS, rng.randint(1, 3))
        req["tools"] = tools
        names = [t["function"]["name"] for t in tools]
        choices: list[Any] = [
            "auto",
            "none",
            "required",
            {"type": "function", "function": {"name": rng.choice(names)}},
            None,
        ]
        choices.append(
            "any"
            if dialect == "mistral"
            else {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": rng.choice(["auto", "required"]),
                    "tools": [{"type": "function", "function": {"name": names[0]}}],
                },
            }
        )
        choice = rng.choice(choices)
        if choice is not None:
            req["tool_choice"] = choice
        if rng.random() < 0.3:
            req["parallel_tool_calls"] = rng.random() < 0.5
    elif mode == "json_object":
        req["response_format"] = {"type": "json_object"}
    elif mode == "json_schema":
        req["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "out", "schema": rng.choice(SCHEMAS), "strict": True},
        }
    if rng.random() < 0.5:
        req["stream"] = True
        if dialect == "openai" and rng.random() < 0.6:
            req["stream_options"] = {"include_usage": rng.random() < 0.8}
    if rng.random() < 0.3:
        req["temperature"] = round(rng.uniform(0, 1), 2)
    if dialect == "openai" and rng.random() < 0.2:
        req["logprobs"] = True
        req["top_logprobs"] = rng.randint(0, 3)
    if dialect == "mistral" and rng.random() < 0.2:
        req["random_seed"] = rng.randint(0, 1000)
        req["safe_prompt"] = rng.random() < 0.5
    return req


def exercise(needs: Sequence[str], dialect: str) -> dict[str, Any]:
    """The request that shows a fault with these ``needs`` (see ``Fault.needs``)."""
    if "invalid" in needs:
        return {"model": "ref-small", "messages": "Hello"}
    req: dict[str, Any] = {"model": "ref-small", "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    if "stream" in needs:
        req["stream"] = True
    if "tools" in needs:
        req["tools"] = [WEATHER, SEARCH]
        req["tool_choice"] = {"type": "function", "function": {"name": "get_weather"}}
    if "n" in needs:
        req["n"] = 3
    if "max_tokens" in needs:
        req["max_tokens"] = 3
    if "include_usage" in needs and dialect == "openai":
        req["stream_options"] = {"include_usage": True}
    if "reasoning" in needs:
        req["model"] = "ref-reasoner"
    if "random_seed" in needs:
        req["random_seed"] = 7
    if "top_p" in needs:
        req["top_p"] = 0.0
    return req
