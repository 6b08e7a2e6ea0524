"""The rule registry: codes, names, severities, dialects, docs, and selection by code or prefix."""

from __future__ import annotations

import difflib
import enum
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _accel
from .._exceptions import ConfigError, UsageError
from ..violations import Hit, Severity, hit

if TYPE_CHECKING:
    from ..contracts import DialectContracts

__all__ = [
    "REDIRECTS",
    "RULES",
    "Hit",
    "Rule",
    "RuleContext",
    "Status",
    "Target",
    "declare",
    "get_rule",
    "hit",
    "resolve_codes",
    "rule",
]

_CODE_RE = re.compile(r"^CC\d{3}$")
_PREFIX_RE = re.compile(r"^CC\d{0,3}$")


class Target(str, enum.Enum):
    """What a rule looks at."""

    BODY = "body"  # the raw bytes/text, before parsing (emitted by the parser)
    RESPONSE = "response"  # a non-stream 2xx chat completion
    STREAM = "stream"  # a whole SSE stream (events, chunks and their sequence)
    ERROR = "error"  # an error body (status >= 400)
    ANY = "any"  # any JSON document


class Status(str, enum.Enum):
    """A rule's lifecycle stage, as in ruff: new rules start in preview."""

    PREVIEW = "preview"
    STABLE = "stable"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


@dataclass(slots=True, kw_only=True)  # not frozen: a frozen __init__ costs a few µs per check; treat as read-only
class RuleContext:
    """What a rule may know besides the document: dialect, request, status and options (read-only)."""

    dialect: str
    contracts: DialectContracts
    request: Mapping[str, Any] | None = None
    status: int | None = None
    options: Mapping[str, Any] | None = None


def _make_context(
    dialect: str,
    contracts: DialectContracts,
    request: Mapping[str, Any] | None,
    status: int | None,
    options: Mapping[str, Any] | None,
) -> RuleContext:
    return RuleContext(dialect=dialect, contracts=contracts, request=request, status=status, options=options)


make_context: Callable[
    [str, DialectContracts, Mapping[str, Any] | None, int | None, Mapping[str, Any] | None], RuleContext
] = (
    _make_context
    if _accel.maker is None
    else _accel.maker(RuleContext, ("dialect", "contracts", "request", "status", "options"))
)
"""``RuleContext(...)`` from positional values in field order (the engine builds one per check with a request;
see ``violations.make_violation``: the C accelerator's ``maker`` fills the slots in one call)."""

