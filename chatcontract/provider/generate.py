r"""Deterministic generation for the reference provider: tokens, text, JSON-Schema instances and ids.

There is no model: text is drawn from a small built-in word list with a caller-supplied :class:`random.Random`, so
the same seed gives the same output. One tokenizer is used everywhere (usage, ``max_tokens``, stream pieces,
logprobs): a token is a run of word characters or a single other non-space character (``\w+|[^\w\s]``).
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "WORDS",
    "count_tokens",
    "cut_at_stop",
    "instance_for",
    "mistral_completion_id",
    "mistral_tool_call_id",
    "openai_completion_id",
    "openai_tool_call_id",
    "text",
    "token_pieces",
    "tokenize",
    "truncate_tokens",
]

WORDS: tuple[str, ...] = tuple(
    """
    able about above across after again air also always animal answer apple area around autumn back ball bank
    basket because bird black blue boat book bread bridge bright brown build busy cake calm card care carry castle
    cat chair cheese city clean clear clock cloud coast cold color corner country cow cup dance dark day deep desk
    dog door dream drive early earth east easy egg energy evening every field fire fish floor flower forest fresh
    friend garden gentle glass gold good grain green ground happy harbor heavy hill home honey horse house idea
    island kind lake lamp large leaf letter light little long market meadow metal milk moon morning mountain music
    narrow near night north ocean open orange paper path peace pencil piano plain planet quiet rain river road rock
    round salt sand school sea season shadow ship silver simple sky small snow soft song south spring square star
    stone street summer sun table tall tea thin today tower town train tree valley warm water west white wide wind
    window winter wood world yellow young
    """.split()
)

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_ALNUM = string.ascii_letters + string.digits


def tokenize(text: str) -> list[str]:
    """The tokens of ``text``."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens ``text`` has."""
    return sum(1 for _ in _TOKEN_RE.finditer(text))


def truncate_tokens(text: str, limit: int) -> str:
    """The longest prefix of ``text`` with at most ``limit`` tokens (cut at a token start, trailing space dropped)."""
    for i, m in enumerate(_TOKEN_RE.finditer(text)):
        if i == limit:
            return text[: m.start()].rstrip()
    return text


