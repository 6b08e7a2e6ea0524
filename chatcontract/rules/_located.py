"""The contract's errors of one document, found by descending only into the parts its fast schemas refuse.

The full path validates a whole response with its strict pydantic contract, which costs more than everything else
``check()`` does on a conforming body. :func:`locate_errors` gets the same error list (what
``ValidationError.errors()`` of the whole document would hold) from a few small validations instead: at each
object of the document, each field's own fast schema (jsonschema-rs ``is_valid``) says whether the contract
accepts the field's value; the walk descends only where one does not, into a model or the failing items of a list
of models, and any other refused value is validated by pydantic, with the validator the enclosing model uses for
that field. A model's own findings (a required field missing, an unknown field in a closed model) are spelt the
way pydantic spells them. No error object of jsonschema-rs is ever built (``iter_errors`` costs several times
``is_valid``: a formatted message per error).

It relies on two properties of the contracts, both held by tests (``tests/test_fastpath.py`` compares every
report with the full path's; ``tests/test_located.py`` compares the error lists): a model validates each of
its fields independently (no model or field validators: the contracts have none), and a value a field's fast schema
accepts is one the contract accepts (``rules.json_schema.fast_schema``). Anything else (a root that is not a
model, a type annotation without a JSON schema) is validated whole by pydantic, so the answer stays exact; the
caller only loses time.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .. import _accel

__all__ = [
    "TooMany", "float_error", "float_paths", "locate_errors", "loose_null_schema", "null_errors", "placed_errors",
    "places", "prefixes_of", "scan_numbers",
]

Path = tuple[str | int, ...]
Validate = Callable[[Any], Any]


class _Field:
    __slots__ = (
        "name", "key", "required", "model", "item_model", "annotation", "info", "_validate", "_accepts", "owner", "sub",
    )

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
        self._accepts: tuple[Callable[[Any], bool], Callable[[Any], bool], frozenset[type] | None] | None = None
        self.owner = owner
        #: ``_model(model or item_model)``, once the walk descends here (set by :func:`_visit`)
        self.sub: _Model | None = None

    def accepts(self, plain: bool) -> Callable[[Any], bool]:
        """``is_valid`` of this field's own fast schema (jsonschema-rs): True only when the contract accepts the value.

        ``plain``: the relaxed schema, for a document the C accelerator proved plain (see
        :func:`~chatcontract.rules.json_schema.relax_for_plain`); else the strict one, which also refuses floats
        where the contract wants an integer only up to JSON Schema's ``integer`` (``1.0`` passes: the caller
        treats every float's place as failing).
        """
        return self._validators()[0] if plain else self._validators()[1]

    def _validators(self) -> tuple[Callable[[Any], bool], Callable[[Any], bool], frozenset[type] | None]:
        if self._accepts is None:
            self._accepts = _schema_validators(self.adapter())
        return self._accepts

    def simple(self) -> frozenset[type] | None:
        """The value types the relaxed fast schema accepts whatever the value (see :func:`simple_types`)."""
        return self._validators()[2]

    def adapter(self) -> TypeAdapter[Any]:
        extra: list[Any] = list(self.info.metadata)
        if self.info.discriminator is not None:
            extra.append(Field(discriminator=self.info.discriminator))
        annotation: Any = Annotated[tuple([self.annotation, *extra])] if extra else self.annotation
        config = ConfigDict(
            strict=bool(self.owner.model_config.get("strict")),
            allow_inf_nan=self.owner.model_config.get("allow_inf_nan", True),
        )
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return TypeAdapter(annotation)  # a model keeps its own configuration
        return TypeAdapter(annotation, config=config)

    def validator(self) -> Validate:
        """Validates this field's value as the owner model does, with errors located from the value."""
        if self._validate is None:
            if self.model is not None and self.annotation is self.model:
                self._validate = self.model.__pydantic_validator__.validate_python
            else:
                self._validate = self.adapter().validator.validate_python
        return self._validate


def _refuse(value: Any) -> bool:
    return False


