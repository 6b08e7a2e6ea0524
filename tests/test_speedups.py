"""The optional C accelerator, ``chatcontract._speedups.plain``: never a wrong "plain", and "plain" where it should be.

``plain(body)`` lets the engine parse a body in jiter's default mode and skip the float and 64-bit checks. Its
True must therefore never be wrong on valid JSON: no duplicate key (after decoding), no fraction or exponent, no
NaN/Infinity, no integer over 18 digits. The oracle below answers the same question with the standard library.
"""

from __future__ import annotations

import copy
import enum
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import jiter
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatcontract import _accel, check
from chatcontract.rules._fast import COVERED
from chatcontract.violations import Severity

ROOT = Path(__file__).resolve().parent.parent
COMPILER = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def test_the_accelerator_is_built_where_a_compiler_is() -> None:
    # `pip install -e .` compiles chatcontract/_speedups.c when a C compiler is there (as on this machine and CI)
    if COMPILER is None:
        assert not _accel.ACTIVE  # and the pure-Python route is what runs (tests/test_fastpath.py runs both)
        return
    assert _accel.ACTIVE, "chatcontract._speedups is not built: re-run `python3 -m pip install -e .`"
    # every function the engine reads is there, each bound to the built module's own (none left None by accident)
    from chatcontract import _speedups

    for name in ("maker", "hit_maker", "violation", "order_key", *_accel.CALLED):
        assert getattr(_accel, name) is getattr(_speedups, name), name


class _Tall(enum.IntEnum):
    HIGH = 3


plain = _accel.plain
needs_plain = pytest.mark.skipif(plain is None, reason="never: the test above fails when it is not built")


def _pure(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with every accelerator function read at call time switched off."""
    saved = {name: getattr(_accel, name) for name in _accel.CALLED}
    for name in _accel.CALLED:
        setattr(_accel, name, None)
    try:
        return fn(*args, **kwargs)
    finally:
        for name, value in saved.items():
            setattr(_accel, name, value)


class _Odd(Exception):
    pass


def oracle(body: bytes, floats: bool = False) -> bool | None:
    """None: not valid JSON. Else whether the body is plain (no duplicate key, float, NaN/Infinity, big integer);
    with ``floats``, whether it is plain but for floats (a float is no reason then, a NaN/Infinity literal is)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise _Odd
        return dict(items)

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > 18:
            raise _Odd
        return int(text)

    def odd(_: str) -> Any:
        raise _Odd

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        json.loads(
            text, object_pairs_hook=pairs, parse_int=integer, parse_float=float if floats else odd, parse_constant=odd
        )
    except _Odd:
        # valid JSON (jiter agrees) that is not plain; invalid JSON (jiter refuses) has no answer
        try:
            jiter.from_json(body, allow_inf_nan=True)
        except ValueError:
            return None
        return False
    except ValueError:
        return None
    try:
        jiter.from_json(body, allow_inf_nan=False)
    except ValueError:
        return None  # e.g. a lone surrogate escape: jiter refuses what json accepts
    return True


# --- hand-picked cases -----------------------------------------------------------------------------------------

CASES = [
    (b"{}", True),
    (b'{"a":1,"b":[true,false,null],"c":{"a":1}}', True),
    (b'{"a":1,"a":2}', None),  # not plain: a repeated key, met first
    (b'{"a":{"x":1,"y":2,"x":3}}', None),
    (b'[{"a":1},{"a":1}]', True),  # the same key in sibling objects
    (b'{"a":{"b":1},"b":2}', True),  # ... and at different depths
    (b'{"a":1,"\\u0061":2}', False),  # a key with an escape: unsure (here a real duplicate)
    (b'{"\\u0062":1,"a":2}', False),  # unsure, although distinct
    (b'{"a":"x\\"y","b":"\\\\","c":"\\\\\\"\\\\"}', True),  # escapes in values are fine
    (b'{"a":"\\\\","a":1}', None),
    (b'{"a":1.0}', False),
    (b'{"a":1e2}', False),
    (b'{"a":1E+2}', False),
    (b'{"a":-0}', True),
    (b'{"a":-0.0}', False),
    (b'{"a":999999999999999999}', True),  # 18 digits
    (b'{"a":-999999999999999999}', True),
    (b'{"a":1000000000000000000}', False),  # 19 digits: may not fit in 64 bits
    (b'{"a":NaN}', False),
    (b'{"a":-Infinity}', False),
    (b'{"a":Infinity}', False),
    (b' \n\t{ "a" : 1 , "b" : [ 1 , 2 ] }\r\n', True),
    (b"[" * 64 + b"]" * 64, True),
    (b"[" * 65 + b"]" * 65, False),  # deeper than the fixed stack: unsure
    (b"{" + b",".join(b'"k%d":0' % i for i in range(64)) + b"}", True),
    (b"{" + b",".join(b'"k%d":0' % i for i in range(65)) + b"}", False),  # more keys than compared: unsure
    (b"\xef\xbb\xbf{}", False),  # a BOM
    (b'{"a":1.5,"a":2}', False),  # a float before the repeated key: unsure for that reason
    (b'{"a":2,"a":1.5}', None),  # ... and after it: the repeated key is the answer
    (b"", True),  # not JSON: the answer does not matter (the parser refuses it), but must not crash
]


@needs_plain
@pytest.mark.parametrize(("body", "expected"), CASES, ids=range(len(CASES)))
def test_hand_picked(body: bytes, expected: bool | None) -> None:
    assert plain is not None
    assert plain(body) is expected
    if expected and oracle(body) is not None:
        assert oracle(body) is True


@needs_plain
@pytest.mark.parametrize(
    "body",
    [b'"', b'{"a', b'{"a":"\\', b'{"a":"\\"', b"[" * 100_000, b"{" * 100_000, b'{"a":' * 50_000, b"\\" * 99, b"-"],
)
def test_truncated_and_hostile_input_is_answered(body: bytes) -> None:
    assert plain is not None
    assert plain(body) in (True, False, None)


@needs_plain
def test_a_50_mb_string_is_scanned_in_one_pass() -> None:
    assert plain is not None
    body = b'{"content":"' + b"x" * 50_000_000 + b'"}'
    assert plain(body) is True
    assert plain(body[:-2]) is False  # unterminated


@needs_plain
def test_refuses_what_is_not_bytes() -> None:
    assert plain is not None
    with pytest.raises(TypeError, match="takes bytes"):
        plain("{}")  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
)
keys = st.one_of(st.sampled_from(["a", "b", "id", "é", 'q"', "\\", ""]), st.text(max_size=4))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.tuples(keys, inner), max_size=5),  # pairs: duplicates allowed, as in raw JSON
    ),
    max_leaves=20,
)


