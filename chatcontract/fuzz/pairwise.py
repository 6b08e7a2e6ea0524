"""The ``pairwise`` phase of ``chatcontract fuzz``: every request feature in valid requests, every pair of them once.

schemathesis' random generation gives each request feature what its draws happen to give it: the CI's seeded runs
against llama-cpp-python and LiteLLM put no ``logprobs``, no ``tool_choice`` ``"auto"`` or ``"none"``, no
``parallel_tool_calls`` and no sampling field in any valid request, so nothing checked the answers to them. This phase
sends a deterministic set of valid requests built from templates: the request features of
:func:`~chatcontract.fuzz.coverage.known_features` are *factors* (``stream``, ``n``, the tool mode,
``parallel_tool_calls``, ``response_format``, ``stop``, ``logprobs``, each sampling field, each dialect-only field),
each with its *levels* (``absent`` first), and :func:`all_pairs` picks rows so that every pair of levels of every two
factors is in some row (a pairwise, or all-pairs, covering set: about 20 requests where the product of the levels is
some 37,000 (Mistral) or 55,000 (OpenAI)).

Every row is a valid request of the dialect (the request judge finds no problem; ``tests/fuzz/test_pairwise.py`` holds
that for every seed), within the token cap. The rows go out through the same
:class:`~chatcontract.fuzz.session.FuzzRun` as every other request (budget, deadlines, judge, engine, coverage table),
*after* schemathesis' phases: what schemathesis draws for a seed, and so the findings of a seeded run, stay as they
were, and the phase fills in what the draws left out. (Up to a point: hypothesis also draws now and then from the
constants it finds in the source of the project's own modules, so any new literal in chatcontract may shift a seeded
draw.) The phase gets at most :data:`SHARE` of ``--max-requests`` and
of ``--max-time`` (the earlier phases stop there when the budget would run out before it), and adaptive generation
holds in it too: a field found refused (a culprit of :class:`~chatcontract.fuzz.coverage.Coverage`, found by an
earlier phase or by this one) is left out of the rows still to be sent, which then keep their other features.
``--phases`` without ``pairwise`` turns the phase off.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from .coverage import feature_field, features
from .probes import _WEATHER_TOOL, OwnCase, own_headers, send_cases
from .session import FuzzRun

__all__ = [
    "FACTOR_NAMES",
    "SHARE",
    "Factor",
    "Level",
    "Row",
    "all_pairs",
    "factors",
    "pairwise_rows",
    "request_body",
    "reserve",
    "send_pairwise",
]

PHASE = "pairwise"
#: The share of the request budget (and of the time budget) the phase takes at most; the earlier phases keep the rest.
SHARE = 0.2
#: Candidate rows drawn per chosen row (the one covering most uncovered pairs is kept): fewer rows, same coverage.
_CANDIDATES = 24

Pair = tuple[tuple[int, int], tuple[int, int]]


# ---------------------------------------------------------------------------------------------------------------
# The covering set (all-pairs), over level indices
# ---------------------------------------------------------------------------------------------------------------


def _pair(a: tuple[int, int], b: tuple[int, int]) -> Pair:
    return (a, b) if a < b else (b, a)


def all_pairs(sizes: Sequence[int], *, seed: int = 0, forbidden: Collection[Pair] = ()) -> list[tuple[int, ...]]:
    """Rows of level indices (``row[f]`` in ``range(sizes[f])``) that hold every allowed pair of levels.

    Every pair of levels of every two factors appears in some row, except the ``forbidden`` pairs
    ``((factor, level), (factor, level))``, which appear in none. Greedy (AETG-style): each new row starts from an
    uncovered pair and adds the other factors' levels one by one, each the level that covers the most
    still-uncovered pairs; of :data:`_CANDIDATES` such rows the one covering the most is kept. The same ``seed``
    gives the same rows.

    Raises:
        ValueError: a factor without levels, a forbidden pair outside the factors, or a factor all of whose levels
            are in some forbidden pair (each factor needs a level that combines with everything: then every allowed
            pair completes into a row).
    """
    n = len(sizes)
    if any(size < 1 for size in sizes):
        raise ValueError(f"every factor needs at least one level, got sizes {list(sizes)}")
    banned = {_pair(a, b) for a, b in forbidden}
    for a, b in banned:
        for f, level in (a, b):
            if not (0 <= f < n and 0 <= level < sizes[f]):
                raise ValueError(f"forbidden pair {(a, b)} names a level that does not exist")
        if a[0] == b[0]:
            raise ValueError(f"forbidden pair {(a, b)} names two levels of one factor")
    involved = {x for pair in banned for x in pair}
    for f in range(n):
        if all((f, level) in involved for level in range(sizes[f])):
            raise ValueError(f"factor {f}: every level is in a forbidden pair; one must combine with everything")

    rng = random.Random(seed)
    uncovered = {
        _pair((i, a), (j, b))
        for i, j in combinations(range(n), 2)
        for a in range(sizes[i])
        for b in range(sizes[j])
        if _pair((i, a), (j, b)) not in banned
    }
    rows: list[tuple[int, ...]] = []
    if n == 1:  # no pairs: one row per level
        return [(level,) for level in range(sizes[0])]
    while uncovered:
        pool = sorted(uncovered)
        best: tuple[int, ...] | None = None
        best_gain = -1
        for _ in range(_CANDIDATES):
            (fa, la), (fb, lb) = rng.choice(pool)
            assigned = {fa: la, fb: lb}
            order = [f for f in range(n) if f not in assigned]
            rng.shuffle(order)
            for f in order:
                levels = list(range(sizes[f]))
                rng.shuffle(levels)
                choice, gain = -1, -1
                for level in levels:
                    if any(_pair((f, level), (g, v)) in banned for g, v in assigned.items()):
                        continue
                    covered = sum(_pair((f, level), (g, v)) in uncovered for g, v in assigned.items())
                    if covered > gain:
                        choice, gain = level, covered
                assigned[f] = choice  # a free level always fits: choice is never -1
            candidate = tuple(assigned[f] for f in range(n))
            row_gain = sum(
                _pair((f, candidate[f]), (g, candidate[g])) in uncovered for f, g in combinations(range(n), 2)
            )
            if row_gain > best_gain:
                best, best_gain = candidate, row_gain
        assert best is not None
        rows.append(best)
        uncovered.difference_update(_pair((f, best[f]), (g, best[g])) for f, g in combinations(range(n), 2))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# The factors of each dialect: request features and the fields that give them
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level of a factor: its name and the request fields it sets (none for ``absent``)."""

    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Factor:
    """A request feature with its levels; ``levels[0]`` is ``absent`` (the field is not sent)."""

    name: str
    levels: tuple[Level, ...]

    def level(self, name: str) -> int:
        return next(i for i, level in enumerate(self.levels) if level.name == name)