def _schema_validators(
    adapter: TypeAdapter[Any],
) -> tuple[Callable[[Any], bool], Callable[[Any], bool], frozenset[type] | None]:
    """(relaxed, strict) ``is_valid`` of ``adapter``'s fast schema, and the relaxed schema's :func:`simple_types`.

    Both refuse everything when there is no fast schema.
    """
    try:
        import jsonschema_rs

        from .json_schema import fast_schema, relax_for_plain

        schema = fast_schema(adapter)
        plain = relax_for_plain(schema)
        strict = jsonschema_rs.Draft202012Validator(schema).is_valid
        relaxed = jsonschema_rs.Draft202012Validator(plain).is_valid
    except Exception:  # no JSON schema for this type, or no jsonschema-rs: every value goes to pydantic (exact)
        return _refuse, _refuse, None
    return relaxed, strict, simple_types(plain)


_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"})
_TYPES: dict[str, type] = {"string": str, "integer": int, "boolean": bool, "null": type(None)}


def simple_types(schema: Any) -> frozenset[type] | None:
    """The Python types of a value that this schema accepts whatever the value, when that is all it says.

    ``{"type": "string"}`` -> ``{str}``; an ``anyOf`` of such schemas -> their union; None for any other schema
    (a constraint, a ``const``, an object). A plain document's integers are Python ints and never floats, so
    ``integer`` -> ``{int}`` holds for the relaxed schemas; the strict ones bound every integer and are not simple.
    """
    if not isinstance(schema, dict):
        return None
    keys = set(schema) - _ANNOTATIONS - {"$defs"}
    if keys == {"anyOf"} and isinstance(schema["anyOf"], list) and schema["anyOf"]:
        found: set[type] = set()
        for option in schema["anyOf"]:
            types_ = simple_types(option)
            if types_ is None:
                return None
            found |= types_
        return frozenset(found)
    kind = schema.get("type")
    if keys == {"type"} and isinstance(kind, str) and kind in _TYPES:
        return frozenset({_TYPES[kind]})
    return None


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


_Check = tuple[_Field, Callable[[Any], bool], "frozenset[type] | None", "Callable[[Any], bool] | None"]


_Table = tuple[tuple[str, ...], bool, frozenset[str], dict[str, Any]]


def _item_accepts(f: _Field, plain: bool) -> Callable[[Any], bool] | None:
    return None if f.item_model is None else _model(f.item_model).accepts(plain)


class _Model:
    __slots__ = (
        "cls", "fields", "by_key", "forbid", "required", "required_keys", "keys", "index", "_accepts", "_checks",
        "_tables",
    )

    def __init__(self, cls: type[BaseModel]) -> None:
        self.cls = cls
        self.fields = [_Field(cls, name, info) for name, info in cls.model_fields.items()]
        self.by_key = {f.key: f for f in self.fields}
        self.forbid = cls.model_config.get("extra") == "forbid"
        self.required = frozenset(f.key for f in self.fields if f.required)
        self.required_keys = tuple(f.key for f in self.fields if f.required)  # (in the fields' order)
        self.keys = frozenset(self.by_key)
        self.index = {f.key: n for n, f in enumerate(self.fields)}  # (pydantic validates the fields in this order)
        self._accepts: tuple[Callable[[Any], bool], Callable[[Any], bool], frozenset[type] | None] | None = None
        self._checks: tuple[dict[str, _Check], dict[str, _Check]] | None = None
        self._tables: tuple[_Table, _Table] | None = None

    def accepts(self, plain: bool) -> Callable[[Any], bool]:
        """``is_valid`` of the model's own fast schema (an item of a ``list[model]`` field)."""
        if self._accepts is None:
            self._accepts = _schema_validators(TypeAdapter(self.cls))
        return self._accepts[0] if plain else self._accepts[1]

    def checks(self, plain: bool) -> dict[str, _Check]:
        """Key -> (field, ``is_valid`` of the field's fast schema, its simple types, ``is_valid`` of an item when the
        field is a list of models), relaxed (``plain``) or strict.

        The strict schemas have no simple types: they bound every integer.
        """
        if self._checks is None:
            self._checks = (
                {f.key: (f, f.accepts(True), f.simple(), _item_accepts(f, True)) for f in self.fields},
                {f.key: (f, f.accepts(False), None, _item_accepts(f, False)) for f in self.fields},
            )
        return self._checks[0] if plain else self._checks[1]

    def table(self, plain: bool) -> _Table:
        """What ``_speedups.scan_fields`` reads: the required keys, whether the model is closed, its keys, and
        :meth:`checks` with each simple-type set as a tuple.
        """
        if self._tables is None:
            self._tables = (self._table(True), self._table(False))
        return self._tables[0] if plain else self._tables[1]

    def _table(self, plain: bool) -> _Table:
        checks = {
            key: (f, accepts, None if simple is None else tuple(simple), item)
            for key, (f, accepts, simple, item) in self.checks(plain).items()
        }
        return tuple(sorted(self.required)), self.forbid, self.keys, checks

    def has_own_errors(self, node: dict[str, Any]) -> bool:
        """Whether a required key is missing from ``node`` or, in a closed model, an unknown key is there."""
        keys = node.keys()
        return bool(self.required - keys) or (self.forbid and not keys <= self.keys)


