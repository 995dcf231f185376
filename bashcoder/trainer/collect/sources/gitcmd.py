"""Running git safely: the options, environment and error handling every git call here shares.

Nothing in a repository or in the user's config may run code (hooks,
fsmonitor) or reach for submodules, no call may wait at a prompt, and an
error is one line that never shows a password from a URL.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bashcoder.trainer.collect.sources import InputError

_URL_PASSWORD = re.compile(r"(://[^/\s:@]+):[^@\s/]+@")

# -c options for every git call: nothing in a cloned repository or in the
# user's config may run code (hooks, fsmonitor) or reach for submodules.
SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "protocol.ext.allow=never",
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    "advice.detachedHead=false",
    "init.defaultBranch=main",
)


def redact_url(url: str) -> str:
    """The URL without user name and password (the record's group must not carry credentials)."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return url


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_LFS_SKIP_SMUDGE="1",
        GIT_SSH_COMMAND=env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
        LC_ALL="C",
    )
    env.pop("GIT_ASKPASS", None)
    env.pop("SSH_ASKPASS", None)
    return env


def run_git(args: list[str], *, cwd: Path | None, timeout: float, what: str) -> str:
    """Run one git command safely; InputError with git's last line on failure or timeout."""
    cmd = ["git"]
    for option in SAFE_CONFIG:
        cmd += ["-c", option]
    cmd += args
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=git_env(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",  # odd bytes in a file name or message must not end the run
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise InputError(
            f"{what} took longer than {timeout:.0f}s; raise --git-timeout or check the network"
        ) from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        # git's first fatal/error line says what went wrong; its last is often advice that ends a
        # sentence begun lines before ("... and the repository exists.").
        reason = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else "")
        reason = reason or f"exit status {proc.returncode}"
        # git may echo the URL it was given: never print a password from it.
        raise InputError(_URL_PASSWORD.sub(r"\1:***@", f"{what} failed: {reason}"))
    return proc.stdout.strip()
