"""Stream checking: time against json.loads over the same chunks, linearity, and flat memory.

Targets (issue "Streams"): a 10,000-chunk stream is checked in at most 2x the time json.loads takes over its chunks;
1k, 10k and 100k chunks scale linearly; StreamChecker's peak memory (tracemalloc) is flat in the number of chunks.
Usage: python3 benchmarks/bench_stream.py [--assert] [--max-chunks 100000]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc

from chatcontract.streams import StreamChecker

REQUEST = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Tell me a story"}], "stream": True}


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4.1-2025-04-14",
        "system_fingerprint": "fp_b705f0c291",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def make_stream(n: int) -> tuple[bytes, list[str]]:
    """An OpenAI-style stream of ``n`` chunks (role, n-2 content deltas, finish) and the JSON of each chunk."""
    datas = [json.dumps(_chunk({"role": "assistant", "content": "", "refusal": None}))]
    datas += [json.dumps(_chunk({"content": f" word{i}"})) for i in range(n - 2)]
    datas.append(json.dumps(_chunk({}, "stop")))
    body = "".join(f"data: {d}\n\n" for d in datas) + "data: [DONE]\n\n"
    return body.encode(), datas


def feed(body: bytes, size: int = 4096) -> object:
    checker = StreamChecker(dialect="openai", request=REQUEST)
    for start in range(0, len(body), size):
        checker.feed(body[start : start + size])
    return checker.close()


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assert", dest="check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--max-chunks", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    verdicts: list[tuple[bool, str]] = []

    body, datas = make_stream(10_000)
    report = feed(body)
    assert report.ok and not report.violations, report  # type: ignore[attr-defined]
    t_check = best(lambda: feed(body), args.repeats)
    t_json = best(lambda: [json.loads(d) for d in datas], args.repeats)
    ratio = t_check / t_json
    print(f"10,000-chunk OpenAI stream, fed in 4 KiB pieces (best of {args.repeats})")
    print(f"  StreamChecker feed+close   {t_check * 1e6 / 10_000:7.2f} us/chunk")
    print(f"  json.loads over the chunks {t_json * 1e6 / 10_000:7.2f} us/chunk")
    print(f"  ratio                      {ratio:7.2f}x")
    verdicts.append((ratio <= 2.0, f"10k chunks within 2x of json.loads: {ratio:.2f}x"))

    sizes = [n for n in (1_000, 10_000, 100_000) if n <= args.max_chunks]
    per_chunk = {}
    peaks = {}
    print("\nScaling (us/chunk) and peak traced memory of StreamChecker")
    for n in sizes:
        body_n, _ = make_stream(n)
        per_chunk[n] = best(lambda b=body_n: feed(b), 3 if n <= 10_000 else 2) * 1e6 / n
        tracemalloc.start()
        checker = StreamChecker(dialect="openai", request=REQUEST)
        # Measure what the checker holds, not the test's copy of the body: feed the body piece by piece.
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        for start in range(0, len(body_n), 4096):
            checker.feed(body_n[start : start + 4096])
        checker.close()
        peaks[n] = (tracemalloc.get_traced_memory()[1] - baseline) / 1024
        tracemalloc.stop()
        print(f"  {n:>7} chunks  {per_chunk[n]:7.2f} us/chunk   peak {peaks[n]:9.1f} KiB")
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        spread = per_chunk[hi] / per_chunk[lo]
        verdicts.append((0.5 <= spread <= 1.5, f"linear: us/chunk at {hi} vs {lo} chunks = {spread:.2f}x (0.5..1.5)"))
        # The assembly keeps the joined content (a few bytes per chunk); everything else must stay flat.
        content = sum(len(f" word{i}") for i in range(hi)) / 1024
        growth = peaks[hi] - peaks[lo]
        verdicts.append(
            (
                growth <= 4 * content + 256,
                f"memory flat apart from the assembled content: +{growth:.0f} KiB for {hi - lo} more chunks "
                f"(assembled text {content:.0f} KiB)",
            )
        )
    print()
    for ok, text in verdicts:
        print(("PASS  " if ok else "FAIL  ") + text)
    return 1 if args.check and not all(ok for ok, _ in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
