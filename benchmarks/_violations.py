"""Section E of bench_check.py: bodies with violations, each a real provider's deviation, against jsonschema-rs.

The anchor is what a JSON Schema user pays to learn everything wrong with a body: jsonschema-rs parses nothing
itself, so ``jiter.from_json(body)`` and then every error of ``iter_errors`` against the dialect's *published*
response schema (``schemas/``, extracted by ``extract_schema.py``), collected into a list. ``check()`` gets the
same bytes (and the recorded request where the deviation is about the request) and builds its full report.

Bodies come from the repository's cassettes (``cassettes/``, recorded from llama.cpp's server and LiteLLM's proxy)
or are the benchmark seeds edited the way a provider deviated (sources in ``DEVIATIONS``; see also
``tests/test_divergences.py``). A body in the CC3xx family would be a stream (bench_stream.py), and CC5xx bodies are
error answers (status >= 400), which have no conforming fast path to compare with: neither is here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiter

from chatcontract import check, engine
from chatcontract import settings as cc_settings
from chatcontract.cassettes.file import load_cassette

HERE = Path(__file__).resolve().parent
CASSETTES = HERE.parent / "cassettes"
SCHEMAS = {
    "mistral": HERE / "schemas" / "mistral_chat_completion_response.json",
    "openai": HERE / "schemas" / "openai_chat_completion_response.json",
}
MANY = 100  # violations in the "many violations" body


@dataclass
class Deviation:
    """One body: what it is, where the deviation comes from, how to check it and what check() must report."""

    name: str
    source: str
    dialect: str
    body: bytes
    request: Any
    codes: list[str]

    def run(self) -> Any:
        return check(self.body, dialect=self.dialect, request=self.request)


def full_path(d: Deviation) -> Any:
    """The report of check()'s full path alone (pydantic on the whole document, every rule): what a body with a
    violation cost before the violation route, as a reference."""
    settings = cc_settings._settings_for(d.dialect, None, None, None)
    return engine._full_check(d.body, settings, status=None, stream=None, request=d.request)


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _edit(body: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    doc = json.loads(body)
    edit(doc)
    return _dump(doc)


def _recorded(path: str) -> tuple[bytes, Any]:
    interaction = load_cassette(CASSETTES / path).interactions[0]
    return interaction.response.body, interaction.request.json


def _tool_call_finish(doc: dict[str, Any]) -> None:
    doc["choices"][0]["finish_reason"] = "tool_calls"
    for call in doc["choices"][0]["message"]["tool_calls"]:
        call["id"] = "D681PevKs"


def _openai_conforming(doc: dict[str, Any]) -> None:
    del doc["choices"][0]["message"]["tool_calls"]


def deviations(mistral_seed: bytes, openai_seed: bytes) -> list[Deviation]:
    """The bodies with violations, one family after another (CC0xx, CC1xx, CC2xx, CC4xx)."""
    llama, _ = _recorded("llamacpp/chat.yaml")
    litellm, _ = _recorded("litellm/chat.yaml")
    llama_n2, llama_n2_request = _recorded("llamacpp/n2.yaml")
    litellm_tools, _ = _recorded("litellm/tool_calls.yaml")
    return [
        Deviation(
            "duplicate key",
            "RFC 8259 §4: parsers disagree on which value wins",
            "mistral",
            mistral_seed.replace(b'"model":', b'"id":"x","model":', 1),
            None,
            ["CC004"],
        ),
        Deviation(
            "no message.refusal",
            "llama.cpp server, cassettes/llamacpp/chat.yaml",
            "openai",
            llama,
            None,
            ["CC101"],
        ),
        Deviation(
            "no refusal, no logprobs",
            "LiteLLM proxy, cassettes/litellm/chat.yaml",
            "openai",
            litellm,
            None,
            ["CC101", "CC101"],
        ),
        Deviation(
            "created a float",
            "SambaNova via mlcommons/modelbench#1287",
            "mistral",
            mistral_seed.replace(b'"created":1702256327', b'"created":1757876416.566', 1),
            None,
            ["CC102"],
        ),
        Deviation(
            "tool_calls: null (warning)",
            "LiteLLM, OpenAI (data/openai_chat_completion.json)",
            "openai",
            openai_seed,
            None,
            ["CC109"],
        ),
        Deviation(
            "created in milliseconds",
            "AnythingLLM via etkecc/baibot#25",
            "mistral",
            mistral_seed.replace(b'"created":1702256327', b'"created":1702256327000', 1),
            None,
            ["CC209"],
        ),
        Deviation(
            "usage total mismatch (warning)",
            "Clarifai, thinking tokens left out (Clarifai/clarifai-python#978)",
            "mistral",
            mistral_seed.replace(b'"total_tokens":78', b'"total_tokens":79', 1),
            None,
            ["CC201"],
        ),
        Deviation(
            "stop with tool calls (warnings)",
            "LiteLLM proxy, cassettes/litellm/tool_calls.yaml",
            "mistral",
            litellm_tools,
            None,
            ["CC206", "CC216"],
        ),
        Deviation(
            "n ignored",
            "llama.cpp server, cassettes/llamacpp/n2.yaml (request n=2, one choice)",
            "mistral",
            llama_n2,
            llama_n2_request,
            ["CC401"],
        ),
    ]


#: Bodies per rotation of fresh values: more than the engine keeps reports of (256), so none is found kept.
FRESH = 300


def fresh(d: Deviation) -> list[tuple[bytes, Any]] | None:
    """``FRESH`` variants of ``d`` (body, request) whose finding carries a different value each (``created``, the
    total, the tool-call id, the repeated key's value, the request's ``n``, the float), as a provider's live answers
    do; None for a body whose finding is the same in every answer (a missing field, a null)."""
    edits: dict[str, Callable[[int], tuple[bytes, Any]]] = {
        "duplicate key": lambda i: (d.body.replace(b'"id":"x"', b'"id":"x%d"' % i, 1), d.request),
        "created a float": lambda i: (d.body.replace(b".566", b".%03d" % (i + 100), 1), d.request),
        "created in milliseconds": lambda i: (
            d.body.replace(b'"created":1702256327000', b'"created":%d' % (1702256327001 + i), 1),
            d.request,
        ),
        "usage total mismatch (warning)": lambda i: (
            d.body.replace(b'"total_tokens":79', b'"total_tokens":%d' % (80 + i), 1),
            d.request,
        ),
        "stop with tool calls (warnings)": lambda i: (
            d.body.replace(b"call_mock_0001", b"call_mock_%04d" % (i + 2), 1),
            d.request,
        ),
        "n ignored": lambda i: (d.body, {**d.request, "n": 3 + i}),
    }
    edit = edits.get(d.name)
    if edit is None:
        return None
    out = [edit(i) for i in range(FRESH)]
    assert len({(b, json.dumps(r)) for b, r in out} | {(d.body, json.dumps(d.request))}) == FRESH + 1, d.name
    return out


def warning_pairs(mistral_seed: bytes, openai_seed: bytes) -> list[tuple[Deviation, Deviation]]:
    """(a body with warnings only, the same body without them): the cost of a warning."""
    litellm_tools, _ = _recorded("litellm/tool_calls.yaml")
    return [
        (
            Deviation("CC109 tool_calls: null", "", "openai", openai_seed, None, ["CC109"]),
            Deviation("conforming", "", "openai", _edit(openai_seed, _openai_conforming), None, []),
        ),
        (
            Deviation(
                "CC201 usage mismatch",
                "",
                "mistral",
                mistral_seed.replace(b'"total_tokens":78', b'"total_tokens":79', 1),
                None,
                ["CC201"],
            ),
            Deviation("conforming", "", "mistral", mistral_seed, None, []),
        ),
        (
            Deviation("CC206+CC216 LiteLLM tool calls", "", "mistral", litellm_tools, None, ["CC206", "CC216"]),
            Deviation("conforming", "", "mistral", _edit(litellm_tools, _tool_call_finish), None, []),
        ),
    ]


def many(openai_seed: bytes, n: int, broken: bool) -> Deviation:
    """n choices like llama.cpp's (no ``message.refusal``: n violations), or the same with ``refusal`` (none)."""
    doc = json.loads(openai_seed)
    _openai_conforming(doc)
    choice = doc["choices"][0]
    if broken:
        del choice["message"]["refusal"]
    doc["choices"] = [{**copy.deepcopy(choice), "index": i} for i in range(n)]
    return Deviation(f"{n} choices", "", "openai", _dump(doc), None, ["CC101"] * n if broken else [])


def anchor(dialect: str) -> Callable[[bytes], list[Any]]:
    """jsonschema-rs: parse with jiter, collect every error against the published schema of ``dialect``."""
    import jsonschema_rs

    path = SCHEMAS[dialect]
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run python3 benchmarks/extract_schema.py (--openai) once")
    errors = jsonschema_rs.validator_for(path.read_text(encoding="utf-8")).iter_errors
    from_json = jiter.from_json

    def run(body: bytes) -> list[Any]:
        return list(errors(from_json(body)))

    return run
