"""Scrubbers: every secret shape and place is replaced, everything else (ids, prose, framing, bytes) is untouched."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from chatcontract.cassettes import (
    PLACEHOLDER,
    SECRET_PATTERNS,
    SECRET_REQUEST_HEADERS,
    SECRET_RESPONSE_HEADERS,
    AuditFinding,
    audit,
    scrub_json,
    scrub_request,
    scrub_response,
    scrub_text,
)

from .helpers import (
    ALL_SECRETS,
    ANTHROPIC_KEY,
    BASIC_CREDENTIALS,
    CLEAN_SSE,
    COMPLETION,
    JWT,
    MISTRAL_KEY,
    OPENAI_KEY,
    ORG_ID,
    PASSWORD,
    SESSION_COOKIE,
    SHAPED,
    chunk,
    sse,
)

vcr = pytest.importorskip("vcr")
from vcr.request import Request  # type: ignore[import-untyped]  # noqa: E402
from vcr.serialize import serialize  # type: ignore[import-untyped]  # noqa: E402
from vcr.serializers import yamlserializer  # type: ignore[import-untyped]  # noqa: E402

URL = "https://api.mistral.ai/v1/chat/completions"
QUERY_ENCODED = "%3CCHATCONTRACT-REDACTED%3E"


def audit_objects(tmp_path: Path, *pairs: tuple[Any, dict[str, Any]]) -> list[AuditFinding]:
    """Write request/response pairs with VCR's own serializer and audit the file."""
    path = tmp_path / "check.yaml"
    path.write_text(serialize({"requests": [p[0] for p in pairs], "responses": [p[1] for p in pairs]},
                              yamlserializer))
    return audit(path)


def response(body: bytes | str, content_type: str = "application/json", *,
             headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    length = len(body.encode() if isinstance(body, str) else body)
    return {"status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": [content_type], "Content-Length": [str(length)], **(headers or {})},
            "body": {"string": body}}


# -- scrub_text ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(SHAPED))
def test_scrub_text_replaces_each_secret_shape(kind: str) -> None:
    secret = SHAPED[kind]
    for text in (secret, f"key={secret}", f"Your key is {secret}.", f'"{secret}"', f"({secret})\n"):
        out = scrub_text(text)
        assert secret not in out and PLACEHOLDER in out, text
        assert out == text.replace(secret, PLACEHOLDER)