def dump(value: Any, ensure_ascii: bool, spaced: bool) -> str:
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        sep = ", " if spaced else ","
        colon = " : " if spaced else ":"
        inner = sep.join(
            json.dumps(k, ensure_ascii=ensure_ascii) + colon + dump(v, ensure_ascii, spaced) for k, v in value
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + (", " if spaced else ",").join(dump(v, ensure_ascii, spaced) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii)


def _repeats(body: bytes) -> bool:
    """Whether an object of the JSON body has a key twice."""
    found = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        found.append(len(set(keys)) != len(keys))
        return dict(items)

    json.loads(body, object_pairs_hook=pairs)
    return any(found)


@needs_plain
@settings(max_examples=1500, deadline=None)
@given(doc=documents, ensure_ascii=st.booleans(), spaced=st.booleans())
@example(doc=[("a", 1), ("a", 2)], ensure_ascii=False, spaced=False)
@example(doc=[("é", 1), ("é", 2)], ensure_ascii=True, spaced=True)
def test_a_plain_answer_is_never_wrong(doc: Any, ensure_ascii: bool, spaced: bool) -> None:
    assert plain is not None
    body = dump(doc, ensure_ascii, spaced).encode("utf-8", "surrogatepass")
    truth = oracle(body)
    answer = plain(body)
    if answer:
        assert truth is not False, body
    if answer is None:  # a repeated key, really: two of its object's keys are the same text
        assert truth is not True and _repeats(body), body
    if truth is True and b"\\" not in body:
        # ... and the proof is found where it should be: no escape in a key, within the fixed limits
        assert plain(body), body


FLOAT_CASES = [
    (b'{"a":1.0}', 2),
    (b'{"a":[1e2,-0.5,1E+2,2.5e-3]}', 2),
    (b'{"a":1e999}', 2),  # inf in both parses: the numbers walk reports it
    (b'{"a":1.5,"a":2}', None),  # a float, then the repeated key: the repeated key is the answer now
    (b'{"a":1.5,"b":NaN}', False),
    (b'{"a":-Infinity}', False),
    (b'{"a":1.5,"b":1000000000000000000}', False),  # a big integer is still unsure
    (b'{"a":12345678901234567890.5}', 2),  # a long float is a float
    (b'{"a":1,"b":"1.5"}', True),  # in a string: not a number
    (b'{"a":1}', True),
]


@needs_plain
@pytest.mark.parametrize(("body", "expected"), FLOAT_CASES, ids=range(len(FLOAT_CASES)))
def test_plain_but_for_floats_hand_picked(body: bytes, expected: Any) -> None:
    assert plain is not None
    answer = plain(body, True)
    assert answer == expected and type(answer) is type(expected)
    assert plain(body, False) == plain(body)  # the flag's default, spelt out


@needs_plain
@settings(max_examples=1500, deadline=None)
@given(doc=documents, ensure_ascii=st.booleans(), spaced=st.booleans())
@example(doc=[("a", 1.5), ("a", 2)], ensure_ascii=False, spaced=False)
@example(doc=[("a", [1.5, float("inf")])], ensure_ascii=False, spaced=True)
def test_plain_but_for_floats_is_never_wrong(doc: Any, ensure_ascii: bool, spaced: bool) -> None:
    # 2 ("plain but for floats") only where the default parse gives the strict parse's document; True and None as
    # without the flag
    assert plain is not None
    body = dump(doc, ensure_ascii, spaced).encode("utf-8", "surrogatepass")
    truth = oracle(body, floats=True)
    answer = plain(body, True)
    if answer == 2:
        assert truth is not False, body
        if truth:
            default = jiter.from_json(body)
            strict = jiter.from_json(body, allow_inf_nan=False, catch_duplicate_keys=True)
            assert json.dumps(default) == json.dumps(strict)  # (the same floats, inf included)
    if answer is True:
        assert plain(body) is True and oracle(body) is not False
    if answer is None:
        assert _repeats(body), body
    if plain(body) is True:
        assert answer is True
    if truth is True and b"\\" not in body:
        assert answer is True or answer == 2, body


@needs_plain
@settings(max_examples=1000, deadline=None)
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_or_mislead(body: bytes) -> None:
    assert plain is not None
    if plain(body):
        assert oracle(body) is not False


@needs_plain
@settings(max_examples=300, deadline=None)
@given(doc=documents)
def test_check_gives_the_same_report_with_and_without_the_accelerator(doc: Any) -> None:
    body = dump(doc, False, False).encode("utf-8", "surrogatepass")
    with_accel = check(body)
    without = _pure(check, body)
    assert with_accel == without


@needs_plain
@pytest.mark.parametrize(
    "escape", [b"\\ud800", b"\\udc00", b"\\ud800\\u0041", b"\\uDBFF\\uDBFF", b"\\ud83d\\ude00", b"\\u00e9"]
)
def test_surrogate_escapes_in_a_plain_body_are_reported_on_both_routes(escape: bytes) -> None:
    # The scan says "plain" (escapes in values are fine for its proof), so the fast route must not let them through
    body = b'{"id":"cmpl-1","object":"chat.completion","model":"m","created":1702256327,"choices":[{"index":0,' \
        b'"message":{"role":"assistant","content":"Hi ' + escape + b'"},"finish_reason":"stop"}],' \
        b'"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
    assert plain is not None and plain(body)
    with_accel = check(body)
    without = _pure(check, body)
    assert with_accel == without
    lone = escape not in (b"\\ud83d\\ude00", b"\\u00e9")
    assert [(v.code, v.path) for v in with_accel.violations] == (
        [("CC009", "$.choices[0].message.content")] if lone else [])


# --- building -------------------------------------------------------------------------------------------------


def test_without_a_compiler_the_install_still_works(tmp_path: Path) -> None:
    # Given a copy of the project (the build writes build/ and *.egg-info/ next to the sources) and no C
    # compiler (CC names a program that fails)
    project = tmp_path / "project"
    skip = shutil.ignore_patterns("*.so", "__pycache__")
    shutil.copytree(ROOT / "chatcontract", project / "chatcontract", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    env = {**os.environ, "CC": "false", "PIP_NO_INPUT": "1"}
    # When the wheel is built as `pip install` would
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Then the build succeeds, without the accelerator but with everything else
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("chatcontract-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.endswith((".so", ".pyd"))], names
    for needed in ("chatcontract/engine.py", "chatcontract/_accel.py", "chatcontract/py.typed",
                   "chatcontract/examples/conforming-mistral.json", "chatcontract/contracts/__init__.py",
                   "chatcontract/_speedups.pyi"):
        assert needed in names


def test_the_pure_route_is_chosen_by_environment_variable() -> None:
    code = "from chatcontract import _accel; print(_accel.ACTIVE)"
    env = {**os.environ, "CHATCONTRACT_NO_SPEEDUPS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- maker: the engine's findings and reports without a dataclass __init__ -------------------------------------

maker = _accel.maker
needs_maker = pytest.mark.skipif(maker is None, reason="never: the accelerator test above fails when it is not built")

values = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.tuples(st.text(max_size=3), st.integers()))


@settings(max_examples=300, deadline=None)
@given(
    code=st.text(max_size=6), loc=st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=4).map(tuple),
    message=st.text(max_size=20), actual=values, expected=values, event=st.one_of(st.none(), st.integers(0, 9)),
    warning=st.booleans(),
)
def test_made_findings_and_reports_equal_constructed_ones(
    code: str, loc: tuple[Any, ...], message: str, actual: Any, expected: Any, event: int | None, warning: bool
) -> None:
    # make_violation / make_report (the C maker where it is built, else the descriptors) == the dataclasses'
    # own __init__, field by field; and the pure route's builders agree with them
    from chatcontract import outcome, violations

    severity = violations.Severity.WARNING if warning else violations.Severity.ERROR
    built = violations.Violation(
        code=code, name="n", severity=severity, loc=loc, message=message, actual=actual, expected=expected,
        event=event,
    )
    args = (code, "n", severity, loc, message, actual, expected, event)
    for make in (violations.make_violation, violations._make_violation):
        made = make(*args)
        assert type(made) is violations.Violation
        assert made == built and repr(made) == repr(built) and made.actual == actual and made.expected == expected
    report = outcome.Report(violations=(built,), dialect="openai", kind="response", status=event, total=None)
    for make_report in (outcome.make_report, outcome._make_report):
        made_report = make_report((built,), "openai", "response", event, None)
        assert type(made_report) is outcome.Report and made_report == report and str(made_report) == str(report)


@needs_maker
def test_a_maker_holds_its_values_and_lets_them_go() -> None:
    from chatcontract.violations import Violation

    assert maker is not None
    make = maker(Violation, ("code", "message", "loc"))
    text = "".join(["a", "b"] * 50)  # a fresh object: its reference count is this test's own
    before = sys.getrefcount(text)
    made = make("CC1", text, ())
    held = sys.getrefcount(text)  # (read before the assertion, which keeps references of its own)
    assert held == before + 1
    assert made.message is text
    with pytest.raises(AttributeError):
        made.name  # noqa: B018  (a slot not in names is unset, as after object.__new__)
    del made
    after = sys.getrefcount(text)
    assert after == before


@needs_maker
def test_a_maker_refuses_what_it_cannot_build() -> None:
    from chatcontract.violations import Hit, Violation

    assert maker is not None
    class Open:  # no slots
        pass

    for cls, names in [
        (Violation, ("path",)),  # a property, not a slot
        (Violation, ("nothing",)),
        (Open, ("x",)),
        (slice, ("start",)),  # a read-only slot
        (Hit, ("loc",)),  # a tuple: items, not slots
        (Violation, ("code",) * 17),
        (Violation, (1,)),
    ]:
        with pytest.raises(TypeError):
            maker(cls, names)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        maker(Violation, ["code"])  # type: ignore[arg-type]
    make = maker(Violation, ("code", "name"))
    with pytest.raises(TypeError, match="takes 2 values, not 1"):
        make("CC1")
    with pytest.raises(TypeError, match="positional"):
        make("CC1", name="x")
    with pytest.raises(TypeError):
        type(make)()  # not instantiable from Python


# --- numbers: the violation route's walk of a document's numbers ------------------------------------------------

numbers = _accel.numbers
needs_numbers = pytest.mark.skipif(numbers is None, reason="never: the first test fails when it is not built")

parsed = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.text(max_size=3),
        st.integers(min_value=-(2**65), max_value=2**65),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)),
    max_leaves=25,
)


