"""Turning anything into one internal form: the only module that knows about foreign types.

Accepted payloads: ``bytes``/``bytearray``/``memoryview`` and ``str`` (a JSON body or SSE text), a parsed ``dict`` or
``list``, an ``httpx.Response``, a ``requests.Response``, or an SDK object with ``model_dump()`` (mistralai, openai).
Foreign types are recognised by duck typing and module name, so none of those libraries is imported here.

JSON is parsed strictly (:func:`parse_json`): invalid UTF-8, a byte-order mark, duplicate keys, NaN/Infinity,
numbers that do not fit 64 bits, excessive nesting, an empty body, HTML and truncated JSON all become violations
at ``$`` or at the right path, never exceptions.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jiter

from . import _accel
from ._exceptions import UsageError
from .violations import Hit, hit

__all__ = [
    "MISSING", "Received", "coerce", "json_type", "parse_json", "parse_request", "parsed_findings", "without_echoes",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""Marks a document that could not be parsed."""

_BOM = b"\xef\xbb\xbf"
# Numbers that may not survive as IEEE doubles / 64-bit integers have a run of 19+ digits or a 3-digit exponent.
# A translated copy of the body (digits -> 0, e/E -> e, decimal point -> d, number delimiters -> :, anything else
# -> .) is searched with `in`/`find`, at C speed; a regex scan cost ~10x more per byte. A hit only means "walk
# the parsed document to be sure".
def _shape_byte(i: int) -> int:
    c = chr(i)
    if "0" <= c <= "9":
        return ord("0")
    if c in "eE":
        return ord("e")
    if c == "+":
        return ord("+")
    if c == ".":
        return ord("d")
    if c in ":,[- \t\r\n":
        return ord(":")
    return ord(".")


_NUMBER_SHAPE = bytes(_shape_byte(i) for i in range(256))
_LONG_DIGITS = b"0" * 19
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Finding = tuple[str, Hit]
"""A parse-stage finding: the rule code and the hit."""


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value: null, boolean, integer, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


@dataclass(slots=True, kw_only=True)
class Received:
    """A payload in internal form: raw body and/or parsed document, plus what is known about the exchange."""

    body: bytes | None = None
    doc: Any = MISSING
    chunks: Iterable[bytes] | None = None  # a body still to be read (streaming responses)
    status: int | None = None
    content_type: str | None = None
    request: Mapping[str, Any] | None = None

    @property
    def is_event_stream(self) -> bool:
        """Whether the content type says ``text/event-stream``."""
        return bool(self.content_type) and "text/event-stream" in (self.content_type or "").lower()


