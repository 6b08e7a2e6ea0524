"""The ``chatcontract fuzz`` command: options, progress, the text summary, results files and exit codes.

Exit codes: 0 no finding of severity error, 1 findings or a run that measured too little (fewer than
``--min-answered`` of the valid requests answered 2xx), 2 a usage error, or a provider that could not be tested: it
cannot be reached, its preflight's plain request was refused, or it answered nothing but 429. ``--report`` and
``--junit`` are written in every case but a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .._exceptions import UsageError
from ..options import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, add_dialect, add_extensions, add_rule_selection, split_codes
from ..report.results import FuzzResults
from .judge import severity_of
from .options import PHASES, FuzzOptions
from .pairwise import SHARE as PAIRWISE_SHARE
from .runner import NothingTested, run_fuzz

__all__ = ["add_parser", "format_summary", "options_from_args", "run_command"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``fuzz`` on the CLI's subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "fuzz",
        help="fuzz a provider with schemathesis and check every answer",
        description=(
            "Generate requests from the contract's OpenAPI document with schemathesis (valid and invalid ones), "
            "send them to BASE_URL's /chat/completions, check every response (streams included) with the full "
            "engine, and report what was found and how much was measured (the coverage of the valid requests). "
            "A last phase sends valid requests in which every pair of request features meets, so that each feature "
            "(stream, n, each tool_choice, response_format, stop, logprobs, each sampling field) is tested. "
            "Exit 0: no error finding; 1: findings, or too few valid requests answered 2xx (--min-answered); "
            "2: usage error, or nothing tested (connection error, a refused preflight, or every answer a 429)."
        ),
    )
    p.add_argument("base_url", metavar="BASE_URL", help="the provider's base URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", required=True, metavar="NAME", help="model name every generated request uses")
    add_dialect(p, default="mistral", help="contract (default: mistral)")
    p.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key (sent as Bearer)")
    p.add_argument("--provider", metavar="NAME", help="name in reports and for per-provider-ignores (default: host)")
    p.add_argument("--max-examples", type=int, default=25, metavar="N", help="examples per phase (default: 25)")
    p.add_argument(
        "--max-requests", type=int, default=500, metavar="N",
        help="hard request budget, the preflight's 2 included (default: 500)",
    )
    p.add_argument("--max-tokens-cap", type=int, default=16, metavar="N", help="largest max_tokens sent (default: 16)")
    p.add_argument("--max-time", type=float, metavar="S", help="time budget in seconds (default: none)")
    p.add_argument("--seed", type=int, help="random seed, to reproduce a run")
    p.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        metavar="N",
        help=(
            f"concurrent workers (default: the machine's cores, {default_workers()}); more help a provider that "
            "answers slowly, while request generation holds one core whatever the count"
        ),
    )
    p.add_argument("--rate-limit", metavar="R", help="at most R requests, e.g. 10/s or 100/m (default: none)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per-request timeout (default: 30)")
    p.add_argument(
        "--phases",
        default=",".join(PHASES),
        metavar="LIST",
        help=(
            "comma list of phases, run in this order: chatcontract's probes (hand-picked semantic requests), "
            "schemathesis' examples, coverage and fuzzing, then chatcontract's pairwise (valid requests in which "
            f"every pair of request features meets; at most {PAIRWISE_SHARE * 100:.0f}%% of --max-requests and "
            f"--max-time) (default: {','.join(PHASES)})"
        ),
    )
    p.add_argument("--no-shrink", action="store_true", help="do not shrink failing requests (saves requests)")
    p.add_argument(
        "--min-answered",
        type=_share,
        default=0.5,
        metavar="SHARE",
        help="share of the valid requests that must be answered 2xx for the run to count, 0..1 (default: 0.5)",
    )
    p.add_argument(
        "--examples-per-rule", type=int, default=5, metavar="N", help="distinct examples kept per rule (default: 5)"
    )
    p.add_argument(
        "--no-preflight",
        action="store_true",
        help="skip the preflight (GET /v1/models and one plain request that must be answered 2xx)",
    )
    p.add_argument(
        "--no-adapt",
        action="store_true",
        help=(
            "generate as the schema says: do not leave out of later requests a field the provider refuses, nor "
            "cap any optional field at about half of the valid requests"
        ),
    )
    add_rule_selection(p)
    add_extensions(p)
    p.add_argument("--report", metavar="DIR", help="write results.json, report.md, report.html and junit.xml to DIR")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress on standard error")
    p.set_defaults(func=run_command)
    return p


def default_workers() -> int:
    """The machine's cores (what the process may use), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def _share(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share such as 0.5 or 50%") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is outside 0..1")
    return value


