"""The compatibility report as Markdown (report.md): the matrix, then one section per finding with its request."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ._shared import (
    _TITLE,
    _applies,
    _body_text,
    _cap,
    _clean,
    _count,
    _example_lines,
    _finding,
    _matrix_rows,
    _request_line,
    _response_body,
    _response_head,
    _Row,
    _summary_fields,
    _text,
    coverage_rows,
    example_views,
    run_labels,
    verdict,
)
from .results import Finding, FuzzResults

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_BACKTICKS = re.compile(r"`+")


# ---------------------------------------------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    """Inline Markdown text: specials backslash-escaped (no HTML, no links, no emphasis), newlines as <br>."""
    return _MD_SPECIAL.sub(r"\\\1", _clean(text)).replace("\n", "<br>")


def _md_code(text: str, *, cell: bool = False) -> str:
    """An inline code span that survives any content (in a table ``cell``, pipes are escaped as GFM wants)."""
    text = _clean(text).replace("\n", " ")
    if cell:
        text = text.replace("|", "\\|")
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_block(text: str, lang: str = "") -> list[str]:
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", text, fence]


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> list[str]:
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _md_cell(run: FuzzResults, row: _Row) -> str:
    f = _finding(run, row.code)
    if f is None:
        return "·" if _applies(row.code, run.dialect) else "n/a"
    text = str(f.count)
    if f.severity != row.severity:
        text += f" ({_md(f.severity)})"
    return text


def render_markdown(results: Sequence[FuzzResults]) -> str:
    """The report as GitHub-flavoured Markdown: run summaries, the provider x rule matrix, every finding."""
    labels = run_labels(results)
    out = [f"# {_TITLE}", ""]
    if not results:
        return "\n".join([*out, "No runs.", ""])
    out += [
        f"{_count(len(results), 'run')}: "
        + ", ".join(f"{_md(label)} ({verdict(r).upper()})" for label, r in zip(labels, results, strict=True)),
        "",
    ]

    out += ["## Runs", ""]
    fields = [_summary_fields(r) for r in results]
    rows = [[name] + [_md(f[i][1]) for f in fields] for i, (name, _) in enumerate(fields[0])]
    out += _md_table(["", *(_md(label) for label in labels)], rows)
    out.append("")

    out += ["## Provider × rule matrix", ""]
    matrix = _matrix_rows(results)
    if not matrix:
        out += ["No findings in any run.", ""]
    else:
        out += [
            "Responses (or exchanges) breaking each rule; `·` none, `n/a` not a rule of the run's dialect.",
            "",
        ]
        out += _md_table(
            ["code", "rule", "severity", *(_md(label) for label in labels)],
            (
                [_md_code(row.code, cell=True), _md(row.name), _md(row.severity), *(_md_cell(r, row) for r in results)]
                for row in matrix
            ),
            ["---", "---", "---", *(["---:"] * len(results))],
        )
        out.append("")

    out += ["## Findings", ""]
    for label, run in zip(labels, results, strict=True):
        out += [f"### {_md(label)}", ""]
        if run.errors:
            out += ["Run errors:", ""]
            out += [f"- {_md(_cap(e, 2000))}" for e in run.errors]
            out.append("")
        if run.coverage is not None:
            out += [f"Coverage: {_md(run.coverage.verdict())}; {_md(run.coverage.features_verdict())}.", ""]
            out += _md_table(
                ["feature", "valid requests", "answered 2xx"],
                ([_md_code(name, cell=True), valid, answered] for name, valid, answered in coverage_rows(run)),
                ["---", "---:", "---:"],
            )
            out.append("")
        if not run.findings:
            out += ["No findings.", ""]
            continue
        for f in sorted(run.findings, key=lambda f: f.code):
            out += _md_finding(f)
    return "\n".join(out).rstrip("\n") + "\n"


def _md_finding(f: Finding) -> list[str]:
    out = [f"#### {_md(f.code)} {_md(f.name)} ({_md(f.severity)}): {f.count}", ""]
    facts = [("code", _md_code(f.code)), ("name", _md(f.name)), ("severity", _md(f.severity)), ("count", str(f.count))]
    if f.summary:
        facts.append(("summary", _md(f.summary)))
    facts.append(("paths", ", ".join(_md_code(p) for p in f.paths) or "-"))
    out += [f"- {k}: {v}" for k, v in facts]
    out.append("")
    for title, view in example_views(f):
        out += [f"**{_md(title[0].upper() + title[1:])}**", ""]
        out += _md_example(view)
    return out


def _md_example(f: Finding) -> list[str]:
    out = [f"- {k}: {_md_code(v) if k == 'example path' else _md(v)}" for k, v in _example_lines(f)]
    out.append("")
    ex = f.example
    if ex is None:
        return out
    out += [f"Request: {_md_code(_request_line(f))}", ""]
    out += _md_block(_body_text(ex.request.get("body")), "json")
    out += ["", "Reproduce:", ""]
    out += _md_block(_text(ex.curl), "bash")
    out += ["", f"Response: {_md(_response_head(f))}", ""]
    body = _response_body(f)
    if body is not None:
        out += _md_block(body, "text")
        out.append("")
    return out
