"""The compatibility report as JUnit XML (junit.xml): one test suite per run, one test case per rule."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..rules import RULES, Status
from ._shared import (
    _body_text,
    _cap,
    _clean,
    _example_lines,
    _request_line,
    _response_body,
    _response_head,
    _statuses,
    _text,
    coverage_rows,
    example_views,
    run_labels,
)
from .results import Finding, FuzzResults

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
        *([f"summary: {f.summary}"] if f.summary else []),
        "paths: " + (", ".join(f.paths) or "-"),
    ]
    for title, view in example_views(f):
        lines += ["", title, *_junit_example(view)]
    return _clean("\n".join(lines))


def _junit_example(f: Finding) -> list[str]:
    lines = [f"{k}: {v}" for k, v in _example_lines(f)]
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
    return [line for line in lines if line]


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
            ("requests_per_s", f"{run.requests_per_s:.1f}"),
            ("valid_answered", run.coverage.verdict() if run.coverage is not None else ""),
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
        if run.coverage is not None:
            # the run as a measurement: fails when too few valid requests were answered to have measured anything
            tests += 1
            cov = run.coverage
            name = "coverage: valid requests answered"
            case = ET.SubElement(suite, "testcase", {"classname": classname, "name": name})
            table = "\n".join(f"{feat}: {valid} valid, {done} answered" for feat, valid, done in coverage_rows(run))
            if cov.sufficient:
                ET.SubElement(case, "system-out").text = _clean(cov.verdict() + "\n" + table)
            else:
                failures += 1
                fail = ET.SubElement(case, "failure", {"message": _one_line(cov.verdict()), "type": "coverage"})
                fail.text = _clean(cov.verdict() + "\n" + table)
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