CheckFn = Callable[[Any, RuleContext], Iterator[Hit]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A registered rule.

    ``check`` is ``None`` for rules whose violations are emitted by an engine stage (the parser, the schema
    validator) rather than by a rule function; they still have a code, a name and a doc.
    """

    code: str
    name: str
    severity: Severity
    target: Target
    dialects: frozenset[str]
    doc: str
    summary: str
    since: str = "0.1.0"
    status: Status = Status.PREVIEW
    requires_request: bool = False
    #: The request keys the rule depends on: it has nothing to say about a request with none of them (and is not run).
    request_keys: frozenset[str] = frozenset()
    check: CheckFn | None = None

    def applies_to(self, dialect: str) -> bool:
        """Whether this rule runs for ``dialect``."""
        return dialect in self.dialects


RULES: dict[str, Rule] = {}
"""Every rule by code, in registration order."""

REDIRECTS: dict[str, str] = {}
"""Retired codes mapped to the codes that replaced them, so old configuration keeps working."""

_NAMES: dict[str, str] = {}
_ALL_DIALECTS = frozenset({"mistral", "openai"})


def _register(r: Rule) -> Rule:
    if not _CODE_RE.match(r.code):
        raise UsageError(f"rule code {r.code!r} is not 'CC' followed by three digits")
    if r.code in RULES or r.code in REDIRECTS:
        raise UsageError(f"rule code {r.code} is already taken by {RULES[r.code].name!r}; codes are never reused")
    if r.name in _NAMES:
        raise UsageError(f"rule name {r.name!r} is already used by {_NAMES[r.name]}")
    RULES[r.code] = r
    _NAMES[r.name] = r.code
    return r


def _summary(doc: str) -> str:
    for block in doc.split("\n\n"):
        text = " ".join(line.strip() for line in block.strip().splitlines()[1:] or block.strip().splitlines())
        if text:
            return text.replace("``", "").split(". ")[0].rstrip(".") + "."
    return ""


def rule(
    code: str,
    name: str,
    *,
    severity: Severity = Severity.ERROR,
    target: Target = Target.RESPONSE,
    dialects: Iterable[str] = _ALL_DIALECTS,
    requires_request: bool = False,
    request_keys: Iterable[str] = (),
    status: Status = Status.STABLE,
    since: str = "0.1.0",
) -> Callable[[CheckFn], CheckFn]:
    """Register a rule function ``(document, ctx) -> Iterator[Hit]`` under ``code`` and ``name``.

    The function's docstring is the rule's documentation (What it checks / Why is this bad? / Example /
    Use instead / References). Yielding nothing means the document passes; a rule that does not apply returns
    early. A rule may also plainly ``assert``: the engine reports the failed assertion under the rule's code.
    ``request_keys``: a request-aware rule that yields nothing unless the request holds one of these keys says so,
    and the engine skips it for other requests (``tests/test_request_keys.py`` holds every such claim).
    """

    def decorator(fn: CheckFn) -> CheckFn:
        doc = inspect.cleandoc(fn.__doc__ or "")
        _register(
            Rule(
                code=code,
                name=name,
                severity=severity,
                target=target,
                dialects=frozenset(dialects),
                doc=doc,
                summary=_summary(doc),
                since=since,
                status=status,
                requires_request=requires_request,
                request_keys=frozenset(request_keys),
                check=fn,
            )
        )
        return fn

    return decorator


def declare(
    code: str,
    name: str,
    doc: str,
    *,
    severity: Severity = Severity.ERROR,
    target: Target = Target.ANY,
    dialects: Iterable[str] = _ALL_DIALECTS,
    status: Status = Status.STABLE,
) -> Rule:
    """Register a rule whose violations an engine stage emits (parser, schema validation)."""
    doc = inspect.cleandoc(doc)
    return _register(
        Rule(
            code=code,
            name=name,
            severity=severity,
            target=target,
            dialects=frozenset(dialects),
            doc=doc,
            summary=_summary(doc),
            status=status,
        )
    )


def _suggest(key: str) -> list[str]:
    fixed = key.upper().replace("O", "0").replace("I", "1").replace("L", "1")
    if fixed in RULES:
        return [fixed]
    return difflib.get_close_matches(key, [*RULES, *_NAMES], n=3)


def get_rule(code_or_name: str) -> Rule:
    """Look a rule up by code (``CC201``, case-insensitive) or kebab-case name; raises ConfigError with suggestions."""
    key = code_or_name.strip()
    upper = REDIRECTS.get(key.upper(), key.upper())
    if upper in RULES:
        return RULES[upper]
    if key in _NAMES:
        return RULES[_NAMES[key]]
    candidates = _suggest(key)
    hint = f" Did you mean {', '.join(candidates)}?" if candidates else " Run `chatcontract rules` to list them."
    raise ConfigError(f"Unknown rule {code_or_name!r}.{hint}")


def _expand(selector: str) -> set[str]:
    raw = selector.strip()
    sel = raw.upper()
    if sel == "ALL":
        return set(RULES)
    if sel in REDIRECTS:
        return {REDIRECTS[sel]}
    if _PREFIX_RE.match(sel):
        found = {c for c in RULES if c.startswith(sel)}
        if found == {"CC900"} and sel != "CC900":
            raise ConfigError(
                f"Rule selector {selector!r} selects no check: the CC9 family holds only CC900 (rule-crashed), "
                "which the engine reports when a rule crashes. Families CC0 to CC6 hold the checks."
            )
        if found:
            return found
    if raw in _NAMES:
        return {_NAMES[raw]}
    candidates = _suggest(raw)
    hint = f" Did you mean {', '.join(candidates)}?" if candidates else ""
    raise ConfigError(
        f"Unknown rule selector {selector!r}: expected a code (CC201), a prefix (CC2), a rule name or ALL.{hint}"
    )


def resolve_codes(select: Iterable[str] | None, ignore: Iterable[str] | None) -> frozenset[str]:
    """The enabled rule codes for a ``select``/``ignore`` pair (``None`` select means every rule)."""
    enabled: set[str] = set(RULES) if select is None else set().union(*(_expand(s) for s in select))
    for s in ignore or ():
        enabled -= _expand(s)
    return frozenset(c for c in enabled if RULES[c].status is not Status.REMOVED)
