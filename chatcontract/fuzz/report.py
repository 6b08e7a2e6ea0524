r"""The compatibility report: ``chatcontract report`` renders fuzz results as Markdown, JUnit XML and one HTML page.

Every renderer is a pure function of a list of :class:`~chatcontract.fuzz.results.FuzzResults` (one per run,
in the order given; each run is a column) and is deterministic: the same results give the same bytes.

The results come from servers under test, so every string in them is hostile until escaped: the renderers
escape HTML, Markdown and XML, show control characters, lone surrogates and bidirectional overrides as visible
``\xNN`` / ``\uNNNN`` escapes (XML 1.0 forbids most of them, and a lone surrogate cannot even be encoded as UTF-8),
and cut every payload to :data:`MAX_SHOWN` characters.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..rules import RULES, Status
from .results import Finding, FuzzResults

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

#: Longest payload (request body, curl line, response excerpt) shown, in characters.
MAX_SHOWN = 8000
#: The files :func:`write_reports` writes, by kind.
REPORT_FILES = {"markdown": "report.md", "html": "report.html", "junit": "junit.xml"}

_TITLE = "chatcontract compatibility report"
# C0 controls but tab and newline, DEL and C1, lone surrogates, the XML non-characters, bidi embeddings/isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_BACKTICKS = re.compile(r"`+")


# --------------------------------------------------------------------------------------------------- shared pieces


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _clean(text: str) -> str:
    """``text`` with every character unsafe in XML 1.0 / UTF-8 / a terminal shown as a visible escape."""
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def _cap(text: str, limit: int = MAX_SHOWN) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n...(cut: {len(text)} characters in all)"


def _text(value: Any, limit: int = MAX_SHOWN) -> str:
    """Any value as clean, capped display text (strings as they are, the rest as compact JSON)."""
    if isinstance(value, str):
        return _clean(_cap(value, limit))
    return _clean(_cap(_json(value, indent=None), limit))


def _json(value: Any, *, indent: int | None = 2) -> str:
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _body_text(body: Any) -> str:
    """A request body pretty-printed as JSON (a string body is parsed when it is JSON, shown raw otherwise)."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            return _clean(_cap(body))
    return _clean(_cap(_json(body)))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _status_key(status: str) -> tuple[int, int, str]:
    return (0, int(status), "") if status.isdigit() else (1, 0, status)


def _statuses(statuses: Mapping[str, int]) -> str:
    if not statuses:
        return "none"
    return ", ".join(f"{k}: {statuses[k]}" for k in sorted(statuses, key=_status_key))


def _duration(seconds: float) -> str:
    if seconds >= 60:
        minutes, rest = divmod(seconds, 60)
        return f"{int(minutes)} min {rest:.1f} s"
    return f"{seconds:.1f} s"


def _by_severity(run: FuzzResults, severity: str) -> list[Finding]:
    return [f for f in run.findings if f.severity == severity]


def verdict(run: FuzzResults) -> str:
    """``fail`` (a finding of severity error), ``error`` (the run itself had problems) or ``pass``."""
    if not run.ok:
        return "fail"
    if run.errors or run.stop_reason == "server_unavailable":
        return "error"
    return "pass"


def run_labels(results: Sequence[FuzzResults]) -> list[str]:
    """One distinct label per run: ``provider (dialect)``, numbered ``#2``, ``#3``... when a pair repeats."""
    bases = [f"{r.provider} ({r.dialect})" for r in results]
    labels: list[str] = []
    seen: set[str] = set()
    for base in bases:
        label, n = base, 1
        if bases.count(base) > 1:
            label = f"{base} #{n}"
        while label in seen:
            n += 1
            label = f"{base} #{n}"
        seen.add(label)
        labels.append(label)
    return labels


