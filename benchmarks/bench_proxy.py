"""What does ``chatcontract proxy`` cost a client?

Targets (issue #14), against a fast local upstream, in one run of this script:

- the checks cost at most 10 % of the proxy's own throughput (requests/s with checks on vs. off);
- p50 added latency at most 1 ms for a non-stream answer (through the proxy with checks on, minus direct);
- the first chunk of a stream arrives at most 2 ms later than direct (median time to first chunk).

Three processes: a minimal upstream (a raw ASGI app on uvicorn answering a fixed conforming completion, and a
fixed conforming 40-event stream whose later events come 5 ms apart), the proxy with checks (``chatcontract
proxy`` as users run it), the proxy without checks (the same code with ``checks=False``: forwarding only), and this
process as the client. Latency: sequential requests with one keep-alive ``httpx.Client`` per target, the targets
taken round-robin so load from elsewhere hits all of them. Throughput: ``--concurrency`` asyncio clients for
``--duration`` seconds per target, also round-robin, the median of ``--rounds`` rounds. On a 2-core machine the
client shares the cores with the proxy: the requests/s are a lower bound of what the proxy serves. The CPU time
of each serving process per request (``/proc``) and the CPU time the proxy spent inside the engine (which it sums,
read here through SIGUSR1) give the checks' share of the proxy's work without the scheduler's noise.

    python3 benchmarks/bench_proxy.py                  # ~1.5 min
    python3 benchmarks/bench_proxy.py --assert         # exits 1 if a target FAILs

Figures on the 2-core development machine (shared with other work, so the latencies and requests/s move between
runs; the CPU per request moves least), three runs each, checks on:

    =====================  ===========================  ==============================
    what                   before (Starlette, httpx)    now (raw ASGI, httpcore, LIFO
                                                        pool, httptools + uvloop)
    =====================  ===========================  ==============================
    proxy CPU ms/request   1.27 idle; 1.37-2.35 loaded  0.52-0.77 (direct: 0.28-0.37)
    +p50 ms, JSON          1.58 idle; 1.54-2.33         0.74, 0.77, 1.02
    +first chunk ms        2.14 idle; 2.10-3.19         1.48, 1.60, 1.74
    engine us/request      61 (4.8 % of the CPU)        57-94 (11-12 % of the CPU)
    =====================  ===========================  ==============================

The forwarding costs about 0.2-0.3 ms of CPU per request beyond what the upstream itself spends, against about 1.1
before; the engine's time did not change, so it is now about a tenth of the proxy's work. The requests/s ratio
checks on/off swings by +-15 % between runs on a shared machine (its sign included): read the engine's share of the
CPU per request instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

REQUEST = {"model": "bench", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 64}
STREAM_EVENTS = 40
STREAM_GAP_S = 0.005


def _answer() -> bytes:
    return json.dumps(
        {
            "id": "cmpl-bench",
            "object": "chat.completion",
            "model": "bench",
            "created": 1_700_000_000,
            "usage": {"prompt_tokens": 5, "completion_tokens": 30, "total_tokens": 35},
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello! " * 30, "tool_calls": None, "prefix": False},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()


def _events() -> list[bytes]:
    base = {"id": "cmpl-bench", "object": "chat.completion.chunk", "model": "bench", "created": 1_700_000_000}
    out = []
    for i in range(STREAM_EVENTS):
        delta: dict[str, Any] = {"role": "assistant", "content": ""} if i == 0 else {"content": "Hello "}
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        out.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    usage = {"prompt_tokens": 5, "completion_tokens": STREAM_EVENTS - 1, "total_tokens": STREAM_EVENTS + 4}
    last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}
    out.append(b"data: " + json.dumps(last).encode() + b"\n\ndata: [DONE]\n\n")
    return out


def _upstream_app() -> Any:
    answer, events = _answer(), _events()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b'"stream": true' in body or b'"stream":true' in body:
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
            )
            for i, event in enumerate(events):
                if i:
                    await asyncio.sleep(STREAM_GAP_S)
                await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


def _serve_upstream() -> None:
    import uvicorn

    from chatcontract.proxy.server import bind

    sock = bind("127.0.0.1", 0)  # TCP_NODELAY on its connections, like any production server
    print(f"upstream http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    config = uvicorn.Config(
        _upstream_app(),
        log_level="warning",
        access_log=False,
        http="h11",
        loop="asyncio",
        lifespan="off",
        server_header=False,
        date_header=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _serve_proxy(upstream: str, checks: bool) -> None:
    import io
    import signal

    from chatcontract.proxy import ProxyOptions
    from chatcontract.proxy.server import run_until_stopped

    def ready(proxy: Any) -> None:
        # SIGUSR1: print the seconds spent in the engine so far and the requests served (read by the bench)
        report = lambda *_: print(f"engine {proxy.session.check_seconds} {proxy.session.requests}", flush=True)  # noqa: E731
        signal.signal(signal.SIGUSR1, report)
        print(f"proxy {proxy.base_url}", flush=True)

    run_until_stopped(ProxyOptions(upstream=upstream, port=0, checks=checks), out=io.StringIO(), on_ready=ready)


def _engine_so_far(served: _Served) -> tuple[float, int]:
    """Ask a proxy (SIGUSR1) for its engine CPU seconds and request count so far."""
    import os
    import signal

    seen = len(served.lines)
    os.kill(served.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        fresh = [line for line in served.lines[seen:] if line.startswith("engine ")]
        if fresh:
            _, seconds, requests = fresh[-1].split()
            return float(seconds), int(requests)
        time.sleep(0.01)
    raise RuntimeError("the proxy did not report its engine time")


class _Served(str):
    """A server's base URL that also knows its process id and, once stopped, what it printed."""

    pid: int
    lines: list[str]


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux ``/proc``); None elsewhere."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _process(*args: str) -> Iterator[_Served]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+)", line)
        if not match:
            raise RuntimeError(f"{args} did not start: {line!r}")
        served = _Served(match.group(1))
        served.pid = proc.pid
        served.lines = []
        reader = threading.Thread(target=lambda: served.lines.extend(proc.stdout or ()), daemon=True)
        reader.start()
        yield served
    finally:
        proc.terminate()
        proc.wait(10)
        if "reader" in locals():
            reader.join(5)