_MODELS: dict[type[BaseModel], _Model] = {}


def _model(cls: type[BaseModel]) -> _Model:
    found = _MODELS.get(cls)
    if found is None:
        found = _MODELS[cls] = _Model(cls)
    return found


_ROOTS: dict[int, tuple[TypeAdapter[Any], _Model | None]] = {}


def _root(adapter: TypeAdapter[Any]) -> _Model | None:
    entry = _ROOTS.get(id(adapter))
    if entry is None or entry[0] is not adapter:
        cls = getattr(adapter, "_type", None)
        entry = _ROOTS[id(adapter)] = (
            adapter,
            _model(cls) if isinstance(cls, type) and issubclass(cls, BaseModel) else None,
        )
    return entry[1]


class TooMany(Exception):
    """More failing places than the caller wants located (it validates the whole document instead)."""


#: float_error's answers, by (the adapter's id, the place): (adapter, error or None); and the probes' answers, by
#: (the adapter's id, the place with list indices as 0). Bounded: emptied when full.
_FLOAT_ERRORS: dict[tuple[int, Path], tuple[TypeAdapter[Any], dict[str, Any] | None]] = {}
_FLOAT_PROBED: dict[tuple[int, Path], tuple[TypeAdapter[Any], dict[str, Any] | None]] = {}

#: The floats a field is asked about: it refuses each of them with the same one error, or float_error says None.
_FLOAT_PROBES = (1.5, 1.0, 0.0, -1.0, -2.5, 1e300, 9.223372036854776e18, 1.7e9 + 0.25)


def float_error(adapter: TypeAdapter[Any], loc: Path) -> dict[str, Any] | None:
    """The one pydantic error the contract gives for any float at ``loc``, located there (the same dict at each
    call: not to be changed); or None.

    ``loc`` must be a field reached from the root along models and lists of models (the walk of
    :func:`locate_errors`, without unions); the field's validator must refuse every float it is asked about with
    the same single error at the value itself (a strict ``int`` field: ``int_type``). A float there then has that
    error and no other, whatever its value, which is what a validation of the whole document gives at that place.
    None for anything else: a field that takes some floats (``1.0`` under lax ``int``, any ``float``), a union, a
    place off the walk. Kept per place and adapter.
    """
    key = (id(adapter), loc)
    found = _FLOAT_ERRORS.get(key)
    if found is None or found[0] is not adapter:
        template = tuple(0 if type(seg) is int else seg for seg in loc)
        probed = _FLOAT_PROBED.get((id(adapter), template))
        if probed is None or probed[0] is not adapter:
            if len(_FLOAT_PROBED) >= 1024:
                _FLOAT_PROBED.clear()
            probed = _FLOAT_PROBED[(id(adapter), template)] = (adapter, _probe_floats(adapter, template))
        if len(_FLOAT_ERRORS) >= 1024:
            _FLOAT_ERRORS.clear()
        err = probed[1]
        found = _FLOAT_ERRORS[key] = (adapter, None if err is None else {**err, "loc": loc})
    return found[1]


