"""The rule registry and every built-in rule, by family.

Families (the hundreds digit of the code): CC0xx the body (encoding, JSON syntax, content type); CC1xx schema
(the pydantic contracts); CC2xx consistency within one response; CC3xx streams; CC4xx request-aware; CC5xx error
bodies and statuses; CC6xx whole exchanges (emitted by the fuzz runner); CC9xx the engine itself.
"""

from __future__ import annotations

from . import body, consistency, errors, exchange, reasoning, request, schema, streams  # noqa: E402,F401,I001  (registration order = code order)
from ._registry import (
    REDIRECTS,
    RULES,
    Hit,
    Rule,
    RuleContext,
    Status,
    Target,
    declare,
    get_rule,
    hit,
    resolve_codes,
    rule,
)

declare(
    "CC900",
    "rule-crashed",
    """
    What it checks:
        Nothing about the response: a rule raised an unexpected exception on this input.

    Why is this bad?
        It is a bug in chatcontract (or in a custom rule). The other rules still ran; please report the input.
    """,
)

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