@pytest.mark.parametrize(("text", "expected"), [
    (f"Authorization: Bearer {OPENAI_KEY}", f"Authorization: Bearer {PLACEHOLDER}"),
    ("curl -H 'authorization: bearer abcDEF1234567890xyz'", f"curl -H 'authorization: bearer {PLACEHOLDER}'"),
    (f"Basic {BASIC_CREDENTIALS}", f"Basic {PLACEHOLDER}"),
    ("https://alice:s3cr3t-pw@proxy.example.com:8080/v1", f"https://alice:{PLACEHOLDER}@proxy.example.com:8080/v1"),
    (f"grant_type=x&client_secret={PASSWORD}&password=pw1&scope=a", f"grant_type=x&client_secret={PLACEHOLDER}"
                                                                      f"&password={PLACEHOLDER}&scope=a"),
    (f'{{"apiKey": "{PASSWORD}", "model": "m"}}', f'{{"apiKey": "{PLACEHOLDER}", "model": "m"}}'),
    (f'{{\\"password\\": \\"{PASSWORD}\\"}}', f'{{\\"password\\": \\"{PLACEHOLDER}\\"}}'),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", PLACEHOLDER),
    (f"a {ANTHROPIC_KEY} b {JWT} c", f"a {PLACEHOLDER} b {PLACEHOLDER} c"),
])
def test_scrub_text_keeps_context_around_secrets(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize("text", [
    "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "e5cc70bb28c444948073e77776eb30ef",  # Mistral's bare 32-hex response ids
    "123e4567-e89b-12d3-a456-426614174000 123e4567e89b12d3a456426614174000",
    "call_Ab12Cd34Ef56Gh78Ij90Kl12 toolu_01A09q90qw90lq917835lq9 fp_3fd2b1c5e8 req_7f3a9c2e4b1d4f6a8e0c2b4d6f8a0c2e",
    "The bearer of bad news, bearer bonds and Bearer instruments.",
    "Use sk-learn, ask-me-anything-about-python-2024, risk-free, task-1234567890abcdefghij1234 and desk-lamps.",
    "Basic setup; basic test; a basic understanding.",
    "The token= parameter and api_key= with nothing after; the key=value syntax.",
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "data:image/png;base64,Q7fLm2Xc9Rt4Vb8Nw1Kd6Hs3Jp0Gy5Ta/Q7fLm2Xc9Rt4Vb8Nw1Kd6Hs3Jp0Gy5Ta+Q7fLm2Xc9Rt4Vb8Nw1Kd6Hs3Jp0Gy5Ta",
    "https://example.com/path?api-version=2024-06-01&model=mistral-small",
    PLACEHOLDER, f"Bearer {PLACEHOLDER}", f'"api_key": "{PLACEHOLDER}"', f"token={PLACEHOLDER}",
    "",
])
def test_scrub_text_leaves_ordinary_text_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_every_pattern_is_documented() -> None:
    for pattern in SECRET_PATTERNS:
        assert pattern.name and pattern.description and pattern.regex.pattern


# -- scrub_json ----------------------------------------------------------------------------------------------------
def test_scrub_json_secret_keys_and_shaped_values_at_any_depth() -> None:
    doc = {
        "model": "m",
        "api_key": PASSWORD, "apiKey": PASSWORD, "X-Api-Key": PASSWORD, "client_secret": PASSWORD,
        "db_password": PASSWORD, "openaiApiKey": PASSWORD, "secret": 123456,
        "messages": [{"role": "user", "content": f"my key is {OPENAI_KEY}"}],
        "deep": [[{"a": [{"b": {"c": [MISTRAL_KEY, {"private_key": "-----BEGIN..."}]}}]}]],
        "password": None, "is_secret": True, "api_key_hint": "",
        "tools": [{"type": "function", "function": {"name": "login", "parameters": {
            "type": "object", "properties": {"password": {"type": "string"}}, "required": ["password"]}}}],
        "logprobs": {"content": [{"token": "Paris", "logprob": -0.1}]},
        f"header {OPENAI_KEY}": 1,
    }
    out = scrub_json(doc)
    assert list(out) == [k if k != f"header {OPENAI_KEY}" else f"header {PLACEHOLDER}" for k in doc]
    for key in ("api_key", "apiKey", "X-Api-Key", "client_secret", "db_password", "openaiApiKey", "secret"):
        assert out[key] == PLACEHOLDER
    assert out["messages"][0]["content"] == f"my key is {PLACEHOLDER}"
    assert out["deep"][0][0]["a"][0]["b"]["c"] == [PLACEHOLDER, {"private_key": PLACEHOLDER}]
    assert out["password"] is None and out["is_secret"] is True and out["api_key_hint"] == ""
    assert out["tools"] == doc["tools"]  # a schema with a "password" property is not a secret
    assert out["logprobs"] == doc["logprobs"]  # logprobs "token" is not a credential
    assert doc["api_key"] == PASSWORD  # the input is not modified


def test_scrub_json_has_no_recursion_limit() -> None:
    depth = 20_000  # far beyond the interpreter recursion limit
    doc: Any = {"api_key": PASSWORD, "text": OPENAI_KEY}
    for i in range(depth):
        doc = [doc] if i % 2 else {"level": doc}
    out = scrub_json(doc)
    for i in reversed(range(depth)):
        out = out[0] if i % 2 else out["level"]
    assert out == {"api_key": PLACEHOLDER, "text": PLACEHOLDER}


# -- scrub_request -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SECRET_REQUEST_HEADERS))
def test_scrub_request_replaces_each_secret_header(name: str, tmp_path: Path) -> None:
    request = Request("POST", URL, b"{}", {name: f"Bearer {OPENAI_KEY}", "Accept": "application/json"})
    assert scrub_request(request) is request
    assert request.headers[name] == PLACEHOLDER and request.headers["accept"] == "application/json"
    assert audit_objects(tmp_path, (request, response(b"{}"))) == []


def test_scrub_request_query_keeps_other_parameters_byte_for_byte() -> None:
    uri = (f"https://generativelanguage.googleapis.com/v1beta/openai/chat?api-version=2024-06-01&key={GOOGLE_Q}"
           f"&q=hello%20world+again&API_KEY={PASSWORD}&token=&sig=abc%2Fdef&empty#frag")
    request = scrub_request(Request("GET", uri, None, {}))
    assert request.uri == ("https://generativelanguage.googleapis.com/v1beta/openai/chat?api-version=2024-06-01"
                           f"&key={QUERY_ENCODED}&q=hello%20world+again&API_KEY={QUERY_ENCODED}&token="
                           f"&sig={QUERY_ENCODED}&empty#frag")
    assert dict(request.query)["key"] == PLACEHOLDER


GOOGLE_Q = SHAPED["google-api-key"]


def test_scrub_request_secret_shapes_anywhere_in_the_uri() -> None:
    request = scrub_request(Request("GET", f"https://h/v1/keys/{OPENAI_KEY}?user=bob&note={JWT}", None, {}))
    assert request.uri == f"https://h/v1/keys/{QUERY_ENCODED}?user=bob&note={QUERY_ENCODED}"


def test_scrub_request_json_body_keeps_order_and_style(tmp_path: Path) -> None:
    body = {"model": "mistral-small-latest", "api_key": PASSWORD,
            "messages": [{"role": "user", "content": f"use {ANTHROPIC_KEY} please"}],
            "metadata": {"nested": [{"deeper": {"apiKey": PASSWORD, "note": f"Bearer {JWT}"}}]}, "é": "ü"}
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()  # httpx's style
    request = Request("POST", URL, raw, {"Content-Type": "application/json", "Content-Length": str(len(raw))})
    scrub_request(request)
    expected = {**body, "api_key": PLACEHOLDER, "messages": [{"role": "user", "content": f"use {PLACEHOLDER} please"}],
                "metadata": {"nested": [{"deeper": {"apiKey": PLACEHOLDER, "note": f"Bearer {PLACEHOLDER}"}}]}}
    assert request.body == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()
    assert request.headers["content-length"] == str(len(request.body))
    assert audit_objects(tmp_path, (request, response(b"{}"))) == []
    spaced = json.dumps(body).encode()  # requests' style: ", " and ": ", ASCII escapes
    request = scrub_request(Request("POST", URL, spaced, {"Content-Type": "application/json"}))
    assert request.body == json.dumps(expected).encode()


def test_scrub_request_leaves_clean_bodies_byte_identical() -> None:
    raw = b'{ "model" : "m",\n  "messages": [{"role": "user", "content": "caf\\u00e9 sk-learn"}], "n": 1.0 }'
    request = scrub_request(Request("POST", URL, raw, {"Content-Type": "application/json"}))
    assert request.body == raw


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (f"grant_type=client_credentials&client_secret={PASSWORD}&api_key={PASSWORD}".encode(),
     "application/x-www-form-urlencoded",
     f"grant_type=client_credentials&client_secret={PLACEHOLDER}&api_key={PLACEHOLDER}".encode()),
    (f"Tell me about {OPENAI_KEY}".encode(), "text/plain", f"Tell me about {PLACEHOLDER}".encode()),
    (f'{{"api_key": "{PASSWORD}", "messages": ['.encode(), "application/json",  # invalid JSON: scanned as text
     f'{{"api_key": "{PLACEHOLDER}", "messages": ['.encode()),
    (b"\x89PNG\r\n\x1a\n\x00\x00" + OPENAI_KEY.encode(), "image/png", None),  # binary: left alone
    (b"\xff\xfe" + OPENAI_KEY.encode(), "application/octet-stream", None),
    (b"", "application/json", None),
    (None, "application/json", None),
])
def test_scrub_request_body_kinds(body: bytes | None, content_type: str, expected: bytes | None) -> None:
    request = scrub_request(Request("POST", URL, body, {"Content-Type": content_type}))
    assert request.body == (body if expected is None else expected)


