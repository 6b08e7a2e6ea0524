"""Cassettes: the recorded exchanges chatcontract checks, replays and keeps free of secrets.

One package, four jobs, each in its own module: :mod:`~chatcontract.cassettes.file` reads VCR.py cassettes (YAML or
JSON, format version 1) with a *safe* loader into frozen dataclasses; :mod:`~chatcontract.cassettes.secrets` finds
secrets in plain values (headers, URLs, JSON, SSE) and :mod:`~chatcontract.cassettes.recording` uses it to scrub
what VCR.py records and to match chat requests by JSON body (:func:`configure_vcr`, what the pytest plugin installs);
:mod:`~chatcontract.cassettes.audit` reports every secret left in cassette files; :mod:`~chatcontract.cassettes.check`
puts recorded interactions through the engine (the plugin's cassette items and ``chatcontract cassettes check``).

Neither VCR.py nor yaml is imported at package import time; nothing here imports pytest.
"""

from __future__ import annotations

from .audit import AuditFinding, audit
from .file import (
    DEFAULT_PATH_PATTERN,
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    iter_cassette_files,
    load_cassette,
)
from .recording import (
    DEFAULT_MATCH_ON,
    MATCHER_NAME,
    configure_vcr,
    json_body_matcher,
    learn_request,
    scrub_json,
    scrub_request,
    scrub_response,
    scrub_text,
)
from .secrets import (
    PLACEHOLDER,
    SECRET_BODY_KEYS,
    SECRET_PATTERNS,
    SECRET_QUERY_PARAMS,
    SECRET_REQUEST_HEADERS,
    SECRET_RESPONSE_HEADERS,
    KnownSecrets,
    SecretPattern,
)

__all__ = [
    "DEFAULT_MATCH_ON", "DEFAULT_PATH_PATTERN", "MATCHER_NAME", "PLACEHOLDER", "SECRET_BODY_KEYS", "SECRET_PATTERNS",
    "SECRET_QUERY_PARAMS", "SECRET_REQUEST_HEADERS", "SECRET_RESPONSE_HEADERS", "AuditFinding", "Cassette",
    "Interaction", "KnownSecrets", "RecordedRequest", "RecordedResponse", "SecretPattern", "audit",
    "configure_vcr", "iter_cassette_files", "json_body_matcher", "learn_request", "load_cassette", "scrub_json",
    "scrub_request", "scrub_response", "scrub_text",
]

for _cls in (AuditFinding, Cassette, Interaction, KnownSecrets, RecordedRequest, RecordedResponse, SecretPattern):
    _cls.__module__ = __name__  # documented and shown as chatcontract.cassettes.X
del _cls
