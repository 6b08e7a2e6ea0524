"""``chatcontract cassettes check|audit PATH``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chatcontract import cli

from .plugin._llm import (
    BODY_KEY,
    COOKIE,
    EMBEDDING,
    OPENAI_KEY,
    PLANTED,
    QUERY_KEY,
    SSE_OK,
    SSE_SECRET,
    cassette,
    completion,
    interaction,
)

GOOD = interaction(completion())
EMPTY_MODEL = interaction(completion(model=""))
STREAM = interaction(SSE_OK.decode(), content_type="text/event-stream")
EMBEDDINGS = interaction(EMBEDDING, uri="https://api.mistral.ai/v1/embeddings")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory (no pyproject.toml above it is ours)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["cassettes", *args])
    out, err = capsys.readouterr()
    return code, out, err


# -- check ---------------------------------------------------------------------------------------------------------
def test_check_conforming_folder_exits_0(project, capsys):
    # Given conforming cassettes (JSON and SSE) with a non-chat interaction among them
    write(project, "cassettes/mistral/a.yaml", cassette(GOOD, EMBEDDINGS, STREAM))
    write(project, "cassettes/mistral/b.yml", cassette(GOOD))
    # When they are checked
    code, out, err = run(capsys, "check", "cassettes")
    # Then the exit code is 0, nothing is reported, and only the chat interactions were counted
    assert code == 0
    assert out == ""
    assert err == "3 interaction(s) in 2 cassette(s) checked, 0 failed\n"


def test_check_faulty_interaction_exits_1_naming_file_and_interaction(project, capsys):
    # Given a cassette whose third interaction (index 2) is broken
    write(project, "cassettes/mistral/chat.yaml", cassette(GOOD, EMBEDDINGS, EMPTY_MODEL))
    # When it is checked
    code, out, err = run(capsys, "check", "cassettes")
    # Then the exit code is 1 and the output names file::interaction and the violation
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "cassettes/mistral/chat.yaml::interaction[2]: 1 contract violation in ChatCompletionResponse (mistral)"
    )
    assert lines[1] == "CC211 empty-model at $.model  [error]"
    assert "interaction[0]" not in out and "interaction[1]" not in out
    assert err == "2 interaction(s) in 1 cassette(s) checked, 1 failed\n"


def test_check_single_file_and_options(project, capsys):
    # Given one Mistral completion recorded
    path = write(project, "rec.yaml", cassette(GOOD))
    # When the file is checked as Mistral, as OpenAI, and as OpenAI ignoring CC101
    mistral = run(capsys, "check", str(path))
    openai = run(capsys, "check", str(path), "--dialect", "openai")
    ignored = run(capsys, "check", str(path), "--dialect", "openai", "--ignore", "CC101,CC109")
    # Then the options reach the check
    assert mistral[0] == 0
    assert openai[0] == 1 and "ChatCompletion (openai)" in openai[1] and "CC101 missing-required-field" in openai[1]
    assert ignored[0] == 0


def test_check_json_format(project, capsys):
    # Given a cassette with a good and a broken interaction
    write(project, "cassettes/chat.yaml", cassette(GOOD, EMPTY_MODEL))
    # When it is checked with --format json
    code, out, _ = run(capsys, "check", "cassettes", "--format", "json")
    # Then stdout is one JSON document with one entry per chat interaction
    assert code == 1
    doc = json.loads(out)
    assert [(d["path"], d["interaction"], d["ok"], [v["code"] for v in d["violations"]]) for d in doc] == [
        ("cassettes/chat.yaml", 0, True, []),
        ("cassettes/chat.yaml", 1, False, ["CC211"]),
    ]
    assert doc[1]["violations"][0]["path"] == "$.model" and doc[1]["dialect"] == "mistral"


def test_check_malformed_cassette_is_reported_and_others_still_checked(project, capsys):
    # Given a cassette without interactions, one with a Python object tag, and a good one
    write(project, "cassettes/a.yaml", "version: 1\n")
    write(project, "cassettes/b.yaml", "interactions: !!python/object/apply:os.system ['echo pwned']\n")
    write(project, "cassettes/c.yaml", cassette(GOOD))
    # When they are checked
    code, out, err = run(capsys, "check", "cassettes")
    # Then each malformed file is reported, the good one is checked, and the exit code is 1
    assert code == 1
    first, second = out.splitlines()
    assert first.startswith("cassettes/a.yaml: malformed cassette") and first.endswith("missing 'interactions' list")
    assert second.startswith("cassettes/b.yaml: malformed cassette")
    assert second.endswith("refusing YAML tag 'tag:yaml.org,2002:python/object/apply:os.system': cassettes must be "
                           "plain YAML (Python object tags are never constructed)")
    assert err == "1 interaction(s) in 3 cassette(s) checked, 2 failed\n"


def test_check_json_format_is_valid_json_with_a_malformed_cassette(project, capsys):
    # Given a malformed cassette next to a good one
    write(project, "cassettes/a.yaml", "version: 1\n")
    write(project, "cassettes/c.yaml", cassette(GOOD))
    # When they are checked with --format json
    code, out, _ = run(capsys, "check", "cassettes", "--format", "json")
    # Then stdout is one JSON document (the malformed cassette is an entry in it, not a text line before it)
    assert code == 1
    doc = json.loads(out)
    assert [d["path"] for d in doc] == ["cassettes/a.yaml", "cassettes/c.yaml"]


def test_check_stale_expectation_fails(project, capsys):
    # Given CC211 expected for a cassette that no longer shows it, and for one that does
    (project / "pyproject.toml").write_text(
        '[tool.chatcontract.per-cassette-expect]\n"cassettes/*.yaml" = ["CC211"]\n')
    write(project, "cassettes/fixed.yaml", cassette(GOOD))
    write(project, "cassettes/still.yaml", cassette(EMPTY_MODEL))
    # When they are checked (an absolute path: see test_check_reads_the_config_of_the_current_project)
    code, out, _ = run(capsys, "check", str(project / "cassettes"))
    # Then the expected finding does not fail, the stale expectation does
    assert code == 1
    assert f"{project}/cassettes/fixed.yaml: expected finding CC211 never occurred (stale per-cassette-expect)" in out
    assert "  expected (not failing): CC211" in out
    assert "fixed.yaml::interaction" not in out


def test_check_reads_the_config_of_the_current_project(tmp_path, monkeypatch, capsys):
    # Given two projects with a cassettes/ folder each: the first without configuration, the second ignoring CC211
    first, second = tmp_path / "first", tmp_path / "second"
    write(first, "cassettes/chat.yaml", cassette(EMPTY_MODEL))
    write(second, "cassettes/chat.yaml", cassette(EMPTY_MODEL))
    (second / "pyproject.toml").write_text('[tool.chatcontract.per-cassette-ignores]\n"chat.yaml" = ["CC211"]\n')
    # When `chatcontract cassettes check cassettes` runs in the first, then in the second (one process)
    monkeypatch.chdir(first)
    in_first = run(capsys, "check", "cassettes")
    monkeypatch.chdir(second)
    in_second = run(capsys, "check", "cassettes")
    # Then each run uses its own project's pyproject.toml
    assert in_first[0] == 1
    assert in_second[0] == 0, in_second[1]


def test_check_empty_folder_exits_2(project, capsys):
    # Given an empty folder
    (project / "empty").mkdir()
    # When it is checked
    code, out, err = run(capsys, "check", "empty")
    # Then it is a usage error
    assert code == 2
    assert out == ""
    assert err == "chatcontract: no cassettes under empty\n"


# -- audit ---------------------------------------------------------------------------------------------------------
DIRTY = interaction(
    SSE_SECRET.decode(),
    uri=f"https://api.mistral.ai/v1/chat/completions?api_key={QUERY_KEY}&lang=en",
    request={"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}], "stream": True,
             "api_key": BODY_KEY},
    content_type="text/event-stream",
    request_headers={"Authorization": [f"Bearer {OPENAI_KEY}"]},
    response_headers={"Set-Cookie": [f"session={COOKIE}; Path=/; HttpOnly"]},
)


def test_audit_dirty_cassette_lists_every_planted_secret(project, capsys):
    # Given a cassette whose second interaction carries five planted secrets
    write(project, "cassettes/dirty.yaml", cassette(GOOD, DIRTY))
    # When it is audited
    code, out, err = run(capsys, "audit", "cassettes")
    # Then the exit code is 1 and there is one line per secret with file, interaction and location, masked
    assert code == 1
    assert sorted(out.splitlines()) == sorted([
        "cassettes/dirty.yaml: interaction 1: request.uri?api_key: secret-query-param qkaT…",
        "cassettes/dirty.yaml: interaction 1: request.headers.authorization: secret-header Bear…",
        "cassettes/dirty.yaml: interaction 1: request.body$.api_key: secret-key bk-Z…",
        "cassettes/dirty.yaml: interaction 1: response.headers.set-cookie: secret-header sess…",
        "cassettes/dirty.yaml: interaction 1: response.body (SSE event 2): openai-key sk-p…",
    ])
    for secret in PLANTED.values():
        assert secret not in out + err
    assert err == "5 secret(s) found under cassettes\n"


def test_audit_clean_cassette_exits_0(project, capsys):
    # Given clean cassettes (redacted placeholders are not secrets)
    from chatcontract.cassettes import PLACEHOLDER

    redacted = interaction(completion(), request_headers={"authorization": [PLACEHOLDER]},
                           uri="https://api.mistral.ai/v1/chat/completions?api_key=%3CCHATCONTRACT-REDACTED%3E")
    write(project, "cassettes/clean.yaml", cassette(GOOD, STREAM, redacted))
    # When they are audited
    code, out, err = run(capsys, "audit", "cassettes")
    # Then nothing is found
    assert (code, out) == (0, "")
    assert err == "0 secret(s) found under cassettes\n"


def test_console_script(project):
    # Given a broken cassette and a dirty one
    write(project, "cassettes/chat.yaml", cassette(EMPTY_MODEL, DIRTY))
    # When the installed command runs (python -m chatcontract, as the console script does)
    check = subprocess.run([sys.executable, "-m", "chatcontract", "cassettes", "check", "cassettes"],
                           capture_output=True, text=True, timeout=60)
    audit = subprocess.run([sys.executable, "-m", "chatcontract", "cassettes", "audit", "cassettes"],
                           capture_output=True, text=True, timeout=60)
    # Then both report and exit 1
    assert check.returncode == 1, check.stderr
    assert "cassettes/chat.yaml::interaction[0]: 1 contract violation" in check.stdout
    assert audit.returncode == 1, audit.stderr
    assert len(audit.stdout.splitlines()) == 5
