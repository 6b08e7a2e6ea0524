"""The outcome of one check: :class:`Report` (violations in document order) and the collector that builds it.

The engine and the stream checker both fill a :class:`Collector` (which honours the enabled rules, drops duplicates,
cuts long messages and lists at most :data:`MAX_PER_RULE` violations of one rule per document or stream) and turn it
into a :class:`Report`; nothing here knows how a document is checked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _accel
from .inputs import Finding
from .rules import RULES, Hit, Rule, RuleContext
from .violations import Loc, Severity, Violation, make_violation, render_violations, shorten, writable

if TYPE_CHECKING:
    from .settings import Settings

#: At most this many violations of one rule are listed per document (or per stream); the rest are counted and stated
#: in one summary violation of the same rule (:meth:`Collector.summaries`), so that a hostile body of a million
#: wrong values gives a report of a few kilobytes, not of a million entries.
MAX_PER_RULE = 100

#: One cause, one finding: ``(code, by, field)`` -- a violation of ``code`` is not reported where the more specific
#: rule ``by`` fires at the same place (``field`` None) or, with a field name, where ``by`` fires at the object that
#: holds that field. A Mistral message's ``reasoning_content`` is CC220 (the other convention's field), not also CC104;
#: a choice whose ``message`` is null is CC213 (a choice with no message), not also CC109 (null for an optional field).
SUPERSEDED: tuple[tuple[str, str, str | None], ...] = (
    ("CC104", "CC220", None),
    ("CC109", "CC213", "message"),
    ("CC109", "CC213", "messages"),
)
_SUPERSEDED_BY: dict[str, list[tuple[str, str | None]]] = {}
_SUPERSEDES: dict[str, list[tuple[str, str | None]]] = {}
for _code, _by, _field in SUPERSEDED:
    _SUPERSEDED_BY.setdefault(_code, []).append((_by, _field))
    _SUPERSEDES.setdefault(_by, []).append((_code, _field))

_TITLES = {
    ("mistral", "response"): "ChatCompletionResponse (mistral)",
    ("openai", "response"): "ChatCompletion (openai)",
    ("mistral", "stream"): "chat completion stream (mistral)",
    ("openai", "stream"): "chat completion stream (openai)",
    ("mistral", "error"): "error response (mistral)",
    ("openai", "error"): "error response (openai)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The result of one check: every violation, in document order.

    Attributes:
        violations: All violations (errors and warnings), in document order.
        dialect: The dialect checked against, ``"mistral"`` or ``"openai"``.
        kind: What was checked: ``"response"``, ``"stream"`` or ``"error"``.
        status: The HTTP status, when known.
        total: The number of violations found, when more were found than are listed (``None`` otherwise).
    """

    violations: tuple[Violation, ...]
    dialect: str
    kind: str
    status: int | None = None
    #: How many violations were found, when a rule had more than :data:`MAX_PER_RULE` (the report then lists the
    #: first ones of that rule and one summary violation with the count); ``None`` when every one is listed.
    total: int | None = None

    @property
    def ok(self) -> bool:
        """True when no violation has severity error (warnings do not fail a check)."""
        return not any(v.severity is Severity.ERROR for v in self.violations)

    @property
    def errors(self) -> tuple[Violation, ...]:
        """The violations of severity error."""
        return tuple(v for v in self.violations if v.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        """The violations of severity warning."""
        return tuple(v for v in self.violations if v.severity is Severity.WARNING)

    @property
    def title(self) -> str:
        """What was checked, e.g. ``ChatCompletionResponse (mistral)``."""
        return _TITLES.get((self.dialect, self.kind), f"{self.kind} ({self.dialect})")

    def codes(self) -> list[str]:
        """The codes of all violations, in order (handy in tests)."""
        return [v.code for v in self.violations]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"ok", "dialect", "kind", "status", "violations": [...]}``."""
        return {
            "ok": self.ok,
            "dialect": self.dialect,
            "kind": self.kind,
            "status": self.status,
            "violations": [v.to_dict() for v in self.violations],
            **({} if self.total is None else {"total": self.total}),
        }

    def __str__(self) -> str:
        if not self.violations:
            return f"{self.title}: conforms"
        return render_violations(self.violations, title=self.title, total=self.total)


class Collector:
    """Turns (code, hit) pairs into violations, honouring the enabled set, and keeps them in order.

    The first :data:`MAX_PER_RULE` distinct violations of a rule are kept; later ones are only counted (without the
    duplicate check, which would keep a key per hit) and come back from :meth:`summaries` as one violation of the
    same rule, with the same severity, at ``$``: ``--ignore`` and ``per-file-ignores`` silence it with the rule,
    and a report's ``ok`` does not change because of the cap.
    """

    __slots__ = ("enabled", "dialect", "items", "limit", "_seen", "_listed", "_more")

    def __init__(self, settings: Settings, *, limit: int = MAX_PER_RULE) -> None:
        self.enabled = settings.enabled
        self.dialect = settings.dialect
        self.items: list[Violation] = []
        self.limit = limit
        self._seen: set[tuple[str, tuple[Any, ...], int | None]] = set()
        self._listed: dict[str, int] = {}
        self._more: dict[str, int] = {}

    def full(self, code: str) -> bool:
        """True once ``code`` has its :attr:`limit` of listed violations (producers may stop building hits)."""
        return self._listed.get(code, 0) >= self.limit

    def add(self, code: str, h: Hit, *, event: int | None = None) -> None:
        if code not in self.enabled:
            return
        listed = self._listed.get(code, 0)
        if listed >= self.limit:
            self._more[code] = self._more.get(code, 0) + 1
            return
        loc, message, actual, expected, ev = h
        if ev is None:
            ev = event
        key = (code, loc, ev)
        seen = self._seen
        if code in _SUPERSEDED_BY:
            if key in seen or self._explained(code, loc, ev):
                return  # a duplicate, or a more specific rule already explains this place
            seen.add(key)
        else:
            size = len(seen)
            seen.add(key)  # (one hash of the key, not two: most findings are new)
            if len(seen) == size:
                return
        self._listed[code] = listed + 1
        if code in _SUPERSEDES:
            self._drop_explained(code, loc, ev)
        self.items.append(violation_of(code, loc, message, actual, expected, ev))

    def _explained(self, code: str, loc: Loc, ev: int | None) -> bool:
        for by, name in _SUPERSEDED_BY[code]:
            if name is None:
                if (by, loc, ev) in self._seen:
                    return True
            elif loc and loc[-1] == name and (by, loc[:-1], ev) in self._seen:
                return True
        return False

    def _drop_explained(self, by: str, loc: Loc, ev: int | None) -> None:
        for code, name in _SUPERSEDES[by]:
            place = loc if name is None else (*loc, name)
            if (code, place, ev) not in self._seen:
                continue
            for i, v in enumerate(self.items):
                if v.code == code and v.loc == place and v.event == ev:
                    del self.items[i]
                    self._listed[code] -= 1
                    break

    def count_more(self, code: str, n: int) -> None:
        """Count ``n`` violations of ``code`` that a producer found but did not build (the rule is :meth:`full`)."""
        if n > 0 and code in self.enabled:
            self._more[code] = self._more.get(code, 0) + n

    def total(self) -> int | None:
        """How many violations were found, when some are not listed (``None`` when all are); after the summaries."""
        if not self._more:
            return None
        return len(self.items) - len(self._more) + sum(self._more.values())

    def summaries(self, what: str = "document") -> list[Violation]:
        """One violation per rule that went past the limit, saying how many more were found; in code order."""
        out = []
        for code in sorted(self._more):
            n = self._more[code]
            r = RULES[code]
            out.append(
                Violation(
                    code=code,
                    name=r.name,
                    severity=r.severity,
                    loc=(),
                    message=(
                        f"{n} more {code} violation{'s' * (n != 1)} in this {what} are not listed "
                        f"(the first {self.limit} are)."
                    ),
                    actual=n,
                )
            )
        return out

    def extend(self, findings: Iterable[Finding], *, event: int | None = None) -> None:
        for code, h in findings:
            self.add(code, h, event=event)

    def run(
        self,
        rules: Sequence[Rule],
        doc: Any,
        ctx: RuleContext,
        *,
        event: int | None = None,
    ) -> None:
        """Run ``rules`` on ``doc`` and add their hits.

        The engine's violation route runs its rules in a loop of its own, which takes a collector only from a second
        finding on (``engine._rules_report``).
        """
        request = ctx.request
        for r in rules:
            if request is None:
                if r.requires_request:
                    continue
            elif r.request_keys and r.request_keys.isdisjoint(request):
                continue  # the rule has nothing to say about a request without these keys
            try:
                hits = r.check(doc, ctx)  # type: ignore[misc]
                for h in hits:
                    self.add(r.code, h, event=event)
            except Exception as exc:  # a rule bug must not lose the other findings
                self.add(*failure(r, exc), event=event)


def failure(r: Rule, exc: Exception) -> tuple[str, Hit]:
    """The finding for rule ``r`` raising ``exc``: its own, for a custom rule's failed ``assert``; else CC900."""
    if isinstance(exc, AssertionError):
        return r.code, Hit((), str(exc) or f"Custom rule {r.name} failed.")
    return "CC900", Hit((), f"Rule {r.code} ({r.name}) crashed on this input: {type(exc).__name__}: {exc}")


