"""Request secrets echoed back: whatever their shape, redacted wherever the response repeats them.

Covers :class:`chatcontract.cassettes.KnownSecrets` (which forms of a sent credential are searched for), the
request and response scrubbers with a shared set, the names that now count as credentials (a bare ``token``
outside logprobs, ``*-token`` response headers, ``key=``/``sig=`` in a URL inside text), and a real VCR instance
whose user filters hide a header before chatcontract's hook runs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcontract.cassettes import (
    PLACEHOLDER,
    KnownSecrets,
    audit,
    configure_vcr,
    load_cassette,
    scrub_json,
    scrub_request,
    scrub_response,
    scrub_text,
)

from .helpers import ChatServer

vcr = pytest.importorskip("vcr")
from vcr.request import Request  # type: ignore[import-untyped]  # noqa: E402

SECRET = "Tn7-" + "xq" + "W2pLm9Rs4"  # no token shape: only recognisable because it was sent


def vcr_request(headers: dict[str, str], body: bytes = b"", uri: str = "http://127.0.0.1/v1/chat/completions") -> Any:
    return Request("POST", uri, body, headers)


def response(body: bytes | str, ctype: str, **headers: str) -> dict[str, Any]:
    return {"status": {"code": 200, "message": "OK"}, "body": {"string": body},
            "headers": {"Content-Type": [ctype], **{k: [v] for k, v in headers.items()}}}


def test_known_forms_of_a_sent_credential() -> None:
    basic = base64.b64encode(b"alice:" + SECRET.encode()).decode()
    known = KnownSecrets([f"Bearer {SECRET}x", f"Basic {basic}", f"session={SECRET}c; lang=en", "short"])
    for value in (SECRET + "x", basic, "alice:" + SECRET, SECRET, SECRET + "c", quote(SECRET + "c")):
        assert value in known, value
    # the scheme, a cookie's short values and short secrets are not searched for
    assert all(value not in known for value in ("Bearer", "en", "lang=en", "short", f"Bearer {SECRET}x"))
    assert [text[start:end] for text in [f"a {SECRET} b"] for start, end, _ in known.spans(text)] == [SECRET]


def test_a_header_secret_repeated_in_the_request_body_and_echoed_everywhere() -> None:
    known = KnownSecrets()
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"my key is {SECRET}"}]}).encode()
    request = scrub_request(vcr_request({"api-key": SECRET, "Content-Type": "application/json"}, body), known)
    assert request.headers["api-key"] == PLACEHOLDER
    assert json.loads(request.body)["messages"][0]["content"] == f"my key is {PLACEHOLDER}"
    echoed = scrub_response(response(json.dumps({"echo": {"headers": [["api-key", SECRET]]}}), "application/json",
                                     **{"x-echo": SECRET, "x-echo-url": f"http://h/?q={quote(SECRET)}"}), known)
    assert SECRET not in json.dumps(echoed) and quote(SECRET) not in json.dumps(echoed)
    assert echoed["headers"]["x-echo"] == [PLACEHOLDER]
    # without the request's secrets, the response scrubber cannot know that value
    assert SECRET in json.dumps(scrub_response(response(SECRET, "text/plain")))


def test_a_bare_token_field_is_a_secret_except_in_logprobs() -> None:
    doc = {"auth": {"token": SECRET}, "logprobs": {"content": [
        {"token": "Paris", "logprob": -0.01, "bytes": [80, 97], "top_logprobs": [
            {"token": "Lyon", "logprob": -4.2, "bytes": None}]}]}}
    out = scrub_json(doc)
    assert out["auth"]["token"] == PLACEHOLDER
    assert out["logprobs"] == doc["logprobs"]


def test_credential_query_parameters_in_a_url_inside_text() -> None:
    text = f"see https://h.example/p?lang=en&key={SECRET}&sig=ab%2Fcd%2B12&page=2 or key=value prose"
    assert scrub_text(text) == (f"see https://h.example/p?lang=en&key={PLACEHOLDER}&sig={PLACEHOLDER}&page=2 "
                                "or key=value prose")


@pytest.mark.parametrize("name", ["X-Debug-Token", "X-Upstream-Api-Key", "X-Client-Secret", "X-Csrf-Token",
                                  "X-Admin-Password", "Set-Cookie"])
def test_credential_response_headers_are_removed(name: str) -> None:
    out = scrub_response(response("{}", "application/json", **{name: SECRET, "x-ratelimit-remaining-tokens": "99",
                                                              "x-request-id": "req_1"}))
    assert {k.lower() for k in out["headers"]} == {"content-type", "x-ratelimit-remaining-tokens", "x-request-id"}


SECRETS = st.text(alphabet=st.characters(categories=["L", "N"], include_characters="-_./+=:", codec="ascii"),
                  min_size=8, max_size=40)
HEADERS = st.sampled_from(["api-key", "x-goog-api-key", "openai-organization", "Proxy-Authorization", "Cookie",
                           "Authorization", "x-portkey-api-key", "X-Tenant-Secret"])


@settings(max_examples=150, deadline=None)
@given(secret=SECRETS, header=HEADERS, cut=st.integers(min_value=0, max_value=40),
       around=st.tuples(st.text(max_size=12), st.text(max_size=12)))
def test_a_sent_secret_never_survives_its_echo(secret: str, header: str, cut: int, around: tuple[str, str]) -> None:
    sent = {"Proxy-Authorization": "Basic " + base64.b64encode(f"u:{secret}".encode()).decode(),
            "Authorization": f"Bearer {secret}", "Cookie": f"sid={secret}"}.get(header, secret)
    known = KnownSecrets()
    scrub_request(vcr_request({header: sent}), known)
    before, after = around
    cut = min(cut, len(secret))
    chunks = [{"choices": [{"index": 0, "delta": {"content": part}}]} for part in
              (before + secret[:cut], secret[cut:] + after)]
    bodies = [
        (json.dumps({"echo": before + secret + after, "headers": [[header, sent]]}), "application/json"),
        ("".join(f"data: {json.dumps(c)}\r\n\r\n" for c in chunks) + "data: [DONE]\r\n\r\n", "text/event-stream"),
        (f"{before}{secret}{after} and {quote(secret, safe='')}", "text/plain"),
    ]
    for body, ctype in bodies:
        out = scrub_response(response(body, ctype, **{"x-echo": f"{before}{secret}{after}"}), known)
        text = out["body"]["string"]
        assert secret not in text and secret not in out["headers"]["x-echo"][0], (body, out)
        if ctype == "application/json":
            assert secret not in json.dumps(json.loads(text), ensure_ascii=False)
        if ctype == "text/event-stream":  # framing untouched: the same events, the same line endings
            assert text.count("\r\n\r\n") == 3 and text.endswith("data: [DONE]\r\n\r\n")
            joined = "".join(json.loads(line[6:])["choices"][0]["delta"]["content"]
                             for line in text.split("\r\n\r\n")[:2])
            assert secret not in joined


def test_values_the_users_filters_hide_are_learned_before_the_filters_run(server: ChatServer, tmp_path: Path) -> None:
    # Given the user's own filter_headers on a header no built-in rule calls a credential, and a prompt repeating
    # its value that the server echoes back
    my_vcr = vcr.VCR(filter_headers=["x-tenant"], filter_query_parameters=["account"])
    configure_vcr(my_vcr)
    path = tmp_path / "filtered.yaml"
    with my_vcr.use_cassette(str(path), record_mode="once"):
        with httpx.Client(headers={"x-tenant": SECRET}) as client:
            answer = client.post(server.url + "/v1/chat/completions", params={"account": SECRET + "q"},
                                 json={"model": "m", "messages": [{"role": "user", "content": f"{SECRET}/{SECRET}q"}]})
    assert f"Echo: {SECRET}/{SECRET}q" in answer.text
    # Then neither value is in the cassette: the filters hid the header and the parameter, chatcontract the echoes
    text = path.read_text()
    assert SECRET not in text and audit(path) == []
    (interaction,) = load_cassette(path).interactions
    assert interaction.request.json["messages"][0]["content"] == f"{PLACEHOLDER}/{PLACEHOLDER}"
    assert f"Echo: {PLACEHOLDER}/{PLACEHOLDER}" in interaction.response.body.decode()


def test_sse_lines_are_parsed_again_only_when_a_key_may_name_a_credential() -> None:
    from chatcontract.cassettes.secrets import _KEY_HINT, SECRET_BODY_KEYS, is_secret_key

    names = [*SECRET_BODY_KEYS, "token", "db_password", "openaiApiKey", "Pass_Word", "X-Session-Token"]
    assert all(_KEY_HINT.search(f'data: {{"{name}" : "v"}}') for name in names if is_secret_key(name) or
               name == "token")
    line = 'data: {"choices":[{"index":0,"delta":{"content":"the token is"}}]}'
    assert _KEY_HINT.search(line) is None
    event = f'data: {{"choices":[],"auth":{{"token":"{SECRET}"}}}}\n\n'
    out = scrub_response(response(event, "text/event-stream"))
    assert out["body"]["string"] == f'data: {{"choices":[],"auth":{{"token":"{PLACEHOLDER}"}}}}\n\n'


def test_a_short_token_in_an_sse_event_is_replaced_only_where_it_is_the_value() -> None:
    event = 'data: {"delta":{"content":"abc abc"},"session":{"token":"abc"}}\r\n\r\n'
    out = scrub_response(response(event, "text/event-stream"))
    assert out["body"]["string"] == (
        f'data: {{"delta":{{"content":"abc abc"}},"session":{{"token":"{PLACEHOLDER}"}}}}\r\n\r\n')


def test_a_value_with_a_space_is_searched_whole_unless_it_starts_with_an_auth_scheme() -> None:
    known = KnownSecrets([f"tenant {SECRET}", f"Token {SECRET}z"])
    assert f"tenant {SECRET}" in known and SECRET + "z" in known and f"Token {SECRET}z" not in known