@needs_numbers
@settings(max_examples=1500, deadline=None)
@given(doc=parsed)
@example(doc={"a": [1, 2.5, {"b": [float("inf")]}], "c": 2**63})
@example(doc={"a": 2**63 - 1, "b": -(2**63), "c": True, "d": [False, None]})
def test_the_walk_of_numbers_is_the_python_walk(doc: Any) -> None:
    # (places, odd) == prefixes_of(float paths), and the Python walk's oddness: the same question, the same answer
    from chatcontract.rules._located import prefixes_of, scan_numbers

    assert numbers is not None
    paths, odd = scan_numbers(doc)
    assert numbers(doc) == (prefixes_of(paths), odd)


@needs_numbers
def test_a_document_nested_too_deep_for_the_walk_is_checked_all_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # The C walk stops at 256 levels (None); the parser stops at 200 (CC006), so no parsed body reaches that far
    assert numbers is not None
    deep: Any = 1.5
    for _ in range(300):
        deep = [deep]
    assert numbers(deep) is None and numbers({"x": deep}) is None
    nested = json.dumps({"id": "x", "extra": deep}).encode()
    assert check(nested, dialect="openai").codes() == ["CC006"]
    # ... and were the walk to give up on a body, the engine walks it in Python: the same report
    body = (ROOT / "benchmarks" / "data" / "mistral_chat_completion.json").read_bytes()
    body = body.replace(b'"created":1702256327', b'"created":1702256327.5', 1)
    expected = check(body, dialect="mistral")
    assert expected.codes() == ["CC102"]
    monkeypatch.setattr(_accel, "numbers", lambda doc: None)
    assert check(body, dialect="mistral") == expected


# --- hit_maker: a rule's finding in one C call ---------------------------------------------------------------------

_values = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2))


@needs_maker
@settings(max_examples=500, deadline=None)
@given(
    loc=st.one_of(st.tuples(st.text(max_size=2), st.integers()), st.lists(st.text(max_size=2), max_size=3)),
    rest=st.lists(_values, max_size=3),
    keywords=st.dictionaries(st.sampled_from(["actual", "expected", "event"]), _values, max_size=3),
)
def test_a_hit_is_the_python_hit(loc: Any, rest: list[Any], keywords: dict[str, Any]) -> None:
    from chatcontract import violations
    from chatcontract.violations import Hit

    assert violations.hit is not violations._hit  # the C maker where it is built
    args = (loc, "message", *rest)
    taken = {"actual", "expected", "event"}.intersection(["actual", "expected", "event"][: len(rest)])
    if taken & set(keywords):
        for fn in (violations.hit, violations._hit):
            with pytest.raises(TypeError, match="multiple values"):
                fn(*args, **keywords)
        return
    made, expected = violations.hit(*args, **keywords), violations._hit(*args, **keywords)
    assert type(made) is Hit and made == expected
    assert made.loc == tuple(loc) and type(made.loc) is tuple


@needs_maker
def test_a_hit_maker_refuses_what_it_cannot_build() -> None:
    from chatcontract import violations

    assert _accel.hit_maker is not None

    class Wide(tuple):  # type: ignore[type-arg]  (instances have a __dict__)
        pass

    for cls in [Wide, dict, 1]:
        with pytest.raises(TypeError):
            _accel.hit_maker(cls)  # type: ignore[arg-type]
    for call, words in [
        (lambda: violations.hit(), "missing required argument 'loc'"),
        (lambda: violations.hit(("a",)), "missing required argument 'message'"),
        (lambda: violations.hit(("a",), "m", 1, 2, 3, 4), "at most 5"),
        (lambda: violations.hit(("a",), "m", nothing=1), "unexpected keyword"),
        (lambda: violations.hit(7, "m"), "not iterable"),
    ]:
        with pytest.raises(TypeError, match=words):
            call()
    text = "".join(["a", "b"] * 50)  # its own references: the hit holds one and lets it go
    before = sys.getrefcount(text)
    made = violations.hit(("a",), text, text)
    assert sys.getrefcount(text) == before + 2
    del made
    assert sys.getrefcount(text) == before


# --- violation: a finding's violation in one C call ---------------------------------------------------------------

_shown = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.integers(),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 10**30]),
    st.text(max_size=3),
    st.text(alphabet="ab\u00e9\ud800", min_size=195, max_size=205),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sampled_from([Severity.ERROR, _Tall.HIGH]),  # a str subclass, an int subclass
)


@needs_maker
@settings(max_examples=800, deadline=None)
@given(
    code=st.sampled_from(["CC101", "CC201", "CC900", "CC999", 7]),
    message=st.one_of(
        st.text(max_size=5), st.text(alphabet="ab\u00e9\ud800", min_size=495, max_size=505), st.just(b"bytes")
    ),
    actual=_shown,
    expected=_shown,
    event=st.one_of(st.none(), st.integers(0, 3)),
)
def test_a_violation_is_the_python_violation(code: Any, message: Any, actual: Any, expected: Any, event: Any) -> None:
    from chatcontract import outcome

    assert outcome.violation_of is not outcome._violation_of  # the C call where it is built
    args = (code, ("choices", 0), message, actual, expected, event)
    try:
        want = outcome._violation_of(*args)
    except (KeyError, AttributeError) as exc:  # an unknown code, a message that is not a str
        with pytest.raises(type(exc)):
            outcome.violation_of(*args)
        return
    got = outcome.violation_of(*args)
    assert got == want
    for field in ("message", "actual", "expected"):  # (actual and expected are left out of ==)
        mine, theirs = getattr(got, field), getattr(want, field)
        assert type(mine) is type(theirs) and (mine == theirs or mine != mine), field  # (NaN is not itself)


# --- order_key: a finding's place in document order ---------------------------------------------------------------

order_key = _accel.order_key


@st.composite
def _doc_and_loc(draw: st.DrawFn, docs: st.SearchStrategy[Any] = parsed) -> tuple[Any, tuple[Any, ...]]:
    doc = draw(docs)
    loc: list[Any] = []
    node = doc
    for _ in range(draw(st.integers(0, 5))):
        if isinstance(node, dict) and node and draw(st.booleans()):
            seg = draw(st.sampled_from(sorted(node)))
            loc.append(seg)
            node = node[seg]
        elif isinstance(node, list) and node and draw(st.booleans()):
            i = draw(st.integers(0, len(node) - 1))
            loc.append(i)
            node = node[i]
        else:  # a step off the document: a key it lacks, an index past the end, a bool, a huge index
            loc.append(draw(st.one_of(st.text(max_size=2), st.integers(-2, 6), st.booleans(), st.just(2**70))))
            node = None
    return doc, tuple(loc)


@pytest.mark.skipif(order_key is None, reason="never: the first test fails when it is not built")
@settings(max_examples=1500, deadline=None)
@given(case=_doc_and_loc())
@example(case=({"a": [1, {"b": 2}]}, ("a", 1, "b")))
@example(case=({"a": [1, 2]}, ("a", True, "x")))
@example(case=({"a": 1}, ("z", "y")))
def test_the_order_key_is_the_python_walk(case: tuple[Any, tuple[Any, ...]]) -> None:
    from chatcontract import outcome

    doc, loc = case
    assert order_key is not None
    key = order_key(doc, loc)
    if key is None:  # a free-threaded build leaves every walk to Python (the document may be shared)
        assert sysconfig.get_config_var("Py_GIL_DISABLED")
    else:  # a parsed document: the C walk is sure
        assert key == outcome.order_key(doc, loc, {})


class _Sly(str):
    """A key whose comparison runs Python code (and changes the object it is a key of)."""

    target: dict[Any, Any] = {}

    def __eq__(self, other: object) -> bool:
        _Sly.target.clear()
        return str.__eq__(self, other)

    __hash__ = str.__hash__


@pytest.mark.skipif(order_key is None, reason="never: the first test fails when it is not built")
def test_a_document_the_caller_built_is_walked_in_python_where_it_is_not_plain() -> None:
    # The full path sorts the findings of a dict the caller passed in: a subclass, a key that is not a string, a
    # key whose comparison runs code; the C walk says None there, and the report is the pure route's
    assert order_key is not None

    class Sub(dict):  # type: ignore[type-arg]
        pass

    sly: dict[Any, Any] = {_Sly("id"): 1, "object": 2}
    _Sly.target = sly
    for doc, loc in [(Sub(a=1), ("a",)), ({1: "x", "a": 2}, ("a",)), (sly, ("object",)), ({"a": [1]}, (_Sly("a"),))]:
        assert order_key(doc, loc) is None
    payloads = [
        {"id": 5, "object": "chat.completion", 7: "x", "choices": [{"index": "0"}]},
        Sub({"id": 5, "object": "nope", "choices": "x", "usage": Sub(prompt_tokens=-1)}),
    ]
    for payload in payloads:
        assert check(payload, dialect="openai") == _pure(check, payload, dialect="openai")
        assert len(check(payload, dialect="openai").violations) > 1


doc_order = _accel.doc_order
_CODES = ("CC101", "CC102", "CC201", "CC216")


