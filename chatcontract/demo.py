"""``chatcontract demo``: start the reference provider with real-world faults, sweep it, and print the report.

Two reference providers (one per dialect) are started on free loopback ports, each with a few faults from the
catalogue injected into a fraction of responses. A fixed sweep of varied requests (plain, streamed, ``n``, tools,
response formats, ``max_tokens``, invalid requests) goes to each over real HTTP; every response is checked by the
engine with the request it answered. Then the shipped real-world example responses are checked too. Exit code 0
when the demo ran, whatever it found: the findings are the point.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

from .engine import Report, check

__all__ = ["DEMO_FAULTS", "examples", "run_demo", "sweep_requests"]

DEMO_FAULTS = {
    "mistral": ("created-ms:0.3", "missing-usage:0.2", "stream-no-done:0.5", "tool-args-not-json:0.5"),
    "openai": ("n-ignored:0.5", "constant-usage:0.4", "stream-empty-finish-reason:0.4", "foreign-error-envelope"),
}
_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


def sweep_requests(dialect: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """A fixed, varied set of ``(label, request body)`` pairs for one dialect."""
    model = "ref-small"
    user = [{"role": "user", "content": "Say something short about the sea."}]
    any_tool = "any" if dialect == "mistral" else "required"
    for stream in (False, True):
        s: dict[str, Any] = {"stream": True} if stream else {}
        if stream and dialect == "openai":
            s["stream_options"] = {"include_usage": True}
        kind = "stream" if stream else "plain"
        yield f"{kind}", {"model": model, "messages": user, **s}
        yield f"{kind} max_tokens=5", {"model": model, "messages": user, "max_tokens": 5, **s}
        yield f"{kind} n=2", {"model": model, "messages": user, "n": 2, "max_tokens": 12, **s}
        yield f"{kind} tools auto", {"model": model, "messages": user, "tools": [_TOOL], **s}
        forced = {"tools": [_TOOL], "tool_choice": any_tool}
        yield f"{kind} tools {any_tool}", {"model": model, "messages": user, **forced, **s}
        yield f"{kind} json_object", {"model": model, "messages": user, "response_format": {"type": "json_object"}, **s}
        rf = {"type": "json_schema", "json_schema": {"name": "person", "schema": _SCHEMA}}
        yield f"{kind} json_schema", {"model": model, "messages": user, "response_format": rf, **s}
        yield f"{kind} stop", {"model": model, "messages": user, "stop": ["the"], **s}
    yield "invalid: temperature=9", {"model": model, "messages": user, "temperature": 9}
    yield "invalid: no messages", {"model": model}


def examples() -> Iterator[tuple[str, dict[str, Any]]]:
    """``(file name, example)`` for every real-world example shipped in ``chatcontract/examples``."""
    folder = resources.files("chatcontract") / "examples"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            yield entry.name, json.loads(entry.read_text(encoding="utf-8"))


def _sweep(dialect: str, write: Callable[[str], None]) -> list[tuple[str, Report]]:
    import httpx

    from .provider import serve

    results: list[tuple[str, Report]] = []
    with serve(dialect=dialect, faults=DEMO_FAULTS[dialect], seed=7) as provider, httpx.Client(timeout=30) as client:
        write(f"== reference provider ({dialect}) at {provider.base_url}, faults: {', '.join(DEMO_FAULTS[dialect])}")
        for label, body in sweep_requests(dialect):
            with client.stream("POST", f"{provider.base_url}/chat/completions", json=body) as response:
                report = check(response, dialect=dialect, request=body)  # streams are read incrementally
            results.append((label, report))
            verdict = "conforms" if not report.violations else " ".join(sorted(set(report.codes())))
            write(f"  {label:<28} {response.status_code}  {verdict}")
    return results


def run_demo(write: Callable[[str], None] = print) -> list[tuple[str, Report]]:
    """Run the sweep against both dialects and the shipped examples; print the reports; return them."""
    results: list[tuple[str, Report]] = []
    for dialect in ("mistral", "openai"):
        results += [(f"{dialect}: {label}", r) for label, r in _sweep(dialect, write)]
        write("")
    write("== real-world examples shipped with chatcontract")
    for name, ex in examples():
        report = check(
            json.dumps(ex["body"]).encode(), dialect=ex["dialect"], status=ex.get("status"), request=ex.get("request")
        )
        results.append((name, report))
        write(f"  {name:<36} {'conforms' if not report.violations else ' '.join(sorted(set(report.codes())))}")
    write("")
    counts: Counter[str] = Counter()
    first: dict[str, tuple[str, Any]] = {}
    for label, report in results:
        for v in report.violations:
            counts[v.code] += 1
            first.setdefault(v.code, (label, v))
    checked, failing = len(results), sum(not r.ok for _, r in results)
    write(f"Compatibility report: {checked} responses checked, {failing} broke the contract")
    write(f"  {'rule':<7} {'name':<38} {'severity':<8} {'count':>5}  first seen in")
    for code in sorted(counts):
        label, v = first[code]
        write(f"  {code:<7} {v.name:<38} {v.severity.value:<8} {counts[code]:>5}  {label} ({v.where})")
    write("")
    write("Run `chatcontract rule CODE` for what a rule checks and why it matters.")
    return results
