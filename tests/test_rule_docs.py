"""Meta-tests: the registry, its docs and its examples agree (as ruff tests its rule docs)."""

from __future__ import annotations

import json
import re

import pytest

from chatcontract import RULES, check, get_rule
from chatcontract.cli import main
from chatcontract.rules import Target

SECTION = re.compile(
    r"^(What it checks|Why is this bad\?|Example|Use instead|Request|Options|References|Status|Dialect)"
    r"(?::\s*(.*))?$"
)


def sections(doc: str) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current = None
    for line in doc.splitlines():
        m = SECTION.match(line)
        if m and not line.startswith(" "):
            current = m.group(1).rstrip("?")
            out[current] = [m.group(2)] if m.group(2) else []
        elif current is not None:
            out[current].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def block(text: str) -> str:
    m = re.search(r"```(?:json|text)\n(.*?)\n\s*```", text, re.S)
    assert m, f"no fenced block in {text!r}"
    return "\n".join(line.strip() for line in m.group(1).splitlines()) + ("\n\n" if "```text" in text else "")


ALL = sorted(RULES)


@pytest.mark.parametrize("code", ALL)
def test_rule_has_required_doc_sections(code):
    rule = RULES[code]
    doc = sections(rule.doc)
    assert doc.get("What it checks"), f"{code} lacks 'What it checks'"
    assert doc.get("Why is this bad"), f"{code} lacks 'Why is this bad?'"
    assert rule.summary and not rule.summary.startswith("What")


@pytest.mark.parametrize("code", ALL)
def test_code_name_and_family(code):
    rule = RULES[code]
    assert re.fullmatch(r"CC\d{3}", code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert not rule.name.startswith(("no-", "disallow-", "banned-"))
    family = {"0": Target.BODY, "3": Target.STREAM, "5": Target.ERROR}.get(code[2])
    if family is Target.ERROR:
        assert rule.target in (Target.ERROR, Target.RESPONSE)
    elif family is not None and rule.check is not None:
        assert rule.target is family
    assert get_rule(code) is rule and get_rule(rule.name) is rule


def test_names_are_unique():
    names = [r.name for r in RULES.values()]
    assert len(names) == len(set(names))


EXAMPLES = [c for c in ALL if "Example" in sections(RULES[c].doc)]


def _run(code, text):
    rule = RULES[code]
    doc = sections(rule.doc)
    dialect = doc.get("Dialect") or ("mistral" if "mistral" in rule.dialects else "openai")
    request = json.loads(block(doc["Request"])) if "Request" in doc else None
    status = int(doc["Status"]) if doc.get("Status") else None
    stream = True if rule.target is Target.STREAM else None
    return check(text, dialect=dialect, request=request, status=status, stream=stream)


@pytest.mark.parametrize("code", EXAMPLES)
def test_doc_example_triggers_the_rule(code):
    report = _run(code, block(sections(RULES[code].doc)["Example"]))
    assert code in report.codes(), str(report)


@pytest.mark.parametrize("code", [c for c in EXAMPLES if "Use instead" in sections(RULES[c].doc)])
def test_doc_use_instead_clears_the_rule(code):
    report = _run(code, block(sections(RULES[code].doc)["Use instead"]))
    assert code not in report.codes(), str(report)


def test_most_rules_have_examples():
    without = {c for c in ALL if c not in EXAMPLES}
    # Parser-level findings that cannot be shown as a JSON example in a docstring, and the engine's own code.
    assert without <= {
        "CC002", "CC003", "CC006", "CC007", "CC105", "CC108", "CC900",
        "CC302", "CC313", "CC314", "CC317", "CC318", "CC319", "CC320",
        # exchange-level findings of the fuzz runner (a request, a status, or no answer at all: tests/fuzz)
        "CC601", "CC602", "CC603", "CC604", "CC605", "CC606",
    }, without


@pytest.mark.parametrize("code", ALL)
def test_cli_rule_prints_the_doc(code, capsys):
    assert main(["rule", code]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {RULES[code].name} ({code})")
    assert "What it checks" in out


def test_generated_docs_are_up_to_date():
    import runpy
    from pathlib import Path

    gen = runpy.run_path(str(Path(__file__).resolve().parent.parent / "scripts" / "gen_rule_docs.py"))
    stale = [p.name for p, text in gen["expected"]().items() if not p.exists() or p.read_text("utf-8") != text]
    assert not stale, f"docs/rules is stale for {stale}: run python3 scripts/gen_rule_docs.py"