@st.composite
def _findings(draw: st.DrawFn) -> tuple[Any, list[Any]]:
    from chatcontract.violations import Severity, Violation

    doc = draw(parsed)
    found = []
    for _ in range(draw(st.integers(0, 8))):
        _, loc = draw(_doc_and_loc_in(doc))
        event = draw(st.one_of(st.none(), st.integers(0, 3)))
        code = draw(st.sampled_from(_CODES))
        found.append(Violation(code=code, name="n", severity=Severity.ERROR, loc=loc, message="m", event=event))
    if found and draw(st.booleans()):  # the same place twice: equal keys keep their order
        found.append(found[0])
    return doc, found


def _doc_and_loc_in(doc: Any) -> st.SearchStrategy[tuple[Any, tuple[Any, ...]]]:
    return _doc_and_loc(st.just(doc))


@pytest.mark.skipif(doc_order is None, reason="never: the first test fails when it is not built")
@settings(max_examples=800, deadline=None)
@given(case=_findings())
def test_the_document_order_sort_is_the_python_sort(case: tuple[Any, list[Any]]) -> None:
    from chatcontract import outcome

    doc, found = case
    keys: dict[int, dict[Any, int]] = {}
    expected = sorted(
        found, key=lambda v: (-1 if v.event is None else v.event, outcome.order_key(doc, v.loc, keys), v.code)
    )
    got = list(found)
    assert doc_order is not None
    if doc_order(got, doc, ("event", "loc", "code")):
        assert [id(v) for v in got] == [id(v) for v in expected]
    else:  # a free-threaded build leaves every walk to Python (the document may be shared)
        assert sysconfig.get_config_var("Py_GIL_DISABLED")
        assert got == found


class _Shrinking:
    """A finding whose event empties the list being sorted (attribute access runs Python code)."""

    def __init__(self, into: list[Any]) -> None:
        self.into = into
        self.loc = ("a",)
        self.code = "CC101"

    @property
    def event(self) -> None:
        self.into.clear()
        return None


@pytest.mark.skipif(doc_order is None, reason="never: the first test fails when it is not built")
def test_the_document_order_sort_leaves_what_it_is_unsure_of_to_python() -> None:
    from chatcontract.violations import Severity, Violation

    assert doc_order is not None

    def at(loc: tuple[Any, ...]) -> Violation:
        return Violation(code="CC101", name="n", severity=Severity.ERROR, loc=loc, message="m")

    unsure = [({1: "x", "a": 2}, [("a",), ("b",)]), ({"a": 1}, [("a",), (_Sly("a"),)]), ({"a": 1}, [["a"], ("a",)])]
    for doc, locs in unsure:
        found = [at(loc) for loc in locs]  # type: ignore[arg-type]
        before = list(found)
        assert doc_order(found, doc, ("event", "loc", "code")) is False
        assert found == before
    shrinking: list[Any] = []
    shrinking.extend([_Shrinking(shrinking), _Shrinking(shrinking)])
    assert doc_order(shrinking, {"a": 1}, ("event", "loc", "code")) is False
    with pytest.raises(TypeError):
        doc_order((), {}, ("event", "loc", "code"))
    with pytest.raises(AttributeError):
        doc_order([object(), object()], {}, ("event", "loc", "code"))


# --- scan_fields: which of an object's fields the contract does not accept ----------------------------------------


def _models() -> list[Any]:
    from chatcontract import settings as cc_settings
    from chatcontract.rules import _located

    out = []
    for dialect in ("mistral", "openai"):
        root = _located._root(cc_settings._settings_for(dialect, None, None, None).contracts.response)
        assert root is not None
        seen, todo = set(), [root]
        while todo:  # the response model and every model below it
            model = todo.pop()
            if model.cls in seen:
                continue
            seen.add(model.cls)
            out.append(model)
            todo.extend(_located._model(f.model or f.item_model) for f in model.fields if f.model or f.item_model)
    return out


MODELS = _models()


@st.composite
def _model_and_node(draw: st.DrawFn) -> tuple[Any, dict[str, Any], frozenset[Any]]:
    model = draw(st.sampled_from(MODELS))
    keys = st.one_of(st.sampled_from(sorted(model.keys)), st.text(max_size=3))
    node = draw(st.dictionaries(keys, parsed, max_size=6))
    loc = ("choices", 0)
    floats = frozenset(
        (*loc, *path) for path in draw(st.lists(st.sampled_from([(k,) for k in node] + [(k, 0) for k in node] or [()])))
    )
    return model, node, floats


@pytest.mark.skipif(_accel.scan_fields is None, reason="never: the first test fails when it is not built")
@settings(max_examples=800, deadline=None)
@given(case=_model_and_node(), plain_=st.booleans())
def test_the_field_scan_is_the_python_scan(case: tuple[Any, dict[str, Any], frozenset[Any]], plain_: bool) -> None:
    from chatcontract.rules import _located

    model, node, floats = case
    scan = _accel.scan_fields
    assert scan is not None
    assert scan(model.table(plain_), node, ("choices", 0), floats) == _located._scan(
        model, node, ("choices", 0), plain_, floats
    )


@pytest.mark.skipif(_accel.scan_fields is None, reason="never: the first test fails when it is not built")
def test_the_field_scan_refuses_a_malformed_table() -> None:
    scan = _accel.scan_fields
    assert scan is not None
    for table in [(), ((), False, frozenset(), []), ([], False, frozenset(), {}), ((), False, frozenset(), {"a": 1})]:
        with pytest.raises(TypeError):
            scan(table, {"a": 1}, (), frozenset())
    assert scan(((), False, frozenset(), {}), {"a": 1}, (), frozenset()) == (False, [])
    assert scan((("b",), True, frozenset({"b"}), {}), {"a": 1}, (), frozenset()) == (True, [])


# --- duplicates: the usual CC004 body without the lenient parse ------------------------------------------------


plain_documents = st.recursive(  # no float and no big integer: the duplicate scan is sure of more of these
    st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=4)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.lists(st.tuples(st.sampled_from(["a", "b", "é", ""]), inner), max_size=4)
    ),
    max_leaves=15,
)


@pytest.mark.skipif(_accel.duplicates is None, reason="never: the first test fails when it is not built")
@settings(max_examples=1500, deadline=None)
@given(doc=st.one_of(documents, plain_documents), spaced=st.booleans())
@example(doc=[("a", [("x", 1), ("x", 2)]), ("a", 3)], spaced=False)  # a repeat inside a replaced value
@example(doc=[("a", [[("b", 1), ("b", 2)]]), ("c", 1), ("c", [("d", 0), ("d", 0), ("d", 1)])], spaced=True)
@example(doc=[("é", 1), ("é", 2)], spaced=False)
def test_a_body_plain_but_for_duplicates_parses_as_the_lenient_parse(doc: Any, spaced: bool) -> None:
    from chatcontract.inputs import parse_json, parse_plain_but_duplicates

    body = dump(doc, False, spaced).encode("utf-8", "surrogatepass")
    quick = parse_plain_but_duplicates(body)
    if quick is None:
        return  # unsure, not an object, or no duplicate: parse_json's own route
    expected_doc, expected = parse_json(body)

    def shown(findings: list[Any]) -> list[Any]:
        return sorted((code, h.loc, h.message, json.dumps(h.actual)) for code, h in findings)

    assert quick[0] == expected_doc and shown(quick[1]) == shown(expected)
    assert {code for code, _ in expected} == {"CC004"}


@pytest.mark.skipif(_accel.duplicates is None, reason="never: the first test fails when it is not built")
def test_the_duplicate_scan_is_unsure_where_plain_is() -> None:
    scan = _accel.duplicates
    assert scan is not None
    assert scan(b'{"a":1,"a":2}') == [((), "a")]
    assert scan(b'{"a":1}') == []
    for body in [b'{"a":1.5,"a":2}', b'{"a\\u0041":1,"aA":2}', b'{"\xff":1,"\xff":2}', b'{"a":NaN,"a":1}']:
        assert scan(body) is None, body
    with pytest.raises(TypeError):
        scan("{}")  # type: ignore[arg-type]
    # bounded: at most 64 repeats are listed (a body of a million is the lenient parse's, which is linear)
    many = b"[" + b",".join([b'{"a":1,"a":2}'] * 64) + b"]"
    assert len(scan(many) or []) == 64
    assert scan(many[:-1] + b',{"b":1,"b":2}]') is None