def _probe_floats(adapter: TypeAdapter[Any], template: Path) -> dict[str, Any] | None:
    model = _root(adapter)
    field: _Field | None = None
    i = 0
    while model is not None and i < len(template):
        seg = template[i]
        field = model.by_key.get(seg) if type(seg) is str else None
        if field is None:
            return None
        i += 1
        if i == len(template):
            break
        if field.model is not None:  # (``M | None`` validates as ``M`` an object holding a float)
            model = _model(field.model)
        elif field.item_model is not None and type(template[i]) is int:
            model, i = _model(field.item_model), i + 1
        else:
            return None
    if field is None or i != len(template) or type(template[-1]) is not str:
        return None  # (a place that is an item of a list of models, not a field)
    seen: dict[str, Any] | None = None
    for probe in _FLOAT_PROBES:
        try:
            field.validator()(probe)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            if len(errors) != 1 or errors[0]["loc"] != ():
                return None
            err = {k: v for k, v in errors[0].items() if k != "input"}
            if seen is None:
                seen = err
            elif err != seen:
                return None
        else:
            return None  # a float this field takes
    return seen


def locate_errors(
    adapter: TypeAdapter[Any], doc: Any, *, plain: bool, floats: frozenset[Path] = frozenset(), at_most: int = 200
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """The pydantic error list of a document the contract's fast schema rejected, found by descending into it.

    Returns ``(the models' own errors, the field values' errors)``: together what ``ValidationError.errors()`` of
    the whole document holds. At each object it spells the model's own errors (missing and unknown keys) and asks
    each field's own fast schema (jsonschema-rs ``is_valid``, a fraction of a microsecond) whether it accepts the
    value; only where one does not, it descends (into a model, or into the failing items of a list of models) or,
    for any other type, validates that value with pydantic. ``plain``: the document was proven plain by the C
    accelerator (the relaxed schemas apply); ``floats``: every place holding a float and every place above one
    (JSON Schema's ``integer`` accepts ``1.0``, the strict contract does not), each counted as failing.
    None when the contract's root is not a model or ``doc`` not an object; raises :class:`TooMany` past
    ``at_most`` failing places, and RecursionError like a validation of the whole document.
    """
    root = _root(adapter)
    if root is None or type(doc) is not dict:
        return None
    objects: list[dict[str, Any]] = []
    values: list[tuple[Path, _Field, Any]] = []
    _visit(root, doc, (), plain, floats, objects, values, at_most)
    errors: list[Any] = []  # (pydantic's ErrorDetails)
    for loc, f, value in values:
        validate = f._validate
        try:
            (f.validator() if validate is None else validate)(value)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):  # (new dicts at each call: located in place)
                err["loc"] = (*loc, *err["loc"])
                errors.append(err)
    return objects, errors


#: The places of a document that the violation route can judge without descending, along the models and lists of
#: models from the root (the descent :func:`_visit` makes: no union, so the model at each place is known from the
#: path alone). Per model: ``((key, field) of each field that refuses null but may be absent, (key, node) of each
#: model field, (key, node) of each list-of-models field, (required keys, closed, keys, the model))``. A null for an
#: optional field (CC109, the commonest finding of real providers: LiteLLM's ``"tool_calls": null``, OpenAI's
#: ``"system_fingerprint": null``) and a model's own errors (a required field missing, llama.cpp's
#: ``message.refusal``; an unknown key in a closed model) are found there. ``_speedups.places`` reads it.
_Own = tuple[tuple[str, ...], bool, frozenset[str], "_Model"]
_PlaceNode = tuple[
    tuple[tuple[str, _Field], ...], tuple[tuple[str, "_PlaceNode"], ...], tuple[tuple[str, "_PlaceNode"], ...], _Own
]
_Places = tuple[list[tuple[Path, dict[str, Any], _Field]], list[tuple[Path, dict[str, Any], _Own]]]


