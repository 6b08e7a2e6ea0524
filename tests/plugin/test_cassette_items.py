"""Cassette files collected as test items: ``cassettes/x.yaml::interaction[N]``."""

from __future__ import annotations

from ._llm import EMBEDDING, OPENAI_COMPLETION, cassette, completion, interaction, write_ini

GOOD = interaction(completion(), response_headers={"x-request-id": ["req-good-1"]})
EMPTY_MODEL = interaction(completion(model="", id="cmpl-broken-7"))
MODELS = interaction({"object": "list", "data": []}, uri="https://api.mistral.ai/v1/models", method="GET",
                     request="")
EMBEDDINGS = interaction(EMBEDDING, uri="https://api.mistral.ai/v1/embeddings")


def _write(pytester, **files: str) -> None:
    """Cassettes by path without the .yaml suffix: ``_write(pytester, **{"cassettes/p/x": text})``."""
    pytester.makefile(".yaml", **files)


def test_command_line_option_collects_chat_interactions_only(pytester):
    # Given a cassette with a chat interaction, a GET /models, an embeddings call and another chat interaction,
    # in a folder that is not among pytest's arguments
    _write(pytester, **{"recorded/mistral/chat": cassette(GOOD, MODELS, EMBEDDINGS, GOOD)})
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    # When pytest collects test_plain.py with --chatcontract-cassettes recorded
    collected = pytester.runpytest("test_plain.py", "--chatcontract-cassettes", "recorded", "--collect-only", "-q")
    result = pytester.runpytest("test_plain.py", "--chatcontract-cassettes", "recorded", "-v")
    # Then only the chat interactions are items, named by their index in the file
    collected.stdout.fnmatch_lines([
        "test_plain.py::test_plain",
        "recorded/mistral/chat.yaml::interaction[[]0[]]",
        "recorded/mistral/chat.yaml::interaction[[]3[]]",
        "",
        "3 tests collected*",
    ])
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "recorded/mistral/chat.yaml::interaction[[]0[]] PASSED*",
        "recorded/mistral/chat.yaml::interaction[[]3[]] PASSED*",
    ])


def test_without_the_option_cassettes_are_not_collected(pytester):
    # Given a cassette folder but neither the option nor the ini key
    _write(pytester, **{"cassettes/chat": cassette(GOOD)})
    # When pytest runs
    result = pytester.runpytest()
    # Then no item is collected from it
    result.assert_outcomes()
    assert result.ret == 5  # no tests collected


def test_ini_key_and_glob(pytester):
    # Given chatcontract_cassettes and chatcontract_cassette_glob in the ini, and cassettes the glob does not match
    write_ini(pytester, "chatcontract_cassettes = cassettes", "chatcontract_cassette_glob = rec_*.yaml")
    _write(pytester, **{"cassettes/rec_one": cassette(GOOD), "cassettes/sub/rec_two": cassette(GOOD, GOOD),
                        "cassettes/other": cassette(EMPTY_MODEL), "elsewhere/rec_three": cassette(EMPTY_MODEL)})
    # When pytest runs with no arguments
    result = pytester.runpytest("-v")
    # Then the matching cassettes under the ini folder are collected and checked, the others are not
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "cassettes/rec_one.yaml::interaction[[]0[]] PASSED*",
        "cassettes/sub/rec_two.yaml::interaction[[]0[]] PASSED*",
        "cassettes/sub/rec_two.yaml::interaction[[]1[]] PASSED*",
    ])


def test_conforming_passes_and_faulty_fails_with_the_violation_block(pytester):
    # Given a cassette with a conforming and a broken chat interaction
    _write(pytester, **{"cassettes/mistral/chat": cassette(GOOD, EMPTY_MODEL)})
    # When its items run
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-v")
    # Then the broken one fails with the interaction's request line and the violation block
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "cassettes/mistral/chat.yaml::interaction[[]0[]] PASSED*",
        "cassettes/mistral/chat.yaml::interaction[[]1[]] FAILED*",
        "*_ mistral: interaction[[]1[]] cmpl-broken-7 _*",
        "chat.yaml interaction 1: POST https://api.mistral.ai/v1/chat/completions",
        "1 contract violation in ChatCompletionResponse (mistral)",
        "CC211 empty-model at $.model  [[]error[]]",
        "  model is empty.",
    ])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_reportinfo(pytester):
    # Given a cassette whose first interaction has an x-request-id header and whose second only a body id
    _write(pytester, **{"cassettes/mistral/chat": cassette(GOOD, EMPTY_MODEL)})
    # When its items are collected
    items, _ = pytester.inline_genitems("--chatcontract-cassettes", "cassettes")
    # Then reportinfo names the cassette, the dialect, the item and the provider's request id
    assert [item.nodeid for item in items] == ["cassettes/mistral/chat.yaml::interaction[0]",
                                               "cassettes/mistral/chat.yaml::interaction[1]"]
    infos = [item.reportinfo() for item in items]
    assert infos == [
        (pytester.path / "cassettes/mistral/chat.yaml", None, "mistral: interaction[0] req-good-1"),
        (pytester.path / "cassettes/mistral/chat.yaml", None, "mistral: interaction[1] cmpl-broken-7"),
    ]
    assert items[0].location == ("cassettes/mistral/chat.yaml", None, "mistral: interaction[0] req-good-1")


