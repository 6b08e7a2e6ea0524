"""Differential tests: check() against the official SDKs' own pydantic models, used as oracles.

Oracles (test-only dependencies, never imported by the package):

* mistralai 3.7.0: ``ChatCompletionResponse.model_validate(obj)``. Its validation is real but lax, and *open*:
  an unknown ``finish_reason`` (or image ``detail``...) becomes an ``UnrecognizedStr`` and an invalid or unknown
  content chunk becomes ``UnknownContentChunk(raw=..., is_unknown=True)`` instead of raising. We count those as the
  SDK rejecting the document *semantically* (verdict ``KEEPS_UNKNOWN``): the SDK could not make sense of the value.
* openai 3.x: ``openai._models.validate_type(type_=ChatCompletion, value=obj)`` (private but stable), what a client
  built with ``_strict_response_validation=True`` does. The default client uses ``construct_type``, which
  validates nothing (the gap this project fills).

Claims tested, under the SDK's own dialect:

1. Whatever the SDK rejects (``REJECTS`` or ``KEEPS_UNKNOWN``), check() rejects (``report.ok`` is False), on
   generated documents (valid and mutated) and on a hand corpus (the probes of sdk-probe-*.txt and more). The
   exceptions are listed, with reasons, in :data:`EXPECTED_DISAGREEMENTS`, which must be exactly the hand
   corpus's disagreements.
2. Much of what the SDKs accept, check() rejects or flags, each with a specific code at a specific path
   (:data:`WE_REJECT_THEY_ACCEPT`): the documented value of the project.
3. SDK objects are payloads too: check() dumps them back to wire JSON.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from mistralai.client.models import ChatCompletionResponse, CompletionEvent, UnknownContentChunk
from mistralai.client.types import UnrecognizedStr
from openai._models import construct_type, validate_type
from openai.types.chat import ChatCompletion

from chatcontract import Report, Severity, check

from . import strategies as gen

ACCEPTS, KEEPS_UNKNOWN, REJECTS = "accepts", "keeps-unknown", "rejects"
ERROR, WARNING = Severity.ERROR, Severity.WARNING
DELETE = object()


def run(payload: Any, dialect: str, **kwargs: Any) -> Report:
    # select=ALL: a [tool.chatcontract] section in pyproject.toml must not change what these tests see.
    return check(payload, dialect=dialect, select=["ALL"], **kwargs)


def describe(report: Report) -> str:
    return "\n".join(f"  {v.code} {v.pointer} [{v.severity.value}] {v.message}" for v in report.violations) or "  -"


# ----------------------------------------------------------------------------------------------------------------
# Oracles
# ----------------------------------------------------------------------------------------------------------------


def _unknowns(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where the Mistral SDK parked a value it did not recognise (open enums and open unions)."""
    if isinstance(value, UnrecognizedStr):
        yield path
    elif isinstance(value, pydantic.BaseModel):
        if getattr(value, "is_unknown", False) is True:  # UnknownContentChunk, UnknownResourceChunkContent...
            yield path
            return
        for name in type(value).model_fields:
            yield from _unknowns(getattr(value, name, None), (*path, name))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _unknowns(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unknowns(item, (*path, key))


def _as_object(payload: Any) -> Any:
    return json.loads(payload) if isinstance(payload, (bytes, str)) else payload


def mistral_sdk(payload: Any, *, stream: bool = False) -> tuple[str, Any]:
    """The mistralai verdict on a response (or, with ``stream``, on one chunk) and the parsed object."""
    obj = _as_object(payload)
    try:
        parsed = CompletionEvent.model_validate({"data": obj}) if stream else ChatCompletionResponse.model_validate(obj)
    except pydantic.ValidationError:
        return REJECTS, None
    return (KEEPS_UNKNOWN if any(True for _ in _unknowns(parsed)) else ACCEPTS), parsed


def openai_sdk(payload: Any) -> tuple[str, Any]:
    """The openai verdict (strict response validation) and the parsed object."""
    try:
        parsed = validate_type(type_=ChatCompletion, value=_as_object(payload))
    except pydantic.ValidationError:
        return REJECTS, None
    return ACCEPTS, parsed


def sdk_verdict(dialect: str, payload: Any, *, stream: bool = False) -> str:
    return mistral_sdk(payload, stream=stream)[0] if dialect == "mistral" else openai_sdk(payload)[0]


def sse(*chunks: dict[str, Any]) -> bytes:
    """A complete SSE body: one event per chunk, then the [DONE] sentinel."""
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


# ----------------------------------------------------------------------------------------------------------------
# 1. What the SDK rejects, we reject: generated documents
# ----------------------------------------------------------------------------------------------------------------


def corpus(dialect: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid responses and responses broken in one place."""
    return gen.responses(dialect) | gen.mutated(dialect).map(lambda t: t[1])


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_generated_documents_the_sdk_rejects_we_reject(dialect: str, data: st.DataObject) -> None:
    doc = data.draw(corpus(dialect), label="document")
    verdict = sdk_verdict(dialect, doc)
    report = run(doc, dialect)
    note(f"SDK: {verdict}\nchatcontract:\n{describe(report)}")
    if verdict != ACCEPTS:
        assert not report.ok, f"the {dialect} SDK says {verdict}, check() accepts:\n{describe(report)}"
    # The openai client's default path validates nothing: construct_type takes whatever it gets.
    if dialect == "openai":
        assert isinstance(construct_type(type_=ChatCompletion, value=doc), ChatCompletion)


# ----------------------------------------------------------------------------------------------------------------
# Hand corpus
# ----------------------------------------------------------------------------------------------------------------

M_BASE: dict[str, Any] = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "created": 1702256327,
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi", "tool_calls": None}, "finish_reason": "stop"}
    ],
}
M_TOOLS = {
    **M_BASE,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "D681PevKs",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
}
O_BASE: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
}
O_TOOLS = {
    **O_BASE,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_D681PevKs",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
}
M_CHUNK: dict[str, Any] = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1702256327,
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}

C0 = ("choices", 0)
MSG = (*C0, "message")
CALL0 = (*MSG, "tool_calls", 0)


def edit(doc: dict[str, Any], *changes: tuple[tuple[Any, ...], Any]) -> dict[str, Any]:
    """A copy of ``doc`` with each ``(path, value)`` set (``DELETE`` removes the key)."""
    out = copy.deepcopy(doc)
    for path, value in changes:
        node: Any = out
        for seg in path[:-1]:
            node = node[seg]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return out


@dataclass(frozen=True)
class Probe:
    """A hand-written document (or body, or stream chunk) and the SDK verdict it is known to get."""

    id: str
    dialect: str
    payload: Any
    sdk: str  # ACCEPTS | KEEPS_UNKNOWN | REJECTS
    stream: bool = False

    def check(self) -> Report:
        if self.stream:
            return run(sse(self.payload), self.dialect, stream=True)
        return run(self.payload, self.dialect)


def _m(id: str, sdk: str, *changes: Any, base: dict[str, Any] = M_BASE) -> Probe:
    return Probe(f"mistral/{id}", "mistral", edit(base, *changes), sdk)


def _o(id: str, sdk: str, *changes: Any, base: dict[str, Any] = O_BASE) -> Probe:
    return Probe(f"openai/{id}", "openai", edit(base, *changes), sdk)


def _ms(id: str, sdk: str, *changes: Any) -> Probe:
    return Probe(f"mistral-stream/{id}", "mistral", edit(M_CHUNK, *changes), sdk, stream=True)


# The probes of sdk-probe-mistral.txt / sdk-probe-openai.txt (and a few more), with the verdict each SDK gives.
PROBES: list[Probe] = [
    # --- mistralai, non-stream
    _m("baseline", ACCEPTS),
    _m("missing-id", REJECTS, (("id",), DELETE)),
    _m("missing-object", REJECTS, (("object",), DELETE)),
    _m("missing-model", REJECTS, (("model",), DELETE)),
    _m("missing-usage", REJECTS, (("usage",), DELETE)),
    _m("missing-created", REJECTS, (("created",), DELETE)),
    _m("missing-choices", REJECTS, (("choices",), DELETE)),
    _m("extra-top-level-field", ACCEPTS, (("system_fingerprint",), "fp_1")),
    _m("finish-reason-content-filter", KEEPS_UNKNOWN, ((*C0, "finish_reason"), "content_filter")),
    _m("finish-reason-null", ACCEPTS, ((*C0, "finish_reason"), None)),
    _m("finish-reason-missing", REJECTS, ((*C0, "finish_reason"), DELETE)),
    _m("message-missing", ACCEPTS, (MSG, DELETE)),
    _m("message-null", ACCEPTS, (MSG, None)),
    _m("message-role-user", REJECTS, ((*MSG, "role"), "user")),
    _m("message-role-null", ACCEPTS, ((*MSG, "role"), None)),
    _m("message-refusal-openai-field", ACCEPTS, ((*MSG, "refusal"), None)),
    _m(
        "content-chunks-text-and-thinking",
        ACCEPTS,
        (
            (*MSG, "content"),
            [{"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]}, {"type": "text", "text": "Hi"}],
        ),
    ),
    _m("content-chunk-unknown-type", KEEPS_UNKNOWN, ((*MSG, "content"), [{"type": "markdown", "text": "Hi"}])),
    _m("content-chunk-text-without-text", KEEPS_UNKNOWN, ((*MSG, "content"), [{"type": "text"}])),
    _m("content-chunk-text-extra-key", ACCEPTS, ((*MSG, "content"), [{"type": "text", "text": "Hi", "lang": "en"}])),
    _m("content-chunk-without-type", REJECTS, ((*MSG, "content"), [{"text": "Hi"}])),
    _m("content-integer", REJECTS, ((*MSG, "content"), 42)),
    _m("content-object", ACCEPTS, ((*MSG, "content"), {"text": "Hi"})),
    _m(
        "image-detail-unknown",
        KEEPS_UNKNOWN,
        (
            (*MSG, "content"),
            [{"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "ultra"}}],
        ),
    ),
    _m(
        "thinking-tool-reference-any-tool",
        ACCEPTS,
        (
            (*MSG, "content"),
            [{"type": "thinking", "thinking": [{"type": "tool_reference", "tool": "my_connector", "title": "T"}]}],
        ),
    ),
    _m("tool-args-string", ACCEPTS, base=M_TOOLS),
    _m("tool-args-object", ACCEPTS, ((*CALL0, "function", "arguments"), {"city": "Paris"}), base=M_TOOLS),
    _m("tool-args-missing", REJECTS, ((*CALL0, "function", "arguments"), DELETE), base=M_TOOLS),
    _m("tool-args-json-array", REJECTS, ((*CALL0, "function", "arguments"), [1, 2]), base=M_TOOLS),
    _m("tool-name-missing", REJECTS, ((*CALL0, "function", "name"), DELETE), base=M_TOOLS),
    _m("tool-call-type-custom", ACCEPTS, ((*CALL0, "type"), "custom"), base=M_TOOLS),
    _m("usage-empty-object", ACCEPTS, (("usage",), {})),
    _m("usage-null", REJECTS, (("usage",), None)),
    _m("usage-extra-key", ACCEPTS, (("usage", "num_cached_tokens"), 0)),
    _m("tokens-numeric-string", ACCEPTS, (("usage", "prompt_tokens"), "10")),
    _m("tokens-fractional", REJECTS, (("usage", "prompt_tokens"), 10.5)),
    _m("tokens-negative", ACCEPTS, (("usage",), {"prompt_tokens": -1, "completion_tokens": 5, "total_tokens": 4})),
    _m("created-numeric-string", ACCEPTS, (("created",), "1702256327")),
    _m("choice-logprobs-null", ACCEPTS, ((*C0, "logprobs"), None)),
    _m("choices-empty", ACCEPTS, (("choices",), [])),
    _m("choice-index-true", ACCEPTS, ((*C0, "index"), True)),
    _m("object-any-string", ACCEPTS, (("object",), "anything")),
    _m("id-integer", REJECTS, (("id",), 1)),
    # --- mistralai, one stream chunk (CompletionEvent), checked as a one-event stream
    _ms("baseline", ACCEPTS),
    _ms("finish-reason-missing", REJECTS, ((*C0, "finish_reason"), DELETE)),
    _ms("finish-reason-model-length", KEEPS_UNKNOWN, ((*C0, "finish_reason"), "model_length")),
    _ms("usage-only-chunk", ACCEPTS, (("choices",), [])),
    _ms("no-created-no-object", ACCEPTS, (("created",), DELETE), (("object",), DELETE)),
    _ms("usage-null", ACCEPTS, (("usage",), None)),
    _ms("delta-role-tool", ACCEPTS, ((*C0, "delta", "role"), "tool")),
    _ms(
        "tool-call-openai-style-fragment",
        REJECTS,
        ((*C0, "delta"), {"role": "assistant", "tool_calls": [{"index": 0, "function": {"arguments": '{"a'}}]}),
        ((*C0, "finish_reason"), "tool_calls"),
    ),
    # --- openai, validate_type(ChatCompletion)
    _o("baseline", ACCEPTS),
    _o("missing-id", REJECTS, (("id",), DELETE)),
    _o("missing-object", REJECTS, (("object",), DELETE)),
    _o("missing-created", REJECTS, (("created",), DELETE)),
    _o("missing-model", REJECTS, (("model",), DELETE)),
    _o("missing-choices", REJECTS, (("choices",), DELETE)),
    _o("missing-usage", ACCEPTS, (("usage",), DELETE)),
    _o("finish-reason-model-length", REJECTS, ((*C0, "finish_reason"), "model_length")),
    _o("finish-reason-error", REJECTS, ((*C0, "finish_reason"), "error")),
    _o("finish-reason-null", REJECTS, ((*C0, "finish_reason"), None)),
    _o("object-chat-completions", REJECTS, (("object",), "chat.completions")),
    _o("content-chunk-list", REJECTS, ((*MSG, "content"), [{"type": "text", "text": "Hi"}])),
    _o("tool-args-object", REJECTS, ((*CALL0, "function", "arguments"), {"city": "Paris"}), base=O_TOOLS),
    _o("tool-call-without-id-and-type", REJECTS, ((*CALL0, "id"), DELETE), ((*CALL0, "type"), DELETE), base=O_TOOLS),
    _o("tool-call-unknown-type", REJECTS, ((*CALL0, "type"), "web_search"), base=O_TOOLS),
    _o(
        "usage-details",
        ACCEPTS,
        (("usage", "prompt_tokens_details"), {"cached_tokens": 2}),
        (("usage", "completion_tokens_details"), {"reasoning_tokens": 1}),
    ),
    _o("usage-empty-object", REJECTS, (("usage",), {})),
    _o("extra-field", ACCEPTS, (("extra",), 1)),
    _o("service-tier-unknown", REJECTS, (("service_tier",), "turbo")),
    _o("metadata-integer-value", REJECTS, (("metadata",), {"trace": 1})),
    _o("moderation-empty-object", REJECTS, (("moderation",), {})),
    _o(
        "moderation-result-wrong-shape",
        REJECTS,
        (
            ("moderation",),
            {
                "input": {
                    "type": "moderation_results",
                    "model": "omni-moderation-latest",
                    "results": [{"flagged": "no"}],
                },
                "output": {"type": "error", "code": "timeout", "message": "moderation timed out"},
            },
        ),
    ),
    _o("moderation-null", ACCEPTS, (("moderation",), None)),
    _o(
        "annotation-without-title",
        REJECTS,
        (
            (*MSG, "annotations"),
            [
                {
                    "type": "url_citation",
                    "url_citation": {"start_index": 0, "end_index": 1, "url": "https://example.com"},
                }
            ],
        ),
    ),
    _o(
        "audio-without-transcript",
        REJECTS,
        ((*MSG, "audio"), {"id": "a", "expires_at": 1741573552, "data": "UklGRg=="}),
    ),
]

#: Hand-corpus documents the SDK rejects (or keeps as unknown) but check() accepts, each with the reason.
EXPECTED_DISAGREEMENTS: dict[str, str] = {
    "openai/moderation-empty-object": (
        "The openai contract keeps the response's `moderation` (ChatCompletionModeration | null) as a free object "
        "(chatcontract/contracts/_openai_responses.py, CreateChatCompletionResponse docstring); openai 3.x types it "
        "as Moderation{input, output} with both required. A deliberate simplification of the contract, not a "
        "checker bug: nothing else in a chat completion depends on it."
    ),
    "openai/moderation-result-wrong-shape": (
        "Same cause: the inner moderation results ({flagged: bool, categories, category_scores, ...}) are not "
        "modelled by the openai contract, so a malformed result passes check() while openai's models reject it."
    ),
}

PROBE_IDS = [p.id for p in PROBES]
SDK_REJECTED = [p for p in PROBES if p.sdk != ACCEPTS]


def test_probe_ids_are_unique() -> None:
    assert len(PROBE_IDS) == len(set(PROBE_IDS))


@pytest.mark.parametrize("probe", PROBES, ids=PROBE_IDS)
def test_probe_gets_the_documented_sdk_verdict(probe: Probe) -> None:
    # Pins the oracle: if an SDK upgrade changes a verdict, the corpus (and EXPECTED_DISAGREEMENTS) needs review.
    assert sdk_verdict(probe.dialect, probe.payload, stream=probe.stream) == probe.sdk


@pytest.mark.parametrize("probe", SDK_REJECTED, ids=[p.id for p in SDK_REJECTED])
def test_what_the_sdk_rejects_we_reject(probe: Probe) -> None:
    report = probe.check()
    if probe.id in EXPECTED_DISAGREEMENTS:
        assert report.ok, f"{probe.id} is no longer a disagreement: remove it from EXPECTED_DISAGREEMENTS"
    else:
        assert not report.ok, f"the SDK says {probe.sdk}; check() found no error:\n{describe(report)}"


def test_expected_disagreements_are_exactly_the_hand_corpus_disagreements() -> None:
    disagreements = {
        p.id for p in PROBES if sdk_verdict(p.dialect, p.payload, stream=p.stream) != ACCEPTS and p.check().ok
    }
    assert disagreements == set(EXPECTED_DISAGREEMENTS)


# ----------------------------------------------------------------------------------------------------------------
# 2. What we reject (or flag) that the SDKs accept: the documented value of the project
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catch:
    """A document the SDK accepts (``sdk``: ACCEPTS, or KEEPS_UNKNOWN for Mistral's open enums/unions) on which
    check() reports ``code`` at ``pointer`` with ``severity``. ``survives``: the SDK object still holds the offending
    value, so checking the SDK object reports it too."""

    id: str
    dialect: str
    payload: Any
    code: str
    pointer: str
    severity: Severity
    sdk: str = ACCEPTS
    survives: bool = False


def _mc(
    id: str,
    code: str,
    pointer: str,
    severity: Severity,
    *changes: Any,
    base: dict[str, Any] = M_BASE,
    sdk: str = ACCEPTS,
    survives: bool = False,
) -> Catch:
    return Catch(f"mistral/{id}", "mistral", edit(base, *changes), code, pointer, severity, sdk, survives)


def _oc(
    id: str,
    code: str,
    pointer: str,
    severity: Severity,
    *changes: Any,
    base: dict[str, Any] = O_BASE,
    survives: bool = False,
) -> Catch:
    return Catch(f"openai/{id}", "openai", edit(base, *changes), code, pointer, severity, ACCEPTS, survives)


def _body(doc: dict[str, Any], old: str, new: str) -> bytes:
    text = json.dumps(doc)
    assert old in text
    return text.replace(old, new, 1).encode()


WE_REJECT_THEY_ACCEPT: list[Catch] = [
    # --- mistralai accepts (lax coercion, no constraints, open enums/unions), check() reports
    _mc("tokens-numeric-string", "CC102", "/usage/prompt_tokens", ERROR, (("usage", "prompt_tokens"), "10")),
    _mc("tokens-integral-float", "CC102", "/usage/prompt_tokens", ERROR, (("usage", "prompt_tokens"), 10.0)),
    _mc("tokens-null", "CC107", "/usage/prompt_tokens", ERROR, (("usage", "prompt_tokens"), None)),
    _mc("usage-empty-object", "CC101", "/usage/prompt_tokens", ERROR, (("usage",), {})),
    _mc("choice-index-true", "CC102", "/choices/0/index", ERROR, ((*C0, "index"), True)),
    _mc(
        "tokens-negative",
        "CC202",
        "/usage/prompt_tokens",
        ERROR,
        (("usage",), {"prompt_tokens": -1, "completion_tokens": 5, "total_tokens": 4}),
        survives=True,
    ),
    _mc(
        "usage-total-mismatch", "CC201", "/usage/total_tokens", WARNING, (("usage", "total_tokens"), 16), survives=True
    ),
    _mc("choices-empty", "CC214", "/choices", ERROR, (("choices",), []), survives=True),
    _mc("object-any-string", "CC212", "/object", WARNING, (("object",), "anything"), survives=True),
    _mc(
        "usage-unknown-key",
        "CC104",
        "/usage/num_cached_tokens",
        WARNING,
        (("usage", "num_cached_tokens"), 3),
        survives=True,
    ),
    _mc("message-refusal-openai-field", "CC104", "/choices/0/message/refusal", WARNING, ((*MSG, "refusal"), None)),
    _mc("message-missing", "CC213", "/choices/0", ERROR, (MSG, DELETE), survives=True),
    _mc("message-null", "CC213", "/choices/0", ERROR, (MSG, None)),
    _mc("message-role-null", "CC109", "/choices/0/message/role", WARNING, ((*MSG, "role"), None)),
    _mc(
        "finish-reason-unknown",
        "CC103",
        "/choices/0/finish_reason",
        ERROR,
        ((*C0, "finish_reason"), "content_filter"),
        sdk=KEEPS_UNKNOWN,
        survives=True,
    ),
    _mc("finish-reason-null", "CC107", "/choices/0/finish_reason", ERROR, ((*C0, "finish_reason"), None)),
    _mc(
        "content-chunk-unknown-type",
        "CC106",
        "/choices/0/message/content/0",
        ERROR,
        ((*MSG, "content"), [{"type": "markdown", "text": "Hi"}]),
        sdk=KEEPS_UNKNOWN,
        survives=True,
    ),
    _mc(
        "content-chunk-text-without-text",
        "CC101",
        "/choices/0/message/content/0/text",
        ERROR,
        ((*MSG, "content"), [{"type": "text"}]),
        sdk=KEEPS_UNKNOWN,
        survives=True,
    ),
    _mc(
        "content-chunk-extra-key",
        "CC104",
        "/choices/0/message/content/0/lang",
        WARNING,
        ((*MSG, "content"), [{"type": "text", "text": "Hi", "lang": "en"}]),
    ),
    _mc("content-object", "CC102", "/choices/0/message/content", ERROR, ((*MSG, "content"), {"text": "Hi"})),
    _mc(
        "image-detail-unknown",
        "CC103",
        "/choices/0/message/content/0/image_url/detail",
        ERROR,
        (
            (*MSG, "content"),
            [{"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "ultra"}}],
        ),
        # survives=False: mistralai's own serializer drops the UnrecognizedStr `detail` from model_dump(), so an
        # SDK object cannot show it to any checker.
        sdk=KEEPS_UNKNOWN,
    ),
    _mc("message-prefix-string", "CC102", "/choices/0/message/prefix", ERROR, ((*MSG, "prefix"), "true")),
    _mc("created-numeric-string", "CC102", "/created", ERROR, (("created",), "1702256327")),
    _mc("created-integral-float", "CC102", "/created", ERROR, (("created",), 1702256327.0)),
    _mc("created-milliseconds", "CC209", "/created", ERROR, (("created",), 1702256327000), survives=True),
    _mc("id-empty", "CC210", "/id", ERROR, (("id",), ""), survives=True),
    _mc("model-empty", "CC211", "/model", ERROR, (("model",), " "), survives=True),
    _mc("error-object-in-200", "CC503", "/error", ERROR, (("error",), {"message": "overloaded", "type": "x"})),
    _mc(
        "choice-index-duplicate",
        "CC204",
        "/choices/1/index",
        ERROR,
        (("choices",), [M_BASE["choices"][0], M_BASE["choices"][0]]),
        survives=True,
    ),
    _mc(
        "tool-args-not-json",
        "CC207",
        "/choices/0/message/tool_calls/0/function/arguments",
        ERROR,
        ((*CALL0, "function", "arguments"), '{"city": "Par'),
        base=M_TOOLS,
        survives=True,
    ),
    _mc(
        "tool-args-json-array-text",
        "CC207",
        "/choices/0/message/tool_calls/0/function/arguments",
        ERROR,
        ((*CALL0, "function", "arguments"), "[1, 2]"),
        base=M_TOOLS,
        survives=True,
    ),
    _mc(
        "tool-call-type-custom",
        "CC103",
        "/choices/0/message/tool_calls/0/type",
        ERROR,
        ((*CALL0, "type"), "custom"),
        base=M_TOOLS,
        survives=True,
    ),
    _mc(
        "tool-call-id-null",
        "CC109",
        "/choices/0/message/tool_calls/0/id",
        WARNING,
        ((*CALL0, "id"), None),
        base=M_TOOLS,
    ),
    _mc(
        "tool-call-id-empty",
        "CC215",
        "/choices/0/message/tool_calls/0/id",
        ERROR,
        ((*CALL0, "id"), ""),
        base=M_TOOLS,
        survives=True,
    ),
    _mc(
        "tool-call-id-not-nine-alphanumerics",
        "CC216",
        "/choices/0/message/tool_calls/0/id",
        WARNING,
        ((*CALL0, "id"), "call_abc-123"),
        base=M_TOOLS,
        survives=True,
    ),
    _mc(
        "tool-call-ids-duplicate",
        "CC208",
        "/choices/0/message/tool_calls/1/id",
        ERROR,
        ((*MSG, "tool_calls"), M_TOOLS["choices"][0]["message"]["tool_calls"] * 2),
        base=M_TOOLS,
        survives=True,
    ),
    _mc(
        "finish-reason-tool-calls-without-calls",
        "CC205",
        "/choices/0/finish_reason",
        ERROR,
        ((*C0, "finish_reason"), "tool_calls"),
        survives=True,
    ),
    _mc(
        "tool-calls-with-finish-reason-stop",
        "CC206",
        "/choices/0/finish_reason",
        WARNING,
        ((*C0, "finish_reason"), "stop"),
        base=M_TOOLS,
        survives=True,
    ),
    Catch(
        "mistral/duplicate-key-in-body",
        "mistral",
        _body(M_BASE, '"model": ', '"model": "other", "model": '),
        "CC004",
        "/model",
        ERROR,
    ),
    Catch(
        "mistral/integer-beyond-64-bits",
        "mistral",
        _body(M_BASE, '"prompt_tokens": 10', '"prompt_tokens": ' + str(2**64 + 10)),
        "CC108",
        "/usage/prompt_tokens",
        ERROR,
    ),
    Catch(
        "mistral/nan-in-tool-arguments-object",
        "mistral",
        _body(edit(M_TOOLS, ((*CALL0, "function", "arguments"), {"x": 0.5})), "0.5", "NaN"),
        "CC005",
        "/choices/0/message/tool_calls/0/function/arguments/x",
        ERROR,
    ),
    # --- openai validate_type accepts (lax coercion, Optional with defaults), check() reports
    _oc("created-numeric-string", "CC102", "/created", ERROR, (("created",), "1741569952")),
    _oc("created-true", "CC102", "/created", ERROR, (("created",), True)),
    _oc("created-integral-float", "CC102", "/created", ERROR, (("created",), 1741569952.0)),
    _oc("choice-index-true", "CC102", "/choices/0/index", ERROR, ((*C0, "index"), True)),
    _oc("tokens-numeric-string", "CC102", "/usage/prompt_tokens", ERROR, (("usage", "prompt_tokens"), "10")),
    _oc(
        "message-refusal-missing",
        "CC101",
        "/choices/0/message/refusal",
        ERROR,
        ((*MSG, "refusal"), DELETE),
        survives=True,
    ),
    _oc("choice-logprobs-missing", "CC101", "/choices/0/logprobs", ERROR, ((*C0, "logprobs"), DELETE), survives=True),
    _oc(
        "logprobs-refusal-missing",
        "CC101",
        "/choices/0/logprobs/refusal",
        ERROR,
        ((*C0, "logprobs"), {"content": []}),
        survives=True,
    ),
    _oc(
        "token-logprob-bytes-missing",
        "CC101",
        "/choices/0/logprobs/content/0/bytes",
        ERROR,
        ((*C0, "logprobs"), {"content": [{"token": "Hi", "logprob": -0.1, "top_logprobs": []}], "refusal": None}),
        survives=True,
    ),
    _oc("usage-null", "CC109", "/usage", WARNING, (("usage",), None)),
    _oc("system-fingerprint-null", "CC109", "/system_fingerprint", WARNING, (("system_fingerprint",), None)),
    _oc(
        "usage-details-null-count",
        "CC109",
        "/usage/completion_tokens_details/reasoning_tokens",
        WARNING,
        (("usage", "completion_tokens_details"), {"reasoning_tokens": None}),
    ),
    _oc("function-call-null", "CC109", "/choices/0/message/function_call", WARNING, ((*MSG, "function_call"), None)),
    _oc("choices-empty", "CC214", "/choices", ERROR, (("choices",), []), survives=True),
    _oc(
        "usage-total-mismatch", "CC201", "/usage/total_tokens", WARNING, (("usage", "total_tokens"), 16), survives=True
    ),
    _oc(
        "tokens-negative",
        "CC202",
        "/usage/completion_tokens",
        ERROR,
        (("usage",), {"prompt_tokens": 10, "completion_tokens": -5, "total_tokens": 5}),
        survives=True,
    ),
    _oc(
        "usage-total-below-prompt",
        "CC203",
        "/usage/total_tokens",
        ERROR,
        (("usage",), {"prompt_tokens": 1066, "completion_tokens": 0, "total_tokens": 103}),
        survives=True,
    ),
    _oc("created-milliseconds", "CC209", "/created", ERROR, (("created",), 1741569952000), survives=True),
    _oc("id-empty", "CC210", "/id", ERROR, (("id",), ""), survives=True),
    _oc("model-empty", "CC211", "/model", ERROR, (("model",), ""), survives=True),
    _oc("error-object-in-200", "CC503", "/error", ERROR, (("error",), {"message": "overloaded"}), survives=True),
    _oc(
        "tool-args-not-json",
        "CC207",
        "/choices/0/message/tool_calls/0/function/arguments",
        ERROR,
        ((*CALL0, "function", "arguments"), "not json"),
        base=O_TOOLS,
        survives=True,
    ),
    _oc(
        "tool-call-ids-duplicate",
        "CC208",
        "/choices/0/message/tool_calls/1/id",
        ERROR,
        ((*MSG, "tool_calls"), O_TOOLS["choices"][0]["message"]["tool_calls"] * 2),
        base=O_TOOLS,
        survives=True,
    ),
    _oc(
        "tool-call-id-empty",
        "CC215",
        "/choices/0/message/tool_calls/0/id",
        ERROR,
        ((*CALL0, "id"), ""),
        base=O_TOOLS,
        survives=True,
    ),
    _oc(
        "finish-reason-tool-calls-without-calls",
        "CC205",
        "/choices/0/finish_reason",
        ERROR,
        ((*C0, "finish_reason"), "tool_calls"),
        survives=True,
    ),
    Catch(
        "openai/duplicate-key-in-body",
        "openai",
        _body(O_BASE, '"model": ', '"model": "other", "model": '),
        "CC004",
        "/model",
        ERROR,
    ),
]
CATCH_IDS = [c.id for c in WE_REJECT_THEY_ACCEPT]


def test_catch_ids_are_unique() -> None:
    assert len(CATCH_IDS) == len(set(CATCH_IDS))


@pytest.mark.parametrize("case", WE_REJECT_THEY_ACCEPT, ids=CATCH_IDS)
def test_we_report_what_the_sdk_accepts(case: Catch) -> None:
    assert sdk_verdict(case.dialect, case.payload) == case.sdk
    report = run(case.payload, case.dialect)
    found = [v for v in report.violations if (v.code, v.pointer) == (case.code, case.pointer)]
    assert found, f"expected {case.code} at {case.pointer}; reported:\n{describe(report)}"
    assert found[0].severity is case.severity
    if case.severity is ERROR:
        assert not report.ok


@pytest.mark.parametrize(
    "case",
    [c for c in WE_REJECT_THEY_ACCEPT if c.dialect == "openai"],
    ids=[c.id for c in WE_REJECT_THEY_ACCEPT if c.dialect == "openai"],
)
def test_openai_default_client_path_constructs_anything(case: Catch) -> None:
    # What the default client does with a 200 body: construct_type, no validation, no error.
    assert isinstance(construct_type(type_=ChatCompletion, value=_as_object(case.payload)), ChatCompletion)


@pytest.mark.parametrize(
    "probe", [p for p in PROBES if p.dialect == "openai"], ids=[p.id for p in PROBES if p.dialect == "openai"]
)
def test_openai_default_client_path_constructs_even_what_validation_rejects(probe: Probe) -> None:
    assert isinstance(construct_type(type_=ChatCompletion, value=probe.payload), ChatCompletion)


# ----------------------------------------------------------------------------------------------------------------
# 3. SDK objects as payloads
# ----------------------------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(doc=gen.responses("mistral"))
def test_mistral_sdk_objects_of_valid_documents_conform(doc: dict[str, Any]) -> None:
    obj = ChatCompletionResponse.model_validate(doc)
    report = run(obj, "mistral")
    assert report.violations == (), describe(report)


@settings(max_examples=25, deadline=None)
@given(doc=gen.responses("openai"))
def test_openai_sdk_objects_of_valid_documents_conform(doc: dict[str, Any]) -> None:
    for obj in (ChatCompletion.model_validate(doc), construct_type(type_=ChatCompletion, value=doc)):
        report = run(obj, "openai")
        assert report.violations == (), describe(report)


SURVIVORS = [c for c in WE_REJECT_THEY_ACCEPT if c.survives]


@pytest.mark.parametrize("case", SURVIVORS, ids=[c.id for c in SURVIVORS])
def test_sdk_object_still_reports_the_violation(case: Catch) -> None:
    objects: list[Any]
    if case.dialect == "mistral":
        objects = [ChatCompletionResponse.model_validate(case.payload)]
    else:
        objects = [
            ChatCompletion.model_validate(case.payload),
            construct_type(type_=ChatCompletion, value=case.payload),
        ]
    for obj in objects:
        report = run(obj, case.dialect)
        assert (case.code, case.pointer) in {(v.code, v.pointer) for v in report.violations}, (
            f"{type(obj).__name__}: expected {case.code} at {case.pointer}; reported:\n{describe(report)}"
        )


def test_sdk_coercion_hides_what_only_the_wire_shows() -> None:
    # Documented limitation: mistralai turns "10" into 10, so the SDK object no longer carries the wire value.
    # Check the raw body (or the httpx response) to see it.
    doc = edit(M_BASE, (("usage", "prompt_tokens"), "10"))
    assert not run(doc, "mistral").ok
    assert run(ChatCompletionResponse.model_validate(doc), "mistral").violations == ()


def test_unknown_content_chunk_class_is_what_the_oracle_detects() -> None:
    doc = edit(M_BASE, ((*MSG, "content"), [{"type": "markdown", "text": "Hi"}]))
    verdict, obj = mistral_sdk(doc)
    assert verdict == KEEPS_UNKNOWN
    assert isinstance(obj.choices[0].message.content[0], UnknownContentChunk)