class _Plan:
    """An adapter's place trie, and (built on first use) ``is_valid`` of its relaxed fast schema where the walked
    models' own keys are free (:func:`own_relaxed_schema`), with the models it frees.
    """

    __slots__ = ("adapter", "trie", "_relaxed")

    def __init__(self, adapter: TypeAdapter[Any]) -> None:
        self.adapter = adapter
        root = _root(adapter)
        self.trie = None if root is None else _place_node(root, frozenset())
        self._relaxed: tuple[Callable[[Any], bool], frozenset[_Model]] | None = None

    def relaxed(self) -> tuple[Callable[[Any], bool], frozenset[_Model]]:
        if self._relaxed is None:
            try:
                import jsonschema_rs

                from .json_schema import fast_schema, relax_for_plain

                schema, freed = own_relaxed_schema(relax_for_plain(fast_schema(self.adapter)), self.trie)
                self._relaxed = jsonschema_rs.Draft202012Validator(schema).is_valid, freed
            except Exception:  # no schema, no jsonschema-rs: the locator answers instead
                self._relaxed = _refuse, frozenset()
        return self._relaxed


_PLANS: dict[int, _Plan] = {}


def _plan(adapter: TypeAdapter[Any]) -> _Plan:
    found = _PLANS.get(id(adapter))
    if found is None or found.adapter is not adapter:
        found = _PLANS[id(adapter)] = _Plan(adapter)
    return found


def _place_node(model: _Model, above: frozenset[type[BaseModel]]) -> _PlaceNode | None:
    if model.cls in above or len(above) > 8:  # a recursive contract: its deeper levels go to the locator
        return None
    above = above | {model.cls}
    refusing = tuple((f.key, f) for f in model.fields if not f.required and _refuses_null(f))
    below: list[tuple[str, _PlaceNode]] = []
    items: list[tuple[str, _PlaceNode]] = []
    for f in model.fields:
        inner = f.model if f.model is not None else f.item_model
        node = None if inner is None else _place_node(_model(inner), above)
        if node is not None:
            (below if f.model is not None else items).append((f.key, node))
    return refusing, tuple(below), tuple(items), (model.required_keys, model.forbid, model.keys, model)


def _refuses_null(f: _Field) -> bool:
    try:
        return bool(null_errors(f, ()))
    except Exception:  # a validator that cannot even say: never treated as a null place
        return False


def own_relaxed_schema(schema: dict[str, Any], trie: _PlaceNode | None) -> tuple[dict[str, Any], frozenset[_Model]]:
    """A copy of a relaxed fast schema (``schema``) without the own-key constraints (``required``, and
    ``additionalProperties`` of a closed model) of the models the place walk visits, and those models.

    A model's definition is freed only when every use of it in the schema is a place the walk visits (the root, a
    field ``M``, ``M | None`` or ``list[M]`` of a freed model), so that a document it accepts has, under the strict
    contract, no error but the own errors of the places the walk visits (the walk finds every one: it spells them
    as :func:`_object_errors` does) and the nulls it lists. A model also used elsewhere (in a union, under a
    field the walk does not follow) keeps its constraints: a document breaking them there is refused and located.
    """
    import copy

    out = copy.deepcopy(schema)
    defs = out.get("$defs", {})
    if trie is None or not isinstance(defs, dict):
        return out, frozenset()
    uses: dict[str, int] = {}
    _count_refs(out, uses)
    links: dict[tuple[str, str], str] = {}  # (definition, key) -> the definition its field refers to, as walked
    models: dict[str, set[_Model]] = {}

    def visit(node: _PlaceNode, target: dict[str, Any], here: str) -> None:
        props = target.get("properties")
        if not isinstance(props, dict):
            return
        for children, listed in ((node[1], False), (node[2], True)):
            for key, sub in children:
                prop = props.get(key)
                name = _ref_name(prop.get("items") if listed and isinstance(prop, dict) else prop)
                if name is None or not isinstance(defs.get(name), dict) or (here, key) in links:
                    continue
                links[(here, key)] = name  # (each use of a definition counted once, however many paths reach it)
                first = name not in models
                models.setdefault(name, set()).add(sub[3][3])
                if first:
                    visit(sub, defs[name], name)

    visit(trie, out, "#")
    # Walked only: the root (unless something refers back to it), then each definition every use of which is a
    # field of a definition walked only (a use under a definition also used elsewhere may sit where the walk never
    # goes), until nothing changes.
    walked = {"#"} if uses.get("#", 0) == 0 else set()
    changed = True
    while changed:
        changed = False
        for name in models:
            if name not in walked and len(models[name]) == 1:
                inward = sum(1 for (parent, _), child in links.items() if child == name and parent in walked)
                if inward == uses.get(name):
                    walked.add(name)
                    changed = True
    freed: set[_Model] = set()
    for name in walked:
        if name == "#":
            _free(out)
            freed.add(trie[3][3])
        else:
            _free(defs[name])
            freed |= models[name]
    return out, frozenset(freed)


