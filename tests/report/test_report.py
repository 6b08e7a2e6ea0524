"""`chatcontract report`: the compatibility report rendered from fuzz results (Markdown, JUnit XML, one HTML page)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from chatcontract.cli import main
from chatcontract.report import (
    MAX_SHOWN,
    render_html,
    render_junit,
    render_markdown,
    render_text_matrix,
    run_labels,
    summary_line,
    verdict,
    write_reports,
)
from chatcontract.report.results import Example, Finding, FuzzResults, load_results
from chatcontract.rules import RULES, Status

HOSTILE = "<script>alert('x')</script>"
CONTROL = "nul\x00 bell\x07 esc\x1b[31m vt\x0b ff\x0c del\x7f c1\x85 bidi\u202e"
# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _example(message: str, *, body: Any = None, response: str = '{"id": "x"}', **extra: Any) -> Example:
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]} if body is None else body
    return Example(
        request={
            "method": "POST",
            "url": "http://127.0.0.1:8000/v1/chat/completions",
            "headers": {"Authorization": "Bearer $MISTRAL_API_KEY"},
            "body": body,
        },
        curl="curl -X POST http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' "
        "--data-raw '" + json.dumps(body) + "'",
        response={"status": 200, "content_type": "application/json", "body": response},
        phase="fuzzing",
        mode="positive",
        path=extra.pop("path", "$.created"),
        message=message,
        **extra,
    )


def _finding(code: str, count: int, *, message: str = "", paths: list[str] | None = None, **kw: Any) -> Finding:
    rule = RULES[code]
    return Finding(
        code=code,
        name=rule.name,
        severity=kw.pop("severity", rule.severity.value),
        count=count,
        summary=rule.summary,
        paths=paths if paths is not None else ["$.created"],
        example=kw.pop("example", _example(message or f"{rule.name} broken")),
    )


def _run(provider: str, dialect: str, findings: list[Finding], **kw: Any) -> FuzzResults:
    return FuzzResults(
        provider=provider,
        base_url=kw.pop("base_url", "http://127.0.0.1:8000/v1"),
        dialect=dialect,
        model=kw.pop("model", "ref-small"),
        seed=kw.pop("seed", 7),
        started=kw.pop("started", "2025-01-02T03:04:05Z"),
        duration_s=kw.pop("duration_s", 12.5),
        requests=kw.pop("requests", 120),
        statuses=kw.pop("statuses", {"200": 100, "400": 18, "none": 2}),
        positive=kw.pop("positive", 90),
        negative=kw.pop("negative", 30),
        streams=kw.pop("streams", 25),
        findings=findings,
        chatcontract="0.1.0",
        **kw,
    )


@pytest.fixture
def clean() -> FuzzResults:
    return _run("vllm", "openai", [])


@pytest.fixture
def litellm() -> FuzzResults:
    """Errors, warnings, an openai-only rule and run-level errors."""
    return _run(
        "litellm",
        "openai",
        [
            _finding("CC209", 3, message="created is 1736423701225: milliseconds"),
            _finding("CC201", 5, paths=["$.usage.total_tokens"]),
            _finding("CC313", 1, paths=["$"]),
        ],
        errors=["schemathesis: the OpenAPI document has no server", "connection reset twice"],
        stop_reason="max_requests",
    )


@pytest.fixture
def llamacpp() -> FuzzResults:
    """Overlaps litellm on CC209 and CC201, adds a mistral-only rule."""
    return _run(
        "llamacpp",
        "mistral",
        [_finding("CC209", 2), _finding("CC212", 4, paths=["$.object"]), _finding("CC201", 1)],
        base_url="http://127.0.0.1:9000/v1",
    )


@pytest.fixture
def hostile() -> FuzzResults:
    """Everything a hostile server (or a fuzzed request) can put into the results."""
    huge = "A" * 1_000_000
    body = {"model": HOSTILE, "messages": [{"role": "user", "content": CONTROL + "```" + "\ud800" + huge}]}
    example = _example(
        f'{HOSTILE} | pipe\nnewline {CONTROL} lone \udc80 ``` </pre> ]]> "quoted" [x](javascript:alert(1))',
        body=body,
        response=f"{HOSTILE}<img src=http://evil.example/x.png>{CONTROL}\ud800 url(http://evil.example/a) {huge}",
        path=f"$.choices[0].{HOSTILE}",
        actual=HOSTILE + CONTROL,
    )
    finding = _finding("CC102", 7, paths=[f"$.{HOSTILE}", "$.a|b", "$.`tick`"], example=example)
    return _run(
        f"<img src=http://evil.example/p.png>{CONTROL}",
        "openai",
        [finding],
        model=HOSTILE,
        base_url="javascript:alert(1)//" + HOSTILE,
        errors=[HOSTILE + CONTROL + "\ud800"],
    )


def _applicable(dialect: str) -> set[str]:
    return {r.code for r in RULES.values() if r.applies_to(dialect) and r.status is not Status.REMOVED}


# ------------------------------------------------------------------------------------------------------ labels


def test_run_labels_distinguish_repeated_provider_dialect_pairs(litellm, llamacpp):
    second = copy.deepcopy(litellm)
    assert run_labels([litellm, llamacpp, second]) == [
        "litellm (openai) #1",
        "llamacpp (mistral)",
        "litellm (openai) #2",
    ]


def test_verdict_and_summary_line(clean, litellm, llamacpp):
    assert [verdict(r) for r in (clean, litellm, llamacpp)] == ["pass", "fail", "fail"]
    warned = _run("x", "openai", [_finding("CC201", 2)], errors=["boom"])
    assert verdict(warned) == "error"
    assert verdict(_run("x", "openai", [_finding("CC201", 2)])) == "pass"
    line = summary_line(litellm, "litellm (openai)")
    assert line.startswith("litellm (openai): FAIL: 120 requests, 2 error rules (4 hits), 1 warning rule (5 hits)")
    assert "2 run errors" in line and "stopped: max_requests" in line


# ------------------------------------------------------------------------------------------------------ Markdown


def _md_table(text: str, heading: str) -> list[list[str]]:
    """The first table after ``heading`` as rows of cells (header row first, separator dropped)."""
    lines = text.split("\n")
    start = lines.index(heading)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif rows:
            break
    return [rows[0], *rows[2:]]


def test_markdown_summary_and_matrix(clean, litellm, llamacpp):
    md = render_markdown([litellm, llamacpp, clean])
    assert md.startswith("# chatcontract compatibility report\n")
    summary = _md_table(md, "## Runs")
    assert summary[0] == ["", "litellm (openai)", "llamacpp (mistral)", "vllm (openai)"]
    by_field = {row[0]: row[1:] for row in summary[1:]}
    assert by_field["verdict"] == ["FAIL", "FAIL", "PASS"]
    assert by_field["base URL"][1] == "http://127.0.0.1:9000/v1"
    assert by_field["statuses"][0] == "200: 100, 400: 18, none: 2"
    assert by_field["positive / negative / streams"][0] == "90 / 30 / 25"
    assert by_field["error findings"] == ["2 rules, 4 hits", "1 rule, 2 hits", "0 rules, 0 hits"]
    assert by_field["run errors"] == ["2", "0", "0"]
    assert by_field["stop reason"][0] == "max\\_requests"

    matrix = _md_table(md, "## Provider × rule matrix")
    assert matrix[0] == ["code", "rule", "severity", "litellm (openai)", "llamacpp (mistral)", "vllm (openai)"]
    assert [row[0] for row in matrix[1:]] == ["`CC201`", "`CC209`", "`CC212`", "`CC313`"]  # sorted, only found
    cells = {row[0].strip("`"): row[1:] for row in matrix[1:]}
    assert cells["CC201"] == ["usage-total-mismatch", "warning", "5", "1", "·"]
    assert cells["CC209"] == ["implausible-created", "error", "3", "2", "·"]
    assert cells["CC212"] == ["unexpected-object-value", "warning", "n/a", "4", "n/a"]  # mistral only
    assert cells["CC313"] == ["requested-usage-missing", "error", "1", "n/a", "·"]  # openai only


def test_text_matrix(clean, litellm, llamacpp):
    lines = render_text_matrix([litellm, llamacpp, clean]).splitlines()
    assert lines[1].split() == ["rule", "name", "severity", "litellm", "llamacpp", "vllm"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert list(rows) == ["CC201", "CC209", "CC212", "CC313"]
    assert rows["CC201"] == ["usage-total-mismatch", "warning", "5", "1", "."]
    assert rows["CC212"] == ["unexpected-object-value", "warning", "n/a", "4", "n/a"]
    assert rows["CC313"] == ["requested-usage-missing", "error", "1", "n/a", "."]


def test_markdown_findings_sections(litellm):
    md = render_markdown([litellm])
    section = md.split("### litellm (openai)")[1]
    assert "Run errors:" in section and "- connection reset twice" in section
    # per finding, sorted by code
    assert section.index("#### CC201") < section.index("#### CC209") < section.index("#### CC313")
    cc209 = section.split("#### CC209")[1].split("#### ")[0]
    assert "implausible-created (error): 3" in cc209
    assert "- count: 3" in cc209
    assert "- paths: `$.created`" in cc209
    assert "- example message: created is 1736423701225: milliseconds" in cc209
    assert '```json\n{\n  "model": "m",' in cc209
    assert "```bash\ncurl -X POST http://127.0.0.1:8000/v1/chat/completions" in cc209
    assert 'Response: status 200, application/json\n\n```text\n{"id": "x"}\n```' in cc209


def test_markdown_clean_run_and_no_findings(clean):
    md = render_markdown([clean])
    assert "No findings in any run." in md
    assert "### vllm (openai)\n\nNo findings." in md
    assert render_markdown([]) == "# chatcontract compatibility report\n\nNo runs.\n"


def test_markdown_escapes_hostile_content(hostile):
    md = render_markdown([hostile])
    md.encode("utf-8")  # no lone surrogate left
    assert not XML_ILLEGAL.search(md) and "\x1b" not in md and "\u202e" not in md
    assert "\\x00" in md and "\\x1b" in md and "\\ud800" in md and "\\u202e" in md
    # outside code blocks nothing is HTML, a link, or a table-breaking pipe/newline
    prose = re.sub(r"(?ms)^(`{3,})[a-z]*\n.*?^\1$", "", md)
    prose = re.sub(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", "", prose)  # inline code spans are not HTML either
    assert not re.search(r"(?<!\\)<(?!br>)", prose)  # every < is backslash-escaped but our own <br>
    assert "\\<script\\>" in prose
    assert "[x](javascript" not in prose
    for line in prose.split("\n"):
        if line.startswith("| "):
            # the runs table: "", field, the run, ""; the matrix: "", code, rule, severity, the run, ""
            assert len(re.split(r"(?<!\\)\|", line)) in (4, 6), line
    assert "- paths: `$.<script>alert('x')</script>`, `$.a|b`, `` $.`tick` ``\n" in md
    # a code block holding ``` gets a longer fence
    assert "````json\n" in md
    assert len(md) < 100_000  # the 1 MB payloads are cut
    assert f"...(cut: {len(hostile.findings[0].example.response['body'])} characters in all)" in md
    assert max(len(block) for block in md.split("```")) < MAX_SHOWN + 1000


# ------------------------------------------------------------------------------------------------------ JUnit


def test_junit_structure_and_counts(clean, litellm, llamacpp):
    xml = render_junit([litellm, llamacpp, clean])
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "chatcontract fuzz: litellm (openai)",
        "chatcontract fuzz: llamacpp (mistral)",
        "chatcontract fuzz: vllm (openai)",
    ]
    expected = [
        (len(_applicable("openai")) + 1, 2, 1),  # CC209 + CC313 fail, CC201 is a warning; the run-errors case
        (len(_applicable("mistral")), 1, 0),
        (len(_applicable("openai")), 0, 0),
    ]
    for suite, (tests, failures, errors) in zip(suites, expected, strict=True):
        cases = suite.findall("testcase")
        assert (int(suite.get("tests")), int(suite.get("failures")), int(suite.get("errors"))) == (
            tests,
            failures,
            errors,
        )
        assert len(cases) == tests
        assert sum(1 for c in cases if c.find("failure") is not None) == failures
        assert sum(1 for c in cases if c.find("error") is not None) == errors
        assert suite.get("skipped") == "0"
    assert int(root.get("tests")) == sum(e[0] for e in expected)
    assert int(root.get("failures")) == 3 and int(root.get("errors")) == 1

    cases = {c.get("name"): c for c in suites[0].findall("testcase")}
    assert all(c.get("classname") == "chatcontract.litellm" for c in cases.values())
    assert "CC212 unexpected-object-value" not in cases  # mistral only
    failure = cases["CC209 implausible-created"].find("failure")
    assert failure is not None
    assert failure.get("message") == "3 responses: created is 1736423701225: milliseconds"
    assert "paths: $.created" in failure.text
    assert "curl -X POST http://127.0.0.1:8000/v1/chat/completions" in failure.text
    assert '"model": "m"' in failure.text
    warning = cases["CC201 usage-total-mismatch"]
    assert warning.find("failure") is None
    assert "warning: CC201 usage-total-mismatch (warning): 5 responses" in warning.find("system-out").text
    assert cases["CC001 invalid-json"].find("*") is None  # passed
    error = cases["run errors"].find("error")
    assert error.get("message") == "schemathesis: the OpenAPI document has no server"
    assert "connection reset twice" in error.text
    props = {p.get("name"): p.get("value") for p in suites[1].find("properties")}
    assert props["base_url"] == "http://127.0.0.1:9000/v1" and props["seed"] == "7"


def test_junit_unknown_code_gets_its_own_testcase():
    finding = Finding(code="CC999", name="from-the-future", severity="error", count=1)
    suite = ET.fromstring(render_junit([_run("x", "openai", [finding])])).find("testsuite")
    names = [c.get("name") for c in suite.findall("testcase")]
    assert "CC999 from-the-future" in names
    assert suite.get("tests") == str(len(_applicable("openai")) + 1) and suite.get("failures") == "1"


def test_junit_hostile_content_is_well_formed(hostile):
    xml = render_junit([hostile])
    assert not XML_ILLEGAL.search(xml)
    xml.encode("utf-8")
    root = ET.fromstring(xml.encode("utf-8"))  # bytes: the declared encoding is honoured
    suite = root.find("testsuite")
    failure = next(c for c in suite.findall("testcase") if c.get("name") == "CC102 wrong-type").find("failure")
    assert HOSTILE in failure.get("message")  # escaped in the file, the parser gives the text back
    assert "\\x00" in failure.text and "\\ud800" in failure.text
    assert "\n" not in failure.get("message")
    assert len(xml) < 100_000
    assert suite.find("testcase[@name='run errors']/error") is not None


# ------------------------------------------------------------------------------------------------------ HTML


class _Audit(HTMLParser):
    """Every tag, attribute and style text of a page, to prove it loads nothing and runs nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _audit(page: str) -> _Audit:
    audit = _Audit()
    audit.feed(page)
    audit.close()
    return audit


