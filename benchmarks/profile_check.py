"""Where does ``chatcontract.check(body, dialect=...)`` spend its time? A stage-by-stage breakdown.

Run::

    python3 benchmarks/profile_check.py                 # stage table for the Mistral seed
    python3 benchmarks/profile_check.py --cprofile      # plus the cProfile top functions
    python3 benchmarks/profile_check.py --body FILE --dialect openai

Each stage of ``check()`` for a non-stream bytes body is re-run in isolation, with the same inputs ``check()``
gives it, and timed (median of several samples, GC enabled). The stages mirror ``chatcontract/engine.py``; they
use internal names, so update this script when the engine is restructured. The per-stage sum should be close
to the measured ``check()`` total; the difference is call overhead not attributed to a stage.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jiter

import chatcontract.engine as engine
from chatcontract import check
from chatcontract.inputs import _SUSPECT_NUMBER, coerce, parse_json
from chatcontract.rules import RuleContext, Target
from chatcontract.rules.schema import schema_hits

HERE = Path(__file__).resolve().parent


def timed(fn: Callable[[], Any], *, repeats: int = 7, min_time: float = 0.05) -> float:
    """Median µs per call of ``fn()`` (calibrated loop, GC enabled)."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t0 > min_time / 4:
            break
        number *= 2
    number = max(1, int(number * min_time / max(time.perf_counter() - t0, 1e-9)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter_ns() - t0) / number / 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--body", default=str(HERE / "data" / "mistral_chat_completion.json"))
    ap.add_argument("--dialect", default="mistral")
    ap.add_argument("--cprofile", action="store_true", help="also print the cProfile top 25 by own time")
    args = ap.parse_args(argv)

    body = Path(args.body).read_bytes()
    dialect = args.dialect
    report = check(body, dialect=dialect)
    print(f"check({Path(args.body).name}, dialect={dialect!r}): ok={report.ok}, codes={report.codes()}")

    # The inputs check() hands to each stage.
    settings = engine.resolve_settings(dialect=dialect)
    received = coerce(body)
    doc, _ = parse_json(body)
    ctx = RuleContext(dialect=settings.dialect, contracts=settings.contracts, request=None, status=None)
    adapter = settings.contracts.response
    rules = [*settings.rules.get(Target.RESPONSE, ()), *settings.rules.get(Target.ANY, ())]
    suspect = bool(_SUSPECT_NUMBER.search(body))

    rows: list[tuple[str, float]] = []

    def stage(name: str, fn: Callable[[], Any]) -> float:
        us = timed(fn)
        rows.append((name, us))
        return us

    total = timed(lambda: check(body, dialect=dialect), repeats=9, min_time=0.1)

    stage("resolve_settings (config mtime cache + lru_cache)", lambda: engine.resolve_settings(dialect=dialect))
    stage("coerce (Received dataclass)", lambda: coerce(body))

    def setup() -> Any:
        collector = engine._Collector(settings)
        return RuleContext(dialect=settings.dialect, contracts=settings.contracts, request=None, status=None), collector

    stage("_Collector + RuleContext", setup)
    stage("_is_stream (SSE sniff)", lambda: engine._is_stream(received, None))
    parse_total = stage("parse_json (total)", lambda: parse_json(body))
    strict = timed(lambda: jiter.from_json(body, allow_inf_nan=False, catch_duplicate_keys=True))
    print_sub = [
        ("  jiter.from_json strict", strict),
        ("  number scan (_SUSPECT_NUMBER prescan + walk)", parse_total - strict),
    ]
    schema_us = stage("schema_hits (pydantic strict validate_python)", lambda: list(schema_hits(adapter, doc, what="response")))
    vp = timed(lambda: adapter.validate_python(doc))
    try:
        vj = timed(lambda: adapter.validate_json(body))
    except Exception:  # noqa: BLE001 - only informative
        vj = float("nan")

    rule_rows = []
    for r in rules:
        fn = r.check
        assert fn is not None
        us = timed(lambda fn=fn: list(fn(doc, ctx)))
        rule_rows.append((f"  {r.code} {r.name}", us))
    rules_sum = sum(us for _, us in rule_rows)

    def run_rules() -> None:
        collector = engine._Collector(settings)
        collector.run(settings.rules.get(Target.RESPONSE, ()), doc, ctx)
        collector.run(settings.rules.get(Target.ANY, ()), doc, ctx)

    run_us = stage(f"rules via _Collector.run ({len(rules)} rules)", run_rules)
    stage(
        "Report(...) construction",
        lambda: engine.Report(violations=(), dialect=dialect, kind="response", status=None),
    )

    print(f"\ncheck() total: {total:.2f} µs per call (median)\n")
    width = 62
    print(f"  {'stage':<{width}} {'µs':>8} {'% of check':>10}")
    for name, us in rows:
        print(f"  {name:<{width}} {us:>8.2f} {us / total * 100:>9.1f}%")
        if name.startswith("parse_json"):
            for sub, sus in print_sub:
                print(f"  {sub:<{width}} {sus:>8.2f} {sus / total * 100:>9.1f}%")
            print(f"    (prescan {'MATCHED' if suspect else 'did not match'} this body"
                  + (f": {_SUSPECT_NUMBER.search(body).group().decode()!r}, so every node was walked)" if suspect else ")"))
        if name.startswith("schema_hits"):
            print(f"  {'  adapter.validate_python(doc) alone':<{width}} {vp:>8.2f} {vp / total * 100:>9.1f}%")
            print(f"  {'  (for comparison) adapter.validate_json(body)':<{width}} {vj:>8.2f}")
        if name.startswith("rules via"):
            for sub, sus in rule_rows:
                print(f"  {sub:<{width}} {sus:>8.2f} {sus / total * 100:>9.1f}%")
            over = run_us - rules_sum
            print(f"  {'  engine loop overhead (run() minus the rules)':<{width}} {over:>8.2f} {over / total * 100:>9.1f}%")
    accounted = sum(us for _, us in rows)
    print(f"  {'sum of stages':<{width}} {accounted:>8.2f} {accounted / total * 100:>9.1f}%")
    print(f"  {'unattributed (check() call, kind/sort logic)':<{width}} {total - accounted:>8.2f}")

    if suspect:
        clean = re.sub(rb"(\d)([eE])(\d{3})", rb"\1f\3", body)
        t_clean = timed(lambda: check(clean, dialect=dialect), repeats=9, min_time=0.1)
        print(f"\nSame body with the id's digit-e-digits run broken (prescan does not match): {t_clean:.2f} µs")

    if args.cprofile:
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(3000):
            check(body, dialect=dialect)
        pr.disable()
        print("\ncProfile, 3000 calls (profiler overhead inflates small functions):")
        pstats.Stats(pr, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
