"""The cassette file format: VCR.py cassettes loaded safely into frozen dataclasses, and stored-body decoding.

Public names are re-exported by :mod:`chatcontract.cassettes`; yaml is imported only when a YAML cassette is read.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._exceptions import CassetteError

DEFAULT_PATH_PATTERN = r"/chat/completions$"
MAX_DECODED_BYTES = 64 * 1024 * 1024
"""Compressed bodies that inflate beyond this are left alone (decompression bombs in untrusted cassettes)."""
Headers = list[tuple[str, list[str]]]


def text_value(value: Any) -> str | None:
    """A header value as text (bytes as latin-1, like HTTP), None for anything else."""
    if isinstance(value, str):
        return value
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else None


def content_type(headers: Iterable[tuple[str, Any]]) -> str:
    """The first ``Content-Type`` value of ``(name, value or [values])`` pairs, "" if none."""
    for name, value in headers:
        if name.lower() == "content-type":
            text = text_value(value[0] if isinstance(value, list) and value else value)
            return text or ""
    return ""


# -- compressed bodies -------------------------------------------------------------------------------------------
def _inflate(data: bytes, wbits: int) -> bytes | None:
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, MAX_DECODED_BYTES)
    except zlib.error:
        return None
    return out if inflater.eof and not inflater.unconsumed_tail else None


def decompress(coding: str, data: bytes) -> bytes | None:
    """Decode one content-coding (gzip, deflate, br if brotli is installed), or None if that is impossible."""
    if coding in ("gzip", "x-gzip"):
        return _inflate(data, zlib.MAX_WBITS | 16)
    if coding == "deflate":
        return _inflate(data, zlib.MAX_WBITS) or _inflate(data, -zlib.MAX_WBITS)
    if coding == "br":
        try:
            import brotli  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            try:
                import brotlicffi as brotli  # type: ignore[import-not-found,unused-ignore,no-redef]
            except ImportError:
                return None
        try:
            return bytes(brotli.decompress(data))
        except Exception:  # brotli.error has no common base class across brotli and brotlicffi
            return None
    return None


def decode_content(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    """Undo ``Content-Encoding`` (drop the header, fix ``Content-Length``), as ``decode_compressed_response`` does.

    A body that does not decode but is plain UTF-8 text carries a stale header (the lmnr-python#326 replay bug):
    the header is dropped too. An undecodable binary body (e.g. brotli without the brotli package) is left as is.
    """
    codings = [c.strip().lower() for name, values in headers if name.lower() == "content-encoding"
               for value in values for c in value.split(",") if c.strip().lower() not in ("", "identity")]
    if not any(name.lower() == "content-encoding" for name, _ in headers):
        return headers, body
    data: bytes | None = body
    for coding in reversed(codings):
        data = decompress(coding, data) if data is not None else None
    if data is None:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return headers, body
        data = body
    kept = [(name, values) for name, values in headers if name.lower() != "content-encoding"]
    return set_content_length(kept, len(data), add=True), data


def set_content_length(headers: Headers, length: int, *, add: bool = False) -> Headers:
    """Headers with ``Content-Length`` set to ``length`` (added only if ``add``)."""
    present = any(name.lower() == "content-length" for name, _ in headers)
    out = [(name, [str(length)] if name.lower() == "content-length" else values) for name, values in headers]
    return out + [("content-length", [str(length)])] if add and not present else out


# -- loading -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordedRequest:
    """A recorded request: ``json`` is the parsed body when it is JSON, else None."""

    method: str
    uri: str
    headers: dict[str, list[str]]
    body: bytes | None
    json: Any = None

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitively."""
        return next((v[0] for k, v in self.headers.items() if k.lower() == name.lower() and v), None)


@dataclass(frozen=True)
class RecordedResponse:
    """A recorded response; ``body`` is decoded if it was stored compressed, ``content_type`` is the media type."""

    status: int
    headers: dict[str, list[str]]
    body: bytes
    content_type: str

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitively."""
        return next((v[0] for k, v in self.headers.items() if k.lower() == name.lower() and v), None)


@dataclass(frozen=True)
class Interaction:
    """One request/response pair; ``index`` counts from 0 in file order."""

    index: int
    request: RecordedRequest
    response: RecordedResponse
    is_chat: bool


@dataclass(frozen=True)
class Cassette:
    """A loaded cassette file."""

    path: Path
    interactions: tuple[Interaction, ...]
    version: int
    metadata: Mapping[str, Any] = field(default_factory=dict)


def _fail(path: Path, message: str, index: int | None = None) -> CassetteError:
    where = f"{path}: interaction {index}" if index is not None else str(path)
    return CassetteError(f"{where}: {message}", path=str(path), interaction=index)


def parse_cassette_text(path: Path, text: str) -> Any:
    """A cassette file's text as plain data (JSON for ``.json``, safe YAML otherwise); :class:`CassetteError` if not."""
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise _fail(path, f"not valid JSON: {exc}") from None
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.constructor.ConstructorError as exc:
        tag = re.search(r"tag '([^']*)'", str(exc))
        raise _fail(path, f"refusing YAML tag {tag.group(1) if tag else '?'!r}: cassettes must be plain YAML "
                          "(Python object tags are never constructed)") from None
    except (yaml.YAMLError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise _fail(path, f"not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from None


def _headers(path: Path, index: int, raw: Any, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, f"{where}.headers is not a mapping", index)
    out: dict[str, list[str]] = {}
    for name, values in raw.items():
        items = values if isinstance(values, list) else [values]
        if any(isinstance(v, (dict, list)) for v in items):
            raise _fail(path, f"{where}.headers.{name}: values must be strings", index)
        out[str(name)] = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in items if v is not None]
    return out


def _body(path: Path, index: int, raw: Any, where: str) -> bytes | None:
    if raw is None or isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    if isinstance(raw, dict) and where == "request":
        return json.dumps(raw).encode()
    raise _fail(path, f"{where} body must be a string or !!binary, not {type(raw).__name__}", index)


def _interaction(path: Path, index: int, raw: Any, chat: re.Pattern[str]) -> Interaction:
    if not isinstance(raw, dict) or not isinstance(raw.get("request"), dict):
        raise _fail(path, "has no 'request' mapping", index)
    if not isinstance(raw.get("response"), dict):
        raise _fail(path, "has no 'response' mapping", index)
    req, resp = raw["request"], raw["response"]
    method, uri = req.get("method"), req.get("uri")
    if not isinstance(method, str) or not isinstance(uri, str):
        raise _fail(path, "request needs string 'method' and 'uri'", index)
    req_headers = _headers(path, index, req.get("headers"), "request")
    body = _body(path, index, req.get("body"), "request")
    parsed = None
    if body and (body.lstrip()[:1] in (b"{", b"[") or "json" in content_type(req_headers.items())):
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
    if "status_code" in resp:  # the httpx cassette format of vcrpy < 5
        resp = {"status": {"code": resp["status_code"]}, "headers": resp.get("headers"),
                "body": {"string": resp.get("content")}}
    status = resp.get("status")
    code = status.get("code") if isinstance(status, dict) else None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if type(code) is not int or not 100 <= code <= 599:
        raise _fail(path, f"response status code {code!r} is not an HTTP status (100-599)", index)
    if not isinstance(resp.get("body"), dict) or "string" not in resp["body"]:
        raise _fail(path, "response has no body: {'string': ...}", index)
    resp_headers = _headers(path, index, resp.get("headers"), "response")
    raw_body = _body(path, index, resp["body"]["string"], "response") or b""
    decoded_headers, resp_body = decode_content(list(resp_headers.items()), raw_body)
    headers = dict(decoded_headers)
    ctype = content_type(decoded_headers).split(";")[0].strip().lower()
    is_chat = method.upper() == "POST" and chat.search(urlsplit(uri).path) is not None
    return Interaction(index, RecordedRequest(method, uri, req_headers, body, parsed),
                       RecordedResponse(code, headers, resp_body, ctype), is_chat)


def load_cassette(path: str | os.PathLike[str], *, path_pattern: str = DEFAULT_PATH_PATTERN) -> Cassette:
    """Load a VCR.py cassette (YAML, or JSON for ``.json``) safely; malformed files raise :class:`CassetteError`.

    ``path_pattern`` (a regex searched in the URL path of POST requests) decides :attr:`Interaction.is_chat`.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"cannot read cassette: {exc}") from None
    if not text.strip():
        raise _fail(path, "empty cassette")
    data = parse_cassette_text(path, text)
    if isinstance(data, list):
        raise _fail(path, "pre-1.0 VCR format (a bare list of interactions): re-record it")
    if not isinstance(data, dict):
        raise _fail(path, f"not a cassette: top level is {type(data).__name__}, expected a mapping")
    version = data.get("version", 1)
    if version != 1:
        raise _fail(path, f"unsupported cassette format version {version!r} (expected 1)")
    if not isinstance(data.get("interactions"), list):
        raise _fail(path, "missing 'interactions' list")
    chat = re.compile(path_pattern)
    interactions = tuple(_interaction(path, i, raw, chat) for i, raw in enumerate(data["interactions"]))
    metadata = data.get("metadata")
    return Cassette(path, interactions, 1, metadata if isinstance(metadata, dict) else {})


def iter_cassette_files(directory: str | os.PathLike[str], patterns: Iterable[str] = ("*.yaml", "*.yml", "*.json")
                        ) -> list[Path]:
    """Cassette files under ``directory`` (recursively) matching ``patterns``, sorted; a file is returned as is."""
    root = Path(directory)
    if root.is_file():
        return [root]
    return sorted({p for pattern in patterns for p in root.rglob(pattern) if p.is_file()})