@pytest.mark.skipif(_accel.duplicates is None, reason="never: the first test fails when it is not built")
@settings(max_examples=1000, deadline=None)
@given(doc=st.one_of(documents, plain_documents), spaced=st.booleans())
def test_the_plain_proof_lists_the_repeats_as_the_duplicate_scan_does(doc: Any, spaced: bool) -> None:
    # plain(body, True) meeting a repeated key before any float goes on as duplicates() does: its list, or None
    # where that scan is unsure; without floats taken, None as soon as it meets one
    body = dump(doc, False, spaced).encode("utf-8", "surrogatepass")
    plain, scan = _accel.plain, _accel.duplicates
    assert plain is not None and scan is not None
    answer = plain(body, True)
    if type(answer) is list:
        assert answer and answer == scan(body)
        assert plain(body) is None
    elif answer is None:
        assert not scan(body)  # (unsure, or a float before the repeat)


@pytest.mark.skipif(_accel.duplicates is None, reason="never: the first test fails when it is not built")
def test_the_plain_proof_lists_repeats_only_where_the_duplicate_scan_would() -> None:
    plain = _accel.plain
    assert plain is not None
    assert plain(b'{"a":1,"a":2}', True) == [((), "a")]
    assert plain(b'{"a":1,"a":2}') is None  # (floats not taken: the first answer)
    assert plain(b'{"x":[{"a":1,"a":2},{"b":1,"b":2}]}', True) == [(("x", 0), "a"), (("x", 1), "b")]
    assert plain(b'{"f":1.5,"a":1,"a":2}', True) is None  # a float before the repeat
    assert plain(b'{"a":1,"a":2,"f":1.5}', True) is None  # a float after it: duplicates() is unsure of it
    assert plain(b'{"\xff":1,"\xff":2}', True) is None  # a key that is not UTF-8
    assert plain(b'{"a":1,"a":2,"b\\u0041":1}', True) is None  # an escaped key after it
    assert plain(b'{"b\\u0041":1,"a":1,"a":2}', True) is False  # before it: not plain (the strict parse)
    many = b"[" + b",".join([b'{"a":1,"a":2}'] * 65) + b"]"
    assert plain(many, True) is None  # more than duplicates() lists
    assert plain(b'{"a":1,"b":2.5}', True) == 2 and plain(b'{"a":1}', True) is True


@pytest.mark.skipif(_accel.repeated is None, reason="never: the first test fails when it is not built")
@settings(max_examples=400, deadline=None)
@given(
    key=st.text(st.characters(blacklist_characters='"\\', blacklist_categories=("Cc", "Cs")), max_size=8),
    inner=st.booleans(),
)
def test_the_repeated_keys_findings_are_built_as_in_python(key: str, inner: bool) -> None:
    # _speedups.repeated builds CC004's findings as parse_plain_but_duplicates' Python loop does (the message is
    # _repeated_message's, to the character), and is unsure where a listed place is not in the document
    from chatcontract.inputs import parse_plain_but_duplicates

    pair = f'{json.dumps(key, ensure_ascii=False)}:1,{json.dumps(key, ensure_ascii=False)}:"x"'
    body = ('{"a":[0,{' + pair + "}]}" if inner else "{" + pair + "}").encode()
    built = parse_plain_but_duplicates(body)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_accel, "repeated", None)
        assert parse_plain_but_duplicates(body) == built is not None
    assert [type(x) for _, h in built[1] for x in h] == [tuple, str, str, type(None), type(None)]


@pytest.mark.skipif(_accel.repeated is None, reason="never: the first test fails when it is not built")
def test_the_repeated_keys_findings_refuse_what_they_cannot_place() -> None:
    from chatcontract.violations import hit

    place = _accel.repeated
    assert place is not None
    doc = {"a": [0, {"b": 1}], "c": 2}
    said = "appears more than once in one object; parsers disagree on which wins."
    assert place(doc, [(("a", 1), "b"), ((), "c")], "CC004", hit) == [
        ("CC004", hit(("a", 1, "b"), f"Key 'b' {said}", 1)),
        ("CC004", hit(("c",), f"Key 'c' {said}", 2)),
    ]
    for where in ([((), "x")], [(("a", 5), "b")], [(("a", "1"), "b")], [(("c",), "b")], [((), 1)], [("a", "b")]):
        assert place(doc, where, "CC004", hit) is None, where
    with pytest.raises(TypeError):
        place(doc, ((), "c"), "CC004", hit)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# culprits(doc, table, latest): the fused pass over the covered rules, for the everyday shapes


class _Text(str):
    """A str subclass: the C walk is unsure of it (its comparisons could be anything)."""


_ODD_VALUES = st.sampled_from(
    [
        None, True, False, 0, -1, 1, 2**63, -(2**63) - 1, 1.5, "", " ", "\u3000\t", "x", "abc123XYZ", "abc123XY\u00e9",
        "ab c12345", "<think>", "a think> b", "chat.completion", "error", "Error", "stop", "tool_calls", "length",
        [], [1], {}, {"a": -1}, {"reasoning_tokens": 5}, _Text("stop"), _Text("  "), '{"a": 1}', "[1]", "{", "\ud800",
        1_000_000_000_000, 1_000_000_000_001, 999_999_999, 1_700_000_000, 5_000_000_000,
    ]
)
_PLACES = (
    ("object",), ("error",), ("id",), ("model",), ("created",), ("choices",), ("usage",),
    ("usage", "prompt_tokens"), ("usage", "completion_tokens"), ("usage", "total_tokens"),
    ("usage", "completion_tokens_details"), ("usage", "completion_tokens_details", "reasoning_tokens"),
    ("usage", "prompt_tokens_details"), ("choices", 0), ("choices", 0, "index"), ("choices", 1, "index"),
    ("choices", 0, "message"), ("choices", 0, "messages"), ("choices", 0, "finish_reason"),
    ("choices", 0, "message", "content"), ("choices", 0, "message", "tool_calls"),
    ("choices", 0, "message", "reasoning_content"), ("choices", 0, "message", "reasoning"),
    ("choices", 0, "message", "reasoning_details"), ("choices", 0, "message", "tool_calls", 0),
    ("choices", 0, "message", "tool_calls", 0, "id"), ("choices", 0, "message", "tool_calls", 1, "id"),
    ("choices", 0, "message", "tool_calls", 0, "function"),
    ("choices", 0, "message", "tool_calls", 0, "function", "arguments"),
)


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    node = doc
    for seg in path[:-1]:
        try:
            node = node[seg]
        except (KeyError, IndexError, TypeError):
            return
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        if value is ...:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        if value is ...:
            del node[last]
        else:
            node[last] = value


def _tool_calls() -> Any:
    call = st.fixed_dictionaries(
        {
            "id": st.sampled_from(["D681PevKs", "call_1", " ", "abcdefgh1", "D681PevKs"]),
            "type": st.just("function"),
            "function": st.fixed_dictionaries(
                {"name": st.just("f"), "arguments": st.sampled_from(['{"a": 1}', "{}", "[]", "x", '{"a": }', ""])}
            ),
        }
    )
    return st.lists(call, max_size=3)


@st.composite
def _culprit_docs(draw: st.DrawFn) -> Any:
    from . import strategies as gen

    doc = copy.deepcopy(draw(gen.responses(draw(st.sampled_from(["mistral", "openai"])))))
    choices = doc.get("choices")
    if isinstance(choices, list) and choices and draw(st.booleans()):
        doc["choices"] = [{**copy.deepcopy(choices[0]), "index": i} for i in range(draw(st.integers(1, 4)))]
    for choice in doc.get("choices") or []:
        msg = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(msg, dict) and draw(st.booleans()):
            msg["tool_calls"] = draw(_tool_calls())
            choice["finish_reason"] = draw(st.sampled_from(["stop", "tool_calls", "length"]))
    for _ in range(draw(st.integers(0, 4))):
        value = st.one_of(_ODD_VALUES, st.just(...), st.integers(-3, 200), st.integers(10**8, 2 * 10**12))
        _set(doc, draw(st.sampled_from(_PLACES)), draw(value))
    return doc


@pytest.mark.skipif(_accel.culprits is None, reason="never: the first test fails when it is not built")
@settings(max_examples=1500, deadline=None)
@given(doc=_culprit_docs(), covered=st.sets(st.sampled_from(sorted(COVERED))), now=st.sampled_from([0, 1_700_000_000]))
@example(doc={"choices": []}, covered=set(COVERED), now=1_700_000_000)
@example(
    doc={
        "id": " \u3000", "model": "", "object": "chat.completion", "created": 1_699_999_999,
        "usage": {
            "prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3,
            "completion_tokens_details": {"reasoning_tokens": 3, "x": -1},
        },
        "choices": [{"index": 0, "message": {"content": "<think>a"}, "finish_reason": "stop"}],
    },
    covered=set(COVERED),
    now=1_700_000_000,
)
@example(doc={"choices": [{"index": 0, "finish_reason": "stop"}], "usage": None}, covered=set(COVERED), now=0)
def test_the_fused_pass_is_the_python_pass(doc: Any, covered: set[str], now: int) -> None:
    # The C walk answers what culprits_py answers, or None (unsure); where the Python pass raises (a shape the
    # contract rules out), it is unsure too.
    from unittest import mock

    from chatcontract.rules import _fast

    wanted = frozenset(covered)
    with mock.patch.object(_fast, "_clock", lambda: now + 0.5):
        try:
            expected: Any = _fast.culprits_py(doc, wanted)
        except Exception as exc:  # noqa: BLE001 - any exception: the C walk must not answer
            expected = type(exc)
        assert _accel.culprits is not None
        found = _accel.culprits(doc, _fast.culprits_table(wanted), now + 0.5)
        if found is not None:
            assert found == expected
        if not isinstance(expected, type):
            assert _fast.culprits(doc, wanted) == expected


