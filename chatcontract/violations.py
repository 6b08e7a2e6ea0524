"""The violation record, severities, location rendering and the text report.

A rule yields a :class:`Hit` (where, what, the offending value); the engine adds the rule's code, name and
severity and turns it into a :class:`Violation`. A :class:`Violation` is data: a stable rule code, a location
inside the checked document, a one-sentence message and the offending value. Everything that shows violations
(``str(ContractViolation)``, the CLI's text and JSON output, the pytest plugin, reports) renders this one record.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic_core import to_json as _to_json

from . import _accel

__all__ = [
    "Hit", "Loc", "Severity", "Violation", "format_path", "format_pointer", "hit", "jsonable", "render_violations",
    "shorten",
]

Loc = tuple[str | int, ...]
"""A location inside a JSON document, like pydantic's ``loc``: ``("choices", 0, "message", "content")``."""

class Hit(NamedTuple):
    """What a rule function yields: where, what, and the offending value."""

    loc: Loc
    message: str
    actual: Any = None
    expected: Any = None
    event: int | None = None


_tuple_new = tuple.__new__


def _hit(
    loc: Iterable[str | int], message: str, actual: Any = None, expected: Any = None, event: int | None = None
) -> Hit:
    # (tuple.__new__ directly: Hit's own __new__ is a Python function, one call more per finding)
    return _tuple_new(Hit, (loc if type(loc) is tuple else tuple(loc), message, actual, expected, event))


hit: Callable[..., Hit] = _hit if _accel.hit_maker is None else _accel.hit_maker(Hit)
"""``hit(loc, message, actual=None, expected=None, event=None)``: build a :class:`Hit` (rules call this instead of
building a Violation; the engine adds code and severity). ``loc`` may be any iterable of keys and indices.

A rule builds one per finding: with the C accelerator, ``_speedups.hit_maker`` builds it in one C call, a fifth of
the price of ``tuple.__new__`` on a subclass.
"""


DOCS_PATH = "docs/rules/{code}.md"
_MAX_ACTUAL = 200


class Severity(str, enum.Enum):
    """How bad a violation is: errors make a check fail, warnings are reported but do not."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


def _segment(seg: str | int) -> str:
    if isinstance(seg, int):
        return f"[{seg}]"
    if seg.isidentifier():
        return f".{seg}"
    return "[" + json.dumps(seg, ensure_ascii=False) + "]"


def format_path(loc: Iterable[str | int]) -> str:
    """Render a location as a JSONPath-like string rooted at ``$``: ``$.choices[0].finish_reason``."""
    return "$" + "".join(_segment(s) for s in loc)


def format_pointer(loc: Iterable[str | int]) -> str:
    """Render a location as an RFC 6901 JSON pointer: ``/choices/0/finish_reason``."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in loc)


