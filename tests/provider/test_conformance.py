"""Without faults, every answer of the reference provider conforms: zero violations, request-aware rules included."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from chatcontract import check
from chatcontract.provider import create_app, serve

from .helpers import CHAT, call, random_request

N_PER_DIALECT = 160


def _violations(resp: httpx.Response, req: dict, dialect: str) -> str:
    report = check(resp, dialect=dialect, request=req, stream=bool(req.get("stream")))
    if report.violations:
        return f"{report}\nrequest: {json.dumps(req)}\nbody: {resp.text[:3000]}"
    return ""


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_varied_requests_conform(dialect):
    rng = random.Random(f"conformance:{dialect}")
    requests = [random_request(rng, dialect) for _ in range(N_PER_DIALECT)]
    app = create_app(dialect=dialect, seed=11)
    responses = call(app, requests)
    failures = []
    for req, resp in zip(requests, responses, strict=True):
        assert resp.status_code == 200, (req, resp.text)
        assert resp.headers["content-type"].startswith("text/event-stream" if req.get("stream") else "application/json")
        if problem := _violations(resp, req, dialect):
            failures.append(problem)
    assert not failures, f"{len(failures)} of {len(requests)} answers broke the contract:\n" + "\n\n".join(failures[:3])


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_unseeded_answers_conform(dialect):
    rng = random.Random(f"unseeded:{dialect}")
    requests = [random_request(rng, dialect) for _ in range(30)]
    for req, resp in zip(requests, call(create_app(dialect=dialect), requests), strict=True):
        assert not _violations(resp, req, dialect)


def _features(requests):
    seen = set()
    for req in requests:
        seen.add("stream" if req.get("stream") else "json")
        seen.add(f"n={req.get('n', 1)}")
        tc = req.get("tool_choice")
        if "tools" in req:
            seen.add("tool_choice=" + (tc if isinstance(tc, str) else tc["type"] if isinstance(tc, dict) else "absent"))
        if "response_format" in req:
            seen.add(req["response_format"]["type"])
        if "stop" in req:
            seen.add("stop")
        if any(k in req for k in ("max_tokens", "max_completion_tokens")):
            seen.add("max_tokens")
        if req.get("stream_options", {}).get("include_usage"):
            seen.add("include_usage")
    return seen


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_request_generator_covers_every_feature(dialect):
    rng = random.Random(f"conformance:{dialect}")
    seen = _features(random_request(rng, dialect) for _ in range(N_PER_DIALECT))
    wanted = {
        "stream",
        "json",
        "n=1",
        "n=2",
        "n=3",
        "tool_choice=auto",
        "tool_choice=none",
        "tool_choice=required",
        "tool_choice=function",
        "tool_choice=absent",
        "json_object",
        "json_schema",
        "stop",
        "max_tokens",
    }
    wanted |= {"tool_choice=any"} if dialect == "mistral" else {"tool_choice=allowed_tools", "include_usage"}
    assert wanted <= seen


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_answers_exercise_tool_calls_length_and_stop(dialect):
    """The generated answers really contain tool calls, cut-offs and stops (the zero-violation run is not vacuous)."""
    rng = random.Random(f"conformance:{dialect}")
    requests = [random_request(rng, dialect) for _ in range(N_PER_DIALECT)]
    finishes = set()
    for req, resp in zip(requests, call(create_app(dialect=dialect, seed=11), requests), strict=True):
        if not req.get("stream"):
            finishes |= {c["finish_reason"] for c in resp.json()["choices"]}
    assert {"stop", "length", "tool_calls"} <= finishes


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_real_server_answers_conform(dialect):
    rng = random.Random(f"served:{dialect}")
    requests = [random_request(rng, dialect) for _ in range(25)]
    with serve(dialect=dialect, seed=5) as provider, httpx.Client(base_url=provider.base_url) as client:
        assert provider.base_url == f"http://127.0.0.1:{provider.port}/v1"
        assert provider.dialect == dialect
        for req in requests:
            resp = client.post("/chat/completions", json=req)
            assert resp.status_code == 200
            assert not _violations(resp, req, dialect)
        models = client.get("/models").json()
        assert [m["id"] for m in models["data"]] == ["ref-small", "ref-large", "ref-reasoner"]


def test_stop_sequences_are_honoured_and_never_returned():
    req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}], "stop": ["."], "n": 3}
    for resp in call(create_app(dialect="openai", seed=2), [req]):
        for choice in resp.json()["choices"]:
            assert "." not in choice["message"]["content"]
            assert choice["finish_reason"] == "stop"


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_max_tokens_cut_gives_length_and_exact_usage(dialect):
    key = "max_completion_tokens" if dialect == "openai" else "max_tokens"
    req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}], key: 4}
    doc = call(create_app(dialect=dialect, seed=3), [req])[0].json()
    assert doc["choices"][0]["finish_reason"] == "length"
    assert doc["usage"]["completion_tokens"] == 4
    assert doc["usage"]["total_tokens"] == doc["usage"]["prompt_tokens"] + 4


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_stream_and_plain_answers_carry_the_same_content(dialect):
    req = {"model": "ref-large", "messages": [{"role": "user", "content": "Hi"}], "n": 2}
    plain, streamed = call(create_app(dialect=dialect, seed=4), [req, {**req, "stream": True}])
    texts = {0: "", 1: ""}
    for line in streamed.text.splitlines():
        if line.startswith("data: {"):
            for c in json.loads(line[6:])["choices"]:
                texts[c["index"]] += c["delta"].get("content") or ""
    assert [c["message"]["content"] for c in plain.json()["choices"]] == [texts[0], texts[1]]


def test_mistral_ids_and_openai_ids():
    req = {
        "model": "ref-small",
        "messages": [{"role": "user", "content": "Hi"}],
        "tools": [helpers_weather()],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }
    m = call(create_app(dialect="mistral", seed=1), [req])[0].json()
    o = call(create_app(dialect="openai", seed=1), [req])[0].json()
    assert m["id"].startswith("cmpl-") and len(m["id"]) == 37 and int(m["id"][5:], 16) >= 0
    tid = m["choices"][0]["message"]["tool_calls"][0]["id"]
    assert len(tid) == 9 and tid.isascii() and tid.isalnum()
    assert o["id"].startswith("chatcmpl-")
    assert o["choices"][0]["message"]["tool_calls"][0]["id"].startswith("call_")


def helpers_weather():
    from .helpers import WEATHER

    return WEATHER


def test_chat_path_is_under_v1():
    assert CHAT == "/v1/chat/completions"
