"""Re-record the repository's ``cassettes/`` from the real third-party providers.

Starts llama-cpp-python's OpenAI-compatible server (the tiny random-weight model of ``tests/providers``) and the
LiteLLM proxy (mock models, plus routes proxied to that llama.cpp server), sends one fixed set of requests per
scenario with httpx, and records the real exchanges with VCR.py through :func:`chatcontract.cassettes.configure_vcr`
(so secrets are scrubbed while recording) into ``cassettes/llamacpp/<scenario>.yaml`` and
``cassettes/litellm/<scenario>.yaml``.

Run from the repository root::

    python3 -m scripts.record_cassettes            # or: python3 scripts/record_cassettes.py
    python3 -m scripts.record_cassettes --out /tmp/cassettes --only llamacpp
    python3 -m scripts.record_cassettes --list

The cassettes are recorded into a staging folder first, audited with :func:`chatcontract.cassettes.audit` (and
searched for the very API key that was sent), and only then moved into place: a recording that leaks a secret
fails loudly (exit 1) and leaves the destination untouched. Each recorded response status is also checked
against the scenario's expectation, so a provider that changed behaviour is reported instead of silently
recorded.

``--llamacpp-url`` and ``--litellm-url`` record against servers that are already running (started from
``tests.providers.servers``; the LiteLLM master key is read from ``$CHATCONTRACT_LITELLM_KEY``, never from the
command line); by default both servers are started here and stopped at the end.

Determinism: prompts, request bodies and the ``User-Agent`` are fixed; requests to llama.cpp carry ``seed`` and
``temperature: 0`` (the tiny model's words still depend on its random weights). The servers' free ports are
written as fixed ones (llama.cpp ``127.0.0.1:8000``, LiteLLM ``127.0.0.1:4000``) in request URIs, ``Host``
headers and response headers; response bodies are recorded exactly as received. Response ids, timestamps and
LiteLLM's call ids change from one recording to the next.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `python3 scripts/record_cassettes.py` puts scripts/, not the repository, on the path
    sys.path.insert(0, str(REPO))

from chatcontract.cassettes import audit, configure_vcr, load_cassette  # noqa: E402

__all__ = [
    "DEFAULT_OUT",
    "PROVIDERS",
    "SCENARIOS",
    "Call",
    "Recorded",
    "Scenario",
    "main",
    "record",
    "scenario_paths",
]

DEFAULT_OUT = REPO / "cassettes"
PROVIDERS = ("llamacpp", "litellm")
USER_AGENT = "chatcontract-record-cassettes/1"
LITELLM_KEY_ENV = "CHATCONTRACT_LITELLM_KEY"
#: The port each provider's URLs are recorded with (their usual defaults), whatever port the server had.
PINNED = {"llamacpp": 8000, "litellm": 4000}

# ------------------------------------------------------------------------------------------------ request bodies

MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Say hello to the world."},
]
WEATHER_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Paris?"}]

#: Enum-only parameters: llama.cpp's grammar for a named tool_choice then always yields complete, valid JSON.
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "London", "Tokyo"]},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
NAMED_CHOICE: dict[str, Any] = {"type": "function", "function": {"name": "get_weather"}}

#: Sampling settings for llama.cpp (and the LiteLLM routes proxied to it): greedy and seeded.
LLAMA = {"seed": 1234, "temperature": 0}


@dataclass(frozen=True)
class Call:
    """One request of a scenario.

    ``body`` is a JSON object, or raw bytes sent as is (a malformed request). ``auth``: ``"key"`` sends the
    server's key (if it has one), ``"none"`` sends no ``Authorization`` header, ``"wrong"`` a made-up key.
    ``status`` is the HTTP status the provider is known to answer; a different one aborts the recording.
    """

    body: dict[str, Any] | bytes
    status: int = 200
    auth: str = "key"

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    def content(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


@dataclass(frozen=True)
class Scenario:
    """One cassette: ``cassettes/<provider>/<name>.yaml``."""

    provider: str
    name: str
    shows: str
    calls: tuple[Call, ...]

    @property
    def relpath(self) -> str:
        return f"{self.provider}/{self.name}.yaml"


def _s(provider: str, name: str, shows: str, *calls: Call) -> Scenario:
    return Scenario(provider, name, shows, calls)


SCENARIOS: tuple[Scenario, ...] = (
    # ---------------------------------------------------------------------------------------------- llama.cpp
    _s("llamacpp", "chat", "non-streaming completion (message has no refusal key)",
       Call({"model": "tiny", "messages": MESSAGES, "max_tokens": 16, **LLAMA})),
    _s("llamacpp", "stream", "SSE stream: role first, content deltas, finish_reason, data: [DONE]",
       Call({"model": "tiny", "messages": MESSAGES, "max_tokens": 16, "stream": True, **LLAMA})),
    _s("llamacpp", "stream_include_usage", "stream_options.include_usage is ignored: no usage chunk",
       Call({"model": "tiny", "messages": MESSAGES, "max_tokens": 16, "stream": True,
             "stream_options": {"include_usage": True}, **LLAMA})),
    _s("llamacpp", "tool_call", "named tool_choice, enum-only schema (tiny-tools): a tool call plus the "
       "deprecated function_call",
       Call({"model": "tiny-tools", "messages": WEATHER_MESSAGES, "tools": [WEATHER_TOOL],
             "tool_choice": NAMED_CHOICE, "max_tokens": 64, **LLAMA})),
    _s("llamacpp", "tool_call_stream", "the same named tool call, streamed: deltas carry role/tool_calls/"
       "function_call null, and the deprecated function_call fragments",
       Call({"model": "tiny-tools", "messages": WEATHER_MESSAGES, "tools": [WEATHER_TOOL],
             "tool_choice": NAMED_CHOICE, "max_tokens": 64, "stream": True, **LLAMA})),
    _s("llamacpp", "n2", "n=2 is ignored: one choice",
       Call({"model": "tiny", "messages": MESSAGES, "max_tokens": 8, "n": 2, **LLAMA})),
    _s("llamacpp", "max_tokens_small", "max_tokens: 2 -> finish_reason length, completion_tokens 2",
       Call({"model": "tiny", "messages": MESSAGES, "max_tokens": 2, **LLAMA})),
    _s("llamacpp", "error_malformed", "malformed requests get HTTP 500 (not 400) with a Python traceback: "
       "messages not a list, a message without content, Mistral's tool_choice \"any\"; truncated JSON gets a "
       "text/plain 500",
       Call({"model": "tiny", "messages": "Say hello to the world.", "max_tokens": 8}, status=500),
       Call({"model": "tiny", "messages": [{"role": "user"}], "max_tokens": 8}, status=500),
       Call({"model": "tiny-tools", "messages": WEATHER_MESSAGES, "tools": [WEATHER_TOOL], "tool_choice": "any",
             "max_tokens": 8}, status=500),
       Call(b'{"model": "tiny", "messages": [', status=500)),
    _s("llamacpp", "error_unknown_model", "an unknown model name gets 200 (answered by the loaded model)",
       Call({"model": "no-such-model", "messages": MESSAGES, "max_tokens": 8, **LLAMA})),
    # ------------------------------------------------------------------------------------------------ LiteLLM
    _s("litellm", "chat", "mock completion: constant usage 10/20/30, no logprobs key",
       Call({"model": "mock-gpt", "messages": MESSAGES}),
       Call({"model": "mock-mistral", "messages": MESSAGES})),
    _s("litellm", "stream", "mock SSE stream",
       Call({"model": "mock-gpt", "messages": MESSAGES, "stream": True})),
    _s("litellm", "stream_include_usage", "mock SSE stream with stream_options.include_usage",
       Call({"model": "mock-gpt", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}})),
    _s("litellm", "tool_calls", "mock_tool_calls: a tool call with finish_reason stop",
       Call({"model": "mock-tools", "messages": WEATHER_MESSAGES, "tools": [WEATHER_TOOL],
             "tool_choice": NAMED_CHOICE})),
    _s("litellm", "tool_calls_stream", "the same request streamed: mock_tool_calls is ignored, no tool call",
       Call({"model": "mock-tools", "messages": WEATHER_MESSAGES, "tools": [WEATHER_TOOL],
             "tool_choice": NAMED_CHOICE, "stream": True})),
    _s("litellm", "n2", "n=2: two (identical) mock choices",
       Call({"model": "mock-gpt", "messages": MESSAGES, "n": 2})),
    _s("litellm", "max_tokens_small", "max_tokens: 5 is ignored: completion_tokens 20, finish_reason stop",
       Call({"model": "mock-gpt", "messages": MESSAGES, "max_tokens": 5})),
    _s("litellm", "error_auth", "no key: 401 with code \"401\" and param \"None\"; unknown key: 400 No connected db.",
       Call({"model": "mock-gpt", "messages": MESSAGES}, status=401, auth="none"),
       Call({"model": "mock-gpt", "messages": MESSAGES}, status=400, auth="wrong")),
    _s("litellm", "error_rate_limit", "mock_response litellm.RateLimitError: 429 with a string code",
       Call({"model": "mock-rate-limit", "messages": MESSAGES}, status=429)),
    _s("litellm", "error_unknown_model", "unknown model: 400 (OpenAI answers 404) with code \"400\"",
       Call({"model": "no-such-model", "messages": MESSAGES}, status=400)),
    _s("litellm", "proxy_llamacpp", "LiteLLM proxying to llama.cpp: completion and named tool call "
       "(function_call passed through)",
       Call({"model": "upstream-tiny", "messages": MESSAGES, "max_tokens": 16, **LLAMA}),
       Call({"model": "upstream-tiny-tools", "messages": WEATHER_MESSAGES, "tools": [WEATHER_TOOL],
             "tool_choice": NAMED_CHOICE, "max_tokens": 64, **LLAMA})),
    _s("litellm", "proxy_llamacpp_stream", "LiteLLM proxying a llama.cpp stream, with and without include_usage "
       "(usage re-computed by LiteLLM)",
       Call({"model": "upstream-tiny", "messages": MESSAGES, "max_tokens": 16, "stream": True, **LLAMA}),
       Call({"model": "upstream-tiny", "messages": MESSAGES, "max_tokens": 16, "stream": True,
             "stream_options": {"include_usage": True}, **LLAMA})),
)


def scenario_paths(providers: Sequence[str] = PROVIDERS) -> list[str]:
    """The cassette paths (relative to the output folder) the recording writes, in order."""
    return [s.relpath for s in SCENARIOS if s.provider in providers]


# ------------------------------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class Endpoint:
    """Where to send a provider's requests."""

    base_url: str
    api_key: str | None = None


