"""What a run found, as data: ``results.json``, written by ``chatcontract fuzz`` and ``proxy``, read by ``report``.

One :class:`FuzzResults` per run (one provider, one dialect). Findings are grouped by rule code: how many
responses (or exchanges) broke the rule, at which paths, and up to a few examples that differ in what triggered them
(method, status, the request's fields), the commonest first, each with its count: the request that reproduces it
(the smallest of its kind, which is schemathesis' shrunk one when it minimised it), a ``curl`` line with the API key
redacted, and an excerpt of the response. The run's coverage (:class:`RunCoverage`) says how many valid requests
used each request feature and how many of them were answered 2xx and checked. The JSON form is versioned
(``format``; format 1, without coverage and with one example per rule, still loads) and loaded strictly: a results
file that is not one raises :class:`~chatcontract.UsageError` with the reason, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import UsageError

__all__ = ["FORMAT", "Example", "FeatureRow", "Finding", "FuzzResults", "RunCoverage", "load_results"]

#: Version of the JSON layout; bumped on incompatible changes. 2: coverage, examples per rule with counts.
FORMAT = 2
#: Older layouts :meth:`FuzzResults.from_dict` migrates on load.
_MIGRATED = (1,)
_SEVERITIES = ("error", "warning")
#: What produced a run.
KINDS = ("fuzz", "proxy")
#: Why a run stopped. ``rate_limited``: 429s asked for a wait past the time budget, or every answer was a 429;
#: ``unreachable``: no request got any response; ``preflight_refused``: the preflight's plain request was refused.
STOP_REASONS = (
    "completed",
    "interrupted",
    "max_requests",
    "max_time",
    "server_unavailable",
    "failure_limit",
    "rate_limited",
    "unreachable",
    "preflight_refused",
)


@dataclass(slots=True, kw_only=True)
class Example:
    """The first exchange that showed a finding: enough to reproduce it by hand."""

    #: ``{"method", "url", "headers", "body"}``; secrets in headers are redacted.
    request: dict[str, Any]
    #: ``curl`` command reproducing the request (the key replaced by ``$VAR`` or ``REDACTED``).
    curl: str
    #: ``{"status", "content_type", "body"}`` (body shortened), or None when no response came (timeout, reset).
    response: dict[str, Any] | None
    #: The schemathesis phase that generated the request (``examples``, ``coverage``, ``fuzzing``, ...).
    phase: str = ""
    #: Whether the request was generated as a valid (``positive``) or invalid (``negative``) one.
    mode: str = ""
    #: The violation's JSON path in the response (or ``$`` for exchange-level findings).
    path: str = "$"
    #: The violation's message for this example.
    message: str = ""
    #: The offending value, shortened for display.
    actual: Any = None
    #: Exchanges of this kind (same method, status, request validity, streaming, response path and trigger).
    count: int = 1


@dataclass(slots=True, kw_only=True)
class Finding:
    """Every occurrence of one rule in a run."""

    code: str
    name: str
    severity: str
    #: Responses or exchanges in which the rule fired (once per exchange, however many paths).
    count: int
    #: The rule's one-line summary.
    summary: str = ""
    #: Distinct paths where it fired, in the order first seen (at most 20 kept).
    paths: list[str] = field(default_factory=list)
    #: The commonest kind of exchange that showed the finding (its smallest request).
    example: Example | None = None
    #: Other kinds, commoner first (the run keeps up to a few per rule, ``--examples-per-rule``).
    other_examples: list[Example] = field(default_factory=list)

    @property
    def examples(self) -> list[Example]:
        """Every example kept, the commonest kind first."""
        return ([self.example] if self.example is not None else []) + list(self.other_examples)


@dataclass(slots=True, kw_only=True)
class FeatureRow:
    """One request feature: how many valid requests used it, and how many of those were answered 2xx and checked."""

    feature: str
    valid: int = 0
    answered: int = 0


@dataclass(slots=True, kw_only=True)
class RunCoverage:
    """What a run measured: valid requests, those answered 2xx and checked, per feature."""

    valid: int = 0
    answered: int = 0
    #: The share of valid requests that must be answered 2xx for the run to count (``--min-answered``).
    min_answered: float = 0.5
    #: The feature the rejected valid requests have in common (``top_p=0``, ``random_seed``), if one stands out.
    common_to_rejections: str | None = None
    #: Optional fields left out of generated requests (adaptive generation), with how often.
    adapted: dict[str, int] = field(default_factory=dict)
    features: list[FeatureRow] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Share of the valid requests answered 2xx and checked (1.0 when no valid request was sent)."""
        return self.answered / self.valid if self.valid else 1.0

    @property
    def sufficient(self) -> bool:
        """Enough of the valid requests were answered for the run to have measured the provider."""
        return self.share >= self.min_answered

    def unanswered(self) -> list[str]:
        """The features of the table that no valid request answered 2xx and checked carried (unused ones included)."""
        return [row.feature for row in self.features if not row.answered]

    def features_verdict(self) -> str:
        """One sentence: whether every feature of the table was tested, and which were not."""
        missing = self.unanswered()
        if not missing:
            return "every feature of the table was in a valid request answered 2xx and checked"
        return f"{len(missing)} features were in no valid request answered 2xx: {', '.join(missing)}"

    def verdict(self) -> str:
        """One sentence: how much was measured, and when too little, why (the field the rejections share)."""
        head = f"{self.answered} of {self.valid} valid requests answered 2xx and checked ({self.share:.0%})"
        if self.sufficient:
            return head
        why = (
            f"the rejected ones have `{self.common_to_rejections}` in common"
            if self.common_to_rejections
            else "the rejected ones share no single request field"
        )
        return f"{head}, below the {self.min_answered:.0%} this run needs: {why}; the run measured too little"


