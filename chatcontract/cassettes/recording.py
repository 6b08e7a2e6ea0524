"""Recording and replaying through VCR.py: scrub secrets while recording, match chat requests by JSON body.

:func:`configure_vcr` is what the pytest plugin calls from ``pytest_recording_configure``: every cassette recorded
through that VCR instance is scrubbed (request headers and query keep a placeholder where a key was sent, response
``Set-Cookie`` and other credential headers are removed, JSON bodies are scrubbed structurally, SSE bodies event by
event with their framing untouched) and chat requests match on their JSON body, after the user's own ``vcr_config``
hooks and filters, which are merged rather than replaced.

Neither VCR.py nor yaml is imported at module import time; this module never imports pytest.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

from . import secrets as _scrub
from .file import Headers, content_type, decode_content, set_content_length, text_value
from .secrets import PLACEHOLDER, SECRET_QUERY_PARAMS, SECRET_REQUEST_HEADERS, KnownSecrets

__all__ = [
    "DEFAULT_MATCH_ON", "MATCHER_NAME", "configure_vcr", "json_body_matcher", "learn_request", "scrub_json",
    "scrub_request", "scrub_response", "scrub_text",
]

MATCHER_NAME = "chatcontract_json_body"
DEFAULT_MATCH_ON = ("method", "scheme", "host", "port", "path", "query", MATCHER_NAME)
_VCR_DEFAULT_MATCH_ON = ("method", "scheme", "host", "port", "path", "query")


# -- scrubbers -----------------------------------------------------------------------------------------------------
def scrub_text(text: str) -> str:
    """``text`` with every secret-shaped substring (see :data:`SECRET_PATTERNS`) replaced by :data:`PLACEHOLDER`."""
    return _scrub.scan_text(text, "", [])


def scrub_json(obj: Any) -> Any:
    """A copy of parsed JSON with values under secret keys replaced and :func:`scrub_text` applied to all strings."""
    return _scrub.scan_json(obj, "$", [])


def _header_value(name: str, value: str, where: str, hits: list[_scrub.Hit], *, response: bool,
                  known: _scrub.KnownSecrets | None = None) -> str | None:
    """The scrubbed value, or None if the (response) header must be removed."""
    if _scrub.is_secret_header(name, response=response):
        if not _scrub.is_redacted(value):
            hits.append((f"{where}.{name.lower()}", "secret-header", value))
        return None if response else (value if _scrub.is_redacted(value) else PLACEHOLDER)
    return _scrub.scan_text(value, f"{where}.{name.lower()}", hits, known=known)


def _scrub_uri(uri: str, hits: list[_scrub.Hit], known: _scrub.KnownSecrets | None = None) -> str:
    base, question, rest = uri.partition("?")
    if question:
        query, hash_, fragment = rest.partition("#")
        segments = []
        for segment in query.split("&"):
            name, eq, value = segment.partition("=")
            plain = unquote_plus(name)
            if eq and plain.lower() in SECRET_QUERY_PARAMS and not _scrub.is_redacted(value):
                hits.append((f"request.uri?{plain}", "secret-query-param", unquote_plus(value)))
                segment = f"{name}={_scrub.QUERY_PLACEHOLDER}"
            segments.append(segment)
        uri = f"{base}?{'&'.join(segments)}{hash_}{fragment}"
    return _scrub.scan_text(uri, "request.uri", hits, _scrub.QUERY_PLACEHOLDER, known)


def _read_body(request: Any) -> bytes | None:
    """The body of a VCR request as bytes without consuming it (VCR hands out fresh file/iterator views)."""
    body: Any = getattr(request, "body", None)
    if hasattr(body, "read") and hasattr(body, "seek") and hasattr(body, "tell"):
        position = body.tell()
        data, _ = body.read(), body.seek(position)
        body = data
    elif getattr(request, "_was_iter", False) or isinstance(body, (list, tuple)):
        chunks = list(body or [])
        body = b"".join(chunks) if all(isinstance(c, (bytes, bytearray)) for c in chunks) else None
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else None


def _filtered_names(entries: Any) -> frozenset[str]:
    """The names of a VCR filter list (``["x-key", ("token", "X")]``), lower-cased."""
    return frozenset(str(e[0] if isinstance(e, tuple) else e).lower() for e in _hooks(entries))


def _request_secrets(uri: Any, headers: Any, body: Any, filtered: frozenset[str] = frozenset()) -> list[str]:
    """The secret values a request carries (what scrubbing it would remove), without changing it.

    ``filtered``: lower-cased names the user's VCR filters hide (headers, query and body parameters): their values
    are secrets too, whatever the name.
    """
    hits: list[_scrub.Hit] = []
    if isinstance(uri, str):
        _scrub_uri(uri, hits)
        if filtered and "?" in uri:
            query = uri.partition("?")[2].partition("#")[0]
            hits += [("", "filtered", unquote_plus(value)) for name, _, value in
                     (item.partition("=") for item in query.split("&")) if unquote_plus(name).lower() in filtered]
    pairs = [(n, v) for n, values in headers.items() for v in (values if isinstance(values, list) else [values])
             ] if isinstance(headers, Mapping) else []
    for name, raw in pairs:
        if isinstance(name, str) and (value := text_value(raw)) is not None:
            _header_value(name, value, "", hits, response=False)
            if name.lower() in filtered:
                hits.append(("", "filtered", value))
    if isinstance(body, bytes) and filtered:
        try:
            body = json.loads(body) if body.lstrip()[:1] in (b"{", b"[") else body
        except (ValueError, RecursionError):
            pass
    if isinstance(body, (dict, list)):
        _scrub.scan_json(body, "", hits)
        stack: list[Any] = [body] if filtered else []
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                hits += [("", "filtered", str(v)) for k, v in node.items() if str(k).lower() in filtered
                         and isinstance(v, (str, int, float)) and not isinstance(v, bool)]
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    elif isinstance(body, bytes):
        _scrub.scan_body(body, content_type(pairs), "", hits)
    return [secret for _, _, secret in hits]


def learn_request(request: Any, known: KnownSecrets, filtered: frozenset[str] = frozenset()) -> Any:
    """Add the secrets a VCR request carries to ``known``; return the request unchanged.

    :func:`configure_vcr` runs this before any of VCR's filters (``filter_headers`` would hide a header's value
    from :func:`scrub_request`), so the value of every credential sent is known when the response is recorded;
    the values of the headers and parameters those filters name (``filtered``, lower-cased) count as secrets too.
    """
    if request is not None and not getattr(request, _LEARNED, False):
        body = getattr(request, "body", None)
        known.add(*_request_secrets(getattr(request, "uri", None), getattr(request, "headers", None),
                                    body if isinstance(body, dict) else _read_body(request), filtered))
        try:
            setattr(request, _LEARNED, True)  # VCR hands the same request (or deep copies of it) to every hook
        except AttributeError:
            pass
    return request


_LEARNED = "_chatcontract_learned"


def scrub_request(request: Any, known: KnownSecrets | None = None) -> Any:
    """Scrub a ``vcr.request.Request`` in place and return it (VCR's ``before_record_request`` passes a copy).

    Secret headers keep their name with the value :data:`PLACEHOLDER` (the cassette shows a key was sent), secret
    query parameters get the percent-encoded placeholder (other parameters keep their order and encoding), the
    body is scrubbed as JSON (re-serialized in its own style, only if a secret was found), as text, or left alone
    if binary. Every value taken out is added to ``known`` (a new set if not given), and every secret known there is
    replaced wherever else it appears (a key sent in a header and repeated in the body, whatever its shape).
    ``None`` (a request a previous hook dropped) and odd objects are returned unchanged.
    """
    if request is None:
        return request
    known = KnownSecrets() if known is None else known
    learn_request(request, known)
    hits: list[_scrub.Hit] = []
    uri = getattr(request, "uri", None)
    if isinstance(uri, str):
        request.uri = _scrub_uri(uri, hits, known)
    headers: Any = getattr(request, "headers", None)
    if isinstance(headers, MutableMapping):
        for name in [n for n in headers if isinstance(n, str)]:
            value = text_value(headers[name])
            new = None if value is None else _header_value(name, value, "request.headers", hits, response=False,
                                                             known=known)
            if new is not None and new != value:
                headers[name] = new
    if isinstance(getattr(request, "body", None), dict):
        request.body = _scrub.scan_json(request.body, "$", hits, known)
    elif (body := _read_body(request)) is not None:
        ctype = content_type(headers.items()) if isinstance(headers, Mapping) else ""
        new_body = _scrub.scan_body(body, ctype, "request.body", hits, known)
        if new_body is not body:
            was_iter = getattr(request, "_was_iter", False) and not getattr(request, "_was_file", False)
            request.body = [new_body] if was_iter else new_body
            for name in [n for n in headers or () if str(n).lower() == "content-length"]:
                headers[name] = str(len(new_body))
    known.add(*(secret for _, kind, secret in hits if kind != "request-secret"))  # what earlier hooks added
    return request


def _header_list(headers: Any) -> Headers:
    if not isinstance(headers, Mapping):
        return []
    out: Headers = []
    for name, values in headers.items():
        items = values if isinstance(values, (list, tuple)) else [values]
        out.append((str(name), [t for t in map(text_value, items) if t is not None]))
    return out


def _scrub_response_parts(headers: Headers, body: bytes, hits: list[_scrub.Hit],
                          known: _scrub.KnownSecrets | None = None) -> tuple[Headers, bytes]:
    headers, body = decode_content(headers, body)
    kept: Headers = []
    for name, values in headers:
        new_values = [_header_value(name, v, "response.headers", hits, response=True, known=known) for v in values]
        if not _scrub.is_secret_header(name, response=True):
            kept.append((name, [v for v in new_values if v is not None]))
    new_body = _scrub.scan_body(body, content_type(kept), "response.body", hits, known)
    return (kept if new_body is body else set_content_length(kept, len(new_body))), new_body


def scrub_response(response: dict[str, Any], known: KnownSecrets | None = None) -> dict[str, Any]:
    """A scrubbed copy of VCR's response dict (``status``, ``headers: {name: [values]}``, ``body: {"string": ...}``).

    Credential headers (``Set-Cookie``, ``X-Debug-Token``, ``*-Api-Key``, ``*-Secret`` ...) are removed; a
    compressed body VCR did not decode is decoded first (``Content-Encoding`` dropped, ``Content-Length`` fixed);
    JSON bodies are scrubbed structurally, SSE bodies event by event with everything but the secrets
    byte-identical; ``Content-Length`` follows a changed body. Every secret in ``known`` (filled by
    :func:`scrub_request` from the requests) is replaced wherever it is echoed: other headers, bodies, SSE events,
    URLs.
    """
    if not isinstance(response, dict):
        return response
    out = dict(response)
    body = out.get("body")
    raw = body.get("string") if isinstance(body, dict) else None
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw) if isinstance(raw, (bytes, bytearray)) else b""
    headers, new_data = _scrub_response_parts(_header_list(out.get("headers")), data, [], known)
    out["headers"] = dict(headers)
    if isinstance(body, dict) and raw is not None and new_data is not data:
        out["body"] = {**body, "string": new_data.decode("utf-8", "surrogateescape") if isinstance(raw, str)
                       else new_data}
    return out


# -- matching ------------------------------------------------------------------------------------------------------
def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _json_diff(recorded: Any, live: Any, limit: int = 8) -> list[str]:
    """Where two JSON values differ (bool, number, string, null, array, object kinds are distinct), iteratively."""
    def kind(v: Any) -> str:
        return "bool" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else type(v).__name__

    diffs: list[str] = []
    stack: list[tuple[str, Any, Any]] = [("$", recorded, live)]
    while stack and len(diffs) < limit:
        path, a, b = stack.pop()
        if kind(a) != kind(b) or not isinstance(a, (dict, list)) and a != b:
            diffs.append(f"{path}: recorded {_short(a)}, this request {_short(b)}")
        elif isinstance(a, dict):
            for key in sorted(set(a) | set(b), reverse=True):
                sub = _scrub._json_path(path, key)
                if key not in b or key not in a:
                    side = "recorded" if key in a else "this request"
                    diffs.append(f"{sub}: only in {side} ({_short(a.get(key, b.get(key)))})")
                else:
                    stack.append((sub, a[key], b[key]))
        elif isinstance(a, list):
            if len(a) != len(b):
                diffs.append(f"{path}: {len(a)} items recorded, {len(b)} in this request")
            stack.extend((f"{path}[{i}]", x, y) for i, (x, y) in reversed(list(enumerate(zip(a, b, strict=False)))))
    return diffs[:limit]


def _matchable(request: Any) -> tuple[bytes, Any]:
    body = _read_body(request) or b""
    headers = getattr(request, "headers", None)
    ctype = content_type(headers.items()) if isinstance(headers, Mapping) else ""
    body = _scrub.scan_body(body, ctype, "", [])
    try:
        return body, json.loads(body) if body.strip() else _NOT_JSON
    except (ValueError, RecursionError):
        return body, _NOT_JSON


_NOT_JSON = object()


def json_body_matcher(r1: Any, r2: Any) -> None:
    """VCR matcher: request bodies equal as parsed JSON (key order ignored), after scrubbing both sides.

    VCR 9.x calls matchers with the live request first and the recorded one second; a matcher returns None on a
    match and raises ``AssertionError`` with the difference otherwise (VCR shows it in its "no match" report).
    Bodies that are not both JSON are compared as scrubbed bytes.
    """
    live, live_json = _matchable(r1)
    recorded, recorded_json = _matchable(r2)
    if live_json is not _NOT_JSON and recorded_json is not _NOT_JSON:
        diffs = _json_diff(recorded_json, live_json)
        if diffs:
            raise AssertionError("JSON bodies differ (key order ignored):\n  " + "\n  ".join(diffs))
    elif live != recorded:
        raise AssertionError(f"bodies differ: {len(live)} bytes in this request, {len(recorded)} recorded "
                             f"({_short(live[:60].decode('utf-8', 'replace'))} vs "
                             f"{_short(recorded[:60].decode('utf-8', 'replace'))})")


# -- VCR configuration ---------------------------------------------------------------------------------------------
def _hooks(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, Iterable) else [value]


def _last(hooks: Any, ours: Any) -> list[Any]:
    """The hooks with ours appended last (and only once), so it sees what the user's hooks returned."""
    return [h for h in _hooks(hooks) if h is not ours] + [ours]


def _union(first: Any, second: Any) -> tuple[Any, ...]:
    """Filter entries of both lists (names or (name, replacement) pairs), first wins on a name (case-insensitive)."""
    out, seen = [], set()
    for entry in [*_hooks(first), *_hooks(second)]:
        name = str(entry[0] if isinstance(entry, tuple) else entry).lower()
        if name not in seen:
            seen.add(name)
            out.append(entry)
    return tuple(out)


def _learn_first(vcr: Any, known: KnownSecrets) -> None:
    """Make the request hook VCR builds for each cassette call :func:`learn_request` before its filters.

    VCR.py (4 to 9) builds that hook in ``VCR._build_before_record_request(options)``: filters first, then the
    ``before_record_request`` hooks, on a deep copy. Without that method (another VCR), :func:`scrub_request`
    still learns what the filters left.
    """
    build = getattr(vcr, "_build_before_record_request", None)
    if build is None or getattr(build, "chatcontract_wrapped", False):
        return

    def build_learning_first(options: Any) -> Any:
        inner = build(options)
        filtered = frozenset().union(*(_filtered_names(options.get(name, getattr(vcr, name, None))) for name in (
            "filter_headers", "filter_query_parameters", "filter_post_data_parameters")))

        def before_record_request(request: Any) -> Any:
            learn_request(request, known, filtered)
            return inner(request)

        return before_record_request

    build_learning_first.chatcontract_wrapped = True  # type: ignore[attr-defined]
    vcr._build_before_record_request = build_learning_first


def configure_vcr(vcr: Any) -> None:
    """Install chatcontract's defaults on a VCR instance (pytest-recording creates one per test).

    Registers :func:`json_body_matcher` as ``"chatcontract_json_body"``; sets ``match_on`` to
    :data:`DEFAULT_MATCH_ON` unless something already changed VCR's default, ``decode_compressed_response = True``,
    ``filter_headers`` (secret request headers -> placeholder) and appends :func:`scrub_request` /
    :func:`scrub_response` to the instance hooks. Then wraps this instance's ``use_cassette`` so keyword arguments
    (the user's ``vcr_config`` and marker kwargs) are merged over these defaults instead of replacing them: the
    user's ``before_record_request``/``before_record``/``before_record_response`` run first and ours last on what
    they returned (a hook returning None still drops the interaction), ``filter_headers`` and
    ``filter_query_parameters`` are unions, ``match_on`` and ``decode_compressed_response`` are the user's if given.
    Before any of that (VCR's own filters included, which would hide the values), :func:`learn_request` takes note
    of the secrets each request carries (in one :class:`KnownSecrets` per VCR instance, so per test with
    pytest-recording), so that :func:`scrub_response` can redact them where the server echoes them. Calling it
    twice is harmless.
    """
    vcr.register_matcher(MATCHER_NAME, json_body_matcher)
    if tuple(vcr.match_on) == _VCR_DEFAULT_MATCH_ON:
        vcr.match_on = DEFAULT_MATCH_ON
    vcr.decode_compressed_response = True
    vcr.filter_headers = _union(vcr.filter_headers, [(h, PLACEHOLDER) for h in sorted(SECRET_REQUEST_HEADERS)])
    hooks = getattr(vcr, "_chatcontract_hooks", None)
    if hooks is None:
        known = KnownSecrets()  # one set per VCR instance: pytest-recording makes one per test
        hooks = vcr._chatcontract_hooks = (functools.partial(scrub_request, known=known),
                                           functools.partial(scrub_response, known=known), known)
    request_hook, response_hook, known = hooks
    vcr.before_record_request = _last(vcr.before_record_request, request_hook)
    vcr.before_record_response = _last(vcr.before_record_response, response_hook)
    _learn_first(vcr, known)
    if getattr(vcr.use_cassette, "chatcontract_wrapped", False):
        return
    original = vcr.use_cassette

    def use_cassette(path: Any = None, **kwargs: Any) -> Any:
        if "before_record_request" in kwargs or "before_record" in kwargs:
            user = _hooks(kwargs.pop("before_record", None)) + _hooks(kwargs.pop("before_record_request", None))
            kwargs["before_record_request"] = _last(user, request_hook)
        if "before_record_response" in kwargs:
            kwargs["before_record_response"] = _last(kwargs["before_record_response"], response_hook)
        for name in ("filter_headers", "filter_query_parameters"):
            if name in kwargs:
                kwargs[name] = _union(kwargs[name], getattr(vcr, name))
        return original(path, **kwargs)

    use_cassette.chatcontract_wrapped = True  # type: ignore[attr-defined]
    vcr.use_cassette = use_cassette