def token_pieces(text: str) -> list[str]:
    """Split ``text`` into consecutive pieces of exactly one token each (whitespace rides with the next token).

    ``"".join(token_pieces(t)) == t`` always; a text without tokens is one piece (or none when empty).
    """
    starts = [m.start() for m in _TOKEN_RE.finditer(text)]
    if not starts:
        return [text] if text else []
    bounds = [0, *starts[1:], len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop sequence; ``(text, True)`` when one was found."""
    hits = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    if not hits:
        return text, False
    return text[: min(hits)], True


def text(rng: random.Random, tokens: int) -> str:
    """Sentences from the word list, ending at the first sentence end at or after ``tokens`` tokens."""
    sentences: list[str] = []
    used = 0
    while used < tokens or not sentences:
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 9))]
        words[0] = words[0].capitalize()
        parts = []
        for i, w in enumerate(words):
            parts.append(w + ("," if 0 < i < len(words) - 1 and rng.random() < 0.12 else ""))
        sentence = " ".join(parts) + "."
        sentences.append(sentence)
        used += count_tokens(sentence)
    return " ".join(sentences)


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


def mistral_completion_id(rng: random.Random) -> str:
    """``cmpl-`` and 32 hex digits, as Mistral's API issues."""
    return "cmpl-" + _hex(rng, 32)


def mistral_tool_call_id(rng: random.Random) -> str:
    """Nine ASCII letters and digits, the only tool-call id shape Mistral accepts back."""
    return _alnum(rng, 9)


def openai_completion_id(rng: random.Random) -> str:
    """``chatcmpl-`` and 29 letters and digits."""
    return "chatcmpl-" + _alnum(rng, 29)


def openai_tool_call_id(rng: random.Random) -> str:
    """``call_`` and 24 letters and digits."""
    return "call_" + _alnum(rng, 24)


# --------------------------------------------------------------------------------------------------
# JSON-Schema instances
# --------------------------------------------------------------------------------------------------

_MAX_DEPTH = 6


class _Instance:
    """Generates one instance of a (JSON-Schema 2020-12 / draft 7 style) schema; best effort, never raises."""

    def __init__(self, rng: random.Random, root: Any, banned: Sequence[str], minimal: bool) -> None:
        self.rng = rng
        self.root = root
        self.minimal = minimal
        self.words = [w for w in WORDS if not any(b and b in w for b in banned)] or list(WORDS)

    def any(self, schema: Any, depth: int = 0) -> Any:
        if schema is True or not isinstance(schema, Mapping):
            return self.word()
        schema = self.resolve(schema, depth)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0] if self.minimal else self.rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf"):
            branches = [b for b in schema.get(key) or () if isinstance(b, Mapping) and b.get("type") != "null"]
            if branches:
                branch = branches[0] if self.minimal else self.rng.choice(branches)
                merged = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                return self.any({**merged, **branch}, depth + 1)
        kind = self.kind(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, depth)
        if kind == "integer":
            return self.integer(schema)
        if kind == "number":
            return self.number(schema)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string(schema)

    def resolve(self, schema: Mapping[str, Any], depth: int) -> Mapping[str, Any]:
        for _ in range(16):
            ref = schema.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#") or depth > _MAX_DEPTH * 2:
                break
            node: Any = self.root
            for name in filter(None, ref[1:].split("/")):
                node = node.get(name.replace("~1", "/").replace("~0", "~")) if isinstance(node, Mapping) else None
            if not isinstance(node, Mapping):
                break
            schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        parts = [p for p in schema.get("allOf") or () if isinstance(p, Mapping)]
        if parts:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for raw in parts:
                part = self.resolve(raw, depth + 1)
                props = {**(merged.get("properties") or {}), **(part.get("properties") or {})}
                required = [*(merged.get("required") or ()), *(part.get("required") or ())]
                merged = {**merged, **part, "properties": props, "required": list(dict.fromkeys(required))}
            schema = merged
        return schema

    def kind(self, schema: Mapping[str, Any]) -> str:
        t = schema.get("type")
        if isinstance(t, list):
            options = [x for x in t if isinstance(x, str) and x != "null"] or ["null"]
            return options[0] if self.minimal else self.rng.choice(options)
        if isinstance(t, str):
            return t
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
            return "number"
        return "string"

    def word(self) -> str:
        return self.rng.choice(self.words)

    def object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        raw = schema.get("properties")
        props: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        required = [r for r in schema.get("required") or () if isinstance(r, str)]
        out: dict[str, Any] = {}
        optional = [k for k in props if k not in required]
        want = int(schema.get("minProperties") or 0)
        for key in [*required, *optional]:
            keep = key in required or len(out) < want
            if not keep and not self.minimal and depth < _MAX_DEPTH:
                keep = self.rng.random() < 0.5
            if keep:
                out[key] = self.any(props.get(key, {"type": "string"}), depth + 1)
        return out

    def array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        prefix = [s for s in schema.get("prefixItems") or () if isinstance(s, Mapping)]
        lo = max(int(schema.get("minItems") or 0), len(prefix))
        hi = schema.get("maxItems")
        hi = lo + (0 if self.minimal or depth >= _MAX_DEPTH else 3) if not isinstance(hi, int) else hi
        count = lo if self.minimal else self.rng.randint(lo, max(lo, min(hi, lo + 3)))
        items = schema.get("items", {})
        out: list[Any] = []
        seen: set[str] = set()
        minimal = self.minimal
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else items
            for attempt in range(12):
                self.minimal = minimal and attempt == 0  # retries for uniqueItems vary the value
                value = self.any(sub, depth + 1)
                key = json.dumps(value, sort_keys=True)
                if not schema.get("uniqueItems") or key not in seen:
                    break
            self.minimal = minimal
            if key in seen and schema.get("uniqueItems") and len(out) >= lo:
                break  # no more distinct values (a short enum): stop at a valid length
            seen.add(key)
            out.append(value)
        return out

    def bounds(self, schema: Mapping[str, Any], step: float) -> tuple[float, float]:
        lows: list[float] = []
        highs: list[float] = []
        lo, hi = _number(schema.get("minimum")), _number(schema.get("maximum"))
        xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if lo is not None:
            lows.append(lo + step if xlo is True else lo)  # draft 4: exclusiveMinimum is a flag on minimum
        if hi is not None:
            highs.append(hi - step if xhi is True else hi)
        if (x := _number(xlo)) is not None:
            lows.append(x + step)
        if (x := _number(xhi)) is not None:
            highs.append(x - step)
        if not lows and not highs:
            return 0, 100
        if not lows:
            return min(0, min(highs) - 100), min(highs)
        if not highs:
            return max(lows), max(lows) + 100
        return max(lows), max(max(lows), min(highs))

    def integer(self, schema: Mapping[str, Any]) -> int:
        lo, hi = self.bounds(schema, 1)
        low, high = math.ceil(lo), math.floor(hi)
        m = schema.get("multipleOf")
        if isinstance(m, int) and not isinstance(m, bool) and m > 0:
            k_lo, k_hi = math.ceil(low / m), math.floor(high / m)
            if k_lo <= k_hi:
                return m * (k_lo if self.minimal else self.rng.randint(k_lo, k_hi))
        if high < low:
            return low
        return low if self.minimal else self.rng.randint(low, high)

    def number(self, schema: Mapping[str, Any]) -> float | int:
        if isinstance(schema.get("multipleOf"), int):
            return self.integer(schema)
        lo, hi = self.bounds(schema, 0.01)
        value = lo if self.minimal else round(self.rng.uniform(lo, hi), 2)
        return min(max(value, lo), hi)

    def string(self, schema: Mapping[str, Any]) -> str:
        fmt = schema.get("format")
        word = self.word()
        formats = {
            "date-time": "2024-05-17T10:30:00Z",
            "date": "2024-05-17",
            "time": "10:30:00",
            "email": f"{word}@example.com",
            "uri": f"https://example.com/{word}",
            "url": f"https://example.com/{word}",
            "hostname": f"{word}.example.com",
            "ipv4": f"192.0.2.{self.rng.randint(1, 254)}",
            "uuid": "-".join(_hex(self.rng, n) for n in (8, 4, 4, 4, 12)),
        }
        if isinstance(fmt, str) and fmt in formats:
            return formats[fmt]
        count = 1 if self.minimal else self.rng.randint(1, 3)
        value = " ".join([word, *(self.word() for _ in range(count - 1))])
        lo, hi = schema.get("minLength"), schema.get("maxLength")
        while isinstance(lo, int) and len(value) < lo:
            value += " " + self.word()
        if isinstance(hi, int) and len(value) > hi:
            value = value[:hi].rstrip() if hi > 0 else ""
            value = value if not isinstance(lo, int) or len(value) >= lo else value.ljust(lo, "a")
        return value


def _number(v: Any) -> float | None:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


@functools.lru_cache(maxsize=128)
def _validator(schema_json: str) -> Any:
    import jsonschema

    schema = json.loads(schema_json)
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except Exception:  # an invalid schema: generate without checking
        return None
    return cls(schema)


def instance_for(
    schema: Any,
    rng: random.Random,
    *,
    banned: Iterable[str] = (),
    minimal: bool = False,
    attempts: int = 6,
) -> Any:
    """An instance of ``schema``; tries a few times until :mod:`jsonschema` accepts it (best effort).

    ``banned`` substrings (the request's stop sequences) are kept out of generated words; ``minimal`` gives only
    required properties, minimum item counts and one-word strings (used to fit tool calls under ``max_tokens``).
    """
    bans = tuple(banned)
    gen = _Instance(rng, schema, bans, minimal)
    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
    except (TypeError, ValueError):
        validator = None
    value = gen.any(schema)
    for _ in range(attempts - 1):
        rendered = json.dumps(value, ensure_ascii=False)
        if (validator is None or validator.is_valid(value)) and not any(b and b in rendered for b in bans):
            break
        value = gen.any(schema)
    return value