@dataclass
class Recorded:
    """What one scenario recorded."""

    scenario: Scenario
    path: Path
    statuses: list[int] = field(default_factory=list)
    size: int = 0


class RecordingError(RuntimeError):
    """The recording could not be made, or a provider answered something the scenario does not expect."""


def _headers(call: Call, endpoint: Endpoint) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
    if call.stream:
        headers["Accept"] = "text/event-stream"
    if call.auth == "key" and endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    elif call.auth == "wrong":
        headers["Authorization"] = "Bearer sk-chatcontract-not-a-real-key-0000"
    return headers


def _send(client: Any, call: Call, endpoint: Endpoint) -> tuple[int, bytes]:
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    if call.stream:  # read it as a streaming client does (VCR records the whole body either way)
        with client.stream("POST", url, content=call.content(), headers=_headers(call, endpoint)) as resp:
            return resp.status_code, b"".join(resp.iter_bytes())
    resp = client.post(url, content=call.content(), headers=_headers(call, endpoint))
    return resp.status_code, resp.content


class _PinPorts:
    """VCR hooks that write each server's ``host:port`` as its fixed :data:`PINNED` one.

    The servers listen on free ports that change from run to run; pinning them in the request URI, the ``Host``
    header and response header values (LiteLLM's ``x-litellm-model-api-base`` names the upstream) keeps a
    re-recording's diff to what the providers really changed. Bodies are recorded exactly as received.
    """

    def __init__(self, endpoints: dict[str, Endpoint]) -> None:
        self.pairs = []
        for provider, endpoint in endpoints.items():
            parts = urlsplit(endpoint.base_url)
            pinned = f"{parts.hostname}:{PINNED[provider]}"
            if parts.netloc != pinned:
                self.pairs.append((parts.netloc, pinned))

    def _pin(self, text: str) -> str:
        for actual, pinned in self.pairs:
            text = text.replace(actual, pinned)
        return text

    def request(self, request: Any) -> Any:
        request.uri = self._pin(request.uri)
        for name in [n for n in request.headers if n.lower() == "host"]:
            request.headers[name] = self._pin(request.headers[name])
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers") or {}
        response["headers"] = {k: [self._pin(v) if isinstance(v, str) else v for v in values]
                               for k, values in headers.items()}
        return response