def test_scrub_request_deep_json_body_falls_back_to_text() -> None:
    raw = ("[" * 50_000 + f'{{"api_key": "{PASSWORD}", "x": "{OPENAI_KEY}"}}' + "]" * 50_000).encode()
    request = scrub_request(Request("POST", URL, raw, {"Content-Type": "application/json"}))
    assert PASSWORD.encode() not in request.body and OPENAI_KEY.encode() not in request.body
    assert len(request.body) == len(raw) - len(PASSWORD) - len(OPENAI_KEY) + 2 * len(PLACEHOLDER)


def test_scrub_request_file_and_iterator_bodies() -> None:
    raw = json.dumps({"api_key": PASSWORD}).encode()
    request = scrub_request(Request("POST", URL, io.BytesIO(raw), {"Content-Type": "application/json"}))
    assert request.body.read() == json.dumps({"api_key": PLACEHOLDER}).encode()
    request = scrub_request(Request("POST", URL, iter([raw[:5], raw[5:]]), {"Content-Type": "application/json"}))
    assert b"".join(request.body) == json.dumps({"api_key": PLACEHOLDER}).encode()


def test_scrub_request_odd_input() -> None:
    assert scrub_request(None) is None
    request = Request("POST", URL, {"api_key": PASSWORD, "x": 1}, {"Authorization": b"Bearer xyz12345678901"})
    scrub_request(request)
    assert request.body == {"api_key": PLACEHOLDER, "x": 1} and request.headers["Authorization"] == PLACEHOLDER
    already = Request("POST", URL, b"{}", {"Authorization": PLACEHOLDER, "x-api-key": ""})
    assert scrub_request(already).headers == {"Authorization": PLACEHOLDER, "x-api-key": ""}


