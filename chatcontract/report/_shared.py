"""What every report format shows, made safe: hostile strings escaped and cut, verdicts, summaries, the matrix rows."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..rules import RULES
from .results import Finding, FuzzResults

#: Longest payload (request body, curl line, response excerpt) shown, in characters.
MAX_SHOWN = 8000

_TITLE = "chatcontract compatibility report"
# C0 controls but tab and newline, DEL and C1, lone surrogates, the XML non-characters, bidi embeddings/isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


# --------------------------------------------------------------------------------------------------- shared pieces


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _clean(text: str) -> str:
    """``text`` with every character unsafe in XML 1.0 / UTF-8 / a terminal shown as a visible escape."""
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def _cap(text: str, limit: int = MAX_SHOWN) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n...(cut: {len(text)} characters in all)"


def _text(value: Any, limit: int = MAX_SHOWN) -> str:
    """Any value as clean, capped display text (strings as they are, the rest as compact JSON)."""
    if isinstance(value, str):
        return _clean(_cap(value, limit))
    return _clean(_cap(_json(value, indent=None), limit))


def _json(value: Any, *, indent: int | None = 2) -> str:
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _body_text(body: Any) -> str:
    """A request body pretty-printed as JSON (a string body is parsed when it is JSON, shown raw otherwise)."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            return _clean(_cap(body))
    return _clean(_cap(_json(body)))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _status_key(status: str) -> tuple[int, int, str]:
    return (0, int(status), "") if status.isdigit() else (1, 0, status)


def _statuses(statuses: Mapping[str, int]) -> str:
    if not statuses:
        return "none"
    return ", ".join(f"{k}: {statuses[k]}" for k in sorted(statuses, key=_status_key))


def _duration(seconds: float) -> str:
    if seconds >= 60:
        minutes, rest = divmod(seconds, 60)
        return f"{int(minutes)} min {rest:.1f} s"
    return f"{seconds:.1f} s"


def _by_severity(run: FuzzResults, severity: str) -> list[Finding]:
    return [f for f in run.findings if f.severity == severity]


def verdict(run: FuzzResults) -> str:
    """``fail`` (a finding of severity error), ``error`` (the run itself had problems) or ``pass``."""
    if not run.ok:
        return "fail"
    if run.errors or run.stop_reason in ("server_unavailable", "rate_limited", "unreachable", "preflight_refused"):
        return "error"
    return "pass"


def run_labels(results: Sequence[FuzzResults]) -> list[str]:
    """One distinct label per run: ``provider (dialect)``, numbered ``#2``, ``#3``... when a pair repeats."""
    bases = [f"{r.provider} ({r.dialect})" for r in results]
    labels: list[str] = []
    seen: set[str] = set()
    for base in bases:
        label, n = base, 1
        if bases.count(base) > 1:
            label = f"{base} #{n}"
        while label in seen:
            n += 1
            label = f"{base} #{n}"
        seen.add(label)
        labels.append(label)
    return labels


