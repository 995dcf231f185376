"""Run accepted input with bash, in the REPL's working directory and environment.

Each input runs in a fresh `bash -c`, attached to the terminal (so output
streams as it is written and interactive programs work). On exit, bash
reports its working directory and exported environment back to the REPL, so
`cd` and `export` carry over to the next command as in a shell. Functions,
aliases and unexported variables do not.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

STATE_ENV = "BASHCODER_REPL_STATE"
# Set on the same line as the user's first line, so bash's line numbers in
# error messages stay the user's.
_TRAP = (
    'trap \'__bashcoder_rc=$?; { pwd; printf "\\0"; env -0; } >"$BASHCODER_REPL_STATE" 2>/dev/null; '
    "exit $__bashcoder_rc' EXIT; "
)
_NOT_CARRIED = {"SHLVL", "_", "PWD", STATE_ENV, "__bashcoder_rc"}


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

        Ctrl-C reaches the command (same terminal process group) and the REPL
        keeps waiting for it rather than dying.
        """
        fd, state_path = tempfile.mkstemp(prefix="bashcoder-state-")
        os.close(fd)
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                [self.bash, "-c", _TRAP + command],
                cwd=self.cwd if self.cwd.is_dir() else None,
                env={**self.env, STATE_ENV: state_path},
                stdout=stdout,
                stderr=stderr,
            )
            while True:
                try:
                    code = proc.wait()
                    break
                except KeyboardInterrupt:
                    continue  # the child got SIGINT too; wait for it to finish
            seconds = time.perf_counter() - start
            self._adopt(Path(state_path))
        finally:
            Path(state_path).unlink(missing_ok=True)
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
        self.env = env