def test_streamed_interactions_are_checked_as_streams(pytester):
    # Given a cassette with a recorded SSE response lacking [DONE]
    from ._llm import SSE_NO_DONE, SSE_OK

    _write(pytester, **{"cassettes/chat": cassette(
        interaction(SSE_OK.decode(), content_type="text/event-stream"),
        interaction(SSE_NO_DONE.decode(), content_type="text/event-stream"),
    )})
    # When its items run
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes")
    # Then the stream without [DONE] fails
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*CC303 missing-done at $*"])


def test_request_recorded_beside_the_response_is_used(pytester):
    # Given a recorded request for n=2 answered with one choice
    _write(pytester, **{"cassettes/chat": cassette(interaction(completion(), request={
        "model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}], "n": 2}))})
    # When its item runs
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes")
    # Then the request-aware rule fires
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CC401 choice-count-mismatch*"])


# -- [tool.chatcontract] tables ------------------------------------------------------------------------------------
def test_per_cassette_and_per_provider_ignores(pytester):
    # Given broken cassettes in three provider folders, with ignores for two of them
    pytester.makepyprojecttoml('''
[tool.chatcontract.per-cassette-ignores]
"cassettes/llamacpp/*.yaml" = ["CC211"]

[tool.chatcontract.per-provider-ignores]
"litellm*" = ["CC2"]

[tool.chatcontract.per-cassette-provider]
"cassettes/renamed/*.yaml" = "litellm-renamed"
''')
    _write(pytester, **{
        "cassettes/llamacpp/chat": cassette(EMPTY_MODEL),
        "cassettes/litellm-proxy/chat": cassette(EMPTY_MODEL),
        "cassettes/renamed/chat": cassette(EMPTY_MODEL),
        "cassettes/vllm/chat": cassette(EMPTY_MODEL),
    })
    # When their items run
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-v")
    # Then CC211 is silenced by the cassette glob, by the provider (its folder name) and by per-cassette-provider,
    # and still fails the cassette no table covers
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines([
        "cassettes/litellm-proxy/chat.yaml::interaction[[]0[]] PASSED*",
        "cassettes/llamacpp/chat.yaml::interaction[[]0[]] PASSED*",
        "cassettes/renamed/chat.yaml::interaction[[]0[]] PASSED*",
        "cassettes/vllm/chat.yaml::interaction[[]0[]] FAILED*",
    ])


def test_per_cassette_expect_and_stale_expectations(pytester):
    # Given CC211 expected for two cassettes: one still shows it, the other was fixed
    pytester.makepyprojecttoml('''
[tool.chatcontract.per-cassette-expect]
"cassettes/mistral/broken.yaml" = ["CC211"]
"cassettes/mistral/fixed.yaml" = ["CC211"]
''')
    _write(pytester, **{"cassettes/mistral/broken": cassette(GOOD, EMPTY_MODEL),
                        "cassettes/mistral/fixed": cassette(GOOD)})
    # When their items run
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-v")
    # Then the expected finding passes, each cassette gets an expectations item, and the stale one fails
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines([
        "cassettes/mistral/broken.yaml::interaction[[]0[]] PASSED*",
        "cassettes/mistral/broken.yaml::interaction[[]1[]] PASSED*",
        "cassettes/mistral/broken.yaml::expectations PASSED*",
        "cassettes/mistral/fixed.yaml::interaction[[]0[]] PASSED*",
        "cassettes/mistral/fixed.yaml::expectations FAILED*",
    ])
    result.stdout.fnmatch_lines([
        "Expected finding(s) CC211 never occurred in fixed.yaml: the provider may have been fixed; update "
        "per-cassette-expect in [[]tool.chatcontract[]].",
    ])


def test_expectations_item_alone(pytester):
    # Given an expected finding and only the expectations item selected
    pytester.makepyprojecttoml('[tool.chatcontract.per-cassette-expect]\n"broken.yaml" = ["CC211"]\n')
    _write(pytester, **{"cassettes/broken": cassette(EMPTY_MODEL)})
    # When it runs without the interaction items
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-k", "expectations", "-v")
    # Then it checks the interactions itself and passes
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cassettes/broken.yaml::expectations PASSED*"])


def test_an_unexpected_finding_still_fails_next_to_an_expected_one(pytester):
    # Given CC211 expected, and an interaction that also has an unexpected error (CC209 milliseconds)
    pytester.makepyprojecttoml('[tool.chatcontract.per-cassette-expect]\n"*.yaml" = ["CC211"]\n')
    _write(pytester, **{"cassettes/chat": cassette(interaction(completion(model="", created=1736423701225)))})
    # When it runs
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes")
    # Then it fails on the unexpected code, and says which findings were expected
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*CC209 implausible-created*", "Expected for this cassette/provider (not failing): CC211"]
    )


def test_per_provider_expect(pytester):
    # Given CC211 expected of every llamacpp* provider
    pytester.makepyprojecttoml('[tool.chatcontract.per-provider-expect]\n"llamacpp*" = ["CC211"]\n')
    _write(pytester, **{"cassettes/llamacpp-b3000/chat": cassette(EMPTY_MODEL),
                        "cassettes/vllm/chat": cassette(EMPTY_MODEL)})
    # When their items run
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-v")
    # Then the finding is allowed for that provider only, with no expectations item
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "cassettes/llamacpp-b3000/chat.yaml::interaction[[]0[]] PASSED*",
        "cassettes/vllm/chat.yaml::interaction[[]0[]] FAILED*",
    ])
    result.stdout.no_fnmatch_line("*::expectations*")


def test_per_cassette_dialect(pytester):
    # Given the same Mistral completion recorded twice, one cassette declared openai
    pytester.makepyprojecttoml('[tool.chatcontract.per-cassette-dialect]\n"cassettes/oa/*.yaml" = "openai"\n')
    _write(pytester, **{"cassettes/oa/chat": cassette(GOOD), "cassettes/mistral/chat": cassette(GOOD),
                        "cassettes/oa/openai": cassette(interaction(OPENAI_COMPLETION))})
    # When their items run
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-v")
    # Then the openai cassette is checked against the OpenAI contract
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "cassettes/mistral/chat.yaml::interaction[[]0[]] PASSED*",
        "cassettes/oa/chat.yaml::interaction[[]0[]] FAILED*",
        "cassettes/oa/openai.yaml::interaction[[]0[]] PASSED*",
    ])
    result.stdout.fnmatch_lines(["*_ openai: interaction[[]0[]] req-good-1 _*", "*ChatCompletion (openai)*",
                                 "*CC101 missing-required-field*"])


