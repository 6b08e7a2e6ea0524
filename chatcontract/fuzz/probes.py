"""The ``probes`` phase of ``chatcontract fuzz``: hand-picked semantic requests, each sent on purpose and judged.

schemathesis generates requests from the schema's shape; some requests that real servers get wrong it never sends
(request logs of real runs show none of them): an unknown model name, a negative or zero ``max_tokens``,
``n: 0``, a ``temperature`` out of range, ``logprobs: true`` with ``top_logprobs``, and the other dialect's values
(``tool_choice: "any"`` or Mistral's ``random_seed`` under OpenAI, OpenAI-only fields under Mistral). Each is a
known real-world deviation: an unknown model answered 200 and ``max_tokens: -5`` accepted (llama-cpp-python),
``logprobs`` silently ignored (LiteLLM's mocks), ``tool_choice: "any"`` crashing llama.cpp's server.

The probes go out before schemathesis' phases, through the same :class:`~chatcontract.fuzz.session.FuzzRun` as
every other request: the request budget counts them, the request judge decides whether each is valid (most are
not: then a 2xx is CC601), and the answer goes through the engine with the request when it is valid (``logprobs``:
CC414). The ``max_tokens`` probes leave with the value they test, not the cap: a server that accepts them may
generate up to its own limit. ``--phases`` without ``probes`` turns the phase off.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from .openapi import CHAT_PATH
from .session import BudgetExhausted, FuzzRun, _BudgetSpent

__all__ = ["PROBES", "OwnCase", "Probe", "own_headers", "probe_requests", "send_cases", "send_probes"]

PHASE = "probes"
_ASK = [{"role": "user", "content": "What is the capital of France?"}]
_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


@dataclass(frozen=True)
class Probe:
    """One hand-picked request: what it asks, for which dialects, and the fields it sets on a plain request."""

    name: str
    description: str
    dialects: tuple[str, ...]
    fields: Callable[[str, int], dict[str, Any]] = field(repr=False)


#: Every probe, in the order they are sent.
PROBES: tuple[Probe, ...] = (
    Probe(
        "unknown-model",
        "a model name the server does not serve (OpenAI: 404 model_not_found; Mistral: 400 invalid_model)",
        ("mistral", "openai"),
        lambda model, cap: {"model": f"{model}-chatcontract-no-such-model"},
    ),
    Probe(
        "negative-max-tokens",
        "max_tokens: -5 (below both dialects' minimum)",
        ("mistral", "openai"),
        lambda model, cap: {"max_tokens": -5},
    ),
    Probe(
        "zero-max-tokens",
        "max_tokens: 0 (OpenAI's minimum is 1; Mistral's document allows 0)",
        ("mistral", "openai"),
        lambda model, cap: {"max_tokens": 0},
    ),
    Probe("zero-n", "n: 0 (the minimum is 1)", ("mistral", "openai"), lambda model, cap: {"n": 0}),
    Probe(
        "temperature-too-high",
        "temperature: 3 (OpenAI's maximum is 2, Mistral's 1.5)",
        ("mistral", "openai"),
        lambda model, cap: {"temperature": 3},
    ),
    Probe(
        "negative-temperature",
        "temperature: -1 (the minimum is 0)",
        ("mistral", "openai"),
        lambda model, cap: {"temperature": -1},
    ),
    Probe(
        "logprobs",
        "logprobs: true with top_logprobs: 2 (OpenAI: every choice must carry them, CC414; not in Mistral's request)",
        ("mistral", "openai"),
        lambda model, cap: {"logprobs": True, "top_logprobs": 2},
    ),
    Probe(
        "mistral-tool-choice-any",
        "Mistral's tool_choice 'any' under OpenAI (OpenAI's enum: none, auto, required)",
        ("openai",),
        lambda model, cap: {"tools": [_WEATHER_TOOL], "tool_choice": "any"},
    ),
    Probe(
        "mistral-only-fields",
        "Mistral's random_seed and safe_prompt under OpenAI (unknown there: 400)",
        ("openai",),
        lambda model, cap: {"random_seed": 1, "safe_prompt": True},
    ),
    Probe(
        "openai-seed",
        "OpenAI's seed under Mistral (its request is closed: 422)",
        ("mistral",),
        lambda model, cap: {"seed": 1},
    ),
    Probe(
        "openai-max-completion-tokens",
        "OpenAI's max_completion_tokens under Mistral",
        ("mistral",),
        lambda model, cap: {"max_completion_tokens": cap},
    ),
    Probe(
        "openai-stream-options",
        "OpenAI's stream_options under Mistral",
        ("mistral",),
        lambda model, cap: {"stream_options": {"include_usage": True}},
    ),
)


def probe_requests(dialect: str, model: str, cap: int) -> list[tuple[Probe, dict[str, Any]]]:
    """The probes of ``dialect`` with their request bodies (a plain request with the probe's fields set)."""
    base: dict[str, Any] = {"model": model, "messages": _ASK, "max_tokens": min(cap, 8)}
    return [(p, {**base, **p.fields(model, cap)}) for p in PROBES if dialect in p.dialects]


class OwnCase:
    """One of chatcontract's own requests, as :class:`FuzzRun` reads a schemathesis case.

    Method, body, headers, the phase's name, and what picked it (``probe`` or ``pairwise``, whichever applies).
    """

    def __init__(
        self, phase: str, body: dict[str, Any], headers: dict[str, str], left_out: Iterable[str] = (), **picked: Any
    ) -> None:
        self.method = "POST"
        self.body = body
        self.headers = headers
        #: Optional fields adaptive generation left out of this request (counted once the request is sent).
        self.left_out = list(left_out)
        self.probe = picked.get("probe")
        self.pairwise = picked.get("pairwise")
        self.meta = SimpleNamespace(phase=SimpleNamespace(name=SimpleNamespace(value=phase)))


def own_headers(run: FuzzRun) -> dict[str, str]:
    """The headers of chatcontract's own requests: JSON, and the API key when there is one."""
    headers = {"Content-Type": "application/json"}
    if run.options.api_key:
        headers["Authorization"] = f"Bearer {run.options.api_key}"
    return headers


def send_cases(run: FuzzRun, cases: Iterable[OwnCase]) -> int:
    """Send ``cases`` through ``run`` one by one (budgets, deadlines, 429 handling, judging); returns how many went.

    ``cases`` is read lazily: a case is built only when the one before it is done, so it can depend on what the run
    learnt meanwhile. A case the budget lets through counts the fields it left out in the coverage table. Stops
    early, without an error, when the run's request or time budget is spent or the run is stopping.
    """
    import requests

    from .hooks import deliver

    url = run.options.root_url + CHAT_PATH
    sent = 0
    with requests.Session() as session:
        for case in cases:
            if run.stopping.is_set():
                break
            try:
                run.before_call(case)
            except (_BudgetSpent, BudgetExhausted):
                break
            sent += 1
            if case.left_out:
                with run.lock:
                    run.coverage.dropped.update(case.left_out)
            data = json.dumps(case.body).encode("utf-8")

            def post(data: bytes = data, headers: dict[str, str] = case.headers) -> Any:
                return session.post(url, data=data, headers=headers, timeout=run.options.timeout)

            try:  # the same deadlines and 429 handling as schemathesis' requests
                response = deliver(run, case, post, session)
            except (requests.RequestException, TimeoutError, OSError):
                if run.stopping.is_set():
                    break  # the run is over (time budget, rate limit, Ctrl-C)
                continue  # a lost exchange: deliver recorded it (CC604)
            run.observe(case, response)
    return sent


def send_probes(run: FuzzRun) -> int:
    """Send every probe of the run's dialect through ``run`` (budgets, judging, findings); returns how many went.

    Stops early, without an error, when the run's request or time budget is spent.
    """
    opts = run.options
    headers = own_headers(run)
    cases = (
        OwnCase(PHASE, body, headers, probe=probe)
        for probe, body in probe_requests(opts.dialect, opts.model, opts.max_tokens_cap)
    )
    return send_cases(run, cases)