def _violation_of(code: str, loc: Loc, message: str, actual: Any, expected: Any, event: int | None) -> Violation:
    r = RULES[code]
    kind = type(actual)
    return make_violation(
        code,
        r.name,
        r.severity,
        loc,
        (message if message.isascii() else writable(message))
        if len(message) <= 500
        else writable(message[:500]) + "...",
        # (what shorten() keeps as it is, without the call)
        actual if kind in _SHORT or (kind is int and actual.bit_length() <= 64) else shorten(actual),
        expected if type(expected) in _SHORT else shorten(expected),
        event,
    )


violation_of: Callable[[str, Loc, str, Any, Any, int | None], Violation] = (
    _violation_of
    if _accel.violation is None
    else functools.partial(_accel.violation, make_violation, RULES, _violation_of, ("name", "severity"))
)
"""The violation for a finding of rule ``code``: a long message cut, long values shortened.

With the C accelerator, its usual case (a short ASCII message, values shown as they are) is one C call
(``_speedups.violation``), and the Python function answers the others.
"""


#: The types of a value that :func:`~chatcontract.violations.shorten` returns unchanged whatever the value (an int's
#: digits are counted, a string's length is: those go through it).
_SHORT = frozenset({type(None), bool, float})


def sort_in_doc_order(violations: list[Violation], doc: Any) -> None:
    """Sort ``violations`` in place as ``doc`` reads.

    By stream event (none first), by the position of each step of the location (a key its object lacks comes
    after the keys it has), then by code. The C accelerator sorts in one call (``_speedups.doc_order``), unless
    the document holds anything but plain dicts, lists and string keys on the way.
    """
    if len(violations) < 2:
        return
    fused = _accel.doc_order
    if fused is not None and fused(violations, doc, _ORDER_FIELDS):
        return
    keys: dict[int, dict[Any, int]] = {}
    violations.sort(key=lambda v: (-1 if v.event is None else v.event, order_key(doc, v.loc, keys), v.code))


