"""A fused, conservative pre-pass over the built-in response rules (CC2xx and CC503), for the engine's fast path.

:func:`culprits` answers one question: *which covered rule functions may have a hit on this document?* It walks
the document once, in plain Python, instead of one generator per rule. It may name a rule that would in fact
yield nothing (the engine then runs that rule, which reports exactly), but it never leaves out a rule that would
yield a hit: every condition below restates a rule's condition (see the rule functions in ``consistency.py`` and
``errors.py``), never a weaker one. Nothing named: the document passes every covered rule.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from jiter import from_json as _from_json
from pydantic import TypeAdapter

from .. import _accel
from . import consistency, errors, reasoning, request
from ._registry import CheckFn
from .json_schema import fast_schema, relax_for_plain

__all__ = [
    "COVERED", "NULL_LEVELS", "REQUEST_COVERED", "FastValidator", "NullPlaces", "culprits", "culprits_py",
    "culprits_table", "fast_validator", "null_places", "request_culprits", "request_culprits_py",
    "request_culprits_table", "suspects", "suspects_py",
]

COVERED: Mapping[str, CheckFn] = {
    "CC201": consistency.usage_total_mismatch,
    "CC202": consistency.negative_token_count,
    "CC203": consistency.usage_total_below_parts,
    "CC204": consistency.choice_index_invalid,
    "CC205": consistency.tool_calls_finish_without_calls,
    "CC206": consistency.tool_calls_with_stop,
    "CC207": consistency.tool_arguments_not_json_object,
    "CC208": consistency.duplicate_tool_call_id,
    "CC209": consistency.implausible_created,
    "CC210": consistency.empty_id,
    "CC211": consistency.empty_model,
    "CC212": consistency.unexpected_object_value,
    "CC213": consistency.choice_without_message,
    "CC214": consistency.empty_choices,
    "CC215": consistency.empty_tool_call_id,
    "CC216": consistency.tool_call_id_format,
    "CC217": reasoning.reasoning_tokens_exceed_completion,
    "CC218": reasoning.reasoning_markup_in_content,
    "CC219": reasoning.unclosed_think_block,
    "CC220": reasoning.reasoning_field_wrong_type,
    "CC503": errors.error_in_success,
}
"""The rule functions :func:`culprits` stands for, by code (the engine checks identity before relying on it)."""

REQUEST_COVERED: Mapping[str, CheckFn] = {
    "CC401": request.choice_count_mismatch,
    "CC402": request.completion_tokens_exceed,
    "CC403": request.length_finish_mismatch,
    "CC407": request.undeclared_tool_called,
    "CC411": request.model_echo_mismatch,
}
"""The request-aware rules :func:`request_culprits` stands for: those that read any request (no ``request_keys``) or
the usual ``max_tokens``, so they would otherwise run on every exchange with a request."""

_UNSET: Any = object()  # (a table not given: None is a table's answer, "no C walk for this set")
_CREATED_MIN = 1_000_000_000
_CREATED_MAX = 1_000_000_000_000
_YEAR = consistency._YEAR
_clock: Callable[[], float] = time.time


class FastValidator:
    """The contract's :func:`~chatcontract.rules.json_schema.fast_schema`, compiled by jsonschema-rs.

    ``valid(doc)`` is True only when the strict contract accepts ``doc`` (parsed with ``float_mode=
    "lossless-float"``) and the parser has nothing to report. ``valid_plain(doc)`` means the same for a document
    the C accelerator proved plain (no float, no integer over 18 digits; see
    :func:`~chatcontract.rules.json_schema.relax_for_plain`). Built once per contract. The covered rules are
    :func:`culprits`' (the schema holds none of their conditions: a document with a warning of theirs still passes
    it, and the fused pass names the rule).
    """

    __slots__ = ("valid", "valid_plain")

    def __init__(self, adapter: TypeAdapter[Any]) -> None:
        import jsonschema_rs  # the caller handles ImportError

        _probe(jsonschema_rs)
        schema = fast_schema(adapter)
        strict = jsonschema_rs.Draft202012Validator(schema)
        relaxed = jsonschema_rs.Draft202012Validator(relax_for_plain(schema))
        self.valid: Callable[[Any], bool] = strict.is_valid
        self.valid_plain: Callable[[Any], bool] = relaxed.is_valid


def _probe(jsonschema_rs: Any) -> None:
    """Raise ImportError unless this jsonschema-rs refuses a ``LosslessFloat`` where a value is inspected."""
    import jiter

    floats = jiter.from_json(b"[1.0]", float_mode="lossless-float")
    try:
        accepted = jsonschema_rs.Draft202012Validator({"items": {"type": "integer"}}).is_valid(floats)
    except Exception:  # refused: what the fast path relies on
        return
    if accepted:
        raise ImportError("this jsonschema-rs takes LosslessFloat for a number; the fast path needs it refused")


_VALIDATORS: dict[int, tuple[TypeAdapter[Any], FastValidator | None]] = {}


def fast_validator(adapter: TypeAdapter[Any]) -> FastValidator | None:
    """The (cached) :class:`FastValidator` of ``adapter``; None without jsonschema-rs."""
    key = id(adapter)
    entry = _VALIDATORS.get(key)
    if entry is not None and entry[0] is adapter:
        return entry[1]
    try:
        validator: FastValidator | None = FastValidator(adapter)
    except ImportError:  # pragma: no cover - jsonschema-rs is an optional speed-up
        validator = None
    _VALIDATORS[key] = (adapter, validator)
    return validator


def _arguments_ok(arguments: Any) -> bool:
    # CC207: a string must parse as a JSON object; any other value is left to the schema. jiter's strict parse
    # (several times faster than the rule's json.loads) accepts no text json.loads refuses; it refuses some that
    # json.loads takes (a lone surrogate, nesting past 200 levels), and then the rule runs and decides.
    if not isinstance(arguments, str):
        return True
    try:
        return type(_from_json(arguments.encode("utf-8"), allow_inf_nan=False)) is dict
    except (ValueError, UnicodeEncodeError):
        return False


def culprits(doc: dict[str, Any], covered: frozenset[str], table: Any = _UNSET) -> frozenset[str]:
    """The covered rules that may have a hit on ``doc``, a document the contract accepted; empty when none has.

    Every condition restates a rule's condition or a stricter one, and names the rules it stands for: a rule
    with a hit is always named (a named rule may still find nothing). The C accelerator's ``culprits`` answers
    for the everyday shapes, :func:`culprits_py` (the reference) for the others. ``table``:
    :func:`culprits_table` of ``covered``, which the engine's plan keeps (built here when not given).

    It reads the document as the contract shapes it (``usage`` tokens and ``choices[].index`` are integers,
    ``finish_reason`` is there, ``tool_calls`` is a list of objects or null); if a contract ever changes that, the
    KeyError or TypeError reaches the caller, which then runs every covered rule (or the full path).
    """
    fast = _accel.culprits
    if fast is not None:
        if table is _UNSET:
            table = culprits_table(covered)
        found = None if table is None else fast(doc, table, _clock())
        if found is not None:
            return found
    return culprits_py(doc, covered)


# What _speedups.culprits reads: the keys and values it looks up (in the order of its enum K), the codes (enum C).
_C_KEYS = (
    "object", "error", "id", "model", "created", "choices", "usage", "prompt_tokens", "completion_tokens",
    "total_tokens", "completion_tokens_details", "reasoning_tokens", "index", "message", "messages", "tool_calls",
    "content", "finish_reason", "function", "arguments", *reasoning.REASONING_FIELDS, "reasoning_details",
    "chat.completion", "error", "Error", "tool_calls", "stop", "think>", "text",
)
_C_CODES = (*(f"CC2{n:02d}" for n in range(1, 21)), "CC503")
_C_CODE_SET = frozenset(_C_CODES)


def culprits_table(covered: frozenset[str]) -> tuple[Any, ...] | None:
    """What ``_speedups.culprits`` (and ``suspects``) read for ``covered``; the engine keeps one per plan.

    None when ``covered`` holds a code the C walks do not know (a rule added to :data:`COVERED` and to the Python
    passes only): the Python passes answer then.
    """
    if not covered <= _C_CODE_SET:
        return None
    codes = tuple(code if code in covered else None for code in _C_CODES)
    return tuple(sys.intern(k) for k in _C_KEYS), codes, _arguments_ok, _NOTHING, _YEAR, _ones(codes)


NULL_LEVELS: tuple[tuple[tuple[str, bool], ...], ...] = (
    (),
    (("choices", True),),
    (("choices", True), ("message", False)),
    (("usage", False),),
)
"""Where :class:`NullPlaces` looks for nulls: in the document, each choice, each choice's message, usage (the
objects the fused pass reads). Steps for :func:`~chatcontract.rules._located.loose_null_schema`."""


class NullPlaces:
    """The contract's loose plain schema (``valid``: jsonschema-rs ``is_valid``), which also takes null for the
    optional fields of :data:`NULL_LEVELS` that the contract wants omitted, and those fields per level
    (``fields``: key -> the located route's field, for :func:`~chatcontract.rules.schema.null_hits`).

    A plain document the contract refuses but the loose schema accepts holds such nulls and has no other error of
    the contract: they are found by :meth:`find`, and its other findings are the rules'.
    """

    __slots__ = ("fields", "table", "valid")

    def __init__(self, valid: Callable[[Any], bool], fields: tuple[dict[str, Any], ...]) -> None:
        self.valid = valid
        self.fields = fields
        self.table = (tuple(sys.intern(k) for k in ("usage", "choices", "message")), fields)

    def find(self, doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any], Any]]:
        """The nulls at those fields in ``doc``, as (location, the object holding it, the field); in the order of the
        levels, each object's in its keys' order. The C accelerator's ``null_places`` answers when it can.
        """
        fast = _accel.null_places
        found = None if fast is None else fast(doc, self.table)
        return self.walk(doc) if found is None else found

    def walk(self, doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any], Any]]:
        """:meth:`find`'s walk in Python (the reference of the C accelerator's)."""
        top, per_choice, per_message, in_usage = self.fields
        out: list[tuple[tuple[str | int, ...], dict[str, Any], Any]]
        out = [((key,), doc, top[key]) for key, value in doc.items() if value is None and key in top]
        usage = doc.get("usage")
        if type(usage) is dict:
            out += [(("usage", key), usage, in_usage[key]) for key, v in usage.items() if v is None and key in in_usage]
        items = doc.get("choices")
        for i, choice in enumerate(items if type(items) is list else ()):
            if type(choice) is dict:
                out += [
                    (("choices", i, key), choice, per_choice[key])
                    for key, v in choice.items()
                    if v is None and key in per_choice
                ]
                msg = choice.get("message")
                if type(msg) is dict:
                    out += [
                        (("choices", i, "message", key), msg, per_message[key])
                        for key, v in msg.items()
                        if v is None and key in per_message
                    ]
        return out


def null_places(adapter: TypeAdapter[Any]) -> NullPlaces | None:
    """The contract's :class:`NullPlaces`; None without jsonschema-rs, or when no level has such a field."""
    try:
        import jsonschema_rs

        from ._located import loose_null_schema

        found = loose_null_schema(adapter, NULL_LEVELS)
        if found is None or not any(found[1]):
            return None
        return NullPlaces(jsonschema_rs.Draft202012Validator(found[0]).is_valid, found[1])
    except ImportError:  # pragma: no cover - jsonschema-rs is an optional speed-up
        return None


