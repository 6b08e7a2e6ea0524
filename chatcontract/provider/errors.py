"""Request validation and the dialects' error bodies.

Mistral: a FastAPI-style 422 ``{"detail": [{"loc", "msg", "type", ...}]}`` for bodies that break the request
contract (malformed JSON included), and the flat ``{"object": "error", "message", "type", "param", "code"}`` for
everything else. OpenAI: ``{"error": {"message", "type", "param", "code"}}`` with 400 for bad requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from ..contracts import contracts_for
from .completions import callable_tools, tool_mode

__all__ = ["ApiError", "error_body", "foreign_body", "validate_request"]


class ApiError(Exception):
    """An error answer: HTTP status and the dialect's JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def error_body(
    dialect: str,
    message: str,
    *,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The dialect's general error envelope."""
    if dialect == "mistral":
        return {"object": "error", "message": message, "type": type_, "param": param, "code": code}
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error(dialect: str, status: int, message: str, **kwargs: Any) -> ApiError:
    """An :class:`ApiError` with the dialect's general envelope."""
    return ApiError(status, error_body(dialect, message, **kwargs))


def foreign_body(dialect: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` re-wrapped in the *other* dialect's envelope (the foreign-error-envelope fault)."""
    nested = body.get("error")
    inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else body
    message = inner.get("message")
    if not isinstance(message, str):
        detail = body.get("detail")
        items = detail if isinstance(detail, list) else []
        message = "; ".join(str(d.get("msg")) for d in items if isinstance(d, Mapping)) or "Invalid request"
    fields = {
        "message": message,
        "type": str(inner.get("type") or "invalid_request_error"),
        "param": inner.get("param") if isinstance(inner.get("param"), str) else None,
        "code": inner.get("code") if isinstance(inner.get("code"), str) else None,
    }
    if dialect == "mistral":
        return {"error": fields}
    return {"object": "error", **fields}


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _param(doc: Any, loc: Sequence[str | int]) -> str:
    """A pydantic location as a request path (``messages[0].content``), union and tag labels dropped."""
    out = ""
    node = doc
    for i, seg in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, Mapping) and isinstance(seg, str) and (seg in node or last):
            out += ("." if out else "") + seg
            node = node.get(seg)
        elif isinstance(node, list) and isinstance(seg, int):
            out += f"[{seg}]"
            node = node[seg] if 0 <= seg < len(node) else None
    return out


def _contract_error(dialect: str, doc: Any, exc: ValidationError) -> ApiError:
    errors = exc.errors(include_url=False, include_context=False)
    if dialect == "mistral":
        detail = [
            {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"], "input": _jsonable(e.get("input"))}
            for e in errors
        ]
        return ApiError(422, {"detail": detail})
    first = errors[0]
    param = _param(doc, first["loc"]) or None
    if first["type"] == "missing":
        return error(
            dialect, 400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    code = "invalid_type" if first["type"].endswith("_type") else "invalid_value"
    where = f" for '{param}'" if param else ""
    return error(dialect, 400, f"Invalid value{where}: {first['msg']}.", param=param, code=code)


def parse_body(dialect: str, raw: bytes) -> Any:
    """The request JSON, or an :class:`ApiError` for a body that is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        if dialect == "mistral":
            pos = getattr(exc, "pos", 0)
            item = {"type": "json_invalid", "loc": ["body", pos], "msg": "JSON decode error", "input": {}}
            raise ApiError(422, {"detail": [{**item, "ctx": {"error": getattr(exc, "msg", str(exc))}}]}) from None
        raise error(
            dialect,
            400,
            "We could not parse the JSON body of your request. The API expects a JSON payload, but what was sent "
            "was not valid JSON.",
        ) from None


def _is_object_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type", "object") == "object"


def _unknown_keys(value: Any, where: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """``(where, key)`` for every key of a validated request that its (open) contract model does not declare."""
    if isinstance(value, BaseModel):
        for key in value.__pydantic_extra__ or ():
            yield where, key
        for name, info in type(value).model_fields.items():
            yield from _unknown_keys(getattr(value, name), (*where, info.alias or name))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _unknown_keys(item, (*where, i))


def _unknown_argument_error(dialect: str, validated: Any) -> ApiError | None:
    """OpenAI's answer to keys its request does not know: its published schema is open, the API is not.

    Top level: ``Unrecognized request argument supplied: <name>``; inside an object (a message, a tool):
    ``Additional properties are not allowed ('<name>' was unexpected) - '<path>'``. Both 400.
    """
    unknown = list(_unknown_keys(validated))
    if not unknown:
        return None
    top = sorted(key for where, key in unknown if not where)
    if top:
        plural = "s" if len(top) > 1 else ""
        return error(dialect, 400, f"Unrecognized request argument{plural} supplied: {', '.join(top)}")
    where, key = unknown[0]
    path = ".".join(str(p) for p in where)
    return error(dialect, 400, f"Additional properties are not allowed ({key!r} was unexpected) - {path!r}")


def validate_request(dialect: str, doc: Any, models: Sequence[str]) -> dict[str, Any]:
    """Validate a parsed request with the dialect's request contract, then what the contract cannot express.

    An unknown key is outside the request contract in both dialects: Mistral's published request schema is closed
    (``additionalProperties: false``, a 422), and OpenAI's API refuses keys its request does not declare (400
    "Unrecognized request argument supplied") although its published schema leaves the objects open.
    """
    try:
        validated = contracts_for(dialect).request.validate_python(doc)
    except ValidationError as exc:
        raise _contract_error(dialect, doc, exc) from None
    assert isinstance(doc, dict)
    unknown = _unknown_argument_error(dialect, validated)
    if unknown is not None:
        raise unknown
    model = doc["model"]
    if model not in models:
        if dialect == "mistral":
            raise error(dialect, 400, f"Invalid model: {model}", type_="invalid_model", code="1500")
        raise error(
            dialect,
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    if dialect == "openai":
        for key in ("max_tokens", "max_completion_tokens"):
            if isinstance(doc.get(key), int) and doc[key] < 1:
                raise error(
                    dialect,
                    400,
                    f"Invalid '{key}': integer below minimum value 1.",
                    param=key,
                    code="integer_below_min_value",
                )
    tools = callable_tools(doc)
    mode, names = tool_mode(doc, tools)
    param = "tool_choice"
    if mode == "named" and names[0] not in tools:
        raise error(
            dialect, 400, f"tool_choice names function {names[0]!r}, which is not among the tools.", param=param
        )
    if mode == "required" and not names:
        raise error(dialect, 400, "tool_choice requires a tool call, but no function tools were given.", param=param)
    if isinstance(doc.get("tool_choice"), Mapping) and doc["tool_choice"].get("type") == "custom":
        raise error(dialect, 400, "Custom tools cannot be forced on the reference provider.", param=param)
    for name, schema in tools.items():
        if not _is_object_schema(schema):
            raise error(dialect, 400, f"Invalid schema for function {name!r}: expected type 'object'.", param="tools")
    rf = doc.get("response_format")
    js = rf.get("json_schema") if isinstance(rf, Mapping) else None
    if isinstance(js, Mapping) and "schema" in js and not _is_object_schema(js["schema"]):
        raise error(
            dialect, 400, "Invalid schema for response_format: expected type 'object'.", param="response_format"
        )
    return doc
