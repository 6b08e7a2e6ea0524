"""The upstream leg: which forward proxy the environment names (``HTTP_PROXY``/``NO_PROXY``, as httpx and curl
read them), a real chain through a second proxy, the keep-alive pool (reuse, and a connection the upstream
closed while idle), and ``--extension reasoning`` applied to what passes through.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpcore
import httpx
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatcontract import UsageError, check
from chatcontract.provider import serve as serve_provider
from chatcontract.proxy import ProxyOptions, serve
from chatcontract.proxy.server import server_implementation
from chatcontract.proxy.upstream import environment_proxy, open_pool

from .helpers import MESSAGES, cli_proxy, faulty_upstream, proxy_to, serve_in_thread

UPSTREAM = "https://api.example.com/v1"


@pytest.mark.parametrize(
    ("upstream", "environ", "expected"),
    [
        (UPSTREAM, {}, None),
        (UPSTREAM, {"HTTPS_PROXY": "http://corp:3128"}, "http://corp:3128"),
        (UPSTREAM, {"HTTP_PROXY": "http://corp:3128"}, None),  # the scheme of the upstream picks the variable
        ("http://api.example.com/v1", {"HTTP_PROXY": "http://corp:3128"}, "http://corp:3128"),
        (UPSTREAM, {"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, "http://lower:1"),
        (UPSTREAM, {"ALL_PROXY": "http://all:1"}, "http://all:1"),
        (UPSTREAM, {"HTTPS_PROXY": "http://s:1", "ALL_PROXY": "http://all:1"}, "http://s:1"),
        (UPSTREAM, {"HTTPS_PROXY": "corp:3128"}, "http://corp:3128"),  # no scheme: http, like curl and httpx
        (UPSTREAM, {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "example.com"}, None),  # a parent domain
        (UPSTREAM, {"HTTPS_PROXY": "http://corp:3128", "no_proxy": ".example.com"}, None),
        (UPSTREAM, {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "ample.com"}, "http://corp:3128"),  # not a suffix
        (UPSTREAM, {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "other.org, *"}, None),
        (UPSTREAM, {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "api.example.com:443"}, None),
        (UPSTREAM, {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "api.example.com:8443"}, "http://corp:3128"),
        ("http://10.1.2.3:8000/v1", {"HTTP_PROXY": "http://corp:3128", "NO_PROXY": "10.0.0.0/8"}, None),
        ("http://[::1]:8000/v1", {"HTTP_PROXY": "http://corp:3128", "NO_PROXY": "::1"}, None),
        ("http://h/v1", {"HTTP_PROXY": "http://corp:3128", "REQUEST_METHOD": "GET"}, None),  # CGI: a header
        ("http://h/v1", {"http_proxy": "http://corp:3128", "REQUEST_METHOD": "GET"}, "http://corp:3128"),
    ],
)
def test_environment_proxy(upstream: str, environ: dict[str, str], expected: str | None) -> None:
    assert environment_proxy(upstream, environ) == expected


HOSTNAMES = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)


@given(host=HOSTNAMES, sub=st.sampled_from(["", "api.", "a.b."]), dot=st.booleans(), upper=st.booleans())
def test_a_host_in_no_proxy_is_never_proxied(host: str, sub: str, dot: bool, upper: bool) -> None:
    entry = ("." if dot else "") + (host.upper() if upper else host)
    environ = {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": f"other.invalid,{entry}"}
    assert environment_proxy(f"https://{sub}{host}/v1", environ) is None
    assert environment_proxy(f"https://{sub}x{host}/v1", environ) == "http://corp:3128"  # not a subdomain


@given(address=st.ip_addresses(v=4), prefix=st.integers(8, 32))
def test_an_address_in_a_no_proxy_network_is_never_proxied(address: ipaddress.IPv4Address, prefix: int) -> None:
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    environ = {"HTTP_PROXY": "http://corp:3128", "NO_PROXY": str(network)}
    assert environment_proxy(f"http://{address}:8000/v1", environ) is None
    outside = network.broadcast_address + 1 if int(network.broadcast_address) < 2**32 - 1 else None
    if outside is not None:
        assert environment_proxy(f"http://{outside}:8000/v1", environ) == "http://corp:3128"


@pytest.mark.parametrize(
    ("proxy", "message"), [("socks5://corp:1080", "install socksio"), ("ftp://corp:21", "only http, https")]
)
def test_an_unusable_environment_proxy_is_a_usage_error(proxy: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        open_pool(UPSTREAM, {"HTTPS_PROXY": proxy})


def test_an_unusable_environment_proxy_stops_the_command_before_it_listens() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "HTTPS_PROXY": "ftp://corp:21"}
    done = subprocess.run(
        [sys.executable, "-m", "chatcontract", "proxy", "--upstream", UPSTREAM, "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and "only http, https and socks5" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_upstream_is_reached_through_the_environment_proxy() -> None:
    """A chain: the SDK -> proxy A -> proxy B (A's HTTP_PROXY) -> the reference provider. B sees A's requests;
    with the provider's host in NO_PROXY, A goes direct and B sees nothing."""
    with serve_provider(dialect="openai") as provider, proxy_to(provider.base_url, dialect="openai") as (b, _):
        for environ, through_b in (
            ({"HTTP_PROXY": b.root_url}, 1),
            ({"HTTP_PROXY": b.root_url, "NO_PROXY": "127.0.0.1"}, 0),
        ):
            before = b.session.requests
            options = ProxyOptions(upstream=provider.base_url, port=0, dialect="openai")
            with serve(options, environ=environ) as a:
                with openai.OpenAI(base_url=a.base_url, api_key="sk-x", max_retries=0) as client:
                    answer = client.chat.completions.create(model="ref-small", messages=MESSAGES)
            assert answer.choices[0].message.content
            assert [e.codes for e in a.session.exchanges] == [[]]
            assert b.session.requests - before == through_b
            if through_b:
                assert b.session.exchanges[-1].path == "/v1/chat/completions" and b.session.chat >= 1


@contextmanager
def _upstream_with_short_keep_alive() -> Iterator[str]:
    """An upstream that closes idle connections after 1 s and answers with the client port it saw."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = json.dumps({"port": scope["client"][1]}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    with serve_in_thread(app, timeout_keep_alive=1) as port:
        yield f"http://127.0.0.1:{port}/v1"


def test_upstream_connections_are_kept_alive_and_a_closed_one_is_replaced() -> None:
    with _upstream_with_short_keep_alive() as upstream, proxy_to(upstream) as (proxy, out):
        with httpx.Client(base_url=proxy.base_url, timeout=10) as client:
            ports = [client.get("/peer").json()["port"] for _ in range(5)]
            time.sleep(1.8)  # the upstream closes the idle connection meanwhile
            after = client.get("/peer")
    assert len(set(ports)) == 1  # one upstream connection, reused
    assert after.status_code == 200 and after.json()["port"] not in ports  # a new one, not a 502
    assert "note:" not in out.getvalue() and proxy.session.statuses == {"200": 6}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_reasoning_extension_judges_what_passes_through(stream: bool) -> None:
    """reasoning_content that is not text breaks the contract only with the extension (CC220), through the proxy
    exactly as check() sees the same answer."""
    body = {"model": "reasoning-not-text", "messages": MESSAGES, "stream": stream}
    found = {}
    with faulty_upstream() as upstream:
        direct = httpx.post(f"{upstream}/chat/completions", json=body, timeout=10)
        for extensions in (None, ["reasoning"]):
            with proxy_to(upstream, dialect="openai", extensions=extensions) as (proxy, _):
                answer = httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=10)
            assert answer.content == direct.content
            (exchange,) = proxy.session.exchanges
            found[bool(extensions)] = exchange.codes
            assert exchange.codes == list(
                dict.fromkeys(check(direct, dialect="openai", request=body, extensions=extensions).codes())
            )
    assert "CC220" in found[True] and "CC220" not in found[False]


def test_the_extension_option_of_the_command(tmp_path) -> None:
    from chatcontract.report.results import load_results

    body = {"model": "reasoning-not-text", "messages": MESSAGES}
    with (
        faulty_upstream() as upstream,
        cli_proxy(upstream, "--dialect", "openai", "--extension", "reasoning", "--report", str(tmp_path)) as proxy,
    ):
        assert httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=10).status_code == 200
        assert proxy.stop() == 1
    assert "CC220 reasoning-field-wrong-type [error] $.choices[0].message.reasoning_content" in proxy.stdout
    assert [f.code for f in load_results(tmp_path).findings] == ["CC220"]


def test_an_unknown_extension_is_a_usage_error() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "chatcontract", "proxy", "--upstream", UPSTREAM, "--extension", "telepathy"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "unknown extension(s) 'telepathy'" in done.stderr
    with pytest.raises(UsageError, match="known: reasoning"):
        ProxyOptions(upstream=UPSTREAM, extensions=["telepathy"]).validate()


@pytest.mark.parametrize("implementation", sorted({("h11", "asyncio"), server_implementation()}))
def test_both_server_implementations_forward_alike(implementation: tuple[str, str], monkeypatch) -> None:
    """httptools + uvloop (when installed) and the pure-Python fallback: the same answers, streams included, and
    a client that uses the proxy as its HTTP proxy (an absolute-form target) reaches the upstream too."""
    import chatcontract.proxy.server as proxy_server

    monkeypatch.setattr(proxy_server, "server_implementation", lambda: implementation)
    body = {"model": "ref-small", "messages": MESSAGES}
    with serve_provider(dialect="openai", seed=5) as provider:
        direct = httpx.post(f"{provider.base_url}/chat/completions", json=body, timeout=10)
        with proxy_to(provider.base_url, dialect="openai") as (proxy, _):
            answer = httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=10)
            with httpx.Client(proxy=proxy.root_url, timeout=10) as client:  # POST http://elsewhere.invalid/...
                proxied = client.post("http://elsewhere.invalid/v1/chat/completions", json=body)
            with openai.OpenAI(base_url=proxy.base_url, api_key="sk-x", max_retries=0) as sdk:
                chunks = list(sdk.chat.completions.create(model="ref-small", messages=MESSAGES, stream=True))
    assert answer.status_code == proxied.status_code == 200
    assert json.loads(answer.content)["choices"] == json.loads(direct.content)["choices"]
    assert proxied.json()["object"] == "chat.completion" and chunks and chunks[-1].choices[0].finish_reason
    assert [e.path for e in proxy.session.exchanges] == ["/v1/chat/completions"] * 3
    assert [e.codes for e in proxy.session.exchanges] == [[], [], []]


class _CountingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, counting the writes of its real sockets."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.writes: list[int] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        writes = self.writes

        class Counting(httpcore.AsyncNetworkStream):
            async def read(self, max_bytes, timeout=None):
                return await stream.read(max_bytes, timeout)

            async def write(self, buffer, timeout=None):
                if buffer:
                    writes.append(len(buffer))
                await stream.write(buffer, timeout)

            async def aclose(self):
                await stream.aclose()

            def get_extra_info(self, info):
                return stream.get_extra_info(info)

        return Counting()


def test_a_request_goes_out_in_one_write_and_its_connection_is_reused() -> None:
    """The pool against the reference provider: the head and an in-memory body in one write (one segment, one
    wake-up of the upstream); an upload forwarded as it arrives is written as it comes; one connection for all."""
    import anyio

    from chatcontract.proxy.upstream import LastInFirstOutPool, LeanBackend

    body = json.dumps({"model": "ref-small", "messages": MESSAGES}).encode()

    async def upload() -> AsyncIterator[bytes]:
        yield body[:10]
        yield body[10:]

    async def main(base_url: str, counting: _CountingBackend) -> list[tuple[int, int]]:
        url = httpcore.URL(base_url + "/chat/completions")
        pool = LastInFirstOutPool(url.origin, ssl_context=None, network_backend=LeanBackend(counting))
        seen = []
        for content, framing in (
            (body, (b"content-length", str(len(body)).encode())),
            (upload(), (b"transfer-encoding", b"chunked")),
            (body, (b"content-length", str(len(body)).encode())),
        ):
            before = len(counting.writes)
            headers = [(b"host", url.host), (b"content-type", b"application/json"), framing]
            response = await pool.handle_async_request(httpcore.Request("POST", url, headers=headers, content=content))
            await response.aread()
            await response.aclose()
            seen.append((response.status, len(counting.writes) - before))
        assert pool.connections == 1
        await pool.aclose()
        assert pool.connections == 0
        return seen

    counting = _CountingBackend()
    with serve_provider(dialect="openai") as provider:
        seen = anyio.run(main, provider.base_url, counting)
    assert seen[0] == (200, 1) and seen[2] == (200, 1)  # head + body: one write
    assert seen[1][0] == 200 and seen[1][1] >= 3  # the head, then each piece of the upload as it comes


def test_large_bodies_pass_through_in_both_directions_with_flow_control() -> None:
    """8 MiB down to a client that reads slowly (the upstream connection stops reading while the client lags,
    then resumes) and 8 MiB up as the client sends it (chunked), byte for byte."""
    import hashlib

    from .helpers import BULK

    def upload() -> Iterator[bytes]:
        for start in range(0, len(BULK), 100_000):
            yield BULK[start : start + 100_000]

    with faulty_upstream() as upstream, proxy_to(upstream) as (proxy, out):
        received = bytearray()
        with httpx.stream("GET", f"{proxy.base_url}/bulk", timeout=30) as answer:
            for i, part in enumerate(answer.iter_raw(65536)):
                received += part
                if i % 16 == 0:
                    time.sleep(0.02)
        sent = httpx.post(f"{proxy.base_url}/bulk", content=upload(), timeout=30)
    assert bytes(received) == BULK
    assert sent.json() == {"size": len(BULK), "sha256": hashlib.sha256(BULK).hexdigest()}
    assert "note:" not in out.getvalue() and proxy.session.statuses == {"200": 2}


@contextmanager
def _tls_provider(folder: Path) -> Iterator[tuple[str, Path]]:
    """The reference provider (openai dialect) behind TLS with a self-signed certificate for 127.0.0.1; yields its
    base URL and the certificate (the CA file a client must trust)."""
    import subprocess

    from chatcontract.provider.app import create_app

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with serve_in_thread(create_app(dialect="openai"), ssl_certfile=str(cert), ssl_keyfile=str(key)) as port:
        yield f"https://127.0.0.1:{port}/v1", cert


def test_a_tls_upstream_is_verified_and_proxied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An https upstream: trusted through SSL_CERT_FILE (as httpx does), JSON and stream answers pass and are
    checked; without the certificate trusted, a 502 and CC604 naming the verification failure."""
    with _tls_provider(tmp_path) as (upstream, cert):
        with proxy_to(upstream, dialect="openai") as (untrusted, _):
            refused = httpx.post(f"{untrusted.base_url}/chat/completions", json={"model": "m"}, timeout=10)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with proxy_to(upstream, dialect="openai") as (proxy, _):
            with openai.OpenAI(base_url=proxy.base_url, api_key="sk-x", max_retries=0) as client:
                answer = client.chat.completions.create(model="ref-small", messages=MESSAGES)
                chunks = list(client.chat.completions.create(model="ref-small", messages=MESSAGES, stream=True))
    assert refused.status_code == 502 and "CERTIFICATE_VERIFY_FAILED" in refused.text
    assert untrusted.session.results().findings[0].code == "CC604"
    assert answer.choices[0].message.content and chunks[-1].choices[0].finish_reason
    assert [(e.status, e.stream, e.codes) for e in proxy.session.exchanges] == [(200, False, []), (200, True, [])]