def summary_line(run: FuzzResults, label: str | None = None) -> str:
    """One line about a run, as ``chatcontract report`` prints it."""
    errors, warnings = _by_severity(run, "error"), _by_severity(run, "warning")
    parts = [
        _count(run.requests, "request"),
        *([f"{run.coverage.answered}/{run.coverage.valid} valid answered 2xx"] if run.coverage is not None else []),
        f"{_count(len(errors), 'error rule')} ({_count(sum(f.count for f in errors), 'hit')})",
        f"{_count(len(warnings), 'warning rule')} ({_count(sum(f.count for f in warnings), 'hit')})",
    ]
    if run.errors:
        parts.append(_count(len(run.errors), "run error"))
    parts.append(f"stopped: {run.stop_reason}")
    name = label if label is not None else f"{run.provider} ({run.dialect})"
    return _clean(f"{name}: {verdict(run).upper()}: {', '.join(parts)}").replace("\n", " ")


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of the provider x rule matrix."""

    code: str
    name: str
    severity: str
    summary: str


def _matrix_rows(results: Sequence[FuzzResults]) -> list[_Row]:
    """Every rule code with a finding in any run, sorted by code; name and severity from the registry if known."""
    first: dict[str, Finding] = {}
    for run in results:
        for f in run.findings:
            first.setdefault(f.code, f)
    rows = []
    for code in sorted(first):
        rule = RULES.get(code)
        f = first[code]
        if rule is not None:
            rows.append(_Row(code, rule.name, rule.severity.value, rule.summary))
        else:
            rows.append(_Row(code, f.name, f.severity, f.summary))
    return rows


def _finding(run: FuzzResults, code: str) -> Finding | None:
    return next((f for f in run.findings if f.code == code), None)


def _applies(code: str, dialect: str) -> bool:
    rule = RULES.get(code)
    return rule is None or rule.applies_to(dialect)


def _summary_fields(run: FuzzResults) -> list[tuple[str, str]]:
    errors, warnings = _by_severity(run, "error"), _by_severity(run, "warning")
    return [
        ("provider", run.provider),
        ("run", "proxy (a client's traffic, observed)" if run.kind == "proxy" else "fuzz (generated requests)"),
        ("dialect", run.dialect),
        ("model", run.model),
        ("base URL", run.base_url),
        ("started", run.started or "-"),
        ("seed", "-" if run.seed is None else str(run.seed)),
        ("requests", str(run.requests)),
        ("statuses", _statuses(run.statuses)),
        ("positive / negative / streams", f"{run.positive} / {run.negative} / {run.streams}"),
        ("unchecked requests (other paths)", str(run.unchecked) if run.kind == "proxy" else "-"),
        ("stop reason", run.stop_reason),
        ("duration", _duration(run.duration_s)),
        ("requests/s", f"{run.requests_per_s:.1f}"),
        ("valid requests answered 2xx", run.coverage.verdict() if run.coverage is not None else "- (not recorded)"),
        ("notes", "; ".join(run.notes) or "-"),
        ("error findings", f"{_count(len(errors), 'rule')}, {_count(sum(f.count for f in errors), 'hit')}"),
        ("warning findings", f"{_count(len(warnings), 'rule')}, {_count(sum(f.count for f in warnings), 'hit')}"),
        ("run errors", str(len(run.errors))),
        ("chatcontract", run.chatcontract or "-"),
        ("verdict", verdict(run).upper()),
    ]


def example_views(f: Finding) -> list[tuple[str, Finding]]:
    """Each kept example as ``(title, the finding seen through that example)``, the commonest kind first.

    The per-example helpers below read ``f.example``; a view is the finding with one example, so every format
    renders each example the same way.
    """
    shown = f.examples
    return [
        (
            f"example {i} of {len(shown)}: {_count(ex.count, 'exchange')} of this kind"
            + (" (the commonest)" if i == 1 and len(shown) > 1 else ""),
            replace(f, example=ex, other_examples=[]),
        )
        for i, ex in enumerate(shown, 1)
    ]


def coverage_rows(run: FuzzResults) -> list[tuple[str, str, str]]:
    """The coverage table: feature, valid requests that used it, those answered 2xx and checked."""
    if run.coverage is None:
        return []
    return [(row.feature, str(row.valid), str(row.answered)) for row in run.coverage.features]


def _example_lines(f: Finding) -> list[tuple[str, str]]:
    """The example's one-line facts (label, text), for every format."""
    ex = f.example
    if ex is None:
        return []
    lines = [("example path", ex.path), ("example message", ex.message)]
    if ex.actual is not None:
        lines.append(("actual", _text(ex.actual, 500)))
    if ex.phase or ex.mode:
        lines.append(("generated", " ".join(p for p in (ex.mode, ex.phase and f"({ex.phase} phase)") if p)))
    return lines


def _request_line(f: Finding) -> str:
    ex = f.example
    if ex is None:
        return ""
    return f"{_text(ex.request.get('method', ''), 20)} {_text(ex.request.get('url', ''), 500)}".strip()


def _response_head(f: Finding) -> str:
    ex = f.example
    if ex is None or ex.response is None:
        return "no response (timeout or connection error)"
    status = _text(ex.response.get("status", "?"), 20)
    ctype = _text(ex.response.get("content_type") or "no content type", 200)
    return f"status {status}, {ctype}"


def _response_body(f: Finding) -> str | None:
    ex = f.example
    if ex is None or ex.response is None:
        return None
    return _text(ex.response.get("body", ""))
