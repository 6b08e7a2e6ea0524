"""The official Node SDKs (``openai``, ``@mistralai/mistralai``), installed once into a cache folder and run.

``npm install`` puts the pinned versions into ``${CHATCONTRACT_NPM_CACHE:-~/.cache/chatcontract/npm-clients}/<hash
of the pins and node's major version>``, under a file lock, once; a stamp file marks a finished install, so a
broken or half-done folder is installed again. The scripts in ``tests/proxy/node/`` are copied next to
``node_modules`` (Node resolves ES module imports from the script's folder) and run with a minimal environment.
A failing install raises with npm's log tail: the tests that need the clients error, they never skip.

Pins: ``openai`` 6.x is the last major that supports Node 20 (7.0 declares ``engines: node >= 22``);
``@mistralai/mistralai`` 2.7.0 declares no engines and runs on Node 20 (checked by these tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ..providers.venv import _file_lock

PINS = {"openai": "6.30.1", "@mistralai/mistralai": "2.7.0"}
SCRIPTS = Path(__file__).with_name("node")
_STAMP = ".chatcontract-installed"


class NodeClientsError(RuntimeError):
    """node or npm is missing, or the install failed."""


def _node_major() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeClientsError("node is not on PATH: the Node client tests need Node.js 20 or later")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return version.lstrip("v").split(".")[0]


def cache_dir() -> Path:
    root = os.environ.get("CHATCONTRACT_NPM_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "chatcontract" / "npm-clients"
    digest = hashlib.sha256(json.dumps([PINS, _node_major()], sort_keys=True).encode()).hexdigest()[:12]
    return base / f"clients-{digest}"


def ensure_node_clients() -> Path:
    """The folder holding ``node_modules`` with the pinned SDKs (installed the first time) and the scripts."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with _file_lock(folder.with_name(folder.name + ".lock")):
        if not (folder / _STAMP).is_file():
            npm = shutil.which("npm")
            if npm is None:
                raise NodeClientsError("npm is not on PATH: the Node client tests install their SDKs with it")
            package = {"name": "chatcontract-node-clients", "private": True, "type": "module", "dependencies": PINS}
            (folder / "package.json").write_text(json.dumps(package, indent=2))
            log = folder / "npm-install.log"
            with log.open("w") as handle:
                done = subprocess.run(
                    [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts"],
                    cwd=folder,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    timeout=600,
                )
            if done.returncode != 0:
                tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
                raise NodeClientsError(f"npm install failed ({done.returncode}) in {folder}:\n{tail}")
            (folder / _STAMP).write_text(json.dumps(PINS))
    for script in SCRIPTS.glob("*.mjs"):
        shutil.copyfile(script, folder / script.name)
    return folder


def run_node(folder: Path, script: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run a client script; returns the JSON line it printed."""
    node = shutil.which("node")
    assert node is not None
    minimal = {"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), **env}
    done = subprocess.run(
        [node, folder / script, *args], capture_output=True, text=True, timeout=120, env=minimal, cwd=folder
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"node {script} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