def _snippet(text: str, pos: int, width: int = 40) -> str:
    start = max(0, pos - width // 2)
    return text[start : start + width]


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype", "<html", "<head", "<body", "<?xml", "<h1", "<title"))


def _position(message: str, text: str) -> int | None:
    m = re.search(r"line (\d+) column (\d+)", message)
    if not m:
        return None
    line, col = int(m.group(1)), int(m.group(2))
    offset = 0
    for _ in range(line - 1):
        nl = text.find("\n", offset)
        if nl < 0:
            break
        offset = nl + 1
    return offset + max(col - 1, 0)


_Link = tuple[Any, Any]  # (key, parent link): a location as a linked list, built into a tuple only when needed


def _loc(link: _Link | None) -> tuple[str | int, ...]:
    """The location ``link`` stands for.

    A key holding a lone surrogate is named as the rules' document has it (the surrogate replaced by U+FFFD), so
    that every location can be written as UTF-8.
    """
    out: list[str | int] = []
    while link is not None:
        seg = link[0]
        out.append(_LONE_SURROGATE.sub("\ufffd", seg) if type(seg) is str and _LONE_SURROGATE.search(seg) else seg)
        link = link[1]
    return tuple(reversed(out))


def _walk(doc: Any, max_depth: int = 10_000) -> Iterator[tuple[_Link | None, Any, int]]:
    """Every node with its location link and depth; does not descend below ``max_depth`` (iterative)."""
    stack: list[tuple[_Link | None, Any, int]] = [(None, doc, 0)]
    while stack:
        link, node, depth = stack.pop()
        yield link, node, depth
        if depth >= max_depth:
            continue
        if isinstance(node, dict):
            stack.extend(((k, link), v, depth + 1) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((i, link), v, depth + 1) for i, v in reversed(list(enumerate(node))))


MAX_DEPTH = 200


def number_findings(doc: Any, *, depth: bool = False, strings: bool = False) -> list[Finding]:
    """CC108 / CC005 for numbers that do not survive as 64-bit integers or doubles.

    With ``depth``, CC006 too; with ``strings``, CC009 for strings and keys holding a lone surrogate.
    """
    out: list[Finding] = []
    for link, node, level in _walk(doc, MAX_DEPTH if depth else 10_000):
        if isinstance(node, bool):
            continue
        if strings and isinstance(node, (str, dict)):
            out.extend(_lone_surrogates(link, node))
            if isinstance(node, str):
                continue
        if isinstance(node, int) and not INT64_MIN <= node <= INT64_MAX:
            digits = int(node.bit_length() * 0.30103) + 1
            out.append(("CC108", hit(_loc(link), f"Integer with about {digits} digits does not fit in 64 bits.", node)))
        elif isinstance(node, float) and not math.isfinite(node):
            out.append(("CC005", hit(_loc(link), f"Number {node!r} is not finite; JSON numbers must be.", str(node))))
        elif depth and level == MAX_DEPTH and isinstance(node, (dict, list)) and node:
            out.append(("CC006", hit((), f"The document is nested deeper than {MAX_DEPTH} levels.", None)))
            break
    return out


def parsed_findings(doc: Any) -> tuple[Any, list[Finding]]:
    r"""The parser's findings that still apply to a document the caller parsed, and the document the rules see.

    A dict from ``response.json()`` or an SDK's ``model_dump()`` may hold what the parser reports in bytes: numbers
    beyond 64 bits or not finite, nesting past :data:`MAX_DEPTH`, and lone surrogates in strings and keys
    (Python's ``json`` keeps a ``\udXXX`` escape as one). With a lone surrogate, the document returned is a copy
    with each replaced by U+FFFD, as the parser replaces them: the caller's own object is never changed.
    """
    findings = number_findings(doc, depth=True, strings=True)
    if any(code == "CC009" for code, _ in findings):
        doc = _copy_without_surrogates(doc)
    return doc, findings


def _copy_without_surrogates(doc: Any) -> Any:
    """A copy of ``doc`` with every lone surrogate replaced by U+FFFD (iterative).

    Below :data:`MAX_DEPTH` (past which the document is CC006 anyway) containers are shared, not copied.
    """

    def fix(value: Any) -> Any:
        return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

    def fresh(value: Any) -> Any:
        return {} if isinstance(value, dict) else [] if isinstance(value, list) else fix(value)

    root = fresh(doc)
    stack: list[tuple[Any, Any, int]] = [(doc, root, 0)] if isinstance(doc, (dict, list)) else []
    while stack:
        src, dst, level = stack.pop()
        if level >= MAX_DEPTH:
            if isinstance(src, dict):
                dst.update(src)
            else:
                dst.extend(src)
            continue
        for key, value in src.items() if isinstance(src, dict) else enumerate(src):
            new = fresh(value)
            if isinstance(src, dict):
                dst[fix(key)] = new
            else:
                dst.append(new)
            if new is not value and isinstance(value, (dict, list)):
                stack.append((value, new, level + 1))
    return root


def without_echoes(findings: list[Finding], request: Mapping[str, Any] | None) -> list[Finding]:
    """``findings`` less those about a value the request itself carried (CC108, CC009).

    A server that echoes the client's own value back (a validation error's ``input``, a ``seed`` repeated in an
    extension field) did not write it: an integer too long for 64 bits, a string or key holding a lone surrogate,
    is the client's data, and the finding would blame the server for it. A value the request did not hold is
    reported wherever it sits.
    """
    if request is None or not any(code in _ECHOABLE for code, _ in findings):
        return findings
    sent = _echoable(request)
    if not sent:
        return findings
    return [(code, h) for code, h in findings if code not in _ECHOABLE or (code, h.actual) not in sent]


#: The parser's findings about one value, which the value's presence in the request explains.
_ECHOABLE = frozenset({"CC108", "CC009"})


class _ParsedRequest(dict):  # type: ignore[type-arg]
    """A request parsed from text whose strings held lone surrogates, replaced by U+FFFD in it as in a response.

    ``lone`` keeps them as the parser's CC009 findings wrote them, for :func:`without_echoes`.
    """

    __slots__ = ("lone",)

    def __init__(self, doc: dict[str, Any], lone: frozenset[str]) -> None:
        super().__init__(doc)
        self.lone = lone


def _echoable(request: Mapping[str, Any]) -> set[tuple[str, Any]]:
    """``(code, received value)`` of each finding that an echo of one of ``request``'s values would produce."""
    out: set[tuple[str, Any]] = {("CC009", text) for text in getattr(request, "lone", ())}
    for _, node, _ in _walk(request):
        if type(node) is int:
            if not INT64_MIN <= node <= INT64_MAX:
                out.add(("CC108", node))
        elif isinstance(node, (str, dict)):
            out.update(("CC009", h.actual) for _, h in _lone_surrogates(None, node))
    return out


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogates(link: _Link | None, node: Any) -> list[Finding]:
    r"""CC009 for a string value, or an object key, holding a lone surrogate (left by a ``\uXXXX`` escape).

    A key is reported at its object (a path cannot show it); the received value is the string with the surrogate
    written as its escape, so the report itself can be encoded.
    """
    if isinstance(node, str):
        texts = [("String", node)] if _LONE_SURROGATE.search(node) else []
    elif isinstance(node, dict):
        texts = [("Key", key) for key in node if isinstance(key, str) and _LONE_SURROGATE.search(key)]
    else:
        return []
    out: list[Finding] = []
    for what, text in texts:
        lone = _LONE_SURROGATE.search(text)
        assert lone is not None
        message = (f"{what} holds the lone surrogate \\u{ord(lone.group()):04x} at character {lone.start()}: "
                   "it is no Unicode character and cannot be encoded as UTF-8.")
        out.append(("CC009", hit(_loc(link), message, text.encode("utf-8", "backslashreplace").decode())))
    return out


def _without_surrogates(doc: Any) -> Any:
    """``doc`` with every surrogate in strings and keys replaced by U+FFFD (as Go's decoder does), changed in place.

    The other rules then see U+FFFD, so no other violation carries a string that cannot be encoded. Objects keep
    their identity (the duplicate-key pass looks them up by ``id``).
    """
    def fix(value: Any) -> Any:
        return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = [(fix(k), fix(v)) for k, v in node.items()]
            node.clear()
            node.update(items)
            stack.extend(node.values())
        elif isinstance(node, list):
            node[:] = [fix(v) for v in node]
            stack.extend(node)
    return fix(doc)


def _lenient_parse(text: str) -> tuple[Any, list[Finding]]:
    """Second, slower parse: locates duplicate keys, NaN/Infinity and lone surrogates, keeps going (last key wins)."""
    dup_ids: dict[int, tuple[dict[str, Any], list[str]]] = {}  # keeps the dicts alive: ids are not reused
    constants: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            seen: set[str] = set()
            dup_ids[id(d)] = (d, [k for k, _ in pairs if k in seen or seen.add(k)])  # type: ignore[func-returns-value]
        return d

    def constant(name: str) -> float:
        constants.append(name)
        return float(name)

    doc = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=constant)
    findings: list[Finding] = []
    if _SURROGATE_ESCAPE.search(text):  # json.loads joins surrogate pairs: any surrogate left is a lone one
        for link, node, _ in _walk(doc):
            findings.extend(_lone_surrogates(link, node))
        if findings:
            doc = _without_surrogates(doc)
    if dup_ids and not constants:
        findings.extend(_duplicate_findings(doc, dup_ids))
    elif dup_ids or constants:
        for link, node, _ in _walk(doc):
            entry = dup_ids.get(id(node)) if isinstance(node, dict) else None
            if entry is not None and entry[0] is node:
                loc = _loc(link)
                for key in dict.fromkeys(entry[1]):
                    findings.append(("CC004", hit((*loc, key), _repeated_message(key), node[key])))
            elif isinstance(node, float) and not math.isfinite(node):
                message = f"{node!r} is not a JSON number (JSON has no NaN or Infinity)."
                findings.append(("CC005", hit(_loc(link), message, str(node))))
    return doc, findings


