"""The engine: ``check()`` returns a :class:`Report`; ``assert_conforms()`` raises once with every violation.

Data flow::

    any input --inputs.py--> body / parsed document (+ status, content type, request)
        --> parser findings (CC0xx) --> pydantic contracts (CC1xx) --> rule functions (CC2xx-CC5xx)
        --> Report(ok, violations in document order)

The pytest plugin, the fuzzer and the CLI all call this module; none of them re-implements a check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jiter

from . import _accel
from . import settings as _settings_module
from ._exceptions import ContractViolation
from .inputs import (
    MISSING,
    Received,
    coerce,
    parse_json,
    parse_plain_but_duplicates,
    parse_request,
    parsed_findings,
    without_echoes,
)
from .outcome import (
    MAX_PER_RULE,
    Collector,
    Report,
    empty_report,
    failure,
    make_report,
    sort_in_doc_order,
    violation_of,
)
from .rules import Hit, Rule, RuleContext, Target
from .rules._fast import culprits, culprits_py, request_culprits, suspects
from .rules._located import (
    TooMany,
    float_error,
    float_paths,
    locate_errors,
    placed_errors,
    prefixes_of,
    scan_numbers,
)
from .rules._registry import make_context
from .rules.errors import is_error_envelope
from .rules.schema import float_hit, mapped_hits, null_hits, object_hits, schema_hits
from .settings import Settings, _FastPlan, _settings_for, forget_project_config, resolve_settings
from .sse import looks_like_sse
from .violations import Loc

__all__ = ["Report", "Settings", "acheck", "assert_conforms", "check", "forget_project_config", "resolve_settings"]

_clock = time.time
from_json = jiter.from_json


def _check_json_document(
    received: Received, settings: Settings, collector: Collector, ctx: RuleContext, kind: str
) -> Any:
    doc = received.doc
    if doc is MISSING and received.body is not None:
        doc, findings = parse_json(received.body)
        collector.extend(without_echoes(findings, ctx.request))
    elif doc is not MISSING:  # parsed by the caller: the parser's number, depth and surrogate checks still apply
        doc, findings = parsed_findings(doc)
        collector.extend(without_echoes(findings, ctx.request))
    if doc is MISSING:
        return doc
    if kind == "error":
        from .rules.errors import error_body_hits

        for code, h in error_body_hits(doc, ctx):
            collector.add(code, h)
        collector.run(settings.rules.get(Target.ERROR, ()), doc, ctx)
    elif is_error_envelope(doc):  # an error in a 2xx: CC503, not every field of a completion it lacks
        collector.run([r for r in settings.rules.get(Target.RESPONSE, ()) if r.code == "CC503"], doc, ctx)
    else:
        if not isinstance(doc, dict):
            collector.add("CC008", Hit((), f"Expected a JSON object at the top level; received {_type(doc)}.", doc))
        else:
            for code, h in schema_hits(settings.contracts.response, doc, what="response", full=collector.full):
                collector.add(code, h)
        collector.run(settings.rules.get(Target.RESPONSE, ()), doc, ctx)
    collector.run(settings.rules.get(Target.ANY, ()), doc, ctx)
    return doc


def _type(doc: Any) -> str:
    from .inputs import json_type

    return json_type(doc)


def _is_stream(received: Received, stream: bool | None) -> bool:
    if stream is not None:
        return stream
    if received.content_type is not None:
        return received.is_event_stream
    if received.chunks is not None:
        return True
    doc = received.doc
    if isinstance(doc, list) and doc and all(isinstance(c, dict) for c in doc):
        first = doc[0].get("choices")
        return doc[0].get("object") == "chat.completion.chunk" or (
            isinstance(first, list) and bool(first) and isinstance(first[0], dict) and "delta" in first[0]
        )
    body = received.body
    if body is not None:
        head = body[:1]
        if head == b"{" or head == b"[":  # the common case: a JSON document, not SSE
            return False
        return looks_like_sse(body[:256])
    return False


def check(
    payload: Any,
    *,
    dialect: str | None = None,
    status: int | None = None,
    stream: bool | None = None,
    request: Any = None,
    provider: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    extensions: Iterable[str] | None = None,
) -> Report:
    """Check a chat-completion response, stream or error body against the dialect's contract.

    Args:
        payload: bytes or str (a JSON body or SSE text), a parsed dict or list, an ``httpx.Response``, a
            ``requests.Response`` (status, content type and request are read from it), or an SDK object with
            ``model_dump()``.
        dialect: ``"mistral"`` (the default) or ``"openai"``; ``[tool.chatcontract] dialect`` when omitted.
        status: The HTTP status. ``>= 400`` checks the body against the dialect's error contracts.
        stream: ``None`` detects SSE (content type or leading SSE fields); True or False forces it.
        request: The request body (dict or JSON) when known; enables the request-aware rules (CC4xx).
        provider: A provider name that selects ``per-provider-ignores`` from the configuration.
        select: Rule codes, prefixes (``"CC2"``), names or ``"ALL"`` to enable (replaces the configured ones).
        ignore: Rule codes, prefixes or names to disable.
        extensions: Opt-in contract extensions, e.g. ``["reasoning"]`` (the reasoning fields of
            OpenAI-compatible servers); replaces ``[tool.chatcontract] extensions``.

    Returns:
        A :class:`Report`; ``report.ok`` is False when any violation has severity error.

    Example:
        >>> report = check(b'{"id": "x"}', dialect="openai")
        >>> report.ok
        False
    """
    # _settings_for(), its most common case inlined: this function is measured in calls.
    state = _settings_module._config_state
    cached = _settings_module._default_settings.get(dialect if provider is None else (dialect, provider))
    if (
        cached is not None
        and select is None
        and ignore is None
        and extensions is None
        and state is not None
        and cached[0] is state[1]
        and _settings_module._monotonic() - state[0] <= 1.0
    ):
        settings = cached[1]
    else:
        settings = _settings_for(dialect, select, ignore, provider, extensions)
    if stream is not True and (status is None or (type(status) is int and status < 400)):
        kind = type(payload)
        if kind is bytes or kind is str:
            try:
                report = _fast_check(payload, settings, status, request, True)  # (locate: positional, cheaper)
            except Exception:  # whatever went wrong, the full path below reports it (or raises it) properly
                report = None
            if report is not None:
                return report
    return _full_check(payload, settings, status=status, stream=stream, request=request)


def _fast_check(
    payload: bytes | str, settings: Settings, status: int | None, request: Any, locate: bool = False
) -> Report | None:
    """The conforming-response fast path: the empty report when the full path would find nothing, else None.

    With ``locate``, a JSON object that is not found conforming goes on to :func:`_located_check` (the violation
    route) instead of None.

    Every step only *confirms* that a stage of the full path finds nothing, and gives up (None) at the first doubt:
    the strict parse (duplicate keys and NaN refused, floats found by the C accelerator's walk or kept as
    ``jiter.LosslessFloat``, nothing diagnosed) and the stricter contract schema
    (:func:`~chatcontract.rules.json_schema.fast_schema`, jsonschema-rs) for the parser's and the contract's
    findings, :func:`~chatcontract.rules._fast.culprits` for the built-in consistency rules, and the remaining
    enabled rules run as usual, where any hit gives up. So its answer is the
    full path's (tests/test_fastpath.py).
    """
    plan = settings.fast
    if plan is None:
        return None
    body = payload if type(payload) is bytes else payload.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
    if body[:1] != b"{":  # SSE text, a BOM, a JSON value that is not an object, garbage: the full path
        return None
    valid = plan.valid
    if valid is None:
        valid = plan.prepare(settings)
        if valid is None:
            return None
    # With the C accelerator, a body proven free of duplicate keys, floats, NaN and integers over 18 digits (most
    # responses) is parsed in jiter's default mode, which then gives what the strict mode would, and checked by
    # the schema without the float and 64-bit checks (rules.json_schema.relax_for_plain). A body plain but for
    # floats is parsed the same way (the strict parse would give the same document). When the proof fails, the
    # strict parse; then the accelerator's walk of its numbers: none beyond 64 bits and no float, and the
    # document is as plain; else the violation route takes it with its floats' places (a float may sit where the
    # contract wants an integer). Without the accelerator, the strict parse keeps floats as LosslessFloat and the
    # fast schema proves the document float-free and its integers 64-bit.
    plain = _accel.plain
    is_plain = plain is not None and plain(body, True)
    if is_plain is not True and (is_plain is None or type(is_plain) is list):
        # a repeated key, which the strict parse refuses (listed when the scan could go on): CC004's route,
        # without that parse
        return _repeated_check(body, settings, plan, status, request, is_plain) if locate else None
    try:
        if is_plain is True:
            doc = from_json(body)  # (no NaN/Infinity to refuse)
            valid = plan.valid_plain
        elif _accel.numbers is not None:
            # plain but for floats: the default parse gives the strict parse's document, at half its cost
            if is_plain == _accel.BUT_FLOATS:
                doc = from_json(body)
            else:
                doc = from_json(body, allow_inf_nan=False, catch_duplicate_keys=True)
            numbers = _accel.numbers(doc) if type(doc) is dict else None
            if numbers is None or numbers[0] or numbers[1]:
                if not locate or type(doc) is not dict:
                    return None
                if numbers is not None and not numbers[1]:
                    report = _floats_check(body, doc, settings, plan, status, request, numbers[0])
                    if report is not None:
                        return report
                return _located_check(body, doc, settings, status, request, numbers is None, numbers=numbers)
            is_plain = True
            valid = plan.valid_plain
        else:
            doc = from_json(body, allow_inf_nan=False, catch_duplicate_keys=True, float_mode="lossless-float")
    except ValueError:
        doc = None  # a duplicate key, NaN, not JSON...: the parser's findings, on the violation route
    if type(doc) is not dict:
        return _located_check(body, None, settings, status, request, False) if locate and doc is None else None
    contract_ok: bool | None = None  # unknown
    bad = None
    nulls = None
    table = plan.table
    now = 0.0
    try:
        contract_ok = bool(valid(doc))  # (a LosslessFloat, a float, makes jsonschema-rs raise: unknown)
        if contract_ok:
            fused = _accel.culprits  # (rules._fast.culprits, inlined: this function is measured in calls)
            bad = None if fused is None or table is None else fused(doc, table, now := _clock())
            if bad is None:
                bad = culprits_py(doc, plan.covered)  # raises on a shape the contract should have ruled out
        elif locate and valid is plan.valid_plain and plan.nulls is not None:
            # Refused. Nulls where the contract wants optional fields omitted (a warning) are the usual reason: when
            # there are some and the loose schema, which takes them, accepts the document, they are the contract's
            # only errors, and the fused pass reads the document as one the contract accepts.
            where = _accel.null_places  # (NullPlaces.find's C walk, inlined: most refused bodies have no such null)
            nulls = None if where is None else where(doc, plan.nulls.table)
            if nulls is None:  # (unsure, or no accelerator: the Python walk)
                nulls = plan.nulls.walk(doc)
            if nulls and plan.nulls.valid(doc):
                fused = _accel.culprits
                bad = None if fused is None or table is None else fused(doc, table, now := _clock())
    except Exception:  # the violation route looks closer
        bad = None
    if nulls and bad is not None:
        report = _nulls_check(doc, settings, plan, status, request, bad, nulls)
        if report is not None:
            return report
        return _located_check(body, doc, settings, status, request, False, contract_ok=False)
    if bad is None or bad:
        if not locate:
            return None
        if bad:  # the contract holds (and, float-free, the document is what the full path parses): the rules only
            req = None if request is None else parse_request(request)  # raises UsageError like the full path would
            named = None if req is None else _asked(doc, req, plan)  # (once: the route takes it too)
            find = _accel.findings
            if (
                find is not None
                and table is not None
                and now
                and not plan.rest
                and (req is None or named is None or not plan.asked(named, req))
            ):
                # The covered rules named (now: the clock the fused pass read) and no other rule to run (no request
                # rule either): the route would run those rules alone. When they are rules the accelerator builds
                # the hits of (a count, created, a blank id or model, a tool call's finish reason or id), the report
                # is those hits' violations, in document order.
                made = find(doc, table, now, bad)
                if made is not None and len(made) <= MAX_PER_RULE:
                    if not made:
                        return plan.empty if status is None else empty_report(settings.dialect, "response", status)
                    kept = (made, status)
                    found = plan.built.get(kept)
                    return _built_report(plan, kept, made, status, settings.dialect) if found is None else found
            return _run_route(None, doc, settings, plan, status, req, bad, asked=named)
        return _located_check(body, doc, settings, status, request, not is_plain, contract_ok=contract_ok)
    req = None
    if request is None:
        rules = plan.rest
    else:
        # raises UsageError like the full path would (a dict, the usual request, is its own answer: no call)
        req = request if type(request) is dict else parse_request(request)
        if req is None:
            rules = plan.rest
        else:
            # (rules._fast.request_culprits, inlined as culprits is, with CC401's hit and plan.asked's first test)
            asked = _accel.request_pass
            rtable = plan.request_table
            answer = None if asked is None or rtable is None else asked(doc, req, rtable, plan.keyed)
            if answer is None:
                rules = plan.asked(_asked(doc, req, plan), req)
            else:  # (plan.asked's usual case, inlined: a request without the keys of a rule the pass does not cover)
                named, one, unkeyed = answer
                memo = plan.unkeyed_routes.get(named) if unkeyed else None
                rules = plan.asked(named, req) if memo is None else memo
                if locate and one is not None and len(rules) == 1:
                    # CC401 named alone (the number of choices), its hit built by the pass, and nothing else to
                    # run: the report is that hit's violation, kept by the two numbers (its place and message
                    # follow from them)
                    code = rules[0].code
                    key = (code, one[2], one[3], status)
                    found = plan.built.get(key)
                    if found is not None:
                        return found
                    return _built_report(plan, key, ((code, *one),), status, settings.dialect)
    if rules:
        ctx = make_context(settings.dialect, settings.contracts, req, status, None)
        for i, r in enumerate(rules):
            hits = r.check(doc, ctx)  # type: ignore[misc]
            for first in hits:
                if not locate:
                    return None
                # The violation route would run these same rules (no covered rule is a suspect) and find nothing
                # before this one: it takes over from this hit instead.
                return _rules_report(rules[i:], doc, settings, ctx, status, found=[(r.code, first)], rest=hits)
    if status is None:
        return plan.empty
    return empty_report(settings.dialect, "response", status)


def _nulls_check(
    doc: dict[str, Any],
    settings: Settings,
    plan: _FastPlan,
    status: int | None,
    request: Any,
    suspect: frozenset[str],
    nulls: list[tuple[Loc, dict[str, Any], Any]],
) -> Report | None:
    """The violation route of a plain document that the contract refuses for ``nulls`` alone.

    ``nulls``: where optional fields should be omitted (``rules._fast.NullPlaces``); ``suspect``: the covered rules
    the fused pass named. The nulls' findings are the full path's (CC109, cached per field), and of the covered
    rules only the suspects run. The usual case, one null and no rule to run, gets its report from ``plan.built``
    (by the null's place and field, and the status). None (the full path then) past ``MAX_PER_RULE`` nulls, where
    the order of the findings decides which are listed.
    """
    if len(nulls) > MAX_PER_RULE:
        return None
    req = None if request is None else parse_request(request)  # raises UsageError like the full path would
    named = None if req is None else _asked(doc, req, plan)
    key = None
    quiet = req is None or named is None or not plan.asked(named, req)  # (no request rule to run)
    if len(nulls) == 1 and not suspect and not plan.rest and quiet:
        key = (nulls[0][0], nulls[0][2], status)  # (no rule to run: the report is the null's findings')
        report = plan.built.get(key)
        if report is not None:
            return report
    found = list(null_hits(settings.contracts.response, doc, nulls))
    collector: Collector | None = None
    if len(found) > 1:
        collector = Collector(settings)
        collector.extend(found)
    found_ = None if collector is not None else found
    report = _run_route(collector, doc, settings, plan, status, req, suspect, found=found_, asked=named)
    return report if key is None else _keep(plan, key, report)


def _floats_check(
    body: bytes,
    doc: dict[str, Any],
    settings: Settings,
    plan: _FastPlan,
    status: int | None,
    request: Any,
    places: frozenset[Loc],
) -> Report | None:
    """The violation route of a document plain but for floats where the contract wants none; or None.

    ``places``: where the C accelerator's walk found floats (and the places above them). Each float must sit at a
    field that refuses every float with one and the same error (a strict ``int``: ``created``, the token counts, a
    choice's ``index``; ``rules._located.float_error``), and the document with those floats replaced by integers
    must be one the contract's fast schema accepts: then those errors are the contract's only ones, and their
    findings (CC102) are the full path's. No descent, no validation by pydantic. The rules run as on the
    violation route (the covered ones that the coarse pass names as suspects). None, and the violation route
    decides, for anything else: a float where the contract takes one, a value the integer placed there breaks
    (a bound), another error, more than ``MAX_PER_RULE`` floats, a long list.
    """
    if _full_path_only(body, doc):
        return None
    adapter = settings.contracts.response
    errors: list[tuple[dict[str, Any], float]] = []
    for loc in places:
        node: Any = doc
        for seg in loc:
            node = node[seg]
        if type(node) is float:
            err = float_error(adapter, loc)
            if err is None or len(errors) >= MAX_PER_RULE:
                return None
            errors.append((err, node))
    if not errors or not plan.valid_plain(_with_ints(doc, errors)):
        return None
    req = None if request is None else parse_request(request)  # raises UsageError like the full path would
    found = [float_hit(adapter, doc, err, value) for err, value in errors]
    collector: Collector | None = None
    if len(found) > 1:
        collector = Collector(settings)
        collector.extend(found)
    return _run_route(collector, doc, settings, plan, status, req, suspects(doc), found=None if collector else found)


def _with_ints(doc: dict[str, Any], errors: list[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """``doc`` with an integer in place of each float of ``errors`` (the float's integer part within 64 bits, else 0).

    The objects and lists on the way are copies; the rest is shared.
    """
    out = dict(doc)
    copies: dict[Loc, Any] | None = None
    for err, value in errors:
        loc = err["loc"]
        node: Any = out
        if len(loc) > 1:
            if copies is None:
                copies = {}
            for n in range(1, len(loc)):
                here = loc[:n]
                inner = copies.get(here)
                if inner is None:
                    inner = node[loc[n - 1]]
                    inner = copies[here] = dict(inner) if type(inner) is dict else list(inner)
                    node[loc[n - 1]] = inner
                node = inner
        node[loc[-1]] = int(value) if -9.2e18 < value < 9.2e18 else 0
    return out


def _repeated_check(
    body: bytes,
    settings: Settings,
    plan: _FastPlan,
    status: int | None,
    request: Any,
    listed: list[tuple[Loc, str]] | None = None,
) -> Report | None:
    """The violation route of a body whose scan met a repeated key, with a shortcut for its usual case.

    The usual case: one key repeated once (one CC004 finding) in a body otherwise plain and conforming, that no
    rule finds anything in. Its parse is the C accelerator's (:func:`~chatcontract.inputs.parse_plain_but_duplicates`);
    the contract's fast schema accepts the document, the fused pass names no covered rule, and no other rule is
    to run (none of the plan's ``rest``, no request rule): the report is that finding's violation, as the route's
    would be. Anything else takes the route, with the parse. ``listed``: the repeated keys, when the plain proof
    listed them (``_speedups.duplicates``' answer).
    """
    parsed = parse_plain_but_duplicates(body, listed)
    if parsed is not None and len(parsed[1]) == 1 and not plan.rest:
        doc, findings = parsed
        code, h = findings[0]
        fused = _accel.culprits
        table = plan.table
        if code in settings.enabled and fused is not None and table is not None and plan.valid_plain(doc):
            bad = fused(doc, table, _clock())
            if bad is not None and not bad:
                req = None if request is None else parse_request(request)  # raises UsageError as the full path
                if req is None or not plan.asked(_asked(doc, req, plan), req):
                    # kept per hit (a provider repeats the same key with the same value) when its value hashes:
                    # by its place and value (the message is the key's, the place's last step), and the value's
                    # type too, since true == 1 (and a plain body holds no float)
                    kind = type(h[2])
                    key = (code, h[0], h[2], kind, status) if kind in _HASHED else None
                    report = None if key is None else plan.built.get(key)
                    if report is not None:
                        return report
                    return _built_report(plan, key, ((code, h[0], h[1], h[2], h[3]),), status, settings.dialect)
    return _located_check(body, None, settings, status, request, False, parsed=parsed, repeated=True)


_HASHED = frozenset({str, int, bool, type(None)})  # (JSON values that hash; a list or an object does not)


def _built_report(
    plan: _FastPlan, key: tuple[Any, ...] | None, hits: tuple[tuple[Any, ...], ...], status: int | None, dialect: str
) -> Report:
    """The report of built findings, kept in ``plan.built`` under ``key`` (None: not kept).

    ``hits``: each finding's code, location, message, actual and expected values, in document order (distinct
    places, none of a rule another supersedes, at most ``MAX_PER_RULE``: what a collector would list as they come).
    A report is immutable and a function of the hits, the status and the dialect alone, so the same hits (a
    provider's habit repeats) are answered with the same report. The C accelerator's builders give exact ints, strs
    and None only, whose equality is their identity as values (no ``1 == 1.0 == True``); other keys hold the
    value's type.
    """
    if len(hits) == 1:  # (the usual: one finding, without a generator)
        code, loc, message, actual, expected = hits[0]
        violations: tuple[Any, ...] = (violation_of(code, loc, message, actual, expected, None),)
    else:
        violations = tuple(violation_of(c, loc, m, a, e, None) for c, loc, m, a, e in hits)
    report = make_report(violations, dialect, "response", status, None)
    return report if key is None else _keep(plan, key, report)


def _keep(plan: _FastPlan, key: tuple[Any, ...], report: Report) -> Report:
    """``report``, kept in ``plan.built`` under ``key`` (at most 256 reports: the memo starts over when full)."""
    built = plan.built
    if len(built) >= 256:
        built.clear()
    built[key] = report
    return report


#: The violation route locates at most this many failing places; more go to the full path (batches, caps).
_LOCATE_AT_MOST = 200


def _full_path_only(body: bytes, doc: dict[str, Any]) -> bool:
    """Whether a refused document is the full path's alone.

    An error in a 2xx (reported as such, CC503), or a document holding a list of more than :data:`_LOCATE_AT_MOST`
    items (validated in batches, its findings capped).
    """
    if "choices" not in doc and is_error_envelope(doc):
        return True
    return body.count(b",") >= _LOCATE_AT_MOST and _has_long_list(doc)


def _has_long_list(doc: Any) -> bool:
    """Whether ``doc`` holds a list of more than :data:`_LOCATE_AT_MOST` items.

    Such a document goes to the full path, which validates long lists in batches and lists at most
    ``MAX_PER_RULE`` violations of a rule.
    """
    stack = [doc]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            stack.extend(v for v in node.values() if type(v) is dict or type(v) is list)
        elif type(node) is list:
            if len(node) > _LOCATE_AT_MOST:
                return True
            stack.extend(v for v in node if type(v) is dict or type(v) is list)
    return False


def _located_check(
    body: bytes,
    doc: dict[str, Any] | None,
    settings: Settings,
    status: int | None,
    request: Any,
    strict: bool,
    *,
    contract_ok: bool | None = None,
    suspect: frozenset[str] | None = None,
    numbers: tuple[frozenset[Loc], bool] | None = None,
    parsed: tuple[dict[str, Any], list[Any]] | None = None,
    repeated: bool = False,
) -> Report | None:
    """The violation route: the full path's report on a JSON object body, at a fraction of its cost; or None.

    It does what :func:`_full_check` does, minus the work whose outcome is known. Parser findings: ``doc`` (the
    fast path's parse, default mode for a body the C accelerator proved plain, else the strict mode) has none; a
    body the fast path could not parse strictly (``doc`` None: a duplicate key, NaN, not JSON) is parsed as the
    full path parses it (:func:`~chatcontract.inputs.parse_json`), and a strict parse holding floats is parsed
    again without ``lossless-float`` (the rules see what the full path's rules see). The contract: the
    contract's fast schema (jsonschema-rs) accepts the document (unless the fast path already asked it) and there
    is nothing to report; or the document is refused only for nulls where an optional field should be omitted and
    models' own errors (a required key missing, an unknown key), which a walk of the contract's models finds
    (:func:`~chatcontract.rules._located.placed_errors`; a null's hits are kept per field); or
    :func:`~chatcontract.rules._located.locate_errors` descends to the failing values and pydantic validates only
    those; the errors are mapped as the full path maps them. Of the covered built-in rules only those
    :func:`~chatcontract.rules._fast.culprits` names run (on a document the contract refused, the coarser
    :func:`~chatcontract.rules._fast.suspects`); every other rule runs as usual. None (the full path then)
    for a body that is not a JSON object, a document with a list longer than :data:`_LOCATE_AT_MOST`, more
    failing places than ``MAX_PER_RULE`` in more than one object (past a code's cap, which findings are listed
    follows pydantic's order), or without jsonschema-rs.

    ``repeated``: the caller asked :func:`~chatcontract.inputs.parse_plain_but_duplicates` already (``doc`` None,
    not ``strict``), and ``parsed`` is its answer.

    ``numbers``: ``doc`` is the strict parse with floats as floats (not ``strict``), and the C accelerator's walk
    found the places of its floats (and every place above one) and whether a number is beyond 64 bits or not
    finite (``_speedups.numbers``). ``contract_ok``: the contract's fast schema accepted ``doc`` (True), refused
    it (False), or was not asked (None).
    """
    plan = settings.fast
    if plan is None or plan.valid is None:
        return None
    locator = plan.locator
    if locator is None:
        return None
    findings: list[Any] = []
    floats: frozenset[Any] = frozenset()
    plain = doc is not None and not strict
    if numbers is not None:
        places, odd = numbers
        if odd:  # the parser has a finding: parsed again below, as the full path does
            doc, plain, contract_ok = None, False, False
        elif places:  # plain but for its floats, whose places the locator counts as failing
            floats = places
        else:
            contract_ok = locator.valid_plain(doc)
    elif doc is not None and strict and not contract_ok:
        doc = None  # it may hold LosslessFloats where the rules expect floats: parsed again below
    if doc is None:
        odd = True
        paths: Any = ()
        if strict:
            doc = from_json(body, allow_inf_nan=False)  # what parse_json's strict parse gives: no duplicate key
            paths, odd = scan_numbers(doc)
        else:
            if not repeated:
                parsed = parse_plain_but_duplicates(body)  # the C accelerator's answer for the usual CC004 body
            if parsed is not None:
                (doc, findings), odd, plain = parsed, False, True
        if odd:
            doc, findings = parse_json(body)
            if type(doc) is not dict:
                return None  # not JSON, or not an object: the full path's diagnosis
            paths = float_paths(doc)
        if type(doc) is not dict:
            return None
        if paths:
            floats = prefixes_of(paths)
        else:
            contract_ok = locator.valid_plain(doc) if plain else locator.valid(doc)
    elif contract_ok is None and not floats:
        contract_ok = locator.valid_plain(doc) if plain else False
    adapter = settings.contracts.response
    objects: list[Any] = []
    errors: list[Any] = []
    nulls: list[tuple[Loc, dict[str, Any], Any]] | None = None
    if not contract_ok:
        if _full_path_only(body, doc):
            return None
        placed = None
        if plain and not floats:
            placed = placed_errors(adapter, doc, locator.valid_plain, at_most=_LOCATE_AT_MOST)
        if placed is not None:
            nulls, objects = placed
        else:
            try:
                located = locate_errors(adapter, doc, plain=plain, floats=floats, at_most=_LOCATE_AT_MOST)
            except TooMany:
                return None
            if located is None:
                return None
            objects, errors = located
        if len(objects) + len(errors) + (len(nulls) if nulls else 0) > MAX_PER_RULE and _across_objects(
            objects, errors, nulls
        ):
            # A code may then have more findings than a report lists, and which are listed follows pydantic's order
            # of its errors, which the walks keep within one object only: the full path's
            return None
    req = None if request is None else parse_request(request)  # raises UsageError like the full path would
    # The findings at the failing places. Several places go to a collector, which tells the producers when a rule
    # has its fill (they then skip the message); one place, the usual, gives its findings as a list (at most
    # _LOCATE_AT_MOST: past that the route gave up above), and the route needs no collector for a lone finding.
    collector: Collector | None = None
    found: list[tuple[str, Hit]] | None = None
    if len(findings) + len(objects) + len(errors) + (len(nulls) if nulls else 0) > 1:
        collector = Collector(settings)
        collector.extend(_place_hits(adapter, doc, req, findings, objects, errors, nulls, full=collector.full))
    elif findings or objects or errors or nulls:
        found = list(_place_hits(adapter, doc, req, findings, objects, errors, nulls, full=None))
    if suspect is None and contract_ok:  # the fused pass names the covered rules that may have a hit
        try:
            suspect = culprits(doc, plan.covered, plan.table)
        except Exception:  # a shape the contract should have ruled out: the coarse answer below
            suspect = None
    suspect = suspects(doc) if suspect is None else suspect
    return _run_route(collector, doc, settings, plan, status, req, suspect, found=found)


def _across_objects(
    objects: list[Any], errors: list[Any], nulls: list[tuple[Loc, dict[str, Any], Any]] | None
) -> bool:
    """Whether the failing places lie in more than one object (the errors' and the nulls' parents)."""
    parents = {tuple(err["loc"][:-1]) for err in (*objects, *errors)}
    parents.update(loc[:-1] for loc, _, _ in nulls or ())
    return len(parents) > 1


def _place_hits(
    adapter: Any,
    doc: dict[str, Any],
    req: Mapping[str, Any] | None,
    findings: list[Any],
    objects: list[Any],
    errors: list[Any],
    nulls: list[tuple[Loc, dict[str, Any], Any]] | None,
    *,
    full: Callable[[str], bool] | None,
) -> Iterator[tuple[str, Hit]]:
    """The parser's and the contract's findings at the failing places, in the full path's order."""
    if findings:
        yield from without_echoes(findings, req)
    if objects:
        yield from object_hits(objects, full=full)
    if errors:
        yield from mapped_hits(adapter, doc, errors, full=full)
    if nulls:
        yield from null_hits(adapter, doc, nulls)


def _asked(doc: Any, req: Mapping[str, Any], plan: _FastPlan) -> frozenset[str]:
    """:func:`~chatcontract.rules._fast.request_culprits`, or every covered rule should it fail."""
    try:
        return request_culprits(doc, req, plan.request_covered, plan.request_table)
    except Exception:  # a request the rules read in a way the fused pass did not foresee: they all run
        return plan.request_covered


def _run_route(
    collector: Collector | None,
    doc: dict[str, Any],
    settings: Settings,
    plan: _FastPlan,
    status: int | None,
    req: Mapping[str, Any] | None,
    suspect: frozenset[str],
    *,
    found: list[tuple[str, Hit]] | None = None,
    asked: frozenset[str] | None = None,
) -> Report:
    """Run the violation route's rules (every rule but the covered ones not in ``suspect``) and build the report.

    The findings so far (the parser's, the contract's): in ``collector``, or else in ``found`` (few, or none).
    ``asked``: :func:`_asked`'s answer for ``req``, when the caller has it.
    """
    if req is None and status is None and plan.context is not None:
        ctx = plan.context
    else:
        ctx = make_context(settings.dialect, settings.contracts, req, status, None)
    if req is not None and plan.request_covered:
        suspect = suspect | (_asked(doc, req, plan) if asked is None else asked)
    key = (suspect, req is not None)
    rules = plan.routes.get(key)
    if rules is None:
        rules = plan.routes[key] = _route_rules(settings, plan, *key)
    if collector is None:
        return _rules_report(rules, doc, settings, ctx, status, found=found)
    collector.run(rules, doc, ctx)
    return _finish(collector, doc, settings, status)


def _rules_report(
    rules: tuple[Rule, ...],
    doc: dict[str, Any],
    settings: Settings,
    ctx: RuleContext,
    status: int | None,
    *,
    found: list[tuple[str, Hit]] | None = None,
    rest: Iterator[Hit] | None = None,
) -> Report:
    """What a collector given ``found``, then running ``rules`` on ``doc``, and :func:`_finish` give.

    ``rest``: the first rule was begun by the caller, whose hits so far are in ``found``; these are the others.

    Most bodies on the violation route have one finding (a provider's one habit): it becomes the report's one
    violation directly. A collector, whose bookkeeping (duplicates, superseded codes, the cap per rule) only
    matters from a second finding on, takes over at the second.
    """
    held: tuple[str, Hit] | None = None
    collector: Collector | None = None
    if found:
        if len(found) == 1:
            held = found[0]
        else:
            collector = Collector(settings)
            collector.extend(found)
    request = ctx.request
    hits: Iterator[Hit]
    for r in rules:
        code = r.code
        try:
            if rest is not None:  # (the first rule, begun by the caller)
                hits, rest = rest, None
            elif request is None and r.requires_request:  # (Collector.run's guards)
                continue
            elif request is not None and r.request_keys and r.request_keys.isdisjoint(request):
                continue
            else:
                hits = r.check(doc, ctx)  # type: ignore[misc]
            for h in hits:
                if collector is None:
                    if held is None:
                        held = (code, h)
                        continue
                    collector = Collector(settings)
                    collector.add(*held)
                collector.add(code, h)
        except Exception as exc:  # (as Collector.run: a rule bug must not lose the other findings)
            if collector is None:
                if held is None:
                    held = failure(r, exc)
                    continue
                collector = Collector(settings)
                collector.add(*held)
            collector.add(*failure(r, exc))
    if collector is not None:
        return _finish(collector, doc, settings, status)
    if held is not None:
        code, h = held
        if code in settings.enabled:
            v = violation_of(code, h[0], h[1], h[2], h[3], h[4])
            return make_report((v,), settings.dialect, "response", status, None)
    return empty_report(settings.dialect, "response", status)


def _finish(collector: Collector, doc: Any, settings: Settings, status: int | None) -> Report:
    """The violation route's report from its collector: the findings in document order, as the full path's."""
    violations = collector.items
    if not violations:
        return empty_report(settings.dialect, "response", status)
    sort_in_doc_order(violations, doc)
    more = collector._more
    if more:
        violations.extend(collector.summaries())  # rules past the cap, as the full path reports them
    return make_report(tuple(violations), settings.dialect, "response", status, collector.total() if more else None)


def _route_rules(settings: Settings, plan: _FastPlan, suspect: frozenset[str], with_request: bool) -> tuple[Rule, ...]:
    """The rules the violation route runs, in the full path's order.

    Every response rule but the non-suspects among the covered ones (the fused passes' for the response and for
    the request), then the rules of any document.
    """
    if len(plan.routes) >= 256:
        plan.routes.clear()
    skip = plan.covered | plan.request_covered
    return tuple(
        r
        for r in (*settings.rules.get(Target.RESPONSE, ()), *settings.rules.get(Target.ANY, ()))
        if (r.target is not Target.RESPONSE or r.code not in skip or r.code in suspect)
        and (with_request or not r.requires_request)
    )


def _full_check(payload: Any, settings: Settings, *, status: int | None, stream: bool | None, request: Any) -> Report:
    received = coerce(payload, status=status, request=request)
    collector = Collector(settings)
    ctx = RuleContext(
        dialect=settings.dialect, contracts=settings.contracts, request=received.request, status=received.status
    )
    if _is_stream(received, stream):
        from .streams import check_stream_into

        kind = "stream"
        check_stream_into(received, settings, collector, ctx)  # sorts by event, whole-stream findings last
        violations = collector.items
    else:
        kind = "error" if received.status is not None and received.status >= 400 else "response"
        if received.chunks is not None:
            received.body = b"".join(received.chunks)
            received.chunks = None
        if received.content_type is not None and received.body:
            _check_content_type(received, collector)
        doc = _check_json_document(received, settings, collector, ctx, kind)
        violations = collector.items
        sort_in_doc_order(violations, doc)
        violations.extend(collector.summaries())  # rules past the cap: one summary each, after the listed ones
    if not violations:
        return empty_report(settings.dialect, kind, received.status)
    return Report(
        violations=tuple(violations),
        dialect=settings.dialect,
        kind=kind,
        status=received.status,
        total=collector.total(),
    )


def _check_content_type(received: Received, collector: Collector) -> None:
    ctype = (received.content_type or "").split(";")[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        return
    collector.add(
        "CC007",
        Hit((), f"Content-Type is {received.content_type!r}; expected application/json.", received.content_type),
    )


def assert_conforms(
    payload: Any,
    *,
    dialect: str | None = None,
    status: int | None = None,
    stream: bool | None = None,
    request: Any = None,
    provider: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    extensions: Iterable[str] | None = None,
) -> Report:
    """Like :func:`check`, but raise :class:`ContractViolation` (an ``AssertionError``) carrying every violation.

    Warnings do not raise. Returns the report when the payload conforms, so warnings stay inspectable.
    """
    report = check(
        payload,
        dialect=dialect,
        status=status,
        stream=stream,
        request=request,
        provider=provider,
        select=select,
        ignore=ignore,
        extensions=extensions,
    )
    if not report.ok:
        raise ContractViolation(report.violations, title=report.title, total=report.total)
    return report


async def acheck(
    payload: Any,
    *,
    dialect: str | None = None,
    status: int | None = None,
    stream: bool | None = None,
    request: Any = None,
    provider: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    extensions: Iterable[str] | None = None,
) -> Report:
    """Async twin of :func:`check`: also takes an unread async httpx response and reads its stream incrementally."""
    from .inputs import is_unread_async_response

    kwargs: dict[str, Any] = {
        "dialect": dialect,
        "provider": provider,
        "select": select,
        "ignore": ignore,
        "extensions": extensions,
    }
    if is_unread_async_response(payload):
        is_sse = "text/event-stream" in payload.headers.get("content-type", "").lower()
        if stream is True or (stream is None and is_sse):
            from .inputs import parse_request
            from .streams import StreamChecker

            body = None
            try:
                body = payload.request.content
            except Exception:  # no request attached, or a streamed upload
                body = None
            checker = StreamChecker(
                request=request if request is not None else parse_request(body) if body else None,
                status=status if status is not None else payload.status_code,
                **kwargs,
            )
            async for part in payload.aiter_bytes():
                checker.feed(part)
            report: Report = checker.close()
            return report
        await payload.aread()
    return check(payload, status=status, stream=stream, request=request, **kwargs)