def summary_line(run: FuzzResults, label: str | None = None) -> str:
    """One line about a run, as ``chatcontract report`` prints it."""
    errors, warnings = _by_severity(run, "error"), _by_severity(run, "warning")
    parts = [
        _count(run.requests, "request"),
        f"{_count(len(errors), 'error rule')} ({_count(sum(f.count for f in errors), 'hit')})",
        f"{_count(len(warnings), 'warning rule')} ({_count(sum(f.count for f in warnings), 'hit')})",
    ]
    if run.errors:
        parts.append(_count(len(run.errors), "run error"))
    parts.append(f"stopped: {run.stop_reason}")
    name = label if label is not None else f"{run.provider} ({run.dialect})"
    return _clean(f"{name}: {verdict(run).upper()}: {', '.join(parts)}").replace("\n", " ")


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of the provider x rule matrix."""

    code: str
    name: str
    severity: str
    summary: str


def _matrix_rows(results: Sequence[FuzzResults]) -> list[_Row]:
    """Every rule code with a finding in any run, sorted by code; name and severity from the registry if known."""
    first: dict[str, Finding] = {}
    for run in results:
        for f in run.findings:
            first.setdefault(f.code, f)
    rows = []
    for code in sorted(first):
        rule = RULES.get(code)
        f = first[code]
        if rule is not None:
            rows.append(_Row(code, rule.name, rule.severity.value, rule.summary))
        else:
            rows.append(_Row(code, f.name, f.severity, f.summary))
    return rows


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


def _finding(run: FuzzResults, code: str) -> Finding | None:
    return next((f for f in run.findings if f.code == code), None)


def _applies(code: str, dialect: str) -> bool:
    rule = RULES.get(code)
    return rule is None or rule.applies_to(dialect)


def _summary_fields(run: FuzzResults) -> list[tuple[str, str]]:
    errors, warnings = _by_severity(run, "error"), _by_severity(run, "warning")
    return [
        ("provider", run.provider),
        ("run", "proxy (a client's traffic, observed)" if run.kind == "proxy" else "fuzz (generated requests)"),
        ("dialect", run.dialect),
        ("model", run.model),
        ("base URL", run.base_url),
        ("started", run.started or "-"),
        ("seed", "-" if run.seed is None else str(run.seed)),
        ("requests", str(run.requests)),
        ("statuses", _statuses(run.statuses)),
        ("positive / negative / streams", f"{run.positive} / {run.negative} / {run.streams}"),
        ("unchecked requests (other paths)", str(run.unchecked) if run.kind == "proxy" else "-"),
        ("stop reason", run.stop_reason),
        ("duration", _duration(run.duration_s)),
        ("error findings", f"{_count(len(errors), 'rule')}, {_count(sum(f.count for f in errors), 'hit')}"),
        ("warning findings", f"{_count(len(warnings), 'rule')}, {_count(sum(f.count for f in warnings), 'hit')}"),
        ("run errors", str(len(run.errors))),
        ("chatcontract", run.chatcontract or "-"),
        ("verdict", verdict(run).upper()),
    ]


def _example_lines(f: Finding) -> list[tuple[str, str]]:
    """The example's one-line facts (label, text), for every format."""
    ex = f.example
    if ex is None:
        return []
    lines = [("example path", ex.path), ("example message", ex.message)]
    if ex.actual is not None:
        lines.append(("actual", _text(ex.actual, 500)))
    if ex.phase or ex.mode:
        lines.append(("generated", " ".join(p for p in (ex.mode, ex.phase and f"({ex.phase} phase)") if p)))
    return lines


def _request_line(f: Finding) -> str:
    ex = f.example
    if ex is None:
        return ""
    return f"{_text(ex.request.get('method', ''), 20)} {_text(ex.request.get('url', ''), 500)}".strip()


def _response_head(f: Finding) -> str:
    ex = f.example
    if ex is None or ex.response is None:
        return "no response (timeout or connection error)"
    status = _text(ex.response.get("status", "?"), 20)
    ctype = _text(ex.response.get("content_type") or "no content type", 200)
    return f"status {status}, {ctype}"


