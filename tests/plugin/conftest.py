from __future__ import annotations

from collections.abc import Iterator

import httpx  # noqa: F401

# pytester's in-process runs drop every module first imported inside an inner session and import it again in the
# next one (with assertion rewriting, for pytest plugins such as hypothesis): importing what the inner sessions use
# here keeps each inner run well under a second. None of this is loaded by the plugin itself (test_lazy_import
# checks that in a subprocess).
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest
import requests  # noqa: F401
import vcr  # noqa: F401
import yaml  # noqa: F401

import chatcontract.cassettes  # noqa: F401
import chatcontract.cli  # noqa: F401
import chatcontract.engine  # noqa: F401
import chatcontract.plugin._fixture  # noqa: F401
import chatcontract.plugin._guard  # noqa: F401
import chatcontract.plugin._items  # noqa: F401
import chatcontract.streams  # noqa: F401

from ._llm import BASE_INI, URL_ENV, LLMServer, llm_server


@pytest.fixture(autouse=True)
def inner_ini(pytester):
    """Inner pytest runs get a minimal ini (pytest-asyncio warns without a loop scope, and warnings are errors)."""
    pytester.makeini(BASE_INI)


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[LLMServer]:
    """The local chat-completion server; its URL is in $CHATCONTRACT_TEST_LLM_URL for the inner tests."""
    with llm_server() as running:
        monkeypatch.setenv(URL_ENV, running.url)
        yield running
