"""chatcontract.check() side by side with JSON Schema validators and the official SDKs, on the same bytes.

Run::

    python3 benchmarks/bench_check.py                 # prints the tables and PASS/FAIL verdicts, exits 0
    python3 benchmarks/bench_check.py --assert        # exits 1 when a target FAILs
    python3 benchmarks/bench_check.py --json out.json # also writes the figures machine-readably

Every tool starts from the raw response BYTES and parses them itself (the "parses with" column says how), so
parse cost is included everywhere:

* ``chatcontract.check(body, dialect=...)``: jiter (strict: duplicate keys, NaN/Infinity rejected) -> strict
  pydantic v2 models (``validate_python``) -> every enabled rule function -> ``Report``.
* jsonschema / jsonschema-rs / fastjsonschema: ``jiter.from_json(body)`` (chatcontract's and pydantic's parser,
  default options) -> validator on the dict. jsonschema-rs (0.61) takes a schema as a JSON string but an
  instance only as a Python object, so parse-then-``is_valid`` is its fastest path from bytes.
* mistralai / openai: ``Model.model_validate_json(body)`` (pydantic-core parses the bytes with jiter while it
  builds the model: no intermediate dict).

The schema validators use Mistral's published ``ChatCompletionResponse`` schema as extracted (and patched) by
``benchmarks/extract_schema.py`` into ``benchmarks/schemas/``; this script never reads the OpenAPI document.

Timing: each tool is warmed up, its iteration count calibrated to ~``--min-time`` seconds per sample, then
``--repeats`` samples are taken ROUND-ROBIN across the tools of a section (so machine noise hits all tools
alike), with the garbage collector enabled as in real use. Figures are the median (and min) microseconds per
check. Ratios are medians relative to chatcontract.check on the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib.metadata
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jiter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _callgrind  # noqa: E402  (benchmarks/_callgrind.py)
import _violations  # noqa: E402  (benchmarks/_violations.py: section E's bodies and anchor)

from chatcontract import _accel, check  # noqa: E402

HERE = Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "schemas" / "mistral_chat_completion_response.json"
MISTRAL_BODY_FILE = HERE / "data" / "mistral_chat_completion.json"
OPENAI_BODY_FILE = HERE / "data" / "openai_chat_completion.json"

SCALING_SIZES = (1, 10, 100, 1000)
LINEARITY_BOUNDS = (7.0, 13.0)  # time(100 choices) / time(10 choices)

PARSE = "jiter.from_json(body) -> dict"
CC_PARSE = "C plain-proof + jiter, else jiter strict -> dict; fast path: jsonschema-rs + fused rules, else pydantic"
CC_PURE_PARSE = "jiter strict (dup keys, NaN, lossless floats) -> dict; the route without the C accelerator"
SDK_PARSE = "model_validate_json(body): pydantic-core/jiter, straight into models"


# --------------------------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    parses: str
    fn: Callable[[bytes], Any]
    accepts: Callable[[bytes], bool]
    reference: bool = False  # a reference row (parse only, ...): no target, shown for context
    pure: bool = False  # run with the C accelerator switched off (chatcontract._accel.plain = None)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in (
        "chatcontract",
        "pydantic",
        "pydantic-core",
        "jiter",
        "jsonschema",
        "jsonschema-rs",
        "fastjsonschema",
        "mistralai",
        "openai",
    ):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _load_schema() -> dict[str, Any]:
    if not SCHEMA_FILE.is_file():
        raise SystemExit(f"{SCHEMA_FILE} is missing: run python3 benchmarks/extract_schema.py once")
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def chatcontract_tool(dialect: str) -> Tool:
    def run(body: bytes) -> Any:
        return check(body, dialect=dialect)

    def accepts(body: bytes) -> bool:
        return check(body, dialect=dialect).ok

    return Tool(f"chatcontract.check({dialect})", CC_PARSE if _accel.ACTIVE else CC_PURE_PARSE, run, accepts)


def chatcontract_pure_tool(dialect: str) -> Tool | None:
    """check() on the pure-Python route (as on a machine without a C compiler); None when that is the only route."""
    if not _accel.ACTIVE:
        return None

    def run(body: bytes) -> Any:
        return check(body, dialect=dialect)

    def accepts(body: bytes) -> bool:
        return check(body, dialect=dialect).ok

    return Tool(f"(ref) check({dialect}) without the C accelerator", CC_PURE_PARSE, run, accepts, True, True)


def schema_tools(schema: dict[str, Any]) -> tuple[list[Tool], list[str]]:
    """The three JSON Schema validators, compiled once from the extracted schema; and what was skipped."""
    tools: list[Tool] = []
    skipped: list[str] = []
    from_json = jiter.from_json

    try:
        import jsonschema
    except ImportError:
        skipped.append("jsonschema")
    else:
        jsonschema.Draft202012Validator.check_schema(schema)
        # No format_checker: in 2020-12 "format" is an annotation (the same for the other two below).
        js = jsonschema.Draft202012Validator(schema)
        js_valid = js.is_valid

        def run_js(body: bytes) -> bool:
            return js_valid(from_json(body))

        tools.append(Tool("jsonschema (Draft202012Validator)", PARSE, run_js, run_js))

    try:
        import jsonschema_rs
    except ImportError:
        skipped.append("jsonschema-rs")
    else:
        # The schema is handed over as a JSON string (the fast path for schemas); instances must be Python objects.
        rs = jsonschema_rs.validator_for(json.dumps(schema))
        rs_valid = rs.is_valid

        def run_rs(body: bytes) -> bool:
            return rs_valid(from_json(body))

        tools.append(Tool(f"jsonschema-rs ({type(rs).__name__})", PARSE, run_rs, run_rs))

    try:
        import fastjsonschema
    except ImportError:
        skipped.append("fastjsonschema")
    else:
        # fastjsonschema implements up to draft 2019-09 and uses that generator for a 2020-12 $schema; the
        # extracted schema uses no keyword whose meaning differs (its only $ref siblings are "default"
        # annotations). use_formats=False: formats are annotations in 2020-12, as for the other validators.
        fjs = fastjsonschema.compile(copy.deepcopy(schema), use_formats=False)
        fjs_error = fastjsonschema.JsonSchemaException

        def run_fjs(body: bytes) -> Any:
            return fjs(from_json(body))

        def accepts_fjs(body: bytes) -> bool:
            try:
                fjs(from_json(body))
            except fjs_error:
                return False
            return True

        tools.append(Tool("fastjsonschema (compiled)", PARSE, run_fjs, accepts_fjs))
    return tools, skipped


def _sdk_tool(name: str, model: Any) -> Tool:
    validate = model.model_validate_json

    def accepts(body: bytes) -> bool:
        try:
            validate(body)
        except Exception:
            return False
        return True

    return Tool(name, SDK_PARSE, validate, accepts)


def mistralai_tool() -> Tool | None:
    try:
        from mistralai.client.models import ChatCompletionResponse
    except ImportError:
        return None
    return _sdk_tool("mistralai ChatCompletionResponse", ChatCompletionResponse)


def openai_tool() -> Tool | None:
    try:
        from openai.types.chat import ChatCompletion
    except ImportError:
        return None
    return _sdk_tool("openai ChatCompletion", ChatCompletion)


def parse_only_tools() -> list[Tool]:
    def accepts(body: bytes) -> bool:
        return True

    tools = [Tool("(ref) jiter.from_json only", "parse only", jiter.from_json, accepts, reference=True)]

    def strict(body: bytes) -> Any:
        return jiter.from_json(body, allow_inf_nan=False, catch_duplicate_keys=True)

    tools.append(Tool("(ref) jiter strict parse only", "parse only, as check() parses", strict, accepts, True))
    return tools


# --------------------------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    parses: str
    reference: bool
    number: int = 0
    samples_us: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_us)

    @property
    def min(self) -> float:
        return min(self.samples_us)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parses": self.parses,
            "reference": self.reference,
            "iterations_per_sample": self.number,
            "median_us": round(self.median, 3),
            "min_us": round(self.min, 3),
            "samples_us": [round(s, 3) for s in self.samples_us],
        }


CLOCK: Callable[[], int] = time.perf_counter_ns  # --clock cpu: time.thread_time_ns


def _sample(fn: Callable[[bytes], Any], body: bytes, number: int) -> float:
    """Microseconds per call over ``number`` calls (GC stays enabled: it is part of real use)."""
    clock = CLOCK
    rng = range(number)
    t0 = clock()
    for _ in rng:
        fn(body)
    return (clock() - t0) / number / 1000.0


class _Route:
    """Switches the C accelerator off while a ``pure`` tool runs."""

    def __init__(self, tool: Tool) -> None:
        self.pure = tool.pure

    def __enter__(self) -> None:
        self.saved = _accel.plain
        if self.pure:
            _accel.plain = None

    def __exit__(self, *exc: object) -> None:
        _accel.plain = self.saved


def _calibrate(fn: Callable[[bytes], Any], body: bytes, min_time: float) -> int:
    """Warm up for ~min_time/2 and return the iteration count for one ~min_time sample."""
    number, spent = 1, 0.0
    deadline = time.perf_counter() + min_time / 2
    while True:
        t0 = CLOCK()
        for _ in range(number):
            fn(body)
        spent = (CLOCK() - t0) / 1e9
        if time.perf_counter() >= deadline and spent > 0.005:
            break
        number *= 2
    per_call = spent / number
    return max(1, int(min_time / per_call))


def measure(tools: list[Tool], body: bytes, *, repeats: int, min_time: float) -> list[Result]:
    """Calibrate every tool, then take ``repeats`` samples round-robin across them."""
    gc.enable()
    results = [Result(t.name, t.parses, t.reference) for t in tools]
    for tool, res in zip(tools, results, strict=True):
        with _Route(tool):
            res.number = _calibrate(tool.fn, body, min_time)
    for _ in range(repeats):
        for tool, res in zip(tools, results, strict=True):
            with _Route(tool):
                res.samples_us.append(_sample(tool.fn, body, res.number))
    return results


# --------------------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------------------


def _ratio_text(t: float, base: float) -> str:
    if t >= base:
        return f"{t / base:.1f}x slower"
    return f"{base / t:.1f}x faster"


def print_table(title: str, results: list[Result], base: Result) -> None:
    width = max(len(r.name) for r in results)
    pwidth = max(len(r.parses) for r in results)
    print(f"\n{title}")
    header = f"  {'tool':<{width}}  {'median µs':>10}  {'min µs':>8}  {'vs chatcontract':>16}  parses with"
    print(header)
    print("  " + "-" * (len(header) - 2 + pwidth - len("parses with")))
    for r in results:
        ratio = "(baseline)" if r is base else _ratio_text(r.median, base.median)
        print(f"  {r.name:<{width}}  {r.median:>10.2f}  {r.min:>8.2f}  {ratio:>16}  {r.parses}")


@dataclass
class Verdict:
    name: str
    passed: bool | None  # None: could not be evaluated (tool missing)
    detail: str

    def line(self) -> str:
        word = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"{word}  {self.name}: {self.detail}"


def _make_choices(seed: dict[str, Any], n: int) -> bytes:
    doc = copy.deepcopy(seed)
    choice = doc["choices"][0]
    doc["choices"] = [{**copy.deepcopy(choice), "index": i} for i in range(n)]
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _bind(tool: Tool, body: bytes) -> Tool:
    """``tool`` on a fixed ``body`` (the argument it is called with is ignored), for round-robin over bodies."""
    fn = tool.fn

    def run(_: bytes) -> Any:
        return fn(body)

    return Tool(tool.name, tool.parses, run, lambda _: tool.accepts(body), tool.reference, tool.pure)


def _without(body: bytes, key: str) -> bytes:
    doc = json.loads(body)
    del doc[key]
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Sections:
    """Section A (Mistral seed: check + schema validators + mistralai + parse-only references) and section B
    (OpenAI-shaped body: check(dialect="openai") + openai), with their bodies."""

    mistral_body: bytes
    openai_body: bytes
    tools_a: list[Tool]
    tools_b: list[Tool]
    schema_validators: list[Tool]
    skipped: list[str]


def build_sections() -> Sections:
    schema = _load_schema()
    js_tools, skipped = schema_tools(schema)
    mistral_sdk = mistralai_tool()
    if mistral_sdk is None:
        skipped.append("mistralai")
    oa_sdk = openai_tool()
    if oa_sdk is None:
        skipped.append("openai")
    return Sections(
        mistral_body=MISTRAL_BODY_FILE.read_bytes(),
        openai_body=OPENAI_BODY_FILE.read_bytes(),
        tools_a=[
            chatcontract_tool("mistral"),
            *js_tools,
            *([mistral_sdk] if mistral_sdk else []),
            *parse_only_tools(),
            *filter(None, [chatcontract_pure_tool("mistral")]),
        ],
        tools_b=[chatcontract_tool("openai"), *([oa_sdk] if oa_sdk else [])],
        schema_validators=js_tools,
        skipped=skipped,
    )


INSTRUCTION_CALLS = 200  # calls per tool under callgrind


def _callgrind_child() -> None:
    # check() looks for the project's configuration again once a second of wall time; under callgrind (~50x
    # slower) that lands every few hundred calls, at a different call each run, and adds its cost to whichever
    # tool is being counted. The counts are of the checks: the clock the look reads stands still here.
    from chatcontract import settings as cc_settings

    frozen = cc_settings._monotonic()
    cc_settings._monotonic = lambda: frozen
    sec = build_sections()

    def runner(tool: Tool, body: bytes) -> Callable[[int], None]:
        def run(n: int) -> None:
            fn = tool.fn
            with _Route(tool):
                for _ in range(n):
                    fn(body)

        return run

    runners = [runner(t, sec.mistral_body) for t in sec.tools_a] + [runner(t, sec.openai_body) for t in sec.tools_b]
    runners += [runner(t, b"") for t in violation_tools(sec)[1]]
    _callgrind.child_loop(runners, INSTRUCTION_CALLS)


def violation_tools(sec: Sections) -> tuple[list[tuple[str, _violations.Deviation]], list[Tool]]:
    """Section E's (row, body) pairs and their tools, each bound to its body: check() and the anchor per body,
    the warnings-only bodies and their conforming twins, and the many-violations bodies."""
    rows: list[tuple[str, _violations.Deviation]] = []
    for d in _violations.deviations(sec.mistral_body, sec.openai_body):
        rows += [("check", d), ("anchor", d), ("full", d)]
    for warned, clean in _violations.warning_pairs(sec.mistral_body, sec.openai_body):
        rows += [("warned", warned), ("clean", clean)]
    for n in (10, _violations.MANY):
        rows += [
            ("many", _violations.many(sec.openai_body, n, True)),
            ("many-clean", _violations.many(sec.openai_body, n, False)),
        ]
    rows.append(("many-anchor", _violations.many(sec.openai_body, _violations.MANY, True)))
    anchors = {d: _violations.anchor(d) for d in ("mistral", "openai")}
    tools: list[Tool] = []
    for role, d in rows:
        if role in ("anchor", "many-anchor"):
            fn = anchors[d.dialect]
            name, parses = f"jsonschema-rs iter_errors: {d.name}", PARSE
        elif role == "full":
            fn, name, parses = (lambda _b, d=d: _violations.full_path(d)), f"(ref) full path: {d.name}", CC_PARSE
        else:
            fn, name, parses = (lambda _b, d=d: d.run()), f"check: {d.name}", CC_PARSE
        tools.append(_bind(Tool(name, parses, fn, lambda _b: True), d.body))
    return rows, tools


def violations_section(sec: Sections, args: argparse.Namespace) -> tuple[list[Verdict], dict[str, Any]]:
    """Section E: bodies with violations against jsonschema-rs collecting every error; warnings; many violations."""
    rows, tools = violation_tools(sec)
    for role, d in rows:  # the bodies are what they claim to be
        if role not in ("anchor", "many-anchor", "full"):
            got = d.run().codes()
            assert got == d.codes, f"{d.name}: check() reports {got}, expected {d.codes}"
    results = measure(tools, b"", repeats=args.repeats, min_time=args.min_time)
    by_row = list(zip(rows, results, strict=True))
    verdicts: list[Verdict] = []
    out: dict[str, Any] = {"bodies": [], "warnings": [], "many": []}
    print(
        "\nE. Bodies with violations (median µs; anchor: jiter parse + jsonschema-rs iter_errors collected, against "
        "the published schema of the dialect)"
    )
    header = (
        f"  {'body':<32} {'dialect':<8} {'codes':<12} {'check µs':>9} {'anchor µs':>9} {'errors':>6} {'ratio':>6}"
        f"  {'full path µs (ref)':>18}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for i in range(0, 3 * len(_violations.deviations(sec.mistral_body, sec.openai_body)), 3):
        ((_, d), c), (_, a), (_, f) = by_row[i], by_row[i + 1], by_row[i + 2]
        ratio = c.median / a.median
        n_errors = len(_violations.anchor(d.dialect)(d.body))
        codes = ",".join(sorted(set(d.codes)))
        print(
            f"  {d.name:<32} {d.dialect:<8} {codes:<12} {c.median:>9.2f} {a.median:>9.2f} {n_errors:>6} {ratio:>5.2f}x"
            f"  {f.median:>18.2f}"
        )
        verdicts.append(
            Verdict(f"violation body within 2x of jsonschema-rs: {d.name} ({codes})", ratio <= 2.0, f"{ratio:.2f}x")
        )
        out["bodies"].append(
            {
                "full_path": f.to_dict(),
                "name": d.name,
                "source": d.source,
                "dialect": d.dialect,
                "codes": d.codes,
                "check": c.to_dict(),
                "anchor": a.to_dict(),
                "anchor_errors": n_errors,
                "ratio": round(ratio, 3),
            }
        )
    print(
        "  sources: "
        + "; ".join(f"{d.name}: {d.source}" for d in _violations.deviations(sec.mistral_body, sec.openai_body))
    )
    print("\n  warnings only vs the same body without them (median µs)")
    warned = [(r, res) for r, res in by_row if r[0] in ("warned", "clean")]
    for i in range(0, len(warned), 2):
        ((_, w), wr), ((_, c), cr) = warned[i], warned[i + 1]
        ratio = wr.median / cr.median
        print(f"  {w.name:<32} {w.dialect:<8} {wr.median:>9.2f} vs {cr.median:>9.2f} conforming = {ratio:.2f}x")
        verdicts.append(
            Verdict(f"warnings-only body within 1.5x of conforming: {w.name}", ratio <= 1.5, f"{ratio:.2f}x")
        )
        out["warnings"].append(
            {"name": w.name, "warned": wr.to_dict(), "conforming": cr.to_dict(), "ratio": round(ratio, 3)}
        )
    many_rows = {(r[0], len(json.loads(r[1].body)["choices"])): res for r, res in by_row if r[0].startswith("many")}
    print("\n  many violations: n choices like llama.cpp's, each without message.refusal (n x CC101), openai")
    per: dict[int, float] = {}
    for n in (10, _violations.MANY):
        broken, clean = many_rows[("many", n)].median, many_rows[("many-clean", n)].median
        per[n] = (broken - clean) / n
        print(
            f"  {n:>4} violations: {broken:>9.2f} µs, conforming twin {clean:>9.2f} µs: {per[n]:.2f} µs per violation"
        )
        out["many"].append(
            {
                "violations": n,
                "check_us": round(broken, 3),
                "conforming_us": round(clean, 3),
                "us_per_violation": round(per[n], 3),
            }
        )
    a_many = many_rows[("many-anchor", _violations.MANY)].median
    print(
        f"  jsonschema-rs on the {_violations.MANY}-violation body: {a_many:.2f} µs "
        f"({many_rows[('many', _violations.MANY)].median / a_many:.2f}x)"
    )
    out["many_anchor_us"] = round(a_many, 3)
    out["fresh"] = fresh_values(sec, args)
    lo, hi = 0.5, 2.0
    growth = per[_violations.MANY] / per[10] if per[10] > 0 else float("nan")
    verdicts.append(
        Verdict(
            "many violations stay linear",
            lo <= growth <= hi,
            f"µs per violation at {_violations.MANY} / at 10 = {growth:.2f} (expect {lo:g}..{hi:g})",
        )
    )
    return verdicts, out


def fresh_values(sec: Sections, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Section E's bodies whose finding carries a value, each check on one of ``FRESH`` bodies whose value differs
    (the reports the engine keeps per finding are never found: a provider's live answers), the anchor on the same
    bodies. Informative: the targets above are on one body repeated, as the issue states them."""
    print(
        f"\n  fresh values: each check on the next of {_violations.FRESH} bodies whose finding's value differs (no kept"
        " report is found), the anchor on the same bodies; informative"
    )
    rows: list[tuple[_violations.Deviation, list[tuple[bytes, Any]]]] = []
    tools: list[Tool] = []
    for d in _violations.deviations(sec.mistral_body, sec.openai_body):
        variants = _violations.fresh(d)
        if variants is None:
            continue
        rows.append((d, variants))
        tools.append(Tool(f"check, fresh: {d.name}", CC_PARSE, _rotating_check(d, variants), lambda _b: True))
        tools.append(
            Tool(
                f"jsonschema-rs iter_errors, fresh: {d.name}",
                PARSE,
                _rotating_anchor(_violations.anchor(d.dialect), variants),
                lambda _b: True,
            )
        )
    results = measure(tools, b"", repeats=args.repeats, min_time=args.min_time)
    out: list[dict[str, Any]] = []
    for i, (d, _) in enumerate(rows):
        c, a = results[2 * i], results[2 * i + 1]
        ratio = c.median / a.median
        codes = ",".join(sorted(set(d.codes)))
        print(f"  {d.name:<32} {d.dialect:<8} {codes:<12} {c.median:>9.2f} {a.median:>9.2f} {'':>6} {ratio:>5.2f}x")
        out.append({"name": d.name, "check": c.to_dict(), "anchor": a.to_dict(), "ratio": round(ratio, 3)})
    return out