def loose_null_schema(
    adapter: TypeAdapter[Any], levels: tuple[tuple[tuple[str, bool], ...], ...]
) -> tuple[dict[str, Any], tuple[dict[str, _Field], ...]] | None:
    """A loose copy of the contract's relaxed fast schema that also takes ``null`` for the optional fields the
    contract wants omitted (pydantic refuses their null) at ``levels``, and those fields per level.

    A level is a path of steps from the root, each a key and whether its value is a list of objects (``(("choices",
    True), ("message", False))``: each choice's message). A level's fields take null only when every object of the
    schema at that level's definitions sits at that path: the root is not referred to and each definition on the
    way is used once. Then a document the loose schema accepts is one the contract refuses for those nulls alone,
    or accepts (the contract's fields validate independently and an optional one may be absent, as for
    :func:`placed_errors`); a level that is not so has no fields (its nulls stay refused). None for a contract
    without a place walk.
    """
    import copy

    from .json_schema import fast_schema, relax_for_plain

    trie = _plan(adapter).trie
    if trie is None:
        return None
    out = copy.deepcopy(relax_for_plain(fast_schema(adapter)))
    defs = out.get("$defs", {})
    uses: dict[str, int] = {}
    _count_refs(out, uses)
    found: list[dict[str, _Field]] = []
    for level in levels:
        node: _PlaceNode | None = trie
        target: Any = out if uses.get("#", 0) == 0 else None
        for key, listed in level:
            if node is None or not isinstance(target, dict) or not isinstance(target.get("properties"), dict):
                target = None
                break
            prop = target["properties"].get(key)
            name = _ref_name(prop.get("items") if listed and isinstance(prop, dict) else prop)
            children: tuple[tuple[str, _PlaceNode], ...] = node[2] if listed else node[1]
            node = next((sub for k, sub in children if k == key), None)
            target = defs.get(name) if name is not None and uses.get(name) == 1 else None
        fields: dict[str, _Field] = {}
        props = target.get("properties") if node is not None and isinstance(target, dict) else None
        if isinstance(props, dict):
            for key, f in node[0]:  # type: ignore[index]
                if isinstance(props.get(key), dict):
                    props[key] = {"anyOf": [props[key], {"type": "null"}]}
                    fields[key] = f
        found.append(fields)
    return out, tuple(found)


def _free(target: dict[str, Any]) -> None:
    target.pop("required", None)
    if target.get("additionalProperties") is False:  # closed; an open model's schema of extra values still holds
        del target["additionalProperties"]


def _ref_name(prop: Any) -> str | None:
    """The ``$defs`` name that a field's schema refers to as ``M`` or ``M | None``; else None."""
    if not isinstance(prop, dict):
        return None
    ref = prop.get("$ref")
    if isinstance(ref, str):
        return ref[len("#/$defs/") :] if ref.startswith("#/$defs/") else None
    options = prop.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        return _ref_name(options[0] if options[1] == {"type": "null"} else options[1])
    return None


def _count_refs(node: Any, uses: dict[str, int]) -> None:
    if isinstance(node, list):
        for item in node:
            _count_refs(item, uses)
    elif isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref[len("#/$defs/") :] if ref.startswith("#/$defs/") else ref
            uses[name] = uses.get(name, 0) + 1
        for value in node.values():
            _count_refs(value, uses)


def places(adapter: TypeAdapter[Any], doc: dict[str, Any]) -> _Places:
    """Along the models and lists of models from the root (see ``_PlaceNode``): each ``null`` of ``doc`` where the
    contract wants an optional field omitted (its path, the object that holds it, the field) and each object with
    own errors (a required key missing, or an unknown key in a closed model: its path, the object, its model's
    entry). Raises ValueError for a document nested past the C walk's depth.
    """
    trie = _plan(adapter).trie
    if trie is None:
        return [], []
    walk = _accel.places
    if walk is not None:
        return walk(trie, doc)
    found: _Places = ([], [])
    _places_under(trie, doc, (), found)
    return found


