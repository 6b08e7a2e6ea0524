"""[tool.chatcontract] in pyproject.toml: keys, precedence, per-provider ignores, errors."""

from __future__ import annotations

import json

import pytest

from chatcontract import ConfigError, check
from chatcontract.cli import main
from chatcontract.config import load_config

from .conftest import make_response, pairs

BAD = make_response(id="", model="")


def write_config(path, text):
    (path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.chatcontract]\n" + text)


def test_no_pyproject_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(tmp_path)
    assert cfg.dialect is None and cfg.select is None and cfg.ignore == ()
    assert pairs(check(BAD)) == {("CC210", "$.id"), ("CC211", "$.model")}


def test_config_select_ignore_and_dialect(tmp_path, monkeypatch):
    write_config(tmp_path, 'dialect = "openai"\nignore = ["CC211", "CC1"]\n')
    monkeypatch.chdir(tmp_path)
    report = check(BAD)
    assert report.dialect == "openai"
    assert pairs(report) == {("CC210", "$.id")}


def test_argument_beats_config(tmp_path, monkeypatch):
    write_config(tmp_path, 'dialect = "openai"\nselect = ["CC211"]\n')
    monkeypatch.chdir(tmp_path)
    assert pairs(check(BAD)) == {("CC211", "$.model")}
    # An explicit select replaces the configured one; an explicit dialect replaces the configured dialect.
    assert pairs(check(BAD, select=["CC210"], dialect="mistral")) == {("CC210", "$.id")}


def test_per_provider_ignores(tmp_path, monkeypatch):
    write_config(tmp_path, '[tool.chatcontract.per-provider-ignores]\n"litellm*" = ["CC210"]\n')
    monkeypatch.chdir(tmp_path)
    assert pairs(check(BAD, provider="LiteLLM-proxy")) == {("CC211", "$.model")}
    assert pairs(check(BAD, provider="llamacpp")) == {("CC210", "$.id"), ("CC211", "$.model")}


def test_per_cassette_ignores(tmp_path):
    write_config(tmp_path, '[tool.chatcontract.per-cassette-ignores]\n"cassettes/llamacpp/*.yaml" = ["CC401"]\n')
    cfg = load_config(tmp_path)
    assert cfg.cassette_ignores(tmp_path / "cassettes" / "llamacpp" / "a.yaml") == ("CC401",)
    assert cfg.cassette_ignores(tmp_path / "cassettes" / "litellm" / "a.yaml") == ()


def test_found_from_a_subdirectory(tmp_path, monkeypatch):
    write_config(tmp_path, 'ignore = ["CC2"]\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert check(BAD).violations == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('selct = ["CC2"]\n', "unknown key"),
        ('dialect = "cohere"\n', "dialect must be 'mistral' or 'openai'"),
        ('ignore = ["CC2O1"]\n', "Did you mean CC201"),
        ("ignore = 5\n", "must be a list of rule codes"),
        ("[tool.chatcontract.per-provider-ignores]\nx = [\"CC999\"]\n", "Unknown rule selector 'CC999'"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(tmp_path)
    assert "pyproject.toml" in str(info.value)


def test_invalid_toml(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.chatcontract\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


def test_cli_reports_bad_config_with_exit_2(tmp_path, monkeypatch, capsys):
    write_config(tmp_path, 'ignore = ["nonsense"]\n')
    (tmp_path / "r.json").write_text(json.dumps(make_response()))
    monkeypatch.chdir(tmp_path)
    assert main(["check", "r.json"]) == 2
    assert "Unknown rule selector 'nonsense'" in capsys.readouterr().err


def test_config_reloads_when_file_changes(tmp_path):
    write_config(tmp_path, 'ignore = ["CC210"]\n')
    assert load_config(tmp_path).ignore == ("CC210",)
    import os
    import time

    write_config(tmp_path, 'ignore = ["CC211"]\n')
    later = time.time() + 5
    os.utime(tmp_path / "pyproject.toml", (later, later))
    assert load_config(tmp_path).ignore == ("CC211",)


def test_check_looks_for_the_project_config_at_most_once_a_second(tmp_path, monkeypatch):
    from chatcontract import engine, settings

    # Given two projects, the second ignoring CC2, and a clock under the test's control
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    write_config(second, 'ignore = ["CC2"]\n')
    now = [1000.0]
    monkeypatch.setattr(settings, "_monotonic", lambda: now[0])
    monkeypatch.chdir(first)
    assert pairs(check(BAD)) == {("CC210", "$.id"), ("CC211", "$.model")}
    # When the working directory changes, check() keeps the configuration it found for up to a second
    monkeypatch.chdir(second)
    now[0] += 0.5
    assert len(check(BAD).violations) == 2
    # Then sees the new directory's once the second has passed
    now[0] += 0.6
    assert check(BAD).violations == ()
    # And forget_project_config() makes the next check look at once
    monkeypatch.chdir(first)
    engine.forget_project_config()
    assert len(check(BAD).violations) == 2


def test_cli_reads_the_config_of_the_directory_it_runs_in(tmp_path, monkeypatch, capsys):
    # Given a response with an empty id and model, and two projects (the second ignoring CC2)
    body = tmp_path / "body.json"
    body.write_text(json.dumps(BAD))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    write_config(second, 'ignore = ["CC2"]\n')
    # When `chatcontract check` runs in one and then, at once, in the other (one process)
    monkeypatch.chdir(first)
    assert main(["check", str(body)]) == 1
    monkeypatch.chdir(second)
    # Then each run uses its own directory's configuration
    assert main(["check", str(body)]) == 0
    capsys.readouterr()