def _assert_self_contained(page: str) -> None:
    audit = _audit(page)
    names = {tag for tag, _ in audit.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "frame", "base", "form", "video"}
    for tag, attrs in audit.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "action", "srcset", "poster", "data"):
                assert value is not None and value.startswith("#"), (tag, name, value)
            if name == "style":
                assert "url(" not in (value or "")
    css = "".join(audit.styles)
    assert "url(" not in css and "@import" not in css and "http" not in css
    allowed = {"lang", "charset", "name", "content", "http-equiv", "class", "id", "href", "title", "scope", "open"}
    assert {name for _, attrs in audit.tags for name in attrs} <= allowed | {"data-code", "data-count"}


def _matrix_from_html(page: str) -> dict[str, list[str]]:
    """code -> [name, severity, cell texts...] from <table id="matrix">, and the header under ""."""

    class Matrix(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None
            self.in_tag = False

        def handle_starttag(self, tag, attrs):
            if tag == "table" and dict(attrs).get("id") == "matrix":
                self.depth = 1
            elif self.depth and tag == "tr":
                self.rows.append([])
            elif self.depth and tag in ("td", "th"):
                self.cell = []
            elif self.depth and tag == "span" and dict(attrs).get("class") == "tag":
                self.in_tag = True

        def handle_endtag(self, tag):
            if tag == "table":
                self.depth = 0
            elif self.depth and tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell).strip())
                self.cell = None
            elif tag == "span":
                self.in_tag = False

        def handle_data(self, data):
            if self.cell is not None and not self.in_tag:
                self.cell.append(data)

    parser = Matrix()
    parser.feed(page)
    return {row[0] if i else "": row[1:] for i, row in enumerate(parser.rows)}