def _places_under(trie: _PlaceNode, node: dict[str, Any], loc: Path, found: _Places) -> None:
    refusing, below, items, own = trie
    for key, f in refusing:
        if key in node and node[key] is None:
            found[0].append(((*loc, key), node, f))
    required, closed, keys, _ = own
    if any(key not in node for key in required) or (closed and any(key not in keys for key in node)):
        found[1].append((loc, node, own))
    for key, sub in below:
        value = node.get(key)
        if type(value) is dict:
            _places_under(sub, value, (*loc, key), found)
    for key, sub in items:
        value = node.get(key)
        if type(value) is list:
            for i, item in enumerate(value):
                if type(item) is dict:
                    _places_under(sub, item, (*loc, key, i), found)


def placed_errors(
    adapter: TypeAdapter[Any], doc: dict[str, Any], valid: Callable[[Any], bool], *, at_most: int = 200
) -> tuple[list[tuple[Path, dict[str, Any], _Field]], list[dict[str, Any]]] | None:
    """The contract's errors of a plain document that :func:`places` finds them all for, else None (also past
    ``at_most`` places: the caller validates such a document whole, in batches, with the collector's caps).

    Returns ``(the nulls for optional fields, the models' own errors as pydantic spells them)``. The contract's
    fields validate independently and an optional field may be absent, so the contract refuses ``doc`` for
    those nulls alone exactly when it accepts ``doc`` without them; and with the walked models' own keys freed
    (:func:`own_relaxed_schema`), for their own errors alone exactly when that schema accepts it. ``valid`` is the
    relaxed fast schema's ``is_valid``: it, or the freed schema when there are own errors, is asked once with the
    nulls' keys taken out, and every object is put back as it was (same keys, same order) before anything else
    reads it.
    """
    nulls, owns = places(adapter, doc)
    if not nulls and not owns:
        return None
    if owns:
        valid, freed = _plan(adapter).relaxed()
        if any(own[3] not in freed for _, _, own in owns):
            return None
    if not nulls:
        ok = valid(doc)
    else:
        if len(nulls) == 1:  # (the usual case)
            saved = [(nulls[0][1], list(nulls[0][1].items()))]
        else:
            saved = list({id(node): (node, list(node.items())) for _, node, _ in nulls}.values())
        try:
            for _, node, f in nulls:
                del node[f.key]
            ok = valid(doc)
        except Exception:  # the locator decides
            ok = False
        finally:
            for node, items in saved:
                node.clear()
                node.update(items)
    if not ok:
        return None
    objects = [err for loc, node, own in owns for err in _object_errors(loc, own[3], node)]
    return None if len(nulls) + len(objects) > at_most else (nulls, objects)


def pydantic_order(adapter: TypeAdapter[Any], doc: dict[str, Any], loc: Path) -> tuple[int, ...]:
    """Where pydantic puts an error at ``loc`` (a place of :func:`places`) among the document's errors.

    A model validates its fields in their order, depth first, then lists its unknown keys (a closed model) in the
    document's order: per step, the field's position in its model, or the number of fields plus the key's position
    in the object, and a list item's index.
    """
    node = _plan(adapter).trie
    here: Any = doc
    key: list[int] = []
    i = 0
    while i < len(loc) and node is not None and type(here) is dict:
        seg = loc[i]
        model = node[3][3]
        at = model.index.get(seg)  # type: ignore[arg-type]
        if at is None:  # an unknown key: after the fields, in the object's order
            at = len(model.fields) + (list(here).index(seg) if seg in here else 0)
        key.append(at)
        if i + 1 == len(loc):
            break
        step = next((sub for k, sub in node[1] if k == seg), None)
        if step is not None:
            node, here, i = step, here.get(seg), i + 1
            continue
        step = next((sub for k, sub in node[2] if k == seg), None)
        index = loc[i + 1]
        if step is None or type(index) is not int:
            break
        key.append(index)
        node, here, i = step, here[seg][index], i + 2
    return tuple(key)