def test_the_fused_pass_answers_for_the_everyday_shapes() -> None:
    # Not a pass that is always unsure: the repository's seeds and recorded answers are walked in C.
    from chatcontract.rules import _fast

    covered = frozenset(COVERED)
    table = _fast.culprits_table(covered)
    seen = 0
    for name in ("mistral_chat_completion.json", "openai_chat_completion.json"):
        doc = json.loads((ROOT / "benchmarks" / "data" / name).read_bytes())
        assert _accel.culprits is not None
        assert _accel.culprits(doc, table, 1e12) == _fast.culprits_py(doc, covered)
        seen += 1
    with_calls = json.loads((ROOT / "benchmarks" / "data" / "mistral_chat_completion.json").read_bytes())
    with_calls["choices"][0]["message"]["tool_calls"] = [
        {"id": "abc", "type": "function", "function": {"name": "f", "arguments": "{"}},
        {"id": "abc", "type": "function", "function": {"name": "f", "arguments": "{}"}},
    ]
    assert _accel.culprits is not None
    assert _accel.culprits(with_calls, table, 1e12) == {"CC206", "CC207", "CC208", "CC216"}
    assert seen == 2


def test_a_covered_rule_the_c_walks_do_not_know_is_left_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    # A rule added to COVERED and to the Python passes only: no table, so the Python pass answers (never a C
    # answer that leaves the new rule out)
    from chatcontract.rules import _fast

    assert _fast.culprits_table(frozenset({*COVERED, "CC299"})) is None
    assert _fast.request_culprits_table(frozenset({"CC401", "CC499"})) is None
    calls: list[Any] = []
    monkeypatch.setattr(_fast, "culprits_py", lambda doc, covered: calls.append(covered) or frozenset({"CC299"}))
    covered = frozenset({*COVERED, "CC299"})
    assert _fast.culprits({"choices": []}, covered) == {"CC299"} and calls == [covered]


def test_a_lone_code_is_answered_with_the_tables_own_set() -> None:
    # One code named: the table's frozenset of it (no new set); a table whose sets do not hold their code still
    # gets the right answer, built anew
    from chatcontract.rules import _fast

    table = _fast.culprits_table(frozenset(COVERED))
    assert table is not None and _accel.culprits is not None
    doc = json.loads((ROOT / "benchmarks" / "data" / "mistral_chat_completion.json").read_bytes())
    doc["usage"]["total_tokens"] += 1
    found = _accel.culprits(doc, table, 1.75e9)
    assert found == {"CC201"} and found is table[5][0]
    wrong = (*table[:5], tuple(None if one is None else frozenset({"CC999"}) for one in table[5]))
    assert _accel.culprits(doc, wrong, 1.75e9) == {"CC201"}
    assert _accel.culprits(doc, (*table[:5], (None,) * len(table[5])), 1.75e9) == {"CC201"}
    doc["id"] = ""
    assert _accel.culprits(doc, table, 1.75e9) == {"CC201", "CC210"}  # two codes: a set of its own


def test_the_fused_pass_refuses_a_malformed_table() -> None:
    from chatcontract.rules import _fast

    assert _accel.culprits is not None
    table = _fast.culprits_table(frozenset(COVERED))
    for bad in [
        (), (table[0][:-1], *table[1:]), (table[0], table[1][:-1], *table[2:]), (*table[:2], None, *table[3:]),
        (*table[:4], 1.5),
    ]:
        with pytest.raises(TypeError):
            _accel.culprits({}, bad, 0.0)
    with pytest.raises(TypeError):
        _accel.culprits({}, table, 0)
    for now in (float("nan"), float("inf"), 1e300):
        with pytest.raises(ValueError):
            _accel.culprits({}, table, now)


# findings(doc, table, now, codes): the hits of the covered rules that culprits named, built in C

#: The one-hit rules findings() builds the hit of, and the values each reads.
_BUILT = {
    "CC201": (("usage", "prompt_tokens"), ("usage", "completion_tokens"), ("usage", "total_tokens")),
    "CC203": (("usage", "prompt_tokens"), ("usage", "completion_tokens"), ("usage", "total_tokens")),
    "CC209": (("created",),),
    "CC210": (("id",),),
    "CC211": (("model",),),
}
#: The rules with a hit per choice or per tool call that it builds too.
_BUILT_CALLS = ("CC206", "CC216")
_READ = (("usage", "prompt_tokens"), ("usage", "completion_tokens"), ("usage", "total_tokens"), ("created",),
         ("id",), ("model",), ("usage",))


def _plain_for(doc: Any, code: str) -> bool:
    """Whether every value ``code``'s rule reads is one findings() must answer for: exact dicts on the way, and an
    exact str or an int within 64 bits (a sum of two counts too) where one is read; else it may say None."""
    if type(doc) is not dict:
        return False
    ints = []
    for path in _BUILT[code]:
        node: Any = doc
        for seg in path:
            if isinstance(node, dict) and type(node) is not dict:
                return False
            node = node.get(seg) if isinstance(node, dict) else None
        if isinstance(node, int) and not isinstance(node, bool):
            if type(node) is not int:
                return False
            ints.append(node)
        if isinstance(node, str) and type(node) is not str:
            return False
    sums = [sum(ints)] if code == "CC201" and len(ints) == 3 else []
    return all(-(2**63) <= n < 2**63 for n in [*ints, *(s - ints[-1] for s in sums)])


def _subclassed(node: Any) -> bool:
    """Whether ``node`` holds a str, int, list or dict subclass (findings() may be unsure of the choices then)."""
    if type(node) in (str, int, bool, float, type(None)):
        return False
    if type(node) is list:
        return any(_subclassed(v) for v in node)
    if type(node) is dict:
        return any(_subclassed(v) for v in node.values())
    return True


def _rule_hits(doc: Any, codes: Any, now: int) -> list[tuple[Any, ...]]:
    """The rule functions' hits of ``codes`` on ``doc``, as (code, loc, message, actual, expected), in the full
    path's document order."""
    from unittest import mock

    from chatcontract.outcome import order_key
    from chatcontract.rules import RuleContext

    ctx = RuleContext(dialect="mistral", contracts=None, request=None, status=None)  # type: ignore[arg-type]
    with mock.patch("time.time", lambda: now + 0.5):
        hits = [(code, *h[:4]) for code in sorted(codes) for h in COVERED[code](doc, ctx)]
    keys: dict[int, dict[Any, int]] = {}
    return sorted(hits, key=lambda h: (order_key(doc, h[1], keys), h[0]))