@dataclass(slots=True, kw_only=True)
class FuzzResults:
    """The outcome of one ``chatcontract fuzz`` run, or of one ``chatcontract proxy`` run (``kind="proxy"``)."""

    provider: str
    base_url: str
    dialect: str
    model: str
    seed: int | None = None
    started: str = ""
    duration_s: float = 0.0
    stop_reason: str = "completed"
    #: Requests sent (including retries after 429).
    requests: int = 0
    #: Response counts by status code (as strings), ``"none"`` for exchanges without a response.
    statuses: dict[str, int] = field(default_factory=dict)
    #: Requests generated as valid / invalid per the request contract, and streamed responses checked.
    positive: int = 0
    negative: int = 0
    streams: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: What the run measured (None in format-1 files, which did not record it).
    coverage: RunCoverage | None = None
    #: Run-level notes: the preflight's (no model list, model not listed), a field the provider refuses.
    notes: list[str] = field(default_factory=list)
    #: Run-level problems that are not findings about the provider (schemathesis errors, warnings).
    errors: list[str] = field(default_factory=list)
    chatcontract: str = ""
    format: int = FORMAT
    #: What produced the run: ``fuzz`` (generated requests) or ``proxy`` (a client's own traffic, observed).
    #: Files written before the field existed are fuzz runs.
    kind: str = "fuzz"
    #: Requests forwarded without a check (a proxy's traffic to other paths than chat completions).
    unchecked: int = 0

    @property
    def ok(self) -> bool:
        """No finding of severity error, and enough valid requests answered to have measured anything."""
        if self.coverage is not None and not self.coverage.sufficient:
            return False
        return not any(f.severity == "error" for f in self.findings)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def tested(self) -> bool:
        """Whether any answer tested the provider: a status other than 429, and not a lost exchange."""
        return any(status not in ("429", "none") for status in self.statuses) or any(
            f.code == "CC604" for f in self.findings
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=True, default=str) + "\n"

    def write(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(self.to_json(), "utf-8")
        tmp.replace(target)  # atomic: a Ctrl-C while writing never leaves half a file
        return target

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "results") -> FuzzResults:
        """Build from parsed JSON, checking every field's type; raises UsageError naming the bad field."""
        obj = _mapping(data, source)
        version = obj.get("format")
        if version != FORMAT and version not in _MIGRATED:
            known = ", ".join(str(v) for v in (*_MIGRATED, FORMAT))
            raise UsageError(f"{source}: unsupported results format {version!r} (this chatcontract reads {known})")
        findings = [
            _finding(item, f"{source}: findings[{i}]", legacy=version == 1)
            for i, item in enumerate(_list(obj, "findings", source))
        ]
        coverage = obj.get("coverage")
        statuses = _mapping(obj.get("statuses", {}), f"{source}: statuses")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in statuses.values()):
            raise UsageError(f"{source}: statuses must map status codes to counts")
        stop = _str(obj, "stop_reason", source, default="completed")
        if stop not in STOP_REASONS:
            raise UsageError(f"{source}: stop_reason {stop!r} is not one of {', '.join(STOP_REASONS)}")
        notes = _list(obj, "notes", source)
        if not all(isinstance(n, str) for n in notes):
            raise UsageError(f"{source}: notes must be a list of strings")
        errors = _list(obj, "errors", source)
        if not all(isinstance(e, str) for e in errors):
            raise UsageError(f"{source}: errors must be a list of strings")
        seed = obj.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise UsageError(f"{source}: seed must be an integer or null")
        kind = _str(obj, "kind", source, default="fuzz")
        if kind not in KINDS:
            raise UsageError(f"{source}: kind {kind!r} is not one of {', '.join(KINDS)}")
        duration = obj.get("duration_s", 0.0)
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise UsageError(f"{source}: duration_s must be a number")
        return cls(
            provider=_str(obj, "provider", source),
            base_url=_str(obj, "base_url", source),
            dialect=_str(obj, "dialect", source),
            model=_str(obj, "model", source),
            seed=seed,
            started=_str(obj, "started", source, default=""),
            duration_s=float(duration),
            stop_reason=stop,
            requests=_int(obj, "requests", source),
            statuses={str(k): v for k, v in statuses.items()},
            positive=_int(obj, "positive", source),
            negative=_int(obj, "negative", source),
            streams=_int(obj, "streams", source),
            findings=findings,
            coverage=None if coverage is None else _coverage(coverage, f"{source}: coverage"),
            notes=list(notes),
            errors=list(errors),
            chatcontract=_str(obj, "chatcontract", source, default=""),
            kind=kind,
            unchecked=_int(obj, "unchecked", source),
        )


