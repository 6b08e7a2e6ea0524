r"""The compatibility report: results of fuzz and proxy runs rendered as Markdown, JUnit XML, HTML and text.

:mod:`~chatcontract.report.results` is the versioned ``results.json`` model every front door writes; each format
has its own module (:mod:`.markdown`, :mod:`.junit`, :mod:`.html`, :mod:`.text`) over the shared, escaping pieces
in :mod:`._shared`. Every renderer is a pure function of a list of
:class:`~chatcontract.report.results.FuzzResults` (one per run, in the order given; each run is a column) and is
deterministic: the same results give the same bytes.

The results come from servers under test, so every string in them is hostile until escaped: the renderers
escape HTML, Markdown and XML, show control characters, lone surrogates and bidirectional overrides as visible
``\xNN`` / ``\uNNNN`` escapes (XML 1.0 forbids most of them, and a lone surrogate cannot even be encoded as UTF-8),
and cut every payload to :data:`MAX_SHOWN` characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ._shared import MAX_SHOWN, run_labels, summary_line, verdict
from .html import render_html
from .junit import render_junit
from .markdown import render_markdown
from .results import FuzzResults
from .text import render_text_matrix

__all__ = [
    "MAX_SHOWN",
    "REPORT_FILES",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_text_matrix",
    "run_labels",
    "summary_line",
    "verdict",
    "write_reports",
]

#: The files :func:`write_reports` writes, by kind.
REPORT_FILES = {"markdown": "report.md", "html": "report.html", "junit": "junit.xml"}


# ---------------------------------------------------------------------------------------------------------- files


def write_reports(results: Sequence[FuzzResults], out_dir: str | Path) -> dict[str, Path]:
    """Write report.md, report.html and junit.xml into ``out_dir`` (created); returns their paths by kind."""
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    rendered = {"markdown": render_markdown(results), "html": render_html(results), "junit": render_junit(results)}
    paths: dict[str, Path] = {}
    for kind, text in rendered.items():
        path = target / REPORT_FILES[kind]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, "utf-8", newline="\n")
        tmp.replace(path)
        paths[kind] = path
    return paths
