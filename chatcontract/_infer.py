"""Which dialect an exchange speaks, when nothing configures one: read from what the exchange itself shows.

The official SDKs name themselves in ``User-Agent`` (openai: ``OpenAI/Python 3.63.0``, ``AsyncOpenAI/Python ...``;
mistralai: ``speakeasy-sdk/python 3.7.0 2.935.1 1.0.0 mistralai``), the openai SDK also sends its
``X-Stainless-*`` headers, and the providers' own hosts are unambiguous (``api.openai.com``, ``api.mistral.ai``).
Without any of these the answer is mistral, the documented default. The reason comes back with the dialect, so a
report can say why ("dialect openai, inferred from User-Agent OpenAI/Python 3.63.0").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DEFAULT_DIALECT", "infer_dialect"]

DEFAULT_DIALECT = "mistral"
_HOSTS = {"api.openai.com": "openai", "api.mistral.ai": "mistral", "codestral.mistral.ai": "mistral"}


def _header(headers: Any, name: str) -> str:
    """One header value from httpx/requests headers or a VCR.py mapping of lists, case-insensitively."""
    if headers is None:
        return ""
    items = headers.items() if isinstance(headers, Mapping) or hasattr(headers, "items") else ()
    for key, value in items:
        if str(key).lower() == name:
            if isinstance(value, (list, tuple)):
                value = value[0] if value else ""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return ""


def infer_dialect(headers: Any, url: str) -> tuple[str, str]:
    """``(dialect, reason)`` for a request with these headers sent to ``url``."""
    agent = _header(headers, "user-agent").strip()
    lowered = agent.lower()
    if lowered.startswith(("openai/", "asyncopenai/")) or " openai/" in lowered:
        return "openai", f"inferred from User-Agent {agent}"
    if "mistralai" in lowered or lowered.startswith("mistral"):
        return "mistral", f"inferred from User-Agent {agent}"
    if _header(headers, "x-stainless-lang"):
        return "openai", "inferred from the openai SDK's X-Stainless headers"
    host = (urlsplit(url).hostname or "").lower()
    if host in _HOSTS:
        return _HOSTS[host], f"inferred from the host {host}"
    return DEFAULT_DIALECT, "the default: neither configured nor shown by the client or the host"