# -- scrub_response ------------------------------------------------------------------------------------------------
def test_scrub_response_removes_credential_headers(tmp_path: Path) -> None:
    secret_headers = {name: [f"{name}-{SESSION_COOKIE}"] for name in sorted(SECRET_RESPONSE_HEADERS)}
    raw = response(b"{}", headers={"Set-Cookie": [f"__cf_bm={SESSION_COOKIE}; path=/", "_cfuvid=x"],
                             "OpenAI-Organization": [ORG_ID], "x-debug": [f"auth=Bearer {JWT}"],
                             "x-request-id": ["req_7f3a9c2e4b1d4f6a8e0c2b4d6f8a0c2e"], **secret_headers})
    out = scrub_response(raw)
    assert out["headers"] == {"Content-Type": ["application/json"], "Content-Length": ["2"],
                              "x-debug": [f"auth=Bearer {PLACEHOLDER}"],
                              "x-request-id": ["req_7f3a9c2e4b1d4f6a8e0c2b4d6f8a0c2e"]}
    assert "Set-Cookie" in raw["headers"]  # the input is not modified
    assert audit_objects(tmp_path, (Request("GET", URL, None, {}), out)) == []


def test_scrub_response_json_body() -> None:
    body = {"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}.", "type": "invalid_request_error",
                      "details": [{"token": JWT, "client_secret": PASSWORD}]}, "id": COMPLETION["id"]}
    raw = json.dumps(body, separators=(",", ":")).encode()
    out = scrub_response(response(raw))
    new = out["body"]["string"]
    assert json.loads(new) == {"error": {"message": f"Incorrect API key provided: {PLACEHOLDER}.",
                                         "type": "invalid_request_error",
                                         "details": [{"token": PLACEHOLDER, "client_secret": PLACEHOLDER}]},
                               "id": COMPLETION["id"]}
    assert new == json.dumps(json.loads(new), separators=(",", ":")).encode()  # same compact style
    assert out["headers"]["Content-Length"] == [str(len(new))]


