"""CC5xx: error bodies and status codes: the dialect's error shape on 4xx/5xx, no error object inside a 2xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..violations import Severity
from ._registry import Hit, RuleContext, Target, declare, hit, rule
from .schema import schema_hits

declare(
    "CC501",
    "unrecognised-error-body",
    """
    What it checks:
        An error response (status >= 400) has one of the dialect's error shapes. Mistral: ``{"detail": [...]}``
        (422 validation errors) or ``{"object": "error", "message", "type", "param", "code"}``. OpenAI:
        ``{"error": {"message", "type", "param", "code"}}``. Violations inside a recognised shape are reported as
        schema violations (CC1xx) at their path.

    Why is this bad?
        SDKs turn error bodies into exceptions with a message and a code by reading those fields; an unknown
        shape becomes "unknown error" and the real cause is lost.

    Status: 400

    Example:
        ```json
        {"msg": "bad request"}
        ```

    Use instead:
        ```json
        {"object": "error", "message": "Invalid model: foo", "type": "invalid_model", "param": null, "code": "1500"}
        ```

    References:
        - Mistral docs, error glossary; OpenAI OpenAPI, ErrorResponse
    """,
    target=Target.ERROR,
)

declare(
    "CC502",
    "foreign-error-envelope",
    """
    What it checks:
        An error body uses its own dialect's envelope, not another dialect's: OpenAI clients read
        ``body["error"]["message"]``, Mistral's flat shape has ``message`` at the top.

    Why is this bad?
        Old vLLM sent the flat Mistral-style envelope on its OpenAI-compatible API (fixed in v0.10.1), and the
        openai SDK showed the raw body instead of the message; LM Studio sent ``{"error": "<string>"}``.

    Status: 400

    Example:
        ```json
        {"error": {"message": "Invalid model", "type": "invalid_request_error", "param": null, "code": null}}
        ```

    Use instead:
        ```json
        {"object": "error", "message": "Invalid model", "type": "invalid_request_error", "param": null, "code": null}
        ```

    References:
        - vllm-project/vllm#12886; lmstudio-ai/lmstudio-bug-tracker#307
    """,
    target=Target.ERROR,
)


def _shape(doc: dict[str, Any]) -> str | None:
    if "error" in doc:
        return "nested"
    if doc.get("object") in ("error", "Error") or ("message" in doc and "type" in doc):
        return "flat"
    if "detail" in doc:
        return "detail"
    return None


def _status_code_at(doc: dict[str, Any], ctx: RuleContext) -> tuple[str, ...] | None:
    """Where the error ``code`` is, when it is the HTTP status as an integer: CC504's finding, not a CC102 too."""
    fields = _error_fields(doc)
    if fields is None or ctx.status is None:
        return None
    code = fields.get("code")
    if type(code) is int and code == ctx.status:  # noqa: E721  (True is no status)
        return ("error", "code") if fields is not doc else ("code",)
    return None


def _validate(adapter: Any, doc: dict[str, Any], ctx: RuleContext) -> Iterator[tuple[str, Hit]]:
    """Schema hits of an error body, but for the integer status ``code`` that CC504 reports (one fact, one rule)."""
    numeric_code = _status_code_at(doc, ctx)
    for code, h in schema_hits(adapter, doc, what="error body"):
        if numeric_code is not None and code == "CC102" and tuple(h.loc) == numeric_code:
            continue
        yield code, h


def error_body_hits(doc: Any, ctx: RuleContext) -> Iterator[tuple[str, Hit]]:
    """Check an error body against the dialect's error contracts (emits CC501, CC502 and CC1xx).

    The contract is chosen by status where the dialect's document does: Mistral's ``HTTPValidationError``
    (``{"detail": [...]}``) belongs to 422 only, so a ``{"detail": "Method Not Allowed"}`` with 405 is not judged
    as a validation-error body.
    """
    from ..inputs import json_type

    if not isinstance(doc, dict):
        yield "CC501", hit((), f"Error body is a JSON {json_type(doc)}; expected an object.", doc)
        return
    shape = _shape(doc)
    adapters = dict(ctx.contracts.errors)
    if ctx.dialect == "openai":
        if shape == "nested":
            yield from _validate(adapters["error-response"], doc, ctx)
        elif shape in ("flat", "detail"):
            yield (
                "CC502",
                hit(
                    (),
                    f"Error body uses the {'flat' if shape == 'flat' else 'FastAPI detail'} envelope; OpenAI clients "
                    'expect {"error": {"message", "type", "param", "code"}}.',
                    doc,
                ),
            )
        else:
            yield "CC501", hit((), 'Error body has no "error" object.', doc)
        return
    if shape == "detail":
        validation_list = isinstance(doc.get("detail"), list)
        if ctx.status is None or ctx.status == 422:
            yield from _validate(adapters["http-validation-error"], doc, ctx)
        elif validation_list:
            yield (
                "CC502",
                hit(
                    (),
                    f"A validation-error body ('detail' list) came with status {ctx.status}; Mistral sends it with 422.",
                    doc,
                ),
            )
        else:
            yield (
                "CC501",
                hit(
                    (),
                    f"Error body {{'detail': ...}} with status {ctx.status} matches none of Mistral's error shapes: "
                    '{"object": "error", "message", "type", "param", "code"} (its validation errors, a "detail" list, '
                    "come with 422 only).",
                    doc,
                ),
            )
    elif shape == "flat":
        yield from _validate(adapters["error-object"], doc, ctx)
    elif shape == "nested":
        yield (
            "CC502",
            hit(
                (),
                'Error body uses the OpenAI envelope {"error": {...}}; Mistral sends {"object": "error", "message", ...} '
                'or {"detail": [...]} (422).',
                doc,
            ),
        )
    else:
        yield "CC501", hit((), "Error body matches none of Mistral's error shapes.", doc)