_SCALARS = frozenset({type(None), bool, float})


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def writable(text: str) -> str:
    r"""``text``, with each lone surrogate written as its escape (``\ud800``), so that it can be encoded as UTF-8.

    A report quotes values (a request's model in a message, a string the rules read): whatever they held, printing
    or saving the report must not fail.
    """
    if text.isascii() or not _LONE_SURROGATE.search(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def shorten(value: Any, limit: int = _MAX_ACTUAL) -> Any:
    """Return ``value`` unchanged when its JSON form is short, else a truncated string form of it.

    Violations keep the offending value for display; a 50 MB string must not be copied into every report. The
    JSON form of a container is its compact serialisation (no spaces after ``,`` and ``:``), which pydantic-core
    writes several times faster than the standard library.
    """
    kind = type(value)
    if kind is str:
        if not value.isascii():
            value = writable(value)
        if len(value) <= limit:
            return value
        return value[:limit] + f"...({len(value)} characters)"
    if kind in _SCALARS:
        return value
    if kind is int or (isinstance(value, int) and not isinstance(value, bool)):
        if value.bit_length() > 64:
            text = str(value)
            return text[: limit // 2] + f"...({len(text)} digits)"
        return value
    if isinstance(value, (bool, float)):
        return value
    if isinstance(value, str):  # a str subclass (an enum member)
        value = writable(str(value)) if not value.isascii() else value
        return value if len(value) <= limit else value[:limit] + f"...({len(value)} characters)"
    try:
        text = _to_json(value, fallback=repr, inf_nan_mode="constants").decode("utf-8", "replace")
    except (ValueError, RecursionError, TypeError):
        return f"<{type(value).__name__} too deep or too odd to display>"
    if len(text) <= limit:
        return value
    return text[:limit] + f"...({len(text)} characters)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One broken rule at one place in a checked document.

    Attributes:
        code: The rule's stable code, e.g. ``"CC201"``.
        name: The rule's kebab-case name, e.g. ``"usage-total-mismatch"``.
        severity: :class:`Severity` of the rule (after configuration).
        loc: Location inside the document the violation refers to, like pydantic's ``loc``.
        message: One sentence: what was received and what was expected.
        actual: The offending value, shortened for display.
        expected: What the contract expected there, when that is a value (optional).
        event: For streams, the 0-based index of the SSE event whose data ``loc`` refers to; ``None`` for
            whole-document findings and findings on an assembled stream.
    """

    code: str
    name: str
    severity: Severity
    loc: Loc
    message: str
    actual: Any = field(default=None, compare=False)
    expected: Any = field(default=None, compare=False)
    event: int | None = None

    @property
    def path(self) -> str:
        """The location as ``$.choices[0].finish_reason``."""
        return format_path(self.loc)

    @property
    def pointer(self) -> str:
        """The location as an RFC 6901 JSON pointer, ``/choices/0/finish_reason``."""
        return format_pointer(self.loc)

    @property
    def doc_path(self) -> str:
        """The rule's documentation page in the repository (``chatcontract rule CODE`` prints the same text)."""
        return DOCS_PATH.format(code=self.code)

    @property
    def where(self) -> str:
        """The location as shown in reports: the path, prefixed by the stream event when there is one."""
        if self.event is None:
            return self.path
        return f"event {self.event}  {self.path}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (the CLI's ``--format json`` record)."""
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "path": self.path,
            "pointer": self.pointer,
            "message": self.message,
            "actual": jsonable(self.actual),
        }
        if self.expected is not None:
            data["expected"] = jsonable(self.expected)
        if self.event is not None:
            data["event"] = self.event
        return data


_new = object.__new__
_FIELDS = ("code", "name", "severity", "loc", "message", "actual", "expected", "event")
_SET_CODE, _SET_NAME, _SET_SEVERITY, _SET_LOC, _SET_MESSAGE, _SET_ACTUAL, _SET_EXPECTED, _SET_EVENT = (
    getattr(Violation, name).__set__ for name in _FIELDS
)


def _make_violation(
    code: str, name: str, severity: Severity, loc: Loc, message: str, actual: Any, expected: Any, event: int | None
) -> Violation:
    v = _new(Violation)
    _SET_CODE(v, code)
    _SET_NAME(v, name)
    _SET_SEVERITY(v, severity)
    _SET_LOC(v, loc)
    _SET_MESSAGE(v, message)
    _SET_ACTUAL(v, actual)
    _SET_EXPECTED(v, expected)
    _SET_EVENT(v, event)
    return v


make_violation: Callable[[str, str, Severity, Loc, str, Any, Any, int | None], Violation] = (
    _make_violation if _accel.maker is None else _accel.maker(Violation, _FIELDS)
)
"""``Violation(code=..., ...)`` (positional, in field order) at a fraction of the cost.

The engine builds one per finding, and a frozen dataclass's ``__init__`` (keyword arguments, one
``object.__setattr__`` per field) is most of a finding's price. Without the C accelerator, each slot is set
through its descriptor (half the price); with it, ``_speedups.maker`` fills the slots in one C call.
"""


def jsonable(value: Any) -> Any:
    """``value`` if it is plain JSON (no NaN), else a short string standing for it."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return shorten(str(value) if isinstance(value, float) else f"<{type(value).__name__}>")
    return value


def _show(value: Any) -> str:
    if isinstance(value, str) and value.endswith("characters)") and "..." in value:
        return repr(value)
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return f"<{type(value).__name__}>"


def render_violations(
    violations: Sequence[Violation], *, title: str, verbose: bool = True, total: int | None = None
) -> str:
    """Render violations the way pydantic renders a ``ValidationError``.

    ``title`` names what was checked (``ChatCompletionResponse (mistral)``). Repeats of one rule at one path
    (possible in streams) fold into one block with a count. ``total`` is the number of violations found when the
    report lists fewer (see ``outcome.MAX_PER_RULE``).
    """
    count = len(violations)
    noun = "contract violation" if count == 1 else "contract violations"
    errors = sum(1 for v in violations if v.severity is Severity.ERROR)
    breakdown = f" ({errors} error{'s' * (errors != 1)}, {count - errors} warning{'s' * (count - errors != 1)})"
    if total is not None and total > count:  # a report capped per rule: the summaries below give the counts
        lines = [f"{total} contract violations in {title}, the first of each rule listed"]
    else:
        lines = [f"{count} {noun} in {title}" + (breakdown if 0 < errors < count else "")]
    folded: dict[tuple[str, Loc, str], list[Violation]] = {}
    for v in violations:
        folded.setdefault((v.code, v.loc, v.message), []).append(v)
    for group in folded.values():
        v = group[0]
        repeat = f" ({len(group)} violations)" if len(group) > 1 else ""
        lines.append(f"{v.code} {v.name} at {v.where}{repeat}  [{v.severity.value}]")
        lines.append(f"  {v.message}")
        if verbose and v.code == "CC101":
            lines.append(f"  For further information run: chatcontract rule {v.code}")
        elif verbose:
            detail = f"  Received: {_show(v.actual)}"
            if v.expected is not None:
                detail += f" / Expected: {_show(v.expected)}"
            lines.append(detail)
            lines.append(f"  For further information run: chatcontract rule {v.code}")
    return "\n".join(lines)