def _ones(codes: tuple[str | None, ...]) -> tuple[frozenset[str] | None, ...]:
    """Each code's frozenset of itself: the C walks' answer when they name one rule (no new set, its hash kept)."""
    return tuple(None if code is None else frozenset((code,)) for code in codes)


def culprits_py(doc: dict[str, Any], covered: frozenset[str]) -> frozenset[str]:
    """:func:`culprits` in Python, for any shape."""
    bad = _top_level_culprits(doc, covered)
    usage = doc.get("usage")
    if usage is not None:
        if "CC201" in covered or "CC203" in covered:
            p, c, t = usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]
            if t != p + c or p < 0 or c < 0:  # else t >= both parts: CC201 and CC203 pass
                # below a part: CC203 (CC201 leaves it to CC203); else a plain mismatch: CC201
                bad = _add(bad, "CC203" if t < p or t < c else "CC201")
        if "CC217" in covered:
            details = usage.get("completion_tokens_details")
            if details is not None and details.get("reasoning_tokens", 0) > usage["completion_tokens"]:
                bad = _add(bad, "CC217")
    think = "CC218" in covered or "CC219" in covered
    fields = "CC220" in covered
    items = doc["choices"]
    n = len(items)
    if n == 1:
        if items[0]["index"] != 0:
            bad = _add(bad, "CC204")
    elif n:
        indices = {choice["index"] for choice in items}
        if len(indices) != n or min(indices) < 0 or max(indices) >= n:
            bad = _add(bad, "CC204")
    for choice in items:
        msg = choice.get("message")
        if msg is None:
            if not choice.get("messages"):
                bad = _add(bad, "CC213")
            calls = None
        else:
            calls = msg.get("tool_calls")
            if think:
                content = msg.get("content")
                if (
                    ("think>" in content) if type(content) is str else content is not None and not _no_think_markup(content)
                ):
                    bad = _add(bad, "CC218", "CC219")
            if fields and not _REASONING_KEYSET.isdisjoint(msg) and not _reasoning_fields_ok(msg):
                bad = _add(bad, "CC220")
        if not calls:
            if choice["finish_reason"] == "tool_calls":
                bad = _add(bad, "CC205")
        else:
            bad = _calls_culprits(choice, calls, bad)
    if bad is None:
        return _NOTHING
    bad &= covered
    return frozenset(bad) if bad else _NOTHING


