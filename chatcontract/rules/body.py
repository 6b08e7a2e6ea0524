"""CC0xx: the body itself — encoding, JSON syntax, content type. Emitted by the parser in ``inputs.py``."""

from __future__ import annotations

from ..violations import Severity
from ._registry import Target, declare

declare(
    "CC001",
    "invalid-json",
    """
    What it checks:
        The body parses as JSON: not empty, not truncated, not an HTML error page.

    Why is this bad?
        Every client calls a JSON parser on the body first; a proxy's HTML 502 page or a stream cut off mid-value
        crashes it with an error that says nothing about the provider.

    Example:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "choices": [
        ```

    Use instead:
        ```json
        {"error": {"message": "upstream timed out", "type": "server_error", "param": null, "code": null}}
        ```

    References:
        - RFC 8259, The JavaScript Object Notation (JSON) Data Interchange Format
    """,
    target=Target.BODY,
)

declare(
    "CC002",
    "invalid-utf8",
    """
    What it checks:
        The body is valid UTF-8.

    Why is this bad?
        JSON exchanged between systems must be UTF-8 (RFC 8259 §8.1). Invalid bytes, often a token cut in the
        middle of a multi-byte character, make strict decoders fail and lenient ones silently change the text.

    References:
        - RFC 8259 §8.1, Character Encoding
    """,
    target=Target.BODY,
)

declare(
    "CC003",
    "byte-order-mark",
    """
    What it checks:
        The body does not start with a byte-order mark.

    Why is this bad?
        RFC 8259 says implementations must not add a BOM to JSON text; some parsers reject it.
        The body is still checked after the BOM is skipped.

    References:
        - RFC 8259 §8.1, Character Encoding
    """,
    severity=Severity.WARNING,
    target=Target.BODY,
)

declare(
    "CC004",
    "duplicate-key",
    """
    What it checks:
        No object has the same key twice.

    Why is this bad?
        RFC 8259 leaves the meaning of duplicate names undefined: one parser keeps the first value, another the
        last, so the client and a gateway in the middle can read different responses. The rest of the document is
        checked with the last value.

    Example:
        ```json
        {"id": "a", "id": "b"}
        ```

    Use instead:
        ```json
        {"id": "b"}
        ```

    References:
        - RFC 8259 §4, Objects
    """,
    target=Target.BODY,
)

declare(
    "CC005",
    "non-finite-number",
    """
    What it checks:
        Numbers are finite: no NaN, Infinity, or literals like 1e400 that overflow a double.

    Why is this bad?
        NaN and Infinity are not JSON; Python's json module emits them by default and most other parsers reject them.

    Example:
        ```json
        {"usage": {"prompt_tokens": NaN}}
        ```

    Use instead:
        ```json
        {"usage": {"prompt_tokens": 0}}
        ```

    References:
        - RFC 8259 §6, Numbers
    """,
)

declare(
    "CC006",
    "nesting-too-deep",
    """
    What it checks:
        The body is not nested deeper than the parser's limit (200 levels).

    Why is this bad?
        No chat completion needs that depth; it is a denial-of-service shape that crashes recursive parsers.

    References:
        - RFC 8259 §9, Parsers (implementations may limit nesting depth)
    """,
    target=Target.BODY,
)

declare(
    "CC007",
    "unexpected-content-type",
    """
    What it checks:
        A non-stream response or error body is labelled ``application/json`` (whatever the body turns out to be:
        a ``text/plain`` "Internal Server Error" is reported here and as CC001), and a body labelled
        ``text/event-stream`` is a stream, not one JSON document.

    Why is this bad?
        SDKs choose their parser by content type: the openai SDK returns a JSON body labelled ``text/plain`` or
        ``text/html`` as a plain string, and treats a stream labelled JSON as one body.

    References:
        - Mistral API: POST /v1/chat/completions responses (application/json, text/event-stream)
    """,
    target=Target.BODY,
)

declare(
    "CC008",
    "not-a-json-object",
    """
    What it checks:
        The top level of a response, chunk or error body is a JSON object.

    Why is this bad?
        Every contract starts from an object; a bare string, number or array at the top level means the server
        returned something else (a debug print, a list of results).

    Example:
        ```json
        ["Hello"]
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        ```
    """,
)

declare(
    "CC009",
    "lone-surrogate",
    """
    What it checks:
        No string (value or key) holds a ``\\uXXXX`` escape of a lone UTF-16 surrogate: a high surrogate
        (``\\ud800``-``\\udbff``) not followed by a low one, or a low surrogate (``\\udc00``-``\\udfff``) on its own.
        A parsed document (a dict) is checked as its JSON text would be. A string the request itself held is the
        client's own when the server echoes it back (a validation error's ``input``): given the request, that one is
        not reported.

    Why is this bad?
        A lone surrogate is not a Unicode character. The bytes are valid JSON and valid UTF-8, but the decoded
        string cannot be encoded as UTF-8 again: strict parsers (serde_json, jiter) reject it, Go's encoding/json
        turns it into U+FFFD, and clients that re-encode the text (to log it, store it or send it
        back in the next request) crash. It usually means a token was cut in the middle of an emoji's surrogate
        pair before being escaped.

    Example:
        ```json
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi \\ud83d"}, "finish_reason": "stop"}]}
        ```

    Use instead:
        ```json
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi \\ud83d\\ude00"}, "finish_reason": "stop"}]}
        ```

    References:
        - RFC 8259 §8.2, Unicode Characters
        - Unicode Standard §3.9, D76 (Unicode scalar values exclude surrogate code points)
    """,
    target=Target.BODY,
)