def _duplicate_findings(doc: Any, dup_ids: dict[int, tuple[dict[str, Any], list[str]]]) -> list[Finding]:
    """CC004 for each object of ``dup_ids`` (by id), in the order of :func:`_walk`.

    It visits containers only and stops once every one is found.
    """
    findings: list[Finding] = []
    left = len(dup_ids)
    stack: list[tuple[_Link | None, Any]] = [(None, doc)]
    while stack and left:
        link, node = stack.pop()
        if type(node) is dict:
            entry = dup_ids.get(id(node))
            if entry is not None and entry[0] is node:
                left -= 1
                loc = _loc(link)
                for key in dict.fromkeys(entry[1]):
                    findings.append(("CC004", hit((*loc, key), _repeated_message(key), node[key])))
            stack.extend(
                ((k, link), v) for k, v in reversed(node.items()) if type(v) is dict or type(v) is list
            )
        elif type(node) is list:
            stack.extend(
                ((i, link), v) for i, v in reversed(list(enumerate(node))) if type(v) is dict or type(v) is list
            )
    return findings


def parse_plain_but_duplicates(
    body: bytes, found: list[tuple[tuple[str | int, ...], str]] | None = None
) -> tuple[dict[str, Any], list[Finding]] | None:
    """:func:`parse_json`'s answer for a body the C accelerator finds plain but for duplicate keys; else None.

    ``_speedups.duplicates`` lists each repeated key with the location of its object, and jiter's default parse
    keeps a key's last value at its first place, as the lenient parse (``json.loads``) does. A repeat inside a
    value that a later repeat of an enclosing key replaced is in no object of the document: it is dropped, as
    the lenient parse, which reports only the objects it can reach, never sees it. None (the caller parses as
    :func:`parse_json` does) without the accelerator, for a body it is unsure of (a float, an escaped key, ...)
    or with no duplicate key or more than 64 (its list is bounded; the lenient parse is linear), or one jiter
    refuses (a lone surrogate escape, bad UTF-8, not JSON). ``found``: the scan's answer, when the caller has it
    (the plain proof's, ``_speedups.plain``).
    """
    if found is None:
        scan = _accel.duplicates
        found = None if scan is None else scan(body)
    if not found:
        return None
    try:
        doc = jiter.from_json(body)
    except ValueError:
        return None
    if type(doc) is not dict:
        return None
    where: Any = found  # (one repeat, the usual case: inside no other)
    if len(found) > 1:
        where = {}
        for loc, key in found:
            inside = (*loc, key)
            if any(place[0][: len(inside)] == inside for place in where):
                where = {place: None for place in where if place[0][: len(inside)] != inside}
            where[(loc, key)] = None
    place = _accel.repeated
    if place is not None:  # the loop below, in C
        placed = place(doc, where if type(where) is list else list(where), "CC004", hit)
        return None if placed is None else (doc, placed)
    findings: list[Finding] = []
    for loc, key in where:
        node: Any = doc
        for seg in loc:
            node = node[seg]
        if type(node) is not dict or key not in node:  # (cannot be: the scan and the parse read the same bytes)
            return None
        findings.append(("CC004", hit((*loc, key), _repeated_message(key), node[key])))
    return doc, findings