def _response_body(f: Finding) -> str | None:
    ex = f.example
    if ex is None or ex.response is None:
        return None
    return _text(ex.response.get("body", ""))


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
    facts += [(k, _md_code(v) if k == "example path" else _md(v)) for k, v in _example_lines(f)]
    out += [f"- {k}: {v}" for k, v in facts]
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


# ---------------------------------------------------------------------------------------------------------- JUnit


def _junit_rules(run: FuzzResults) -> list[tuple[str, str]]:
    """(code, name) of every testcase: the registry's rules for the dialect, then any other code found."""
    cases = {r.code: r.name for r in RULES.values() if r.applies_to(run.dialect) and r.status is not Status.REMOVED}
    for f in run.findings:
        cases.setdefault(f.code, f.name)
    return sorted(cases.items())


def _junit_details(f: Finding) -> str:
    lines = [
        f"{f.code} {f.name} ({f.severity}): {f.count} responses",
        f"summary: {f.summary}" if f.summary else "",
        "paths: " + (", ".join(f.paths) or "-"),
    ]
    lines += [f"{k}: {v}" for k, v in _example_lines(f)]
    ex = f.example
    if ex is not None:
        lines += [
            f"request: {_request_line(f)}",
            "request body:",
            _body_text(ex.request.get("body")),
            "reproduce:",
            _text(ex.curl),
            f"response: {_response_head(f)}",
        ]
        body = _response_body(f)
        if body is not None:
            lines.append(body)
    return _clean("\n".join(line for line in lines if line))


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(_clean(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def render_junit(results: Sequence[FuzzResults]) -> str:
    """JUnit XML: a testsuite per run, a testcase per rule of the run's dialect (errors fail, warnings pass)."""
    root = ET.Element("testsuites", {"name": "chatcontract fuzz"})
    totals = [0, 0, 0]
    total_time = 0.0
    for label, run in zip(run_labels(results), results, strict=True):
        suite = ET.SubElement(root, "testsuite", {"name": _clean(f"chatcontract fuzz: {label}")})
        tests = failures = errors = 0
        props = ET.SubElement(suite, "properties")
        for key, value in [
            ("provider", run.provider),
            ("dialect", run.dialect),
            ("model", run.model),
            ("base_url", run.base_url),
            ("seed", "" if run.seed is None else str(run.seed)),
            ("requests", str(run.requests)),
            ("statuses", _statuses(run.statuses)),
            ("stop_reason", run.stop_reason),
            ("kind", run.kind),
            ("chatcontract", run.chatcontract),
        ]:
            ET.SubElement(props, "property", {"name": key, "value": _one_line(value, 2000)})
        classname = _clean(f"chatcontract.{run.provider}")
        findings = {f.code: f for f in run.findings}
        for code, name in _junit_rules(run):
            tests += 1
            case = ET.SubElement(suite, "testcase", {"classname": classname, "name": _clean(f"{code} {name}")})
            f = findings.get(code)
            if f is None:
                continue
            message = f"{f.count} responses: {f.example.message if f.example else f.summary}"
            if f.severity == "error":
                failures += 1
                fail = ET.SubElement(case, "failure", {"message": _one_line(message), "type": _clean(f.code)})
                fail.text = _junit_details(f)
            else:
                out = ET.SubElement(case, "system-out")
                out.text = "warning: " + _junit_details(f)
        if run.errors:
            tests += 1
            errors += 1
            case = ET.SubElement(suite, "testcase", {"classname": classname, "name": "run errors"})
            err = ET.SubElement(case, "error", {"message": _one_line(run.errors[0]), "type": "run-error"})
            err.text = _clean("\n".join(_cap(e, 4000) for e in run.errors))
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", "0")
        suite.set("time", f"{run.duration_s:.3f}")
        if run.started:
            suite.set("timestamp", _one_line(run.started, 100))
        totals[0] += tests
        totals[1] += failures
        totals[2] += errors
        total_time += run.duration_s
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


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
    p.add("</article>")


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
