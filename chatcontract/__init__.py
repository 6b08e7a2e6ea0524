"""chatcontract: executable contracts for chat-completion APIs (Mistral, OpenAI and compatible servers).

>>> from chatcontract import check
>>> report = check(response_bytes, dialect="mistral")
>>> report.ok, [v.code for v in report.violations]
"""


from ._exceptions import (
    CassetteError,
    ChatContractError,
    ConfigError,
    ContractViolation,
    ProviderError,
    UsageError,
)
from .engine import Report, assert_conforms, check
from .rules import RULES, Rule, get_rule
from .violations import Severity, Violation

__version__ = "0.1.0"

__all__ = [
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
    "UsageError",
    "Violation",
]

# Re-home public classes so reprs and docs say chatcontract.X, as httpx does.
for _name in ("CassetteError", "ChatContractError", "ConfigError", "ContractViolation", "ProviderError",
              "UsageError", "Report", "Rule", "Severity", "Violation"):
    globals()[_name].__module__ = "chatcontract"
del _name