def test_html_matrix_and_summary(clean, litellm, llamacpp):
    page = render_html([litellm, llamacpp, clean])
    assert page.startswith("<!DOCTYPE html>")
    matrix = _matrix_from_html(page)
    assert matrix[""] == ["rule", "severity", "litellm (openai)", "llamacpp (mistral)", "vllm (openai)"]
    assert matrix["CC201"] == ["usage-total-mismatch", "warning", "5", "1", "·"]
    assert matrix["CC209"] == ["implausible-created", "error", "3", "2", "·"]
    assert matrix["CC212"] == ["unexpected-object-value", "warning", "n/a", "4", "n/a"]
    assert matrix["CC313"] == ["requested-usage-missing", "error", "1", "n/a", "·"]
    assert list(matrix) == ["", "CC201", "CC209", "CC212", "CC313"]
    # colour is not the only signal: every count cell has a severity tag and a title
    cells = re.findall(r'<td class="cell (sev-\w+)" data-count="(\d+)" title="([^"]*)"><a href="(#[^"]+)">', page)
    assert len(cells) == 6
    assert ("sev-error", "3", "CC209 implausible-created: 3 in litellm (openai) (error)") == cells[2][:3]
    # each count links to its finding, which holds the example request, the curl line and the response
    for *_, anchor in cells:
        article = page.split(f'id="{anchor[1:]}"')[1].split("</article>")[0]
        assert "curl -X POST" in article and "&quot;model&quot;: &quot;m&quot;" in article
        assert "Response: status 200, application/json" in article
    assert 'id="runs"' in page and "schemathesis: the OpenAPI document has no server" in page
    _assert_self_contained(page)


