"""CC3xx: streams — SSE framing, per-chunk contracts, the chunk sequence and the assembled response."""

from __future__ import annotations

from ._registry import Target, declare

declare(
    "CC301",
    "chunk-not-json",
    """
    What it checks:
        Every SSE data event except the ``[DONE]`` sentinel is a JSON object. Chunks are also checked against the
        dialect's chunk contract; those findings are schema violations (CC1xx) with the event index.

    Why is this bad?
        SDKs ``json.loads`` each event; one bad event ends the whole stream with a parse error.

    Example:
        ```text
        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [

        data: [DONE]
        ```

    References:
        - WHATWG HTML, Server-sent events; Mistral API, CompletionEvent
    """,
    target=Target.STREAM,
)
