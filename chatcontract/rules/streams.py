"""CC3xx: streams — SSE framing, the chunk sequence, usage in streams, errors inside a 200 stream.

These rules are stateful (they look across events), so the stream checker in ``chatcontract/streams.py`` emits
them; each chunk is also checked against the dialect's chunk contract (CC1xx, with the event index), and the
assembled response goes through the response rules (CC2xx, CC4xx).
"""

from __future__ import annotations

from ..violations import Severity
from ._registry import Target, declare

_S = Target.STREAM
_OK_TAIL = """data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}

        data: [DONE]"""
_FIRST = """data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}"""

declare(
    "CC301",
    "chunk-not-json",
    f"""
    What it checks:
        Every SSE data event except the ``[DONE]`` sentinel is a JSON object. Each chunk is also checked against
        the dialect's chunk contract; those findings are schema violations (CC1xx) with the event index. What a
        lost chunk may have carried is not reported again: no missing role on the next delta, and the choices'
        ends, usage and the assembled answer are not judged.

    Why is this bad?
        SDKs ``json.loads`` each event; one bad event ends the whole stream with a parse error.

    Example:
        ```text
        {_FIRST}

        data: {{"id": "c1", "choices": [

        {_OK_TAIL}
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```

    References:
        - WHATWG HTML, Server-sent events; Mistral API, CompletionEvent
    """,
    target=_S,
)

declare(
    "CC302",
    "stream-truncated",
    """
    What it checks:
        The stream does not end in the middle of an event (data with no terminating blank line). The end of a
        stream cut so is not judged: its missing ``[DONE]``, ``finish_reason`` and usage are this one finding.

    Why is this bad?
        Per the SSE specification an unterminated event is discarded: the client silently loses the last chunk,
        often the one with ``finish_reason`` and ``usage``. It usually means the connection was cut.

    References:
        - WHATWG HTML, Server-sent events, event stream interpretation ("at end of file, discard")
    """,
    target=_S,
)

declare(
    "CC303",
    "missing-done",
    f"""
    What it checks:
        The stream ends with ``data: [DONE]``.

    Why is this bad?
        Both APIs end streams with the sentinel. Without it a client cannot tell a finished stream from a dropped
        connection; neither SDK reports the difference, so truncated answers pass as complete.

    Example:
        ```text
        {_FIRST}

        data: {{"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```

    References:
        - Mistral OpenAPI, ChatCompletionRequest.stream ("terminated by a data: [DONE] message")
    """,
    target=_S,
)

declare(
    "CC304",
    "data-after-done",
    f"""
    What it checks:
        Nothing follows the ``[DONE]`` sentinel (no chunk, no second sentinel). What follows is not judged as
        chunks of the stream (a replayed final chunk is not also a second finish).

    Why is this bad?
        Clients stop reading at ``[DONE]``; whatever comes after is lost, or parsed by a client that kept reading.

    Example:
        ```text
        {_FIRST}

        {_OK_TAIL}

        data: {{"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"content": "!"}}, "finish_reason": null}}]}}
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```
    """,
    target=_S,
)

declare(
    "CC305",
    "empty-stream",
    """
    What it checks:
        The stream has at least one chunk with a choice: not empty, not only ``[DONE]``.

    Why is this bad?
        An empty 200 stream is an answer with no answer; clients show nothing and report success.

    Example:
        ```text
        data: [DONE]
        ```

    Use instead:
        ```text
        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}

        data: [DONE]
        ```
    """,
    target=_S,
)

declare(
    "CC306",
    "chunk-metadata-changed",
    f"""
    What it checks:
        Every chunk carries the same ``id``, ``model`` and ``created`` as the first.

    Why is this bad?
        Clients key the assembled message on the first chunk's id; a stream whose id changes looks like two
        responses interleaved.

    Example:
        ```text
        {_FIRST}

        data: {{"id": "c2", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}

        data: [DONE]
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```
    """,
    target=_S,
)

declare(
    "CC307",
    "unexpected-chunk-object",
    f"""
    What it checks:
        A Mistral chunk's optional ``object`` is ``"chat.completion.chunk"``. (OpenAI makes it a constant, reported
        as CC103.)

    Why is this bad?
        Azure sent other values in streams, which broke clients that dispatch on ``object``.

    Example:
        ```text
        data: {{"id": "c1", "object": "chat.completion", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"role": "assistant", "content": "Hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}}

        data: [DONE]
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```

    References:
        - mlflow/mlflow#12767
    """,
    target=_S,
    severity=Severity.WARNING,
    dialects=("mistral",),
)