@functools.lru_cache(maxsize=256)
def _repeated_message(key: str) -> str:
    """CC004's message for ``key`` (kept: a provider repeats the same key in body after body)."""
    return f"Key {key!r} appears more than once in one object; parsers disagree on which wins."


def parse_json(body: bytes | str, *, numbers: bool = True) -> tuple[Any, list[Finding]]:
    """Parse a JSON body strictly; return the document (or :data:`MISSING`) and every parse-stage finding.

    ``numbers=False`` skips the 64-bit / finite number checks when the caller already knows the bytes cannot
    contain such a number (the stream checker scans whole pieces of a stream at once).
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if not raw.startswith(_BOM):
        try:
            doc = jiter.from_json(raw, allow_inf_nan=False, catch_duplicate_keys=True)
        except ValueError as exc:
            return _diagnose(raw, exc)  # the slow path
        else:
            return doc, (_numbers(doc, raw) if numbers else [])
    return _diagnose(raw)


def _diagnose(raw: bytes, failed: ValueError | None = None) -> tuple[Any, list[Finding]]:
    """Every parse-stage finding of ``raw``; ``failed``: the strict parse's error on these very bytes, if known."""
    findings: list[Finding] = []
    if raw.startswith(_BOM):
        failed = None

        findings.append(("CC003", hit((), "Body starts with a UTF-8 byte-order mark; JSON must not.", "BOM")))
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.append(
            (
                "CC002",
                hit(
                    (),
                    f"Body is not valid UTF-8: byte {raw[exc.start:exc.start + 1]!r} at offset {exc.start}.",
                    raw[max(0, exc.start - 20) : exc.start + 20].decode("utf-8", "replace"),
                ),
            )
        )
        text = raw.decode("utf-8", "replace")
        failed = None
    if not text.strip():
        findings.append(("CC001", hit((), "Body is empty; expected a JSON document.", text)))
        return MISSING, findings
    encoded = raw if failed is not None else text.encode("utf-8", "surrogatepass")
    try:
        if failed is not None:
            raise failed  # the same bytes would fail the same way
        doc = jiter.from_json(encoded, allow_inf_nan=False, catch_duplicate_keys=True)
    except ValueError as exc:
        message = str(exc)
        if "recursion limit" in message:
            findings.append(("CC006", hit((), "JSON nesting is deeper than the parser's limit (200 levels).", None)))
            return MISSING, findings
        try:
            doc, lenient = _lenient_parse(text)
        except RecursionError:
            findings.append(("CC006", hit((), "JSON nesting is deeper than the parser's limit (200 levels).", None)))
            return MISSING, findings
        except ValueError as lenient_exc:
            pos = getattr(lenient_exc, "pos", None)
            if pos is None:
                pos = _position(message, text) or 0
            if _looks_like_html(text):
                reason = "Body is HTML, not JSON"
            elif pos >= len(text.rstrip()):
                reason = f"Body is truncated JSON: it ends at offset {len(text)} inside a value"
            else:
                reason = f"Body is not valid JSON at offset {pos}: {getattr(lenient_exc, 'msg', message)}"
            findings.append(("CC001", hit((), reason + ".", _snippet(text, pos))))
            return MISSING, findings
        findings.extend(lenient)
    findings.extend(f for f in _numbers(doc, encoded) if f not in findings)
    return doc, findings


