"""Secret scrubbing for recorded HTTP interactions: the engine behind :mod:`chatcontract.cassettes`.

Everything here works on plain values (``str``, ``bytes``, header lists, parsed JSON), so it imports neither
VCR.py nor yaml. Scrubbing and auditing share one code path: every scanner takes a ``hits`` list and appends
``(location, kind, secret)`` for each value it replaces, so ``audit`` reports exactly what the scrubbers remove.
Nothing is deleted from bodies: a secret becomes :data:`PLACEHOLDER`, everything around it stays byte-identical.
Secrets are found by shape (:data:`SECRET_PATTERNS`), by the name they are stored under (headers, query parameters,
JSON keys), and, through :class:`KnownSecrets`, by value: whatever a request sent as a credential is searched for
wherever the response may echo it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

PLACEHOLDER = "<CHATCONTRACT-REDACTED>"
QUERY_PLACEHOLDER = quote(PLACEHOLDER, safe="")
"""The placeholder as it is written into URIs (percent-encoded, so the URI stays valid)."""
_PLACEHOLDERS = frozenset({PLACEHOLDER, QUERY_PLACEHOLDER})

Hit = tuple[str, str, str]
"""``(location, kind, secret)`` appended by the scanners for every replaced value."""

SECRET_REQUEST_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "api-key", "x-api-key", "x-goog-api-key",
    "openai-organization", "openai-project", "x-auth-token", "x-amz-security-token", "ocp-apim-subscription-key",
    "helicone-auth", "x-portkey-api-key", "cf-aig-authorization",
})
"""Request headers whose value is replaced by the placeholder (plus any name ending in one of ``_HEADER_SUFFIXES``)."""
SECRET_RESPONSE_HEADERS = frozenset({
    "set-cookie", "set-cookie2", "authorization", "proxy-authorization", "cookie", "api-key", "x-api-key",
    "x-goog-api-key", "openai-organization", "openai-project", "x-auth-token", "x-amz-security-token",
})
"""Response headers that are removed (plus any name ending in one of ``_HEADER_SUFFIXES``)."""
_HEADER_SUFFIXES = ("-api-key", "-apikey", "-token", "-secret", "-authorization", "-password", "-credential",
                    "-credentials", "-cookie")
SECRET_QUERY_PARAMS = frozenset({
    "api_key", "api-key", "apikey", "key", "token", "access_token", "access-token", "auth", "auth_token", "sig",
    "signature", "client_secret", "secret", "password", "subscription-key", "x-amz-signature", "x-amz-credential",
    "x-amz-security-token", "x-api-key", "x-goog-api-key", "api_token", "session_token", "refresh_token", "id_token",
})
"""Query parameters (case-insensitive) whose value is replaced by the percent-encoded placeholder."""
SECRET_BODY_KEYS = frozenset({
    "api_key", "apiKey", "x-api-key", "secret", "client_secret", "password", "passwd", "access_token",
    "refresh_token", "id_token", "auth_token", "session_token", "bearer_token", "private_key", "secret_key",
    "aws_secret_access_key", "authorization", "openai_api_key", "mistral_api_key", "anthropic_api_key",
    "hf_token", "github_token",
})
"""JSON keys whose string or number value is replaced. Matching ignores case, ``_`` and ``-`` and also catches names
ending in ``apikey``/``secret``/``password``/``accesstoken``/``privatekey`` (``openaiApiKey``, ``db_password``).
A bare ``token`` is a secret key only in parsed JSON, and only in an object that is not a logprobs entry (one with a
``logprob`` or ``bytes`` sibling: ``logprobs.content[].token``). Objects and arrays under a secret key are not
blanked but scanned, so a tool schema with a ``password`` property stays intact."""


def _norm_key(key: str) -> str:
    return re.sub(r"[\s_-]", "", key).lower()


_BODY_KEY_NORMS = frozenset(_norm_key(k) for k in SECRET_BODY_KEYS)
_BODY_KEY_SUFFIXES = ("apikey", "secret", "password", "accesstoken", "privatekey", "secretaccesskey", "authtoken",
                      "apitoken", "sessiontoken", "refreshtoken", "bearertoken", "securitytoken", "passwd")
_LOGPROB_SIBLINGS = ("logprob", "bytes", "top_logprobs")


def is_secret_key(key: str) -> bool:
    """Whether a JSON object key names a credential (see :data:`SECRET_BODY_KEYS`)."""
    norm = _norm_key(key)
    return norm in _BODY_KEY_NORMS or norm.endswith(_BODY_KEY_SUFFIXES)


def _is_secret_field(key: str, parent: dict[Any, Any]) -> bool:
    """Whether ``parent[key]`` holds a credential: a secret key name, or ``token`` outside a logprobs entry."""
    return is_secret_key(key) or (_norm_key(key) == "token" and not any(k in parent for k in _LOGPROB_SIBLINGS))


def is_secret_header(name: str, *, response: bool = False) -> bool:
    """Whether a header carries credentials (case-insensitive)."""
    low = name.strip().lower()
    return low in (SECRET_RESPONSE_HEADERS if response else SECRET_REQUEST_HEADERS) or low.endswith(_HEADER_SUFFIXES)


def is_redacted(value: str) -> bool:
    """Whether a value is empty or already the placeholder (raw or percent-encoded)."""
    value = value.strip()
    return not value or value in _PLACEHOLDERS or unquote_plus(value) in _PLACEHOLDERS


MIN_KNOWN_LENGTH = 8
"""Request secrets shorter than this are replaced where they were sent, but not searched for elsewhere."""
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "apikey", "api-key", "key", "sso-key", "hmac",
                           "negotiate", "ntlm", "aws4-hmac-sha256", "dpop", "mac", "otp"})
"""HTTP auth schemes (the word before the credentials in ``Authorization``); any other value is searched whole."""
_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9_-]*)[ \t]+(?P<credentials>\S.*)", re.S)


def _forms(secret: str) -> set[str]:
    """The parts of a secret an echo may show, each long enough to stand for it.

    After a known auth scheme (``Bearer X``), the credentials ``X``; for ``Basic``, also the decoded ``user:password``
    and the password; for cookies and ``name=value`` lists, each value; else the value itself.
    """
    value = secret.strip()
    if (match := _SCHEME.fullmatch(value)) and match["scheme"].lower() in _AUTH_SCHEMES:
        value = match["credentials"].strip()
        if match["scheme"].lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                decoded = ""
            if ":" in decoded:
                return {value, decoded, decoded.partition(":")[2]}
    if "=" in value and not value.rstrip("=").count("="):
        return {value}  # base64 padding, not name=value
    if "=" in value:
        parts = {item.strip().partition("=")[2].strip().strip('"') for item in value.split(";")}
        return {part for part in parts if part} | {value}
    return {value}


def _encodings(value: str) -> set[str]:
    """The ways a value is written where it is echoed: as is, percent-encoded, JSON-escaped."""
    return {value, quote(value, safe=""), quote_plus(value, safe=""), json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1]}


class KnownSecrets:
    """Secret values taken out of requests, redacted wherever else they appear, whatever their shape.

    A key sent in an ``api-key`` header has no recognisable shape; once the request scrubber has taken it out, the
    value itself is known and is searched for in the response headers and bodies, SSE events and URLs (raw,
    percent-encoded and JSON-escaped; for ``Basic`` credentials also decoded). Values shorter than
    :data:`MIN_KNOWN_LENGTH` are left out (a cookie ``lang=en`` must not blank every "en"). Thread-safe to fill.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._regex: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self.add(*secrets)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def add(self, *secrets: str) -> None:
        """Remember secrets (and their echo forms) to be redacted from now on."""
        new = {encoded for secret in secrets for form in _forms(secret) for encoded in _encodings(form)
               if len(encoded) >= MIN_KNOWN_LENGTH and not is_redacted(encoded) and PLACEHOLDER not in encoded
               and QUERY_PLACEHOLDER not in encoded}
        if new - self._values:
            with self._lock:
                self._values |= new
                self._regex = None

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, "request-secret")`` for every occurrence of a known value in ``text``."""
        if not self._values or len(text) < MIN_KNOWN_LENGTH:
            return []
        regex = self._regex
        if regex is None:
            with self._lock:
                regex = self._regex = re.compile("|".join(map(re.escape, sorted(self._values, key=len,
                                                                                 reverse=True))))
        return [(m.start(), m.end(), "request-secret") for m in regex.finditer(text)]


@dataclass(frozen=True)
class SecretPattern:
    """One secret shape: ``regex`` group ``group`` is the secret; ``check`` (if any) must accept the match."""

    name: str
    regex: re.Pattern[str]
    description: str
    group: str | int = 0
    check: Callable[[re.Match[str]], bool] | None = None
    hint: str = ""
    """A substring every match contains: texts without it skip the regex."""


def _is_basic_credentials(match: re.Match[str]) -> bool:
    try:
        text = base64.b64decode(match["s"], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in text and text.isprintable()


_B = r"(?<![A-Za-z0-9_-])"  # left boundary: not inside a longer identifier such as "task-..." or "cmpl-..."
_KV_NAMES = (r"api[_-]?key|x-api-key|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token"
             r"|client[_-]?secret|password|passwd|secret|token")


def _pattern(name: str, regex: str, description: str, group: str | int = 0, hint: str = "",
             check: Callable[[re.Match[str]], bool] | None = None, flags: int = 0) -> SecretPattern:
    return SecretPattern(name, re.compile(regex, flags), description, group, check, hint)


def _secret_key_match(match: re.Match[str]) -> bool:
    return is_secret_key(match["k"])


SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    _pattern("private-key", r"-----BEGIN[A-Z ]{0,40} PRIVATE KEY-----.*?-----END[A-Z ]{0,40} PRIVATE KEY-----",
             "a PEM private key block, whole", hint="PRIVATE KEY", flags=re.S),
    _pattern("jwt", _B + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
             "a JSON Web Token: base64url '{\"' header and payload, optional signature", hint="eyJ"),
    _pattern("anthropic-key", _B + r"sk-ant-[a-z]+\d\d-[A-Za-z0-9_-]{20,}",
             "Anthropic: sk-ant-api03-..., sk-ant-admin01-...", hint="sk-ant-"),
    _pattern("openai-key", _B + r"sk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}",
             "sk- then 20+ of [A-Za-z0-9_-] including a digit: OpenAI sk-/sk-proj-/sk-svcacct-/sk-admin-, "
             "OpenRouter sk-or-v1-, DeepSeek; 'sk-learn', 'ask-...', 'risk-...' do not match", hint="sk-"),
    _pattern("provider-key", _B + r"(?:gsk_|xai-|pplx-)[A-Za-z0-9]{40,}|" + _B + r"(?:hf_|r8_)[A-Za-z0-9]{30,}",
             "Groq gsk_, xAI xai-, Perplexity pplx- (40+ alphanumerics), Hugging Face hf_, Replicate r8_ (30+)"),
    _pattern("github-token", r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
             "GitHub ghp_/gho_/ghu_/ghs_/ghr_ and fine-grained github_pat_ tokens"),
    _pattern("google-api-key", _B + r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", "Google: AIza + 35", hint="AIza"),
    _pattern("aws-access-key-id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
             "AWS access key ids: AKIA/ASIA + 16 upper-case alphanumerics"),
    _pattern("slack-token", _B + r"xox[abposr]-[A-Za-z0-9-]{10,}", "Slack xoxb-/xoxp-/... tokens", hint="xox"),
    _pattern("bearer-token", r"(?i:\bbearer)[ \t]+(?P<s>(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{12,}=*)",
             "the token after 'Bearer ' (RFC 6750 characters, 12+ with a digit); 'the bearer of' is prose", "s"),
    _pattern("basic-auth", r"(?i:\bbasic)[ \t]+(?P<s>[A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])",
             "the credentials after 'Basic ', only if they base64-decode to printable 'user:password'", "s",
             check=_is_basic_credentials),
    _pattern("url-credentials", r"(?<=://)[^/\s:@\"'<>]{1,256}:(?P<s>[^/\s@\"'<>]{1,256})@",
             "the password in scheme://user:password@host", "s", hint="://"),
    _pattern("bare-key-32", r"(?<![A-Za-z0-9_\-./+])(?=[A-Za-z0-9]{0,31}[A-Z])(?=[A-Za-z0-9]{0,31}[a-z])"
             r"(?=[A-Za-z0-9]{0,31}\d)[A-Za-z0-9]{32}(?![A-Za-z0-9_\-/+=])",
             "a standalone 32-char token mixing upper case, lower case and digits (Mistral keys). Hex ids "
             "(cmpl-<32 hex>, Mistral's bare 32-hex ids, uuids) are single-case; runs inside ids, paths or base64 "
             "(next to - _ . / + =) are skipped"),
    _pattern("secret-key", r'"(?P<k>[^"\\\r\n]{1,64})"[ \t\r\n]*:[ \t\r\n]*"(?P<s>(?:[^"\\\r\n]|\\.)*)"',
             'the string value of a secret key (SECRET_BODY_KEYS) in JSON text: "api_key": "..."', "s", '"',
             _secret_key_match),
    _pattern("secret-key", r'\\"(?P<k>[^"\\\r\n]{1,64})\\"[ \t]*:[ \t]*'
             r'\\"(?P<s>(?:[^"\\\r\n]|\\\\\\\\|\\[^"\\\r\n])*)\\"',
             'the same inside JSON-encoded JSON (tool-call arguments): \\"password\\": \\"...\\"', "s", '\\"',
             _secret_key_match),
    _pattern("secret-param", r"(?i)(?<![A-Za-z0-9_-])(?:" + _KV_NAMES + r")=(?P<s>[^&\s\"'<>#;,]+)",
             "the value in name=value text (form bodies, URLs inside text) for credential names", "s", "="),
    _pattern("secret-param", r"(?i)[?&](?:" + "|".join(map(re.escape, sorted(SECRET_QUERY_PARAMS, key=len,
                                                                                reverse=True)))
             + r")=(?P<s>[^&\s\"'<>#;,\\]+)",
             "a credential query parameter (SECRET_QUERY_PARAMS: key=, sig=, ...) of a URL inside text", "s", "="),
)


def secret_spans(text: str, known: KnownSecrets | None = None) -> list[tuple[int, int, str]]:
    """Merged ``(start, end, kind)`` spans of every secret-shaped substring of ``text``, in order (``known``: too)."""
    if len(text) < 7:  # shorter than the shortest match ('"k":"v"', 'token=x', '://u:p@')
        return []
    found = list(_cached_spans(text)) if len(text) <= 64 else _spans(text)
    extra = known.spans(text) if known else []
    return _merge(found + extra) if extra else found


@functools.lru_cache(maxsize=4096)
def _cached_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(_spans(text))  # JSON keys and short values repeat a lot


def _spans(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for pattern in SECRET_PATTERNS:
        if pattern.hint not in text:
            continue
        for match in pattern.regex.finditer(text):
            start, end = match.span(pattern.group)
            if start == end or is_redacted(match.group(pattern.group)):
                continue
            if pattern.check is None or pattern.check(match):
                found.append((start, end, pattern.name))
    return _merge(found)


def _merge(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    found.sort(key=lambda span: (span[0], -span[1]))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in found:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
        else:
            merged.append((start, end, kind))
    return merged


def scan_text(text: str, where: str, hits: list[Hit], placeholder: str = PLACEHOLDER,
              known: KnownSecrets | None = None) -> str:
    """``text`` with every secret-shaped substring (``known`` secrets too) replaced; one hit per replacement."""
    return _replace(text, secret_spans(text, known), where, hits, placeholder)


def _replace(text: str, spans: list[tuple[int, int, str]], where: str, hits: list[Hit],
             placeholder: str = PLACEHOLDER) -> str:
    if not spans:
        return text
    out, last = [], 0
    for start, end, kind in spans:
        hits.append((where, kind, text[start:end]))
        out += [text[last:start], placeholder]
        last = end
    out.append(text[last:])
    return "".join(out)


def _json_path(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else f"{path}[{json.dumps(key)}]"


_Path = tuple[Any, ...]
"""A JSON path as a linked list ``(parent, key)`` (root: ``(prefix,)``), rendered only for hits: O(depth) per hit."""


def _render(node: _Path) -> str:
    keys = []
    while len(node) == 2:
        node, key = node
        keys.append(_json_path("", key))
    return str(node[0]) + "".join(reversed(keys))


def scan_json(obj: Any, where: str, hits: list[Hit], known: KnownSecrets | None = None) -> Any:
    """A scrubbed copy of parsed JSON, built iteratively (no recursion limit on deep documents).

    Scalar values under secret keys become the placeholder (hit kind ``secret-key``); every other string, keys
    included, goes through :func:`scan_text` (with ``known``). ``where`` is the location prefix, e.g.
    ``"request.body$"``.
    """
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, _Path]] = [(obj, root, 0, (where,))]
    copies: dict[int, Any] = {}  # containers shared through YAML aliases are copied (and scanned) once
    while stack:
        value, parent, slot, path = stack.pop()
        if isinstance(value, (dict, list, tuple)) and id(value) in copies:
            parent[slot] = copies[id(value)]
            continue
        if isinstance(value, dict):
            new: Any = copies.setdefault(id(value), {})
            for key, child in value.items():
                child_path = (path, key)
                new_key = _replace(key, spans, _render(path), hits) if isinstance(key, str) and (
                    spans := secret_spans(key, known)) else key
                secret = isinstance(key, str) and _is_secret_field(key, value) and not isinstance(
                    child, (bool, dict, list))
                if secret and child is not None and not (isinstance(child, str) and is_redacted(child)):
                    hits.append((_render(child_path), "secret-key", str(child)))
                    new[new_key] = PLACEHOLDER
                else:
                    new[new_key] = None
                    stack.append((child, new, new_key, child_path))
        elif isinstance(value, (list, tuple)):
            new = copies.setdefault(id(value), [None] * len(value))
            stack.extend((child, new, i, (path, i)) for i, child in enumerate(value))
        elif isinstance(value, str):
            new = _replace(value, spans, _render(path), hits) if (spans := secret_spans(value, known)) else value
        else:
            new = value
        parent[slot] = new
    return root[0]


_DUMP_STYLES: tuple[dict[str, Any], ...] = (
    {"separators": (",", ":"), "ensure_ascii": False}, {"separators": (",", ":"), "ensure_ascii": True},
    {"separators": (", ", ": "), "ensure_ascii": False}, {"separators": (", ", ": "), "ensure_ascii": True},
    {"indent": 2, "ensure_ascii": False}, {"indent": 2, "ensure_ascii": True},
)


def _scan_json_text(text: str, where: str, hits: list[Hit], known: KnownSecrets | None = None) -> str:
    """Scrub a JSON document given as text; re-serialize (in the original's style) only if a secret was found."""
    local: list[Hit] = []
    try:
        old = json.loads(text)
        new = scan_json(old, where + "$", local, known)
        if not local:
            return text
        core = text.strip()
        style = next((s for s in _DUMP_STYLES if json.dumps(old, **s) == core), _DUMP_STYLES[0])
        out = json.dumps(new, **style)
        out.encode("utf-8")  # lone surrogates from \ud800 escapes cannot be written unescaped
    except UnicodeEncodeError:
        out = json.dumps(new, **{**style, "ensure_ascii": True})
    except (ValueError, RecursionError, TypeError):
        return scan_text(text, where, hits, known=known)
    hits.extend(local)
    return text[: len(text) - len(text.lstrip())] + out + text[len(text.rstrip()):]


# -- Server-Sent Events ------------------------------------------------------------------------------------------
_STRING_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_DELTA_FIELDS = frozenset({"content", "arguments", "reasoning_content", "reasoning", "text", "refusal", "thinking",
                           "partial_json", "delta"})
"""String fields streamed piecewise; their fragments are joined across events to find secrets split between chunks."""


def _string_leaves(obj: Any) -> list[tuple[bool, tuple[Any, ...], str]]:
    """Every string of a parsed JSON value in document order: ``(is_value, stream_key, text)``.

    The stream key is the path with array positions replaced by an element's integer ``index`` field, so the
    fragments of ``choices[index=0].delta.content`` line up across chunks whatever the array order.
    """
    out: list[tuple[bool, tuple[Any, ...], str]] = []
    stack: list[tuple[bool, tuple[Any, ...], Any]] = [(True, (), obj)]
    while stack:
        is_value, key, value = stack.pop()
        if not is_value or isinstance(value, str):
            out.append((is_value, key, value))
        elif isinstance(value, dict):
            pending: list[tuple[bool, tuple[Any, ...], Any]] = []
            for name, child in value.items():
                pending += [(False, key, name), (True, (*key, name), child)]
            stack.extend(reversed(pending))
        elif isinstance(value, list):
            stack.extend(reversed([
                (True, (*key, ("#", c["index"] if isinstance(c, dict) and type(c.get("index")) is int else i)), c)
                for i, c in enumerate(value)]))
    return out


def _raw_offsets(raw: str) -> list[int]:
    """Offset in a JSON string literal's raw text (between the quotes) of each decoded character, plus the end."""
    offsets, i = [], 0
    while i < len(raw):
        offsets.append(i)
        if raw[i] != "\\":
            i += 1
        elif raw[i + 1] != "u":
            i += 2
        elif 0xD800 <= int(raw[i + 2:i + 6], 16) < 0xDC00 and re.match(r"\\u[dD][c-fC-F]", raw[i + 6:i + 9]):
            i += 12  # a surrogate pair decodes to one character
        else:
            i += 6
    offsets.append(len(raw))
    return offsets


def _split_secrets(lines: list[str], events: list[int], where: str, hits: list[Hit],
                   known: KnownSecrets | None = None) -> None:
    """Find secrets in streamed text fields joined across events; edit the raw ``data:`` lines in place."""
    tokens: dict[int, list[tuple[int, int]]] = {}
    streams: dict[tuple[Any, ...], list[tuple[int, int, str]]] = {}
    for n, line in enumerate(lines):
        if not line.startswith("data:"):
            continue
        try:
            obj = json.loads(line[5:])
        except (ValueError, RecursionError):
            continue
        spans = [m.span() for m in _STRING_TOKEN.finditer(line, 5)]
        leaves = _string_leaves(obj)
        if len(spans) != len(leaves) or any(
                json.loads(line[s:e]) != leaf[2] for (s, e), leaf in zip(spans, leaves, strict=True)):
            continue  # duplicate keys or odd escapes: leave the line to the per-line scan
        tokens[n] = spans
        for t, (is_value, key, text) in enumerate(leaves):
            if is_value and key and key[-1] in _DELTA_FIELDS:
                streams.setdefault(key, []).append((n, t, text))
    edits: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for fragments in streams.values():
        joined, starts = "", []
        for _, _, text in fragments:
            starts.append(len(joined))
            joined += text
        for start, end, kind in secret_spans(joined, known):
            touched = [i for i, s in enumerate(starts) if s < end and s + len(fragments[i][2]) > start]
            first, last = events[fragments[touched[0]][0]], events[fragments[touched[-1]][0]]
            label = f" (SSE event {first})" if first == last else f" (SSE events {first}-{last})"
            hits.append((where + label, kind, joined[start:end]))
            for j, i in enumerate(touched):
                lo, hi = max(start - starts[i], 0), min(end - starts[i], len(fragments[i][2]))
                edits.setdefault(fragments[i][:2], []).append((lo, hi, PLACEHOLDER if j == 0 else ""))
    for (n, t), token_edits in sorted(edits.items(), reverse=True):
        s, e = tokens[n][t]
        raw = lines[n][s + 1:e - 1]
        offsets = _raw_offsets(raw)
        for lo, hi, repl in sorted(token_edits, reverse=True):
            raw = raw[: offsets[lo]] + repl + raw[offsets[hi]:]
        lines[n] = lines[n][: s + 1] + raw + lines[n][e - 1:]


def scan_sse(text: str, where: str, hits: list[Hit], known: KnownSecrets | None = None) -> str:
    """Scrub a ``text/event-stream`` body without touching its framing.

    Lines, line endings, comments, blank lines and ``[DONE]`` stay byte-identical; only secret substrings change.
    Secrets streamed across several events (a key echoed token by token in ``delta.content``) are found in the
    joined fragments and replaced where they lie: the first fragment gets the placeholder, the following ones lose
    their share. Hits say ``(SSE event N)`` or ``(SSE events N-M)``, events counted from 0.
    """
    parts = re.split(r"(\r\n|\r|\n)", text)
    lines, seps = parts[0::2], [*parts[1::2], ""]
    events, event, open_block = [], 0, False
    for line in lines:
        if line:
            open_block = True
        elif open_block:
            event, open_block = event + 1, False
        events.append(event)
    _split_secrets(lines, events, where, hits, known)
    lines = [_scan_sse_line(line, f"{where} (SSE event {events[n]})", hits, known) for n, line in enumerate(lines)]
    return "".join(line + sep for line, sep in zip(lines, seps, strict=True))


_KEY_HINT = re.compile(r'(?i)(?:token|key|secret|pass|auth|cred)[^"\\]{0,40}"\s*:')
"""Every secret key name (:func:`_is_secret_field`) holds one of these: lines without one are not parsed again."""


def _scan_sse_line(line: str, where: str, hits: list[Hit], known: KnownSecrets | None) -> str:
    """One SSE line by shape; a JSON ``data:`` line also by key (``{"auth": {"token": ...}}``), edited in place."""
    line = scan_text(line, where, hits, known=known)
    if line.startswith("data:") and "{" in line and _KEY_HINT.search(line):
        local: list[Hit] = []
        try:
            scan_json(json.loads(line[5:]), "", local)
        except (ValueError, RecursionError):
            local = []
        for value in dict.fromkeys(secret for _, kind, secret in local if kind == "secret-key"):
            for escaped in {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}:
                # the value as a whole JSON string after a colon: a short one is not blanked elsewhere in the line
                line, count = re.subn(r'(:[ \t]*")' + re.escape(escaped) + '"', lambda m: f'{m[1]}{PLACEHOLDER}"',
                                      line)
                hits.extend([(where, "secret-key", value)] * count)
    return line


def _scan_binary(body: bytes, where: str, hits: list[Hit], known: KnownSecrets | None) -> bytes:
    """A binary body with the known secrets replaced where they occur as ASCII bytes (credentials are ASCII)."""
    text = body.decode("latin-1")  # one character per byte: offsets are byte offsets
    spans = known.spans(text) if known else []
    return _replace(text, spans, where + " (binary)", hits).encode("latin-1") if spans else body


def scan_body(body: bytes, content_type: str, where: str, hits: list[Hit], known: KnownSecrets | None = None) -> bytes:
    """Scrub a body by its type: SSE event-preserving, JSON structurally, other UTF-8 text by shape.

    ``known`` secrets (taken out of the request) are replaced wherever they occur, whatever their shape, binary
    bodies included (as their bytes); secret shapes are not searched for in binary bodies.
    """
    if not body:
        return body
    sse = "event-stream" in content_type.lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        if not sse:
            return _scan_binary(body, where, hits, known)
        text = body.decode("utf-8", "surrogateescape")
    if "\x00" in text and not sse:
        return _scan_binary(body, where, hits, known)
    if sse:
        new = scan_sse(text, where, hits, known)
    elif "json" in content_type.lower() or text.lstrip()[:1] in ("{", "["):
        new = _scan_json_text(text, where, hits, known)
    else:
        new = scan_text(text, where, hits, known=known)
    return body if new == text else new.encode("utf-8", "surrogateescape")


def mask(secret: str) -> str:
    """An excerpt safe to print: at most the first 4 characters (never more than half), then an ellipsis."""
    return secret[: min(4, len(secret) // 2)] + "…"
