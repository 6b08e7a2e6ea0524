"""Per-rule fixtures, laid out like ruff's: ``tests/rules/CC201/bad_total_above_sum.json``.

Each fixture file is one JSON object::

    {
      "description": "what the case is and where it was seen",
      "dialect": "mistral" | "openai",
      "status": null | int,                  # HTTP status; >= 400 checks the body as an error body
      "request": null | {...},               # the request body, enables the request-aware rules (CC4xx)
      "body": <the JSON document>,           # or, instead of "body":
      "body_text": "<raw text>",             #   the raw body as text (parse cases: BOM, NaN, duplicates, ...)
      "body_base64": "<raw bytes>",          #   the raw body as base64 (invalid UTF-8)
      "content_type": "text/html",           # optional: send it as an httpx.Response with this Content-Type
      "extensions": ["reasoning"],           # optional: contract extensions (check(..., extensions=...))
      "expect": [["CC201", "/usage/total_tokens"], ...]
    }

``expect`` is the exact set of ``(code, JSON pointer)`` pairs of the error and warning violations. For ``bad_``
files it contains at least the folder's rule; for ``good_`` files it lists what is allowed besides (normally
nothing) and never the folder's rule.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatcontract import check
from chatcontract.rules import RULES, Target
from chatcontract.violations import Severity

HERE = Path(__file__).parent
FIXTURES = sorted(HERE.glob("CC[0-9][0-9][0-9]/*.json"))
KEYS = {
    "description",
    "dialect",
    "status",
    "request",
    "body",
    "body_text",
    "body_base64",
    "content_type",
    "extensions",
    "expect",
}
# Stream rules are tested elsewhere; CC900 (a rule crashed) is never triggered on purpose.
NOT_DOCUMENT_RULES = {"CC301", "CC900"}
# Exchange rules of the fuzz runner judge a request, a status or a missing answer, not a document (tests/fuzz).
NOT_DOCUMENT_RULES |= {"CC601", "CC602", "CC603", "CC604", "CC605", "CC606"}
# Rules whose triggering document exists in one dialect only (OpenAI's response has no constrained index).
SINGLE_DIALECT_OK = {"CC105"}


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def payload_of(fx: dict[str, Any]) -> Any:
    """The payload as a client would receive it: raw bytes (or an httpx.Response when a content type is given)."""
    if "body_text" in fx:
        raw: bytes | str = fx["body_text"]
    elif "body_base64" in fx:
        raw = base64.b64decode(fx["body_base64"])
    else:
        raw = json.dumps(fx["body"], ensure_ascii=False).encode("utf-8")
    if "content_type" in fx:
        content = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
        return httpx.Response(fx["status"] or 200, headers={"content-type": fx["content_type"]}, content=content)
    return raw


def run(fx: dict[str, Any], payload: Any) -> set[tuple[str, str]]:
    report = check(
        payload,
        dialect=fx["dialect"],
        status=fx["status"],
        request=fx["request"],
        stream=False,
        select=["ALL"],  # the defaults, whatever a pyproject.toml of the day configures
        extensions=fx.get("extensions", ()),
    )
    assert report.kind == ("error" if (fx["status"] or 0) >= 400 else "response")
    return {(v.code, v.pointer) for v in report.violations if v.severity in (Severity.ERROR, Severity.WARNING)}


@pytest.mark.parametrize("path", FIXTURES, ids=_id)
def test_fixture(path: Path) -> None:
    fx = load(path)
    expected = {tuple(pair) for pair in fx["expect"]}
    got = run(fx, payload_of(fx))
    assert got == expected, (
        f"{_id(path)}: {fx['description']}\n  unexpected: {sorted(got - expected)}\n  missing: {sorted(expected - got)}"
    )


@pytest.mark.parametrize(
    "path",
    [p for p in FIXTURES if isinstance(load(p).get("body"), (dict, list)) and "content_type" not in load(p)],
    ids=_id,
)
def test_parsed_document_gives_the_same_findings(path: Path) -> None:
    """A dict or list (an already parsed body) and the same body as bytes are judged alike."""
    fx = load(path)
    assert run(fx, json.loads(json.dumps(fx["body"]))) == run(fx, payload_of(fx))


@pytest.mark.parametrize("path", FIXTURES, ids=_id)
def test_fixture_is_well_formed(path: Path) -> None:
    fx = load(path)
    code, name = path.parent.name, path.stem
    assert code in RULES, f"folder {code} is not a registered rule"
    assert set(fx) <= KEYS, f"unknown keys {set(fx) - KEYS}"
    assert fx["dialect"] in ("mistral", "openai")
    assert sum(k in fx for k in ("body", "body_text", "body_base64")) == 1
    assert fx["description"]
    assert all(len(pair) == 2 and pair[0] in RULES for pair in fx["expect"])
    assert len({tuple(p) for p in fx["expect"]}) == len(fx["expect"]), "duplicate expectations"
    codes = {pair[0] for pair in fx["expect"]}
    if name.startswith("bad_"):
        assert code in codes, f"a bad_ fixture must expect its own rule {code}"
    else:
        assert name.startswith("good_"), "fixture names start with bad_ or good_"
        assert code not in codes, f"a good_ fixture must not expect its own rule {code}"
    rule = RULES[code]
    if not rule.applies_to(fx["dialect"]) and name.startswith("bad_"):
        pytest.fail(f"{code} does not run under {fx['dialect']}")


def _document_rules() -> list[str]:
    return sorted(c for c, r in RULES.items() if r.target is not Target.STREAM and c not in NOT_DOCUMENT_RULES)


@pytest.mark.parametrize("code", _document_rules())
def test_every_document_rule_has_good_and_bad_fixtures(code: str) -> None:
    names = [p.stem for p in FIXTURES if p.parent.name == code]
    assert any(n.startswith("bad_") for n in names), f"no bad_ fixture for {code} ({RULES[code].name})"
    assert any(n.startswith("good_") for n in names), f"no good_ fixture for {code} ({RULES[code].name})"


@pytest.mark.parametrize("code", sorted({p.parent.name for p in FIXTURES}))
def test_both_dialects_covered_where_the_rule_applies_to_both(code: str) -> None:
    rule = RULES[code]
    dialects = {load(p)["dialect"] for p in FIXTURES if p.parent.name == code}
    assert dialects <= rule.dialects | {"mistral", "openai"}
    if rule.dialects == {"mistral", "openai"} and code[:3] in ("CC1", "CC2", "CC5"):
        assert len(dialects) == 2 or code in SINGLE_DIALECT_OK, f"{code}: fixtures cover only {dialects}"
