"""Install or run the real third-party providers used by the tests (see tests/providers/).

Commands:

- ``install [NAME...]``: create the provider venvs (minutes the first time), e.g. at the start of .ci/run;
- ``serve``: run llama.cpp and LiteLLM (proxying to it) until interrupted, printing their URLs and key;
- ``where``: print the cache directory and the venv of each provider.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.providers.servers import litellm_proxy, llamacpp_server  # noqa: E402
from tests.providers.venv import PROVIDERS, cache_root, ensure_provider_env, provider_dir  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    inst = sub.add_parser("install", help="create the provider venvs (minutes the first time)")
    inst.add_argument("names", nargs="*", metavar="NAME", help=f"one of {sorted(PROVIDERS)} (default: all)")
    sub.add_parser("serve", help="run llama.cpp and LiteLLM (proxying to it) until interrupted")
    sub.add_parser("where", help="print the cache directory and the venv of each provider")
    args = parser.parse_args(argv)

    if args.cmd == "install":
        unknown = set(args.names) - set(PROVIDERS)
        if unknown:
            parser.error(f"unknown provider(s) {sorted(unknown)}; known: {sorted(PROVIDERS)}")
        for name in args.names or list(PROVIDERS):
            t0 = time.monotonic()
            python = ensure_provider_env(name)
            print(f"{name}: {python} ({time.monotonic() - t0:.1f} s)")
        return 0
    if args.cmd == "where":
        print(json.dumps({"cache": str(cache_root()), **{n: str(provider_dir(n)) for n in PROVIDERS}}, indent=2))
        return 0
    with llamacpp_server() as llama, litellm_proxy(upstream=llama.base_url) as proxy:
        info = {
            s.name: {
                "base_url": s.base_url,
                "api_key": s.api_key,
                "models": list(s.models),
                "pid": s.pid,
                "log": str(s.log_path),
            }
            for s in (llama, proxy)
        }
        print(json.dumps(info, indent=2), flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
