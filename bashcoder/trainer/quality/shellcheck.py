"""ShellCheck findings a completion adds to its file (when shellcheck is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter


def available() -> bool:
    return shutil.which("shellcheck") is not None


def findings(text: str) -> Counter[int]:
    """ShellCheck codes found in `text` (bash dialect), counted."""
    proc = subprocess.run(
        ["shellcheck", "--shell=bash", "--format=json", "-"],
        input=text.encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    try:
        items = json.loads(proc.stdout or b"[]")
    except json.JSONDecodeError:
        return Counter()
    return Counter(int(i["code"]) for i in items)


def added_findings(original: Counter[int], edited: str) -> int:
    """Findings in `edited` beyond those of the original file (per code)."""
    after = findings(edited)
    return sum(max(0, n - original.get(code, 0)) for code, n in after.items())
