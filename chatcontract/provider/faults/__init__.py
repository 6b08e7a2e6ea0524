"""The fault catalogue: small functions that break an outgoing answer the way real providers do.

:mod:`._registry` defines a fault and how ``--fault NAME[:RATE]`` selects and draws them; :mod:`.response` holds the
faults of JSON bodies and error answers, :mod:`.stream` those of SSE streams. Importing this package registers
every fault, in catalogue order.
"""

from __future__ import annotations

from . import reasoning, response, stream  # noqa: F401  (registration)
from ._registry import (
    FAULTS,
    TARGETS,
    Fault,
    FaultContext,
    FaultSpec,
    Injector,
    Outgoing,
    fault,
    format_catalogue,
    parse_faults,
)

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
