"""The compatibility report as one self-contained HTML page (report.html): no script, inline CSS, strict CSP."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

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

# ---------------------------------------------------------------------------------------------------------- HTML

_CSS = """
:root { color-scheme: light; --err: #fbe3e1; --err-fg: #8f1d12; --warn: #fff1c7; --warn-fg: #6d4d00;
  --none: #f4f5f7; --none-fg: #8a8f98; --line: #d8dbe0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 1.5em 2em;
  max-width: 1400px; color: #1d2127; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid var(--line); }
h3 { margin: 1.4em 0 .4em; } .muted { color: #5c636e; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid var(--line); padding: .3em .6em; text-align: left; vertical-align: top; }
thead th { background: #eef0f3; position: sticky; top: 0; }
td.num, td.cell { text-align: center; white-space: nowrap; }
td.cell a { color: inherit; font-weight: 600; text-decoration: none; display: block; }
td.cell a:hover, td.cell a:focus { text-decoration: underline; }
.sev-error { background: var(--err); color: var(--err-fg); }
.sev-warning { background: var(--warn); color: var(--warn-fg); }
td.none, td.na { background: var(--none); color: var(--none-fg); }
td.na { font-style: italic; }
.tag { display: inline-block; font-size: .75em; font-weight: 600; padding: 0 .4em; border-radius: 3px;
  border: 1px solid currentColor; margin-left: .3em; text-transform: uppercase; letter-spacing: .03em; }
.verdict-pass { color: #1b6b2a; } .verdict-fail { color: var(--err-fg); } .verdict-error { color: #8a4b00; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: .6em .8em; overflow: auto; max-height: 28em;
  white-space: pre-wrap; overflow-wrap: anywhere; margin: .3em 0 .8em; }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--none-fg); border-radius: 4px;
  padding: .2em 1em .6em; margin: 1em 0; }
.finding.sev-error { border-left-color: #c9372c; background: #fff; color: inherit; }
.finding.sev-warning { border-left-color: #d99a00; background: #fff; color: inherit; }
.finding:target { outline: 3px solid #3b73d9; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; margin: .4em 0; }
dl.facts dt { color: #5c636e; } dl.facts dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
a.up { float: right; font-size: .8em; font-weight: normal; }
details > summary { cursor: pointer; font-weight: 600; margin: .3em 0; }
.legend span { display: inline-block; padding: 0 .5em; margin-right: .5em; border: 1px solid var(--line); }
ul.errors li { color: #8a4b00; }
"""


def _h(value: Any) -> str:
    """HTML-escape display text (after making unsafe characters visible)."""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


class _Page:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def pre(self, text: str, cls: str = "") -> None:
        attr = f' class="{cls}"' if cls else ""
        self.add(f"<pre{attr}><code>{_h(text)}</code></pre>")

    def facts(self, items: Iterable[tuple[str, str]]) -> None:
        self.add('<dl class="facts">')
        for key, value in items:
            self.add(f"<dt>{_h(key)}</dt><dd>{value}</dd>")
        self.add("</dl>")


def _anchor(run_index: int, finding_index: int | None = None) -> str:
    # ids from indices only: codes and labels come from the results file
    return f"run-{run_index + 1}" if finding_index is None else f"run-{run_index + 1}-f{finding_index + 1}"


def _sev(severity: str) -> str:
    """The severity as a CSS class suffix (results built in code may hold anything)."""
    return "error" if severity == "error" else "warning"


def render_html(results: Sequence[FuzzResults]) -> str:
    """One self-contained HTML page (inline CSS, no script, no network): summaries, the matrix, every finding."""
    labels = [_clean(label) for label in run_labels(results)]
    p = _Page()
    p.add(
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Defence in depth: even an escaping bug could neither run script nor load anything.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{_TITLE}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_TITLE}</h1>",
    )
    if not results:
        p.add('<p class="muted">No runs.</p>', "</body>", "</html>")
        return "\n".join(p.parts) + "\n"
    p.add(
        '<p class="muted">'
        + _h(_count(len(results), "run"))
        + ": "
        + ", ".join(
            f'<a href="#{_anchor(i)}">{_h(label)}</a> '
            f'<strong class="verdict-{verdict(r)}">{_h(verdict(r).upper())}</strong>'
            for i, (label, r) in enumerate(zip(labels, results, strict=True))
        )
        + "</p>"
    )

    # run summaries: one column per run
    p.add("<h2>Runs</h2>", '<div class="scroll"><table id="runs">', "<thead><tr><th></th>")
    p.add(*(f'<th scope="col">{_h(label)}</th>' for label in labels))
    p.add("</tr></thead><tbody>")
    fields = [_summary_fields(r) for r in results]
    for i, (name, _) in enumerate(fields[0]):
        cells = []
        for run, run_fields in zip(results, fields, strict=True):
            value = _h(_clean(run_fields[i][1]))
            if name == "verdict":
                value = f'<strong class="verdict-{verdict(run)}">{value}</strong>'
            cells.append(f"<td>{value}</td>")
        p.add(f'<tr><th scope="row">{_h(name)}</th>{"".join(cells)}</tr>')
    p.add("</tbody></table></div>")

    # the matrix
    p.add("<h2>Provider × rule matrix</h2>")
    matrix = _matrix_rows(results)
    finding_ids = {
        (i, f.code): _anchor(i, j)
        for i, run in enumerate(results)
        for j, f in enumerate(sorted(run.findings, key=lambda f: f.code))
    }
    if not matrix:
        p.add('<p id="no-findings">No findings in any run.</p>')
    else:
        p.add(
            '<p class="legend muted">Responses (or exchanges) breaking each rule: '
            '<span class="sev-error">error</span><span class="sev-warning">warning</span>'
            '<span class="none">· none</span><span class="na">n/a: not a rule of the dialect</span> '
            "Click a count for the reproducing request.</p>",
            '<div class="scroll"><table id="matrix">',
            '<thead><tr><th scope="col">code</th><th scope="col">rule</th><th scope="col">severity</th>',
        )
        p.add(*(f'<th scope="col">{_h(label)}</th>' for label in labels))
        p.add("</tr></thead><tbody>")
        for row in matrix:
            code = _h(_clean(row.code))
            p.add(
                f'<tr data-code="{code}"><th scope="row" title="{_h(_clean(row.summary))}"><code>{code}</code></th>'
                f"<td>{_h(_clean(row.name))}</td>"
                f'<td class="sev-{_sev(row.severity)}">{_h(_clean(row.severity))}</td>'
            )
            for i, (label, run) in enumerate(zip(labels, results, strict=True)):
                p.add(_html_cell(run, row, label, finding_ids.get((i, row.code))))
            p.add("</tr>")
        p.add("</tbody></table></div>")

    # findings, run by run
    p.add("<h2>Findings</h2>")
    for i, (label, run) in enumerate(zip(labels, results, strict=True)):
        p.add(f'<section id="{_anchor(i)}">', f"<h3>{_h(label)}</h3>")
        p.facts(
            [
                ("base URL", f"<code>{_h(_clean(run.base_url))}</code>"),
                ("model", _h(_clean(run.model))),
                ("verdict", f'<strong class="verdict-{verdict(run)}">{_h(verdict(run).upper())}</strong>'),
            ]
        )
        if run.errors:
            p.add("<p><strong>Run errors</strong></p>", '<ul class="errors">')
            p.add(*(f"<li><pre>{_h(_clean(_cap(e, 4000)))}</pre></li>" for e in run.errors))
            p.add("</ul>")
        if run.coverage is not None:
            p.add(
                f"<p><strong>Coverage</strong>: {_h(_clean(run.coverage.verdict()))}; "
                f"{_h(_clean(run.coverage.features_verdict()))}.</p>",
                '<div class="scroll"><table class="coverage"><thead><tr><th scope="col">feature</th>'
                '<th scope="col">valid requests</th><th scope="col">answered 2xx</th></tr></thead><tbody>',
            )
            p.add(
                *(
                    f'<tr><th scope="row"><code>{_h(_clean(name))}</code></th>'
                    f"<td>{valid}</td><td>{answered}</td></tr>"
                    for name, valid, answered in coverage_rows(run)
                )
            )
            p.add("</tbody></table></div>")
        if not run.findings:
            p.add('<p class="muted">No findings.</p>')
        for j, f in enumerate(sorted(run.findings, key=lambda f: f.code)):
            _html_finding(p, f, _anchor(i, j))
        p.add("</section>")
    p.add("</body>", "</html>")
    return "\n".join(p.parts) + "\n"


def _html_cell(run: FuzzResults, row: _Row, label: str, anchor: str | None) -> str:
    f = _finding(run, row.code)
    if f is None:
        if not _applies(row.code, run.dialect):
            title = f"{row.code} does not apply to the {run.dialect} dialect"
            return f'<td class="cell na" title="{_h(_clean(title))}">n/a</td>'
        return f'<td class="cell none" title="{_h(_clean(f"{row.code} not found in {label}"))}">·</td>'
    severity = _sev(f.severity)
    title = f"{row.code} {row.name}: {f.count} in {label} ({severity})"
    tag = "err" if severity == "error" else "warn"
    return (
        f'<td class="cell sev-{severity}" data-count="{f.count}" title="{_h(_clean(title))}">'
        f'<a href="#{anchor}">{f.count}<span class="tag">{tag}</span></a></td>'
    )


def _html_finding(p: _Page, f: Finding, anchor: str) -> None:
    severity = _sev(f.severity)
    p.add(
        f'<article class="finding sev-{severity}" id="{anchor}">',
        f"<h4><code>{_h(_clean(f.code))}</code> {_h(_clean(f.name))}"
        f' <span class="tag">{_h(severity)}</span> <span class="muted">× {f.count}</span>'
        ' <a class="up" href="#matrix" title="back to the matrix">↑ matrix</a></h4>',
    )
    if f.summary:
        p.add(f"<p>{_h(_clean(f.summary))}</p>")
    facts = [("count", str(f.count)), ("paths", ", ".join(f"<code>{_h(_clean(x))}</code>" for x in f.paths) or "-")]
    p.facts(facts)
    for title, view in example_views(f):
        p.add(f"<h5>{_h(_clean(title))}</h5>")
        _html_example(p, view)
    p.add("</article>")


def _html_example(p: _Page, f: Finding) -> None:
    facts = []
    for key, value in _example_lines(f):
        facts.append(
            (key, f"<code>{_h(_clean(value))}</code>" if key in ("example path", "actual") else _h(_clean(value)))
        )
    p.facts(facts)
    ex = f.example
    if ex is not None:
        p.add(f"<details open><summary>Request: <code>{_h(_request_line(f))}</code></summary>")
        p.pre(_body_text(ex.request.get("body")), "json")
        p.add("</details>", "<details open><summary>Reproduce with curl</summary>")
        p.pre(_text(ex.curl), "curl")
        p.add("</details>", f"<details><summary>Response: {_h(_response_head(f))}</summary>")
        body = _response_body(f)
        if body is not None:
            p.pre(body, "response")
        p.add("</details>")
