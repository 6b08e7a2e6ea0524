"""load_cassette reads VCR cassettes safely and strictly; audit finds every planted secret, masked."""

from __future__ import annotations

import base64
import gzip
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from chatcontract import CassetteError
from chatcontract.cassettes import (
    PLACEHOLDER,
    AuditFinding,
    audit,
    iter_cassette_files,
    load_cassette,
    scrub_request,
    scrub_response,
)

from .helpers import (
    ALL_SECRETS,
    ANTHROPIC_KEY,
    GOOGLE_KEY,
    JWT,
    MISTRAL_KEY,
    OPENAI_KEY,
    PASSWORD,
    SESSION_COOKIE,
    chunk,
    sse,
)

yaml = pytest.importorskip("yaml")
vcr = pytest.importorskip("vcr")
from vcr.serialize import deserialize, serialize  # type: ignore[import-untyped]  # noqa: E402
from vcr.serializers import jsonserializer, yamlserializer  # type: ignore[import-untyped]  # noqa: E402

CHAT_URL = "https://api.mistral.ai/v1/chat/completions"
SSE_BODY = sse(chunk("key: " + MISTRAL_KEY[:10]), chunk(MISTRAL_KEY[10:]), {"api_key": PASSWORD}, "data: [DONE]",
               eol="\r\n").decode()
BINARY_REQUEST = json.dumps({"model": "m", "password": PASSWORD}).encode()


def _q(value: str) -> str:
    return json.dumps(value)  # a YAML double-quoted scalar (JSON strings are valid YAML)


DIRTY = textwrap.dedent(f"""\
    interactions:
    - request:
        body: {_q(json.dumps({"model": "m", "api_key": PASSWORD,
                              "messages": [{"role": "user", "content": f"my key {OPENAI_KEY}"}]}))}
        headers:
          Authorization:
          - Bearer {OPENAI_KEY}
          Content-Type:
          - application/json
        method: POST
        uri: {CHAT_URL}?key={GOOGLE_KEY}&api-version=1
      response:
        body:
          string: {_q(json.dumps({"id": "cmpl-e5cc70bb28c444948073e77776eb30ef", "error": JWT}))}
        headers:
          Set-Cookie:
          - s={SESSION_COOKIE}; path=/
          Content-Type:
          - application/json
        status:
          code: 200
          message: OK
    - request:
        body: null
        headers:
          x-api-key:
          - {ANTHROPIC_KEY}
        method: POST
        uri: {CHAT_URL}
      response:
        body:
          string: {_q(SSE_BODY)}
        headers:
          Content-Type:
          - text/event-stream; charset=utf-8
        status:
          code: 200
          message: OK
    - request:
        body: !!binary |
          {base64.b64encode(BINARY_REQUEST).decode()}
        headers: {{}}
        method: GET
        uri: https://api.mistral.ai/v1/models
      response:
        body:
          string: !!binary |
            {base64.b64encode(gzip.compress(f"plain {ANTHROPIC_KEY} text".encode())).decode()}
        headers:
          Content-Encoding:
          - gzip
          Content-Type:
          - text/plain
        status:
          code: 401
          message: Unauthorized
    metadata:
      recorded_by: ci
      client_secret: {PASSWORD}
    version: 1
    """)

EXPECTED = {
    (0, "request.headers.authorization", "secret-header"),
    (0, "request.uri?key", "secret-query-param"),
    (0, "request.body$.api_key", "secret-key"),
    (0, "request.body$.messages[0].content", "openai-key"),
    (0, "response.headers.set-cookie", "secret-header"),
    (0, "response.body$.error", "jwt"),
    (1, "request.headers.x-api-key", "secret-header"),
    (1, "response.body (SSE events 0-1)", "bare-key-32"),
    (1, "response.body (SSE event 2)", "secret-key"),
    (2, "request.body$.password", "secret-key"),
    (2, "response.body", "anthropic-key"),
    (None, "metadata$.client_secret", "secret-key"),
}


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    path = tmp_path / "dirty.yaml"
    path.write_text(DIRTY)
    return path


# -- load_cassette -------------------------------------------------------------------------------------------------
def test_load_a_vcr_yaml_cassette(dirty: Path) -> None:
    cassette = load_cassette(dirty)
    assert cassette.path == dirty and cassette.version == 1 and cassette.metadata["recorded_by"] == "ci"
    first, second, third = cassette.interactions
    assert [i.index for i in cassette.interactions] == [0, 1, 2]
    assert [i.is_chat for i in cassette.interactions] == [True, True, False]
    assert first.request.method == "POST" and first.request.json["api_key"] == PASSWORD
    assert first.request.headers["Authorization"] == [f"Bearer {OPENAI_KEY}"]
    assert first.request.header("content-type") == "application/json"
    assert first.response.status == 200 and first.response.content_type == "application/json"
    assert json.loads(first.response.body)["error"] == JWT
    assert second.request.body is None and second.request.json is None
    assert second.response.content_type == "text/event-stream" and second.response.body == SSE_BODY.encode()
    assert third.request.body == BINARY_REQUEST  # !!binary
    assert third.response.status == 401 and third.response.body == f"plain {ANTHROPIC_KEY} text".encode()
    assert third.response.header("content-encoding") is None  # decoded on load, like decode_compressed_response
    assert [i.is_chat for i in load_cassette(dirty, path_pattern=r"/models$").interactions] == [False] * 3


