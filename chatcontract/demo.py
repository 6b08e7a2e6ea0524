"""``chatcontract demo``: fuzz the built-in reference provider (with real-world faults) and print the report.

Two reference providers (one per dialect) are started on free loopback ports, each with a few faults from the
catalogue injected into a share of its answers. ``chatcontract fuzz`` runs against each: schemathesis sends the
contract's hand-picked examples (plain, streamed, ``n``, tools, response formats, reasoning) and generated requests,
valid and invalid; every answer is checked by the engine with the request it answered, and failing requests are shrunk.
Then the shipped real-world example responses are checked too, and the compatibility matrix (provider x rule) is
printed. Exit code 0 when the demo ran, whatever it found: the findings are the point.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from .engine import Report, check

__all__ = ["DEMO_FAULTS", "examples", "run_demo"]

DEMO_FAULTS = {
    "mistral": (
        "created-ms:0.3",
        "missing-usage:0.2",
        "stream-no-done:0.5",
        "tool-args-not-json:0.5",
        "reasoning-foreign-field",  # every reasoning answer (rate 1 draws nothing from the rate sequence)
    ),
    "openai": (
        "n-ignored:0.5",
        "constant-usage:0.4",
        "stream-empty-finish-reason:0.4",
        "foreign-error-envelope",
        "think-tags-in-content",
    ),
}


def examples() -> Iterator[tuple[str, dict[str, Any]]]:
    """``(file name, example)`` for every real-world example shipped in ``chatcontract/examples``."""
    folder = resources.files("chatcontract") / "examples"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            yield entry.name, json.loads(entry.read_text(encoding="utf-8"))


def _fuzz(dialect: str, write: Callable[[str], None]) -> Any:
    from .fuzz.command import format_summary
    from .fuzz.options import FuzzOptions
    from .fuzz.runner import run_fuzz
    from .provider import serve

    with serve(dialect=dialect, faults=DEMO_FAULTS[dialect], seed=7) as provider:
        write(f"== fuzzing the reference provider ({dialect}) at {provider.base_url}")
        write(f"   injected faults: {', '.join(DEMO_FAULTS[dialect])}")
        options = FuzzOptions(
            base_url=provider.base_url,
            model="ref-small",
            dialect=dialect,
            provider=f"reference-{dialect}",
            seed=7,
            max_examples=12,
            max_requests=120,
            phases=("examples", "fuzzing"),
        )
        results = run_fuzz(options)
    for line in format_summary(results).splitlines():
        write("   " + line if line else "")
    return results


def run_demo(write: Callable[[str], None] = print, report_dir: str | Path | None = None) -> list[Any]:
    """Fuzz both dialects' reference providers, check the shipped examples, print the matrix; return the results."""
    runs = []
    for dialect in ("mistral", "openai"):
        runs.append(_fuzz(dialect, write))
        write("")
    write("== real-world examples shipped with chatcontract")
    for name, ex in examples():
        report: Report = check(
            json.dumps(ex["body"]).encode(), dialect=ex["dialect"], status=ex.get("status"), request=ex.get("request")
        )
        write(f"  {name:<36} {'conforms' if not report.violations else ' '.join(sorted(set(report.codes())))}")
    write("")
    from .report import render_text_matrix

    write(render_text_matrix(runs))
    if report_dir is not None:
        from .report import write_reports

        for path in write_reports(runs, Path(report_dir)).values():
            write(f"wrote {path}")
    write(
        "Run `chatcontract rule CODE` for what a rule checks and why it matters; "
        "`chatcontract fuzz URL --model NAME` to fuzz your own provider."
    )
    return runs