def null_errors(f: _Field, loc: Path) -> list[dict[str, Any]]:
    """The pydantic errors of ``null`` as the value of field ``f`` at ``loc``, as :func:`locate_errors` spells them."""
    try:
        f.validator()(None)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for err in errors:
            err["loc"] = (*loc, *err["loc"])
        return errors  # type: ignore[return-value]
    return []


def _visit(
    model: _Model,
    node: dict[str, Any],
    loc: Path,
    plain: bool,
    floats: frozenset[Path],
    objects: list[dict[str, Any]],
    values: list[tuple[Path, _Field, Any]],
    at_most: int,
) -> None:
    scan = _accel.scan_fields
    if scan is None:
        own, failing = _scan(model, node, loc, plain, floats)
    else:
        tables = model._tables
        own, failing = scan(
            model.table(plain) if tables is None else tables[0] if plain else tables[1], node, loc, floats
        )
    if own:
        objects.extend(_object_errors(loc, model, node))
        if len(objects) + len(values) > at_most:
            raise TooMany
    by_key = model.by_key
    for key, value, items in failing:
        f = by_key[key]
        here = (*loc, key)
        if items is not None:  # ``list[M]``: these items are not accepted
            for i in items:
                if type(value[i]) is not dict:
                    break
            else:
                sub = f.sub
                if sub is None:
                    sub = f.sub = _model(f.item_model)  # type: ignore[arg-type]
                for i in items:
                    _visit(sub, value[i], (*here, i), plain, floats, objects, values, at_most)
                continue
        elif f.model is not None and type(value) is dict:
            # ``M | None`` validates as ``M`` when the value is an object (pydantic's nullable schema: no label)
            sub = f.sub
            if sub is None:
                sub = f.sub = _model(f.model)
            _visit(sub, value, here, plain, floats, objects, values, at_most)
            continue
        values.append((here, f, value))
        if len(objects) + len(values) > at_most:
            raise TooMany


_Failing = list[tuple[str, Any, "list[int] | None"]]


def _scan(
    model: _Model, node: dict[str, Any], loc: Path, plain: bool, floats: frozenset[Path]
) -> tuple[bool, _Failing]:
    """Whether ``node`` has errors of its own as ``model`` (:meth:`_Model.has_own_errors`), and its fields' values
    that their fast schemas do not accept, with (for a list of models) the items not accepted.

    ``_speedups.scan_fields`` answers the same in C, from :meth:`_Model.table`. A value counts as not accepted
    where a float sits in it (``floats``); an extra key is never asked (refused with the node's own errors, or
    free).
    """
    failing: _Failing = []
    checks = model.checks(plain)
    for key, value in node.items():
        entry = checks.get(key)
        if entry is None:
            continue  # an extra key: refused with the node's own errors (a closed model) or any JSON value (open)
        item_accepts = entry[3]
        if item_accepts is not None and type(value) is list:
            # ``list[M]`` (no constraint of its own): the list is valid when every item is, so only items are asked
            here = (*loc, key)
            items = [i for i, item in enumerate(value) if not item_accepts(item) or (floats and (*here, i) in floats)]
            if items:
                failing.append((key, value, items))
            continue
        simple = entry[2]
        if simple is not None:
            if type(value) in simple:
                continue
        elif entry[1](value) and (not floats or (*loc, key) not in floats):
            continue
        failing.append((key, value, None))
    return model.has_own_errors(node), failing


def prefixes_of(paths: Iterable[Path]) -> frozenset[Path]:
    """Every path of ``paths`` and every path above one (``()`` excluded)."""
    return frozenset(path[:n] for path in paths for n in range(1, len(path) + 1))


def _object_errors(loc: Path, model: _Model, node: dict[str, Any]) -> list[dict[str, Any]]:
    """What pydantic says about the keys of ``node`` as ``model``: required fields missing, unknown keys refused."""
    out: list[dict[str, Any]] = []
    for key in model.required_keys:
        if key not in node:
            out.append({"type": "missing", "loc": (*loc, key), "msg": "Field required", "input": node})
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
