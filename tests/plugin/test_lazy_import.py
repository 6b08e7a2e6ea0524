"""Loading the plugin costs nothing a suite that does not use chatcontract would notice."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("pydantic", "pydantic_core", "vcr", "yaml", "schemathesis", "hypothesis", "httpx", "jiter", "jsonschema",
         "chatcontract.engine", "chatcontract.contracts", "chatcontract.rules")

CONFTEST = '''
import json, sys

def pytest_sessionfinish(session):
    with open("modules.json", "w") as fh:
        json.dump(sorted(sys.modules), fh)
'''


def test_plugin_imports_only_pytest_and_stdlib(tmp_path):
    # Given a suite that does not use chatcontract, with only our plugin loaded
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    # When it is collected and run
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "chatcontract.plugin", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    modules = set(json.loads((tmp_path / "modules.json").read_text()))
    # Then the plugin is loaded but none of the heavy modules are
    assert "chatcontract.plugin" in modules
    assert sorted(m for m in HEAVY if m in modules) == []


def test_a_broken_setting_is_a_usage_error_at_start_up_even_in_an_unmarked_suite(tmp_path):
    # Given an ini value that cannot work, in a suite with no marked test
    (tmp_path / "pytest.ini").write_text("[pytest]\nchatcontract_url_pattern = ([unclosed\n")
    (tmp_path / "test_plain.py").write_text("def test_one():\n    pass\n")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "chatcontract.plugin", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    # Then pytest stops before collection with a usage error naming the key (exit 4), not with a traceback later
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "chatcontract: ini chatcontract_url_pattern = '([unclosed' is not a valid regex" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