@rule("CC503", "error-in-success-response", target=Target.RESPONSE)
def error_in_success(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        A 2xx response does not carry an error object (``{"error": ...}`` or ``"object": "error"``). A body that is
        only an error (no ``choices``) gets this one finding: the fields of a completion that it lacks are not listed
        as well.

    Why is this bad?
        Clients only look for errors on 4xx/5xx; an error inside a 200 is parsed as a completion and fails later
        with a confusing KeyError. Streams that report errors mid-way are covered by the stream rules.

    Example:
        ```json
        {"error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}}
        ```

    Use instead:
        ```json
        {"id": "cmpl-1", "object": "chat.completion", "model": "m", "created": 1700000000, "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        ```

    References:
        - OpenRouter docs, errors during streaming; open-octo/octo-agent#910
    """
    if not isinstance(doc, dict):
        return
    if doc.get("error"):
        yield hit(("error",), "A successful response carries an error object.", doc["error"])
    elif doc.get("object") in ("error", "Error"):
        yield hit(("object",), "A successful response has object 'error'.", doc["object"])


def is_error_envelope(doc: Any) -> bool:
    """Whether a 2xx body is an error and nothing else: CC503's error marker, and no ``choices``.

    The engine reports such a body by CC503 alone: checked as a completion, it would also list every field a
    completion has and an error lacks (one cause, one finding).
    """
    return (
        isinstance(doc, dict)
        and "choices" not in doc
        and (bool(doc.get("error")) or doc.get("object") in ("error", "Error"))
    )


def _error_fields(doc: Any) -> dict[str, Any] | None:
    if not isinstance(doc, dict):
        return None
    inner = doc.get("error")
    if isinstance(inner, dict):
        return inner
    return doc if "message" in doc else None


@rule("CC504", "numeric-error-code", severity=Severity.WARNING, target=Target.ERROR)
def numeric_error_code(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        The error ``code`` is a symbolic string (``"invalid_api_key"``, Mistral's ``"3280"`` aside) or null, not the
        HTTP status repeated as a string (LiteLLM sends ``"400"``) or as a number (vLLM and llama.cpp's
        llama-server send ``400``). The number is also outside the schema (a string or null), but it is this one
        rule's finding, a warning: the schema rules (CC102) do not report it again.

    Why is this bad?
        Clients branch on ``code`` to tell error kinds apart; a copy of the status carries no information and
        an integer breaks typed clients that expect a string. A warning: the message and the status still reach
        the client.

    Status: 400

    Example:
        ```json
        {"error": {"message": "Invalid model", "type": "invalid_request_error", "param": null, "code": "400"}}
        ```

    Use instead:
        ```json
        {"error": {"message": "Invalid model", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}
        ```
    """
    fields = _error_fields(doc)
    if fields is None or ctx.status is None:
        return
    code = fields.get("code")
    loc = ("error", "code") if fields is not doc else ("code",)
    if isinstance(code, str) and code.strip() == str(ctx.status):
        yield hit(loc, f"Error code {code!r} repeats the HTTP status; expected a symbolic code or null.", code)
    elif type(code) is int and code == ctx.status:  # noqa: E721  (True is no status)
        yield hit(
            loc,
            f"Error code {code} is the HTTP status as a number; expected a symbolic string code or null.",
            code,
        )


@rule("CC505", "placeholder-error-param", severity=Severity.WARNING, target=Target.ERROR)
def placeholder_error_param(doc: Any, ctx: RuleContext) -> Iterator[Hit]:
    """
    What it checks:
        The error ``param`` names a request parameter or is null, never the strings ``"None"`` or ``"null"``.

    Why is this bad?
        A stringified ``None`` (LiteLLM on a missing key) reads as a parameter named "None" to clients that show
        which parameter was wrong.

    Status: 401

    Example:
        ```json
        {"error": {"message": "No api key passed in.", "type": "auth_error", "param": "None", "code": "401"}}
        ```

    Use instead:
        ```json
        {"error": {"message": "No api key passed in.", "type": "auth_error", "param": null, "code": "invalid_api_key"}}
        ```
    """
    fields = _error_fields(doc)
    if fields is None:
        return
    param = fields.get("param")
    if isinstance(param, str) and param.strip() in ("None", "null", "undefined", "nil"):
        loc = ("error", "param") if fields is not doc else ("param",)
        yield hit(loc, f"param is the string {param!r}; expected null or a parameter name.", param)
