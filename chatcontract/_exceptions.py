"""Exceptions raised by chatcontract.

The tree::

    ChatContractError                 root, never raised directly
    ├── UsageError                    the API, CLI or marker was called wrongly
    ├── ConfigError                   bad [tool.chatcontract] configuration or an unknown rule code
    ├── CassetteError                 an unreadable or malformed cassette
    ├── ProviderError                 a provider could not be reached
    └── ContractViolation             a checked response broke the contract (also an AssertionError)

Violations are data: ``check()`` returns them in a report. Only ``assert_conforms`` raises, once, with all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .violations import Violation

__all__ = [
    "CassetteError",
    "ChatContractError",
    "ConfigError",
    "ContractViolation",
    "ProviderError",
    "UsageError",
]


class ChatContractError(Exception):
    """Root of every exception chatcontract raises."""


class UsageError(ChatContractError):
    """Raised when chatcontract's API, CLI or pytest marker is called with arguments it does not accept."""


class ConfigError(ChatContractError):
    """Raised when configuration is invalid, e.g. an unknown rule code in ``select`` or ``ignore``."""


class CassetteError(ChatContractError):
    """Raised when a cassette cannot be read or is malformed."""

    def __init__(self, message: str, *, path: str | None = None, interaction: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.interaction = interaction


class ProviderError(ChatContractError):
    """Raised when a provider under test cannot be reached (connection refused, DNS, TLS)."""


class ContractViolation(ChatContractError, AssertionError):
    """Raised by ``assert_conforms`` when a response has error-severity violations; carries all of them."""

    def __init__(
        self,
        violations: Sequence[Violation],
        *,
        title: str = "response",
        message: str | None = None,
        total: int | None = None,
    ) -> None:
        from .violations import render_violations

        self.violations: tuple[Violation, ...] = tuple(violations)
        self.title = title
        super().__init__(
            message if message is not None else render_violations(self.violations, title=title, total=total)
        )

    def __str__(self) -> str:
        return str(self.args[0])


# Tracebacks and pytest's reports name an exception by its __module__: show the public name users import and catch
# (chatcontract.ContractViolation), not this private module. Pickling resolves it through chatcontract's lazy exports.
for _exception in (CassetteError, ChatContractError, ConfigError, ContractViolation, ProviderError, UsageError):
    _exception.__module__ = "chatcontract"
del _exception
