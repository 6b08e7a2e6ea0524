"""The ``chatcontract`` command line.

Exit codes: 0 conforms (warnings allowed), 1 an error-severity violation was found, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._exceptions import ChatContractError
from .options import EXIT_FINDINGS as EXIT_VIOLATIONS
from .options import (
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    add_dialect,
    add_extensions,
    add_format,
    add_rule_selection,
    split_codes,
)


def _read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _cmd_check(args: argparse.Namespace) -> int:
    from .engine import check

    try:
        body = _read_input(args.file)
        request = _read_input(args.request) if args.request else None
    except OSError as exc:
        print(f"chatcontract: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    report = check(
        body,
        dialect=args.dialect,
        status=args.status,
        stream=args.stream,
        request=request,
        provider=args.provider,
        select=split_codes(args.select),
        ignore=split_codes(args.ignore),
        extensions=split_codes(args.extension),
    )
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        source = "<stdin>" if args.file == "-" else args.file
        print(f"{source}: {report}")
    return EXIT_OK if report.ok else EXIT_VIOLATIONS


def _cmd_rules(args: argparse.Namespace) -> int:
    from .rules import RULES

    rows = sorted(
        (r for r in RULES.values() if args.dialect is None or r.applies_to(args.dialect)), key=lambda r: r.code
    )
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "code": r.code,
                        "name": r.name,
                        "severity": r.severity.value,
                        "dialects": sorted(r.dialects),
                        "status": r.status.value,
                        "summary": r.summary,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return EXIT_OK
    width = max(len(r.name) for r in rows)
    for r in rows:
        dialects = "" if len(r.dialects) > 1 else f" [{next(iter(r.dialects))} only]"
        print(f"{r.code}  {r.name:<{width}}  {r.severity.value:<7}  {r.summary}{dialects}")
    return EXIT_OK


def _cmd_rule(args: argparse.Namespace) -> int:
    from .rules import get_rule

    r = get_rule(args.code)
    dialects = ", ".join(sorted(r.dialects))
    print(f"# {r.name} ({r.code})\n")
    print(f"Severity: {r.severity.value}. Dialects: {dialects}. Status: {r.status.value} since {r.since}.")
    if r.requires_request:
        print("Runs only when the request is known (request=, --request).")
    print()
    print(r.doc)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(report_dir=args.report)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from .provider import faults as catalogue
    from .provider.server import run_forever

    if args.list_faults:
        print(catalogue.format_catalogue())
        return EXIT_OK
    catalogue.parse_faults(args.fault or (), args.dialect)  # UsageError (exit 2) for unknown names, bad rates
    try:
        return run_forever(
            dialect=args.dialect,
            host=args.host,
            port=args.port,
            faults=args.fault or (),
            seed=args.seed,
            api_key=args.api_key,
        )
    except KeyboardInterrupt:
        return EXIT_OK


def _cmd_cassettes_check(args: argparse.Namespace) -> int:
    from ._exceptions import CassetteError
    from .cassettes import iter_cassette_files, load_cassette
    from .cassettes.check import check_interaction, missing_expectations, settings_for

    files = iter_cassette_files(Path(args.path))
    if not files:
        print(f"chatcontract: no cassettes under {args.path}", file=sys.stderr)
        return EXIT_USAGE
    failed = checked = 0
    results: list[dict[str, Any]] = []
    for path in files:
        try:
            cassette = load_cassette(path)
        except CassetteError as exc:
            failed += 1
            where = f" (interaction {exc.interaction})" if exc.interaction is not None else ""
            message = str(exc).removeprefix(f"{path}: ")
            if args.format == "text":
                print(f"{path}: malformed cassette{where}: {message}")
            results.append({"path": str(path), "error": message})
            continue
        settings = settings_for(
            path,
            dialect=args.dialect,
            select=split_codes(args.select),
            ignore=split_codes(args.ignore),
            provider=args.provider,
        )
        seen: set[str] = set()
        for it in cassette.interactions:
            if not it.is_chat:
                continue
            checked += 1
            result = check_interaction(it, settings)
            seen |= result.expected_seen
            failed += not result.ok
            results.append({"path": str(path), "interaction": it.index, **result.report.to_dict()})
            if args.format == "text" and (result.report.violations or not result.ok):
                print(f"{path}::interaction[{it.index}]: {result.report}")
                if result.expected_seen:
                    print(f"  expected (not failing): {', '.join(sorted(result.expected_seen))}")
        for sel in missing_expectations(settings, seen):
            failed += 1
            if args.format == "text":
                print(f"{path}: expected finding {sel} never occurred (stale per-cassette-expect)")
            results.append({"path": str(path), "stale_expectation": sel})
    if args.format == "json":
        print(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"{checked} interaction(s) in {len(files)} cassette(s) checked, {failed} failed", file=sys.stderr)
    return EXIT_VIOLATIONS if failed else EXIT_OK


def _cmd_cassettes_audit(args: argparse.Namespace) -> int:
    from .cassettes import audit

    findings = audit(Path(args.path))
    unreadable = [f for f in findings if f.kind == "unreadable"]
    secrets = [f for f in findings if f.kind != "unreadable"]
    for finding in findings:
        if finding.kind == "unreadable":
            where = f"interaction {finding.interaction}: " if finding.interaction is not None else ""
            message = finding.excerpt.removeprefix(f"{finding.path}: ").removeprefix(where)
            print(f"{finding.path}: malformed cassette, not audited{f' ({where[:-2]})' if where else ''}: {message}")
        else:
            print(finding)
    summary = f"{len(secrets)} secret(s) found under {args.path}"
    if unreadable:
        summary += f"; {len(unreadable)} malformed cassette(s) could not be audited (their raw text was scanned)"
    print(summary, file=sys.stderr)
    return EXIT_VIOLATIONS if findings else EXIT_OK


def _cmd_openapi(args: argparse.Namespace) -> int:
    from .fuzz.openapi import build_openapi

    doc = build_openapi(args.dialect, max_tokens_cap=args.max_tokens_cap, model=args.model, servers=args.server)
    if args.format == "yaml":
        import yaml

        print(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120), end="")
    else:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import run_labels, summary_line, write_reports
    from .report.results import load_results

    results = [load_results(path) for path in args.results]  # UsageError (exit 2) names the file and the reason
    try:
        paths = write_reports(results, Path(args.out))
    except OSError as exc:
        print(f"chatcontract: cannot write {exc.filename or args.out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for path in paths.values():
        print(path)
    for label, run in zip(run_labels(results), results, strict=True):
        print(summary_line(run, label))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = Parser(prog="chatcontract", description="Contract testing for chat-completion APIs.")
    parser.add_argument("--version", action="version", version=f"chatcontract {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("check", help="check a response, stream or error body")
    p.add_argument("file", nargs="?", default="-", help="file to check, or - for standard input (default)")
    add_dialect(p)
    p.add_argument("--status", type=int, help="HTTP status of the response (>= 400 checks an error body)")
    stream = p.add_mutually_exclusive_group()
    stream.add_argument("--stream", dest="stream", action="store_true", default=None, help="treat input as SSE")
    stream.add_argument("--no-stream", dest="stream", action="store_false", help="treat input as one JSON body")
    p.add_argument("--request", metavar="FILE", help="request body (JSON) to enable request-aware rules")
    p.add_argument("--provider", help="provider name, for per-provider-ignores")
    add_rule_selection(p)
    add_extensions(p)
    add_format(p, help="output format (default: text)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("rules", help="list every rule")
    add_dialect(p, help="only the rules of one dialect")
    add_format(p)
    p.set_defaults(func=_cmd_rules)

    p = sub.add_parser("rule", help="explain one rule")
    p.add_argument("code", help="rule code (CC201) or name (usage-total-mismatch)")
    p.set_defaults(func=_cmd_rule)

    p = sub.add_parser("demo", help="fuzz the built-in reference provider (with injected faults) and print the report")
    p.add_argument("--report", metavar="DIR", help="also write report.md, report.html and junit.xml to DIR")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("cassettes", help="check or audit recorded cassettes (VCR.py / pytest-recording)")
    csub = p.add_subparsers(dest="cassettes_command", metavar="ACTION", parser_class=Parser, required=True)
    c = csub.add_parser("check", help="check every chat interaction of the cassettes in PATH")
    c.add_argument("path", help="a cassette file or a folder of cassettes")
    add_dialect(c)
    c.add_argument("--provider", help="provider name (default: per-cassette-provider or the cassette's folder)")
    add_rule_selection(c, comma_list=False)
    add_format(c)
    c.set_defaults(func=_cmd_cassettes_check)
    a = csub.add_parser("audit", help="find secrets in cassettes (exit 1 when any is found or a file is malformed)")
    a.add_argument("path", help="a cassette file or a folder of cassettes")
    a.set_defaults(func=_cmd_cassettes_audit)

    p = sub.add_parser("serve", help="run the reference provider, optionally with injected real-world faults")
    add_dialect(p, default="mistral", help="wire format (default: mistral)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on, 0 for a free one (default: 8000)")
    p.add_argument("--fault", action="extend", nargs="+", metavar="NAME[:RATE]", help="inject a fault (RATE 0..1)")
    p.add_argument("--seed", type=int, help="make answers and fault draws deterministic")
    p.add_argument("--api-key", help="require Authorization: Bearer KEY")
    p.add_argument("--list-faults", action="store_true", help="print the fault catalogue and exit")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("openapi", help="print the OpenAPI 3.1 document generated from the contracts (for fuzzing)")
    add_dialect(p, default="mistral", help="wire format (default: mistral)")
    p.add_argument("--max-tokens-cap", type=int, default=16, metavar="N", help="largest max_tokens (default: 16)")
    p.add_argument("--model", metavar="NAME", help="pin the generated requests' model to NAME")
    p.add_argument("--server", action="append", metavar="URL", help="a servers entry (repeatable; default: none)")
    add_format(p, ("json", "yaml"), help="output format (default: json)")
    p.set_defaults(func=_cmd_openapi)

    from .fuzz.command import add_parser as add_fuzz_parser

    add_fuzz_parser(sub)

    from .proxy.command import add_parser as add_proxy_parser

    add_proxy_parser(sub)

    p = sub.add_parser("report", help="render fuzz results as Markdown, HTML and JUnit XML (a compatibility report)")
    p.add_argument("results", nargs="+", metavar="RESULTS", help="a results.json, or a directory holding one")
    p.add_argument("--out", default="chatcontract-report", metavar="DIR", help="output folder (default: %(default)s)")
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from .engine import forget_project_config

    forget_project_config()  # a run (also one called in-process, after a chdir) reads the configuration anew
    try:
        code: int = args.func(args)
    except ChatContractError as exc:
        print(f"chatcontract: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `chatcontract rules | head`
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