def _numbers(doc: Any, raw: bytes) -> list[Finding]:
    return number_findings(doc) if suspect_numbers(raw) and _has_odd_number(doc) else []


def suspect_numbers(raw: bytes) -> bool:
    """Whether ``raw`` may hold a number beyond 64 bits or a double (cheap, with false positives, no misses)."""
    shape = raw.translate(_NUMBER_SHAPE)
    if _LONG_DIGITS in shape:
        return True
    for pattern in (b"0e000", b"0e+000"):
        at = shape.find(pattern)
        while at >= 0:
            # What precedes the mantissa: a delimiter means a number token, a letter means digits inside a string.
            # (A mantissa longer than the 40-byte window has 19+ digits and was caught above.)
            head = shape[max(0, at - 40) : at].rstrip(b"0d")
            if not head or head[-1] == _DELIMITER:
                return True
            at = shape.find(pattern, at + 1)
    return False


_DELIMITER = ord(":")


def _has_odd_number(doc: Any) -> bool:
    """Quick walk without locations: True when an integer exceeds 64 bits or a float is not finite."""
    stack = [doc]
    pop, push = stack.pop, stack.extend
    while stack:
        node = pop()
        kind = type(node)
        if kind is dict:
            push(node.values())
        elif kind is list:
            push(node)
        elif kind is int:
            if not INT64_MIN <= node <= INT64_MAX:
                return True
        elif kind is float and not math.isfinite(node):
            return True
    return False


def parse_request(request: Any) -> Mapping[str, Any] | None:
    """Accept a request body as dict, JSON text or bytes; ``None`` when absent or not a JSON object."""
    if request is None or type(request) is dict:  # (the usual case, before the ABC's slower isinstance)
        return request
    if isinstance(request, Mapping):
        return request
    if isinstance(request, (bytes, bytearray, memoryview, str)):
        doc, findings = parse_json(bytes(request) if not isinstance(request, str) else request)
        if not isinstance(doc, dict):
            return None
        lone = frozenset(h.actual for code, h in findings if code == "CC009")
        return _ParsedRequest(doc, lone) if lone else doc
    raise UsageError(
        f"request= takes the request body as a dict, JSON str or bytes; received {type(request).__name__}."
    )


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".", 1)[0]