@pytest.mark.skipif(_accel.findings is None, reason="never: the first test fails when it is not built")
@settings(max_examples=2500, deadline=None)
@given(
    doc=_culprit_docs(),
    codes=st.sets(st.sampled_from([*sorted(COVERED), "CC999", "CC101"]), min_size=1, max_size=3)
    | st.sets(st.sampled_from([*_BUILT, *_BUILT_CALLS]), min_size=1, max_size=3),
    covered=st.sampled_from(["all", "codes only", "without one"]),
    now=st.sampled_from([0, 1_700_000_000, 999_000_000_000]),
    edits=st.lists(
        st.tuples(
            st.sampled_from(_READ),
            st.one_of(
                _ODD_VALUES, st.just(...), st.integers(-3, 200), st.integers(-(2**64), 2**64),
                st.integers(10**8, 2 * 10**12), st.text(st.sampled_from(" \t\u3000\x1cab"), max_size=3),
            ),
        ),
        max_size=4,
    ),
)
@example(doc={"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 4}}, codes={"CC201"},
         covered="all", now=0, edits=[])
@example(doc={"usage": {"prompt_tokens": 2**62, "completion_tokens": 2**62, "total_tokens": 2**63 - 1}},
         codes={"CC201"}, covered="all", now=0, edits=[])
@example(doc={"usage": {"prompt_tokens": None, "completion_tokens": 5, "total_tokens": -(2**63)}}, codes={"CC203"},
         covered="all", now=0, edits=[])
@example(doc={"created": 1_000_000_000_000}, codes={"CC209"}, covered="all", now=1_700_000_000, edits=[])
@example(doc={"created": 1_000_000_000_000}, codes={"CC209"}, covered="all", now=999_000_000_000, edits=[])
@example(doc={"created": -(2**63)}, codes={"CC209"}, covered="all", now=0, edits=[])
@example(doc={"id": "\x1c\u3000"}, codes={"CC210"}, covered="all", now=0, edits=[])
@example(doc={"model": _Text("")}, codes={"CC211"}, covered="all", now=0, edits=[])
@example(
    doc={"model": "", "choices": [
        {"message": {"tool_calls": [{"id": "call_1"}, {"id": "b\u00e9"}, 3, {"id": " "}]}, "finish_reason": "stop"},
        {"finish_reason": "stop", "message": {"tool_calls": [{"id": "x"}]}, "index": 1},
        {"finish_reason": "stop", "message": {"tool_calls": "x"}},
    ], "id": " "},
    codes={"CC206", "CC216", "CC211"}, covered="all", now=0, edits=[],
)
def test_built_findings_are_the_rule_functions_hits(
    doc: Any, codes: set[str], covered: str, now: int, edits: list[tuple[tuple[str, ...], Any]]
) -> None:
    # Where findings() answers, it is the rules' hits, field for field (the messages to the character), in the
    # full path's document order; where it says None, a code is one it does not build, or a one-hit rule has no
    # hit, or a value it reads is one it may be unsure of.
    from chatcontract.rules import _fast

    for path, value in edits:
        _set(doc, path, value)
    known = set(COVERED) if covered == "all" else set(codes) if covered == "codes only" else set(COVERED) - {min(codes)}
    table = _fast.culprits_table(frozenset(known & set(COVERED)))
    assert table is not None and _accel.findings is not None
    found = _accel.findings(doc, table, now + 0.5, frozenset(codes))
    if not codes <= known & set(COVERED) or not codes <= {*_BUILT, *_BUILT_CALLS}:
        assert found is None
        return
    expected = _rule_hits(doc, codes, now)
    if found is not None:
        assert type(found) is tuple and all(type(h) is tuple and len(h) == 5 for h in found)
        assert list(found) == expected
        assert [[type(x) for x in h] for h in found] == [[type(x) for x in h] for h in expected]
        return
    alone = [code for code in codes if code in _BUILT]
    unsure_of_one = any(not _plain_for(doc, code) or code not in {h[0] for h in expected} for code in alone)
    unsure_of_calls = bool(codes & set(_BUILT_CALLS)) and _subclassed(doc.get("choices") if type(doc) is dict else doc)
    assert unsure_of_one or unsure_of_calls or len(expected) > 100, expected


@st.composite
def _shuffled(draw: st.DrawFn, items: dict[str, Any]) -> dict[str, Any]:
    return dict(draw(st.permutations(list(items.items()))))


@st.composite
def _docs_with_calls(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """A document of exact types whose tool calls may break CC206 and CC216, with one-hit rules' hits beside them
    (keys in any order), and the codes to ask: those two, and the one-hit rules that have their hit."""
    ids = st.sampled_from(["D681PevKs", "call_mock_0001", "call_1", " ", "", "abcdefgh\u00e9", "ab\ncdefg", 7, None])
    call = st.builds(lambda cid, keep: {"id": cid, "type": "function"} if keep else {"type": "function"}, ids,
                     st.booleans())
    message = st.builds(lambda calls: {"role": "assistant", "tool_calls": calls},
                        st.one_of(st.lists(st.one_of(call, st.just(1)), max_size=3), st.just("x"), st.just(None)))
    choice = st.builds(lambda i, m, f: {"index": i, "message": m, "finish_reason": f}, st.integers(0, 3), message,
                       st.sampled_from(["stop", "tool_calls", "length", None]))
    doc = {
        "id": draw(st.sampled_from(["cmpl-1", " "])),
        "model": draw(st.sampled_from(["m", ""])),
        "created": draw(st.sampled_from([1_700_000_000, 1_700_000_000_000])),
        "usage": draw(_shuffled({"prompt_tokens": 1, "completion_tokens": 2,
                                 "total_tokens": draw(st.sampled_from([3, 4]))})),
        "choices": [draw(_shuffled(c)) for c in draw(st.lists(choice, min_size=1, max_size=4))],
    }
    has = {"CC210": doc["id"] == " ", "CC211": doc["model"] == "", "CC209": doc["created"] > 10**12,
           "CC201": doc["usage"]["total_tokens"] == 4}
    codes = {"CC206", "CC216"} - set(draw(st.lists(st.sampled_from(["CC206", "CC216"]), max_size=1)))
    return draw(_shuffled(doc)), codes | {code for code, hit in has.items() if hit and draw(st.booleans())}


@pytest.mark.skipif(_accel.findings is None, reason="never: the first test fails when it is not built")
@settings(max_examples=600, deadline=None)
@given(case=_docs_with_calls())
def test_findings_answer_for_documents_of_exact_types(case: tuple[dict[str, Any], set[str]]) -> None:
    # Exact types and every one-hit rule asked with its hit: findings() answers, and its answer is the rules' hits
    # in the full path's order (keys in any order: a choice's finish_reason before or after its message)
    from chatcontract.rules import _fast

    doc, codes = case
    table = _fast.culprits_table(frozenset(COVERED))
    assert table is not None and _accel.findings is not None
    found = _accel.findings(doc, table, 1_700_000_000.5, frozenset(codes))
    assert found is not None
    assert list(found) == _rule_hits(doc, codes, 1_700_000_000)


@pytest.mark.skipif(_accel.findings is None, reason="never: the first test fails when it is not built")
def test_findings_of_tool_calls_are_in_document_order_and_capped() -> None:
    from chatcontract.rules import _fast

    table = _fast.culprits_table(frozenset(COVERED))
    assert table is not None and _accel.findings is not None
    stop = "finish_reason is 'stop' although the message has tool calls; expected 'tool_calls'."
    both = frozenset({"CC206", "CC216"})
    calls = [{"id": "call_mock_0001"}, {"id": "D681PevKs"}, {"id": "x\u00e9"}]
    finish_first = {"choices": [{"finish_reason": "stop", "message": {"tool_calls": calls}}]}
    assert _accel.findings(finish_first, table, 0.0, both) == (
        ("CC206", ("choices", 0, "finish_reason"), stop, "stop", "tool_calls"),
        ("CC216", ("choices", 0, "message", "tool_calls", 0, "id"),
         "Tool-call id 'call_mock_0001' is not 9 ASCII letters or digits.", "call_mock_0001", None),
        ("CC216", ("choices", 0, "message", "tool_calls", 2, "id"),
         "Tool-call id 'x\u00e9' is not 9 ASCII letters or digits.", "x\u00e9", None),
    )
    message_first = {"choices": [{"message": {"tool_calls": calls}, "finish_reason": "stop"}]}
    found = _accel.findings(message_first, table, 0.0, both)
    assert found is not None and [h[0] for h in found] == ["CC216", "CC216", "CC206"]
    assert list(found) == _rule_hits(message_first, both, 0)
    # a rule not built, a one-hit rule without its hit, too many hits: the rules decide
    assert _accel.findings(finish_first, table, 0.0, frozenset({"CC206", "CC208"})) is None
    assert _accel.findings(finish_first, table, 0.0, frozenset({"CC206", "CC210"})) is None
    many = {"choices": [{"finish_reason": "stop", "message": {"tool_calls": [{"id": "y"}] * 100}}]}
    assert _accel.findings(many, table, 0.0, frozenset({"CC216"})) is not None
    assert _accel.findings(many, table, 0.0, both) is None
    # no hit at all where the rules find none
    assert _accel.findings({"choices": [{"finish_reason": "stop", "message": {"tool_calls": []}}]}, table, 0.0,
                           both) == ()


@pytest.mark.skipif(_accel.findings is None, reason="never: the first test fails when it is not built")
def test_findings_refuses_what_it_cannot_read() -> None:
    from chatcontract.rules import _fast

    table = _fast.culprits_table(frozenset(COVERED))
    assert _accel.findings is not None
    with pytest.raises(TypeError):
        _accel.findings({}, table, 0.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _accel.findings({}, table, 0.0, {"CC201"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _accel.findings({}, (), 0.0, frozenset({"CC201"}))
    with pytest.raises(ValueError):
        _accel.findings({}, table, float("nan"), frozenset({"CC201"}))
    assert _accel.findings([], table, 0.0, frozenset({"CC201"})) is None  # not a dict: unsure
    assert _accel.findings({"created": 5}, table, 0.0, frozenset({"CC209"})) == (("CC209", ("created",), (
        "created is 5, before 2001; expected the Unix time of the response."), 5, None),)


_KEYS = st.sampled_from(["id", "object", "created", "model", "choices", "usage", "error", "x"])
_ANY_VALUE = st.one_of(_ODD_VALUES, parsed)


@st.composite
def _suspect_docs(draw: st.DrawFn) -> Any:
    # any document: the contract's shapes broken anywhere, or a few known keys with any values at all
    if draw(st.booleans()):
        return draw(_culprit_docs())
    doc = draw(st.dictionaries(_KEYS, _ANY_VALUE, max_size=6))
    if draw(st.booleans()):
        choice = draw(st.dictionaries(st.sampled_from(["index", "message", "finish_reason"]), _ANY_VALUE))
        if draw(st.booleans()):
            choice["message"] = draw(
                st.dictionaries(
                    st.sampled_from(["content", "tool_calls", "reasoning", "reasoning_details", "role"]), _ANY_VALUE
                )
            )
            if draw(st.booleans()):
                part = draw(st.dictionaries(st.sampled_from(["type", "text"]), _ANY_VALUE))
                choice["message"]["content"] = [part, {"type": "text", "text": draw(_ODD_VALUES)}]
        doc["choices"] = [choice, *draw(st.lists(_ANY_VALUE, max_size=2))]
    return doc


@pytest.mark.skipif(_accel.suspects is None, reason="never: the first test fails when it is not built")
@settings(max_examples=1500, deadline=None)
@given(doc=_suspect_docs(), now=st.sampled_from([0, 1_700_000_000]))
@example(doc={"created": 2**70, "choices": [{"index": 2**70, "message": {"content": [{"text": "<think>"}]}}]}, now=0)
@example(doc={"choices": [_Text("x")], "usage": {"prompt_tokens": -(2**70)}}, now=0)
def test_the_coarse_pass_is_the_python_pass(doc: Any, now: int) -> None:
    # The C walk answers what suspects_py answers (on any document), or None (unsure)
    from unittest import mock

    from chatcontract.rules import _fast

    with mock.patch.object(_fast, "_clock", lambda: now + 0.5):
        expected = _fast.suspects_py(doc)
        assert _accel.suspects is not None
        found = _accel.suspects(doc, _fast._ALL_TABLE, now + 0.5)
        if found is not None:
            assert found == expected
        assert _fast.suspects(doc) == expected


def test_the_coarse_pass_answers_for_broken_documents() -> None:
    # Not a pass that is always unsure: llama.cpp's answer without message.refusal (the contract refuses it) is
    # walked in C, and so is a document with the wrong types where the Python pass reads only types
    from chatcontract.cassettes.file import load_cassette
    from chatcontract.rules import _fast

    llama = json.loads(load_cassette(ROOT / "cassettes" / "llamacpp" / "chat.yaml").interactions[0].response.body)
    assert "refusal" not in llama["choices"][0]["message"]
    for doc in (
        llama,
        json.loads((ROOT / "benchmarks" / "data" / "openai_chat_completion.json").read_bytes()),
        {"id": 5, "object": None, "choices": [{"index": "0", "message": None, "finish_reason": 7}], "usage": []},
    ):
        assert _accel.suspects is not None
        found = _accel.suspects(doc, _fast._ALL_TABLE, 1e12)
        assert found is not None and found == _fast.suspects_py(doc)


# --- places: nulls for optional fields and models' own errors, along the contract's models ------------------------

_places = _accel.places
_PLACE_KEYS = ("system_fingerprint", "usage", "prompt_tokens_details", "cached_tokens", "choices", "message",
               "tool_calls", "function_call", "logprobs", "prefix", "refusal", "role", "content", "index", "x")


@pytest.mark.skipif(_places is None, reason="never: the first test fails when it is not built")
@pytest.mark.parametrize("dialect", ["mistral", "openai"])
@settings(max_examples=400, deadline=None)
@given(doc=st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(0, 3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_PLACE_KEYS), inner, max_size=6)
    ),
    max_leaves=30,
).filter(lambda d: isinstance(d, dict)))
@example(doc={"choices": [{"message": {"tool_calls": None}}, 1, {"message": {"function_call": None, "x": 1}}]})
def test_the_walk_of_places_is_the_python_walk(dialect: str, doc: Any) -> None:
    from chatcontract.contracts import contracts_for
    from chatcontract.rules import _located

    trie = _located._plan(contracts_for(dialect).response).trie
    assert trie is not None and _places is not None
    expected: Any = ([], [])
    _located._places_under(trie, doc, (), expected)
    nulls, owns = _places(trie, doc)
    assert [(loc, id(node), f) for loc, node, f in nulls] == [(loc, id(node), f) for loc, node, f in expected[0]]
    assert [(loc, id(node), own) for loc, node, own in owns] == [(loc, id(n), own) for loc, n, own in expected[1]]


@pytest.mark.skipif(_places is None, reason="never: the first test fails when it is not built")
def test_the_walk_of_places_refuses_a_malformed_trie() -> None:
    assert _places is not None
    own = ((), False, frozenset(), None)
    for trie in [(), ((), (), ()), (("x",), (), (), own), (((1, None),), (), (), own),
                 ((), (("a", "not a trie"),), (), own), ((), (), (), None), ((), (), (), ((), False, set()))]:
        with pytest.raises(TypeError):
            _places(trie, {"a": {}, "x": None, 1: None})
    with pytest.raises(TypeError):
        _places(((), (), (), own), [])
    deep: Any = ((), (), (), own)
    for _ in range(70):
        deep = ((), (("a", deep),), (), own)
    doc: Any = {}
    for _ in range(70):
        doc = {"a": doc}
    with pytest.raises(ValueError, match="too deep"):
        _places(deep, doc)


# culprits' test of a tool call's arguments (CC207): a JSON object's text is read in C, anything else asks Python

_JSON_PIECES = st.lists(
    st.sampled_from(['{', '}', '[', ']', '"a"', '"b"', ':', ',', '1', '-0', '0.5', '1e999', '1E+2', '-', '01', '1.',
                     '.5', 'NaN', 'Infinity', 'true', 'false', 'null', 'nul', ' ', '\n', '\x0b', '"\\ud800"',
                     '"\\u00e9"', '"\\x"', '"\\uZZZZ"', '"\x01"', '"\\/"', '\\', '"']),
    max_size=14,
).map("".join)
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


def _read_in_c(text: str) -> bool:
    """Whether the C walk takes ``text`` as a JSON object without asking the Python test (told to say no)."""
    from chatcontract.rules import _fast

    table = _fast.culprits_table(frozenset(COVERED))
    assert table is not None and _accel.culprits is not None
    asked = (*table[:2], lambda arguments: False, *table[3:])
    call = {"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": text}}
    doc = {"choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": [call]},
                        "finish_reason": "tool_calls"}]}
    found = _accel.culprits(doc, asked, 1_700_000_000.0)
    assert found is not None
    return "CC207" not in found


