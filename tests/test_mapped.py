"""The mapping of contract errors to findings (``rules.schema.mapped_hits`` and ``object_hits``) against a reference.

``mapped_hits`` has a lane of its own for a single error, walks a location with a tree of the schema's tagged paths
and caches per location; the reference below is the general computation it replaced, kept as it was. Both must give
the same hits, in the same order, on the errors of whole documents (response, chunk and error-body contracts, with
union labels and discriminator tags), of the violation route's located errors, on dict and list subclasses (a
caller's own document reaches the full path), and with ``full`` set for any code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from chatcontract.contracts import DIALECTS, contracts_for
from chatcontract.rules import schema
from chatcontract.rules._located import float_paths, locate_errors, prefixes_of
from chatcontract.rules.schema import mapped_hits, object_hits
from chatcontract.violations import Hit, Loc, hit, shorten

from . import strategies as gen

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)

# ---------------------------------------------------------------------------------------------------------------
# The reference: rules.schema's general computation before the single-error lane and the tagged-path tree.
# ---------------------------------------------------------------------------------------------------------------


def ref_clean_loc(
    doc: Any, raw: tuple[str | int, ...], missing: bool = True, tagged: Mapping[tuple[str, ...], str] | None = None
) -> tuple[Loc, Any, bool]:
    tagged = tagged or {}
    node = doc
    out: list[str | int] = []
    shape: list[str] = []
    last = len(raw) - 1
    tag_skipped: Any = None
    for i, seg in enumerate(raw):
        if isinstance(node, dict) and isinstance(seg, str):
            prop = tagged.get(tuple(shape))
            if prop is not None and tag_skipped is not node and node.get(prop) == seg:
                tag_skipped = node
                continue
            if seg in node:
                out.append(seg)
                shape.append(seg)
                node = node[seg]
            elif i == last and missing:
                out.append(seg)
                return tuple(out), None, False
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            out.append(seg)
            shape.append("*")
            node = node[seg]
    return tuple(out), node, True


def ref_classify(err: Any, value: Any, exists: bool) -> str:
    t = err["type"]
    if t == "missing" or not exists and t != "extra_forbidden":
        return "CC101"
    if t == "extra_forbidden":
        return "CC104"
    if t in ("union_tag_invalid",):
        return "CC106"
    if t == "union_tag_not_found":
        return "CC101"
    if t in ("literal_error", "enum"):
        if value is None:
            return "CC107"
        return "CC103" if isinstance(value, str) else "CC102"
    if t in schema._RANGE:
        return "CC105"
    if t == "finite_number":
        return "CC005"
    if value is None:
        return "CC107"
    return "CC102"


def ref_drop_mismatched_members(errors: list[Any]) -> list[Any]:
    mismatched: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
    members: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
    for err in errors:
        loc = tuple(err["loc"])
        if len(loc) >= 2 and isinstance(loc[-2], str) and not loc[-2].islower():
            members.setdefault(loc[:-2], set()).add(loc[:-1])
        if (
            err["type"] == "literal_error"
            and len(loc) >= 2
            and loc[-1] in ("type", "role")
            and isinstance(err.get("input"), str)
        ):
            mismatched.setdefault(loc[:-2], set()).add(loc[:-1])
    drop = set()
    for point, bad in mismatched.items():
        if members.get(point, set()) - bad:
            drop |= bad
    if not drop:
        return errors
    return [e for e in errors if not any(tuple(e["loc"])[: len(prefix)] == prefix for prefix in drop)]


def ref_is_optional(adapter: TypeAdapter[Any], doc: Any, loc: Loc) -> bool:
    if not isinstance(loc[-1], str):
        return False
    trimmed = schema._without(doc, loc)
    try:
        adapter.validate_python(trimmed)
    except ValidationError as exc:
        return not any(
            e["type"] == "missing"
            and ref_clean_loc(trimmed, tuple(e["loc"]), True, schema._tagged_paths(adapter))[0] == loc
            for e in exc.errors()
        )
    return True


def ref_missing(loc: Loc) -> Hit:
    return Hit(loc, f"Field {schema._name(loc)} is required but missing.", None, "present")


def ref_unknown(loc: Loc, value: Any) -> Hit:
    return Hit(loc, f"Field {schema._name(loc)} is not in the contract.", shorten(value))


def ref_mapped_hits(
    adapter: TypeAdapter[Any], doc: Any, errors: list[Any], *, full: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, Hit]]:
    show, expected_of, join = schema._show, schema._expected, schema._join
    if not errors:
        return
    errors = ref_drop_mismatched_members(errors)
    groups: dict[Loc, list[tuple[Any, Any, bool]]] = {}
    tagged = schema._tagged_paths(adapter)
    for err in errors:
        missing = err["type"] in ("missing", "union_tag_not_found")
        loc, value, exists = ref_clean_loc(doc, tuple(err["loc"]), missing, tagged)
        if err["type"] == "union_tag_not_found":
            key = str(err.get("ctx", {}).get("discriminator", "type")).strip("'")
            loc, value, exists = (*loc, key), None, False
        groups.setdefault(loc, []).append((err, value, exists))
    prefixes: set[Loc] | None = None
    for loc, entries in groups.items():
        type_entries = []
        other_entries = []
        for e in entries:
            code = ref_classify(e[0], e[1], e[2])
            if code == "CC102" or code == "CC107":
                type_entries.append(e)
            else:
                other_entries.append((code, e))
        if len(type_entries) == len(entries) and len(groups) > 1:
            if prefixes is None:
                prefixes = {other[:n] for other in groups for n in range(len(other))}
            if loc in prefixes:
                continue
        for code, (err, value, _exists) in other_entries:
            if full is not None and full(code):
                yield code, Hit(loc, "")
            elif code == "CC101":
                yield code, ref_missing(loc)
            elif code == "CC104":
                yield code, ref_unknown(loc, value)
            elif code == "CC103":
                yield code, hit(
                    loc, f"Received {show(value)}; expected {expected_of(err)}.", shorten(value), expected_of(err)
                )
            elif code == "CC106":
                tags = err.get("ctx", {}).get("expected_tags", "")
                tag = show(err.get("ctx", {}).get("tag"))
                yield code, hit(loc, f"Unknown variant tag {tag}; expected one of {tags}.", shorten(value))
            else:
                yield code, hit(loc, f"{err['msg']}; received {show(value)}.", shorten(value))
        if type_entries:
            expected = sorted({expected_of(e[0]) for e in type_entries}, key=lambda n: schema._ORDER.get(n, 99))
            value = type_entries[0][1]
            optional = value is None and loc and ref_is_optional(adapter, doc, loc)
            code = "CC102" if value is not None else "CC109" if optional else "CC107"
            if full is not None and full(code):
                yield code, Hit(loc, "")
            elif value is None:
                detail = "; omit the field instead" if optional else ""
                yield code, hit(loc, f"Expected {join(expected)}; received null{detail}.", None, " or ".join(expected))
            else:
                yield "CC102", hit(
                    loc,
                    f"Expected {join(expected)}; received {schema._json_type(value)} {show(value)}.",
                    shorten(value),
                    " or ".join(expected),
                )


def ref_object_hits(
    errors: list[dict[str, Any]], *, full: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, Hit]]:
    for err in errors:
        loc = err["loc"]
        if err["type"] == "missing":
            yield ("CC101", Hit(loc, "")) if full is not None and full("CC101") else ("CC101", ref_missing(loc))
        else:
            yield ("CC104", Hit(loc, "")) if full is not None and full("CC104") else (
                "CC104",
                ref_unknown(loc, err["input"]),
            )


# ---------------------------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------------------------

_TAGS = ["text", "thinking", "image_url", "document_url", "reference", "file", "tool_reference", "audio", "function",
         "custom", "markdown", "TEXT", ""]  # fmt: skip
_CHUNK_KEYS = ["text", "thinking", "image_url", "url", "document_url", "reference_ids", "file_id", "tool",
               "input_audio", "function", "custom", "id", "index", "name", "arguments"]  # fmt: skip


@st.composite
def tagged_items(draw: st.DrawFn) -> list[Any]:
    """A list of objects with a ``type`` tag, known or not, and fields of the tagged unions' members."""
    fields = st.dictionaries(st.sampled_from(_CHUNK_KEYS), JSON, max_size=3)
    items = draw(st.lists(st.tuples(st.sampled_from(_TAGS) | JSON, fields), max_size=3))
    out: list[Any] = []
    for tag, rest in items:
        item = dict(rest)
        if draw(st.booleans()):
            item["type"] = tag
        out.append(item)
    return out


