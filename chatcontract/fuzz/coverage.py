"""What a fuzz run measured: request features, how many valid requests used each, and how many were answered.

A fuzz run is a measurement, and one in which the provider rejected most valid requests measured little. This module
names the *features* of a request body (``stream``, ``stream+usage``, ``n>1``, each ``tool_choice`` mode,
``parallel_tool_calls``, each ``response_format``, ``stop``, ``logprobs``, every sampling and dialect-only field and a
zero sampling value such as ``top_p=0``), counts per feature how many valid requests used it and how many were
answered 2xx and checked, finds the feature the rejected valid requests have in common (the *culprit*: a provider
that refuses ``random_seed``, or ``top_p: 0``), and decides which optional fields to leave out of the next generated
request (:meth:`Coverage.fields_to_drop`): a culprit in most of them, and any optional field already in more than
half of the valid requests sent, so that the rest of the budget still tests the answers.

Thread safety: the caller (:class:`~chatcontract.fuzz.session.FuzzRun`) holds its lock around every method.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Coverage", "Culprit", "feature_field", "features", "known_features"]

#: Fields that are not features: every request has them.
_BASE_FIELDS = frozenset({"model", "messages"})
#: The features every coverage table lists (also when no request used them), in display order.
_LISTED: dict[str, tuple[str, ...]] = {
    "mistral": (
        "stream",
        "n>1",
        "tools",
        "tool_choice=auto",
        "tool_choice=any",
        "tool_choice=named",
        "tool_choice=none",
        "parallel_tool_calls",
        "response_format=json_object",
        "response_format=json_schema",
        "stop",
        "temperature",
        "top_p",
        "random_seed",
        "presence_penalty",
        "frequency_penalty",
        "safe_prompt",
        "prompt_mode",
    ),
    "openai": (
        "stream",
        "stream+usage",
        "n>1",
        "tools",
        "tool_choice=auto",
        "tool_choice=required",
        "tool_choice=named",
        "tool_choice=none",
        "parallel_tool_calls",
        "response_format=json_object",
        "response_format=json_schema",
        "stop",
        "logprobs",
        "temperature",
        "top_p",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "max_completion_tokens",
    ),
}
#: Numeric sampling fields whose zero is a value some servers refuse (vLLM: ``top_p`` must be in (0, 1]).
_ZERO_VALUES = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
#: Optional fields that go with another one: leaving the first out leaves these out too.
_DEPENDENTS = {"tools": ("tool_choice", "parallel_tool_calls"), "stream": ("stream_options",)}
#: Never left out of a request: the token cap (the budget) and what every request has.
_KEPT = frozenset({"model", "messages", "max_tokens", "max_completion_tokens"})
#: Culprit: at least this many rejected valid requests, most of them carrying the feature, few accepted with it.
_MIN_REJECTED = 3
_COMMON_SHARE = 0.8
_ACCEPTED_SHARE = 0.2
#: A culprit stays in this share of the later valid requests (to keep measuring it); other fields in at most half.
KEEP_CULPRIT = 0.1
MAX_FIELD_SHARE = 0.5
#: Valid requests sent before the share cap applies (the examples phase sends every feature once, first).
_CAP_AFTER = 10


def features(body: Any) -> frozenset[str]:
    """The features of a request body (empty for anything but a JSON object)."""
    if not isinstance(body, Mapping):
        return frozenset()
    out: set[str] = set()
    for key, value in body.items():
        if key in _BASE_FIELDS or value is None:
            continue
        if key == "stream":
            if value is True:
                out.add("stream")
        elif key == "stream_options":
            out.add("stream_options")
            if isinstance(value, Mapping) and value.get("include_usage") is True and body.get("stream") is True:
                out.add("stream+usage")
        elif key == "n":
            out.add("n")
            if isinstance(value, int) and not isinstance(value, bool) and value > 1:
                out.add("n>1")
        elif key == "tool_choice":
            if isinstance(value, str):
                out.add(f"tool_choice={value}")
            elif isinstance(value, Mapping):
                out.add("tool_choice=named")
        elif key == "response_format":
            kind = value.get("type") if isinstance(value, Mapping) else None
            out.add(f"response_format={kind}" if isinstance(kind, str) else "response_format")
        elif key == "logprobs":
            if value is True:
                out.add("logprobs")
        else:
            out.add(str(key))
            if key in _ZERO_VALUES and value == 0 and not isinstance(value, bool):
                out.add(f"{key}=0")
    return frozenset(out)


def _names(text: str, field: str) -> bool:
    """Whether ``text`` names ``field`` as a word (``top_p``, not ``top_probability``)."""
    return bool(text) and re.search(rf"(?<![A-Za-z0-9_]){re.escape(field)}(?![A-Za-z0-9_])", text) is not None


def feature_field(feature: str) -> str:
    """The top-level field a feature is about (``top_p=0``: ``top_p``; ``stream+usage``: ``stream_options``)."""
    if feature == "stream+usage":
        return "stream_options"
    if feature == "n>1":
        return "n"
    return feature.split("=", 1)[0]


def known_features(dialect: str) -> tuple[str, ...]:
    """The features a coverage table of ``dialect`` always lists."""
    return _LISTED.get(dialect, ())


@dataclass(frozen=True, slots=True)
class Culprit:
    """The feature the rejected valid requests have in common."""

    feature: str
    #: Rejected valid requests with the feature, all rejected valid requests, accepted valid requests with it.
    rejected_with: int
    rejected: int
    accepted_with: int

    def describe(self) -> str:
        return (
            f"the rejected valid requests have `{self.feature}` in common ({self.rejected_with} of {self.rejected} "
            f"carry it; {self.accepted_with} with it were answered 2xx)"
        )


class Coverage:
    """Per-feature counts of a run's valid requests; the culprit of their rejections; what to leave out next."""

    def __init__(self, dialect: str, *, seed: int | None = None, adaptive: bool = True) -> None:
        self.dialect = dialect
        self.adaptive = adaptive
        self._salt = str(seed)
        self.valid = 0
        self.answered = 0
        self.rejected = 0
        self.used: Counter[str] = Counter()
        self.answered_with: Counter[str] = Counter()
        self.rejected_with: Counter[str] = Counter()
        #: Top-level optional fields of the valid requests sent (for the share cap).
        self.fields_sent: Counter[str] = Counter()
        #: Culprits found so far, in the order found (a provider may refuse more than one field).
        self.culprits: list[Culprit] = []
        #: The provider's words for the last rejection.
        self.last_reason = ""
        #: Fields left out of generated requests, by field.
        self.dropped: Counter[str] = Counter()

    # -- counting ------------------------------------------------------------------------------------------------

    def observe(self, body: Any, *, answered: bool, rejected: bool, reason: str = "") -> Culprit | None:
        """Count one valid request; ``answered``: 2xx and checked; ``rejected``: a 4xx about the body.

        ``reason`` is the provider's own words for a rejection: a field it names settles a tie between features
        that every rejected request so far carried. Returns the culprit that explains this rejection, if any (found
        now or before).
        """
        found = features(body)
        self.valid += 1
        self.used.update(found)
        if isinstance(body, Mapping):
            self.fields_sent.update(k for k in body if k not in _KEPT)
        if answered:
            self.answered += 1
            self.answered_with.update(found)
        if not rejected:
            return None
        self.rejected += 1
        self.rejected_with.update(found)
        self.last_reason = reason
        for known in self.culprits:
            if known.feature in found:
                return known
        culprit = self._culprit(found, reason)
        if culprit is not None:
            self.culprits.append(culprit)
        return culprit

    def _culprit(self, candidates: frozenset[str], reason: str = "") -> Culprit | None:
        """The feature of this rejected request that most rejected requests carry and few accepted ones do.

        None while that is ambiguous: two fields fit the counts equally well and the provider's words name
        neither (a wrong culprit would be left out of the requests that could tell them apart).
        """
        if self.rejected < _MIN_REJECTED:
            return None
        fits: list[Culprit] = []
        for feature in sorted(candidates):
            rejected_with = self.rejected_with[feature]
            accepted_with = self.answered_with[feature]
            if rejected_with < max(_MIN_REJECTED, _COMMON_SHARE * self.rejected):
                continue
            if accepted_with > _ACCEPTED_SHARE * (accepted_with + rejected_with):
                continue
            fits.append(Culprit(feature, rejected_with, self.rejected, accepted_with))
        if not fits:
            return None
        # the most rejections explained, then the fewest accepted with it
        top = max((c.rejected_with, -c.accepted_with) for c in fits)
        fits = [c for c in fits if (c.rejected_with, -c.accepted_with) == top]
        named = [c for c in fits if _names(reason, feature_field(c.feature))]
        # a field every request has (the token cap) ties with everything: another one is the better explanation
        optional = [c for c in fits if feature_field(c.feature) not in _KEPT]
        fits = named or optional or fits
        if len({feature_field(c.feature) for c in fits}) > 1:
            return None
        # one field: its most specific feature (top_p=0 rather than top_p)
        return max(fits, key=lambda c: ("=" in c.feature, c.feature))

    def common_feature(self) -> Culprit | None:
        """The feature the rejected valid requests have in common, judged on the whole run (for the verdict)."""
        if self.culprits:
            return self.culprits[0]
        return self._culprit(frozenset(self.rejected_with), self.last_reason)

    # -- adaptive generation -------------------------------------------------------------------------------------

    def fields_to_drop(self, body: Mapping[str, Any]) -> list[str]:
        """The optional fields to leave out of this valid request before it is sent.

        A culprit's field stays in about :data:`KEEP_CULPRIT` of the requests (to keep measuring it); any other
        optional field already in more than :data:`MAX_FIELD_SHARE` of the valid requests sent is left out of this
        one. The decision is a function of the body (a hash), so that a replayed request (hypothesis replays
        and shrinks failing ones) is sent the same way while the counts stand.
        """
        if not self.adaptive:
            return []
        culprit_fields = {feature_field(c.feature) for c in self.culprits}
        drop: list[str] = []
        for key in body:
            if key in _KEPT:
                continue
            if key in culprit_fields:
                if self._draw(body, key) >= KEEP_CULPRIT:
                    drop.append(key)
            elif self.valid >= _CAP_AFTER and self.fields_sent[key] > MAX_FIELD_SHARE * self.valid:
                drop.append(key)
        for key in list(drop):
            drop.extend(d for d in _DEPENDENTS.get(key, ()) if d in body and d not in drop)
        return drop

    def _draw(self, body: Mapping[str, Any], key: str) -> float:
        text = json.dumps(body, sort_keys=True, default=str) + "\x00" + key + "\x00" + self._salt
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") / 2**32

    # -- the table -----------------------------------------------------------------------------------------------

    def table(self) -> list[dict[str, Any]]:
        """One row per feature: the listed ones first (also unused), then any other seen, by name."""
        names = list(known_features(self.dialect))
        names += sorted(f for f in self.used if f not in names and f != "stream_options" and f != "n")
        return [{"feature": name, "valid": self.used[name], "answered": self.answered_with[name]} for name in names]

    def to_dict(self, min_answered: float) -> dict[str, Any]:
        culprit = self.common_feature()
        return {
            "valid": self.valid,
            "answered": self.answered,
            "min_answered": min_answered,
            "common_to_rejections": None if culprit is None else culprit.feature,
            "adapted": dict(sorted(self.dropped.items())),
            "features": self.table(),
        }