def test_load_json_cassettes_and_old_formats(dirty: Path, tmp_path: Path) -> None:
    requests, responses, *_ = deserialize(DIRTY, yamlserializer)
    pairs = list(zip(requests, responses, strict=True))[:2]
    path = tmp_path / "c.json"
    path.write_text(serialize({"requests": [p[0] for p in pairs], "responses": [p[1] for p in pairs]},
                              jsonserializer))
    loaded = load_cassette(path)
    expected = [i.request.uri for i in load_cassette(dirty).interactions][:2]
    assert [i.request.uri for i in loaded.interactions] == expected
    assert loaded.interactions[1].response.body == SSE_BODY.encode()
    old_httpx = tmp_path / "old.yaml"  # vcrpy < 5 stored httpx responses as status_code/content, and no version
    old_httpx.write_text(yaml.safe_dump({"interactions": [{
        "request": {"method": "POST", "uri": CHAT_URL, "body": "{}", "headers": {}},
        "response": {"status_code": 200, "headers": {"content-type": ["application/json"]}, "content": "{}"}}]}))
    interaction = load_cassette(old_httpx).interactions[0]
    assert interaction.response.status == 200 and interaction.response.body == b"{}"


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:builtins.open ['{target}', 'w']",
    "!!python/object/new:builtins.open ['{target}', 'w']",
    "!!python/object/apply:subprocess.check_call [['touch', '{target}']]",
    "!!python/name:os.system",
    "!!python/module:os",
])
def test_python_tags_are_rejected_never_executed(tag: str, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    text = DIRTY.replace("recorded_by: ci", "recorded_by: " + tag.format(target=target))
    if "builtins.open ['" in tag:  # prove the payload is live: the unsafe loader does create the file
        yaml.unsafe_load(text.replace(str(target), str(tmp_path / "proof")))["metadata"]["recorded_by"].close()
        assert (tmp_path / "proof").exists()
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    with pytest.raises(CassetteError, match=r"refusing YAML tag 'tag:yaml.org,2002:python/") as info:
        load_cassette(path)
    assert info.value.path == str(path) and not target.exists()
    findings = audit(path)
    assert findings[0].kind == "unreadable" and "refusing YAML tag" in findings[0].excerpt and not target.exists()
    assert {f.kind for f in findings[1:]} >= {"secret-key", "jwt"}  # its raw text is still scanned


def test_truncated_yaml(dirty: Path) -> None:
    text = DIRTY[: DIRTY.index("string:", DIRTY.index("SSE") if "SSE" in DIRTY else 0) + 30]
    dirty.write_text(text)
    with pytest.raises(CassetteError, match=r"dirty\.yaml: not valid YAML at line \d+") as info:
        load_cassette(dirty)
    assert info.value.path == str(dirty) and info.value.interaction is None


GOOD: dict[str, Any] = {"request": {"method": "POST", "uri": CHAT_URL, "body": "{}", "headers": {}},
                        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": ""}}}


def _with(**changes: Any) -> dict[str, Any]:
    interaction: dict[str, Any] = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = interaction
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return interaction


@pytest.mark.parametrize(("data", "message", "index"), [
    ({}, "missing 'interactions' list", None),
    ({"interactions": {}}, "missing 'interactions' list", None),
    ([{"request": {}, "response": {}}], r"pre-1\.0 VCR format", None),
    ({"version": 2, "interactions": []}, "unsupported cassette format version 2", None),
    ("a string", "top level is str, expected a mapping", None),
    ({"interactions": [GOOD, {"request": GOOD["request"]}]}, "has no 'response' mapping", 1),
    ({"interactions": [42]}, "has no 'request' mapping", 0),
    ({"interactions": [GOOD, GOOD, _with(response__status__code=999)]}, "999 is not an HTTP status", 2),
    ({"interactions": [_with(response__status=...)]}, "None is not an HTTP status", 0),
    ({"interactions": [_with(response__status__code=True)]}, "True is not an HTTP status", 0),
    ({"interactions": [_with(response__body=...)]}, "response has no body", 0),
    ({"interactions": [_with(response__body__string=[1])]}, "response body must be a string or !!binary", 0),
    ({"interactions": [_with(request__method=...)]}, "request needs string 'method' and 'uri'", 0),
    ({"interactions": [_with(request__headers=["a"])]}, "request.headers is not a mapping", 0),
    ({"interactions": [_with(response__headers={"x": [{"a": 1}]})]}, "response.headers.x: values must be", 0),
])
def test_malformed_cassettes(data: Any, message: str, index: int | None, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CassetteError, match=message) as info:
        load_cassette(path)
    assert (info.value.path, info.value.interaction) == (str(path), index)
    where = f"interaction {index}: " if index is not None else ""
    assert str(info.value).startswith(f"{path}: {where}")


def test_unreadable_files(tmp_path: Path) -> None:
    for name, content, message in (("empty.yaml", b"  \n", "empty cassette"),
                                   ("latin1.yaml", "caf\u00e9".encode("latin-1"), "cannot read cassette"),
                                   ("bad.json", b'{"interactions": [', "not valid JSON")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CassetteError, match=message):
            load_cassette(tmp_path / name)
    with pytest.raises(CassetteError, match="cannot read cassette"):
        load_cassette(tmp_path / "missing.yaml")


def test_lenient_details(tmp_path: Path) -> None:
    path = tmp_path / "lenient.yaml"
    path.write_text(yaml.safe_dump({"interactions": [_with(
        response__status__code="201", response__headers={"Content-Length": 2, "X-One": "single"},
        request__headers=None)]}))
    interaction = load_cassette(path).interactions[0]
    assert interaction.response.status == 201
    assert interaction.response.headers == {"Content-Length": ["2"], "X-One": ["single"]}
    assert interaction.request.headers == {} and interaction.request.json == {}


# -- audit ---------------------------------------------------------------------------------------------------------
def test_audit_finds_every_planted_secret_masked(dirty: Path) -> None:
    findings = audit(dirty)
    assert {(f.interaction, f.location, f.kind) for f in findings} == EXPECTED
    assert len(findings) == len(EXPECTED) and all(f.path == dirty for f in findings)
    for finding in findings:
        assert finding.excerpt.endswith("…") and len(finding.excerpt) <= 5
        assert all(secret not in str(finding) for secret in ALL_SECRETS)
    header = next(f for f in findings if f.location == "request.headers.authorization")
    assert header.excerpt == "Bear…" and str(header) == (
        f"{dirty}: interaction 0: request.headers.authorization: secret-header Bear…")


def test_audit_of_the_scrubbed_cassette_finds_nothing(dirty: Path, tmp_path: Path) -> None:
    requests, responses, metadata = deserialize(DIRTY, yamlserializer)
    clean = tmp_path / "clean" / "clean.yaml"
    clean.parent.mkdir()
    clean.write_text(serialize({"requests": [scrub_request(r) for r in requests],
                                "responses": [scrub_response(r) for r in responses]}, yamlserializer))
    assert audit(clean) == []
    text = clean.read_text()
    assert PLACEHOLDER in text and all(secret not in text for secret in ALL_SECRETS)
    assert load_cassette(clean).interactions[2].response.body == f"plain {PLACEHOLDER} text".encode()


def test_audit_a_folder(dirty: Path, tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "broken.yml").write_text("interactions: [")
    (nested / "notes.txt").write_text(OPENAI_KEY)  # not a cassette file name
    findings = audit(tmp_path)
    assert findings[0] == AuditFinding(nested / "broken.yml", None, "cassette", "unreadable", findings[0].excerpt)
    assert "not valid YAML" in findings[0].excerpt
    assert {(f.interaction, f.location, f.kind) for f in findings[1:]} == EXPECTED


def test_iter_cassette_files(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.json", "z/c.yml", "z/d.txt", "z/y/e.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert iter_cassette_files(tmp_path) == [tmp_path / n for n in ("a.json", "b.yaml", "z/c.yml", "z/y/e.yaml")]
    assert iter_cassette_files(tmp_path, ("*.json",)) == [tmp_path / "a.json"]
    assert iter_cassette_files(tmp_path / "b.yaml") == [tmp_path / "b.yaml"]
    assert iter_cassette_files(tmp_path / "missing") == []


def test_audit_of_a_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no such file or folder"):
        audit(tmp_path / "typo")


def test_yaml_alias_bombs_and_cycles_in_metadata_stay_cheap(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]  # 10**12 leaves if expanded
    path = tmp_path / "bomb.yaml"
    path.write_text("metadata:\n" + "\n".join("  " + line for line in levels)
                    + f"\n  cycle: &c [{OPENAI_KEY}, *c]\ninteractions: []\nversion: 1\n")
    assert [(f.location, f.kind) for f in audit(path)] == [("metadata$.cycle[0]", "openai-key")]
