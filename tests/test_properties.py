"""Property tests of check(): generated valid responses conform; one mutation gives one expected violation.

The generators and the mutation table live in ``tests/strategies.py``. Every check selects ``ALL`` rules so that a
``[tool.chatcontract]`` section in pyproject.toml cannot change what these tests see.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from chatcontract import Report, Severity, check
from chatcontract.contracts import contracts_for, mistral, openai
from chatcontract.rules import RULES

from . import strategies as gen

DIALECTS = ("mistral", "openai")
# Generating one response takes 10-50 ms (hypothesis overhead; a check itself takes ~1 ms). The example budgets
# below keep this module around 15 s of CPU; the exhaustive deterministic sweep covers the breadth of mutations.


def run(payload: Any, dialect: str) -> Report:
    return check(payload, dialect=dialect, select=["ALL"])


def pairs(report: Report) -> set[tuple[str, str]]:
    return {(v.code, v.pointer) for v in report.violations}


def pointer(loc: gen.Loc) -> str:
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in loc)


def describe(report: Report) -> str:
    return "\n".join(f"    {v.code} {v.pointer} [{v.severity.value}] {v.message}" for v in report.violations) or "    -"


# ----------------------------------------------------------------------------------------------------------------
# The shape table in strategies.py follows the contract models
# ----------------------------------------------------------------------------------------------------------------

MODELS: dict[str, dict[str, type[BaseModel]]] = {
    "mistral": {
        "response": mistral.ChatCompletionResponse,
        "usage": mistral.UsageInfo,
        "choice": mistral.ChatCompletionChoice,
        "message": mistral.AssistantMessage,
        "tool_call": mistral.ToolCall,
        "function": mistral.FunctionCall,
        "chunk:text": mistral.TextChunk,
        "chunk:thinking": mistral.ThinkChunk,
        "inner:text": mistral.TextChunk,
    },
    "openai": {
        "response": openai.CreateChatCompletionResponse,
        "usage": openai.CompletionUsage,
        "completion_details": openai.CompletionTokensDetails,
        "prompt_details": openai.PromptTokensDetails,
        "choice": openai.Choice,
        "message": openai.ChatCompletionResponseMessage,
        "tool_call:function": openai.ChatCompletionMessageToolCall,
        "tool_call:custom": openai.ChatCompletionMessageCustomToolCall,
        "function": openai.FunctionCall,
        "custom": openai.CustomToolCallBody,
        "annotation": openai.Annotation,
        "url_citation": openai.URLCitation,
        "audio": openai.MessageAudio,
        "logprobs": openai.ChoiceLogprobs,
        "token_logprob": openai.ChatCompletionTokenLogprob,
        "top_logprob": openai.TopLogprob,
    },
}


def _accepts(annotation: Any, value: Any) -> bool:
    try:
        TypeAdapter(annotation).validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("dialect", "kind"), [(d, k) for d in DIALECTS for k in MODELS[d]], ids=lambda x: str(x))
def test_shape_table_follows_the_contract_model(dialect: str, kind: str) -> None:
    model = MODELS[dialect][kind]
    table = gen.SHAPES[dialect][kind]
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    assert set(table) == set(fields), f"{model.__name__}: fields differ from the shape table"
    for name, spec in table.items():
        f = fields[name]
        if spec.tag:
            continue  # a discriminator tag: required by the union, whatever the member's default says
        assert spec.required == f.is_required(), f"{model.__name__}.{name}: required?"
        annotation = f.rebuild_annotation()
        assert spec.nullable == _accepts(annotation, None), f"{model.__name__}.{name}: nullable?"
        if spec.enum is not None:
            for value in spec.enum:
                assert _accepts(annotation, value), f"{model.__name__}.{name}: {value!r} not allowed"
            assert not _accepts(annotation, "surely-not-a-member"), f"{model.__name__}.{name}: not an enum?"


def _tags_of(union: Any) -> set[str]:
    members = typing.get_args(typing.get_args(union)[0]) if typing.get_origin(union) is typing.Annotated else ()
    return {m.model_fields["type"].default for m in members}


def test_known_tags_are_the_contracts_tags() -> None:
    assert set(gen.KNOWN_TAGS["mistral"]) == _tags_of(mistral.ContentChunk)
    assert set(gen.KNOWN_TAGS["openai"]) == {
        typing.get_args(m.model_fields["type"].annotation)[0]
        for m in (openai.ChatCompletionMessageToolCall, openai.ChatCompletionMessageCustomToolCall)
    }


def test_finish_reason_enums_are_the_contracts() -> None:
    assert set(gen.MISTRAL_FINISH) == contracts_for("mistral").finish_reasons
    assert set(gen.OPENAI_FINISH) == contracts_for("openai").finish_reasons


# ----------------------------------------------------------------------------------------------------------------
# Valid responses conform
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_generated_responses_conform(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(gen.responses(dialect), label="response")
    # The contract model agrees (a generator bug shows here first, with pydantic's own message).
    contracts_for(dialect).response.validate_python(doc)
    report = run(doc, dialect)
    assert report.violations == (), describe(report)
    assert report.ok
    text = json.dumps(doc, ensure_ascii=data.draw(st.booleans(), label="ensure_ascii"))
    for payload in (text.encode(), text):
        again = run(payload, dialect)
        assert again.violations == (), describe(again)


# ----------------------------------------------------------------------------------------------------------------
# One mutation, one expected violation at the mutated path
# ----------------------------------------------------------------------------------------------------------------

OPS = ("drop", "retype", "enum", "tag")


@st.composite
def one_mutation(draw: st.DrawFn, dialect: str) -> tuple[dict[str, Any], gen.Mutation]:
    """A valid document and one mutation of it; the kind of mutation is drawn first, so all kinds get exercised."""
    doc = draw(gen.responses(dialect))
    candidates = gen.mutation_candidates(doc, dialect)
    kinds = sorted({m.op for m in candidates}, key=OPS.index)
    op = draw(st.sampled_from(kinds))
    mutation = draw(st.sampled_from([m for m in candidates if m.op == op]))
    return doc, gen.with_value(draw, mutation, doc, dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_mutation_is_reported_at_its_path(dialect: str, data: st.DataObject) -> None:
    doc, mutation = data.draw(one_mutation(dialect), label="valid document, mutation")
    report = run(mutation.apply(doc), dialect)
    note(f"mutation: {mutation}\nreported:\n{describe(report)}")
    assert (mutation.code, pointer(mutation.at)) in pairs(report), f"{mutation}\nreported:\n{describe(report)}"
    if RULES[mutation.code].severity is Severity.ERROR:
        assert not report.ok


# The same expectation, exhaustively and deterministically: every mutation the shape table allows, applied to a
# fixed document that contains every object kind of both dialects. A failure names the field and the mutation.


def _sweep_by_field() -> list[tuple[str, gen.Loc, list[gen.Mutation]]]:
    groups: dict[tuple[str, gen.Loc], list[gen.Mutation]] = {}
    for d in DIALECTS:
        for m in gen.sweep(d):
            groups.setdefault((d, m.loc), []).append(m)
    return [(d, loc, ms) for (d, loc), ms in groups.items()]


SWEEP = _sweep_by_field()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rich_documents_conform_and_cover_every_shape(dialect: str) -> None:
    doc = gen.RICH[dialect]
    assert run(doc, dialect).violations == ()
    assert {s.owner for s in gen.slots(doc, dialect)} == set(gen.SHAPES[dialect])


@pytest.mark.parametrize(("dialect", "loc", "mutations"), SWEEP, ids=[f"{d}:{pointer(loc)}" for d, loc, _ in SWEEP])
def test_every_single_mutation_of_a_rich_document(dialect: str, loc: gen.Loc, mutations: list[gen.Mutation]) -> None:
    """Every mutation of one field (drop, each wrong type, unknown enum value or tag); all misses in one message."""
    misses = []
    for mutation in mutations:
        report = run(mutation.apply(gen.RICH[dialect]), dialect)
        if (mutation.code, pointer(mutation.at)) not in pairs(report):
            misses.append(f"{mutation}\n  reported:\n{describe(report)}")
        elif RULES[mutation.code].severity is Severity.ERROR and report.ok:
            misses.append(f"{mutation}\n  reported, but report.ok is True")
    assert not misses, f"{len(misses)} of {len(mutations)} mutations not reported as expected:\n" + "\n".join(misses)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_schema_violations_stay_at_the_mutated_field(dialect: str) -> None:
    """One broken field gives schema violations (CC1xx) at that field (or below it) only, nowhere else.

    An unknown ``type`` in an *untagged* union (the items of a Mistral ``thinking`` chunk) may fairly be reported
    against any member, so for those the whole item is allowed.
    """
    doc = gen.RICH[dialect]
    owners = {s.loc: s.owner for s in gen.slots(doc, dialect)}
    strays = []
    for mutation in gen.sweep(dialect):
        allowed = mutation.at
        if mutation.loc[-1] == "type" and owners[mutation.loc].startswith("inner:"):
            allowed = mutation.loc[:-1]
        report = run(mutation.apply(doc), dialect)
        for v in report.violations:
            if v.code.startswith("CC1") and v.loc[: len(allowed)] != allowed:
                strays.append(f"{mutation}: also {v.code} {v.pointer} [{v.severity.value}] {v.message}")
    assert not strays, f"{len(strays)} stray schema violations:\n" + "\n".join(strays)


# ----------------------------------------------------------------------------------------------------------------
# Input forms, order, de-duplication
# ----------------------------------------------------------------------------------------------------------------


@st.composite
def documents(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    """Valid responses, or responses broken in one to three unrelated places."""
    doc = draw(gen.responses(dialect))
    candidates = gen.mutation_candidates(doc, dialect)
    chosen: list[gen.Mutation] = []
    for m in draw(st.lists(st.sampled_from(candidates), max_size=3)):
        if all(m.loc[: len(c.loc)] != c.loc and c.loc[: len(m.loc)] != m.loc for c in chosen):
            chosen.append(gen.with_value(draw, m, doc, dialect))
    for m in chosen:
        doc = m.apply(doc)
    return doc


def _order_key(doc: Any, loc: gen.Loc) -> list[int]:
    """Where ``loc`` sits in the document: key positions and indices; absent keys after their present siblings."""
    key: list[int] = []
    node = doc
    for seg in loc:
        if isinstance(node, dict):
            keys = list(node)
            key.append(keys.index(seg) if seg in node else len(keys))
            node = node.get(seg) if isinstance(seg, str) else None
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            key.append(seg)
            node = node[seg]
        else:
            key.append(0)
            node = None
    return key


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_input_forms_agree_and_violations_are_ordered_and_unique(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(documents(dialect), label="document")
    text = json.dumps(doc, ensure_ascii=data.draw(st.booleans(), label="ensure_ascii"))
    violations = run(doc, dialect).violations
    # JSON round trip: bytes, str and the parsed dict give the same violations.
    assert run(text.encode(), dialect).violations == violations, "bytes and dict disagree"
    assert run(text, dialect).violations == violations, "str and dict disagree"
    # Document order (absent keys after their present siblings; a parent before its children).
    keys = [_order_key(doc, v.loc) for v in violations]
    assert keys == sorted(keys), "not in document order:\n" + "\n".join(f"{v.code} {v.pointer}" for v in violations)
    # De-duplicated by (code, loc, event).
    identities = [(v.code, v.loc, v.event) for v in violations]
    assert len(identities) == len(set(identities)), identities
    for v in violations:
        assert v.pointer == pointer(v.loc)
        assert v.path.startswith("$")


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_integers_beyond_64_bits_are_reported_whatever_the_input_form(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(gen.responses(dialect), label="response")
    int_slots = [s for s in gen.slots(doc, dialect) if s.present and s.field.types == frozenset({"integer"})]
    slot = data.draw(st.sampled_from(int_slots), label="slot")
    huge = data.draw(st.integers(2**63, 2**80) | st.integers(-(2**80), -(2**63) - 1), label="value")
    mutated = gen.Mutation("retype", slot.loc, huge, "CC108", slot.loc, "huge integer").apply(doc)
    from_bytes = run(json.dumps(mutated).encode(), dialect)
    from_dict = run(mutated, dialect)
    assert ("CC108", pointer(slot.loc)) in pairs(from_bytes)
    assert from_dict.violations == from_bytes.violations, (
        f"bytes:\n{describe(from_bytes)}\ndict:\n{describe(from_dict)}"
    )