_HTTPX_MODULES = ("httpx", "httpx2")  # the openai SDK ships on httpx2, an API-compatible fork


def _from_http_response(obj: Any, received: Received) -> None:
    received.status = int(obj.status_code)
    received.content_type = obj.headers.get("content-type")
    is_httpx = _module(obj) in _HTTPX_MODULES
    req = getattr(obj, "_request", None) if is_httpx else getattr(obj, "request", None)
    body = None
    if req is not None:
        try:
            body = getattr(req, "content", None) if is_httpx else getattr(req, "body", None)
        except Exception:  # httpx.RequestNotRead: a streamed upload we cannot see
            body = None
    if body and received.request is None:
        try:
            received.request = parse_request(body)
        except UsageError:
            received.request = None
    if not is_httpx or hasattr(obj, "_content"):
        received.body = obj.content
        return
    stream = getattr(obj, "stream", None)
    if getattr(obj, "is_stream_consumed", False) or getattr(obj, "is_closed", False):
        raise UsageError("check() got an httpx response whose stream was consumed without being read; "
                         "pass the response before iterating it, or call response.read() first.")
    if not hasattr(stream, "__iter__") and hasattr(stream, "__aiter__"):
        raise UsageError("check() got an unread async httpx response; use `await chatcontract.acheck(response)`, "
                         "or feed `response.aiter_bytes()` to a StreamChecker.")
    received.chunks = obj.iter_bytes()  # read incrementally, never the whole body at once


def _is_http_response(payload: Any) -> bool:
    # Look at the class, not the instance: touching `.content` on an unread httpx stream raises ResponseNotRead.
    return hasattr(payload, "status_code") and hasattr(payload, "headers") and hasattr(type(payload), "content")


def is_unread_async_response(payload: Any) -> bool:
    """An httpx (or httpx2) response whose body is an unread async stream."""
    if _module(payload) not in _HTTPX_MODULES or not _is_http_response(payload) or hasattr(payload, "_content"):
        return False
    stream = getattr(payload, "stream", None)
    return hasattr(stream, "__aiter__") and not hasattr(stream, "__iter__")


def coerce(payload: Any, *, status: int | None = None, request: Any = None) -> Received:
    """Bring any accepted payload into :class:`Received` form (no parsing of bodies yet)."""
    received = Received(status=status, request=parse_request(request))
    if isinstance(payload, (bytes, bytearray, memoryview)):
        received.body = bytes(payload)
    elif isinstance(payload, str):
        received.body = payload.encode("utf-8", "surrogatepass")
    elif isinstance(payload, (dict, list)):
        received.doc = payload
    elif _is_http_response(payload):
        explicit = status
        _from_http_response(payload, received)
        if explicit is not None:
            received.status = explicit
    elif callable(getattr(payload, "model_dump", None)):
        received.doc = _dump_sdk_object(payload)
    elif payload is None:
        received.body = b""
    else:
        raise UsageError(
            "check() accepts bytes, str, dict, list, an httpx or requests Response, or an SDK object with "
            f"model_dump(); received {type(payload).__module__}.{type(payload).__qualname__}."
        )
    return received


def _dump_sdk_object(obj: Any) -> Any:
    """Dump a pydantic-based SDK object back to wire JSON, keeping only fields the server sent.

    SDKs keep values they do not recognise (mistralai's open enums and ``UnknownContentChunk``); serialising those
    warns, so warnings are off, and an unknown member is dumped as the raw value it wraps.
    """
    for kwargs in (
        {"mode": "json", "by_alias": True, "exclude_unset": True, "warnings": False},
        {"mode": "json", "by_alias": True, "exclude_unset": True},
        {"mode": "json", "by_alias": True},
        {},
    ):
        try:
            dumped = obj.model_dump(**kwargs)
        except TypeError:
            continue
        return _unwrap_unknown(dumped)
    raise UsageError(f"could not dump {type(obj).__qualname__} with model_dump()")


def _unwrap_unknown(value: Any) -> Any:
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in list(items):
            if isinstance(child, dict) and "raw" in child and set(child) <= {"raw", "is_unknown"}:
                node[key] = child["raw"]
            elif isinstance(child, (dict, list)):
                stack.append(child)
    return value
