"""Measure bashcoder-collect's yield: `--system --debian-default` into a fresh output directory.

The issue's scale target: at least 15 MB of deduplicated bash in under 15 minutes.
Prints MB, files and minutes of that run with the CPU model, and exits non-zero
when the target is missed. Downloads count: by default the .debs go to a fresh
temporary cache, as on a first run (--warm-cache reuses the user cache).

    python bench/collect_yield.py                  # corpus into a temp dir, then removed
    python bench/collect_yield.py --out data       # keep the corpus (the trainer reads data/)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MB = 15.0
TARGET_MINUTES = 15.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=None, help="keep the corpus here (must hold no corpus yet)"
    )
    parser.add_argument(
        "--warm-cache", action="store_true", help="reuse ~/.cache/bashcoder instead of a fresh cache"
    )
    parser.add_argument(
        "--extra", nargs=argparse.REMAINDER, default=[], help="more bashcoder-collect options"
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="collect-yield-"))
    out = args.out or scratch / "out"
    if (out / "corpus.jsonl").exists():
        print(
            f"{out}/corpus.jsonl exists: a merged run would not measure one run; pass an empty --out",
            file=sys.stderr,
        )
        return 2
    cmd = [sys.executable, "-c", "from bashcoder.cli.collect import main; main()"]
    cmd += ["--system", "--debian-default", "--out", str(out), *args.extra]
    if not args.warm_cache:
        cmd += ["--cache-dir", str(scratch / "cache")]
    try:
        start = time.monotonic()
        proc = subprocess.run(cmd, check=False)
        minutes = (time.monotonic() - start) / 60.0
        if proc.returncode != 0:
            print(f"bashcoder-collect failed with exit status {proc.returncode}", file=sys.stderr)
            return proc.returncode
        manifest = json.loads((out / "manifest.json").read_text())
    finally:
        if args.out is None:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            shutil.rmtree(scratch / "cache", ignore_errors=True)
    mb = manifest["bytes"] / 1e6
    ok = mb >= TARGET_MB and minutes < TARGET_MINUTES
    print()
    print("bashcoder-collect --system --debian-default")
    print(f"  yield    {mb:.2f} MB of deduplicated bash in {manifest['files']:,} files")
    print(f"  time     {minutes:.2f} minutes (downloads {'included' if not args.warm_cache else 'cached'})")
    print(f"  cpu      {cpu_model()}")
    print(f"  target   >= {TARGET_MB:.0f} MB in < {TARGET_MINUTES:.0f} min: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