def test_html_clean_run(clean):
    page = render_html([clean])
    assert 'id="no-findings"' in page and 'id="matrix"' not in page
    _assert_self_contained(page)
    _assert_self_contained(render_html([]))


def test_html_escapes_hostile_content(hostile):
    page = render_html([hostile])
    page.encode("utf-8")
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert not XML_ILLEGAL.search(page) and "\x1b" not in page and "\u202e" not in page and "\x85" not in page
    assert "\\x1b" in page and "\\ud800" in page and "\\udc80" in page
    assert "javascript:" not in re.sub(r">[^<]*<", "><", page)  # only ever in text, never in markup
    assert len(page) < 100_000
    _assert_self_contained(page)
    matrix = _matrix_from_html(page)
    assert matrix["CC102"] == ["wrong-type", "error", "7"]


# ------------------------------------------------------------------------------------------------------ files, CLI


def test_results_round_trip_and_write_reports(tmp_path, litellm, llamacpp):
    for run in (litellm, llamacpp):
        run.findings[0].example.actual = {"created": 1736423701225, "text": CONTROL}
        run.write(tmp_path / run.provider / "results.json")
    loaded = [load_results(tmp_path / "litellm" / "results.json"), load_results(tmp_path / "llamacpp")]
    assert loaded == [litellm, llamacpp]
    paths = write_reports(loaded, tmp_path / "out" / "nested")
    assert {k: p.name for k, p in paths.items()} == {
        "markdown": "report.md",
        "html": "report.html",
        "junit": "junit.xml",
    }
    assert paths["markdown"].read_text("utf-8") == render_markdown([litellm, llamacpp])
    assert paths["html"].read_text("utf-8") == render_html([litellm, llamacpp])
    assert paths["junit"].read_bytes() == render_junit([litellm, llamacpp]).encode("utf-8")
    assert sorted(p.name for p in paths["html"].parent.iterdir()) == ["junit.xml", "report.html", "report.md"]


