"""Quiet output: nothing from the reference provider's server log reaches the output of the demo or a fuzz run.

uvicorn warns "Invalid HTTP request received." for each malformed request (a fuzzer sends some); with no logging
configured, Python prints a warning to standard error by itself. Each test runs a fresh interpreter (pytest's own
log capture would hide the message in-process) and reads everything it printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_LOG = ("Invalid HTTP request received.", "INFO:", "WARNING:", "Uvicorn running", "Started server process")


def _python(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False
    )


def test_malformed_requests_leave_the_embedded_provider_silent() -> None:
    script = textwrap.dedent(
        """
        import socket
        from chatcontract.provider import serve

        with serve(dialect="mistral", seed=1) as provider:
            for raw in (b"NOT HTTP AT ALL\\r\\n\\r\\n", b"GET / HTTP/1.1\\r\\nHost: \\x00\\r\\n\\r\\n"):
                with socket.create_connection((provider.host, provider.port), timeout=5) as conn:
                    conn.sendall(raw)
                    answer = conn.recv(4096)
                assert answer.startswith(b"HTTP/1.1 400"), answer
        print("done")
        """
    )
    done = _python("-c", script, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    assert done.stderr == ""


def test_demo_output_has_no_server_log_lines() -> None:
    done = _python("-m", "chatcontract", "demo", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "== fuzzing the reference provider (mistral)" in done.stdout
    for line in (done.stdout + done.stderr).splitlines():
        assert not any(marker in line for marker in SERVER_LOG), line
    assert done.stderr == ""