def _rotating_check(d: _violations.Deviation, variants: list[tuple[bytes, Any]]) -> Callable[[bytes], Any]:
    """check() on the next of ``variants`` at each call (the argument is ignored)."""
    it = itertools.cycle(variants)

    def run(_: bytes) -> Any:
        body, request = next(it)
        return check(body, dialect=d.dialect, request=request)

    return run


def _rotating_anchor(anchor: Callable[[bytes], Any], variants: list[tuple[bytes, Any]]) -> Callable[[bytes], Any]:
    """The anchor on the next of ``variants``' bodies at each call."""
    it = itertools.cycle(variants)
    return lambda _: anchor(next(it)[0])


def _find(results: list[Result], prefix: str) -> Result | None:
    return next((r for r in results if r.name.startswith(prefix)), None)


def target_verdicts(cc: float, rs: float | None, js: float | None, ms: float | None, unit: str) -> list[Verdict]:
    out: list[Verdict] = []
    if rs is None:
        out.append(Verdict("check() within 2x of jsonschema-rs", None, "jsonschema-rs not installed"))
    else:
        out.append(
            Verdict(
                "check() within 2x of jsonschema-rs",
                cc <= 2 * rs,
                f"{cc:.2f} {unit} vs {rs:.2f} {unit} = {cc / rs:.2f}x (limit 2.00x)",
            )
        )
    if js is None:
        out.append(Verdict("check() >= 30x faster than jsonschema", None, "jsonschema not installed"))
    else:
        out.append(
            Verdict(
                "check() >= 30x faster than jsonschema",
                js / cc >= 30,
                f"{js:.2f} {unit} / {cc:.2f} {unit} = {js / cc:.1f}x (need >= 30x)",
            )
        )
    if ms is None:
        out.append(Verdict("check() faster than mistralai model_validate_json", None, "mistralai not installed"))
    else:
        out.append(
            Verdict(
                "check() faster than mistralai model_validate_json",
                cc < ms,
                f"{cc:.2f} {unit} vs {ms:.2f} {unit} (mistralai is {_ratio_text(ms, cc)})",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assert", dest="assert_", action="store_true", help="exit 1 when a target FAILs")
    ap.add_argument("--json", metavar="FILE", help="write the figures as JSON to FILE")
    ap.add_argument("--repeats", type=int, default=15, help="samples per tool (default 15)")
    ap.add_argument("--min-time", type=float, default=0.1, help="seconds per sample (default 0.1)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1/10/100/1000-choice scaling run")
    ap.add_argument("--no-violations", action="store_true", help="skip section E (bodies with violations)")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: time.perf_counter_ns (default); cpu: time.thread_time_ns, which leaves out the time this "
        "process waits for a CPU on a busy machine",
    )
    ap.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per check under valgrind for sections A and B (exact, load-independent; "
        "adds ~2-3 minutes; the PASS/FAIL verdicts stay on the timings)",
    )
    ap.add_argument(_callgrind.CHILD_FLAG, dest="child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _callgrind_child()
        return 0
    global CLOCK
    CLOCK = time.thread_time_ns if args.clock == "cpu" else time.perf_counter_ns
    started = time.perf_counter()

    versions = _versions()
    print("chatcontract check() benchmark")
    print(
        f"  python {versions['python']} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.repeats} samples x ~{args.min_time * 1000:.0f} ms per tool, round-robin, GC enabled, "
        f"{'wall clock (perf_counter_ns)' if args.clock == 'wall' else 'thread CPU time (thread_time_ns)'}; "
        "figures are µs per check (median, min)"
    )
    print("  " + ", ".join(f"{k} {v}" for k, v in versions.items() if k != "python"))
    print(
        "  C accelerator (chatcontract._speedups): "
        + ("built and used" if _accel.ACTIVE else "NOT built (no C compiler at install time?): the pure-Python route")
    )

    sec = build_sections()
    mistral_body, openai_body = sec.mistral_body, sec.openai_body

    # ---- Section A: the Mistral seed, every tool on the same bytes -------------------------------------------
    report = check(mistral_body, dialect="mistral")
    assert report.ok and not report.violations, f"seed must conform with no warning: {report}"
    for t in sec.tools_a:
        assert t.accepts(mistral_body), f"{t.name} rejects the Mistral seed"
    # ... and a validator that accepts everything would win every race: each must reject the seed without its
    # required "usage" object.
    no_usage = _without(mistral_body, "usage")
    for t in sec.tools_a:
        assert t.reference or not t.accepts(no_usage), f"{t.name} accepts the seed without 'usage'"
    print(
        f"\nAll tools accept the Mistral seed ({len(mistral_body)} bytes, data/{MISTRAL_BODY_FILE.name}; check(): "
        "no violation) and reject it without 'usage'."
    )
    print(f"  schema validators: schemas/{SCHEMA_FILE.name} (Mistral's published schema, 'data' dropped from required)")
    if sec.skipped:
        print(f"  skipped (not installed): {', '.join(sec.skipped)}")

    res_a = measure(sec.tools_a, mistral_body, repeats=args.repeats, min_time=args.min_time)
    base_a = res_a[0]
    print_table(f"A. Mistral seed, {len(mistral_body)} bytes", res_a, base_a)

    # ---- Section B: the OpenAI-shaped body, openai SDK vs check(dialect="openai") ----------------------------
    report_oa = check(openai_body, dialect="openai")
    assert report_oa.ok, f"OpenAI body must conform under dialect=openai: {report_oa}"
    for t in sec.tools_b:
        assert t.accepts(openai_body), f"{t.name} rejects the OpenAI body"
        assert not t.accepts(_without(openai_body, "choices")), f"{t.name} accepts the OpenAI body without 'choices'"
    warn = ", ".join(f"{v.code} {v.name} at {'.'.join(map(str, v.loc))}" for v in report_oa.violations) or "none"
    print(
        f'\nB. OpenAI-shaped body (data/{OPENAI_BODY_FILE.name}): the seed plus the "refusal": null and '
        '"logprobs": null that OpenAI requires;'
    )
    print(f"  both accept it and reject it without 'choices'; check(dialect='openai'): ok=True, warnings: {warn}")
    res_b = measure(sec.tools_b, openai_body, repeats=args.repeats, min_time=args.min_time)
    base_b = res_b[0]
    print_table(f"B. OpenAI-shaped body, {len(openai_body)} bytes", res_b, base_b)

    # ---- Targets (on the section A medians) --------------------------------------------------------------------
    def median_of(prefix: str) -> float | None:
        r = _find(res_a, prefix)
        return None if r is None else r.median

    verdicts = target_verdicts(
        base_a.median, median_of("jsonschema-rs"), median_of("jsonschema ("), median_of("mistralai"), "µs"
    )

    # ---- Scaling -----------------------------------------------------------------------------------------------
    scaling: list[dict[str, Any]] = []
    linearity: dict[str, Any] = {}
    if not args.no_scaling:
        seed = json.loads(mistral_body)
        cc = sec.tools_a[0]
        rs_tool = next((t for t in sec.schema_validators if t.name.startswith("jsonschema-rs")), None)
        print("\nC. Scaling with the number of choices (the seed's choice repeated, index 0..n-1; median µs)")
        header = (
            f"  {'choices':>7}  {'bytes':>8}  {'check µs':>10}  {'µs/choice':>9}  "
            f"{'jsonschema-rs µs':>16}  {'µs/choice':>9}  {'check/rs':>8}"
        )
        print(header)
        print("  " + "-" * (len(header) - 2))
        times: dict[int, float] = {}
        # Every size is sampled in one round-robin (each tool bound to its body), so a slow phase of the machine
        # hits all sizes alike instead of bending the curve between two sizes measured a minute apart.
        bodies = {n: (mistral_body if n == 1 else _make_choices(seed, n)) for n in SCALING_SIZES}
        bound: list[tuple[int, Tool]] = []
        for n, body in bodies.items():
            rep = check(body, dialect="mistral")
            assert rep.ok and not rep.violations, f"{n}-choice body must conform: {rep}"
            for t in [cc, *([rs_tool] if rs_tool else [])]:
                assert t.accepts(body), f"{t.name} rejects the {n}-choice body"
                bound.append((n, _bind(t, body)))
        results = measure([t for _, t in bound], b"", repeats=args.repeats, min_time=args.min_time)
        for n, body in bodies.items():
            res = [r for (m, _), r in zip(bound, results, strict=True) if m == n]
            c, r = res[0], (res[1] if len(res) > 1 else None)
            times[n] = c.median
            row: dict[str, Any] = {
                "choices": n,
                "bytes": len(body),
                "chatcontract": c.to_dict(),
                "chatcontract_us_per_choice": round(c.median / n, 3),
            }
            rs_text = f"{'-':>16}  {'-':>9}  {'-':>8}"
            if r is not None:
                row["jsonschema_rs"] = r.to_dict()
                row["jsonschema_rs_us_per_choice"] = round(r.median / n, 3)
                rs_text = f"{r.median:>16.2f}  {r.median / n:>9.3f}  {c.median / r.median:>7.1f}x"
            scaling.append(row)
            print(f"  {n:>7}  {len(body):>8}  {c.median:>10.2f}  {c.median / n:>9.3f}  {rs_text}")
        ratio = times[100] / times[10]
        lo, hi = LINEARITY_BOUNDS
        # With a fixed per-check cost a, t(n) = a + b*n and t(100)/t(10) < 10; removing t(1) as the fixed cost
        # gives (t(100)-t(1))/(t(10)-t(1)) = 99/9 = 11 for perfectly linear growth.
        marginal = (times[100] - times[1]) / (times[10] - times[1]) if times[10] > times[1] else float("nan")
        linearity = {
            "t100_over_t10": round(ratio, 3),
            "t1000_over_t100": round(times[1000] / times[100], 3),
            "marginal_t100_minus_t1_over_t10_minus_t1": round(marginal, 3),
            "bounds": [lo, hi],
        }
        print(
            f"  fixed cost removed: (t(100)-t(1))/(t(10)-t(1)) = {marginal:.2f} (11 = linear); "
            f"marginal µs/choice 10->100: {(times[100] - times[10]) / 90:.2f}, "
            f"100->1000: {(times[1000] - times[100]) / 900:.2f}"
        )
        verdicts.append(
            Verdict(
                "check() scales linearly in choices",
                lo <= ratio <= hi,
                f"time(100)/time(10) = {ratio:.2f} (expect {lo:g}..{hi:g}); "
                f"time(1000)/time(100) = {times[1000] / times[100]:.2f}",
            )
        )

    # ---- Section E: bodies with violations ---------------------------------------------------------------------
    violations: dict[str, Any] = {}
    if not args.no_violations:
        more, violations = violations_section(sec, args)
        verdicts += more

    # ---- Instruction counts (optional, noise-free cross-check) -------------------------------------------------
    instructions: list[dict[str, Any]] = []
    cross: list[Verdict] = []
    if args.instructions:
        if not _callgrind.available():
            print("\n--instructions: valgrind not found (apt-get install valgrind); skipped")
        else:
            print(
                f"\nD. Instructions per check (valgrind callgrind, {INSTRUCTION_CALLS} calls per tool) ...", flush=True
            )
            e_tools = violation_tools(sec)[1]
            names = [t.name for t in sec.tools_a] + [t.name for t in sec.tools_b]
            counts = _callgrind.count(__file__, [], len(names) + len(e_tools), INSTRUCTION_CALLS)
            print(f"  E: {'tool':<60} {'instructions':>12}")
            for t, instr in zip(e_tools, counts[len(names) :], strict=True):
                print(f"     {t.name:<60} {instr / 1000:>11.1f}k")
                instructions.append({"section": "E", "name": t.name, "instructions": round(instr)})
            counts = counts[: len(names)]
            n_a = len(sec.tools_a)
            for section, rows in (
                ("A", list(zip(names[:n_a], counts[:n_a], strict=True))),
                ("B", list(zip(names[n_a:], counts[n_a:], strict=True))),
            ):
                base = rows[0][1]
                print(f"  {section}: {'tool':<38} {'instructions':>12}  vs chatcontract")
                for name, instr in rows:
                    vs = "(baseline)" if name == rows[0][0] else _ratio_text(instr, base)
                    print(f"     {name:<38} {instr / 1000:>11.1f}k  {vs}")
                    instructions.append({"section": section, "name": name, "instructions": round(instr)})
            by = dict(zip(names[:n_a], counts[:n_a], strict=True))

            def k_of(prefix: str) -> float | None:
                v = next((v for k, v in by.items() if k.startswith(prefix)), None)
                return None if v is None else v / 1000

            cross = target_verdicts(
                counts[0] / 1000, k_of("jsonschema-rs"), k_of("jsonschema ("), k_of("mistralai"), "k instr"
            )

    print("\nTargets (section A medians)")
    for v in verdicts:
        print("  " + v.line())
    if cross:
        print("  cross-check on instruction counts (informative, not part of --assert):")
        for v in cross:
            print("    " + v.line())
    elapsed = time.perf_counter() - started
    print(f"\n(total run time {elapsed:.1f} s)")

    if args.json:
        out = {
            "versions": versions,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "settings": {
                "repeats": args.repeats,
                "min_time_s": args.min_time,
                "clock": args.clock,
                "gc": "enabled",
                "statistic": "median (ratios), min also given",
            },
            "mistral_body": {"file": f"data/{MISTRAL_BODY_FILE.name}", "bytes": len(mistral_body)},
            "openai_body": {"file": f"data/{OPENAI_BODY_FILE.name}", "bytes": len(openai_body)},
            "mistral_seed": [dict(r.to_dict(), vs_chatcontract=round(r.median / base_a.median, 3)) for r in res_a],
            "openai_body_results": [
                dict(r.to_dict(), vs_chatcontract=round(r.median / base_b.median, 3)) for r in res_b
            ],
            "scaling": scaling,
            "linearity": linearity,
            "violations": violations,
            "instructions": instructions,
            "targets": [{"name": v.name, "passed": v.passed, "detail": v.detail} for v in verdicts],
            "instruction_cross_check": [{"name": v.name, "passed": v.passed, "detail": v.detail} for v in cross],
            "elapsed_s": round(elapsed, 1),
        }
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")

    if args.assert_ and any(v.passed is False for v in verdicts):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
