"""`chatcontract check | rules | rule | demo`: output (snapshots) and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chatcontract.cli import main

from .conftest import make_response


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "bad.json"
    doc = make_response(created=1736423701225, model="")
    doc["usage"]["total_tokens"] = 99
    path.write_text(json.dumps(doc))
    return path


def test_check_conforming_exits_0(tmp_path, capsys):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(make_response()))
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ChatCompletionResponse (mistral): conforms\n"


def test_check_text_report(bad_file, capsys, snapshot):
    assert main(["check", str(bad_file)]) == 1
    out = capsys.readouterr().out.replace(str(bad_file), "bad.json")
    assert out == snapshot


def test_check_json_report(bad_file, capsys, snapshot):
    assert main(["check", str(bad_file), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert {"code", "name", "severity", "path", "message"} <= set(data["violations"][0])
    assert data == snapshot


def test_check_warnings_only_exits_0(tmp_path, capsys):
    path = tmp_path / "w.json"
    path.write_text(json.dumps(make_response(usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 9})))
    assert main(["check", str(path)]) == 0
    assert "CC201 usage-total-mismatch at $.usage.total_tokens  [warning]" in capsys.readouterr().out


def test_check_select_ignore_dialect_status_request(tmp_path, capsys):
    body = tmp_path / "e.json"
    body.write_text(json.dumps({"object": "error", "message": "m", "type": "t", "param": None, "code": None}))
    assert main(["check", str(body), "--dialect", "openai", "--status", "400"]) == 1
    assert "CC502 foreign-error-envelope" in capsys.readouterr().out
    assert main(["check", str(body), "--dialect", "openai", "--status", "400", "--ignore", "CC5"]) == 0
    capsys.readouterr()
    resp = tmp_path / "r.json"
    resp.write_text(json.dumps(make_response()))
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"model": "mistral-small-latest", "messages": [], "n": 2}))
    assert main(["check", str(resp), "--request", str(req)]) == 1
    assert "CC401 choice-count-mismatch" in capsys.readouterr().out
    assert main(["check", str(resp), "--request", str(req), "--select", "CC2,CC1"]) == 0


def test_check_stdin():
    doc = json.dumps(make_response(id=""))
    proc = subprocess.run(
        [sys.executable, "-m", "chatcontract", "check", "-"], input=doc.encode(), capture_output=True, timeout=60
    )
    assert proc.returncode == 1
    assert b"CC210 empty-id at $.id" in proc.stdout


def test_check_missing_file_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_unknown_rule_selector_exits_2(tmp_path, capsys):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(make_response()))
    assert main(["check", str(path), "--select", "CC2O1"]) == 2
    assert "Did you mean CC201?" in capsys.readouterr().err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--dialect", "cohere"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "check" in capsys.readouterr().out


def test_rules_lists_every_rule(capsys, snapshot):
    assert main(["rules"]) == 0
    assert capsys.readouterr().out == snapshot


def test_rules_json_and_dialect_filter(capsys):
    assert main(["rules", "--format", "json", "--dialect", "openai"]) == 0
    rows = json.loads(capsys.readouterr().out)
    codes = [r["code"] for r in rows]
    assert "CC212" not in codes and "CC201" in codes
    assert codes == sorted(codes)


def test_rule_by_name(capsys, snapshot):
    assert main(["rule", "usage-total-mismatch"]) == 0
    assert capsys.readouterr().out == snapshot


def test_rule_unknown_exits_2(capsys):
    assert main(["rule", "CC999"]) == 2
    assert "Unknown rule 'CC999'" in capsys.readouterr().err


def test_demo_runs(capsys, tmp_path):
    # The demo starts two real reference providers with injected faults and fuzzes them over HTTP.
    assert main(["demo", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== fuzzing the reference provider (mistral) at http://127.0.0.1:" in out
    assert "== fuzzing the reference provider (openai) at http://127.0.0.1:" in out
    assert "conforming-mistral.json              conforms" in out
    assert "Compatibility report: " in out and "(rule x provider)" in out
    # Every injected fault is found by its rule, with a reproducing curl line.
    for code in ("CC209", "CC101", "CC303", "CC207", "CC401", "CC402", "CC103", "CC309", "CC502", "CC220", "CC218"):
        assert f"  {code}   " in out, code
    assert "litellm-reasoning-tokens.json        CC217" in out  # reasoning_tokens above completion_tokens
    assert "curl -X POST http://127.0.0.1:" in out
    assert (tmp_path / "report.html").stat().st_size > 0


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "chatcontract", "--version"], capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith(b"chatcontract ")


def test_check_extension_reasoning(tmp_path, capsys):
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1755146543,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris.", "refusal": None, "reasoning_content": ["x"]},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(body))
    # Without the extension the published OpenAI contract leaves the field alone
    assert main(["check", str(path), "--dialect", "openai"]) == 0
    capsys.readouterr()
    # With it, a list where a string is expected is an error
    assert main(["check", str(path), "--dialect", "openai", "--extension", "reasoning"]) == 1
    assert "CC220 reasoning-field-wrong-type at $.choices[0].message.reasoning_content" in capsys.readouterr().out
    assert main(["check", str(path), "--dialect", "openai", "--extension", "thinking"]) == 2
    assert "unknown extension(s) 'thinking'" in capsys.readouterr().err
