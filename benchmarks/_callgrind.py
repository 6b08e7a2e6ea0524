"""Exact, load-independent cost per call: instructions executed, counted by valgrind's callgrind.

Timings on a shared 2-core machine swing by 2-3x; instruction counts do not (same input, same count, to within
a fraction of a percent, with ``PYTHONHASHSEED=0``). They are a proxy: they ignore cache misses and the higher
instructions-per-cycle of compiled Rust code, so use them to attribute cost and to confirm ratios, not as µs.

How: the script re-runs itself under ``valgrind --tool=callgrind --dump-before=os_getppid``; the child calls
``os.getppid()`` as a marker around each measured loop, so callgrind writes one counter dump per segment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

CHILD_FLAG = "--_callgrind-child"
_MARKER = "os_getppid"  # the C function behind os.getppid(); callgrind dumps its counters when it is entered


def available() -> bool:
    return shutil.which("valgrind") is not None


def _empty_loop(number: int) -> None:
    fn = _noop
    for _ in range(number):
        fn()


def _noop() -> None:
    return None


def child_loop(runners: Sequence[Callable[[int], Any]], number: int, warmup: int = 20) -> None:
    """In the child: for an empty loop and then each runner: warm up, marker, ``runner(number)``, marker.

    A runner ``r(n)`` calls the measured function n times in a plain ``for`` loop (the empty loop, measured the
    same way, is subtracted).
    """
    for run in (_empty_loop, *runners):
        run(warmup)
        os.getppid()
        run(number)
        os.getppid()


def count(script: str, child_args: Sequence[str], n_items: int, number: int) -> list[float]:
    """Run ``script CHILD_FLAG *child_args`` under callgrind; instructions per call for each of n_items fns."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("instruction counts need valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            valgrind,
            "--tool=callgrind",
            f"--dump-before={_MARKER}",
            f"--callgrind-out-file={tmp}/cg.out",
            os.path.realpath(sys.executable),
            os.path.abspath(script),
            CHILD_FLAG,
            *child_args,
        ]
        proc = subprocess.run(cmd, env=dict(os.environ, PYTHONHASHSEED="0"), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"callgrind run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        totals: dict[int, int] = {}
        for f in Path(tmp).glob("cg.out.*"):
            m = re.search(r"^totals:\s+(\d+)", f.read_text(), re.M)
            if m:
                totals[int(f.name.rsplit(".", 1)[1])] = int(m.group(1))
    # Dumps are numbered from 1; segment k (0 = the empty loop) ends in dump 2k+2.
    loop = totals[2] / number
    return [totals[2 * k + 2] / number - loop for k in range(1, n_items + 1)]