def _add(bad: set[str] | None, *codes: str) -> set[str]:
    if bad is None:
        return set(codes)
    bad.update(codes)
    return bad


def _top_level_culprits(doc: dict[str, Any], covered: frozenset[str]) -> set[str] | None:
    """The rules that read the top-level values (CC209-CC212, CC214, CC503) and the counts of ``usage`` (CC202)."""
    bad: set[str] | None = None
    kind = doc.get("object")
    if doc.get("error") or kind == "error" or kind == "Error":
        bad = _add(bad, "CC503")
    if type(kind) is str and kind != "chat.completion":
        bad = _add(bad, "CC212")
    value = doc.get("id")
    if type(value) is str and not value.strip():
        bad = _add(bad, "CC210")
    value = doc.get("model")
    if type(value) is str and not value.strip():
        bad = _add(bad, "CC211")
    value = doc.get("created")
    if type(value) is int and not (_CREATED_MIN <= value <= _CREATED_MAX and value <= _clock() + _YEAR):
        bad = _add(bad, "CC209")
    if doc.get("choices") == []:
        bad = _add(bad, "CC214")
    usage = doc.get("usage")
    if type(usage) is dict:  # CC202 reads two levels: the counts and the counts of a details object
        for value in usage.values():
            if type(value) is int:
                if value < 0:
                    bad = _add(bad, "CC202")
            elif type(value) is dict and any(type(v) is int and v < 0 for v in value.values()):
                bad = _add(bad, "CC202")
    return bad


