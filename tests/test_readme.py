"""The README starts with exactly two copy-paste commands, and .ci/run runs the second one."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def bash_blocks() -> list[list[str]]:
    return [block.strip().splitlines() for block in re.findall(r"^```bash\n(.*?)^```$", README, re.S | re.M)]


def test_the_readme_opens_with_the_two_commands() -> None:
    first, second = bash_blocks()[:2]
    assert README.index("```bash") < README.index("\n## ")  # before any section
    # one line each: no placeholders, nothing to edit before pasting
    assert first == ["python3 -m pip install -e . && python3 -m chatcontract demo"]
    assert second == ["python3 -m pip install -e '.[test]' && python3 -m pytest"]
    for line in first + second:
        assert "[" not in line.replace("'.[test]'", ""), line
        shlex.split(line)


def test_ci_runs_the_readme_test_command() -> None:
    # .ci/run extracts the second block itself; ask it what it would run without running it
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    extract = re.search(r"cmd=\$\((.*)\)\n", script)
    assert extract is not None
    out = subprocess.run(["bash", "-c", extract.group(1)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == bash_blocks()[1][0]