def load_results(path: str | Path) -> FuzzResults:
    """Read a ``results.json`` written by ``chatcontract fuzz``; a directory means its ``results.json``."""
    target = Path(path)
    if target.is_dir():
        target = target / "results.json"
    try:
        text = target.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{target}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{target}: cannot read results: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{target}: not JSON ({exc})") from None
    return FuzzResults.from_dict(data, source=str(target))


def _mapping(value: Any, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UsageError(f"{source}: expected a JSON object, got {type(value).__name__}")
    return value


def _list(obj: Mapping[str, Any], key: str, source: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise UsageError(f"{source}: {key} must be a list")
    return value


def _str(obj: Mapping[str, Any], key: str, source: str, *, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise UsageError(f"{source}: {key} must be a string")
    return value


def _int(obj: Mapping[str, Any], key: str, source: str) -> int:
    value = obj.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{source}: {key} must be a non-negative integer")
    return value


def _finding(data: Any, source: str, *, legacy: bool = False) -> Finding:
    obj = _mapping(data, source)
    severity = _str(obj, "severity", source)
    if severity not in _SEVERITIES:
        raise UsageError(f"{source}: severity {severity!r} is not error or warning")
    paths = _list(obj, "paths", source)
    if not all(isinstance(p, str) for p in paths):
        raise UsageError(f"{source}: paths must be strings")
    example = obj.get("example")
    count = _int(obj, "count", source)
    first = None if example is None else _example(example, f"{source}.example")
    if legacy and first is not None:
        first.count = count  # format 1 kept one example standing for every occurrence
    others = _list(obj, "other_examples", source)
    return Finding(
        code=_str(obj, "code", source),
        name=_str(obj, "name", source),
        severity=severity,
        count=count,
        summary=_str(obj, "summary", source, default=""),
        paths=list(paths),
        example=first,
        other_examples=[_example(item, f"{source}.other_examples[{i}]") for i, item in enumerate(others)],
    )


def _coverage(data: Any, source: str) -> RunCoverage:
    obj = _mapping(data, source)
    share = obj.get("min_answered", 0.5)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise UsageError(f"{source}: min_answered must be a number in 0..1")
    common = obj.get("common_to_rejections")
    if common is not None and not isinstance(common, str):
        raise UsageError(f"{source}: common_to_rejections must be a string or null")
    adapted = _mapping(obj.get("adapted", {}), f"{source}: adapted")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in adapted.values()):
        raise UsageError(f"{source}: adapted must map fields to counts")
    rows = []
    for i, item in enumerate(_list(obj, "features", source)):
        row = _mapping(item, f"{source}: features[{i}]")
        where = f"{source}: features[{i}]"
        rows.append(FeatureRow(feature=_str(row, "feature", where), valid=_int(row, "valid", where),
                               answered=_int(row, "answered", where)))
    return RunCoverage(
        valid=_int(obj, "valid", source),
        answered=_int(obj, "answered", source),
        min_answered=float(share),
        common_to_rejections=common,
        adapted={str(k): v for k, v in adapted.items()},
        features=rows,
    )


def _example(data: Any, source: str) -> Example:
    obj = _mapping(data, source)
    request = _mapping(obj.get("request"), f"{source}.request")
    response = obj.get("response")
    if response is not None:
        response = dict(_mapping(response, f"{source}.response"))
    return Example(
        request=dict(request),
        curl=_str(obj, "curl", source),
        response=response,
        phase=_str(obj, "phase", source, default=""),
        mode=_str(obj, "mode", source, default=""),
        path=_str(obj, "path", source, default="$"),
        message=_str(obj, "message", source, default=""),
        actual=obj.get("actual"),
        count=_int(obj, "count", source) if "count" in obj else 1,
    )