declare(
    "CC308",
    "first-delta-without-role",
    f"""
    What it checks:
        The first delta of each choice carries ``role``.

    Why is this bad?
        Stream accumulators take the role from the first delta; without it the assembled message has none.

    Example:
        ```text
        data: {{"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"content": "Hi"}}, "finish_reason": null}}]}}

        {_OK_TAIL}
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```
    """,
    target=_S,
)

declare(
    "CC309",
    "choice-never-finishes",
    f"""
    What it checks:
        Every choice receives exactly one non-null ``finish_reason`` before the stream ends. An empty string is not
        a finish reason (it is reported as CC103 on each chunk). A choice that never finishes is not judged as an
        answer (its tool call, its JSON or its reasoning may have been still to come): the rules on the assembled
        response read the finished choices.

    Why is this bad?
        Clients wait for the finish reason to know why generation stopped; Ollama sent ``""`` on every chunk and
        no terminal chunk, Bedrock bridges end streams without one.

    Example:
        ```text
        {_FIRST}

        data: [DONE]
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```

    References:
        - ollama/ollama#4357; CherryHQ/cherry-studio#19793
    """,
    target=_S,
)

declare(
    "CC310",
    "multiple-finish-reasons",
    f"""
    What it checks:
        A choice gets a non-null ``finish_reason`` once, in its last chunk.

    Why is this bad?
        Clients finalise the message at the first finish reason; a second one means more data followed.

    Example:
        ```text
        data: {{"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"role": "assistant", "content": ""}}, "finish_reason": "stop"}}]}}

        {_OK_TAIL}
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```
    """,
    target=_S,
)

declare(
    "CC311",
    "delta-after-finish",
    f"""
    What it checks:
        No content or tool-call delta arrives for a choice after its ``finish_reason``.

    Why is this bad?
        Clients stop accumulating at the finish reason: trailing content is lost (catalogued by compatibility
        harnesses as "trailing content after finish_reason").

    Example:
        ```text
        {_FIRST}

        data: {{"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"content": "Hi"}}, "finish_reason": "stop"}}]}}

        data: {{"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"content": " there"}}, "finish_reason": null}}], "usage": {{"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}}}

        data: [DONE]
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```
    """,
    target=_S,
)

declare(
    "CC312",
    "stream-usage-missing",
    f"""
    What it checks:
        A Mistral stream reports ``usage`` (in its final chunk, as Mistral's API and documentation do). A warning:
        the published chunk schema makes it optional.

    Why is this bad?
        Without usage in the stream, streamed requests cannot be billed or budgeted; vLLM, SGLang and llama.cpp
        omit it unless asked, and gateways logged 298 prompt tokens for 56,593.

    Example:
        ```text
        {_FIRST}

        data: {{"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{{"index": 0, "delta": {{"content": "Hi"}}, "finish_reason": "stop"}}]}}

        data: [DONE]
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```

    References:
        - langgenius/dify-official-plugins#3650
    """,
    target=_S,
    severity=Severity.WARNING,
    dialects=("mistral",),
)

declare(
    "CC313",
    "requested-usage-missing",
    """
    What it checks:
        With ``stream_options.include_usage: true`` an OpenAI stream delivers usage.

    Why is this bad?
        The caller asked for usage to account for the request; SGLang sent ``usage: null`` even when asked.

    References:
        - sgl-project/sglang#954; OpenAI OpenAPI, ChatCompletionStreamOptions
    """,
    target=_S,
    dialects=("openai",),
)

declare(
    "CC314",
    "usage-chunk-misplaced",
    """
    What it checks:
        In an OpenAI stream, usage arrives once, in an extra last chunk whose ``choices`` is empty.

    Why is this bad?
        Clients read usage from that final chunk and treat every chunk with choices as content; usage attached
        elsewhere is missed or counted twice.

    References:
        - OpenAI OpenAPI, CreateChatCompletionStreamResponse.usage
    """,
    target=_S,
    dialects=("openai",),
)

declare(
    "CC315",
    "error-in-stream",
    f"""
    What it checks:
        A 200 stream carries no error: no ``data: {{"error": ...}}`` event and no ``finish_reason: "error"``.
        The error object itself is also checked against the dialect's error contract.

    Why is this bad?
        Errors after the 200 status line cannot change the status; clients that only look at the status report
        success with a truncated answer (OpenRouter, DashScope, DeepSeek, Kimi, vLLM do this).

    Example:
        ```text
        {_FIRST}

        data: {{"error": {{"message": "upstream overloaded", "type": "server_error", "param": null, "code": null}}}}
        ```

    Use instead:
        ```text
        {_FIRST}

        {_OK_TAIL}
        ```

    References:
        - open-octo/octo-agent#910; aaif-goose/goose#8027
    """,
    target=_S,
)

