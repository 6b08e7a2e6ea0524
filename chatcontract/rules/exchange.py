"""CC6xx: whole exchanges, judged by ``chatcontract fuzz``: what the provider did with a request, not the body's shape.

These rules need the request, the status and the fact that an answer came at all, so the fuzz runner emits them
(``check()`` of a single body never does). They are selected and ignored like every other rule.
"""

from __future__ import annotations

from ..violations import Severity
from ._registry import Target, declare

declare(
    "CC601",
    "invalid-request-accepted",
    """
    What it checks:
        A request outside the dialect's request contract (a missing ``messages``, ``temperature: "hot"``, an
        unknown role, ``n: 1.5``) is rejected with a 4xx status. The fuzz runner decides validity with the strict
        request contract, not with the generator's intent, and reports a 2xx answer to an invalid request.

    Why is this bad?
        A server that answers garbage with 200 hides client bugs until production: the typo'd parameter is
        silently ignored, the string temperature is coerced or dropped, and the caller believes it was applied.
        Clients and gateways rely on a 4xx to surface their mistakes.

    References:
        - Mistral and OpenAI API references: invalid requests get 400/422 with an error body
    """,
    target=Target.ANY,
)

declare(
    "CC602",
    "server-error",
    """
    What it checks:
        No request, valid or not, makes the provider answer with a 5xx status.

    Why is this bad?
        A 5xx says the server broke, not the client. Input the server does not accept must be refused with a
        4xx and an error body saying why; a crash on a malformed request (llama.cpp answering 500 with a Python
        traceback) is a bug, often a security one, and clients retry 5xx answers, multiplying the load.

    References:
        - RFC 9110 section 15.6 (server error 5xx); schemathesis' ``not_a_server_error`` check
    """,
    target=Target.ANY,
)

declare(
    "CC603",
    "valid-request-rejected",
    """
    What it checks:
        A request inside the dialect's request contract is not rejected with a 4xx status (401, 403 and 429,
        which are about the caller and not the request, are left out).

    Why is this bad?
        A provider that claims compatibility but refuses documented parameters (``n: 2``, ``tool_choice``,
        ``response_format``) breaks clients written against the official API. It is a warning because some
        refusals are deliberate and documented (a model without tool support, a feature not offered).

    References:
        - Providers that reject documented parameters: https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/189,
          https://github.com/mistralai/platform-docs-public/issues/7
    """,
    severity=Severity.WARNING,
    target=Target.ANY,
)

declare(
    "CC604",
    "incomplete-response",
    """
    What it checks:
        Every request gets a complete answer within the timeout: no connection refused or reset, no read
        timeout, no stream cut short because it never ended.

    Why is this bad?
        Clients see these as exceptions from their HTTP library, far from any useful message; a stream that
        never ends holds a connection and a worker forever.

    References:
        - httpx/requests transport errors; the ``--timeout`` option of ``chatcontract fuzz``
    """,
    target=Target.ANY,
)

declare(
    "CC605",
    "undocumented-status",
    """
    What it checks:
        The status of an answer to ``POST /v1/chat/completions`` is one the dialect documents: 200, and the error
        statuses of ``chatcontract openapi`` (400, 401, 404, 429, 500; Mistral also 422). Answers to other HTTP
        methods are left out (a 405 is right there). The same check as schemathesis' ``status_code_conformance``.

    Why is this bad?
        Clients and SDKs map statuses to exceptions and retry policies: an undocumented 403, 409 or 503 takes a
        path nobody tested (the openai SDK retries 409 and every 5xx, raises a generic APIStatusError otherwise).
        A warning, because an extra status is often deliberate (a gateway's 403 for a blocked model).

    References:
        - Mistral and OpenAI API references, error codes; schemathesis ``status_code_conformance``
    """,
    severity=Severity.WARNING,
    target=Target.ANY,
)

declare(
    "CC606",
    "method-not-allowed-status",
    """
    What it checks:
        A request with an HTTP method the contract does not define for ``/v1/chat/completions`` (anything but
        ``POST``: schemathesis' coverage phase sends ``GET``, ``PUT``, ``DELETE``, ``PATCH``, ``HEAD``, ``TRACE``,
        ``OPTIONS``) is refused as a method, not answered as a chat request. Accepted answers: 405 Method Not
        Allowed (the right one, RFC 9110 section 15.5.6), 501 Not Implemented (a method the server does not know
        at all, section 15.6.2), 404 and 400 (routers that match the method with the path), 401, 403 and 429 (the
        caller is refused before routing), and for ``OPTIONS`` any 2xx (a CORS preflight, section 9.3.7). Any other
        status, or no answer at all (a reset, a timeout), is this rule's one finding. Such an exchange is not a chat
        request: its body is never judged by the response or error-body rules, and no other CC6xx rule applies to
        it.

    Why is this bad?
        A 2xx to ``GET``/``PUT``/``DELETE``/``TRACE`` means something else answered on the chat path (a catch-all
        route, a proxy echoing ``TRACE``: cross-site tracing), and a 5xx means the router crashed on a method it
        should refuse. A warning: it says nothing about the chat contract itself.

    References:
        - RFC 9110 sections 9.3.7 (OPTIONS), 15.5.6 (405 Method Not Allowed), 15.6.2 (501 Not Implemented)
        - Mistral and OpenAI API references: ``/v1/chat/completions`` defines ``POST`` only
    """,
    severity=Severity.WARNING,
    target=Target.ANY,
)