_AS_IS: Any = object()  # the mutation's own value


@st.composite
def broken_documents(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    """A valid response broken in one to three places: the mutations of ``tests/strategies.py`` (a field dropped, a
    wrong type, an unknown enum value or tag), some with an arbitrary value or a list of tagged objects instead."""
    doc = draw(gen.responses(dialect))
    candidates = gen.mutation_candidates(doc, dialect)
    chosen: list[tuple[gen.Mutation, Any]] = []
    for m in draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3)):
        if all(m.loc[: len(c.loc)] != c.loc and c.loc[: len(m.loc)] != m.loc for c, _ in chosen):
            value = draw(st.sampled_from([_AS_IS, JSON, tagged_items()]))
            chosen.append((gen.with_value(draw, m, doc, dialect), _AS_IS if value is _AS_IS else draw(value)))
    for m, value in chosen:
        doc = m.apply(doc)
        if value is not _AS_IS and m.op != "drop":
            node: Any = doc
            for seg in m.loc[:-1]:
                node = node[seg]
            node[m.loc[-1]] = value
    if draw(st.booleans()):  # tool calls and content chunks: the discriminated unions
        choices = doc.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message") or choices[0].get("delta")
            if isinstance(message, dict):
                message[draw(st.sampled_from(["content", "tool_calls"]))] = draw(tagged_items())
    out: dict[str, Any] = json.loads(json.dumps(doc))
    return out


