"""Session-scoped pytest fixtures for the real providers.

Register them for the whole suite from the top-level ``tests/conftest.py``::

    pytest_plugins = ["tests.providers.fixtures"]

(``tests/providers/conftest.py`` registers them for the tests in this folder if that has not been done.)

A provider that cannot be installed or started makes the requesting tests ERROR with the reason (the pip log
tail, the server log tail): these fixtures never skip. pytest caches a session fixture's failure, so a
failing install is attempted once per session, not once per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import Server, litellm_proxy, llamacpp_server

__all__ = ["litellm", "llamacpp"]


@pytest.fixture(scope="session")
def llamacpp() -> Iterator[Server]:
    """llama-cpp-python's server with the tiny model; aliases ``tiny`` and ``tiny-tools``; no API key."""
    with llamacpp_server() as server:
        yield server


@pytest.fixture(scope="session")
def litellm(llamacpp: Server) -> Iterator[Server]:
    """The LiteLLM proxy: mock models plus ``upstream-tiny``/``upstream-tiny-tools`` routed to ``llamacpp``."""
    with litellm_proxy(upstream=llamacpp.base_url) as server:
        yield server
