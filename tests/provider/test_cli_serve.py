"""``chatcontract serve``: the fault list, argument errors, and a real server process stopped by its pid."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest

from chatcontract import check
from chatcontract.cli import main
from chatcontract.provider import FAULTS


def test_list_faults(capsys):
    assert main(["serve", "--list-faults"]) == 0
    out = capsys.readouterr().out
    for f in FAULTS.values():
        assert re.search(rf"^{re.escape(f.name)}\s", out, re.M), f.name
        assert f.description in out and f.source in out
    assert "mistral: CC101  openai: none (legal)" in out  # missing-usage
    assert "openai: n/a" not in out.split("stream-usage-unrequested")[0].splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault", "creted-ms"], "Did you mean created-ms"),
        (["--fault", "created-ms:7"], "outside 0..1"),
        (["--fault", "stream-usage-early"], "does not apply to the mistral dialect"),
    ],
)
def test_bad_faults_exit_2(argv, message, capsys):
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err


def test_unknown_fault_lists_the_known_ones(capsys):
    assert main(["serve", "--fault", "stream-no-dne"]) == 2
    err = capsys.readouterr().err
    assert "stream-no-done" in err and all(name in err for name in FAULTS)


def test_serve_subprocess_answers_and_stops_on_sigterm():
    cmd = [
        sys.executable,
        "-m",
        "chatcontract",
        "serve",
        "--port",
        "0",
        "--dialect",
        "openai",
        "--seed",
        "1",
        "--fault",
        "created-ms:1",
        "--api-key",
        "k",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        assert match, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        assert "faults: created-ms" in proc.stdout.readline()
        req = {"model": "ref-small", "messages": [{"role": "user", "content": "Hi"}]}
        resp = httpx.post(
            match.group(1) + "/chat/completions", json=req, headers={"authorization": "Bearer k"}, timeout=10
        )
        assert resp.status_code == 200 and resp.headers["x-chatcontract-faults"] == "created-ms"
        assert check(resp, dialect="openai", request=req).codes() == ["CC209"]
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    assert code == 0
