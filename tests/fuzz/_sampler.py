"""A small Hypothesis sampler for the JSON-Schema keywords of ``GeneratedChatCompletionRequest``.

hypothesis-jsonschema is not a dependency, so this understands exactly the keywords ``build_openapi`` puts in the
generation schema and raises on any other, so that a new keyword cannot be silently ignored:
``const enum type minLength maxLength minimum maximum exclusiveMinimum exclusiveMaximum minItems maxItems
prefixItems items properties required additionalProperties(false) anyOf oneOf allOf(if/then)``.

``anyOf``/``oneOf`` pick one variant merged into the surrounding schema (``required`` lists are united), and an
``allOf`` of ``if: {required: [key]}`` / ``then`` conditions is met by dropping the optional trigger key when
``then`` fails. Every instance is finally checked against the whole schema, so the sampler can only be too
narrow, never wrong.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

ANNOTATIONS = {"title", "description", "examples", "x-chatcontract-contract"}
KEYWORDS = {
    "const", "enum", "type", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minItems", "maxItems", "prefixItems", "items", "properties", "required",
    "additionalProperties", "anyOf", "oneOf", "allOf",
}  # fmt: skip


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Instances of ``schema`` (a self-contained schema: no ``$ref``)."""
    return _strategy(schema).filter(Draft202012Validator(schema).is_valid)


def _merge(base: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in variant.items():
        out[key] = sorted({*out.get(key, ()), *value}) if key == "required" else value
    return out


def _strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise ValueError(f"the sampler does not know {sorted(unknown)} (in {schema})")
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            base = {k: v for k, v in schema.items() if k != keyword}
            return st.one_of([_strategy(_merge(base, variant)) for variant in schema[keyword]])
    kind = schema.get("type")
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 20))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**31) - 1) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2**31 + 1) - 1)
        return st.integers(low, high)
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "array":
        return _array(schema)
    if kind == "object":
        return _object(schema)
    raise ValueError(f"the sampler cannot generate {schema}")


def _array(schema: dict[str, Any]) -> st.SearchStrategy[list[Any]]:
    prefix = [_strategy(item) for item in schema.get("prefixItems", ())]
    low, high = schema.get("minItems", 0), schema.get("maxItems", len(prefix) + 3)
    head = st.tuples(*prefix).map(list)
    if "items" not in schema:
        assert low <= len(prefix) <= high, schema
        return head
    tail = st.lists(_strategy(schema["items"]), min_size=max(0, low - len(prefix)), max_size=high - len(prefix))
    return st.tuples(head, tail).map(lambda parts: parts[0] + parts[1])


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    assert schema.get("additionalProperties") is False, "only closed objects: no random extra keys"
    properties, required = schema.get("properties", {}), set(schema.get("required", ()))
    strategy = st.fixed_dictionaries(
        {key: _strategy(sub) for key, sub in properties.items() if key in required},
        optional={key: _strategy(sub) for key, sub in properties.items() if key not in required},
    )
    conditions = []
    for condition in schema.get("allOf", ()):
        assert set(condition) == {"if", "then"} and condition["if"].get("required"), condition
        triggers = [key for key in condition["if"]["required"] if key not in required]
        conditions.append((Draft202012Validator(condition["if"]), Draft202012Validator(condition["then"]), triggers))

    def meet_conditions(instance: dict[str, Any]) -> dict[str, Any]:
        for when, then, triggers in conditions:
            if when.is_valid(instance) and not then.is_valid(instance):
                for key in triggers:
                    instance.pop(key, None)
        return instance

    return strategy.map(meet_conditions) if conditions else strategy