def _latency(urls: dict[str, str], n: int, stream: bool) -> dict[str, list[float]]:
    """Sequential round-robin requests: seconds to the whole answer, or to the first chunk of a stream."""
    body = {**REQUEST, "stream": stream}
    clients = {name: httpx.Client(timeout=10, trust_env=False) for name in urls}
    times: dict[str, list[float]] = {name: [] for name in urls}
    try:
        for i in range(n + 20):
            for name, url in urls.items():
                client = clients[name]
                t0 = time.perf_counter()
                if stream:
                    with client.stream("POST", f"{url}/chat/completions", json=body) as answer:
                        parts = answer.iter_raw()
                        next(parts)
                        elapsed = time.perf_counter() - t0
                        for _ in parts:
                            pass
                else:
                    answer = client.post(f"{url}/chat/completions", json=body)
                    elapsed = time.perf_counter() - t0
                assert answer.status_code == 200, (name, answer.status_code)
                if i >= 20:  # warm-up
                    times[name].append(elapsed)
    finally:
        for client in clients.values():
            client.close()
    return times


async def _throughput(url: str, duration: float, concurrency: int) -> tuple[float, int]:
    done = 0
    stop = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10, limits=limits, trust_env=False) as client:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                answer = await client.post(f"{url}/chat/completions", json=REQUEST)
                assert answer.status_code == 200
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - t0), done


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="latency samples per target (default: 400)")
    parser.add_argument("--streams", type=int, default=60, help="stream samples per target (default: 60)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (default: 3)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per throughput sample (default: 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default: 8)")
    parser.add_argument("--assert", dest="strict", action="store_true", help="exit 1 if a target FAILs")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--serve-upstream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-proxy", nargs=2, metavar=("UPSTREAM", "CHECKS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_upstream:
        _serve_upstream()
        return 0
    if args.serve_proxy:
        _serve_proxy(args.serve_proxy[0], args.serve_proxy[1] == "on")
        return 0

    with ExitStack() as stack:
        upstream = stack.enter_context(_process(__file__, "--serve-upstream"))
        urls = {
            "direct": upstream,
            "proxy, checks off": stack.enter_context(_process(__file__, "--serve-proxy", upstream, "off")),
            "proxy, checks on": stack.enter_context(_process(__file__, "--serve-proxy", upstream, "on")),
        }
        plain = _latency(urls, args.requests, stream=False)
        first = _latency(urls, args.streams, stream=True)
        rps: dict[str, list[float]] = {name: [] for name in urls}
        cpu: dict[str, list[float]] = {name: [] for name in urls}  # CPU ms per request of the serving process
        engine_before = _engine_so_far(urls["proxy, checks on"])
        for _ in range(args.rounds):
            for name, url in urls.items():
                before = _cpu_seconds(url.pid)
                rate, done = asyncio.run(_throughput(url, args.duration, args.concurrency))
                after = _cpu_seconds(url.pid)
                rps[name].append(rate)
                if before is not None and after is not None:
                    cpu[name].append((after - before) / done * 1e3)
        engine_after = _engine_so_far(urls["proxy, checks on"])

    # the engine's CPU time per request during the throughput rounds (JSON answers), summed inside the proxy
    served = engine_after[1] - engine_before[1]
    engine_us = (engine_after[0] - engine_before[0]) / served * 1e6 if served else None
    direct_p50, direct_p99 = _pct(plain["direct"], 0.5), _pct(plain["direct"], 0.99)
    first_direct = statistics.median(first["direct"])
    print(
        f"chatcontract proxy against a fast local upstream ({args.requests} sequential requests, "
        f"{args.streams} streams, {args.rounds} x {args.duration:g} s at concurrency {args.concurrency})\n"
    )
    print(
        f"{'target':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} {'+p99 ms':>8} {'1st chunk ms':>13}"
        f" {'+1st ms':>8} {'CPU ms/req':>10}"
    )
    figures: dict[str, Any] = {}
    for name in urls:
        p50, p99 = _pct(plain[name], 0.5), _pct(plain[name], 0.99)
        ttfc = statistics.median(first[name])
        figures[name] = {
            "rps": statistics.median(rps[name]),
            "p50_ms": p50 * 1e3,
            "p99_ms": p99 * 1e3,
            "added_p50_ms": (p50 - direct_p50) * 1e3,
            "added_p99_ms": (p99 - direct_p99) * 1e3,
            "first_chunk_ms": ttfc * 1e3,
            "added_first_chunk_ms": (ttfc - first_direct) * 1e3,
            "cpu_ms_per_request": statistics.median(cpu[name]) if cpu[name] else None,
        }
        f = figures[name]
        shown_cpu = f"{f['cpu_ms_per_request']:>10.3f}" if f["cpu_ms_per_request"] is not None else f"{'-':>10}"
        print(
            f"{name:<20} {f['rps']:>8.0f} {f['p50_ms']:>8.3f} {f['p99_ms']:>8.3f} {f['added_p50_ms']:>8.3f} "
            f"{f['added_p99_ms']:>8.3f} {f['first_chunk_ms']:>13.3f} {f['added_first_chunk_ms']:>8.3f} {shown_cpu}"
        )
    on, off = figures["proxy, checks on"], figures["proxy, checks off"]
    cost = 1 - on["rps"] / off["rps"]
    # The same question asked of the proxy's own CPU time per request, which a busy machine does not blur.
    cpu_cost = (
        1 - off["cpu_ms_per_request"] / on["cpu_ms_per_request"]
        if on["cpu_ms_per_request"] and off["cpu_ms_per_request"]
        else None
    )
    print(
        "\nCPU ms/req: CPU time of the serving process per request during the throughput rounds (/proc), "
        + (f"checks' share of it: {cpu_cost:.1%}" if cpu_cost is not None else "not measured on this system")
    )
    engine_share = engine_us / 1e3 / on["cpu_ms_per_request"] if engine_us and on["cpu_ms_per_request"] else None
    if engine_us is not None:
        print(
            f"CPU time inside the engine (check()), summed by the proxy in those rounds: {engine_us:.1f} us per request"
            + (f", {engine_share:.1%} of its CPU per request" if engine_share is not None else "")
        )
    targets = [
        (f"checks cost {cost:.1%} of the proxy's throughput", cost <= 0.10, "<= 10 %"),
        (
            f"p50 added latency {on['added_p50_ms']:.3f} ms (non-stream, checks on)",
            on["added_p50_ms"] <= 1.0,
            "<= 1 ms",
        ),
        (
            f"first chunk added {on['added_first_chunk_ms']:.3f} ms (checks on)",
            on["added_first_chunk_ms"] <= 2.0,
            "<= 2 ms",
        ),
    ]
    print()
    for text, ok, target in targets:
        print(f"{'PASS' if ok else 'FAIL'}  {text} (target {target})")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "figures": figures,
                    "checks_cost": cost,
                    "checks_cpu_share": cpu_cost,
                    "engine_us_per_request": engine_us,
                    "engine_share_of_cpu": engine_share,
                },
                handle,
                indent=2,
            )
    return 1 if args.strict and not all(ok for _, ok, _ in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