def _record_into(staging: Path, endpoints: dict[str, Endpoint], providers: Sequence[str]) -> list[Recorded]:
    import httpx
    import vcr

    pin = _PinPorts(endpoints)
    # Our hooks run first; configure_vcr appends chatcontract's scrubbers after them.
    recorder = vcr.VCR(record_mode="all", before_record_request=pin.request, before_record_response=pin.response)
    configure_vcr(recorder)
    results: list[Recorded] = []
    for scenario in SCENARIOS:
        if scenario.provider not in providers:
            continue
        path = staging / scenario.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        done = Recorded(scenario, path)
        with recorder.use_cassette(str(path), record_mode="all"):
            for call in scenario.calls:
                # A client per call: uvicorn drops the connection after an unhandled 500 (the truncated JSON), and
                # a pooled connection would then be reset. trust_env=False: loopback traffic never goes through an
                # environment proxy. No retries, no redirects.
                with httpx.Client(timeout=120.0, trust_env=False) as client:
                    status, body = _send(client, call, endpoints[scenario.provider])
                done.statuses.append(status)
                if status != call.status:
                    raise RecordingError(
                        f"{scenario.relpath}: {scenario.provider} answered {status}, the scenario expects "
                        f"{call.status} (has the provider changed?): {body[:500]!r}"
                    )
        if not path.is_file():
            raise RecordingError(f"{scenario.relpath}: VCR.py wrote no cassette")
        done.size = path.stat().st_size
        results.append(done)
    return results