def test_scrub_response_leaves_a_clean_completion_byte_identical() -> None:
    raw = json.dumps(COMPLETION, indent=1).encode()
    assert scrub_response(response(raw))["body"]["string"] == raw


def test_scrub_response_sse_secret_split_across_events(tmp_path: Path) -> None:
    head, tail = OPENAI_KEY[:6], OPENAI_KEY[6:]
    pieces = ["Your key: ", head, tail[:10], tail[10:] + " — keep it safe", " é\u2028ok"]
    raw = b": comment\r\n\r\n" + sse(*(chunk(p) for p in pieces), "data: [DONE]", eol="\r\n")
    out = scrub_response(response(raw, "text/event-stream"))
    new = out["body"]["string"]
    expected = raw.replace(f'"{head}"'.encode(), f'"{PLACEHOLDER}"'.encode()).replace(
        f'"{tail[:10]}"'.encode(), b'""').replace(tail[10:].encode(), b"")
    assert new == expected
    assert new.count(b"\r\n\r\n") == raw.count(b"\r\n\r\n") and new.endswith(b"data: [DONE]\r\n\r\n")
    joined = "".join(json.loads(line[6:])["choices"][0]["delta"]["content"]
                     for line in new.decode().split("\r\n") if line.startswith("data: {"))
    assert joined == f"Your key: {PLACEHOLDER} — keep it safe é\u2028ok"
    findings = audit_objects(tmp_path, (Request("POST", URL, b"{}", {}), response(raw, "text/event-stream")))
    assert [(f.location, f.kind, f.excerpt) for f in findings] == [
        ("response.body (SSE events 2-4)", "openai-key", "sk-p…")]
    assert audit_objects(tmp_path, (Request("POST", URL, b"{}", {}), out)) == []


def test_scrub_response_sse_secrets_inside_single_events_and_tool_arguments() -> None:
    args = ['{"user": "bob", "pass', 'word": "', PASSWORD[:5], PASSWORD[5:] + '"}']
    tool_chunks = [{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}}]}
                   for a in args]
    raw = sse(chunk(f"a {JWT} b"), *tool_chunks, "event: error\ndata: " + json.dumps({"api_key": PASSWORD}))
    new = scrub_response(response(raw, "text/event-stream"))["body"]["string"]
    for secret in (JWT, PASSWORD, PASSWORD[:5], PASSWORD[5:]):
        assert secret.encode() not in new
    assert new.count(b"\n\n") == raw.count(b"\n\n") and b"event: error\n" in new


def test_scrub_response_clean_sse_is_byte_identical() -> None:
    for raw in (CLEAN_SSE, CLEAN_SSE.replace(b"\r\n", b"\r"), b"\xef\xbb\xbf" + CLEAN_SSE, CLEAN_SSE + b"\xff\xfe"):
        out = scrub_response(response(raw, "text/event-stream"))
        assert out["body"]["string"] == raw


def test_scrub_response_plain_text_and_str_bodies() -> None:
    out = scrub_response(response(f"upstream said: Bearer {OPENAI_KEY}", "text/plain"))
    assert out["body"]["string"] == f"upstream said: Bearer {PLACEHOLDER}"  # a str body stays str


def test_scrub_response_decodes_compressed_bodies_first() -> None:
    body = json.dumps({"error": {"message": f"bad key {MISTRAL_KEY}"}}).encode()
    for coding, data in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body)),
                         ("deflate", zlib.compress(body)[2:-4])):  # raw deflate, as some servers send
        raw = response(data, headers={"Content-Encoding": [coding]})
        out = scrub_response(raw)
        assert "Content-Encoding" not in out["headers"]
        new = out["body"]["string"]
        assert json.loads(new) == {"error": {"message": f"bad key {PLACEHOLDER}"}}
        assert out["headers"]["Content-Length"] == [str(len(new))]