def test_malformed_cassettes_are_one_failing_item_each(pytester):
    # Given a bad YAML file, one without interactions, two with Python object tags, and a good cassette
    pytester.makefile(".yaml", **{
        "cassettes/a_bad_yaml": "interactions:\n  - request: [unclosed\n",
        "cassettes/b_no_interactions": "version: 1\nrecorded_with: VCR.py\n",
        "cassettes/c_python_tag":
            "interactions: !!python/object/apply:os.system ['echo pwned > pwned.txt']\nversion: 1\n",
        "cassettes/c_python_object": "interactions: !!python/object:argparse.Namespace {}\nversion: 1\n",
        "cassettes/d_good": cassette(GOOD),
    })
    # When pytest runs
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-v")
    # Then each malformed cassette is one failing item with the reason, the good one still runs,
    # and the session neither crashes nor constructs the Python object
    assert result.ret == 1
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines([
        "cassettes/a_bad_yaml.yaml::cassette FAILED*",
        "cassettes/b_no_interactions.yaml::cassette FAILED*",
        "cassettes/c_python_object.yaml::cassette FAILED*",
        "cassettes/c_python_tag.yaml::cassette FAILED*",
        "cassettes/d_good.yaml::interaction[[]0[]] PASSED*",
    ])
    result.stdout.fnmatch_lines(
        ["Malformed cassette */cassettes/a_bad_yaml.yaml: *not valid YAML at line *"]
    )
    result.stdout.fnmatch_lines(["Malformed cassette */b_no_interactions.yaml: *missing 'interactions' list"])
    result.stdout.fnmatch_lines([
        "Malformed cassette */c_python_tag.yaml: *refusing YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'"
        "*Python object tags are never constructed*",
    ])
    result.stdout.fnmatch_lines(["Malformed cassette */c_python_object.yaml: *refusing YAML tag "
                                 "'tag:yaml.org,2002:python/object:argparse.Namespace'*"])
    assert not (pytester.path / "pwned.txt").exists()


def test_cassette_items_respect_the_command_line_dialect(pytester):
    # Given a Mistral completion in a cassette
    _write(pytester, **{"cassettes/chat": cassette(GOOD)})
    # When the items run with --chatcontract-dialect=openai
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "--chatcontract-dialect=openai")
    # Then they are checked against the OpenAI contract
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ChatCompletion (openai)*"])