def _leaks(folder: Path, secrets: Sequence[str]) -> list[str]:
    """Every problem left in ``folder``: chatcontract's audit, plus the literal keys that were sent."""
    problems = [str(f) for f in audit(folder)]
    for path in sorted(folder.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        problems += [f"{path}: the API key that was sent appears verbatim" for s in secrets if s and s in text]
    return problems


def _check_recorded(results: list[Recorded]) -> None:
    """Each cassette loads and holds one chat interaction per call, with the statuses seen on the wire."""
    for done in results:
        cassette = load_cassette(done.path)
        got = [(it.is_chat, it.response.status) for it in cassette.interactions]
        want = [(True, status) for status in done.statuses]
        if got != want:
            raise RecordingError(f"{done.path}: recorded {got}, sent {want}")


def record(
    out: Path | str,
    *,
    llamacpp: Any = None,
    litellm: Any = None,
    providers: Sequence[str] = PROVIDERS,
) -> list[Recorded]:
    """Record the scenarios of ``providers`` against running servers into ``out`` (replacing those cassettes).

    ``llamacpp`` and ``litellm`` are :class:`tests.providers.servers.Server` objects (or anything with
    ``base_url`` and ``api_key``); the LiteLLM one must proxy ``upstream-tiny*`` to a llama.cpp server. The
    cassettes are recorded in a staging folder, audited, and then moved to ``out/<provider>/``, whose other
    ``*.yaml`` files are removed (a re-recording replaces the provider's folder). Raises :class:`RecordingError`
    if a secret is left or a provider answers an unexpected status.
    """
    out = Path(out)
    servers = {"llamacpp": llamacpp, "litellm": litellm}
    unknown = set(providers) - set(PROVIDERS)
    if unknown or not providers:
        raise ValueError(f"providers must be among {PROVIDERS}, got {list(providers)}")
    missing = [p for p in providers if servers[p] is None]
    if missing:
        raise ValueError(f"no server given for {missing}")
    endpoints = {p: Endpoint(servers[p].base_url, servers[p].api_key) for p in providers}
    secrets = [e.api_key for e in endpoints.values() if e.api_key]
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".recording-", dir=out))
    try:
        results = _record_into(staging, endpoints, providers)
        _check_recorded(results)
        problems = _leaks(staging, secrets)
        if problems:
            raise RecordingError("secrets left in the recorded cassettes (nothing was written):\n  "
                                 + "\n  ".join(problems))
        for provider in providers:
            target = out / provider
            target.mkdir(parents=True, exist_ok=True)
            for old in target.glob("*.yaml"):
                old.unlink()
            for new in sorted((staging / provider).glob("*.yaml")):
                new.replace(target / new.name)
        for done in results:
            done.path = out / done.scenario.relpath
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    problems = _leaks(out, secrets)  # the final folder, other cassettes included
    if problems:
        raise RecordingError("secrets found in " + str(out) + ":\n  " + "\n  ".join(problems))
    return results


