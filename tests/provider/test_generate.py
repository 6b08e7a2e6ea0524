"""The deterministic generators: tokenizer, truncation, stop sequences, JSON-Schema instances, determinism."""

from __future__ import annotations

import json
import random

import jsonschema
import pytest

from chatcontract.provider import create_app
from chatcontract.provider import generate as gen

from .helpers import SCHEMAS, TOOLS, call, random_request


def test_tokenizer():
    assert gen.tokenize("Hello, world. It's 42!") == ["Hello", ",", "world", ".", "It", "'", "s", "42", "!"]
    assert gen.count_tokens("  ") == 0
    assert gen.count_tokens('{"a": 1}') == 7


@pytest.mark.parametrize("text", ["Sun rain, wind. Tree", '{"city": "Paris", "n": 3}', "", "  a  ", "é ü"])
def test_truncate_and_pieces(text):
    for limit in range(gen.count_tokens(text) + 2):
        cut = gen.truncate_tokens(text, limit)
        assert text.startswith(cut)
        assert gen.count_tokens(cut) == min(limit, gen.count_tokens(text))
    pieces = gen.token_pieces(text)
    assert "".join(pieces) == text
    assert all(gen.count_tokens(p) == 1 for p in pieces) or gen.count_tokens(text) == 0


def test_cut_at_stop_takes_the_earliest_sequence():
    assert gen.cut_at_stop("one two. three, four", [",", "."]) == ("one two", True)
    assert gen.cut_at_stop("abc", ["x", ""]) == ("abc", False)


def test_text_is_word_list_sentences():
    text = gen.text(random.Random(1), 30)
    assert gen.count_tokens(text) >= 30 and text.endswith(".")
    assert all(w.lower() in gen.WORDS for w in gen.tokenize(text) if w.isalpha())


EXTRA_SCHEMAS = [
    {
        "type": "object",
        "properties": {"xs": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}},
    },
    {
        "type": "object",
        "allOf": [
            {"properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer", "maximum": -5}}, "required": ["b"]},
        ],
    },
    {
        "type": "object",
        "properties": {
            "v": {"oneOf": [{"type": "boolean"}, {"type": "string", "format": "uuid"}]},
            "w": {"type": "string", "minLength": 30, "maxLength": 35},
            "x": {"type": "number", "minimum": 2.5, "maximum": 2.5},
            "y": {"type": "integer", "exclusiveMinimum": 3, "exclusiveMaximum": 5},
            "z": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 2},
                "minItems": 3,
                "maxItems": 3,
                "uniqueItems": True,
            },
        },
        "required": ["v", "w", "x", "y", "z"],
    },
    {
        "type": "object",
        "properties": {"tree": {"$ref": "#/$defs/node"}},
        "required": ["tree"],
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                "required": ["kids"],
            }
        },
    },
    {"type": "object", "minProperties": 2, "properties": {"p": {"type": "null"}, "q": {"type": ["string", "integer"]}}},
    {
        "type": "object",
        "properties": {
            "t": {"type": "string", "format": "date-time"},
            "e": {"format": "email"},
            "h": {"type": "string", "format": "hostname"},
            "i": {"format": "ipv4"},
        },
    },
    {
        "type": "object",
        "properties": {
            "old": {"type": "integer", "minimum": 1, "exclusiveMinimum": True, "maximum": 3, "exclusiveMaximum": True}
        },
        "required": ["old"],
        "$schema": "http://json-schema.org/draft-04/schema#",
    },
]


@pytest.mark.parametrize("schema", [*SCHEMAS, *(t["function"]["parameters"] for t in TOOLS), *EXTRA_SCHEMAS])
def test_instances_validate(schema):
    validator = jsonschema.validators.validator_for(schema)(schema)
    for seed in range(40):
        for minimal in (False, True):
            value = gen.instance_for(schema, random.Random(seed), minimal=minimal)
            assert validator.is_valid(value), (seed, minimal, value, list(validator.iter_errors(value))[:1])


def test_banned_substrings_are_avoided():
    schema = SCHEMAS[0]
    for seed in range(30):
        text = json.dumps(gen.instance_for(schema, random.Random(seed), banned=["an", "o"]))
        values = [v for v in json.loads(text).values() if isinstance(v, str)]
        assert not any("o" in v or "an" in v for v in values)


def test_minimal_instances_are_smaller():
    schema = TOOLS[1]["function"]["parameters"]
    full = [len(json.dumps(gen.instance_for(schema, random.Random(s)))) for s in range(20)]
    small = [len(json.dumps(gen.instance_for(schema, random.Random(s), minimal=True))) for s in range(20)]
    assert sum(small) < sum(full)


def test_ids():
    rng = random.Random(0)
    assert len(gen.mistral_completion_id(rng)) == 37
    assert len(gen.mistral_tool_call_id(rng)) == 9
    assert gen.openai_completion_id(rng).startswith("chatcmpl-")
    assert len(gen.openai_tool_call_id(rng)) == 29


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_same_request_and_seed_give_the_same_bytes(dialect):
    rng = random.Random(f"determinism:{dialect}")
    requests = [random_request(rng, dialect) for _ in range(30)]
    first = [r.content for r in call(create_app(dialect=dialect, seed=42), requests)]
    # Another app, the requests in reverse order: answers depend on the request and the seed only.
    second = [r.content for r in call(create_app(dialect=dialect, seed=42), requests[::-1])][::-1]
    assert first == second
    other = [r.content for r in call(create_app(dialect=dialect, seed=43), requests)]
    assert sum(a != b for a, b in zip(first, other, strict=True)) >= 25


def test_unseeded_answers_differ():
    req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}]}
    a, b = call(create_app(dialect="mistral"), [req, req])
    assert a.json()["id"] != b.json()["id"]
