"""The layering of docs/ARCHITECTURE.md, held by the import-linter contracts in pyproject.toml.

A module imports only from the layers below it; the core never imports a front door's heavy dependency; only
``chatcontract.fuzz`` imports schemathesis. The contracts run on the package as it is, and on a copy with one
import running back up, which they must catch.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(package_parent: Path, config: Path) -> subprocess.CompletedProcess[str]:
    # A subprocess: import-linter imports the package under analysis from sys.path (here, the copy's parent).
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True, no_logo=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=package_parent,
        env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_layers() -> None:
    result = lint_imports(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward_import", "contract"),
    [
        ("violations.py", "from . import engine", "Layers"),  # the foundation reaching for the core
        ("rules/consistency.py", "from .. import streams", "Layers"),  # a rule reaching for the stream checker
        ("engine.py", "from . import plugin", "Layers"),  # the core reaching for a front door
        ("report/_shared.py", "import schemathesis", "Only chatcontract.fuzz imports schemathesis"),
        ("streams.py", "import pytest", "The core never imports"),
    ],
)
def test_an_import_running_back_up_is_caught(tmp_path: Path, module: str, upward_import: str, contract: str) -> None:
    copy = tmp_path / "chatcontract"
    shutil.copytree(ROOT / "chatcontract", copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    target = copy / module
    text = target.read_text()
    # after `from __future__ import annotations`, which must stay first
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + upward_import + "  # noqa\n" + rest)
    result = lint_imports(tmp_path, ROOT / "pyproject.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert verdict(result.stdout, contract) == "BROKEN", result.stdout


def verdict(output: str, contract: str) -> str:
    """KEPT or BROKEN, as import-linter's summary says of the contract whose name starts with ``contract``."""
    flat = " ".join(output.split())  # import-linter wraps long contract names
    summary = flat.split("Contracts", 1)[1]
    match = re.search(re.escape(contract) + r".*? (KEPT|BROKEN)\b", summary)
    assert match, output
    return match.group(1)
