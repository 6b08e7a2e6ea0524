"""Where does ``chatcontract.check(body, dialect=...)`` spend its time? A stage-by-stage breakdown.

Run::

    python3 benchmarks/profile_check.py                  # timings (thread CPU time), ~20 s
    python3 benchmarks/profile_check.py --instructions   # exact instruction counts under valgrind, ~3-5 min
    python3 benchmarks/profile_check.py --cprofile       # plus the cProfile top functions
    python3 benchmarks/profile_check.py --body FILE --dialect openai

Three views, all for a non-stream bytes body:

* stages: each stage of ``check()`` re-run in isolation with the inputs ``check()`` gives it (the stage names
  mirror ``chatcontract/engine.py`` and use internal names: update this script when the engine changes);
* ablation: ``check()`` itself with one piece swapped out in memory (monkeypatched for the sample, restored
  after), i.e. the marginal cost of that piece in context;
* what if: alternatives that are NOT in the package, as evidence for the suggestions in README.md.

Timings are sampled round-robin (noise hits all rows alike) with the GC enabled; figures are the MIN over
samples by default (``--stat median`` for medians), which on a shared machine is the best estimate of the
intrinsic cost. ``--instructions`` re-runs everything under ``valgrind --tool=callgrind`` and reports
instructions executed per call instead: slower, but exact and immune to other load on the machine.
Nothing here changes package code.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _callgrind  # noqa: E402

import chatcontract.engine as engine
import chatcontract.inputs as inputs
from chatcontract import check
from chatcontract.inputs import _SUSPECT_NUMBER, coerce, parse_json
from chatcontract.rules import RuleContext, Target
from chatcontract.rules.schema import schema_hits

# The loc-building number walk that runs when the regex prescan matches (renamed in the package over time).
_number_walk: Callable[[Any], Any] = getattr(inputs, "number_findings", None) or inputs._number_findings  # type: ignore[attr-defined]

HERE = Path(__file__).resolve().parent
DEFAULT_BODY = HERE / "data" / "mistral_chat_completion.json"


# ---- what-if alternatives (NOT package code) -----------------------------------------------------------------

# Only numbers in value position (after ':' ',' '[') can be suspects; a hex id such as "...48073e77776..." cannot.
_CONTEXT_NUMBER = re.compile(rb"[:,\[]\s*-?(?:\d{19}|\d+(?:\.\d+)?[eE]\+?\d{3})")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _has_bad_number(node: Any) -> bool:
    """Loc-free walk: only when it returns True would the engine need the (slow, loc-building) walk."""
    t = type(node)
    if t is dict:
        node = node.values()
    elif t is not list:
        if t is int:
            return not _INT64_MIN <= node <= _INT64_MAX
        if t is float:
            return not math.isfinite(node)
        return False
    for v in node:
        tv = type(v)
        if (tv is dict or tv is list or tv is int or tv is float) and _has_bad_number(v):
            return True
    return False


def _fused_response_rules(doc: Any) -> bool:
    """Roughly what the response rules read on a clean body, in one pass (an order of magnitude, not a port)."""
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
            if calls:  # only then do the tool-call rules (ids, arguments JSON, duplicates) have work to do
                ok = ok and fr == "tool_calls"
            else:
                ok = ok and fr != "tool_calls"
    return ok


# ---- what is measured --------------------------------------------------------------------------------------


@dataclass
class Item:
    """One measured row: a function run in a loop, optionally with engine pieces monkeypatched meanwhile."""

    section: str  # "total", "stage", "part", "what-if", "ablation"
    name: str
    fn: Callable[[], Any]
    patches: list[tuple[Any, str, Any]] = field(default_factory=list)
    number: int = 0
    samples: list[float] = field(default_factory=list)
    value: float = 0.0

    def run(self, number: int, clock: Callable[[], int]) -> int:
        saved = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in self.patches]
        for obj, attr, value in self.patches:
            setattr(obj, attr, value)
        try:
            fn = self.fn
            t0 = clock()
            for _ in range(number):
                fn()
            return clock() - t0
        finally:
            for obj, attr, value in saved:
                setattr(obj, attr, value)


def build_items(body: bytes, dialect: str) -> list[Item]:
    settings = engine.resolve_settings(dialect=dialect)
    received = coerce(body)
    doc, _ = parse_json(body)
    ctx = RuleContext(dialect=settings.dialect, contracts=settings.contracts, request=None, status=None)
    adapter = settings.contracts.response
    all_rules = [*settings.rules.get(Target.RESPONSE, ()), *settings.rules.get(Target.ANY, ())]
    rules = [r for r in all_rules if not r.requires_request]  # CC4xx are skipped without a request, as here

    def validate_json() -> Any:
        try:
            return adapter.validate_json(body)
        except ValueError:  # pydantic's ValidationError: the body breaks the contract (the cost still counts)
            return None

    def full() -> Any:
        return check(body, dialect=dialect)

    def setup() -> Any:
        return engine._Collector(settings), RuleContext(
            dialect=settings.dialect, contracts=settings.contracts, request=None, status=None
        )

    def run_rules() -> None:
        collector = engine._Collector(settings)
        collector.run(settings.rules.get(Target.RESPONSE, ()), doc, ctx)
        collector.run(settings.rules.get(Target.ANY, ()), doc, ctx)

    items = [
        Item("total", "check() total", full),
        Item(
            "stage",
            "resolve_settings (config mtime cache + lru_cache)",
            lambda: engine.resolve_settings(dialect=dialect),
        ),
        Item("stage", "coerce (Received dataclass)", lambda: coerce(body)),
        Item("stage", "_Collector + RuleContext", setup),
        Item("stage", "_is_stream (SSE sniff of body[:256])", lambda: engine._is_stream(received, None)),
        Item("stage", "parse_json (jiter strict + number scan)", lambda: parse_json(body)),
        Item(
            "part",
            "jiter.from_json strict (dup keys, no NaN)",
            lambda: jiter.from_json(body, allow_inf_nan=False, catch_duplicate_keys=True),
        ),
        Item("part", "_SUSPECT_NUMBER.search(body) (regex prescan)", lambda: _SUSPECT_NUMBER.search(body)),
        Item("part", f"{_number_walk.__name__}(doc) (walk; runs when the prescan matches)", lambda: _number_walk(doc)),
        Item(
            "stage",
            "schema_hits (pydantic strict validate_python)",
            lambda: list(schema_hits(adapter, doc, what="response")),
        ),
        Item(
            "stage",
            f"rules via _Collector.run ({len(rules)} run; {len(all_rules) - len(rules)} need a request)",
            run_rules,
        ),
    ]
    for r in rules:
        items.append(Item("part", f"{r.code} {r.name}", lambda fn=r.check: list(fn(doc, ctx))))  # type: ignore[misc]
    items.append(
        Item(
            "stage", "Report(...) construction", lambda: engine.Report(violations=(), dialect=dialect, kind="response")
        )
    )
    # The same body without the prescan's false positive (e.g. a hex id without digit-e-digit-digit-digit): the
    # common case for ~3 in 4 random 32-hex ids, where the regex scans every byte and finds nothing.
    clean = re.sub(rb"(\d)([eE])(\d{3})", rb"\1f\3", body)
    items += [
        Item("what-if", "check() on the body with the false positive removed", lambda: check(clean, dialect=dialect)),
        Item(
            "what-if",
            "_SUSPECT_NUMBER.search on that body (no match: scans all bytes)",
            lambda: _SUSPECT_NUMBER.search(clean),
        ),
        Item("what-if", "jiter.from_json(body), default options", lambda: jiter.from_json(body)),
        Item(
            "what-if", "number-context regex prescan (no hex-id false positive)", lambda: _CONTEXT_NUMBER.search(body)
        ),
        Item("what-if", "loc-free recursive number check on the doc", lambda: _has_bad_number(doc)),
        Item("what-if", "adapter.validate_json(body) (parse + validate in Rust)", validate_json),
        Item("what-if", "one fused pass over the rules' fields (sketch)", lambda: _fused_response_rules(doc)),
    ]

    # In-context ablation: check() with a piece swapped out.
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

    pieces: dict[str, list[tuple[Any, str, Any]]] = {
        "number scan (prescan + walk)": [(inputs, "_numbers", no_numbers)],
        "schema validation (schema_hits)": [(engine, "schema_hits", no_schema)],
        "all rule functions (_Collector.run)": [(engine._Collector, "run", no_rules)],
        "resolve_settings (use the resolved Settings)": [(engine, "resolve_settings", cached_settings)],
        "SSE sniff (_is_stream)": [(engine, "_is_stream", not_stream)],
    }
    items.append(Item("ablation", "check() as is", full))
    for name, patches in pieces.items():
        items.append(Item("ablation", f"without {name}", full, list(patches)))
    items.append(
        Item("ablation", "what if: number-context prescan regex", full, [(inputs, "_SUSPECT_NUMBER", _CONTEXT_NUMBER)])
    )
    items.append(
        Item(
            "ablation",
            "without all five (jiter parse + engine skeleton + Report)",
            full,
            [p for ps in pieces.values() for p in ps],
        )
    )
    return items


# ---- timing mode -------------------------------------------------------------------------------------------


def time_items(items: list[Item], *, repeats: int, min_time: float, stat: str) -> None:
    clock = time.thread_time_ns
    for it in items:
        number = 1
        while True:
            spent = it.run(number, clock) / 1e9
            if spent > min_time / 4:
                break
            number *= 2
        it.number = max(1, int(number * min_time / max(spent, 1e-9)))
    for _ in range(repeats):
        for it in items:
            it.samples.append(it.run(it.number, clock) / it.number / 1000)
    pick = min if stat == "min" else statistics.median
    for it in items:
        it.value = pick(it.samples)


# ---- instruction-count mode (valgrind/callgrind, see _callgrind.py) -------------------------------------------


def count_instructions(items: list[Item], body_path: str, dialect: str, number: int) -> None:
    print(f"running under callgrind ({len(items)} rows x {number} calls; takes a few minutes) ...", flush=True)
    counts = _callgrind.count(__file__, [body_path, "--dialect", dialect, "--number", str(number)], len(items), number)
    for it, n in zip(items, counts, strict=True):
        it.value = n


def child_main(body_path: str, dialect: str, number: int) -> None:
    items = build_items(Path(body_path).read_bytes(), dialect)

    def runner(it: Item) -> Callable[[int], Any]:
        return lambda n: it.run(n, time.perf_counter_ns)

    _callgrind.child_loop([runner(it) for it in items], number)


# ---- report ------------------------------------------------------------------------------------------------


def print_report(items: list[Item], unit: str) -> None:
    def fmt(v: float) -> str:
        return f"{v:>9.2f}" if unit == "µs" else f"{v / 1000:>8.1f}k"

    width = 70
    total = next(it for it in items if it.section == "total").value
    print(f"\ncheck() total: {fmt(total).strip()} {unit if unit == 'µs' else 'instructions'} per call")
    print(f"\n  {'stage (isolated)':<{width}} {unit:>9} {'share':>7}")
    stages = [it for it in items if it.section in ("stage", "part")]
    rule_parts: list[Item] = []
    for it in stages:
        indent = "    " if it.section == "part" else ""
        print(f"  {indent + it.name:<{width}} {fmt(it.value)} {it.value / total * 100:>6.1f}%")
        if it.name.startswith("rules via"):
            rule_parts = [s for s in stages if s.section == "part" and s.name[:2] == "CC"]
            over = it.value - sum(s.value for s in rule_parts)
            print(
                f"  {'    engine loop overhead (run() minus the rule bodies)':<{width}} {fmt(over)} "
                f"{over / total * 100:>6.1f}%"
            )
    top = sum(it.value for it in items if it.section == "stage")
    print(f"  {'sum of the stages':<{width}} {fmt(top)} {top / total * 100:>6.1f}%")
    print(
        f"  {'not in any stage (check() glue, cache effects of running them together)':<{width}} "
        f"{fmt(total - top)} {(total - top) / total * 100:>6.1f}%"
    )

    abl = [it for it in items if it.section == "ablation"]
    base = abl[0].value
    print(f"\n  {'ablation: check() with one piece swapped out':<{width}} {unit:>9} {'saves':>7}")
    for it in abl:
        saves = "" if it is abl[0] else f"{(base - it.value) / base * 100:>6.1f}%"
        print(f"  {it.name:<{width}} {fmt(it.value)} {saves:>7}")

    print(f"\n  {'what if (alternatives, not package code)':<{width}} {unit:>9}")
    for it in items:
        if it.section == "what-if":
            print(f"  {'    ' + it.name:<{width}} {fmt(it.value)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--body", default=str(DEFAULT_BODY))
    ap.add_argument("--dialect", default="mistral")
    ap.add_argument("--repeats", type=int, default=21, help="samples per row (timing mode)")
    ap.add_argument("--min-time", type=float, default=0.01, help="seconds per sample (timing mode)")
    ap.add_argument("--stat", choices=("min", "median"), default="min")
    ap.add_argument("--instructions", action="store_true", help="count instructions under valgrind instead")
    ap.add_argument("--number", type=int, default=200, help="calls per row under valgrind")
    ap.add_argument("--cprofile", action="store_true", help="also print the cProfile top 25 by own time")
    ap.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    ap.add_argument(_callgrind.CHILD_FLAG, dest="child", metavar="BODY", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_main(args.child, args.dialect, args.number)
        return 0

    body = Path(args.body).read_bytes()
    report = check(body, dialect=args.dialect)
    print(
        f"check({Path(args.body).name} [{len(body)} bytes], dialect={args.dialect!r}): ok={report.ok}, "
        f"codes={report.codes()}"
    )
    suspect = _SUSPECT_NUMBER.search(body)
    if suspect:
        print(
            f"note: inputs._SUSPECT_NUMBER matches this body ({suspect.group().decode()!r}, inside a string), so "
            "every check() also walks the whole document for out-of-range numbers"
        )
    items = build_items(body, args.dialect)
    if args.instructions:
        count_instructions(items, os.path.abspath(args.body), args.dialect, args.number)
        unit = "instr"
        print("(instructions executed per call, from callgrind; loop overhead subtracted)")
    else:
        time_items(items, repeats=args.repeats, min_time=args.min_time, stat=args.stat)
        unit = "µs"
        print(f"({args.stat} of {args.repeats} round-robin samples, thread CPU time, GC enabled)")
    print_report(items, unit)
    if args.json:
        rows = [{"section": it.section, "name": it.name, unit: round(it.value, 3)} for it in items]
        Path(args.json).write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    if args.cprofile:
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(3000):
            check(body, dialect=args.dialect)
        pr.disable()
        print("\ncProfile, 3000 calls (profiler overhead inflates small functions):")
        pstats.Stats(pr, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