def summary(results: list[Recorded], out: Path) -> str:
    """A table of what was recorded."""
    lines = [f"{'cassette':<38} {'statuses':<12} {'bytes':>7}  shows"]
    for done in results:
        statuses = ",".join(map(str, done.statuses))
        lines.append(f"{done.scenario.relpath:<38} {statuses:<12} {done.size:>7}  {done.scenario.shows}")
    total = sum(d.size for d in results)
    calls = sum(len(d.statuses) for d in results)
    lines.append(f"{len(results)} cassette(s), {calls} interaction(s), {total} bytes in {out}; audit: clean")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- servers


@contextmanager
def _servers(args: argparse.Namespace, providers: Sequence[str]) -> Iterator[dict[str, Any]]:
    from tests.providers.servers import litellm_proxy, llamacpp_server

    with ExitStack() as stack:
        llama: Any = Endpoint(args.llamacpp_url) if args.llamacpp_url else None
        proxy: Any = None
        if args.litellm_url:
            key = os.environ.get(LITELLM_KEY_ENV)
            if not key:
                raise SystemExit(f"--litellm-url needs the proxy's master key in ${LITELLM_KEY_ENV}")
            proxy = Endpoint(args.litellm_url, key)
        # LiteLLM proxies upstream-tiny* to llama.cpp: a started proxy needs a llama.cpp server, too.
        if llama is None and ("llamacpp" in providers or ("litellm" in providers and proxy is None)):
            llama = stack.enter_context(llamacpp_server())
        if proxy is None and "litellm" in providers:
            proxy = stack.enter_context(litellm_proxy(upstream=llama.base_url))
        yield {"llamacpp": llama, "litellm": proxy}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m scripts.record_cassettes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--only", choices=PROVIDERS, action="append", help="record only this provider's cassettes")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--llamacpp-url", help="use a running llama.cpp server (its base URL, .../v1)")
    parser.add_argument("--litellm-url", help=f"use a running LiteLLM proxy (its base URL; key in ${LITELLM_KEY_ENV})")
    args = parser.parse_args(argv)
    providers = tuple(args.only or PROVIDERS)

    if args.list:
        for s in SCENARIOS:
            if s.provider in providers:
                print(f"{s.relpath:<38} {len(s.calls)} call(s)  {s.shows}")
        return 0

    started = time.monotonic()
    try:
        with _servers(args, providers) as servers:
            results = record(args.out, providers=providers, **{p: servers[p] for p in providers})
    except Exception as exc:  # noqa: BLE001 - report and fail loudly, with a non-zero exit
        print(f"record_cassettes: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(summary(results, args.out))
    print(f"recorded in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
