"""``chatcontract demo``: check the example responses shipped with the package and print the reports.

The examples reproduce real provider divergences (see each file's ``title``). Exit code 0 when the demo ran,
whatever it found: the findings are the point.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from .engine import Report, check

__all__ = ["examples", "run_demo"]


def examples() -> Iterator[tuple[str, dict[str, Any]]]:
    """``(file name, example)`` for every example shipped in ``chatcontract/examples``."""
    folder = resources.files("chatcontract") / "examples"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            yield entry.name, json.loads(entry.read_text(encoding="utf-8"))


def run_demo(write: Any = print) -> list[tuple[str, Report]]:
    """Check every example, print each report and a summary table; return the reports."""
    results: list[tuple[str, Report]] = []
    for name, ex in examples():
        report = check(
            json.dumps(ex["body"]).encode(), dialect=ex["dialect"], status=ex.get("status"), request=ex.get("request")
        )
        results.append((name, report))
        write(f"== {ex['title']}  [{name}, {ex['dialect']}, status {ex.get('status')}]")
        write(str(report))
        write("")
    write("Summary")
    for name, report in results:
        verdict = "conforms" if report.ok else f"{len(report.errors)} error(s)"
        warn = f", {len(report.warnings)} warning(s)" if report.warnings else ""
        codes = " ".join(sorted(set(report.codes())))
        write(f"  {name:<36} {verdict}{warn}  {codes}")
    return results
