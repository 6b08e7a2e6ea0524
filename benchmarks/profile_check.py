"""Where does ``chatcontract.check(body, dialect=...)`` spend its time? A stage-by-stage breakdown.

Run::

    python3 benchmarks/profile_check.py                  # timings (thread CPU time), ~20 s
    python3 benchmarks/profile_check.py --instructions   # exact instruction counts under valgrind, ~3-5 min
    python3 benchmarks/profile_check.py --cprofile       # plus the cProfile top functions
    python3 benchmarks/profile_check.py --body FILE --dialect openai

For a non-stream bytes body: each stage of ``check()`` re-run in isolation with the inputs ``check()`` gives it
(the stage names mirror ``chatcontract/engine.py`` and use internal names: update this script when the engine
changes). A conforming body takes the fast path (``_fast_check``); any other bytes body pays the fast path's
attempt and then the violation route (``_located_check``, the ``locate=True`` row); the full path
(``_full_check``, the reference, and what a dict or a response object costs) is shown below with its own parts.

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
import os
import pstats
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
import chatcontract.outcome as outcome
import chatcontract.settings as cc_settings
from chatcontract import _accel, check
from chatcontract.inputs import parse_json
from chatcontract.rules import RuleContext, Target
from chatcontract.rules._fast import culprits
from chatcontract.rules.schema import schema_hits

# The loc-building number walk that runs when the regex prescan matches (renamed in the package over time).
_number_walk: Callable[[Any], Any] = getattr(inputs, "number_findings", None) or inputs._number_findings  # type: ignore[attr-defined]

HERE = Path(__file__).resolve().parent
DEFAULT_BODY = HERE / "data" / "mistral_chat_completion.json"


# ---- what is measured --------------------------------------------------------------------------------------


@dataclass
class Item:
    """One measured row: a function run in a loop, optionally with engine pieces monkeypatched meanwhile."""

    section: str  # "total", "stage", "part", "ref"
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


def parse_fast(body: bytes) -> Any:
    """The parse at the start of ``engine._fast_check`` (inlined there)."""
    if _accel.plain is not None and _accel.plain(body):
        return jiter.from_json(body)
    return jiter.from_json(body, allow_inf_nan=False, catch_duplicate_keys=True, float_mode="lossless-float")


def build_items(body: bytes, dialect: str) -> list[Item]:
    settings = cc_settings._settings_for(dialect, None, None, None)
    plan = settings.fast
    assert plan is not None
    check(body, dialect=dialect)  # builds the fast validator
    valid = plan.valid_plain if _accel.plain is not None and _accel.plain(body) else plan.valid
    assert valid is not None
    fast_doc = parse_fast(body)
    doc, _ = parse_json(body)
    adapter = settings.contracts.response
    rules = [r for r in settings.rules.get(Target.RESPONSE, ()) if not r.requires_request]

    def run_rules() -> None:
        collector = outcome.Collector(settings)
        ctx = RuleContext(dialect=settings.dialect, contracts=settings.contracts)
        collector.run(rules, doc, ctx)

    fast = engine._fast_check(body, settings, None, None)
    items = [
        Item("total", f"check(body, dialect={dialect!r})", lambda: check(body, dialect=dialect)),
        Item("stage", "_settings_for (memoised settings)",
             lambda: cc_settings._settings_for(dialect, None, None, None)),
        Item("stage", "_project_config (looked up at most once a second)", cc_settings._project_config),
        Item(
            "stage",
            f"_fast_check (whole fast path{'' if fast is not None else '; this body goes on to the violation route'})",
            lambda: engine._fast_check(body, settings, None, None),
        ),
        Item(
            "stage",
            "_fast_check(locate=True): fast path, then the violation route (what check() runs on bytes)",
            lambda: engine._fast_check(body, settings, None, None, locate=True),
        ),
        Item(
            "part",
            "parse_fast (C plain-proof + jiter, or jiter strict: duplicate keys, NaN; lossless floats)",
            lambda: parse_fast(body),
        ),
        Item("part", "fast validator (jsonschema-rs: the contract)", lambda: valid(fast_doc)),
        Item("part", "culprits (fused CC2xx pass)", lambda: culprits(fast_doc, plan.covered, plan.table)),
        Item("stage", "full path: _full_check (the reference; dicts, response objects, streams)",
             lambda: engine._full_check(body, settings, status=None, stream=None, request=None)),
        Item("part", "full path: parse_json (jiter strict + number prescan)", lambda: parse_json(body)),
        Item("part", "full path: schema_hits (pydantic strict validate_python)",
             lambda: list(schema_hits(adapter, doc, what="response"))),
        Item("part", f"full path: {len(rules)} rule functions via Collector.run", run_rules),
        Item("ref", "jiter.from_json(body) (no checks)", lambda: jiter.from_json(body)),
    ]
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

    width = 78
    total = next(it for it in items if it.section == "total").value
    print(f"\ncheck() total: {fmt(total).strip()} {unit if unit == 'µs' else 'instructions'} per call")
    print(f"\n  {'stage (isolated)':<{width}} {unit:>9} {'vs check':>8}")
    for it in items:
        if it.section in ("stage", "part", "ref"):
            indent = "    " if it.section == "part" else ""
            label = ("(ref) " if it.section == "ref" else "") + it.name
            print(f"  {indent + label:<{width}} {fmt(it.value)} {it.value / total * 100:>7.1f}%")


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
