"""``scripts/record_cassettes.py`` re-records the repository's cassettes from the real providers.

These tests start llama-cpp-python's server and the LiteLLM proxy (the session fixtures of
``tests/providers/fixtures.py``; installed once into cached venvs) and record into temporary folders, never into
the repository's ``cassettes/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatcontract.cassettes import audit, load_cassette
from scripts import record_cassettes
from scripts.record_cassettes import LITELLM_KEY_ENV, SCENARIOS, RecordingError, record, scenario_paths

from ._repo_cassettes import CASSETTES, REPO, codes_by_cassette, relpaths

# The providers' session fixtures (`llamacpp`, `litellm`), registered once per session under this name: when
# tests/providers/conftest.py has registered them already, this is a no-op, and the other way round.
pytest_plugins = ["tests.providers.fixtures"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != LITELLM_KEY_ENV}
    return {**env, **extra}


def test_record_into_a_temp_dir(tmp_path: Path, llamacpp, litellm) -> None:
    # When every scenario is recorded against the real providers
    results = record(tmp_path, llamacpp=llamacpp, litellm=litellm)
    # Then the same cassettes as the committed ones exist, one per scenario, and they audit clean
    assert relpaths(tmp_path) == relpaths(CASSETTES) == sorted(scenario_paths())
    assert [r.scenario for r in results] == list(SCENARIOS)
    assert audit(tmp_path) == []
    assert not list(tmp_path.glob(".recording-*"))  # the staging folder is gone
    for path in tmp_path.rglob("*.yaml"):
        assert litellm.api_key not in path.read_text()
    # And each interaction got the committed recording's status
    for rel in relpaths(tmp_path):
        fresh = [it.response.status for it in load_cassette(tmp_path / rel).interactions]
        committed = [it.response.status for it in load_cassette(CASSETTES / rel).interactions]
        assert fresh == committed, rel
    # And a re-recording shows the same deviations: the expectations in pyproject.toml still hold
    assert codes_by_cassette(tmp_path) == codes_by_cassette(CASSETTES)


def test_the_command_records_against_running_servers(tmp_path: Path, llamacpp, litellm) -> None:
    # When the script runs as a command (file path form), pointed at the running servers (key in the environment)
    out = tmp_path / "cassettes"
    proc = subprocess.run(
        [sys.executable, "scripts/record_cassettes.py", "--out", str(out), "--only", "litellm",
         "--llamacpp-url", llamacpp.base_url, "--litellm-url", litellm.base_url],
        cwd=REPO, env=_env(**{LITELLM_KEY_ENV: litellm.api_key}), capture_output=True, text=True, timeout=600,
        check=False,
    )
    # Then it succeeds, prints a summary and writes only LiteLLM's cassettes, scrubbed
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "audit: clean" in proc.stdout
    for rel in scenario_paths(["litellm"]):
        assert rel in proc.stdout
    assert relpaths(out) == sorted(scenario_paths(["litellm"]))
    assert audit(out) == []
    assert litellm.api_key not in proc.stdout + proc.stderr


def test_a_leak_fails_loudly_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llamacpp, litellm):
    # Given a recorder that does not scrub (chatcontract's VCR configuration left out)
    monkeypatch.setattr(record_cassettes, "configure_vcr", lambda vcr: None)
    (tmp_path / "litellm").mkdir()
    (tmp_path / "litellm" / "old.yaml").write_text("interactions: []\nversion: 1\n")
    # When LiteLLM's scenarios are recorded, sending the master key
    with pytest.raises(RecordingError, match="secrets left") as info:
        record(tmp_path, litellm=litellm, providers=["litellm"])
    # Then the error lists the leaks (masked) and the destination is untouched
    assert "authorization" in str(info.value)
    assert litellm.api_key not in str(info.value)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "litellm/old.yaml"
    ]


def test_the_command_needs_the_key_for_an_external_proxy(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.record_cassettes", "--out", str(tmp_path), "--only", "litellm",
         "--llamacpp-url", "http://127.0.0.1:9/v1", "--litellm-url", "http://127.0.0.1:9/v1"],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode != 0
    assert LITELLM_KEY_ENV in proc.stdout + proc.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["-m", "scripts.record_cassettes"], ["scripts/record_cassettes.py"]])
def test_both_invocations_list_the_scenarios(argv: list[str]) -> None:
    # `python3 -m scripts.record_cassettes` and `python3 scripts/record_cassettes.py` from the repository root
    proc = subprocess.run([sys.executable, *argv, "--list"], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == scenario_paths()