def _no_think_markup(content: Any) -> bool:
    # CC218, CC219: no "think>" anywhere in the answer text (a stricter test than think_markup's)
    if isinstance(content, str):
        return "think>" not in content
    if isinstance(content, list):
        return not any(
            isinstance(c, dict) and isinstance(c.get("text"), str) and "think>" in c["text"] for c in content
        )
    return True


_REASONING_KEYSET = frozenset((*reasoning.REASONING_FIELDS, "reasoning_details"))


def _reasoning_fields_ok(msg: dict[str, Any]) -> bool:
    # CC220: a message that reached here passed the contract, so a Mistral message has no such keys (its
    # AssistantMessage is closed) and an OpenAI content is a string; only the fields' types remain.
    for key in reasoning.REASONING_FIELDS:
        value = msg.get(key)
        if value is not None and not isinstance(value, str):
            return False
    details = msg.get("reasoning_details")
    return details is None or (isinstance(details, list) and all(isinstance(d, dict) for d in details))


def _calls_culprits(choice: dict[str, Any], calls: list[dict[str, Any]], bad: set[str] | None) -> set[str] | None:
    # CC206, CC207, CC208, CC215, CC216
    if choice["finish_reason"] == "stop":
        bad = _add(bad, "CC206")
    ids: set[str] = set()
    for call in calls:
        cid = call.get("id")
        if isinstance(cid, str):
            if not cid.strip():
                bad = _add(bad, "CC215", "CC208", "CC216")  # a blank id: every id rule has a say
            elif cid in ids:
                bad = _add(bad, "CC208")
            ids.add(cid)
            if not (len(cid) == 9 and cid.isascii() and cid.isalnum()):
                bad = _add(bad, "CC216")
        fn = call.get("function")
        if isinstance(fn, dict) and "arguments" in fn and not _arguments_ok(fn["arguments"]):
            bad = _add(bad, "CC207")
    return bad