def options_from_args(args: argparse.Namespace, environ: Any = os.environ) -> FuzzOptions:
    api_key = None
    if args.api_key_env:
        api_key = environ.get(args.api_key_env)
        if not api_key:
            raise UsageError(f"--api-key-env {args.api_key_env}: that environment variable is not set or empty")
    options = FuzzOptions(
        base_url=args.base_url,
        model=args.model,
        dialect=args.dialect,
        api_key=api_key,
        api_key_env=args.api_key_env,
        provider=args.provider,
        max_examples=args.max_examples,
        max_requests=args.max_requests,
        max_tokens_cap=args.max_tokens_cap,
        max_time=args.max_time,
        seed=args.seed,
        workers=args.workers,
        rate_limit=args.rate_limit,
        timeout=args.timeout,
        phases=tuple(p.strip() for p in args.phases.split(",") if p.strip()),
        select=split_codes(args.select),
        ignore=split_codes(args.ignore),
        extensions=split_codes(args.extension),
        shrink=not args.no_shrink,
        preflight=not args.no_preflight,
        adaptive=not args.no_adapt,
        min_answered=args.min_answered,
        examples_per_rule=args.examples_per_rule,
    )
    options.validate()
    return options


class _Progress:
    """One status line on standard error: rewritten in place on a terminal, a line every few seconds otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, run: Any) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < 5.0:
            return
        self.last = now
        errors = sum(1 for code in run.findings if run.findings[code].count and severity_of(code) == "error")
        line = (
            f"fuzz: {run.sent} requests, {sum(v for k, v in run.statuses.items() if k.startswith('2'))} 2xx, "
            f"{run.coverage.answered}/{run.coverage.valid} valid answered, "
            f"{run.streams} streams, {len(run.findings)} rules broken ({errors} errors)"
        )
        if self.tty:
            self.out.write("\r\x1b[2K" + line)
            self.shown = True
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def done(self) -> None:
        if self.shown:
            self.out.write("\r\x1b[2K")
            self.out.flush()


def format_summary(results: FuzzResults) -> str:
    """The human summary printed at the end of a run."""
    lines = [
        f"chatcontract fuzz: {results.provider} ({results.dialect}, model {results.model}) at {results.base_url}",
        f"{results.requests} requests in {results.duration_s:.1f} s ({results.requests_per_s:.1f} req/s; "
        f"stopped: {results.stop_reason.replace('_', ' ')}"
        f"; seed {results.seed if results.seed is not None else 'random'}); "
        f"{results.positive} valid, {results.negative} invalid, {results.streams} streams; statuses "
        + (", ".join(f"{k}: {v}" for k, v in results.statuses.items()) or "none"),
    ]
    lines += [f"note: {note}" for note in results.notes]
    if results.coverage is not None:
        lines += coverage_lines(results)
    errors = [f for f in results.findings if f.severity == "error"]
    warnings = [f for f in results.findings if f.severity == "warning"]
    if not results.tested:
        lines.append("Nothing was tested: no request got an answer, other than 429 Too Many Requests.")
    elif not results.findings:
        lines.append("No findings: every response conformed.")
    else:
        lines.append(f"{len(errors)} error and {len(warnings)} warning findings:")
    for f in results.findings:
        lines.append("")
        lines.append(f"  {f.code} {f.name} [{f.severity}] x{f.count}  at {', '.join(f.paths[:3])}")
        for i, example in enumerate(f.examples):
            status = example.response["status"] if example.response else "no response"
            kind = "commonest" if i == 0 and len(f.examples) > 1 else "also"
            lines.append(
                f"    {kind if len(f.examples) > 1 else 'example'}: x{example.count} {example.mode} request "
                f"({example.phase or 'generated'}), got {status}: {example.message}"
            )
            lines.append(f"      {example.curl}")
    for error in results.errors[:10]:
        lines.append(f"  run error: {error}")
    if len(results.errors) > 10:
        lines.append(f"  ... and {len(results.errors) - 10} more run errors")
    return "\n".join(lines) + "\n"


def coverage_lines(results: FuzzResults) -> list[str]:
    """The coverage table of the summary: per feature, valid requests that used it and those answered 2xx."""
    cov = results.coverage
    if cov is None:
        return []
    lines = [f"coverage: {cov.verdict()}"]
    if cov.adapted:
        lines.append(
            "  left out of generated requests (adaptive generation): "
            + ", ".join(f"{k} x{v}" for k, v in cov.adapted.items())
        )
    used = [f"{row.feature} {row.answered}/{row.valid}" for row in cov.features if row.valid]
    unused = [row.feature for row in cov.features if not row.valid]
    refused = [row.feature for row in cov.features if row.valid and not row.answered]
    lines += _wrapped("  features (answered/valid): ", used)
    if unused:
        lines += _wrapped("  in no valid request: ", unused)
    if refused:
        lines += _wrapped("  in no valid request answered 2xx: ", refused)
    if not unused and not refused:
        lines.append("  every feature was in a valid request answered 2xx and checked")
    return lines


def _wrapped(head: str, items: list[str], width: int = 116) -> list[str]:
    lines, line = [], head
    for i, item in enumerate(items):
        text = item + (", " if i < len(items) - 1 else "")
        if len(line) + len(text) > width and line.strip():
            lines.append(line.rstrip())
            line = " " * 4
        line += text
    lines.append(line.rstrip())
    return lines


def write_outputs(results: FuzzResults, *, report_dir: str | None, junit: str | None) -> list[Path]:
    written: list[Path] = []
    if report_dir:
        from ..report import write_reports

        target = Path(report_dir)
        written.append(results.write(target / "results.json"))
        written.extend(write_reports([results], target).values())
    if junit:
        from ..report import render_junit

        path = Path(junit)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_junit([results]), "utf-8")
        written.append(path)
    return written


def run_command(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    options = options_from_args(args)
    progress = None if args.quiet else _Progress(err)
    unreachable: NothingTested | None = None
    try:
        results = run_fuzz(options, progress=progress)
    except NothingTested as exc:  # still written: a scheduled run leaves its results.json either way
        unreachable, results = exc, exc.results
    finally:
        if progress is not None:
            progress.done()
    written = write_outputs(results, report_dir=args.report, junit=args.junit)
    if results.requests or unreachable is None:  # a run stopped by its preflight fuzzed nothing: no summary
        out.write(format_summary(results))
    for path in written:
        out.write(f"wrote {path}\n")
    if results.stop_reason == "interrupted":
        err.write("chatcontract fuzz: interrupted; the findings so far are above\n")
    if unreachable is not None:
        err.write(f"chatcontract fuzz: {unreachable}\n")
        return EXIT_USAGE
    if not results.tested:
        err.write(
            f"chatcontract fuzz: nothing was tested (stopped: {results.stop_reason.replace('_', ' ')}): "
            f"{results.requests} requests, {results.statuses.get('429', 0)} answered 429, "
            f"{results.statuses.get('none', 0)} without an answer\n"
        )
        return EXIT_USAGE
    if results.coverage is not None and not results.coverage.sufficient:
        share = results.coverage.min_answered
        err.write(f"chatcontract fuzz: {results.coverage.verdict()} (--min-answered {share:g})\n")
    return EXIT_OK if results.ok else EXIT_FINDINGS