def test_scrub_response_drops_a_stale_content_encoding() -> None:
    out = scrub_response(response(b'{"ok": true}', headers={"Content-Encoding": ["gzip"]}))
    assert out["headers"] == {"Content-Type": ["application/json"], "Content-Length": ["12"]}
    assert out["body"]["string"] == b'{"ok": true}'


def test_scrub_response_leaves_undecodable_compressed_bodies() -> None:
    data = b"\x1b\x8f\x00\xf8\x9d\x01" + bytes(range(200, 256))  # not decodable without brotli
    out = scrub_response(response(data, headers={"Content-Encoding": ["zstd"]}))
    assert out["body"]["string"] == data and out["headers"]["Content-Encoding"] == ["zstd"]


def test_scrub_response_odd_input() -> None:
    assert scrub_response({}) == {"headers": {}}
    assert scrub_response({"body": {"string": None}, "headers": None})["body"] == {"string": None}
    assert scrub_response(None) is None  # type: ignore[arg-type]


# -- every place at once -------------------------------------------------------------------------------------------
def test_secrets_planted_everywhere_are_all_found_then_all_scrubbed(tmp_path: Path) -> None:
    headers = {name: f"{name}:{PASSWORD}" for name in SECRET_REQUEST_HEADERS}
    body = {"model": "m", "api_key": PASSWORD,
            "messages": [{"role": "user", "content": " ".join(SHAPED.values())}],
            "deep": [{"x": [{"password": PASSWORD, "y": [f"Basic {BASIC_CREDENTIALS}"]}]}]}
    request = Request("POST", f"{URL}?api_key={PASSWORD}&user=bob", json.dumps(body).encode(),
                      {**headers, "Content-Type": "application/json"})
    json_response = response(json.dumps({"echo": list(SHAPED.values()), "secret": PASSWORD}).encode(),
                             headers={"Set-Cookie": [f"s={SESSION_COOKIE}"], "openai-organization": [ORG_ID]})
    split = [OPENAI_KEY[:9], OPENAI_KEY[9:], " and ", MISTRAL_KEY[:16], MISTRAL_KEY[16:]]
    sse_response = response(sse(*(chunk(p) for p in split), "data: [DONE]"), "text/event-stream")
    text_response = response(f"plain {ANTHROPIC_KEY} text", "text/plain")
    pairs = [(request, json_response), (request, sse_response), (request, text_response)]
    dirty = audit_objects(tmp_path, *pairs)
    locations = {(f.interaction, f.location) for f in dirty}
    assert {(0, f"request.headers.{h}") for h in SECRET_REQUEST_HEADERS} <= locations
    assert {(0, "request.uri?api_key"), (0, "request.body$.api_key"), (0, "request.body$.deep[0].x[0].password"),
            (0, "request.body$.deep[0].x[0].y[0]"), (0, "request.body$.messages[0].content"),
            (0, "response.headers.set-cookie"), (0, "response.headers.openai-organization"),
            (0, "response.body$.secret"), (1, "response.body (SSE events 0-1)"),
            (1, "response.body (SSE events 3-4)"), (2, "response.body")} <= locations
    assert all(secret not in f.excerpt for f in dirty for secret in ALL_SECRETS)
    scrubbed = [(scrub_request(vcr.request.Request._from_dict(req._to_dict())), scrub_response(resp))
                for req, resp in pairs]
    assert audit_objects(tmp_path, *scrubbed) == []
    text = (tmp_path / "check.yaml").read_text()
    for secret in (*ALL_SECRETS, *split[:2], *split[3:]):
        assert secret not in text
    assert PLACEHOLDER in text
