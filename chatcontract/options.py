"""Command-line option parsing shared by ``chatcontract`` and every subcommand (check, cassettes, fuzz, proxy, ...).

One place for what every front door on the command line spells the same way: the exit codes, the parser that
exits 2 on a usage error, ``--dialect``, ``--select``/``--ignore`` (repeatable, comma lists), ``--extension`` and
``--format``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "DIALECT_CHOICES", "EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "Parser", "add_dialect", "add_extensions",
    "add_format", "add_rule_selection", "split_codes",
]

#: 0: conforms, no error finding (warnings allowed); 1: error-severity findings; 2: usage, I/O or connection error.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
DIALECT_CHOICES = ("mistral", "openai")


class Parser(argparse.ArgumentParser):
    """argparse's parser, exiting with :data:`EXIT_USAGE` and argparse's own message format on a usage error."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def split_codes(values: Sequence[str] | None) -> list[str] | None:
    """``--select CC1,CC2 --select CC4`` -> ``['CC1', 'CC2', 'CC4']`` (None stays None)."""
    if values is None:
        return None
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def add_dialect(p: argparse.ArgumentParser, *, default: str | None = None, help: str | None = None) -> None:
    """``--dialect mistral|openai``; without a default the configuration (or mistral) decides."""
    p.add_argument(
        "--dialect",
        choices=DIALECT_CHOICES,
        default=default,
        help=help or ("contract dialect (default: config or mistral)" if default is None else f"(default: {default})"),
    )


def add_rule_selection(p: argparse.ArgumentParser, *, comma_list: bool = True) -> None:
    """``--select CODES`` / ``--ignore CODES``: codes, prefixes (CC2), rule names or ALL; repeatable."""
    suffix = " (comma list)" if comma_list else ""
    p.add_argument("--select", action="append", metavar="CODES", help=f"rule codes/prefixes to enable{suffix}")
    p.add_argument("--ignore", action="append", metavar="CODES", help=f"rule codes/prefixes to disable{suffix}")


def add_extensions(p: argparse.ArgumentParser) -> None:
    """``--extension NAME`` (repeatable): an opt-in contract extension such as ``reasoning``."""
    p.add_argument(
        "--extension",
        action="append",
        metavar="NAME",
        help="opt-in contract extension, e.g. reasoning (the reasoning fields of OpenAI-compatible servers)",
    )


def add_format(
    p: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json"), *, help: str | None = None
) -> None:
    """``--format`` with its first choice as the default."""
    p.add_argument("--format", choices=tuple(choices), default=choices[0], help=help)
