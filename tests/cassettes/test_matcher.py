"""json_body_matcher: JSON bodies match whatever the key order, after scrubbing; differences are explained."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from chatcontract.cassettes import DEFAULT_MATCH_ON, MATCHER_NAME, json_body_matcher, scrub_request

from .helpers import OPENAI_KEY, PASSWORD

vcr = pytest.importorskip("vcr")
from vcr.matchers import requests_match  # type: ignore[import-untyped]  # noqa: E402
from vcr.request import Request  # type: ignore[import-untyped]  # noqa: E402

URL = "https://api.openai.com/v1/chat/completions"


def req(body: Any, content_type: str = "application/json") -> Any:
    raw = json.dumps(body).encode() if not isinstance(body, (bytes, str, type(None))) else body
    return Request("POST", URL, raw, {"Content-Type": content_type})


def matches(live: Any, recorded: Any) -> bool:
    """What VCR makes of the matcher's outcome (None is a match, AssertionError is not)."""
    return bool(requests_match(live, recorded, [json_body_matcher]))


def chat(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4.1", "messages": [{"role": "user", "content": prompt}], **extra}


def test_key_order_and_whitespace_are_ignored() -> None:
    a = json.dumps({"model": "m", "temperature": 0.2, "messages": [{"role": "user", "content": "hi"}]}).encode()
    b = b'{"messages":[{"content":"hi","role":"user"}],\n "temperature": 0.2, "model":"m"}'
    assert matches(req(a), req(b)) and matches(req(b), req(a))


def test_a_different_prompt_does_not_match_and_says_where() -> None:
    with pytest.raises(AssertionError) as info:
        json_body_matcher(req(chat("What is the capital of Italy?")), req(chat("What is the capital of France?")))
    message = str(info.value)
    assert "$.messages[0].content" in message
    assert '"What is the capital of France?"' in message and '"What is the capital of Italy?"' in message
    assert message.index("France") < message.index("Italy")  # recorded first, then this request


@pytest.mark.parametrize(("live", "recorded", "fragment"), [
    (chat("x", stream=True), chat("x"), "$.stream: only in this request (true)"),
    (chat("x"), chat("x", seed=1), "$.seed: only in recorded (1)"),
    (chat("x", stream=1), chat("x", stream=True), "$.stream: recorded true, this request 1"),
    (chat("x", n=2), chat("x", n="2"), '$.n: recorded "2", this request 2'),
    ({"messages": [1, 2, 3]}, {"messages": [1, 2]}, "$.messages: 2 items recorded, 3 in this request"),
    ({"a b": {"c": None}}, {"a b": {"c": False}}, '$["a b"].c: recorded false, this request null'),
])
def test_json_differences_are_typed_and_located(live: Any, recorded: Any, fragment: str) -> None:
    with pytest.raises(AssertionError, match="JSON bodies differ") as info:
        json_body_matcher(req(live), req(recorded))
    assert fragment in str(info.value)


def test_numbers_compare_by_value() -> None:
    assert matches(req(b'{"temperature": 1}'), req(b'{"temperature": 1.0}'))


def test_a_scrubbed_recorded_body_matches_the_live_body_with_the_key() -> None:
    live = req(chat(f"my key is {OPENAI_KEY}", api_key=PASSWORD))
    recorded = scrub_request(req(chat(f"my key is {OPENAI_KEY}", api_key=PASSWORD)))
    assert OPENAI_KEY.encode() not in recorded.body and PASSWORD.encode() not in recorded.body
    assert matches(live, recorded)
    other_key = scrub_request(req(chat(f"my key is {OPENAI_KEY[:-3]}xyz", api_key="another-password")))
    assert matches(live, other_key)  # both sides redact to the same placeholder
    with pytest.raises(AssertionError) as info:
        json_body_matcher(req(chat(f"other {OPENAI_KEY}")), recorded)
    assert OPENAI_KEY not in str(info.value) and PASSWORD not in str(info.value)  # messages show scrubbed bodies


def test_non_json_bodies_are_compared_as_bytes() -> None:
    assert matches(req(b"a=1&b=2", "application/x-www-form-urlencoded"), req(b"a=1&b=2"))
    assert matches(req(None), req(b""))
    with pytest.raises(AssertionError, match="bodies differ: 7 bytes in this request, 7 recorded"):
        json_body_matcher(req(b"a=1&b=2"), req(b"b=2&a=1"))
    with pytest.raises(AssertionError, match="bodies differ"):
        json_body_matcher(req(b'{"a": 1}'), req(b""))
    with pytest.raises(AssertionError):
        json_body_matcher(req(b"\x00\xff"), req(b"\x00\xfe"))


def test_file_and_iterator_bodies_are_read_without_being_consumed() -> None:
    raw = json.dumps(chat("hi")).encode()
    file_request = Request("POST", URL, io.BytesIO(raw), {"Content-Type": "application/json"})
    iter_request = Request("POST", URL, iter([raw[:10], raw[10:]]), {"Content-Type": "application/json"})
    assert matches(file_request, iter_request)
    assert matches(file_request, req(raw))
    assert file_request.body.read() == raw


def test_deep_json_bodies_do_not_crash() -> None:
    deep = ("[" * 100_000 + "1" + "]" * 100_000).encode()
    assert matches(req(deep), req(deep))
    with pytest.raises(AssertionError):
        json_body_matcher(req(deep), req(deep.replace(b"1", b"2")))


def test_default_match_on_names_the_matcher() -> None:
    assert DEFAULT_MATCH_ON[-1] == MATCHER_NAME == "chatcontract_json_body"
    assert DEFAULT_MATCH_ON[:-1] == ("method", "scheme", "host", "port", "path", "query")
