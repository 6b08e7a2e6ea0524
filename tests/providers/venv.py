"""Private virtual environments for the real third-party providers.

The providers pin many packages that would clash with the project's own test dependencies, so each one is
installed into its own venv under a cache directory::

    ${CHATCONTRACT_PROVIDER_CACHE:-~/.cache/chatcontract/providers}/<name>-<hash of the pinned requirements>

The first installation takes minutes: llama-cpp-python compiles llama.cpp (8 minutes on an idle 2-core
machine, 30 under load), LiteLLM downloads ~170 MB of wheels. Every wheel is kept in a per-provider wheelhouse
(``<cache>/wheelhouse/<name>-<hash>``), so a deleted, broken or half-built venv is rebuilt offline (idle:
llama.cpp 9 s, LiteLLM 60 s); pip itself keeps no HTTP cache of this machine's registry.
Concurrent test processes are serialised by an ``fcntl`` lock, and a venv only counts as complete once its
stamp file has been written (the last step), so a half-built venv is rebuilt; so is one whose python no
longer runs.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PROVIDERS",
    "OFFLINE_ENV",
    "ProviderInstallError",
    "ProviderSpec",
    "cache_root",
    "ensure_provider_env",
    "provider_dir",
    "subprocess_env",
    "wheelhouse_dir",
]


@dataclass(frozen=True)
class ProviderSpec:
    """What to install for one provider."""

    requirements: tuple[str, ...]
    #: Extra environment for pip (e.g. CMAKE_ARGS for llama-cpp-python's sdist build).
    build_env: Mapping[str, str] = field(default_factory=dict)
    #: Top-level modules that a healthy venv must have (importlib.util.find_spec: found, not imported).
    probe_modules: tuple[str, ...] = ()
    #: Imported once after installation: proves the install works and byte-compiles what the server uses
    #: (pip runs with --no-compile: compiling all of LiteLLM's 10,000 files took longer than installing them).
    warm_imports: tuple[str, ...] = ()


#: The one table of pinned versions.
PROVIDERS: dict[str, ProviderSpec] = {
    "llamacpp": ProviderSpec(
        requirements=("llama-cpp-python[server]==0.3.36", "gguf==0.19.0"),
        # LLAVA is not needed; GGML_NATIVE=OFF so a wheel in pip's cache also runs on other x86-64 CPUs
        # (pip keys its wheel cache by the sdist, not by CMAKE_ARGS).
        build_env={"CMAKE_ARGS": "-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF"},
        probe_modules=("llama_cpp", "gguf", "numpy", "uvicorn", "fastapi", "sse_starlette"),
        warm_imports=("llama_cpp.server.app", "gguf"),
    ),
    "litellm": ProviderSpec(
        # Without prisma, a request with no key gets 500 text/plain instead of 401.
        requirements=("litellm[proxy]==1.108.7", "prisma==0.15.0"),
        probe_modules=("litellm", "prisma", "fastapi", "uvicorn", "backoff"),
        warm_imports=("litellm.proxy.proxy_server",),
    ),
}

#: Environment that keeps the providers off the network (LiteLLM otherwise fetches its model cost map and
#: other JSON files from GitHub at import time, retrying for seconds when there is no network).
OFFLINE_ENV: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_TELEMETRY": "False",
    "TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}

STAMP_NAME = ".chatcontract-complete"
INSTALL_TIMEOUT_S = 45 * 60
_LOG_TAIL_LINES = 40


class ProviderInstallError(RuntimeError):
    """A provider's venv could not be created or installed."""


def cache_root() -> Path:
    """The directory holding the provider venvs (and the generated model)."""
    env = os.environ.get("CHATCONTRACT_PROVIDER_CACHE")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "chatcontract" / "providers"
    return root.resolve()


def _spec(name: str) -> ProviderSpec:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ProviderInstallError(f"unknown provider {name!r}; known: {sorted(PROVIDERS)}") from None