def request_culprits(doc: Any, req: Mapping[str, Any], covered: frozenset[str], table: Any = _UNSET) -> frozenset[str]:
    """The rules of :data:`REQUEST_COVERED` (those in ``covered``) that may have a hit on ``doc`` answering ``req``.

    Like :func:`culprits`, every condition is the rule's own or a coarser one: a rule with a hit is always named.
    Any document shape is read (the violation route asks too, on documents the contract refused). The C
    accelerator's ``request_culprits`` answers where it is sure, :func:`request_culprits_py` elsewhere. ``table``:
    :func:`request_culprits_table` of ``covered``, which the engine's plan keeps (built here when not given).
    """
    fast = _accel.request_culprits
    if fast is not None:
        if table is _UNSET:
            table = request_culprits_table(covered)
        found = None if table is None else fast(doc, req, table)
        if found is not None:
            return found
    return request_culprits_py(doc, req, covered)


# What _speedups.request_culprits reads (the order of its enums R and Q).
_R_KEYS = tuple(
    sys.intern(k)
    for k in (
        "n", "max_completion_tokens", "max_tokens", "model", "choices", "usage", "completion_tokens", "finish_reason",
        "length", "message", "tool_calls",
    )
)
_R_CODES = ("CC401", "CC402", "CC403", "CC407", "CC411")


def request_culprits_table(covered: frozenset[str]) -> tuple[Any, ...] | None:
    """What ``_speedups.request_culprits`` reads for ``covered``; None when it holds a code the C walk does not know."""
    if not covered <= frozenset(_R_CODES):
        return None
    codes = tuple(code if code in covered else None for code in _R_CODES)
    return _R_KEYS, codes, _NOTHING, _ones(codes)


def request_culprits_py(doc: Any, req: Mapping[str, Any], covered: frozenset[str]) -> frozenset[str]:
    """:func:`request_culprits` in Python, for any request and document."""
    # (request._n and request._limits, inlined: this runs on every exchange with a request)
    get = req.get
    n = get("n")
    if type(n) is not int or n < 1:
        n = 1
    low = high = get("max_completion_tokens")
    if type(low) is not int:
        low = high = get("max_tokens")
        if type(low) is not int:
            low = high = None
    else:
        other = get("max_tokens")
        if type(other) is int:
            low, high = (other, low) if other < low else (low, other)
    if low is not None and low < 0:
        low = high = None
    bad: set[str] | None = None
    is_object = isinstance(doc, dict)
    used = None
    if is_object:
        usage = doc.get("usage")
        if isinstance(usage, dict):
            used = usage.get("completion_tokens")
            if type(used) is not int:  # (as_int: a bool is not a count)
                used = None
    if high is not None and used is not None and used > high * n:  # CC402, exactly
        bad = {"CC402"}
    items = doc.get("choices") if is_object else None
    if isinstance(items, list):
        if items and len(items) != n:  # CC401, exactly
            bad = _add(bad, "CC401")
        # CC403: exactly, for one choice (several: the rule counts the choices that are objects)
        short = len(items) != 1 or (used is not None and low is not None and used < low)
        for c in items:
            if isinstance(c, dict):
                if short and low is not None and c.get("finish_reason") == "length":
                    bad = _add(bad, "CC403")
                msg = c.get("message")
                if isinstance(msg, dict) and msg.get("tool_calls"):  # CC407 reads the tool calls only
                    bad = _add(bad, "CC407")
    wanted = get("model")
    if isinstance(wanted, str) and is_object:
        got = doc.get("model")
        if isinstance(got, str) and got != wanted:  # CC411, coarser (it allows some prefixes)
            bad = _add(bad, "CC411")
    if bad is None:
        return _NOTHING
    bad &= covered
    return frozenset(bad) if bad else _NOTHING


