"""``chatcontract fuzz`` end to end: exit codes, the summary, results files, Ctrl-C, keys kept out of the output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chatcontract.cli import main
from chatcontract.provider.server import serve
from chatcontract.report.results import load_results

from ._misbehaving import misbehaving

CHEAP = ["--model", "ref-small", "--seed", "1", "--max-examples", "5", "--phases", "examples,fuzzing", "--quiet"]


def test_clean_provider_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect="openai", seed=1) as provider:
        code = main(["fuzz", provider.base_url, "--dialect", "openai", *CHEAP])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "No findings: every response conformed." in out
    assert "(openai, model ref-small)" in out and "seed 1" in out


def test_reasoning_extension_clean_run_and_a_reasoning_fault(capsys: pytest.CaptureFixture[str]) -> None:
    # The reference provider answers reasoning requests (the fuzz examples send some) with reasoning_content: with
    # the extension it is part of the contract and conforms; a late reasoning delta is still found.
    with serve(dialect="openai", seed=1) as provider:
        code = main(["fuzz", provider.base_url, "--dialect", "openai", "--extension", "reasoning", *CHEAP])
    out = capsys.readouterr().out
    assert code == 0 and "No findings: every response conformed." in out, out
    with serve(dialect="openai", seed=1, faults=["stream-reasoning-after-content"]) as provider:
        code = main(["fuzz", provider.base_url, "--dialect", "openai", "--extension", "reasoning", *CHEAP])
    out = capsys.readouterr().out
    assert code == 0 and "CC321 reasoning-after-content [warning]" in out, out


def test_findings_exit_1_with_rule_and_curl(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect="mistral", seed=1, faults=["created-ms"]) as provider:
        code = main(["fuzz", provider.base_url, *CHEAP])
    out = capsys.readouterr().out
    assert code == 1
    assert "CC209 implausible-created [error]" in out
    assert f"curl -X POST {provider.base_url}/chat/completions" in out


def test_warnings_only_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect="mistral", seed=1, faults=["finish-reason-stop-with-tools"]) as provider:
        code = main(["fuzz", provider.base_url, *CHEAP, "--phases", "examples"])
    out = capsys.readouterr().out
    assert "CC206" in out and "[warning]" in out
    assert code == 0


def test_ignore_and_select_apply(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect="mistral", seed=1, faults=["created-ms"]) as provider:
        code = main(["fuzz", provider.base_url, *CHEAP, "--ignore", "CC209"])
    assert code == 0
    assert "CC209" not in capsys.readouterr().out


def test_report_dir_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "ci" / "fuzz.xml"
    with serve(dialect="mistral", seed=1, faults=["created-ms"]) as provider:
        code = main(["fuzz", provider.base_url, *CHEAP, "--report", str(tmp_path / "rep"), "--junit", str(junit)])
    assert code == 1
    results = load_results(tmp_path / "rep")
    assert [f.code for f in results.findings] == ["CC209"]
    for name in ("report.md", "report.html", "junit.xml"):
        assert (tmp_path / "rep" / name).stat().st_size > 0
    suite = ET.parse(junit).getroot()
    failures = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name", "").split()[0] for case in failures] == ["CC209"]
    out = capsys.readouterr().out
    assert f"wrote {junit}" in out


def test_connection_refused_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with misbehaving("ok") as server:
        url = server.base_url
    code = main(["fuzz", url, *CHEAP])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--phases", "stateful"], "phases"),
        (["--max-requests", "0"], "max-requests"),
        (["--rate-limit", "lots"], "rate limit"),
        (["--api-key-env", "CHATCONTRACT_TEST_UNSET_VARIABLE"], "CHATCONTRACT_TEST_UNSET_VARIABLE"),
        (["--extension", "thinking"], "unknown extension(s) 'thinking'; known: reasoning"),
        (["--min-answered", "1.5"], "'1.5' is outside 0..1"),
        (["--min-answered", "most"], "'most' is not a share such as 0.5 or 50%"),
        (["--examples-per-rule", "0"], "examples-per-rule must be an integer >= 1"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["fuzz", "http://127.0.0.1:9/v1", "--model", "m", *args])
    except SystemExit as exc:  # argparse's own errors (a bad --min-answered) exit from the parser
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_min_answered_takes_a_percentage(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(dialect="mistral", seed=1, faults=["rejects-random-seed"]) as provider:
        code = main(["fuzz", provider.base_url, *CHEAP, "--phases", "examples", "--min-answered", "100%"])
    captured = capsys.readouterr()
    # the examples phase sends no random_seed: every valid request is answered, which 100% allows
    assert code == 0, captured.out + captured.err
    assert "(100%)" in captured.out


def test_model_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fuzz", "http://127.0.0.1:9/v1"])
    assert exc.value.code == 2
    assert "--model" in capsys.readouterr().err


def test_api_key_from_environment_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sk-live-SECRET-0123456789"
    monkeypatch.setenv("PROVIDER_KEY", key)
    with serve(dialect="openai", seed=1, api_key=key, faults=["created-ms"]) as provider:
        code = main(
            [
                "fuzz",
                provider.base_url,
                "--dialect",
                "openai",
                *CHEAP,
                "--api-key-env",
                "PROVIDER_KEY",
                "--report",
                str(tmp_path),
            ]
        )
    out = capsys.readouterr().out
    assert code == 1
    assert "$PROVIDER_KEY" in out
    assert key not in out
    for path in tmp_path.iterdir():
        assert key not in path.read_text("utf-8"), path.name


def _default_sigint() -> None:  # pragma: no cover - runs in the child between fork and exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_writes_what_was_found(tmp_path: Path) -> None:
    """SIGINT mid-run: the process stops, prints the summary and writes results.json with the findings so far."""
    with serve(dialect="mistral", seed=1, faults=["created-ms"]) as provider:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatcontract",
                "fuzz",
                provider.base_url,
                "--model",
                "ref-small",
                "--max-examples",
                "100000",
                "--max-requests",
                "1000000",
                "--no-shrink",
                "--report",
                str(tmp_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            # A child inherits an ignored SIGINT (a suite started in the background by a non-interactive shell, some
            # CI runners), and Python then installs no KeyboardInterrupt handler: give the child the default back.
            preexec_fn=_default_sigint,
        )
        with proc:  # closes the pipes whatever happens (an unclosed pipe is a ResourceWarning in a later test)
            try:
                assert proc.stderr is not None
                first = proc.stderr.readline()  # the first progress line: requests are flowing
                assert first.startswith("fuzz: "), first
                time.sleep(1.0)
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
    assert proc.returncode == 1, err  # the created-ms finding was made before the interrupt
    assert "stopped: interrupted" in out and "CC209" in out
    assert "interrupted" in err and "Traceback" not in err
    data = json.loads((tmp_path / "results.json").read_text("utf-8"))
    assert data["stop_reason"] == "interrupted"
    assert data["requests"] > 0 and [f["code"] for f in data["findings"]] == ["CC209"]


def test_ctrl_c_test_passes_when_the_suite_runs_with_sigint_ignored() -> None:
    """The test above, run by a pytest whose SIGINT is ignored (as `pytest &` from a script runs it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{__file__}::test_ctrl_c_writes_what_was_found"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout


@pytest.mark.parametrize("dialect", ["mistral", "openai"])
def test_header_shows_the_base_url_the_requests_went_to(dialect: str, capsys: pytest.CaptureFixture[str]) -> None:
    # given with or without /v1, the run goes to {root}/v1/chat/completions and its header says {root}/v1
    with serve(dialect=dialect, seed=1) as provider:
        code = main(["fuzz", provider.root_url + "/", "--dialect", dialect, *CHEAP, "--phases", "examples"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0].endswith(f"model ref-small) at {provider.base_url}")
    assert " req/s; " in out.splitlines()[1]
