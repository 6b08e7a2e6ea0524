"""``chatcontract proxy`` as a command: usage errors, a whole run ended by SIGTERM (summary, results.json, reports
that ``chatcontract report`` merges with a fuzz run), and its ``--record`` cassette audited and replayed by pytest.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from chatcontract.cli import main
from chatcontract.provider import serve
from chatcontract.report.results import load_results

from .helpers import MESSAGES, cli_proxy

KEY = "sk-clitest-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def _chatcontract(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatcontract", *args], capture_output=True, text=True, timeout=120)


def test_help_documents_the_stream_enforcement(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["proxy", "--help"])
    text = capsys.readouterr().out
    assert "--enforce" in text and "SSE data event holding\nthe dialect's error envelope and no [DONE]" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "ftp://x"], "--upstream must be an http(s) URL"),
        (["--upstream", "http://127.0.0.1:1/v1", "--select", "CC999"], "CC999"),
        (["--upstream", "http://127.0.0.1:1/v1", "--timeout", "0"], "--timeout must be positive"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_port_in_use_is_a_usage_error() -> None:
    with serve(dialect="openai") as provider:
        result = _chatcontract("proxy", "--upstream", provider.base_url, "--port", str(provider.port))
    assert result.returncode == 2 and "cannot listen on 127.0.0.1" in result.stderr and "Traceback" not in result.stderr


def _client_run(proxy_url: str, model: str) -> None:
    with openai.OpenAI(base_url=proxy_url, api_key=KEY, max_retries=0) as client:
        client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=16)
        list(client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=16, stream=True))
        client.models.list()


def test_a_run_ended_by_sigterm_writes_summary_results_and_a_replayable_cassette(
    tmp_path: Path, pytester: pytest.Pytester
) -> None:
    report, record = tmp_path / "proxyrun", tmp_path / "cassettes"
    with serve(dialect="openai", faults=["created-ms"], seed=2, api_key=KEY) as provider:
        with cli_proxy(
            provider.base_url,
            "--dialect",
            "openai",
            "--provider",
            "ref",
            "--report",
            str(report),
            "--record",
            str(record),
        ) as proxy:
            assert proxy.base_url.startswith("http://127.0.0.1:")  # loopback unless --host says otherwise
            _client_run(proxy.base_url, "ref-small")
            assert proxy.stop() == 1
    # Then: one line per finding as it happened, then the summary and the files written
    assert "CC209 implausible-created [error] $.created  POST /v1/chat/completions #1 chatcmpl-" in proxy.stdout
    assert "3 requests in" in proxy.stdout and "2 chat exchanges checked (1 streams), 1 other requests" in proxy.stdout
    assert f"wrote {report / 'results.json'}" in proxy.stdout and "Traceback" not in proxy.stderr
    results = load_results(report)
    assert (results.kind, results.provider, results.unchecked, results.streams) == ("proxy", "ref", 1, 1)
    assert [(f.code, f.count) for f in results.findings] == [("CC209", 1)]
    assert {p.name for p in report.iterdir()} == {"results.json", "report.md", "report.html", "junit.xml"}
    # The key went to the provider (it demands it) and nowhere else
    for text in [proxy.stdout, proxy.stderr, *(p.read_text() for p in [*report.iterdir(), *record.iterdir()])]:
        assert KEY not in text
    assert _chatcontract("cassettes", "audit", str(record)).returncode == 0
    checked = _chatcontract("cassettes", "check", str(record), "--dialect", "openai")
    assert checked.returncode == 1 and "CC209" in checked.stdout
    # The cassette replays under pytest: the broken interaction fails, the stream passes, GET /models is no item
    shutil.copytree(record, pytester.path / "recorded")
    replay = pytester.runpytest_subprocess("--chatcontract-cassettes", "recorded", "--chatcontract-dialect", "openai")
    replay.assert_outcomes(passed=1, failed=1)
    replay.stdout.fnmatch_lines(["*CC209 implausible-created at $.created*"])


def test_report_merges_a_proxy_run_and_a_fuzz_run(tmp_path: Path) -> None:
    pytest.importorskip("schemathesis", reason="chatcontract fuzz needs Python 3.11+")
    with serve(dialect="openai", faults=["constant-usage"], seed=2) as provider:
        with cli_proxy(provider.base_url, "--dialect", "openai", "--report", str(tmp_path / "proxyrun")) as proxy:
            _client_run(proxy.base_url, "ref-small")
            proxy.stop()
        fuzz = _chatcontract(
            "fuzz",
            provider.base_url,
            "--model",
            "ref-small",
            "--dialect",
            "openai",
            "--max-requests",
            "12",
            "--phases",
            "examples",
            "--seed",
            "1",
            "--report",
            str(tmp_path / "fuzzrun"),
            "--quiet",
        )
    assert fuzz.returncode == 1, fuzz.stderr
    runs = [str(tmp_path / "proxyrun"), str(tmp_path / "fuzzrun")]
    merged = _chatcontract("report", *runs, "--out", str(tmp_path / "m"))
    assert merged.returncode == 0, merged.stderr
    markdown = (tmp_path / "m" / "report.md").read_text()
    assert markdown.count("CC402") >= 2 and "proxy (a client's traffic, observed)" in markdown
    assert {load_results(tmp_path / d).kind for d in ("proxyrun", "fuzzrun")} == {"proxy", "fuzz"}


def test_the_command_line_loads_no_server_until_the_proxy_runs() -> None:
    code = (
        "import sys, chatcontract.cli as cli; cli.build_parser(); "
        "print(sorted(m for m in ('starlette', 'httpx', 'uvicorn', 'vcr') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