_ABSENT = Level("absent")
_JSON_SCHEMA = {
    "name": "answer",
    "schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "celsius": {"type": "number"}},
        "required": ["city", "celsius"],
        "additionalProperties": False,
    },
    "strict": True,
}


def _on_off(name: str, value: Any, level: str | None = None) -> Factor:
    return Factor(name, (_ABSENT, Level(level or json.dumps(value), {name: value})))


def factors(dialect: str, cap: int) -> tuple[Factor, ...]:
    """The factors of ``dialect``: together their levels give every feature of ``known_features(dialect)``."""
    tools = [_WEATHER_TOOL]
    named = {"type": "function", "function": {"name": "get_weather"}}
    modes = ("auto", "any", "none") if dialect == "mistral" else ("auto", "required", "none")
    tool_levels = (
        _ABSENT,
        Level("tools", {"tools": tools}),
        *(Level(mode, {"tools": tools, "tool_choice": mode}) for mode in modes),
        Level("named", {"tools": tools, "tool_choice": named}),
    )
    stream = [_ABSENT, Level("true", {"stream": True})]
    if dialect == "openai":
        stream.append(Level("true+usage", {"stream": True, "stream_options": {"include_usage": True}}))
    common = [
        Factor("stream", tuple(stream)),
        Factor("n", (_ABSENT, Level("2", {"n": 2}))),
        Factor("tools", tool_levels),
        _on_off("parallel_tool_calls", False),
        Factor(
            "response_format",
            (
                _ABSENT,
                Level("json_object", {"response_format": {"type": "json_object"}}),
                Level("json_schema", {"response_format": {"type": "json_schema", "json_schema": _JSON_SCHEMA}}),
            ),
        ),
        _on_off("stop", ["\n\n"]),
        _on_off("temperature", 0.7),
        _on_off("top_p", 0.9),
        _on_off("presence_penalty", 0.5),
        _on_off("frequency_penalty", 0.5),
    ]
    if dialect == "mistral":
        return (
            *common,
            _on_off("random_seed", 42),
            _on_off("safe_prompt", True),
            _on_off("prompt_mode", "reasoning"),
        )
    return (
        *common,
        Factor("logprobs", (_ABSENT, Level("true", {"logprobs": True, "top_logprobs": 2}))),
        _on_off("seed", 42),
        _on_off("max_completion_tokens", cap, "cap"),
    )


#: The factors' names per dialect (the token cap does not change them).
FACTOR_NAMES = {dialect: tuple(f.name for f in factors(dialect, 1)) for dialect in ("mistral", "openai")}


