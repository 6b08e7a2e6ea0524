"""JSON Schemas derived from the contracts: the fast path's stricter schema, its relaxed form for plain bodies, and
the discriminator tags the OpenAPI document needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_JSON = "#/$defs/_chatcontract_json"
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"})


def fast_schema(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """A stricter JSON schema of ``adapter``'s contract, for jsonschema-rs and a ``lossless-float`` parse.

    jsonschema-rs accepts a document only when all of these hold (it may reject, or raise, in more cases):

    * every value of the document was inspected by a schema keyword (a ``jiter.LosslessFloat`` anywhere makes
      jsonschema-rs raise): the document holds no float at all, so JSON Schema's ``integer``, which accepts
      ``1.0``, cannot let through a float the strict contract rejects, and the document is exactly what the
      default parse gives;
    * every integer fits in 64 bits (the parser's CC108 has nothing to report);
    * the strict pydantic validation of the contract accepts the document: the schema is pydantic's own JSON
      schema of the contract, with each discriminated union's tag made required in its members where pydantic
      leaves it out (a member that defaults its tag still needs it inside the union).
    """
    schema = adapter.json_schema(by_alias=True)
    require_discriminator_tags(schema)
    hardened: dict[str, Any] = _harden(schema)
    hardened.setdefault("$defs", {})["_chatcontract_json"] = {
        "minimum": _INT64_MIN,
        "maximum": _INT64_MAX,
        "additionalProperties": {"$ref": _JSON},
        "items": {"$ref": _JSON},
    }
    return hardened


def relax_for_plain(node: Any) -> Any:
    """A copy of a :func:`fast_schema` for documents the C accelerator proved plain, which need less checking.

    A plain document (``chatcontract._speedups.plain``) holds no float and no integer over 18 digits, and was
    parsed in jiter's default mode: the 64-bit bounds and the "every value inspected" references to
    ``_chatcontract_json`` (both there only to catch floats and big integers) are dropped, which makes
    jsonschema-rs about a third faster. Everything the contract itself constrains stays.
    """
    if isinstance(node, list):
        return [relax_for_plain(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node == {"$ref": _JSON}:
        return True
    out = {}
    for key, value in node.items():
        if (key == "minimum" and value == _INT64_MIN) or (key == "maximum" and value == _INT64_MAX):
            continue
        if key == "$defs" and isinstance(value, dict):
            out[key] = {name: relax_for_plain(sub) for name, sub in value.items() if name != "_chatcontract_json"}
        elif key in ("properties", "patternProperties", "dependentSchemas") and isinstance(value, dict):
            out[key] = {name: relax_for_plain(sub) for name, sub in value.items()}
        elif key in ("const", "enum", "default", "examples", "required", "discriminator"):
            out[key] = value  # values, not subschemas
        else:
            out[key] = relax_for_plain(value)
    return out


def require_discriminator_tags(node: Any) -> None:
    """Make each discriminated union's tag required in its members, in place, as the contracts' validation does.

    pydantic leaves a member's tag out of ``required`` when the model gives it a default (Mistral's
    ``role = "system"``, ``type = "function"``), although the discriminated union rejects input without it
    (``union_tag_not_found``). The requirement is added where the member is *used* (next to its ``$ref``), not
    in the member's component, which may also be used outside a union (Mistral's ``AssistantMessage`` is a
    request message and a response ``message``, where ``role`` may be absent).
    """
    if isinstance(node, list):
        for item in node:
            require_discriminator_tags(item)
        return
    if not isinstance(node, dict):
        return
    disc = node.get("discriminator")
    tag = disc.get("propertyName") if isinstance(disc, dict) else None
    if isinstance(tag, str):
        for keyword in ("oneOf", "anyOf"):
            for member in node.get(keyword, ()):
                if isinstance(member, dict) and tag not in member.get("required", ()):
                    member["required"] = [*member.get("required", ()), tag]
    for value in node.values():
        require_discriminator_tags(value)


_SUBSCHEMA = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "additionalItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "patternProperties", "dependentSchemas")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def _harden(node: Any) -> Any:
    """Every value under ``node`` inspected by a keyword, every number within 64-bit integer bounds."""
    if node is True or (isinstance(node, dict) and set(node) <= _ANNOTATIONS):
        return {"$ref": _JSON}  # an unconstrained value: any JSON, but looked at
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SUBSCHEMA:
        if key in out:
            out[key] = _harden(out[key])
    for key in _SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _harden(sub) for name, sub in out[key].items()}
    for key in _SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_harden(sub) for sub in out[key]]
    types = out.get("type")
    types = {types} if isinstance(types, str) else set(types or ())
    if "additionalProperties" not in out and ("properties" in out or "object" in types):
        out["additionalProperties"] = {"$ref": _JSON}
    if "items" not in out and ("array" in types or "prefixItems" in out):
        out["items"] = {"$ref": _JSON}
    if types & {"integer", "number"}:
        out["minimum"] = max(out.get("minimum", _INT64_MIN), _INT64_MIN)
        out["maximum"] = min(out.get("maximum", _INT64_MAX), _INT64_MAX)
    return out