declare(
    "CC316",
    "tool-call-fragment-invalid",
    """
    What it checks:
        OpenAI tool-call fragments: the first fragment of each ``index`` carries ``id``, ``type`` and
        ``function.name``, and later fragments keep the same id (``arguments`` are concatenated). Mistral sends
        whole calls, which its chunk contract checks.

    Why is this bad?
        Accumulators key calls by index and take id and name from the first fragment; vLLM's first fragment lacked
        ``type``, Gemini's endpoint sent no index at all.

    Dialect: openai

    Example:
        ```text
        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}, "logprobs": null, "finish_reason": null}]}

        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"}]}

        data: [DONE]
        ```

    Use instead:
        ```text
        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "logprobs": null, "finish_reason": null}]}

        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"}]}

        data: [DONE]
        ```

    References:
        - vllm-project/vllm#16340; openai/openai-python#2806
    """,
    target=_S,
    dialects=("openai",),
)

declare(
    "CC317",
    "empty-choices-chunk",
    """
    What it checks:
        A chunk with ``choices: []`` carries something (usage, or an error). A warning: Azure's content-filter
        first chunk and Bedrock control chunks do this, and most clients skip them.

    Why is this bad?
        Clients index ``chunk.choices[0]``; an empty list there raises IndexError.

    References:
        - pydantic/pydantic-ai#164; awslabs/llmeter#34
    """,
    target=_S,
    severity=Severity.WARNING,
)

declare(
    "CC318",
    "sse-anomaly",
    """
    What it checks:
        The event stream has no oddities that are legal but suspicious: unknown fields, a non-numeric ``retry``,
        a NUL in ``id``, mixed line endings. Comments such as ``: keep-alive`` are legal and never reported.

    Why is this bad?
        Lenient parsers disagree on these; a proxy that rewrites line endings or injects fields can break
        strict clients. A warning.
    """,
    target=_S,
    severity=Severity.WARNING,
)

declare(
    "CC319",
    "sse-event-too-large",
    """
    What it checks:
        No single SSE event exceeds the parser's limit (16 MiB).

    Why is this bad?
        Such an event is dropped to keep memory bounded; a chunk that large is a bug or an attack.
    """,
    target=_S,
)

declare(
    "CC320",
    "unrequested-stream-usage",
    """
    What it checks:
        An OpenAI stream sends a usage object only when the request set ``stream_options.include_usage``. A warning.

    Why is this bad?
        OpenAI clients expect usage in one extra final chunk, and only when they asked for it; usage on content
        chunks (vLLM's continuous usage) is easy to double count.
    """,
    target=_S,
    severity=Severity.WARNING,
    dialects=("openai",),
)

declare(
    "CC323",
    "tool-calls-not-assemblable",
    """
    What it checks:
        A Mistral stream's tool calls can be assembled under Mistral's rules: each ``delta.tool_calls`` entry is one
        whole call (``function.name`` and complete ``arguments``). OpenAI's incremental style (a first fragment with
        the name, then fragments carrying only pieces of ``arguments``) cannot be: reported once per stream, and
        the rules that read tool calls (CC205-CC208, CC215, CC216, CC404-CC409) are not run on the stream's
        assembly, which would be made up (calls with cut arguments, the id ``"null"`` repeated).

    Why is this bad?
        The mistralai SDK and Mistral-dialect clients take each delta entry as a finished call: they get a call with
        the name and empty arguments, then nameless calls with pieces of JSON. Servers that serve a Mistral API
        with an OpenAI-style streaming layer send this.

    Dialect: mistral

    Example:
        ```text
        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "function": {"name": "f", "arguments": ""}, "index": 0}]}, "finish_reason": null}]}

        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"content": "", "tool_calls": [{"function": {"arguments": "{}"}, "index": 0}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}

        data: [DONE]
        ```

    Use instead:
        ```text
        data: {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "tool_calls": [{"id": "D681PevKs", "function": {"name": "f", "arguments": "{}"}, "index": 0}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}

        data: [DONE]
        ```

    References:
        - Mistral OpenAPI document: ``DeltaMessage.tool_calls`` items are ``ToolCall``, whose ``function``
          (``FunctionCall``: ``name`` and ``arguments``) is required
    """,
    target=_S,
    dialects=("mistral",),
)