def test_renderers_are_deterministic(litellm, llamacpp, hostile):
    runs = [litellm, llamacpp, hostile]
    for render in (render_markdown, render_junit, render_html):
        assert render(runs) == render(copy.deepcopy(runs))


def test_cli_report(tmp_path, capsys, litellm, llamacpp, clean):
    litellm.write(tmp_path / "a" / "results.json")
    llamacpp.write(tmp_path / "b" / "results.json")
    clean.write(tmp_path / "c.json")
    out = tmp_path / "report"
    code = main(
        [
            "report",
            str(tmp_path / "a" / "results.json"),
            str(tmp_path / "b"),
            str(tmp_path / "c.json"),
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[:3] == [str(out / "report.md"), str(out / "report.html"), str(out / "junit.xml")]
    assert lines[3].startswith("litellm (openai): FAIL: 120 requests, 2 error rules")
    assert lines[4].startswith("llamacpp (mistral): FAIL")
    assert lines[5].startswith("vllm (openai): PASS: 120 requests, 0 error rules")
    assert len(lines) == 6 and captured.err == ""
    assert (out / "report.md").read_text("utf-8") == render_markdown([litellm, llamacpp, clean])


def test_cli_report_default_out(tmp_path, capsys, monkeypatch, clean):
    clean.write(tmp_path / "run" / "results.json")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "run"]) == 0
    assert (tmp_path / "chatcontract-report" / "report.html").is_file()
    assert capsys.readouterr().out.splitlines()[0] == str(Path("chatcontract-report") / "report.md")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such results file"),
        ("{not json", "not JSON"),
        ('{"format": 99}', "unsupported results format 99"),
        (
            '{"format": 1, "provider": "p", "base_url": "u", "dialect": "openai", "model": "m", "requests": -1}',
            "requests must be a non-negative integer",
        ),
    ],
)
def test_cli_report_bad_results_file(tmp_path, capsys, content, reason):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.startswith("chatcontract: error: ") and str(path) in err and reason in err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written when an input is bad


