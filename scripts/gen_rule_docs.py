"""Write docs/rules/<CODE>.md and docs/rules/README.md from the rule registry (run after changing a rule)."""

from __future__ import annotations

import sys
from pathlib import Path

from chatcontract.rules import RULES

ROOT = Path(__file__).resolve().parent.parent / "docs" / "rules"


def render(code: str) -> str:
    r = RULES[code]
    dialects = ", ".join(sorted(r.dialects))
    head = f"# {r.name} ({r.code})\n\nSeverity: {r.severity.value}. Dialects: {dialects}. Status: {r.status.value} since {r.since}."
    if r.requires_request:
        head += " Runs only when the request is known."
    body = []
    for line in r.doc.splitlines():
        if line and not line.startswith(" ") and line.rstrip(":?") != line and len(line) < 40:
            body.append(f"\n## {line.rstrip(':')}\n")
        else:
            body.append(line[4:] if line.startswith("    ") else line)
    return head + "\n" + "\n".join(body).rstrip() + "\n"


def index() -> str:
    rows = ["# Rules\n", "| code | name | severity | dialects | summary |", "| --- | --- | --- | --- | --- |"]
    for code in sorted(RULES):
        r = RULES[code]
        rows.append(f"| [{code}]({code}.md) | {r.name} | {r.severity.value} | {', '.join(sorted(r.dialects))} | {r.summary} |")
    return "\n".join(rows) + "\n"


def expected() -> dict[Path, str]:
    """Every generated file and its content."""
    files = {ROOT / f"{code}.md": render(code) for code in RULES}
    files[ROOT / "README.md"] = index()
    return files


if __name__ == "__main__":
    ROOT.mkdir(parents=True, exist_ok=True)
    for path, text in expected().items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(RULES) + 1} files to {ROOT}", file=sys.stderr)
