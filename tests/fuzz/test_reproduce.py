"""Reproducers that reproduce: the curl line of an example, run by the real ``curl``, sends the same bytes.

The server is the raw-socket one of ``_misbehaving`` (it keeps every body as it came off the wire); the shell is
POSIX ``sh``. Bodies that are not UTF-8 text, or hold control characters, go through ``printf`` and
``--data-binary @-``; the rest through ``--data-raw``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatcontract.fuzz.judge import request_problem
from chatcontract.fuzz.reproduce import curl, raw_body, sent_body

from ._misbehaving import Misbehaving, misbehaving

CURL = shutil.which("curl")
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer $MISTRAL_API_KEY"}


@pytest.fixture(scope="module")
def server() -> Iterator[Misbehaving]:
    if CURL is None:  # the CI installs curl (.ci/run); a machine without it cannot run this test at all
        pytest.fail("these tests run the real curl binary: install curl")
    with misbehaving("ok") as running:
        yield running


def _replay(server: Misbehaving, raw: bytes) -> tuple[str, bytes]:
    line = curl("POST", server.base_url + "/chat/completions", HEADERS, None, raw=raw)
    before = len(server.requests)
    done = subprocess.run(
        ["sh", "-c", line + " --silent --show-error --output /dev/null"],
        env={"PATH": "/usr/bin:/bin", "MISTRAL_API_KEY": "sk-test"},
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, (line, done.stderr)
    assert len(server.requests) == before + 1
    return line, server.requests[-1]


@pytest.mark.parametrize(
    ("raw", "binary"),
    [
        (b'{"model":"m","messages":[{"role":"user","content":"caf\xc3\xa9 \xe2\x80\x94 \'quoted\' $HOME %s"}]}', False),
        (b'{"model":"m","messages":"\xff\xfe not UTF-8"}', True),
        (b'{"model":"m","messages":[{"role":"user","content":"\x00\x1b[31mred\x07"}]}', True),
        (b'{"content":"back\\\\slash \\n and a real\nnewline"}', True),
        (b"\x80", True),
    ],
    ids=["utf8-text", "invalid-utf8", "control-chars", "newline-backslash", "lone-continuation-byte"],
)
def test_curl_line_replays_the_same_bytes(server: Misbehaving, raw: bytes, binary: bool) -> None:
    line, received = _replay(server, raw)
    assert received == raw
    assert "\ufffd" not in line  # never mojibake
    assert ("--data-binary @-" in line) == binary, line
    assert ("--data-raw" in line) == (not binary), line


@given(st.binary(min_size=1, max_size=64))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_body_replays_byte_for_byte(server: Misbehaving, raw: bytes) -> None:
    assert _replay(server, raw)[1] == raw


def test_the_key_stays_a_shell_variable(server: Misbehaving) -> None:
    line, _ = _replay(server, b"\xff")
    assert '"Authorization: Bearer $MISTRAL_API_KEY"' in line and "sk-test" not in line


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "model: Field required; messages: Field required"),
        ({"model": "ref-small"}, "messages: Field required"),
        ({"model": "other", "messages": [{"role": "user", "content": "Hi"}]}, "model 'other' is not the model"),
    ],
)
def test_invalid_request_messages_name_the_real_reason(body: dict[str, object], reason: str) -> None:
    problem = request_problem(body, dialect="mistral", model="ref-small")
    assert problem is not None and problem.startswith(reason)


def test_a_body_that_is_not_utf8_is_shown_with_escapes_not_mojibake() -> None:
    response = requests.Response()
    response.request = requests.Request(
        "POST", "http://127.0.0.1:9/v1/chat/completions", data=b"U\xae\x93\xfa"
    ).prepare()
    shown = sent_body(response, None)
    assert shown == "U\\xae\\x93\\xfa" and "\ufffd" not in shown
    assert raw_body(response) == b"U\xae\x93\xfa"
