"""The contract's errors of one document, found by validating only the sub-trees where the fast schema failed.

The full path validates a whole response with its strict pydantic contract, which costs more than everything else
``check()`` does on a conforming body. :func:`located_errors` gets the same error list (what
``ValidationError.errors()`` of the whole document would hold) from a few small validations instead: the fast
schema (jsonschema-rs, contract only) says *where* the document fails, and only the enclosing field values are
validated by pydantic, each with the validator that the enclosing model uses for that field. A model's own
findings (a required field missing, an unknown field in a closed model) are spelt the way pydantic spells them.

It relies on two properties of the contracts, both held by tests (``tests/test_fastpath.py`` compares every
report with the full path's; ``tests/rules/test_located.py`` compares the error lists): a model validates each of
its fields independently (no model or field validators: the contracts have none), and a sub-tree the fast schema
accepts is one the contract accepts (``rules.json_schema.fast_schema``). Anything else (a root that is not a
model, a type annotation it does not know how to descend into) is validated whole, so the answer stays exact;
the caller only loses time.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = ["float_paths", "located_errors", "scan_numbers"]

Path = tuple[str | int, ...]
Validate = Callable[[Any], Any]


class _Field:
    __slots__ = ("name", "key", "required", "model", "item_model", "annotation", "info", "_validate")

    def __init__(self, owner: type[BaseModel], name: str, info: Any) -> None:
        self.name = name
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        self.key: str = alias if isinstance(alias, str) else name
        self.required: bool = info.is_required()
        self.annotation = info.annotation
        self.info = info
        # Where an error path may descend: into a model (``M`` or ``M | None``), or into the items of ``list[M]``.
        self.model = _model_of(info.annotation) if not info.metadata and info.discriminator is None else None
        self.item_model = _list_item_model(info.annotation) if not info.metadata else None
        self._validate: Validate | None = None

    def validator(self, owner: type[BaseModel]) -> Validate:
        """Validates this field's value as the owner model does, with errors located from the value."""
        if self._validate is None:
            if self.model is not None and self.annotation is self.model:
                self._validate = self.model.__pydantic_validator__.validate_python
            else:
                extra: list[Any] = list(self.info.metadata)
                if self.info.discriminator is not None:
                    extra.append(Field(discriminator=self.info.discriminator))
                params = (self.annotation, *extra)
                annotation: Any = Annotated[params] if extra else self.annotation
                config = ConfigDict(
                    strict=bool(owner.model_config.get("strict")),
                    allow_inf_nan=owner.model_config.get("allow_inf_nan", True),
                )
                self._validate = TypeAdapter(annotation, config=config).validator.validate_python
        return self._validate


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """``M`` for an annotation ``M`` or ``M | None`` (a nullable value adds no label to pydantic's locations)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            inner = args[0]
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


class _Model:
    __slots__ = ("cls", "fields", "by_key", "forbid")

    def __init__(self, cls: type[BaseModel]) -> None:
        self.cls = cls
        self.fields = [_Field(cls, name, info) for name, info in cls.model_fields.items()]
        self.by_key = {f.key: f for f in self.fields}
        self.forbid = cls.model_config.get("extra") == "forbid"


_MODELS: dict[type[BaseModel], _Model] = {}


def _model(cls: type[BaseModel]) -> _Model:
    found = _MODELS.get(cls)
    if found is None:
        found = _MODELS[cls] = _Model(cls)
    return found


def _unit(root: _Model, doc: dict[str, Any], path: Sequence[Any]) -> tuple[Path, _Model, dict[str, Any], _Field | None]:
    """The smallest part of ``doc`` that pydantic can validate on its own and that holds the error at ``path``.

    Either a field value (``(location of the value, owner, owner's object, field)``) or, for an error about the
    object itself (a missing or unknown key), the model's object (``(its location, model, object, None)``).
    """
    model, node, at = root, doc, 0
    prefix: Path = ()
    while at < len(path):
        seg = path[at]
        f = model.by_key.get(seg) if isinstance(seg, str) else None
        if f is None or seg not in node:
            return prefix, model, node, None  # an unknown key (an extra) or a missing one: the object's business
        value = node[seg]
        nxt = path[at + 1] if at + 1 < len(path) else None
        if f.model is not None and type(value) is dict and (nxt is not None or f.annotation is f.model):
            # Into the model's object: an error below it, or about the object itself, which for a model is a
            # required or an unknown key (its schema has no other keyword about the object). Not for ``M | None``:
            # an error about that value is the union's (``anyOf``), the field's business.
            model, node, prefix, at = _model(f.model), value, (*prefix, seg), at + 1
        elif (
            type(nxt) is int
            and f.item_model is not None
            and type(value) is list
            and 0 <= nxt < len(value)
            and type(value[nxt]) is dict
        ):
            model, node, prefix, at = _model(f.item_model), value[nxt], (*prefix, seg, nxt), at + 2
        else:
            return (*prefix, seg), model, node, f
    return prefix, model, node, None


_ROOTS: dict[int, tuple[TypeAdapter[Any], _Model | None]] = {}


def located_errors(adapter: TypeAdapter[Any], doc: Any, paths: Iterable[Sequence[Any]]) -> list[dict[str, Any]] | None:
    """The pydantic error list for ``doc``, given the ``paths`` of every place the fast schema rejects.

    None when the contract's root is not a model or ``doc`` not an object (validate the whole document instead).
    May raise RecursionError, like a validation of the whole document.
    """
    entry = _ROOTS.get(id(adapter))
    if entry is None or entry[0] is not adapter:
        cls = getattr(adapter, "_type", None)
        entry = _ROOTS[id(adapter)] = (
            adapter,
            _model(cls) if isinstance(cls, type) and issubclass(cls, BaseModel) else None,
        )
    root = entry[1]
    if root is None or type(doc) is not dict:
        return None
    values: dict[Path, tuple[_Model, _Field, Any]] = {}
    objects: dict[Path, tuple[_Model, dict[str, Any]]] = {}
    for path in paths:
        loc, model, node, f = _unit(root, doc, path)
        if f is None:
            objects[loc] = (model, node)
        else:
            values[loc] = (model, f, node[f.key])
    if values and len(values) + len(objects) > 1:  # a field value validated whole also covers the errors below it
        covering = set(values)

        def covered(loc: Path) -> bool:
            return any(loc[:n] in covering for n in range(len(loc)))

        values = {loc: v for loc, v in values.items() if not covered(loc)}
        objects = {loc: v for loc, v in objects.items() if not covered(loc) and loc not in covering}
    errors: list[dict[str, Any]] = []
    for loc, (model, node) in objects.items():
        errors.extend(_object_errors(loc, model, node))
    for loc, (model, f, value) in values.items():
        try:
            f.validator(model.cls)(value)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                errors.append({**err, "loc": (*loc, *err["loc"])})
    return errors


def _object_errors(loc: Path, model: _Model, node: dict[str, Any]) -> list[dict[str, Any]]:
    """What pydantic says about the keys of ``node`` as ``model``: required fields missing, unknown keys refused."""
    out: list[dict[str, Any]] = []
    for f in model.fields:
        if f.required and f.key not in node:
            out.append({"type": "missing", "loc": (*loc, f.key), "msg": "Field required", "input": node})
    if model.forbid:
        for key, value in node.items():
            if key not in model.by_key:
                out.append(
                    {
                        "type": "extra_forbidden",
                        "loc": (*loc, key),
                        "msg": "Extra inputs are not permitted",
                        "input": value,
                    }
                )
    return out


def float_paths(doc: Any) -> list[Path]:
    """The location of every float in ``doc``.

    JSON Schema's ``integer`` accepts ``1.0``, the strict contract does not: where a document holds floats, the
    fast schema cannot tell where the contract fails, so each float's place counts as a place to validate.
    """
    return scan_numbers(doc)[0]


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def scan_numbers(doc: Any) -> tuple[list[Path], bool]:
    """:func:`float_paths`, and whether a number needs the parser's number checks (beyond 64 bits, not finite)."""
    out: list[Path] = []
    odd = False
    stack: list[tuple[Path, Any]] = [((), doc)]
    pop, push = stack.pop, stack.append
    while stack:
        loc, node = pop()
        kind = type(node)
        if kind is dict:
            items: Iterable[tuple[Any, Any]] = node.items()
        elif kind is list:
            items = enumerate(node)
        else:
            continue
        for key, value in items:
            kind = type(value)
            if kind is dict or kind is list:
                push(((*loc, key), value))
            elif kind is float:
                out.append((*loc, key))
                if value - value != 0.0:  # inf or nan
                    odd = True
            elif kind is int and not _INT64_MIN <= value <= _INT64_MAX:
                odd = True
    return out, odd