class SubDict(dict[Any, Any]):
    pass


class SubList(list[Any]):
    pass


def _subclassed(node: Any) -> Any:
    """The document with every object a dict subclass and every array a list subclass (a caller's own types)."""
    if type(node) is dict:
        return SubDict((k, _subclassed(v)) for k, v in node.items())
    if type(node) is list:
        return SubList(_subclassed(v) for v in node)
    return node


def _errors(adapter: TypeAdapter[Any], doc: Any) -> list[Any]:
    try:
        adapter.validator.validate_python(doc)
    except ValidationError as exc:
        return exc.errors(include_url=False)
    return []


_FULL_CODES = ["CC101", "CC102", "CC103", "CC104", "CC105", "CC106", "CC107", "CC109"]


def assert_same_hits(adapter: TypeAdapter[Any], doc: Any, errors: list[Any]) -> None:
    expected = list(ref_mapped_hits(adapter, doc, errors))
    note(f"errors: {errors}\nhits: {expected}")
    assert list(mapped_hits(adapter, doc, errors)) == expected
    for code in _FULL_CODES:  # a code whose list is full: its hits come with their location only

        def full(c: str, code: str = code) -> bool:
            return c == code

        assert list(mapped_hits(adapter, doc, errors, full=full)) == list(
            ref_mapped_hits(adapter, doc, errors, full=full)
        )


# ---------------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("kind", ["response", "chunk"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mapped_hits_equal_the_references(dialect: str, kind: str, data: st.DataObject) -> None:
    adapter = getattr(contracts_for(dialect), kind)
    doc = data.draw(broken_documents(dialect), label="document")
    errors = _errors(adapter, doc)
    assert_same_hits(adapter, doc, errors)
    if len(errors) > 1:  # each error alone: the single-error lane
        for err in errors:
            assert_same_hits(adapter, doc, [err])


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_mapped_hits_on_subclassed_documents_equal_the_references(dialect: str, data: st.DataObject) -> None:
    """A caller's own document (dict and list subclasses) reaches the full path's mapping."""
    adapter = contracts_for(dialect).response
    doc = _subclassed(data.draw(broken_documents(dialect), label="document"))
    errors = _errors(adapter, doc)
    assert_same_hits(adapter, doc, errors)
    for err in errors:
        assert_same_hits(adapter, doc, [err])


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=100, deadline=None)
@given(doc=st.dictionaries(st.sampled_from(["error", "message", "type", "code", "detail", "object", "param"]), JSON))
def test_mapped_hits_of_error_bodies_equal_the_references(dialect: str, doc: dict[str, Any]) -> None:
    for _name, adapter in contracts_for(dialect).errors:
        assert_same_hits(adapter, doc, _errors(adapter, doc))


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_located_errors_map_as_the_references(dialect: str, data: st.DataObject) -> None:
    """The violation route's errors (``locate_errors``) through ``object_hits`` and ``mapped_hits``."""
    adapter = contracts_for(dialect).response
    doc = data.draw(broken_documents(dialect), label="document")
    found = locate_errors(adapter, doc, plain=False, floats=prefixes_of(float_paths(doc)))
    assert found is not None
    objects, values = found
    assert_same_hits(adapter, doc, values)
    assert list(object_hits(objects)) == list(ref_object_hits(objects))
    for code in ("CC101", "CC104"):

        def full(c: str, code: str = code) -> bool:
            return c == code

        assert list(object_hits(objects, full=full)) == list(ref_object_hits(objects, full=full))


