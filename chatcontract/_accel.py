"""The optional C accelerator (``chatcontract/_speedups.c``), or None.

Built at install time when a C compiler is present; without one, or with ``CHATCONTRACT_NO_SPEEDUPS=1`` in the
environment when chatcontract is imported, every check takes the pure-Python route and reports the same
violations, only slower. ``ACTIVE`` tells which route this process takes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

plain: Callable[..., bool | int | list[tuple[tuple[str | int, ...], str]] | None] | None
maker: Callable[[type, tuple[str, ...]], Callable[..., Any]] | None
hit_maker: Callable[[type], Callable[..., Any]] | None
violation: Callable[..., Any] | None
numbers: Callable[[Any], tuple[frozenset[tuple[str | int, ...]], bool] | None] | None
order_key: Callable[[Any, tuple[str | int, ...]], list[int] | None] | None
doc_order: Callable[[list[Any], Any, tuple[str, str, str]], bool] | None
scan_fields: Callable[[Any, dict[str, Any], tuple[str | int, ...], frozenset[Any]], tuple[bool, list[Any]]] | None
duplicates: Callable[[bytes], list[tuple[tuple[str | int, ...], str]] | None] | None
repeated: Callable[[Any, list[Any], str, Callable[..., Any]], list[tuple[str, Any]] | None] | None
culprits: Callable[[Any, tuple[Any, ...], float], frozenset[str] | None] | None
findings: Callable[[Any, tuple[Any, ...], float, frozenset[str]], tuple[tuple[Any, ...], ...] | None] | None
suspects: Callable[[Any, tuple[Any, ...], float], frozenset[str] | None] | None
request_culprits: Callable[[Any, Any, tuple[Any, ...]], frozenset[str] | None] | None
request_pass: Callable[..., tuple[frozenset[str], tuple[Any, ...] | None, bool] | None] | None
places: Callable[[Any, dict[str, Any]], tuple[list[Any], list[Any]]] | None
null_places: Callable[[Any, tuple[Any, ...]], list[tuple[tuple[str | int, ...], dict[str, Any], Any]] | None] | None
if os.environ.get("CHATCONTRACT_NO_SPEEDUPS", "") not in ("", "0"):
    plain = maker = numbers = order_key = scan_fields = duplicates = repeated = culprits = findings = None
    suspects = request_culprits = request_pass = places = null_places = doc_order = hit_maker = violation = None
else:
    try:
        from ._speedups import (
            culprits,
            doc_order,
            duplicates,
            findings,
            hit_maker,
            maker,
            null_places,
            numbers,
            order_key,
            places,
            plain,
            repeated,
            request_culprits,
            request_pass,
            scan_fields,
            suspects,
            violation,
        )
    except ImportError:  # not compiled (no C compiler at install time)
        plain = maker = numbers = order_key = scan_fields = duplicates = repeated = culprits = findings = None
        suspects = request_culprits = request_pass = places = null_places = doc_order = hit_maker = violation = None

ACTIVE: bool = plain is not None

#: ``plain(body, True)``'s answer for a body plain but for floats (no duplicate key, NaN/Infinity literal or integer
#: over 18 digits): jiter's default parse then gives the strict parse's document.
BUT_FLOATS = 2

#: The accelerator's functions that are read at each call (``maker``, ``hit_maker`` and ``violation`` are bound at
#: import; ``order_key``, the document-order walk alone, is read by the tests only, which hold it to the Python
#: walk): a test sets them all to None to take the pure-Python route in-process.
CALLED: tuple[str, ...] = (
    "plain", "numbers", "scan_fields", "doc_order", "duplicates", "repeated", "culprits", "findings", "suspects",
    "request_culprits", "request_pass", "places", "null_places",
)