@pytest.mark.skipif(_accel.culprits is None, reason="never: the first test fails when it is not built")
@settings(max_examples=3000, deadline=None)
@given(text=st.one_of(_JSON_PIECES, _JSON_PIECES.map(lambda t: "{" + t + "}"), st.text(max_size=10)))
@example(text='{"a": 1, "a": 2}')
@example(text='{"a": "\\ud800"}')
@example(text=' {"a": [1, {"b": null}]}\n')
@example(text='{"a": NaN}')
@example(text='{"a": 1,}')
@example(text="{'a': 1}")
@example(text='{"a": "\t"}')
@example(text='{"a": 1} x')
@example(text="[" * 70 + "]" * 70)
@example(text='{"a":' + "[" * 70 + "]" * 70 + "}")
def test_the_c_reading_of_arguments_takes_only_json_objects(text: str) -> None:
    from chatcontract.rules._util import NotJSON, loads_object

    if _read_in_c(text):
        try:
            assert isinstance(loads_object(text), dict)
        except NotJSON:
            raise AssertionError(f"{text!r} is read as an object in C but json.loads refuses it") from None


@pytest.mark.skipif(_accel.culprits is None, reason="never: the first test fails when it is not built")
@settings(max_examples=400, deadline=None)
@given(value=st.dictionaries(st.text(max_size=5), _JSON_VALUES, max_size=4), indent=st.sampled_from([None, 1, "\t"]))
def test_the_c_reading_of_arguments_takes_what_json_dumps_writes(value: dict[str, Any], indent: Any) -> None:
    # (the usual arguments: json.dumps of an object; ensure_ascii, the C reading takes ASCII text only)
    text = json.dumps(value, indent=indent)
    assert _read_in_c(text)
    unescaped = json.dumps(value, ensure_ascii=False)
    assert _read_in_c(unescaped) == unescaped.isascii()
    assert not _read_in_c(json.dumps([value]))  # an array is not an object
