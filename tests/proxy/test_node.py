"""Node clients nobody here wrote: the official ``openai`` npm package and ``@mistralai/mistralai`` TypeScript SDK
talk to the reference provider through the proxy, streaming and not. The proxy's findings equal ``check()``'s on
the same exchanges, and the cassette it records from them replays green under ``pytest --chatcontract-cassettes``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatcontract.cassettes import audit, load_cassette
from chatcontract.provider import serve

from .helpers import codes_of, proxy_to
from .node_clients import ensure_node_clients, run_node

KEY = "sk-nodetest-00112233445566778899aabbccddeeff"
CLIENTS = {"openai": ("openai_client.mjs", "OPENAI_API_KEY"), "mistral": ("mistral_client.mjs", "MISTRAL_API_KEY")}


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """The pinned Node SDKs, installed once into the cache folder."""
    return ensure_node_clients()


def _run(node_clients: Path, dialect: str, tmp_path: Path, faults: tuple[str, ...] = (), **options):
    script, key_env = CLIENTS[dialect]
    with serve(dialect=dialect, faults=faults, seed=4, api_key=KEY) as provider:
        with proxy_to(provider.base_url, dialect=dialect, record=str(tmp_path / "rec"), **options) as (proxy, out):
            # openai takes the base URL with /v1, mistralai the server URL without it
            url = proxy.base_url if dialect == "openai" else proxy.root_url
            result = run_node(node_clients, script, url, "ref-small", env={key_env: KEY})
    return result, proxy, out.getvalue()


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
def test_node_sdk_through_the_proxy_records_a_cassette_that_replays_green(
    dialect: str, node_clients: Path, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    result, proxy, printed = _run(node_clients, dialect, tmp_path)
    assert result["ok"], result
    assert result["content"] and result["chunks"] > 2 and result["streamed"]
    exchanges = list(proxy.session.exchanges)
    assert [(e.checked, e.stream, e.codes) for e in exchanges] == [(True, False, []), (True, True, [])]
    # The cassette: no secret, and every chat interaction passes when pytest replays it
    (path,) = (tmp_path / "rec").glob("*.yaml")
    assert KEY not in path.read_text() and KEY not in printed and audit(path) == []
    shutil.copytree(tmp_path / "rec", pytester.path / "recorded")
    replay = pytester.runpytest_subprocess("--chatcontract-cassettes", "recorded", "--chatcontract-dialect", dialect)
    replay.assert_outcomes(passed=2)


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
def test_node_sdk_accepts_what_the_proxy_reports(dialect: str, node_clients: Path, tmp_path: Path) -> None:
    # Given a provider sending millisecond timestamps and streams without [DONE], which the Node SDKs accept
    result, proxy, printed = _run(node_clients, dialect, tmp_path, ("created-ms", "stream-no-done"))
    assert result["ok"], result
    # Then the proxy reports both, exactly as check() does on the recorded exchanges
    (path,) = (tmp_path / "rec").glob("*.yaml")
    interactions = load_cassette(path).interactions
    exchanges = list(proxy.session.exchanges)
    assert [e.codes for e in exchanges] == [codes_of(i, dialect) for i in interactions] == [["CC209"], ["CC303"]]
    assert "CC209 implausible-created [error] $.created" in printed


@pytest.mark.parametrize("dialect", ["openai", "mistral"])
def test_enforce_makes_the_node_sdk_fail(dialect: str, node_clients: Path, tmp_path: Path) -> None:
    result, proxy, _ = _run(node_clients, dialect, tmp_path, ("created-ms",), enforce=True)
    assert not result["ok"] and result["status"] == 502 and "CC209" in result["error"]
    assert [e.replaced for e in proxy.session.exchanges] == ["502"]
