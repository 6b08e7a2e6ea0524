"""Start real third-party chat-completion servers on loopback.

- :func:`llamacpp_server`: llama-cpp-python's OpenAI-compatible server (real inference with a tiny
  random-weight GGUF model that we generate, see ``tiny_gguf.py``);
- :func:`litellm_proxy`: the LiteLLM proxy with mocked models (and, with ``upstream``, a route to a
  llama.cpp server, i.e. a real proxy path).

Both are context managers yielding a :class:`Server`. Each server runs in its own process group with a
minimal environment, listens on 127.0.0.1 only on a free port, and is stopped by process id on exit.
Nothing here needs the network: the providers are installed from the package registry once
(``venv.ensure_provider_env``) and everything after that is local.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .venv import OFFLINE_ENV, _file_lock, cache_root, ensure_provider_env, provider_dir, subprocess_env

__all__ = [
    "LITELLM_MOCK_MODELS",
    "LITELLM_UPSTREAM_MODELS",
    "LLAMACPP_DEFAULT_MODELS",
    "MOCK_TEXT",
    "MOCK_TOOL_CALLS",
    "ProviderStartError",
    "Server",
    "litellm_proxy",
    "llamacpp_server",
    "tiny_model_path",
]

#: LiteLLM's proxy imports for ~10 s on an idle 2-core machine and was seen taking 46 s under heavy load.
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 10.0
_HERE = Path(__file__).resolve().parent


class ProviderStartError(RuntimeError):
    """A provider server did not come up."""


@dataclass(frozen=True)
class Server:
    """A running provider server."""

    name: str
    #: e.g. ``http://127.0.0.1:PORT/v1``: POST ``{base_url}/chat/completions``.
    base_url: str
    port: int
    pid: int
    #: Bearer token to send (None: the server takes no key).
    api_key: str | None
    #: Model aliases the server answers to.
    models: tuple[str, ...]
    log_path: Path

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (without ``/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def headers(self) -> dict[str, str]:
        """Headers for an authenticated JSON request."""
        h = {"Content-Type": "application/json"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)


# --------------------------------------------------------------------------------------------- helpers


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_ENV_PASSTHROUGH = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)


def _server_env(python: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment: no API keys, DATABASE_URL, proxies, HOST/PORT/MODEL... from the caller."""
    env = {k: v for k, v in os.environ.items() if k in _ENV_PASSTHROUGH}
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "/usr/bin:/bin")])
    env.update(OFFLINE_ENV)
    env.update(PYTHONNOUSERSITE="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, wait, then SIGKILL it (by process id, never by name)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
    # Children of the group (e.g. uvicorn workers) may outlive the leader: kill whatever is left.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=STOP_TIMEOUT_S)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM the server when the test process dies, even by SIGKILL (no orphans after a CI kill)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _get_status(url: str, headers: Mapping[str, str]) -> int | None:
    req = urllib.request.Request(url, headers=dict(headers))
    # An explicit empty ProxyHandler: never route loopback traffic through an environment proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


@contextmanager
def _run_server(
    *,
    name: str,
    command: Callable[[int], tuple[list[str], dict[str, str]]],
    workdir: Path,
    ready_path: str,
    api_key: str | None,
    models: Sequence[str],
    timeout: float,
) -> Iterator[Server]:
    """Start ``command(port) -> (argv, env)``, wait for ``GET ready_path`` to answer 200, yield, then stop it."""
    log_path = workdir / f"{name}.log"
    attempts = 3
    for attempt in range(1, attempts + 1):
        port = _free_port()
        argv, env = command(port)
        with open(log_path, "ab") as log:
            log.write(f"$ {' '.join(map(str, argv))}\n".encode())
            log.flush()
            started = time.monotonic()
            proc = subprocess.Popen(
                [str(a) for a in argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=workdir,
                start_new_session=True,  # own process group: stopped as a group by its id
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            url = f"http://127.0.0.1:{port}{ready_path}"
            status: int | None = None
            while True:
                if proc.poll() is not None:
                    break
                status = _get_status(url, headers)
                if status == 200:
                    break
                if time.monotonic() - started > timeout:
                    raise ProviderStartError(
                        f"{name} did not answer 200 on {url} within {timeout:.0f} s (last status {status}); "
                        f"log {log_path}:\n{_tail(log_path)}"
                    )
                time.sleep(0.2)
            if proc.poll() is not None:
                text = _tail(log_path)
                if attempt < attempts and "address already in use" in text.lower():
                    continue  # lost the race for the free port: try another one
                raise ProviderStartError(f"{name} exited early with code {proc.returncode}; log {log_path}:\n{text}")
            ready_s = time.monotonic() - started
            print(
                f"[chatcontract providers] {name} ready on 127.0.0.1:{port} (pid {proc.pid}) in {ready_s:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            yield Server(
                name=name,
                base_url=f"http://127.0.0.1:{port}/v1",
                port=port,
                pid=proc.pid,
                api_key=api_key,
                models=tuple(models),
                log_path=log_path,
            )
            return
        finally:
            _stop(proc)
    raise ProviderStartError(f"{name}: no free port after {attempts} attempts")  # pragma: no cover


@contextmanager
def _workdir(prefix: str) -> Iterator[Path]:
    """A temp dir for config and log; kept (for inspection) if the block raised."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    except BaseException:
        print(f"[chatcontract providers] kept {path} for inspection", file=sys.stderr, flush=True)
        raise
    shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------------------------- llama.cpp


def tiny_model_path() -> Path:
    """The tiny random-weight GGUF model, generated once (cached next to the llamacpp venv)."""
    python = ensure_provider_env("llamacpp")
    script = _HERE / "tiny_gguf.py"
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    out = cache_root() / f"{provider_dir('llamacpp').name}-tiny-{digest}.gguf"
    if out.is_file():
        return out
    with _file_lock(cache_root() / f"{out.name}.lock"):
        if out.is_file():
            return out
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        res = subprocess.run(
            [str(python), str(script), str(tmp)],
            env=subprocess_env(),
            cwd=cache_root(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if res.returncode != 0 or not tmp.is_file():
            tmp.unlink(missing_ok=True)
            raise ProviderStartError(
                f"generating the tiny GGUF model failed (exit {res.returncode}):\n"
                f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
            )
        tmp.replace(out)
    return out


#: Model aliases of :func:`llamacpp_server` by default: alias -> llama-cpp-python ModelSettings.
LLAMACPP_DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "tiny": {"chat_format": "chatml"},
    "tiny-tools": {"chat_format": "chatml-function-calling"},
}


@contextmanager
def llamacpp_server(
    *, models: dict[str, dict[str, Any]] | None = None, timeout: float = READY_TIMEOUT_S
) -> Iterator[Server]:
    """Run llama-cpp-python's OpenAI-compatible server with the tiny model.

    ``models`` maps alias -> extra llama-cpp-python ``ModelSettings`` (``chat_format``, ``n_ctx``, ``seed``...;
    ``model`` defaults to the tiny GGUF). Default: :data:`LLAMACPP_DEFAULT_MODELS`. The server keeps one model
    loaded and swaps on demand when a request names another alias (cheap with the tiny model).
    """
    python = ensure_provider_env("llamacpp")
    model_file = tiny_model_path()
    aliases = models if models is not None else LLAMACPP_DEFAULT_MODELS
    if not aliases:
        raise ValueError("llamacpp_server needs at least one model alias")
    with _workdir("chatcontract-llamacpp-") as workdir:
        entries = []
        for alias, settings in aliases.items():
            entry: dict[str, Any] = {"model": str(model_file), "n_ctx": 2048, "seed": 1234, "verbose": True}
            entry.update(settings)
            entry["model_alias"] = alias
            entries.append(entry)

        def command(port: int) -> tuple[list[str], dict[str, str]]:
            cfg = workdir / "config.json"
            cfg.write_text(json.dumps({"host": "127.0.0.1", "port": port, "models": entries}, indent=2))
            # llama_cpp.server lets HOST / PORT override the config file: pin them to loopback too.
            env = _server_env(python, {"HOST": "127.0.0.1", "PORT": str(port)})
            return [str(python), "-m", "llama_cpp.server", "--config_file", str(cfg)], env

        with _run_server(
            name="llamacpp",
            command=command,
            workdir=workdir,
            ready_path="/v1/models",
            api_key=None,
            models=list(aliases),
            timeout=timeout,
        ) as server:
            yield server


# --------------------------------------------------------------------------------------------- LiteLLM

#: The text every LiteLLM mock model answers.
MOCK_TEXT = "Hello from the LiteLLM mock."

#: What ``mock-tools`` answers (non-streaming; LiteLLM's streaming ignores mock_tool_calls).
MOCK_TOOL_CALLS: list[dict[str, Any]] = [
    {
        "id": "call_mock_0001",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris", "unit": "celsius"})},
    }
]

#: LiteLLM mock model aliases -> litellm_params.
LITELLM_MOCK_MODELS: dict[str, dict[str, Any]] = {
    "mock-gpt": {"model": "openai/mock-gpt", "api_key": "sk-mock-not-a-key", "mock_response": MOCK_TEXT},
    "mock-mistral": {"model": "mistral/mock-mistral", "api_key": "mock-not-a-key", "mock_response": MOCK_TEXT},
    "mock-tools": {
        "model": "openai/mock-tools",
        "api_key": "sk-mock-not-a-key",
        "mock_response": "",
        "mock_tool_calls": MOCK_TOOL_CALLS,
    },
    "mock-rate-limit": {
        "model": "openai/mock-rate-limit",
        "api_key": "sk-mock-not-a-key",
        "mock_response": "litellm.RateLimitError",
    },
}

#: LiteLLM aliases proxied to the llama.cpp ``upstream`` -> the llama.cpp alias they route to.
LITELLM_UPSTREAM_MODELS: dict[str, str] = {"upstream-tiny": "tiny", "upstream-tiny-tools": "tiny-tools"}

_LITELLM_ENV = {
    # (OFFLINE_ENV, in every server's environment, keeps LiteLLM from fetching its JSON files from GitHub.)
    "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
    "DISABLE_ADMIN_UI": "True",
    "LITELLM_LOG": "INFO",
    "LITELLM_MODE": "PRODUCTION",  # do not load a .env file from the working directory
    "TOKENIZERS_PARALLELISM": "false",
}


@contextmanager
def litellm_proxy(*, upstream: str | None = None, timeout: float = READY_TIMEOUT_S) -> Iterator[Server]:
    """Run the LiteLLM proxy with the mock models (and routes to ``upstream``, a llama.cpp ``base_url``)."""
    python = ensure_provider_env("litellm")
    model_list: list[dict[str, Any]] = [
        {"model_name": alias, "litellm_params": dict(params)} for alias, params in LITELLM_MOCK_MODELS.items()
    ]
    if upstream is not None:
        for alias, target in LITELLM_UPSTREAM_MODELS.items():
            model_list.append(
                {
                    "model_name": alias,
                    "litellm_params": {
                        "model": f"openai/{target}",
                        "api_base": upstream.rstrip("/"),
                        "api_key": "sk-upstream-not-a-key",
                    },
                }
            )
    config = {
        "model_list": model_list,
        "litellm_settings": {"telemetry": False, "num_retries": 0, "request_timeout": 60, "drop_params": False},
        # A failing deployment (e.g. llama.cpp answering 500 to a fuzzed request) must not be cooled down.
        "router_settings": {"num_retries": 0, "disable_cooldowns": True},
        "general_settings": {},
    }
    key = "sk-" + secrets.token_hex(16)
    with _workdir("chatcontract-litellm-") as workdir:
        cfg = workdir / "config.yaml"
        cfg.write_text(json.dumps(config, indent=2))  # JSON is YAML
        litellm_bin = python.parent / "litellm"
        env = _server_env(python, {**_LITELLM_ENV, "LITELLM_MASTER_KEY": key})

        def command(port: int) -> tuple[list[str], dict[str, str]]:
            return [str(litellm_bin), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port)], env

        with _run_server(
            name="litellm",
            command=command,
            workdir=workdir,
            ready_path="/v1/models",
            api_key=key,
            models=[m["model_name"] for m in model_list],
            timeout=timeout,
        ) as server:
            yield server
