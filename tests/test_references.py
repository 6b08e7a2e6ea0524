"""Every reference the project prints or ships can be followed by a user: public URLs and the project's own files.

No citation of the team's private notes (``DIVERGENCES #n``, ``PROVIDERS.md``) and no absolute path of a developer's
machine, in the fault catalogue that ``chatcontract serve --list-faults`` prints nor in any shipped file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from chatcontract.provider import FAULTS

REPO = Path(__file__).resolve().parent.parent
PRIVATE = re.compile(r"DIVERGENCES #|PROVIDERS\.md|/work/shared|/work/main|aioc extensions")


def test_list_faults_cites_only_public_sources() -> None:
    out = subprocess.run([sys.executable, "-m", "chatcontract", "serve", "--list-faults"], capture_output=True,
                         text=True, check=True, cwd=REPO).stdout
    assert PRIVATE.search(out) is None, PRIVATE.search(out)
    assert out.count("source: ") == len(FAULTS)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_fault_source_can_be_followed(name: str) -> None:
    source = FAULTS[name].source
    assert PRIVATE.search(source) is None, source
    urls = re.findall(r"https://github\.com/[\w.-]+/[\w.-]+/issues/\d+", source)
    files = re.findall(r"cassettes/[\w/.-]+\.yaml", source)
    rules = re.findall(r"chatcontract rule (CC\d{3})", source)
    assert urls or files or rules or source.startswith("contract: "), source
    for path in files:
        assert (REPO / path).is_file(), path


def test_no_file_of_the_project_names_a_developers_machine() -> None:
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True, cwd=REPO).stdout
    offenders = []
    for rel in tracked.splitlines():
        path = REPO / rel
        if path.suffix not in {".py", ".md", ".toml", ".yaml", ".yml", ".txt", ".c", ".pyi", ".cfg", ".ini", ""}:
            continue
        if rel == "tests/test_references.py" or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{rel}: {m.group(0)}" for m in re.finditer(r"/work/(?:shared|main)\S*", text)]
    assert offenders == []
