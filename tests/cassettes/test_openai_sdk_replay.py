"""The official openai SDK's streaming client records and replays through our VCR defaults, event for event."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import vcr

from chatcontract.cassettes import audit, configure_vcr, load_cassette
from chatcontract.streams import StreamChecker

from .helpers import ChatServer

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "Hello"}], "stream": True}


def _stream(base_url: str) -> tuple[list[dict], bytes]:
    client = openai.OpenAI(base_url=base_url, api_key="sk-proj-Zq9v2Lr7Tb4Ne1Wx8Hs3Kd6Mc0Pa5Yf", max_retries=0)
    with client.chat.completions.with_streaming_response.create(**REQUEST) as response:
        raw = b"".join(response.iter_bytes())
    with client.chat.completions.create(**REQUEST) as stream:
        chunks = [c.model_dump(mode="json", exclude_unset=True) for c in stream]
    return chunks, raw


def test_openai_sdk_stream_record_then_replay(server: ChatServer, tmp_path: Path) -> None:
    # Given our VCR defaults and a cassette recorded from a real local SSE server through the openai SDK
    recorder = vcr.VCR()
    configure_vcr(recorder)
    path = tmp_path / "sdk.yaml"
    with recorder.use_cassette(str(path), record_mode="once"):
        recorded_chunks, recorded_raw = _stream(server.url + "/v1")
    server.stop()
    # Then the cassette holds no secret and its SSE body is the bytes the SDK read
    assert audit(path) == []
    assert "sk-proj-" not in path.read_text()
    interactions = load_cassette(path).interactions
    assert interactions[0].response.body == recorded_raw
    # When the same calls are replayed with the server gone
    replayer = vcr.VCR()
    configure_vcr(replayer)
    with replayer.use_cassette(str(path), record_mode="none"):
        replayed_chunks, replayed_raw = _stream(server.url + "/v1")
    # Then the SDK sees the same bytes and the same parsed events, and the checker finds the same things in both
    assert replayed_raw == recorded_raw
    assert replayed_chunks == recorded_chunks and len(replayed_chunks) == 3
    assert json.loads(replayed_raw.split(b"data: ", 2)[1].split(b"\r\n")[0])["object"] == "chat.completion.chunk"
    reports = []
    for raw in (recorded_raw, replayed_raw):
        checker = StreamChecker(dialect="openai", request=REQUEST)
        checker.feed(raw)
        reports.append([(v.code, v.event, v.path) for v in checker.close().violations])
    # (the canned test stream has no role and no finish_reason: both runs say so, identically)
    assert reports[0] == reports[1] == [("CC308", 0, "$.choices[0].delta"), ("CC309", None, "$.choices[0]")]
