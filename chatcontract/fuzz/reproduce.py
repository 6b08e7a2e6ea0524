"""Reproducers: the request as it was sent, and a ``curl`` line that replays it with the API key as ``$VAR``.

The ``curl`` line replays the body byte for byte: a body that is UTF-8 text without control characters goes in
``--data-raw '...'``; any other (a fuzzer's invalid UTF-8, a NUL, an escape character) is written by POSIX
``printf`` with octal escapes and piped to ``curl --data-binary @-``, never shown as mojibake.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from ..cassettes.secrets import is_secret_header
from .openapi import CHAT_PATH


def sent_body(response: Any, case: Any) -> Any:
    raw = getattr(getattr(response, "request", None), "body", None)
    if isinstance(raw, (bytes, str)) and raw:
        try:
            return json.loads(raw)
        except ValueError:
            # shown as text: bytes that are not UTF-8 as \xNN escapes, never as U+FFFD mojibake
            return raw if isinstance(raw, str) else raw.decode("utf-8", "backslashreplace")
    return case_body(case)


def raw_body(response: Any) -> bytes | None:
    """The body bytes as they were sent (None when unknown, e.g. no response came)."""
    raw = getattr(getattr(response, "request", None), "body", None)
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return bytes(raw) if isinstance(raw, (bytes, bytearray)) else None


def case_body(case: Any) -> Any:
    body = getattr(case, "body", None)
    return None if type(body).__name__ == "NotSet" else body


def header(headers: Any, name: str) -> str:
    value = None
    if isinstance(headers, Mapping):
        for key, item in headers.items():
            if key.lower() == name:
                value = item
                break
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value or "")


def request_line(case: Any, response: Any, root_url: str) -> tuple[str, str, dict[str, str]]:
    request = getattr(response, "request", None)
    if request is not None and getattr(request, "url", None):
        return str(request.method), str(request.url), {str(k): str(v) for k, v in request.headers.items()}
    headers = {str(k): str(v) for k, v in (getattr(case, "headers", None) or {}).items()}
    headers.setdefault("Content-Type", "application/json")
    return str(getattr(case, "method", "POST")).upper(), root_url + CHAT_PATH, headers


_DROPPED_HEADERS = (
    "content-length",
    "user-agent",
    "accept-encoding",
    "connection",
    "accept",
    "x-schemathesis-testcaseid",
)


def redact(name: str, value: str, env: str | None) -> str:
    if not is_secret_header(name):
        return value
    scheme, _, secret = value.partition(" ")
    placeholder = f"${env}" if env else "REDACTED"
    if secret and scheme.lower() in ("bearer", "basic", "token"):
        return f"{scheme} {placeholder}"
    return placeholder


def curl(method: str, url: str, headers: Mapping[str, str], body: Any, *, raw: bytes | None = None) -> str:
    """A shell line replaying the request; ``raw``: the body bytes as sent (preferred over ``body`` when known)."""
    parts = ["curl", "-X", method, shlex.quote(url)]
    for name, value in headers.items():
        if name.lower() in _DROPPED_HEADERS:
            continue
        header = f"{name}: {value}"
        # "$VAR" must stay expandable in the shell: double quotes for a redacted key, single quotes otherwise
        if "$" in value and is_secret_header(name):
            parts += ["-H", '"' + header.replace('"', '\\"') + '"']
        else:
            parts += ["-H", shlex.quote(header)]
    if raw is not None:
        text = _plain_text(raw)
        if text is None:
            return f"printf {_printf_format(raw)} | " + " ".join([*parts, "--data-binary", "@-"])
        if text:
            parts += ["--data-raw", shlex.quote(text)]
    elif body is not None:
        data = body if isinstance(body, str) else dumps(body)
        parts += ["--data-raw", shlex.quote(data)]
    return " ".join(parts)


def _plain_text(raw: bytes) -> str | None:
    """``raw`` as text when it is UTF-8 without control characters (a shell argument shows it as it is)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text):
        return None
    return text


def _printf_format(raw: bytes) -> str:
    """A single-quoted POSIX ``printf`` format that writes exactly ``raw`` (octal escapes for other bytes)."""
    out = []
    for byte in raw:
        ch = chr(byte)
        if ch == "%":
            out.append("%%")
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("'\\''")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'"


def dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return repr(value)
