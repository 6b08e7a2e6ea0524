"""The fault registry: what a fault is, how faults are selected and drawn, and the catalogue's text.

The faults themselves live in :mod:`.response` and :mod:`.stream`: small functions that break an outgoing answer
the way real providers do. Each :class:`Fault` mutates an :class:`Outgoing` answer in place (the JSON document, the
list of stream events, or the whole body and status) and says whether it changed anything. It names the
real-world divergence it reproduces (the public issues that report it) and the rule codes that must catch it, per
dialect: an empty tuple marks a legal variation (a control that must produce *no* violation); a missing dialect
means the fault does not apply there.

``--fault NAME[:RATE]`` selects faults; each applies to a matching answer with probability RATE, drawn from one
seeded random sequence per app (the k-th answer's draws are fixed for a given ``--seed``).
"""

from __future__ import annotations

import difflib
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._exceptions import UsageError
from ..completions import Completion, Event

__all__ = [
    "FAULTS",
    "TARGETS",
    "Fault",
    "FaultContext",
    "FaultSpec",
    "Injector",
    "Outgoing",
    "fault",
    "format_catalogue",
    "parse_faults",
]

#: What a fault applies to: a non-stream 2xx answer, a stream, an error answer, any answer, or a valid request
#: (``request``: the fault may refuse it, turning the answer into an error before any completion is planned).
TARGETS = ("response", "stream", "error", "any", "request")
_DIALECTS = ("mistral", "openai")


@dataclass
class Outgoing:
    """One answer on its way out; faults edit it in place."""

    kind: str  # "response", "stream" or "error"
    status: int = 200
    doc: Any = None  # the JSON document (response, error)
    events: list[Event] = field(default_factory=list)  # the stream
    raw: bytes | None = None  # sent as is when set
    media_type: str = "application/json"
    completion: Completion | None = None  # the plan behind a response or stream


@dataclass(frozen=True)
class FaultContext:
    """What a fault may know: the dialect, the request, and a random source derived from the request."""

    dialect: str
    request: Mapping[str, Any] | None
    rng: random.Random


FaultFn = Callable[[Outgoing, FaultContext], bool]


@dataclass(frozen=True)
class Fault:
    """A registered fault."""

    name: str
    description: str
    source: str
    target: str
    #: Rule codes that must catch it, per dialect; ``()`` = legal there (a control); absent = not applicable.
    expect: Mapping[str, tuple[str, ...]]
    #: What a request needs for the fault to show: ``stream``, ``tools``, ``n``, ``max_tokens``, ``include_usage``,
    #: ``invalid`` (an invalid request), ``reasoning`` (an answer that reasons).
    needs: tuple[str, ...]
    apply: FaultFn

    @property
    def dialects(self) -> tuple[str, ...]:
        """The dialects the fault applies to."""
        return tuple(d for d in _DIALECTS if d in self.expect)


FAULTS: dict[str, Fault] = {}
"""Every fault by name, in catalogue order."""


def fault(
    name: str,
    description: str,
    *,
    source: str,
    target: str,
    expect: tuple[str, ...] | Mapping[str, tuple[str, ...]],
    needs: Sequence[str] = (),
) -> Callable[[FaultFn], FaultFn]:
    """Register a fault function under ``name`` (``expect`` as a tuple means: the same codes in both dialects)."""
    if target not in TARGETS:
        raise ValueError(f"unknown fault target {target!r}")
    per_dialect = dict(expect) if isinstance(expect, Mapping) else {d: tuple(expect) for d in _DIALECTS}

    def register(fn: FaultFn) -> FaultFn:
        if name in FAULTS:
            raise ValueError(f"fault {name!r} registered twice")
        FAULTS[name] = Fault(name, description, source, target, per_dialect, tuple(needs), fn)
        return fn

    return register


@dataclass(frozen=True)
class FaultSpec:
    """A selected fault and the share of matching answers it applies to."""

    fault: Fault
    rate: float = 1.0

    def __str__(self) -> str:
        return self.fault.name if self.rate >= 1 else f"{self.fault.name}:{self.rate:g}"


def _lookup(name: str) -> Fault:
    if name in FAULTS:
        return FAULTS[name]
    close = difflib.get_close_matches(name, list(FAULTS), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"unknown fault {name!r}.{hint} Known faults: {', '.join(FAULTS)}.")


def parse_faults(
    items: Iterable[str | tuple[str, float] | FaultSpec], dialect: str | None = None
) -> tuple[FaultSpec, ...]:
    """Parse ``NAME[:RATE]`` strings (or ``(name, rate)`` pairs); ``UsageError`` for unknown names or bad rates."""
    out = []
    for item in items:
        if isinstance(item, FaultSpec):
            spec = item
        else:
            if isinstance(item, str):
                name, _, rate_text = item.strip().partition(":")
                try:
                    rate = float(rate_text) if rate_text else 1.0
                except ValueError:
                    raise UsageError(
                        f"fault rate in {item!r} is not a number; use NAME:RATE with RATE in 0..1"
                    ) from None
            else:
                name, rate = item
            if not 0.0 <= rate <= 1.0:
                raise UsageError(f"fault rate {rate:g} for {name!r} is outside 0..1")
            spec = FaultSpec(_lookup(name), rate)
        if dialect is not None and dialect not in spec.fault.expect:
            raise UsageError(
                f"fault {spec.fault.name!r} does not apply to the {dialect} dialect "
                f"(only {', '.join(spec.fault.dialects)})"
            )
        out.append(spec)
    return tuple(out)


class Injector:
    """Applies the selected faults to answers, drawing the rate decisions from one seeded sequence."""

    def __init__(self, specs: Sequence[FaultSpec], seed: int | None) -> None:
        self.specs = tuple(specs)
        self._rng = random.Random(f"faults:{seed}") if seed is not None else random.Random()
        self._lock = threading.Lock()

    def _chosen(self, spec: FaultSpec) -> bool:
        if spec.rate >= 1:
            return True
        if spec.rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < spec.rate

    def select(self, kind: str) -> list[Fault]:
        """The faults with target ``kind`` (``"any"`` for the answer-replacing ones) chosen for this answer."""
        return [s.fault for s in self.specs if s.fault.target == kind and self._chosen(s)]

    def apply(self, out: Outgoing, ctx: FaultContext) -> list[str]:
        """Apply the faults chosen for ``out``; the names of those that changed it."""
        return [f.name for f in self.select(out.kind) if f.apply(out, ctx)]


def format_catalogue() -> str:
    """The catalogue as text: name, what it applies to, expected rule codes per dialect, source, description."""
    lines = []
    width = max(len(n) for n in FAULTS)
    for f in FAULTS.values():
        applies = f.target + "".join(f" +{n}" for n in f.needs if n != f.target)
        expect = "  ".join(
            f"{d}: {', '.join(f.expect[d]) or 'none (legal)'}" if d in f.expect else f"{d}: n/a" for d in _DIALECTS
        )
        lines.append(f"{f.name:<{width}}  {applies:<22}  {expect}")
        lines.append(f"{'':<{width}}  {f.description}")
        lines.append(f"{'':<{width}}  source: {f.source}")
    return "\n".join(lines)

