"""The options of a fuzz run (:class:`FuzzOptions`), validated once.

The CLI, the pytest fixtures, the demo and the benchmark each build one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from .._exceptions import UsageError

#: schemathesis phases a fuzz run may use (``stateful`` does not apply: there is one operation).
SCHEMATHESIS_PHASES = ("examples", "coverage", "fuzzing")
#: Every phase, in the order they run: chatcontract's own ``probes`` (hand-picked semantic requests), schemathesis'
#: ones, then chatcontract's ``pairwise`` (valid requests covering every pair of request features; after
#: schemathesis, so that what it draws for a seed stays as it was).
PHASES = ("probes", *SCHEMATHESIS_PHASES, "pairwise")
TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")
MAX_PATHS = 20
MAX_BODY_SHOWN = 2000
CHECK_NAME = "chatcontract_conformance"
#: A stream with more events than this is cut (CC604): with ``max_tokens`` capped, a conforming stream has about
#: ``cap x n`` content events plus a few; schemathesis' own default (20) would cut ordinary streams.
MAX_STREAM_EVENTS = 10_000
#: A request answered 429 with ``Retry-After`` is sent again at most this many times, after waiting at most
#: ``MAX_RATE_LIMIT_WAIT`` seconds and never past the run's time budget (a longer wait ends the run, rate limited).
MAX_RATE_LIMIT_RETRIES = 3
MAX_RATE_LIMIT_WAIT = 60.0
#: Statuses that say nothing about the request body: authentication, rate limits.
NOT_ABOUT_THE_BODY = frozenset({401, 403, 429})


@dataclass(kw_only=True)
class FuzzOptions:
    """Everything a fuzz run needs; the CLI, the pytest fixture and the benchmark build one of these."""

    base_url: str
    model: str
    dialect: str = "mistral"
    api_key: str | None = None
    #: Name of the environment variable the key came from: the curl lines say ``$NAME`` instead of the key.
    api_key_env: str | None = None
    provider: str | None = None
    max_examples: int = 25
    max_requests: int = 500
    max_tokens_cap: int = 16
    max_time: float | None = None
    seed: int | None = None
    workers: int = 1
    rate_limit: str | None = None
    timeout: float = 30.0
    phases: Sequence[str] = PHASES
    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    #: Opt-in contract extensions (``["reasoning"]``: the reasoning fields of OpenAI-compatible servers).
    extensions: Sequence[str] | None = None
    #: False: only schemathesis' ``not_a_server_error`` runs (the benchmark's baseline).
    contract_checks: bool = True
    #: Let hypothesis shrink failing requests (costs requests; the request budget still holds).
    shrink: bool = True
    #: List the models and send one plain request before fuzzing; stop (exit 2) when it is refused.
    preflight: bool = True
    #: Leave out of later valid requests a field the provider refuses, and any field in more than half of them.
    adaptive: bool = True
    #: The share of valid requests that must be answered 2xx and checked for the run to count.
    min_answered: float = 0.5
    #: Distinct examples kept per rule (the commonest kind first).
    examples_per_rule: int = 5

    def validate(self) -> None:
        if self.dialect not in ("mistral", "openai"):
            raise UsageError(f"unknown dialect {self.dialect!r}; valid dialects: mistral, openai")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"base URL must be an http(s) URL such as http://127.0.0.1:8000/v1, got {self.base_url!r}")
        if not self.model:
            raise UsageError("a model name is required (--model)")
        for name in ("max_examples", "max_requests", "max_tokens_cap", "workers", "examples_per_rule"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name.replace('_', '-')} must be an integer >= 1, got {value!r}")
        share = self.min_answered
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise UsageError(f"min-answered must be a share in 0..1 (0.5 = 50 %), got {share!r}")
        if self.timeout <= 0:
            raise UsageError(f"timeout must be positive, got {self.timeout!r}")
        if self.max_time is not None and self.max_time <= 0:
            raise UsageError(f"max-time must be positive, got {self.max_time!r}")
        unknown = [p for p in self.phases if p not in PHASES]
        if unknown or not self.phases:
            raise UsageError(f"phases must be some of {', '.join(PHASES)}, got {', '.join(self.phases) or 'none'}")
        if self.rate_limit is not None:
            _validate_rate_limit(self.rate_limit)
        if self.preflight and self.max_requests < 2:
            raise UsageError("max-requests must be at least 2 with the preflight (its two requests count), or skip it")
        from ..contracts import check_extensions

        try:
            check_extensions(self.extensions)
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from None

    @property
    def root_url(self) -> str:
        """The URL the document's ``/v1/chat/completions`` path is appended to (a trailing ``/v1`` is dropped)."""
        url = self.base_url.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url

    @property
    def provider_name(self) -> str:
        return self.provider or urlsplit(self.base_url).netloc


def _validate_rate_limit(value: str) -> None:
    count, _, unit = value.partition("/")
    if not count.isdigit() or int(count) < 1 or unit not in ("s", "m", "h", "d"):
        raise UsageError(f"rate limit must look like 10/s, 100/m, 1000/h or 5000/d, got {value!r}")
