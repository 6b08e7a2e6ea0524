"""How much of a fuzz run is chatcontract's checking?

Target (issue #6): chatcontract's checks take at most 10 % of the wall time of a fuzz run against the reference
provider. Measured two ways, in one run of this script, on the same seed and example count:

1. **A/B**: ``chatcontract fuzz`` with the engine's checks (``contract_checks=True``) against the same run with only
   schemathesis' ``not_a_server_error`` (``contract_checks=False``). Rounds alternate A and B so that load from
   elsewhere hits both; the medians are compared. Both runs send the same requests (same seed, no faults, so no
   shrinking), which the script asserts.
2. **Direct**: the time spent inside chatcontract's check (request validation, ``check()`` / ``StreamChecker``,
   recording findings) summed with ``perf_counter`` during run A, as a share of A's wall time.

3. **Where the time goes** (``--breakdown``, issue #12): per request, the time schemathesis spent generating it
   (its own ``meta.generation.time``), sending it and reading the answer (the transport), and chatcontract's check;
   the rest is schemathesis' engine (hypothesis' bookkeeping, shrinking, events). Measured with one worker and with
   as many as the machine has cores, with the requests per second of each.

The reference provider runs in its own process (``chatcontract serve``), so its work does not share the fuzzer's
interpreter (and GIL).

    python3 benchmarks/bench_fuzz.py                 # ~1-2 min
    python3 benchmarks/bench_fuzz.py --rounds 5 --max-examples 60 --assert
    python3 benchmarks/bench_fuzz.py --breakdown     # per-request time, 1 worker and one per core
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatcontract.fuzz import session
from chatcontract.fuzz.options import FuzzOptions
from chatcontract.fuzz.runner import run_fuzz

TARGET = 0.10


@contextmanager
def reference_provider(dialect: str):
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatcontract", "serve", "--port", "0", "--seed", "1", "--dialect", dialect],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+/v1)", line)
        if not match:
            raise RuntimeError(f"the reference provider did not start: {line!r}")
        # uvicorn logs every request: keep reading, or the full pipe blocks the server mid-run
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(10)


class _Timer:
    """Sums the wall time spent in chatcontract's per-response work during a run."""

    def __init__(self) -> None:
        self.total = 0.0
        self.calls = 0

    @contextmanager
    def installed(self):
        original = session.FuzzRun.observe

        def timed(run: Any, case: Any, response: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(run, case, response)
            finally:
                self.total += time.perf_counter() - start
                self.calls += 1

        session.FuzzRun.observe = timed  # type: ignore[method-assign]
        try:
            yield self
        finally:
            session.FuzzRun.observe = original  # type: ignore[method-assign]


class _Breakdown:
    """Sums, per run, generation (schemathesis' own measure), transport and check time, across worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = self.sending = self.checking = 0.0
        self.requests = 0

    @contextmanager
    def installed(self):
        from schemathesis.transport.requests import REQUESTS_TRANSPORT

        from chatcontract.fuzz.hooks import register

        register()  # chatcontract's own transport watcher goes in first; this one wraps it
        before, observe, send = session.FuzzRun.before_call, session.FuzzRun.observe, REQUESTS_TRANSPORT.send

        def timed_before(run: Any, case: Any) -> Any:
            generation = getattr(getattr(case, "meta", None), "generation", None)
            with self.lock:
                self.generation += float(getattr(generation, "time", 0.0) or 0.0)
                self.requests += 1
            return before(run, case)

        def timed_observe(run: Any, case: Any, response: Any) -> Any:
            start = time.perf_counter()
            try:
                return observe(run, case, response)
            finally:
                with self.lock:
                    self.checking += time.perf_counter() - start

        def timed_send(case: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return send(case, *args, **kwargs)
            finally:
                with self.lock:
                    self.sending += time.perf_counter() - start

        session.FuzzRun.before_call = timed_before  # type: ignore[method-assign]
        session.FuzzRun.observe = timed_observe  # type: ignore[method-assign]
        REQUESTS_TRANSPORT.send = timed_send  # type: ignore[method-assign]
        try:
            yield self
        finally:
            session.FuzzRun.before_call = before  # type: ignore[method-assign]
            session.FuzzRun.observe = observe  # type: ignore[method-assign]
            REQUESTS_TRANSPORT.send = send  # type: ignore[method-assign]


def breakdown(url: str, args: argparse.Namespace, workers: int) -> dict[str, Any]:
    options = FuzzOptions(
        base_url=url, model="ref-small", dialect=args.dialect, seed=args.seed, max_examples=args.max_examples,
        max_requests=1_000_000, phases=tuple(args.phases.split(",")), workers=workers,
    )
    measure = _Breakdown()
    with measure.installed():
        start = time.perf_counter()
        results = run_fuzz(options)
        wall = time.perf_counter() - start
    n = max(measure.requests, 1)
    return {
        "workers": workers, "wall": wall, "requests": results.requests, "req_per_s": results.requests / wall,
        "generation_ms": measure.generation / n * 1e3, "sending_ms": measure.sending / n * 1e3,
        "checking_ms": measure.checking / n * 1e3, "wall_ms": wall / n * 1e3,
    }


def print_breakdown(url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    from chatcontract.fuzz.command import default_workers

    rows = []
    breakdown(url, args, 1)  # warm-up
    for workers in sorted({1, default_workers()}):
        rows.append(breakdown(url, args, workers))
    print(f"where the time goes, per request ({args.dialect}, seed {args.seed}, max-examples {args.max_examples}, "
          f"phases {args.phases}); thread times overlap when workers > 1")
    print("  workers  requests   req/s   wall/req  generation  sending  checking  engine   (ms per request)")
    for r in rows:
        engine = r["wall_ms"] - r["generation_ms"] - r["sending_ms"] - r["checking_ms"]
        shown = f"{engine:6.1f}" if r["workers"] == 1 else "     -"  # with threads the parts overlap
        print(f"  {r['workers']:>7}  {r['requests']:>8}  {r['req_per_s']:6.1f}  {r['wall_ms']:8.1f}  "
              f"{r['generation_ms']:10.1f}  {r['sending_ms']:7.1f}  {r['checking_ms']:8.1f}  {shown}")
    return rows


def one_run(url: str, args: argparse.Namespace, *, checks: bool) -> dict[str, Any]:
    options = FuzzOptions(
        base_url=url, model="ref-small", dialect=args.dialect, seed=args.seed, max_examples=args.max_examples,
        max_requests=1_000_000, contract_checks=checks, phases=tuple(args.phases.split(",")),
    )
    timer = _Timer()
    with timer.installed():
        start = time.perf_counter()
        results = run_fuzz(options)
        wall = time.perf_counter() - start
    return {"wall": wall, "check": timer.total, "calls": timer.calls, "requests": results.requests,
            "statuses": results.statuses, "findings": [f.code for f in results.findings]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", choices=("mistral", "openai"), default="mistral")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--assert", dest="check_target", action="store_true", help="exit 1 when the target fails")
    parser.add_argument("--breakdown", action="store_true", help="only where the time goes per request (#12)")
    args = parser.parse_args(argv)

    if args.breakdown:
        with reference_provider(args.dialect) as url:
            rows = print_breakdown(url, args)
        if args.json:
            args.json.write_text(json.dumps({"breakdown": rows}, indent=2))
        return 0

    a_runs: list[dict[str, Any]] = []
    b_runs: list[dict[str, Any]] = []
    with reference_provider(args.dialect) as url:
        one_run(url, args, checks=True)  # warm-up: imports, pydantic schemas, schemathesis caches
        for _ in range(args.rounds):
            a_runs.append(one_run(url, args, checks=True))
            b_runs.append(one_run(url, args, checks=False))

    # B has no chatcontract check, so no statuses: compare what both count, the requests sent
    sent = {r["requests"] for r in a_runs + b_runs}
    if len(sent) != 1:
        raise SystemExit(f"runs sent different numbers of requests, the comparison would be unfair: {sorted(sent)}")
    findings = a_runs[0]["findings"]
    requests = a_runs[0]["requests"]
    a = statistics.median(r["wall"] for r in a_runs)
    b = statistics.median(r["wall"] for r in b_runs)
    direct = statistics.median(r["check"] / r["wall"] for r in a_runs)
    ab_share = (a - b) / a
    per_response = statistics.median(r["check"] / max(r["calls"], 1) for r in a_runs)

    print(f"chatcontract fuzz against the reference provider ({args.dialect}), seed {args.seed}, "
          f"max-examples {args.max_examples}, phases {args.phases}: {requests} requests per run "
          f"({a_runs[0]['statuses']}), "
          f"findings {findings or 'none'}; {args.rounds} rounds, medians")
    rounds_a = ", ".join(f"{r['wall']:.2f}" for r in a_runs)
    rounds_b = ", ".join(f"{r['wall']:.2f}" for r in b_runs)
    print(f"  A  engine checks          {a:7.2f} s   (rounds: {rounds_a})")
    print(f"  B  not_a_server_error     {b:7.2f} s   (rounds: {rounds_b})")
    print(f"  A/B: checking adds {a - b:+.2f} s = {ab_share:.1%} of A's wall time")
    print(f"  direct: {direct:.1%} of A's wall time inside chatcontract's check ({per_response * 1e6:.0f} us per "
          "response, streams and request validation included)")
    verdict = "PASS" if direct <= TARGET and ab_share <= TARGET else "FAIL"
    print(f"  target: checks <= {TARGET:.0%} of the fuzz run's wall time: {verdict}")
    if args.json:
        args.json.write_text(json.dumps({"a": a_runs, "b": b_runs, "direct_share": direct, "ab_share": ab_share,
                                         "verdict": verdict}, indent=2))
    return 1 if args.check_target and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
