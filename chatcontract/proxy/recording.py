"""``chatcontract proxy --record DIR``: the run's exchanges as one VCR.py cassette, scrubbed like the plugin's.

Each complete exchange becomes a ``vcr.request.Request`` plus VCR's response dict, passes through the very hooks
the pytest plugin installs on VCR (:func:`~chatcontract.cassettes.scrub_request`,
:func:`~chatcontract.cassettes.scrub_response`) and is serialized by VCR.py's own serializer, so the file is what
pytest-recording would have written: :func:`~chatcontract.cassettes.load_cassette` reads it,
``pytest --chatcontract-cassettes DIR`` and ``chatcontract cassettes check`` check it, and
``chatcontract cassettes audit`` finds no secret in it. Bodies are kept as received (SSE byte for byte, a secret
inside replaced by the placeholder and nothing else). Exchanges that got no complete answer (refused, reset,
timed out, cut by the client) are not recorded: there is nothing to replay.
"""

from __future__ import annotations

import datetime as _dt
import threading
from pathlib import Path
from typing import Any

from ..cassettes import scrub_request, scrub_response

__all__ = ["Recorder", "scrubbed_uri"]

_HTTP_REASONS: dict[int, str] = {}


def _reason(status: int) -> str:
    if not _HTTP_REASONS:
        from http import HTTPStatus

        _HTTP_REASONS.update({s.value: s.phrase for s in HTTPStatus})
    return _HTTP_REASONS.get(status, "")


def scrubbed_uri(uri: str) -> str:
    """``uri`` with secret query parameters and secret-shaped text replaced, as the cassette scrubber does."""
    from vcr.request import Request  # type: ignore[import-untyped]

    return str(scrub_request(Request("GET", uri, None, {})).uri)


class Recorder:
    """Collects the scrubbed interactions of a run and writes them as one cassette."""

    def __init__(self, folder: str | Path, *, name: str | None = None) -> None:
        self.folder = Path(folder)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.path = self.folder / (name or f"proxy-{stamp}.yaml")
        self._requests: list[Any] = []
        self._responses: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._requests)

    def add(
        self,
        *,
        method: str,
        uri: str,
        request_headers: list[tuple[str, str]],
        request_body: bytes,
        status: int,
        response_headers: list[tuple[str, str]],
        response_body: bytes,
    ) -> None:
        """Scrub one complete exchange and keep it (secrets never stay in memory longer than this call)."""
        from vcr.request import Request

        headers: dict[str, str] = {}
        for name, value in request_headers:  # VCR's request headers are single-valued
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        request = scrub_request(Request(method, uri, request_body or None, headers))
        grouped: dict[str, list[str]] = {}
        for name, value in response_headers:
            grouped.setdefault(name, []).append(value)
        response = scrub_response(
            {
                "status": {"code": status, "message": _reason(status)},
                "headers": grouped,
                "body": {"string": response_body},
            }
        )
        with self._lock:
            self._requests.append(request)
            self._responses.append(response)

    def save(self) -> Path | None:
        """Write the cassette (atomically); None when nothing was recorded."""
        from vcr.serialize import serialize  # type: ignore[import-untyped]
        from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

        with self._lock:
            if not self._requests:
                return None
            text = serialize({"requests": list(self._requests), "responses": list(self._responses)}, yamlserializer)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, "utf-8")
        tmp.replace(self.path)
        return self.path