def test_json_cassettes_are_collected_too(pytester):
    # Given a cassette saved by VCR.py's JSON serializer, with a broken interaction
    import json

    pytester.makefile(".json", **{"cassettes/chat": json.dumps({"interactions": [GOOD, EMPTY_MODEL], "version": 1})})
    # When pytest collects the folder
    result = pytester.runpytest("--chatcontract-cassettes", "cassettes", "-v")
    # Then its chat interactions are items like a YAML cassette's
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["cassettes/chat.json::interaction[[]0[]] PASSED*",
                                 "cassettes/chat.json::interaction[[]1[]] FAILED*"])


# -- `pytest cassettes/`: a path given to pytest collects the cassettes it holds, recognised by their content ---------
def test_a_cassette_folder_given_to_pytest_is_collected(pytester):
    # Given a cassette folder, a YAML file that is no cassette beside it, and no chatcontract setting at all
    _write(pytester, **{"cassettes/mistral/chat": cassette(GOOD, EMPTY_MODEL)})
    pytester.makefile(".yaml", **{"cassettes/mistral/settings": "interactions_seen: 3\nname: not a cassette\n"})
    # When the user runs `pytest cassettes/`
    result = pytester.runpytest("cassettes/", "-v")
    # Then the chat interactions are items (the broken one fails), and the other YAML file is left alone
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "cassettes/mistral/chat.yaml::interaction[[]0[]] PASSED*",
        "cassettes/mistral/chat.yaml::interaction[[]1[]] FAILED*",
    ])
    result.stdout.no_fnmatch_line("*settings.yaml*")
    # and one cassette file given by name works too
    single = pytester.runpytest("cassettes/mistral/chat.yaml", "-q")
    single.assert_outcomes(passed=1, failed=1)


def test_a_json_cassette_given_to_pytest_is_collected(pytester):
    import json

    import yaml

    pytester.makefile(".json", **{"recorded/chat": json.dumps(yaml.safe_load(cassette(GOOD)))})
    result = pytester.runpytest("recorded", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["recorded/chat.json::interaction[[]0[]] PASSED*"])


def test_a_default_run_does_not_sniff_the_suites_own_recordings(pytester):
    # Given testpaths holding a test module and the cassettes pytest-recording made for it
    write_ini(pytester, "testpaths = tests")
    pytester.makepyfile(**{"tests/test_app": "def test_app():\n    pass\n"})
    _write(pytester, **{"tests/cassettes/test_app/test_app": cassette(EMPTY_MODEL)})
    # When pytest runs with no path
    result = pytester.runpytest("-v")
    # Then the recordings stay fixtures: only the test runs
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*interaction*")


def test_the_cassettes_option_alone_runs_only_the_cassettes(pytester):
    # Given a suite (testpaths) and a cassette folder outside it
    write_ini(pytester, "testpaths = tests")
    pytester.makepyfile(**{"tests/test_app": "def test_app():\n    pass\n"})
    _write(pytester, **{"recorded/chat": cassette(GOOD)})
    # When the option is given with a space, as `--chatcontract-cassettes recorded`, and with `=`
    for args in (["--chatcontract-cassettes", "recorded"], ["--chatcontract-cassettes=recorded"]):
        result = pytester.runpytest(*args, "-v")
        # Then only the cassettes run, not the whole suite as well
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["recorded/chat.yaml::interaction[[]0[]] PASSED*"])
        result.stdout.no_fnmatch_line("*test_app*")
    # while paths given beside it are still collected
    both = pytester.runpytest("tests", "--chatcontract-cassettes", "recorded", "-q")
    both.assert_outcomes(passed=2)


def test_without_a_configured_dialect_each_interaction_is_checked_in_its_clients_dialect(pytester):
    # Given a cassette the openai SDK recorded against a local server (its User-Agent in the request), no dialect set,
    # one answer conforming to OpenAI's contract, one with an empty model
    sdk = {"User-Agent": ["OpenAI/Python 3.63.0"]}
    local = "http://127.0.0.1:8000/v1/chat/completions"
    broken = {**OPENAI_COMPLETION, "model": ""}
    _write(pytester, **{"recorded/sdk": cassette(interaction(OPENAI_COMPLETION, uri=local, request_headers=sdk),
                                                 interaction(broken, uri=local, request_headers=sdk))})
    # When pytest runs the cassette
    result = pytester.runpytest("recorded", "-rA")
    # Then both are checked against the OpenAI contract (no CC104 for OpenAI's own fields), and the failure says why
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*_ openai: interaction[[]1[]] *_",
        "*CC211 empty-model at $.model*",
        "(dialect openai, inferred from User-Agent OpenAI/Python 3.63.0)",
    ])
    result.stdout.no_fnmatch_line("*CC104*")
