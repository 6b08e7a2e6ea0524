"""Where does ``chatcontract.check(body, dialect=...)`` spend its time? A stage-by-stage breakdown.

Run::

    python3 benchmarks/profile_check.py                 # stage table for the Mistral seed
    python3 benchmarks/profile_check.py --cprofile      # plus the cProfile top functions
    python3 benchmarks/profile_check.py --body FILE --dialect openai

Each stage of ``check()`` for a non-stream bytes body is re-run in isolation with the inputs ``check()`` gives
it. All stages (and ``check()`` itself) are sampled ROUND-ROBIN, so machine noise hits them alike; figures are
medians of thread CPU time (``--wall`` for wall clock), GC enabled. The stages mirror ``chatcontract/engine.py``
and use internal names: update this script when the engine is restructured.

The "what if" rows time alternatives that are NOT in the package (evidence for the suggestions in
``benchmarks/README.md``); nothing here changes package code.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jiter

import chatcontract.engine as engine
from chatcontract import check
import chatcontract.inputs as inputs
from chatcontract.inputs import _SUSPECT_NUMBER, _number_findings, coerce, parse_json
from chatcontract.rules import RuleContext, Target
from chatcontract.rules.schema import schema_hits

HERE = Path(__file__).resolve().parent


@dataclass
class Stage:
    name: str
    fn: Callable[[], Any]
    level: int = 0  # 0: a stage of check(); 1: a part of the stage above; 2: a what-if (not package code)
    number: int = 0
    samples: list[float] = field(default_factory=list)

    @property
    def us(self) -> float:
        return statistics.median(self.samples)


def measure(stages: list[Stage], clock: Callable[[], int], *, repeats: int, min_time: float) -> None:
    for st in stages:
        number = 1
        while True:
            t0 = clock()
            for _ in range(number):
                st.fn()
            spent = (clock() - t0) / 1e9
            if spent > min_time / 4:
                break
            number *= 2
        st.number = max(1, int(number * min_time / max(spent, 1e-9)))
    for _ in range(repeats):
        for st in stages:
            fn, rng = st.fn, range(st.number)
            t0 = clock()
            for _ in rng:
                fn()
            st.samples.append((clock() - t0) / st.number / 1000)


# ---- what-if alternatives (NOT package code) -----------------------------------------------------------------

# Only numbers in value position (after ':' ',' '[') can be suspects; a hex id such as "...48073e77776..." cannot.
_CONTEXT_NUMBER = re.compile(rb"[:,\[]\s*-?(?:\d{19}|\d+(?:\.\d+)?[eE]\+?\d{3})")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _has_bad_number(node: Any) -> bool:
    """Loc-free walk: only when it returns True does the engine need the (slow, loc-building) walk."""
    t = type(node)
    if t is dict:
        for v in node.values():
            tv = type(v)
            if (tv is dict or tv is list or tv is int or tv is float) and _has_bad_number(v):
                return True
        return False
    if t is list:
        for v in node:
            tv = type(v)
            if (tv is dict or tv is list or tv is int or tv is float) and _has_bad_number(v):
                return True
        return False
    if t is int:
        return not _INT64_MIN <= node <= _INT64_MAX
    if t is float:
        return not math.isfinite(node)
    return False


def _fused_response_rules(doc: Any) -> bool:
    """Roughly what the 17 response rules read on a clean body, in one pass (for the order of magnitude only)."""
    usage = doc.get("usage")
    ok = True
    if type(usage) is dict:
        p, c, t = usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens")
        if type(p) is int and type(c) is int and type(t) is int:
            ok = t == p + c and p >= 0 and c >= 0 and t >= max(p, c)
    ok = ok and bool(doc.get("id")) and bool(doc.get("model")) and doc.get("object") == "chat.completion"
    created = doc.get("created")
    ok = ok and type(created) is int and 1_000_000_000 < created < 10_000_000_000 and "error" not in doc
    choices = doc.get("choices")
    if type(choices) is list:
        ok = ok and bool(choices)
        for i, ch in enumerate(choices):
            if type(ch) is not dict:
                continue
            ok = ok and ch.get("index") == i
            msg = ch.get("message")
            if type(msg) is not dict:
                ok = False
                continue
            calls = msg.get("tool_calls")
            fr = ch.get("finish_reason")
            if calls:  # only then the tool-call rules (ids, arguments JSON, duplicates, finish_reason) have work
                ok = ok and fr == "tool_calls"
            else:
                ok = ok and fr != "tool_calls"
    return ok


@dataclass
class Variant:
    """check() with some engine pieces swapped out in memory (monkeypatched per sample, restored after)."""

    name: str
    patches: list[tuple[Any, str, Any]]
    number: int = 0
    samples: list[float] = field(default_factory=list)

    @property
    def us(self) -> float:
        return statistics.median(self.samples)


def measure_variants(
    variants: list[Variant], run: Callable[[], Any], clock: Callable[[], int], *, repeats: int, min_time: float
) -> None:
    def sample(v: Variant, number: int) -> float:
        saved = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in v.patches]
        for obj, attr, value in v.patches:
            setattr(obj, attr, value)
        try:
            t0 = clock()
            for _ in range(number):
                run()
            return (clock() - t0) / number / 1000
        finally:
            for obj, attr, value in saved:
                setattr(obj, attr, value)

    for v in variants:
        per_call = sample(v, 200) * 1e-6
        v.number = max(1, int(min_time / max(per_call, 1e-9)))
    for _ in range(repeats):
        for v in variants:
            v.samples.append(sample(v, v.number))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--body", default=str(HERE / "data" / "mistral_chat_completion.json"))
    ap.add_argument("--dialect", default="mistral")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--min-time", type=float, default=0.03, help="seconds per sample and stage")
    ap.add_argument("--wall", action="store_true", help="time with perf_counter_ns instead of thread CPU time")
    ap.add_argument("--cprofile", action="store_true", help="also print the cProfile top 25 by own time")
    args = ap.parse_args(argv)
    clock = time.perf_counter_ns if args.wall else time.thread_time_ns

    body = Path(args.body).read_bytes()
    dialect = args.dialect
    report = check(body, dialect=dialect)
    print(f"check({Path(args.body).name} [{len(body)} bytes], dialect={dialect!r}): ok={report.ok}, "
          f"codes={report.codes()}")

    # The inputs check() hands to each stage.
    settings = engine.resolve_settings(dialect=dialect)
    received = coerce(body)
    doc, _ = parse_json(body)
    ctx = RuleContext(dialect=settings.dialect, contracts=settings.contracts, request=None, status=None)
    adapter = settings.contracts.response
    all_rules = [*settings.rules.get(Target.RESPONSE, ()), *settings.rules.get(Target.ANY, ())]
    rules = [r for r in all_rules if not r.requires_request]  # CC4xx are skipped without a request, as here
    suspect = _SUSPECT_NUMBER.search(body)

    def setup() -> Any:
        return engine._Collector(settings), RuleContext(
            dialect=settings.dialect, contracts=settings.contracts, request=None, status=None
        )

    def run_rules() -> None:
        collector = engine._Collector(settings)
        collector.run(settings.rules.get(Target.RESPONSE, ()), doc, ctx)
        collector.run(settings.rules.get(Target.ANY, ()), doc, ctx)

    total = Stage("check() total", lambda: check(body, dialect=dialect))
    stages = [
        Stage("resolve_settings (config mtime cache + lru_cache)", lambda: engine.resolve_settings(dialect=dialect)),
        Stage("coerce (Received dataclass)", lambda: coerce(body)),
        Stage("_Collector + RuleContext", setup),
        Stage("_is_stream (SSE sniff)", lambda: engine._is_stream(received, None)),
        Stage("parse_json (jiter strict + number scan)", lambda: parse_json(body)),
        Stage("jiter.from_json strict", lambda: jiter.from_json(body, allow_inf_nan=False, catch_duplicate_keys=True), 1),
        Stage("_SUSPECT_NUMBER.search(body) (regex prescan)", lambda: _SUSPECT_NUMBER.search(body), 1),
        Stage("_number_findings(doc) (walk, runs when prescan matches)", lambda: _number_findings(doc), 1),
        Stage("schema_hits (pydantic strict validate_python)", lambda: list(schema_hits(adapter, doc, what="response"))),
        Stage(f"rules via _Collector.run ({len(rules)} run, {len(all_rules) - len(rules)} need a request)", run_rules),
    ]
    for r in rules:
        stages.append(Stage(f"{r.code} {r.name}", lambda fn=r.check: list(fn(doc, ctx)), 1))  # type: ignore[misc]
    stages.append(
        Stage("Report(...) construction", lambda: engine.Report(violations=(), dialect=dialect, kind="response"))
    )
    what_if = [
        Stage("jiter.from_json, default options", lambda: jiter.from_json(body), 2),
        Stage("number-context regex prescan (no hex-id false positive)", lambda: _CONTEXT_NUMBER.search(body), 2),
        Stage("loc-free recursive number check on the doc", lambda: _has_bad_number(doc), 2),
        Stage("adapter.validate_json(body) (parse+validate in Rust)", lambda: adapter.validate_json(body), 2),
        Stage("one fused pass over the rules' fields (sketch)", lambda: _fused_response_rules(doc), 2),
    ]
    measure([total, *stages, *what_if], clock, repeats=args.repeats, min_time=args.min_time)

    t = total.us
    width = 66
    print(f"\ncheck() total: {t:.2f} µs per call (median of {args.repeats}, "
          f"{'wall clock' if args.wall else 'thread CPU time'})")
    if suspect:
        print(f"  note: the regex prescan MATCHES this body ({suspect.group().decode()!r} inside the id), so every "
              "check walks the whole document for out-of-range numbers")
    print(f"\n  {'stage':<{width}} {'µs':>8} {'share':>7}")
    for st in stages:
        indent = "    " * st.level
        print(f"  {indent + st.name:<{width}} {st.us:>8.2f} {st.us / t * 100:>6.1f}%")
        if st.name.startswith("rules via"):
            rules_sum = sum(s.us for s in stages if s.level == 1 and s.name[:2] == "CC")
            over = st.us - rules_sum
            print(f"  {'    engine loop overhead (run() minus the rule bodies)':<{width}} {over:>8.2f} "
                  f"{over / t * 100:>6.1f}%")
    top = sum(s.us for s in stages if s.level == 0)
    print(f"  {'sum of the stages':<{width}} {top:>8.2f} {top / t * 100:>6.1f}%")
    print(f"\n  what if (alternatives, not package code)")
    for st in what_if:
        print(f"  {'    ' + st.name:<{width}} {st.us:>8.2f}")

    # ---- In-context ablation: the marginal cost of each piece inside a real check() -----------------------------
    def no_rules(self: Any, *a: Any, **k: Any) -> None:
        return None

    def no_schema(*a: Any, **k: Any) -> Any:
        return iter(())

    def cached_settings(**k: Any) -> Any:
        return settings

    def no_numbers(doc: Any, raw: bytes) -> list[Any]:
        return []

    def not_stream(received: Any, stream: Any) -> bool:
        return False

    pieces = {
        "number scan (prescan + walk)": [(inputs, "_numbers", no_numbers)],
        "schema validation (schema_hits)": [(engine, "schema_hits", no_schema)],
        "all rule functions (_Collector.run)": [(engine._Collector, "run", no_rules)],
        "resolve_settings": [(engine, "resolve_settings", cached_settings)],
        "SSE sniff (_is_stream)": [(engine, "_is_stream", not_stream)],
    }
    variants = [Variant("check() as is", [])]
    variants += [Variant(f"without {name}", patches) for name, patches in pieces.items()]
    variants.append(
        Variant("what if: number-context prescan regex", [(inputs, "_SUSPECT_NUMBER", _CONTEXT_NUMBER)])
    )
    variants.append(
        Variant("without all of the above (parse + Report skeleton)", [p for ps in pieces.values() for p in ps])
    )
    measure_variants(
        variants, lambda: check(body, dialect=dialect), clock, repeats=args.repeats, min_time=args.min_time * 2
    )
    base = variants[0].us
    print("\n  in-context ablation: check() with one piece swapped out in memory (marginal cost, includes the")
    print("  cache/branch effects that isolated timings miss)")
    print(f"  {'variant':<{width}} {'µs':>8} {'saves':>8} {'share':>7}")
    for v in variants:
        saves = base - v.us
        share = f"{saves / base * 100:>6.1f}%" if v is not variants[0] else ""
        print(f"  {v.name:<{width}} {v.us:>8.2f} {saves if v is not variants[0] else 0:>8.2f} {share:>7}")

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
