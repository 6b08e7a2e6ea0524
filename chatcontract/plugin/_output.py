"""Everything the plugin prints goes through the cassettes' scrubber first (report sections, failures, summaries).

A URL's secret query parameters (``?key=``, ``?api_key=``, ``?sig=``... the cassettes' ``SECRET_QUERY_PARAMS``)
and every secret-shaped substring (bearer tokens, provider keys, credentials in a URL) are replaced by the same
placeholder a recorded cassette gets, so CI logs show no more than the committed cassettes do.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

__all__ = ["scrub_output"]

_URL = re.compile(r"https?://[^\s\"'<>`]+")


def _scrub_query(match: re.Match[str]) -> str:
    from ..cassettes.secrets import PLACEHOLDER, SECRET_QUERY_PARAMS, is_redacted

    url = match.group(0)
    base, question, rest = url.partition("?")
    if not question:
        return url
    query, hash_, fragment = rest.partition("#")
    segments = []
    for segment in query.split("&"):
        name, eq, value = segment.partition("=")
        if eq and unquote_plus(name).lower() in SECRET_QUERY_PARAMS and not is_redacted(unquote_plus(value)):
            segment = f"{name}={PLACEHOLDER}"
        segments.append(segment)
    return f"{base}?{'&'.join(segments)}{hash_}{fragment}"


def scrub_output(text: str) -> str:
    """``text`` as the plugin may print it: secret query parameters and secret-shaped substrings replaced."""
    from ..cassettes import scrub_text

    return scrub_text(_URL.sub(_scrub_query, text))
