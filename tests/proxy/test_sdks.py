"""The official Python SDKs talk to the reference provider through the proxy: what the proxy reports for each
exchange is exactly what ``check()`` reports for the same exchange, both on the bytes the recording kept and on the
answer to the same request sent directly to a provider seeded alike (which is byte-equal to the recording).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import openai
import pytest
from mistralai.client import Mistral

from chatcontract.cassettes import audit, load_cassette
from chatcontract.provider import serve
from chatcontract.proxy import RunningProxy
from chatcontract.report.results import FuzzResults

from .helpers import MESSAGES, codes_of, proxy_to

KEY = "sk-proxytest-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def _recorded(folder: Path) -> list:
    (path,) = folder.glob("*.yaml")
    return list(load_cassette(path).interactions)


def _assert_matches_check(proxy: RunningProxy, folder: Path, dialect: str) -> list[list[str]]:
    """Every exchange's codes equal check()'s on the recorded exchange; returns them in order."""
    interactions = _recorded(folder)
    exchanges = list(proxy.session.exchanges)
    assert [e.path for e in exchanges] == [urlsplit(i.request.uri).path for i in interactions]
    found = []
    for exchange, interaction in zip(exchanges, interactions, strict=True):
        assert exchange.checked and exchange.status == interaction.response.status
        assert exchange.codes == codes_of(interaction, dialect)
        found.append(exchange.codes)
    return found


def _assert_same_as_direct(proxy: RunningProxy, folder: Path, dialect: str, faults: tuple[str, ...]) -> None:
    """The recorded requests, sent directly to a provider seeded alike: the same bytes came back (the recording
    is byte-faithful), and check() on them reports what the proxy reported."""
    import httpx

    from chatcontract import check

    with serve(dialect=dialect, faults=faults, seed=3, api_key=KEY) as direct:
        for exchange, interaction in zip(proxy.session.exchanges, _recorded(folder), strict=True):
            url = direct.root_url + urlsplit(interaction.request.uri).path
            headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
            answer = httpx.post(url, content=interaction.request.body, headers=headers, timeout=10)
            assert answer.content == interaction.response.body
            report = check(answer, dialect=dialect, request=interaction.request.json)
            assert exchange.codes == list(dict.fromkeys(report.codes()))


def _assert_no_secret(proxy: RunningProxy, printed: str, folder: Path) -> None:
    results = proxy.session.results()
    assert KEY not in printed and KEY not in results.to_json()
    assert KEY not in next(folder.glob("*.yaml")).read_text()
    assert audit(folder) == []
    assert FuzzResults.from_dict(json.loads(results.to_json())).kind == "proxy"


@pytest.mark.parametrize(
    ("faults", "expected"),
    [((), [[], []]), (("created-ms", "stream-no-done"), [["CC209"], ["CC303"]])],
    ids=["conforming", "faulty"],
)
def test_openai_sdk_through_the_proxy(tmp_path: Path, faults: tuple[str, ...], expected: list[list[str]]) -> None:
    with serve(dialect="openai", faults=faults, seed=3, api_key=KEY) as provider:
        with proxy_to(provider.base_url, dialect="openai", record=str(tmp_path)) as (proxy, out):
            with openai.OpenAI(base_url=proxy.base_url, api_key=KEY, max_retries=0) as client:
                completion = client.chat.completions.create(model="ref-small", messages=MESSAGES, max_tokens=20)
                chunks = list(
                    client.chat.completions.create(model="ref-small", messages=MESSAGES, max_tokens=20, stream=True)
                )
    assert completion.choices[0].message.content and len(chunks) > 2
    assert _assert_matches_check(proxy, tmp_path, "openai") == expected
    _assert_same_as_direct(proxy, tmp_path, "openai", faults)
    _assert_no_secret(proxy, out.getvalue(), tmp_path)
    for codes in expected:
        for code in codes:
            assert f"{code} " in out.getvalue()


@pytest.mark.parametrize(
    ("faults", "expected"),
    [((), [[], []]), (("created-ms", "stream-no-done"), [["CC209"], ["CC303"]])],
    ids=["conforming", "faulty"],
)
def test_mistral_sdk_through_the_proxy(tmp_path: Path, faults: tuple[str, ...], expected: list[list[str]]) -> None:
    with serve(dialect="mistral", faults=faults, seed=3, api_key=KEY) as provider:
        with proxy_to(provider.base_url, dialect="mistral", record=str(tmp_path)) as (proxy, out):
            with Mistral(api_key=KEY, server_url=proxy.root_url) as client:
                answer = client.chat.complete(model="ref-small", messages=MESSAGES, max_tokens=20)
                events = list(client.chat.stream(model="ref-small", messages=MESSAGES, max_tokens=20))
    assert answer.choices[0].message.content and len(events) > 2
    assert _assert_matches_check(proxy, tmp_path, "mistral") == expected
    _assert_same_as_direct(proxy, tmp_path, "mistral", faults)
    _assert_no_secret(proxy, out.getvalue(), tmp_path)


def test_other_paths_pass_through_unchecked(tmp_path: Path) -> None:
    with serve(dialect="openai", seed=3, api_key=KEY) as provider:
        with proxy_to(provider.base_url, dialect="openai") as (proxy, _):
            with openai.OpenAI(base_url=proxy.base_url, api_key=KEY, max_retries=0) as client:
                models = [m.id for m in client.models.list()]
                with pytest.raises(openai.AuthenticationError):  # the upstream's own 401, passed on
                    openai.OpenAI(base_url=proxy.base_url, api_key="wrong", max_retries=0).models.list()
    assert models == list(provider.models)
    results = proxy.session.results()
    assert (results.requests, results.unchecked, results.positive) == (2, 2, 0)
    assert results.statuses == {"200": 1, "401": 1} and results.findings == []
