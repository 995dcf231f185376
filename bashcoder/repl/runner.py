"""Run accepted input with bash, in the REPL's working directory and environment.

Each input runs in a fresh `bash -c`, attached to the terminal (so output
streams as it is written and interactive programs work). On exit, bash
reports its working directory and exported environment back to the REPL, so
`cd` and `export` carry over to the next command as in a shell. Functions,
aliases and unexported variables do not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

STATE_ENV = "BASHCODER_REPL_STATE"
USER_BASH_ENV = "BASHCODER_USER_BASH_ENV"
# Reports the working directory and environment when the command's bash exits, keeping its status.
_REPORT = '__bashcoder_rc=$?; { pwd; printf "\\0"; env -0; } >"$%s" 2>/dev/null; exit $__bashcoder_rc'
# Set from BASH_ENV, which a non-interactive bash reads before its command: the command stays
# the user's text alone, so bash's line numbers and its quotes of a bad line are the user's
# (on the same line as the command, the trap showed in every syntax error). It takes its
# variables out of the environment first, so the bash scripts the command runs inherit neither
# the trap nor the state file; the user's own BASH_ENV is restored and read.
_STARTUP = (
    "__bashcoder_state=$BASHCODER_REPL_STATE\n"
    "unset BASHCODER_REPL_STATE\n"
    'if [ -n "${BASHCODER_USER_BASH_ENV-}" ]; then\n'
    '  BASH_ENV=$BASHCODER_USER_BASH_ENV; unset BASHCODER_USER_BASH_ENV; [ -r "$BASH_ENV" ] && . "$BASH_ENV"\n'
    "else\n"
    "  unset BASH_ENV BASHCODER_USER_BASH_ENV\n"
    "fi\n"
    f"trap '{_REPORT % '__bashcoder_state'}' EXIT\n"
)
# In POSIX mode (POSIXLY_CORRECT, or posix in an exported SHELLOPTS) bash reads no BASH_ENV: the
# trap then goes on the command's own line, as it did before the startup file.
_INLINE_TRAP = f"trap '{_REPORT % STATE_ENV}' EXIT; "
_NOT_CARRIED = {"SHLVL", "_", "PWD", STATE_ENV, USER_BASH_ENV, "__bashcoder_rc"}


@contextlib.contextmanager
def _signals_ignored(*signums: signal.Signals) -> Iterator[None]:
    """Ignore `signums` in this process for the block (main thread only: elsewhere Python
    cannot set handlers, and the signals reach the main thread anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = [signal.signal(s, signal.SIG_IGN) for s in signums]
    try:
        yield
    finally:
        for s, handler in zip(signums, previous, strict=True):
            signal.signal(s, handler)


@dataclass(frozen=True)
class RunResult:
    """How a command ended."""

    exit_code: int
    """bash's exit status; 128+N when killed by signal N."""
    seconds: float
    """Wall time."""

    def describe(self) -> str:
        mark = "✓" if self.exit_code == 0 else "✗"
        return f"{mark} exit {self.exit_code} · {self.seconds:.2f} s"


@dataclass
class Shell:
    """The state a sequence of commands shares: working directory and environment."""

    cwd: Path = field(default_factory=Path.cwd)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    bash: str = "bash"

    def run(
        self,
        command: str,
        stdout: IO[str] | IO[bytes] | None = None,
        stderr: IO[str] | IO[bytes] | None = None,
    ) -> RunResult:
        """Run `command`; output goes to the terminal unless `stdout`/`stderr` are given.

        Ctrl-C and Ctrl-\\ reach the command (same terminal process group) and
        not the REPL, which waits for it, as an interactive bash does for its
        foreground job (asyncio's own SIGINT handler would otherwise cancel the
        REPL once the command ended).
        """
        fd, state_path = tempfile.mkstemp(prefix="bashcoder-state-")
        os.close(fd)
        fd, startup_path = tempfile.mkstemp(prefix="bashcoder-startup-", suffix=".sh")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(_STARTUP)
        posix = "POSIXLY_CORRECT" in self.env or "posix" in self.env.get("SHELLOPTS", "").split(":")
        env = {**self.env, STATE_ENV: state_path}
        if posix:
            command = _INLINE_TRAP + command
        else:
            env["BASH_ENV"] = startup_path
            if self.env.get("BASH_ENV"):
                env[USER_BASH_ENV] = self.env["BASH_ENV"]
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                [self.bash, "-c", command],
                cwd=self.cwd if self.cwd.is_dir() else None,
                env=env,
                stdout=stdout,
                stderr=stderr,
            )
            # After Popen: the child has exec'd with default handlers (an ignored signal
            # would stay ignored across exec).
            with _signals_ignored(signal.SIGINT, signal.SIGQUIT):
                code = proc.wait()
            seconds = time.perf_counter() - start
            self._adopt(Path(state_path))
        finally:
            Path(state_path).unlink(missing_ok=True)
            Path(startup_path).unlink(missing_ok=True)
        return RunResult(code if code >= 0 else 128 - code, seconds)

    def _adopt(self, state_path: Path) -> None:
        try:
            raw = state_path.read_bytes()
        except OSError:
            return
        cwd, sep, env_raw = raw.partition(b"\n\0")
        if not sep:
            return  # killed before the trap ran: keep what we had
        new_cwd = Path(os.fsdecode(cwd))
        if new_cwd.is_dir():
            self.cwd = new_cwd
        env: dict[str, str] = {}
        for item in env_raw.split(b"\0"):
            key, eq, value = item.partition(b"=")
            if eq and key:
                env[os.fsdecode(key)] = os.fsdecode(value)
        for key in _NOT_CARRIED:
            env.pop(key, None)
        if "SHLVL" in self.env:
            env["SHLVL"] = self.env["SHLVL"]  # bash -c raised it; the user's shell level did not change
        if env.get("BASH_ENV", "").startswith(tempfile.gettempdir() + "/bashcoder-startup-"):
            env.pop("BASH_ENV")  # the REPL's own: never carried into the next command
        self.env = env