def _forbidden(facs: Sequence[Factor]) -> list[Pair]:
    """``parallel_tool_calls`` only with tools (OpenAI: "only allowed when 'tools' are specified")."""
    index = {f.name: i for i, f in enumerate(facs)}
    tools, parallel = index["tools"], index["parallel_tool_calls"]
    return [((tools, 0), (parallel, level)) for level in range(1, len(facs[parallel].levels))]


@dataclass(frozen=True)
class Row:
    """One row of the covering set: a level per factor (by name)."""

    levels: tuple[tuple[str, str], ...]

    def label(self) -> str:
        """The row's non-absent levels, as in the curl lines' phase (``stream=true n=2 tools=named``)."""
        return " ".join(f"{name}={level}" for name, level in self.levels if level != "absent") or "plain"


@functools.lru_cache(maxsize=8)
def pairwise_rows(dialect: str, seed: int) -> tuple[Row, ...]:
    """The covering set of ``dialect`` for ``seed``: every pair of levels of every two factors in some row."""
    facs = factors(dialect, 1)
    picked = all_pairs([len(f.levels) for f in facs], seed=seed, forbidden=_forbidden(facs))
    return tuple(Row(tuple((f.name, f.levels[i].name) for f, i in zip(facs, row, strict=True))) for row in picked)


def _ask(row: Row) -> list[dict[str, Any]]:
    levels = dict(row.levels)
    text = "What is the weather in Paris?"
    if levels.get("response_format", "absent") != "absent":
        text += " Answer in JSON."  # OpenAI's json_object wants the word JSON in the messages
    return [{"role": "user", "content": text}]


def request_body(
    row: Row, dialect: str, model: str, cap: int, refused: Collection[str] = ()
) -> tuple[dict[str, Any], list[str]]:
    """The request of ``row``, and the fields left out of it because the provider refuses a feature of theirs.

    ``refused`` holds features (``n>1``, ``stream+usage``, ``random_seed``): a level that gives one loses the fields
    behind it and becomes the level of its factor that sets the fields left (``stream+usage`` becomes ``stream``,
    a refused ``tool_choice`` leaves the tools), or else ``absent``; ``parallel_tool_calls`` goes with the tools.
    """
    facs = {f.name: f for f in factors(dialect, cap)}
    chosen = {name: facs[name].levels[facs[name].level(level)] for name, level in row.levels}
    left_out: list[str] = []
    for name, level in list(chosen.items()):
        given = features(dict(level.fields))
        hit = {feature_field(feature) for feature in refused if feature in given} & set(level.fields)
        if not hit:
            continue
        rest = {k: v for k, v in level.fields.items() if k not in hit}
        chosen[name] = next((lv for lv in facs[name].levels if dict(lv.fields) == rest), _ABSENT)
        left_out += [key for key in level.fields if key not in chosen[name].fields]
    if chosen["tools"] is _ABSENT and chosen["parallel_tool_calls"] is not _ABSENT:
        left_out.append("parallel_tool_calls")
        chosen["parallel_tool_calls"] = _ABSENT
    body: dict[str, Any] = {"model": model, "messages": _ask(row)}
    for level in chosen.values():
        body.update(json.loads(json.dumps(level.fields)))  # a copy: the phase's bodies are its own
    if "max_completion_tokens" not in body:
        body["max_tokens"] = cap
    return body, sorted(set(left_out))


# ---------------------------------------------------------------------------------------------------------------
# Sending the rows through the run
# ---------------------------------------------------------------------------------------------------------------


def reserve(run: FuzzRun) -> int:
    """The requests the phase keeps back from the earlier ones: its rows, at most :data:`SHARE` of the budget."""
    rows = len(pairwise_rows(run.options.dialect, run.options.seed or 0))
    return min(rows, int(run.options.max_requests * SHARE))


def send_pairwise(run: FuzzRun) -> tuple[int, int]:
    """Send the covering set of the run's dialect through ``run``; returns (rows planned, rows sent).

    Each row's body is built when its turn comes, without the fields found refused by then. Stops early, without an
    error, when the run's request or time budget is spent.
    """
    opts = run.options
    headers = own_headers(run)
    rows = pairwise_rows(opts.dialect, opts.seed or 0)

    def cases() -> Iterator[OwnCase]:
        for row in rows:
            with run.lock:
                refused = {c.feature for c in run.coverage.culprits} if opts.adaptive else set()
            body, dropped = request_body(row, opts.dialect, opts.model, opts.max_tokens_cap, refused)
            yield OwnCase(PHASE, body, headers, left_out=dropped, pairwise=row)

    return len(rows), send_cases(run, cases())
