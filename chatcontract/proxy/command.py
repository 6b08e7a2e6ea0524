"""The ``chatcontract proxy`` command: options, the banner, one line per finding, and on exit the summary and files.

Exit codes: 0 no finding of severity error, 1 findings, 2 a usage error (bad option, port in use).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..options import EXIT_FINDINGS, EXIT_OK, add_dialect, add_extensions, add_rule_selection, split_codes

if TYPE_CHECKING:
    from ..report.results import FuzzResults
    from .server import RunningProxy
    from .session import ProxyOptions

__all__ = ["add_parser", "format_summary", "options_from_args", "run_command"]


_DESCRIPTION = """\
Sit between a chat client (any language) and a provider: every request is forwarded to UPSTREAM with the same path,
headers and body, and every answer comes back as it arrives (streams chunk by chunk). POST .../chat/completions
exchanges are checked against the dialect's contract with their request (streams incrementally); other paths pass
through unchecked. A line per finding is printed as it happens; on exit (Ctrl-C or SIGTERM) the summary, and with
--report results.json and the compatibility report (the formats of fuzz --report: chatcontract report merges both).

Point the client at the proxy's base URL: http://127.0.0.1:PORT followed by the upstream's path (for --upstream
https://api.mistral.ai/v1, use http://127.0.0.1:8787/v1). Its credentials go to the upstream untouched and appear
in no line, report or cassette.

--enforce: a 2xx JSON answer with error-severity violations becomes a 502 with the dialect's error envelope whose
message lists them; a stream is forwarded event by event until an event breaks the contract (or, at its end, the
whole-stream checks fail: [DONE] is held back until they have run) and then ends with one SSE data event holding
the dialect's error envelope and no [DONE], on which the SDKs raise. Error answers (4xx, 5xx) pass unchanged.

No answer from the upstream: 502 (refused, reset) or 504 (timeout) in the dialect's error envelope, and CC604.

--extension reasoning: hold the reasoning fields of OpenAI-compatible servers (reasoning_content, reasoning,
reasoning_details) to the extension's contract, as check and fuzz do; without it they pass unchecked.

The upstream leg honours HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (as httpx and curl do): an upstream
behind a corporate forward proxy is reached through it; put the upstream's host in NO_PROXY to go direct.
Connections to the upstream are kept alive and reused. The client's side is served by uvicorn with httptools and
uvloop (dependencies of chatcontract; about 13 % less CPU per request), or with h11 and asyncio where they are
not installed (uvloop has no Windows build): the behaviour is the same.

Exit 0: no error finding; 1: findings; 2: usage error."""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``proxy`` on the CLI's subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "proxy",
        help="a checking, recording proxy between any chat client and a provider",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--upstream", required=True, metavar="URL", help="the provider's base URL, e.g. https://api.mistral.ai/v1"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8787, metavar="N", help="port to listen on, 0 for any (default: 8787)")
    add_dialect(p, default="mistral", help="contract (default: mistral)")
    p.add_argument("--provider", metavar="NAME", help="name in reports and for per-provider-ignores (default: host)")
    p.add_argument("--record", metavar="DIR", help="write the exchanges as a VCR.py cassette in DIR (secrets scrubbed)")
    p.add_argument("--report", metavar="DIR", help="write results.json, report.md, report.html and junit.xml to DIR")
    p.add_argument("--enforce", action="store_true", help="replace answers that break the contract by an error")
    p.add_argument(
        "--timeout", type=float, default=120.0, metavar="S", help="upstream timeout in seconds (default: 120)"
    )
    add_rule_selection(p)
    add_extensions(p)
    p.set_defaults(func=run_command)
    return p


def options_from_args(args: argparse.Namespace) -> ProxyOptions:
    from .session import ProxyOptions

    options = ProxyOptions(
        upstream=args.upstream,
        dialect=args.dialect,
        host=args.host,
        port=args.port,
        provider=args.provider,
        select=split_codes(args.select),
        ignore=split_codes(args.ignore),
        extensions=split_codes(args.extension),
        enforce=args.enforce,
        record=args.record,
        timeout=args.timeout,
    )
    options.validate()
    return options


def format_summary(results: FuzzResults) -> str:
    """The human summary printed when the proxy stops."""
    lines = [
        f"chatcontract proxy: {results.provider} ({results.dialect}) at {results.base_url}",
        f"{results.requests} requests in {results.duration_s:.1f} s: {results.positive} chat exchanges checked "
        f"({results.streams} streams), {results.unchecked} other requests passed through unchecked; statuses "
        + (", ".join(f"{k}: {v}" for k, v in results.statuses.items()) or "none"),
    ]
    errors = [f for f in results.findings if f.severity == "error"]
    warnings = [f for f in results.findings if f.severity == "warning"]
    if not results.findings:
        lines.append("No findings: every checked answer conformed.")
    else:
        lines.append(f"{len(errors)} error and {len(warnings)} warning findings:")
    for f in results.findings:
        lines.append(f"  {f.code} {f.name} [{f.severity}] in {f.count} exchanges, at {', '.join(f.paths[:3])}")
        if f.example is not None:
            lines.append(f"    {f.example.message}")
            lines.append(f"    {f.example.curl}")
    for note in results.errors[:10]:
        lines.append(f"  note: {note}")
    if len(results.errors) > 10:
        lines.append(f"  ... and {len(results.errors) - 10} more notes")
    return "\n".join(lines) + "\n"


def run_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from .server import run_until_stopped

    out = out or sys.stdout
    options = options_from_args(args)

    def ready(proxy: RunningProxy) -> None:
        mode = "checking and enforcing" if options.enforce else "checking"
        out.write(
            f"chatcontract proxy ({options.dialect}, {mode}) at {proxy.base_url} -> {options.upstream}\n"
            f"point your client at {proxy.base_url}; Ctrl-C to stop\n"
        )
        out.flush()

    session, cassette = run_until_stopped(options, out=out, on_ready=ready)
    results = session.results()
    written = []
    if args.report:
        from pathlib import Path

        from ..report import write_reports

        target = Path(args.report)
        written.append(results.write(target / "results.json"))
        written.extend(write_reports([results], target).values())
    out.write(format_summary(results))
    if cassette is not None:
        out.write(f"wrote {cassette}\n")
    for path in written:
        out.write(f"wrote {path}\n")
    out.flush()
    return EXIT_OK if results.ok else EXIT_FINDINGS
