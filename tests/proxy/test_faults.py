"""Faults of the upstream (refused, reset mid-stream, hang, an HTML 500) and of the client (gone mid-stream): the
proxy, a real ``chatcontract proxy`` process, answers each the right way, reports it, prints no traceback, and
serves the next request.
"""

from __future__ import annotations

import json
import signal
import socket

import httpx
import openai
import pytest

from chatcontract.report.results import load_results

from .helpers import MESSAGES, cli_proxy, faulty_upstream


def _chat(base_url: str, model: str, *, stream: bool = False) -> httpx.Response:
    body = {"model": model, "messages": MESSAGES, "stream": stream}
    return httpx.post(f"{base_url}/chat/completions", json=body, timeout=20)


def _events(text: str) -> list[dict]:
    return [json.loads(e.removeprefix("data: ")) for e in text.split("\n\n") if e.startswith("data: {")]


def test_upstream_faults_are_answered_reported_and_survived(tmp_path) -> None:
    with (
        faulty_upstream() as upstream,
        cli_proxy(upstream, "--dialect", "openai", "--timeout", "1", "--report", str(tmp_path)) as proxy,
    ):
        hang = _chat(proxy.base_url, "hang")
        reset = _chat(proxy.base_url, "reset-mid-stream", stream=True)
        stalled = _chat(proxy.base_url, "hang-mid-stream", stream=True)
        html = _chat(proxy.base_url, "html-500")
        with openai.OpenAI(base_url=proxy.base_url, api_key="sk-x", max_retries=0) as client:
            with pytest.raises(openai.APIError, match="broke off"):
                list(client.chat.completions.create(model="reset-mid-stream", messages=MESSAGES, stream=True))
        fine = _chat(proxy.base_url, "ok")
        assert proxy.stop() == 1  # error findings
    assert hang.status_code == 504 and hang.json()["error"]["type"] == "upstream_timeout"
    for cut in (reset, stalled):
        assert cut.status_code == 200
        events = _events(cut.text)
        assert len(events) == 3 and events[-1]["error"]["type"] == "upstream_unavailable"
    assert html.status_code == 500 and html.text.startswith("<html>")  # passed on as it came
    assert fine.status_code == 200 and fine.json()["choices"][0]["message"]["content"] == "Hi"
    assert "Traceback" not in proxy.stderr and "Traceback" not in proxy.stdout
    results = load_results(tmp_path)
    counts = {f.code: f.count for f in results.findings}
    assert counts == {"CC604": 4, "CC602": 1, "CC001": 1, "CC007": 1}
    assert results.kind == "proxy" and results.requests == 6 and results.statuses["none"] == 1
    assert "CC604 incomplete-response [error] $  POST /v1/chat/completions #1" in proxy.stdout


def test_refused_upstream_is_a_502_and_the_proxy_keeps_serving() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with cli_proxy(f"http://127.0.0.1:{port}/v1", "--dialect", "mistral") as proxy:
            first = _chat(proxy.base_url, "m")
            second = httpx.get(f"{proxy.base_url}/models", timeout=10)
            assert proxy.stop() == 1
    for answer in (first, second):
        assert answer.status_code == 502
        body = answer.json()
        assert body["object"] == "error" and body["type"] == "upstream_unavailable"  # Mistral's envelope
    assert "CC604 incomplete-response" in proxy.stdout and "Traceback" not in proxy.stderr


def test_a_client_that_leaves_mid_stream_is_noted_and_the_next_one_served(tmp_path) -> None:
    with (
        faulty_upstream() as upstream,
        cli_proxy(
            upstream, "--dialect", "openai", "--report", str(tmp_path), "--record", str(tmp_path / "rec")
        ) as proxy,
    ):
        with httpx.stream(
            "POST",
            f"{proxy.base_url}/chat/completions",
            json={"model": "slow-stream", "messages": MESSAGES, "stream": True},
            timeout=10,
        ) as answer:
            first = next(answer.iter_bytes())
        after = _chat(proxy.base_url, "slow-stream", stream=True)
        assert proxy.stop(signal.SIGINT) == 0
    assert first.startswith(b"data: {")
    assert after.status_code == 200 and after.text.endswith("data: [DONE]\n\n") and len(_events(after.text)) == 11
    results = load_results(tmp_path)
    assert results.findings == [] and results.streams == 2
    assert any("the client disconnected mid-stream" in note for note in results.errors)
    assert "note: #1 POST /v1/chat/completions: the client disconnected mid-stream" in proxy.stdout
    cassette = (tmp_path / "rec").glob("*.yaml")
    from chatcontract.cassettes import load_cassette

    (path,) = cassette
    assert len(load_cassette(path).interactions) == 1  # the cut exchange is not recorded


def test_one_clients_cookies_never_reach_another(tmp_path) -> None:
    from chatcontract.cassettes import load_cassette

    from .helpers import proxy_to

    with faulty_upstream() as upstream, proxy_to(upstream, record=str(tmp_path)) as (proxy, _):
        first = httpx.get(f"{proxy.base_url}/cookie", timeout=10)
        second = httpx.get(f"{proxy.base_url}/cookie", timeout=10)
    assert first.cookies["session"] == "upstream-session-1"  # the client gets its Set-Cookie
    assert second.json() == {"cookie": None}  # the proxy kept no cookie jar
    (path,) = tmp_path.glob("*.yaml")
    assert all(i.response.header("set-cookie") is None for i in load_cassette(path).interactions)  # scrubbed


def test_a_client_that_leaves_mid_request_is_noted_and_the_next_one_served() -> None:
    import time

    from .helpers import proxy_to

    with faulty_upstream() as upstream, proxy_to(upstream, dialect="openai") as (proxy, out):
        # A client that announces 1000 bytes of body, sends one, and hangs up
        with socket.create_connection(("127.0.0.1", proxy.port)) as client:
            client.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        deadline = time.monotonic() + 5
        while "left mid-request" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        after = _chat(proxy.base_url, "ok")
    assert "note: #1 POST /v1/chat/completions: the client left mid-request" in out.getvalue()
    assert after.status_code == 200 and [e.status for e in proxy.session.exchanges] == [None, 200]


@pytest.mark.parametrize("enforce", [False, True], ids=["checking", "enforcing"])
def test_streams_are_forwarded_as_they_arrive(enforce: bool) -> None:
    """Ten events 0.1 s apart: each reaches the client about when the upstream sends it, not at the end."""
    import time

    from .helpers import proxy_to

    body = {"model": "slow-stream", "messages": MESSAGES, "stream": True}
    with faulty_upstream() as upstream, proxy_to(upstream, dialect="openai", enforce=enforce) as (proxy, _):
        arrivals = []
        with httpx.stream("POST", f"{proxy.base_url}/chat/completions", json=body, timeout=10) as answer:
            start = time.monotonic()
            for part in answer.iter_raw():
                arrivals.append((time.monotonic() - start, part.count(b"data: ")))
    assert sum(n for _, n in arrivals) == 12  # 11 chunks and [DONE]
    assert arrivals[0][0] < 0.3 < 0.8 < arrivals[-1][0]  # the first event long before the last
    assert len({round(t, 1) for t, _ in arrivals}) >= 8  # spread out over the stream, not in one burst
