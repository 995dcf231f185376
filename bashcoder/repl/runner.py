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
_SAVE_STATUS = "__bashcoder_rc=$?; "
_WRITE_STATE = '{ pwd; printf "\\0"; env -0; } >"$%s" 2>/dev/null'
_REPORT = _WRITE_STATE + "; exit $__bashcoder_rc"
# bash keeps one EXIT trap, so a command's own (`trap 'rm -f "$tmp"' EXIT; cd x`) replaced the
# REPL's and its cd/export were lost. `trap` is wrapped as a function: in the command's shell an
# EXIT action is kept aside and run by the REPL's trap, with the command's status in $?, before
# the report (set before the user's BASH_ENV is read, so an EXIT trap set there is kept too).
# Every other signal and a subshell's traps go to the builtin; `trap` and `trap -p` list the
# command's own EXIT action in place of the REPL's. Written for bash 3.2 (macOS): no `local -`,
# no empty "${a[@]}" under set -u. Its lines are hidden from `set -x`, which would trace them.
_USER_EXIT_TRAP = r"""__bashcoder_pid=$$
__bashcoder_exit_trap=
trap() {
  { __bashcoder_x=; case $- in *x*) __bashcoder_x=1; set +x ;; esac; } 2>/dev/null
  __bashcoder_trap "$@"
  { set -- $? "$__bashcoder_x"; [ -z "$2" ] || set -x; return "$1"; } 2>/dev/null
}
__bashcoder_is_exit() {
  case $1 in 0|[Ee][Xx][Ii][Tt]|[Ss][Ii][Gg][Ee][Xx][Ii][Tt]) return 0 ;; esac
  return 1
}
__bashcoder_return_trap=
__bashcoder_debug_trap=
__bashcoder_print() {  # an action as bash's `trap -p` prints it: in single quotes, ' as '\''
  printf "trap -- '%s' %s\n" "${1//"'"/"'\\''"}" "$2"
}
__bashcoder_kind() {
  case $1 in [Rr][Ee][Tt][Uu][Rr][Nn]) echo return ;; [Dd][Ee][Bb][Uu][Gg]) echo debug ;; esac
}
__bashcoder_lists() {  # whether `trap -p ARGS` lists the return or debug trap
  __bashcoder_k=$1; shift
  [ $# -le 1 ] && return 0
  shift
  for __bashcoder_s in "$@"; do [ "$(__bashcoder_kind "$__bashcoder_s")" = "$__bashcoder_k" ] && return 0; done
  return 1
}
__bashcoder_trap() {
  __bashcoder_sub=
  if [ "${BASHPID:-$$}" != "$__bashcoder_pid" ] || [ "${BASH_SUBSHELL:-0}" != 0 ]; then __bashcoder_sub=1; fi
  if [ $# -eq 0 ] || [ "$1" = -p ] || [ "$1" = -P ]; then
    __bashcoder_listed=0
    for __bashcoder_sig in "$@"; do __bashcoder_is_exit "$__bashcoder_sig" && __bashcoder_listed=1; done
    [ $# -le 1 ] && __bashcoder_listed=1
    __bashcoder_own=0
    __bashcoder_out=$(builtin trap "$@")
    while IFS= read -r __bashcoder_line; do
      case $__bashcoder_line in
        *__bashcoder_exit_trap*) __bashcoder_own=1 ;;
        *__bashcoder_*) ;;
        ?*) printf '%s\n' "$__bashcoder_line" ;;
      esac
    done <<__BASHCODER_EOF
$__bashcoder_out
__BASHCODER_EOF
    [ -z "$__bashcoder_sub" ] || [ "$__bashcoder_own" = 1 ] || __bashcoder_listed=0
    if [ -n "$__bashcoder_exit_trap" ] && [ "$__bashcoder_listed" = 1 ] && [ "${1-}" != -P ]; then
      __bashcoder_print "$__bashcoder_exit_trap" EXIT
    fi
    if [ -n "$__bashcoder_debug_trap" ] && __bashcoder_lists debug "$@" && [ "${1-}" != -P ]; then
      __bashcoder_print "$__bashcoder_debug_trap" DEBUG
    fi
    if [ -n "$__bashcoder_return_trap" ] && __bashcoder_lists return "$@" && [ "${1-}" != -P ]; then
      __bashcoder_print "$__bashcoder_return_trap" RETURN
    fi
    return 0
  fi
  case $1 in -l) builtin trap "$@"; return ;; --) shift ;; esac
  if [ $# -eq 1 ]; then set -- - "$1"; fi
  __bashcoder_action=$1
  shift
  for __bashcoder_sig in "$@"; do
    __bashcoder_k=$(__bashcoder_kind "$__bashcoder_sig")
    if [ -n "$__bashcoder_k" ]; then
      # Set in this function, a RETURN or DEBUG action would also run as it and `trap` return
      # (and DEBUG before each of their commands and of the REPL's EXIT trap): run through a
      # guard that skips the REPL's own code, the action kept aside for listing.
      if [ "$__bashcoder_action" = - ] || [ -z "$__bashcoder_action" ]; then
        eval "__bashcoder_${__bashcoder_k}_trap="
        builtin trap -- "$__bashcoder_action" "$__bashcoder_sig"
      else
        eval "__bashcoder_${__bashcoder_k}_trap=\$__bashcoder_action"
        builtin trap -- "case \${FUNCNAME:-}:\$BASH_COMMAND in trap:*|__bashcoder*|*:*__bashcoder*) ;; *) eval \"\$__bashcoder_${__bashcoder_k}_trap\" ;; esac" "$__bashcoder_sig"
      fi
    elif [ -n "$__bashcoder_sub" ]; then
      builtin trap -- "$__bashcoder_action" "$__bashcoder_sig" || return
    elif __bashcoder_is_exit "$__bashcoder_sig"; then
      if [ "$__bashcoder_action" = - ]; then __bashcoder_exit_trap=; else __bashcoder_exit_trap=$__bashcoder_action; fi
    elif ! builtin trap -- "$__bashcoder_action" "$__bashcoder_sig" 2>/dev/null; then
      printf 'bash: trap: %s: invalid signal specification\n' "$__bashcoder_sig" >&2
      return 1
    fi
  done
}
"""
# The REPL's EXIT trap: the report first (a user action that calls `exit`, as
# `trap 'rc=$?; rm -f "$tmp"; exit $rc' EXIT` does, ends bash there), then the command's own EXIT
# action with the command's status in $?, then the report again (the action may cd or export).
# Untraced (set -x would show the REPL's lines) and without set -e (its `(exit N)` would end it).
_STARTUP_TRAP = (
    # A command's DEBUG trap must not run before each of these lines (the assignment prefix puts
    # the REPL's name in $BASH_COMMAND, which the guard of a DEBUG trap set by `trap` skips).
    "{ __bashcoder_rc=$?; __bashcoder_z= builtin trap - DEBUG; set +ex; } 2>/dev/null; "
    + _WRITE_STATE % "__bashcoder_state"
    + '; if [ -n "$__bashcoder_exit_trap" ]; then (exit $__bashcoder_rc); eval "$__bashcoder_exit_trap"; '
    + _WRITE_STATE % "__bashcoder_state"
    + "; fi; exit $__bashcoder_rc"
)
# Set from BASH_ENV, which a non-interactive bash reads before its command: the command stays
# the user's text alone, so bash's line numbers and its quotes of a bad line are the user's
# (on the same line as the command, the trap showed in every syntax error). It takes its
# variables out of the environment first, so the bash scripts the command runs inherit neither
# the trap nor the state file; the user's own BASH_ENV is restored and read.
_STARTUP = (
    "__bashcoder_state=$BASHCODER_REPL_STATE\n"
    "unset BASHCODER_REPL_STATE\n" + _USER_EXIT_TRAP + f"builtin trap '{_STARTUP_TRAP}' EXIT\n"
    'if [ -n "${BASHCODER_USER_BASH_ENV-}" ]; then\n'
    '  BASH_ENV=$BASHCODER_USER_BASH_ENV; unset BASHCODER_USER_BASH_ENV; [ -r "$BASH_ENV" ] && . "$BASH_ENV"\n'
    "else\n"
    "  unset BASH_ENV BASHCODER_USER_BASH_ENV\n"
    "fi\n"
    # Last, so that a DEBUG trap firing before the EXIT trap's first group, where bash still shows
    # the startup's last command in $BASH_COMMAND, sees the REPL's name there and is skipped.
    "__bashcoder_ready=1\n"
)
# In POSIX mode (POSIXLY_CORRECT, or posix in an exported SHELLOPTS) bash reads no BASH_ENV: the
# trap then goes on the command's own line, as it did before the startup file.
_INLINE_TRAP = f"trap '{_SAVE_STATUS}{_REPORT % STATE_ENV}' EXIT; "
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
