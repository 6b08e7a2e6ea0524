"""chatcontract: executable contracts for chat-completion APIs (Mistral, OpenAI and compatible servers).

    >>> from chatcontract import check
    >>> report = check(response_bytes, dialect="mistral")
    >>> report.ok, [v.code for v in report.violations]

The public names are loaded on first access (PEP 562), so that importing the pytest plugin
(``chatcontract.plugin``, loaded in every pytest run of the environment) does not import pydantic.
"""

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "acheck",
    "assemble",
    "assert_conforms",
    "CassetteError",
    "ChatContractError",
    "check",
    "ConfigError",
    "ContractViolation",
    "get_rule",
    "ProviderError",
    "Report",
    "Rule",
    "RULES",
    "Severity",
    "StreamChecker",
    "UsageError",
    "Violation",
]

_LOCATIONS = {
    "CassetteError": "._exceptions",
    "ChatContractError": "._exceptions",
    "ConfigError": "._exceptions",
    "ContractViolation": "._exceptions",
    "ProviderError": "._exceptions",
    "UsageError": "._exceptions",
    "Report": ".engine",
    "assert_conforms": ".engine",
    "acheck": ".engine",
    "check": ".engine",
    "RULES": ".rules",
    "Rule": ".rules",
    "get_rule": ".rules",
    "Severity": ".violations",
    "Violation": ".violations",
    "StreamChecker": ".streams",
    "assemble": ".streams",
}

if TYPE_CHECKING:
    from ._exceptions import (
        CassetteError,
        ChatContractError,
        ConfigError,
        ContractViolation,
        ProviderError,
        UsageError,
    )
    from .engine import Report, acheck, assert_conforms, check
    from .rules import RULES, Rule, get_rule
    from .streams import StreamChecker, assemble
    from .violations import Severity, Violation


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'chatcontract' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    if isinstance(value, type):
        value.__module__ = "chatcontract"  # re-homed, as httpx does: reprs and docs say chatcontract.X
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
