"""The fuzz runner's verdicts (issue 17): methods outside the contract, and the probes phase.

A small real HTTP server on 127.0.0.1 answers like the FastAPI apps behind many OpenAI-compatible servers
(llama-cpp-python, LiteLLM, vLLM): ``OPTIONS`` is a CORS preflight (200), other methods get FastAPI's 405
``{"detail": "Method Not Allowed"}``, and ``POST`` is answered 200 with a fixed completion whatever the request
(LiteLLM's mock models do that: no validation, no logprobs). ``GET`` answers 200 in the ``catch-all`` mode (a
route that catches every method). The reference provider is the well-behaved counterpart.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chatcontract.fuzz import session
from chatcontract.fuzz.judge import check_answer
from chatcontract.fuzz.options import FuzzOptions
from chatcontract.fuzz.probes import PROBES, probe_requests
from chatcontract.fuzz.runner import run_fuzz
from chatcontract.provider import serve
from chatcontract.report.results import FuzzResults

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="chatcontract fuzz needs schemathesis: Python 3.11+")

MODEL = "mock-gpt"
ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1_757_000_000,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)
        self.server.methods.append(self.command)

    def do_POST(self) -> None:
        self._send(200, ANSWER)

    def do_OPTIONS(self) -> None:  # Starlette's CORSMiddleware answers a preflight with 200 "OK"
        self._send(200, "OK", {"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Origin": "*"})

    def do_GET(self) -> None:
        if self.server.catch_all:
            self._send(200, {"object": "list", "data": []})
        else:
            self._not_allowed()

    def _not_allowed(self) -> None:
        self._send(405, {"detail": "Method Not Allowed"}, {"Allow": "POST"})

    def do_TRACE(self) -> None:
        if self.server.drop_trace:  # close the connection without an answer
            self.server.methods.append(self.command)
            self.close_connection = True
            return
        self._not_allowed()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, catch_all: bool = False, drop_trace: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.catch_all = catch_all
        self.drop_trace = drop_trace
        self.methods: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture
def lenient() -> Iterator[_Server]:
    server = _Server(catch_all=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """``(code, method)`` of every finding recorded, read at FuzzRun._record (no finding is left out)."""
    seen: list[tuple[str, str]] = []
    record = session.FuzzRun._record

    def spy(self: Any, code: str, hits: Any, case: Any, *args: Any) -> None:
        seen.append((code, str(case.method).upper()))
        record(self, code, hits, case, *args)

    monkeypatch.setattr(session.FuzzRun, "_record", spy)
    return seen


def _options(base_url: str, **kwargs: Any) -> FuzzOptions:
    # No preflight: these runs count and judge exactly the requests their phases send (tests/fuzz/test_preflight.py
    # holds the preflight, and that its requests count toward the budget).
    defaults: dict[str, Any] = {
        "model": MODEL, "dialect": "openai", "seed": 1, "max_examples": 5, "shrink": False, "preflight": False,
    }
    return FuzzOptions(base_url=base_url, **{**defaults, **kwargs})


# ------------------------------------------------------------------------------------ item 1: other methods


def test_methods_outside_the_contract_are_not_chat_requests(lenient: _Server, recorded: list[tuple[str, str]]) -> None:
    # Before: OPTIONS -> 200 was CC601 and TRACE -> 405 {"detail": ...} was CC502 (and CC102/CC001 elsewhere).
    results = run_fuzz(_options(lenient.base_url, phases=("coverage",), max_requests=2000))
    other = {m for m in lenient.methods if m != "POST"}
    assert {"OPTIONS", "TRACE"} <= other, sorted(set(lenient.methods))  # the coverage phase sent them
    assert [(code, m) for code, m in recorded if m != "POST"] == []  # 405 and a CORS preflight are right
    assert results.statuses.get("405", 0) > 0 and "CC606" not in {f.code for f in results.findings}


def _run_against(server: _Server, **kwargs: Any) -> FuzzResults:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return run_fuzz(_options(server.base_url, **kwargs))
    finally:
        server.shutdown()
        server.server_close()


def test_a_method_answered_as_if_it_were_allowed_is_one_warning(recorded: list[tuple[str, str]]) -> None:
    results = _run_against(_Server(catch_all=True), phases=("coverage",), max_requests=2000)
    assert {code for code, m in recorded if m != "POST"} == {"CC606"}
    assert {m for code, m in recorded if code == "CC606"} == {"GET"}
    finding = next(f for f in results.findings if f.code == "CC606")
    assert finding.severity == "warning" and finding.example is not None
    assert finding.example.request["method"] == "GET" and finding.example.response["status"] == 200


def test_no_answer_to_a_method_outside_the_contract_is_cc606_not_cc604(recorded: list[tuple[str, str]]) -> None:
    server = _Server(drop_trace=True)
    _run_against(server, phases=("coverage",), max_requests=2000)
    assert "TRACE" in server.methods
    assert ("CC606", "TRACE") in recorded
    assert [(code, m) for code, m in recorded if m != "POST" and code != "CC606"] == []


# ------------------------------------------------------------------------------------ item 8: probes


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
def test_probes_find_nothing_on_the_reference_provider(dialect: str) -> None:
    with serve(dialect=dialect, seed=3) as provider:
        results = run_fuzz(_options(provider.base_url, dialect=dialect, model="ref-small", phases=("probes",)))
    assert results.requests == len(probe_requests(dialect, "ref-small", 16))
    assert results.findings == [], results.to_json()
    assert results.negative > 0 and results.positive > 0  # most probes are invalid requests; logprobs is valid


def test_probes_find_what_a_lenient_server_ignores(lenient: _Server) -> None:
    results = run_fuzz(_options(lenient.base_url, phases=("probes",)))
    by_code = {f.code: f for f in results.findings}
    assert set(by_code) == {"CC601", "CC414"}, results.to_json()
    assert results.requests == len([p for p in PROBES if "openai" in p.dialects])
    assert by_code["CC601"].count == results.negative  # every invalid probe answered 200
    assert by_code["CC414"].example is not None and by_code["CC414"].example.phase == "probes"
    assert by_code["CC414"].example.request["body"]["logprobs"] is True
    assert "curl -X POST" in by_code["CC601"].example.curl


def test_probes_count_in_the_request_budget(lenient: _Server) -> None:
    results = run_fuzz(_options(lenient.base_url, phases=("probes", "examples"), max_requests=3))
    assert results.requests == 3 and results.stop_reason == "max_requests"
    assert len(lenient.methods) == 3  # the examples phase never started


# ------------------------------------------------------------- an invalid request's value echoed in an error


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every POST as FastAPI does an invalid body: 422, each refused value echoed as "input"."""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        detail = [
            {"type": "model_type", "loc": ["body", key], "msg": "Input should be valid", "input": value}
            for key, value in (sent.items() if isinstance(sent, dict) else [("body", sent)])
            if key not in ("model", "messages")
        ]
        raw = json.dumps({"detail": detail}).encode()
        self.send_response(422)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"response_format": -594908920904862269440}, False),  # the client's own 22 digits, echoed
        ({"max_tokens": 2**70, "n": "two"}, False),
        ({"max_tokens": 2**70}, True),  # a valid request: its values were always known
    ],
)
def test_an_error_echoing_an_invalid_request_is_not_blamed_for_its_values(body: dict[str, Any], valid: bool) -> None:
    import requests

    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        sent = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], **body}
        response = requests.post(url + "/chat/completions", data=json.dumps(sent), timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 422
    run = session.FuzzRun(_options(url), None)
    case = type("Case", (), {"method": "POST", "meta": None, "body": sent, "headers": {}})()
    assert (run.request_problem(sent) is None) is valid
    errors = run.observe(case, response)
    assert "CC108" not in {code for code, _, _ in errors} and "CC108" not in run.findings
    # ... while a value the request did not hold is still the provider's: the same answer to another request
    other = {**sent, "response_format": None, "max_tokens": 5}
    report = check_answer(run.options, response.content, 422, "application/json", False, other)
    assert "CC108" in report.codes()