def _tagged_nodes(node: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], Any]]:
    """(path, object) of every object in ``node`` with a ``type`` or ``role`` key."""
    found = []
    if isinstance(node, dict):
        if "type" in node or "role" in node:
            found.append((path, node))
        for key, value in node.items():
            found += _tagged_nodes(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _tagged_nodes(value, (*path, i))
    return found


@st.composite
def walks(draw: st.DrawFn, doc: Any) -> tuple[str | int, ...]:
    """A pydantic-like location in ``doc``: keys and indices on the way down, with labels between them (the node's
    ``type``/``role`` value as a discriminator tag would be, a union member's name, a key of a sibling) and maybe
    an absent key or an index out of range."""
    raw: list[str | int] = []
    node = doc
    tagged = _tagged_nodes(doc, ())
    start = draw(st.booleans(), label="start at a tag")  # (the tagged unions sit deep in a response)
    if tagged and start:
        path, node = draw(st.sampled_from(tagged))
        raw.extend(path)
    for _ in range(draw(st.integers(0, 8))):
        labels: list[str | int] = ["str", "function-after[f(), str]", "TextChunk", 0, -1, "*"]
        tags: list[str | int] = []
        if isinstance(node, dict):
            tags = [v for k, v in node.items() if k in ("type", "role", "object") and isinstance(v, (str, int))]
            labels += list(node)[:3]
        tag_here = draw(st.booleans(), label="a tag here")  # a discriminator's label, before the next step
        if tags and tag_here:
            raw.append(draw(st.sampled_from(tags)))
        step = draw(st.integers(0, 5))
        if step == 0:
            raw.append(draw(st.sampled_from(labels)))
        elif step == 1:
            odd: list[str | int] = ["absent", 99, "text", "function"]
            raw.append(draw(st.sampled_from(odd)))
        elif isinstance(node, dict) and node:
            key = draw(st.sampled_from(list(node)))
            raw.append(key)
            node = node[key]
        elif isinstance(node, list) and node:
            i = draw(st.integers(0, len(node) - 1))
            raw.append(i)
            node = node[i]
        else:
            break
    return tuple(raw)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_clean_loc_equals_the_reference(dialect: str, data: st.DataObject) -> None:
    """Union labels and discriminator tags are stripped as before, whatever the path (tree or flat table)."""
    contracts = contracts_for(dialect)
    doc = data.draw(broken_documents(dialect), label="document")
    if data.draw(st.booleans(), label="subclassed"):
        doc = _subclassed(doc)
    raw = data.draw(walks(doc), label="loc")
    for adapter in (contracts.response, contracts.chunk):
        tagged, trie = schema._tagged_paths(adapter), schema._tagged_trie(adapter)
        for missing in (True, False):
            got = schema._clean_loc(doc, raw, missing, trie)
            assert got == ref_clean_loc(doc, raw, missing, tagged)
            assert type(got[0]) is tuple


@pytest.mark.parametrize(
    "kind",
    sorted({"missing", "extra_forbidden", "union_tag_invalid", "union_tag_not_found", "literal_error", "enum",
            "finite_number", "int_type", "list_type", "string_type", "model_type", *schema._RANGE}),
)  # fmt: skip
@pytest.mark.parametrize("value", [None, "x", 7, 1.5, True, [], {}])
@pytest.mark.parametrize("exists", [True, False])
def test_classify_equals_the_reference(kind: str, value: Any, exists: bool) -> None:
    err = {"type": kind}
    assert schema._classify(err, value, exists) == ref_classify(err, value, exists)


def test_per_location_caches_stay_bounded() -> None:
    adapter = contracts_for("openai").response
    for i in range(schema._MISSING_MAX + 5):
        loc: Loc = ("choices", i, "message", "refusal")
        assert schema._missing(loc) == ref_missing(loc)
    assert len(schema._MISSING) <= schema._MISSING_MAX
    doc: dict[str, Any] = {"choices": [{"message": {"tool_calls": None}}] * 3}
    for i in range(schema._OPTIONAL_AT_MAX + 5):
        loc = ("choices", i % 3, "message", f"tool_calls{i}")  # (a new place each time: no answer cached)
        assert schema._is_optional(adapter, doc, loc) == ref_is_optional(adapter, doc, loc)
    assert len(schema._OPTIONAL_AT) <= schema._OPTIONAL_AT_MAX