_ORDER_FIELDS = ("event", "loc", "code")


def order_key(doc: Any, loc: Loc, keys: dict[int, dict[Any, int]]) -> list[Any]:
    """The document-order sort key of ``loc``: each step's position.

    A key's position among its object's keys (their number when the object lacks it), an array's index, else 0.
    ``keys`` keeps each object's key positions (by ``id``) for the next walk.
    """
    key: list[Any] = []
    node = doc
    for seg in loc:
        if isinstance(node, dict):
            where = keys.get(id(node))
            if where is None:
                where = keys[id(node)] = {k: i for i, k in enumerate(node)}
            if seg in node:
                key.append(where[seg])
                node = node[seg]
            else:
                key.append(len(where))
                node = None
        elif isinstance(node, list) and isinstance(seg, int):
            key.append(seg)
            node = node[seg] if 0 <= seg < len(node) else None
        else:
            key.append(0)
            node = None
    return key


_new = object.__new__
_REPORT_FIELDS = ("violations", "dialect", "kind", "status", "total")
_SET_VIOLATIONS, _SET_DIALECT, _SET_KIND, _SET_STATUS, _SET_TOTAL = (
    getattr(Report, name).__set__ for name in _REPORT_FIELDS
)


def _make_report(
    violations: tuple[Violation, ...], dialect: str, kind: str, status: int | None, total: int | None
) -> Report:
    report = _new(Report)
    _SET_VIOLATIONS(report, violations)
    _SET_DIALECT(report, dialect)
    _SET_KIND(report, kind)
    _SET_STATUS(report, status)
    _SET_TOTAL(report, total)
    return report


make_report: Callable[[tuple[Violation, ...], str, str, int | None, int | None], Report] = (
    _make_report if _accel.maker is None else _accel.maker(Report, _REPORT_FIELDS)
)
"""``Report(violations=..., ...)`` (positional, in field order) without the frozen dataclass's ``__init__`` (see
``violations.make_violation``)."""


@functools.lru_cache(maxsize=64)
def empty_report(dialect: str, kind: str, status: int | None) -> Report:
    # Reports are immutable, so the (common) conforming result can be shared.
    return Report(violations=(), dialect=dialect, kind=kind, status=status)