def test_cli_report_directory_without_results(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert f"{tmp_path / 'results.json'}: no such results file" in capsys.readouterr().err


def test_cli_report_needs_a_results_argument(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report"])
    assert exc.value.code == 2
    assert "RESULTS" in capsys.readouterr().err


def test_cli_report_unwritable_out(tmp_path, capsys, clean):
    clean.write(tmp_path / "results.json")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["report", str(tmp_path), "--out", str(blocker)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"chatcontract: cannot write {blocker}")


# ------------------------------------------------------------------------------------------------------ Chromium

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (and we may); the test fails if it cannot be had."""
    found = shutil.which("chromium")
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        if subprocess.run(install, env=env, capture_output=True, timeout=1200).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
            subprocess.run(install, env=env, capture_output=True, timeout=1200)
        found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "chromium is not installed and could not be installed (needs root and apt-get: apt-get install chromium)"
        )
    return found


def _run_chromium(binary: str, args: list[str], tmp_path: Path) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # chromium's zygote and renderers are in the group we started
        proc.communicate()
        pytest.fail(f"chromium did not finish in 60 s: {' '.join(cmd)}")
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {err[-2000:]}"
    return out


def test_html_renders_in_headless_chromium(chromium, tmp_path, litellm, llamacpp, clean, hostile):
    paths = write_reports([litellm, llamacpp, clean, hostile], tmp_path / "report")
    url = paths["html"].resolve().as_uri()
    dom = _run_chromium(chromium, ["--dump-dom", url], tmp_path)
    assert '<table id="matrix">' in dom
    matrix = _matrix_from_html(dom)
    header = matrix[""]
    assert header[:5] == ["rule", "severity", "litellm (openai)", "llamacpp (mistral)", "vllm (openai)"]
    assert header[5].startswith("<img src=http://evil.example/p.png>")  # shown as text, not an element
    assert matrix["CC209"] == ["implausible-created", "error", "3", "2", "·", "·"]
    assert matrix["CC212"] == ["unexpected-object-value", "warning", "n/a", "4", "n/a", "n/a"]
    assert matrix["CC102"] == ["wrong-type", "error", "·", "·", "·", "7"]
    assert list(matrix) == ["", "CC102", "CC201", "CC209", "CC212", "CC313"]
    # the hostile payloads stayed text in the browser's DOM
    audit = _audit(dom)
    assert not {tag for tag, _ in audit.tags} & {"script", "img", "iframe"}

    shot = tmp_path / "shot.png"
    _run_chromium(chromium, [f"--screenshot={shot}", "--window-size=1280,900", url], tmp_path)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1280 and int.from_bytes(data[20:24], "big") == 900
    assert len(data) > 20_000  # a rendered page, not a blank one
