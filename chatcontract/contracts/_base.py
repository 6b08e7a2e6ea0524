"""Base classes shared by the dialect contract models.

Every wire model is *strict* (``"10"`` is not ``10``, ``true`` is not ``1``, ``1.5`` is not an
integer) and rejects non-finite numbers (``NaN``, ``Infinity``). Whether unknown keys are tolerated
follows the published OpenAPI document of each schema:

* :class:`ClosedModel` -- the schema says ``additionalProperties: false``; an unknown key raises an
  ``extra_forbidden`` error (the engine reports it as a warning).
* :class:`OpenModel` -- the schema says nothing (OpenAPI's default: extra keys allowed) or
  ``additionalProperties: true``.

Presence versus nullability (pydantic does not validate defaults):

* required, not nullable -> ``x: T``
* required, nullable -> ``x: T | None`` (no default)
* optional, not nullable -> ``x: T = ABSENT`` (explicit ``null`` is rejected; the key may be left out)
* optional, nullable -> ``x: T | None = None``
* optional with a documented default -> ``x: T = <documented default>``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ABSENT", "ClosedModel", "OpenModel", "WireModel"]

#: Default for "may be absent, must not be null" fields. It is ``None`` typed as ``Any``: pydantic
#: never validates a default, so an absent key passes while an explicit ``null`` is validated against
#: the (non-nullable) annotation and fails. Typed ``Any`` so that ``name: str = ABSENT`` type-checks.
ABSENT: Any = None


def _drop_absent_defaults(schema: dict[str, Any], cls: type[Any]) -> None:
    """Remove the ``"default": null`` that ``ABSENT`` leaves on non-nullable properties.

    Only affects JSON-schema generation (``model_json_schema`` / ``TypeAdapter.json_schema``), never
    validation: a non-nullable property must not advertise a ``null`` default.
    """
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for prop in properties.values():
        if not isinstance(prop, dict) or "default" not in prop or prop["default"] is not None:
            continue
        variants = prop.get("anyOf")
        nullable = isinstance(variants, list) and {"type": "null"} in variants
        if not nullable:
            del prop["default"]


class WireModel(BaseModel):
    """Root of all contract models: strict types, finite numbers only."""

    model_config = ConfigDict(
        strict=True,
        allow_inf_nan=False,
        json_schema_extra=_drop_absent_defaults,
    )


class ClosedModel(WireModel):
    """A schema published with ``additionalProperties: false``: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class OpenModel(WireModel):
    """A schema that allows unknown keys (OpenAPI default, or ``additionalProperties: true``)."""

    model_config = ConfigDict(extra="allow")