def _spec_hash(name: str, *, exact_python: bool = True) -> str:
    spec = _spec(name)
    key: dict[str, object] = {
        "name": name,
        "requirements": list(spec.requirements),
        "build_env": dict(sorted(spec.build_env.items())),
        "python": sys.implementation.cache_tag,  # wheels are per cpXY
        "machine": platform.machine(),
    }
    if exact_python:  # a venv is bound to the very interpreter that created it
        key["version"] = list(sys.version_info[:3])
        key["base"] = getattr(sys, "_base_executable", sys.executable)
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def provider_dir(name: str) -> Path:
    """The venv directory of provider ``name`` (it may not exist yet)."""
    return cache_root() / f"{name}-{_spec_hash(name)}"


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _log(msg: str) -> None:
    print(f"[chatcontract providers] {msg}", file=sys.stderr, flush=True)


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment for running a provider venv's programs."""
    env = dict(os.environ)
    # The provider venv must not see the test process's venv or import path.
    for var in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "__PYVENV_LAUNCHER__"):
        env.pop(var, None)
    env["PYTHONNOUSERSITE"] = "1"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let the provider venvs cache their byte code
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if extra:
        env.update(extra)
    return env


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log(f"waiting for lock {path} (another process is installing)")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _healthy(name: str, venv: Path) -> bool:
    """The stamp exists, matches, and the venv's python runs and finds the provider's modules."""
    stamp = venv / STAMP_NAME
    py = _venv_python(venv)
    if not stamp.is_file() or not py.exists():
        return False
    try:
        if json.loads(stamp.read_text()).get("requirements") != list(_spec(name).requirements):
            return False
    except (OSError, ValueError):
        return False
    probe = (
        "import importlib.util, sys\n"
        f"mods = {list(_spec(name).probe_modules)!r}\n"
        "sys.exit(0 if all(importlib.util.find_spec(m) for m in mods) else 3)\n"
    )
    try:
        res = subprocess.run(
            [str(py), "-c", probe],
            env=subprocess_env(),
            cwd=venv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _run_logged(cmd: list[str], *, log: Path, env: dict[str, str], cwd: Path, what: str) -> None:
    """Run ``cmd`` with output appended to ``log``, printing a heartbeat to stderr; raise on failure."""
    start = time.monotonic()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        next_beat = start + 30
        try:
            while proc.poll() is None:
                now = time.monotonic()
                if now - start > INSTALL_TIMEOUT_S:
                    proc.kill()
                    proc.wait()
                    raise ProviderInstallError(
                        f"{what} timed out after {INSTALL_TIMEOUT_S} s; log {log}:\n{_tail(log)}"
                    )
                if now >= next_beat:
                    last = _tail(log, 1).strip()[:150]
                    _log(f"{what}: still running after {now - start:.0f} s ... {last}")
                    next_beat = now + 30
                time.sleep(0.5)
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
    took = time.monotonic() - start
    with open(log, "a") as out:
        out.write(f"[{what}: exit {proc.returncode} after {took:.1f} s]\n")
    _log(f"{what}: done in {took:.0f} s" if proc.returncode == 0 else f"{what}: FAILED after {took:.0f} s")
    if proc.returncode != 0:
        raise ProviderInstallError(
            f"{what} failed (exit {proc.returncode}) after {time.monotonic() - start:.0f} s; "
            f"log {log}, last lines:\n{_tail(log)}"
        )


def wheelhouse_dir(name: str) -> Path:
    """Where the wheels of provider ``name`` are kept, so that rebuilding its venv needs no network."""
    return cache_root() / "wheelhouse" / f"{name}-{_spec_hash(name, exact_python=False)}"


def _fill_wheelhouse(name: str, pip: list[str], log: Path) -> Path:
    """Download (and for sdists, build) every wheel the provider needs, once.

    pip keeps no HTTP cache of downloads from this machine's registry (only wheels it built itself), so
    without this a deleted or broken venv would download everything again (LiteLLM: ~120 MB, minutes).
    """
    spec = _spec(name)
    house = wheelhouse_dir(name)
    if (house / STAMP_NAME).is_file():
        return house
    if house.exists():
        shutil.rmtree(house)
    house.mkdir(parents=True)
    _run_logged(
        [*pip, "wheel", "--no-input", "--progress-bar", "off", "--wheel-dir", str(house), *spec.requirements],
        log=log,
        env=subprocess_env(spec.build_env),
        cwd=cache_root(),
        what=f"downloading/building wheels for {name}",
    )
    (house / STAMP_NAME).write_text(json.dumps({"requirements": list(spec.requirements)}))
    return house


def _outer_pip() -> list[str] | None:
    """This interpreter's pip, if it can drive another environment (``pip --python``, pip >= 22.3).

    Creating the venv ``--without-pip`` and installing into it with this pip saves ``ensurepip``, which
    takes 5-20 s on 2 cores.
    """
    try:
        res = subprocess.run(
            [sys.executable, "-m", "pip", "--version"],
            env=subprocess_env(),
            cwd=cache_root(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = res.stdout.split()
    if res.returncode != 0 or len(parts) < 2 or parts[0] != "pip":
        return None
    try:
        version = tuple(int(x) for x in parts[1].split(".")[:2])
    except ValueError:
        return None
    return [sys.executable, "-m", "pip"] if version >= (22, 3) else None


def _build(name: str, venv: Path) -> None:
    spec = _spec(name)
    if venv.exists():
        _log(f"removing incomplete or broken venv {venv}")
        shutil.rmtree(venv)
    log = cache_root() / f"{venv.name}.install.log"
    log.write_text("")
    start = time.monotonic()
    cached = (wheelhouse_dir(name) / STAMP_NAME).is_file()
    _log(
        f"installing provider {name!r} into {venv} ({', '.join(spec.requirements)}); "
        + ("from its wheelhouse" if cached else "the first time this takes minutes")
        + f", log: {log}"
    )
    cwd = cache_root()  # never the source tree: `python -m venv` must not import tests/providers/venv.py
    outer = _outer_pip()
    _run_logged(
        [sys.executable, "-m", "venv", *(["--without-pip"] if outer else []), str(venv)],
        log=log,
        env=subprocess_env(),
        cwd=cwd,
        what=f"creating venv for {name}",
    )
    py = _venv_python(venv)
    pip = [*outer, "--python", str(py)] if outer else [str(py), "-m", "pip"]
    house = _fill_wheelhouse(name, pip, log)
    _run_logged(
        [
            *pip,
            "install",
            "--no-input",
            "--progress-bar",
            "off",
            "--no-compile",
            "--no-index",
            "--find-links",
            str(house),
            *spec.requirements,
        ],
        log=log,
        env=subprocess_env(spec.build_env),
        cwd=cwd,
        what=f"pip install for {name}",
    )
    listing = subprocess.run(  # what got installed, for the record (cheaper than pip freeze)
        [
            str(py),
            "-c",
            "import importlib.metadata as m\n"
            "print('\\n'.join(sorted(f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions())))",
        ],
        env=subprocess_env(),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    (venv / "chatcontract-freeze.txt").write_text(listing)
    if spec.warm_imports:
        code = "".join(f"import {m}\n" for m in spec.warm_imports)
        _run_logged(
            [str(py), "-c", code], log=log, env=subprocess_env(OFFLINE_ENV), cwd=cwd, what=f"importing {name} once"
        )
    elapsed = time.monotonic() - start
    # The stamp is written last: its presence means the venv is complete.
    tmp = venv / (STAMP_NAME + ".tmp")
    tmp.write_text(
        json.dumps(
            {"requirements": list(spec.requirements), "install_seconds": round(elapsed, 1), "created": time.time()}
        )
    )
    tmp.replace(venv / STAMP_NAME)
    if not _healthy(name, venv):
        raise ProviderInstallError(
            f"provider {name!r} installed but its modules cannot be found; log {log}:\n{_tail(log)}"
        )
    _log(f"provider {name!r} installed in {elapsed:.0f} s")


def ensure_provider_env(name: str) -> Path:
    """Return the python executable of provider ``name``'s venv, installing it first if needed."""
    venv = provider_dir(name)
    if _healthy(name, venv):
        return _venv_python(venv)
    with _file_lock(cache_root() / f"{venv.name}.lock"):
        if not _healthy(name, venv):  # another process may have finished it meanwhile
            _build(name, venv)
    return _venv_python(venv)


if __name__ == "__main__":  # pragma: no cover - manual use: python -m tests.providers.venv llamacpp litellm
    for arg in sys.argv[1:] or list(PROVIDERS):
        t0 = time.monotonic()
        print(ensure_provider_env(arg), f"{time.monotonic() - t0:.1f}s")
