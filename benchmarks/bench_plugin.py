"""How much the chatcontract pytest plugin adds to `pytest --collect-only` of an empty suite.

Runs the same command with the plugin loaded and with `-p no:chatcontract`, interleaved, and compares the medians.
Target: at most 30 ms added. Usage: python3 benchmarks/bench_plugin.py [--runs N] [--assert]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 30.0


def run(folder: Path, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, env={**os.environ})
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 5):  # 5: no tests collected
        raise SystemExit(f"pytest failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--assert", dest="check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        with_plugin, without = [], []
        run(folder, [])  # warm the file-system cache
        for _ in range(args.runs):
            with_plugin.append(run(folder, []))
            without.append(run(folder, ["-p", "no:chatcontract"]))
    a, b = statistics.median(with_plugin), statistics.median(without)
    added = a - b
    print(f"pytest --collect-only, empty suite, median of {args.runs} interleaved runs")
    print(f"  with chatcontract plugin      {a:8.1f} ms")
    print(f"  with -p no:chatcontract       {b:8.1f} ms")
    print(f"  added by the plugin           {added:8.1f} ms ({a / b:.3f}x)")
    verdict = "PASS" if added <= TARGET_MS else "FAIL"
    print(f"{verdict}: plugin adds at most {TARGET_MS:.0f} ms (added {added:.1f} ms)")
    return 1 if args.check and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