_TOOL_CALL_RULES = frozenset({"CC205", "CC206", "CC207", "CC208", "CC215", "CC216"})
_NOTHING: frozenset[str] = frozenset()


def suspects(doc: dict[str, Any]) -> frozenset[str]:
    """The covered rules that may have a hit on ``doc`` (any document, conforming or not); the others have none.

    The C accelerator's ``suspects`` answers where it is sure, :func:`suspects_py` (the reference) elsewhere.
    """
    fast = _accel.suspects
    if fast is not None:
        found = None if _ALL_TABLE is None else fast(doc, _ALL_TABLE, _clock())
        if found is not None:
            return found
    return suspects_py(doc)


def suspects_py(doc: dict[str, Any]) -> frozenset[str]:
    """:func:`suspects` in Python.

    Coarse on purpose: a rule is a suspect as soon as a part of the document it reads is not in its plain,
    everyday shape (tokens that add up, indices ``0..n-1``, no tool calls, ``created`` in the past after 2001,
    a non-blank ``id`` and ``model``, ``object`` ``chat.completion``, no ``error`` key, no reasoning tokens, no
    ``think>`` in the text, text content and no reasoning field), so a change to a rule's
    verdict within those parts needs no change here. The violation route of the engine runs only the suspects.
    """
    out: set[str] | None = None
    get = doc.get
    usage = get("usage")
    if type(usage) is dict:
        p, c, t = usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens")
        if not (type(p) is int and type(c) is int and type(t) is int and p >= 0 and c >= 0 and t == p + c):
            out = {"CC201", "CC203"}
        for value in usage.values():
            kind = type(value)
            if (kind is int and value < 0) or (kind is dict and any(type(v) is int and v < 0 for v in value.values())):
                out = (out or set()) | {"CC202"}
                break
        details = usage.get("completion_tokens_details")
        if type(details) is dict and "reasoning_tokens" in details:
            out = (out or set()) | {"CC217"}
    created = get("created")
    if type(created) is int and not _CREATED_MIN <= created <= _clock():
        out = (out or set()) | {"CC209"}
    value = get("id")
    if type(value) is str and not value.strip():
        out = (out or set()) | {"CC210"}
    value = get("model")
    if type(value) is str and not value.strip():
        out = (out or set()) | {"CC211"}
    if get("object") != "chat.completion" or "error" in doc:
        out = (out or set()) | {"CC212", "CC503"}
    items = get("choices")
    if type(items) is list:
        if not items:
            out = (out or set()) | {"CC214"}
        pos = 0
        for choice in items:
            if type(choice) is dict:
                index = choice.get("index")
                if index != pos or type(index) is not int:
                    out = (out or set()) | {"CC204"}
                msg = choice.get("message")
                if type(msg) is not dict:
                    out = (out or set()) | {"CC213"}
                    calls = None
                else:
                    calls = msg.get("tool_calls")
                    content = msg.get("content")
                    if type(content) is str:
                        if "think>" in content:
                            out = (out or set()) | {"CC218", "CC219"}
                    elif content is not None:
                        out = (out or set()) | {"CC220"}
                        if not _no_think_markup(content):
                            out |= {"CC218", "CC219"}
                    if not _REASONING_KEYSET.isdisjoint(msg):
                        out = (out or set()) | {"CC220"}
                if calls or choice.get("finish_reason") == "tool_calls":
                    out = (out or set()) | _TOOL_CALL_RULES
            pos += 1
    elif items is not None:
        out = (out or set()) | {"CC214"}
    return _NOTHING if out is None else frozenset(out)


_ALL_TABLE = culprits_table(frozenset(COVERED))  # suspects' table: every covered rule's code
