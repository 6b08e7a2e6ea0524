"""The compatibility matrix as plain text, for terminals (the demo and ``chatcontract report`` without ``--out``)."""

from __future__ import annotations

from collections.abc import Sequence

from ._shared import _applies, _clean, _finding, _matrix_rows
from .results import FuzzResults


def render_text_matrix(results: Sequence[FuzzResults]) -> str:
    """The provider x rule matrix as plain text for a terminal (counts; ``.`` for none, ``n/a`` off-dialect)."""
    labels = [r.provider for r in results]
    width = max([len(label) for label in labels] + [5])
    total = sum(r.requests for r in results)
    lines = [
        f"Compatibility report: {total} requests, {sum(len(r.findings) for r in results)} findings (rule x provider)",
        f"  {'rule':<7} {'name':<36} {'severity':<8} " + " ".join(f"{label:>{width}}" for label in labels),
    ]
    for row in _matrix_rows(results):
        cells = []
        for run in results:
            found = _finding(run, row.code)
            cells.append(str(found.count) if found else ("." if _applies(row.code, run.dialect) else "n/a"))
        lines.append(f"  {row.code:<7} {row.name:<36} {row.severity:<8} " + " ".join(f"{c:>{width}}" for c in cells))
    return "".join(_clean(line) + "\n" for line in lines)  # provider names come from the results: made safe
